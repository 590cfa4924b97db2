/*
 * manifest.c - manifests of closed files, their hash chain, the verifier.
 *
 * A manifest is a small JSON object written atomically beside its file.
 * Chaining uses the SHA-256 of the previous manifest's exact bytes, and a
 * per-stream sequence number fixes the order (wall clocks can step back, and
 * a rotated name may carry a ".1" suffix, so neither closed_at nor names are
 * a safe order). The verifier groups manifests by stream, sorts by seq and
 * walks each chain; the oldest manifest present may point to one that the
 * `keep` policy deleted, any later gap or mismatch is a break.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "agent/core/arena.h"
#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "outputs/manifest.h"

static void ola_hex(const unsigned char *md, unsigned n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned i;

    for (i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * n] = '\0';
}

static void ola_sha256_mem(const void *p, size_t n, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1)
        mdlen = 0;
    ola_hex(md, mdlen, hex);
}

int ola_sha256_fd(int fd, char *hex, uint64_t *bytes, struct ola_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char *chunk = malloc(1 << 16);
    off_t off = 0;
    int rc = -1;

    if (ctx == NULL || chunk == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        ola_err_set(err, EIO, "sha256: init failed");
        goto fail;
    }
    for (;;) {
        ssize_t r = pread(fd, chunk, 1 << 16, off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ola_err_set(err, errno, "read: %s", strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        if (EVP_DigestUpdate(ctx, chunk, (size_t)r) != 1) {
            ola_err_set(err, EIO, "sha256: update failed");
            goto fail;
        }
        off += r;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
        ola_err_set(err, EIO, "sha256: final failed");
        goto fail;
    }
    ola_hex(md, mdlen, hex);
    if (bytes != NULL)
        *bytes = (uint64_t)off;
    rc = 0;
fail:
    free(chunk);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int ola_sha256_run_begin(struct ola_sha256_run *h)
{
    h->bytes = 0;
    h->ctx = EVP_MD_CTX_new();
    if (h->ctx != NULL && EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1)
        return 0;
    ola_sha256_run_drop(h);
    return -1;
}

int ola_sha256_run_add(struct ola_sha256_run *h, const void *p, size_t n)
{
    if (h->ctx == NULL)
        return -1;
    if (EVP_DigestUpdate(h->ctx, p, n) != 1) {
        ola_sha256_run_drop(h);
        return -1;
    }
    h->bytes += n;
    return 0;
}

int ola_sha256_run_end(struct ola_sha256_run *h, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int rc = -1;

    if (h->ctx != NULL && EVP_DigestFinal_ex(h->ctx, md, &mdlen) == 1) {
        ola_hex(md, mdlen, hex);
        rc = 0;
    }
    ola_sha256_run_drop(h);
    return rc;
}

void ola_sha256_run_drop(struct ola_sha256_run *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

int ola_sha256_path(const char *path, char *hex, struct ola_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return ola_err_set(err, errno, "%s: %s", path, strerror(errno));
    rc = ola_sha256_fd(fd, hex, NULL, err);
    close(fd);
    if (rc != 0)
        return ola_err_prefix(err, "%s", path);
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), or JSON null for OLA_TIME_NONE. */
static json_t *ola_iso_json(int64_t ms)
{
    char buf[40];
    struct tm tm;
    time_t s;
    int64_t frac;
    size_t n;

    if (ms == OLA_TIME_NONE)
        return json_null();
    s = (time_t)(ms / 1000);
    frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        s--;
    }
    if (gmtime_r(&s, &tm) == NULL)
        return json_null();
    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)frac) != 5)
        return json_null();
    return json_string(buf);
}

int ola_manifest_time_parse(const char *s, int64_t *ms)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, used = 0;
    int64_t frac = 0, scale = 1000;
    const char *p;

    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) !=
            6 ||
        used == 0)
        return -1;
    p = s + used;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 && strcmp(p, "+0000") != 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *ms = (int64_t)timegm(&tm) * 1000 + frac;
    return 0;
}

static json_t *ola_id_json(int64_t id)
{
    return id != 0 ? json_integer(id) : json_null();
}

