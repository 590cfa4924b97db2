/*
 * enrich.c - the enricher: a page's lookups, one round trip, shared facts.
 *
 * Per batch: (1) events that change a user or a role evict it from the cache
 * (unless the cached facts were fetched after the change);
 * (2) unknown event-type ids are named from the catalog or the API's list;
 * (3) every user_id, actor_user_id and role_id of the page goes into a page
 * table, once: from the cache, or as a lookup to send; (4) the lookups go out
 * together through the API's get_many (the OneLogin client's: concurrent,
 * admitted one by one by the shared governor), then a second round fetches
 * the roles the users hold, for their names; (5) every event gets references
 * to the shared, read-only olagent.user / actor / role trees. The cache holds
 * users and roles as compact records (vals.c, record.c); a user's tree
 * (facts + roles with names) is built from its record on first use and kept
 * while hot, its role names looked up once and kept until a role is fetched
 * again (a generation counter), so a warm cache costs a few hash lookups and
 * reference counts per event. The page table holds its own references, so a
 * cache smaller than a page still enriches the whole page. Short strings many
 * users share (status and state names, department, title, role names) are
 * kept once, in a small table of refcounted strings. Failing rounds
 * pause lookups for a while (5 s doubling to 5 min) instead of spending each
 * page's time on an API that does not answer.
 *
 * Pieces: enrich.c (setup, the page table, the batch step), lookups.c
 * (sending lookups, reading answers), vals.c (users and roles, their hot
 * trees), record.c (the compact records, shared strings), attach.c (facts
 * into events), event_types.c (type names from the API), facts.c (the pure
 * parts); enrich_priv.h is what they share.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/arena.h"
#include "agent/core/vec.h"
#include "filters/enrich/enrich_priv.h"

static void ola_val_free_cb(void *en, uint64_t key, void *val)
{
    (void)key;
    ola_en_val_unref(en, val);
}

/* ---- setup -------------------------------------------------------------------- */

int ola_enricher_new(const struct ola_enrich_settings *o,
                     const struct ola_enrich_api *api, struct ola_enricher **out,
                     struct ola_err *err)
{
    struct ola_cache_opts co;
    struct ola_enricher *en = NULL;

