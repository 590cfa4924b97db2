/*
 * rules_apply.c - the rule set at work: classify, tag, set severity, drop,
 * route, alert.
 *
 * ola_rules_apply makes one pass over a batch: per event, classification
 * from the catalog, the action rules in file order (later rules see earlier
 * rules' tags), the routing bits, and the alert rules; alerts raised are
 * appended to the batch as records of their own and routed like events.
 * rules.c built the rule set. Semantics: docs/rules.md.
 */
#include <string.h>

#include "filters/rules/alerts.h"
#include "filters/rules/catalog.h"
#include "filters/rules/expr.h"
#include "filters/rules/filter.h"
#include "filters/rules/rules_priv.h"

/* ---- applying -------------------------------------------------------------- */

/*
 * olagent.event_type = {id, name, categories} (the catalog's shared object
 * for known types); categories become tags.
 */
static int ola_classify(struct ola_rules *r, struct ola_event *e, bool *have,
                        uint32_t *mask)
{
    json_t *ola, *et, *c;
    long long id;
    size_t i;

    *have = false;
    *mask = 0;
    if (!ola_event_int(e, "event_type_id", &id))
        return 0;
    *have = r->cat != NULL;
    ola = ola_event_ola(e);
    if (ola == NULL)
        return -1;
    et = r->cat ? ola_catalog_event_type(r->cat, id, mask) : NULL;
    if (et != NULL) {
        if (json_object_set(ola, "event_type", et) != 0)
            return -1;
        json_array_foreach(json_object_get(et, "categories"), i, c)
        {
            if (ola_event_add_tag_json(e, c) != 0)
                return -1;
        }
        return 0;
    }
    /* unknown to the catalog: the id and no categories */
    et = json_pack("{s:I, s:[]}", "id", (json_int_t)id, "categories");
    if (et == NULL || json_object_set_new(ola, "event_type", et) != 0)
        return -1;
    return 0;
}

static int ola_set_severity(struct ola_rules *r, struct ola_event *e, int sev)
{
    json_t *ola = ola_event_ola(e);

    e->severity = sev;
    if (ola == NULL || sev < 0 || sev > 10 ||
        json_object_set(ola, "severity", r->sev_num[sev]) != 0 ||
        json_object_set(ola, "severity_name", r->sev_name[sev]) != 0)
        return -1;
    return 0;
}

/* Bits of the outputs whose `when` takes the context's record. */
static uint32_t ola_when_bits(struct ola_rules *r)
{
    uint32_t bits = r->all_outputs;
    size_t i;

    for (i = 0; i < r->n_outputs; i++)
        if (r->when[i] != NULL && !ola_expr_eval(r->env, r->when[i], &r->ctx))
            bits &= ~(UINT32_C(1) << i);
    return bits;
}

static int ola_apply_event(struct ola_rules *r, struct ola_event *e, int64_t now_ms)
{
    uint32_t mask, route = 0;
    bool have, routed = false;
    int sev = e->severity;
    size_t i, t;

    if (ola_classify(r, e, &have, &mask) != 0)
        return -1;
    ola_expr_ctx_set(&r->ctx, e, have, mask);
    for (i = 0; i < r->n_rules && !e->dropped; i++) {
        const struct ola_rule *rule = &r->rules[i];

        if (!ola_expr_eval(r->env, rule->match, &r->ctx))
            continue;
        if (r->hits != NULL)
            r->hits[i] = true;
        for (t = 0; t < rule->n_tags; t++)
            if (ola_event_add_tag_json(e, rule->tagv[t]) != 0)
                return -1;
        if (rule->severity > sev) {
            sev = rule->severity;
            e->severity = sev; /* visible to later rules' severity: tests */
        }
        if (rule->has_route) {
            route |= rule->route;
            routed = true;
        }
        if (rule->drop) {
            e->dropped = true;
            r->stats.dropped++;
        }
    }
    if (sev != OLA_SEVERITY_UNSET && ola_set_severity(r, e, sev) != 0)
        return -1;
    if (e->dropped)
        e->routes = 0;
    else
        e->routes &= (routed ? route : r->all_outputs) & ola_when_bits(r);
    return ola_alerts_feed(r->alerts, &r->ctx, now_ms, &r->raised);
}

static int ola_append_alert(struct ola_rules *r, struct ola_batch *b,
                            struct ola_alert_raised *al)
{
    struct ola_alert_extra *x = &r->extra[al->rule];
    struct ola_event *e = ola_batch_add(b, OLA_REC_ALERT, json_object(), NULL, 0);
    json_t *ola;
    size_t t;

