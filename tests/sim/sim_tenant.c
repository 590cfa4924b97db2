/*
 * olsim tenant: the generated OneLogin tenant and its event store.
 *
 * Users, roles and apps are generated once from the seed. Events are stored as compact
 * structs (struct olsim_event, ~40 bytes) in a vector sorted by id (ids only grow, so
 * inserting is appending); their JSON is rendered on demand from those fields and the
 * per-event seed, so the same event always renders to the same bytes. Two helpers make
 * queries fast at a million events: per-1024-event blocks holding the created_at range
 * (id-ordered scans skip blocks outside the window), and a second index of positions
 * sorted by (created_at, id) for the created_at sorts. Not thread-safe: the server holds
 * the tenant's lock around every call. Tenant k's ids are t1's plus id_offset; the
 * catalog may be borrowed from another tenant (read-only once built). This file generates
 * events and keeps the store; the catalog, users, queries and rendering live in
 * sim_catalog.c, sim_users.c, sim_query.c and sim_render.c (sim_tenant_priv.h).
 */
#include "sim.h"
#include "sim_tenant_priv.h"

#include <stdlib.h>
#include <string.h>

/* ---- event generation ---- */

static int olsim_random_type(const struct olsim_tenant *t, struct olsim_rng *rng)
{
    static const struct {
        int type;
        unsigned weight;
    } w[] = {
        {5, 380}, {8, 300}, {6, 50}, {9, 30}, {7, 40},  {-1, 45}, {11, 12},
        {10, 5},  {14, 15}, {13, 4}, {4, 6},  {148, 3}, {147, 2}, {72, 1},
        {73, 1},  {19, 4},  {12, 4}, {3, 2},  {-2, 92},
    };
    unsigned total = 0;
    unsigned x;
    size_t i;

    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        total += w[i].weight;
    x = olsim_rng_below(rng, total);
    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        if (x < w[i].weight)
            break;
        x -= w[i].weight;
    }
    if (i == sizeof(w) / sizeof(w[0]))
        i = 0;
    if (w[i].type == -1 && t->nmfa_types)
        return t->mfa_types[olsim_rng_below(rng, (uint32_t)t->nmfa_types)];
    if (w[i].type == -2 && t->nother_types)
        return t->other_types[olsim_rng_below(rng, (uint32_t)t->nother_types)];
    if (w[i].type < 0)
        return 5;
    return w[i].type;
}

static uint32_t olsim_random_user(const struct olsim_tenant *t, struct olsim_rng *rng,
                                  int live)
{
    uint32_t n = (uint32_t)t->nusers;
    uint32_t u = 0;
    int tries;

    for (tries = 0; tries < 16; tries++) {
        u = olsim_rng_below(rng, n);
        /* A fifth of the users make half of the traffic. */
        if (olsim_rng_below(rng, 2) == 0)
            u %= n / 5 + 1;
        if (!live || !t->users[u].deleted)
            break;
    }
    return u;
}

/* Fills e from spec (no id yet). */
static void olsim_event_make(const struct olsim_tenant *t, struct olsim_rng *rng,
                             const struct olsim_ev_spec *spec, int live,
                             struct olsim_event *e)
{
    enum olsim_kind k;
    const struct olsim_user *u;

    memset(e, 0, sizeof(*e));
    e->type = (uint16_t)(spec->type >= 0 ? spec->type : olsim_random_type(t, rng));
    e->user = spec->user != OLSIM_NONE ? spec->user : olsim_random_user(t, rng, live);
    e->created_ms = spec->created_ms;
    e->seed = (uint32_t)olsim_rng_next(rng);
    e->role = OLSIM_NONE16;
    e->app = OLSIM_NONE16;
    u = &t->users[e->user];
    k = olsim_kind_of(t, e->type);
    e->actor = olsim_kind_is_self(k)
                   ? e->user
                   : t->admins[olsim_rng_below(rng, (uint32_t)t->nadmins)];
    if (spec->has_ip)
        e->ip = spec->ip;
    else if (k == OLSIM_K_FAIL || k == OLSIM_K_APP_FAIL)
        e->ip = olsim_rng_below(rng, 2) ? u->ip : olsim_random_ip(rng);
    else if (olsim_kind_is_self(k))
        e->ip = olsim_rng_below(rng, 10) ? u->ip : olsim_random_ip(rng);
    else
        e->ip = t->users[e->actor].ip;
    if ((k == OLSIM_K_APP_LOGIN || k == OLSIM_K_APP_FAIL || k == OLSIM_K_APP_ROLE ||
         e->type == 29) &&
        t->napps)
        e->app = (uint16_t)olsim_rng_below(rng, (uint32_t)t->napps);
    if ((k == OLSIM_K_ROLE_ADD || k == OLSIM_K_APP_ROLE) && t->nroles) {
        uint16_t r = (uint16_t)olsim_rng_below(rng, (uint32_t)t->nroles);
        uint32_t i;

        for (i = 0; live && i < t->nroles && olsim_user_has_role(u, r); i++)
            r = (uint16_t)((r + 1) % t->nroles);
        e->role = r;
    }
    if (k == OLSIM_K_ROLE_DEL && t->nroles) {
        if (u->nroles)
            e->role = u->roles[olsim_rng_below(rng, u->nroles)];
        else
            e->role = (uint16_t)olsim_rng_below(rng, (uint32_t)t->nroles);
    }
}

