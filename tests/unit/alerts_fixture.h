/*
 * alerts_fixture.h - what the alert tests share (test_alerts.c,
 * test_alerts_state.c): a rule set built from a rule file's text and an
 * `alerts:` map, one event fed at a time, and the last alert's fields.
 * Included once per test file (static functions).
 */
#ifndef OLA_ALERTS_FIXTURE_H
#define OLA_ALERTS_FIXTURE_H

#include "filter_test.h"
#include "rules_fixture.h"

#define T0  INT64_C(1700000000000)
#define SEC INT64_C(1000)
#define MIN (60 * SEC)

static const char *const outs[] = {"out"};

/* Builds the rule set from a rule file's text and an `alerts:` map (YAML). */
static struct ola_rules *build(struct fx *f, const char *rules, const char *alerts)
{
    char cfg[8192];
    const char *path = ola_t_write(f->dir, "alerts.yaml", rules);

    assert_non_null(path);
    snprintf(cfg, sizeof(cfg), "rules: [\"%s\"]\nalerts: %s\n", path,
             alerts ? alerts : "{}");
    ola_cfg_doc_destroy(f->doc);
    f->doc = NULL;
    assert_int_equal(
        ola_cfg_load_string("olagent.yaml", cfg, strlen(cfg), &f->doc, &f->err), 0);
    memset(&f->s, 0, sizeof(f->s));
    f->s.rules = ola_cfg_get(ola_cfg_root(f->doc), "rules");
    f->s.alerts = ola_cfg_get(ola_cfg_root(f->doc), "alerts");
    return ola_rules_new(&f->s, ola_t_catalog_path(), outs, 1, &f->err);
}

/* Feeds one event; returns the number of alerts it raised (last kept in f->last). */
static int feed(struct fx *f, long long type, const char *user, const char *ip,
                int64_t id, int64_t t)
{
    char json[512];
    size_t i;
    int n = 0;

    ola_batch_reset(&f->b);
    snprintf(json, sizeof(json),
             "{\"event_type_id\":%lld,\"user_id\":%s,\"actor_user_id\":%s,"
             "\"ipaddr\":\"%s\",\"account_id\":1}",
             type, user, user, ip);
    assert_non_null(ola_t_add(&f->b, id, t, json));
    assert_int_equal(ola_rules_apply(f->r, &f->b, f->now ? f->now : t), 0);
    for (i = 0; i < f->b.n; i++) {
        if (f->b.ev[i].kind != OLA_REC_ALERT)
            continue;
        json_decref(f->last);
        f->last = json_incref(json_object_get(f->b.ev[i].ola, "alert"));
        n++;
    }
    return n;
}

static long long alert_int(struct fx *f, const char *k)
{
    return json_integer_value(json_object_get(f->last, k));
}

static const char *alert_str(struct fx *f, const char *k)
{
    return json_string_value(json_object_get(f->last, k));
}

/* The keys of a saved state (version 2: each rule's). */
static size_t state_keys(const json_t *st)
{
    const json_t *r;
    size_t i, n = 0;

    json_array_foreach(json_object_get(st, "rules"), i, r)
    {
        n += json_array_size(json_object_get(r, "keys"));
    }
    return n;
}

static size_t saved_keys(struct fx *f)
{
    json_t *st = ola_rules_state_save(f->r);
    size_t n = state_keys(st);

    json_decref(st);
    return n;
}

#endif
