/*
 * secret.h - keeping secrets out of memory dumps and freed memory.
 *
 * Client secrets, OAuth tokens, SASL passwords and every config value that
 * came from ${VAR} or a *_file are wiped (explicit_bzero: the compiler may
 * not drop it) before their memory goes back to malloc, so a later core
 * file, a heap read through a bug or a swapped page does not hold them. The
 * process also marks itself non-dumpable at startup (Linux): no core file,
 * no ptrace attach and no /proc/PID/mem or environ read by other users.
 */
#ifndef OLA_SECRET_H
#define OLA_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Zeroes p[0..n) in a way the compiler keeps. p may be NULL when n is 0. */
void ola_secret_wipe(void *p, size_t n);
/* Wipes the NUL-terminated string s, then frees it. s: taken; NULL is a no-op. */
void ola_secret_free(char *s);

/*
 * Marks the process non-dumpable (prctl PR_SET_DUMPABLE 0) on Linux. Call
 * early in main, before any secret is read. Returns 0, or -1 with errno
 * (ENOSYS where the platform has no such flag).
 */
int ola_secret_nodump(void);
/* 1 dumpable, 0 not, -1 unknown (not Linux, or prctl failed). */
int ola_secret_dumpable(void);

#endif
