/*
 * out_sentinel.c - Microsoft Sentinel: the Azure Monitor Logs Ingestion API.
 *
 * write() turns each record routed here into a row of the DCR's stream
 * (out_sentinel_row.c: TimeGenerated plus the fields the json format sends)
 * and has the shared sender (http_out.c) cut the rows into JSON arrays of at
 * most batch_max_bytes (1 MiB by default and at most: the API's limit).
 * flush() first makes sure a token is at hand (out_sentinel_token.c: fetched
 * with the client credentials, kept until a margin before it expires), then
 * the sender POSTs each array to
 * {endpoint}/dataCollectionRules/{dcr_id}/streams/{stream}?api-version=2023-01-01
 * with "Authorization: Bearer <token>". The answer hook reads the answers:
 * 204 (any 2xx) delivered; 401 marks the token refused (it expired or was
 * revoked) and the request is sent again with a new one, and a 401 for a
 * token fetched just after a 401 is fatal; the rest as ola_ho_classify reads
 * them: 429 and 5xx retried (Retry-After honoured), 413 and other 4xx split
 * in halves and re-sent (a single row still refused is dead-lettered), 403
 * fatal (the app may not write to the DCR). Each request notes the number
 * of the token it carried (rq->tag), so a 401 for a token already replaced
 * only sends the request again.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/core/timeutil.h"
#include "outputs/out_sentinel.h"

/* The keys as read by ola_sentinel_options (strings borrowed from the document). */
struct ola_sentinel_conf {
    const char *endpoint, *dcr_id, *stream, *tenant_id, *client_id, *client_secret;
    const char *authority;
    struct ola_ho_conf http;
};

struct ola_sentinel {
    struct ola_ho *ho;
    const struct ola_sentinel_conf *c; /* o->settings */
    struct ola_az_token tok;
    struct ola_buf scratch; /* one record, formatted */
    struct ola_buf row;     /* one row */
};

/* ---- the keys ------------------------------------------------------------------ */

/* s (n bytes) holds only characters of set, or [A-Za-z0-9] when set is "". */
static bool ola_az_chars(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || (ch != '\0' && strchr(set, ch) != NULL)))
            return false;
    }
    return true;
}

/* endpoint and authority: a base URL (http(s), host, no query); a trailing '/'
 * is dropped when the URLs are built. */
static int ola_az_base_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                            void *obj, void *ctx, struct ola_err *err)
{
    const char *v = *(const char **)(void *)((char *)obj + opt->offset);
    const struct ola_cfg *node = ola_cfg_get(map, opt->name);

    (void)ctx;
    if (v == NULL)
        return 0; /* required: the walker said so */
    if (ola_ho_url_check(node, v, err) != 0) {
        /* the shared check says "url:": name the key */
        char msg[sizeof(err->msg)];
        const char *u = strstr(err->msg, "url: ");

        if (u != NULL) {
            snprintf(msg, sizeof(msg), "%.*s%s: %s", (int)(u - err->msg), err->msg,
                     opt->name, u + 5);
            snprintf(err->msg, sizeof(err->msg), "%s", msg);
        }
        return -1;
    }
    if (strpbrk(v, "?#") != NULL)
        return ola_cfg_errf(err, node, "%s: a base URL, without ? or #", opt->name);
    return 0;
}

static int ola_az_dcr_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                           void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_sentinel_conf *c = obj;

    (void)ctx;
    if (c->dcr_id != NULL &&
        (strlen(c->dcr_id) != 36 || strncmp(c->dcr_id, "dcr-", 4) != 0 ||
         !ola_az_chars(c->dcr_id + 4, 32, "")))
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "dcr_id: the DCR's immutable id, dcr- and 32 hex digits");
    return 0;
}

/* s is PREFIX followed by at least one of [A-Za-z0-9_]. */
static bool ola_az_named(const char *s, const char *prefix)
{
    size_t p = strlen(prefix);

    return strncmp(s, prefix, p) == 0 && s[p] != '\0' &&
           ola_az_chars(s + p, strlen(s + p), "_");
}

static int ola_az_stream_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                              void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_sentinel_conf *c = obj;
    const char *s = c->stream;

    (void)ctx;
    if (s != NULL && (strlen(s) > 200 ||
                      !(ola_az_named(s, "Custom-") || ola_az_named(s, "Microsoft-"))))
        return ola_cfg_errf(
            err, ola_cfg_get(map, opt->name),
            "stream: a stream of the DCR, Custom-NAME (NAME of A-Z a-z 0-9 "
            "_) or Microsoft-NAME");
    return 0;
}

/* tenant_id: a directory GUID or a domain (contoso.onmicrosoft.com): it goes in a path.
 */
static int ola_az_tenant_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                              void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_sentinel_conf *c = obj;

    (void)ctx;
    if (c->tenant_id != NULL &&
        (strlen(c->tenant_id) > 253 ||
         !ola_az_chars(c->tenant_id, strlen(c->tenant_id), ".-") ||
         c->tenant_id[0] == '.'))
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "tenant_id: the directory's id (a GUID) or domain name");
    return 0;
}

