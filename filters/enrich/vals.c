/*
 * vals.c - the enricher's cache values: users and roles as compact records,
 * and the trees built from them while they are hot.
 *
 * A value is one allocation: a user is the byte code of its facts
 * (record.c) followed by its roles ({id, name}, the names shared strings),
 * a role its id and name. Events need Jansson trees (olagent.user, actor,
 * role), and the json format dumps a tree once and copies its text for the
 * next events that hold the same tree (format_json.c, a memo keyed by the
 * tree's address). So a value's tree is built on first use and kept while
 * hot: in an array of {a reference to the value, its tree, the page that last
 * used it} (a use costs one store, no list to reorder); the value knows only
 * its place there, so a value at rest carries nothing for its tree. After a
 * page that leaves more than OLA_EN_HOT_MAX trees, the least recently used
 * go until three quarters are left (sorting the stamps: rare, and never
 * while the users in play fit); the enricher's trim (the agent going idle)
 * empties it, so at rest only the records remain. A user's tree takes its
 * roles' own trees while they still carry the names it was built with. A user whose roles
 * are named again (a role was fetched) loses its tree: the next use builds the new one,
 * at a new address.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/core/arena.h"
#include "agent/core/vec.h"
#include "filters/enrich/enrich_priv.h"

struct ola_istr ola_en_null_name;

/* What a value at rest costs besides its code: 1,750 users a tenant are 70 KB. */
_Static_assert(sizeof(struct ola_val) <= 40, "struct ola_val grew");

static bool ola_is_name(const struct ola_istr *s)
{
    return s != NULL && s != OLA_NAME_NULL;
}

/* Where a user's inline roles start: after the code, aligned. */
static size_t ola_roles_at(size_t code_len)
{
    size_t a = _Alignof(struct ola_urole);

    return offsetof(struct ola_val, code) + (code_len + a - 1) / a * a;
}

/* True when u's roles are an allocation of their own (set again), not inline. */
static bool ola_roles_own(const struct ola_val *u)
{
    return u->roles != NULL &&
           (const char *)u->roles != (const char *)u + ola_roles_at(u->code_len);
}

struct ola_val *ola_en_user_new(struct ola_enricher *en, json_t *facts,
                                const int64_t *role_ids, size_t n, bool roles_known)
{
    struct ola_val *v;
    size_t at, i;
    bool in_slab;

    if (n > UINT32_MAX || ola_urec_encode(&en->intern, facts, &en->code) != 0)
        return NULL;
    if (en->code.len > UINT32_MAX)
        goto fail;
    at = ola_roles_at(en->code.len);
    if (at + n * sizeof(struct ola_urole) > UINT32_MAX)
        goto fail;
    v = ola_slab_alloc(&en->slab, at + n * sizeof(struct ola_urole), &in_slab);
    if (v == NULL)
        goto fail;
    v->in_slab = in_slab;
    v->size = (uint32_t)(at + n * sizeof(struct ola_urole));
    v->refs = 1;
    v->kind = OLA_K_USER;
    v->roles_known = roles_known;
    v->code_len = (uint32_t)en->code.len;
    memcpy(v->code, en->code.data, en->code.len);
    v->n_roles = (uint32_t)n;
    v->roles = n > 0 ? (struct ola_urole *)(void *)((char *)v + at) : NULL;
    for (i = 0; i < n; i++)
        v->roles[i].id = role_ids[i];
    ola_buf_reset(&en->code);
    return v;
fail:
    ola_urec_release(&en->intern, (const unsigned char *)en->code.data, en->code.len);
    ola_buf_reset(&en->code);
    return NULL;
}

struct ola_val *ola_en_role_new(struct ola_enricher *en, int64_t id, const json_t *name)
{
    bool in_slab;
    struct ola_val *v = ola_slab_alloc(&en->slab, sizeof(*v), &in_slab);

    if (v == NULL)
        return NULL;
    v->in_slab = in_slab;
    v->size = sizeof(*v);
    v->refs = 1;
    v->kind = OLA_K_ROLE;
    v->id = id;
    v->name = json_is_string(name) ? ola_intern_get(&en->intern, json_string_value(name),
                                                    json_string_length(name))
                                   : OLA_NAME_NULL;
    if (v->name == NULL) {
        ola_en_val_unref(en, v);
        return NULL;
    }
    return v;
}

