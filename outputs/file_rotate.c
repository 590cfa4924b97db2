/*
 * file_rotate.c - which files are the file output's, and when they go.
 *
 * The path pattern (strftime, UTC) becomes a literal root directory, a
 * depth and two fnmatch globs (the name, and the name with ".N" before its
 * extension for a second file in the same second), so a walk of the root
 * finds every file the sink wrote and nothing else. Rotation closes the open
 * file between members once it is due by size or age; the keep policy then
 * deletes the oldest closed files (and their manifests) beyond keep.files or
 * keep.days, never a file without a manifest (not closed by us).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "outputs/file_sink_priv.h"

/* Index of the extension in the last component of p (its first '.', not at 0). */
size_t ola_ext_at(const char *p)
{
    const char *base = strrchr(p, '/');
    const char *dot;

    base = base != NULL ? base + 1 : p;
    dot = strchr(base + (*base == '.' ? 1 : 0), '.');
    return dot != NULL ? (size_t)(dot - p) : strlen(p);
}

/* Translates the strftime pattern into root, depth and the two globs. */
int ola_pattern_compile(struct ola_fsink *s, struct ola_err *err)
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
int ola_mkdir_parents(const char *path, struct ola_err *err)
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

/* ---- the keep policy ---------------------------------------------------- */

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
    if (OLA_VEC_GROW_FROM(sc->v, sc->cap, sc->n + 1, 32) != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
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

void ola_scan_free(struct ola_scan *sc)
{
    size_t i;

    for (i = 0; i < sc->n; i++)
        free(sc->v[i].path);
    free(sc->v);
    sc->v = NULL;
    sc->n = sc->cap = 0;
}

int ola_owned_by_name(const void *a, const void *b)
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

int ola_fsink_scan(struct ola_fsink *s, struct ola_scan *sc, struct ola_err *err)
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
void ola_fsink_keep(struct ola_fsink *s)
{
    struct ola_output *o = s->o;
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

/* Rotates when the open file is due (size or age); failures keep it open. */
void ola_fsink_maybe_rotate(struct ola_fsink *s)
{
    struct ola_output *o = s->o;
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
    if (ola_fsink_close_file(s, why, &err) != 0) {
        if (!s->rotate_failed)
            ola_plg_log(OLA_LOG_WARN, o, "cannot rotate %s, writing on: %s", s->path,
                        err.msg);
        s->rotate_failed = true;
        return;
    }
    if (s->rotate_failed)
        ola_plg_log(OLA_LOG_INFO, o, "rotation works again");
    s->rotate_failed = false;
    ola_fsink_keep(s);
}
