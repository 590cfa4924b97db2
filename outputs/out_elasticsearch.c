/*
 * out_elasticsearch.c - Elasticsearch 7/8 and OpenSearch through _bulk.
 *
 * write() formats each record routed here (json, ocsf or ecs: documents are
 * JSON) into the shared sender (http_out.c), which cuts the batch into
 * requests by batch_max_events and batch_max_bytes; prepare() builds each
 * request as a _bulk body of `create` actions with the record's _id
 * (out_elasticsearch_bulk.c), picks the URL (round robin over `url:`, a URL
 * that failed skipped for OLA_ES_DOWN_MS) and adds the credentials (basic
 * auth or an ApiKey, built once, never logged, wiped on close). answer()
 * reads a 200 item by item: stored and already stored (409) are delivered,
 * 429 and 5xx items go again in a request of their own, mapping and parse
 * errors are dead-lettered with ES's reason, 401/403/404 stop the agent. Any
 * other answer is the shared reading (ola_ho_classify): a whole-request 429
 * waits for its Retry-After, 5xx and no answer retry (and fail over).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent/core/timeutil.h"
#include "outputs/http_out.h"
#include "outputs/out_elasticsearch.h"

/* URLs in `url:` at most. */
#define OLA_ES_URLS_MAX 8
/* How long a URL that failed (no answer, 5xx) is skipped while others work. */
#define OLA_ES_DOWN_MS (30 * 1000)

/* The keys as read by ola_es_options (strings borrowed from the document). */
struct ola_es_conf {
    const char *url; /* the first URL (MANUAL: read by ola_es_url_hook) */
    const char *urls[OLA_ES_URLS_MAX];
    size_t n_urls;
    const char *index, *username, *password, *api_key;
    struct ola_ho_conf http;
};

struct ola_es_node {
    char *bulk; /* "<url>/_bulk?filter_path=..." */
    int64_t down_until_ms;
};

struct ola_es {
    struct ola_ho *ho;
    struct ola_es_node node[OLA_ES_URLS_MAX];
    size_t n_nodes, next;
    const char *index_tmpl; /* borrowed from the settings */
    char index[256];        /* the batch's index ({tenant} expanded) */
    char tenant[OLA_TENANT_NAME_MAX + 1];
    char *auth; /* "Basic ..." or "ApiKey ..." (owned, wiped), or NULL */
    int compression;
    struct ola_buf scratch; /* one record, formatted */
    struct ola_buf plain;   /* a body before compression */
    uint64_t duplicates;    /* records ES already had (409), since start */
};

/* ---- the keys ------------------------------------------------------------------ */

/* url: one URL or a list of them, each checked as every HTTP output's. */
static int ola_es_url_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                           void *obj, void *ctx, struct ola_err *err)
{
    struct ola_es_conf *c = obj;
    const struct ola_cfg *n = ola_cfg_get(map, opt->name);
    size_t i, k = 1;

    (void)ctx;
    c->n_urls = 0;
    if (n == NULL || ola_cfg_type(n) == OLA_CFG_NULL)
        return ola_cfg_errf(err, map, "url: required (a URL or a list of URLs)");
    if (ola_cfg_type(n) == OLA_CFG_SEQ) {
        k = ola_cfg_len(n);
        if (k == 0 || k > OLA_ES_URLS_MAX)
            return ola_cfg_errf(err, n, "url: a list of 1 to %d URLs", OLA_ES_URLS_MAX);
    } else if (ola_cfg_type(n) != OLA_CFG_SCALAR) {
        return ola_cfg_errf(err, n, "url: a URL or a list of URLs");
    }
    for (i = 0; i < k; i++) {
        const struct ola_cfg *u = ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_at(n, i) : n;
        const char *s = ola_cfg_scalar(u);

        if (s == NULL)
            return ola_cfg_errf(err, u, "url: a URL (a string)");
        if (ola_ho_url_check(u, s, err) != 0)
            return -1;
        if (strpbrk(s, "?#") != NULL)
            return ola_cfg_errf(err, u,
                                "url: the cluster's address, without a query "
                                "(olagent adds /_bulk)");
        c->urls[c->n_urls++] = s;
    }
    c->url = c->urls[0];
    return 0;
}

