/*
 * client.c - the OneLogin API client: setup and requests.
 *
 * A GET asks the governor first (it may say wait or defer: nothing is sent),
 * makes sure a v2 token is held (token.c), sends the call with the bearer and
 * classifies the answer with the pure ola_ol_classify() (classify.c). A plain
 * 401 drops the token, fetches one more and retries once; a second 401 is a
 * configuration error. Every answer feeds the governor (X-RateLimit-*) and
 * the server clock (srvclock.c, from Date, on the monotonic clock: a Date far
 * off the estimate is ignored until several agree, and each change of that
 * state is logged once). Nothing else here sleeps or logs above debug; the
 * token and the secret never reach a reason, log line or error.
 * Lookups (ola_ol_get_many) go out several at once on a libcurl multi handle
 * of their own, each admitted by the same governor just before it is sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent/core/log.h"
#include "agent/core/rng.h"
#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "agent/onelogin/classify.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/client_priv.h"
#include "agent/onelogin/http.h"
#include "agent/onelogin/ratelimit.h"
#include "agent/onelogin/srvclock.h"

#define OLA_OL_DEFAULT_RESERVE 0.2
#define OLA_OL_CLOCK_TIGHT_MS  50 /* server clock known well enough: no more probes */

/* ---- client setup --------------------------------------------------------- */

static bool ola_ol_loopback_host(const char *host)
{
    unsigned char a4[4];
    struct in6_addr a6;
    char tmp[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, a4) == 1)
        return a4[0] == 127;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(tmp)) {
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) == 1)
            return IN6_IS_ADDR_LOOPBACK(&a6) != 0;
    }
    return false;
}

/* Checks the base URL; returns 0 / -1 with err. */
static int ola_ol_check_url(const char *url, struct ola_err *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *frag = NULL;
    int rc = -1;

    if (u == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        ola_err_set(err, EINVAL, "onelogin.base_url \"%s\" is not a valid URL", url);
        goto fail;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        ola_err_set(err, EINVAL, "onelogin.base_url must not carry credentials");
        goto fail;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
        ola_err_set(err, EINVAL,
                    "onelogin.base_url \"%s\" must not have a query or fragment", url);
        goto fail;
    }
    if (strcasecmp(scheme, "https") == 0) {
        rc = 0;
    } else if (strcasecmp(scheme, "http") == 0) {
        if (!ola_ol_loopback_host(host)) {
            ola_err_set(err, EINVAL,
                        "onelogin.base_url \"%s\": plain http:// is refused off loopback "
                        "(127.0.0.0/8, localhost, ::1); use https://",
                        url);
            goto fail;
        }
        rc = 0;
    } else {
        ola_err_set(err, EINVAL, "onelogin.base_url \"%s\": scheme must be https", url);
    }
fail:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(u);
    return rc;
}

int ola_ol_client_new(const struct ola_ol_opts *opts, struct ola_ol_client **out,
                      struct ola_err *err)
{
    struct ola_http_opts ho = {0};
    struct ola_ol_client *c = NULL;
    struct ola_rng seeds;
    double reserve;
    size_t n;

