/*
 * lock.h - one agent per checkpoint: an exclusive lock held for the process's life.
 *
 * Two agents on the same checkpoint would both read from it and both deliver
 * every event. `olagent run` and `olagent checkpoint set` take this lock
 * before they touch the checkpoint or the outputs; a second one stops at once
 * with an error naming the checkpoint and the pid of the holder. Commands that
 * only read the checkpoint (`checkpoint show`) take no lock.
 */
#ifndef OLA_LOCK_H
#define OLA_LOCK_H

#include "agent/core/err.h"

/* The lock file beside the checkpoint: "<checkpoint path>" OLA_LOCK_SUFFIX. */
#define OLA_LOCK_SUFFIX ".lock"

struct ola_lock;

/*
 * Takes the lock of the checkpoint at cp_path without waiting: flock(2)
 * LOCK_EX on "<cp_path>.lock" (created 0600 with its directory if missing,
 * never through a symlink), then writes this process's pid into it and
 * removes the temp files a killed holder's checkpoint save left. When another
 * process holds it, returns NULL with err naming the checkpoint and the
 * holder's pid (as the lock file says). The lock lasts until
 * ola_lock_release or the process's end, whatever ends it (kill -9 too).
 * Returns a new lock (caller owns it) or NULL with err filled. @locality main
 */
struct ola_lock *ola_lock_acquire(const char *cp_path, struct ola_err *err);

/* Releases and frees the lock. NULL is a no-op. */
void ola_lock_release(struct ola_lock *l);

#endif
