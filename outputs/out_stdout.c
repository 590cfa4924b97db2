/*
 * out_stdout.c - records on standard output, one per line.
 *
 * write() formats the batch into a pending buffer; flush() writes the buffer
 * to fd 1 with write(2), resuming where a short or interrupted write left
 * off, so a record is never half-repeated. Written bytes count as acked
 * (a pipe has nothing more durable to offer). A closed reader (EPIPE) is an
 * error, a full non-blocking pipe is a RETRY.
 *
 * When stdout is a regular file that does not end in a newline (a previous
 * run was killed in the middle of a write: the kernel may stop a large
 * write(2) at a fatal signal), the first flush starts with a newline, so the
 * torn fragment stays a line of its own and the records after it are whole.
 * Stdout is usually opened write-only (`>> file`), so the last byte is read
 * through /proc/self/fd/1; when it cannot be read at all, the newline goes
 * first anyway: an empty line is harmless, a record glued to a fragment is
 * lost to every line reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

struct ola_stdout {
    struct ola_buf pending;
    uint64_t pending_records;
    int fd;
};

static const char *const ola_stdout_keys[] = {NULL};

/* Whether the regular file fd writes to needs a newline before the next record. */
static bool ola_stdout_torn(int fd)
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

static int ola_stdout_init(struct ola_output *o, const struct ola_cfg *node,
                           struct ola_err *err)
{
    struct ola_stdout *s = calloc(1, sizeof(*s));

    (void)node;
    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    s->fd = STDOUT_FILENO;
    o->ctx = s;
    if (ola_stdout_torn(s->fd) && ola_buf_putc(&s->pending, '\n') != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
    return 0;
}

static enum ola_rc ola_stdout_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_stdout *s = o->ctx;
    size_t mark = s->pending.len, i;
    uint64_t n = 0;

    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];

        if (!ola_output_takes(o, e))
            continue;
        if (ola_output_format(o, e, &s->pending) != 0 ||
            ola_buf_putc(&s->pending, '\n')) {
            snprintf(o->last_error, sizeof(o->last_error), "cannot format event %lld",
                     (long long)e->id);
            ola_buf_truncate(&s->pending, mark);
            o->stats.errors++;
            return OLA_ERR;
        }
        n++;
    }
    s->pending_records += n;
    return OLA_OK;
}

static enum ola_rc ola_stdout_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_stdout *s = o->ctx;
    size_t off = 0;

    (void)timeout_ms;
    while (off < s->pending.len) {
        ssize_t w = write(s->fd, s->pending.data + off, s->pending.len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;

            ola_buf_consume(&s->pending, off);
            snprintf(o->last_error, sizeof(o->last_error), "write: %s", strerror(e));
            o->stats.errors++;
            return (e == EAGAIN || e == EWOULDBLOCK) ? OLA_RETRY : OLA_ERR;
        }
        off += (size_t)w;
    }
    ola_buf_reset(&s->pending);
    o->stats.emitted += s->pending_records;
    s->pending_records = 0;
    return OLA_OK;
}

static void ola_stdout_close(struct ola_output *o)
{
    struct ola_stdout *s = o->ctx;

    if (s == NULL)
        return;
    ola_buf_free(&s->pending);
    free(s);
    o->ctx = NULL;
}

/* A quiet poll: the batch buffer goes, unless bytes still wait in it. */
static void ola_stdout_trim(struct ola_output *o)
{
    struct ola_stdout *s = o->ctx;

    if (s->pending.len == 0)
        ola_buf_free(&s->pending);
}

const struct ola_output_ops ola_out_stdout = {
    .name = "stdout",
    .abi = OLA_OUTPUT_ABI,
    .keys = ola_stdout_keys,
    .init = ola_stdout_init,
    .write = ola_stdout_write,
    .flush = ola_stdout_flush,
    .close = ola_stdout_close,
    .trim = ola_stdout_trim,
};