    *out = NULL;
    if (opts == NULL || opts->base_url == NULL || opts->base_url[0] == '\0')
        return ola_err_set(err, EINVAL, "onelogin.base_url is not set");
    if (opts->client_id == NULL || opts->client_id[0] == '\0')
        return ola_err_set(err, EINVAL, "onelogin.client_id is not set");
    if (opts->client_secret == NULL || opts->client_secret[0] == '\0')
        return ola_err_set(err, EINVAL, "onelogin.client_secret is not set");
    reserve = opts->reserve == 0 ? OLA_OL_DEFAULT_RESERVE : opts->reserve;
    if (!(reserve >= 0 && reserve < 1))
        return ola_err_set(err, EINVAL, "reserve must be in [0, 1)");
    if (ola_ol_check_url(opts->base_url, err) != 0)
        return -1;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto nomem;
    ola_srvclock_init(&c->clock);
    c->base = strdup(opts->base_url);
    c->client_id = strdup(opts->client_id);
    c->client_secret = strdup(opts->client_secret);
    if (c->base == NULL || c->client_id == NULL || c->client_secret == NULL)
        goto nomem;
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->base_len = n;
    ho.timeout_ms = opts->timeout_ms;
    ho.ca_file = opts->ca_file;
    ho.proxy = opts->proxy;
    ho.max_body = opts->max_body;
    if (ola_http_new(&ho, &c->http, err) != 0)
        goto fail;
    c->timeout_ms = opts->timeout_ms;
    c->lk_concurrency = OLA_OL_DEFAULT_CONCURRENCY; /* until ola_ol_lookups_setup */
    c->max_body = opts->max_body;
    c->ca_file = opts->ca_file != NULL ? strdup(opts->ca_file) : NULL;
    c->proxy = opts->proxy != NULL ? strdup(opts->proxy) : NULL;
    if ((opts->ca_file != NULL && c->ca_file == NULL) ||
        (opts->proxy != NULL && c->proxy == NULL))
        goto nomem;
    /* one generator seeds both backoffs: the clock, the pid, an address */
    ola_rng_seed(&seeds, 0);
    ola_rl_init(&c->rl, reserve, ola_rng_next(&seeds));
    ola_rl_set_backoff_max(&c->rl, opts->backoff_max_ms);
    ola_ol_token_init(c, ola_rng_next(&seeds));
    *out = c;
    return 0;
nomem:
    ola_err_set(err, ENOMEM, "out of memory");
fail:
    ola_ol_client_destroy(c);
    return -1;
}

void ola_ol_client_destroy(struct ola_ol_client *c)
{
    if (c == NULL)
        return;
    ola_http_destroy(c->http);
    ola_http_multi_destroy(c->multi);
    free(c->ca_file);
    free(c->proxy);
    ola_ol_drop_token(c);
    ola_secret_free(c->client_secret);
    ola_ol_wipe_buf(&c->token_body);
    ola_buf_free(&c->token_body);
    free(c->client_id);
    free(c->base);
    free(c);
}

/* ---- responses, clocks, counters ------------------------------------------ */

void ola_ol_response_init(struct ola_ol_response *r)
{
    memset(r, 0, sizeof(*r));
    r->server_date_ms = -1;
}

void ola_ol_response_free(struct ola_ol_response *r)
{
    if (r == NULL)
        return;
    ola_buf_free(&r->body);
    ola_ol_response_init(r);
}

/* Empties r for a new call, keeping the body's allocation. */
static void ola_ol_response_reset(struct ola_ol_response *r)
{
    struct ola_buf body = r->body;

    ola_buf_reset(&body);
    ola_ol_response_init(r);
    r->body = body;
}

int64_t ola_ol_server_now_ms(const struct ola_ol_client *c)
{
    if (!c->clock.known)
        return ola_now_ms();
    return ola_srvclock_now(&c->clock, ola_mono_ms());
}

bool ola_ol_has_server_time(const struct ola_ol_client *c)
{
    return c->clock.known;
}

int64_t ola_ol_clock_probe_delay(struct ola_ol_client *c, int64_t due_ms)
{
    /* the estimate lives on the monotonic clock */
    return ola_srvclock_probe_delay(&c->clock, due_ms - ola_now_ms() + ola_mono_ms(),
                                    OLA_OL_CLOCK_TIGHT_MS);
}

void ola_ol_rate(const struct ola_ol_client *c, struct ola_ol_rate *out)
{
    out->limit = c->rl.limit;
    out->remaining = c->rl.remaining;
    out->reset_at_mono_ms = c->rl.reset_at_ms;
}

const struct ola_ol_counters *ola_ol_counters(const struct ola_ol_client *c)
{
    return &c->ctr;
}

/*
 * Feeds one Date to the server clock (sent_wall_ms: the local wall clock when
 * the request went out, -1 unknown) and logs a change in whether Dates are
 * trusted: one line when outliers start being ignored, one when they stop or
 * are followed, never one per answer.
 */
