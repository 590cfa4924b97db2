/*
 * metrics_render.c - the Prometheus text, readiness and liveness, from a view.
 *
 * Pure functions of a view (the shared outputs' snapshot and each tenant's
 * published figures and live counters) and the time, so tests check the
 * text without a socket. Figures that belong to a tenant (events, API,
 * progress, rules, enrichment) carry a tenant label, one sample per tenant;
 * the outputs' figures are the process's. Durations are kept in integer
 * milliseconds and printed as exact decimal seconds, so no float
 * formatting is involved.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/metrics.h"

#ifndef OLA_VERSION
#define OLA_VERSION "unknown"
#endif

#define OLA_METRICS_POLL_DEF_MS 10000

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

/* One sample per tenant: "name{tenant="t"[,k="v"]} value", from a getter. */
typedef uint64_t ola_tenant_u64_fn(const struct ola_metrics_tenant *t);

static void ola_mw_per_tenant(struct ola_mw *w, const struct ola_metrics_view *v,
                              const char *name, const char *type, const char *help,
                              ola_tenant_u64_fn *get)
{
    const char *kv[2] = {"tenant", NULL};
    size_t i;

    ola_mw_family(w, name, type, help);
    for (i = 0; i < v->n_tenants; i++) {
        kv[1] = v->tenants[i].name;
        ola_mw_u64(w, name, kv, 1, get(&v->tenants[i]));
    }
}

/* A gauge in seconds per tenant: now - since_ms; no sample while unknown (<= 0). */
static void ola_mw_age(struct ola_mw *w, const struct ola_metrics_view *v,
                       const char *name, const char *help, size_t field_off,
                       int64_t now_ms)
{
    const char *kv[2] = {"tenant", NULL};
    size_t i;

    ola_mw_family(w, name, "gauge", help);
    for (i = 0; i < v->n_tenants; i++) {
        const _Atomic int64_t *f =
            (const _Atomic int64_t *)((const char *)v->tenants[i].stats + field_off);
        int64_t since = atomic_load_explicit(f, memory_order_relaxed);

        kv[1] = v->tenants[i].name;
        if (since > 0)
            ola_mw_ms(w, name, kv, 1, now_ms - since);
    }
}

/* A cumulative histogram in seconds per tenant, from a stats.h histogram in ms. */
static void ola_mw_hist(struct ola_mw *w, const struct ola_metrics_view *v,
                        const char *name, const char *help, size_t hist_off)
{
    size_t t, i;

    ola_mw_family(w, name, "histogram", help);
    for (t = 0; t < v->n_tenants; t++) {
        const struct ola_hist *h =
            (const struct ola_hist *)((const char *)v->tenants[t].stats + hist_off);
        uint64_t cum = 0, sum;

        for (i = 0; i <= OLA_HIST_BUCKETS; i++) {
            cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
            ola_mw_printf(w, "%s_bucket{tenant=\"", name);
            ola_mw_label_value(w, v->tenants[t].name);
            ola_mw_puts(w, "\",le=\"");
            if (i < OLA_HIST_BUCKETS)
                ola_mw_seconds(w, h->bounds[i]);
            else
                ola_mw_puts(w, "+Inf");
            ola_mw_printf(w, "\"} %" PRIu64 "\n", cum);
        }
        sum = atomic_load_explicit(&h->sum_ms, memory_order_relaxed);
        ola_mw_printf(w, "%s_sum{tenant=\"", name);
        ola_mw_label_value(w, v->tenants[t].name);
        ola_mw_puts(w, "\"} ");
        ola_mw_seconds(w, sum > INT64_MAX ? INT64_MAX : (int64_t)sum);
        ola_mw_printf(w, "\n%s_count{tenant=\"", name);
        ola_mw_label_value(w, v->tenants[t].name);
        ola_mw_printf(w, "\"} %" PRIu64 "\n", cum);
    }
}