static void olsim_user_apply(struct olsim_tenant *t, const struct olsim_event *e)
{
    struct olsim_user *u = &t->users[e->user];
    enum olsim_kind k = olsim_kind_of(t, e->type);
    uint8_t i;

    switch (k) {
    case OLSIM_K_LOGIN:
    case OLSIM_K_APP_LOGIN:
        u->last_login_ms = e->created_ms;
        u->invalid_logins = 0;
        return;
    case OLSIM_K_FAIL:
    case OLSIM_K_APP_FAIL:
        if (u->invalid_logins < 255)
            u->invalid_logins++;
        return;
    case OLSIM_K_ROLE_ADD:
        if (e->role != OLSIM_NONE16 && !olsim_user_has_role(u, e->role) && u->nroles < 8)
            u->roles[u->nroles++] = e->role;
        break;
    case OLSIM_K_ROLE_DEL:
        for (i = 0; i < u->nroles; i++) {
            if (u->roles[i] == e->role) {
                memmove(&u->roles[i], &u->roles[i + 1],
                        (size_t)(u->nroles - i - 1) * sizeof(u->roles[0]));
                u->nroles--;
                break;
            }
        }
        break;
    case OLSIM_K_LOCK:
        u->status = 3;
        u->locked_until_ms = e->created_ms + 30 * 60000;
        break;
    case OLSIM_K_UNLOCK:
        u->status = 1;
        u->locked_until_ms = 0;
        u->invalid_logins = 0;
        break;
    case OLSIM_K_SUSPEND:
        u->status = 2;
        break;
    case OLSIM_K_DELETE:
        u->deleted = 1;
        break;
    case OLSIM_K_PASSWORD:
        if (e->type == 11)
            u->pw_changed_ms = e->created_ms;
        break;
    case OLSIM_K_ADMIN:
        if (e->type == 15)
            u->status = 0;
        else if (e->type == 16)
            u->status = 1;
        break;
    default:
        return;
    }
    if (e->created_ms > u->updated_ms)
        u->updated_ms = e->created_ms;
}

/* ---- store ---- */

static int olsim_store_reserve(struct olsim_tenant *t, size_t n)
{
    void *p;
    size_t cap;
    size_t nb = (n >> OLSIM_BLOCK_SHIFT) + 1;

    if (n > t->ev_cap) {
        cap = t->ev_cap ? t->ev_cap + t->ev_cap / 2 : 1024;
        if (cap < n)
            cap = n;
        p = realloc(t->ev, cap * sizeof(*t->ev));
        if (!p)
            return -1;
        t->ev = p;
        t->ev_cap = cap;
    }
    if (n > t->tix_cap) {
        cap = t->tix_cap ? t->tix_cap + t->tix_cap / 2 : 1024;
        if (cap < n)
            cap = n;
        p = realloc(t->tix, cap * sizeof(*t->tix));
        if (!p)
            return -1;
        t->tix = p;
        t->tix_cap = cap;
    }
    if (nb > t->blk_cap) {
        cap = t->blk_cap ? t->blk_cap * 2 : 64;
        if (cap < nb)
            cap = nb;
        p = realloc(t->blk, cap * sizeof(*t->blk));
        if (!p)
            return -1;
        t->blk = p;
        t->blk_cap = cap;
    }
    return 0;
}

static void olsim_block_note(struct olsim_tenant *t, size_t pos)
{
    size_t b = pos >> OLSIM_BLOCK_SHIFT;
    int64_t c = t->ev[pos].created_ms;

    if (b >= t->nblk) {
        t->blk[b].min_ms = c;
        t->blk[b].max_ms = c;
        t->nblk = b + 1;
        return;
    }
    if (c < t->blk[b].min_ms)
        t->blk[b].min_ms = c;
    if (c > t->blk[b].max_ms)
        t->blk[b].max_ms = c;
}

