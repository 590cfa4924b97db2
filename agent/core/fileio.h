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
/*
 * name in the folder of path into buf: ("/var/lib/o/cp.json", "x.ndjson") ->
 * "/var/lib/o/x.ndjson", ("cp.json", "x.ndjson") -> "x.ndjson". Returns 0, or
 * -1 when it does not fit size.
 */
int ola_path_beside(const char *path, const char *name, char *buf, size_t size);

/*
 * mkdir -p: creates dir and its missing parents (mode 0700 for what it
 * creates). An existing directory is fine; an existing non-directory is
 * ENOTDIR. Returns 0 / -1 (errno).
 */
int ola_mkdirs(const char *dir);

/*
 * Creates a new, empty temp file beside path for an atomic replace:
 * "<path>.tmp.XXXXXX" from mkstemp(3), mode 0600, close-on-exec. mkstemp opens
 * with O_CREAT | O_EXCL, so the name is fresh: never an existing file and
 * never a symlink someone planted. *tmp gets the name (malloc'd, the caller
 * frees it and unlinks the file if it does not rename it). Returns the open
 * fd, or -1 with errno (*tmp NULL).
 */
int ola_tmpfile_beside(const char *path, char **tmp);

/*
 * The one way to read a whole file: everything fd has left, at most max
 * bytes. *data gets a new NUL-terminated copy (the caller frees it), *len its
 * length without the NUL. Returns 0, or -1 with errno: EFBIG when there is
 * more than max, ENOMEM, or read(2)'s. Never reads more than max + 1 bytes.
 */
int ola_read_fd_all(int fd, size_t max, char **data, size_t *len);
/* ola_read_fd_all on path, opened read-only and close-on-exec; 0 / -1 (errno). */
int ola_read_file(const char *path, size_t max, char **data, size_t *len);

/* Whether path itself (not what it points to) is a symbolic link. */
bool ola_is_symlink(const char *path);

/* The suffix ola_tmpfile_beside puts after path (then six random characters). */
#define OLA_TMP_SUFFIX ".tmp."

#endif
