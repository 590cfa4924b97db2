/*
 * client.h - the OneLogin API client: HTTP, token, rate-limit governor.
 *
 * One client per agent. It owns a reused libcurl handle (keep-alive, TLS
 * verification on, timeouts, proxy and CA settings), the v2 access token
 * (reused until created_at + expires_in, refreshed once on a 401) and the
 * rate-limit governor, which reads X-RateLimit-* on every response and paces
 * calls before the tenant's budget runs dry. Calls never sleep: they answer
 * what to do and how long to wait; the caller owns the loop and the backoff.
 *
 * Pieces: http.c (libcurl), ratelimit.c (governor), srvclock.c (server
 * clock), client.c (setup, requests), token.c (the token), classify.c (what
 * an answer means).
 */
#ifndef OLA_ONELOGIN_H
#define OLA_ONELOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"

struct ola_ol_client;

struct ola_ol_opts {
    const char *base_url; /* "https://acme.onelogin.com"; http:// only on loopback */
    const char *client_id;
    const char *client_secret; /* secret: never logged */
    int64_t timeout_ms;        /* one request, connect included; default 30s */
    const char *ca_file;       /* NULL: system store */
    const char *proxy;         /* NULL: libcurl's environment handling */
    double reserve;            /* share of the limit kept for polling (0.2) */
    int64_t backoff_max_ms;    /* cap of the backoff after a hintless 429; 0: 60 s */
    size_t max_body;           /* largest answer body taken (lookups too); 0: 64 MiB */
};

enum ola_ol_status {
    OLA_OL_OK = 0,      /* 2xx with a JSON body that is not an error envelope */
    OLA_OL_RETRY,       /* transient: 5xx, timeout, reset, truncated/non-JSON body,
                           429 / rate_limit_exceeded; wait retry_after_ms */
    OLA_OL_NOT_FOUND,   /* 404 */
    OLA_OL_BAD_REQUEST, /* another 4xx, e.g. an expired cursor; reason says */
    OLA_OL_AUTH,        /* credential rejected, second 401, Insufficient Permission:
                           a configuration error, stop with reason */
    OLA_OL_DEFERRED,    /* the governor refused a low-priority call (budget reserve) */
};

enum ola_ol_priority {
    OLA_OL_PRIO_POLL = 0,   /* polling: may use the whole budget */
    OLA_OL_PRIO_LOOKUP = 1, /* enrichment: keeps the reserve free */
};

struct ola_ol_response {
    long http_status;       /* 0 when no response arrived */
    struct ola_buf body;    /* owned; free with ola_ol_response_free */
    int64_t server_date_ms; /* from the Date header, -1 if none */
    int64_t retry_after_ms; /* RETRY/DEFERRED: how long to wait before trying again */
    bool rate_limited;      /* RETRY because of 429 or rate_limit_exceeded */
    bool stopped; /* RETRY with no answer: the agent is stopping (its transfer aborted) */
    char reason[256]; /* one line for logs: "HTTP 503", "timeout after 30s", ... */
};

struct ola_ol_rate {
    long limit;               /* -1 unknown */
    long remaining;           /* -1 unknown */
    int64_t reset_at_mono_ms; /* when the window resets, monotonic; -1 unknown */
};

/* Endpoints and status classes that requests are counted by. */
enum ola_ol_endpoint {
    OLA_OL_EP_TOKEN = 0,
    OLA_OL_EP_EVENTS,
    OLA_OL_EP_EVENT_TYPES,
    OLA_OL_EP_USERS,
    OLA_OL_EP_ROLES,
    OLA_OL_EP_RATE_LIMIT,
    OLA_OL_EP_OTHER,
    OLA_OL_EP_MAX,
};
enum ola_ol_status_class {
    OLA_OL_SC_NONE = 0, /* no answer: timeout, reset, refused */
    OLA_OL_SC_2XX,
    OLA_OL_SC_3XX,
    OLA_OL_SC_4XX, /* other than 429 */
    OLA_OL_SC_429,
    OLA_OL_SC_5XX,
    OLA_OL_SC_MAX,
};
extern const char *const ola_ol_endpoint_names[OLA_OL_EP_MAX];
extern const char *const ola_ol_status_class_names[OLA_OL_SC_MAX];

