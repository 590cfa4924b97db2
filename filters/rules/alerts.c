/*
 * alerts.c - windowed alert rules over event time.
 *
 * Every (rule, key) pair holds a small sorted array of the recent matching
 * events (event time, event id, and the distinct value for `distinct`),
 * never longer than the rule's threshold: the question asked is only "are
 * there N of them within the window". An event id already held is not
 * counted again. Keys live in one chained hash table (one cap for all
 * rules) and in a per-rule list in touch order, which the expiry walks from
 * its head: the least recently touched key is the first to expire. After an
 * alert the key is quiet (suppressed) for the suppress period, in event time,
 * and starts counting afresh after it: once per window per key by default.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "filters/rules/alerts.h"
#include "filters/rules/severity.h"

#define OLA_ALERT_MAX_KEY_FIELDS 4
#define OLA_ALERT_KEY_MAX        512
#define OLA_SUPPRESS_WINDOW      (-1)

enum ola_akind {
    OLA_AK_COUNT = 0,
    OLA_AK_DISTINCT = 1,
    OLA_AK_SEQUENCE = 2,
};

static const char *const ola_akind_names[] = {"count", "distinct", "sequence", NULL};

struct ola_aitem {
    int64_t ts;
    int64_t id;
    char *val; /* distinct value; NULL for other kinds */
};

struct ola_akey {
    struct ola_akey *hnext;       /* hash chain */
    struct ola_akey *prev, *next; /* the rule's touch list */
    uint64_t hash;
    size_t rule;
    int64_t quiet_until;     /* event time; 0: not quiet */
    int64_t newest;          /* newest event time seen for this key */
    int64_t touched;         /* wall clock of the last touch */
    bool live;               /* the last touch came within late_grace of its event */
    struct ola_aitem *items; /* sorted by ts, at most threshold */
    size_t n, cap;
    char key[];
};

struct ola_arule {
    char *name;
    enum ola_akind kind;
    struct ola_expr *match, *then;
    int key_path[OLA_ALERT_MAX_KEY_FIELDS];
    size_t n_key;
    char *key_text; /* "user_id" or "user_id,ipaddr" */
    int distinct_path;
    char *distinct_text;
    size_t threshold;
    int64_t window;
    int64_t suppress; /* ms, 0 none, OLA_SUPPRESS_WINDOW */
    int severity;
    struct ola_akey *head, *tail;
};

struct ola_alerts {
    struct ola_expr_env *env;
    struct ola_arule *rules;
    size_t n_rules;
    struct ola_akey **buckets;
    size_t n_buckets; /* power of two */
    size_t max_keys;
    int64_t suppress; /* default for rules */
    int64_t late_grace;
    int64_t clock; /* newest event time fed */
    bool capped_logged;
    struct ola_alerts_stats stats;
};

/* ---- keys ----------------------------------------------------------------- */

static uint64_t ola_hash(size_t rule, const char *s)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)rule;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void ola_akey_free(struct ola_akey *k)
{
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < k->n; i++)
        free(k->items[i].val);
    free(k->items);
    free(k);
}

static void ola_akey_clear(struct ola_akey *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        free(k->items[i].val);
    k->n = 0;
}

