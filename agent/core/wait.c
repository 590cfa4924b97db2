/*
 * wait.c - sleeping that signals cut short (the self-pipe trick).
 *
 * Signal handlers only set a flag and write one byte to a non-blocking pipe;
 * ola_wait() polls the pipe, so a SIGTERM during a backoff or an idle poll
 * interval is acted on at once instead of after the sleep. Only the signal's
 * byte cuts a wait short (not the flag), so code that keeps working after a
 * stop request (the shutdown drain) still waits between its attempts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/core/timeutil.h"
#include "agent/core/wait.h"

volatile sig_atomic_t ola_stop_requested;
volatile sig_atomic_t ola_reload_requested;
static int ola_wait_pipe[2] = {-1, -1};

void ola_wait_wake(void)
{
    int saved = errno;

    if (ola_wait_pipe[1] >= 0) {
        ssize_t w = write(ola_wait_pipe[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

static void ola_wait_on_signal(int sig)
{
    if (sig == SIGHUP)
        ola_reload_requested = 1;
    else
        ola_stop_requested = 1;
    ola_wait_wake();
}

int ola_wait_install_signals(void)
{
    struct sigaction sa;
    int i;

    if (ola_wait_pipe[0] < 0) {
        if (pipe(ola_wait_pipe) != 0)
            return -1;
        for (i = 0; i < 2; i++) {
            fcntl(ola_wait_pipe[i], F_SETFL,
                  fcntl(ola_wait_pipe[i], F_GETFL) | O_NONBLOCK);
            fcntl(ola_wait_pipe[i], F_SETFD, FD_CLOEXEC);
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ola_wait_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
        sigaction(SIGHUP, &sa, NULL))
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

bool ola_wait(int64_t ms)
{
    int64_t deadline = ola_mono_ms() + (ms > 0 ? ms : 0);
    char drain[64];

    for (;;) {
        struct pollfd pfd = {ola_wait_pipe[0], POLLIN, 0};
        int64_t left = deadline - ola_mono_ms();
        int rc;

        if (left <= 0)
            return false;
        if (ola_wait_pipe[0] < 0) {
            struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};

            nanosleep(&ts, NULL);
            continue;
        }
        rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0) {
            while (read(ola_wait_pipe[0], drain, sizeof(drain)) > 0)
                ;
            return true;
        }
    }
}
