/*
 * spool_read.c - the spool's reader: runs of records back into a batch, and
 * the reader position moved durably.
 *
 * The reader reads only up to the size the writer fsynced (it never sees a
 * record being written), a run of one tenant from one segment at a time
 * (b->tenant is one name). Each record's JSON is parsed again here, on the
 * reader's thread: the batch's events are its own trees, e->raw points into
 * b->body (the original bytes, so the json format still emits them byte for
 * byte with the olagent object spliced in). The position moves only when the
 * caller says the run is delivered (ola_spool_advance): reader.pos replaced
 * atomically, then the segments behind it deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/core/log.h"
#include "agent/core/vec.h"
#include "outputs/spool.h"
#include "outputs/spool_priv.h"

/* One record read back, before its event is parsed. */
struct ola_spool_meta {
    enum ola_record_kind kind;
    int severity;
    int64_t id, created_ms;
    size_t raw_off, raw_len;
    json_t *ola;
};

/* Opens the reader's fd on segment seg. Returns 0 / -1 with err. */
static int ola_spool_ropen(struct ola_spool *sp, uint64_t seg, struct ola_err *err)
{
    char path[4096];

    if (sp->rfd >= 0 && sp->rfd_seg == seg)
        return 0;
    if (sp->rfd >= 0)
        close(sp->rfd);
    sp->rfd = -1;
    if (ola_spool_seg_path(sp, seg, path, sizeof(path)) != 0 ||
        (sp->rfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return ola_err_set(err, errno, "spool: cannot open %s: %s", path,
                           strerror(errno));
    sp->rfd_seg = seg;
    return 0;
}

/*
 * Where the reader stands: its segment's durable size and whether a segment
 * follows (*after, its id). Called without mu.
 */
static void ola_spool_where(struct ola_spool *sp, struct ola_spool_pos *pos,
                            uint64_t *size, bool *has_next, uint64_t *next_id)
{
    size_t i;

    pthread_mutex_lock(&sp->mu);
    *pos = sp->rpos;
    for (i = 0; i < sp->n_segs && sp->segs[i].id != pos->seg; i++)
        ;
    *size = i < sp->n_segs ? sp->segs[i].size : pos->off;
    *has_next = i + 1 < sp->n_segs;
    *next_id = *has_next ? sp->segs[i + 1].id : 0;
    pthread_mutex_unlock(&sp->mu);
}

/* Parses the run's events into b (its body set). Returns 0 / -1 (ENOMEM). */
static int ola_spool_fill(struct ola_spool *sp, struct ola_batch *b,
                          struct ola_spool_meta *m, size_t n, unsigned index)
{
    size_t i;

    for (i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *ev = json_loadb(b->body + m[i].raw_off, m[i].raw_len, 0, &jerr);
        struct ola_event *e;

        if (ev == NULL) {
            /* its CRC held: only a bug writes such a record; it is shown, not sent */
            ola_log_err(sp->comp,
                        "spool: a record of event %" PRId64 " does not parse (%s); "
                        "skipped",
                        m[i].id, jerr.text);
            json_decref(m[i].ola);
            m[i].ola = NULL;
            continue;
        }
        e = ola_batch_add(b, m[i].kind, ev,
                          m[i].kind == OLA_REC_EVENT ? b->body + m[i].raw_off : NULL,
                          m[i].kind == OLA_REC_EVENT ? m[i].raw_len : 0);
        if (e == NULL)
            return -1;
        e->id = m[i].id;
        e->created_ms = m[i].created_ms;
        e->severity = m[i].severity;
        e->routes = UINT32_C(1) << index;
        e->ola = m[i].ola;
        m[i].ola = NULL;
    }
    return 0;
}

int ola_spool_read(struct ola_spool *sp, struct ola_batch *b, unsigned index,
                   char *tenant, size_t tenant_size, struct ola_spool_pos *next,
                   struct ola_err *err)
{
    struct ola_spool_meta *m = NULL;
    struct ola_buf body = OLA_BUF_INIT;
    struct ola_spool_pos pos;
    uint64_t size, next_id, off;
    int64_t first_ms = 0;
    size_t n = 0, cap = 0, len, i;
    bool has_next;
    int rc = -1, r;

    ola_batch_reset(b);
    for (;;) {
        ola_spool_where(sp, &pos, &size, &has_next, &next_id);
        if (pos.off < size)
            break;
        if (!has_next)
            return 0;
        /* this segment is delivered: on to the next, this one goes */
        pos.seg = next_id;
        pos.off = OLA_SEG_HDR;
        if (ola_spool_advance(sp, &pos, err) != 0)
            return -1;
    }
    if (ola_spool_ropen(sp, pos.seg, err) != 0)
        return -1;
    off = pos.off;
    while (off < size && n < OLA_SPOOL_BATCH_RECS) {
        const unsigned char *p;
        size_t tlen, olen;

        r = ola_spool_rec_at(sp->rfd, off, size, &sp->rec, &len);
        if (r < 0) {
            ola_err_set(err, errno, "spool: cannot read segment %" PRIu64 ": %s", pos.seg,
                        strerror(errno));
            goto fail;
        }
        p = (const unsigned char *)sp->rec.data;
        tlen = r == 1 ? p[3] : 0;
        olen = r == 1 ? ola_get_u32(p + 28) : 0;
        if (r == 0 || p[0] != OLA_REC_VERSION || OLA_REC_FIXED + tlen + olen > len ||
            tlen >= tenant_size) {
            ola_log_err(sp->comp,
                        "spool: a record of segment %" PRIu64 " at %" PRIu64
                        " fails its check; the rest of the segment is skipped",
                        pos.seg, off);
            off = size;
            break;
        }
        if (n > 0 &&
            (tlen != strlen(tenant) || memcmp(tenant, p + OLA_REC_FIXED, tlen) != 0))
            break;
        if (n > 0 && body.len + len > OLA_SPOOL_BATCH_BYTES)
            break;
        if (n == 0) {
            memcpy(tenant, p + OLA_REC_FIXED, tlen);
            tenant[tlen] = '\0';
            first_ms = (int64_t)ola_get_u64(p + 20);
        }
        if (OLA_VEC_GROW(m, cap, n + 1) != 0)
            goto oom;
        memset(&m[n], 0, sizeof(m[n]));
        m[n].kind = p[1] == OLA_REC_ALERT ? OLA_REC_ALERT : OLA_REC_EVENT;
        m[n].severity = (signed char)p[2];
        m[n].id = (int64_t)ola_get_u64(p + 4);
        m[n].created_ms = (int64_t)ola_get_u64(p + 12);
        m[n].raw_off = body.len;
        m[n].raw_len = len - OLA_REC_FIXED - tlen - olen;
        if (olen > 0) {
            json_error_t jerr;

            m[n].ola = json_loadb((const char *)p + OLA_REC_FIXED + tlen, olen, 0, &jerr);
        }
        n++;
        if (ola_buf_append(&body, p + OLA_REC_FIXED + tlen + olen, m[n - 1].raw_len) != 0)
            goto oom;
        off += OLA_REC_HDR + len;
    }
    next->seg = pos.seg;
    next->off = off;
    if (n > 0) {
        pthread_mutex_lock(&sp->mu);
        sp->oldest_ms = first_ms;
        pthread_mutex_unlock(&sp->mu);
    }
    if (ola_buf_putc(&body, '\0') != 0)
        goto oom;
    b->body = ola_buf_steal(&body, &b->body_len);
    b->tenant = tenant;
    if (ola_spool_fill(sp, b, m, n, index) != 0)
        goto oom;
    /* a run of records that did not parse, or a skipped tail: step over them */
    if (b->n == 0 && next->off > pos.off && ola_spool_advance(sp, next, err) != 0)
        goto fail;
    rc = (int)b->n;
    goto out;
oom:
    ola_err_set(err, ENOMEM, "spool: out of memory");
fail:
    ola_batch_reset(b);
out:
    for (i = 0; i < n; i++)
        json_decref(m[i].ola);
    free(m);
    ola_buf_free(&body);
    return rc;
}

int ola_spool_advance(struct ola_spool *sp, const struct ola_spool_pos *next,
                      struct ola_err *err)
{
    uint64_t undelivered, disk;

    if (ola_spool_pos_save(sp, next, err) != 0)
        return -1;
    pthread_mutex_lock(&sp->mu);
    sp->rpos = *next;
    ola_spool_sizes(sp, &undelivered, &disk);
    if (undelivered == 0)
        sp->oldest_ms = 0;
    pthread_mutex_unlock(&sp->mu);
    if (sp->rfd >= 0 && sp->rfd_seg < next->seg) {
        close(sp->rfd);
        sp->rfd = -1;
    }
    ola_spool_drop_before(sp, next->seg);
    return 0;
}