#define OLA_GET_STAT(fn, field)                                                          \
    static uint64_t fn(const struct ola_metrics_tenant *t)                               \
    {                                                                                    \
        return (uint64_t)OLA_STAT_OF(t->stats, field);                                   \
    }
#define OLA_GET_SNAP(fn, field)                                                          \
    static uint64_t fn(const struct ola_metrics_tenant *t)                               \
    {                                                                                    \
        return (uint64_t)t->field;                                                       \
    }

OLA_GET_STAT(ola_g_received, events_received)
OLA_GET_STAT(ola_g_delivered, events_delivered)
OLA_GET_STAT(ola_g_duplicates, duplicates)
OLA_GET_STAT(ola_g_late, late_events)
OLA_GET_STAT(ola_g_pages, pages)
OLA_GET_STAT(ola_g_windows, windows)
OLA_GET_STAT(ola_g_sweeps, sweeps)
OLA_GET_STAT(ola_g_batches, batches)
OLA_GET_STAT(ola_g_retries, retries)
OLA_GET_STAT(ola_g_checkpoint_errors, checkpoint_errors)
OLA_GET_SNAP(ola_g_token_requests, api_token_requests)
OLA_GET_SNAP(ola_g_rate_limited, api_rate_limited)
OLA_GET_SNAP(ola_g_api_retries, api_retries)
OLA_GET_SNAP(ola_g_clock_rejected, api_clock_rejected)
OLA_GET_SNAP(ola_g_state_capped, rules_state_capped)
OLA_GET_SNAP(ola_g_state_evicted, rules_state_evicted)
OLA_GET_SNAP(ola_g_seen_ids, seen_ids)
OLA_GET_SNAP(ola_g_enrich_hits, enrich_hits)
OLA_GET_SNAP(ola_g_enrich_misses, enrich_misses)
OLA_GET_SNAP(ola_g_enrich_evictions, enrich_evictions)
OLA_GET_SNAP(ola_g_enrich_deferred, enrich_deferred)

static uint64_t ola_g_token_ok(const struct ola_metrics_tenant *t)
{
    return OLA_STAT_OF(t->stats, token_ok) ? 1 : 0;
}

/* Why tenant t is not up, or NULL when it is. */
static const char *ola_tenant_trouble(const struct ola_metrics_tenant *t, int64_t now_ms)
{
    int64_t last = OLA_STAT_OF(t->stats, last_poll_ok_ms);
    int64_t poll =
        t->poll_interval_ms > 0 ? t->poll_interval_ms : OLA_METRICS_POLL_DEF_MS;

    if (t->down)
        return t->down_reason[0] ? t->down_reason : "down";
    if (!OLA_STAT_OF(t->stats, token_ok))
        return "the API token is not valid (not fetched yet, or the credential was "
               "rejected)";
    if (last <= 0)
        return "no successful poll yet";
    if (now_ms - last > 3 * poll)
        return "the last successful poll is older than 3 poll intervals";
    return NULL;
}

