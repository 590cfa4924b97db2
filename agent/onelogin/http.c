/*
 * http.c - the libcurl easy wrapper behind the OneLogin client.
 *
 * One easy handle per client, reset and re-armed before each request: the
 * reset keeps the connection cache, so keep-alive survives, while options of
 * the previous request (Basic credentials, POST body) are gone. TLS peer and
 * host verification are always on (no setting turns them off), with TLS 1.2
 * at least. The body goes into the caller's buffer up to max_body; beyond it
 * the write callback aborts the transfer. A header
 * callback keeps the few headers the client reads, starting over at each
 * status line (proxies, 1xx). A libcurl failure is mapped to a small set of
 * classes the client can act on (timeout, refused, reset, TLS, ...).
 * ola_http_multi runs several such transfers at once on a libcurl multi
 * handle (one easy wrapper per slot, same settings, shared connection cache),
 * asking a feeder for the next transfer whenever a slot frees up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "agent/core/wait.h"
#include "agent/onelogin/http.h"

struct ola_http {
    CURL *curl;
    int64_t timeout_ms;
    char *ca_file;
    char *proxy;
    size_t max_body;
    /* per request */
    struct ola_buf *body;
    struct ola_http_resp *rs;
    bool too_big;
    size_t too_big_at; /* body bytes when the write callback refused more */
    bool nomem;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t ola_http_once = PTHREAD_ONCE_INIT;
static CURLcode ola_http_global_rc = CURLE_FAILED_INIT;

static void ola_http_global_init(void)
{
    ola_http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *ola_http_strdup_opt(const char *s, bool *failed)
{
    char *p;

    if (s == NULL || *s == '\0')
        return NULL;
    p = strdup(s);
    if (p == NULL)
        *failed = true;
    return p;
}

int ola_http_new(const struct ola_http_opts *opts, struct ola_http **out,
                 struct ola_err *err)
{
    struct ola_http *h = NULL;
    bool nomem = false;

    *out = NULL;
    if (pthread_once(&ola_http_once, ola_http_global_init) != 0 ||
        ola_http_global_rc != CURLE_OK)
        return ola_err_set(err, 0, "libcurl global initialisation failed");
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    h->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : OLA_HTTP_TIMEOUT_DEFAULT;
    h->max_body = opts->max_body > 0 ? opts->max_body : OLA_HTTP_MAX_BODY_DEFAULT;
    h->ca_file = ola_http_strdup_opt(opts->ca_file, &nomem);
    h->proxy = ola_http_strdup_opt(opts->proxy, &nomem);
    if (nomem) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        ola_err_set(err, 0, "curl_easy_init failed");
        goto fail;
    }
    *out = h;
    return 0;
fail:
    ola_http_destroy(h);
    return -1;
}

void ola_http_destroy(struct ola_http *h)
{
    if (h == NULL)
        return;
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    free(h->ca_file);
    free(h->proxy);
    free(h);
}

const char *ola_http_fail_name(enum ola_http_fail f)
{
    switch (f) {
    case OLA_HTTP_OK:
        return "ok";
    case OLA_HTTP_TIMEOUT:
        return "timeout";
    case OLA_HTTP_REFUSED:
        return "connection refused";
    case OLA_HTTP_RESET:
        return "connection reset";
    case OLA_HTTP_TLS:
        return "TLS error";
    case OLA_HTTP_RESOLVE:
        return "name resolution failed";
    case OLA_HTTP_TRUNCATED:
        return "truncated body";
    case OLA_HTTP_TOO_BIG:
        return "body too big";
    case OLA_HTTP_NOMEM:
        return "out of memory";
    case OLA_HTTP_STOPPED:
        return "stopped";
    case OLA_HTTP_OTHER:
        break;
    }
    return "transfer failed";
}

static enum ola_http_fail ola_http_classify(CURLcode rc, const struct ola_http *h)
{
    if (h->too_big)
        return OLA_HTTP_TOO_BIG;
    if (h->nomem)
        return OLA_HTTP_NOMEM;
    switch (rc) {
    case CURLE_OK:
        return OLA_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return OLA_HTTP_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        return OLA_HTTP_REFUSED;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return OLA_HTTP_RESET;
    case CURLE_PARTIAL_FILE:
        return OLA_HTTP_TRUNCATED;
    case CURLE_FILESIZE_EXCEEDED:
        return OLA_HTTP_TOO_BIG;
    case CURLE_OUT_OF_MEMORY:
        return OLA_HTTP_NOMEM;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return OLA_HTTP_RESOLVE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
        return OLA_HTTP_TLS;
    case CURLE_ABORTED_BY_CALLBACK: /* only the progress callback aborts so: a stop */
        return OLA_HTTP_STOPPED;
    default:
        return OLA_HTTP_OTHER;
    }
}

