/*
 * metrics.c - Prometheus metrics and health endpoints over libmicrohttpd.
 *
 * One MHD daemon with its own polling thread serves GET /metrics (text
 * exposition 0.0.4), /healthz (the main loop's heartbeat is fresh) and
 * /readyz (token valid, a recent successful poll, every output accepting).
 * The agent thread publishes a snapshot of figures that live with their
 * owners (outputs, rules, API client) after each batch; it is copied under
 * a mutex on publish and on scrape. Process-wide counters come straight
 * from the atomics in stats.h. Rendering is a pure function of a snapshot,
 * the atomics and the time, so tests can check the text without a socket.
 * Durations are kept in integer milliseconds and printed as exact decimal
 * seconds, so no float formatting is involved.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/metrics.h"
#include "outputs/http_out.h"

#ifndef OLA_VERSION
#define OLA_VERSION "unknown"
#endif

/*
 * Connections: the one MHD thread polls them all (epoll, as MHD_USE_AUTO
 * picks on Linux), so a slow client costs a slot, not the thread. Slots are
 * what slow clients take, so one address gets at most OLA_METRICS_PER_IP (a
 * scraper needs one or two, a probe one), the server up to
 * OLA_METRICS_CONN_LIMIT, and a connection idle (or half-sent) for
 * OLA_METRICS_CONN_TIMEOUT is closed.
 */
#define OLA_METRICS_CONN_LIMIT   256
#define OLA_METRICS_PER_IP       16
#define OLA_METRICS_CONN_TIMEOUT 10 /* seconds */
#define OLA_METRICS_STALE_MIN_MS (5 * 60 * 1000)
#define OLA_METRICS_POLL_DEF_MS  10000

struct ola_metrics {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;
    struct ola_metrics_snapshot snap; /* guarded by mu */
    bool have_snap;                   /* guarded by mu */
    int64_t poll_interval_ms;
    int64_t stale_after_ms;
    int port;
};

/* ---- rendering ------------------------------------------------------------ */

/* A writer with a sticky error, so a render is a flat list of calls. */
struct ola_mw {
    struct ola_buf *b;
    int failed;
};

static void ola_mw_puts(struct ola_mw *w, const char *s)
{
    if (!w->failed && ola_buf_puts(w->b, s) != 0)
        w->failed = 1;
}