static void ola_render_events(struct ola_mw *w, const struct ola_metrics_view *v)
{
    const struct ola_metrics_outputs *o = v->outputs;
    uint64_t dead = 0;
    size_t i;
    const char *kv[4];

    ola_mw_per_tenant(w, v, "olagent_events_received_total", "counter",
                      "Events read from API pages, before deduplication.",
                      ola_g_received);
    ola_mw_per_tenant(w, v, "olagent_events_delivered_total", "counter",
                      "Events whose batch every output acknowledged and the checkpoint "
                      "committed.",
                      ola_g_delivered);
    ola_mw_family(w, "olagent_events_emitted_total", "counter",
                  "Records an output durably accepted.");
    for (i = 0; o != NULL && i < o->n_outputs; i++) {
        kv[0] = "output";
        kv[1] = o->outputs[i].name;
        kv[2] = "type";
        kv[3] = o->outputs[i].type;
        ola_mw_u64(w, "olagent_events_emitted_total", kv, 2, o->outputs[i].emitted);
        dead += o->outputs[i].dead_letters;
    }
    ola_mw_family(w, "olagent_events_dropped_total", "counter",
                  "Events not delivered, by reason: rule (a rule dropped it) and "
                  "malformed (not an event) by tenant, dead_letter (written to an "
                  "output's dead-letter file) for the process.");
    kv[0] = "reason";
    kv[2] = "tenant";
    for (i = 0; i < v->n_tenants; i++) {
        kv[3] = v->tenants[i].name;
        kv[1] = "rule";
        ola_mw_u64(w, "olagent_events_dropped_total", kv, 2,
                   OLA_STAT_OF(v->tenants[i].stats, dropped_rule));
        kv[1] = "malformed";
        ola_mw_u64(w, "olagent_events_dropped_total", kv, 2,
                   OLA_STAT_OF(v->tenants[i].stats, malformed));
    }
    kv[1] = "dead_letter";
    ola_mw_u64(w, "olagent_events_dropped_total", kv, 1, dead);
    ola_mw_per_tenant(w, v, "olagent_duplicates_skipped_total", "counter",
                      "Events skipped because they were already delivered.",
                      ola_g_duplicates);
    ola_mw_per_tenant(w, v, "olagent_late_events_total", "counter",
                      "Events first seen with created_at behind the watermark.",
                      ola_g_late);
    ola_mw_hist(w, v, "olagent_event_lateness_seconds",
                "How far behind the watermark late events were created.",
                offsetof(struct ola_stats, late));
    ola_mw_per_tenant(w, v, "olagent_pages_total", "counter", "Event pages fetched.",
                      ola_g_pages);
    ola_mw_per_tenant(w, v, "olagent_windows_total", "counter",
                      "Polling windows completed.", ola_g_windows);
    ola_mw_per_tenant(w, v, "olagent_late_sweeps_total", "counter",
                      "Late sweeps of the overlap completed.", ola_g_sweeps);
    ola_mw_per_tenant(w, v, "olagent_batches_total", "counter", "Batches committed.",
                      ola_g_batches);
    ola_mw_hist(w, v, "olagent_batch_latency_seconds",
                "Time from a page fetched to its checkpoint committed.",
                offsetof(struct ola_stats, batch_latency));
}

