/*
 * alerts.c - windowed alert rules over event time: reading the rules, and
 * the detectors that feed them.
 *
 * Each matching event goes into the state of its (rule, key) pair
 * (alerts_state.c: a small sorted array of recent events, never longer than
 * the rule's threshold): the question asked is only "are there N of them
 * within the window". An event id already held is not counted again. After
 * an alert the key is quiet (suppressed) for the suppress period, in event
 * time, and starts counting afresh after it: once per window per key by
 * default. The `alerts:` map is an option table (ola_alerts_options) read by
 * the one walker; suppress, a type of its own, is parsed by a hook.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "config/options.h"
#include "filters/rules/alerts.h"
#include "filters/rules/alerts_priv.h"
#include "filters/rules/severity.h"

/* ---- settings -------------------------------------------------------------- */

/* suppress: window, none (or 0) or a duration; def when absent. */
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

/* suppress: the text the walker read, parsed into suppress_ms. */
static int ola_alerts_suppress_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                    void *obj, void *ctx, struct ola_err *err)
{
    struct ola_alerts_settings *s = obj;

    (void)opt;
    (void)ctx;
    return ola_suppress_parse(map, OLA_SUPPRESS_WINDOW, &s->suppress_ms, err);
}

#define OLA_AS_OFF(f) offsetof(struct ola_alerts_settings, f)

/* Every setting of the alerts module: the `alerts:` map. */
const struct ola_opt ola_alerts_options[] = {
    {.name = "max_keys",
     .type = OLA_OPT_INT,
     .offset = OLA_AS_OFF(max_keys),
     .def_int = 100000,
     .min = 1,
     .max = 100000000,
     .help = "alert state keys, all rules together (1 .. 100000000)"},
    {.name = "suppress",
     .type = OLA_OPT_STR,
     .offset = OLA_AS_OFF(suppress),
     .def_str = "window",
     .hook = ola_alerts_suppress_hook,
     .help = "quiet after an alert: window, none or a duration"},
    {.name = "late_grace",
     .type = OLA_OPT_DURATION,
     .offset = OLA_AS_OFF(late_grace_ms),
     .def_int = 10 * 60 * 1000,
     .min = 0,
     .max = INT64_C(7) * 24 * 3600 * 1000,
     .help = "idle live keys expire after window + this (0 .. 7d)"},
    {.name = NULL},
};

int ola_alerts_settings_read(const struct ola_cfg *map, struct ola_alerts_settings *out,
                             struct ola_err *err)
{
    memset(out, 0, sizeof(*out));
    ola_opts_defaults(ola_alerts_options, out);
    out->suppress_ms = OLA_SUPPRESS_WINDOW;
    return ola_opts_read(map, "alerts", ola_alerts_options, out, NULL, err);
}

const struct ola_alerts_settings *ola_alerts_settings_of(const struct ola_alerts *a)
{
    return &a->set;
}

/* ---- rules ---------------------------------------------------------------- */

