/*
 * ratelimit.c - the governor: who may spend the tenant's API budget, when.
 *
 * State is what the last response said (limit, remaining, reset) plus a block
 * set by a 429. Pacing: once the calls a priority may use fall below 10% of
 * the limit, they are spread evenly over the time left to the reset, so the
 * budget runs out at the reset rather than before it. Lookups never take the
 * last `reserve` share of the limit: they are deferred instead. After a 429
 * everything waits for the reset (header hints, else the agent's one backoff,
 * backoff.h: a floor that doubles, plus its full-jitter draw). Pure
 * arithmetic on the caller's clock: no sleeping, no clock reads.
 *
 * The reset comes in whole seconds ("X-RateLimit-Reset: 3" means the window
 * ends within the next 3 s), so one answer can put the reset up to a second
 * late; several answers of one window, each cut at another phase, bound it
 * tighter: the governor keeps the earliest, and resumes right at it.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "agent/core/backoff.h"
#include "agent/core/rng.h"
#include "agent/core/timeutil.h"
#include "agent/onelogin/ratelimit.h"

void ola_rl_init(struct ola_rl *rl, double reserve, uint64_t seed)
{
    rl->limit = -1;
    rl->remaining = -1;
    rl->reset_at_ms = -1;
    rl->blocked_until_ms = 0;
    rl->last_go_ms = -1;
    rl->reserve = (reserve >= 0 && reserve < 1) ? reserve : 0;
    /* seed 0 would read the clock (rng.h): this file reads none */
    ola_backoff_init(&rl->bo, OLA_RL_MIN_WAIT_MS, OLA_RL_BACKOFF_MAX_MS,
                     seed ? seed : 0x9e3779b97f4a7c15ull);
}

void ola_rl_set_backoff_max(struct ola_rl *rl, int64_t ms)
{
    if (ms <= 0)
        return;
    if (ms < rl->bo.base_ms)
        rl->bo.base_ms = ms; /* the floor never exceeds the cap */
    ola_backoff_set_max(&rl->bo, ms);
}

/* Parses a non-negative integer header value, blanks around allowed. */
static int ola_rl_parse_long(const char *s, long *out)
{
    char *end;
    long v;

    if (s == NULL)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s)
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

int ola_rl_parse_seconds(const char *s, int64_t *ms)
{
    long v;

    if (ola_rl_parse_long(s, &v) != 0)
        return -1;
    if (v > OLA_RL_MAX_HINT_MS / 1000)
        v = OLA_RL_MAX_HINT_MS / 1000;
    *ms = (int64_t)v * 1000;
    return 0;
}

/*
 * Learns that the window resets within ms of now. Within one window every
 * answer's bound lies in the same second (the reset cut to whole seconds,
 * plus the answer's travel): the earliest is the tightest. A bound more than
 * that second later belongs to a window that started since.
 */
static void ola_rl_learn_reset(struct ola_rl *rl, int64_t ms, int64_t now_mono_ms)
{
    int64_t at = now_mono_ms + ms;

    if (rl->reset_at_ms < 0 || now_mono_ms >= rl->reset_at_ms || at < rl->reset_at_ms ||
        at > rl->reset_at_ms + OLA_RL_RESET_GRAIN_MS)
        rl->reset_at_ms = at;
}

void ola_rl_update(struct ola_rl *rl, const char *limit, const char *remaining,
                   const char *reset, int64_t now_mono_ms)
{
    long v;
    int64_t ms;

    if (ola_rl_parse_long(limit, &v) == 0 && v > 0)
        rl->limit = v;
    if (ola_rl_parse_long(remaining, &v) == 0)
        rl->remaining = v;
    if (ola_rl_parse_seconds(reset, &ms) == 0)
        ola_rl_learn_reset(rl, ms, now_mono_ms);
}

void ola_rl_ok(struct ola_rl *rl)
{
    ola_backoff_reset(&rl->bo);
}

