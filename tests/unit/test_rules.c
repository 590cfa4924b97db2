/*
 * test_rules.c - the rule set: the default pack over crafted events (the
 * categories as tags, every flag with its type ids, severity), drops,
 * routing with route actions and outputs' `when:`, alert records in the
 * batch and their json form, and load errors with file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent/core/buf.h"
#include "filter_test.h"
#include "rules_fixture.h"
#include "outputs/formats/format.h"

static const char *const ola_t_outputs[] = {"siem", "archive", "pager"};

/*
 * Loads a config (YAML text with `rules:`, `alerts:` and `outputs:`) into
 * minimal settings and builds the rule set. "@PACK@" stands for the
 * default pack's path, "@DIR@" for the test directory.
 */
static struct ola_rules *build(struct fx *f, const char *yaml)
{
    char text[8192], *p;
    const struct ola_cfg *root, *outs;
    size_t i;

    snprintf(text, sizeof(text), "%s", yaml);
    while ((p = strstr(text, "@PACK@")) != NULL) {
        char rest[8192];

        snprintf(rest, sizeof(rest), "%s", p + 6);
        snprintf(p, sizeof(text) - (size_t)(p - text), "%s%s", ola_t_default_pack(),
                 rest);
    }
    while ((p = strstr(text, "@DIR@")) != NULL) {
        char rest[8192];

        snprintf(rest, sizeof(rest), "%s", p + 5);
        snprintf(p, sizeof(text) - (size_t)(p - text), "%s%s", f->dir, rest);
    }
    ola_rules_destroy(f->r);
    f->r = NULL;
    ola_cfg_doc_destroy(f->doc);
    f->doc = NULL;
    if (ola_cfg_load_string("olagent.yaml", text, strlen(text), &f->doc, &f->err) != 0)
        return NULL;
    root = ola_cfg_root(f->doc);
    memset(&f->s, 0, sizeof(f->s));
    f->s.rules = ola_cfg_get(root, "rules");
    f->s.alerts = ola_cfg_get(root, "alerts");
    outs = ola_cfg_get(root, "outputs");
    for (i = 0; i < ola_cfg_len(outs); i++) {
        f->s.outputs[i].type = "stdout";
        f->s.outputs[i].name = ola_cfg_scalar(ola_cfg_get(ola_cfg_at(outs, i), "name"));
        f->s.outputs[i].node = ola_cfg_at(outs, i);
    }
    f->s.n_outputs = ola_cfg_len(outs);
    f->r = ola_rules_new(&f->s, ola_t_catalog_path(), ola_t_outputs, 3, &f->err);
    return f->r;
}

static const char *pack_only = "rules: [\"@PACK@\"]\n"
                               "outputs:\n"
                               "  - {name: siem}\n"
                               "  - {name: archive}\n"
                               "  - {name: pager}\n";

/* Runs one event of type `type` (plus extra JSON members) through the rules. */
static struct ola_event *run1(struct fx *f, long long type, const char *extra)
{
    char json[1024];

    ola_batch_reset(&f->b);
    snprintf(json, sizeof(json), "{\"event_type_id\":%lld,\"user_id\":1,%s}", type,
             extra ? extra : "\"ipaddr\":\"10.0.0.1\"");
    assert_non_null(ola_t_add(&f->b, 100, 1000, json));
    assert_int_equal(ola_rules_apply(f->r, &f->b, 1000), 0);
    return &f->b.ev[0];
}

