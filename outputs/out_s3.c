/*
 * out_s3.c - S3-compatible object storage: one gzip NDJSON object per batch.
 *
 * write() formats the records routed here into the shared sender (http_out.c)
 * as ONE request, frames them as NDJSON, gzips them (deterministic: no name,
 * no time in the gzip header), hashes the object and names it (out_s3.h:
 * prefix, first event time, first and last id, hash), so a batch sent again
 * after a crash with the same records is the same object under the same key
 * and overwrites itself. flush() PUTs it path-style to
 * {endpoint}/{bucket}/{key}, signed by libcurl (CURLOPT_AWS_SIGV4,
 * "aws:amz:REGION:s3") with `x-amz-content-sha256` set to the object's
 * SHA-256 (S3 requires the header; libcurl 7.88 does not add it). S3's XML
 * error codes decide: SlowDown, InternalError, 5xx, RequestTimeout and a
 * skewed clock are retried; InvalidAccessKeyId, SignatureDoesNotMatch,
 * AccessDenied, NoSuchBucket and any other refusal are fatal (S3 never
 * refuses one record of an object). Once stored, the object's SHA-256 goes
 * into the output's manifest chain (out_s3_chain.c) before the batch is
 * acknowledged. The secret goes to libcurl only; it is never logged.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "agent/core/fileio.h"
#include "agent/core/timeutil.h"
#include "outputs/http_out.h"
#include "outputs/out_s3.h"

/* The keys as read by ola_s3_options (strings borrowed from the document). */
struct ola_s3_conf {
    const char *endpoint, *bucket, *region, *prefix;
    const char *access_key_id, *secret_access_key;
    const char *manifest_dir;
    struct ola_ho_conf http;
};

struct ola_s3 {
    struct ola_ho *ho;
    const struct ola_s3_conf *c; /* o->settings */
    char sigv4[96];              /* "aws:amz:REGION:s3" */
    char *base;                  /* "{endpoint}/{bucket}/" */
    bool per_tenant;             /* {tenant} in the prefix: a chain per tenant */
    struct ola_s3_chains *chains;
    struct ola_buf scratch, plain, obj; /* a record; the NDJSON; the gzip object */
    char key[OLA_S3_KEY_MAX + 1];
    char *url;
    bool pending;          /* an object of the batch is not yet in its chain */
    struct ola_manifest m; /* its manifest, counts and hash filled by write */
};

#define OLA_S3_NAME_CHARS                                                                \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* ---- the keys ------------------------------------------------------------------ */

static int ola_s3_endpoint_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_s3_conf *c = obj;
    const struct ola_cfg *node = ola_cfg_get(map, opt->name);

    (void)ctx;
    if (ola_ho_url_check(node, c->endpoint, err) != 0)
        return -1;
    if (strpbrk(c->endpoint, "?#") != NULL)
        return ola_cfg_errf(err, node,
                            "endpoint: no query or fragment (the bucket and key are "
                            "appended as a path)");
    return 0;
}

/* name: 1..max of [A-Za-z0-9] and the bytes of extra. */
static bool ola_s3_word(const char *s, const char *extra, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
            return false;
    return true;
}

static int ola_s3_words_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                             void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_s3_conf *c = obj;
    const struct ola_cfg *node = ola_cfg_get(map, opt->name);

    (void)ctx;
    if (strcmp(opt->name, "bucket") == 0 &&
        (!ola_s3_word(c->bucket, ".-_", 255) || strcmp(c->bucket, ".") == 0 ||
         strcmp(c->bucket, "..") == 0))
        return ola_cfg_errf(err, node, "bucket: 1..255 of [A-Za-z0-9._-]");
    if (strcmp(opt->name, "region") == 0 && !ola_s3_word(c->region, "-_", 64))
        return ola_cfg_errf(err, node, "region: 1..64 of [A-Za-z0-9_-] (eu-west-1)");
    /* the id is not secret, but it is never shown whole either */
    if (strcmp(opt->name, "access_key_id") == 0 &&
        !ola_s3_word(c->access_key_id, "+/=._-", 256))
        return ola_cfg_errf(err, node,
                            "access_key_id: 1..256 of [A-Za-z0-9+/=._-] (AKIA...)");
    return 0;
}

