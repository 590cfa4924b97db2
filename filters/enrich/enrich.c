/*
 * enrich.c - the enricher: a page's lookups, one round trip, shared facts.
 *
 * Per batch: (1) events that change a user or a role evict it from the cache
 * (unless the cached facts were fetched after the change);
 * (2) unknown event-type ids are named from the catalog or the API's list;
 * (3) every user_id, actor_user_id and role_id of the page goes into a page
 * table, once: from the cache, or as a lookup to send; (4) the lookups go out
 * together through ola_ol_get_many (concurrent, admitted one by one by the
 * shared governor), then a second round fetches the roles the users hold,
 * for their names; (5) every event gets references to the shared, read-only
 * olagent.user / actor / role objects. A user's object (facts + roles with
 * names) is built once and reused until a role is fetched again (a
 * generation counter), so a warm cache costs a few hash lookups and
 * reference counts per event. The page table holds its own references, so a
 * cache smaller than a page still enriches the whole page. Short strings many
 * users share (status and state names, department, title) are kept once, in
 * a small intern table, and referenced by every user that has them. Failing rounds
 * pause lookups for a while (5 s doubling to 5 min) instead of spending each
 * page's time on an API that does not answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/log.h"
#include "agent/core/wait.h"
#include "filters/enrich/cache.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"

#define OLA_EN_COMP "enrich"

#define OLA_K_USER       0u /* cache and page keys: id << 2 | kind */
#define OLA_K_ROLE       1u
#define OLA_K_USER_ROLES 2u /* page only: GET /api/1/users/:id/roles */

#define OLA_EN_PAUSE_MIN_MS     5000
#define OLA_EN_PAUSE_MAX_MS     300000
#define OLA_EN_TYPES_TTL_MS     (24 * 3600 * INT64_C(1000)) /* the docs: cache up to 24 h */
#define OLA_EN_TYPES_GAP_MS     (10 * 60 * INT64_C(1000)) /* fetches at most this often */
#define OLA_EN_TYPES_WAIT_MS    60000                     /* after a failed fetch */
#define OLA_EN_MAX_ROUNDS       3 /* users; their role lists; the roles' names */
#define OLA_EN_ID_MAX           (INT64_MAX >> 3)
#define OLA_EN_INTERN_SLOTS     1024  /* power of two */
#define OLA_EN_INTERN_MAX       512   /* strings kept at once */
#define OLA_EN_INTERN_LEN       64    /* longer strings are not shared */
#define OLA_EN_CHANGE_MARGIN_MS 10000 /* a change this close to a fetch evicts anyway */

/* A cache value: a user or a role, shared by the cache and page tables. */
struct ola_val {
    unsigned refs;
    unsigned kind;
    json_t *facts;     /* role: {id, name}; user: the facts until out is built */
    int64_t *role_ids; /* user */
    size_t n_role_ids;
    bool roles_known; /* the answer said which roles the user holds */
    json_t *out;      /* user: facts + roles [{id, name}]; shared, read-only */
    uint64_t out_gen; /* the role generation out was built at; 0: rebuild */
    /* out lacks a role name: why (for the page that built it) */
    uint64_t built_page;
    unsigned char roles_state; /* OLA_PG_OK, OLA_PG_DEFERRED or OLA_PG_FAILED */
    uint32_t roles_lookup;     /* FAILED: the lookup that says why */
};

enum ola_pg_state {
    OLA_PG_PENDING = 0, /* a lookup to send */
    OLA_PG_OK,
    OLA_PG_NOT_FOUND,
    OLA_PG_DEFERRED,
    OLA_PG_FAILED,
};

#define OLA_PG_NO_LOOKUP UINT32_MAX
#define OLA_PG_PAUSED    (UINT32_MAX - 1) /* failed: lookups paused */

struct ola_pg_ent {
    uint64_t key; /* 0: free slot (ids are >= 1) */
    unsigned char state;
    uint32_t lookup;     /* index in lk while pending / for its reason */
    struct ola_val *val; /* a reference (OK; for USER_ROLES: the user to complete) */
};

struct ola_enricher {
    struct ola_enrich_settings o;
    struct ola_ol_client *client;
    struct ola_cache *cache;
    uint64_t role_gen; /* moves each time a role is fetched */
    uint64_t page;     /* batches seen */
    /* the page table */
    struct ola_pg_ent *pg;
    size_t pg_cap;   /* power of two */
    size_t *pg_used; /* slots in use, in insertion order */
    size_t pg_n;
    /* the page's lookups */
    struct ola_ol_lookup *lk;
    char (*lk_path)[64];
    size_t *lk_slot; /* the page slot each lookup answers */
    size_t lk_n, lk_cap;
    /* user fact strings kept once: open addressing on the text; NULL: free */
    json_t **intern;
    size_t n_intern;
    /* failures and deferrals */
    int64_t pause_until_ms;
    int64_t pause_ms;
    char pause_reason[300];
    bool deferring; /* a deferral was logged, resumption not yet */
    /* event types from the API */
    struct ola_type_name *types; /* sorted by id */
    size_t n_types;
    int64_t types_ms;      /* when fetched (mono); -1 never */
    int64_t types_next_ms; /* no fetch before (mono) */
    long long *missing;    /* ids the last fetch did not know, sorted */
    size_t n_missing, missing_cap;
    struct ola_enrich_stats st;
};

struct ola_type_name {
    long long id;
    char *name;
};

/* ---- the pure parts --------------------------------------------------------- */

