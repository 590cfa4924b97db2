/*
 * fileio.h - small file helpers shared by everything that writes durably:
 * the checkpoint, the file output and its manifests, dead letters, stdout.
 */
#ifndef OLA_FILEIO_H
#define OLA_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all of p, resuming after short or interrupted writes. 0 / -1 (errno). */
int ola_write_all(int fd, const void *p, size_t n);

/*
 * Whether fd is a regular file whose last byte is not a newline: a write a
 * kill cut short (at a page boundary) left a torn line there, and the next
 * record must start on a line of its own. fd may be write-only (`>> file`):
 * the byte is then read through /proc/self/fd. When it cannot be read at all
 * the answer is true: an empty line is harmless, a record glued to a torn one
 * is lost to every line reader.
 */
bool ola_fd_torn_end(int fd);

/* fsyncs the directory that holds path ("." if none). 0 / -1 (errno). */
int ola_fsync_dir_of(const char *path);

#endif