/* An Elasticsearch index or data stream name (with {tenant} expanded). */
static bool ola_es_index_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
        strchr("-_+", s[0]) != NULL)
        return false;
    for (; *s != '\0'; s++)
        if ((*s >= 'A' && *s <= 'Z') || (unsigned char)*s <= ' ' || *s == 0x7f ||
            strchr("\\/*?\"<>|,#:", *s) != NULL)
            return false;
    return true;
}

static int ola_es_index_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                             void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_es_conf *c = obj;
    char longest[512];

    (void)ctx;
    if (ola_output_tenant_longest(c->index, longest, sizeof(longest)) < 0 ||
        !ola_es_index_ok(longest))
        return ola_cfg_errf(
            err, ola_cfg_get(map, opt->name) ? ola_cfg_get(map, opt->name) : map,
            "index: not an index name: lowercase, at most 255 bytes, "
            "none of \\ / * ? \" < > | , # : or spaces, not starting "
            "with - _ + ({tenant} may be part of it)");
    return 0;
}

/* On api_key (the last credential key): basic auth or an API key, not both. */
static int ola_es_auth_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                            void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_es_conf *c = obj;

    (void)opt;
    (void)ctx;
    if (c->api_key != NULL && (c->username != NULL || c->password != NULL))
        return ola_cfg_errf(err, map, "api_key or username and password, not both");
    if ((c->username == NULL) != (c->password == NULL))
        return ola_cfg_errf(err, map, "username and password go together");
    if (c->username != NULL && (strchr(c->username, ':') != NULL || *c->username == '\0'))
        return ola_cfg_errf(err, ola_cfg_get(map, "username"),
                            "username: not empty, no ':' (basic auth)");
    if (c->api_key != NULL && strpbrk(c->api_key, "\r\n") != NULL)
        return ola_cfg_errf(err, map, "api_key: one line");
    return 0;
}

#define OLA_ES_OFF(f) offsetof(struct ola_es_conf, f)

static const struct ola_opt ola_es_options[] = {
    {.name = "url",
     .type = OLA_OPT_STR,
     .offset = OLA_ES_OFF(url),
     .flags = OLA_OPT_MANUAL | OLA_OPT_REQUIRED,
     .hook = ola_es_url_hook,
     .help = "the cluster, or a list of its nodes (round robin, failover); https, "
             "except on loopback"},
    {.name = "index",
     .type = OLA_OPT_STR,
     .offset = OLA_ES_OFF(index),
     .def_str = "onelogin-events",
     .flags = OLA_OPT_NONEMPTY,
     .hook = ola_es_index_hook,
     .help = "index or data stream; {tenant} is the record's tenant"},
    {.name = "username",
     .type = OLA_OPT_STR,
     .offset = OLA_ES_OFF(username),
     .help = "basic auth user (with password)"},
    {.name = "password",
     .type = OLA_OPT_SECRET,
     .offset = OLA_ES_OFF(password),
     .help = "basic auth password, or password_file"},
    {.name = "api_key",
     .type = OLA_OPT_SECRET,
     .offset = OLA_ES_OFF(api_key),
     .hook = ola_es_auth_hook,
     .help = "instead of username/password: the encoded API key (Authorization: ApiKey)"},
    OLA_HO_OPT_COMPRESSION(struct ola_es_conf, http),
    OLA_HO_OPTIONS(struct ola_es_conf, http),
    {.name = NULL},
};

/* ---- failover ------------------------------------------------------------------ */

/* The next URL in turn that is not skipped; if all are, the one back soonest. */
static size_t ola_es_pick(struct ola_es *es)
{
    int64_t now = ola_mono_ms();
    size_t i, best = es->next % es->n_nodes;

    for (i = 0; i < es->n_nodes; i++) {
        size_t k = (es->next + i) % es->n_nodes;

        if (es->node[k].down_until_ms <= now) {
            best = k;
            break;
        }
        if (es->node[k].down_until_ms < es->node[best].down_until_ms)
            best = k;
    }
    es->next = best + 1;
    return best;
}

