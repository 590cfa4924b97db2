/*
 * out_http.c - the generic webhook: records POSTed (or PUT) to a URL.
 *
 * write() formats each record routed here with the output's format into the
 * shared sender (http_out.c) and has it cut into requests by
 * batch_max_events and batch_max_bytes; flush() sends them and waits for the
 * answers. A request's body is NDJSON or one JSON array, gzip-compressed on
 * demand, and carries an Idempotency-Key computed from the tenant and the
 * first and last event id of its records: the same records re-sent (after
 * a retry, a timeout or a crash that brings the same page back) carry the
 * same key, so a receiver can drop the repeat. Configured headers may carry
 * credentials: they are copied once, never logged, wiped on close.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "outputs/http_out.h"

enum ola_hw_method { OLA_HW_POST = 0, OLA_HW_PUT = 1 };

/* The keys as read by ola_http_options (strings borrowed from the document). */
struct ola_http_conf {
    const char *url;
    int method, framing;
    const struct ola_cfg *headers; /* the headers map, checked by its hook */
    struct ola_ho_conf http;
};

struct ola_http {
    struct ola_ho *ho;
    int method, framing, compression;
    struct ola_buf headers; /* configured "Name: value" lines, each NUL-terminated */
    struct ola_buf scratch; /* one record, formatted */
    struct ola_buf plain;   /* a body before compression */
    char tenant[256];       /* the batch's tenant (olagent.tenant), or "" */
};

/* ---- the keys ------------------------------------------------------------------ */

static const char *const ola_hw_methods[] = {"POST", "PUT", NULL};
static const char *const ola_hw_framings[] = {"ndjson", "json_array", NULL};

static int ola_hw_url_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                           void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_http_conf *c = obj;

    (void)ctx;
    return ola_ho_url_check(ola_cfg_get(map, opt->name), c->url, err);
}

/* RFC 9110 token characters. */
static bool ola_hw_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s) != NULL))
            return false;
    return true;
}

/* headers: a map of names to scalar values; the names olagent sets are refused. */
static int ola_hw_headers_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                               void *obj, void *ctx, struct ola_err *err)
{
    static const char *const own[] = {
        "content-type",    "content-encoding",  "content-length",
        "idempotency-key", "transfer-encoding", "host",
        "expect",          "connection",        NULL};
    struct ola_http_conf *c = obj;
    const struct ola_cfg *h = ola_cfg_get(map, opt->name);
    size_t i, j;

    (void)ctx;
    c->headers = NULL;
    if (h == NULL || ola_cfg_type(h) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(h) != OLA_CFG_MAP)
        return ola_cfg_errf(err, h, "headers: a map of header names to values");
    if (ola_cfg_len(h) > 32)
        return ola_cfg_errf(err, h, "headers: at most 32");
    for (i = 0; i < ola_cfg_len(h); i++) {
        const char *k = ola_cfg_key_at(h, i), *v = ola_cfg_scalar(ola_cfg_at(h, i));

        if (!ola_hw_token(k) || strlen(k) > 64)
            return ola_cfg_errf(err, ola_cfg_at(h, i),
                                "headers: '%.64s' is not a header "
                                "name",
                                k);
        for (j = 0; own[j] != NULL; j++)
            if (strcasecmp(k, own[j]) == 0)
                return ola_cfg_errf(err, ola_cfg_at(h, i),
                                    "headers: %s is set by olagent", k);
        if (v == NULL)
            return ola_cfg_errf(err, ola_cfg_at(h, i), "headers: %s: a string value", k);
        /* the value is never shown: it may come from ${VAR} */
        if (strpbrk(v, "\r\n") != NULL || strlen(v) > 8192)
            return ola_cfg_errf(err, ola_cfg_at(h, i),
                                "headers: %s: no line breaks, at most 8192 bytes", k);
    }
    c->headers = h;
    return 0;
}

#define OLA_HW_OFF(f) offsetof(struct ola_http_conf, f)