static struct ola_akey *ola_akey_find(const struct ola_alerts *a, size_t rule,
                                      const char *key, uint64_t h)
{
    struct ola_akey *k;

    if (a->n_buckets == 0)
        return NULL;
    for (k = a->buckets[h & (a->n_buckets - 1)]; k != NULL; k = k->hnext)
        if (k->hash == h && k->rule == rule && strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

static void ola_list_unlink(struct ola_arule *r, struct ola_akey *k)
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

static void ola_list_append(struct ola_arule *r, struct ola_akey *k)
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
    ola_list_unlink(&a->rules[k->rule], k);
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
static struct ola_akey *ola_akey_new(struct ola_alerts *a, size_t rule, const char *key,
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
    ola_list_append(&a->rules[rule], k);
    a->stats.keys++;
    return k;
}

/* ---- items ---------------------------------------------------------------- */

static void ola_items_drop_front(struct ola_akey *k, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(k->items[i].val);
    memmove(k->items, k->items + n, (k->n - n) * sizeof(*k->items));
    k->n -= n;
}

/* Inserts in ts order (stable: after equal ts). val: stolen. Returns 0 / -1. */
static int ola_items_insert(struct ola_akey *k, int64_t ts, int64_t id, char *val)
{
    size_t pos;

    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4;
        struct ola_aitem *v = realloc(k->items, cap * sizeof(*v));

        if (v == NULL) {
            free(val);
            return -1;
        }
        k->items = v;
        k->cap = cap;
    }
    for (pos = k->n; pos > 0 && k->items[pos - 1].ts > ts; pos--)
        ;
    memmove(k->items + pos + 1, k->items + pos, (k->n - pos) * sizeof(*k->items));
    k->items[pos].ts = ts;
    k->items[pos].id = id;
    k->items[pos].val = val;
    k->n++;
    return 0;
}

static bool ola_items_has_id(const struct ola_akey *k, int64_t id)
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
static void ola_items_prune(struct ola_akey *k, int64_t window, size_t max)
{
    size_t drop = 0;

    if (k->n == 0)
        return;
    while (drop < k->n && k->items[drop].ts < k->items[k->n - 1].ts - window)
        drop++;
    if (k->n - drop > max)
        drop = k->n - max;
    if (drop > 0)
        ola_items_drop_front(k, drop);
}

/* ---- rules ---------------------------------------------------------------- */

static int ola_suppress_parse(const struct ola_cfg *map, int64_t def, int64_t *out,
                              struct ola_err *err)
{
    const struct ola_cfg *n = ola_cfg_get(map, "suppress");
    const char *s = ola_cfg_scalar(n);

    *out = def;
    if (n == NULL || ola_cfg_type(n) == OLA_CFG_NULL)
        return 0;
    if (s == NULL)
        return ola_cfg_errf(err, n, "suppress: expected window, none or a duration");
    if (strcmp(s, "window") == 0) {
        *out = OLA_SUPPRESS_WINDOW;
        return 0;
    }
    if (strcmp(s, "none") == 0 || strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (ola_duration_parse(s, out) != 0 || *out <= 0)
        return ola_cfg_errf(err, n,
                            "suppress: expected window, none or a duration, "
                            "got '%s'",
                            s);
    return 0;
}

struct ola_alerts *ola_alerts_new(struct ola_expr_env *env,
                                  const struct ola_cfg *settings, struct ola_err *err)
{
    static const char *const keys[] = {"max_keys", "suppress", "late_grace", NULL};
    struct ola_alerts *a = calloc(1, sizeof(*a));
    long long max_keys;

    if (a == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    a->env = env;
    if (ola_cfg_check_keys(settings, keys, err) != 0 ||
        ola_cfg_int(settings, "max_keys", 100000, 1, 100000000, &max_keys, err) != 0 ||
        ola_suppress_parse(settings, OLA_SUPPRESS_WINDOW, &a->suppress, err) != 0 ||
        ola_cfg_duration(settings, "late_grace", 10 * 60 * 1000, 0,
                         INT64_C(7) * 24 * 3600 * 1000, &a->late_grace, err) != 0)
        goto fail;
    a->max_keys = (size_t)max_keys;
    return a;
fail:
    ola_alerts_destroy(a);
    return NULL;
}

static void ola_arule_free(struct ola_arule *r)
{
    free(r->name);
    free(r->key_text);
    free(r->distinct_text);
    ola_expr_destroy(r->match);
    ola_expr_destroy(r->then);
}

void ola_alerts_destroy(struct ola_alerts *a)
{
    size_t i;

    if (a == NULL)
        return;
    for (i = 0; i < a->n_buckets; i++) {
        struct ola_akey *k = a->buckets[i], *next;

        for (; k != NULL; k = next) {
            next = k->hnext;
            ola_akey_free(k);
        }
    }
    free(a->buckets);
    for (i = 0; i < a->n_rules; i++)
        ola_arule_free(&a->rules[i]);
    free(a->rules);
    free(a);
}

/* key: a path or a list of paths. */
static int ola_arule_key(struct ola_alerts *a, struct ola_arule *r,
                         const struct ola_cfg *n, struct ola_err *err)
{
    size_t count = ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_len(n) : 1, i;
    char text[256] = "";
    size_t used = 0;

    if (n == NULL)
        return ola_err_set(err, EINVAL, "alert '%s': key is required", r->name);
    if (count == 0 || count > OLA_ALERT_MAX_KEY_FIELDS)
        return ola_cfg_errf(err, n, "key: expected 1 to %d fields",
                            OLA_ALERT_MAX_KEY_FIELDS);
    for (i = 0; i < count; i++) {
        const struct ola_cfg *item =
            ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_at(n, i) : n;
        const char *s = ola_cfg_scalar(item);
        int w;

        if (s == NULL || (r->key_path[i] = ola_expr_path(a->env, s)) < 0)
            return ola_cfg_errf(err, item, "key: expected a field path");
        w = snprintf(text + used, sizeof(text) - used, "%s%s", i ? "," : "", s);
        if (w < 0 || (size_t)w >= sizeof(text) - used)
            return ola_cfg_errf(err, item, "key: too long");
        used += (size_t)w;
    }
    r->n_key = count;
    r->key_text = strdup(text);
    return r->key_text ? 0 : ola_err_set(err, ENOMEM, "out of memory");
}

int ola_alerts_add(struct ola_alerts *a, const char *name, const struct ola_cfg *node,
                   struct ola_err *err)
{
    static const char *const keys[] = {"kind",     "match",     "then",   "key",
                                       "distinct", "threshold", "window", "severity",
                                       "suppress", NULL};
    struct ola_arule r, *v;
    const struct ola_cfg *sevn;
    long long threshold;
    int kind;

    memset(&r, 0, sizeof(r));
    r.distinct_path = -1;
    if (ola_cfg_type(node) != OLA_CFG_MAP)
        return ola_cfg_errf(err, node, "alert: expected a map");
    r.name = strdup(name);
    if (r.name == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (ola_cfg_check_keys(node, keys, err) != 0 ||
        ola_cfg_enum(node, "kind", ola_akind_names, OLA_AK_COUNT, &kind, err) != 0 ||
        ola_cfg_int(node, "threshold", 0, 1, 10000, &threshold, err) != 0 ||
        ola_cfg_duration(node, "window", 0, 1, INT64_C(30) * 24 * 3600 * 1000, &r.window,
                         err) != 0 ||
        ola_suppress_parse(node, a->suppress, &r.suppress, err) != 0)
        goto fail;
    r.kind = (enum ola_akind)kind;
    if (ola_cfg_get(node, "threshold") == NULL || r.window == 0) {
        ola_cfg_errf(err, node, "alert '%s': threshold and window are required", name);
        goto fail;
    }
    r.threshold = (size_t)threshold;
    sevn = ola_cfg_get(node, "severity");
    r.severity = sevn ? ola_severity_parse(ola_cfg_scalar(sevn)) : 7;
    if (r.severity < 0) {
        ola_cfg_errf(err, sevn,
                     "severity: expected 0..10 or low, medium, high, critical");
        goto fail;
    }
    if (ola_cfg_get(node, "match") == NULL) {
        ola_cfg_errf(err, node, "alert '%s': match is required", name);
        goto fail;
    }
    r.match = ola_expr_compile(a->env, ola_cfg_get(node, "match"), err);
    if (r.match == NULL)
        goto fail;
    if (r.kind == OLA_AK_SEQUENCE) {
        if (ola_cfg_get(node, "then") == NULL) {
            ola_cfg_errf(err, node, "alert '%s': a sequence needs then:", name);
            goto fail;
        }
        r.then = ola_expr_compile(a->env, ola_cfg_get(node, "then"), err);
        if (r.then == NULL)
            goto fail;
    } else if (ola_cfg_get(node, "then") != NULL) {
        ola_cfg_errf(err, ola_cfg_get(node, "then"), "then: only for kind sequence");
        goto fail;
    }
    if (r.kind == OLA_AK_DISTINCT) {
        const struct ola_cfg *dn = ola_cfg_get(node, "distinct");
        const char *d = ola_cfg_scalar(dn);

        if (d == NULL || (r.distinct_path = ola_expr_path(a->env, d)) < 0) {
            ola_cfg_errf(err, dn ? dn : node, "distinct: expected a field path");
            goto fail;
        }
        r.distinct_text = strdup(d);
        if (r.distinct_text == NULL) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
    } else if (ola_cfg_get(node, "distinct") != NULL) {
        ola_cfg_errf(err, ola_cfg_get(node, "distinct"),
                     "distinct: only for kind distinct");
        goto fail;
    }
    if (ola_arule_key(a, &r, ola_cfg_get(node, "key"), err) != 0) {
        if (ola_cfg_get(node, "key") == NULL)
            ola_cfg_errf(err, node, "alert '%s': key is required", name);
        goto fail;
    }
    v = realloc(a->rules, (a->n_rules + 1) * sizeof(*v));
    if (v == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    a->rules = v;
    a->rules[a->n_rules] = r;
    return (int)a->n_rules++;
fail:
    ola_arule_free(&r);
    return -1;
}

size_t ola_alerts_count(const struct ola_alerts *a)
{
    return a ? a->n_rules : 0;
}

const char *ola_alerts_rule_name(const struct ola_alerts *a, size_t i)
{
    return i < a->n_rules ? a->rules[i].name : NULL;
}

const struct ola_alerts_stats *ola_alerts_stats(const struct ola_alerts *a)
{
    return &a->stats;
}

/* ---- raising -------------------------------------------------------------- */

static int ola_list_push(struct ola_alert_list *l, size_t rule, json_t *alert, int sev,
                         int64_t ts)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct ola_alert_raised *v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL) {
            json_decref(alert);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].rule = rule;
    l->v[l->n].alert = alert;
    l->v[l->n].severity = sev;
    l->v[l->n].ts = ts;
    l->n++;
    return 0;
}

void ola_alert_list_clear(struct ola_alert_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        json_decref(l->v[i].alert);
    l->n = 0;
}

void ola_alert_list_free(struct ola_alert_list *l)
{
    ola_alert_list_clear(l);
    free(l->v);
    l->v = NULL;
    l->cap = 0;
}

static json_t *ola_iso(int64_t ms)
{
    char buf[OLA_ISO_MAX];

    if (ola_time_format_iso(ms, buf, sizeof(buf)) != 0)
        return json_integer(ms);
    return json_string(buf);
}

/* Builds the alert object from items [from, k->n) plus an optional closing event. */
static json_t *ola_alert_build(const struct ola_arule *r, const struct ola_akey *k,
                               size_t from, int64_t then_ts, int64_t then_id)
{
    json_t *al = json_object(), *ids = json_array(), *vals = NULL;
    char win[32];
    int64_t first = k->items[from].ts, last = k->items[k->n - 1].ts;
    size_t i, count = k->n - from;

    if (al == NULL || ids == NULL)
        goto fail;
    if (r->kind == OLA_AK_DISTINCT && (vals = json_array()) == NULL)
        goto fail;
    for (i = from; i < k->n; i++) {
        if (json_array_append_new(ids, json_integer(k->items[i].id)) != 0)
            goto fail;
        if (vals != NULL &&
            json_array_append_new(vals, json_string(k->items[i].val)) != 0)
            goto fail;
    }
    if (then_id != 0 || then_ts != 0) {
        if (json_array_append_new(ids, json_integer(then_id)) != 0)
            goto fail;
        if (then_ts > last)
            last = then_ts;
    }
    if (ola_duration_format(r->window, win, sizeof(win)) != 0)
        win[0] = '\0';
    if (json_object_set_new(al, "rule", json_string(r->name)) != 0 ||
        json_object_set_new(al, "kind", json_string(ola_akind_names[r->kind])) != 0 ||
        json_object_set_new(al, "severity", json_integer(r->severity)) != 0 ||
        json_object_set_new(al, "key", json_string(k->key)) != 0 ||
        json_object_set_new(al, "key_field", json_string(r->key_text)) != 0 ||
        json_object_set_new(al, "count", json_integer((json_int_t)count)) != 0 ||
        json_object_set_new(al, "threshold", json_integer((json_int_t)r->threshold)) !=
            0 ||
        json_object_set_new(al, "window", json_string(win)) != 0 ||
        json_object_set_new(al, "first_seen", ola_iso(first)) != 0 ||
        json_object_set_new(al, "last_seen", ola_iso(last)) != 0)
        goto fail;
    if (vals != NULL) {
        if (json_object_set_new(al, "distinct_field", json_string(r->distinct_text)) !=
                0 ||
            json_object_set_new(al, "values", vals) != 0) {
            vals = NULL;
            goto fail;
        }
        vals = NULL;
    }
    if (then_id != 0 && json_object_set_new(al, "then_event_id", json_integer(then_id)))
        goto fail;
    if (json_object_set_new(al, "event_ids", ids) != 0) {
        ids = NULL;
        goto fail;
    }
    return al;
fail:
    json_decref(vals);
    json_decref(ids);
    json_decref(al);
    return NULL;
}

/* After an alert: quiet the key and start counting afresh. */
static void ola_akey_fired(struct ola_alerts *a, const struct ola_arule *r,
                           struct ola_akey *k, int64_t ts)
{
    int64_t q = r->suppress == OLA_SUPPRESS_WINDOW ? r->window : r->suppress;

    k->quiet_until = q > 0 ? ts + q : 0;
    ola_akey_clear(k);
    a->stats.raised++;
}

/* Builds the key text of the event; false when a key field is missing. */
static bool ola_event_key(struct ola_alerts *a, const struct ola_arule *r,
                          struct ola_expr_ctx *ctx, char *buf, size_t n)
{
    size_t i, used = 0;

    for (i = 0; i < r->n_key; i++) {
        json_t *v = ola_expr_get(a->env, ctx, r->key_path[i]);
        int w;

        if (i > 0) {
            if (used + 1 >= n)
                return false;
            buf[used++] = ',';
        }
        if (v == NULL || json_is_null(v) || json_is_array(v) || json_is_object(v))
            return false;
        w = ola_expr_text(v, buf + used, n - used);
        if (w < 0)
            return false;
        used += (size_t)w;
    }
    if (used == 0)
        return false;
    buf[used] = '\0';
    return true;
}

static int ola_feed_rule(struct ola_alerts *a, size_t ri, struct ola_expr_ctx *ctx,
                         int64_t ts, int64_t now_ms, struct ola_alert_list *out)
{
    struct ola_arule *r = &a->rules[ri];
    const struct ola_event *e = ctx->e;
    char key[OLA_ALERT_KEY_MAX];
    struct ola_akey *k;
    bool is_then = false, capped;
    char *val = NULL;
    uint64_t h;

    if (r->kind == OLA_AK_SEQUENCE && ola_expr_eval(a->env, r->then, ctx))
        is_then = true;
    else if (!ola_expr_eval(a->env, r->match, ctx))
        return 0;
    if (!ola_event_key(a, r, ctx, key, sizeof(key)))
        return 0;
    h = ola_hash(ri, key);
    k = ola_akey_find(a, ri, key, h);
    if (k == NULL && is_then)
        return 0; /* a success with no failures before it */
    if (r->kind == OLA_AK_DISTINCT) {
        char dv[OLA_ALERT_KEY_MAX];
        json_t *v = ola_expr_get(a->env, ctx, r->distinct_path);

        if (v == NULL || ola_expr_text(v, dv, sizeof(dv)) < 0)
            return 0;
        val = strdup(dv);
        if (val == NULL)
            return -1;
    }
    if (k == NULL) {
        k = ola_akey_new(a, ri, key, h, now_ms, &capped);
        if (k == NULL) {
            free(val);
            return capped ? 0 : -1;
        }
    } else {
        ola_list_unlink(r, k);
        ola_list_append(r, k);
    }
    k->touched = now_ms;
    k->live = now_ms - ts <= a->late_grace;
    if (ts > k->newest)
        k->newest = ts;
    if (k->quiet_until != 0 && ts <= k->quiet_until) {
        a->stats.suppressed++;
        free(val);
        return 0;
    }
    k->quiet_until = 0;
    if (is_then) {
        size_t from, end = 0, keep_n = k->n;
        json_t *al;

        /* the failures in [ts - window, ts]; later ones (late events) stay */
        while (end < k->n && k->items[end].ts <= ts)
            end++;
        from = end;
        while (from > 0 && k->items[from - 1].ts >= ts - r->window)
            from--;
        if (end - from < r->threshold) {
            ola_items_drop_front(k, end); /* a success ends the streak */
            return 0;
        }
        k->n = end; /* build on a view that ends at the success */
        al = ola_alert_build(r, k, from, ts, e->id);
        k->n = keep_n;
        if (al == NULL)
            return -1;
        ola_akey_fired(a, r, k, ts);
        return ola_list_push(out, ri, al, r->severity, ts);
    }
    if (ola_items_has_id(k, e->id)) {
        free(val);
        return 0;
    }
    if (val != NULL) {
        size_t i;

        for (i = 0; i < k->n; i++) {
            if (strcmp(k->items[i].val, val) == 0) {
                /* a repeated value moves to its newest time */
                if (k->items[i].ts > ts) {
                    free(val);
                    return 0;
                }
                free(k->items[i].val);
                memmove(k->items + i, k->items + i + 1,
                        (k->n - i - 1) * sizeof(*k->items));
                k->n--;
                break;
            }
        }
    }
    if (ola_items_insert(k, ts, e->id, val) != 0)
        return -1;
    ola_items_prune(k, r->window, r->threshold);
    if (r->kind != OLA_AK_SEQUENCE && k->n >= r->threshold) {
        json_t *al = ola_alert_build(r, k, 0, 0, 0);

        if (al == NULL)
            return -1;
        ola_akey_fired(a, r, k, k->items[k->n - 1].ts);
        return ola_list_push(out, ri, al, r->severity, ts);
    }
    return 0;
}

int ola_alerts_feed(struct ola_alerts *a, struct ola_expr_ctx *ctx, int64_t now_ms,
                    struct ola_alert_list *out)
{
    int64_t ts = ctx->e->created_ms > 0 ? ctx->e->created_ms : now_ms;
    size_t i;

    if (ts > a->clock)
        a->clock = ts;
    for (i = 0; i < a->n_rules; i++)
        if (ola_feed_rule(a, i, ctx, ts, now_ms, out) != 0)
            return -1;
    return 0;
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
        char *copy = NULL;

        if (!json_is_integer(tsv) || !json_is_integer(idv) || len < 2 || len > 3 ||
            (len == 3 && !json_is_string(vv)))
            return ola_err_set(err, EINVAL, "alert state: bad item in rule '%s'",
                               a->rules[ri].name);
        if ((len == 3) != (a->rules[ri].kind == OLA_AK_DISTINCT))
            return ola_err_set(err, EINVAL, "alert state: item does not fit rule '%s'",
                               a->rules[ri].name);
        if (len == 3 && (copy = strdup(json_string_value(vv))) == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
        if (ola_items_insert(k, json_integer_value(tsv), json_integer_value(idv), copy) !=
            0)
            return ola_err_set(err, ENOMEM, "out of memory");
    }
    ola_items_prune(k, a->rules[ri].window, a->rules[ri].threshold);
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
    if (ola_akey_find(a, ri, key, ola_hash(ri, key)) != NULL)
        return ola_err_set(err, EINVAL, "alert state: key '%s' of rule '%s' twice", key,
                           rule);
    k = ola_akey_new(a, ri, key, ola_hash(ri, key), INT64_MIN, &capped);
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