static int ola_s3_prefix_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                              void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_s3_conf *c = obj;
    char why[400];

    (void)ctx;
    if (ola_s3_prefix_check(c->prefix, why, sizeof(why)) != NULL)
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name), "%s", why);
    return 0;
}

#define OLA_S3_OFF(f) offsetof(struct ola_s3_conf, f)

static const struct ola_opt ola_s3_options[] = {
    {.name = "endpoint",
     .type = OLA_OPT_STR,
     .offset = OLA_S3_OFF(endpoint),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_s3_endpoint_hook,
     .help = "the service; objects go to {endpoint}/{bucket}/{key}"},
    {.name = "bucket",
     .type = OLA_OPT_STR,
     .offset = OLA_S3_OFF(bucket),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_s3_words_hook,
     .help = "the bucket's name"},
    {.name = "region",
     .type = OLA_OPT_STR,
     .offset = OLA_S3_OFF(region),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_s3_words_hook,
     .help = "the region the signature is scoped to"},
    {.name = "prefix",
     .type = OLA_OPT_STR,
     .offset = OLA_S3_OFF(prefix),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_s3_prefix_hook,
     .help = "{tenant}, strftime in UTC; only [A-Za-z0-9/._-]; \"\": the top"},
    {.name = "access_key_id",
     .type = OLA_OPT_STR,
     .offset = OLA_S3_OFF(access_key_id),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_s3_words_hook,
     .help = "the access key's id"},
    {.name = "secret_access_key",
     .type = OLA_OPT_SECRET,
     .offset = OLA_S3_OFF(secret_access_key),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .help = "never logged; or secret_access_key_file"},
    {.name = "manifest_dir",
     .type = OLA_OPT_STR,
     .offset = OLA_S3_OFF(manifest_dir),
     .help = "default: s3-manifests.NAME beside the dead-letter file"},
    OLA_HO_OPTIONS_CONN(struct ola_s3_conf, http),
    {.name = NULL},
};

/* ---- requests -------------------------------------------------------------------- */

static void ola_s3_hex(const unsigned char *md, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * n] = '\0';
}

static int ola_s3_prepare(struct ola_output *o, struct ola_ho *ho, struct ola_ho_req *rq)
{
    struct ola_s3 *s = o->ctx;

    (void)ho;
    rq->method = "PUT";
    rq->url = strdup(s->url);
    if (rq->url == NULL || ola_buf_append(&rq->body, s->obj.data, s->obj.len) != 0)
        return -1;
    /* an object that is a .gz file: no Content-Encoding, or downloaders would
     * inflate it and its bytes would no longer match the manifest */
    if (ola_ho_header(&rq->headers, "Content-Type", "application/gzip") != 0 ||
        ola_ho_header(&rq->headers, "x-amz-content-sha256", s->m.sha256) != 0)
        return -1;
    return 0;
}

static int ola_s3_easy(struct ola_output *o, struct ola_ho *ho, struct ola_ho_req *rq,
                       void *curl)
{
    struct ola_s3 *s = o->ctx;
    CURL *c = curl;

    (void)ho;
    (void)rq;
    if (curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_USERNAME, s->c->access_key_id) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->c->secret_access_key) != CURLE_OK)
        return -1;
    return 0;
}