#define OLA_AZ_OFF(f) offsetof(struct ola_sentinel_conf, f)

static const struct ola_opt ola_sentinel_options[] = {
    {.name = "endpoint",
     .type = OLA_OPT_STR,
     .offset = OLA_AZ_OFF(endpoint),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .hook = ola_az_base_hook,
     .help = "the DCE or the DCR's logs ingestion endpoint; https, except on loopback"},
    {.name = "dcr_id",
     .type = OLA_OPT_STR,
     .offset = OLA_AZ_OFF(dcr_id),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_az_dcr_hook,
     .help = "the data collection rule's immutable id (docs/sentinel-dcr.json)"},
    {.name = "stream",
     .type = OLA_OPT_STR,
     .offset = OLA_AZ_OFF(stream),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_az_stream_hook,
     .help = "the DCR's input stream"},
    {.name = "tenant_id",
     .type = OLA_OPT_STR,
     .offset = OLA_AZ_OFF(tenant_id),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .hook = ola_az_tenant_hook,
     .help = "the Entra ID directory (tenant) of the app registration"},
    {.name = "client_id",
     .type = OLA_OPT_STR,
     .offset = OLA_AZ_OFF(client_id),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .help = "the app registration's application (client) id"},
    {.name = "client_secret",
     .type = OLA_OPT_SECRET,
     .offset = OLA_AZ_OFF(client_secret),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .help = "its client secret, or client_secret_file: a file that holds it"},
    {.name = "authority",
     .type = OLA_OPT_STR,
     .offset = OLA_AZ_OFF(authority),
     .def_str = "https://login.microsoftonline.com",
     .hook = ola_az_base_hook,
     .help = "the Entra ID token service (another cloud's, or a test's)"},
    OLA_HO_OPTIONS_BYTES(struct ola_sentinel_conf, http, OLA_AZ_BODY_MAX,
                         OLA_AZ_BODY_MAX),
    {.name = NULL},
};

/* ---- requests -------------------------------------------------------------------- */

int ola_az_ingest_url(const char *endpoint, const char *dcr_id, const char *stream,
                      char **out)
{
    static const char fmt[] = "%.*s/dataCollectionRules/%s/streams/%s?api-version=%s";
    size_t e = strlen(endpoint), n = e + strlen(dcr_id) + strlen(stream) + sizeof(fmt) +
                                     sizeof(OLA_AZ_API_VERSION);
    char *u = malloc(n);
    int w;

    *out = NULL;
    if (u == NULL)
        return -1;
    while (e > 0 && endpoint[e - 1] == '/')
        e--;
    w = snprintf(u, n, fmt, (int)e, endpoint, dcr_id, stream, OLA_AZ_API_VERSION);
    if (w < 0 || (size_t)w >= n) {
        free(u);
        return -1;
    }
    *out = u;
    return 0;
}

static int ola_az_prepare(struct ola_output *o, struct ola_ho *ho, struct ola_ho_req *rq)
{
    struct ola_sentinel *w = o->ctx;
    struct ola_buf auth = {0};
    int rc = -1;

    rq->method = "POST";
    /* flush fetched a token before sending; a refused one still goes until the
     * next flush fetches anew (its 401 then only sends the request again) */
    if (w->tok.value == NULL)
        return -1;
    rq->tag = w->tok.gen;
    if (ola_ho_frame(ho, rq, OLA_HO_JSON_ARRAY, &rq->body) == 0 &&
        ola_ho_header(&rq->headers, "Content-Type", "application/json") == 0 &&
        ola_buf_puts(&auth, "Bearer ") == 0 && ola_buf_puts(&auth, w->tok.value) == 0 &&
        ola_buf_putc(&auth, '\0') == 0 &&
        ola_ho_header(&rq->headers, "Authorization", auth.data) == 0)
        rc = 0;
    if (auth.data != NULL)
        explicit_bzero(auth.data, auth.cap);
    ola_buf_free(&auth);
    return rc;
}

static enum ola_ho_verdict ola_az_answer(struct ola_output *o, struct ola_ho *ho,
                                         struct ola_ho_req *rq)
{
    struct ola_sentinel *w = o->ctx;
    enum ola_ho_verdict v;

    (void)ho;
    if (rq->status == 401) {
        if (rq->tag == w->tok.gen && w->tok.after_401 && !w->tok.refused) {
            snprintf(o->last_error, sizeof(o->last_error),
                     "HTTP 401: the ingestion endpoint refused a token fetched just now "
                     "(is the app registration allowed to write to the DCR?)");
            return OLA_HO_FATAL;
        }
        if (rq->tag == w->tok.gen)
            w->tok.refused = true; /* expired or revoked: the next flush fetches anew */
        snprintf(o->last_error, sizeof(o->last_error),
                 "HTTP 401: the token was refused (expired or revoked); sent again with "
                 "a new one");
        return OLA_HO_RETRY;
    }
    v = ola_ho_classify(o, rq);
    if (v == OLA_HO_ACCEPTED && rq->tag == w->tok.gen)
        w->tok.after_401 = false; /* this token works: a later 401 may renew again */
    return v;
}

