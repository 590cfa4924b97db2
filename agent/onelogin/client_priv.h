/*
 * client_priv.h - what the OneLogin client's own files share (private).
 *
 * The client is cut in three: client.c (setup, requests, concurrent lookups,
 * what every answer teaches the governor and the server clock), token.c (the
 * v2 token) and classify.c (what an answer means). This header holds the
 * client's state and the few functions they call across. Only those three
 * files include it; everyone else uses client.h (and classify.h).
 */
#ifndef OLA_ONELOGIN_CLIENT_PRIV_H
#define OLA_ONELOGIN_CLIENT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "agent/core/backoff.h"
#include "agent/core/buf.h"
#include "agent/onelogin/classify.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/http.h"
#include "agent/onelogin/ratelimit.h"
#include "agent/onelogin/srvclock.h"

struct ola_ol_client {
    struct ola_http *http;
    char *base; /* scheme://host[:port][/prefix], no trailing slash */
    size_t base_len;
    char *client_id;
    char *client_secret;
    char *token;             /* secret; NULL when none */
    int64_t token_expiry_ms; /* server clock */
    int64_t token_life_ms;   /* expires_in, at most 24 h: sets the margin */
    /* token backoff: after a failed token request */
    struct ola_backoff token_bo;
    int64_t token_next_ms; /* monotonic: no token request before */
    enum ola_ol_status token_fail_status;
    long token_fail_http;
    char token_fail_reason[256];
    struct ola_buf token_body; /* wiped after each token answer */
    struct ola_rl rl;
    struct ola_ol_counters ctr;
    struct ola_srvclock clock;  /* the server's clock, from Date headers (monotonic) */
    uint64_t clock_streak_from; /* clock.rejected when the current outlier streak began */
    /* concurrent lookups (ola_ol_get_many) */
    struct ola_http_multi *multi; /* NULL until the first use or ola_ol_lookups_setup */
    unsigned lk_concurrency;      /* the last ola_ol_lookups_setup's (a rebuild's) */
    int64_t lk_timeout_ms;
    int64_t timeout_ms;
    char *ca_file;
    char *proxy;
    size_t max_body;
};

/* Formats a reason into dst; a truncated reason ends in "...". (classify.c) */
void ola_ol_reason(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Learns from a complete or partial answer: server clock (Date), governor
 * (X-RateLimit-*), and a rate-limit block when v says so; fills r's status,
 * date, retry_after_ms, rate_limited and reason. (client.c)
 */
void ola_ol_absorb(struct ola_ol_client *c, const struct ola_http_resp *rs,
                   const struct ola_ol_verdict *v, struct ola_ol_response *r);
/* Counts one request by endpoint (from its path) and status class. (client.c) */
void ola_ol_count(struct ola_ol_client *c, const char *path, long status);

/* Sets up the token backoff (seed: its generator's, rng.h). (token.c) */
void ola_ol_token_init(struct ola_ol_client *c, uint64_t seed);
/* Forgets the token (wiped); /readyz goes unready until a new one. (token.c) */
void ola_ol_drop_token(struct ola_ol_client *c);
/* Wipes b's memory and empties it; b keeps its allocation. (token.c) */
void ola_ol_wipe_buf(struct ola_buf *b);
/*
 * Fetches a token into c, unless the backoff after a failed token request is
 * still running: then nothing is sent and the failure stands. OK, or the
 * failure's status with r filled (retry_after_ms: when to ask again). (token.c)
 */
enum ola_ol_status ola_ol_fetch_token(struct ola_ol_client *c, struct ola_ol_response *r);

#endif