/* The text of <tag>...</tag> in an S3 XML error into out ("" when absent). */
static void ola_s3_xml(const struct ola_ho_req *rq, const char *tag, char *out, size_t n)
{
    char open[40];
    const char *p, *end, *a = rq->answer.data;
    size_t len = rq->answer.len, k, i, j = 0;

    out[0] = '\0';
    if (a == NULL || snprintf(open, sizeof(open), "<%s>", tag) >= (int)sizeof(open))
        return;
    k = strlen(open);
    for (p = a; (size_t)(p - a) + k <= len; p++)
        if (memcmp(p, open, k) == 0)
            break;
    if ((size_t)(p - a) + k > len)
        return;
    p += k;
    end = memchr(p, '<', len - (size_t)(p - a));
    if (end == NULL)
        return;
    for (i = 0; p + i < end && j + 1 < n; i++) {
        unsigned char ch = (unsigned char)p[i];

        out[j++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
    }
    out[j] = '\0';
}

enum ola_ho_verdict ola_s3_classify(struct ola_output *o, const struct ola_ho_req *rq)
{
    static const char *const retry[] = {"SlowDown",
                                        "InternalError",
                                        "ServiceUnavailable",
                                        "RequestTimeout",
                                        "BadDigest",
                                        "IncompleteBody",
                                        "XAmzContentSHA256Mismatch",
                                        "OperationAborted",
                                        "RequestTimeTooSkewed",
                                        NULL};
    char code[64], msg[160];
    long st = rq->status;
    size_t i;

    if (st >= 200 && st < 300)
        return OLA_HO_ACCEPTED;
    if (st == 0)
        return ola_ho_classify(o, rq);
    ola_s3_xml(rq, "Code", code, sizeof(code));
    ola_s3_xml(rq, "Message", msg, sizeof(msg));
    snprintf(o->last_error, sizeof(o->last_error), "S3 HTTP %ld %.40s%s%.140s%s%.20s%s",
             st, code[0] ? code : "(no error code)", msg[0] ? ": " : "", msg,
             rq->retry_after[0] ? " (Retry-After: " : "", rq->retry_after,
             rq->retry_after[0] ? ")" : "");
    for (i = 0; retry[i] != NULL; i++)
        if (strcmp(code, retry[i]) == 0)
            return OLA_HO_RETRY;
    if (st == 408 || st == 429 || st >= 500)
        return OLA_HO_RETRY;
    /* InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, NoSuchBucket and
     * the rest: no record of the object is at fault, so nothing to dead-letter */
    return OLA_HO_FATAL;
}

static enum ola_ho_verdict ola_s3_answer(struct ola_output *o, struct ola_ho *ho,
                                         struct ola_ho_req *rq)
{
    (void)ho;
    return ola_s3_classify(o, rq);
}

static const struct ola_ho_ops ola_s3_ops = {
    .prepare = ola_s3_prepare,
    .answer = ola_s3_answer,
    .easy = ola_s3_easy,
    .allow_expect = true,
};

/* ---- the output -------------------------------------------------------------------- */

/* Frames, compresses, hashes and names the object of the records added.
 * OLA_OK, or with o->last_error OLA_FATAL (the key would not be valid) or
 * OLA_RETRY (out of memory). */
static enum ola_rc ola_s3_object(struct ola_output *o, const char *tenant,
                                 int64_t first_ms)
{
    struct ola_s3 *s = o->ctx;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char prefix[OLA_S3_KEY_MAX + 64];
    const char *bad;
    size_t n;
    struct ola_ho_req all = {.first = 0, .n = 0};

    (void)ola_ho_recs(s->ho, &n);
    all.n = n;
    ola_buf_reset(&s->plain);
    if (ola_ho_frame(s->ho, &all, OLA_HO_NDJSON, &s->plain) != 0 ||
        ola_ho_gzip(s->plain.data, s->plain.len, &s->obj) != 0 ||
        EVP_Digest(s->obj.data, s->obj.len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32) {
        snprintf(o->last_error, sizeof(o->last_error), "out of memory");
        return OLA_RETRY;
    }
    ola_s3_hex(md, mdlen, s->m.sha256);
    if (ola_s3_prefix_expand(s->c->prefix, tenant, first_ms, prefix, sizeof(prefix)) <
        0) {
        prefix[0] = '\0';
        bad = "does not expand";
    } else {
        bad = ola_s3_key_bad(prefix, true);
    }
    if (bad != NULL || ola_s3_object_key(prefix, first_ms, s->m.first_id, s->m.last_id,
                                         s->m.sha256, s->key, sizeof(s->key)) != 0) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "object key under prefix '%.100s' %s: keys hold only [A-Za-z0-9/._-]",
                 prefix, bad != NULL ? bad : "is not valid");
        return OLA_FATAL;
    }
    free(s->url);
    s->url = malloc(strlen(s->base) + strlen(s->key) + 1);
    if (s->url == NULL) {
        snprintf(o->last_error, sizeof(o->last_error), "out of memory");
        return OLA_RETRY;
    }
    memcpy(s->url, s->base, strlen(s->base));
    memcpy(s->url + strlen(s->base), s->key, strlen(s->key) + 1);
    snprintf(s->m.file, sizeof(s->m.file), "%.255s",
             strrchr(s->key, '/') != NULL ? strrchr(s->key, '/') + 1 : s->key);
    s->m.bytes = s->obj.len;
    return OLA_OK;
}

