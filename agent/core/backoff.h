/*
 * backoff.h - the one retry backoff: exponential, capped, with full jitter.
 *
 * Used by the source's retries, the token fetch, the rate-limit governor's
 * hintless waits and the pipeline's output retries, so every retry in the
 * agent spreads the same way. Pure arithmetic: it says how long to wait,
 * the caller waits (outputs never sleep, the pipeline owns the wait).
 */
#ifndef OLA_BACKOFF_H
#define OLA_BACKOFF_H

#include <stdint.h>

#include "agent/core/rng.h"

struct ola_backoff {
    int64_t base_ms;   /* the ceiling of the first wait */
    int64_t max_ms;    /* no ceiling grows past this */
    unsigned attempts; /* waits handed out since the last reset */
    struct ola_rng rng;
};

/* base_ms, max_ms > 0 (max below base is raised to base). seed 0: from the clock. */
void ola_backoff_init(struct ola_backoff *b, int64_t base_ms, int64_t max_ms,
                      uint64_t seed);
/* A new maximum for later waits (a reloaded setting); ms <= 0 keeps the old one. */
void ola_backoff_set_max(struct ola_backoff *b, int64_t ms);
/* The ceiling of the next wait: min(max, base * 2^attempts). */
int64_t ola_backoff_ceiling(const struct ola_backoff *b);
/*
 * The wait before the next attempt, uniform in [0, ceiling] ("full jitter":
 * many clients failing together spread over the whole interval), and counts
 * the attempt.
 */
int64_t ola_backoff_next(struct ola_backoff *b);
/* The call succeeded: the next failure starts from base again. */
void ola_backoff_reset(struct ola_backoff *b);

#endif