static void ola_render_api(struct ola_mw *w, const struct ola_metrics_view *v)
{
    const char *kv[6];
    size_t t, ep, sc;

    ola_mw_family(w, "olagent_api_requests_total", "counter",
                  "OneLogin API requests by endpoint and answer status class (none: no "
                  "answer arrived).");
    for (t = 0; t < v->n_tenants; t++) {
        const struct ola_metrics_tenant *s = &v->tenants[t];

        for (ep = 0; ep < OLA_OL_EP_MAX; ep++) {
            for (sc = 0; sc < OLA_OL_SC_MAX; sc++) {
                /* the events 2xx series always exists; the others once they happen */
                if (s->api_by_endpoint[ep][sc] == 0 &&
                    !(ep == OLA_OL_EP_EVENTS && sc == OLA_OL_SC_2XX))
                    continue;
                kv[0] = "tenant";
                kv[1] = s->name;
                kv[2] = "endpoint";
                kv[3] = ola_ol_endpoint_names[ep];
                kv[4] = "status";
                kv[5] = ola_ol_status_class_names[sc];
                ola_mw_u64(w, "olagent_api_requests_total", kv, 3,
                           s->api_by_endpoint[ep][sc]);
            }
        }
    }
    ola_mw_per_tenant(w, v, "olagent_api_token_requests_total", "counter",
                      "Access token requests.", ola_g_token_requests);
    ola_mw_per_tenant(w, v, "olagent_api_rate_limited_total", "counter",
                      "Answers that were 429 or rate_limit_exceeded.",
                      ola_g_rate_limited);
    ola_mw_per_tenant(w, v, "olagent_api_retries_total", "counter",
                      "API answers classified as transient (retried).",
                      ola_g_api_retries);
    ola_mw_per_tenant(w, v, "olagent_server_clock_rejected_total", "counter",
                      "Answers whose Date header was ignored: far off the server time "
                      "estimated so far.",
                      ola_g_clock_rejected);
    kv[0] = "tenant";
    ola_mw_family(w, "olagent_api_paced_seconds_total", "counter",
                  "Waiting advised by the rate-limit governor.");
    for (t = 0; t < v->n_tenants; t++) {
        uint64_t ms = v->tenants[t].api_paced_ms;

        kv[1] = v->tenants[t].name;
        ola_mw_ms(w, "olagent_api_paced_seconds_total", kv, 1,
                  ms > INT64_MAX ? INT64_MAX : (int64_t)ms);
    }
    ola_mw_family(w, "olagent_rate_limit_limit", "gauge",
                  "X-RateLimit-Limit last seen (absent until known).");
    for (t = 0; t < v->n_tenants; t++) {
        kv[1] = v->tenants[t].name;
        if (v->tenants[t].rate_limit >= 0)
            ola_mw_i64(w, "olagent_rate_limit_limit", kv, 1, v->tenants[t].rate_limit);
    }
    ola_mw_family(w, "olagent_rate_limit_remaining", "gauge",
                  "X-RateLimit-Remaining last seen (absent until known).");
    for (t = 0; t < v->n_tenants; t++) {
        kv[1] = v->tenants[t].name;
        if (v->tenants[t].rate_remaining >= 0)
            ola_mw_i64(w, "olagent_rate_limit_remaining", kv, 1,
                       v->tenants[t].rate_remaining);
    }
    ola_mw_per_tenant(w, v, "olagent_retries_total", "counter",
                      "Backoff waits, by the source and by the pipeline for outputs.",
                      ola_g_retries);
    ola_mw_family(w, "olagent_backoff_seconds_total", "counter",
                  "Time spent in backoff waits.");
    for (t = 0; t < v->n_tenants; t++) {
        kv[1] = v->tenants[t].name;
        ola_mw_ms(w, "olagent_backoff_seconds_total", kv, 1,
                  (int64_t)(OLA_STAT_OF(v->tenants[t].stats, backoff_ms) & INT64_MAX));
    }
    ola_mw_per_tenant(w, v, "olagent_api_token_valid", "gauge",
                      "1 while the API accepts the credential.", ola_g_token_ok);
}

static void ola_render_progress(struct ola_mw *w, const struct ola_metrics_view *v,
                                int64_t now_ms)
{
    const char *kv[2] = {"tenant", NULL};
    size_t t;

    ola_mw_age(w, v, "olagent_checkpoint_age_seconds",
               "Time since the checkpoint was last saved (absent before the first save).",
               offsetof(struct ola_stats, checkpoint_ms), now_ms);
    ola_mw_per_tenant(w, v, "olagent_checkpoint_errors_total", "counter",
                      "Failed checkpoint saves.", ola_g_checkpoint_errors);
    ola_mw_family(w, "olagent_watermark_timestamp_seconds", "gauge",
                  "Event time up to which every event was delivered.");
    for (t = 0; t < v->n_tenants; t++) {
        int64_t wm = OLA_STAT_OF(v->tenants[t].stats, watermark_ms);

        kv[1] = v->tenants[t].name;
        if (wm >= 0)
            ola_mw_ms(w, "olagent_watermark_timestamp_seconds", kv, 1, wm);
    }
    ola_mw_family(w, "olagent_watermark_lag_seconds", "gauge",
                  "Now minus the watermark: how far behind the audit trail the agent "
                  "is.");
    for (t = 0; t < v->n_tenants; t++) {
        int64_t wm = OLA_STAT_OF(v->tenants[t].stats, watermark_ms);

        kv[1] = v->tenants[t].name;
        if (wm >= 0)
            ola_mw_ms(w, "olagent_watermark_lag_seconds", kv, 1, now_ms - wm);
    }
    ola_mw_age(w, v, "olagent_newest_event_age_seconds",
               "Now minus created_at of the newest delivered event.",
               offsetof(struct ola_stats, newest_event_ms), now_ms);
    ola_mw_age(w, v, "olagent_last_poll_age_seconds",
               "Time since the last successful page fetch.",
               offsetof(struct ola_stats, last_poll_ok_ms), now_ms);
    ola_mw_age(w, v, "olagent_loop_heartbeat_age_seconds",
               "Time since the tenant's loop last went round.",
               offsetof(struct ola_stats, loop_alive_ms), now_ms);
    ola_mw_family(w, "olagent_tenant_up", "gauge",
                  "1 while the tenant is up: credential accepted, polling on time.");
    for (t = 0; t < v->n_tenants; t++) {
        kv[1] = v->tenants[t].name;
        ola_mw_i64(w, "olagent_tenant_up", kv, 1,
                   ola_tenant_trouble(&v->tenants[t], now_ms) == NULL ? 1 : 0);
    }
}

