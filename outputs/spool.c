/*
 * spool.c - an output's bounded, crash-safe spool: segment files of records.
 *
 * dir holds segments "<20-digit number>.seg" and the reader position
 * "reader.pos". A segment is the magic "OLASPL1\n" then records; a record is
 * its payload's length (u32 LE), the zlib CRC-32 of the payload (u32 LE) and
 * the payload: version 1, kind, severity, tenant length (one byte each),
 * event id, created_at ms, spooled-at ms (i64 LE each), the olagent object's
 * length (u32 LE), then the tenant, the olagent object (JSON) and the record's
 * own bytes (an event's original bytes; an alert's tree, dumped). Records keep
 * JSON, not formatted bytes, because an output's write takes a batch of
 * events (templates, routing, refusals all read them): the drain thread parses
 * them again into its own trees, so no json_t crosses threads.
 *
 * One writer appends a batch's part with one write and one fdatasync (a new
 * segment: created with its magic, fsynced, then the directory). The reader
 * reads only what the writer made durable, and moves its position with an
 * atomic replace of reader.pos (temp, fsync, rename, directory fsync); the
 * segments wholly behind it are then deleted (a crash in between: open
 * deletes them). Open cuts each segment at its first record with a bad
 * length or CRC (a torn tail): such bytes are never read as data.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "agent/core/arena.h"
#include "agent/core/buf.h"
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "outputs/spool.h"
#include "outputs/spool_priv.h"

uint32_t ola_spool_crc(const void *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *q = p;

    while (n > 0) {
        uInt k = n > 0x40000000u ? 0x40000000u : (uInt)n;

        c = crc32(c, q, k);
        q += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* ---- files --------------------------------------------------------------------- */

int ola_spool_seg_path(const struct ola_spool *sp, uint64_t id, char *out, size_t n)
{
    int k = snprintf(out, n, "%s/%020" PRIu64 ".seg", sp->dir, id);

    return k < 0 || (size_t)k >= n ? -1 : 0;
}

