/*
 * metrics.h - Prometheus metrics and health endpoints (libmicrohttpd).
 */
#ifndef OLA_METRICS_H
#define OLA_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"
#include "agent/onelogin/client.h"
#include "outputs/output.h"

#define OLA_METRICS_MAX_OUTPUTS 32
#define OLA_METRICS_MAX_RULES   64

/* What the agent thread publishes after each batch (plain copies, no pointers). */
struct ola_metrics_snapshot {
    size_t n_outputs;
    struct {
        char name[64];
        char type[32];
        uint64_t emitted, errors, dead_letters, truncated;
        struct ola_output_req_stats req; /* HTTP outputs' requests */
        bool ok;
    } outputs[OLA_METRICS_MAX_OUTPUTS];
    uint64_t api_requests, api_token_requests, api_rate_limited, api_retries;
    uint64_t api_paced_ms;
    uint64_t api_clock_rejected; /* answers whose Date was ignored */
    /* requests by endpoint and status class (client.h's enums) */
    uint64_t api_by_endpoint[OLA_OL_EP_MAX][OLA_OL_SC_MAX];
    long rate_limit, rate_remaining;
    uint64_t rules_dropped, rules_alerts, rules_state_capped;
    size_t n_rules;
    struct {
        char name[64];
        uint64_t alerts;
    } rules[OLA_METRICS_MAX_RULES];
    size_t seen_ids;
    /* Enrichment (zero until the enrichment module feeds them). */
    uint64_t enrich_hits, enrich_misses, enrich_evictions, enrich_deferred;
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
/* snap: copied. @locality the agent thread. */
void ola_metrics_publish(struct ola_metrics *m, const struct ola_metrics_snapshot *snap);
void ola_metrics_stop(struct ola_metrics *m);

/* Renders the Prometheus text exposition; for the server and for tests. */
int ola_metrics_render(const struct ola_metrics_snapshot *snap, int64_t now_ms,
                       struct ola_buf *out);
/* Readiness as the server decides it; *why says what is missing. */
bool ola_metrics_ready(const struct ola_metrics_snapshot *snap, int64_t poll_interval_ms,
                       int64_t now_ms, const char **why);

#endif
