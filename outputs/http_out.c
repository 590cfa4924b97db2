/*
 * http_out.c - the sender every HTTP output shares (http_out.h).
 *
 * Records of the batch in flight sit formatted in one buffer; a plan cuts
 * them into requests by count and bytes. ola_ho_flush puts every request not
 * done on one libcurl multi handle (OLA_HO_PARALLEL easy handles, reused, so
 * the multi handle's connection cache keeps connections alive; HTTP/2 over
 * TLS when ALPN offers it, multiplexed), and drives it until every request
 * has an answer or the flush timeout passes. A request still in flight then
 * stays in flight: the next flush goes on driving it. The output's prepare
 * hook builds a request before each send; its answer hook (or
 * ola_ho_classify) reads the answer: accepted (done), retry (sent again on a
 * later flush, not before a Retry-After time), refused (split in two halves
 * sent at once; a single record is dead-lettered), fatal, or settled record
 * by record by the hook (which may requeue some records). Nothing here
 * sleeps for backoff: the pipeline owns it. Header lines are wiped before
 * they are freed (they may carry credentials) and never logged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <zlib.h>

#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "outputs/http_out.h"

/* One transfer slot: an easy handle reused for request after request. */
struct ola_ho_xfer {
    CURL *easy;
    struct curl_slist *hdrs;
    size_t req;             /* index in h->reqs while busy */
    struct ola_ho_req *own; /* a request outside the plan (ola_ho_call), or NULL */
    bool busy;
    char errbuf[CURL_ERROR_SIZE];
    struct ola_ho *h;
};

struct ola_ho {
    struct ola_output *o;
    const struct ola_ho_ops *ops;
    struct ola_ho_conf c;
    char *base_url;
    CURLM *multi;
    struct ola_ho_xfer x[OLA_HO_PARALLEL];
    struct ola_ho_xfer side; /* ola_ho_call's, made on first use */
    struct ola_buf data;     /* the records' bytes */
    struct ola_ho_rec *recs; /* records of the batch */
    size_t n_recs, cap_recs;
    size_t mark;             /* records before the current write */
    struct ola_ho_req *reqs; /* the plan (and halves of refused requests) */
    size_t n_reqs, cap_reqs;
    unsigned round;  /* flush calls; a request answered retry waits a round */
    unsigned *tried; /* per request: the round it last ended in retry */
    size_t cap_tried;
    int64_t retry_at_mono_ms; /* Retry-After: nothing is sent before */
    int64_t batch_mono_ms;    /* when the batch began, for its latency */
};

static pthread_once_t ola_ho_once = PTHREAD_ONCE_INIT;
static CURLcode ola_ho_global_rc = CURLE_FAILED_INIT;

