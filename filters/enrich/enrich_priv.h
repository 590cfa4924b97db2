/*
 * enrich_priv.h - what the enricher's files share: the enricher itself,
 * cache values, the page table and the helpers between them.
 *
 * Not for use outside filters/enrich: enrich.h is the interface.
 */
#ifndef OLA_ENRICH_PRIV_H
#define OLA_ENRICH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/backoff.h"
#include "filters/enrich/cache.h"
#include "filters/enrich/enrich.h"
#include "filters/enrich/record.h"
#include "agent/core/slab.h"

#define OLA_EN_COMP "enrich"

#define OLA_K_USER       0u /* cache and page keys: id << 2 | kind */
#define OLA_K_ROLE       1u
#define OLA_K_USER_ROLES 2u /* page only: GET /api/1/users/:id/roles */

#define OLA_EN_PAUSE_MIN_MS  5000
#define OLA_EN_PAUSE_MAX_MS  300000
#define OLA_EN_TYPES_TTL_MS  (24 * 3600 * INT64_C(1000)) /* the docs: cache up to 24 h */
#define OLA_EN_TYPES_GAP_MS  (10 * 60 * INT64_C(1000))   /* fetches at most this often */
#define OLA_EN_TYPES_WAIT_MS 60000                       /* after a failed fetch */
#define OLA_EN_MAX_ROUNDS    3 /* users; their role lists; the roles' names */
#define OLA_EN_ID_MAX        (INT64_MAX >> 3)
#ifndef OLA_EN_HOT_MAX
#define OLA_EN_HOT_MAX 4096 /* trees kept built between pages (vals.c) */
#endif
#define OLA_EN_CHANGE_MARGIN_MS 10000 /* a change this close to a fetch evicts anyway */

/* A user's role: its id, and its name as the user's last build found it. */
struct ola_urole {
    int64_t id;
    /* a reference; NULL: no name (roles off, a 404, not fetched): {id} only;
       OLA_NAME_NULL: the role's name is null */
    struct ola_istr *name;
};

/* The name of a role whose name is null (compared by address, never written). */
extern struct ola_istr ola_en_null_name;
#define OLA_NAME_NULL (&ola_en_null_name)

/*
 * A cache value: a user or a role, shared by the cache, the page table and
 * the hot list, in one allocation (record.c has the why). A user is the byte
 * code of its facts (record.h) and its roles; a role its id and name. The
 * tree events get (olagent.user: facts + roles [{id, name}]; olagent.role:
 * {id, name}) is built from that on first use and kept while hot, in the
 * enricher's hot array (vals.c): what only a hot value needs lives there, so
 * the thousands of values at rest are a 40-byte header and their code.
 */
struct ola_val {
    uint32_t refs;
    uint32_t size;      /* bytes of the allocation */
    uint32_t hot;       /* its place in the enricher's hot array + 1; 0: no tree */
    unsigned char kind; /* OLA_K_USER or OLA_K_ROLE */
    /* OLA_PG_OK, OLA_PG_DEFERRED or OLA_PG_FAILED (the failed lookup: in the
       user's page entry, ola_pg_ent.lookup) */
    unsigned char roles_state;
    bool roles_known; /* the answer said which roles the user holds */
    bool in_slab;     /* cut from the enricher's slab, else malloc'd */
    /*
     * When a user's roles were named (ola_user_current): the role generation,
     * all of them named; OLA_BUILT_PAGE | the page, some not; 0: name them again.
     */
    uint64_t built;
    union {
        struct { /* a user */
            /* n_roles, in the answer's order: after the code, or (set again by a
               user-roles answer) an allocation of its own */
            struct ola_urole *roles;
            uint32_t n_roles;
            uint32_t code_len;
        };
        struct { /* a role */
            int64_t id;
            struct ola_istr *name; /* a reference, or OLA_NAME_NULL */
        };
    };
    unsigned char code[]; /* user: the facts' code, then roles inline */
};

#define OLA_BUILT_PAGE (UINT64_C(1) << 63)

/* A tree while hot: the value (a reference), its tree, the page that last used it. */
struct ola_hot {
    struct ola_val *val;
    json_t *tree;
    uint64_t page;
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
    /* index in lk while pending / for its reason; an OK user's: the lookup of
       the role that failed to name its roles (attach.c) */
    uint32_t lookup;
    struct ola_val *val; /* a reference (OK; for USER_ROLES: the user to complete) */
};