/* Event types that change their user_id's user (docs/enrichment.md lists them). */
static const long long ola_user_changes[] = {
    4,    /* USER_ASSIGNED_ROLE */
    11,   /* USER_CHANGED_PASSWORD */
    12,   /* UNLOCKED_USER */
    14,   /* UPDATED_USER */
    17,   /* DELETED_USER */
    19,   /* USER_LOCKED */
    21,   /* SUSPENDED_USER */
    28,   /* USER_RECENTLY_REMOVED */
    72,   /* PRIVILEGE_GRANTED_TO_USER */
    73,   /* PRIVILEGE_REVOKED_FROM_USER */
    80,   /* USER_CREATED_IN_DIRECTORY */
    81,   /* USER_UPDATED_IN_DIRECTORY */
    82,   /* USER_SUSPENDED_IN_DIRECTORY */
    83,   /* USER_REACTIVATED_IN_DIRECTORY */
    84,   /* USER_DELETED_IN_DIRECTORY */
    115,  /* USER_INVITED */
    120,  /* UNLOCKED_USER_IN_DIRECTORY */
    145,  /* USER_SMART_PASSWORD_UPDATED */
    147,  /* USER_MANUALLY_ADDED_TO_ROLE */
    148,  /* USER_MANUALLY_REMOVED_FROM_ROLE */
    149,  /* USER_AUTO_ADDED_TO_ROLE */
    150,  /* USER_AUTO_REMOVED_FROM_ROLE */
    151,  /* USER_ROLE_MANAGEMENT_GRANTED */
    152,  /* USER_ROLE_MANAGEMENT_REVOKED */
    211,  /* ADMIN_CHANGED_USER_PASSWORD */
    223,  /* USER_UNLICENSED */
    224,  /* USER_LICENSED_MANUALLY */
    225,  /* USER_UNLICENSED_MANUALLY */
    226,  /* USER_UNLICENSED_AUTOMATICALLY */
    291,  /* USER_CREATED_BY_TIDP */
    332,  /* USER_DIRECTORY_EXTERNAL_ID_UPDATED */
    333,  /* USER_DIRECTORY_EXTERNAL_ID_DELETED */
    513,  /* API_ADD_ROLES */
    514,  /* API_REMOVE_ROLES */
    529,  /* API_UPDATE_USER */
    530,  /* API_DESTROY_USER */
    531,  /* API_LOCK_USER */
    533,  /* API_CREATE_USER */
    551,  /* SUSPENDED_USER_VIA_API */
    552,  /* REACTIVATED_USER_VIA_API */
    553,  /* USER_LOCKED_VIA_API */
    554,  /* UNLOCKED_USER_VIA_API */
    1608, /* PROFILE_CHANGE_PASSWORD */
    2106, /* DELEGATED_PRIVILEGE_ASSIGNED_TO_USER_VIA_API */
    2107, /* DELEGATED_PRIVILEGE_ASSIGNED_TO_USER_BY_USER */
    2108, /* DELEGATED_PRIVILEGE_REMOVED_FROM_USER_VIA_API */
    2109, /* DELEGATED_PRIVILEGE_REMOVED_FROM_USER_BY_USER */
};

/* Event types that change their role_id's role (its name, or its existence). */
static const long long ola_role_changes[] = {
    1802, /* ROLE_DELETED */
    9052, /* ROLE_UPDATE_SUCCESS */
};

static bool ola_in(const long long *v, size_t n, long long id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid] == id)
            return true;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

unsigned ola_enrich_changes(long long event_type_id)
{
    unsigned bits = 0;

    if (ola_in(ola_user_changes, sizeof(ola_user_changes) / sizeof(ola_user_changes[0]),
               event_type_id))
        bits |= OLA_ENRICH_CHANGES_USER;
    if (ola_in(ola_role_changes, sizeof(ola_role_changes) / sizeof(ola_role_changes[0]),
               event_type_id))
        bits |= OLA_ENRICH_CHANGES_ROLE;
    return bits;
}

const char *ola_user_status_name(long long status)
{
    static const char *const names[] = {
        "unactivated", "active",           "suspended",
        "locked",      "password_expired", "awaiting_password_reset",
        NULL,          "password_pending", "security_questions_required",
    };

    if (status < 0 || status >= (long long)(sizeof(names) / sizeof(names[0])))
        return NULL;
    return names[status];
}

const char *ola_user_state_name(long long state)
{
    static const char *const names[] = {"unapproved", "approved", "rejected",
                                        "unlicensed"};

    if (state < 0 || state >= (long long)(sizeof(names) / sizeof(names[0])))
        return NULL;
    return names[state];
}

/*
 * The one object of a v1 envelope ({status, data: [obj]}), or body itself.
 * NULL when data holds more than the one object a lookup by id asks for:
 * which of them would be the one is anyone's guess.
 */
static const json_t *ola_unwrap(const json_t *body)
{
    const json_t *data = json_object_get(body, "data");

    if (json_is_array(data))
        return json_array_size(data) == 1 ? json_array_get(data, 0) : NULL;
    if (json_is_object(data))
        return data;
    return body;
}

/* Integer ids of an array into *out (malloc'd; NULL when empty). Returns 0 / -1. */
static int ola_ids_of(const json_t *arr, int64_t **out, size_t *n)
{
    size_t i, k = 0, len = json_array_size(arr);
    int64_t *v;
    json_t *x;

    *out = NULL;
    *n = 0;
    if (len == 0)
        return 0;
    v = malloc(len * sizeof(*v));
    if (v == NULL)
        return -1;
    json_array_foreach(arr, i, x)
    {
        if (!json_is_integer(x)) {
            free(v);
            return -1;
        }
        v[k++] = (int64_t)json_integer_value(x);
    }
    *out = v;
    *n = k;
    return 0;
}

/* Sets key of dst to src's value (borrowed, shared) or null. Returns 0 / -1. */
static int ola_copy_field(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);

    return v != NULL ? json_object_set(dst, key, v)
                     : json_object_set_new(dst, key, json_null());
}

/* Sets key to a name string or null. */
static int ola_set_name(json_t *dst, const char *key, const char *name)
{
    return json_object_set_new(dst, key, name ? json_string(name) : json_null());
}

json_t *ola_enrich_user_facts(const json_t *body, int64_t **role_ids, size_t *n_roles,
                              bool *roles_known)
{
    static const char *const head[] = {"id", "username", "email", "firstname",
                                       "lastname"};
    static const char *const tail[] = {"department",   "title",      "manager_user_id",
                                       "locked_until", "last_login", "custom_attributes"};
    const json_t *u = ola_unwrap(body), *roles;
    json_t *f = NULL, *status, *state;
    size_t i;

    *role_ids = NULL;
    *n_roles = 0;
    *roles_known = false;
    if (!json_is_object(u) || !json_is_integer(json_object_get(u, "id")))
        return NULL;
    f = json_object();
    if (f == NULL)
        return NULL;
    for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        if (ola_copy_field(f, u, head[i]) != 0)
            goto fail;
    status = json_object_get(u, "status");
    state = json_object_get(u, "state");
    if (ola_copy_field(f, u, "status") != 0 ||
        ola_set_name(f, "status_name",
                     json_is_integer(status)
                         ? ola_user_status_name(json_integer_value(status))
                         : NULL) != 0 ||
        ola_copy_field(f, u, "state") != 0 ||
        ola_set_name(f, "state_name",
                     json_is_integer(state)
                         ? ola_user_state_name(json_integer_value(state))
                         : NULL) != 0)
        goto fail;
    for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
        if (ola_copy_field(f, u, tail[i]) != 0)
            goto fail;
    roles = json_object_get(u, "role_ids"); /* v2 */
    if (roles == NULL)
        roles = json_object_get(u, "role_id"); /* v1: an array, or null for none */
    if (json_is_array(roles)) {
        if (ola_ids_of(roles, role_ids, n_roles) != 0)
            goto fail;
        *roles_known = true;
    } else if (json_is_null(roles)) {
        *roles_known = true;
    }
    return f;
fail:
    json_decref(f);
    free(*role_ids);
    *role_ids = NULL;
    *n_roles = 0;
    *roles_known = false;
    return NULL;
}