static enum ola_rc ola_s3_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_s3 *s = o->ctx;
    const char *tenant = ola_output_tenant(o, b);
    struct ola_manifest *m = &s->m;
    int64_t first_ms = OLA_TIME_NONE;
    enum ola_rc rc;
    size_t i;

    if (tenant == NULL)
        return OLA_FATAL;
    ola_ho_begin(s->ho);
    s->pending = false;
    memset(m, 0, sizeof(*m));
    m->first_created_ms = m->last_created_ms = OLA_TIME_NONE;
    if (snprintf(m->stream, sizeof(m->stream), "%s%s%s", o->name,
                 s->per_tenant ? "/" : "",
                 s->per_tenant ? tenant : "") >= (int)sizeof(m->stream)) {
        snprintf(o->last_error, sizeof(o->last_error), "manifest stream name too long");
        return OLA_FATAL;
    }
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        int frc;

        if (!ola_output_takes(o, e))
            continue;
        ola_buf_reset(&s->scratch);
        frc = ola_output_format(o, e, &s->scratch);
        if (frc == OLA_FORMAT_UNUSABLE) {
            if (ola_output_refuse_unusable(o, i) != 0)
                goto nomem;
            continue;
        }
        if (frc != 0 || ola_ho_add(s->ho, i, e->kind == OLA_REC_EVENT ? e->id : 0,
                                   s->scratch.data, s->scratch.len) != 0)
            goto nomem;
        m->events++;
        if (first_ms == OLA_TIME_NONE)
            first_ms = e->created_ms;
        if (e->kind == OLA_REC_EVENT) {
            if (m->first_id == 0) {
                m->first_id = e->id;
                m->first_created_ms = e->created_ms;
            }
            m->last_id = e->id;
            m->last_created_ms = e->created_ms;
        }
    }
    if (m->events == 0)
        return OLA_OK; /* nothing routed here: no object */
    if (m->first_created_ms != OLA_TIME_NONE)
        first_ms = m->first_created_ms; /* the first event's time names the object */
    m->created_ms = ola_now_ms();
    rc = ola_s3_object(o, tenant, first_ms);
    if (rc != OLA_OK) {
        ola_ho_rollback(s->ho);
        o->stats.errors++;
        return rc;
    }
    if (ola_ho_plan(s->ho, 1, 0) != 0)
        goto nomem;
    s->pending = true;
    return OLA_OK;
nomem:
    ola_ho_rollback(s->ho);
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    o->stats.errors++;
    return OLA_RETRY;
}

/* The manifest directory: manifest_dir, or s3-manifests.NAME beside the
 * dead-letter file (the pipeline sets that path before the first batch). */
