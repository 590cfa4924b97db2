/*
 * stats.c - the counters' instances and the histogram buckets.
 *
 * Bucket bounds are fixed at compile time (Prometheus-style cumulative
 * rendering happens in metrics.c); observing a value is one atomic add.
 */
#include <string.h>

#include "agent/core/stats.h"

static const int64_t ola_late_bounds[OLA_HIST_BUCKETS] = {
    1000,   5000,   10000,   30000,   60000,    120000,
    300000, 600000, 1800000, 3600000, 21600000, 86400000};
static const int64_t ola_latency_bounds[OLA_HIST_BUCKETS] = {
    10, 25, 50, 100, 250, 500, 1000, 1500, 2500, 5000, 10000, 30000};

struct ola_stats ola_stats = {
    .late = {.bounds = ola_late_bounds},
    .batch_latency = {.bounds = ola_latency_bounds},
    .watermark_ms = -1,
};

_Thread_local struct ola_stats *ola_stats_here = &ola_stats;

void ola_stats_init(struct ola_stats *st)
{
    size_t i;

    memset(st, 0, sizeof(*st));
    st->late.bounds = ola_late_bounds;
    st->batch_latency.bounds = ola_latency_bounds;
    atomic_store(&st->watermark_ms, -1);
    for (i = 0; i <= OLA_HIST_BUCKETS; i++) {
        atomic_store(&st->late.counts[i], 0);
        atomic_store(&st->batch_latency.counts[i], 0);
    }
}

void ola_stats_reset(void)
{
    ola_stats_init(&ola_stats);
}

void ola_stats_bind(struct ola_stats *st)
{
    ola_stats_here = st != NULL ? st : &ola_stats;
}

void ola_hist_observe(struct ola_hist *h, int64_t ms)
{
    size_t i;

    if (ms < 0)
        ms = 0;
    for (i = 0; i < OLA_HIST_BUCKETS; i++)
        if (ms <= h->bounds[i])
            break;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ms, (uint64_t)ms, memory_order_relaxed);
}