static int ola_spool_fsync_dir(const struct ola_spool *sp)
{
    int fd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates segment id with its magic, durably. Returns its fd or -1 with err. */
static int ola_spool_seg_create(struct ola_spool *sp, uint64_t id, struct ola_err *err)
{
    char path[4096];
    int fd = -1;

    if (ola_spool_seg_path(sp, id, path, sizeof(path)) != 0) {
        ola_err_set(err, ENAMETOOLONG, "spool %s: path too long", sp->dir);
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ola_write_all(fd, OLA_SEG_MAGIC, OLA_SEG_HDR) != 0 ||
        fdatasync(fd) != 0 || ola_spool_fsync_dir(sp) != 0)
        goto fail;
    return fd;
fail:
    ola_err_set(err, errno, "spool: cannot create %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/*
 * Reads the record at off of fd (file size size) into rec: its payload.
 * Returns 1 (whole, CRC good; *len the payload's length), 0 (torn or bad:
 * a length out of bounds, short, or a CRC mismatch), -1 (I/O, ENOMEM).
 */
int ola_spool_rec_at(int fd, uint64_t off, uint64_t size, struct ola_buf *rec,
                     size_t *len)
{
    unsigned char hdr[OLA_REC_HDR];
    uint32_t n, crc;
    ssize_t r;

    if (size - off < OLA_REC_HDR)
        return 0;
    r = pread(fd, hdr, sizeof(hdr), (off_t)off);
    if (r != (ssize_t)sizeof(hdr))
        return r < 0 ? -1 : 0;
    n = ola_get_u32(hdr);
    crc = ola_get_u32(hdr + 4);
    if (n < OLA_REC_FIXED || n > OLA_SPOOL_REC_MAX || size - off - OLA_REC_HDR < n)
        return 0;
    ola_buf_reset(rec);
    if (ola_buf_reserve(rec, n) != 0)
        return -1;
    r = pread(fd, rec->data, n, (off_t)(off + OLA_REC_HDR));
    if (r != (ssize_t)n)
        return r < 0 ? -1 : 0;
    rec->len = n;
    if (ola_spool_crc(rec->data, n) != crc)
        return 0;
    *len = n;
    return 1;
}

/*
 * Checks segment id at open: cuts it after its last whole record (a bad magic:
 * it starts again empty). Sets *size. Returns 0 / -1 with err.
 */
static int ola_spool_seg_check(struct ola_spool *sp, uint64_t id, uint64_t *size,
                               struct ola_err *err)
{
    char path[4096], magic[OLA_SEG_HDR];
    uint64_t off = OLA_SEG_HDR, end;
    struct stat st;
    size_t len = 0;
    int fd = -1, r;

    if (ola_spool_seg_path(sp, id, path, sizeof(path)) != 0)
        return ola_err_set(err, ENAMETOOLONG, "spool %s: path too long", sp->dir);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0)
        goto fail;
    end = (uint64_t)st.st_size;
    if (end < OLA_SEG_HDR || pread(fd, magic, OLA_SEG_HDR, 0) != OLA_SEG_HDR ||
        memcmp(magic, OLA_SEG_MAGIC, OLA_SEG_HDR) != 0) {
        if (ftruncate(fd, 0) != 0 ||
            pwrite(fd, OLA_SEG_MAGIC, OLA_SEG_HDR, 0) != OLA_SEG_HDR)
            goto fail;
        off = OLA_SEG_HDR;
    } else {
        while ((r = ola_spool_rec_at(fd, off, end, &sp->rec, &len)) == 1)
            off += OLA_REC_HDR + len;
        if (r < 0)
            goto fail;
    }
    if (off < end) {
        sp->cut_bytes += end - off;
        ola_log_warn(sp->comp, "spool: cut %" PRIu64 " torn bytes at the end of %s",
                     end - off, path);
    }
    if (off != end && (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0))
        goto fail;
    close(fd);
    *size = off;
    return 0;
fail:
    ola_err_set(err, errno, "spool: %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Reads reader.pos into *pos. Returns 1 read, 0 absent or unreadable (logged). */
static int ola_spool_pos_load(struct ola_spool *sp, struct ola_spool_pos *pos)
{
    char path[4096], *data = NULL, *end;
    unsigned long long seg, off, crc;
    int k = snprintf(path, sizeof(path), "%s/" OLA_SPOOL_POS_FILE, sp->dir), got = 0;
    const char *p;
    size_t len;

    if (k < 0 || (size_t)k >= sizeof(path) || ola_read_file(path, 256, &data, &len) != 0)
        goto out;
    p = data;
    if (strncmp(p, OLA_SPOOL_POS_TAG " ", sizeof(OLA_SPOOL_POS_TAG)) != 0)
        goto bad;
    p += sizeof(OLA_SPOOL_POS_TAG);
    errno = 0;
    seg = strtoull(p, &end, 10);
    if (errno != 0 || end == p || *end != ' ')
        goto bad;
    p = end + 1;
    off = strtoull(p, &end, 10);
    if (errno != 0 || end == p || *end != ' ')
        goto bad;
    p = end + 1;
    crc = strtoull(p, &end, 16);
    if (errno != 0 || end == p || *end != '\n' ||
        crc != ola_spool_crc(data, (size_t)(p - 1 - data)))
        goto bad;
    pos->seg = seg;
    pos->off = off;
    got = 1;
    goto out;
bad:
    ola_log_warn(sp->comp,
                 "spool: %s is not a reader position; reading from the oldest "
                 "segment (records may be delivered again)",
                 path);
out:
    free(data);
    return got;
}

/* Writes pos to reader.pos atomically and durably. Returns 0 / -1 with err. */
int ola_spool_pos_save(struct ola_spool *sp, const struct ola_spool_pos *pos,
                       struct ola_err *err)
{
    char path[4096], line[128], *tmp = NULL;
    int k = snprintf(path, sizeof(path), "%s/" OLA_SPOOL_POS_FILE, sp->dir), n, fd = -1;

    if (k < 0 || (size_t)k >= sizeof(path))
        return ola_err_set(err, ENAMETOOLONG, "spool %s: path too long", sp->dir);
    n = snprintf(line, sizeof(line), OLA_SPOOL_POS_TAG " %" PRIu64 " %" PRIu64, pos->seg,
                 pos->off);
    k = snprintf(line + n, sizeof(line) - (size_t)n, " %08" PRIx32 "\n",
                 ola_spool_crc(line, (size_t)n));
    fd = ola_tmpfile_beside(path, &tmp);
    if (fd < 0 || ola_write_all(fd, line, (size_t)(n + k)) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    tmp = NULL;
    if (ola_spool_fsync_dir(sp) != 0)
        goto fail;
    return 0;
fail:
    ola_err_set(err, errno, "spool: cannot save %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlink(tmp);
    free(tmp);
    return -1;
}

static int ola_spool_cmp_id(const void *a, const void *b)
{
    const struct ola_spool_seg *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* Lists the segments of dir into sp->segs, in order. Returns 0 / -1 with err. */
static int ola_spool_list(struct ola_spool *sp, struct ola_err *err)
{
    DIR *d = opendir(sp->dir);
    struct dirent *de;

    if (d == NULL)
        return ola_err_set(err, errno, "spool: cannot open %s: %s", sp->dir,
                           strerror(errno));
    while ((de = readdir(d)) != NULL) {
        char *end;
        unsigned long long id;

        if (strlen(de->d_name) != 24 || strcmp(de->d_name + 20, ".seg") != 0)
            continue;
        errno = 0;
        id = strtoull(de->d_name, &end, 10);
        if (errno != 0 || end != de->d_name + 20)
            continue;
        if (OLA_VEC_GROW(sp->segs, sp->cap_segs, sp->n_segs + 1) != 0) {
            closedir(d);
            return ola_err_set(err, ENOMEM, "out of memory");
        }
        sp->segs[sp->n_segs].id = id;
        sp->segs[sp->n_segs++].size = 0;
    }
    closedir(d);
    if (sp->n_segs > 1)
        qsort(sp->segs, sp->n_segs, sizeof(sp->segs[0]), ola_spool_cmp_id);
    return 0;
}

/* Removes segments before pos.seg from the list and the disk. */
void ola_spool_drop_before(struct ola_spool *sp, uint64_t seg)
{
    char path[4096];
    size_t k = 0, i;

    pthread_mutex_lock(&sp->mu);
    while (k < sp->n_segs && sp->segs[k].id < seg && k + 1 < sp->n_segs)
        k++;
    pthread_mutex_unlock(&sp->mu);
    for (i = 0; i < k; i++)
        if (ola_spool_seg_path(sp, sp->segs[i].id, path, sizeof(path)) == 0 &&
            unlink(path) != 0 && errno != ENOENT)
            ola_log_warn(sp->comp, "spool: cannot delete %s: %s", path, strerror(errno));
    if (k == 0)
        return;
    pthread_mutex_lock(&sp->mu);
    memmove(sp->segs, sp->segs + k, (sp->n_segs - k) * sizeof(sp->segs[0]));
    sp->n_segs -= k;
    pthread_mutex_unlock(&sp->mu);
}

struct ola_spool *ola_spool_open(const char *dir, uint64_t max_size, const char *name,
                                 struct ola_err *err)
{
    struct ola_spool *sp = calloc(1, sizeof(*sp));
    struct ola_spool_pos pos = {0, 0};
    bool have_pos;
    size_t i;

    if (sp == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    sp->wfd = sp->rfd = -1;
    snprintf(sp->name, sizeof(sp->name), "%s", name);
    snprintf(sp->comp, sizeof(sp->comp), "spool:%s", sp->name);
    sp->max_size = max_size < OLA_SPOOL_MIN_SIZE ? OLA_SPOOL_MIN_SIZE : max_size;
    sp->seg_max = sp->max_size / 8;
    if (sp->seg_max > ((uint64_t)64 << 20))
        sp->seg_max = (uint64_t)64 << 20;
    if (pthread_mutex_init(&sp->mu, NULL) != 0) {
        free(sp);
        ola_err_set(err, ENOMEM, "pthread_mutex_init failed");
        return NULL;
    }
    sp->dir = strdup(dir);
    if (sp->dir == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (ola_mkdirs(dir) != 0) {
        ola_err_set(err, errno, "spool: cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (ola_spool_list(sp, err) != 0)
        goto fail;
    have_pos = ola_spool_pos_load(sp, &pos) == 1;
    /* segments wholly delivered whose deletion a crash cut short */
    if (have_pos)
        ola_spool_drop_before(sp, pos.seg);
    for (i = 0; i < sp->n_segs; i++)
        if (ola_spool_seg_check(sp, sp->segs[i].id, &sp->segs[i].size, err) != 0)
            goto fail;
    if (sp->n_segs == 0 || sp->segs[sp->n_segs - 1].id < pos.seg) {
        uint64_t id = sp->n_segs > 0 ? sp->segs[sp->n_segs - 1].id + 1 : 1;

        if (id <= pos.seg)
            id = pos.seg + 1;
        if (OLA_VEC_GROW(sp->segs, sp->cap_segs, sp->n_segs + 1) != 0) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        sp->wfd = ola_spool_seg_create(sp, id, err);
        if (sp->wfd < 0)
            goto fail;
        sp->segs[sp->n_segs].id = id;
        sp->segs[sp->n_segs++].size = OLA_SEG_HDR;
        ola_spool_drop_before(sp, id);
    }
    /* the reader's place: its segment, within what survived */
    if (!have_pos || pos.seg < sp->segs[0].id) {
        pos.seg = sp->segs[0].id;
        pos.off = OLA_SEG_HDR;
    }
    for (i = 0; i < sp->n_segs && sp->segs[i].id != pos.seg; i++)
        ;
    if (i == sp->n_segs) { /* a gap: the next segment there is */
        for (i = 0; sp->segs[i].id < pos.seg; i++)
            ;
        pos.seg = sp->segs[i].id;
        pos.off = OLA_SEG_HDR;
    }
    if (pos.off < OLA_SEG_HDR)
        pos.off = OLA_SEG_HDR;
    if (pos.off > sp->segs[i].size) {
        ola_log_warn(sp->comp,
                     "spool: the reader position was past the end of its segment");
        pos.off = sp->segs[i].size;
    }
    sp->rpos = pos;
    if (sp->wfd < 0) {
        char path[4096];

        if (ola_spool_seg_path(sp, sp->segs[sp->n_segs - 1].id, path, sizeof(path)) !=
                0 ||
            (sp->wfd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
            ola_err_set(err, errno, "spool: cannot open %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    return sp;
fail:
    ola_spool_close(sp);
    return NULL;
}

void ola_spool_close(struct ola_spool *sp)
{
    if (sp == NULL)
        return;
    if (sp->wfd >= 0)
        close(sp->wfd);
    if (sp->rfd >= 0)
        close(sp->rfd);
    ola_buf_free(&sp->enc);
    ola_buf_free(&sp->rec);
    free(sp->segs);
    free(sp->dir);
    pthread_mutex_destroy(&sp->mu);
    free(sp);
}

/* ---- figures ------------------------------------------------------------------- */

/* Undelivered bytes and all bytes. Called with mu held. */
void ola_spool_sizes(const struct ola_spool *sp, uint64_t *undelivered, uint64_t *disk)
{
    size_t i;

    *undelivered = *disk = 0;
    for (i = 0; i < sp->n_segs; i++) {
        *disk += sp->segs[i].size;
        if (sp->segs[i].id == sp->rpos.seg)
            *undelivered += sp->segs[i].size - sp->rpos.off;
        else if (sp->segs[i].id > sp->rpos.seg)
            *undelivered += sp->segs[i].size - OLA_SEG_HDR;
    }
}

void ola_spool_figures(struct ola_spool *sp, struct ola_spool_figures *f)
{
    pthread_mutex_lock(&sp->mu);
    ola_spool_sizes(sp, &f->bytes, &f->disk_bytes);
    f->oldest_ms = f->bytes > 0 ? sp->oldest_ms : 0;
    f->cut_bytes = sp->cut_bytes;
    f->appended_recs = sp->appended;
    pthread_mutex_unlock(&sp->mu);
}

void ola_spool_position(struct ola_spool *sp, struct ola_spool_pos *pos)
{
    pthread_mutex_lock(&sp->mu);
    *pos = sp->rpos;
    pthread_mutex_unlock(&sp->mu);
}

/* ---- the writer ---------------------------------------------------------------- */

/* Appends record i of b, encoded, to sp->enc. Returns 0 / -1 (ENOMEM). */
static int ola_spool_encode(struct ola_spool *sp, const struct ola_batch *b, size_t i,
                            int64_t now_ms)
{
    const struct ola_event *e = &b->ev[i];
    const char *tenant = ola_batch_tenant(b);
    size_t tlen = strlen(tenant), olen = 0, rlen, start = sp->enc.len, n;
    char *ola = NULL, *dumped = NULL;
    const char *raw = e->raw;
    unsigned char *p;
    int rc = -1;

    if (tlen > 255)
        tlen = 255;
    if (e->ola != NULL && (ola = ola_json_dumps(e->ola, JSON_COMPACT)) == NULL)
        goto fail;
    olen = ola != NULL ? strlen(ola) : 0;
    rlen = e->raw_len;
    if (raw == NULL) {
        dumped = ola_json_dumps(e->ev, JSON_COMPACT);
        if (dumped == NULL)
            goto fail;
        raw = dumped;
        rlen = strlen(dumped);
    }
    n = OLA_REC_FIXED + tlen + olen + rlen;
    if (ola_buf_reserve(&sp->enc, OLA_REC_HDR + n) != 0)
        goto fail;
    p = (unsigned char *)sp->enc.data + start;
    ola_put_u32(p, (uint32_t)n);
    p += OLA_REC_HDR;
    p[0] = OLA_REC_VERSION;
    p[1] = (unsigned char)e->kind;
    p[2] = (unsigned char)(signed char)e->severity;
    p[3] = (unsigned char)tlen;
    ola_put_u64(p + 4, (uint64_t)e->id);
    ola_put_u64(p + 12, (uint64_t)e->created_ms);
    ola_put_u64(p + 20, (uint64_t)now_ms);
    ola_put_u32(p + 28, (uint32_t)olen);
    memcpy(p + OLA_REC_FIXED, tenant, tlen);
    if (olen > 0)
        memcpy(p + OLA_REC_FIXED + tlen, ola, olen);
    memcpy(p + OLA_REC_FIXED + tlen + olen, raw, rlen);
    ola_put_u32(p - OLA_REC_HDR + 4, ola_spool_crc(p, n));
    sp->enc.len = start + OLA_REC_HDR + n;
    rc = 0;
fail:
    free(ola);
    free(dumped);
    return rc;
}

enum ola_rc ola_spool_append(struct ola_spool *sp, const struct ola_output *o,
                             const struct ola_batch *b, struct ola_err *err)
{
    uint64_t undelivered, disk, off, id, nrec = 0;
    int64_t now = ola_now_ms();
    bool roll;
    size_t i;

    ola_buf_reset(&sp->enc);
    for (i = 0; i < b->n; i++) {
        if (!ola_output_takes(o, &b->ev[i]))
            continue;
        if (ola_spool_encode(sp, b, i, now) != 0) {
            ola_err_set(err, ENOMEM, "spool: out of memory");
            return OLA_RETRY;
        }
        nrec++;
    }
    if (sp->enc.len == 0)
        return OLA_OK;
    pthread_mutex_lock(&sp->mu);
    ola_spool_sizes(sp, &undelivered, &disk);
    id = sp->segs[sp->n_segs - 1].id;
    off = sp->segs[sp->n_segs - 1].size;
    pthread_mutex_unlock(&sp->mu);
    /* full: no room for all of it, unless nothing waits (a batch larger than the
     * spool still goes through, alone) */
    if (disk + sp->enc.len > sp->max_size && undelivered > 0) {
        if (!sp->full_logged)
            ola_log_warn(sp->comp,
                         "spool of output %s full, pausing (%" PRIu64
                         " bytes waiting, max_size %" PRIu64 ")",
                         sp->name, undelivered, sp->max_size);
        sp->full_logged = true;
        ola_err_set(err, ENOSPC, "spool full");
        return OLA_RETRY;
    }
    roll = off > OLA_SEG_HDR && off + sp->enc.len > sp->seg_max;
    if (roll) {
        int fd, grown;

        pthread_mutex_lock(&sp->mu);
        grown = OLA_VEC_GROW(sp->segs, sp->cap_segs, sp->n_segs + 1);
        pthread_mutex_unlock(&sp->mu);
        if (grown != 0) {
            ola_err_set(err, ENOMEM, "spool: out of memory");
            return OLA_RETRY;
        }
        fd = ola_spool_seg_create(sp, id + 1, err);
        if (fd < 0)
            return OLA_RETRY;
        close(sp->wfd);
        sp->wfd = fd;
        id++;
        off = OLA_SEG_HDR;
        pthread_mutex_lock(&sp->mu);
        sp->segs[sp->n_segs].id = id;
        sp->segs[sp->n_segs++].size = off;
        pthread_mutex_unlock(&sp->mu);
    }
    if (pwrite(sp->wfd, sp->enc.data, sp->enc.len, (off_t)off) != (ssize_t)sp->enc.len ||
        fdatasync(sp->wfd) != 0) {
        int e = errno;

        /* a short write sets no errno of its own */
        ola_err_set(err, e, "spool: cannot write segment %" PRIu64 ": %s", id,
                    e != 0 ? strerror(e) : "short write");
        if (ftruncate(sp->wfd, (off_t)off) != 0)
            ola_log_warn(sp->comp, "spool: cannot cut a failed append: %s",
                         strerror(errno));
        return OLA_RETRY;
    }
    pthread_mutex_lock(&sp->mu);
    sp->segs[sp->n_segs - 1].size = off + sp->enc.len;
    if (undelivered == 0)
        sp->oldest_ms = now;
    sp->appended += nrec;
    pthread_mutex_unlock(&sp->mu);
    if (sp->full_logged)
        ola_log_info(sp->comp, "spool of output %s has room again, resuming", sp->name);
    sp->full_logged = false;
    if (sp->enc.cap > OLA_SPOOL_BATCH_BYTES * 2)
        ola_buf_free(&sp->enc);
    return OLA_OK;
}
