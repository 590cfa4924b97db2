/*
 * alerts_state.c - the alert rules' state: keys, their items and expiry.
 *
 * Every (rule, key) pair holds a small sorted array of the recent matching
 * events (event time, event id, and the distinct value for `distinct`),
 * never longer than the rule's threshold. Keys live in one chained hash table
 * (one cap for all rules) and in a per-rule list in touch order, which the
 * expiry walks from its head: the least recently touched key is the first to
 * expire. alerts_save.c writes it out and reads it back; alerts.c decides
 * what goes in.
 *
 * Where it lives: the keys (struct and text), their item arrays and distinct
 * values are cut from the alerts' slab (agent/core/slab.h), chunks mapped
 * apart from the heap; only arrays over OLA_SLAB_BIG (big thresholds), or
 * what comes when no chunk can be mapped, go to malloc, and each object
 * notes which. Why: these objects live for a window while a backfill's pages
 * come and go around them; in the heap they would sit among freed pages and
 * pin them. Expiry leaves dead bytes in the chunks; when they are over a
 * third, ola_alerts_trim moves every key, its items and values to fresh
 * chunks (touch-list order, the hash rebuilt) and the old chunks go. The
 * rules call it after every batch, not only at rest: a backfill expires keys
 * for hours without a quiet poll, and chunks that only empty at rest would
 * grow with its length (a 300,000-event backfill held 300 of them). A move
 * costs a copy of the live keys, and it waits until at least half as many
 * bytes as are live have died since the last one.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/log.h"
#include "filters/rules/alerts.h"
#include "filters/rules/alerts_priv.h"

_Static_assert(sizeof(struct ola_akey) <= 64,
               "a key's fields stay packed (alerts_priv.h)");
_Static_assert(sizeof(struct ola_aitem) <= 24, "an item is three words (alerts_priv.h)");

const char *const ola_akind_names[] = {"count", "distinct", "sequence", NULL};

/* ---- keys ----------------------------------------------------------------- */

uint64_t ola_akey_hash(size_t rule, const char *s)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)rule;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* k's bucket among n (a power of two): its hash is not kept, 8 bytes a key. */
static size_t ola_akey_slot(size_t n, const struct ola_akey *k)
{
    return (size_t)(ola_akey_hash(k->rule, k->key) & (n - 1));
}

/* Frees p of size bytes: from the slab, or malloc'd. */
static void ola_astate_free(void *p, size_t size, bool in_slab)
{
    if (in_slab)
        ola_slab_free(p, size);
    else
        free(p);
}

static size_t ola_akey_size(const struct ola_akey *k)
{
    return sizeof(*k) + strlen(k->key) + 1;
}

/* ---- an item's value ------------------------------------------------------ */

/* The text v points to; NULL when v is none, a closing event or a number. */
static char *ola_aval_text(uintptr_t v)
{
    return v == 0 || v == OLA_AVAL_THEN || (v & 1) ? NULL : (char *)(v & ~OLA_AVAL_HEAP);
}

uintptr_t ola_aval_num(const char *val)
{
    uint64_t n = 0;
    size_t i;

    /* "0", or up to 18 digits without a leading zero: read back byte for byte */
    if (val[0] < '0' || val[0] > '9' || (val[0] == '0' && val[1] != '\0'))
        return 0;
    for (i = 0; val[i] != '\0'; i++) {
        if (i == 18 || val[i] < '0' || val[i] > '9')
            return 0;
        n = n * 10 + (uint64_t)(val[i] - '0');
    }
    if (n > UINTPTR_MAX >> 1) /* a 32-bit word holds fewer */
        return 0;
    return (uintptr_t)(n << 1 | 1);
}

const char *ola_aitem_val(const struct ola_aitem *it, char *buf)
{
    if (it->val & 1) {
        snprintf(buf, OLA_AVAL_NUM_MAX, "%" PRIu64, (uint64_t)(it->val >> 1));
        return buf;
    }
    return ola_aval_text(it->val);
}

bool ola_aitem_val_is(const struct ola_aitem *it, const char *val, uintptr_t num)
{
    const char *s;

    if (num != 0)
        return it->val == num;
    s = ola_aval_text(it->val);
    return s != NULL && strcmp(s, val) == 0;
}

bool ola_aitem_then(const struct ola_aitem *it)
{
    return it->val == OLA_AVAL_THEN;
}

