/*
 * deadletter.c - where records that can never be delivered go.
 *
 * A dead letter is one JSON line {"time","output","reason","id","record"}
 * appended to a file and fsynced before the caller counts the record as
 * handled, so a message the peer rejects for good (too large, invalid) is
 * kept for an operator instead of blocking the pipeline or vanishing.
 * Outputs only note their refusals (ola_output_refuse); ola_output_bury
 * (outputs/dead_letters.c), run by the pipeline after each output call,
 * writes them here; the sources write what they refuse here directly. The record is
 * stored as a JSON string when it is UTF-8 (control bytes escaped); bytes
 * that are not UTF-8 cannot be a JSON string, so such a record is stored as
 * "record_base64" instead, and every line of the file stays valid JSON.
 * A write that fails part-way is cut off again; a line a crash left without
 * its newline (a kill can stop a write at a page boundary) gets one before
 * the next letter, so a torn line never swallows a whole one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/core/buf.h"
#include "agent/core/fileio.h"
#include "agent/core/timeutil.h"
#include "agent/core/deadletter.h"

/* Strict UTF-8 throughout (ola_utf8_seq). */
static bool ola_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        k = ola_utf8_seq(s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/*
 * mkdir -p for the directory of path (mode 0700, as the checkpoint's): the
 * dead-letter file sits next to the checkpoint, whose directory does not
 * exist before the first checkpoint is saved. Returns 0 / -1 with errno.
 */
static int ola_deadletter_mkdirs(const char *path)
{
    char dir[4096];
    char *p;
    int n = snprintf(dir, sizeof(dir), "%s", path);

    if (n < 0 || (size_t)n >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    p = strrchr(dir, '/');
    if (p == NULL || p == dir)
        return 0;
    *p = '\0';
    for (p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Appends "record":"..." or, for bytes that are not UTF-8, "record_base64":"...". */
static int ola_deadletter_record(struct ola_buf *line, const char *record, size_t len)
{
    size_t b64;

    if (ola_utf8_valid((const unsigned char *)record, len))
        return ola_buf_puts(line, ",\"record\":") ||
               ola_buf_put_json_string(line, record, len);
    if (len > (SIZE_MAX / 4 - 4) * 3 / 4 || len > INT_MAX)
        return -1;
    b64 = 4 * ((len + 2) / 3);
    if (ola_buf_puts(line, ",\"record_base64\":\"") || ola_buf_reserve(line, b64 + 2))
        return -1;
    if (len > 0)
        EVP_EncodeBlock((unsigned char *)line->data + line->len,
                        (const unsigned char *)record, (int)len);
    line->len += b64;
    return ola_buf_putc(line, '"');
}

int ola_deadletter_append(const char *path, const char *output, const char *reason,
                          int64_t id, const char *record, size_t len, struct ola_err *err)
{
    struct ola_buf line = OLA_BUF_INIT;
    char ts[OLA_ISO_MAX];
    struct stat st;
    int fd = -1, rc = -1;

    if (path == NULL)
        return ola_err_set(err, 0, "no dead_letter file configured");
    if (ola_time_format_iso(ola_now_ms(), ts, sizeof(ts)) != 0)
        ts[0] = '\0';
    if (ola_buf_printf(&line, "{\"time\":\"%s\",\"output\":", ts) ||
        ola_buf_put_json_string(&line, output, strlen(output)) ||
        ola_buf_puts(&line, ",\"reason\":") ||
        ola_buf_put_json_string(&line, reason, strlen(reason)) ||
        (id != 0 && ola_buf_printf(&line, ",\"id\":%" PRId64, id)) ||
        ola_deadletter_record(&line, record, len) || ola_buf_puts(&line, "}\n")) {
        ola_err_set(err, ENOMEM, "dead letter: out of memory");
        goto fail;
    }
    /* O_NOFOLLOW: a symlink planted in the state folder cannot redirect the write */
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0 && errno == ENOENT && ola_deadletter_mkdirs(path) == 0)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0 && errno == ELOOP) {
        ola_err_set(err, errno, "dead letter %s: is a symbolic link; not written through",
                    path);
        goto fail;
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        ola_err_set(err, errno, "dead letter %s: %s", path, strerror(errno));
        goto fail;
    }
    if ((ola_fd_torn_end(fd) && ola_write_all(fd, "\n", 1) != 0) ||
        ola_write_all(fd, line.data, line.len) != 0) {
        int e = errno;

        /* no half line stays behind to swallow the next one */
        if (ftruncate(fd, st.st_size) != 0)
            ola_err_set(err, e, "dead letter %s: %s (and cutting the partial line: %s)",
                        path, strerror(e), strerror(errno));
        else
            ola_err_set(err, e, "dead letter %s: %s", path, strerror(e));
        goto fail;
    }
    if (fsync(fd) != 0) {
        ola_err_set(err, errno, "dead letter %s: fsync: %s", path, strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    if (fd >= 0)
        close(fd);
    ola_buf_free(&line);
    return rc;
}

int ola_deadletter_write(const char *path, const char *output, const char *reason,
                         const char *record, size_t len, struct ola_err *err)
{
    return ola_deadletter_append(path, output, reason, 0, record, len, err);
}