static void ola_ol_learn_date(struct ola_ol_client *c, int64_t date, int64_t sent_wall_ms)
{
    int64_t mono = ola_mono_ms(), wall = ola_now_ms();
    int64_t sent = sent_wall_ms >= 0 ? sent_wall_ms - wall + mono : -1;
    struct ola_srvclock *ck = &c->clock;

    switch (ola_srvclock_learn(ck, date, sent, mono)) {
    case OLA_SRVCLOCK_OUTLIER_START:
        c->clock_streak_from = ck->rejected - 1;
        ola_log_warn("onelogin",
                     "ignoring the server's Date: %+llds off the server time estimated "
                     "so far; the estimate moves only if %d answers in a row over %ds "
                     "agree on it",
                     (long long)(ck->jump_ms / 1000), OLA_SRVCLOCK_AGREE_N,
                     OLA_SRVCLOCK_AGREE_MS / 1000);
        break;
    case OLA_SRVCLOCK_OUTLIER_END:
        ola_log_info("onelogin",
                     "the server's Date agrees with the estimate again (%llu answer(s) "
                     "ignored)",
                     (unsigned long long)(ck->rejected - c->clock_streak_from));
        break;
    case OLA_SRVCLOCK_MOVED:
        ola_log_warn("onelogin",
                     "the server's clock moved by %+llds: %d answers over %ds agreed; "
                     "following it",
                     (long long)(ck->jump_ms / 1000), OLA_SRVCLOCK_AGREE_N,
                     OLA_SRVCLOCK_AGREE_MS / 1000);
        break;
    case OLA_SRVCLOCK_SAME:
        break;
    }
    c->ctr.clock_rejected = ck->rejected;
}

/*
 * Learns from a complete or partial answer: server clock (Date), governor
 * (X-RateLimit-*), and a rate-limit block when v says so.
 */
void ola_ol_absorb(struct ola_ol_client *c, const struct ola_http_resp *rs,
                   const struct ola_ol_verdict *v, struct ola_ol_response *r)
{
    int64_t mono = ola_mono_ms(), date, ms;

    r->http_status = rs->status;
    r->stopped = rs->fail == OLA_HTTP_STOPPED;
    if (rs->date[0] != '\0' && ola_time_parse_http(rs->date, &date) == 0) {
        r->server_date_ms = date;
        ola_ol_learn_date(c, date, rs->sent_ms);
    }
    ola_rl_update(&c->rl, rs->rl_limit, rs->rl_remaining, rs->rl_reset, mono);
    r->rate_limited = v->rate_limited;
    if (v->rate_limited) {
        c->ctr.rate_limited++;
        r->retry_after_ms = ola_rl_limited(&c->rl, rs->rl_reset, rs->retry_after,
                                           v->from_api, mono, ola_now_ms());
    } else {
        if (rs->status > 0)
            ola_rl_ok(&c->rl);
        if (v->status == OLA_OL_RETRY && ola_rl_parse_seconds(rs->retry_after, &ms) == 0)
            r->retry_after_ms = ms; /* e.g. a 503 with Retry-After */
    }
    snprintf(r->reason, sizeof(r->reason), "%s", v->reason);
}

const char *const ola_ol_endpoint_names[OLA_OL_EP_MAX] = {
    "token", "events", "event_types", "users", "roles", "rate_limit", "other",
};
const char *const ola_ol_status_class_names[OLA_OL_SC_MAX] = {
    "none", "2xx", "3xx", "4xx", "429", "5xx",
};

/* The endpoint a request path goes to. */
static enum ola_ol_endpoint ola_ol_endpoint_of(const char *path)
{
    enum ola_ol_endpoint ep = OLA_OL_EP_OTHER;

    if (strncmp(path, "/auth/oauth2", 12) == 0)
        ep = OLA_OL_EP_TOKEN;
    else if (strncmp(path, "/auth/rate_limit", 16) == 0)
        ep = OLA_OL_EP_RATE_LIMIT;
    else if (strncmp(path, "/api/1/events/types", 19) == 0)
        ep = OLA_OL_EP_EVENT_TYPES;
    else if (strncmp(path, "/api/1/events", 13) == 0)
        ep = OLA_OL_EP_EVENTS;
    else if (strncmp(path, "/api/1/users", 12) == 0 ||
             strncmp(path, "/api/2/users", 12) == 0)
        ep = OLA_OL_EP_USERS;
    else if (strncmp(path, "/api/1/roles", 12) == 0 ||
             strncmp(path, "/api/2/roles", 12) == 0)
        ep = OLA_OL_EP_ROLES;
    return ep;
}

/* Counts one request by endpoint (from its path) and status class. */
void ola_ol_count(struct ola_ol_client *c, const char *path, long status)
{
    enum ola_ol_endpoint ep = ola_ol_endpoint_of(path);
    enum ola_ol_status_class sc = OLA_OL_SC_NONE;

    if (status == 429)
        sc = OLA_OL_SC_429;
    else if (status >= 500)
        sc = OLA_OL_SC_5XX;
    else if (status >= 400)
        sc = OLA_OL_SC_4XX;
    else if (status >= 300)
        sc = OLA_OL_SC_3XX;
    else if (status >= 100)
        sc = OLA_OL_SC_2XX;
    c->ctr.by_endpoint[ep][sc]++;
}

