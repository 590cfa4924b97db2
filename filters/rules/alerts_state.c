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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/log.h"
#include "agent/core/vec.h"
#include "filters/rules/alerts.h"
#include "filters/rules/alerts_priv.h"

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

void ola_akey_free(struct ola_akey *k)
{
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < k->n; i++)
        free(k->items[i].val);
    free(k->items);
    free(k);
}

void ola_akey_clear(struct ola_akey *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        free(k->items[i].val);
    k->n = 0;
}

struct ola_akey *ola_akey_find(const struct ola_alerts *a, size_t rule, const char *key,
                               uint64_t h)
{
    struct ola_akey *k;

    if (a->n_buckets == 0)
        return NULL;
    for (k = a->buckets[h & (a->n_buckets - 1)]; k != NULL; k = k->hnext)
        if (k->hash == h && k->rule == rule && strcmp(k->key, key) == 0)
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
    struct ola_akey **pp = &a->buckets[k->hash & (a->n_buckets - 1)];

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
    struct ola_akey **v = calloc(nb, sizeof(*v));

    if (v == NULL)
        return -1;
    for (i = 0; i < a->n_buckets; i++) {
        struct ola_akey *k = a->buckets[i], *next;

        for (; k != NULL; k = next) {
            next = k->hnext;
            k->hnext = v[k->hash & (nb - 1)];
            v[k->hash & (nb - 1)] = k;
        }
    }
    free(a->buckets);
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
    if (a->stats.keys + 1 > a->n_buckets - a->n_buckets / 4 || a->n_buckets == 0)
        if (ola_buckets_grow(a) != 0)
            return NULL;
    k = calloc(1, sizeof(*k) + len + 1);
    if (k == NULL)
        return NULL;
    memcpy(k->key, key, len + 1);
    k->hash = h;
    k->rule = rule;
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

    for (i = 0; i < n; i++)
        free(k->items[i].val);
    memmove(k->items, k->items + n, (k->n - n) * sizeof(*k->items));
    k->n -= n;
}

/* Inserts in ts order (stable: after equal ts). val: stolen. Returns 0 / -1. */
static int ola_aitem_put(struct ola_akey *k, int64_t ts, int64_t id, char *val, bool then)
{
    size_t pos;

    if (OLA_VEC_GROW_FROM(k->items, k->cap, k->n + 1, 4) != 0) {
        free(val);
        return -1;
    }
    for (pos = k->n; pos > 0 && k->items[pos - 1].ts > ts; pos--)
        ;
    memmove(k->items + pos + 1, k->items + pos, (k->n - pos) * sizeof(*k->items));
    k->items[pos].ts = ts;
    k->items[pos].id = id;
    k->items[pos].val = val;
    k->items[pos].then = then;
    k->n++;
    return 0;
}

int ola_aitems_insert(struct ola_akey *k, int64_t ts, int64_t id, char *val)
{
    return ola_aitem_put(k, ts, id, val, false);
}

int ola_aitems_insert_then(struct ola_akey *k, int64_t ts, int64_t id)
{
    return ola_aitem_put(k, ts, id, NULL, true);
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

/* ---- state ---------------------------------------------------------------- */

json_t *ola_alerts_save(const struct ola_alerts *a)
{
    json_t *st = json_object(), *keys = json_array();
    size_t i, j;

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

        for (k = r->head; k != NULL; k = k->next) {
            json_t *items = json_array();
            json_t *o = json_pack(
                "{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:o}", "rule", r->name, "kind",
                ola_akind_names[r->kind], "key", k->key, "quiet_until",
                (json_int_t)k->quiet_until, "newest", (json_int_t)k->newest, "touched",
                (json_int_t)k->touched, "live", (int)k->live, "items", items);

            if (o == NULL || json_array_append_new(keys, o) != 0)
                goto fail;
            for (j = 0; j < k->n; j++) {
                const struct ola_aitem *it = &k->items[j];
                json_t *t =
                    it->val ? json_pack("[I,I,s]", (json_int_t)it->ts, (json_int_t)it->id,
                                        it->val)
                    : it->then
                        ? json_pack("[I,I,i]", (json_int_t)it->ts, (json_int_t)it->id, 1)
                        : json_pack("[I,I]", (json_int_t)it->ts, (json_int_t)it->id);

                if (t == NULL || json_array_append_new(items, t) != 0)
                    goto fail;
            }
        }
    }
    return st;
fail:
    json_decref(st);
    return NULL;
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
        char *copy = NULL;

        if (!json_is_integer(tsv) || !json_is_integer(idv) || len < 2 || len > 3 ||
            (len == 3 && !json_is_string(vv) && !(then && json_integer_value(vv) == 1)))
            return ola_err_set(err, EINVAL, "alert state: bad item in rule '%s'",
                               a->rules[ri].name);
        /* distinct items carry their value, a sequence may hold closing events */
        if ((len == 3 && !then) != (kind == OLA_AK_DISTINCT) ||
            (then && kind != OLA_AK_SEQUENCE))
            return ola_err_set(err, EINVAL, "alert state: item does not fit rule '%s'",
                               a->rules[ri].name);
        if (len == 3 && !then && (copy = strdup(json_string_value(vv))) == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
        if ((then ? ola_aitems_insert_then(k, json_integer_value(tsv),
                                           json_integer_value(idv))
                  : ola_aitems_insert(k, json_integer_value(tsv), json_integer_value(idv),
                                      copy)) != 0)
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