static void ola_mw_printf(struct ola_mw *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ola_mw_printf(struct ola_mw *w, const char *fmt, ...)
{
    va_list ap;

    if (w->failed)
        return;
    va_start(ap, fmt);
    if (ola_buf_vprintf(w->b, fmt, ap) != 0)
        w->failed = 1;
    va_end(ap);
}

/* A label value: backslash, double quote and newline escaped. */
static void ola_mw_label_value(struct ola_mw *w, const char *s)
{
    const char *run = s;

    for (; *s != '\0'; s++) {
        const char *esc = NULL;

        if (*s == '\\')
            esc = "\\\\";
        else if (*s == '"')
            esc = "\\\"";
        else if (*s == '\n')
            esc = "\\n";
        if (esc == NULL)
            continue;
        if (!w->failed && ola_buf_append(w->b, run, (size_t)(s - run)) != 0)
            w->failed = 1;
        ola_mw_puts(w, esc);
        run = s + 1;
    }
    if (!w->failed && ola_buf_append(w->b, run, (size_t)(s - run)) != 0)
        w->failed = 1;
}

/* "{k1="v1",k2="v2"}" from n key/value pairs; nothing when n is 0. */
static void ola_mw_labels(struct ola_mw *w, const char *const *kv, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    ola_mw_puts(w, "{");
    for (i = 0; i < n; i++) {
        ola_mw_printf(w, "%s%s=\"", i ? "," : "", kv[2 * i]);
        ola_mw_label_value(w, kv[2 * i + 1]);
        ola_mw_puts(w, "\"");
    }
    ola_mw_puts(w, "}");
}

/* Milliseconds as exact decimal seconds: 1500 -> "1.5", 10 -> "0.01", 2000 -> "2". */
static void ola_mw_seconds(struct ola_mw *w, int64_t ms)
{
    uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    unsigned frac = (unsigned)(a % 1000);
    char digits[4];
    int n = 3;

    if (frac == 0) {
        ola_mw_printf(w, "%s%" PRIu64, ms < 0 ? "-" : "", a / 1000);
        return;
    }
    snprintf(digits, sizeof(digits), "%03u", frac);
    while (n > 0 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    ola_mw_printf(w, "%s%" PRIu64 ".%s", ms < 0 ? "-" : "", a / 1000, digits);
}

static void ola_mw_family(struct ola_mw *w, const char *name, const char *type,
                          const char *help)
{
    ola_mw_printf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void ola_mw_u64(struct ola_mw *w, const char *name, const char *const *kv,
                       size_t n, uint64_t v)
{
    ola_mw_puts(w, name);
    ola_mw_labels(w, kv, n);
    ola_mw_printf(w, " %" PRIu64 "\n", v);
}

static void ola_mw_i64(struct ola_mw *w, const char *name, const char *const *kv,
                       size_t n, int64_t v)
{
    ola_mw_puts(w, name);
    ola_mw_labels(w, kv, n);
    ola_mw_printf(w, " %" PRId64 "\n", v);
}

static void ola_mw_ms(struct ola_mw *w, const char *name, const char *const *kv, size_t n,
                      int64_t ms)
{
    ola_mw_puts(w, name);
    ola_mw_labels(w, kv, n);
    ola_mw_puts(w, " ");
    ola_mw_seconds(w, ms);
    ola_mw_puts(w, "\n");
}

/* A whole counter family with one unlabelled sample. */
static void ola_mw_counter(struct ola_mw *w, const char *name, const char *help,
                           uint64_t v)
{
    ola_mw_family(w, name, "counter", help);
    ola_mw_u64(w, name, NULL, 0, v);
}

/* A gauge in seconds: now - since_ms; no sample while since_ms is unknown (<= 0). */
static void ola_mw_age(struct ola_mw *w, const char *name, const char *help,
                       int64_t since_ms, int64_t now_ms)
{
    ola_mw_family(w, name, "gauge", help);
    if (since_ms > 0)
        ola_mw_ms(w, name, NULL, 0, now_ms - since_ms);
}

/* A cumulative histogram in seconds from a stats.h histogram in ms. */
static void ola_mw_hist(struct ola_mw *w, const char *name, const char *help,
                        const struct ola_hist *h)
{
    uint64_t cum = 0, sum;
    size_t i;

    ola_mw_family(w, name, "histogram", help);
    for (i = 0; i <= OLA_HIST_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        ola_mw_printf(w, "%s_bucket{le=\"", name);
        if (i < OLA_HIST_BUCKETS)
            ola_mw_seconds(w, h->bounds[i]);
        else
            ola_mw_puts(w, "+Inf");
        ola_mw_printf(w, "\"} %" PRIu64 "\n", cum);
    }
    sum = atomic_load_explicit(&h->sum_ms, memory_order_relaxed);
    ola_mw_printf(w, "%s_sum ", name);
    ola_mw_seconds(w, sum > INT64_MAX ? INT64_MAX : (int64_t)sum);
    ola_mw_printf(w, "\n%s_count %" PRIu64 "\n", name, cum);
}

static void ola_render_events(struct ola_mw *w, const struct ola_metrics_snapshot *s)
{
    uint64_t dead = 0;
    size_t i;
    const char *kv[4];

    ola_mw_counter(w, "olagent_events_received_total",
                   "Events read from API pages, before deduplication.",
                   OLA_STAT_GET(events_received));
    ola_mw_counter(w, "olagent_events_delivered_total",
                   "Events whose batch every output acknowledged and the checkpoint "
                   "committed.",
                   OLA_STAT_GET(events_delivered));
    ola_mw_family(w, "olagent_events_emitted_total", "counter",
                  "Records an output durably accepted.");
    for (i = 0; i < s->n_outputs; i++) {
        kv[0] = "output";
        kv[1] = s->outputs[i].name;
        kv[2] = "type";
        kv[3] = s->outputs[i].type;
        ola_mw_u64(w, "olagent_events_emitted_total", kv, 2, s->outputs[i].emitted);
        dead += s->outputs[i].dead_letters;
    }
    ola_mw_family(w, "olagent_events_dropped_total", "counter",
                  "Events not delivered, by reason: rule (a rule dropped it), "
                  "dead_letter (written to the dead-letter file), malformed (not an "
                  "event).");
    kv[0] = "reason";
    kv[1] = "rule";
    ola_mw_u64(w, "olagent_events_dropped_total", kv, 1, OLA_STAT_GET(dropped_rule));
    kv[1] = "dead_letter";
    ola_mw_u64(w, "olagent_events_dropped_total", kv, 1, dead);
    kv[1] = "malformed";
    ola_mw_u64(w, "olagent_events_dropped_total", kv, 1, OLA_STAT_GET(malformed));
    ola_mw_counter(w, "olagent_duplicates_skipped_total",
                   "Events skipped because they were already delivered.",
                   OLA_STAT_GET(duplicates));
    ola_mw_counter(w, "olagent_late_events_total",
                   "Events first seen with created_at behind the watermark.",
                   OLA_STAT_GET(late_events));
    ola_mw_hist(w, "olagent_event_lateness_seconds",
                "How far behind the watermark late events were created.",
                &ola_stats.late);
    ola_mw_counter(w, "olagent_pages_total", "Event pages fetched.", OLA_STAT_GET(pages));
    ola_mw_counter(w, "olagent_windows_total", "Polling windows completed.",
                   OLA_STAT_GET(windows));
    ola_mw_counter(w, "olagent_late_sweeps_total",
                   "Late sweeps of the overlap completed.", OLA_STAT_GET(sweeps));
    ola_mw_counter(w, "olagent_batches_total", "Batches committed.",
                   OLA_STAT_GET(batches));
    ola_mw_hist(w, "olagent_batch_latency_seconds",
                "Time from a page fetched to its checkpoint committed.",
                &ola_stats.batch_latency);
}

static void ola_render_api(struct ola_mw *w, const struct ola_metrics_snapshot *s)
{
    const char *kv[4];
    size_t ep, sc;

    ola_mw_family(w, "olagent_api_requests_total", "counter",
                  "OneLogin API requests by endpoint and answer status class (none: no "
                  "answer arrived).");
    for (ep = 0; ep < OLA_OL_EP_MAX; ep++) {
        for (sc = 0; sc < OLA_OL_SC_MAX; sc++) {
            /* the events 2xx series always exists; the others once they happen */
            if (s->api_by_endpoint[ep][sc] == 0 &&
                !(ep == OLA_OL_EP_EVENTS && sc == OLA_OL_SC_2XX))
                continue;
            kv[0] = "endpoint";
            kv[1] = ola_ol_endpoint_names[ep];
            kv[2] = "status";
            kv[3] = ola_ol_status_class_names[sc];
            ola_mw_u64(w, "olagent_api_requests_total", kv, 2,
                       s->api_by_endpoint[ep][sc]);
        }
    }
    ola_mw_counter(w, "olagent_api_token_requests_total", "Access token requests.",
                   s->api_token_requests);
    ola_mw_counter(w, "olagent_api_rate_limited_total",
                   "Answers that were 429 or rate_limit_exceeded.", s->api_rate_limited);
    ola_mw_counter(w, "olagent_api_retries_total",
                   "API answers classified as transient (retried).", s->api_retries);
    ola_mw_counter(w, "olagent_server_clock_rejected_total",
                   "Answers whose Date header was ignored: far off the server time "
                   "estimated so far.",
                   s->api_clock_rejected);
    ola_mw_family(w, "olagent_api_paced_seconds_total", "counter",
                  "Waiting advised by the rate-limit governor.");
    ola_mw_ms(w, "olagent_api_paced_seconds_total", NULL, 0,
              s->api_paced_ms > INT64_MAX ? INT64_MAX : (int64_t)s->api_paced_ms);
    ola_mw_family(w, "olagent_rate_limit_limit", "gauge",
                  "X-RateLimit-Limit last seen (absent until known).");
    if (s->rate_limit >= 0)
        ola_mw_i64(w, "olagent_rate_limit_limit", NULL, 0, s->rate_limit);
    ola_mw_family(w, "olagent_rate_limit_remaining", "gauge",
                  "X-RateLimit-Remaining last seen (absent until known).");
    if (s->rate_remaining >= 0)
        ola_mw_i64(w, "olagent_rate_limit_remaining", NULL, 0, s->rate_remaining);
    ola_mw_counter(w, "olagent_retries_total",
                   "Backoff waits, by the source and by the pipeline for outputs.",
                   OLA_STAT_GET(retries));
    ola_mw_family(w, "olagent_backoff_seconds_total", "counter",
                  "Time spent in backoff waits.");
    ola_mw_ms(w, "olagent_backoff_seconds_total", NULL, 0,
              (int64_t)(OLA_STAT_GET(backoff_ms) & INT64_MAX));
    ola_mw_family(w, "olagent_api_token_valid", "gauge",
                  "1 while the API accepts the credential.");
    ola_mw_i64(w, "olagent_api_token_valid", NULL, 0, OLA_STAT_GET(token_ok) ? 1 : 0);
}

static void ola_render_progress(struct ola_mw *w, int64_t now_ms)
{
    int64_t wm = OLA_STAT_GET(watermark_ms);

    ola_mw_age(w, "olagent_checkpoint_age_seconds",
               "Time since the checkpoint was last saved (absent before the first save).",
               OLA_STAT_GET(checkpoint_ms), now_ms);
    ola_mw_counter(w, "olagent_checkpoint_errors_total", "Failed checkpoint saves.",
                   OLA_STAT_GET(checkpoint_errors));
    ola_mw_family(w, "olagent_watermark_timestamp_seconds", "gauge",
                  "Event time up to which every event was delivered.");
    if (wm >= 0)
        ola_mw_ms(w, "olagent_watermark_timestamp_seconds", NULL, 0, wm);
    ola_mw_family(w, "olagent_watermark_lag_seconds", "gauge",
                  "Now minus the watermark: how far behind the audit trail the agent "
                  "is.");
    if (wm >= 0)
        ola_mw_ms(w, "olagent_watermark_lag_seconds", NULL, 0, now_ms - wm);
    ola_mw_age(w, "olagent_newest_event_age_seconds",
               "Now minus created_at of the newest delivered event.",
               OLA_STAT_GET(newest_event_ms), now_ms);
    ola_mw_age(w, "olagent_last_poll_age_seconds",
               "Time since the last successful page fetch.",
               OLA_STAT_GET(last_poll_ok_ms), now_ms);
    ola_mw_age(w, "olagent_loop_heartbeat_age_seconds",
               "Time since the main loop last went round.", OLA_STAT_GET(loop_alive_ms),
               now_ms);
}

static void ola_render_outputs(struct ola_mw *w, const struct ola_metrics_snapshot *s)
{
    const char *kv[2] = {"output", NULL};
    size_t i;

    ola_mw_family(w, "olagent_output_errors_total", "counter",
                  "Write or flush calls that answered retry or error.");
    for (i = 0; i < s->n_outputs; i++) {
        kv[1] = s->outputs[i].name;
        ola_mw_u64(w, "olagent_output_errors_total", kv, 1, s->outputs[i].errors);
    }
    ola_mw_family(w, "olagent_output_dead_letters_total", "counter",
                  "Records an output refused for good (too large, invalid for the "
                  "destination, not renderable), written to its dead-letter file.");
    for (i = 0; i < s->n_outputs; i++) {
        kv[1] = s->outputs[i].name;
        ola_mw_u64(w, "olagent_output_dead_letters_total", kv, 1,
                   s->outputs[i].dead_letters);
    }
    ola_mw_family(w, "olagent_output_truncated_total", "counter",
                  "Records cut to fit an output's size limit.");
    for (i = 0; i < s->n_outputs; i++) {
        kv[1] = s->outputs[i].name;
        ola_mw_u64(w, "olagent_output_truncated_total", kv, 1, s->outputs[i].truncated);
    }
    /* the HTTP outputs' requests, rendered beside their counters (outputs/http_out.h) */
    if (!w->failed && ola_ho_metrics_render(w->b, s->outputs[0].name, &s->outputs[0].req,
                                            sizeof(s->outputs[0]), s->n_outputs) != 0)
        w->failed = 1;
    ola_mw_family(w, "olagent_output_up", "gauge", "1 while the output accepts data.");
    for (i = 0; i < s->n_outputs; i++) {
        kv[1] = s->outputs[i].name;
        ola_mw_i64(w, "olagent_output_up", kv, 1, s->outputs[i].ok ? 1 : 0);
    }
}

static void ola_render_rules(struct ola_mw *w, const struct ola_metrics_snapshot *s)
{
    const char *kv[2] = {"rule", NULL};
    size_t i;

    ola_mw_family(w, "olagent_alerts_total", "counter", "Alert records raised, by rule.");
    for (i = 0; i < s->n_rules; i++) {
        kv[1] = s->rules[i].name;
        ola_mw_u64(w, "olagent_alerts_total", kv, 1, s->rules[i].alerts);
    }
    ola_mw_counter(w, "olagent_alert_state_capped_total",
                   "Alert keys refused because the alert state cap was reached.",
                   s->rules_state_capped);
    ola_mw_family(w, "olagent_seen_ids", "gauge",
                  "Event ids remembered for deduplication inside the overlap.");
    ola_mw_u64(w, "olagent_seen_ids", NULL, 0, s->seen_ids);
    ola_mw_counter(w, "olagent_enrich_cache_hits_total",
                   "Enrichment lookups answered from the cache.", s->enrich_hits);
    ola_mw_counter(w, "olagent_enrich_cache_misses_total",
                   "Enrichment lookups that went to the API.", s->enrich_misses);
    ola_mw_counter(w, "olagent_enrich_cache_evictions_total",
                   "Enrichment cache entries evicted.", s->enrich_evictions);
    ola_mw_counter(w, "olagent_enrich_deferred_total",
                   "Enrichment lookups deferred to keep the API budget for polling.",
                   s->enrich_deferred);
}

int ola_metrics_render(const struct ola_metrics_snapshot *snap, int64_t now_ms,
                       struct ola_buf *out)
{
    static const struct ola_metrics_snapshot empty = {.rate_limit = -1,
                                                      .rate_remaining = -1};
    struct ola_mw w = {out, 0};
    const char *kv[2] = {"version", OLA_VERSION};
    const struct ola_metrics_snapshot *s = snap ? snap : &empty;
    size_t mark = out->len;
    int64_t started = OLA_STAT_GET(started_ms);

    ola_mw_family(&w, "olagent_build_info", "gauge", "Always 1; the version as a label.");
    ola_mw_u64(&w, "olagent_build_info", kv, 1, 1);
    ola_mw_family(&w, "olagent_up", "gauge", "1: the agent answers.");
    ola_mw_u64(&w, "olagent_up", NULL, 0, 1);
    ola_mw_family(&w, "olagent_start_time_seconds", "gauge",
                  "Unix time the agent started tailing.");
    if (started > 0)
        ola_mw_ms(&w, "olagent_start_time_seconds", NULL, 0, started);
    ola_render_events(&w, s);
    ola_render_api(&w, s);
    ola_render_progress(&w, now_ms);
    ola_render_outputs(&w, s);
    ola_render_rules(&w, s);
    if (w.failed) {
        ola_buf_truncate(out, mark);
        return -1;
    }
    return 0;
}

/* ---- health and readiness ------------------------------------------------- */

bool ola_metrics_ready(const struct ola_metrics_snapshot *snap, int64_t poll_interval_ms,
                       int64_t now_ms, const char **why)
{
    int64_t last = OLA_STAT_GET(last_poll_ok_ms);
    const char *reason = NULL;
    size_t i;

    if (poll_interval_ms <= 0)
        poll_interval_ms = OLA_METRICS_POLL_DEF_MS;
    if (!OLA_STAT_GET(token_ok))
        reason = "the API token is not valid (not fetched yet, or the credential was "
                 "rejected)";
    else if (last <= 0)
        reason = "no successful poll yet";
    else if (now_ms - last > 3 * poll_interval_ms)
        reason = "the last successful poll is older than 3 poll intervals";
    else if (snap == NULL)
        reason = "the agent has not published its outputs' state yet";
    for (i = 0; reason == NULL && i < snap->n_outputs; i++)
        if (!snap->outputs[i].ok)
            reason = "an output is not accepting data";
    if (why != NULL)
        *why = reason ? reason : "ready";
    return reason == NULL;
}

/* Liveness: the loop's heartbeat is younger than stale_after_ms. */
static bool ola_metrics_alive(int64_t stale_after_ms, int64_t now_ms, int64_t *age_ms)
{
    int64_t beat = OLA_STAT_GET(loop_alive_ms);

    *age_ms = beat > 0 ? now_ms - beat : -1;
    return beat > 0 && now_ms - beat <= stale_after_ms;
}

/* ---- the HTTP server ------------------------------------------------------ */

static enum MHD_Result ola_metrics_reply(struct MHD_Connection *conn, unsigned status,
                                         const char *ctype, const struct ola_buf *body)
{
    static char empty[1];
    struct MHD_Response *r;
    enum MHD_Result rc;

    r = MHD_create_response_from_buffer(body->len, body->data ? body->data : empty,
                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") !=
            MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Writes the /readyz body; returns the status. snap: NULL before any publish. */
static unsigned ola_metrics_readyz(const struct ola_metrics *m,
                                   const struct ola_metrics_snapshot *snap,
                                   int64_t now_ms, struct ola_buf *body)
{
    const char *why = NULL;
    size_t i;
    int bad = 0;

    if (ola_metrics_ready(snap, m->poll_interval_ms, now_ms, &why))
        return ola_buf_puts(body, "ready\n") ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                             : MHD_HTTP_OK;
    bad |= ola_buf_printf(body, "not ready: %s\n", why);
    for (i = 0; snap != NULL && i < snap->n_outputs; i++)
        if (!snap->outputs[i].ok)
            bad |= ola_buf_printf(body, "output %s (%s): not accepting data\n",
                                  snap->outputs[i].name, snap->outputs[i].type);
    return bad ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_SERVICE_UNAVAILABLE;
}

static enum MHD_Result ola_metrics_handle(void *cls, struct MHD_Connection *conn,
                                          const char *url, const char *method,
                                          const char *version, const char *upload,
                                          size_t *upload_size, void **req_cls)
{
    struct ola_metrics *m = cls;
    struct ola_metrics_snapshot *snap = NULL;
    struct ola_buf body = OLA_BUF_INIT;
    const char *ctype = "text/plain; charset=utf-8";
    int64_t now_ms = ola_now_ms(), age;
    unsigned status;
    bool have;
    enum MHD_Result rc;

    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        if (ola_buf_puts(&body, "method not allowed\n"))
            goto fail;
    } else if (strcmp(url, "/healthz") == 0) {
        if (ola_metrics_alive(m->stale_after_ms, now_ms, &age)) {
            status = MHD_HTTP_OK;
            if (ola_buf_puts(&body, "ok\n"))
                goto fail;
        } else {
            status = MHD_HTTP_SERVICE_UNAVAILABLE;
            if ((age < 0 && ola_buf_puts(&body, "not alive: the main loop has not "
                                                "started\n")) ||
                (age >= 0 && ola_buf_printf(&body,
                                            "not alive: the main loop's last "
                                            "heartbeat was %" PRId64 " ms ago\n",
                                            age)))
                goto fail;
        }
    } else if (strcmp(url, "/metrics") == 0 || strcmp(url, "/readyz") == 0) {
        snap = malloc(sizeof(*snap));
        if (snap == NULL)
            goto fail;
        pthread_mutex_lock(&m->mu);
        have = m->have_snap;
        if (have)
            memcpy(snap, &m->snap, sizeof(*snap));
        pthread_mutex_unlock(&m->mu);
        if (url[1] == 'm') {
            if (ola_metrics_render(have ? snap : NULL, now_ms, &body) != 0)
                goto fail;
            status = MHD_HTTP_OK;
            ctype = "text/plain; version=0.0.4; charset=utf-8";
        } else {
            status = ola_metrics_readyz(m, have ? snap : NULL, now_ms, &body);
            if (status == MHD_HTTP_INTERNAL_SERVER_ERROR)
                goto fail;
        }
    } else {
        status = MHD_HTTP_NOT_FOUND;
        if (ola_buf_puts(&body, "not found: try /metrics, /healthz or /readyz\n"))
            goto fail;
    }
    rc = ola_metrics_reply(conn, status, ctype, &body);
    free(snap);
    ola_buf_free(&body);
    return rc;
fail:
    ola_buf_reset(&body);
    rc = ola_buf_puts(&body, "out of memory\n") == 0
             ? ola_metrics_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, ctype, &body)
             : MHD_NO;
    free(snap);
    ola_buf_free(&body);
    return rc;
}

/* Splits "host:port" or "[v6]:port". Returns 0 / -1 with err. */
static int ola_metrics_parse_listen(const char *spec, char *host, size_t hostsz,
                                    char *port, size_t portsz, struct ola_err *err)
{
    const char *h = spec, *colon, *p;
    size_t hlen;
    char *end;
    long v;

    if (spec == NULL || *spec == '\0')
        return ola_err_set(err, EINVAL, "metrics.listen: empty");
    if (*spec == '[') {
        const char *close = strchr(spec, ']');

        if (close == NULL || close[1] != ':')
            return ola_err_set(err, EINVAL, "metrics.listen: %s: want [addr]:port", spec);
        h = spec + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL || strchr(spec, ':') != colon)
            return ola_err_set(err, EINVAL,
                               "metrics.listen: %s: want host:port or [addr]:port", spec);
        hlen = (size_t)(colon - h);
    }
    p = colon + 1;
    errno = 0;
    v = strtol(p, &end, 10);
    if (hlen == 0 || *p == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 65535)
        return ola_err_set(err, EINVAL,
                           "metrics.listen: %s: want host:port, port 0..65535", spec);
    if (hlen >= hostsz || (size_t)(end - p) >= portsz)
        return ola_err_set(err, EINVAL, "metrics.listen: %s: too long", spec);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, p, (size_t)(end - p) + 1);
    return 0;
}

/* Creates, binds and listens on the socket for spec. Returns the fd or -1. */
static int ola_metrics_bind(const char *spec, int *family, int *bound_port,
                            struct ola_err *err)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[256], port[8];
    int fd = -1, one = 1, rc;

    if (ola_metrics_parse_listen(spec, host, sizeof(host), port, sizeof(port), err))
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        ola_err_set(err, EINVAL, "metrics.listen: %s: %s", spec, gai_strerror(rc));
        goto fail;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ola_err_set(err, errno, "metrics: socket: %s", strerror(errno));
        goto fail;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        ola_err_set(err, errno, "metrics: cannot listen on %s: %s", spec,
                    strerror(errno));
        goto fail;
    }
    *family = res->ai_family;
    if (ss.ss_family == AF_INET6)
        *bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else
        *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(res);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    if (res != NULL)
        freeaddrinfo(res);
    return -1;
}