static void test_classification(void **state)
{
    struct fx *f = *state;
    struct ola_event *e;
    json_t *et;

    assert_non_null(build(f, pack_only));
    e = run1(f, 6, NULL);
    et = json_object_get(e->ola, "event_type");
    assert_int_equal(json_integer_value(json_object_get(et, "id")), 6);
    assert_string_equal(json_string_value(json_object_get(et, "name")),
                        "USER_FAILED_ONELOGIN_LOGIN");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(et, "categories"), 0)),
        "login_failure");
    assert_true(ola_t_has_tag(e, "login_failure"));
    assert_int_equal(e->severity, OLA_SEVERITY_UNSET);
    assert_null(json_object_get(e->ola, "severity"));

    e = run1(f, 950, NULL); /* two categories */
    assert_true(ola_t_has_tag(e, "login_failure"));
    assert_true(ola_t_has_tag(e, "mfa"));
    e = run1(f, 5, NULL);
    assert_true(ola_t_has_tag(e, "login_success"));
    e = run1(f, 19, NULL);
    assert_true(ola_t_has_tag(e, "lockout"));
    assert_int_equal(e->severity, 3);
    e = run1(f, 4, NULL);
    assert_true(ola_t_has_tag(e, "privilege"));
    e = run1(f, 1201, NULL);
    assert_true(ola_t_has_tag(e, "authz_denied"));
    e = run1(f, 7, NULL); /* logout: no category, no tags */
    assert_int_equal(json_array_size(json_object_get(e->ola, "tags")), 0);
    /* unknown to the catalog: id only, no categories */
    e = run1(f, 77777, NULL);
    et = json_object_get(e->ola, "event_type");
    assert_int_equal(json_integer_value(json_object_get(et, "id")), 77777);
    assert_null(json_object_get(et, "name"));
    assert_int_equal(json_array_size(json_object_get(et, "categories")), 0);
    /* no event_type_id at all: left alone */
    ola_batch_reset(&f->b);
    assert_non_null(ola_t_add(&f->b, 1, 1, "{\"user_id\":1}"));
    assert_int_equal(ola_rules_apply(f->r, &f->b, 1), 0);
    assert_null(json_object_get(f->b.ev[0].ola, "event_type"));
}

static void check_flag(struct fx *f, long long type, const char *tag, int sev)
{
    /* an actor other than the user: user_assumed and password_revealed need one */
    struct ola_event *e = run1(f, type, "\"ipaddr\":\"10.0.0.1\",\"actor_user_id\":2");

    if (!ola_t_has_tag(e, tag))
        fail_msg("type %lld lacks tag %s", type, tag);
    assert_int_equal(e->severity, sev);
    assert_int_equal(json_integer_value(json_object_get(e->ola, "severity")), sev);
}