static void ola_aitem_free_val(struct ola_aitem *it)
{
    char *s = ola_aval_text(it->val);

    if (s != NULL)
        ola_astate_free(s, strlen(s) + 1, !(it->val & OLA_AVAL_HEAP));
    it->val = 0;
}

void ola_akey_free(struct ola_akey *k)
{
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < k->n; i++)
        ola_aitem_free_val(&k->items[i]);
    if (k->items != NULL)
        ola_astate_free(k->items, k->cap * sizeof(*k->items), k->items_in_slab);
    ola_astate_free(k, ola_akey_size(k), k->in_slab);
}

/*
 * An empty key gives its item array back: a key quiet after its alert, or
 * whose streak ended, may wait a whole window for its next item, and 900 of
 * a backfill's 7,000 keys were such.
 */
static void ola_aitems_release_if_empty(struct ola_akey *k)
{
    if (k->n > 0 || k->items == NULL)
        return;
    ola_astate_free(k->items, k->cap * sizeof(*k->items), k->items_in_slab);
    k->items = NULL;
    k->cap = 0;
    k->items_in_slab = false;
}

void ola_akey_clear(struct ola_akey *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        ola_aitem_free_val(&k->items[i]);
    k->n = 0;
    ola_aitems_release_if_empty(k);
}