/* A stop request (SIGTERM) aborts a transfer in flight instead of waiting for
 * its timeout: nothing fetched but not delivered is ever committed. */
static int ola_http_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                                curl_off_t ultotal, curl_off_t ulnow)
{
    (void)arg;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return ola_stopping() ? 1 : 0;
}

static size_t ola_http_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
    struct ola_http *h = arg;
    size_t n = size * nmemb;

    if (n > h->max_body || h->body->len > h->max_body - n) {
        /* refused as soon as the cap is crossed: nothing past it is buffered */
        h->too_big = true;
        h->too_big_at = h->body->len + n;
        return 0; /* aborts with CURLE_WRITE_ERROR */
    }
    if (h->body->len == 0) {
        curl_off_t cl = -1;

        /* one allocation for a body of announced size: growing a page of a
         * megabyte by doubling frees a chain of large blocks, each of which
         * makes malloc consolidate every small chunk freed before it */
        if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
                CURLE_OK &&
            cl > 0 && (uint64_t)cl <= (uint64_t)h->max_body)
            (void)ola_buf_reserve(h->body, (size_t)cl);
    }
    if (ola_buf_append(h->body, p, n) != 0) {
        h->nomem = true;
        return 0;
    }
    return n;
}

/* Copies a header value (blanks trimmed, truncated to fit) into dst. */
static void ola_http_keep(char *dst, size_t cap, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 &&
           (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void ola_http_clear_headers(struct ola_http_resp *rs)
{
    rs->date[0] = '\0';
    rs->rl_limit[0] = '\0';
    rs->rl_remaining[0] = '\0';
    rs->rl_reset[0] = '\0';
    rs->retry_after[0] = '\0';
    rs->content_type[0] = '\0';
}

static size_t ola_http_header_cb(char *p, size_t size, size_t nitems, void *arg)
{
    static const struct {
        const char *name;
        size_t off;
        size_t cap;
    } keep[] = {
        {"date", offsetof(struct ola_http_resp, date),
         sizeof(((struct ola_http_resp *)0)->date)},
        {"x-ratelimit-limit", offsetof(struct ola_http_resp, rl_limit),
         sizeof(((struct ola_http_resp *)0)->rl_limit)},
        {"x-ratelimit-remaining", offsetof(struct ola_http_resp, rl_remaining),
         sizeof(((struct ola_http_resp *)0)->rl_remaining)},
        {"x-ratelimit-reset", offsetof(struct ola_http_resp, rl_reset),
         sizeof(((struct ola_http_resp *)0)->rl_reset)},
        {"retry-after", offsetof(struct ola_http_resp, retry_after),
         sizeof(((struct ola_http_resp *)0)->retry_after)},
        {"content-type", offsetof(struct ola_http_resp, content_type),
         sizeof(((struct ola_http_resp *)0)->content_type)},
    };
    struct ola_http *h = arg;
    size_t n = size * nitems, i;
    const char *colon;

    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        ola_http_clear_headers(h->rs); /* a new response starts */
        return n;
    }
    colon = memchr(p, ':', n);
    if (colon == NULL)
        return n;
    for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        size_t nl = strlen(keep[i].name);

        if ((size_t)(colon - p) == nl && strncasecmp(p, keep[i].name, nl) == 0) {
            ola_http_keep((char *)h->rs + keep[i].off, keep[i].cap, colon + 1,
                          n - nl - 1);
            break;
        }
    }
    return n;
}

/* Appends a header line to *list; returns -1 on failure. */
static int ola_http_add(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);

    if (l == NULL)
        return -1;
    *list = l;
    return 0;
}