static void test_default_flags(void **state)
{
    struct fx *f = *state;
    static const long long grants[] = {72,   73,   2106, 2107, 2108,
                                       2109, 2110, 2111, 2112, 2113};
    struct ola_event *e;
    size_t i;

    assert_non_null(build(f, pack_only));
    check_flag(f, 3, "user_assumed", 3);
    check_flag(f, 555, "user_assumed", 3);
    for (i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
        check_flag(f, grants[i], "privilege_grant", 5);
    check_flag(f, 240, "password_revealed", 7);
    check_flag(f, 24, "auth_factor_removed", 7);
    check_flag(f, 172, "auth_factor_removed", 7);
    check_flag(f, 1100, "temp_mfa_token", 7);
    check_flag(f, 179, "api_credential_created", 5);
    check_flag(f, 410, "broadcaster_changed", 7);
    check_flag(f, 411, "broadcaster_changed", 7);
    check_flag(f, 412, "broadcaster_changed", 7);
    /* neighbours of the flagged ids are not flagged */
    e = run1(f, 2105, NULL);
    assert_false(ola_t_has_tag(e, "privilege_grant"));
    e = run1(f, 2114, NULL);
    assert_false(ola_t_has_tag(e, "privilege_grant"));
    e = run1(f, 1101, NULL);
    assert_false(ola_t_has_tag(e, "temp_mfa_token"));

    /* risk: 49 no, 50 yes; a failed login with risk gets both flags, max severity */
    e = run1(f, 5, "\"risk_score\":49");
    assert_false(ola_t_has_tag(e, "high_risk"));
    e = run1(f, 5, "\"risk_score\":50");
    assert_true(ola_t_has_tag(e, "high_risk"));
    assert_false(ola_t_has_tag(e, "high_risk_failed_login"));
    assert_int_equal(e->severity, 3);
    assert_string_equal(json_string_value(json_object_get(e->ola, "severity_name")),
                        "low");
    e = run1(f, 6, "\"risk_score\":90");
    assert_true(ola_t_has_tag(e, "high_risk"));
    assert_true(ola_t_has_tag(e, "high_risk_failed_login"));
    assert_int_equal(e->severity, 3);
    assert_string_equal(json_string_value(json_object_get(e->ola, "severity_name")),
                        "low");
    e = run1(f, 240, "\"risk_score\":null");
    assert_false(ola_t_has_tag(e, "high_risk"));
}

static void test_drop_and_custom(void **state)
{
    struct fx *f = *state;
    struct ola_event *e;

    assert_non_null(ola_t_write(f->dir, "local.yaml",
                                "rules:\n"
                                "  - name: drop_logouts\n"
                                "    match: {event_type: [USER_LOGGED_OUT_OF_ONELOGIN]}\n"
                                "    drop: true\n"
                                "  - name: finance_admins\n"
                                "    match:\n"
                                "      all:\n"
                                "        - {field: olagent.user.department, equals: "
                                "Finance}\n"
                                "        - {tags: [privilege]}\n"
                                "    tags: [finance_privilege]\n"
                                "    severity: critical\n"
                                "  - name: after_tags\n"
                                "    match: {tags: [finance_privilege]}\n"
                                "    tags: [seen_earlier_tag]\n"
                                "  - name: disabled\n"
                                "    enabled: false\n"
                                "    match: {event_type: [5]}\n"
                                "    drop: true\n"));
    assert_non_null(build(f,
                          "rules: [\"@PACK@\", \"@DIR@/local.yaml\"]\n"
                          "outputs: [{name: siem}, {name: archive}, {name: pager}]\n"));
    e = run1(f, 7, NULL);
    assert_true(e->dropped);
    assert_int_equal(e->routes, 0);
    assert_int_equal(ola_rules_stats(f->r)->dropped, 1);
    e = run1(f, 5, NULL);
    assert_false(e->dropped);
    assert_int_equal(e->routes, 7);
    /* enrichment fields by dotted path; later rules see earlier tags */
    ola_batch_reset(&f->b);
    e = ola_t_add(&f->b, 1, 1, "{\"event_type_id\":4,\"user_id\":9}");
    assert_non_null(e);
    e->ola = json_pack("{s:{s:s}}", "user", "department", "Finance");
    assert_int_equal(ola_rules_apply(f->r, &f->b, 1), 0);
    e = &f->b.ev[0];
    assert_true(ola_t_has_tag(e, "finance_privilege"));
    assert_true(ola_t_has_tag(e, "seen_earlier_tag"));
    assert_int_equal(e->severity, 9);
    assert_string_equal(json_string_value(json_object_get(e->ola, "severity_name")),
                        "critical");
}

static void test_routing(void **state)
{
    struct fx *f = *state;
    struct ola_event *e;

    assert_non_null(ola_t_write(f->dir, "route.yaml",
                                "rules:\n"
                                "  - name: mfa_to_siem\n"
                                "    match: {categories: [mfa]}\n"
                                "    route: [siem]\n"
                                "  - name: privilege_to_archive\n"
                                "    match: {categories: [privilege]}\n"
                                "    route: [archive]\n"));
    assert_non_null(build(f, "rules: [\"@PACK@\", \"@DIR@/route.yaml\"]\n"
                             "outputs:\n"
                             "  - name: siem\n"
                             "    when: {severity: \">= 3\"}\n"
                             "  - name: archive\n"
                             "  - name: pager\n"
                             "    when: {tags: [alert]}\n"));
    /* no route action: every output whose when matches */
    e = run1(f, 5, NULL);
    assert_int_equal(e->routes, 2);      /* archive only: severity unset, not an alert */
    e = run1(f, 6, "\"risk_score\":90"); /* severity 3 (low), no route action */
    assert_int_equal(e->routes, 1 | 2);
    e = run1(f, 240, NULL); /* privilege, no actor: no severity, routed to archive only */
    assert_int_equal(e->routes, 2);
    /* a route action restricts; when still applies */
    e = run1(f, 22, NULL); /* mfa, no severity: route siem, but siem's when says no */
    assert_int_equal(e->routes, 0);
    e = run1(f, 24, NULL); /* mfa + auth_factor_removed severity 7 */
    assert_int_equal(e->routes, 1);
    /* two route actions: union */
    e = run1(f, 1100, NULL); /* mfa, severity 7 */
    assert_int_equal(e->routes, 1);
    e = run1(f, 72, NULL); /* privilege: archive; severity 5 but not routed to siem */
    assert_int_equal(e->routes, 2);
}

static void test_alert_records(void **state)
{
    struct fx *f = *state;
    const struct ola_format_ops *json = ola_format_find("json");
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_event *a;
    json_t *rec, *al;
    int i;

    assert_non_null(json);
    assert_non_null(build(f, "rules: [\"@PACK@\"]\n"
                             "outputs:\n"
                             "  - name: siem\n"
                             "    when: {severity: \">= 7\"}\n"
                             "  - name: archive\n"
                             "    when: {not: {tags: [alert]}}\n"
                             "  - name: pager\n"
                             "    when: {field: olagent.alert.rule, prefix: mfa_}\n"));
    ola_batch_reset(&f->b);
    for (i = 0; i < 5; i++) {
        char ev[256];

        snprintf(ev, sizeof(ev),
                 "{\"event_type_id\":950,\"user_id\":42,\"ipaddr\":\"1.2.3.4\"}");
        assert_non_null(ola_t_add(&f->b, 500 + i, 1700000000000LL + i * 1000, ev));
    }
    assert_int_equal(ola_rules_apply(f->r, &f->b, 1700000010000LL), 0);
    assert_int_equal(f->b.n, 6);
    a = &f->b.ev[5];
    assert_int_equal(a->kind, OLA_REC_ALERT);
    assert_int_equal(a->severity, 7);
    assert_int_equal(a->created_ms, 1700000004000LL);
    assert_true(ola_t_has_tag(a, "alert"));
    assert_true(ola_t_has_tag(a, "mfa_fatigue"));
    assert_int_equal(a->routes, 1 | 4);
    assert_int_equal(f->b.ev[0].routes, 2); /* events: archive only */
    assert_int_equal(ola_rules_stats(f->r)->alerts, 1);

    assert_int_equal(ola_format_event(json, a, NULL, &out), 0);
    rec = json_loads(out.data, 0, NULL);
    assert_non_null(rec);
    al = json_object_get(json_object_get(rec, "olagent"), "alert");
    assert_non_null(al);
    assert_string_equal(json_string_value(json_object_get(al, "rule")), "mfa_fatigue");
    assert_string_equal(json_string_value(json_object_get(al, "key")), "42");
    assert_int_equal(json_integer_value(json_object_get(al, "count")), 5);
    assert_string_equal(json_string_value(json_object_get(al, "window")), "15m");
    assert_string_equal(json_string_value(json_object_get(al, "first_seen")),
                        "2023-11-14T22:13:20.000Z");
    assert_string_equal(json_string_value(json_object_get(al, "last_seen")),
                        "2023-11-14T22:13:24.000Z");
    assert_int_equal(json_array_size(json_object_get(al, "event_ids")), 5);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(al, "event_ids"), 0)), 500);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(rec, "olagent"), "severity")),
        7);
    json_decref(rec);
    ola_buf_free(&out);
}

