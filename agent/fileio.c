/*
 * fileio.c - small file helpers shared by everything that writes durably.
 *
 * Each of the checkpoint, the file output, its manifests, the dead-letter
 * file and stdout needs the same three things: a write that resumes after a
 * short or interrupted write(2), a look at whether an appended file ends in
 * a torn line, and an fsync of the directory that holds a new name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

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
