/*
 * wait.h - sleeping that signals cut short, and per-thread stop requests.
 *
 * A thread that serves one tenant binds a waker (ola_wait_bind): its waits
 * sleep on the waker, which the main thread kicks when a signal arrives or
 * when it wants that one thread to stop (a tenant removed by a reload).
 * Other threads wait on the signals' self-pipe.
 */
#ifndef OLA_WAIT_H
#define OLA_WAIT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Flags set by the signal handlers installed by ola_wait_install_signals(). */
extern volatile sig_atomic_t ola_stop_requested;   /* SIGTERM, SIGINT */
extern volatile sig_atomic_t ola_reload_requested; /* SIGHUP */

/*
 * Creates the self-pipe and installs handlers for SIGTERM, SIGINT, SIGHUP
 * (and ignores SIGPIPE). Returns 0 / -1. @locality main thread, at startup.
 */
int ola_wait_install_signals(void);
/* Sleeps up to ms; returns early (true) when a signal arrives meanwhile. */
bool ola_wait(int64_t ms);
/* Wakes a sleeper on the self-pipe from any thread or a signal handler. */
void ola_wait_wake(void);

/* What one thread sleeps on. */
struct ola_waker {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool kicked;       /* guarded by mu: the next or current wait returns at once */
    atomic_bool stop;  /* this thread was asked to stop */
};

/* Returns 0 / -1 (errno). */
int ola_waker_init(struct ola_waker *w);
void ola_waker_destroy(struct ola_waker *w);
/* The calling thread's waits sleep on w from now on (NULL: the self-pipe). */
void ola_wait_bind(struct ola_waker *w);
/* Cuts w's thread's current (or next) wait short. @locality any thread. */
void ola_waker_kick(struct ola_waker *w);
/* Asks w's thread to stop, and kicks it. @locality any thread. */
void ola_waker_stop(struct ola_waker *w);
/*
 * True when the process was asked to stop (SIGTERM, SIGINT) or the calling
 * thread's waker was (ola_waker_stop): long operations give up at once.
 */
bool ola_stopping(void);

#endif
