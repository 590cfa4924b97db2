/*
 * wait.h - sleeping that signals cut short.
 */
#ifndef OLA_WAIT_H
#define OLA_WAIT_H

#include <signal.h>
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
/* Wakes a sleeper from any thread or a signal handler. */
void ola_wait_wake(void);

#endif