/* The HTTP outputs' requests; samples only for outputs that send requests. */
static void ola_render_requests(struct ola_mw *w, const struct ola_metrics_outputs *o)
{
    static const char *const sc[OLA_OUT_SC_MAX] = {"2xx", "3xx", "4xx", "5xx", "none"};
    const char *kv[4] = {"output", NULL, "status", NULL};
    size_t i, c, n = o != NULL ? o->n_outputs : 0;

    ola_mw_family(w, "olagent_output_requests_total", "counter",
                  "HTTP output requests by answer status class (none: no answer).");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        for (c = 0; o->outputs[i].req.active && c < OLA_OUT_SC_MAX; c++) {
            kv[3] = sc[c];
            ola_mw_u64(w, "olagent_output_requests_total", kv, 2,
                       o->outputs[i].req.requests[c]);
        }
    }
    ola_mw_family(w, "olagent_output_request_bytes_total", "counter",
                  "HTTP output request bytes sent (bodies as sent, compressed or not).");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        if (o->outputs[i].req.active)
            ola_mw_u64(w, "olagent_output_request_bytes_total", kv, 1,
                       o->outputs[i].req.bytes_sent);
    }
    ola_mw_family(w, "olagent_output_request_retries_total", "counter",
                  "HTTP output requests sent again after a retry answer or none.");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        if (o->outputs[i].req.active)
            ola_mw_u64(w, "olagent_output_request_retries_total", kv, 1,
                       o->outputs[i].req.retries);
    }
    ola_mw_family(w, "olagent_output_batch_latency_seconds_total", "counter",
                  "HTTP outputs: time from a batch written to all its requests answered, "
                  "summed over batches.");
    for (i = 0; i < n; i++) {
        uint64_t ms = o->outputs[i].req.batch_ms;

        kv[1] = o->outputs[i].name;
        if (o->outputs[i].req.active)
            ola_mw_ms(w, "olagent_output_batch_latency_seconds_total", kv, 1,
                      ms > INT64_MAX ? INT64_MAX : (int64_t)ms);
    }
    ola_mw_family(w, "olagent_output_batches_total", "counter",
                  "HTTP outputs: batches whose requests were all answered.");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        if (o->outputs[i].req.active)
            ola_mw_u64(w, "olagent_output_batches_total", kv, 1,
                       o->outputs[i].req.batches);
    }
}

