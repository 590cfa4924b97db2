/*
 * stats.h - the agent's counters, gauges and histograms.
 *
 * One instance per tenant (plus the process-wide one, for the commands that
 * serve no tenant), written by the tenant's thread and read by the metrics
 * thread, so every field is a relaxed C11 atomic: a scrape may see counters
 * a batch apart, never a torn value. The macros write the calling thread's
 * instance (ola_stats_here: the process-wide one until the thread binds its
 * tenant's with ola_stats_bind). Per-output and per-rule figures live with
 * their owners (struct ola_output_stats, ola_rules_stats) and are read when
 * a snapshot is published.
 */
#ifndef OLA_STATS_H
#define OLA_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define OLA_HIST_BUCKETS 12

struct ola_hist {
    const int64_t *bounds; /* OLA_HIST_BUCKETS upper bounds, ms, increasing */
    _Atomic uint64_t counts[OLA_HIST_BUCKETS + 1]; /* the last one is +Inf */
    _Atomic uint64_t sum_ms;
};

struct ola_stats {
    _Atomic uint64_t events_received;  /* events in pages, before dedupe */
    _Atomic uint64_t duplicates;       /* skipped: already delivered */
    _Atomic uint64_t late_events;      /* first seen behind the watermark */
    _Atomic uint64_t malformed;        /* page elements that were not events */
    _Atomic uint64_t pages;            /* event pages fetched */
    _Atomic uint64_t windows;          /* windows completed */
    _Atomic uint64_t sweeps;           /* late sweeps completed */
    _Atomic uint64_t events_delivered; /* events whose batch was committed */
    _Atomic uint64_t dropped_rule;     /* events dropped by a rule */
    _Atomic uint64_t batches;          /* batches committed */
    _Atomic uint64_t retries;          /* backoff waits, source and outputs */
    _Atomic uint64_t backoff_ms;       /* time spent in those waits */
    _Atomic uint64_t checkpoint_errors;
    _Atomic int64_t watermark_ms;    /* -1 until known */
    _Atomic int64_t checkpoint_ms;   /* wall time of the last checkpoint save */
    _Atomic int64_t newest_event_ms; /* created_at of the newest delivered event */
    _Atomic int64_t last_poll_ok_ms; /* wall time of the last successful page */
    _Atomic int64_t started_ms;
    _Atomic int token_ok;          /* 1 while the API accepts our credential */
    _Atomic int outputs_ok;        /* 1 while every output accepts data */
    _Atomic int64_t loop_alive_ms; /* the main loop's heartbeat */
    struct ola_hist late;          /* how late late events were */
    struct ola_hist batch_latency; /* page fetched -> checkpoint committed */
};

/* The process-wide instance. */
extern struct ola_stats ola_stats;
/* The calling thread's instance: &ola_stats until ola_stats_bind. */
extern _Thread_local struct ola_stats *ola_stats_here;

/* Resets the process-wide instance (tests). */
void ola_stats_reset(void);
/* Zeroes st and sets its histograms' bounds (a tenant's instance). */
void ola_stats_init(struct ola_stats *st);
/* Makes st the calling thread's instance (NULL: the process-wide one). st: borrowed. */
void ola_stats_bind(struct ola_stats *st);
void ola_hist_observe(struct ola_hist *h, int64_t ms);

#define OLA_STAT_ADD(field, n)                                                           \
    atomic_fetch_add_explicit(&ola_stats_here->field, (n), memory_order_relaxed)
#define OLA_STAT_SET(field, v)                                                           \
    atomic_store_explicit(&ola_stats_here->field, (v), memory_order_relaxed)
#define OLA_STAT_GET(field)                                                              \
    atomic_load_explicit(&ola_stats_here->field, memory_order_relaxed)
/* A field of st, read by another thread (the metrics server). */
#define OLA_STAT_OF(st, field) atomic_load_explicit(&(st)->field, memory_order_relaxed)

#endif