struct ola_ol_counters {
    uint64_t requests; /* HTTP requests sent, token requests included */
    uint64_t token_requests;
    uint64_t rate_limited;   /* 429 and rate_limit_exceeded answers */
    uint64_t retries;        /* RETRY answers */
    uint64_t paced_ms;       /* total wait advised by pacing */
    uint64_t clock_rejected; /* answers whose Date was ignored (far off the estimate) */
    uint64_t by_endpoint[OLA_OL_EP_MAX][OLA_OL_SC_MAX]; /* requests by endpoint, status */
};

/* Returns 0 and a new client, or -1 with err (bad URL, http:// off loopback, ...). */
int ola_ol_client_new(const struct ola_ol_opts *opts, struct ola_ol_client **out,
                      struct ola_err *err);
void ola_ol_client_destroy(struct ola_ol_client *c);

/*
 * GET base_url + path_query with the bearer token (fetched or refreshed as
 * needed: one refresh and retry on a 401). Before sending, the governor may
 * answer RETRY (poll) or DEFERRED (lookup) with retry_after_ms when pacing
 * says to wait; no request is sent then. r: caller-owned, reset by the call.
 * @locality the agent thread.
 */
enum ola_ol_status ola_ol_get(struct ola_ol_client *c, const char *path_query,
                              enum ola_ol_priority prio, struct ola_ol_response *r);
/* Fetches the token now (for `check --online`). Same statuses. */
enum ola_ol_status ola_ol_authenticate(struct ola_ol_client *c,
                                       struct ola_ol_response *r);

void ola_ol_response_init(struct ola_ol_response *r);
void ola_ol_response_free(struct ola_ol_response *r);

/*
 * Server time estimate: the monotonic clock plus the offset learned from Date
 * (a Date far off is ignored until several agree: srvclock.h); the local wall
 * clock until a Date was seen.
 */
int64_t ola_ol_server_now_ms(const struct ola_ol_client *c);
/* True once a Date header has been seen. */
bool ola_ol_has_server_time(const struct ola_ol_client *c);
/*
 * How much later than due_ms (local wall clock) the next poll should go so
 * that its answer tightens the server-time estimate (srvclock.h); 0 once it
 * is tight.
 */
int64_t ola_ol_clock_probe_delay(struct ola_ol_client *c, int64_t due_ms);
void ola_ol_rate(const struct ola_ol_client *c, struct ola_ol_rate *out);
const struct ola_ol_counters *ola_ol_counters(const struct ola_ol_client *c);
/* True while a token is held and not expired. */
bool ola_ol_token_valid(const struct ola_ol_client *c);

/* ---- concurrent lookups (enrichment) ---- */

#define OLA_OL_DEFAULT_CONCURRENCY 4
#define OLA_OL_MAX_CONCURRENCY     64

/* One GET of ola_ol_get_many. */
struct ola_ol_lookup {
    const char *path;          /* in: "/api/2/users/123"; borrowed */
    enum ola_ol_status status; /* out */
    struct ola_ol_response r;  /* out: init with ola_ol_response_init, free with _free */
};

/*
 * Sets up concurrent lookups: at most `concurrency` transfers at once over
 * connections kept between calls, each limited to timeout_ms (<= 0: the
 * client's timeout), and the share of the limit lookups leave to polling
 * (0 <= reserve < 1; replaces the reserve given at creation). Without this
 * call the first ola_ol_get_many uses 4, the client's timeout and reserve.
 * Returns 0 / -1 with err. @locality the agent thread.
 */
int ola_ol_lookups_setup(struct ola_ol_client *c, unsigned concurrency,
                         int64_t timeout_ms, double reserve, struct ola_err *err);
/*
 * Lets go of the lookups' handles and the connections they keep (idle times:
 * a tenant's few lookups an hour do not need them open, and each holds
 * libcurl's buffers and, over TLS, a session). The next ola_ol_get_many
 * builds them again with the settings of the last ola_ol_lookups_setup.
 * NULL is a no-op. @locality the agent thread.
 */
void ola_ol_lookups_trim(struct ola_ol_client *c);

/*
 * GETs every l[i].path like ola_ol_get with priority prio, several at once.
 * The governor admits each call just before it is sent, so once it refuses
 * (the reserve, pacing, a 429 answered meanwhile) the calls not yet sent
 * answer DEFERRED (lookups) or RETRY (poll) with retry_after_ms, and nothing
 * more is sent. A token is fetched first when needed; calls whose answer
 * refused the token are retried once with a fresh one. Every l[i] gets a
 * status and a reason. @locality the agent thread.
 */
void ola_ol_get_many(struct ola_ol_client *c, struct ola_ol_lookup *l, size_t n,
                     enum ola_ol_priority prio);

#endif