static void ola_ho_global_init(void)
{
    ola_ho_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- records and the plan --------------------------------------------------- */

static void ola_ho_req_free(struct ola_ho_req *rq)
{
    if (rq->headers.data != NULL)
        explicit_bzero(rq->headers.data, rq->headers.cap);
    ola_buf_free(&rq->headers);
    ola_buf_free(&rq->body);
    ola_buf_free(&rq->answer);
    free(rq->url);
    rq->url = NULL;
}

static void ola_ho_unhook(struct ola_ho_xfer *x);

void ola_ho_begin(struct ola_ho *h)
{
    size_t i;

    /* a batch given up on (stop) may still have transfers in flight */
    for (i = 0; i < OLA_HO_PARALLEL; i++)
        if (h->x[i].busy) {
            (void)curl_multi_remove_handle(h->multi, h->x[i].easy);
            ola_ho_unhook(&h->x[i]);
        }
    for (i = 0; i < h->n_reqs; i++) {
        h->reqs[i].xfer = NULL;
        ola_ho_req_free(&h->reqs[i]);
    }
    h->n_reqs = 0;
    h->n_recs = 0;
    h->mark = 0;
    ola_buf_reset(&h->data);
    h->batch_mono_ms = ola_mono_ms();
}

int ola_ho_add(struct ola_ho *h, size_t rec, int64_t id, const char *bytes, size_t len)
{
    struct ola_ho_rec *r;

    if (OLA_VEC_GROW(h->recs, h->cap_recs, h->n_recs + 1) != 0)
        return -1;
    r = &h->recs[h->n_recs];
    r->rec = rec;
    r->id = id;
    r->off = h->data.len;
    r->len = len;
    if (ola_buf_append(&h->data, bytes, len) != 0)
        return -1;
    h->n_recs++;
    return 0;
}

void ola_ho_rollback(struct ola_ho *h)
{
    ola_ho_begin(h);
}

/* Appends request [first, first + n) to the plan. */
static int ola_ho_push(struct ola_ho *h, size_t first, size_t n)
{
    struct ola_ho_req *rq;

    if (OLA_VEC_GROW(h->reqs, h->cap_reqs, h->n_reqs + 1) != 0 ||
        OLA_VEC_GROW(h->tried, h->cap_tried, h->n_reqs + 1) != 0)
        return -1;
    rq = &h->reqs[h->n_reqs];
    memset(rq, 0, sizeof(*rq));
    rq->first = first;
    rq->n = n;
    h->tried[h->n_reqs] = 0;
    h->n_reqs++;
    return 0;
}

int ola_ho_plan(struct ola_ho *h, size_t per_record, size_t per_request)
{
    size_t i, first = 0, bytes = per_request;

    for (i = 0; i < h->n_recs; i++) {
        size_t add = h->recs[i].len + per_record;

        if (i > first && ((long long)(i - first) >= h->c.batch_max_events ||
                          bytes + add > h->c.batch_max_bytes)) {
            if (ola_ho_push(h, first, i - first) != 0)
                return -1;
            first = i;
            bytes = per_request;
        }
        bytes += add;
    }
    if (i > first && ola_ho_push(h, first, i - first) != 0)
        return -1;
    return 0;
}

int ola_ho_requeue(struct ola_ho *h, size_t first, size_t n)
{
    if (n == 0 || first + n > h->n_recs || ola_ho_push(h, first, n) != 0)
        return -1;
    /* a retry: not before the next round (ola_ho_fill) */
    h->reqs[h->n_reqs - 1].attempts = 1;
    h->tried[h->n_reqs - 1] = h->round;
    return 0;
}

bool ola_ho_pending(const struct ola_ho *h)
{
    size_t i;

    for (i = 0; i < h->n_reqs; i++)
        if (!h->reqs[i].done)
            return true;
    return false;
}

const struct ola_ho_req *ola_ho_reqs(const struct ola_ho *h, size_t *n)
{
    *n = h->n_reqs;
    return h->reqs;
}

void ola_ho_redo(struct ola_ho *h, size_t i)
{
    struct ola_ho_req *rq = i < h->n_reqs ? &h->reqs[i] : NULL;

    if (rq == NULL || !rq->done || rq->xfer != NULL)
        return;
    rq->done = false;
    h->tried[i] = h->round; /* out again on the next flush, as after a retry */
    h->o->stats.emitted -= h->o->stats.emitted >= rq->n ? rq->n : h->o->stats.emitted;
}

void ola_ho_req_clear(struct ola_ho_req *rq)
{
    ola_ho_req_free(rq);
}

const struct ola_ho_rec *ola_ho_recs(const struct ola_ho *h, size_t *n)
{
    *n = h->n_recs;
    return h->recs;
}

const char *ola_ho_rec_bytes(const struct ola_ho *h, const struct ola_ho_rec *r)
{
    return h->data.data + r->off;
}

int ola_ho_frame(const struct ola_ho *h, const struct ola_ho_req *rq,
                 enum ola_ho_framing framing, struct ola_buf *out)
{
    size_t i;

    if (framing == OLA_HO_JSON_ARRAY && ola_buf_putc(out, '[') != 0)
        return -1;
    for (i = rq->first; i < rq->first + rq->n; i++) {
        const struct ola_ho_rec *r = &h->recs[i];

        if (framing == OLA_HO_JSON_ARRAY && i > rq->first && ola_buf_putc(out, ',') != 0)
            return -1;
        if (ola_buf_append(out, h->data.data + r->off, r->len) != 0)
            return -1;
        if (framing == OLA_HO_NDJSON && ola_buf_putc(out, '\n') != 0)
            return -1;
    }
    if (framing == OLA_HO_JSON_ARRAY && ola_buf_putc(out, ']') != 0)
        return -1;
    return 0;
}

static size_t ola_ho_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
    struct ola_ho_xfer *x = arg;
    struct ola_ho_req *rq = x->own != NULL ? x->own : &x->h->reqs[x->req];
    size_t n = size * nmemb, room;

    room = rq->answer.len < OLA_HO_ANSWER_MAX ? OLA_HO_ANSWER_MAX - rq->answer.len : 0;
    /* past the cap the rest is read and dropped: the status is what counts */
    if (room > 0 && ola_buf_append(&rq->answer, p, n < room ? n : room) != 0)
        return 0;
    return n;
}