int ola_enrich_role_ids(const json_t *body, int64_t **ids, size_t *n)
{
    const json_t *data = json_object_get(body, "data"), *first;

    *ids = NULL;
    *n = 0;
    if (!json_is_array(data))
        return -1;
    first = json_array_get(data, 0);
    if (first == NULL)
        return 0; /* [] */
    if (json_is_array(first)) {
        /* the documented shape: [[77777, 111111]], one inner list */
        if (json_array_size(data) != 1)
            return -1;
        return ola_ids_of(first, ids, n);
    }
    return ola_ids_of(data, ids, n); /* the spec's flat [77777, 111111] */
}

json_t *ola_enrich_role_facts(const json_t *body)
{
    const json_t *r = ola_unwrap(body);
    json_t *id = json_object_get(r, "id"), *name = json_object_get(r, "name");

    if (!json_is_integer(id) || !(json_is_string(name) || json_is_null(name)))
        return NULL;
    return json_pack("{s:O, s:O}", "id", id, "name", name);
}

/* ---- values ----------------------------------------------------------------- */

static struct ola_val *ola_val_new(unsigned kind, json_t *facts)
{
    struct ola_val *v = calloc(1, sizeof(*v));

    if (v == NULL) {
        json_decref(facts);
        return NULL;
    }
    v->refs = 1;
    v->kind = kind;
    v->facts = facts;
    return v;
}

static struct ola_val *ola_val_ref(struct ola_val *v)
{
    v->refs++;
    return v;
}

static void ola_val_unref(struct ola_val *v)
{
    if (v == NULL || --v->refs > 0)
        return;
    json_decref(v->facts);
    json_decref(v->out);
    free(v->role_ids);
    free(v);
}

static void ola_val_free_cb(uint64_t key, void *val)
{
    (void)key;
    ola_val_unref(val);
}

static uint64_t ola_key(int64_t id, unsigned kind)
{
    return ((uint64_t)id << 2) | kind;
}

static int64_t ola_key_id(uint64_t key)
{
    return (int64_t)(key >> 2);
}

static unsigned ola_key_kind(uint64_t key)
{
    return (unsigned)(key & 3u);
}

/* ---- setup -------------------------------------------------------------------- */

int ola_enricher_new(const struct ola_enrich_settings *o, struct ola_ol_client *client,
                     struct ola_enricher **out, struct ola_err *err)
{
    struct ola_cache_opts co;
    struct ola_enricher *en = NULL;

