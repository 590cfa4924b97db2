/*
 * file_sink.c - NDJSON files, gzip or plain, rotated, manifested, durable.
 *
 * write() formats routed records into a pending buffer. flush() compresses
 * the pending bytes into one complete gzip member (so a file cut after any
 * acknowledged flush still decompresses), appends it with write(2), fsyncs,
 * and only then counts the records as emitted; a failed write or fsync
 * truncates the file back to where the member began and answers RETRY with
 * the data kept. Rotation (size, age, SIGHUP) happens between members: the
 * closed file gets its SHA-256 manifest chained to the previous one (the hash
 * runs over each member once it is durable, so closing reads nothing back). At
 * startup a file a crash left without a manifest is cut after its last
 * complete member and manifested, and the `keep` policy runs.
 *
 * RETRY or FATAL: a directory that cannot be created or written, a full disk,
 * EIO are RETRY, even when they last: an operator fixes permissions, mounts
 * and space without restarting the agent, the events wait in OneLogin, the
 * checkpoint waits, /readyz says why, and stopping would only trade that for
 * a restart loop that meets the same directory. FATAL is kept for a file this
 * process cannot repair: a failed write or fsync whose partial member cannot
 * be truncated away again (the next member would land after torn bytes), or
 * a descriptor the kernel calls unusable (EBADF, EINVAL). A restart's crash
 * recovery cuts such a file after its last complete member.
 *
 * All of this is one sink: one stream of files. The ops, and one sink per
 * tenant when the path holds {tenant}, are in file_tenants.c; which files
 * are the sink's, rotation and the keep policy in file_rotate.c; crash
 * recovery when a sink starts in file_recover.c (shared state:
 * file_sink_priv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "agent/core/fileio.h"
#include "outputs/file_sink_priv.h"

static int64_t ola_real_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ola_fsink_now(const struct ola_fsink *s)
{
    return s->opts.now_ms != NULL ? s->opts.now_ms() : ola_real_now_ms();
}

void ola_fstats_init(struct ola_fstats *st)
{
    memset(st, 0, sizeof(*st));
    st->first_ms = OLA_TIME_NONE;
    st->last_ms = OLA_TIME_NONE;
}

void ola_fstats_note(struct ola_fstats *st, int64_t id, int64_t created_ms)
{
    st->events++;
    if (id == 0)
        return; /* alerts count, but carry no event id */
    if (st->first_id == 0) {
        st->first_id = id;
        st->first_ms = created_ms;
    }
    st->last_id = id;
    st->last_ms = created_ms;
}

void ola_fstats_add(struct ola_fstats *dst, const struct ola_fstats *src)
{
    dst->events += src->events;
    if (src->first_id == 0)
        return;
    if (dst->first_id == 0) {
        dst->first_id = src->first_id;
        dst->first_ms = src->first_ms;
    }
    dst->last_id = src->last_id;
    dst->last_ms = src->last_ms;
}

void ola_file_opts_default(struct ola_file_opts *opts, const char *path)
{
    size_t n = path != NULL ? strlen(path) : 0;

    memset(opts, 0, sizeof(*opts));
    opts->path = path;
    opts->gzip = n >= 3 && strcmp(path + n - 3, ".gz") == 0;
    opts->level = 6;
    opts->fsync = true;
    opts->manifest = true;
}

/* ---- names ------------------------------------------------------------- */

/* ---- opening and closing files ----------------------------------------- */