/* The request went to a URL that did not answer or answered 5xx: skip it a while. */
static void ola_es_failed(struct ola_output *o, struct ola_es *es,
                          const struct ola_ho_req *rq)
{
    size_t k;

    if (es->n_nodes < 2 || rq->url == NULL)
        return;
    for (k = 0; k < es->n_nodes; k++)
        if (strcmp(es->node[k].bulk, rq->url) == 0)
            break;
    if (k == es->n_nodes)
        return;
    if (es->node[k].down_until_ms <= ola_mono_ms())
        ola_plg_log(OLA_LOG_WARN, o,
                    "%.*s: %s; skipped for %d s while the other URLs take the requests",
                    (int)strcspn(rq->url, "?"), rq->url,
                    rq->status == 0 ? "no answer" : "HTTP 5xx", OLA_ES_DOWN_MS / 1000);
    es->node[k].down_until_ms = ola_mono_ms() + OLA_ES_DOWN_MS;
}

/* ---- requests -------------------------------------------------------------------- */

static int ola_es_prepare(struct ola_output *o, struct ola_ho *ho, struct ola_ho_req *rq)
{
    struct ola_es *es = o->ctx;
    size_t n, i;
    const struct ola_ho_rec *r = ola_ho_recs(ho, &n);
    char id[OLA_ES_ID_MAX];

    ola_buf_reset(&es->plain);
    for (i = rq->first; i < rq->first + rq->n; i++) {
        const char *doc = ola_ho_rec_bytes(ho, &r[i]);

        if (ola_es_doc_id(es->tenant, r[i].id, doc, r[i].len, id) != 0 ||
            ola_es_bulk_append(&es->plain, es->index, id, doc, r[i].len) != 0)
            return -1;
    }
    if (es->compression == OLA_HO_GZIP) {
        if (ola_ho_gzip(es->plain.data, es->plain.len, &rq->body) != 0 ||
            ola_ho_header(&rq->headers, "Content-Encoding", "gzip") != 0)
            return -1;
    } else if (ola_buf_append(&rq->body, es->plain.data, es->plain.len) != 0) {
        return -1;
    }
    rq->url = strdup(es->node[ola_es_pick(es)].bulk);
    if (rq->url == NULL ||
        ola_ho_header(&rq->headers, "Content-Type", "application/x-ndjson") != 0 ||
        (es->auth != NULL && ola_ho_header(&rq->headers, "Authorization", es->auth) != 0))
        return -1;
    return 0;
}

/* Sends again the runs of records marked in again[0..n) (plan indices from first). */
static int ola_es_requeue(struct ola_ho *ho, size_t first, const bool *again, size_t n)
{
    size_t i = 0, j;

    while (i < n) {
        if (!again[i]) {
            i++;
            continue;
        }
        for (j = i; j < n && again[j]; j++)
            ;
        if (ola_ho_requeue(ho, first + i, j - i) != 0)
            return -1;
        i = j;
    }
    return 0;
}

/* A 200 to _bulk: each item for its record. */
static enum ola_ho_verdict ola_es_items(struct ola_output *o, struct ola_ho *ho,
                                        struct ola_ho_req *rq)
{
    struct ola_es *es = o->ctx;
    size_t nrec, i, first = rq->first, n = rq->n, stored = 0, dup = 0, again_n = 0;
    const struct ola_ho_rec *r = ola_ho_recs(ho, &nrec);
    char why[240], first_again[240] = "";
    json_t *items =
        ola_es_bulk_items(rq->answer.data, rq->answer.len, n, why, sizeof(why));
    bool *again = NULL;
    enum ola_ho_verdict v = OLA_HO_SETTLED;