    *out = NULL;
    if (o->concurrency < 1 || o->concurrency > OLA_OL_MAX_CONCURRENCY ||
        o->cache_entries < 1 || o->cache_ttl_ms <= 0 || o->cache_negative_ms < 0 ||
        (o->api_version != 1 && o->api_version != 2))
        return ola_err_set(err, EINVAL, "enrich: settings out of range");
    en = calloc(1, sizeof(*en));
    if (en == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    en->o = *o;
    en->client = client;
    en->role_gen = 1;
    en->types_ms = -1;
    memset(&co, 0, sizeof(co));
    co.max_entries = (size_t)o->cache_entries;
    co.ttl_ms = o->cache_ttl_ms;
    co.negative_ttl_ms = o->cache_negative_ms;
    co.free_val = ola_val_free_cb;
    en->cache = ola_cache_new(&co);
    if (en->cache == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (ola_ol_lookups_setup(client, (unsigned)o->concurrency, o->timeout_ms, o->reserve,
                             err) != 0)
        goto fail;
    *out = en;
    return 0;
fail:
    ola_enricher_destroy(en);
    return -1;
}

static void ola_pg_clear(struct ola_enricher *en)
{
    size_t i;

    for (i = 0; i < en->pg_n; i++) {
        struct ola_pg_ent *p = &en->pg[en->pg_used[i]];

        ola_val_unref(p->val);
        memset(p, 0, sizeof(*p));
    }
    en->pg_n = 0;
}

void ola_enricher_destroy(struct ola_enricher *en)
{
    size_t i;

    if (en == NULL)
        return;
    ola_pg_clear(en);
    free(en->pg);
    free(en->pg_used);
    for (i = 0; i < en->lk_cap; i++)
        ola_ol_response_free(&en->lk[i].r);
    free(en->lk);
    free(en->lk_path);
    free(en->lk_slot);
    for (i = 0; i < en->n_types; i++)
        free(en->types[i].name);
    free(en->types);
    free(en->missing);
    ola_cache_destroy(en->cache);
    for (i = 0; en->intern != NULL && i < OLA_EN_INTERN_SLOTS; i++)
        json_decref(en->intern[i]);
    free(en->intern);
    free(en);
}

static void ola_intern_sweep(struct ola_enricher *en);

void ola_enricher_trim(struct ola_enricher *en)
{
    size_t i;

    ola_pg_clear(en);
    free(en->pg);
    free(en->pg_used);
    en->pg = NULL;
    en->pg_used = NULL;
    en->pg_cap = 0;
    for (i = 0; i < en->lk_cap; i++)
        ola_ol_response_free(&en->lk[i].r);
    free(en->lk);
    free(en->lk_path);
    free(en->lk_slot);
    en->lk = NULL;
    en->lk_path = NULL;
    en->lk_slot = NULL;
    en->lk_n = en->lk_cap = 0;
    if (en->intern != NULL)
        ola_intern_sweep(en);
}

void ola_enricher_stats(const struct ola_enricher *en, struct ola_enrich_stats *out)
{
    const struct ola_cache_stats *cs = ola_cache_stats(en->cache);

    *out = en->st;
    out->evictions = cs->evicted + cs->removed;
    out->expired = cs->expired;
    out->entries = ola_cache_count(en->cache);
    out->peak_entries = cs->peak;
    out->max_entries = ola_cache_max(en->cache);
}

/* ---- the page table ------------------------------------------------------------ */

static size_t ola_pg_hash(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

/* Room for `more` keys at a load of at most one half. Returns 0 / -1. */
static int ola_pg_reserve(struct ola_enricher *en, size_t more)
{
    struct ola_pg_ent *old = en->pg, *nt;
    size_t old_cap = en->pg_cap, cap = old_cap ? old_cap : 256, i, *used;

    while ((en->pg_n + more) * 2 > cap)
        cap *= 2;
    if (cap == old_cap)
        return 0;
    nt = calloc(cap, sizeof(*nt));
    used = realloc(en->pg_used, cap * sizeof(*used));
    if (nt == NULL || used == NULL) {
        free(nt);
        if (used != NULL)
            en->pg_used = used;
        return -1;
    }
    en->pg_used = used;
    for (i = 0; i < en->pg_n; i++) {
        size_t s = ola_pg_hash(old[used[i]].key, cap);

        while (nt[s].key != 0)
            s = (s + 1) & (cap - 1);
        nt[s] = old[used[i]];
        used[i] = s;
    }
    free(old);
    en->pg = nt;
    en->pg_cap = cap;
    return 0;
}

static struct ola_pg_ent *ola_pg_find(const struct ola_enricher *en, uint64_t key)
{
    size_t s;

    if (en->pg_cap == 0)
        return NULL;
    s = ola_pg_hash(key, en->pg_cap);
    while (en->pg[s].key != 0) {
        if (en->pg[s].key == key)
            return &en->pg[s];
        s = (s + 1) & (en->pg_cap - 1);
    }
    return NULL;
}

/* A lookup slot for page slot `slot`. Returns 0 / -1. */
static int ola_lk_add(struct ola_enricher *en, size_t slot, uint64_t key)
{
    struct ola_pg_ent *p = &en->pg[slot];
    int64_t id = ola_key_id(key);
    unsigned kind = ola_key_kind(key);
    int n;

    if (en->lk_n == en->lk_cap) {
        size_t cap = en->lk_cap ? en->lk_cap * 2 : 256, i;
        struct ola_ol_lookup *lk = realloc(en->lk, cap * sizeof(*lk));
        char(*path)[64];
        size_t *sl;

        if (lk == NULL)
            return -1;
        en->lk = lk;
        path = realloc(en->lk_path, cap * sizeof(*path));
        if (path == NULL)
            return -1;
        en->lk_path = path;
        sl = realloc(en->lk_slot, cap * sizeof(*sl));
        if (sl == NULL)
            return -1;
        en->lk_slot = sl;
        /* all three arrays have room: only now does the capacity grow */
        for (i = en->lk_cap; i < cap; i++) {
            memset(&lk[i], 0, sizeof(lk[i]));
            ola_ol_response_init(&lk[i].r);
        }
        en->lk_cap = cap;
    }
    if (kind == OLA_K_USER)
        n = snprintf(en->lk_path[en->lk_n], sizeof(en->lk_path[0]),
                     "/api/%lld/users/%" PRId64, en->o.api_version, id);
    else if (kind == OLA_K_ROLE)
        n = snprintf(en->lk_path[en->lk_n], sizeof(en->lk_path[0]),
                     "/api/%lld/roles/%" PRId64, en->o.api_version, id);
    else
        n = snprintf(en->lk_path[en->lk_n], sizeof(en->lk_path[0]),
                     "/api/1/users/%" PRId64 "/roles", id);
    if (n < 0 || (size_t)n >= sizeof(en->lk_path[0]))
        return -1;
    en->lk_slot[en->lk_n] = slot;
    p->lookup = (uint32_t)en->lk_n;
    p->state = OLA_PG_PENDING;
    en->lk_n++;
    return 0;
}

/*
 * Puts key into the page table once: from the cache when it holds it,
 * otherwise as a lookup to send. user: for OLA_K_USER_ROLES, the user value
 * to complete. Returns 0 / -1 (ENOMEM).
 */
static int ola_want(struct ola_enricher *en, uint64_t key, struct ola_val *user,
                    int64_t now)
{
    enum ola_cache_result cr = OLA_CACHE_MISS;
    struct ola_pg_ent *p;
    void *v = NULL;
    size_t s;

    if (ola_pg_find(en, key) != NULL)
        return 0;
    if (ola_pg_reserve(en, 1) != 0)
        return -1;
    s = ola_pg_hash(key, en->pg_cap);
    while (en->pg[s].key != 0)
        s = (s + 1) & (en->pg_cap - 1);
    p = &en->pg[s];
    memset(p, 0, sizeof(*p));
    p->key = key;
    p->lookup = OLA_PG_NO_LOOKUP;
    en->pg_used[en->pg_n++] = s;
    if (ola_key_kind(key) == OLA_K_USER_ROLES) {
        p->val = ola_val_ref(user);
        return ola_lk_add(en, s, key);
    }
    cr = ola_cache_get(en->cache, key, now, &v);
    if (cr == OLA_CACHE_HIT) {
        en->st.hits++;
        p->state = OLA_PG_OK;
        p->val = ola_val_ref(v);
        return 0;
    }
    if (cr == OLA_CACHE_NEGATIVE) {
        en->st.hits++;
        p->state = OLA_PG_NOT_FOUND;
        return 0;
    }
    return ola_lk_add(en, s, key);
}

/* An id member of an event usable as a lookup key, or 0. */
static int64_t ola_event_id_of(const struct ola_event *e, const char *key)
{
    long long v;

    if (!ola_event_int(e, key, &v) || v <= 0 || v > OLA_EN_ID_MAX)
        return 0;
    return (int64_t)v;
}

/* ---- shared strings ------------------------------------------------------------ */

static size_t ola_intern_slot(json_t *const *tab, const char *str, size_t len)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    size_t i, s;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)str[i];
        h *= UINT64_C(1099511628211);
    }
    s = (size_t)h & (OLA_EN_INTERN_SLOTS - 1);
    while (tab[s] != NULL && (json_string_length(tab[s]) != len ||
                              memcmp(json_string_value(tab[s]), str, len) != 0))
        s = (s + 1) & (OLA_EN_INTERN_SLOTS - 1);
    return s;
}

/* Drops the strings no user holds any more (the table's is the only reference). */
static void ola_intern_sweep(struct ola_enricher *en)
{
    json_t **nt = calloc(OLA_EN_INTERN_SLOTS, sizeof(*nt));
    size_t i;

    if (nt == NULL)
        return;
    for (i = 0; i < OLA_EN_INTERN_SLOTS; i++) {
        json_t *v = en->intern[i];

        if (v == NULL)
            continue;
        if (v->refcount == 1) {
            json_decref(v);
            en->n_intern--;
            continue;
        }
        nt[ola_intern_slot(nt, json_string_value(v), json_string_length(v))] = v;
    }
    free(en->intern);
    en->intern = nt;
}

/*
 * Replaces the string at key of obj with the enricher's one copy of the same
 * text, kept from then on. Strings too long, and strings that find no room,
 * stay as they are. Returns 0 / -1 (ENOMEM).
 */
static int ola_intern_member(struct ola_enricher *en, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    size_t len, s;

    if (!json_is_string(v) || (len = json_string_length(v)) > OLA_EN_INTERN_LEN)
        return 0;
    if (en->intern == NULL) {
        en->intern = calloc(OLA_EN_INTERN_SLOTS, sizeof(*en->intern));
        if (en->intern == NULL)
            return -1;
    }
    s = ola_intern_slot(en->intern, json_string_value(v), len);
    if (en->intern[s] == v)
        return 0;
    if (en->intern[s] != NULL)
        return json_object_set(obj, key, en->intern[s]);
    if (en->n_intern >= OLA_EN_INTERN_MAX) {
        ola_intern_sweep(en);
        if (en->n_intern >= OLA_EN_INTERN_MAX)
            return 0; /* many distinct values: not worth sharing */
        s = ola_intern_slot(en->intern, json_string_value(v), len);
    }
    en->intern[s] = json_incref(v);
    en->n_intern++;
    return 0;
}

/* ---- answers ----------------------------------------------------------------- */