int64_t olsim_tenant_insert(struct olsim_tenant *t, struct olsim_rng *rng,
                            const struct olsim_ev_spec *spec, int mutate, int64_t now_ms)
{
    struct olsim_event e;
    size_t lo = 0;
    size_t hi;

    (void)now_ms;
    if (t->nusers == 0 || olsim_store_reserve(t, t->nev + 1) < 0)
        return -1;
    olsim_event_make(t, rng, spec, 1, &e);
    t->last_id += 1 + olsim_rng_below(rng, 3);
    e.id = t->last_id;
    t->ev[t->nev] = e;
    olsim_block_note(t, t->nev);
    /* Upper bound on created_at: the new id is the largest, so ties go after. */
    hi = t->nev;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->ev[t->tix[mid]].created_ms <= e.created_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&t->tix[lo + 1], &t->tix[lo], (t->nev - lo) * sizeof(*t->tix));
    t->tix[lo] = (uint32_t)t->nev;
    t->nev++;
    if (mutate)
        olsim_user_apply(t, &e);
    return e.id;
}

static int olsim_event_time_cmp(const void *a, const void *b)
{
    const struct olsim_event *x = a;
    const struct olsim_event *y = b;

    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    if (x->seed != y->seed)
        return x->seed < y->seed ? -1 : 1;
    return (x->user > y->user) - (x->user < y->user);
}

/* Appends one pre-generated event (no id, no index yet). */
static void olsim_pregen_push(struct olsim_tenant *t, struct olsim_rng *rng, int type,
                              uint32_t user, int has_ip, uint32_t ip, int64_t created)
{
    struct olsim_ev_spec spec;

    spec.type = type;
    spec.user = user;
    spec.has_ip = has_ip;
    spec.ip = ip;
    spec.created_ms = created;
    olsim_event_make(t, rng, &spec, 0, &t->ev[t->nev]);
    t->nev++;
}

static uint32_t olsim_live_user(struct olsim_tenant *t)
{
    return olsim_random_user(t, &t->rng, 1);
}

static int64_t olsim_scenario_start(struct olsim_tenant *t, int64_t now, int64_t span,
                                    int64_t need)
{
    int64_t room = span - need - 1000;

    if (room <= 0)
        return now - span;
    return now - span + (int64_t)(olsim_rng_unit(&t->rng) * (double)room);
}

static size_t olsim_scenario_size(const char *name)
{
    if (strcmp(name, "bruteforce") == 0)
        return 12;
    if (strcmp(name, "spray") == 0)
        return 15;
    if (strcmp(name, "mfa_fatigue") == 0)
        return 8;
    if (strcmp(name, "superuser") == 0)
        return 1;
    if (strcmp(name, "privilege") == 0)
        return 2;
    return 0;
}

static void olsim_scenario_run(struct olsim_tenant *t, const char *name, int64_t now,
                               int64_t span)
{
    struct olsim_rng *rng = &t->rng;
    uint32_t ip = olsim_random_ip(rng);
    uint32_t u = olsim_live_user(t);
    int64_t t0;
    size_t i;

    if (strcmp(name, "bruteforce") == 0) {
        t0 = olsim_scenario_start(t, now, span, 120000);
        for (i = 0; i < 12; i++) {
            olsim_pregen_push(t, rng, 6, u, 1, ip, t0);
            t0 += 1000 + olsim_rng_below(rng, 9000);
        }
    } else if (strcmp(name, "spray") == 0) {
        uint32_t start = olsim_rng_below(rng, (uint32_t)t->nusers);

        t0 = olsim_scenario_start(t, now, span, 300000);
        for (i = 0; i < 15; i++) {
            uint32_t v = (uint32_t)((start + i) % t->nusers);

            olsim_pregen_push(t, rng, 6, v, 1, ip, t0);
            t0 += 1000 + olsim_rng_below(rng, 19000);
        }
    } else if (strcmp(name, "mfa_fatigue") == 0) {
        t0 = olsim_scenario_start(t, now, span, 180000);
        for (i = 0; i < 8; i++) {
            olsim_pregen_push(t, rng, 950, u, 1, ip, t0);
            t0 += 1000 + olsim_rng_below(rng, 19000);
        }
    } else if (strcmp(name, "superuser") == 0) {
        t0 = olsim_scenario_start(t, now, span, 1000);
        olsim_pregen_push(t, rng, 72, u, 0, 0, t0);
        t->ev[t->nev - 1].flags |= OLSIM_FLAG_SUPERUSER;
    } else if (strcmp(name, "privilege") == 0) {
        t0 = olsim_scenario_start(t, now, span, 600000);
        olsim_pregen_push(t, rng, 4, u, 0, 0, t0);
        if (t->nroles > 1)
            t->ev[t->nev - 1].role = 1;
        olsim_pregen_push(t, rng, 148, u, 0, 0,
                          t0 + 60000 + olsim_rng_below(rng, 500000));
        if (t->nroles > 1)
            t->ev[t->nev - 1].role = 1;
    }
}