static json_t *ola_manifest_json(const struct ola_manifest *m)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    if (json_object_set_new(o, "file", json_string(m->file)) != 0 ||
        json_object_set_new(o, "stream", json_string(m->stream)) != 0 ||
        json_object_set_new(o, "seq", json_integer((json_int_t)m->seq)) != 0 ||
        json_object_set_new(o, "events", json_integer((json_int_t)m->events)) != 0 ||
        json_object_set_new(o, "bytes", json_integer((json_int_t)m->bytes)) != 0 ||
        json_object_set_new(o, "first_event_id", ola_id_json(m->first_id)) != 0 ||
        json_object_set_new(o, "last_event_id", ola_id_json(m->last_id)) != 0 ||
        json_object_set_new(o, "first_created_at", ola_iso_json(m->first_created_ms)) !=
            0 ||
        json_object_set_new(o, "last_created_at", ola_iso_json(m->last_created_ms)) !=
            0 ||
        json_object_set_new(o, "created_at", ola_iso_json(m->created_ms)) != 0 ||
        json_object_set_new(o, "closed_at", ola_iso_json(m->closed_ms)) != 0 ||
        json_object_set_new(o, "recovered", json_boolean(m->recovered)) != 0 ||
        json_object_set_new(o, "sha256", json_string(m->sha256)) != 0 ||
        json_object_set_new(o, "prev_manifest_sha256",
                            m->prev_sha256[0] ? json_string(m->prev_sha256)
                                              : json_null()) != 0 ||
        json_object_set_new(o, "version", json_integer(OLA_MANIFEST_VERSION)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int ola_manifest_write(const char *data_path, const struct ola_manifest *m,
                       char *manifest_sha, struct ola_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    json_t *o = ola_manifest_json(m);
    char *text = NULL;
    size_t len;
    int fd = -1, n, rc = -1;

    if (o == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    n = snprintf(path, sizeof(path), "%s%s", data_path, OLA_MANIFEST_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        ola_err_set(err, ENAMETOOLONG, "%s: manifest path too long", data_path);
        goto fail;
    }
    n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        ola_err_set(err, ENAMETOOLONG, "%s: manifest path too long", data_path);
        goto fail;
    }
    text = ola_json_dumps(o, JSON_COMPACT);
    if (text == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    len = strlen(text);
    text[len] = '\0';
    /* O_NOFOLLOW: a symlink planted at the temp name cannot redirect the write */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0 && errno == ELOOP) {
        ola_err_set(err, errno, "%s: is a symbolic link; not written through", tmp);
        goto fail;
    }
    if (fd < 0) {
        ola_err_set(err, errno, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (ola_write_all(fd, text, len) != 0 || ola_write_all(fd, "\n", 1) != 0 ||
        fsync(fd) != 0) {
        ola_err_set(err, errno, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        ola_err_set(err, errno, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        ola_err_set(err, errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (ola_fsync_dir_of(path) != 0) {
        ola_err_set(err, errno, "%s: directory fsync: %s", path, strerror(errno));
        goto fail;
    }
    if (manifest_sha != NULL) {
        text[len] = '\n';
        ola_sha256_mem(text, len + 1, manifest_sha);
    }
    rc = 0;
fail:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    } else if (rc != 0) {
        unlink(tmp);
    }
    free(text);
    json_decref(o);
    return rc;
}

/* A manifest is a few hundred bytes: anything this large is not one. */
#define OLA_MANIFEST_MAX_BYTES (1u << 24)

static int ola_get_time(json_t *o, const char *key, int64_t *ms)
{
    json_t *v = json_object_get(o, key);

    if (json_is_null(v)) {
        *ms = OLA_TIME_NONE;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    return ola_manifest_time_parse(json_string_value(v), ms);
}

static int ola_get_str(json_t *o, const char *key, char *out, size_t n, bool nullable)
{
    json_t *v = json_object_get(o, key);

    if (nullable && json_is_null(v)) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= n)
        return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int ola_get_int(json_t *o, const char *key, int64_t *out, bool nullable)
{
    json_t *v = json_object_get(o, key);

    if (nullable && json_is_null(v)) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return 0;
}

int ola_manifest_read(const char *path, struct ola_manifest *m, char *manifest_sha,
                      struct ola_err *err)
{
    json_error_t jerr;
    json_t *o = NULL, *v;
    size_t len = 0;
    char *text = NULL;
    int64_t seq, events, bytes, version;
    int rc = -1;

    if (ola_read_file(path, OLA_MANIFEST_MAX_BYTES, &text, &len) != 0)
        return ola_err_set(err, errno, "%s: %s", path,
                           errno == EFBIG || errno == ENOMEM
                               ? "too large or out of memory"
                               : strerror(errno));
    memset(m, 0, sizeof(*m));
    o = json_loadb(text, len, 0, &jerr);
    if (o == NULL || !json_is_object(o)) {
        ola_err_set(err, EINVAL, "%s: not a JSON object (%s)", path,
                    o == NULL ? jerr.text : "wrong type");
        goto fail;
    }
    if (ola_get_int(o, "version", &version, false) != 0 ||
        version != OLA_MANIFEST_VERSION ||
        ola_get_str(o, "file", m->file, sizeof(m->file), false) != 0 ||
        strchr(m->file, '/') != NULL ||
        ola_get_str(o, "stream", m->stream, sizeof(m->stream), false) != 0 ||
        ola_get_int(o, "seq", &seq, false) != 0 || seq < 1 ||
        ola_get_int(o, "events", &events, false) != 0 || events < 0 ||
        ola_get_int(o, "bytes", &bytes, false) != 0 || bytes < 0 ||
        ola_get_int(o, "first_event_id", &m->first_id, true) != 0 ||
        ola_get_int(o, "last_event_id", &m->last_id, true) != 0 ||
        ola_get_time(o, "first_created_at", &m->first_created_ms) != 0 ||
        ola_get_time(o, "last_created_at", &m->last_created_ms) != 0 ||
        ola_get_time(o, "created_at", &m->created_ms) != 0 ||
        ola_get_time(o, "closed_at", &m->closed_ms) != 0 ||
        ola_get_str(o, "sha256", m->sha256, sizeof(m->sha256), false) != 0 ||
        strlen(m->sha256) != 64 ||
        ola_get_str(o, "prev_manifest_sha256", m->prev_sha256, sizeof(m->prev_sha256),
                    true) != 0) {
        ola_err_set(err, EINVAL, "%s: malformed manifest", path);
        goto fail;
    }
    v = json_object_get(o, "recovered");
    m->recovered = json_is_true(v);
    m->seq = (uint64_t)seq;
    m->events = (uint64_t)events;
    m->bytes = (uint64_t)bytes;
    if (manifest_sha != NULL)
        ola_sha256_mem(text, len, manifest_sha);
    rc = 0;
fail:
    json_decref(o);
    free(text);
    return rc;
}

static int ola_walk_rec(char *path, size_t plen, size_t cap, int depth,
                        int (*cb)(const char *, const struct stat *, void *,
                                  struct ola_err *),
                        void *arg, struct ola_err *err)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int rc = 0;

    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        return ola_err_set(err, errno, "%s: %s", path, strerror(errno));
    }
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        struct stat st;
        size_t nlen = strlen(de->d_name);

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (plen + 1 + nlen + 1 > cap)
            continue; /* cannot name it; nothing of ours is that long */
        path[plen] = '/';
        memcpy(path + plen + 1, de->d_name, nlen + 1);
        if (lstat(path, &st) != 0) {
            path[plen] = '\0';
            continue; /* deleted meanwhile */
        }
        if (S_ISREG(st.st_mode))
            rc = cb(path, &st, arg, err);
        else if (S_ISDIR(st.st_mode) && depth > 0)
            rc = ola_walk_rec(path, plen + 1 + nlen, cap, depth - 1, cb, arg, err);
        path[plen] = '\0';
    }
    if (rc == 0 && de == NULL && errno != 0)
        rc = ola_err_set(err, errno, "%s: %s", path, strerror(errno));
    closedir(d);
    return rc;
}

int ola_dir_walk(const char *root, int max_depth,
                 int (*cb)(const char *path, const struct stat *st, void *arg,
                           struct ola_err *err),
                 void *arg, struct ola_err *err)
{
    char path[PATH_MAX];
    size_t n = strlen(root);

    if (n + 1 > sizeof(path))
        return ola_err_set(err, ENAMETOOLONG, "%s: path too long", root);
    memcpy(path, root, n + 1);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    return ola_walk_rec(path, n, sizeof(path), max_depth, cb, arg, err);
}

/* ---- verification ------------------------------------------------------ */

struct ola_vitem {
    char path[PATH_MAX]; /* the manifest */
    struct ola_manifest m;
    char msha[OLA_SHA256_HEX];
    bool bad; /* unreadable: reported, not chained */
    char why[OLA_ERR_MSG_MAX];
};

struct ola_vlist {
    struct ola_vitem *v;
    size_t n, cap;
};

static bool ola_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static int ola_verify_collect(const char *path, const struct stat *st, void *arg,
                              struct ola_err *err)
{
    struct ola_vlist *l = arg;
    struct ola_vitem *it;
    struct ola_err merr;

    (void)st;
    if (!ola_ends_with(path, OLA_MANIFEST_SUFFIX))
        return 0;
    if (OLA_VEC_GROW_FROM(l->v, l->cap, l->n + 1, 64) != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
    it = &l->v[l->n++];
    memset(it, 0, sizeof(*it));
    snprintf(it->path, sizeof(it->path), "%s", path);
    if (ola_manifest_read(path, &it->m, it->msha, &merr) != 0) {
        it->bad = true;
        snprintf(it->why, sizeof(it->why), "%s", merr.msg);
    }
    return 0;
}

static int ola_vitem_cmp(const void *a, const void *b)
{
    const struct ola_vitem *x = a, *y = b;
    int c;

    if (x->bad != y->bad)
        return x->bad ? -1 : 1; /* broken manifests first: they are the news */
    c = strcmp(x->m.stream, y->m.stream);
    if (c != 0)
        return c;
    if (x->m.seq != y->m.seq)
        return x->m.seq < y->m.seq ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Checks the data file of one manifest. Returns 0 / -1 with why. */
static int ola_verify_file(const struct ola_vitem *it, char *why, size_t n)
{
    char data[PATH_MAX], sha[OLA_SHA256_HEX];
    size_t plen = strlen(it->path) - strlen(OLA_MANIFEST_SUFFIX);
    const char *slash;
    size_t dlen;
    struct ola_err ferr;
    struct stat st;

    /* The manifest names its file by base name, beside the manifest. */
    slash = strrchr(it->path, '/');
    dlen = slash != NULL ? (size_t)(slash - it->path) + 1 : 0;
    if (plen - dlen != strlen(it->m.file) ||
        memcmp(it->path + dlen, it->m.file, plen - dlen) != 0) {
        snprintf(why, n, "manifest names file '%s', not its neighbour", it->m.file);
        return -1;
    }
    if (plen >= sizeof(data)) {
        snprintf(why, n, "path too long");
        return -1;
    }
    memcpy(data, it->path, plen);
    data[plen] = '\0';
    if (stat(data, &st) != 0) {
        snprintf(why, n, "%s: %s", data, strerror(errno));
        return -1;
    }
    if (ola_sha256_path(data, sha, &ferr) != 0) {
        snprintf(why, n, "%s", ferr.msg);
        return -1;
    }
    if (strcmp(sha, it->m.sha256) != 0) {
        snprintf(why, n, "%s: sha256 %s, manifest says %s", data, sha, it->m.sha256);
        return -1;
    }
    if ((uint64_t)st.st_size != it->m.bytes) {
        snprintf(why, n, "%s: %lld bytes, manifest says %llu", data,
                 (long long)st.st_size, (unsigned long long)it->m.bytes);
        return -1;
    }
    return 0;
}

int ola_manifest_verify_dir(const char *dir, FILE *report, struct ola_err *err)
{
    struct ola_vlist l = {NULL, 0, 0};
    size_t i, chains = 0, breaks = 0;
    char why[OLA_ERR_MSG_MAX + PATH_MAX];
    struct stat st;
    int rc = -1;

    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ola_err_set(err, ENOTDIR, "%s: not a directory", dir);
    if (ola_dir_walk(dir, 64, ola_verify_collect, &l, err) != 0)
        goto fail;
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), ola_vitem_cmp);
    for (i = 0; i < l.n; i++) {
        const struct ola_vitem *it = &l.v[i];
        const struct ola_vitem *prev = NULL;
        bool ok = true;

        if (it->bad) {
            snprintf(why, sizeof(why), "%s", it->why);
            ok = false;
        } else {
            if (i > 0 && !l.v[i - 1].bad &&
                strcmp(l.v[i - 1].m.stream, it->m.stream) == 0)
                prev = &l.v[i - 1];
            if (prev == NULL)
                chains++;
            if (ola_verify_file(it, why, sizeof(why)) != 0) {
                ok = false;
            } else if (prev != NULL && it->m.seq != prev->m.seq + 1) {
                snprintf(why, sizeof(why),
                         "chain gap: seq %llu follows seq %llu (%s) in stream '%s'",
                         (unsigned long long)it->m.seq, (unsigned long long)prev->m.seq,
                         prev->path, it->m.stream);
                ok = false;
            } else if (prev != NULL && strcmp(it->m.prev_sha256, prev->msha) != 0) {
                snprintf(why, sizeof(why),
                         "chain break: prev_manifest_sha256 %s, but %s hashes to %s",
                         it->m.prev_sha256[0] ? it->m.prev_sha256 : "null", prev->path,
                         prev->msha);
                ok = false;
            } else if (prev == NULL && it->m.seq == 1 && it->m.prev_sha256[0] != '\0') {
                snprintf(why, sizeof(why), "first manifest of stream '%s' has a prev",
                         it->m.stream);
                ok = false;
            }
        }
        if (!ok) {
            if (report != NULL)
                fprintf(report, "BREAK %s: %s\n", it->path, why);
            if (breaks++ == 0)
                ola_err_set(err, EBADMSG, "%s: %s", it->path, why);
            continue;
        }
        if (report != NULL)
            fprintf(report, "ok    %s (stream %s, seq %llu, %llu events%s)\n", it->path,
                    it->m.stream, (unsigned long long)it->m.seq,
                    (unsigned long long)it->m.events,
                    prev == NULL && it->m.seq > 1 ? ", earlier manifests pruned" : "");
    }
    if (report != NULL)
        fprintf(report, "%zu manifests, %zu streams, %zu breaks\n", l.n, chains, breaks);
    if (breaks == 0)
        rc = 0;
fail:
    free(l.v);
    return rc;
}
