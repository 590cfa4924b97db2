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
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "agent/core/fileio.h"
#include "outputs/file_sink.h"
#include "outputs/manifest.h"

struct ola_fstats {
    uint64_t events;
    int64_t first_id, last_id; /* 0: none */
    int64_t first_ms, last_ms; /* OLA_TIME_NONE: none */
};

struct ola_fsink {
    struct ola_file_opts opts;
    char *pattern;           /* owned copy of opts.path, "./" added if relative */
    char root[PATH_MAX];     /* literal directory above the first conversion */
    int depth;               /* directory levels between root and the files */
    char glob[PATH_MAX];     /* the pattern as an fnmatch glob */
    char glob_dup[PATH_MAX]; /* the same with ".*" before the extension */
    z_stream zs;
    bool zs_ready;
    struct ola_buf pending; /* formatted records not yet durable */
    struct ola_buf member;  /* the compressed member of one flush */
    struct ola_fstats p;    /* what pending holds */
    int fd;                 /* the open file, or -1 */
    char path[PATH_MAX];
    uint64_t size;
    int64_t opened_ms;
    struct ola_fstats f; /* what the open file holds */
    uint64_t seq;        /* seq of the last manifest of the chain */
    char prev_sha[OLA_SHA256_HEX];
    struct ola_sha256_run hash; /* of the open file's durable bytes */
    bool trouble;               /* the last flush failed: log the recovery */
    bool rotate_failed;
};

static int64_t ola_real_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ola_fsink_now(const struct ola_fsink *s)
{
    return s->opts.now_ms != NULL ? s->opts.now_ms() : ola_real_now_ms();
}

static void ola_fstats_init(struct ola_fstats *st)
{
    memset(st, 0, sizeof(*st));
    st->first_ms = OLA_TIME_NONE;
    st->last_ms = OLA_TIME_NONE;
}

static void ola_fstats_note(struct ola_fstats *st, int64_t id, int64_t created_ms)
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

static void ola_fstats_add(struct ola_fstats *dst, const struct ola_fstats *src)
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

/* Index of the extension in the last component of p (its first '.', not at 0). */
static size_t ola_ext_at(const char *p)
{
    const char *base = strrchr(p, '/');
    const char *dot;

    base = base != NULL ? base + 1 : p;
    dot = strchr(base + (*base == '.' ? 1 : 0), '.');
    return dot != NULL ? (size_t)(dot - p) : strlen(p);
}

/* Translates the strftime pattern into root, depth and the two globs. */
static int ola_pattern_compile(struct ola_fsink *s, struct ola_err *err)
{
    const char *p = s->pattern, *conv = strchr(p, '%'), *slash = NULL, *q;
    size_t g = 0, at, n;

    for (q = p; *q != '\0' && (conv == NULL || q < conv); q++)
        if (*q == '/')
            slash = q;
    if (slash == NULL || strrchr(p, '/')[1] == '\0')
        return ola_err_set(err, EINVAL, "path: '%s' names no file", p);
    n = slash == p ? 1 : (size_t)(slash - p);
    if (n >= sizeof(s->root))
        return ola_err_set(err, ENAMETOOLONG, "path: too long");
    memcpy(s->root, p, n);
    s->root[n] = '\0';
    s->depth = 0;
    for (q = slash + 1; *q != '\0'; q++)
        if (*q == '/')
            s->depth++;
    for (q = p; *q != '\0'; q++) {
        if (g + 3 >= sizeof(s->glob))
            return ola_err_set(err, ENAMETOOLONG, "path: too long");
        if (*q == '%') {
            q++;
            if (*q == 'E' || *q == 'O')
                q++;
            if (*q == '\0')
                return ola_err_set(err, EINVAL, "path: '%s' ends in '%%'", p);
            if (*q == '%') {
                s->glob[g++] = '%';
            } else if (strchr("Dxc", *q) != NULL) {
                return ola_err_set(err, EINVAL, "path: %%%c may contain '/' or spaces",
                                   *q);
            } else if (g == 0 || s->glob[g - 1] != '*') {
                s->glob[g++] = '*';
            }
            continue;
        }
        if (strchr("*?[\\", *q) != NULL)
            s->glob[g++] = '\\';
        s->glob[g++] = *q;
    }
    s->glob[g] = '\0';
    at = ola_ext_at(s->glob);
    if (g + 3 >= sizeof(s->glob_dup))
        return ola_err_set(err, ENAMETOOLONG, "path: too long");
    memcpy(s->glob_dup, s->glob, at);
    memcpy(s->glob_dup + at, ".*", 2);
    memcpy(s->glob_dup + at + 2, s->glob + at, g - at + 1);
    return 0;
}