    if (e == NULL || e->ev == NULL)
        return -1;
    e->created_ms = al->ts;
    ola = ola_event_ola(e);
    if (ola == NULL || json_object_set_new(ola, "alert", al->alert) != 0) {
        al->alert = NULL;
        return -1;
    }
    al->alert = NULL;
    if (ola_event_add_tag_json(e, r->alert_tag) != 0)
        return -1;
    for (t = 0; t < x->n_tags; t++)
        if (ola_event_add_tag_json(e, x->tagv[t]) != 0)
            return -1;
    if (ola_set_severity(r, e, al->severity) != 0)
        return -1;
    ola_expr_ctx_set(&r->ctx, e, false, 0);
    e->routes &= (x->has_route ? x->route : r->all_outputs) & ola_when_bits(r);
    r->stats.alerts++;
    x->raised++;
    return 0;
}

int ola_rules_apply(struct ola_rules *r, struct ola_batch *b, int64_t now_ms)
{
    size_t i, n = b->n;
    int rc = -1;

    ola_alert_list_clear(&r->raised);
    for (i = 0; i < n; i++) {
        if (b->ev[i].kind != OLA_REC_EVENT)
            continue;
        if (ola_apply_event(r, &b->ev[i], now_ms) != 0)
            goto fail;
    }
    for (i = 0; i < r->raised.n; i++)
        if (ola_append_alert(r, b, &r->raised.v[i]) != 0)
            goto fail;
    rc = 0;
fail:
    ola_alerts_expire(r->alerts, now_ms);
    /* a backfill has no rest for hours: its expired keys' chunks go here */
    ola_alerts_trim(r->alerts, false);
    r->stats.state_capped = ola_alerts_stats(r->alerts)->state_capped;
    r->stats.state_evicted = ola_alerts_stats(r->alerts)->state_evicted;
    ola_alert_list_clear(&r->raised);
    r->ctx.e = NULL;
    return rc;
}

json_t *ola_rules_state_save(const struct ola_rules *r)
{
    return ola_alerts_save(r->alerts);
}

int ola_rules_state_save_text(const struct ola_rules *r, struct ola_buf *out)
{
    return ola_alerts_save_text(r->alerts, out);
}

void ola_rules_trim(struct ola_rules *r)
{
    ola_alerts_trim(r->alerts, true);
    ola_catalog_trim(r->cat);
}

int ola_rules_state_restore(struct ola_rules *r, const json_t *state, struct ola_err *err)
{
    int rc = ola_alerts_restore(r->alerts, state, err);

    r->stats.state_capped = ola_alerts_stats(r->alerts)->state_capped;
    r->stats.state_evicted = ola_alerts_stats(r->alerts)->state_evicted;
    return rc;
}

const struct ola_rules_stats *ola_rules_stats(const struct ola_rules *r)
{
    return &r->stats;
}

const struct ola_alerts_settings *ola_rules_alerts_settings(const struct ola_rules *r)
{
    return ola_alerts_settings_of(r->alerts);
}

int ola_rules_find(const struct ola_rules *r, const char *name, bool *is_alert)
{
    size_t i;

    for (i = 0; i < r->n_rules; i++)
        if (strcmp(r->rules[i].name, name) == 0) {
            *is_alert = false;
            return (int)i;
        }
    for (i = 0; i < ola_alerts_count(r->alerts); i++)
        if (strcmp(ola_alerts_rule_name(r->alerts, i), name) == 0) {
            *is_alert = true;
            return (int)i;
        }
    return -1;
}

size_t ola_rules_flag_count(const struct ola_rules *r)
{
    return r->n_rules;
}

void ola_rules_trace(struct ola_rules *r, bool *hits)
{
    r->hits = hits;
}

struct ola_catalog *ola_rules_catalog(struct ola_rules *r)
{
    return r->cat;
}

size_t ola_rules_alert_count(const struct ola_rules *r)
{
    return ola_alerts_count(r->alerts);
}

const char *ola_rules_alert_name(const struct ola_rules *r, size_t i)
{
    return ola_alerts_rule_name(r->alerts, i);
}

uint64_t ola_rules_alerts_raised(const struct ola_rules *r, size_t i)
{
    return i < ola_alerts_count(r->alerts) ? r->extra[i].raised : 0;
}