int ola_metrics_start(const struct ola_metrics_cfg *cfg, struct ola_metrics **out,
                      struct ola_err *err)
{
    struct ola_metrics *m = NULL;
    sigset_t block, old;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
    int fd = -1, family = AF_INET, mu_ready = 0;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        ola_err_set(err, ENOMEM, "metrics: out of memory");
        goto fail;
    }
    m->poll_interval_ms =
        cfg->poll_interval_ms > 0 ? cfg->poll_interval_ms : OLA_METRICS_POLL_DEF_MS;
    m->stale_after_ms = cfg->stale_after_ms;
    if (m->stale_after_ms <= 0) {
        m->stale_after_ms = 3 * m->poll_interval_ms;
        if (m->stale_after_ms < OLA_METRICS_STALE_MIN_MS)
            m->stale_after_ms = OLA_METRICS_STALE_MIN_MS;
    }
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        ola_err_set(err, ENOMEM, "metrics: cannot create a mutex");
        goto fail;
    }
    mu_ready = 1;
    fd = ola_metrics_bind(cfg->listen, &family, &m->port, err);
    if (fd < 0)
        goto fail;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The server thread inherits this mask: signals go to the agent's threads. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    m->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, ola_metrics_handle, m, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)OLA_METRICS_CONN_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)OLA_METRICS_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)OLA_METRICS_CONN_TIMEOUT,
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (m->daemon == NULL) {
        ola_err_set(err, 0, "metrics: cannot start the HTTP server on %s", cfg->listen);
        /* Whether MHD closed the socket on failure is version-dependent. */
        if (fcntl(fd, F_GETFD) != -1)
            close(fd);
        goto fail;
    }
    *out = m;
    return 0;
fail:
    if (mu_ready)
        pthread_mutex_destroy(&m->mu);
    free(m);
    return -1;
}

int ola_metrics_port(const struct ola_metrics *m)
{
    return m ? m->port : -1;
}

void ola_metrics_publish(struct ola_metrics *m, const struct ola_metrics_snapshot *snap)
{
    if (m == NULL || snap == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    memcpy(&m->snap, snap, sizeof(*snap));
    m->have_snap = true;
    pthread_mutex_unlock(&m->mu);
}

void ola_metrics_stop(struct ola_metrics *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->daemon);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