/* ---- calls ---------------------------------------------------------------- */

/* One GET with the current token; v says what the answer means. */
static void ola_ol_send_get(struct ola_ol_client *c, const char *url,
                            struct ola_ol_response *r, struct ola_ol_verdict *v)
{
    struct ola_http_req rq = {0};
    struct ola_http_resp rs;

    rq.method = "GET";
    rq.url = url;
    rq.bearer = c->token;
    c->ctr.requests++;
    if (ola_http_do(c->http, &rq, &r->body, &rs) == 0)
        ola_ol_classify(rs.status, rs.content_type, r->body.data, r->body.len,
                        ola_ol_endpoint_of(url + c->base_len) == OLA_OL_EP_EVENTS
                            ? OLA_OL_CALL_PAGE
                            : OLA_OL_CALL_RESOURCE,
                        v);
    else
        ola_ol_classify_fail(rs.fail, rs.fail_msg, rs.status, v);
    ola_ol_count(c, url + c->base_len, rs.status);
    ola_ol_absorb(c, &rs, v, r);
}

static enum ola_ol_status ola_ol_done(struct ola_ol_client *c, enum ola_ol_status st)
{
    if (st == OLA_OL_RETRY)
        c->ctr.retries++;
    return st;
}

enum ola_ol_status ola_ol_get(struct ola_ol_client *c, const char *path_query,
                              enum ola_ol_priority prio, struct ola_ol_response *r)
{
    struct ola_ol_verdict v;
    struct ola_buf url = OLA_BUF_INIT;
    enum ola_ol_status st = OLA_OL_RETRY;
    enum ola_rl_verdict gv;
    int64_t wait;
    int attempt;

    ola_ol_response_reset(r);
    if (path_query == NULL || path_query[0] != '/') {
        snprintf(r->reason, sizeof(r->reason), "request path must start with '/'");
        return OLA_OL_BAD_REQUEST;
    }
    gv = ola_rl_admit(&c->rl, prio == OLA_OL_PRIO_LOOKUP ? OLA_RL_LOOKUP : OLA_RL_POLL,
                      ola_mono_ms(), &wait);
    if (gv != OLA_RL_GO) {
        r->retry_after_ms = wait;
        if (gv == OLA_RL_DEFER) {
            ola_ol_reason(r->reason, sizeof(r->reason),
                          "lookup deferred to keep the polling reserve (%ld of %ld calls "
                          "left)",
                          c->rl.remaining, c->rl.limit);
            return OLA_OL_DEFERRED;
        }
        c->ctr.paced_ms += (uint64_t)wait;
        r->rate_limited = c->rl.blocked_until_ms > ola_mono_ms();
        ola_ol_reason(r->reason, sizeof(r->reason), "%s: wait %lld ms",
                      r->rate_limited ? "rate limited" : "pacing to the rate limit",
                      (long long)wait);
        return prio == OLA_OL_PRIO_LOOKUP ? OLA_OL_DEFERRED
                                          : ola_ol_done(c, OLA_OL_RETRY);
    }
    if (ola_buf_printf(&url, "%s%s", c->base, path_query) != 0) {
        snprintf(r->reason, sizeof(r->reason), "out of memory");
        return ola_ol_done(c, OLA_OL_RETRY);
    }
    for (attempt = 0; attempt < 2; attempt++) {
        if (!ola_ol_token_valid(c)) {
            st = ola_ol_fetch_token(c, r);
            if (st != OLA_OL_OK)
                goto out;
        }
        ola_ol_send_get(c, url.data, r, &v);
        st = v.status;
        if (!v.token_rejected)
            goto out;
        ola_ol_drop_token(c); /* refused: fetch another, once */
    }
    ola_ol_reason(r->reason, sizeof(r->reason),
                  "OneLogin rejected the access token twice (%s): a fresh token was "
                  "refused too; check that the API credential is still active",
                  v.reason);
out:
    ola_buf_free(&url);
    return r->stopped ? st : ola_ol_done(c, st); /* a stop is no retry */
}