    *out = NULL;
    if (o->concurrency < 1 || o->concurrency > OLA_ENRICH_MAX_CONCURRENCY ||
        o->cache_entries < 1 || o->cache_ttl_ms <= 0 || o->cache_negative_ms < 0 ||
        (o->api_version != 1 && o->api_version != 2))
        return ola_err_set(err, EINVAL, "enrich: settings out of range");
    en = calloc(1, sizeof(*en));
    if (en == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    en->o = *o;
    en->api = *api;
    en->role_gen = 1;
    en->types_ms = -1;
    ola_backoff_init(&en->pause, OLA_EN_PAUSE_MIN_MS, OLA_EN_PAUSE_MAX_MS, 0);
    memset(&co, 0, sizeof(co));
    co.max_entries = (size_t)o->cache_entries;
    co.ttl_ms = o->cache_ttl_ms;
    co.negative_ttl_ms = o->cache_negative_ms;
    co.free_val = ola_val_free_cb;
    co.ctx = en;
    en->cache = ola_cache_new(&co);
    if (en->cache == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (api->setup(api->ctx, (unsigned)o->concurrency, o->timeout_ms, o->reserve, err) !=
        0)
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

        ola_en_val_unref(en, p->val);
        memset(p, 0, sizeof(*p));
    }
    en->pg_n = 0;
}

/* Frees the per-batch page table and lookup buffers; they grow again on demand. */
static void ola_en_free_scratch(struct ola_enricher *en)
{
    size_t i;

    ola_pg_clear(en);
    free(en->pg);
    free(en->pg_used);
    en->pg = NULL;
    en->pg_used = NULL;
    en->pg_cap = 0;
    for (i = 0; i < en->lk_cap; i++)
        ola_buf_free(&en->lk[i].body);
    free(en->lk);
    free(en->lk_path);
    free(en->lk_slot);
    free(en->lk_scratch);
    en->lk = NULL;
    en->lk_path = NULL;
    en->lk_slot = NULL;
    en->lk_scratch = NULL;
    en->lk_n = en->lk_cap = en->lk_path_cap = en->lk_slot_cap = en->lk_scratch_cap = 0;
}

void ola_enricher_destroy(struct ola_enricher *en)
{
    size_t i;

    if (en == NULL)
        return;
    ola_en_hot_bound(en, 0);
    /* a tree still held elsewhere would be freed later: leak the arena rather */
    if (ola_arena_blocks(en->hot_arena) == 0)
        ola_arena_destroy(en->hot_arena);
    ola_en_free_scratch(en);
    for (i = 0; i < en->n_types; i++)
        free(en->types[i].name);
    free(en->types);
    free(en->missing);
    ola_cache_destroy(en->cache); /* the records drop their strings */
    ola_slab_release(&en->slab);
    ola_intern_free(&en->intern);
    ola_buf_free(&en->code);
    free(en);
}

void ola_enricher_trim(struct ola_enricher *en)
{
    ola_en_hot_bound(en, 0); /* at rest: the records, no trees */
    ola_arena_trim_if_empty(en->hot_arena);
    ola_en_free_scratch(en);
    ola_en_compact(en);
    ola_buf_free(&en->code);
    ola_intern_sweep(&en->intern);
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

struct ola_pg_ent *ola_en_pg_find(const struct ola_enricher *en, uint64_t key)
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

    /* new lookups are zeroed: no body yet */
    if (OLA_VEC_GROW_FROM(en->lk, en->lk_cap, en->lk_n + 1, 256) != 0 ||
        OLA_VEC_GROW_FROM(en->lk_path, en->lk_path_cap, en->lk_n + 1, 256) != 0 ||
        OLA_VEC_GROW_FROM(en->lk_slot, en->lk_slot_cap, en->lk_n + 1, 256) != 0 ||
        (en->api.scratch_size > 0 &&
         ola_vec_reserve(&en->lk_scratch, &en->lk_scratch_cap, en->api.scratch_size,
                         en->lk_n + 1, 256) != 0))
        return -1;
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

    if (ola_en_pg_find(en, key) != NULL)
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
        p->val = ola_en_val_ref(user);
        return ola_lk_add(en, s, key);
    }
    cr = ola_cache_get(en->cache, key, now, &v);
    if (cr == OLA_CACHE_HIT) {
        en->st.hits++;
        p->state = OLA_PG_OK;
        p->val = ola_en_val_ref(v);
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
int64_t ola_en_event_id_of(const struct ola_event *e, const char *key)
{
    long long v;

    if (!ola_event_int(e, key, &v) || v <= 0 || v > OLA_EN_ID_MAX)
        return 0;
    return (int64_t)v;
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
        for (k = 0; en->o.roles && k < u->n_roles; k++) {
            if (u->roles[k].id <= 0 || u->roles[k].id > OLA_EN_ID_MAX)
                continue;
            if (ola_want(en, ola_key(u->roles[k].id, OLA_K_ROLE), NULL, now) != 0)
                return -1;
        }
    }
    return 0;
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
        fetched = en->api.server_now_ms(en->api.ctx) - (now_mono - stored);
        if (e->created_ms > 0 && e->created_ms < fetched - OLA_EN_CHANGE_MARGIN_MS) {
            en->st.changes_seen++;
            return false;
        }
    }
    return ola_cache_remove(en->cache, key);
}

int ola_enrich_batch(struct ola_enricher *en, struct ola_batch *b,
                     const struct ola_enrich_types *types, int64_t now_mono_ms)
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
            id = ola_en_event_id_of(e, "user_id");
            if (id != 0 && ola_change_evicts(en, e, ola_key(id, OLA_K_USER), now))
                en->st.change_evictions++;
        }
        if ((ch & OLA_ENRICH_CHANGES_ROLE) && en->o.roles) {
            id = ola_en_event_id_of(e, "role_id");
            if (id != 0 && ola_change_evicts(en, e, ola_key(id, OLA_K_ROLE), now)) {
                en->st.change_evictions++;
                en->role_gen++; /* its name may have changed: rebuild users */
            }
        }
    }
    /* (2) type names the catalog lacks */
    if (en->o.event_types && types != NULL)
        ola_en_types(en, b, types, now);
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
            id = ola_en_event_id_of(e, "user_id");
            if (id != 0 && ola_want(en, ola_key(id, OLA_K_USER), NULL, now) != 0)
                goto out;
            id = ola_en_event_id_of(e, "actor_user_id");
            if (id != 0 && ola_want(en, ola_key(id, OLA_K_USER), NULL, now) != 0)
                goto out;
        }
        id = ola_en_event_id_of(e, "role_id");
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
            ola_en_fetch(en, from, now);
        else if (round > 0)
            break;
        from = en->lk_n;
    }
    /* (5) shared objects into every event */
    for (i = 0; i < b->n; i++)
        if (b->ev[i].kind == OLA_REC_EVENT && ola_en_attach(en, &b->ev[i], now) != 0)
            goto out;
    rc = 0;
out:
    ola_pg_clear(en); /* the events hold their own references now */
    ola_en_hot_bound(en, OLA_EN_HOT_MAX);
    return rc;
}
