/*
 * enrich.h - user, actor, role and event-type facts for every event.
 *
 * The enricher runs once per batch, before the rules, on the agent thread.
 * It gives each event olagent.user (for user_id), olagent.actor (for
 * actor_user_id) and olagent.role (for role_id) from a bounded LRU + TTL
 * cache, fetching what the cache lacks from the OneLogin API: a page's
 * lookups are collected and deduplicated first, then sent concurrently
 * through the API the agent hands it (struct ola_enrich_api: the OneLogin
 * client's shared rate-limit governor, which keeps a reserve of the budget
 * for polling). Lookups the governor refuses are not waited for:
 * the events go out with olagent.enrichment = "deferred"; a lookup that fails
 * gives "failed" and olagent.enrichment_error. Events that change a user
 * (role assigned or removed, locked, unlocked, suspended, updated, deleted,
 * password changed, privilege granted or revoked) evict that user before the
 * page's lookups. Unknown event-type ids teach the rules' catalog their
 * names from GET /api/1/events/types, through struct ola_enrich_types (the
 * agent routes it). What goes where: docs/enrichment.md.
 */
#ifndef OLA_ENRICH_H
#define OLA_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"
#include "agent/core/event.h"
#include "config/config.h"
#include "filters/enrich/settings.h"

struct ola_enricher;

struct ola_enrich_stats {
    uint64_t hits;      /* users and roles found in the cache (404s remembered too) */
    uint64_t misses;    /* lookups sent to the API */
    uint64_t evictions; /* entries dropped: the size bound and user/role changes */
    uint64_t change_evictions; /* of those: an event changed the user or role */
    uint64_t changes_seen;     /* changes older than the cached facts: no eviction */
    uint64_t expired;          /* entries dropped because their ttl was up */
    uint64_t deferred;         /* lookups put off to keep the polling reserve */
    uint64_t failed;           /* lookups that failed or were skipped while paused */
    uint64_t not_found;        /* 404 answers (deleted users, removed roles) */
    uint64_t type_fetches;     /* GET /api/1/events/types sent */
    uint64_t types_learned;    /* type names taught to the catalog */
    uint64_t events_deferred;  /* events that went out with enrichment "deferred" */
    uint64_t events_failed;    /* events that went out with enrichment "failed" */
    size_t entries;            /* in the cache now */
    size_t peak_entries;       /* most ever held */
    size_t max_entries;        /* the bound */
};

/* ---- how the enricher reaches the API ------------------------------------ */

#define OLA_ENRICH_MAX_CONCURRENCY 64 /* lookups in flight at most */

/* What a GET came to. */
enum ola_enrich_status {
    OLA_ENRICH_OK = 0,    /* a 2xx JSON answer in body */
    OLA_ENRICH_NOT_FOUND, /* 404: the user or role is gone */
    OLA_ENRICH_DEFERRED,  /* not sent: the budget's reserve for polling, or pacing */
    OLA_ENRICH_FAILED,    /* anything else (timeout, 5xx, 429, refused); reason says */
};

/* One GET. */
struct ola_enrich_get {
    const char *path;              /* in: "/api/2/users/123"; borrowed */
    enum ola_enrich_status status; /* out */
    long http_status;              /* out: 0 when no answer arrived */
    struct ola_buf body;           /* out: the answer; owned by the get's holder */
    int64_t retry_after_ms;        /* out: DEFERRED or FAILED: how long to wait */
    char reason[256];              /* out: one line for logs: "HTTP 503", "timeout" */
};

/*
 * The API as the enricher needs it. The agent fills it (agent/enrich_adapter.h:
 * the OneLogin client with its shared rate-limit governor); ctx is handed to
 * every call, borrowed, and must outlive the enricher. @locality the agent
 * thread, like the enricher.
 */
struct ola_enrich_api {
    void *ctx;
    /*
     * Sets up concurrent lookups: at most concurrency (1..64) at once, each
     * limited to timeout_ms, leaving the share reserve of the rate limit to
     * polling. Returns 0 / -1 with err.
     */
    int (*setup)(void *ctx, unsigned concurrency, int64_t timeout_ms, double reserve,
                 struct ola_err *err);
    /* One GET at lookup priority; fills g's out fields (g->body is replaced). */
    void (*get)(void *ctx, struct ola_enrich_get *g);
    /*
     * The n GETs of g at lookup priority, several at once; once the budget
     * refuses one, the rest answer DEFERRED unsent. Every g[i] gets a status
     * and a reason. scratch: scratch_size bytes per GET, kept by the enricher
     * between calls (zeroed when it grows), which the call may use as it likes
     * and leaves owning nothing.
     */
    void (*get_many)(void *ctx, struct ola_enrich_get *g, size_t n, void *scratch);
    size_t scratch_size;
    /* The server's clock (ms since the epoch), as its Date headers tell it. */
    int64_t (*server_now_ms)(void *ctx);
};