/*
 * olagent.tenant, stamped by the pipeline before the rules, is a field like
 * any other: a rule tags by it, an output's when routes by it, and the
 * alerts the batch raises carry it (their when sees it too).
 */
static void test_tenant_field(void **state)
{
    struct fx *f = *state;
    const struct ola_format_ops *json = ola_format_find("json");
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_event *a;
    json_t *rec;
    int i;

    assert_non_null(ola_t_write(f->dir, "tenant.yaml",
                                "rules:\n"
                                "  - name: acme_only\n"
                                "    match: {field: olagent.tenant, equals: acme}\n"
                                "    tags: [acme_event]\n"));
    assert_non_null(build(f, "rules: [\"@PACK@\", \"@DIR@/tenant.yaml\"]\n"
                             "outputs:\n"
                             "  - name: siem\n"
                             "  - name: archive\n"
                             "    when: {field: olagent.tenant, equals: globex}\n"
                             "  - name: pager\n"
                             "    when: {field: olagent.tenant, equals: acme}\n"));
    ola_batch_reset(&f->b);
    f->b.tenant = "acme";
    for (i = 0; i < 5; i++)
        assert_non_null(
            ola_t_add(&f->b, 500 + i, 1700000000000LL + i * 1000,
                      "{\"event_type_id\":950,\"user_id\":42,\"ipaddr\":\"1.2.3.4\"}"));
    assert_int_equal(ola_batch_stamp_tenant(&f->b), 0);
    assert_int_equal(ola_rules_apply(f->r, &f->b, 1700000010000LL), 0);
    assert_int_equal(f->b.n, 6);
    assert_true(ola_t_has_tag(&f->b.ev[0], "acme_event"));
    assert_int_equal(f->b.ev[0].routes, 1 | 4); /* siem, and pager by its when */
    a = &f->b.ev[5];
    assert_int_equal(a->kind, OLA_REC_ALERT);
    assert_int_equal(a->routes, 1 | 4); /* the alert's when saw its tenant */
    assert_int_equal(ola_format_event(json, a, NULL, &out), 0);
    rec = json_loads(out.data, 0, NULL);
    assert_non_null(rec);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(rec, "olagent"), "tenant")),
        "acme");
    json_decref(rec);
    ola_buf_free(&out);

    /* another tenant's batch: no tag, the other output */
    ola_batch_reset(&f->b);
    assert_string_equal(f->b.tenant, "acme"); /* reset keeps it */
    f->b.tenant = "globex";
    assert_non_null(
        ola_t_add(&f->b, 600, 1700000020000LL, "{\"event_type_id\":5,\"user_id\":7}"));
    assert_int_equal(ola_batch_stamp_tenant(&f->b), 0);
    assert_int_equal(ola_rules_apply(f->r, &f->b, 1700000020000LL), 0);
    assert_false(ola_t_has_tag(&f->b.ev[0], "acme_event"));
    assert_int_equal(f->b.ev[0].routes, 1 | 2);
    /* no tenant set: "default" */
    ola_batch_reset(&f->b);
    f->b.tenant = NULL;
    assert_non_null(
        ola_t_add(&f->b, 601, 1700000020000LL, "{\"event_type_id\":5,\"user_id\":7}"));
    assert_int_equal(ola_batch_stamp_tenant(&f->b), 0);
    assert_string_equal(json_string_value(json_object_get(f->b.ev[0].ola, "tenant")),
                        "default");
}