static void ola_roles_release(struct ola_val *u)
{
    size_t i;

    for (i = 0; i < u->n_roles; i++)
        if (ola_is_name(u->roles[i].name))
            ola_istr_unref(u->roles[i].name);
    if (ola_roles_own(u))
        free(u->roles);
    u->roles = NULL;
    u->n_roles = 0;
}

int ola_en_user_set_roles(struct ola_val *u, const int64_t *ids, size_t n)
{
    struct ola_urole *r = NULL;
    size_t i;

    if (n > UINT32_MAX || (n > 0 && (r = calloc(n, sizeof(*r))) == NULL))
        return -1;
    for (i = 0; i < n; i++)
        r[i].id = ids[i];
    ola_roles_release(u);
    u->roles = r; /* NULL when none: never taken for inline ones */
    u->n_roles = (uint32_t)n;
    return 0;
}

struct ola_val *ola_en_val_ref(struct ola_val *v)
{
    v->refs++;
    return v;
}

void ola_en_val_unref(struct ola_enricher *en, struct ola_val *v)
{
    if (v == NULL || --v->refs > 0)
        return;
    /* not hot: the hot array holds a reference */
    if (v->kind == OLA_K_USER) {
        ola_urec_release(&en->intern, v->code, v->code_len);
        ola_roles_release(v);
    } else if (ola_is_name(v->name)) {
        ola_istr_unref(v->name);
    }
    if (v->in_slab)
        ola_slab_free(v, v->size);
    else
        free(v);
}

/* A cache value moved to the slab's current chunk; v itself when it stays. */
static void *ola_val_move(void *p, void *ctx)
{
    struct ola_enricher *en = ctx;
    struct ola_val *v = p, *n;
    bool in_slab;

    /* held by the cache alone (no page, no tree): nobody else has its address */
    if (!v->in_slab || v->refs != 1 || v->hot != 0)
        return v;
    n = ola_slab_alloc(&en->slab, v->size, &in_slab);
    if (n == NULL)
        return v;
    if (!in_slab) {
        free(n);
        return v;
    }
    memcpy(n, v, v->size);
    n->in_slab = true;
    if (v->kind == OLA_K_USER && v->roles != NULL && !ola_roles_own(v))
        n->roles =
            (struct ola_urole *)(void *)((char *)n + ((char *)v->roles - (char *)v));
    ola_slab_free(v, v->size);
    return n;
}

void ola_en_compact(struct ola_enricher *en)
{
    if (!ola_slab_sparse_at_rest(&en->slab)) /* at rest only (ola_enricher_trim) */
        return;
    ola_slab_fresh(&en->slab);
    ola_cache_remap(en->cache, ola_val_move, en);
}

/* ---- trees --------------------------------------------------------------------- */