/* A user answer: parsed, cached, in the page. Returns 0, or -1 when unusable. */
static int ola_take_user(struct ola_enricher *en, struct ola_pg_ent *p,
                         const json_t *body, int64_t now)
{
    struct ola_val *v;
    json_t *facts;
    int64_t *ids;
    size_t n;
    bool known;

    facts = ola_enrich_user_facts(body, &ids, &n, &known);
    if (facts == NULL ||
        json_integer_value(json_object_get(facts, "id")) != ola_key_id(p->key)) {
        json_decref(facts);
        free(ids);
        return -1;
    }
    if (ola_intern_member(en, facts, "status_name") != 0 ||
        ola_intern_member(en, facts, "state_name") != 0 ||
        ola_intern_member(en, facts, "department") != 0 ||
        ola_intern_member(en, facts, "title") != 0) {
        json_decref(facts);
        free(ids);
        return -1;
    }
    v = ola_val_new(OLA_K_USER, facts);
    if (v == NULL) {
        free(ids);
        return -1;
    }
    v->role_ids = ids;
    v->n_role_ids = n;
    v->roles_known = known;
    p->val = v;
    p->state = OLA_PG_OK;
    (void)ola_cache_put(en->cache, p->key, ola_val_ref(v), now);
    return 0;
}

static int ola_take_role(struct ola_enricher *en, struct ola_pg_ent *p,
                         const json_t *body, int64_t now)
{
    json_t *facts = ola_enrich_role_facts(body);
    struct ola_val *v;

    if (facts == NULL ||
        json_integer_value(json_object_get(facts, "id")) != ola_key_id(p->key)) {
        json_decref(facts);
        return -1;
    }
    v = ola_val_new(OLA_K_ROLE, facts);
    if (v == NULL)
        return -1;
    p->val = v;
    p->state = OLA_PG_OK;
    en->role_gen++; /* users built with older names are rebuilt on use */
    (void)ola_cache_put(en->cache, p->key, ola_val_ref(v), now);
    return 0;
}

static int ola_take_user_roles(struct ola_pg_ent *p, const json_t *body)
{
    struct ola_val *u = p->val;
    int64_t *ids;
    size_t n;

    if (ola_enrich_role_ids(body, &ids, &n) != 0)
        return -1;
    free(u->role_ids);
    u->role_ids = ids;
    u->n_role_ids = n;
    u->roles_known = true;
    u->out_gen = 0;
    p->state = OLA_PG_OK;
    return 0;
}

/* Reads one answered lookup into its page slot. Returns what it was. */
static enum ola_pg_state ola_take(struct ola_enricher *en, size_t i, int64_t now)
{
    struct ola_ol_lookup *l = &en->lk[i];
    struct ola_pg_ent *p = &en->pg[en->lk_slot[i]];
    unsigned kind = ola_key_kind(p->key);
    json_t *body;
    int rc;

    switch (l->status) {
    case OLA_OL_OK:
        break;
    case OLA_OL_NOT_FOUND:
        en->st.not_found++;
        if (kind == OLA_K_USER_ROLES) {
            p->val->roles_known = true; /* none to tell */
            p->val->out_gen = 0;
            p->state = OLA_PG_OK;
            return OLA_PG_OK;
        }
        (void)ola_cache_put_negative(en->cache, p->key, now);
        p->state = OLA_PG_NOT_FOUND;
        return OLA_PG_NOT_FOUND;
    case OLA_OL_DEFERRED:
        en->st.deferred++;
        p->state = OLA_PG_DEFERRED;
        return OLA_PG_DEFERRED;
    default:
        en->st.failed++;
        p->state = OLA_PG_FAILED;
        return OLA_PG_FAILED;
    }
    body = json_loadb(l->r.body.data, l->r.body.len, 0, NULL);
    if (kind == OLA_K_USER)
        rc = ola_take_user(en, p, body, now);
    else if (kind == OLA_K_ROLE)
        rc = ola_take_role(en, p, body, now);
    else
        rc = ola_take_user_roles(p, body);
    if (rc != 0 && kind != OLA_K_USER_ROLES &&
        json_array_size(json_object_get(body, "data")) > 1)
        snprintf(l->r.reason, sizeof(l->r.reason),
                 "HTTP %ld with %zu objects in data where one was asked for",
                 l->r.http_status, json_array_size(json_object_get(body, "data")));
    else if (rc != 0)
        snprintf(l->r.reason, sizeof(l->r.reason),
                 "HTTP %ld with an answer of another shape", l->r.http_status);
    json_decref(body);
    if (rc != 0) {
        en->st.failed++;
        p->state = OLA_PG_FAILED;
        return OLA_PG_FAILED;
    }
    return OLA_PG_OK;
}

/* Logs the start and the end of deferral and failure spells, once each. */
static void ola_note_round(struct ola_enricher *en, size_t ok, size_t deferred,
                           size_t failed, const struct ola_ol_lookup *first_defer,
                           const struct ola_ol_lookup *first_fail,
                           const char *first_fail_path, int64_t now)
{
    if (deferred > 0 && !en->deferring) {
        /* why: the reserve, pacing, or a rate-limit block (the governor's words) */
        ola_log_info(OLA_EN_COMP,
                     "%zu lookups deferred (%s; %.0f%% of the limit is kept for "
                     "polling); events go out with olagent.enrichment=\"deferred\" until "
                     "the budget allows",
                     deferred, first_defer->r.reason, en->o.reserve * 100.0);
        en->deferring = true;
    } else if (deferred == 0 && ok > 0 && en->deferring) {
        ola_log_info(OLA_EN_COMP, "lookups go out again");
        en->deferring = false;
    }
    if (failed > 0 && ok == 0) {
        /* nothing worked: the API looks down or refuses; stop spending time on it */
        en->pause_ms = en->pause_ms ? en->pause_ms * 2 : OLA_EN_PAUSE_MIN_MS;
        if (en->pause_ms > OLA_EN_PAUSE_MAX_MS)
            en->pause_ms = OLA_EN_PAUSE_MAX_MS;
        en->pause_until_ms = now + en->pause_ms;
        snprintf(en->pause_reason, sizeof(en->pause_reason), "GET %s: %s",
                 first_fail_path, first_fail->r.reason);
        ola_log_warn(OLA_EN_COMP,
                     "%zu lookups failed (%s); no lookups for %llds, events go out with "
                     "olagent.enrichment=\"failed\"",
                     failed, en->pause_reason, (long long)(en->pause_ms / 1000));
    } else if (ok > 0 && en->pause_ms > 0) {
        ola_log_info(OLA_EN_COMP, "lookups work again");
        en->pause_ms = 0;
        en->pause_until_ms = 0;
    }
}