enum ola_ol_status ola_ol_authenticate(struct ola_ol_client *c, struct ola_ol_response *r)
{
    int64_t wait;

    ola_ol_response_reset(r);
    if (c->rl.blocked_until_ms > ola_mono_ms()) {
        wait = c->rl.blocked_until_ms - ola_mono_ms();
        r->retry_after_ms = wait;
        r->rate_limited = true;
        ola_ol_reason(r->reason, sizeof(r->reason), "rate limited: wait %lld ms",
                      (long long)wait);
        return ola_ol_done(c, OLA_OL_RETRY);
    }
    return ola_ol_done(c, ola_ol_fetch_token(c, r));
}

/* ---- concurrent lookups --------------------------------------------------- */

int ola_ol_lookups_setup(struct ola_ol_client *c, unsigned concurrency,
                         int64_t timeout_ms, double reserve, struct ola_err *err)
{
    struct ola_http_opts ho = {0};
    struct ola_http_multi *m = NULL;

    if (concurrency == 0 || concurrency > OLA_OL_MAX_CONCURRENCY)
        return ola_err_set(err, EINVAL, "lookup concurrency must be 1..%d",
                           OLA_OL_MAX_CONCURRENCY);
    if (!(reserve >= 0 && reserve < 1))
        return ola_err_set(err, EINVAL, "reserve must be in [0, 1)");
    ho.timeout_ms = timeout_ms > 0 ? timeout_ms : c->timeout_ms;
    ho.ca_file = c->ca_file;
    ho.proxy = c->proxy;
    ho.max_body = c->max_body;
    if (ola_http_multi_new(&ho, concurrency, &m, err) != 0)
        return -1;
    ola_http_multi_destroy(c->multi);
    c->multi = m;
    c->lk_concurrency = concurrency;
    c->lk_timeout_ms = timeout_ms;
    c->rl.reserve = reserve;
    return 0;
}

void ola_ol_lookups_trim(struct ola_ol_client *c)
{
    if (c == NULL)
        return;
    ola_http_multi_destroy(c->multi);
    c->multi = NULL;
}

/* One ola_ol_get_many call: the lookups, the pass, the transfers in flight. */
struct ola_ol_many {
    struct ola_ol_client *c;
    struct ola_ol_lookup *l;
    size_t n;
    enum ola_ol_priority prio;
    unsigned char *want;  /* the lookups this pass sends */
    unsigned char *again; /* token refused in the first pass: try once more */
    size_t n_again;
    bool first;               /* the first pass (a refused token may be retried) */
    size_t next;              /* next lookup this pass considers */
    bool stop;                /* the rest of the pass is held back: hand out nothing */
    struct ola_http_xfer *xs; /* one per slot */
    struct ola_buf *url;      /* one per slot */
    bool *busy;               /* per slot */
    unsigned slots;
    size_t held; /* bytes of the answers this call holds (read after it) */
};

/* The governor said no to l[next..]: they answer DEFERRED (lookups) or RETRY. */
static void ola_ol_many_hold(struct ola_ol_many *m, enum ola_rl_verdict gv, int64_t wait)
{
    struct ola_ol_client *c = m->c;
    bool blocked = c->rl.blocked_until_ms > ola_mono_ms();
    size_t i;

    m->stop = true;
    if (gv == OLA_RL_WAIT && m->prio != OLA_OL_PRIO_LOOKUP)
        c->ctr.paced_ms += (uint64_t)wait;
    for (i = m->next; i < m->n; i++) {
        struct ola_ol_lookup *l = &m->l[i];

        if (!m->want[i])
            continue;
        l->r.retry_after_ms = wait;
        l->r.rate_limited = gv == OLA_RL_WAIT && blocked;
        if (gv == OLA_RL_DEFER)
            ola_ol_reason(l->r.reason, sizeof(l->r.reason),
                          "lookup deferred to keep the polling reserve (%ld of %ld calls "
                          "left)",
                          c->rl.remaining, c->rl.limit);
        else
            ola_ol_reason(l->r.reason, sizeof(l->r.reason), "%s: wait %lld ms",
                          blocked ? "rate limited" : "pacing to the rate limit",
                          (long long)wait);
        l->status = m->prio == OLA_OL_PRIO_LOOKUP ? OLA_OL_DEFERRED
                                                  : ola_ol_done(c, OLA_OL_RETRY);
    }
    m->next = m->n;
}

