/*
 * ratelimit.h - the rate-limit governor of the OneLogin client.
 *
 * One budget per tenant (X-RateLimit-Limit calls per window). The governor
 * learns limit, remaining and reset from every response, and before each call
 * answers go, wait (pacing, or blocked after a 429) or defer (a lookup that
 * would eat into the reserve kept for polling). It never sleeps and never
 * reads a clock: every decision takes now_mono_ms, so tests drive time.
 * @locality one thread (the client's owner).
 */
#ifndef OLA_RATELIMIT_H
#define OLA_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define OLA_RL_LOW_WATER       0.10    /* pace below this share of the limit */
#define OLA_RL_BACKOFF_BASE_MS 5000    /* first wait after a 429 without hints */
#define OLA_RL_BACKOFF_MAX_MS  60000   /* cap of that backoff */
#define OLA_RL_DEFER_MS        60000   /* lookup deferral when the reset is unknown */
#define OLA_RL_MAX_HINT_MS     3600000 /* a reset/Retry-After beyond 1h is clamped */

enum ola_rl_verdict {
    OLA_RL_GO = 0, /* send now */
    OLA_RL_WAIT,   /* pacing or blocked after a 429: wait *wait_ms */
    OLA_RL_DEFER,  /* a lookup refused to keep the reserve: wait *wait_ms */
};

enum ola_rl_prio {
    OLA_RL_POLL = 0,
    OLA_RL_LOOKUP = 1,
};

struct ola_rl {
    long limit;               /* -1 unknown */
    long remaining;           /* -1 unknown */
    int64_t reset_at_ms;      /* monotonic; -1 unknown */
    int64_t blocked_until_ms; /* after a 429; 0 when not blocked */
    int64_t last_go_ms;       /* when the last call was let through; -1 never */
    unsigned backoff_n;       /* 429s in a row without a reset hint */
    double reserve;           /* share of the limit lookups leave to polling */
    uint64_t rng;             /* xorshift state for jitter */
};

/* reserve: 0 <= reserve < 1; seed: any value (jitter). */
void ola_rl_init(struct ola_rl *rl, double reserve, uint64_t seed);

/*
 * Learns from one response's headers (the raw strings; NULL or "" when
 * absent, which keeps what was known). reset is seconds until the window
 * resets. Call on every response, including 429s.
 */
void ola_rl_update(struct ola_rl *rl, const char *limit, const char *remaining,
                   const char *reset, int64_t now_mono_ms);

/*
 * Records a 429 / rate_limit_exceeded answer: blocks every call until the
 * reset (X-RateLimit-Reset seconds, else Retry-After as seconds or an HTTP
 * date compared with now_wall_ms, else an exponential backoff from 5 s,
 * jittered, capped at 60 s). Returns the wait in ms (> 0).
 */
int64_t ola_rl_limited(struct ola_rl *rl, const char *reset, const char *retry_after,
                       int64_t now_mono_ms, int64_t now_wall_ms);

/* A response that was not rate limited: the 429 backoff starts over. */
void ola_rl_ok(struct ola_rl *rl);

/*
 * Decides whether a call may go now. On GO the call is assumed sent (the
 * pacing clock starts); otherwise *wait_ms says how long to wait.
 */
enum ola_rl_verdict ola_rl_admit(struct ola_rl *rl, enum ola_rl_prio prio,
                                 int64_t now_mono_ms, int64_t *wait_ms);

/*
 * Parses a header's seconds ("7", " 12 ") into ms. Returns 0 / -1 for an
 * absent, negative or malformed value.
 */
int ola_rl_parse_seconds(const char *s, int64_t *ms);

#endif