static int ola_fsink_open_file(struct ola_fsink *s, struct ola_err *err)
{
    int64_t now = ola_fsink_now(s);
    time_t secs = (time_t)(now / 1000);
    char name[PATH_MAX], cand[PATH_MAX], man[PATH_MAX];
    struct tm tm;
    size_t n, at;
    int k, fd = -1;

    if (gmtime_r(&secs, &tm) == NULL)
        return ola_err_set(err, EINVAL, "gmtime failed");
        /* The pattern is the operator's strftime format, by design. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    n = strftime(name, sizeof(name), s->pattern, &tm);
#pragma GCC diagnostic pop
    if (n == 0)
        return ola_err_set(err, ENAMETOOLONG, "path: '%s' expands to nothing or too much",
                           s->pattern);
    if (ola_mkdir_parents(name, err) != 0)
        return -1;
    at = ola_ext_at(name);
    for (k = 0; k < 1000 && fd < 0; k++) {
        int w = k == 0 ? snprintf(cand, sizeof(cand), "%s", name)
                       : snprintf(cand, sizeof(cand), "%.*s.%d%s", (int)at, name, k,
                                  name + at);
        int m = snprintf(man, sizeof(man), "%s%s", cand, OLA_MANIFEST_SUFFIX);

        if (w < 0 || (size_t)w >= sizeof(cand) || m < 0 || (size_t)m >= sizeof(man))
            return ola_err_set(err, ENAMETOOLONG, "%s: path too long", name);
        if (access(man, F_OK) == 0)
            continue; /* a manifest without its file: never overwrite evidence */
        /* O_EXCL never follows a symlink; one planted at the name is refused */
        fd = open(cand, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                  0640);
        if (fd < 0 && errno == EEXIST && ola_is_symlink(cand))
            return ola_err_set(err, ELOOP, "%s: is a symbolic link; not written through",
                               cand);
        if (fd < 0 && errno != EEXIST)
            return ola_err_set(err, errno, "%s: %s", cand, strerror(errno));
    }
    if (fd < 0)
        return ola_err_set(err, EEXIST, "%s: 1000 files of that name exist", name);
    if (ola_fsync_dir_of(cand) != 0) {
        int e = errno;

        close(fd);
        unlink(cand);
        return ola_err_set(err, e, "%s: directory fsync: %s", cand, strerror(e));
    }
    s->fd = fd;
    memcpy(s->path, cand, strlen(cand) + 1);
    s->size = 0;
    /* without it (ENOMEM) the file is hashed from disk when it closes */
    if (s->opts.manifest)
        (void)ola_sha256_run_begin(&s->hash);
    s->opened_ms = now;
    ola_fstats_init(&s->f);
    ola_plg_log(OLA_LOG_INFO, s->o, "opened %s", s->path);
    return 0;
}

/* Fills the counting part of a manifest from stats. */
void ola_manifest_fill(struct ola_manifest *m, const char *path, const char *stream,
                       const struct ola_fstats *st)
{
    const char *base = strrchr(path, '/');
    size_t n;

    memset(m, 0, sizeof(*m));
    base = base != NULL ? base + 1 : path;
    n = strlen(base); /* at most NAME_MAX (255): it is a file's name */
    if (n >= sizeof(m->file))
        n = sizeof(m->file) - 1;
    memcpy(m->file, base, n);
    m->file[n] = '\0';
    snprintf(m->stream, sizeof(m->stream), "%s", stream);
    m->events = st->events;
    m->first_id = st->first_id;
    m->last_id = st->last_id;
    m->first_created_ms = st->first_ms;
    m->last_created_ms = st->last_ms;
}

/* Chains m after the tail, writes it beside path, moves the tail. */
int ola_fsink_chain(struct ola_fsink *s, const char *path, struct ola_manifest *m,
                    struct ola_err *err)
{
    char msha[OLA_SHA256_HEX];

    m->seq = s->seq + 1;
    memcpy(m->prev_sha256, s->prev_sha, sizeof(m->prev_sha256));
    if (ola_manifest_write(path, m, msha, err) != 0)
        return -1;
    s->seq = m->seq;
    memcpy(s->prev_sha, msha, sizeof(s->prev_sha));
    return 0;
}

/*
 * Closes the open file: an empty one is removed, any other gets its manifest.
 * On failure the file stays open (and writable) and -1 is returned.
 */