/*
 * The answers held already add up to the body cap: l[next..] are not sent
 * (DEFERRED or RETRY, asked again later), so a call holds at most the cap
 * plus one cap per transfer in flight, whatever the number of lookups.
 */
static void ola_ol_many_hold_big(struct ola_ol_many *m)
{
    size_t i;

    m->stop = true;
    for (i = m->next; i < m->n; i++) {
        struct ola_ol_lookup *l = &m->l[i];

        if (!m->want[i])
            continue;
        ola_ol_reason(l->r.reason, sizeof(l->r.reason),
                      "not sent: the answers read so far hold %zu bytes, the body cap",
                      m->held);
        l->status = m->prio == OLA_OL_PRIO_LOOKUP ? OLA_OL_DEFERRED
                                                  : ola_ol_done(m->c, OLA_OL_RETRY);
    }
    m->next = m->n;
}

static struct ola_http_xfer *ola_ol_many_next(void *arg)
{
    struct ola_ol_many *m = arg;
    struct ola_ol_client *c = m->c;
    struct ola_http_xfer *x;
    enum ola_rl_verdict gv;
    unsigned s;
    int64_t wait;
    size_t i;

    while (!m->stop && m->next < m->n && !m->want[m->next])
        m->next++;
    if (m->stop || m->next >= m->n)
        return NULL;
    if (m->held >= (c->max_body > 0 ? c->max_body : OLA_HTTP_MAX_BODY_DEFAULT)) {
        ola_ol_many_hold_big(m);
        return NULL;
    }
    for (s = 0; s < m->slots && m->busy[s]; s++)
        ;
    if (s == m->slots)
        return NULL; /* cannot happen: the run asks only with a slot free */
    i = m->next;
    gv = ola_rl_admit(&c->rl, m->prio == OLA_OL_PRIO_LOOKUP ? OLA_RL_LOOKUP : OLA_RL_POLL,
                      ola_mono_ms(), &wait);
    if (gv != OLA_RL_GO) {
        ola_ol_many_hold(m, gv, wait);
        return NULL;
    }
    ola_buf_reset(&m->url[s]);
    if (ola_buf_printf(&m->url[s], "%s%s", c->base, m->l[i].path) != 0) {
        snprintf(m->l[i].r.reason, sizeof(m->l[i].r.reason), "out of memory");
        m->l[i].status = ola_ol_done(c, OLA_OL_RETRY);
        m->next = m->n; /* the rest stays "not sent" */
        m->stop = true;
        return NULL;
    }
    m->next++;
    m->busy[s] = true;
    x = &m->xs[s];
    memset(&x->rq, 0, sizeof(x->rq));
    x->rq.method = "GET";
    x->rq.url = m->url[s].data;
    x->rq.bearer = c->token;
    x->body = &m->l[i].r.body;
    x->tag = i;
    c->ctr.requests++;
    return x;
}

static void ola_ol_many_done(void *arg, struct ola_http_xfer *x)
{
    struct ola_ol_many *m = arg;
    struct ola_ol_client *c = m->c;
    struct ola_ol_lookup *l = &m->l[x->tag];
    long prev_rem = c->rl.remaining;
    int64_t prev_reset = c->rl.reset_at_ms;
    struct ola_ol_verdict v;

    m->busy[x - m->xs] = false;
    if (x->rc == 0)
        ola_ol_classify(x->rs.status, x->rs.content_type, l->r.body.data, l->r.body.len,
                        OLA_OL_CALL_RESOURCE, &v);
    else
        ola_ol_classify_fail(x->rs.fail, x->rs.fail_msg, x->rs.status, &v);
    ola_ol_count(c, l->path, x->rs.status);
    ola_ol_absorb(c, &x->rs, &v, &l->r);
    m->held += l->r.body.len;
    /*
     * Answers to concurrent calls arrive in any order, and each header counts
     * only what the server had seen: within one window, the lowest estimate
     * (which counts every call let through) is the truest.
     */
    if (prev_rem >= 0 && prev_reset >= 0 && c->rl.remaining > prev_rem &&
        c->rl.reset_at_ms <= prev_reset + 1500)
        c->rl.remaining = prev_rem;
    if (v.token_rejected && m->first) {
        m->again[x->tag] = 1;
        m->n_again++;
        l->status = OLA_OL_AUTH; /* until the pass after the refresh says more */
        return;
    }
    if (v.token_rejected)
        ola_ol_reason(l->r.reason, sizeof(l->r.reason),
                      "OneLogin rejected the access token twice (%s): a fresh token was "
                      "refused too; check that the API credential is still active",
                      v.reason);
    l->status = ola_ol_done(c, v.status);
}

