/*
 * ratelimit.h - the rate-limit governor of the OneLogin client.
 *
 * One budget per tenant (X-RateLimit-Limit calls per window). The governor
 * learns limit, remaining and reset from every response, and before each call
 * answers go, wait (pacing, or blocked after a 429) or defer (a lookup that
 * would eat into the reserve kept for polling). It never sleeps and never
 * reads a clock: every decision takes now_mono_ms (the monotonic clock, which
 * neither the server's nor the local wall clock moves), so tests drive time.
 * @locality one thread (the client's owner).
 */
#ifndef OLA_RATELIMIT_H
#define OLA_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/core/backoff.h"

#define OLA_RL_LOW_WATER       0.10    /* pace below this share of the limit */
#define OLA_RL_BACKOFF_BASE_MS 1000    /* longest first wait after a hintless 429 */
#define OLA_RL_BACKOFF_MAX_MS  60000   /* cap of the waits unless set */
#define OLA_RL_MIN_WAIT_MS     500     /* floor of the first wait ("0 s" left) */
#define OLA_RL_RESET_GRAIN_MS  1000    /* X-RateLimit-Reset counts whole seconds */
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
    int64_t reset_at_ms;      /* monotonic, the earliest bound answers gave; -1 unknown */
    int64_t blocked_until_ms; /* after a 429; 0 when not blocked */
    int64_t last_go_ms;       /* when the last call was let through; -1 never */
    double reserve;           /* share of the limit lookups leave to polling */
    /* the backoff after rate-limited answers: its attempts count them (in a
     * row), its ceiling is the floor of the next wait (from 500 ms, doubling,
     * capped at backoff_max), its draw the jitter of a hintless wait */
    struct ola_backoff bo;
};

/* reserve: 0 <= reserve < 1; seed: any value (jitter; 0 is a fixed seed). */
void ola_rl_init(struct ola_rl *rl, double reserve, uint64_t seed);

/*
 * Caps the waits after 429s (config onelogin.backoff_max); ms > 0. A cap
 * under 500 ms caps the floor too.
 */
void ola_rl_set_backoff_max(struct ola_rl *rl, int64_t ms);

/*
 * Learns from one response's headers (the raw strings; NULL or "" when
 * absent, which keeps what was known). reset is whole seconds until the
 * window resets, so each answer bounds the reset instant from above (now +
 * reset); answers of one window keep the earliest bound, and one more than a
 * second later starts a new window. Call on every response, including 429s.
 */
void ola_rl_update(struct ola_rl *rl, const char *limit, const char *remaining,
                   const char *reset, int64_t now_mono_ms);

/*
 * Records a 429 / rate_limit_exceeded answer: blocks every call until the
 * reset: X-RateLimit-Reset seconds, else Retry-After (seconds, or an HTTP
 * date compared with now_wall_ms), else, when from_api (OneLogin's own JSON
 * answer, e.g. a 400 rate_limit_exceeded whose body carries no reset), the
 * reset the last headers gave if it is still ahead; else (an HTML 429 from a
 * proxy) the floor plus the backoff's full-jitter draw over [0, floor]. The
 * floor is 500 ms, doubling with each rate-limited answer in a row, capped at
 * backoff_max (so a hintless wait lies in [0.5, 1] s first, then [1, 2] s,
 * ...), and a hinted wait is at least the floor too. No wait exceeds
 * backoff_max unless a hint says so. A later answer never shortens the
 * block. Returns the wait in ms (> 0).
 */
int64_t ola_rl_limited(struct ola_rl *rl, const char *reset, const char *retry_after,
                       bool from_api, int64_t now_mono_ms, int64_t now_wall_ms);

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