/* Sends lookups [from, lk_n) and reads the answers. */
static void ola_fetch(struct ola_enricher *en, size_t from, int64_t now)
{
    size_t i, ok = 0, deferred = 0, failed = 0, first_fail = SIZE_MAX;
    size_t first_defer = SIZE_MAX;

    if (from >= en->lk_n)
        return;
    if (ola_stop_requested) {
        /* stopping: the batch goes out (or is read again) without waiting on the API */
        for (i = from; i < en->lk_n; i++) {
            en->pg[en->lk_slot[i]].state = OLA_PG_DEFERRED;
            en->st.deferred++;
        }
        return;
    }
    if (now < en->pause_until_ms) {
        for (i = from; i < en->lk_n; i++) {
            en->pg[en->lk_slot[i]].state = OLA_PG_FAILED;
            en->pg[en->lk_slot[i]].lookup = OLA_PG_PAUSED;
            en->st.failed++;
        }
        return;
    }
    for (i = from; i < en->lk_n; i++)
        en->lk[i].path = en->lk_path[i];
    ola_ol_get_many(en->client, &en->lk[from], en->lk_n - from, OLA_OL_PRIO_LOOKUP);
    for (i = from; i < en->lk_n; i++) {
        enum ola_pg_state st;

        if (en->lk[i].status != OLA_OL_DEFERRED)
            en->st.misses++;
        st = ola_take(en, i, now);
        ola_buf_free(&en->lk[i].r.body); /* read: no need to keep page-sized buffers */
        if (st == OLA_PG_OK || st == OLA_PG_NOT_FOUND) {
            ok++;
        } else if (st == OLA_PG_DEFERRED) {
            deferred++;
            if (first_defer == SIZE_MAX)
                first_defer = i;
        } else {
            failed++;
            if (first_fail == SIZE_MAX)
                first_fail = i;
        }
    }
    ola_note_round(en, ok, deferred, failed,
                   first_defer != SIZE_MAX ? &en->lk[first_defer] : NULL,
                   first_fail != SIZE_MAX ? &en->lk[first_fail] : NULL,
                   first_fail != SIZE_MAX ? en->lk_path[first_fail] : "", now);
}

/* ---- users' roles ------------------------------------------------------------- */

/* True when u's shared object is built and no role was fetched since. */
static bool ola_user_current(const struct ola_enricher *en, const struct ola_val *u)
{
    return u->out != NULL && u->out_gen == en->role_gen;
}

/* Adds what the page's users still need: their role lists, their roles' names. */
static int ola_want_user_needs(struct ola_enricher *en, int64_t now)
{
    size_t i, k, n = en->pg_n;

    for (i = 0; i < n; i++) {
        struct ola_pg_ent *p = &en->pg[en->pg_used[i]];
        struct ola_val *u = p->val;

        if (ola_key_kind(p->key) != OLA_K_USER || p->state != OLA_PG_OK ||
            ola_user_current(en, u))
            continue;
        if (!u->roles_known) {
            if (!en->o.roles)
                continue; /* roles: null */
            if (ola_want(en, ola_key(ola_key_id(p->key), OLA_K_USER_ROLES), u, now) != 0)
                return -1;
            continue;
        }
        for (k = 0; en->o.roles && k < u->n_role_ids; k++) {
            if (u->role_ids[k] <= 0 || u->role_ids[k] > OLA_EN_ID_MAX)
                continue;
            if (ola_want(en, ola_key(u->role_ids[k], OLA_K_ROLE), NULL, now) != 0)
                return -1;
        }
    }
    return 0;
}

/* The role value of id: from the page, else the cache; NULL if neither has it. */
static const struct ola_val *ola_role_of(const struct ola_enricher *en, int64_t id,
                                         int64_t now, bool *gone)
{
    uint64_t key = ola_key(id, OLA_K_ROLE);
    const struct ola_pg_ent *r = ola_pg_find(en, key);
    void *v = NULL;

    *gone = false;
    if (r != NULL && r->state == OLA_PG_OK)
        return r->val;
    if (r != NULL && r->state == OLA_PG_NOT_FOUND) {
        *gone = true;
        return NULL;
    }
    switch (ola_cache_peek(en->cache, key, now, &v)) {
    case OLA_CACHE_HIT:
        return v;
    case OLA_CACHE_NEGATIVE:
        *gone = true;
        return NULL;
    case OLA_CACHE_MISS:
        break;
    }
    return NULL;
}

/* Why u's roles lack a name: the first deferred or failed role of the page. */
static void ola_note_role_gap(const struct ola_enricher *en, struct ola_val *u,
                              int64_t id)
{
    const struct ola_pg_ent *r = ola_pg_find(en, ola_key(id, OLA_K_ROLE));

    if (r == NULL || u->roles_state == OLA_PG_FAILED)
        return;
    if (r->state == OLA_PG_FAILED) {
        u->roles_state = OLA_PG_FAILED;
        u->roles_lookup = r->lookup;
    } else if (r->state == OLA_PG_DEFERRED) {
        u->roles_state = OLA_PG_DEFERRED;
    }
}

/*
 * Builds u's shared object: facts + roles [{id, name}]. The facts come from
 * the answer the first time, then from the previous object (its roles are
 * replaced in place), so an entry keeps one object, not two. Returns 0 / -1.
 */
static int ola_build_user(struct ola_enricher *en, struct ola_val *u, int64_t now)
{
    json_t *out = json_object(), *roles = json_array();
    json_t *src = u->facts != NULL ? u->facts : u->out;
    bool complete = u->roles_known;
    size_t k;

    u->roles_state = OLA_PG_OK;
    if (out == NULL || roles == NULL || src == NULL || json_object_update(out, src) != 0)
        goto fail;
    for (k = 0; k < u->n_role_ids; k++) {
        int64_t id = u->role_ids[k];
        const struct ola_val *r = NULL;
        bool gone = false;
        json_t *item;

        if (en->o.roles && id > 0 && id <= OLA_EN_ID_MAX)
            r = ola_role_of(en, id, now, &gone);
        if (r != NULL) {
            item = json_incref(r->facts);
        } else {
            /* no name: roles off, a 404, or not fetched (yet) */
            item = json_pack("{s:I}", "id", (json_int_t)id);
            if (en->o.roles && !gone) {
                complete = false;
                ola_note_role_gap(en, u, id);
            }
        }
        if (item == NULL || json_array_append_new(roles, item) != 0)
            goto fail;
    }
    if (json_object_set_new(out, "roles", u->roles_known ? roles : json_null()) != 0) {
        roles = NULL;
        goto fail;
    }
    if (!u->roles_known)
        json_decref(roles);
    json_decref(u->out);
    u->out = out;
    u->out_gen = complete ? en->role_gen : 0;
    u->built_page = en->page;
    json_decref(u->facts);
    u->facts = NULL;
    return 0;
fail:
    json_decref(roles);
    json_decref(out);
    return -1;
}

/* ---- event types ------------------------------------------------------------- */

