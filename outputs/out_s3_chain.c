/*
 * out_s3_chain.c - the s3 output's manifest chains (out_s3.h).
 *
 * Each stored object gets a manifest in the file output's format
 * (manifest.c), written to DIR/KEY.manifest.json: the manifest tree mirrors
 * the bucket, so a copy of it laid over a download of the bucket is a tree
 * `olagent verify` checks like the file output's. The chain of a stream goes
 * on across restarts through a small head file per stream
 * (DIR/chain.STREAM.json), written atomically *before* the manifest it names:
 * it holds the new manifest's seq, its path and the SHA-256 of the manifest
 * before it. At load, a head whose manifest exists continues from that
 * manifest; one whose manifest is missing (a crash between the two writes)
 * continues from the one before, so a crash never leaves two manifests with
 * one seq or a gap. An object sent again after a crash (the same records, so
 * the same key) finds its manifest and keeps it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/core/arena.h"
#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "outputs/out_s3.h"

struct ola_s3_head {
    char stream[OLA_MANIFEST_STREAM];
    uint64_t seq;              /* the newest manifest's, 0: none yet */
    char msha[OLA_SHA256_HEX]; /* its SHA-256, "" when none */
};

struct ola_s3_chains {
    char *dir;
    struct ola_s3_head *h;
    size_t n, cap;
};

