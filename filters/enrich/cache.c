/*
 * cache.c - bounded LRU + TTL cache with negative entries.
 *
 * Entries sit in a chained hash table (power-of-two buckets, doubled when the
 * table holds more entries than buckets, so chains stay short) and on one
 * doubly linked list in recency order: a hit moves the entry to the front, a
 * put into a full cache evicts the entry at the back. Expiry is lazy: an
 * entry whose time is up is dropped when it is looked up, or when it reaches
 * the back of the list and is evicted first. Memory is one small node per
 * entry, cut from blocks of 16 KB that stay until the cache goes, plus the
 * buckets; blocks and buckets are mapped apart from the heap
 * (ola_pages_alloc), so that what a backfill adds to them never pins the
 * heap pages its trees used. The values are the caller's, released through
 * free_val whenever an entry leaves.
 *
 * What the enricher keeps here (vals.c, record.c): compact records, not
 * Jansson trees. A user is one allocation, the byte code of its facts and
 * its roles, with department, title, status and state names, custom
 * attribute keys and role names in a per-enricher table of refcounted
 * strings; a role is its id and name. The tree an event gets is built from
 * the record on first use and kept while hot (at most OLA_EN_HOT_MAX,
 * least recently used first to go, all of them at the enricher's trim when
 * the agent goes idle), so a burst builds and dumps each user once, as the
 * trees cached for good did, and at rest only the records remain.
 * Measured (ola_enrich_bench, 2,000 users, 100k events; ola_idle figures in
 * the branch's report): the warm cache held 3013 heap bytes per entry as
 * trees, 404 as records; the warm enrichment step stayed at 1.7-2.2
 * us/event either way. The hot list is an array stamped with the page of
 * last use (a list reordered on every use cost about 0.4 us/event), and
 * the records live in the enricher's own chunks (slab.c), cache nodes in
 * blocks, so that freeing the trees at rest frees whole heap pages.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/core/slab.h"
#include "filters/enrich/cache.h"

struct ola_cache_ent {
    uint64_t key;
    void *val; /* NULL: a negative entry */
    int64_t expires_ms;
    struct ola_cache_ent *hnext; /* bucket chain */
    struct ola_cache_ent *prev;  /* towards the most recently used */
    struct ola_cache_ent *next;  /* towards the least recently used */
};

/* Entries are cut from blocks of four pages, kept together (not strewn among
 * the values). */
#define OLA_CACHE_BLOCK                                                                  \
    ((16384 - sizeof(struct ola_cache_block_head)) / sizeof(struct ola_cache_ent))

struct ola_cache_block_head {
    struct ola_cache_block *next;
};

struct ola_cache_block {
    struct ola_cache_block *next;
    struct ola_cache_ent ent[OLA_CACHE_BLOCK];
};

struct ola_cache {
    struct ola_cache_opts o;
    struct ola_cache_block *blocks;
    struct ola_cache_ent *spare; /* free entries, chained by hnext */
    struct ola_cache_ent **buckets;
    size_t n_buckets; /* power of two */
    size_t n;
    struct ola_cache_ent *head; /* most recently used */
    struct ola_cache_ent *tail; /* least recently used */
    struct ola_cache_stats st;
};

#define OLA_CACHE_MIN_BUCKETS 64

static size_t ola_cache_slot(const struct ola_cache *c, uint64_t key)
{
    /* splitmix64's finalizer: ids that differ in low bits spread out */
    key ^= key >> 30;
    key *= UINT64_C(0xbf58476d1ce4e5b9);
    key ^= key >> 27;
    key *= UINT64_C(0x94d049bb133111eb);
    key ^= key >> 31;
    return (size_t)key & (c->n_buckets - 1);
}

struct ola_cache *ola_cache_new(const struct ola_cache_opts *opts)
{
    struct ola_cache *c;