static bool ola_fsink_owns(const struct ola_fsink *s, const char *path)
{
    return fnmatch(s->glob, path, FNM_PATHNAME) == 0 ||
           fnmatch(s->glob_dup, path, FNM_PATHNAME) == 0;
}

static bool ola_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* Creates the directories above path, fsyncing the parent of each new one. */
static int ola_mkdir_parents(const char *path, struct ola_err *err)
{
    char dir[PATH_MAX];
    size_t i, n = strlen(path);

    if (n >= sizeof(dir))
        return ola_err_set(err, ENAMETOOLONG, "%s: path too long", path);
    memcpy(dir, path, n + 1);
    for (i = 1; i < n; i++) {
        if (dir[i] != '/')
            continue;
        dir[i] = '\0';
        if (mkdir(dir, 0750) == 0) {
            if (ola_fsync_dir_of(dir) != 0)
                return ola_err_set(err, errno, "%s: fsync: %s", dir, strerror(errno));
        } else if (errno != EEXIST) {
            return ola_err_set(err, errno, "%s: %s", dir, strerror(errno));
        }
        dir[i] = '/';
    }
    return 0;
}

/* ---- opening and closing files ----------------------------------------- */

static int ola_fsink_open_file(struct ola_output *o, struct ola_err *err)
{
    struct ola_fsink *s = o->ctx;
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
    ola_plg_log(OLA_LOG_INFO, o, "opened %s", s->path);
    return 0;
}