static void ola_render_outputs(struct ola_mw *w, const struct ola_metrics_outputs *o)
{
    const char *kv[2] = {"output", NULL};
    size_t i, n = o != NULL ? o->n_outputs : 0;

    ola_mw_family(w, "olagent_output_errors_total", "counter",
                  "Write or flush calls that answered retry or error.");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        ola_mw_u64(w, "olagent_output_errors_total", kv, 1, o->outputs[i].errors);
    }
    ola_mw_family(w, "olagent_output_dead_letters_total", "counter",
                  "Records an output refused for good (too large, invalid for the "
                  "destination, not renderable), written to its dead-letter file.");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        ola_mw_u64(w, "olagent_output_dead_letters_total", kv, 1,
                   o->outputs[i].dead_letters);
    }
    ola_mw_family(w, "olagent_output_truncated_total", "counter",
                  "Records cut to fit an output's size limit.");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        ola_mw_u64(w, "olagent_output_truncated_total", kv, 1, o->outputs[i].truncated);
    }
    ola_render_requests(w, o);
    ola_mw_family(w, "olagent_output_spool_bytes", "gauge",
                  "Spooled outputs: bytes in the spool not yet delivered.");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        if (o->outputs[i].spooled)
            ola_mw_u64(w, "olagent_output_spool_bytes", kv, 1, o->outputs[i].spool_bytes);
    }
    ola_mw_family(
        w, "olagent_output_spool_age_seconds", "gauge",
        "Spooled outputs: age of the oldest record not yet delivered (0: none).");
    for (i = 0; i < n; i++) {
        int64_t at = o->outputs[i].spool_oldest_ms, now = ola_now_ms();

        kv[1] = o->outputs[i].name;
        if (o->outputs[i].spooled)
            ola_mw_ms(w, "olagent_output_spool_age_seconds", kv, 1,
                      at > 0 && now > at ? now - at : 0);
    }
    ola_mw_family(w, "olagent_output_up", "gauge", "1 while the output accepts data.");
    for (i = 0; i < n; i++) {
        kv[1] = o->outputs[i].name;
        ola_mw_i64(w, "olagent_output_up", kv, 1, o->outputs[i].ok ? 1 : 0);
    }
}

static void ola_render_rules(struct ola_mw *w, const struct ola_metrics_view *v)
{
    const char *kv[4] = {"tenant", NULL, "rule", NULL};
    size_t t, i;

    ola_mw_family(w, "olagent_alerts_total", "counter", "Alert records raised, by rule.");
    for (t = 0; t < v->n_tenants; t++) {
        kv[1] = v->tenants[t].name;
        for (i = 0; i < v->tenants[t].n_rules; i++) {
            kv[3] = v->tenants[t].rules[i].name;
            ola_mw_u64(w, "olagent_alerts_total", kv, 2, v->tenants[t].rules[i].alerts);
        }
    }
    ola_mw_per_tenant(w, v, "olagent_alert_state_capped_total", "counter",
                      "Alert keys refused because the alert state cap was reached.",
                      ola_g_state_capped);
    ola_mw_per_tenant(w, v, "olagent_alert_state_evicted_total", "counter",
                      "Alert keys evicted (the least recently touched) at a rule's own "
                      "max_keys.",
                      ola_g_state_evicted);
    ola_mw_per_tenant(w, v, "olagent_seen_ids", "gauge",
                      "Event ids remembered for deduplication inside the overlap.",
                      ola_g_seen_ids);
    ola_mw_per_tenant(w, v, "olagent_enrich_cache_hits_total", "counter",
                      "Enrichment lookups answered from the cache.", ola_g_enrich_hits);
    ola_mw_per_tenant(w, v, "olagent_enrich_cache_misses_total", "counter",
                      "Enrichment lookups that went to the API.", ola_g_enrich_misses);
    ola_mw_per_tenant(w, v, "olagent_enrich_cache_evictions_total", "counter",
                      "Enrichment cache entries evicted.", ola_g_enrich_evictions);
    ola_mw_per_tenant(w, v, "olagent_enrich_deferred_total", "counter",
                      "Enrichment lookups deferred to keep the API budget for polling.",
                      ola_g_enrich_deferred);
}

