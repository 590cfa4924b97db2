/*
 * file_recover.c - the file output's crash recovery, at startup.
 *
 * A file a crash left without a manifest is read once: gzip members are
 * inflated one after another and cut after the last complete one (plain
 * files after the last newline), the whole JSON lines counted (events, first
 * and last id and created_at), then the file is truncated there, fsynced and
 * manifested, chained after the newest manifest. A file killed before its
 * first member is removed. Then the keep policy runs (file_rotate.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/core/fileio.h"
#include "outputs/file_sink_priv.h"

/* ---- crash recovery ----------------------------------------------------- */

struct ola_lines {
    struct ola_buf part;  /* the line being assembled */
    struct ola_fstats st; /* counted records */
};

static void ola_lines_one(struct ola_lines *l, const char *p, size_t n)
{
    json_t *v, *id, *ca;
    int64_t ms = OLA_TIME_NONE, ev_id = 0;

    v = json_loadb(p, n, 0, NULL);
    if (json_is_object(v)) {
        id = json_object_get(v, "id");
        ca = json_object_get(v, "created_at");
        if (json_is_integer(id) && json_integer_value(id) > 0) {
            ev_id = json_integer_value(id);
            if (!json_is_string(ca) ||
                ola_manifest_time_parse(json_string_value(ca), &ms) != 0)
                ms = OLA_TIME_NONE;
        }
    }
    json_decref(v);
    ola_fstats_note(&l->st, ev_id, ms);
}

/* Feeds decompressed bytes; whole lines are counted. Returns 0 / -1 (ENOMEM). */
static int ola_lines_feed(struct ola_lines *l, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl != NULL ? (size_t)(nl - p) : n;

        if (nl == NULL)
            return ola_buf_append(&l->part, p, n);
        if (l->part.len > 0) {
            if (ola_buf_append(&l->part, p, k) != 0)
                return -1;
            ola_lines_one(l, l->part.data, l->part.len);
            ola_buf_reset(&l->part);
        } else {
            ola_lines_one(l, p, k);
        }
        p += k + 1;
        n -= k + 1;
    }
    return 0;
}

/* Reads up to n bytes at off; returns bytes read or -1 (errno). */
static ssize_t ola_pread_full(int fd, void *p, size_t n, uint64_t off)
{
    for (;;) {
        ssize_t r = pread(fd, p, n, (off_t)off);

        if (r >= 0 || errno != EINTR)
            return r;
    }
}

/* Counts the lines of every complete gzip member; *good: end of the last one. */
static int ola_recover_gzip(int fd, struct ola_lines *total, uint64_t *good,
                            unsigned char *in, unsigned char *out, size_t chunk,
                            struct ola_err *err)
{
    struct ola_lines mem = {OLA_BUF_INIT, {0, 0, 0, 0, 0}};
    z_stream zs;
    uint64_t off = 0;
    bool eof = false;
    int rc = -1;

    memset(&zs, 0, sizeof(zs));
    ola_fstats_init(&mem.st);
    if (inflateInit2(&zs, 31) != Z_OK)
        return ola_err_set(err, ENOMEM, "inflateInit2 failed");
    for (;;) {
        int zr;

        if (zs.avail_in == 0 && !eof) {
            ssize_t r = ola_pread_full(fd, in, chunk, off);

            if (r < 0) {
                ola_err_set(err, errno, "read: %s", strerror(errno));
                goto fail;
            }
            eof = r == 0;
            off += (uint64_t)r;
            zs.next_in = in;
            zs.avail_in = (uInt)r;
        }
        zs.next_out = out;
        zs.avail_out = (uInt)chunk;
        zr = inflate(&zs, Z_NO_FLUSH);
        if (ola_lines_feed(&mem, (const char *)out, chunk - zs.avail_out) != 0) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        if (zr == Z_STREAM_END) {
            *good = off - zs.avail_in;
            if (mem.part.len > 0) /* a member ending without a newline */
                ola_lines_one(&mem, mem.part.data, mem.part.len);
            ola_fstats_add(&total->st, &mem.st);
            ola_fstats_init(&mem.st);
            ola_buf_reset(&mem.part);
            inflateReset(&zs);
            if (eof && zs.avail_in == 0)
                break;
        } else if (zr == Z_OK || zr == Z_BUF_ERROR) {
            if (eof && zs.avail_in == 0 && zs.avail_out != 0)
                break; /* a member cut short */
        } else {
            break; /* corrupt: everything after *good goes */
        }
    }
    rc = 0;
fail:
    inflateEnd(&zs);
    ola_buf_free(&mem.part);
    return rc;
}