static const struct ola_opt ola_http_options[] = {
    {.name = "url",
     .type = OLA_OPT_STR,
     .offset = OLA_HW_OFF(url),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_hw_url_hook,
     .help = "the receiver; https, except on loopback"},
    {.name = "method",
     .type = OLA_OPT_ENUM,
     .offset = OLA_HW_OFF(method),
     .names = ola_hw_methods,
     .def_int = OLA_HW_POST,
     .help = "POST or PUT"},
    {.name = "framing",
     .type = OLA_OPT_ENUM,
     .offset = OLA_HW_OFF(framing),
     .names = ola_hw_framings,
     .def_int = OLA_HO_NDJSON,
     .help = "ndjson (a record per line) or json_array"},
    {.name = "headers",
     .type = OLA_OPT_OTHER,
     .hook = ola_hw_headers_hook,
     .help = "extra headers, {Name: value}; values may be ${VAR} secrets"},
    OLA_HO_OPT_COMPRESSION(struct ola_http_conf, http),
    OLA_HO_OPTIONS(struct ola_http_conf, http),
    {.name = NULL},
};

/* ---- requests -------------------------------------------------------------------- */

/* The tenant the records carry (olagent.tenant), or "". */
static const char *ola_hw_tenant(const struct ola_event *e)
{
    const char *t = json_string_value(json_object_get(e->ola, "tenant"));

    return t != NULL ? t : "";
}

/*
 * Idempotency-Key: the first 32 hex digits of SHA-256 over the tenant and the
 * first and last event id of rq's records (alerts, which have no id, are
 * taken by their bytes), so a request of the same records has the same key.
 */
static int ola_hw_key(const struct ola_ho *ho, const struct ola_ho_req *rq,
                      const char *tenant, char *out, size_t cap)
{
    size_t n, i;
    const struct ola_ho_rec *r = ola_ho_recs(ho, &n);
    const struct ola_ho_rec *ends[2] = {&r[rq->first], &r[rq->first + rq->n - 1]};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, tenant, strlen(tenant) + 1) == 1;

    for (i = 0; i < 2 && ok; i++) {
        char id[32];

        if (ends[i]->id > 0) {
            snprintf(id, sizeof(id), "e%lld", (long long)ends[i]->id);
            ok = EVP_DigestUpdate(ctx, id, strlen(id) + 1) == 1;
        } else {
            ok = EVP_DigestUpdate(ctx, "a", 1) == 1 &&
                 EVP_DigestUpdate(ctx, ola_ho_rec_bytes(ho, ends[i]), ends[i]->len) == 1;
        }
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16 && cap >= 33;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    for (i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int ola_hw_prepare(struct ola_output *o, struct ola_ho *ho, struct ola_ho_req *rq)
{
    struct ola_http *w = o->ctx;
    size_t off;
    char key[40];

    rq->method = w->method == OLA_HW_PUT ? "PUT" : "POST";
    ola_buf_reset(&w->plain);
    if (ola_ho_frame(ho, rq, w->framing, &w->plain) != 0)
        return -1;
    if (w->compression == OLA_HO_GZIP) {
        if (ola_ho_gzip(w->plain.data, w->plain.len, &rq->body) != 0 ||
            ola_ho_header(&rq->headers, "Content-Encoding", "gzip") != 0)
            return -1;
    } else if (ola_buf_append(&rq->body, w->plain.data, w->plain.len) != 0) {
        return -1;
    }
    if (ola_ho_header(&rq->headers, "Content-Type",
                      w->framing == OLA_HO_NDJSON ? "application/x-ndjson"
                                                  : "application/json") != 0 ||
        ola_hw_key(ho, rq, w->tenant, key, sizeof(key)) != 0 ||
        ola_ho_header(&rq->headers, "Idempotency-Key", key) != 0)
        return -1;
    for (off = 0; off < w->headers.len; off += strlen(w->headers.data + off) + 1)
        if (ola_buf_append(&rq->headers, w->headers.data + off,
                           strlen(w->headers.data + off) + 1) != 0)
            return -1;
    return 0;
}

static const struct ola_ho_ops ola_hw_ops = {.prepare = ola_hw_prepare, .answer = NULL};

/* ---- the output -------------------------------------------------------------------- */

static enum ola_rc ola_http_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_http *w = o->ctx;
    size_t i, framing = w->framing == OLA_HO_JSON_ARRAY ? 2 : 0;
    bool tenant = false;

    ola_ho_begin(w->ho);
    w->tenant[0] = '\0';
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        int rc;

        if (!ola_output_takes(o, e))
            continue;
        if (!tenant) {
            /* one tenant per batch: a longer name is cut, the same way each time */
            snprintf(w->tenant, sizeof(w->tenant), "%s", ola_hw_tenant(e));
            tenant = true;
        }
        ola_buf_reset(&w->scratch);
        rc = ola_output_format(o, e, &w->scratch);
        if (rc == OLA_FORMAT_UNUSABLE) {
            if (ola_output_refuse_unusable(o, i) != 0)
                goto nomem;
            continue;
        }
        if (rc != 0 || ola_ho_add(w->ho, i, e->kind == OLA_REC_EVENT ? e->id : 0,
                                  w->scratch.data, w->scratch.len) != 0)
            goto nomem;
    }
    if (ola_ho_plan(w->ho, 1, framing) != 0)
        goto nomem;
    return OLA_OK;
nomem:
    ola_ho_rollback(w->ho);
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    o->stats.errors++;
    return OLA_RETRY;
}

