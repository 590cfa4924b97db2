/*
 * srvclock.h - the server's clock, read from whole-second Date headers.
 */
#ifndef OLA_SRVCLOCK_H
#define OLA_SRVCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define OLA_SRVCLOCK_UNBOUNDED INT64_MAX

struct ola_srvclock {
    bool known;
    int64_t lower_ms;  /* the offset (server - local wall clock) is at least this */
    int64_t upper_ms;  /* ... and below this; OLA_SRVCLOCK_UNBOUNDED if no sample said */
    int64_t travel_ms; /* the shortest request seen (send to answer), -1: none */
    unsigned probes;   /* probe delays handed out since the estimate last tightened */
};

void ola_srvclock_init(struct ola_srvclock *ck);

/*
 * Learns from one answer: date_ms is its Date header (whole seconds), sent_ms
 * and recv_ms the local wall clock when the request went out and when the
 * answer was in. sent_ms < 0 means unknown (then only the lower bound learns).
 */
void ola_srvclock_learn(struct ola_srvclock *ck, int64_t date_ms, int64_t sent_ms,
                        int64_t recv_ms);

/* The server's time at local_ms: never ahead of it (the lower bound). */
int64_t ola_srvclock_now(const struct ola_srvclock *ck, int64_t local_ms);

/* upper - lower in ms, or OLA_SRVCLOCK_UNBOUNDED. */
int64_t ola_srvclock_spread(const struct ola_srvclock *ck);

/*
 * How long after due_ms (local wall clock) a request should go so that its
 * Date halves what is unknown about the offset: a delay in [0, 1000), or 0
 * when the estimate is as tight as tight_ms (or as the round trips allow), or
 * after a few probes that did not tighten it.
 */
int64_t ola_srvclock_probe_delay(struct ola_srvclock *ck, int64_t due_ms,
                                 int64_t tight_ms);

#endif
