/*
 * fileio.c - small file helpers shared by everything that writes durably.
 *
 * Each of the checkpoint, the file output, its manifests, the dead-letter
 * file and stdout needs the same three things: a write that resumes after a
 * short or interrupted write(2), a look at whether an appended file ends in
 * a torn line, and an fsync of the directory that holds a new name. The
 * checkpoint and the instance lock also share mkdir -p and a temp file with
 * a fresh (mkstemp) name beside the file it is going to replace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/core/fileio.h"

int ola_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) { /* never for a file; do not spin */
            errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

bool ola_fd_torn_end(int fd)
{
    struct stat st;
    char last, path[64];
    int rfd, n;
    bool torn = true; /* unknown: assume the worst */

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
        return false;
    if (pread(fd, &last, 1, st.st_size - 1) == 1)
        return last != '\n';
    n = snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (n < 0 || (size_t)n >= sizeof(path))
        return true;
    rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (rfd < 0)
        return true;
    if (pread(rfd, &last, 1, st.st_size - 1) == 1)
        torn = last != '\n';
    close(rfd);
    return torn;
}

int ola_path_beside(const char *path, const char *name, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    int n;

    if (slash == NULL)
        n = snprintf(buf, size, "%s", name);
    else
        n = snprintf(buf, size, "%.*s/%s", (int)(slash - path), path, name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int ola_fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    int fd, rc;

    if (n >= sizeof(dir))
        return errno = ENAMETOOLONG, -1;
    if (slash == NULL)
        dir[0] = '.';
    else
        memcpy(dir, path, n);
    dir[n] = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int ola_mkdirs(const char *dir)
{
    struct stat st;
    char *copy, *p;
    int rc = -1, e;

    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
        return -1;
    }
    copy = strdup(dir);
    if (copy == NULL)
        return -1;
    for (p = copy + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(copy, 0700) != 0 && errno != EEXIST)
        goto fail;
    rc = 0;
fail:
    e = errno;
    free(copy);
    errno = e;
    return rc;
}

int ola_tmpfile_beside(const char *path, char **tmp)
{
    size_t n = strlen(path) + sizeof(OLA_TMP_SUFFIX "XXXXXX");
    char *name = malloc(n);
    int fd, e;

    *tmp = NULL;
    if (name == NULL)
        return -1;
    snprintf(name, n, "%s" OLA_TMP_SUFFIX "XXXXXX", path); /* n fits it exactly */
    fd = mkstemp(name);
    if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(name);
        }
        free(name);
        errno = e;
        return -1;
    }
    *tmp = name;
    return fd;
}

int ola_read_fd_all(int fd, size_t max, char **data, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = NULL, *bigger;
    struct stat st;

    /* a regular file says its size: one allocation and one read in the usual case */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= max)
        cap = (size_t)st.st_size + 2;
    if (max > SIZE_MAX - 2) {
        errno = EFBIG;
        return -1;
    }
    for (;;) {
        ssize_t r;

        if (buf == NULL || n + 1 >= cap) {
            /* a buffer of max + 2 holds max bytes, the byte that says "more", the NUL */
            if (buf != NULL)
                cap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
            if (cap > max + 2)
                cap = max + 2;
            bigger = realloc(buf, cap);
            if (bigger == NULL) {
                errno = ENOMEM;
                goto fail;
            }
            buf = bigger;
        }
        r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            errno = EFBIG;
            goto fail;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    return -1;
}

int ola_read_file(const char *path, size_t max, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc, saved;

    if (fd < 0)
        return -1;
    rc = ola_read_fd_all(fd, max, data, len);
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

bool ola_is_symlink(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}