/* One pass over the lookups m->want says; a token is fetched first if needed. */
static void ola_ol_many_pass(struct ola_ol_many *m)
{
    static const struct ola_http_feed feed = {ola_ol_many_next, ola_ol_many_done};
    struct ola_ol_response tok;
    enum ola_ol_status st;
    size_t i;

    m->next = 0;
    m->stop = false;
    ola_ol_response_init(&tok);
    if (!ola_ol_token_valid(m->c)) {
        st = ola_ol_done(m->c, ola_ol_fetch_token(m->c, &tok));
        if (st != OLA_OL_OK) {
            for (i = 0; i < m->n; i++) {
                struct ola_ol_lookup *l = &m->l[i];

                if (!m->want[i])
                    continue;
                l->status = st;
                l->r.http_status = tok.http_status;
                l->r.retry_after_ms = tok.retry_after_ms;
                l->r.rate_limited = tok.rate_limited;
                snprintf(l->r.reason, sizeof(l->r.reason), "%s", tok.reason);
            }
            goto out;
        }
    }
    if (ola_http_multi_run(m->c->multi, &feed, m) != 0) {
        for (i = m->next; i < m->n; i++)
            if (m->want[i])
                snprintf(m->l[i].r.reason, sizeof(m->l[i].r.reason),
                         "libcurl's multi interface failed");
    }
out:
    ola_ol_response_free(&tok);
}

void ola_ol_get_many(struct ola_ol_client *c, struct ola_ol_lookup *l, size_t n,
                     enum ola_ol_priority prio)
{
    struct ola_ol_many m;
    struct ola_err err = {0, ""};
    unsigned s;
    size_t i;

    for (i = 0; i < n; i++) {
        ola_ol_response_reset(&l[i].r);
        l[i].status = OLA_OL_RETRY;
        snprintf(l[i].r.reason, sizeof(l[i].r.reason), "not sent");
        if (l[i].path == NULL || l[i].path[0] != '/') {
            l[i].status = OLA_OL_BAD_REQUEST;
            snprintf(l[i].r.reason, sizeof(l[i].r.reason),
                     "request path must start with '/'");
        }
    }
    if (n == 0)
        return;
    if (c->multi == NULL && ola_ol_lookups_setup(c, c->lk_concurrency, c->lk_timeout_ms,
                                                 c->rl.reserve, &err) != 0) {
        for (i = 0; i < n; i++)
            if (l[i].status == OLA_OL_RETRY)
                snprintf(l[i].r.reason, sizeof(l[i].r.reason), "%s", err.msg);
        return;
    }
    memset(&m, 0, sizeof(m));
    m.c = c;
    m.l = l;
    m.n = n;
    m.prio = prio;
    m.slots = ola_http_multi_slots(c->multi);
    m.want = calloc(n, 1);
    m.again = calloc(n, 1);
    m.xs = calloc(m.slots, sizeof(*m.xs));
    m.url = calloc(m.slots, sizeof(*m.url));
    m.busy = calloc(m.slots, sizeof(*m.busy));
    if (m.want == NULL || m.again == NULL || m.xs == NULL || m.url == NULL ||
        m.busy == NULL) {
        for (i = 0; i < n; i++)
            if (l[i].status == OLA_OL_RETRY)
                snprintf(l[i].r.reason, sizeof(l[i].r.reason), "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++)
        m.want[i] = l[i].status != OLA_OL_BAD_REQUEST;
    m.first = true;
    ola_ol_many_pass(&m);
    if (m.n_again > 0) {
        /* answers refused the token: one fresh token, one more try for those */
        memcpy(m.want, m.again, n);
        m.first = false;
        ola_ol_drop_token(c);
        ola_ol_many_pass(&m);
    }
out:
    for (s = 0; m.url != NULL && s < m.slots; s++)
        ola_buf_free(&m.url[s]);
    free(m.url);
    free(m.busy);
    free(m.xs);
    free(m.again);
    free(m.want);
}