/*
 * Returns 0 and a new enricher in *out, or -1 with err. o: copied. api:
 * copied; its ctx is borrowed and must outlive the enricher. Concurrent
 * lookups are set up here (api->setup: concurrency, timeout, reserve).
 */
int ola_enricher_new(const struct ola_enrich_settings *o,
                     const struct ola_enrich_api *api, struct ola_enricher **out,
                     struct ola_err *err);
void ola_enricher_destroy(struct ola_enricher *en);

/*
 * Where the enricher learns event-type names to: the agent points it at the
 * rules' catalog (agent/enrich_adapter.h). ctx: borrowed for one batch.
 */
struct ola_enrich_types {
    void *ctx;
    /* The name ctx has for id (borrowed), or NULL: the enricher asks the API. */
    const char *(*name)(void *ctx, long long id);
    /* Learns id's name (copied). Returns 0 when taken (counted), -1 when not. */
    int (*learn)(void *ctx, long long id, const char *name);
};

/*
 * Enriches every event record of b (alerts are left alone). types: where
 * unknown type names are looked for and taught (NULL: no type names).
 * now_mono_ms: the monotonic clock (cache ages). Lookup failures never fail
 * the batch: they mark the events. Returns 0, or -1 on ENOMEM (events may be
 * partly enriched). b: borrowed, mutated. @locality the agent thread.
 */
int ola_enrich_batch(struct ola_enricher *en, struct ola_batch *b,
                     const struct ola_enrich_types *types, int64_t now_mono_ms);

void ola_enricher_stats(const struct ola_enricher *en, struct ola_enrich_stats *out);

/*
 * Gives back what the enricher keeps between pages only to reuse it: the page
 * table and the lookup slots a big page grew, the trees built for the users
 * and roles in use (events that still hold one keep it), and shared strings
 * no user holds any more. The cache (compact records) stays. For a quiet moment (an empty
 * page after a burst); the next page allocates what it needs again. @locality the agent
 * thread.
 */
void ola_enricher_trim(struct ola_enricher *en);

/* ---- the pure parts, for tests ------------------------------------------ */

#define OLA_ENRICH_CHANGES_USER 1u /* the event changes its user_id's user */
#define OLA_ENRICH_CHANGES_ROLE 2u /* the event changes its role_id's role */

/* What an event of this type changes (OLA_ENRICH_CHANGES_* bits), 0 if nothing. */
unsigned ola_enrich_changes(long long event_type_id);

/* "active", "locked", ...; NULL for an unknown number. */
const char *ola_user_status_name(long long status);
/* "approved", "unlicensed", ...; NULL for an unknown number. */
const char *ola_user_state_name(long long state);

/*
 * The olagent.user facts of a Get User answer (v2 object, v1 envelope or v1
 * item): id, username, email, firstname, lastname, status, status_name,
 * state, state_name, department, title, manager_user_id, locked_until,
 * last_login, custom_attributes (null when absent). *role_ids (malloc'd,
 * caller frees; NULL when none) gets role_ids (v2) or role_id (v1, where null
 * means none); *roles_known is false when the answer does not say.
 * Returns a new reference, or NULL when body is not a user.
 */
json_t *ola_enrich_user_facts(const json_t *body, int64_t **role_ids, size_t *n_roles,
                              bool *roles_known);

/*
 * Role ids of GET /api/1/users/:id/roles: data as a nested [[ids]] (the
 * docs), flat [ids] (the spec) or [[]] / [] for none. *ids: malloc'd (NULL
 * when none). Returns 0, or -1 when the body has another shape.
 */
int ola_enrich_role_ids(const json_t *body, int64_t **ids, size_t *n);

/* {id, name} of a Get Role answer (v2 object or v1 envelope); new ref or NULL. */
json_t *ola_enrich_role_facts(const json_t *body);

#endif