struct ola_alerts *ola_alerts_new(struct ola_expr_env *env,
                                  const struct ola_cfg *settings, struct ola_err *err)
{
    struct ola_alerts *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    a->env = env;
    if (ola_alerts_settings_read(settings, &a->set, err) != 0)
        goto fail;
    a->max_keys = (size_t)a->set.max_keys;
    a->suppress = a->set.suppress_ms;
    a->late_grace = a->set.late_grace_ms;
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
    ola_pages_free(a->buckets, a->n_buckets * sizeof(*a->buckets));
    ola_slab_release(&a->slab); /* every key freed: the last chunk goes too */
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
    static const char *const keys[] = {
        "kind",   "match",    "then",     "key",      "distinct",       "threshold",
        "window", "severity", "suppress", "max_keys", "then_threshold", NULL};
    struct ola_arule r;
    const struct ola_cfg *sevn;
    long long threshold, then_threshold, max_keys;
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
        ola_cfg_int(node, "then_threshold", 1, 1, 10000, &then_threshold, err) != 0 ||
        ola_cfg_int(node, "max_keys", (long long)a->max_keys, 1, 100000000, &max_keys,
                    err) != 0 ||
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
    r.then_threshold = (size_t)then_threshold;
    r.max_keys = (size_t)max_keys;
    if (r.kind != OLA_AK_SEQUENCE && ola_cfg_get(node, "then_threshold") != NULL) {
        ola_cfg_errf(err, ola_cfg_get(node, "then_threshold"),
                     "then_threshold: only for kind sequence");
        goto fail;
    }
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
    if (a->n_rules == OLA_ALERT_RULES_MAX) {
        ola_cfg_errf(err, node, "alert '%s': more than %d alert rules", name,
                     OLA_ALERT_RULES_MAX);
        goto fail;
    }
    if (OLA_VEC_GROW(a->rules, a->cap_rules, a->n_rules + 1) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
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
    if (OLA_VEC_GROW(l->v, l->cap, l->n + 1) != 0) {
        json_decref(alert);
        return -1;
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
    char win[32], num[OLA_AVAL_NUM_MAX];
    int64_t first = k->items[from].ts, last = k->items[k->n - 1].ts;
    size_t i, count = k->n - from;

    if (al == NULL || ids == NULL)
        goto fail;
    if (r->kind == OLA_AK_DISTINCT && (vals = json_array()) == NULL)
        goto fail;
    for (i = from; i < k->n; i++) {
        if (json_array_append_new(ids, json_integer(k->items[i].id)) != 0)
            goto fail;
        if (vals != NULL && json_array_append_new(
                                vals, json_string(ola_aitem_val(&k->items[i], num))) != 0)
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

/* True when k holds a closing event of a sequence earlier than ts. */
static bool ola_seq_first_then(const struct ola_akey *k, int64_t ts)
{
    size_t i;

    for (i = 0; i < k->n && k->items[i].ts < ts; i++)
        if (ola_aitem_then(&k->items[i]))
            return true;
    return false;
}

/*
 * A sequence's closing (then) event at ts. It counts when at least
 * threshold match events precede the streak's first closing event within
 * the window; the then_threshold-th such closing event within the window
 * raises the alert. One that does not count ends the streak: the events
 * held up to ts are forgotten.
 */
static int ola_seq_then(struct ola_alerts *a, size_t ri, struct ola_akey *k, int64_t ts,
                        int64_t id, struct ola_alert_list *out)
{
    const struct ola_arule *r = &a->rules[ri];
    size_t i, from, end = 0, na = 0, nb = 0, keep_n = k->n;
    int64_t first_then = ts;
    json_t *al;

    if (ola_aitems_has_id(k, id))
        return 0; /* a closing event held already */
    while (end < k->n && k->items[end].ts <= ts)
        end++;
    from = end;
    while (from > 0 && k->items[from - 1].ts >= ts - r->window)
        from--;
    for (i = from; i < end; i++)
        if (ola_aitem_then(&k->items[i]) && nb++ == 0)
            first_then = k->items[i].ts;
    for (i = from; i < end; i++)
        na += !ola_aitem_then(&k->items[i]) && k->items[i].ts <= first_then;
    if (na < r->threshold) {
        ola_aitems_drop_front(k, end); /* the streak ends here */
        return 0;
    }
    if (nb + 1 < r->then_threshold) {
        if (ola_aitems_insert_then(a, k, ts, id) != 0)
            return -1;
        ola_aitems_prune(k, r->window, r->threshold + r->then_threshold - 1);
        return 0;
    }
    k->n = end; /* build on a view that ends at this closing event */
    al = ola_alert_build(r, k, from, ts, id);
    k->n = keep_n;
    if (al == NULL)
        return -1;
    if (r->then_threshold > 1 &&
        (json_object_set_new(al, "count", json_integer((json_int_t)na)) != 0 ||
         json_object_set_new(al, "then_count", json_integer((json_int_t)(nb + 1))) != 0 ||
         json_object_set_new(al, "then_threshold",
                             json_integer((json_int_t)r->then_threshold)) != 0)) {
        json_decref(al);
        return -1;
    }
    ola_akey_fired(a, r, k, ts);
    return ola_list_push(out, ri, al, r->severity, ts);
}

static int ola_feed_rule(struct ola_alerts *a, size_t ri, struct ola_expr_ctx *ctx,
                         int64_t ts, int64_t now_ms, struct ola_alert_list *out)
{
    struct ola_arule *r = &a->rules[ri];
    const struct ola_event *e = ctx->e;
    char key[OLA_ALERT_KEY_MAX];
    struct ola_akey *k;
    char dv[OLA_ALERT_KEY_MAX];
    bool is_then = false, capped;
    const char *val = NULL;
    uint64_t h;

    if (r->kind == OLA_AK_SEQUENCE && ola_expr_eval(a->env, r->then, ctx))
        is_then = true;
    else if (!ola_expr_eval(a->env, r->match, ctx))
        return 0;
    if (!ola_event_key(a, r, ctx, key, sizeof(key)))
        return 0;
    h = ola_akey_hash(ri, key);
    k = ola_akey_find(a, ri, key, h);
    if (k == NULL && is_then)
        return 0; /* a success with no failures before it */
    if (r->kind == OLA_AK_DISTINCT) {
        json_t *v = ola_expr_get(a->env, ctx, r->distinct_path);

        if (v == NULL || ola_expr_text(v, dv, sizeof(dv)) < 0)
            return 0;
        val = dv; /* copied into the state's slab when it is held */
    }
    if (k == NULL) {
        k = ola_akey_new(a, ri, key, h, now_ms, &capped);
        if (k == NULL)
            return capped ? 0 : -1;
    } else {
        ola_akey_unlink(r, k);
        ola_akey_append(r, k);
    }
    k->touched = now_ms;
    k->live = now_ms - ts <= a->late_grace;
    if (ts > k->newest)
        k->newest = ts;
    if (k->quiet_until != 0 && ts <= k->quiet_until) {
        a->stats.suppressed++;
        return 0;
    }
    k->quiet_until = 0;
    if (is_then)
        return ola_seq_then(a, ri, k, ts, e->id, out);
    if (r->kind == OLA_AK_SEQUENCE && ola_seq_first_then(k, ts))
        return 0; /* after this streak's first closing event: not counted */
    if (ola_aitems_has_id(k, e->id))
        return 0;
    if (val != NULL) {
        uintptr_t num = ola_aval_num(val);
        size_t i;

        for (i = 0; i < k->n; i++) {
            if (ola_aitem_val_is(&k->items[i], val, num)) {
                /* a repeated value moves to its newest time */
                if (k->items[i].ts > ts)
                    return 0;
                ola_aitems_remove(k, i);
                break;
            }
        }
    }
    if (ola_aitems_insert(a, k, ts, e->id, val) != 0)
        return -1;
    ola_aitems_prune(k, r->window, r->threshold + r->then_threshold - 1);
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