struct ola_enricher {
    struct ola_enrich_settings o;
    struct ola_enrich_api api;
    struct ola_cache *cache;
    uint64_t role_gen; /* moves each time a role is fetched */
    uint64_t page;     /* batches seen */
    /* the page table */
    struct ola_pg_ent *pg;
    size_t pg_cap;   /* power of two */
    size_t *pg_used; /* slots in use, in insertion order */
    size_t pg_n;
    /* the page's lookups */
    struct ola_enrich_get *lk;
    char (*lk_path)[64];
    size_t *lk_slot;  /* the page slot each lookup answers */
    void *lk_scratch; /* api.scratch_size bytes per lookup, for api.get_many */
    size_t lk_n, lk_cap, lk_path_cap, lk_slot_cap, lk_scratch_cap;
    /* strings users and roles share (record.h) */
    struct ola_intern intern;
    struct ola_buf code;  /* scratch for a user's code */
    struct ola_slab slab; /* where values live (slab.h) */
    /* values whose trees are built, in no order */
    struct ola_hot *hot;
    size_t hot_n, hot_cap;
    struct ola_arena
        *hot_arena; /* where the hot trees live (vals.c), made on first use */
    /* failures and deferrals */
    int64_t pause_until_ms;
    struct ola_backoff pause; /* its ceiling: 5 s doubling to 5 min */
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

static inline uint64_t ola_key(int64_t id, unsigned kind)
{
    return ((uint64_t)id << 2) | kind;
}

static inline int64_t ola_key_id(uint64_t key)
{
    return (int64_t)(key >> 2);
}

static inline unsigned ola_key_kind(uint64_t key)
{
    return (unsigned)(key & 3u);
}

/* True when u's roles were named and no role was fetched since (role_gen >= 1). */
static inline bool ola_user_current(const struct ola_enricher *en,
                                    const struct ola_val *u)
{
    return u->built == en->role_gen;
}

/* True when u's roles were named during the current page, some of them not. */
static inline bool ola_user_tried(const struct ola_enricher *en, const struct ola_val *u)
{
    return u->built == (OLA_BUILT_PAGE | en->page);
}

/* ---- between the files ------------------------------------------------------ */

/* vals.c: users and roles, their trees while hot */
/* A user from its facts (read, not kept) and role ids (copied); NULL on failure. */
struct ola_val *ola_en_user_new(struct ola_enricher *en, json_t *facts,
                                const int64_t *role_ids, size_t n, bool roles_known);
/* A role; name: a string or null (borrowed). NULL on ENOMEM. */
struct ola_val *ola_en_role_new(struct ola_enricher *en, int64_t id, const json_t *name);
/* Replaces u's role ids (copied); their names are unknown until the next build. */
int ola_en_user_set_roles(struct ola_val *u, const int64_t *ids, size_t n);
struct ola_val *ola_en_val_ref(struct ola_val *v);
void ola_en_val_unref(struct ola_enricher *en, struct ola_val *v); /* v NULL: a no-op */
/*
 * v's tree (borrowed; built now if not hot), made most recently used; NULL:
 * ENOMEM. A user's tree takes the trees of its roles whose values (page or
 * cache at now) still have the names it was built with.
 */
json_t *ola_en_val_json(struct ola_enricher *en, struct ola_val *v, int64_t now);
/* The role value of id: from the page, else the cache; NULL if neither has it
   (*gone: it is known not to exist). */
struct ola_val *ola_en_role_of(const struct ola_enricher *en, int64_t id, int64_t now,
                               bool *gone);
/* Moves the cache's values to fresh chunks when the slab is sparse (at rest). */
void ola_en_compact(struct ola_enricher *en);
/* Forgets v's tree: its content changes. */
void ola_en_val_cool(struct ola_enricher *en, struct ola_val *v);
/*
 * Keeps at most keep trees built: over it, the least recently used go until
 * three quarters of keep are left (keep 0: all go).
 */
void ola_en_hot_bound(struct ola_enricher *en, size_t keep);

/* enrich.c: the page table */
struct ola_pg_ent *ola_en_pg_find(const struct ola_enricher *en, uint64_t key);
int64_t ola_en_event_id_of(const struct ola_event *e, const char *key);

/* lookups.c: sending lookups and reading the answers */
void ola_en_fetch(struct ola_enricher *en, size_t from, int64_t now);

/* event_types.c */
void ola_en_types(struct ola_enricher *en, struct ola_batch *b,
                  const struct ola_enrich_types *types, int64_t now);

/* attach.c: the page's facts into one event */
int ola_en_attach(struct ola_enricher *en, struct ola_event *e, int64_t now);

#endif