    if (items == NULL) {
        snprintf(o->last_error, sizeof(o->last_error), "%s", why);
        /* an answer cut at its cap: smaller requests get whole answers */
        return rq->answer.len >= OLA_HO_ANSWER_MAX && n > 1 ? OLA_HO_REFUSED
                                                            : OLA_HO_RETRY;
    }
    again = calloc(n, sizeof(*again));
    if (again == NULL)
        goto nomem;
    for (i = 0; i < n; i++) {
        switch (ola_es_item_read(json_array_get(items, i), why, sizeof(why))) {
        case OLA_ES_STORED:
            stored++;
            break;
        case OLA_ES_DUPLICATE:
            dup++;
            break;
        case OLA_ES_AGAIN:
            again[i] = true;
            if (again_n++ == 0)
                snprintf(first_again, sizeof(first_again), "%s", why);
            break;
        case OLA_ES_REFUSED:
            if (ola_output_refuse(o, r[first + i].rec, NULL, 0, "Elasticsearch %s",
                                  why) != 0)
                goto nomem;
            break;
        case OLA_ES_FATAL:
            snprintf(o->last_error, sizeof(o->last_error),
                     "Elasticsearch refused the index %.64s: %.150s", es->index, why);
            v = OLA_HO_FATAL;
            goto done;
        }
    }
    o->stats.emitted += stored + dup;
    if (dup > 0) {
        es->duplicates += dup;
        ola_plg_log(OLA_LOG_INFO, o,
                    "%zu records were in the index already (409 on create: sent again, "
                    "stored once); %llu since start",
                    dup, (unsigned long long)es->duplicates);
    }
    if (again_n > 0) {
        /* the reason as far as it fits */
        if (snprintf(o->last_error, sizeof(o->last_error),
                     "%zu of %zu records answered %.150s: sent again alone", again_n, n,
                     first_again) < 0)
            o->last_error[0] = '\0';
        /* last: the plan grows, rq may move */
        if (ola_es_requeue(ho, first, again, n) != 0)
            goto nomem;
    }
    goto done;
nomem:
    /* records are settled half-way: give up the process; create + _id make the
     * restart's re-send harmless */
    snprintf(o->last_error, sizeof(o->last_error),
             "out of memory reading a _bulk answer");
    v = OLA_HO_FATAL;
done:
    free(again);
    json_decref(items);
    return v;
}

static enum ola_ho_verdict ola_es_answer(struct ola_output *o, struct ola_ho *ho,
                                         struct ola_ho_req *rq)
{
    struct ola_es *es = o->ctx;

    if (rq->status == 0 || rq->status >= 500)
        ola_es_failed(o, es, rq);
    if (rq->status == 200)
        return ola_es_items(o, ho, rq);
    return ola_ho_classify(o, rq);
}

static const struct ola_ho_ops ola_es_ops = {.prepare = ola_es_prepare,
                                             .answer = ola_es_answer};

/* ---- the output -------------------------------------------------------------------- */

static enum ola_rc ola_es_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_es *es = o->ctx;
    const char *tenant = ola_batch_tenant(b);
    size_t i;

    ola_ho_begin(es->ho);
    snprintf(es->tenant, sizeof(es->tenant), "%s", tenant);
    if (ola_output_tenant_expand(es->index_tmpl, tenant, es->index, sizeof(es->index)) <
        0) {
        snprintf(o->last_error, sizeof(o->last_error), "index: too long for tenant %s",
                 tenant);
        o->stats.errors++;
        return OLA_FATAL;
    }
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        int rc;

        if (!ola_output_takes(o, e))
            continue;
        ola_buf_reset(&es->scratch);
        rc = ola_output_format(o, e, &es->scratch);
        if (rc == OLA_FORMAT_UNUSABLE) {
            if (ola_output_refuse_unusable(o, i) != 0)
                goto nomem;
            continue;
        }
        if (rc != 0 || ola_ho_add(es->ho, i, e->kind == OLA_REC_EVENT ? e->id : 0,
                                  es->scratch.data, es->scratch.len) != 0)
            goto nomem;
    }
    /* per record: the action line (~80 bytes) and two newlines */
    if (ola_ho_plan(es->ho, 2 + 32 + strlen(es->index) + OLA_ES_ID_MAX, 0) != 0)
        goto nomem;
    return OLA_OK;
nomem:
    ola_ho_rollback(es->ho);
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    o->stats.errors++;
    return OLA_RETRY;
}

static enum ola_rc ola_es_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_es *es = o->ctx;

    return ola_ho_flush(es->ho, timeout_ms);
}