struct ola_s3_chains *ola_s3_chains_new(const char *dir)
{
    struct ola_s3_chains *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->dir = strdup(dir);
    if (c->dir == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void ola_s3_chains_destroy(struct ola_s3_chains *c)
{
    if (c == NULL)
        return;
    free(c->h);
    free(c->dir);
    free(c);
}

/* DIR/chain.STREAM.json ('/' in the stream as '+', other odd bytes as '_'). */
static int ola_s3_head_path(const struct ola_s3_chains *c, const char *stream, char *out,
                            size_t n)
{
    char safe[OLA_MANIFEST_STREAM];
    size_t i;
    int w;

    for (i = 0; stream[i] != '\0' && i + 1 < sizeof(safe); i++) {
        char ch = stream[i];

        safe[i] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'
                      ? ch
                  : ch == '/' ? '+'
                              : '_';
    }
    safe[i] = '\0';
    w = snprintf(out, n, "%s/chain.%s.json", c->dir, safe);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* Reads the head of stream from its file into h (a fresh chain when none). */
static int ola_s3_head_load(const struct ola_s3_chains *c, struct ola_s3_head *h,
                            struct ola_err *err)
{
    char path[PATH_MAX], mpath[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    json_t *o = NULL;
    const char *rel, *prev;
    json_int_t seq;
    struct ola_manifest m;
    int rc = -1;

    h->seq = 0;
    h->msha[0] = '\0';
    if (ola_s3_head_path(c, h->stream, path, sizeof(path)) != 0)
        return ola_err_set(err, ENAMETOOLONG, "%s: manifest directory path too long",
                           c->dir);
    if (ola_read_file(path, 1u << 16, &text, &len) != 0) {
        if (errno == ENOENT)
            return 0;
        return ola_err_set(err, errno, "%s: %s", path, strerror(errno));
    }
    o = json_loadb(text, len, 0, NULL);
    rel = json_string_value(json_object_get(o, "manifest"));
    prev = json_string_value(json_object_get(o, "prev_manifest_sha256"));
    seq = json_integer_value(json_object_get(o, "seq"));
    if (rel == NULL || seq < 1 || (prev != NULL && strlen(prev) != 64) ||
        (prev == NULL && !json_is_null(json_object_get(o, "prev_manifest_sha256"))) ||
        ola_s3_key_bad(rel, false) != NULL ||
        snprintf(mpath, sizeof(mpath), "%s/%s", c->dir, rel) >= (int)sizeof(mpath)) {
        ola_err_set(err, EINVAL, "%s: malformed chain head", path);
        goto fail;
    }
    if (access(mpath, F_OK) != 0) {
        /* written before its manifest, which a crash stopped: the one before */
        h->seq = (uint64_t)seq - 1;
        snprintf(h->msha, sizeof(h->msha), "%s", prev != NULL ? prev : "");
        rc = 0;
        goto fail;
    }
    if (ola_manifest_read(mpath, &m, h->msha, err) != 0)
        goto fail;
    if (m.seq != (uint64_t)seq || strcmp(m.stream, h->stream) != 0) {
        ola_err_set(err, EINVAL, "%s: names %s, which is seq %llu of stream '%s'", path,
                    mpath, (unsigned long long)m.seq, m.stream);
        goto fail;
    }
    h->seq = m.seq;
    rc = 0;
fail:
    json_decref(o);
    free(text);
    return rc;
}

/* Writes the head file: manifest rel will be seq, after a manifest hashing prev. */
static int ola_s3_head_write(const struct ola_s3_chains *c, const char *stream,
                             uint64_t seq, const char *rel, const char *prev,
                             struct ola_err *err)
{
    char path[PATH_MAX], *tmp = NULL, *text = NULL;
    json_t *o = json_object();
    int fd = -1, rc = -1;

    if (ola_s3_head_path(c, stream, path, sizeof(path)) != 0) {
        ola_err_set(err, ENAMETOOLONG, "%s: manifest directory path too long", c->dir);
        goto fail;
    }
    if (o == NULL || json_object_set_new(o, "stream", json_string(stream)) != 0 ||
        json_object_set_new(o, "seq", json_integer((json_int_t)seq)) != 0 ||
        json_object_set_new(o, "manifest", json_string(rel)) != 0 ||
        json_object_set_new(o, "prev_manifest_sha256",
                            prev[0] ? json_string(prev) : json_null()) != 0 ||
        (text = ola_json_dumps(o, JSON_COMPACT)) == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    fd = ola_tmpfile_beside(path, &tmp);
    if (fd < 0 || ola_write_all(fd, text, strlen(text)) != 0 ||
        ola_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        ola_err_set(err, errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        ola_err_set(err, errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0 || ola_fsync_dir_of(path) != 0) {
        ola_err_set(err, errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    free(tmp);
    tmp = NULL;
    rc = 0;
fail:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    free(text);
    json_decref(o);
    return rc;
}

/* The head of stream, loaded on first use. NULL with err. */
static struct ola_s3_head *ola_s3_head_get(struct ola_s3_chains *c, const char *stream,
                                           struct ola_err *err)
{
    struct ola_s3_head *h;
    size_t i;

    for (i = 0; i < c->n; i++)
        if (strcmp(c->h[i].stream, stream) == 0)
            return &c->h[i];
    if (strlen(stream) >= OLA_MANIFEST_STREAM) {
        ola_err_set(err, ENAMETOOLONG, "manifest stream name too long");
        return NULL;
    }
    if (OLA_VEC_GROW(c->h, c->cap, c->n + 1) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    h = &c->h[c->n];
    memset(h, 0, sizeof(*h));
    memcpy(h->stream, stream, strlen(stream) + 1);
    if (ola_s3_head_load(c, h, err) != 0)
        return NULL;
    c->n++;
    return h;
}

int ola_s3_chain_append(struct ola_s3_chains *c, const char *key, struct ola_manifest *m,
                        struct ola_err *err)
{
    char data[PATH_MAX], mpath[PATH_MAX], rel[OLA_S3_KEY_MAX + 32], msha[OLA_SHA256_HEX];
    struct ola_manifest old;
    struct ola_s3_head *h;
    char *slash;
    int w;

    if (ola_s3_key_bad(key, false) != NULL)
        return ola_err_set(err, EINVAL, "object key is not valid");
    w = snprintf(data, sizeof(data), "%s/%s", c->dir, key);
    if (w < 0 || (size_t)w >= sizeof(data) ||
        snprintf(mpath, sizeof(mpath), "%s%s", data, OLA_MANIFEST_SUFFIX) >=
            (int)sizeof(mpath))
        return ola_err_set(err, ENAMETOOLONG, "%s: manifest path too long", data);
    snprintf(rel, sizeof(rel), "%s%s", key, OLA_MANIFEST_SUFFIX);
    if (access(mpath, F_OK) == 0) {
        if (ola_manifest_read(mpath, &old, NULL, err) != 0)
            return -1;
        if (strcmp(old.sha256, m->sha256) != 0)
            return ola_err_set(err, EEXIST,
                               "%s: exists for an object of another SHA-256 (%s); not "
                               "overwritten",
                               mpath, old.sha256);
        m->seq = old.seq; /* stored and recorded before a crash: recorded once */
        memcpy(m->prev_sha256, old.prev_sha256, sizeof(m->prev_sha256));
        return 0;
    }
    h = ola_s3_head_get(c, m->stream, err);
    if (h == NULL)
        return -1;
    m->seq = h->seq + 1;
    memcpy(m->prev_sha256, h->msha, sizeof(m->prev_sha256));
    slash = strrchr(data, '/');
    *slash = '\0';
    if (ola_mkdirs(c->dir) != 0 || ola_mkdirs(data) != 0) {
        ola_err_set(err, errno, "%s: %s", data, strerror(errno));
        return -1;
    }
    *slash = '/';
    if (ola_s3_head_write(c, m->stream, m->seq, rel, h->msha, err) != 0 ||
        ola_manifest_write(data, m, msha, err) != 0)
        return -1;
    h->seq = m->seq;
    memcpy(h->msha, msha, sizeof(h->msha));
    return 0;
}
