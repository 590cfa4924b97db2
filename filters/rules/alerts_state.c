/*
 * alerts_state.c - the alert rules' state: keys, their items, expiry, and
 * the saved form kept in the checkpoint.
 *
 * Every (rule, key) pair holds a small sorted array of the recent matching
 * events (event time, event id, and the distinct value for `distinct`),
 * never longer than the rule's threshold. Keys live in one chained hash table
 * (one cap for all rules) and in a per-rule list in touch order, which the
 * expiry walks from its head: the least recently touched key is the first to
 * expire. The saved state lists every key with its items; a restore skips the
 * keys of rules no longer configured. alerts.c decides what goes in.
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
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/log.h"
#include "filters/rules/alerts.h"
#include "filters/rules/alerts_priv.h"

_Static_assert(sizeof(struct ola_akey) <= 72,
               "a key's fields stay packed (alerts_priv.h)");

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

static void ola_aitem_free_val(struct ola_aitem *it)
{
    if (it->val != NULL)
        ola_astate_free(it->val, strlen(it->val) + 1, it->val_in_slab);
    it->val = NULL;
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

static void ola_akey_remove(struct ola_alerts *a, struct ola_akey *k)
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
    k->rule = (uint32_t)rule; /* rules are few: a config holds them */
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
    if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof(*v))
        return -1;
    v = ola_slab_alloc(&a->slab, cap * sizeof(*v), &in_slab);
    if (v == NULL)
        return -1;
    if (k->n > 0)
        memcpy(v, k->items, k->n * sizeof(*v));
    if (k->items != NULL)
        ola_astate_free(k->items, k->cap * sizeof(*v), k->items_in_slab);
    k->items = v;
    k->cap = (uint32_t)cap;
    k->items_in_slab = in_slab;
    return 0;
}