static void test_load_errors(void **state)
{
    struct fx *f = *state;
    const char *outs = "outputs: [{name: siem}, {name: archive}, {name: pager}]\n";
    char cfg[1024];

    assert_non_null(ola_t_write(f->dir, "badroute.yaml",
                                "rules:\n"
                                "  - name: r1\n"
                                "    tags: [x]\n"
                                "    route: [siem, kafka]\n"));
    snprintf(cfg, sizeof(cfg), "rules: [\"@DIR@/badroute.yaml\"]\n%s", outs);
    assert_null(build(f, cfg));
    assert_non_null(strstr(f->err.msg, "badroute.yaml:4: route: unknown output 'kafka'"));

    assert_non_null(ola_t_write(f->dir, "badre.yaml",
                                "rules:\n"
                                "  - name: r1\n"
                                "    match:\n"
                                "      field: user_name\n"
                                "      regex: \"a{2,1}\"\n"
                                "    tags: [x]\n"));
    snprintf(cfg, sizeof(cfg), "rules: [\"@DIR@/badre.yaml\"]\n%s", outs);
    assert_null(build(f, cfg));
    assert_non_null(strstr(f->err.msg, "badre.yaml:5: bad regex 'a{2,1}'"));

    assert_non_null(ola_t_write(f->dir, "badop.yaml",
                                "rules:\n"
                                "  - name: r1\n"
                                "    match: {field: a, contains: b}\n"
                                "    tags: [x]\n"));
    snprintf(cfg, sizeof(cfg), "rules: [\"@DIR@/badop.yaml\"]\n%s", outs);
    assert_null(build(f, cfg));
    assert_non_null(strstr(f->err.msg, "badop.yaml:3: unknown operator 'contains'"));

    assert_non_null(ola_t_write(f->dir, "dup.yaml",
                                "rules:\n"
                                "  - {name: high_risk, tags: [x]}\n"));
    snprintf(cfg, sizeof(cfg), "rules: [\"@PACK@\", \"@DIR@/dup.yaml\"]\n%s", outs);
    assert_null(build(f, cfg));
    assert_non_null(strstr(f->err.msg, "dup.yaml:2: duplicate rule name 'high_risk' "
                                       "(first at "));

    assert_non_null(ola_t_write(f->dir, "noop.yaml",
                                "rules:\n"
                                "  - name: r1\n"
                                "    match: {tags: [x]}\n"));
    snprintf(cfg, sizeof(cfg), "rules: [\"@DIR@/noop.yaml\"]\n%s", outs);
    assert_null(build(f, cfg));
    assert_non_null(strstr(f->err.msg, "noop.yaml:2: rule 'r1' does nothing"));

    assert_non_null(ola_t_write(f->dir, "badalert.yaml",
                                "rules:\n"
                                "  - name: a1\n"
                                "    alert:\n"
                                "      kind: burst\n"
                                "      match: {tags: [x]}\n"
                                "      key: user_id\n"
                                "      threshold: 3\n"
                                "      window: 1m\n"));
    snprintf(cfg, sizeof(cfg), "rules: [\"@DIR@/badalert.yaml\"]\n%s", outs);
    assert_null(build(f, cfg));
    assert_non_null(strstr(f->err.msg, "badalert.yaml:4:"));

    snprintf(cfg, sizeof(cfg), "rules: [\"@DIR@/none-*.yaml\"]\n%s", outs);
    assert_null(build(f, cfg));
    assert_non_null(strstr(f->err.msg, "olagent.yaml:1: rules: no rule file matches"));

    assert_null(build(f, "rules: [\"@PACK@\"]\n"
                         "outputs:\n"
                         "  - name: siem\n"
                         "    when: {severity: loud}\n"));
    assert_non_null(strstr(f->err.msg, "olagent.yaml:4: severity:"));
}

static void test_globs_and_relative(void **state)
{
    struct fx *f = *state;
    struct ola_event *e;

    assert_non_null(ola_t_write(f->dir, "a-one.yaml",
                                "rules:\n"
                                "  - {name: one, match: {event_type: "
                                "[5]}, tags: [one]}\n"));
    assert_non_null(ola_t_write(f->dir, "a-two.yaml",
                                "- {name: two, match: {event_type: "
                                "[5]}, tags: [two]}\n"));
    assert_non_null(build(f,
                          "rules: [\"@DIR@/a-*.yaml\"]\n"
                          "outputs: [{name: siem}, {name: archive}, {name: pager}]\n"));
    e = run1(f, 5, NULL);
    assert_true(ola_t_has_tag(e, "one"));
    assert_true(ola_t_has_tag(e, "two"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_classification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_and_custom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_globs_and_relative, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