/* Frees a header list after wiping its strings (one may carry the token). */
static void ola_http_free_headers(struct curl_slist *list)
{
    struct curl_slist *l;

    for (l = list; l != NULL; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

static int ola_http_arm(struct ola_http *h, const struct ola_http_req *rq,
                        struct curl_slist *hdrs)
{
    CURL *c = h->curl;
    long connect_ms = h->timeout_ms < OLA_HTTP_CONNECT_MAX_MS ? (long)h->timeout_ms
                                                              : OLA_HTTP_CONNECT_MAX_MS;
    int bad = 0;

    curl_easy_reset(c);
    bad |= curl_easy_setopt(c, CURLOPT_URL, rq->url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    bad |=
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, ola_http_progress_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    /* TLS 1.2 at least, whatever the system's OpenSSL configuration allows */
    bad |= curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) !=
           CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "olagent/" OLA_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body) !=
           CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ola_http_write_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, h) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ola_http_header_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, h) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    if (h->ca_file != NULL)
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file) != CURLE_OK;
    if (h->proxy != NULL)
        bad |= curl_easy_setopt(c, CURLOPT_PROXY, h->proxy) != CURLE_OK;
    if (rq->basic_user != NULL) {
        bad |= curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_USERNAME, rq->basic_user) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_PASSWORD,
                                rq->basic_pass ? rq->basic_pass : "") != CURLE_OK;
    }
    if (strcmp(rq->method, "POST") == 0) {
        bad |= curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)(rq->body ? rq->body_len : 0)) != CURLE_OK;
        bad |=
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "") != CURLE_OK;
    } else if (strcmp(rq->method, "GET") == 0) {
        bad |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    } else {
        bad = 1;
    }
    return bad ? -1 : 0;
}

static int ola_http_build_headers(const struct ola_http_req *rq, struct curl_slist **out)
{
    struct curl_slist *l = NULL;
    struct ola_buf line = OLA_BUF_INIT;
    int rc = -1;

    if (ola_http_add(&l, "Accept: application/json") != 0 || ola_http_add(&l, "Expect:"))
        goto fail;
    if (rq->content_type != NULL) {
        if (ola_buf_printf(&line, "Content-Type: %s", rq->content_type) != 0 ||
            ola_http_add(&l, line.data) != 0)
            goto fail;
        ola_buf_reset(&line);
    }
    if (rq->bearer != NULL) {
        if (ola_buf_puts(&line, "Authorization: Bearer ") != 0 ||
            ola_buf_puts(&line, rq->bearer) != 0 || ola_http_add(&l, line.data) != 0)
            goto fail;
    }
    *out = l;
    l = NULL;
    rc = 0;
fail:
    if (line.data != NULL)
        explicit_bzero(line.data, line.cap);
    ola_buf_free(&line);
    ola_http_free_headers(l);
    return rc;
}

/*
 * Resets h and rs for rq, builds the headers (*hdrs, to free after the
 * transfer) and arms the easy handle. Returns 0, or -1 with rs->fail set.
 */
static int ola_http_begin(struct ola_http *h, const struct ola_http_req *rq,
                          struct ola_buf *body, struct ola_http_resp *rs,
                          struct curl_slist **hdrs)
{
    memset(rs, 0, sizeof(*rs));
    rs->sent_ms = ola_now_ms();
    ola_buf_reset(body);
    *hdrs = NULL;
    h->body = body;
    h->rs = rs;
    h->too_big = false;
    h->too_big_at = 0;
    h->nomem = false;
    h->errbuf[0] = '\0';
    if (ola_http_build_headers(rq, hdrs) != 0 || ola_http_arm(h, rq, *hdrs) != 0) {
        rs->fail = OLA_HTTP_NOMEM;
        snprintf(rs->fail_msg, sizeof(rs->fail_msg), "cannot set up the request");
        ola_http_free_headers(*hdrs);
        *hdrs = NULL;
        h->body = NULL;
        h->rs = NULL;
        return -1;
    }
    return 0;
}

/*
 * Says how big a refused body was, and the cap: the announced length when
 * libcurl refused it from Content-Length before any byte, else how far the
 * transfer got before it was aborted.
 */
static void ola_http_too_big_msg(struct ola_http *h, struct ola_http_resp *rs)
{
    curl_off_t cl = -1;
    int n;

    if (h->too_big)
        n = snprintf(rs->fail_msg, sizeof(rs->fail_msg),
                     "body over the cap of %zu bytes (aborted at %zu bytes)", h->max_body,
                     h->too_big_at);
    else if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
                 CURLE_OK &&
             cl >= 0)
        n = snprintf(rs->fail_msg, sizeof(rs->fail_msg),
                     "body over the cap of %zu bytes (Content-Length %lld, refused "
                     "before reading it)",
                     h->max_body, (long long)cl);
    else
        n = snprintf(rs->fail_msg, sizeof(rs->fail_msg), "body over the cap of %zu bytes",
                     h->max_body);
    if (n < 0)
        rs->fail_msg[0] = '\0';
}