/* Counts whole lines; *good: the end of the last newline. */
static int ola_recover_plain(int fd, struct ola_lines *total, uint64_t *good,
                             unsigned char *in, size_t chunk, struct ola_err *err)
{
    uint64_t off = 0;

    for (;;) {
        ssize_t r = ola_pread_full(fd, in, chunk, off), i;

        if (r < 0)
            return ola_err_set(err, errno, "read: %s", strerror(errno));
        if (r == 0)
            return 0;
        if (ola_lines_feed(total, (const char *)in, (size_t)r) != 0)
            return ola_err_set(err, ENOMEM, "out of memory");
        for (i = r; i > 0; i--) {
            if (in[i - 1] == '\n') {
                *good = off + (uint64_t)i;
                break;
            }
        }
        off += (uint64_t)r;
    }
}

int ola_file_recover(const char *path, bool gzip, struct ola_manifest *m,
                     uint64_t *dropped_bytes, struct ola_err *err)
{
    const size_t chunk = 1 << 16;
    unsigned char *in = malloc(chunk), *out = malloc(chunk);
    struct ola_lines total = {OLA_BUF_INIT, {0, 0, 0, 0, 0}};
    uint64_t good = 0;
    struct stat st;
    int fd = -1, rc = -1;

    ola_fstats_init(&total.st);
    if (in == NULL || out == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW); /* never cut a link's target */
    if (fd < 0 && errno == ELOOP) {
        ola_err_set(err, errno, "%s: is a symbolic link; not recovered through", path);
        goto fail;
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        ola_err_set(err, errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if ((gzip ? ola_recover_gzip(fd, &total, &good, in, out, chunk, err)
              : ola_recover_plain(fd, &total, &good, in, chunk, err)) != 0) {
        ola_err_prefix(err, "%s", path);
        goto fail;
    }
    if (good < (uint64_t)st.st_size &&
        (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0)) {
        ola_err_set(err, errno, "%s: truncate: %s", path, strerror(errno));
        goto fail;
    }
    if (dropped_bytes != NULL)
        *dropped_bytes = (uint64_t)st.st_size - good;
    ola_manifest_fill(m, path, "", &total.st);
    m->created_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    m->recovered = true;
    if (ola_sha256_fd(fd, m->sha256, &m->bytes, err) != 0)
        goto fail;
    rc = 0;
fail:
    if (fd >= 0)
        close(fd);
    ola_buf_free(&total.part);
    free(in);
    free(out);
    return rc;
}

/* Closes what a previous run left open, finds the chain's tail, applies keep. */
int ola_fsink_startup(struct ola_fsink *s, struct ola_err *err)
{
    struct ola_output *o = s->o;
    struct ola_scan sc;
    size_t i;
    int rc = -1;

    if (ola_fsink_scan(s, &sc, err) != 0)
        return -1;
    s->seq = sc.tail_seq;
    memcpy(s->prev_sha, sc.tail_sha, sizeof(s->prev_sha));
    if (sc.n > 1)
        qsort(sc.v, sc.n, sizeof(*sc.v), ola_owned_by_name);
    for (i = 0; i < sc.n; i++) {
        struct ola_manifest m;
        uint64_t dropped = 0;

        if (sc.v[i].manifest)
            continue;
        if (!s->opts.manifest && i + 1 < sc.n)
            continue; /* without manifests only the newest file can be open */
        if (ola_file_recover(sc.v[i].path, s->opts.gzip, &m, &dropped, err) != 0)
            goto fail;
        if (m.bytes == 0) {
            /* Created, then killed before its first member: nothing to keep. */
            if (unlink(sc.v[i].path) != 0 || ola_fsync_dir_of(sc.v[i].path) != 0) {
                ola_err_set(err, errno, "%s: %s", sc.v[i].path, strerror(errno));
                goto fail;
            }
            ola_plg_log(OLA_LOG_WARN, o, "removed %s: a previous run left it empty",
                        sc.v[i].path);
            continue;
        }
        if (s->opts.manifest) {
            snprintf(m.stream, sizeof(m.stream), "%s", s->stream);
            m.closed_ms = ola_fsink_now(s);
            if (ola_fsink_chain(s, sc.v[i].path, &m, err) != 0)
                goto fail;
        }
        ola_plg_log(OLA_LOG_WARN, o,
                    "closed %s left open by a previous run (%llu records, %llu bytes of "
                    "partial data cut)",
                    sc.v[i].path, (unsigned long long)m.events,
                    (unsigned long long)dropped);
    }
    rc = 0;
fail:
    ola_scan_free(&sc);
    if (rc == 0)
        ola_fsink_keep(s);
    return rc;
}
