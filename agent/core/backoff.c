/*
 * backoff.c - exponential backoff with full jitter (backoff.h).
 *
 * The ceiling doubles with every attempt up to max; the wait is drawn
 * uniformly from [0, ceiling] with the backoff's own splitmix64 generator
 * (rng.c), as AWS's architecture note "Exponential Backoff And Jitter"
 * recommends: fewest calls and shortest total time for clients that fail
 * together. Callers that must not resume before a known moment (a rate-limit
 * reset, a Retry-After) take the larger of that moment and this wait.
 */
#include <stdint.h>

#include "agent/core/backoff.h"

void ola_backoff_init(struct ola_backoff *b, int64_t base_ms, int64_t max_ms,
                      uint64_t seed)
{
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->max_ms = max_ms > b->base_ms ? max_ms : b->base_ms;
    b->attempts = 0;
    ola_rng_seed(&b->rng, seed);
}

void ola_backoff_set_max(struct ola_backoff *b, int64_t ms)
{
    if (ms > 0)
        b->max_ms = ms > b->base_ms ? ms : b->base_ms;
}

int64_t ola_backoff_ceiling(const struct ola_backoff *b)
{
    int64_t c = b->base_ms;

    for (unsigned i = 0; i < b->attempts && c < b->max_ms; i++)
        c = c > INT64_MAX / 2 ? INT64_MAX : c * 2;
    return c < b->max_ms ? c : b->max_ms;
}

int64_t ola_backoff_next(struct ola_backoff *b)
{
    int64_t c = ola_backoff_ceiling(b);

    if (b->attempts < 64)
        b->attempts++;
    return (int64_t)ola_rng_upto(&b->rng, (uint64_t)c);
}

void ola_backoff_reset(struct ola_backoff *b)
{
    b->attempts = 0;
}