/* Reads the outcome of a transfer that ended with rc into rs; frees hdrs. */
static int ola_http_end(struct ola_http *h, const struct ola_http_req *rq, CURLcode rc,
                        struct curl_slist *hdrs)
{
    struct ola_http_resp *rs = h->rs;
    struct ola_buf *body = h->body;
    curl_off_t us = 0;
    long status = 0;

    /* the easy handle keeps a pointer to hdrs: unhook before freeing */
    (void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    ola_http_free_headers(hdrs);
    if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        rs->status = status;
    if (curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
        rs->elapsed_ms = (int64_t)(us / 1000);
    rs->fail = ola_http_classify(rc, h);
    h->body = NULL;
    h->rs = NULL;
    /* what came of a failed transfer is never read: a body cut at the cap
     * would otherwise hold max_body bytes until the caller's next request */
    if (rs->fail != OLA_HTTP_OK) {
        if (body->data != NULL)
            explicit_bzero(body->data, body->len); /* a token answer, cut short */
        ola_buf_free(body);
    }
    if (rs->fail == OLA_HTTP_OK) {
        ola_log_debug("http", "%s %s -> %ld (%zu bytes, %lld ms)", rq->method, rq->url,
                      rs->status, body->len, (long long)rs->elapsed_ms);
        return 0;
    }
    if (rs->fail == OLA_HTTP_TIMEOUT && h->timeout_ms % 1000 == 0)
        snprintf(rs->fail_msg, sizeof(rs->fail_msg), "timeout after %llds",
                 (long long)(h->timeout_ms / 1000));
    else if (rs->fail == OLA_HTTP_TIMEOUT)
        snprintf(rs->fail_msg, sizeof(rs->fail_msg), "timeout after %lld ms",
                 (long long)h->timeout_ms);
    else if (rs->fail == OLA_HTTP_TOO_BIG)
        ola_http_too_big_msg(h, rs);
    else
        snprintf(rs->fail_msg, sizeof(rs->fail_msg), "%s: %s",
                 ola_http_fail_name(rs->fail),
                 h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
    ola_log_debug("http", "%s %s failed: %s", rq->method, rq->url, rs->fail_msg);
    return -1;
}

int ola_http_do(struct ola_http *h, const struct ola_http_req *rq, struct ola_buf *body,
                struct ola_http_resp *rs)
{
    struct curl_slist *hdrs = NULL;
    CURLcode rc;

    if (ola_http_begin(h, rq, body, rs, &hdrs) != 0)
        return -1;
    rc = curl_easy_perform(h->curl);
    return ola_http_end(h, rq, rc, hdrs);
}

/* ---- several transfers at once ---------------------------------------------- */

struct ola_http_multi {
    CURLM *multi;
    unsigned n;                 /* slots */
    struct ola_http **slot;     /* one easy wrapper per transfer in flight */
    struct ola_http_xfer **cur; /* the transfer a slot carries, NULL when free */
    struct curl_slist **hdrs;
};

int ola_http_multi_new(const struct ola_http_opts *opts, unsigned slots,
                       struct ola_http_multi **out, struct ola_err *err)
{
    struct ola_http_multi *m = NULL;
    unsigned i;

    *out = NULL;
    if (slots == 0)
        return ola_err_set(err, EINVAL, "at least one transfer at a time");
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto nomem;
    m->slot = calloc(slots, sizeof(*m->slot));
    m->cur = calloc(slots, sizeof(*m->cur));
    m->hdrs = calloc(slots, sizeof(*m->hdrs));
    if (m->slot == NULL || m->cur == NULL || m->hdrs == NULL)
        goto nomem;
    m->n = slots;
    for (i = 0; i < slots; i++)
        if (ola_http_new(opts, &m->slot[i], err) != 0)
            goto fail;
    m->multi = curl_multi_init();
    if (m->multi == NULL) {
        ola_err_set(err, 0, "curl_multi_init failed");
        goto fail;
    }
    /* connections are kept and reused between runs: at most one per slot */
    if (curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)slots) !=
            CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)slots) != CURLM_OK) {
        ola_err_set(err, 0, "cannot configure the libcurl multi handle");
        goto fail;
    }
    *out = m;
    return 0;
