/*
 * out_stdout.c - records on standard output, one per line.
 *
 * write() formats the batch into a pending buffer; flush() writes the buffer
 * to fd 1 with write(2), resuming where a short or interrupted write left
 * off, so a record is never half-repeated. Written bytes count as acked
 * (a pipe has nothing more durable to offer). A record the format cannot
 * render is refused (dead-lettered by the pipeline). A closed reader (EPIPE)
 * or a closed or unusable descriptor (EBADF, EINVAL) is FATAL: nothing will
 * ever read what this process writes there again. Anything else (a full
 * non-blocking pipe, a full disk under `>> file`, EIO) is a RETRY.
 *
 * When stdout is a regular file that does not end in a newline (a previous
 * run was killed in the middle of a write: the kernel may stop a large
 * write(2) at a fatal signal), the first flush starts with a newline, so the
 * torn fragment stays a line of its own and the records after it are whole.
 * (ola_fd_torn_end reads the last byte even through a write-only `>> file`.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/core/fileio.h"
#include "outputs/output.h"

struct ola_stdout {
    struct ola_buf pending;
    uint64_t pending_records;
    int fd;
};

static int ola_stdout_init(struct ola_output *o, const struct ola_cfg *node,
                           struct ola_err *err)
{
    struct ola_stdout *s = calloc(1, sizeof(*s));

    (void)node;
    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    s->fd = STDOUT_FILENO;
    o->ctx = s;
    if (ola_fd_torn_end(s->fd) && ola_buf_putc(&s->pending, '\n') != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
    return 0;
}

static enum ola_rc ola_stdout_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_stdout *s = o->ctx;
    size_t mark = s->pending.len, i;
    uint64_t n = 0;
    int rc;

    for (i = 0; i < b->n; i++) {
        rc = ola_output_put_line(o, b, i, &s->pending);
        if (rc < 0)
            goto nomem;
        n += (uint64_t)rc;
    }
    s->pending_records += n;
    return OLA_OK;
nomem:
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    ola_buf_truncate(&s->pending, mark);
    o->stats.errors++;
    return OLA_RETRY;
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
            return e == EPIPE || e == EBADF || e == EINVAL ? OLA_FATAL : OLA_RETRY;
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
    .init = ola_stdout_init,
    .write = ola_stdout_write,
    .flush = ola_stdout_flush,
    .close = ola_stdout_close,
    .trim = ola_stdout_trim,
};
