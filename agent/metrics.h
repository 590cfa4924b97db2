/*
 * metrics.h - Prometheus metrics and health endpoints (libmicrohttpd).
 */
#ifndef OLA_METRICS_H
#define OLA_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"
#include "agent/core/event.h"
#include "agent/core/stats.h"
#include "agent/onelogin/client.h"
#include "outputs/output.h"

#define OLA_METRICS_MAX_OUTPUTS 32
#define OLA_METRICS_MAX_RULES   64

/* The shared outputs' figures (plain copies), published after each batch. */
struct ola_metrics_outputs {
    size_t n_outputs;
    struct {
        char name[64];
        char type[32];
        uint64_t emitted, errors, dead_letters, truncated;
        struct ola_output_req_stats req; /* HTTP outputs' requests */
        bool ok;
        bool spooled;            /* it has a spool: the two below are its */
        uint64_t spool_bytes;    /* undelivered bytes in the spool */
        int64_t spool_oldest_ms; /* when the oldest of them was spooled; 0: none */
    } outputs[OLA_METRICS_MAX_OUTPUTS];
};

/*
 * One tenant's figures, published by its thread (plain copies), plus its
 * counters (stats), which the server reads live: a tenant is removed from
 * the server (ola_metrics_remove_tenant) before its counters are freed.
 */
struct ola_metrics_tenant {
    char name[OLA_TENANT_NAME_MAX + 1];
    const struct ola_stats *stats; /* borrowed, see above */
    int64_t poll_interval_ms;      /* readiness: a successful poll within 3 of these */
    bool down;                     /* given up on for now (credential rejected) */
    char down_reason[160];
    uint64_t api_requests, api_token_requests, api_rate_limited, api_retries;
    uint64_t api_paced_ms;
    uint64_t api_clock_rejected; /* answers whose Date was ignored */
    /* requests by endpoint and status class (client.h's enums) */
    uint64_t api_by_endpoint[OLA_OL_EP_MAX][OLA_OL_SC_MAX];
    long rate_limit, rate_remaining;
    uint64_t rules_dropped, rules_alerts, rules_state_capped, rules_state_evicted;
    size_t n_rules;
    struct {
        char name[64];
        uint64_t alerts;
    } rules[OLA_METRICS_MAX_RULES];
    size_t seen_ids;
    uint64_t enrich_hits, enrich_misses, enrich_evictions, enrich_deferred;
};

/* What a render reads: the outputs (NULL before the first publish) and the tenants. */
struct ola_metrics_view {
    const struct ola_metrics_outputs *outputs;
    const struct ola_metrics_tenant *tenants;
    size_t n_tenants;
};

struct ola_metrics_cfg {
    const char *listen;       /* "127.0.0.1:9464"; port 0 picks one */
    int64_t poll_interval_ms; /* readiness: last poll within 3 intervals */
    int64_t stale_after_ms;   /* health: loop heartbeat older than this is dead */
};

struct ola_metrics;

/* Starts the HTTP server thread. Returns 0 / -1 with err. */
int ola_metrics_start(const struct ola_metrics_cfg *cfg, struct ola_metrics **out,
                      struct ola_err *err);
/* The port actually bound (for listen ports of 0). */
int ola_metrics_port(const struct ola_metrics *m);
/*
 * Shows a tenant (t copied; t->stats must stay valid until the tenant is
 * removed). Publishing a tenant of the same name replaces its figures.
 * Returns 0 / -1 (ENOMEM). @locality any thread.
 */
int ola_metrics_publish_tenant(struct ola_metrics *m, const struct ola_metrics_tenant *t);
/* Stops showing the tenant called name. @locality any thread. */
void ola_metrics_remove_tenant(struct ola_metrics *m, const char *name);
/* o: copied. @locality the thread holding the outputs' lock. */
void ola_metrics_publish_outputs(struct ola_metrics *m,
                                 const struct ola_metrics_outputs *o);
void ola_metrics_stop(struct ola_metrics *m);

/* Renders the Prometheus text exposition; for the server and for tests. */
int ola_metrics_render(const struct ola_metrics_view *v, int64_t now_ms,
                       struct ola_buf *out);
/*
 * Readiness: every tenant up (its credential accepted, a successful poll within
 * 3 of its poll intervals, not down) and every output accepting data. When why
 * is not NULL, one line per tenant ("tenant acme: up") and per output that
 * is not accepting is appended to it. Returns true when ready.
 */
bool ola_metrics_ready(const struct ola_metrics_view *v, int64_t now_ms,
                       struct ola_buf *why);
/*
 * Liveness: the main loop's heartbeat (the process-wide counters) and every
 * tenant's are younger than stale_after_ms. *age_ms: the oldest heartbeat's
 * age (-1: one never beat). Appends the stale ones to why (may be NULL).
 */
bool ola_metrics_alive(const struct ola_metrics_view *v, int64_t stale_after_ms,
                       int64_t now_ms, struct ola_buf *why);

#endif