int ola_fsink_close_file(struct ola_fsink *s, const char *why, struct ola_err *err)
{
    struct ola_output *o = s->o;
    struct ola_manifest m;
    struct stat a, b;

    if (s->fd < 0)
        return 0;
    if (s->f.events == 0 && s->size == 0) {
        close(s->fd);
        s->fd = -1;
        ola_sha256_run_drop(&s->hash);
        unlink(s->path);
        ola_fsync_dir_of(s->path);
        return 0;
    }
    if (fsync(s->fd) != 0 && s->opts.fsync)
        return ola_err_set(err, errno, "%s: fsync: %s", s->path, strerror(errno));
    if (fstat(s->fd, &a) == 0 &&
        (stat(s->path, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev))
        ola_plg_log(OLA_LOG_WARN, o,
                    "%s was moved or removed while open; its manifest is written "
                    "under the original name",
                    s->path);
    if (s->opts.manifest) {
        ola_manifest_fill(&m, s->path, s->stream, &s->f);
        m.created_ms = s->opened_ms;
        m.closed_ms = ola_fsink_now(s);
        if (s->hash.ctx != NULL && s->hash.bytes == s->size &&
            ola_sha256_run_end(&s->hash, m.sha256) == 0)
            m.bytes = s->size;
        else if (ola_sha256_fd(s->fd, m.sha256, &m.bytes, err) != 0)
            return ola_err_prefix(err, "%s", s->path);
        if (ola_fsink_chain(s, s->path, &m, err) != 0)
            return -1;
    }
    close(s->fd);
    s->fd = -1;
    ola_sha256_run_drop(&s->hash);
    ola_plg_log(OLA_LOG_INFO, o, "closed %s (%s; %llu records, %llu bytes)", s->path, why,
                (unsigned long long)s->f.events, (unsigned long long)s->size);
    return 0;
}

/* ---- one sink --------------------------------------------------------- */

struct ola_fsink *ola_fsink_new(struct ola_output *o, struct ola_fout *fo,
                                const char *tenant, struct ola_err *err)
{
    struct ola_fsink *s = calloc(1, sizeof(*s));
    char path[PATH_MAX];
    const char *p = fo->tmpl;
    int n;

    if (s == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    s->o = o;
    s->fo = fo;
    s->fd = -1;
    s->opts = fo->opts;
    ola_fstats_init(&s->p);
    ola_fstats_init(&s->f);
    n = snprintf(s->stream, sizeof(s->stream), "%s%s%s", o->name, tenant ? "/" : "",
                 tenant ? tenant : "");
    if (tenant != NULL) {
        snprintf(s->tenant, sizeof(s->tenant), "%s", tenant);
        if (ola_output_tenant_expand(fo->tmpl, tenant, path, sizeof(path)) < 0) {
            ola_err_set(err, ENAMETOOLONG, "path: too long for tenant %s", tenant);
            goto fail;
        }
        p = path;
    }
    if (n < 0 || (size_t)n >= sizeof(s->stream)) {
        ola_err_set(err, ENAMETOOLONG, "manifest stream name too long");
        goto fail;
    }
    n = (int)strlen(p);
    s->pattern = malloc((size_t)n + 3);
    if (s->pattern == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(s->pattern, (size_t)n + 3, "%s%s", strchr(p, '/') != NULL ? "" : "./", p);
    s->opts.path = s->pattern;
    if (ola_pattern_compile(s, err) != 0 || ola_fsink_startup(s, err) != 0)
        goto fail;
    return s;
fail:
    free(s->pattern);
    free(s);
    return NULL;
}

void ola_fsink_free(struct ola_fsink *s)
{
    struct ola_err err;

    if (s == NULL)
        return;
    if (s->fd >= 0 && ola_fsink_close_file(s, "shutdown", &err) != 0) {
        ola_plg_log(OLA_LOG_ERR, s->o,
                    "%s left without manifest (closed at next start): %s", s->path,
                    err.msg);
        close(s->fd);
    }
    ola_sha256_run_drop(&s->hash);
    ola_buf_free(&s->pending);
    free(s->pattern);
    free(s);
}

enum ola_rc ola_fsink_write(struct ola_fsink *s, const struct ola_batch *b)
{
    struct ola_output *o = s->o;
    size_t mark = s->pending.len, i;
    struct ola_fstats add;
    int rc;

    ola_fstats_init(&add);
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];

        rc = ola_output_put_line(o, b, i, &s->pending);
        if (rc < 0)
            goto nomem;
        if (rc > 0)
            ola_fstats_note(&add, e->kind == OLA_REC_ALERT ? 0 : e->id, e->created_ms);
    }
    ola_fstats_add(&s->p, &add);
    return OLA_OK;
nomem:
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    ola_buf_truncate(&s->pending, mark);
    o->stats.errors++;
    return OLA_RETRY;
}

/* Compresses s's pending bytes into one gzip member in fo->member. Returns 0 / -1. */
static int ola_fsink_deflate(struct ola_fsink *s)
{
    struct ola_fout *fo = s->fo;
    uLong bound;

    if (s->pending.len > UINT_MAX / 2 || deflateReset(&fo->zs) != Z_OK)
        return -1;
    bound = deflateBound(&fo->zs, (uLong)s->pending.len);
    fo->member.len = 0;
    if (ola_buf_reserve(&fo->member, bound) != 0)
        return -1;
    fo->zs.next_in = (Bytef *)s->pending.data;
    fo->zs.avail_in = (uInt)s->pending.len;
    fo->zs.next_out = (Bytef *)fo->member.data;
    fo->zs.avail_out = (uInt)bound;
    if (deflate(&fo->zs, Z_FINISH) != Z_STREAM_END)
        return -1;
    fo->member.len = bound - fo->zs.avail_out;
    return 0;
}

static enum ola_rc ola_fsink_fail(struct ola_fsink *s, enum ola_rc rc, int e,
                                  const char *what)
{
    struct ola_output *o = s->o;
    int n = snprintf(o->last_error, sizeof(o->last_error), "%s: %s%s%s", s->path, what,
                     e ? ": " : "", e ? strerror(e) : "");

    if (n < 0 || (size_t)n >= sizeof(o->last_error))
        memcpy(o->last_error + sizeof(o->last_error) - 4, "...", 4);
    o->stats.errors++;
    if (!s->trouble)
        ola_plg_log(OLA_LOG_WARN, o, "%s%s", o->last_error,
                    e == ENOSPC || e == EDQUOT ? " (disk full; data kept, will retry)"
                                               : "");
    s->trouble = true;
    return rc;
}

enum ola_rc ola_fsink_flush(struct ola_fsink *s)
{
    struct ola_err err;
    const char *data;
    size_t len;
    uint64_t before;

    if (s->pending.len == 0) {
        ola_fsink_maybe_rotate(s);
        return OLA_OK;
    }
    if (s->fd < 0 && ola_fsink_open_file(s, &err) != 0) {
        snprintf(s->path, sizeof(s->path), "%s", s->pattern);
        return ola_fsink_fail(s, OLA_RETRY, 0, err.msg);
    }
    if (s->opts.gzip) {
        if (ola_fsink_deflate(s) != 0)
            return ola_fsink_fail(s, OLA_RETRY, ENOMEM, "deflate");
        data = s->fo->member.data;
        len = s->fo->member.len;
    } else {
        data = s->pending.data;
        len = s->pending.len;
    }
    before = s->size;
    if (ola_write_all(s->fd, data, len) != 0) {
        int e = errno;

        if (ftruncate(s->fd, (off_t)before) != 0)
            return ola_fsink_fail(s, OLA_FATAL, errno, "write failed and truncate too");
        return ola_fsink_fail(s, e == EBADF || e == EINVAL ? OLA_FATAL : OLA_RETRY, e,
                              "write");
    }
    if (s->opts.fsync && fdatasync(s->fd) != 0) {
        int e = errno;

        if (ftruncate(s->fd, (off_t)before) != 0)
            return ola_fsink_fail(s, OLA_FATAL, errno, "fsync failed and truncate too");
        return ola_fsink_fail(s, OLA_RETRY, e, "fsync");
    }
    s->size += len;
    (void)ola_sha256_run_add(&s->hash, data, len); /* durable now: part of the file */
    ola_fstats_add(&s->f, &s->p);
    s->o->stats.emitted += s->p.events;
    ola_fstats_init(&s->p);
    ola_buf_reset(&s->pending);
    if (s->trouble) {
        ola_plg_log(OLA_LOG_INFO, s->o, "%s: writing again", s->path);
        s->trouble = false;
    }
    ola_fsink_maybe_rotate(s);
    return OLA_OK;
}

void ola_fsink_trim(struct ola_fsink *s)
{
    if (s->pending.len > 0) /* not durable yet: the next flush needs it */
        return;
    ola_buf_free(&s->pending);
}
