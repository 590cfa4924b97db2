/*
 * replay.c - the replay source: saved NDJSON events through the live pipeline.
 *
 * The input is read in large blocks straight into the buffer a batch will own
 * (no per-line copy); a batch ends after OLA_REPLAY_LINES lines or at the
 * first line end past OLA_REPLAY_BYTES, and what was read past it is carried
 * to the next one. A line longer than OLA_EVENT_MAX_BYTES keeps only its
 * first OLA_EVENT_MAX_BYTES + 1 bytes (enough to be refused as too large):
 * the rest is skipped as it is read. Each line goes through ola_event_admit,
 * the check every source applies; what it refuses is dead-lettered and
 * counted, and the first refusal is named in the summary. Nothing here keeps
 * a position: the checkpoint is untouched by a replay.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/buf.h"
#include "agent/core/deadletter.h"
#include "agent/core/timeutil.h"
#include "agent/replay.h"

/* lines per batch (like a page of 1,000) and bytes (a batch ends at the
 * first line end past it), and the read size (what a batch reads past its
 * last line is carried to the next one) */
#define OLA_REPLAY_LINES 1000
#define OLA_REPLAY_BYTES ((size_t)32 << 20)
#define OLA_REPLAY_BLOCK (64 << 10)

struct ola_replay_source {
    struct ola_source base; /* first: the interface (agent/core/source.h) */
    FILE *in;               /* owned unless it is stdin */
    char *path;             /* owned copy, for messages */
    const char *dead_letter;
    struct ola_buf carry; /* read past the last batch's last line */
    size_t last_len;      /* size of the last batch: the next one's first guess */
    size_t line;          /* lines read so far */
    size_t total;         /* records delivered (alerts included) */
    bool ended;           /* the input ended (or failed) */
    /* what was refused: counted, dead-lettered, the first one named */
    size_t refused;
    size_t first_line; /* line number of the first one (1-based) */
    char first_why[OLA_EVENT_WHY_MAX];
};

static const struct ola_source_ops ola_replay_ops;

/*
 * Admits the lines of body[0..len) into b (which takes body, cap bytes) through the
 * check the live source applies (ola_event_admit); a refused line goes to
 * the dead-letter file. Returns 0 / -1 with err.
 */
static int ola_replay_batch(struct ola_replay_source *rs, struct ola_batch *b, char *body,
                            size_t len, size_t cap, struct ola_err *err)
{
    size_t off = 0;

    b->body = body;
    b->body_len = len;
    b->body_cap = cap;
    while (off < len) {
        char *nl = memchr(body + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - body) : len, n = end - off;
        char why[OLA_EVENT_WHY_MAX];
        int rc;

        rs->line++;
        /* the line's end, as a page's element ends at its value (a blank line
         * is skipped, not refused) */
        while (n > 0 && (body[off + n - 1] == '\r' || body[off + n - 1] == ' ' ||
                         body[off + n - 1] == '\t'))
            n--;
        if (n > 0) {
            rc = ola_event_admit(b, body + off, n, why, sizeof(why));
            if (rc < 0)
                return ola_err_set(err, ENOMEM, "out of memory");
            if (rc == 0) {
                if (rs->refused++ == 0) {
                    rs->first_line = rs->line;
                    memcpy(rs->first_why, why, sizeof(why));
                }
                if (ola_deadletter_write(rs->dead_letter, "replay", why, body + off, n,
                                         err) != 0)
                    return -1;
            }
        }
        off = end + 1;
    }
    return 0;
}

/*
 * The bytes of the next batch, read in OLA_REPLAY_BLOCK blocks after what
 * rs->carry holds (see the top of the file), into the memory of b's last
 * body when b kept it (already faulted in; a fresh megabyte per batch cost a
 * third of replay's system time). *data is a buffer of *cap bytes the caller
 * owns, or NULL at the end of the input. Returns 0 / -1 (ENOMEM).
 */