static int ola_s3_chains_open(struct ola_output *o, struct ola_err *err)
{
    struct ola_s3 *s = o->ctx;
    char dir[PATH_MAX], name[128];
    size_t i;

    if (s->c->manifest_dir != NULL) {
        snprintf(dir, sizeof(dir), "%s", s->c->manifest_dir);
    } else {
        if (o->dead_letter == NULL)
            return ola_err_set(err, EINVAL, "no manifest_dir and no dead-letter path");
        snprintf(name, sizeof(name), "s3-manifests.%s", o->name);
        for (i = sizeof("s3-manifests.") - 1; name[i] != '\0'; i++)
            if (strchr(OLA_S3_NAME_CHARS, name[i]) == NULL)
                name[i] = '_';
        if (ola_path_beside(o->dead_letter, name, dir, sizeof(dir)) != 0)
            return ola_err_set(err, ENAMETOOLONG, "manifest directory path too long");
    }
    s->chains = ola_s3_chains_new(dir);
    if (s->chains == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    return 0;
}

static enum ola_rc ola_s3_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_s3 *s = o->ctx;
    struct ola_err err;
    enum ola_rc rc = ola_ho_flush(s->ho, timeout_ms);

    if (rc != OLA_OK || !s->pending)
        return rc;
    s->m.closed_ms = ola_now_ms();
    if ((s->chains == NULL && ola_s3_chains_open(o, &err) != 0) ||
        ola_s3_chain_append(s->chains, s->key, &s->m, &err) != 0) {
        /* stored, not yet recorded: the next flush records it */
        snprintf(o->last_error, sizeof(o->last_error), "manifest of %.100s: %.140s",
                 s->key, err.msg);
        o->stats.errors++;
        return OLA_RETRY;
    }
    s->pending = false;
    return OLA_OK;
}

static void ola_s3_trim(struct ola_output *o)
{
    struct ola_s3 *s = o->ctx;

    if (ola_ho_pending(s->ho) || s->pending)
        return;
    ola_buf_free(&s->scratch);
    ola_buf_free(&s->plain);
    ola_buf_free(&s->obj);
}

static void ola_s3_close(struct ola_output *o)
{
    struct ola_s3 *s = o->ctx;

    if (s == NULL)
        return;
    ola_ho_destroy(s->ho);
    ola_s3_chains_destroy(s->chains);
    ola_buf_free(&s->scratch);
    ola_buf_free(&s->plain);
    ola_buf_free(&s->obj);
    free(s->base);
    free(s->url);
    free(s);
    o->ctx = NULL;
}

static int ola_s3_init(struct ola_output *o, const struct ola_cfg *node,
                       struct ola_err *err)
{
    const struct ola_s3_conf *c = o->settings;
    struct ola_ho_conf hc = c->http;
    struct ola_s3 *s = calloc(1, sizeof(*s));
    size_t elen;

    (void)node;
    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = s;
    s->c = c;
    s->per_tenant = ola_output_has_tenant(c->prefix);
    snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", c->region);
    elen = strlen(c->endpoint);
    while (elen > 0 && c->endpoint[elen - 1] == '/')
        elen--;
    s->base = malloc(elen + strlen(c->bucket) + 3);
    if (s->base == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    snprintf(s->base, elen + strlen(c->bucket) + 3, "%.*s/%s/", (int)elen, c->endpoint,
             c->bucket);
    /* one request per batch: one object */
    hc.batch_max_events = LLONG_MAX;
    hc.batch_max_bytes = UINT64_MAX;
    hc.compression = OLA_HO_NONE;
    if (ola_ho_new(o, &hc, s->base, &ola_s3_ops, &s->ho, err) != 0)
        return -1;
    if (c->manifest_dir != NULL)
        return ola_s3_chains_open(o, err);
    return 0;
}

const struct ola_output_ops ola_out_s3 = {
    .name = "s3",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_s3_options,
    .settings_size = sizeof(struct ola_s3_conf),
    .init = ola_s3_init,
    .write = ola_s3_write,
    .flush = ola_s3_flush,
    .close = ola_s3_close,
    .trim = ola_s3_trim,
};