static const char *ola_type_find(const struct ola_enricher *en, long long id)
{
    size_t lo = 0, hi = en->n_types;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (en->types[mid].id == id)
            return en->types[mid].name;
        if (en->types[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int ola_type_cmp(const void *a, const void *b)
{
    const struct ola_type_name *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static int ola_ll_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

/* Replaces the type list with the `data` of a GET /api/1/events/types answer. */
static int ola_types_take(struct ola_enricher *en, const json_t *body, int64_t now)
{
    const json_t *data = json_object_get(body, "data"), *item;
    struct ola_type_name *v;
    size_t i, k = 0;

    if (!json_is_array(data))
        return -1;
    v = calloc(json_array_size(data) + 1, sizeof(*v));
    if (v == NULL)
        return -1;
    json_array_foreach(data, i, item)
    {
        const json_t *id = json_object_get(item, "id");
        const char *name = json_string_value(json_object_get(item, "name"));

        if (!json_is_integer(id) || name == NULL || name[0] == '\0')
            continue;
        v[k].id = json_integer_value(id);
        v[k].name = strdup(name);
        if (v[k].name == NULL)
            break;
        k++;
    }
    qsort(v, k, sizeof(*v), ola_type_cmp);
    for (i = 0; i < en->n_types; i++)
        free(en->types[i].name);
    free(en->types);
    en->types = v;
    en->n_types = k;
    en->types_ms = now;
    en->n_missing = 0;
    return 0;
}

static bool ola_missing_has(const struct ola_enricher *en, long long id)
{
    return en->n_missing > 0 && bsearch(&id, en->missing, en->n_missing,
                                        sizeof(*en->missing), ola_ll_cmp) != NULL;
}

static int ola_missing_add(struct ola_enricher *en, long long id)
{
    if (ola_missing_has(en, id))
        return 0;
    if (en->n_missing == en->missing_cap) {
        size_t cap = en->missing_cap ? en->missing_cap * 2 : 16;
        long long *p = realloc(en->missing, cap * sizeof(*p));

        if (p == NULL)
            return -1;
        en->missing = p;
        en->missing_cap = cap;
    }
    en->missing[en->n_missing++] = id;
    qsort(en->missing, en->n_missing, sizeof(*en->missing), ola_ll_cmp);
    return 0;
}

/*
 * Names the page's type ids the catalog lacks: from the list fetched last
 * (kept 24 h), fetching it again when an id it did not cover shows up.
 * Returns true when an id is still to be looked up.
 */
static bool ola_types_learn(struct ola_enricher *en, struct ola_batch *b,
                            struct ola_catalog *cat, int64_t now, bool settle)
{
    bool fresh = en->types_ms >= 0 && now - en->types_ms < OLA_EN_TYPES_TTL_MS;
    bool need = false;
    long long last = -1;
    size_t i;

    for (i = 0; i < b->n; i++) {
        const char *name;
        long long id;

        if (b->ev[i].kind != OLA_REC_EVENT ||
            !ola_event_int(&b->ev[i], "event_type_id", &id) || id == last ||
            ola_catalog_name(cat, id) != NULL)
            continue;
        last = id;
        name = fresh ? ola_type_find(en, id) : NULL;
        if (name != NULL) {
            if (ola_catalog_learn(cat, id, name) == 0)
                en->st.types_learned++;
            continue;
        }
        if (fresh && ola_missing_has(en, id))
            continue;
        if (settle && fresh)
            (void)ola_missing_add(en, id); /* the API does not know it either */
        else
            need = true;
    }
    return need;
}

static void ola_types(struct ola_enricher *en, struct ola_batch *b,
                      struct ola_catalog *cat, int64_t now)
{
    struct ola_ol_response r;
    enum ola_ol_status st;
    json_t *body;

    if (!ola_types_learn(en, b, cat, now, false) || now < en->types_next_ms)
        return;
    ola_ol_response_init(&r);
    st = ola_ol_get(en->client, "/api/1/events/types", OLA_OL_PRIO_LOOKUP, &r);
    if (st != OLA_OL_DEFERRED)
        en->st.type_fetches++;
    body = st == OLA_OL_OK ? json_loadb(r.body.data, r.body.len, 0, NULL) : NULL;
    if (body != NULL && ola_types_take(en, body, now) == 0) {
        en->types_next_ms = now + OLA_EN_TYPES_GAP_MS;
        ola_log_debug(OLA_EN_COMP, "event types: %zu names from the API", en->n_types);
        (void)ola_types_learn(en, b, cat, now, true);
    } else {
        en->types_next_ms =
            now + (r.retry_after_ms > OLA_EN_TYPES_WAIT_MS ? r.retry_after_ms
                                                           : OLA_EN_TYPES_WAIT_MS);
        if (st != OLA_OL_DEFERRED)
            ola_log_warn(OLA_EN_COMP, "event types not fetched: %s",
                         st == OLA_OL_OK ? "an answer without a data list" : r.reason);
    }
    json_decref(body);
    ola_ol_response_free(&r);
}

/* ---- events ------------------------------------------------------------------ */

/* What enrichment of one event came to: the worst state met, and why. */
struct ola_mark {
    bool deferred;
    const char *failed; /* reason, or NULL */
    const char *path;
};

static void ola_mark_state(const struct ola_enricher *en, unsigned state, uint32_t lookup,
                           struct ola_mark *m)
{
    if (state == OLA_PG_DEFERRED) {
        m->deferred = true;
    } else if (state == OLA_PG_FAILED && m->failed == NULL) {
        if (lookup == OLA_PG_PAUSED) {
            m->failed = en->pause_reason;
            m->path = NULL;
        } else if (lookup < en->lk_n) {
            m->failed = en->lk[lookup].r.reason;
            m->path = en->lk_path[lookup];
        } else {
            m->failed = "lookup failed";
            m->path = NULL;
        }
    }
}

static void ola_mark_ent(const struct ola_enricher *en, const struct ola_pg_ent *p,
                         struct ola_mark *m)
{
    ola_mark_state(en, p->state, p->lookup, m);
}

/* What a deleted user or role gets: {id, name (the event's), found: false}. */
static json_t *ola_not_found(int64_t id, const char *name)
{
    return json_pack("{s:I, s:s?, s:b}", "id", (json_int_t)id, "name", name, "found", 0);
}

/* Sets olagent.<slot> = v, creating the olagent object first. v: stolen. */
static int ola_attach_set(struct ola_event *e, json_t **ola, const char *slot, json_t *v)
{
    if (*ola == NULL)
        *ola = ola_event_ola(e);
    if (v == NULL || *ola == NULL) {
        json_decref(v);
        return -1;
    }
    return json_object_set_new(*ola, slot, v);
}

/* olagent.<slot> for the user id of member id_key; names from name_key on a 404. */
static int ola_attach_user(struct ola_enricher *en, struct ola_event *e, json_t **ola,
                           const char *slot, const char *id_key, const char *name_key,
                           struct ola_mark *m, int64_t now)
{
    int64_t id = ola_event_id_of(e, id_key);
    struct ola_pg_ent *p;
    json_t *v;

    if (id == 0)
        return 0;
    p = ola_pg_find(en, ola_key(id, OLA_K_USER));
    if (p == NULL)
        return 0;
    if (p->state == OLA_PG_OK) {
        struct ola_pg_ent *r = ola_pg_find(en, ola_key(id, OLA_K_USER_ROLES));

        if (r != NULL)
            ola_mark_ent(en, r, m);
        if (!ola_user_current(en, p->val) && p->val->built_page != en->page &&
            ola_build_user(en, p->val, now) != 0)
            return -1;
        if (!ola_user_current(en, p->val))
            ola_mark_state(en, p->val->roles_state, p->val->roles_lookup, m);
        v = json_incref(p->val->out);
    } else if (p->state == OLA_PG_NOT_FOUND) {
        /* deleted (or never seen by the API): the names the event carries */
        v = ola_not_found(id, ola_event_str(e, name_key));
    } else {
        ola_mark_ent(en, p, m);
        return 0;
    }
    return ola_attach_set(e, ola, slot, v);
}

static int ola_attach_role(struct ola_enricher *en, struct ola_event *e, json_t **ola,
                           struct ola_mark *m)
{
    int64_t id = ola_event_id_of(e, "role_id");
    struct ola_pg_ent *p;
    json_t *v;

    if (id == 0)
        return 0;
    p = ola_pg_find(en, ola_key(id, OLA_K_ROLE));
    if (p == NULL)
        return 0;
    if (p->state == OLA_PG_OK) {
        v = json_incref(p->val->facts);
    } else if (p->state == OLA_PG_NOT_FOUND) {
        v = ola_not_found(id, ola_event_str(e, "role_name"));
    } else {
        ola_mark_ent(en, p, m);
        return 0;
    }
    return ola_attach_set(e, ola, "role", v);
}

static int ola_attach(struct ola_enricher *en, struct ola_event *e, int64_t now)
{
    struct ola_mark m = {false, NULL, NULL};
    json_t *ola = NULL;
    char why[400];

    if (en->o.users &&
        (ola_attach_user(en, e, &ola, "user", "user_id", "user_name", &m, now) != 0 ||
         ola_attach_user(en, e, &ola, "actor", "actor_user_id", "actor_user_name", &m,
                         now) != 0))
        return -1;
    if (en->o.roles && ola_attach_role(en, e, &ola, &m) != 0)
        return -1;
    if (m.failed == NULL && !m.deferred)
        return 0;
    if (ola == NULL)
        ola = ola_event_ola(e);
    if (ola == NULL)
        return -1;
    if (m.failed != NULL) {
        en->st.events_failed++;
        if (m.path != NULL)
            snprintf(why, sizeof(why), "GET %s: %s", m.path, m.failed);
        else
            snprintf(why, sizeof(why), "%s", m.failed);
        return json_object_set_new(ola, "enrichment", json_string("failed")) != 0 ||
                       json_object_set_new(ola, "enrichment_error", json_string(why)) != 0
                   ? -1
                   : 0;
    }
    en->st.events_deferred++;
    return json_object_set_new(ola, "enrichment", json_string("deferred"));
}

/*
 * An event that changes a user or role (e) evicts key, unless the entry was
 * fetched after the change: its facts already show it. That is the case for
 * every change a backfill meets (the facts are the current state either
 * way), so a backfill looks each user up once; a change that happens while
 * tailing is newer than the entry and evicts it. The server-time margin
 * covers the estimate of the server's clock and OneLogin's own lag between
 * a change and its event. Returns true when an entry was evicted.
 */
static bool ola_change_evicts(struct ola_enricher *en, const struct ola_event *e,
                              uint64_t key, int64_t now_mono)
{
    int64_t stored = ola_cache_stored_at(en->cache, key, now_mono), fetched;

    if (stored >= 0) {
        fetched = ola_ol_server_now_ms(en->client) - (now_mono - stored);
        if (e->created_ms > 0 && e->created_ms < fetched - OLA_EN_CHANGE_MARGIN_MS) {
            en->st.changes_seen++;
            return false;
        }
    }
    return ola_cache_remove(en->cache, key);
}

int ola_enrich_batch(struct ola_enricher *en, struct ola_batch *b,
                     struct ola_catalog *cat, int64_t now_mono_ms)
{
    const int64_t now = now_mono_ms;
    size_t i, from;
    int round, rc = -1;

    if (b->n == 0)
        return 0;
    ola_pg_clear(en);
    en->lk_n = 0;
    en->page++;
    /* (1) an event that changes a user or a role: that entry goes first */
    for (i = 0; i < b->n; i++) {
        struct ola_event *e = &b->ev[i];
        unsigned ch;
        long long type;
        int64_t id;

        if (e->kind != OLA_REC_EVENT || !ola_event_int(e, "event_type_id", &type))
            continue;
        ch = ola_enrich_changes(type);
        if ((ch & OLA_ENRICH_CHANGES_USER) && en->o.users) {
            id = ola_event_id_of(e, "user_id");
            if (id != 0 && ola_change_evicts(en, e, ola_key(id, OLA_K_USER), now))
                en->st.change_evictions++;
        }
        if ((ch & OLA_ENRICH_CHANGES_ROLE) && en->o.roles) {
            id = ola_event_id_of(e, "role_id");
            if (id != 0 && ola_change_evicts(en, e, ola_key(id, OLA_K_ROLE), now)) {
                en->st.change_evictions++;
                en->role_gen++; /* its name may have changed: rebuild users */
            }
        }
    }
    /* (2) type names the catalog lacks */
    if (en->o.event_types && cat != NULL)
        ola_types(en, b, cat, now);
    if (!en->o.users && !en->o.roles)
        return 0;
    /* (3) the page's users and roles, once each */
    if (ola_pg_reserve(en, b->n * 3) != 0)
        goto out;
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        int64_t id;

        if (e->kind != OLA_REC_EVENT)
            continue;
        if (en->o.users) {
            id = ola_event_id_of(e, "user_id");
            if (id != 0 && ola_want(en, ola_key(id, OLA_K_USER), NULL, now) != 0)
                goto out;
            id = ola_event_id_of(e, "actor_user_id");
            if (id != 0 && ola_want(en, ola_key(id, OLA_K_USER), NULL, now) != 0)
                goto out;
        }
        id = ola_event_id_of(e, "role_id");
        if (en->o.roles && id != 0 &&
            ola_want(en, ola_key(id, OLA_K_ROLE), NULL, now) != 0)
            goto out;
    }
    /* (4) lookups; then what the users need: role lists, role names */
    from = 0;
    for (round = 0; round < OLA_EN_MAX_ROUNDS; round++) {
        if (round > 0 && ola_want_user_needs(en, now) != 0)
            goto out;
        if (from < en->lk_n)
            ola_fetch(en, from, now);
        else if (round > 0)
            break;
        from = en->lk_n;
    }
    /* (5) shared objects into every event */
    for (i = 0; i < b->n; i++)
        if (b->ev[i].kind == OLA_REC_EVENT && ola_attach(en, &b->ev[i], now) != 0)
            goto out;
    rc = 0;
out:
    ola_pg_clear(en); /* the events hold their own references now */
    return rc;
}