struct ola_akey *ola_akey_find(const struct ola_alerts *a, size_t rule, const char *key,
                               uint64_t h)
{
    struct ola_akey *k;

    if (a->n_buckets == 0)
        return NULL;
    for (k = a->buckets[h & (a->n_buckets - 1)]; k != NULL; k = k->hnext)
        if (k->rule == rule && strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

void ola_akey_unlink(struct ola_arule *r, struct ola_akey *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        r->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        r->tail = k->prev;
    k->prev = k->next = NULL;
}

void ola_akey_append(struct ola_arule *r, struct ola_akey *k)
{
    k->prev = r->tail;
    k->next = NULL;
    if (r->tail)
        r->tail->next = k;
    else
        r->head = k;
    r->tail = k;
}

void ola_akey_remove(struct ola_alerts *a, struct ola_akey *k)
{
    struct ola_akey **pp = &a->buckets[ola_akey_slot(a->n_buckets, k)];

    while (*pp != k)
        pp = &(*pp)->hnext;
    *pp = k->hnext;
    ola_akey_unlink(&a->rules[k->rule], k);
    a->rules[k->rule].n_keys--;
    a->stats.keys--;
    ola_akey_free(k);
}

static int ola_buckets_grow(struct ola_alerts *a)
{
    size_t nb = a->n_buckets ? a->n_buckets * 2 : 256, i;
    struct ola_akey **v = ola_pages_alloc(nb * sizeof(*v));

    if (v == NULL)
        return -1;
    for (i = 0; i < a->n_buckets; i++) {
        struct ola_akey *k = a->buckets[i], *next;

        for (; k != NULL; k = next) {
            size_t slot = ola_akey_slot(nb, k);

            next = k->hnext;
            k->hnext = v[slot];
            v[slot] = k;
        }
    }
    ola_pages_free(a->buckets, a->n_buckets * sizeof(*a->buckets));
    a->buckets = v;
    a->n_buckets = nb;
    return 0;
}

/* A new key, or NULL: ENOMEM (*capped false) or the cap (*capped true). */
struct ola_akey *ola_akey_new(struct ola_alerts *a, size_t rule, const char *key,
                              uint64_t h, int64_t now_ms, bool *capped)
{
    size_t len = strlen(key);
    struct ola_akey *k;
    bool in_slab;

    *capped = false;
    if (a->stats.keys >= a->max_keys && now_ms != INT64_MIN)
        ola_alerts_expire(a, now_ms); /* event time may have moved since */
    if (a->stats.keys >= a->max_keys) {
        *capped = true;
        a->stats.state_capped++;
        if (!a->capped_logged)
            ola_log_warn("rules",
                         "alert state is full (%zu keys): new keys are refused "
                         "until old ones expire (alerts.max_keys)",
                         a->max_keys);
        a->capped_logged = true;
        return NULL;
    }
    a->capped_logged = false;
    if (a->rules[rule].n_keys >= a->rules[rule].max_keys && a->rules[rule].head != NULL) {
        /* the rule's own cap: its least recently touched key makes room */
        ola_akey_remove(a, a->rules[rule].head);
        a->stats.state_evicted++;
    }
    if (a->stats.keys + 1 > a->n_buckets || a->n_buckets == 0) /* chains of one */
        if (ola_buckets_grow(a) != 0)
            return NULL;
    k = ola_slab_alloc(&a->slab, sizeof(*k) + len + 1, &in_slab);
    if (k == NULL)
        return NULL;
    k->in_slab = in_slab;
    memcpy(k->key, key, len + 1);
    k->rule = (uint16_t)rule; /* at most OLA_ALERT_RULES_MAX */
    k->hnext = a->buckets[h & (a->n_buckets - 1)];
    a->buckets[h & (a->n_buckets - 1)] = k;
    ola_akey_append(&a->rules[rule], k);
    a->rules[rule].n_keys++;
    a->stats.keys++;
    return k;
}

/* ---- items ---------------------------------------------------------------- */

void ola_aitems_drop_front(struct ola_akey *k, size_t n)
{
    size_t i;

    if (n == 0) /* an empty key has no array to move within */
        return;
    for (i = 0; i < n; i++)
        ola_aitem_free_val(&k->items[i]);
    memmove(k->items, k->items + n, (k->n - n) * sizeof(*k->items));
    k->n -= n;
    ola_aitems_release_if_empty(k);
}

void ola_aitems_remove(struct ola_akey *k, size_t i)
{
    ola_aitem_free_val(&k->items[i]);
    memmove(k->items + i, k->items + i + 1, (k->n - i - 1) * sizeof(*k->items));
    k->n--;
}

/*
 * Room for one more item: a new array (doubled, but never past what the rule
 * can hold: its threshold and closing events, one more before the prune)
 * from the slab, the items copied, the old array freed. The first holds one
 * item: most keys (an address seen once in its window) never get a second;
 * 5,800 of a backfill's 7,000 keys held one, in arrays of 3 or 4. Returns
 * 0 / -1.
 */
static int ola_aitems_room(struct ola_alerts *a, struct ola_akey *k)
{
    const struct ola_arule *r = &a->rules[k->rule];
    size_t most = r->threshold + r->then_threshold, cap = k->cap ? (size_t)k->cap * 2 : 1;
    struct ola_aitem *v;
    bool in_slab;

    if (k->n < k->cap)
        return 0;
    if (cap > most && most > k->n)
        cap = most;
    if (cap > UINT16_MAX)
        return -1;
    v = ola_slab_alloc(&a->slab, cap * sizeof(*v), &in_slab);
    if (v == NULL)
        return -1;
    if (k->n > 0)
        memcpy(v, k->items, k->n * sizeof(*v));
    if (k->items != NULL)
        ola_astate_free(k->items, k->cap * sizeof(*v), k->items_in_slab);
    k->items = v;
    k->cap = (uint16_t)cap;
    k->items_in_slab = in_slab;
    return 0;
}

/*
 * Inserts in ts order (stable: after equal ts). val: borrowed, kept as its
 * one-word form (alerts_priv.h); NULL: none. Returns 0 / -1.
 */
static int ola_aitem_put(struct ola_alerts *a, struct ola_akey *k, int64_t ts, int64_t id,
                         const char *val, bool then)
{
    uintptr_t v = then ? OLA_AVAL_THEN : val != NULL ? ola_aval_num(val) : 0;
    size_t pos, len = 0;
    char *copy = NULL;
    bool in_slab = false;

    if (val != NULL && v == 0) {
        len = strlen(val) + 1;
        copy = ola_slab_alloc(&a->slab, len, &in_slab);
        if (copy == NULL)
            return -1;
        memcpy(copy, val, len);
        v = (uintptr_t)copy | (in_slab ? 0 : OLA_AVAL_HEAP);
    }
    if (ola_aitems_room(a, k) != 0)
        goto fail;
    for (pos = k->n; pos > 0 && k->items[pos - 1].ts > ts; pos--)
        ;
    memmove(k->items + pos + 1, k->items + pos, (k->n - pos) * sizeof(*k->items));
    k->items[pos].ts = ts;
    k->items[pos].id = id;
    k->items[pos].val = v;
    k->n++;
    return 0;
fail:
    if (copy != NULL)
        ola_astate_free(copy, len, in_slab);
    return -1;
}

int ola_aitems_insert(struct ola_alerts *a, struct ola_akey *k, int64_t ts, int64_t id,
                      const char *val)
{
    return ola_aitem_put(a, k, ts, id, val, false);
}

int ola_aitems_insert_then(struct ola_alerts *a, struct ola_akey *k, int64_t ts,
                           int64_t id)
{
    return ola_aitem_put(a, k, ts, id, NULL, true);
}

bool ola_aitems_has_id(const struct ola_akey *k, int64_t id)
{
    size_t i;

    if (id == 0)
        return false;
    for (i = 0; i < k->n; i++)
        if (k->items[i].id == id)
            return true;
    return false;
}

/* Forgets items older than the window before the newest one, and beyond max. */
void ola_aitems_prune(struct ola_akey *k, int64_t window, size_t max)
{
    size_t drop = 0;

    if (k->n == 0)
        return;
    while (drop < k->n && k->items[drop].ts < k->items[k->n - 1].ts - window)
        drop++;
    if (k->n - drop > max)
        drop = k->n - max;
    if (drop > 0)
        ola_aitems_drop_front(k, drop);
}

/* ---- expiry --------------------------------------------------------------- */

static int64_t ola_akey_expiry(const struct ola_arule *r, const struct ola_akey *k)
{
    int64_t end = k->newest + r->window;

    return k->quiet_until > end ? k->quiet_until : end;
}

void ola_alerts_expire(struct ola_alerts *a, int64_t now_ms)
{
    size_t i;

    for (i = 0; i < a->n_rules; i++) {
        struct ola_arule *r = &a->rules[i];

        while (r->head != NULL) {
            struct ola_akey *k = r->head;
            int64_t exp = ola_akey_expiry(r, k);

            /*
             * Touch order approximates expiry order (event time mostly moves
             * forward); the first key still alive stops the walk.
             */
            if (a->clock > exp || (k->live && now_ms > exp + a->late_grace)) {
                ola_akey_remove(a, k);
                a->stats.expired++;
            } else {
                break;
            }
        }
    }
}

/* ---- compaction ----------------------------------------------------------- */

/*
 * p (size bytes, from the slab) copied to the slab's current chunk and freed;
 * p itself when it is not in the slab or no chunk can be had.
 */
static void *ola_astate_move(struct ola_alerts *a, void *p, size_t size, bool in_slab)
{
    bool now_in_slab;
    void *n;

    if (!in_slab)
        return p;
    n = ola_slab_alloc(&a->slab, size, &now_in_slab);
    if (n == NULL)
        return p;
    if (!now_in_slab) {
        free(n);
        return p;
    }
    memcpy(n, p, size);
    ola_slab_free(p, size);
    return n;
}

/* k, its items and their values moved to fresh chunks, k relinked in r's list. */
static struct ola_akey *ola_akey_move(struct ola_alerts *a, struct ola_arule *r,
                                      struct ola_akey *k)
{
    size_t i;

    k = ola_astate_move(a, k, ola_akey_size(k), k->in_slab);
    if (k->prev)
        k->prev->next = k;
    else
        r->head = k;
    if (k->next)
        k->next->prev = k;
    else
        r->tail = k;
    if (k->items != NULL)
        k->items =
            ola_astate_move(a, k->items, k->cap * sizeof(*k->items), k->items_in_slab);
    for (i = 0; i < k->n; i++) {
        char *t = ola_aval_text(k->items[i].val);

        if (t != NULL && !(k->items[i].val & OLA_AVAL_HEAP))
            k->items[i].val = (uintptr_t)ola_astate_move(a, t, strlen(t) + 1, true);
    }
    return k;
}

void ola_alerts_trim(struct ola_alerts *a, bool rest)
{
    size_t i;

    if (!(rest ? ola_slab_sparse_at_rest(&a->slab) : ola_slab_sparse(&a->slab)))
        return;
    ola_slab_fresh(&a->slab);
    /* every key is in its rule's touch list: the hash is built again from them */
    if (a->n_buckets > 0)
        memset(a->buckets, 0, a->n_buckets * sizeof(*a->buckets));
    for (i = 0; i < a->n_rules; i++) {
        struct ola_arule *r = &a->rules[i];
        struct ola_akey *k;

        for (k = r->head; k != NULL; k = k->next) {
            struct ola_akey **b;

            k = ola_akey_move(a, r, k);
            b = &a->buckets[ola_akey_slot(a->n_buckets, k)];
            k->hnext = *b;
            *b = k;
        }
    }
}
