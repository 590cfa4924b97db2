/*
 * wait.c - sleeping that signals cut short (the self-pipe trick).
 *
 * Signal handlers only set a flag and write one byte to a non-blocking pipe;
 * ola_wait() polls the pipe, so a SIGTERM during a backoff or an idle poll
 * interval is acted on at once instead of after the sleep. Only the signal's
 * byte cuts a wait short (not the flag), so code that keeps working after a
 * stop request (the shutdown drain) still waits between its attempts.
 *
 * A thread with a waker bound sleeps on the waker's condition variable
 * instead: the self-pipe wakes one reader, so threads serving tenants leave
 * it to the main thread, which kicks each of them. A kick, like the
 * signal's byte, is consumed by the wait it cuts short.
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
static _Thread_local struct ola_waker *ola_wait_waker;

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

int ola_waker_init(struct ola_waker *w)
{
    pthread_condattr_t ca;
    int rc;

    memset(w, 0, sizeof(*w));
    atomic_init(&w->stop, false);
    if ((rc = pthread_condattr_init(&ca)) != 0)
        goto fail;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        goto fail;
    if ((rc = pthread_mutex_init(&w->mu, NULL)) != 0) {
        pthread_cond_destroy(&w->cv);
        goto fail;
    }
    return 0;
fail:
    errno = rc;
    return -1;
}

void ola_waker_destroy(struct ola_waker *w)
{
    if (w == NULL)
        return;
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

void ola_wait_bind(struct ola_waker *w)
{
    ola_wait_waker = w;
}

void ola_waker_kick(struct ola_waker *w)
{
    pthread_mutex_lock(&w->mu);
    w->kicked = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void ola_waker_stop(struct ola_waker *w)
{
    atomic_store(&w->stop, true);
    ola_waker_kick(w);
}

bool ola_stopping(void)
{
    return ola_stop_requested ||
           (ola_wait_waker != NULL && atomic_load(&ola_wait_waker->stop));
}

/* ola_wait on the calling thread's waker. */
static bool ola_wait_waker_sleep(struct ola_waker *w, int64_t deadline)
{
    bool kicked;

    pthread_mutex_lock(&w->mu);
    while (!w->kicked) {
        int64_t left = deadline - ola_mono_ms();
        struct timespec ts;

        if (left <= 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(left / 1000);
        ts.tv_nsec += (long)(left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    kicked = w->kicked;
    w->kicked = false;
    pthread_mutex_unlock(&w->mu);
    return kicked;
}

bool ola_wait(int64_t ms)
{
    int64_t deadline = ola_mono_ms() + (ms > 0 ? ms : 0);
    char drain[64];

    if (ola_wait_waker != NULL)
        return ola_wait_waker_sleep(ola_wait_waker, deadline);

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