static const struct ola_ho_ops ola_az_ops = {.prepare = ola_az_prepare,
                                             .answer = ola_az_answer};

/* ---- the output -------------------------------------------------------------------- */

static enum ola_rc ola_sentinel_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_sentinel *w = o->ctx;
    size_t i;

    ola_ho_begin(w->ho);
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        int rc;

        if (!ola_output_takes(o, e))
            continue;
        ola_buf_reset(&w->scratch);
        ola_buf_reset(&w->row);
        rc = ola_output_format(o, e, &w->scratch);
        if (rc == 0)
            rc = ola_az_row(e, w->scratch.data, w->scratch.len, &w->row);
        if (rc == OLA_FORMAT_UNUSABLE || rc == 1) {
            if (ola_output_refuse_unusable(o, i) != 0)
                goto nomem;
            continue;
        }
        if (rc != 0)
            goto nomem;
        if (w->row.len + 2 > w->c->http.batch_max_bytes) {
            /* the API would answer 413 however it is cut */
            if (ola_output_refuse(o, i, w->row.data, w->row.len,
                                  "a row of %zu bytes: more than batch_max_bytes (%llu), "
                                  "the most one Logs Ingestion call takes",
                                  w->row.len,
                                  (unsigned long long)w->c->http.batch_max_bytes) != 0)
                goto nomem;
            continue;
        }
        if (ola_ho_add(w->ho, i, e->kind == OLA_REC_EVENT ? e->id : 0, w->row.data,
                       w->row.len) != 0)
            goto nomem;
    }
    /* a JSON array: "[" "]" and a "," per row */
    if (ola_ho_plan(w->ho, 1, 2) != 0)
        goto nomem;
    return OLA_OK;
nomem:
    ola_ho_rollback(w->ho);
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    o->stats.errors++;
    return OLA_RETRY;
}

static enum ola_rc ola_sentinel_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_sentinel *w = o->ctx;
    enum ola_rc rc;
    char why[sizeof(o->last_error)];

    if (!ola_ho_pending(w->ho))
        return OLA_OK;
    if (!ola_az_token_valid(&w->tok, ola_mono_ms())) {
        rc = ola_az_token_fetch(&w->tok, &w->c->http, w->c->client_id,
                                w->c->client_secret, why, sizeof(why));
        if (rc != OLA_OK) {
            snprintf(o->last_error, sizeof(o->last_error), "%s", why);
            o->stats.errors++;
            return rc;
        }
        ola_plg_log(OLA_LOG_DEBUG, o, "new access token, valid %lld s",
                    (long long)(w->tok.life_ms / 1000));
    }
    return ola_ho_flush(w->ho, timeout_ms);
}

static void ola_sentinel_trim(struct ola_output *o)
{
    struct ola_sentinel *w = o->ctx;

    if (ola_ho_pending(w->ho))
        return;
    ola_buf_free(&w->scratch);
    ola_buf_free(&w->row);
}

static void ola_sentinel_close(struct ola_output *o)
{
    struct ola_sentinel *w = o->ctx;

    if (w == NULL)
        return;
    ola_ho_destroy(w->ho);
    ola_az_token_free(&w->tok);
    ola_buf_free(&w->scratch);
    ola_buf_free(&w->row);
    free(w);
    o->ctx = NULL;
}

static int ola_sentinel_init(struct ola_output *o, const struct ola_cfg *node,
                             struct ola_err *err)
{
    const struct ola_sentinel_conf *c = o->settings;
    struct ola_sentinel *w = calloc(1, sizeof(*w));
    char *url = NULL;
    int rc;

    if (w == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = w;
    w->c = c;
    /* rows are built from the json format's fields (docs/sentinel-dcr.json) */
    if (strcmp(o->fmt->name, "json") != 0)
        return ola_cfg_errf(
            err, ola_cfg_get(node, "format"),
            "format: sentinel sends the json format's fields as the DCR's "
            "columns (docs/sentinel-dcr.json), not %s",
            o->fmt->name);
    if (ola_az_token_url(c->authority, c->tenant_id, &w->tok.url) != 0 ||
        ola_az_ingest_url(c->endpoint, c->dcr_id, c->stream, &url) != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
    rc = ola_ho_new(o, &c->http, url, &ola_az_ops, &w->ho, err);
    free(url);
    return rc;
}

const struct ola_output_ops ola_out_sentinel = {
    .name = "sentinel",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_sentinel_options,
    .settings_size = sizeof(struct ola_sentinel_conf),
    .init = ola_sentinel_init,
    .write = ola_sentinel_write,
    .flush = ola_sentinel_flush,
    .close = ola_sentinel_close,
    .trim = ola_sentinel_trim,
};
