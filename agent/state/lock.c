/*
 * lock.c - one agent per checkpoint: flock(2) on a lock file beside it.
 *
 * The lock is "<checkpoint>.lock", not the checkpoint itself: every save
 * replaces the checkpoint by rename(2), so a lock on the file the agent
 * opened at startup would guard an inode that is no longer the checkpoint,
 * and a second agent would lock the new one; and a first start has no
 * checkpoint to lock yet. The lock file is never renamed nor removed (an
 * unlink would let a late opener lock a deleted inode while another agent
 * creates a fresh one), so every agent meets the same inode.
 *
 * flock, not fcntl(F_SETLK): an fcntl lock belongs to the process and goes
 * when it closes any descriptor of the file, even another one; a flock
 * belongs to the open file description held here. Either dies with the
 * process, so a lock file left by an agent killed with SIGKILL holds nothing
 * and the next agent takes it at once; the pid written into it after locking
 * is only for the message a second agent prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "agent/core/fileio.h"
#include "agent/state/checkpoint.h"
#include "agent/state/lock.h"

#define OLA_LOCK_PID_WAIT_MS 500 /* how long to wait for a new holder's pid */

struct ola_lock {
    int fd; /* holds the flock */
};

static int64_t ola_lock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The pid in the lock file, or 0 if it says none. A holder writes its pid
 * just after it locks, so an empty file is read again for a short while.
 */
static long ola_lock_holder(int fd)
{
    int64_t deadline = ola_lock_mono_ms() + OLA_LOCK_PID_WAIT_MS;
    struct timespec nap = {0, 10 * 1000000};

    for (;;) {
        char buf[32], *end;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        long pid;

        if (n > 0) {
            buf[n] = '\0';
            errno = 0;
            pid = strtol(buf, &end, 10);
            if (errno == 0 && end != buf && (*end == '\n' || *end == '\0') && pid > 0)
                return pid;
        }
        if (ola_lock_mono_ms() >= deadline)
            return 0;
        nanosleep(&nap, NULL);
    }
}

/* Replaces the lock file's content with "PID\n". Returns 0 / -1 (errno). */
static int ola_lock_write_pid(int fd)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (n < 0 || (size_t)n >= sizeof(buf))
        return errno = EOVERFLOW, -1;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != (ssize_t)n)
        return -1;
    return 0;
}

struct ola_lock *ola_lock_acquire(const char *cp_path, struct ola_err *err)
{
    struct ola_lock *l = NULL;
    char *path = NULL, *dir = NULL, *slash;
    size_t n = strlen(cp_path) + sizeof(OLA_LOCK_SUFFIX);
    int fd = -1, e;

    path = malloc(n);
    dir = strdup(cp_path);
    l = malloc(sizeof(*l));
    if (path == NULL || dir == NULL || l == NULL) {
        ola_err_set(err, ENOMEM, "checkpoint %s: lock: out of memory", cp_path);
        goto fail;
    }
    snprintf(path, n, "%s" OLA_LOCK_SUFFIX, cp_path); /* n fits it exactly */
    slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        if (ola_mkdirs(dir) != 0) {
            e = errno;
            ola_err_set(err, e, "checkpoint %s: cannot create directory %s: %s", cp_path,
                        dir, strerror(e));
            goto fail;
        }
    }
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        e = errno;
        if (e == ELOOP)
            ola_err_set(err, e,
                        "checkpoint %s: lock file %s is a symbolic link; olagent does "
                        "not follow links for its state files",
                        cp_path, path);
        else
            ola_err_set(err, e, "checkpoint %s: cannot open lock file %s: %s", cp_path,
                        path, strerror(e));
        goto fail;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        long pid;

        e = errno;
        if (e == EINTR)
            continue;
        if (e != EWOULDBLOCK) {
            ola_err_set(err, e, "checkpoint %s: cannot lock %s: %s", cp_path, path,
                        strerror(e));
            goto fail;
        }
        pid = ola_lock_holder(fd);
        if (pid > 0)
            ola_err_set(err, e,
                        "checkpoint %s is in use by another olagent (pid %ld holds %s)",
                        cp_path, pid, path);
        else
            ola_err_set(err, e,
                        "checkpoint %s is in use by another olagent (pid unknown; it "
                        "holds %s)",
                        cp_path, path);
        goto fail;
    }
    if (ola_lock_write_pid(fd) != 0) {
        e = errno;
        ola_err_set(err, e, "checkpoint %s: cannot write the pid into %s: %s", cp_path,
                    path, strerror(e));
        goto fail;
    }
    /* Only a killed holder's save can have left a temp file: none runs now. */
    ola_checkpoint_remove_temps(cp_path);
    l->fd = fd;
    free(path);
    free(dir);
    return l;
fail:
    if (fd >= 0)
        close(fd); /* drops the flock if it was taken */
    free(path);
    free(dir);
    free(l);
    return NULL;
}

void ola_lock_release(struct ola_lock *l)
{
    if (l == NULL)
        return;
    close(l->fd); /* the pid stays: the next holder writes its own */
    free(l);
}