struct ola_val *ola_en_role_of(const struct ola_enricher *en, int64_t id, int64_t now,
                               bool *gone)
{
    uint64_t key = ola_key(id, OLA_K_ROLE);
    const struct ola_pg_ent *r = ola_en_pg_find(en, key);
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

static json_t *ola_name_json(const struct ola_istr *name)
{
    return name == OLA_NAME_NULL ? json_null() : json_stringn_nocheck(name->s, name->len);
}

/*
 * A named role of a user's tree: the role's own tree when its value still
 * has the name u was built with (the same shared string), else its own.
 */
static json_t *ola_role_item(struct ola_enricher *en, const struct ola_urole *ur,
                             int64_t now)
{
    struct ola_val *r = NULL;
    json_t *item;
    bool gone;

    if (ur->id > 0 && ur->id <= OLA_EN_ID_MAX)
        r = ola_en_role_of(en, ur->id, now, &gone);
    if (r != NULL && r->name == ur->name) {
        item = ola_en_val_json(en, r, now);
        return item != NULL ? json_incref(item) : NULL;
    }
    item = json_object();
    if (item == NULL ||
        json_object_set_new_nocheck(item, "id", json_integer(ur->id)) != 0 ||
        json_object_set_new_nocheck(item, "name", ola_name_json(ur->name)) != 0) {
        json_decref(item);
        return NULL;
    }
    return item;
}

/* olagent.user: the facts, then roles [{id, name}] (null when unknown). */
static json_t *ola_user_tree(struct ola_enricher *en, const struct ola_val *u,
                             int64_t now)
{
    json_t *o = ola_urec_decode(&en->intern, u->code, u->code_len), *roles = NULL, *item;
    size_t i;

    if (o == NULL)
        return NULL;
    if (!u->roles_known) {
        if (json_object_set_new_nocheck(o, "roles", json_null()) != 0)
            goto fail;
        return o;
    }
    roles = json_array();
    if (roles == NULL)
        goto fail;
    for (i = 0; i < u->n_roles; i++) {
        if (u->roles[i].name != NULL)
            item = ola_role_item(en, &u->roles[i], now);
        else
            item = json_pack("{s:I}", "id", (json_int_t)u->roles[i].id);
        if (json_array_append_new(roles, item) != 0)
            goto fail;
    }
    if (json_object_set_new_nocheck(o, "roles", roles) != 0) {
        roles = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(roles);
    json_decref(o);
    return NULL;
}

/* olagent.role: {id, name}. */
static json_t *ola_role_tree(const struct ola_val *r)
{
    json_t *o = json_object();

    if (o == NULL || json_object_set_new_nocheck(o, "id", json_integer(r->id)) != 0 ||
        json_object_set_new_nocheck(o, "name", ola_name_json(r->name)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ola_en_val_json(struct ola_enricher *en, struct ola_val *v, int64_t now)
{
    struct ola_arena *prev;
    json_t *t;

    if (v->hot != 0) {
        en->hot[v->hot - 1].page = en->page;
        return en->hot[v->hot - 1].tree;
    }
    /* kept while hot, past the batch: not the batch's arena, nor the heap, where a
     * backfill's thousands of trees, built and cooled between its pages, would leave
     * the few objects that last (a tenant's caches, libcurl's) scattered over pages
     * the heap can then not give back */
    if (en->hot_arena == NULL)
        en->hot_arena = ola_arena_new_lasting(); /* NULL (no memory): the heap */
    prev = ola_arena_enter(en->hot_arena);
    t = v->kind == OLA_K_USER ? ola_user_tree(en, v, now) : ola_role_tree(v);
    ola_arena_leave(prev);
    if (t == NULL)
        return NULL;
    /* room for v's slot after the tree: a user's tree makes its roles hot first */
    if (en->hot_n >= UINT32_MAX ||
        OLA_VEC_GROW_FROM(en->hot, en->hot_cap, en->hot_n + 1, 256) != 0) {
        json_decref(t);
        return NULL;
    }
    en->hot[en->hot_n].val = ola_en_val_ref(v);
    en->hot[en->hot_n].tree = t;
    en->hot[en->hot_n].page = en->page;
    v->hot = (uint32_t)++en->hot_n;
    return t;
}

void ola_en_val_cool(struct ola_enricher *en, struct ola_val *v)
{
    struct ola_hot *h;

    if (v->hot == 0)
        return;
    h = &en->hot[v->hot - 1];
    json_decref(h->tree); /* events that hold it keep their references */
    *h = en->hot[--en->hot_n];
    h->val->hot = v->hot; /* the last one moved into v's place (or v itself) */
    v->hot = 0;
    ola_en_val_unref(en, v);
}

static int ola_page_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

void ola_en_hot_bound(struct ola_enricher *en, size_t keep)
{
    size_t target = keep / 4 * 3, cool, i;
    uint64_t *pages, cut;

    if (en->hot_n <= keep)
        return;
    cool = en->hot_n - target;
    pages = keep > 0 ? malloc(en->hot_n * sizeof(*pages)) : NULL;
    if (pages == NULL) {
        /* all of them (asked, or no room to choose) */
        while (en->hot_n > 0)
            ola_en_val_cool(en, en->hot[en->hot_n - 1].val);
        free(en->hot);
        en->hot = NULL;
        en->hot_cap = 0;
        return;
    }
    /* the cool oldest: pages below the cut, then as many at the cut as needed */
    for (i = 0; i < en->hot_n; i++)
        pages[i] = en->hot[i].page;
    qsort(pages, en->hot_n, sizeof(*pages), ola_page_cmp);
    cut = pages[cool - 1];
    free(pages);
    for (i = en->hot_n; i-- > 0 && cool > 0;) {
        if (i < en->hot_n && en->hot[i].page < cut) {
            ola_en_val_cool(en, en->hot[i].val);
            cool--;
        }
    }
    for (i = en->hot_n; i-- > 0 && cool > 0;) {
        if (i < en->hot_n && en->hot[i].page == cut) {
            ola_en_val_cool(en, en->hot[i].val);
            cool--;
        }
    }
}