/* Fills the counting part of a manifest from stats. */
static void ola_manifest_fill(struct ola_manifest *m, const char *path,
                              const char *stream, const struct ola_fstats *st)
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
static int ola_fsink_chain(struct ola_fsink *s, const char *path, struct ola_manifest *m,
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
static int ola_fsink_close_file(struct ola_output *o, const char *why,
                                struct ola_err *err)
{
    struct ola_fsink *s = o->ctx;
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
        ola_manifest_fill(&m, s->path, o->name, &s->f);
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

/* ---- the keep policy ---------------------------------------------------- */

struct ola_owned {
    char *path;
    int64_t mtime_ms;
    bool manifest; /* a manifest exists beside it */
};

struct ola_scan {
    const struct ola_fsink *s;
    struct ola_owned *v;
    size_t n, cap;
    uint64_t tail_seq; /* the newest manifest (highest seq) */
    char tail_sha[OLA_SHA256_HEX];
};

static int ola_scan_cb(const char *path, const struct stat *st, void *arg,
                       struct ola_err *err)
{
    struct ola_scan *sc = arg;
    char data[PATH_MAX], msha[OLA_SHA256_HEX];
    struct ola_manifest m;
    struct ola_err merr;
    struct ola_owned *it;
    size_t n = strlen(path);

    if (ola_has_suffix(path, OLA_MANIFEST_SUFFIX)) {
        n -= strlen(OLA_MANIFEST_SUFFIX);
        if (n >= sizeof(data))
            return 0;
        memcpy(data, path, n);
        data[n] = '\0';
        if (!ola_fsink_owns(sc->s, data))
            return 0;
        if (ola_manifest_read(path, &m, msha, &merr) != 0)
            return 0; /* the verifier reports it; it does not lead the chain */
        if (m.seq > sc->tail_seq) {
            sc->tail_seq = m.seq;
            memcpy(sc->tail_sha, msha, sizeof(sc->tail_sha));
        }
        return 0;
    }
    if (!ola_fsink_owns(sc->s, path) ||
        (sc->s->fd >= 0 && strcmp(path, sc->s->path) == 0))
        return 0;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 32;
        struct ola_owned *v = realloc(sc->v, cap * sizeof(*v));

        if (v == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
        sc->v = v;
        sc->cap = cap;
    }
    it = &sc->v[sc->n];
    if (n + sizeof(OLA_MANIFEST_SUFFIX) > PATH_MAX)
        return 0;
    it->path = strdup(path);
    if (it->path == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    it->mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
    memcpy(data, path, n);
    memcpy(data + n, OLA_MANIFEST_SUFFIX, sizeof(OLA_MANIFEST_SUFFIX));
    it->manifest = access(data, F_OK) == 0;
    sc->n++;
    return 0;
}

static void ola_scan_free(struct ola_scan *sc)
{
    size_t i;

    for (i = 0; i < sc->n; i++)
        free(sc->v[i].path);
    free(sc->v);
    sc->v = NULL;
    sc->n = sc->cap = 0;
}

static int ola_owned_by_name(const void *a, const void *b)
{
    return strcmp(((const struct ola_owned *)a)->path,
                  ((const struct ola_owned *)b)->path);
}

static int ola_owned_by_age(const void *a, const void *b)
{
    const struct ola_owned *x = a, *y = b;

    if (x->mtime_ms != y->mtime_ms)
        return x->mtime_ms < y->mtime_ms ? -1 : 1;
    return strcmp(x->path, y->path);
}

static int ola_fsink_scan(struct ola_fsink *s, struct ola_scan *sc, struct ola_err *err)
{
    memset(sc, 0, sizeof(*sc));
    sc->s = s;
    if (ola_dir_walk(s->root, s->depth, ola_scan_cb, sc, err) != 0) {
        ola_scan_free(sc);
        return -1;
    }
    return 0;
}

/* Deletes closed files (and manifests) beyond keep.files / keep.days. */
static void ola_fsink_keep(struct ola_output *o)
{
    struct ola_fsink *s = o->ctx;
    struct ola_scan sc;
    struct ola_err err;
    size_t i, closed = 0, seen = 0;
    int64_t cutoff = ola_fsink_now(s) - s->opts.keep_days * 86400000LL;

    if (s->opts.keep_files <= 0 && s->opts.keep_days <= 0)
        return;
    if (ola_fsink_scan(s, &sc, &err) != 0) {
        ola_plg_log(OLA_LOG_WARN, o, "keep: %s", err.msg);
        return;
    }
    if (sc.n > 1)
        qsort(sc.v, sc.n, sizeof(*sc.v), ola_owned_by_age);
    for (i = 0; i < sc.n; i++)
        if (sc.v[i].manifest || !s->opts.manifest)
            closed++;
    for (i = 0; i < sc.n; i++) {
        const struct ola_owned *it = &sc.v[i];
        char man[PATH_MAX];
        bool old;

        if (!it->manifest && s->opts.manifest)
            continue; /* not closed by us: never ours to delete */
        seen++;
        old =
            (s->opts.keep_files > 0 && closed - seen + 1 > (size_t)s->opts.keep_files) ||
            (s->opts.keep_days > 0 && it->mtime_ms < cutoff);
        if (!old)
            continue;
        if (unlink(it->path) != 0 && errno != ENOENT) {
            ola_plg_log(OLA_LOG_WARN, o, "keep: cannot delete %s: %s", it->path,
                        strerror(errno));
            continue;
        }
        if (snprintf(man, sizeof(man), "%s%s", it->path, OLA_MANIFEST_SUFFIX) <
            (int)sizeof(man))
            unlink(man);
        ola_fsync_dir_of(it->path);
        ola_plg_log(OLA_LOG_INFO, o, "keep: deleted %s", it->path);
    }
    ola_scan_free(&sc);
}

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
static int ola_fsink_startup(struct ola_output *o, struct ola_err *err)
{
    struct ola_fsink *s = o->ctx;
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
            snprintf(m.stream, sizeof(m.stream), "%s", o->name);
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
        ola_fsink_keep(o);
    return rc;
}

/* ---- the ops ------------------------------------------------------------ */

int ola_file_sink_open(struct ola_output *o, const struct ola_file_opts *opts,
                       struct ola_err *err)
{
    struct ola_fsink *s = calloc(1, sizeof(*s));
    size_t n;

    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = s;
    s->fd = -1;
    s->opts = *opts;
    if (opts->path == NULL || opts->path[0] == '\0')
        return ola_err_set(err, EINVAL, "path: required");
    if (opts->level < 1 || opts->level > 9)
        return ola_err_set(err, EINVAL, "level: %d is not 1..9", opts->level);
    n = strlen(opts->path);
    s->pattern = malloc(n + 3);
    if (s->pattern == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    snprintf(s->pattern, n + 3, "%s%s", strchr(opts->path, '/') != NULL ? "" : "./",
             opts->path);
    s->opts.path = s->pattern;
    if (ola_pattern_compile(s, err) != 0)
        return -1;
    if (s->opts.gzip) {
        if (deflateInit2(&s->zs, s->opts.level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK)
            return ola_err_set(err, ENOMEM, "deflateInit2 failed");
        s->zs_ready = true;
    }
    ola_fstats_init(&s->p);
    ola_fstats_init(&s->f);
    return ola_fsink_startup(o, err);
}

enum ola_rc ola_file_sink_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_fsink *s = o->ctx;
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

/* Compresses pending into one gzip member in s->member. Returns 0 / -1. */
static int ola_fsink_deflate(struct ola_fsink *s)
{
    uLong bound;

    if (s->pending.len > UINT_MAX / 2 || deflateReset(&s->zs) != Z_OK)
        return -1;
    bound = deflateBound(&s->zs, (uLong)s->pending.len);
    s->member.len = 0;
    if (ola_buf_reserve(&s->member, bound) != 0)
        return -1;
    s->zs.next_in = (Bytef *)s->pending.data;
    s->zs.avail_in = (uInt)s->pending.len;
    s->zs.next_out = (Bytef *)s->member.data;
    s->zs.avail_out = (uInt)bound;
    if (deflate(&s->zs, Z_FINISH) != Z_STREAM_END)
        return -1;
    s->member.len = bound - s->zs.avail_out;
    return 0;
}

static enum ola_rc ola_fsink_fail(struct ola_output *o, enum ola_rc rc, int e,
                                  const char *what)
{
    struct ola_fsink *s = o->ctx;
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

/* Rotates when the open file is due (size or age); failures keep it open. */
static void ola_fsink_maybe_rotate(struct ola_output *o)
{
    struct ola_fsink *s = o->ctx;
    struct ola_err err;
    const char *why = NULL;

    if (s->fd < 0 || s->f.events == 0)
        return;
    if (s->opts.rotate_size > 0 && s->size >= s->opts.rotate_size)
        why = "size";
    else if (s->opts.rotate_age_ms > 0 &&
             ola_fsink_now(s) - s->opened_ms >= s->opts.rotate_age_ms)
        why = "age";
    if (why == NULL)
        return;
    if (ola_fsink_close_file(o, why, &err) != 0) {
        if (!s->rotate_failed)
            ola_plg_log(OLA_LOG_WARN, o, "cannot rotate %s, writing on: %s", s->path,
                        err.msg);
        s->rotate_failed = true;
        return;
    }
    if (s->rotate_failed)
        ola_plg_log(OLA_LOG_INFO, o, "rotation works again");
    s->rotate_failed = false;
    ola_fsink_keep(o);
}

enum ola_rc ola_file_sink_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_fsink *s = o->ctx;
    struct ola_err err;
    const char *data;
    size_t len;
    uint64_t before;

    (void)timeout_ms;
    if (s->pending.len == 0) {
        ola_fsink_maybe_rotate(o);
        return OLA_OK;
    }
    if (s->fd < 0 && ola_fsink_open_file(o, &err) != 0) {
        snprintf(s->path, sizeof(s->path), "%s", s->pattern);
        return ola_fsink_fail(o, OLA_RETRY, 0, err.msg);
    }
    if (s->opts.gzip) {
        if (ola_fsink_deflate(s) != 0)
            return ola_fsink_fail(o, OLA_RETRY, ENOMEM, "deflate");
        data = s->member.data;
        len = s->member.len;
    } else {
        data = s->pending.data;
        len = s->pending.len;
    }
    before = s->size;
    if (ola_write_all(s->fd, data, len) != 0) {
        int e = errno;

        if (ftruncate(s->fd, (off_t)before) != 0)
            return ola_fsink_fail(o, OLA_FATAL, errno, "write failed and truncate too");
        return ola_fsink_fail(o, e == EBADF || e == EINVAL ? OLA_FATAL : OLA_RETRY, e,
                              "write");
    }
    if (s->opts.fsync && fdatasync(s->fd) != 0) {
        int e = errno;

        if (ftruncate(s->fd, (off_t)before) != 0)
            return ola_fsink_fail(o, OLA_FATAL, errno, "fsync failed and truncate too");
        return ola_fsink_fail(o, OLA_RETRY, e, "fsync");
    }
    s->size += len;
    (void)ola_sha256_run_add(&s->hash, data, len); /* durable now: part of the file */
    ola_fstats_add(&s->f, &s->p);
    o->stats.emitted += s->p.events;
    ola_fstats_init(&s->p);
    ola_buf_reset(&s->pending);
    if (s->trouble) {
        ola_plg_log(OLA_LOG_INFO, o, "%s: writing again", s->path);
        s->trouble = false;
    }
    ola_fsink_maybe_rotate(o);
    return OLA_OK;
}

void ola_file_sink_trim(struct ola_output *o)
{
    struct ola_fsink *s = o->ctx;

    if (s->pending.len > 0) /* not durable yet: the next flush needs it */
        return;
    ola_buf_free(&s->pending);
    ola_buf_free(&s->member);
}

int ola_file_sink_reopen(struct ola_output *o, struct ola_err *err)
{
    struct ola_fsink *s = o->ctx;

    if (s == NULL || s->fd < 0)
        return 0;
    if (ola_fsink_close_file(o, "reopen", err) != 0)
        return -1;
    ola_fsink_keep(o);
    return 0;
}

void ola_file_sink_close(struct ola_output *o)
{
    struct ola_fsink *s = o->ctx;
    struct ola_err err;

    if (s == NULL)
        return;
    if (s->fd >= 0 && ola_fsink_close_file(o, "shutdown", &err) != 0) {
        ola_plg_log(OLA_LOG_ERR, o, "%s left without manifest (closed at next start): %s",
                    s->path, err.msg);
        close(s->fd);
    }
    ola_sha256_run_drop(&s->hash);
    if (s->zs_ready)
        deflateEnd(&s->zs);
    ola_buf_free(&s->pending);
    ola_buf_free(&s->member);
    free(s->pattern);
    free(s);
    o->ctx = NULL;
}

const char *ola_file_sink_current(const struct ola_output *o)
{
    const struct ola_fsink *s = o->ctx;

    return s != NULL && s->fd >= 0 ? s->path : NULL;
}