static int ola_replay_read(struct ola_replay_source *rs, struct ola_batch *b, char **data,
                           size_t *len, size_t *cap)
{
    struct ola_buf body = OLA_BUF_INIT;
    size_t scanned = 0, lines = 0, line_start = 0;
    bool skipping = false;

    body.data = ola_batch_take_spare(b, &body.cap);
    /* room for a batch like the last one at once: growing by doubling would
     * free a chain of large blocks, and each such free makes malloc
     * consolidate every small chunk the previous batch's events left */
    if (ola_buf_reserve(&body, rs->carry.len + rs->last_len + OLA_REPLAY_BLOCK) != 0 ||
        ola_buf_append(&body, rs->carry.data, rs->carry.len) != 0)
        goto fail;
    ola_buf_reset(&rs->carry);
    for (;;) {
        char *nl;
        size_t n;

        while (scanned < body.len &&
               (nl = memchr(body.data + scanned, '\n', body.len - scanned)) != NULL) {
            scanned = (size_t)(nl - body.data) + 1;
            line_start = scanned;
            if (++lines == OLA_REPLAY_LINES || scanned >= OLA_REPLAY_BYTES) {
                if (ola_buf_append(&rs->carry, body.data + scanned, body.len - scanned) !=
                    0)
                    goto fail;
                body.len = scanned;
                goto done;
            }
        }
        scanned = body.len;
        if (body.len - line_start > OLA_EVENT_MAX_BYTES) {
            body.len = line_start + OLA_EVENT_MAX_BYTES + 1;
            scanned = body.len;
            skipping = true;
        }
        if (feof(rs->in) || ferror(rs->in))
            break;
        if (ola_buf_reserve(&body, OLA_REPLAY_BLOCK) != 0)
            goto fail;
        n = fread(body.data + body.len, 1, OLA_REPLAY_BLOCK, rs->in);
        if (skipping) { /* drop the rest of an oversize line, up to its end */
            nl = memchr(body.data + body.len, '\n', n);
            if (nl != NULL) {
                n -= (size_t)(nl - (body.data + body.len));
                memmove(body.data + body.len, nl, n);
                skipping = false;
            } else {
                n = 0;
            }
        }
        body.len += n;
        body.data[body.len] = '\0';
    }
done:
    if (body.len == 0) {
        ola_buf_free(&body);
        *data = NULL;
        *len = 0;
        *cap = 0;
        return 0;
    }
    body.data[body.len] = '\0';
    *cap = body.cap;
    *data = ola_buf_steal(&body, len);
    return 0;
fail:
    ola_buf_free(&body);
    return -1;
}

static enum ola_src_rc ola_replay_next(struct ola_source *src, struct ola_batch *b,
                                       int64_t *wait_ms, struct ola_err *err)
{
    struct ola_replay_source *rs = (struct ola_replay_source *)src;
    char *data = NULL;
    size_t len = 0, cap = 0;

    *wait_ms = 0;
    ola_batch_reset(b);
    if (rs->ended)
        return OLA_SRC_END;
    if (ola_replay_read(rs, b, &data, &len, &cap) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        return OLA_SRC_FATAL;
    }
    if (data == NULL) {
        rs->ended = true;
        if (ferror(rs->in)) {
            ola_err_set(err, EIO, "%s: read error", rs->path);
            return OLA_SRC_FATAL;
        }
        return OLA_SRC_END;
    }
    rs->last_len = len;
    if (ola_replay_batch(rs, b, data, len, cap, err) != 0)
        return OLA_SRC_FATAL;
    b->fetched_mono_ms = ola_mono_ms();
    return OLA_SRC_BATCH;
}

static int ola_replay_commit(struct ola_source *src, const struct ola_batch *b)
{
    struct ola_replay_source *rs = (struct ola_replay_source *)src;

    rs->total += b->n;
    return 0;
}

static void ola_replay_finish(struct ola_source *src)
{
    struct ola_replay_source *rs = (struct ola_replay_source *)src;

    if (!rs->ended)
        return; /* stopped by a failure, said already */
    if (rs->refused == 0)
        fprintf(stderr, "olagent: replayed %zu records (0 lines refused)\n", rs->total);
    else
        fprintf(stderr,
                "olagent: replayed %zu records (%zu lines refused, written to %s; first: "
                "line %zu, %s)\n",
                rs->total, rs->refused, rs->dead_letter, rs->first_line, rs->first_why);
}

static void ola_replay_destroy(struct ola_source *src)
{
    struct ola_replay_source *rs = (struct ola_replay_source *)src;

    if (rs->in != NULL && rs->in != stdin)
        fclose(rs->in);
    ola_buf_free(&rs->carry);
    free(rs->path);
    free(rs);
}

struct ola_source *ola_replay_source_new(const char *path, const char *dead_letter,
                                         struct ola_err *err)
{
    struct ola_replay_source *rs = calloc(1, sizeof(*rs));

    if (rs != NULL)
        rs->path = strdup(path);
    if (rs == NULL || rs->path == NULL) {
        free(rs);
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    rs->base.ops = &ola_replay_ops;
    rs->dead_letter = dead_letter;
    rs->in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (rs->in == NULL) {
        int e = errno;

        ola_err_set(err, e, "%s: %s", path, strerror(e));
        ola_replay_destroy(&rs->base);
        return NULL;
    }
    return &rs->base;
}

static const struct ola_source_ops ola_replay_ops = {
    .name = "replay",
    .next = ola_replay_next,
    .commit = ola_replay_commit,
    .finish = ola_replay_finish,
    .destroy = ola_replay_destroy,
};