static size_t ola_ho_header_cb(char *p, size_t size, size_t nitems, void *arg)
{
    struct ola_ho_xfer *x = arg;
    struct ola_ho_req *rq = x->own != NULL ? x->own : &x->h->reqs[x->req];
    size_t n = size * nitems, k = sizeof("retry-after:") - 1, m;
    const char *v;

    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        rq->retry_after[0] = '\0'; /* a new response (after a 1xx) */
        ola_buf_reset(&rq->answer);
        return n;
    }
    if (n <= k || strncasecmp(p, "retry-after:", k) != 0)
        return n;
    v = p + k;
    m = n - k;
    while (m > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        m--;
    }
    while (m > 0 && (v[m - 1] == '\r' || v[m - 1] == '\n' || v[m - 1] == ' '))
        m--;
    if (m >= sizeof(rq->retry_after))
        m = sizeof(rq->retry_after) - 1;
    memcpy(rq->retry_after, v, m);
    rq->retry_after[m] = '\0';
    return n;
}

/* Arms slot x for request rq (built by the output's prepare). 0 / -1. */
static int ola_ho_arm(struct ola_ho *h, struct ola_ho_xfer *x, struct ola_ho_req *rq)
{
    CURL *c = x->easy;
    long connect_ms = h->c.timeout_ms < 10000 ? (long)h->c.timeout_ms : 10000;
    size_t off;
    int bad = 0;

    curl_easy_reset(c);
    for (off = 0; off < rq->headers.len; off += strlen(rq->headers.data + off) + 1) {
        struct curl_slist *l = curl_slist_append(x->hdrs, rq->headers.data + off);

        if (l == NULL)
            return -1;
        x->hdrs = l;
    }
    if (!h->ops->allow_expect) {
        /* no "Expect: 100-continue" round trip before large bodies */
        struct curl_slist *l = curl_slist_append(x->hdrs, "Expect:");

        if (l == NULL)
            return -1;
        x->hdrs = l;
    }
    bad |= curl_easy_setopt(c, CURLOPT_URL, rq->url ? rq->url : h->base_url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) !=
           CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->c.timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->c.verify ? 1L : 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->c.verify ? 2L : 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) !=
           CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "olagent/" OLA_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ola_ho_write_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ola_ho_header_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)x) != CURLE_OK;
    /* "" turns off the proxy the environment may name: only `proxy:` counts */
    bad |= curl_easy_setopt(c, CURLOPT_PROXY, h->c.proxy ? h->c.proxy : "") != CURLE_OK;
    if (h->c.ca_file != NULL)
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, h->c.ca_file) != CURLE_OK;
    if (h->c.client_cert != NULL)
        bad |= curl_easy_setopt(c, CURLOPT_SSLCERT, h->c.client_cert) != CURLE_OK;
    if (h->c.client_key != NULL)
        bad |= curl_easy_setopt(c, CURLOPT_SSLKEY, h->c.client_key) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body.len) !=
           CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body.data ? rq->body.data : "") !=
           CURLE_OK;
    if (strcmp(rq->method, "POST") != 0)
        bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method) != CURLE_OK;
    if (!bad && h->ops->easy != NULL && h->ops->easy(h->o, h, rq, c) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

static void ola_ho_unhook(struct ola_ho_xfer *x)
{
    struct curl_slist *l;

    (void)curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
    for (l = x->hdrs; l != NULL; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    x->busy = false;
}

/* Starts request i in a free slot. 1 started, 0 no free slot, -1 failed (nomem). */
static int ola_ho_start(struct ola_ho *h, size_t i)
{
    struct ola_ho_req *rq = &h->reqs[i];
    struct ola_ho_xfer *x = NULL;
    size_t s;

    for (s = 0; s < OLA_HO_PARALLEL && x == NULL; s++)
        if (!h->x[s].busy)
            x = &h->x[s];
    if (x == NULL)
        return 0;
    ola_buf_reset(&rq->body);
    if (rq->headers.data != NULL)
        explicit_bzero(rq->headers.data, rq->headers.len);
    ola_buf_reset(&rq->headers);
    ola_buf_reset(&rq->answer);
    free(rq->url);
    rq->url = NULL;
    rq->method = "POST";
    rq->status = 0;
    rq->fail[0] = '\0';
    rq->retry_after[0] = '\0';
    rq->tag = 0;
    if (h->ops->prepare(h->o, h, rq) != 0)
        return -1;
    x->busy = true;
    x->req = i;
    x->errbuf[0] = '\0';
    if (ola_ho_arm(h, x, rq) != 0 ||
        curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        ola_ho_unhook(x);
        return -1;
    }
    rq->xfer = x;
    rq->started_mono_ms = ola_mono_ms();
    if (rq->attempts++ > 0)
        h->o->stats.req.retries++;
    return 1;
}

/* Reads the outcome of x's transfer into rq, and counts it. */
static void ola_ho_note(struct ola_ho *h, struct ola_ho_xfer *x, struct ola_ho_req *rq,
                        CURLcode rc)
{
    struct ola_output_req_stats *st = &h->o->stats.req;
    curl_off_t up = 0;
    long status = 0;

    if (curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK && up > 0)
        st->bytes_sent += (uint64_t)up;
    if (rc == CURLE_OK &&
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        rq->status = status;
    if (rq->status == 0)
        snprintf(rq->fail, sizeof(rq->fail), "%.190s",
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    st->requests[rq->status >= 200 && rq->status < 600 ? rq->status / 100 - 2
                                                       : OLA_OUT_SC_NONE]++;
}

/* Reads the outcome of the transfer in x into its request and frees the slot. */
static struct ola_ho_req *ola_ho_end(struct ola_ho *h, struct ola_ho_xfer *x, CURLcode rc)
{
    struct ola_ho_req *rq = &h->reqs[x->req];

    (void)curl_multi_remove_handle(h->multi, x->easy);
    ola_ho_note(h, x, rq, rc);
    rq->xfer = NULL;
    ola_ho_unhook(x);
    return rq;
}

/* Dead-letters the one record of rq. 0 / -1 out of memory. */
static int ola_ho_refuse_one(struct ola_ho *h, const struct ola_ho_req *rq)
{
    char head[160];

    ola_ho_answer_head(rq, head, sizeof(head));
    return ola_output_refuse(h->o, h->recs[rq->first].rec, NULL, 0, "HTTP %ld: %s",
                             rq->status, head);
}

/*
 * Acts on the answer of request i. Returns OLA_OK (done, or halves queued),
 * OLA_RETRY (sent again later) or OLA_FATAL.
 */
static enum ola_rc ola_ho_settle(struct ola_ho *h, size_t i)
{
    struct ola_ho_req *rq = &h->reqs[i];
    enum ola_ho_verdict v =
        h->ops->answer != NULL ? h->ops->answer(h->o, h, rq) : ola_ho_classify(h->o, rq);
    size_t first = rq->first, n = rq->n;

    switch (v) {
    case OLA_HO_ACCEPTED:
        rq->done = true;
        h->o->stats.emitted += n;
        return OLA_OK;
    case OLA_HO_FATAL:
        return OLA_FATAL;
    case OLA_HO_SETTLED:
        h->reqs[i].done = true; /* rq may have moved (ola_ho_requeue) */
        return OLA_OK;
    case OLA_HO_REFUSED:
        if (n == 1) {
            if (ola_ho_refuse_one(h, rq) != 0)
                break;
            rq->done = true;
            return OLA_OK;
        }
        /* which record? send each half: only refused ones end as letters */
        if (ola_ho_push(h, first, n / 2) != 0 || ola_ho_push(h, first + n / 2, n - n / 2))
            break;
        h->reqs[i].done = true; /* rq may have moved */
        return OLA_OK;
    case OLA_HO_RETRY: {
        int64_t ms = ola_ho_retry_after_ms(rq->retry_after, ola_now_ms());

        if (ms > 0 && ola_mono_ms() + ms > h->retry_at_mono_ms)
            h->retry_at_mono_ms = ola_mono_ms() + ms;
        h->tried[i] = h->round;
        return OLA_RETRY;
    }
    }
    snprintf(h->o->last_error, sizeof(h->o->last_error), "out of memory");
    h->tried[i] = h->round;
    return OLA_RETRY;
}

/* Reads every finished transfer (counted in *reaped). Returns OLA_FATAL or OLA_OK. */
static enum ola_rc ola_ho_reap(struct ola_ho *h, int *reaped)
{
    CURLMsg *msg;
    int left = 0;

    *reaped = 0;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        struct ola_ho_xfer *x = NULL;
        size_t i;

        if (msg->msg != CURLMSG_DONE ||
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x) !=
                CURLE_OK ||
            x == NULL || !x->busy)
            continue;
        i = x->req;
        (*reaped)++;
        (void)ola_ho_end(h, x, msg->data.result);
        if (ola_ho_settle(h, i) == OLA_FATAL)
            return OLA_FATAL;
    }
    return OLA_OK;
}

/* Starts what can start. Returns the number of transfers in flight, -1 nomem. */
static int ola_ho_fill(struct ola_ho *h)
{
    size_t i, s;
    int busy = 0;

    /* a Retry-After holds the whole destination: nothing new starts before it
     * (requests already in flight go on) */
    for (i = 0; i < h->n_reqs && h->retry_at_mono_ms <= ola_mono_ms(); i++) {
        struct ola_ho_req *rq = &h->reqs[i];

        if (rq->done || rq->xfer != NULL || (rq->attempts > 0 && h->tried[i] == h->round))
            continue;
        if (ola_ho_start(h, i) < 0) {
            snprintf(h->o->last_error, sizeof(h->o->last_error), "out of memory");
            return -1;
        }
    }
    for (s = 0; s < OLA_HO_PARALLEL; s++)
        busy += h->x[s].busy;
    return busy;
}

enum ola_rc ola_ho_flush(struct ola_ho *h, int timeout_ms)
{
    struct ola_output *o = h->o;
    int64_t now = ola_mono_ms(), deadline = now + (timeout_ms > 0 ? timeout_ms : 0);
    size_t i, waiting = 0;

    if (!ola_ho_pending(h))
        return OLA_OK;
    h->round++;
    if (h->retry_at_mono_ms > now) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "the server asked to wait (Retry-After): %lld ms more",
                 (long long)(h->retry_at_mono_ms - now));
        o->retry_at_mono_ms = h->retry_at_mono_ms;
        o->stats.errors++;
        return OLA_RETRY;
    }
    for (;;) {
        int running = 0, reaped = 0, busy = ola_ho_fill(h);

        if (busy < 0)
            break;
        if (busy == 0)
            break; /* all answered (some may wait for the next round) */
        if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
            snprintf(o->last_error, sizeof(o->last_error), "libcurl multi handle failed");
            break;
        }
        if (ola_ho_reap(h, &reaped) == OLA_FATAL) {
            o->stats.errors++;
            return OLA_FATAL;
        }
        now = ola_mono_ms();
        if (now >= deadline)
            break;
        if (reaped > 0)
            continue; /* slots freed: start what waits, or stop when none */
        if (curl_multi_poll(h->multi, NULL, 0,
                            (int)(deadline - now < 1000 ? deadline - now : 1000),
                            NULL) != CURLM_OK)
            break;
    }
    for (i = 0; i < h->n_reqs; i++)
        waiting += !h->reqs[i].done;
    if (waiting == 0) {
        o->stats.req.batches++;
        o->stats.req.batch_ms += (uint64_t)(ola_mono_ms() - h->batch_mono_ms);
        o->retry_at_mono_ms = 0;
        o->last_error[0] = '\0';
        return OLA_OK;
    }
    o->retry_at_mono_ms = h->retry_at_mono_ms > ola_mono_ms() ? h->retry_at_mono_ms : 0;
    if (o->last_error[0] == '\0')
        snprintf(o->last_error, sizeof(o->last_error),
                 "%zu requests not answered within %d ms", waiting, timeout_ms);
    o->stats.errors++;
    return OLA_RETRY;
}