int64_t ola_rl_limited(struct ola_rl *rl, const char *reset, const char *retry_after,
                       bool from_api, int64_t now_mono_ms, int64_t now_wall_ms)
{
    /* "0 s left" still means: not now; a server that keeps saying so is asked
     * less and less often: the floor doubles with each rate-limited answer in
     * a row (the backoff's ceiling) */
    int64_t floor_ms = ola_backoff_ceiling(&rl->bo), jitter, wait = -1, at;

    /* answers to calls that were in flight when a block began count once:
     * only the first draw moves the backoff on */
    if (rl->blocked_until_ms <= now_mono_ms)
        jitter = ola_backoff_next(&rl->bo);
    else
        jitter = (int64_t)ola_rng_upto(&rl->bo.rng, (uint64_t)floor_ms);
    if (ola_rl_parse_seconds(reset, &wait) == 0) {
        ola_rl_learn_reset(rl, wait, now_mono_ms);
        wait = rl->reset_at_ms - now_mono_ms;
    } else if (ola_rl_parse_seconds(retry_after, &wait) == 0) {
        /* seconds */
    } else if (retry_after != NULL && ola_time_parse_http(retry_after, &at) == 0) {
        wait = at - now_wall_ms;
        if (wait > OLA_RL_MAX_HINT_MS)
            wait = OLA_RL_MAX_HINT_MS;
    } else if (from_api && rl->reset_at_ms > now_mono_ms) {
        /* OneLogin said the budget is spent; the last headers said when it returns */
        wait = rl->reset_at_ms - now_mono_ms;
    } else {
        /* no hint at all (a proxy's page): the floor plus the full-jitter draw,
         * within the cap */
        wait = floor_ms + jitter;
        if (wait > rl->bo.max_ms)
            wait = rl->bo.max_ms;
    }
    if (wait < floor_ms)
        wait = floor_ms;
    /* OneLogin said the budget is spent; a proxy's page says nothing about it */
    if (from_api)
        rl->remaining = 0;
    if (now_mono_ms + wait > rl->blocked_until_ms)
        rl->blocked_until_ms = now_mono_ms + wait;
    return rl->blocked_until_ms - now_mono_ms;
}

enum ola_rl_verdict ola_rl_admit(struct ola_rl *rl, enum ola_rl_prio prio,
                                 int64_t now_mono_ms, int64_t *wait_ms)
{
    long usable, floor_calls;
    int64_t to_reset, wait;

    *wait_ms = 0;
    if (rl->blocked_until_ms > now_mono_ms) {
        *wait_ms = rl->blocked_until_ms - now_mono_ms;
        return OLA_RL_WAIT;
    }
    if (rl->reset_at_ms >= 0 && now_mono_ms >= rl->reset_at_ms) {
        /* the window turned over: a fresh budget until a response says more */
        rl->remaining = rl->limit;
        rl->reset_at_ms = -1;
    }
    if (rl->limit <= 0 || rl->remaining < 0)
        goto go;
    to_reset = rl->reset_at_ms >= 0 ? rl->reset_at_ms - now_mono_ms : -1;
    usable = rl->remaining;
    if (prio == OLA_RL_LOOKUP) {
        floor_calls = (long)ceil(rl->reserve * (double)rl->limit);
        usable = rl->remaining - floor_calls;
        if (usable < 1) {
            *wait_ms = to_reset > 0 ? to_reset : OLA_RL_DEFER_MS;
            return OLA_RL_DEFER;
        }
    }
    if (usable <= 0) {
        /* polls with nothing left: wait for the reset (or try if unknown) */
        if (to_reset <= 0)
            goto go;
        *wait_ms = to_reset;
        return OLA_RL_WAIT;
    }
    if (to_reset > 0 && (double)usable < OLA_RL_LOW_WATER * (double)rl->limit &&
        rl->last_go_ms >= 0) {
        /* spread what is left evenly over the time to the reset */
        int64_t spacing = to_reset / ((int64_t)usable + 1);

        wait = rl->last_go_ms + spacing - now_mono_ms;
        if (wait > 0) {
            *wait_ms = wait;
            return OLA_RL_WAIT;
        }
    }
go:
    rl->last_go_ms = now_mono_ms;
    if (rl->remaining > 0)
        rl->remaining--; /* our estimate until the response says */
    return OLA_RL_GO;
}