nomem:
    ola_err_set(err, ENOMEM, "out of memory");
fail:
    ola_http_multi_destroy(m);
    return -1;
}

void ola_http_multi_destroy(struct ola_http_multi *m)
{
    unsigned i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n && m->slot != NULL; i++) {
        if (m->slot[i] == NULL)
            continue;
        if (m->cur[i] != NULL && m->multi != NULL)
            (void)curl_multi_remove_handle(m->multi, m->slot[i]->curl);
        ola_http_free_headers(m->hdrs[i]);
        ola_http_destroy(m->slot[i]);
    }
    if (m->multi != NULL)
        (void)curl_multi_cleanup(m->multi);
    free(m->slot);
    free(m->cur);
    free(m->hdrs);
    free(m);
}

unsigned ola_http_multi_slots(const struct ola_http_multi *m)
{
    return m->n;
}

/* Ends the transfer of slot i with rc and hands it back to the feeder. */
static void ola_http_multi_finish(struct ola_http_multi *m, unsigned i, CURLcode rc,
                                  const struct ola_http_feed *f, void *arg)
{
    struct ola_http_xfer *x = m->cur[i];

    (void)curl_multi_remove_handle(m->multi, m->slot[i]->curl);
    x->rc = ola_http_end(m->slot[i], &x->rq, rc, m->hdrs[i]);
    m->hdrs[i] = NULL;
    m->cur[i] = NULL;
    f->done(arg, x);
}

/* Starts x in free slot i. Returns 0, or -1 when x ended at once (done called). */
static int ola_http_multi_start(struct ola_http_multi *m, unsigned i,
                                struct ola_http_xfer *x, const struct ola_http_feed *f,
                                void *arg)
{
    m->cur[i] = x;
    if (ola_http_begin(m->slot[i], &x->rq, x->body, &x->rs, &m->hdrs[i]) != 0) {
        x->rc = -1; /* rs says why */
        m->cur[i] = NULL;
        f->done(arg, x);
        return -1;
    }
    if (curl_easy_setopt(m->slot[i]->curl, CURLOPT_PRIVATE, (void *)(uintptr_t)i) !=
            CURLE_OK ||
        curl_multi_add_handle(m->multi, m->slot[i]->curl) != CURLM_OK) {
        ola_http_multi_finish(m, i, CURLE_OUT_OF_MEMORY, f, arg);
        return -1;
    }
    return 0;
}

int ola_http_multi_run(struct ola_http_multi *m, const struct ola_http_feed *f, void *arg)
{
    unsigned i, busy = 0;
    bool feeding = true;
    int rc = 0;

    for (;;) {
        CURLMsg *msg;
        int running = 0, left = 0, drained = 0;

        /* a transfer in every free slot the feeder has work for */
        for (i = 0; i < m->n && feeding; i++) {
            while (m->cur[i] == NULL && feeding) {
                struct ola_http_xfer *x = f->next(arg);

                if (x == NULL)
                    feeding = false;
                else if (ola_http_multi_start(m, i, x, f, arg) == 0)
                    busy++;
            }
        }
        if (busy == 0)
            break; /* nothing in flight and the feeder has nothing more */
        if (curl_multi_perform(m->multi, &running) != CURLM_OK) {
            rc = -1;
            break;
        }
        while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
            char *priv = NULL;

            if (msg->msg != CURLMSG_DONE ||
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) !=
                    CURLE_OK ||
                (uintptr_t)priv >= m->n || m->cur[(uintptr_t)priv] == NULL)
                continue;
            ola_http_multi_finish(m, (unsigned)(uintptr_t)priv, msg->data.result, f, arg);
            busy--;
            drained++;
            feeding = true; /* a slot is free: the feeder may have more now */
        }
        if (drained == 0 && curl_multi_poll(m->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
            rc = -1;
            break;
        }
    }
    if (rc != 0) {
        /* the multi handle broke: every transfer still in flight ends here */
        for (i = 0; i < m->n; i++)
            if (m->cur[i] != NULL)
                ola_http_multi_finish(m, i, CURLE_OUT_OF_MEMORY, f, arg);
    }
    return rc;
}