int ola_metrics_render(const struct ola_metrics_view *v, int64_t now_ms,
                       struct ola_buf *out)
{
    static const struct ola_metrics_view empty = {NULL, NULL, 0};
    struct ola_mw w = {out, 0};
    const char *kv[2] = {"version", OLA_VERSION};
    size_t mark = out->len;
    int64_t started = OLA_STAT_OF(&ola_stats, started_ms);

    if (v == NULL)
        v = &empty;
    ola_mw_family(&w, "olagent_build_info", "gauge", "Always 1; the version as a label.");
    ola_mw_u64(&w, "olagent_build_info", kv, 1, 1);
    ola_mw_family(&w, "olagent_up", "gauge", "1: the agent answers.");
    ola_mw_u64(&w, "olagent_up", NULL, 0, 1);
    ola_mw_family(&w, "olagent_start_time_seconds", "gauge",
                  "Unix time the agent started tailing.");
    if (started > 0)
        ola_mw_ms(&w, "olagent_start_time_seconds", NULL, 0, started);
    ola_render_events(&w, v);
    ola_render_api(&w, v);
    ola_render_progress(&w, v, now_ms);
    ola_render_outputs(&w, v->outputs);
    ola_render_rules(&w, v);
    if (w.failed) {
        ola_buf_truncate(out, mark);
        return -1;
    }
    return 0;
}

/* ---- health and readiness ------------------------------------------------- */

bool ola_metrics_ready(const struct ola_metrics_view *v, int64_t now_ms,
                       struct ola_buf *why)
{
    bool ready = v->n_tenants > 0 && v->outputs != NULL;
    size_t i;
    int bad = 0;

    for (i = 0; i < v->n_tenants; i++) {
        const char *trouble = ola_tenant_trouble(&v->tenants[i], now_ms);

        ready &= trouble == NULL;
        if (why != NULL)
            bad |= ola_buf_printf(why, "tenant %s: %s\n", v->tenants[i].name,
                                  trouble != NULL ? trouble : "up");
    }
    if (v->n_tenants == 0 && why != NULL)
        bad |= ola_buf_puts(why, "no tenant has started yet\n");
    if (v->outputs == NULL && why != NULL)
        bad |= ola_buf_puts(why, "the outputs' state is not published yet\n");
    for (i = 0; v->outputs != NULL && i < v->outputs->n_outputs; i++) {
        if (v->outputs->outputs[i].ok)
            continue;
        ready = false;
        if (why != NULL)
            bad |=
                ola_buf_printf(why, "output %s (%s): not accepting data\n",
                               v->outputs->outputs[i].name, v->outputs->outputs[i].type);
    }
    (void)bad; /* a line lost to ENOMEM leaves the answer right */
    return ready;
}

bool ola_metrics_alive(const struct ola_metrics_view *v, int64_t stale_after_ms,
                       int64_t now_ms, struct ola_buf *why)
{
    int64_t beat = OLA_STAT_OF(&ola_stats, loop_alive_ms);
    bool alive = beat > 0 && now_ms - beat <= stale_after_ms;
    size_t i;
    int bad = 0;

    if (!alive && why != NULL)
        bad |= beat > 0 ? ola_buf_printf(why,
                                         "the main loop's last heartbeat was %" PRId64
                                         " ms ago\n",
                                         now_ms - beat)
                        : ola_buf_puts(why, "the main loop has not started\n");
    for (i = 0; i < v->n_tenants; i++) {
        int64_t t = OLA_STAT_OF(v->tenants[i].stats, loop_alive_ms);

        if (t > 0 && now_ms - t <= stale_after_ms)
            continue;
        alive = false;
        if (why != NULL)
            bad |= t > 0 ? ola_buf_printf(why,
                                          "tenant %s: its loop's last heartbeat was "
                                          "%" PRId64 " ms ago\n",
                                          v->tenants[i].name, now_ms - t)
                         : ola_buf_printf(why, "tenant %s: its loop has not started\n",
                                          v->tenants[i].name);
    }
    (void)bad;
    return alive;
}