/* Inserts in ts order (stable: after equal ts). val: borrowed. Returns 0 / -1. */
static int ola_aitem_put(struct ola_alerts *a, struct ola_akey *k, int64_t ts, int64_t id,
                         const char *val, bool then)
{
    size_t pos, len = val != NULL ? strlen(val) + 1 : 0;
    char *copy = NULL;
    bool in_slab = false;

    if (val != NULL) {
        copy = ola_slab_alloc(&a->slab, len, &in_slab);
        if (copy == NULL)
            return -1;
        memcpy(copy, val, len);
    }
    if (ola_aitems_room(a, k) != 0)
        goto fail;
    for (pos = k->n; pos > 0 && k->items[pos - 1].ts > ts; pos--)
        ;
    memmove(k->items + pos + 1, k->items + pos, (k->n - pos) * sizeof(*k->items));
    k->items[pos].ts = ts;
    k->items[pos].id = id;
    k->items[pos].val = copy;
    k->items[pos].then = then;
    k->items[pos].val_in_slab = in_slab;
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
    for (i = 0; i < k->n; i++)
        if (k->items[i].val != NULL)
            k->items[i].val = ola_astate_move(
                a, k->items[i].val, strlen(k->items[i].val) + 1, k->items[i].val_in_slab);
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

/* ---- state ---------------------------------------------------------------- */

/* Key k of rule r as its saved object; a new reference or NULL. */
static json_t *ola_akey_json(const struct ola_arule *r, const struct ola_akey *k)
{
    json_t *items = json_array();
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:o}", "rule", r->name, "kind",
                  ola_akind_names[r->kind], "key", k->key, "quiet_until",
                  (json_int_t)k->quiet_until, "newest", (json_int_t)k->newest, "touched",
                  (json_int_t)k->touched, "live", (int)k->live, "items", items);
    size_t j;

    if (o == NULL)
        return NULL;
    for (j = 0; j < k->n; j++) {
        const struct ola_aitem *it = &k->items[j];
        json_t *t =
            it->val
                ? json_pack("[I,I,s]", (json_int_t)it->ts, (json_int_t)it->id, it->val)
            : it->then ? json_pack("[I,I,i]", (json_int_t)it->ts, (json_int_t)it->id, 1)
                       : json_pack("[I,I]", (json_int_t)it->ts, (json_int_t)it->id);

        if (t == NULL || json_array_append_new(items, t) != 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *ola_alerts_save(const struct ola_alerts *a)
{
    json_t *st = json_object(), *keys = json_array();
    size_t i;

    if (st == NULL || keys == NULL)
        goto fail;
    if (json_object_set_new(st, "version", json_integer(1)) != 0 ||
        json_object_set_new(st, "clock", json_integer(a->clock)) != 0 ||
        json_object_set_new(st, "keys", keys) != 0) {
        keys = NULL;
        goto fail;
    }
    for (i = 0; i < a->n_rules; i++) {
        const struct ola_arule *r = &a->rules[i];
        const struct ola_akey *k;

        for (k = r->head; k != NULL; k = k->next)
            if (json_array_append_new(keys, ola_akey_json(r, k)) != 0)
                goto fail;
    }
    return st;
fail:
    json_decref(st);
    return NULL;
}

/*
 * Appends s as Jansson's compact dump writes it, which the checkpoint's
 * checksum is over (its loader dumps the parsed file again to check it):
 * printable ASCII without quote or backslash as it is, anything else through
 * Jansson itself (its \u00XX escapes are upper case, and a string that is not
 * UTF-8 fails, as the tree form did). 0 / -1.
 */
static int ola_put_str(struct ola_buf *out, const char *s)
{
    size_t i, n = strlen(s), need;
    json_t *v;
    int rc = -1;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' ||
            s[i] == '\\')
            break;
    if (i == n)
        return ola_buf_putc(out, '"') != 0 || ola_buf_append(out, s, n) != 0 ||
                       ola_buf_putc(out, '"') != 0
                   ? -1
                   : 0;
    v = json_stringn(s, n);
    need = v != NULL ? json_dumpb(v, NULL, 0, JSON_ENCODE_ANY) : 0;
    if (need == 0 || ola_buf_reserve(out, need) != 0 ||
        json_dumpb(v, out->data + out->len, need, JSON_ENCODE_ANY) != need)
        goto fail;
    ola_buf_truncate(out, out->len + need);
    rc = 0;
fail:
    json_decref(v);
    return rc;
}

/*
 * Appends k as ola_akey_json's object, written straight into out: the same
 * members in the same order, compact. Building and dumping a tree per key
 * was a quarter of a backfill's CPU (every page's checkpoint saves the whole
 * state). Byte for byte the tree's compact dump (ola_put_str).
 */
static int ola_akey_text(const struct ola_arule *r, const struct ola_akey *k,
                         struct ola_buf *out)
{
    size_t j;

    if (ola_buf_puts(out, "{\"rule\":") != 0 || ola_put_str(out, r->name) != 0 ||
        ola_buf_puts(out, ",\"kind\":") != 0 ||
        ola_put_str(out, ola_akind_names[r->kind]) != 0 ||
        ola_buf_puts(out, ",\"key\":") != 0 || ola_put_str(out, k->key) != 0 ||
        ola_buf_puts(out, ",\"quiet_until\":") != 0 ||
        ola_buf_put_i64(out, k->quiet_until) != 0 ||
        ola_buf_puts(out, ",\"newest\":") != 0 || ola_buf_put_i64(out, k->newest) != 0 ||
        ola_buf_puts(out, ",\"touched\":") != 0 ||
        ola_buf_put_i64(out, k->touched) != 0 ||
        ola_buf_puts(out, k->live ? ",\"live\":true,\"items\":["
                                  : ",\"live\":false,\"items\":[") != 0)
        return -1;
    for (j = 0; j < k->n; j++) {
        const struct ola_aitem *it = &k->items[j];

        if ((j > 0 && ola_buf_putc(out, ',') != 0) || ola_buf_putc(out, '[') != 0 ||
            ola_buf_put_i64(out, it->ts) != 0 || ola_buf_putc(out, ',') != 0 ||
            ola_buf_put_i64(out, it->id) != 0)
            return -1;
        if (it->val != NULL
                ? ola_buf_putc(out, ',') != 0 || ola_put_str(out, it->val) != 0
            : it->then ? ola_buf_puts(out, ",1") != 0
                       : 0)
            return -1;
        if (ola_buf_putc(out, ']') != 0)
            return -1;
    }
    return ola_buf_puts(out, "]}");
}

int ola_alerts_save_text(const struct ola_alerts *a, struct ola_buf *out)
{
    const char *sep = "";
    size_t i;

    if (ola_buf_puts(out, "{\"version\":1,\"clock\":") != 0 ||
        ola_buf_put_i64(out, a->clock) != 0 || ola_buf_puts(out, ",\"keys\":[") != 0)
        return -1;
    for (i = 0; i < a->n_rules; i++) {
        const struct ola_arule *r = &a->rules[i];
        const struct ola_akey *k;

        for (k = r->head; k != NULL; k = k->next) {
            if (ola_buf_puts(out, sep) != 0 || ola_akey_text(r, k, out) != 0)
                return -1;
            sep = ",";
        }
    }
    return ola_buf_puts(out, "]}");
}

static void ola_alerts_clear(struct ola_alerts *a)
{
    size_t i;

    for (i = 0; i < a->n_rules; i++)
        while (a->rules[i].head != NULL)
            ola_akey_remove(a, a->rules[i].head);
    a->clock = 0;
}

static bool ola_get_int(const json_t *o, const char *k, json_int_t *out)
{
    const json_t *v = json_object_get(o, k);

    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

static int ola_restore_items(struct ola_alerts *a, size_t ri, struct ola_akey *k,
                             const json_t *items, struct ola_err *err)
{
    const json_t *it;
    size_t i;

    json_array_foreach(items, i, it)
    {
        const json_t *tsv = json_array_get(it, 0), *idv = json_array_get(it, 1);
        const json_t *vv = json_array_get(it, 2);
        size_t len = json_array_size(it);
        enum ola_akind kind = a->rules[ri].kind;
        bool then = len == 3 && json_is_integer(vv);

        if (!json_is_integer(tsv) || !json_is_integer(idv) || len < 2 || len > 3 ||
            (len == 3 && !json_is_string(vv) && !(then && json_integer_value(vv) == 1)))
            return ola_err_set(err, EINVAL, "alert state: bad item in rule '%s'",
                               a->rules[ri].name);
        /* distinct items carry their value, a sequence may hold closing events */
        if ((len == 3 && !then) != (kind == OLA_AK_DISTINCT) ||
            (then && kind != OLA_AK_SEQUENCE))
            return ola_err_set(err, EINVAL, "alert state: item does not fit rule '%s'",
                               a->rules[ri].name);
        if ((then ? ola_aitems_insert_then(a, k, json_integer_value(tsv),
                                           json_integer_value(idv))
                  : ola_aitems_insert(a, k, json_integer_value(tsv),
                                      json_integer_value(idv),
                                      len == 3 ? json_string_value(vv) : NULL)) != 0)
            return ola_err_set(err, ENOMEM, "out of memory");
    }
    ola_aitems_prune(k, a->rules[ri].window,
                     a->rules[ri].threshold + a->rules[ri].then_threshold - 1);
    return 0;
}

static int ola_restore_key(struct ola_alerts *a, const json_t *o, struct ola_err *err)
{
    const char *rule = json_string_value(json_object_get(o, "rule"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *key = json_string_value(json_object_get(o, "key"));
    const json_t *items = json_object_get(o, "items");
    const json_t *live = json_object_get(o, "live");
    json_int_t quiet, newest, touched;
    struct ola_akey *k;
    bool capped;
    size_t ri;

    if (rule == NULL || kind == NULL || key == NULL || !json_is_array(items) ||
        !json_is_boolean(live) || !ola_get_int(o, "quiet_until", &quiet) ||
        !ola_get_int(o, "newest", &newest) || !ola_get_int(o, "touched", &touched))
        return ola_err_set(err, EINVAL,
                           "alert state: a key lacks rule, kind, key, "
                           "quiet_until, newest, touched, live or items");
    for (ri = 0; ri < a->n_rules; ri++)
        if (strcmp(a->rules[ri].name, rule) == 0)
            break;
    if (ri == a->n_rules || strcmp(ola_akind_names[a->rules[ri].kind], kind) != 0)
        return 0; /* rule gone or changed: its state means nothing now */
    if (strlen(key) >= OLA_ALERT_KEY_MAX)
        return ola_err_set(err, EINVAL, "alert state: key too long");
    if (ola_akey_find(a, ri, key, ola_akey_hash(ri, key)) != NULL)
        return ola_err_set(err, EINVAL, "alert state: key '%s' of rule '%s' twice", key,
                           rule);
    k = ola_akey_new(a, ri, key, ola_akey_hash(ri, key), INT64_MIN, &capped);
    if (k == NULL)
        return capped ? 0 : ola_err_set(err, ENOMEM, "out of memory");
    k->quiet_until = quiet;
    k->newest = newest;
    k->touched = touched;
    k->live = json_is_true(live);
    return ola_restore_items(a, ri, k, items, err);
}

int ola_alerts_restore(struct ola_alerts *a, const json_t *state, struct ola_err *err)
{
    const json_t *keys = json_object_get(state, "keys"), *o;
    json_int_t version, clock;
    size_t i;

    ola_alerts_clear(a);
    if (!ola_get_int(state, "version", &version) ||
        !ola_get_int(state, "clock", &clock) || !json_is_array(keys))
        return ola_err_set(err, EINVAL, "alert state: expected {version, clock, keys}");
    if (version != 1)
        return ola_err_set(err, EINVAL, "alert state: unknown version %lld",
                           (long long)version);
    a->clock = clock;
    json_array_foreach(keys, i, o)
    {
        if (ola_restore_key(a, o, err) != 0) {
            ola_alerts_clear(a);
            return -1;
        }
    }
    return 0;
}
