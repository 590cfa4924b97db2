/*
 * deadletter.c - where records that can never be delivered go.
 *
 * A dead letter is one JSON line {"time","output","reason","record"} appended
 * to a file and fsynced before the caller counts the record as handled, so a
 * message the peer rejects for good (too large, invalid) is kept for an
 * operator instead of blocking the pipeline or vanishing. The record is
 * stored as a JSON string, whatever its bytes were.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "output.h"
#include "timeutil.h"

int ola_deadletter_write(const char *path, const char *output, const char *reason,
                         const char *record, size_t len, struct ola_err *err)
{
    struct ola_buf line = OLA_BUF_INIT;
    char ts[OLA_ISO_MAX];
    size_t off = 0;
    int fd = -1, rc = -1;

    if (path == NULL)
        return ola_err_set(err, 0, "no dead_letter file configured");
    if (ola_time_format_iso(ola_now_ms(), ts, sizeof(ts)) != 0)
        ts[0] = '\0';
    if (ola_buf_printf(&line, "{\"time\":\"%s\",\"output\":", ts) ||
        ola_buf_put_json_string(&line, output, strlen(output)) ||
        ola_buf_puts(&line, ",\"reason\":") ||
        ola_buf_put_json_string(&line, reason, strlen(reason)) ||
        ola_buf_puts(&line, ",\"record\":") ||
        ola_buf_put_json_string(&line, record, len) || ola_buf_puts(&line, "}\n")) {
        ola_err_set(err, ENOMEM, "dead letter: out of memory");
        goto fail;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        ola_err_set(err, errno, "dead letter %s: %s", path, strerror(errno));
        goto fail;
    }
    while (off < line.len) {
        ssize_t w = write(fd, line.data + off, line.len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            ola_err_set(err, errno, "dead letter %s: %s", path, strerror(errno));
            goto fail;
        }
        off += (size_t)w;
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