static void ola_es_trim(struct ola_output *o)
{
    struct ola_es *es = o->ctx;

    if (ola_ho_pending(es->ho))
        return;
    ola_buf_free(&es->scratch);
    ola_buf_free(&es->plain);
}

static void ola_es_close(struct ola_output *o)
{
    struct ola_es *es = o->ctx;
    size_t i;

    if (es == NULL)
        return;
    ola_ho_destroy(es->ho);
    for (i = 0; i < es->n_nodes; i++)
        free(es->node[i].bulk);
    if (es->auth != NULL) {
        explicit_bzero(es->auth, strlen(es->auth));
        free(es->auth);
    }
    ola_buf_free(&es->scratch);
    ola_buf_free(&es->plain);
    free(es);
    o->ctx = NULL;
}

/* "Basic base64(user:password)" or "ApiKey key" into es->auth. 0 / -1 nomem. */
static int ola_es_make_auth(struct ola_es *es, const struct ola_es_conf *c)
{
    size_t ul, pl, cap;
    unsigned char *plain = NULL;
    int rc = -1, n;

    if (c->api_key != NULL) {
        cap = strlen(c->api_key) + sizeof("ApiKey ");
        es->auth = malloc(cap);
        if (es->auth == NULL)
            return -1;
        snprintf(es->auth, cap, "ApiKey %s", c->api_key);
        return 0;
    }
    if (c->username == NULL)
        return 0;
    ul = strlen(c->username);
    pl = strlen(c->password);
    plain = malloc(ul + 1 + pl);
    cap = sizeof("Basic ") + 4 * ((ul + 1 + pl + 2) / 3) + 1;
    es->auth = malloc(cap);
    if (plain == NULL || es->auth == NULL)
        goto fail;
    memcpy(plain, c->username, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, c->password, pl);
    memcpy(es->auth, "Basic ", 6);
    n = EVP_EncodeBlock((unsigned char *)es->auth + 6, plain, (int)(ul + 1 + pl));
    if (n < 0)
        goto fail;
    es->auth[6 + n] = '\0';
    rc = 0;
fail:
    if (plain != NULL) {
        explicit_bzero(plain, ul + 1 + pl);
        free(plain);
    }
    if (rc != 0) {
        free(es->auth);
        es->auth = NULL;
    }
    return rc;
}

static int ola_es_init(struct ola_output *o, const struct ola_cfg *node,
                       struct ola_err *err)
{
    const struct ola_es_conf *c = o->settings;
    struct ola_es *es = calloc(1, sizeof(*es));
    size_t i;

    if (es == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = es;
    es->compression = c->http.compression;
    es->index_tmpl = c->index;
    /* documents are JSON: not CEF or LEEF lines */
    if (strcmp(o->fmt->name, "cef") == 0 || strcmp(o->fmt->name, "leef") == 0)
        return ola_cfg_errf(err, ola_cfg_get(node, "format"),
                            "format: elasticsearch takes JSON documents (json, ecs, "
                            "ocsf), not %s",
                            o->fmt->name);
    for (i = 0; i < c->n_urls; i++) {
        size_t len = strlen(c->urls[i]), cap;

        while (len > 0 && c->urls[i][len - 1] == '/')
            len--;
        cap = len + sizeof("/_bulk?" OLA_ES_FILTER_PATH);
        es->node[i].bulk = malloc(cap);
        if (es->node[i].bulk == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
        snprintf(es->node[i].bulk, cap, "%.*s/_bulk?%s", (int)len, c->urls[i],
                 OLA_ES_FILTER_PATH);
        es->n_nodes++;
    }
    if (ola_es_make_auth(es, c) != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
    return ola_ho_new(o, &c->http, es->node[0].bulk, &ola_es_ops, &es->ho, err);
}

const struct ola_output_ops ola_out_elasticsearch = {
    .name = "elasticsearch",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_es_options,
    .settings_size = sizeof(struct ola_es_conf),
    .init = ola_es_init,
    .write = ola_es_write,
    .flush = ola_es_flush,
    .close = ola_es_close,
    .trim = ola_es_trim,
};