static enum ola_rc ola_http_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_http *w = o->ctx;

    return ola_ho_flush(w->ho, timeout_ms);
}

static void ola_http_trim(struct ola_output *o)
{
    struct ola_http *w = o->ctx;

    if (ola_ho_pending(w->ho))
        return;
    ola_buf_free(&w->scratch);
    ola_buf_free(&w->plain);
}

static void ola_http_close(struct ola_output *o)
{
    struct ola_http *w = o->ctx;

    if (w == NULL)
        return;
    ola_ho_destroy(w->ho);
    if (w->headers.data != NULL)
        explicit_bzero(w->headers.data, w->headers.cap);
    ola_buf_free(&w->headers);
    ola_buf_free(&w->scratch);
    ola_buf_free(&w->plain);
    free(w);
    o->ctx = NULL;
}

static int ola_http_init(struct ola_output *o, const struct ola_cfg *node,
                         struct ola_err *err)
{
    const struct ola_http_conf *c = o->settings;
    struct ola_http *w = calloc(1, sizeof(*w));
    size_t i;

    if (w == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = w;
    w->method = c->method;
    w->framing = c->framing;
    w->compression = c->http.compression;
    /* a JSON array holds JSON records: not CEF or LEEF lines */
    if (w->framing == OLA_HO_JSON_ARRAY &&
        (strcmp(o->fmt->name, "cef") == 0 || strcmp(o->fmt->name, "leef") == 0))
        return ola_cfg_errf(err, ola_cfg_get(node, "framing"),
                            "framing: json_array needs a JSON format (json, ocsf), not "
                            "%s",
                            o->fmt->name);
    for (i = 0; c->headers != NULL && i < ola_cfg_len(c->headers); i++)
        if (ola_ho_header(&w->headers, ola_cfg_key_at(c->headers, i),
                          ola_cfg_scalar(ola_cfg_at(c->headers, i))) != 0)
            return ola_err_set(err, ENOMEM, "out of memory");
    return ola_ho_new(o, &c->http, c->url, &ola_hw_ops, &w->ho, err);
}

const struct ola_output_ops ola_out_http = {
    .name = "http",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_http_options,
    .settings_size = sizeof(struct ola_http_conf),
    .init = ola_http_init,
    .write = ola_http_write,
    .flush = ola_http_flush,
    .close = ola_http_close,
    .trim = ola_http_trim,
};