static int olsim_pregenerate(struct olsim_tenant *t, const struct olsim_tenant_opts *o,
                             char *err, size_t errsz)
{
    struct olsim_rng *rng = &t->rng;
    int64_t lo = o->now_ms - o->span_ms;
    int64_t width = o->span_ms - 1000;
    size_t total = o->events;
    size_t i;

    for (i = 0; i < o->nscenarios; i++) {
        size_t n = olsim_scenario_size(o->scenarios[i]);

        if (n == 0) {
            snprintf(err, errsz, "unknown scenario '%s'", o->scenarios[i]);
            return -1;
        }
        total += n;
    }
    if (width < 1)
        width = 1;
    if (olsim_store_reserve(t, total ? total : 1) < 0)
        goto oom;
    while (t->nev < o->events) {
        int64_t c = lo + (int64_t)(olsim_rng_unit(rng) * (double)width);
        uint32_t u = olsim_random_user(t, rng, 0);
        size_t burst = 0;

        olsim_pregen_push(t, rng, -1, u, 0, 0, c);
        /* Some activity comes in bursts: a login followed by app logins. */
        if (olsim_rng_below(rng, 30) == 0)
            burst = 2 + olsim_rng_below(rng, 6);
        while (burst-- > 0 && t->nev < o->events) {
            c += 200 + olsim_rng_below(rng, 20000);
            if (c > o->now_ms - 1000)
                c = o->now_ms - 1000;
            olsim_pregen_push(t, rng, olsim_rng_below(rng, 3) ? 8 : 5, u, 0, 0, c);
        }
    }
    for (i = 0; i < o->nscenarios; i++)
        olsim_scenario_run(t, o->scenarios[i], o->now_ms, o->span_ms);
    qsort(t->ev, t->nev, sizeof(*t->ev), olsim_event_time_cmp);
    t->last_id = 100000000 + t->id_offset;
    for (i = 0; i < t->nev; i++) {
        t->last_id += 1 + olsim_rng_below(rng, 3);
        t->ev[i].id = t->last_id;
        t->tix[i] = (uint32_t)i;
        olsim_block_note(t, i);
    }
    return 0;
oom:
    snprintf(err, errsz, "out of memory for %zu events", total);
    return -1;
}

struct olsim_tenant *olsim_tenant_new(const struct olsim_tenant_opts *o, char *err,
                                      size_t errsz)
{
    struct olsim_tenant *t = calloc(1, sizeof(*t));
    uint64_t cid;

    if (!t) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    olsim_rng_seed(&t->rng, o->seed);
    t->id_offset = o->id_offset;
    t->account_id = 100000 + (int64_t)olsim_rng_below(&t->rng, 900000);
    cid = olsim_rng_next(&t->rng);
    snprintf(t->client_id, sizeof(t->client_id), "%016llx%016llx",
             (unsigned long long)cid, (unsigned long long)olsim_mix(cid));
    if (o->users == 0) {
        snprintf(err, errsz, "a tenant needs at least one user");
        goto fail;
    }
    if (o->catalog_from) {
        t->types = o->catalog_from->types;
        t->ntypes = o->catalog_from->ntypes;
        t->types_borrowed = 1;
    } else if (olsim_catalog_load(t, o->catalog, err, errsz) < 0) {
        goto fail;
    }
    if (olsim_type_lists(t) < 0 || olsim_roles_apps_make(t, o->roles, o->apps) < 0 ||
        olsim_users_make(t, o->users, o->now_ms) < 0) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if (olsim_pregenerate(t, o, err, errsz) < 0)
        goto fail;
    return t;
fail:
    olsim_tenant_free(t);
    return NULL;
}

void olsim_tenant_free(struct olsim_tenant *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; !t->types_borrowed && i < t->ntypes; i++) {
        free(t->types[i].name);
        free(t->types[i].desc);
    }
    if (!t->types_borrowed)
        free(t->types);
    free(t->users);
    free(t->admins);
    free(t->roles);
    free(t->app_ids);
    free(t->mfa_types);
    free(t->other_types);
    free(t->ev);
    free(t->tix);
    free(t->blk);
    free(t);
}