    if (opts == NULL || opts->max_entries == 0 || opts->ttl_ms <= 0 ||
        opts->negative_ttl_ms < 0)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->o = *opts;
    c->n_buckets = OLA_CACHE_MIN_BUCKETS;
    c->buckets = ola_pages_alloc(c->n_buckets * sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

/* A zeroed entry from the spare ones (a new block when none); NULL on ENOMEM. */
static struct ola_cache_ent *ola_cache_ent_new(struct ola_cache *c)
{
    struct ola_cache_ent *e;
    size_t i;

    if (c->spare == NULL) {
        struct ola_cache_block *b = ola_pages_alloc(sizeof(*b));

        if (b == NULL)
            return NULL;
        b->next = c->blocks;
        c->blocks = b;
        for (i = 0; i < OLA_CACHE_BLOCK; i++) {
            b->ent[i].hnext = c->spare;
            c->spare = &b->ent[i];
        }
    }
    e = c->spare;
    c->spare = e->hnext;
    memset(e, 0, sizeof(*e));
    return e;
}

static void ola_cache_ent_free(struct ola_cache *c, struct ola_cache_ent *e)
{
    e->hnext = c->spare;
    c->spare = e;
}

static void ola_cache_release(struct ola_cache *c, struct ola_cache_ent *e)
{
    if (e->val != NULL && c->o.free_val != NULL)
        c->o.free_val(c->o.ctx, e->key, e->val);
    e->val = NULL;
}

void ola_cache_destroy(struct ola_cache *c)
{
    struct ola_cache_ent *e, *next;
    struct ola_cache_block *b;

    if (c == NULL)
        return;
    for (e = c->head; e != NULL; e = next) {
        next = e->next;
        ola_cache_release(c, e);
    }
    while ((b = c->blocks) != NULL) {
        c->blocks = b->next;
        ola_pages_free(b, sizeof(*b));
    }
    ola_pages_free(c->buckets, c->n_buckets * sizeof(*c->buckets));
    free(c);
}

static struct ola_cache_ent *ola_cache_find(const struct ola_cache *c, uint64_t key)
{
    struct ola_cache_ent *e = c->buckets[ola_cache_slot(c, key)];

    while (e != NULL && e->key != key)
        e = e->hnext;
    return e;
}

static void ola_cache_unlink(struct ola_cache *c, struct ola_cache_ent *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void ola_cache_push_front(struct ola_cache *c, struct ola_cache_ent *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head != NULL)
        c->head->prev = e;
    c->head = e;
    if (c->tail == NULL)
        c->tail = e;
}

/* Takes e out of the table and the list, releases its value, frees it. */
static void ola_cache_drop(struct ola_cache *c, struct ola_cache_ent *e)
{
    struct ola_cache_ent **pp = &c->buckets[ola_cache_slot(c, e->key)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    ola_cache_unlink(c, e);
    ola_cache_release(c, e);
    ola_cache_ent_free(c, e);
    c->n--;
}

/* Doubles the buckets when the table holds more entries than buckets. */
static void ola_cache_grow(struct ola_cache *c)
{
    struct ola_cache_ent **old = c->buckets, **nb, *e, *next;
    size_t old_n = c->n_buckets, i;

    if (c->n < c->n_buckets)
        return;
    nb = ola_pages_alloc(old_n * 2 * sizeof(*nb));
    if (nb == NULL)
        return; /* longer chains, still correct */
    c->buckets = nb;
    c->n_buckets = old_n * 2;
    for (i = 0; i < old_n; i++) {
        for (e = old[i]; e != NULL; e = next) {
            size_t s = ola_cache_slot(c, e->key);

            next = e->hnext;
            e->hnext = nb[s];
            nb[s] = e;
        }
    }
    ola_pages_free(old, old_n * sizeof(*old));
}

enum ola_cache_result ola_cache_get(struct ola_cache *c, uint64_t key, int64_t now_ms,
                                    void **val)
{
    struct ola_cache_ent *e = ola_cache_find(c, key);

    *val = NULL;
    if (e == NULL) {
        c->st.misses++;
        return OLA_CACHE_MISS;
    }
    if (now_ms >= e->expires_ms) {
        c->st.expired++;
        c->st.misses++;
        ola_cache_drop(c, e);
        return OLA_CACHE_MISS;
    }
    if (e != c->head) {
        ola_cache_unlink(c, e);
        ola_cache_push_front(c, e);
    }
    if (e->val == NULL) {
        c->st.negative_hits++;
        return OLA_CACHE_NEGATIVE;
    }
    c->st.hits++;
    *val = e->val;
    return OLA_CACHE_HIT;
}

enum ola_cache_result ola_cache_peek(const struct ola_cache *c, uint64_t key,
                                     int64_t now_ms, void **val)
{
    const struct ola_cache_ent *e = ola_cache_find(c, key);

    *val = NULL;
    if (e == NULL || now_ms >= e->expires_ms)
        return OLA_CACHE_MISS;
    if (e->val == NULL)
        return OLA_CACHE_NEGATIVE;
    *val = e->val;
    return OLA_CACHE_HIT;
}

int64_t ola_cache_stored_at(const struct ola_cache *c, uint64_t key, int64_t now_ms)
{
    const struct ola_cache_ent *e = ola_cache_find(c, key);

    if (e == NULL || now_ms >= e->expires_ms)
        return -1;
    return e->expires_ms - (e->val == NULL ? c->o.negative_ttl_ms : c->o.ttl_ms);
}

/* Stores key (val NULL: negative) from now_ms on; val is owned from the call on. */
static int ola_cache_store(struct ola_cache *c, uint64_t key, void *val, int64_t now_ms)
{
    struct ola_cache_ent *e = ola_cache_find(c, key);
    int64_t expires_ms = now_ms + (val == NULL ? c->o.negative_ttl_ms : c->o.ttl_ms);
    size_t s;

    if (e != NULL) {
        ola_cache_release(c, e);
        e->val = val;
        e->expires_ms = expires_ms;
        if (e != c->head) {
            ola_cache_unlink(c, e);
            ola_cache_push_front(c, e);
        }
        c->st.inserts++;
        return 0;
    }
    while (c->n >= c->o.max_entries && c->tail != NULL) {
        if (c->tail->expires_ms <= now_ms)
            c->st.expired++; /* already dead: dropping it is no eviction */
        else
            c->st.evicted++;
        ola_cache_drop(c, c->tail);
    }
    e = ola_cache_ent_new(c);
    if (e == NULL) {
        if (val != NULL && c->o.free_val != NULL)
            c->o.free_val(c->o.ctx, key, val);
        return -1;
    }
    e->key = key;
    e->val = val;
    e->expires_ms = expires_ms;
    ola_cache_grow(c);
    s = ola_cache_slot(c, key);
    e->hnext = c->buckets[s];
    c->buckets[s] = e;
    ola_cache_push_front(c, e);
    c->n++;
    c->st.inserts++;
    if (c->n > c->st.peak)
        c->st.peak = c->n;
    return 0;
}

int ola_cache_put(struct ola_cache *c, uint64_t key, void *val, int64_t now_ms)
{
    if (val == NULL)
        return -1; /* absence is ola_cache_put_negative */
    return ola_cache_store(c, key, val, now_ms);
}

int ola_cache_put_negative(struct ola_cache *c, uint64_t key, int64_t now_ms)
{
    if (c->o.negative_ttl_ms == 0) {
        /* absence is not remembered, but a positive entry is no longer true */
        struct ola_cache_ent *e = ola_cache_find(c, key);

        if (e != NULL)
            ola_cache_drop(c, e);
        return 0;
    }
    return ola_cache_store(c, key, NULL, now_ms);
}

bool ola_cache_remove(struct ola_cache *c, uint64_t key)
{
    struct ola_cache_ent *e = ola_cache_find(c, key);

    if (e == NULL)
        return false;
    ola_cache_drop(c, e);
    c->st.removed++;
    return true;
}

void ola_cache_remap(struct ola_cache *c, void *(*fn)(void *val, void *ctx), void *ctx)
{
    struct ola_cache_ent *e;

    for (e = c->head; e != NULL; e = e->next)
        if (e->val != NULL)
            e->val = fn(e->val, ctx);
}

size_t ola_cache_count(const struct ola_cache *c)
{
    return c->n;
}

size_t ola_cache_max(const struct ola_cache *c)
{
    return c->o.max_entries;
}

const struct ola_cache_stats *ola_cache_stats(const struct ola_cache *c)
{
    return &c->st;
}