int ola_ho_call(struct ola_ho *h, struct ola_ho_req *rq, int timeout_ms)
{
    struct ola_ho_xfer *x = &h->side;
    long ms =
        timeout_ms > 0 && timeout_ms < h->c.timeout_ms ? timeout_ms : h->c.timeout_ms;

    rq->status = 0;
    rq->fail[0] = rq->retry_after[0] = '\0';
    ola_buf_reset(&rq->answer);
    if (rq->method == NULL)
        rq->method = "POST";
    if (x->easy == NULL && (x->easy = curl_easy_init()) == NULL)
        return -1;
    x->h = h;
    x->own = rq;
    x->errbuf[0] = '\0';
    if (ola_ho_arm(h, x, rq) != 0 ||
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK) {
        ola_ho_unhook(x);
        x->own = NULL;
        return -1;
    }
    ola_ho_note(h, x, rq, curl_easy_perform(x->easy));
    ola_ho_unhook(x);
    x->own = NULL;
    return 0;
}

/* ---- setup ------------------------------------------------------------------------- */

int ola_ho_new(struct ola_output *o, const struct ola_ho_conf *c, const char *base_url,
               const struct ola_ho_ops *ops, struct ola_ho **out, struct ola_err *err)
{
    struct ola_ho *h;
    size_t s;

    *out = NULL;
    if (pthread_once(&ola_ho_once, ola_ho_global_init) != 0 ||
        ola_ho_global_rc != CURLE_OK)
        return ola_err_set(err, 0, "libcurl global initialisation failed");
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    h->o = o;
    h->ops = ops;
    h->c = *c;
    h->base_url = strdup(base_url);
    h->multi = curl_multi_init();
    if (h->base_url == NULL || h->multi == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    for (s = 0; s < OLA_HO_PARALLEL; s++) {
        h->x[s].h = h;
        h->x[s].easy = curl_easy_init();
        if (h->x[s].easy == NULL) {
            ola_err_set(err, ENOMEM, "curl_easy_init failed");
            goto fail;
        }
    }
    /* HTTP/2 streams share one connection; HTTP/1.1 keeps one per transfer */
    if (curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) !=
            CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)OLA_HO_PARALLEL) !=
            CURLM_OK) {
        ola_err_set(err, 0, "cannot configure the libcurl multi handle");
        goto fail;
    }
    o->stats.req.active = true;
    *out = h;
    return 0;
fail:
    ola_ho_destroy(h);
    return -1;
}

void ola_ho_destroy(struct ola_ho *h)
{
    size_t s;

    if (h == NULL)
        return;
    for (s = 0; s < OLA_HO_PARALLEL; s++) {
        if (h->x[s].easy == NULL)
            continue;
        if (h->x[s].busy) {
            (void)curl_multi_remove_handle(h->multi, h->x[s].easy);
            ola_ho_unhook(&h->x[s]);
        }
        curl_easy_cleanup(h->x[s].easy);
    }
    if (h->side.easy != NULL)
        curl_easy_cleanup(h->side.easy);
    if (h->multi != NULL)
        (void)curl_multi_cleanup(h->multi);
    ola_ho_begin(h);
    ola_buf_free(&h->data);
    free(h->recs);
    free(h->reqs);
    free(h->tried);
    free(h->base_url);
    free(h);
}
