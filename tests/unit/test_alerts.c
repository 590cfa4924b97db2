/*
 * test_alerts.c - stateful alerts: each kind over crafted sequences with
 * window edges (an event exactly at the window's end counts, one
 * millisecond later does not), once per window per key, suppression,
 * restart (state saved mid-burst, restored into a fresh rule set: exactly
 * one alert, and re-read events are not counted twice), expiry by event
 * time and by the wall clock, the key cap and its counter, the default
 * pack's alerts. Where the state lives and how it is written out:
 * test_alerts_state.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alerts_fixture.h"

static const char *count_rule = "rules:\n"
                                "  - name: fails\n"
                                "    tags: [brute]\n"
                                "    alert:\n"
                                "      kind: count\n"
                                "      match: {event_type: [6]}\n"
                                "      key: user_id\n"
                                "      threshold: 3\n"
                                "      window: 1m\n"
                                "      severity: 8\n";

static void test_count_window_edges(void **state)
{
    struct fx *f = *state;

    f->r = build(f, count_rule, NULL);
    assert_non_null(f->r);
    /* user 1: the third failure exactly at the window's end: alert */
    assert_int_equal(feed(f, 6, "1", "a", 1, T0), 0);
    assert_int_equal(feed(f, 6, "1", "a", 2, T0 + 30 * SEC), 0);
    assert_int_equal(feed(f, 5, "1", "a", 3, T0 + 40 * SEC), 0); /* not matching */
    assert_int_equal(feed(f, 6, "1", "a", 4, T0 + MIN), 1);
    assert_string_equal(alert_str(f, "rule"), "fails");
    assert_string_equal(alert_str(f, "kind"), "count");
    assert_string_equal(alert_str(f, "key"), "1");
    assert_string_equal(alert_str(f, "key_field"), "user_id");
    assert_int_equal(alert_int(f, "count"), 3);
    assert_int_equal(alert_int(f, "severity"), 8);
    assert_string_equal(alert_str(f, "window"), "1m");
    assert_string_equal(alert_str(f, "first_seen"), "2023-11-14T22:13:20.000Z");
    assert_string_equal(alert_str(f, "last_seen"), "2023-11-14T22:14:20.000Z");
    assert_int_equal(json_array_size(json_object_get(f->last, "event_ids")), 3);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(f->last, "event_ids"), 2)), 4);
    /* user 2: one millisecond past the window: the first failure is out */
    assert_int_equal(feed(f, 6, "2", "a", 11, T0), 0);
    assert_int_equal(feed(f, 6, "2", "a", 12, T0 + 30 * SEC), 0);
    assert_int_equal(feed(f, 6, "2", "a", 13, T0 + MIN + 1), 0);
    /* ... and a fourth inside the window of the second makes three */
    assert_int_equal(feed(f, 6, "2", "a", 14, T0 + 90 * SEC), 1);
    assert_string_equal(alert_str(f, "key"), "2");
    /* a missing key field: not counted */
    assert_int_equal(feed(f, 6, "null", "a", 21, T0 + 91 * SEC), 0);
    assert_int_equal(feed(f, 6, "null", "a", 22, T0 + 92 * SEC), 0);
    assert_int_equal(feed(f, 6, "null", "a", 23, T0 + 93 * SEC), 0);
    assert_int_equal(ola_rules_stats(f->r)->alerts, 2);
}

static void test_once_per_window(void **state)
{
    struct fx *f = *state;
    int total = 0, i;

    f->r = build(f, count_rule, NULL);
    assert_non_null(f->r);
    /* a burst of 10 failures in 10 s: one alert */
    for (i = 0; i < 10; i++)
        total += feed(f, 6, "7", "a", 100 + i, T0 + i * SEC);
    assert_int_equal(total, 1);
    /* quiet until the window after the alert (at T0 + 2 s) has passed */
    assert_int_equal(feed(f, 6, "7", "a", 200, T0 + 2 * SEC + MIN), 0);
    assert_int_equal(feed(f, 6, "7", "a", 201, T0 + 2 * SEC + MIN + 1), 0);
    assert_int_equal(feed(f, 6, "7", "a", 202, T0 + 2 * SEC + MIN + 2), 0);
    assert_int_equal(feed(f, 6, "7", "a", 203, T0 + 2 * SEC + MIN + 3), 1);
    assert_int_equal(alert_int(f, "count"), 3);
    /* another key in the same burst alerts on its own */
    assert_int_equal(feed(f, 6, "8", "a", 300, T0 + 5 * SEC), 0);
    assert_int_equal(feed(f, 6, "8", "a", 301, T0 + 6 * SEC), 0);
    assert_int_equal(feed(f, 6, "8", "a", 302, T0 + 7 * SEC), 1);
}

static void test_suppression(void **state)
{
    struct fx *f = *state;
    int total = 0, i;

    /* suppress: none in the alerts settings: every third event alerts */
    f->r = build(f, count_rule, "{suppress: none}");
    assert_non_null(f->r);
    for (i = 0; i < 9; i++)
        total += feed(f, 6, "1", "a", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 3);
    ola_rules_destroy(f->r);

    /* a rule's own suppress overrides; 10m quiet after the alert */
    {
        char rule[1024];

        snprintf(rule, sizeof(rule), "%s      suppress: 10m\n", count_rule);
        f->r = build(f, rule, "{suppress: none}");
    }
    assert_non_null(f->r);
    total = 0;
    for (i = 0; i < 9; i++)
        total += feed(f, 6, "1", "a", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 1);
    total = 0;
    for (i = 0; i < 3; i++)
        total += feed(f, 6, "1", "a", 50 + i, T0 + 2 * SEC + 10 * MIN + i);
    assert_int_equal(total, 0); /* the first of them is at the quiet end: still quiet */
    total += feed(f, 6, "1", "a", 60, T0 + 2 * SEC + 10 * MIN + 5);
    assert_int_equal(total, 1);
    ola_rules_destroy(f->r);
    f->r = build(f, count_rule, "{suppress: sometimes}");
    assert_null(f->r);
    assert_non_null(strstr(f->err.msg, "olagent.yaml:2: suppress:"));
}

static void test_distinct(void **state)
{
    struct fx *f = *state;

    f->r = build(f,
                 "rules:\n"
                 "  - name: spray\n"
                 "    alert:\n"
                 "      kind: distinct\n"
                 "      match: {categories: [login_failure]}\n"
                 "      key: ipaddr\n"
                 "      distinct: user_id\n"
                 "      threshold: 3\n"
                 "      window: 1m\n",
                 NULL);
    assert_non_null(f->r);
    assert_int_equal(feed(f, 6, "1", "9.9.9.9", 1, T0), 0);
    /* the same user again does not count */
    assert_int_equal(feed(f, 6, "1", "9.9.9.9", 2, T0 + 10 * SEC), 0);
    assert_int_equal(feed(f, 9, "1", "9.9.9.9", 3, T0 + 20 * SEC), 0);
    assert_int_equal(feed(f, 6, "2", "9.9.9.9", 4, T0 + 30 * SEC), 0);
    /* another IP does not count */
    assert_int_equal(feed(f, 6, "3", "8.8.8.8", 5, T0 + 40 * SEC), 0);
    /* the third distinct user, exactly one window after user 1's last failure */
    assert_int_equal(feed(f, 6, "3", "9.9.9.9", 6, T0 + 20 * SEC + MIN), 1);
    assert_string_equal(alert_str(f, "kind"), "distinct");
    assert_string_equal(alert_str(f, "key"), "9.9.9.9");
    assert_string_equal(alert_str(f, "distinct_field"), "user_id");
    assert_int_equal(alert_int(f, "count"), 3);
    assert_int_equal(json_array_size(json_object_get(f->last, "values")), 3);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(f->last, "values"), 0)), "1");
    /* one more millisecond and user 1 would have left the window */
    assert_int_equal(feed(f, 6, "1", "7.7.7.7", 10, T0), 0);
    assert_int_equal(feed(f, 6, "2", "7.7.7.7", 11, T0 + 30 * SEC), 0);
    assert_int_equal(feed(f, 6, "3", "7.7.7.7", 12, T0 + MIN + 1), 0);
    assert_int_equal(feed(f, 6, "4", "7.7.7.7", 13, T0 + MIN + 2), 1);
    assert_int_equal(alert_int(f, "count"), 3);
}

static const char *seq_rule = "rules:\n"
                              "  - name: success_after_failures\n"
                              "    alert:\n"
                              "      kind: sequence\n"
                              "      match: {event_type: [6]}\n"
                              "      then: {event_type: [5]}\n"
                              "      key: user_id\n"
                              "      threshold: 3\n"
                              "      window: 1m\n"
                              "      severity: critical\n";

static void test_sequence(void **state)
{
    struct fx *f = *state;

    f->r = build(f, seq_rule, NULL);
    assert_non_null(f->r);
    /* a success with no failures: nothing, and no key */
    assert_int_equal(feed(f, 5, "1", "a", 1, T0), 0);
    assert_int_equal(saved_keys(f), 0);
    /* three failures, the first exactly a window before the success */
    assert_int_equal(feed(f, 6, "1", "a", 2, T0 + SEC), 0);
    assert_int_equal(feed(f, 6, "1", "a", 3, T0 + 2 * SEC), 0);
    assert_int_equal(feed(f, 6, "1", "a", 4, T0 + 3 * SEC), 0);
    assert_int_equal(feed(f, 5, "1", "a", 5, T0 + SEC + MIN), 1);
    assert_string_equal(alert_str(f, "kind"), "sequence");
    assert_int_equal(alert_int(f, "count"), 3);
    assert_int_equal(alert_int(f, "severity"), 9);
    assert_int_equal(alert_int(f, "then_event_id"), 5);
    assert_int_equal(json_array_size(json_object_get(f->last, "event_ids")), 4);
    /* one millisecond later the first failure would be out: no alert */
    assert_int_equal(feed(f, 6, "2", "a", 12, T0 + SEC), 0);
    assert_int_equal(feed(f, 6, "2", "a", 13, T0 + 2 * SEC), 0);
    assert_int_equal(feed(f, 6, "2", "a", 14, T0 + 3 * SEC), 0);
    assert_int_equal(feed(f, 5, "2", "a", 15, T0 + SEC + MIN + 1), 0);
    /* a success ends the streak: 2 failures, success, 2 failures, success */
    assert_int_equal(feed(f, 6, "3", "a", 21, T0), 0);
    assert_int_equal(feed(f, 6, "3", "a", 22, T0 + SEC), 0);
    assert_int_equal(feed(f, 5, "3", "a", 23, T0 + 2 * SEC), 0);
    assert_int_equal(feed(f, 6, "3", "a", 24, T0 + 3 * SEC), 0);
    assert_int_equal(feed(f, 6, "3", "a", 25, T0 + 4 * SEC), 0);
    assert_int_equal(feed(f, 5, "3", "a", 26, T0 + 5 * SEC), 0);
    /* failures without a success never alert */
    assert_int_equal(feed(f, 6, "4", "a", 31, T0), 0);
    assert_int_equal(feed(f, 6, "4", "a", 32, T0 + SEC), 0);
    assert_int_equal(feed(f, 6, "4", "a", 33, T0 + 2 * SEC), 0);
    assert_int_equal(feed(f, 6, "4", "a", 34, T0 + 3 * SEC), 0);
}

static void test_restart(void **state)
{
    struct fx *f = *state;
    const char *rule = "rules:\n"
                       "  - name: fails\n"
                       "    alert:\n"
                       "      kind: count\n"
                       "      match: {event_type: [6]}\n"
                       "      key: user_id\n"
                       "      threshold: 10\n"
                       "      window: 5m\n";
    json_t *st;
    char *text;
    int total = 0, i;

    f->r = build(f, rule, NULL);
    assert_non_null(f->r);
    for (i = 0; i < 5; i++)
        total += feed(f, 6, "1", "a", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 0);
    /* the checkpoint stores the state as text */
    st = ola_rules_state_save(f->r);
    assert_non_null(st);
    text = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    assert_non_null(text);
    ola_rules_destroy(f->r);

    f->r = build(f, rule, NULL);
    assert_non_null(f->r);
    st = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(st);
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), 0);
    json_decref(st);
    /* events re-read after the restart (same ids) are not counted twice */
    for (i = 0; i < 5; i++)
        total += feed(f, 6, "1", "a", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 0);
    for (i = 5; i < 12; i++)
        total += feed(f, 6, "1", "a", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 1);
    assert_int_equal(alert_int(f, "count"), 10);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(f->last, "event_ids"), 0)), 1);

    /* a state that does not fit is an error; one for rules now gone is skipped */
    st = json_pack("{s:i, s:I, s:[{s:s, s:s, s:s}]}", "version", 1, "clock",
                   (json_int_t)T0, "keys", "rule", "fails", "kind", "count", "key", "1");
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), -1);
    json_decref(st);
    st = json_pack("{s:i, s:I, s:[{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:[[I,I]]}]}",
                   "version", 1, "clock", (json_int_t)T0, "keys", "rule", "gone", "kind",
                   "count", "key", "1", "quiet_until", (json_int_t)0, "newest",
                   (json_int_t)T0, "touched", (json_int_t)T0, "live", 0, "items",
                   (json_int_t)T0, (json_int_t)1);
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), 0);
    assert_int_equal(saved_keys(f), 0);
    json_decref(st);
    st = json_pack("{s:i}", "version", 2);
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), -1);
    json_decref(st);
}

static void test_restart_suppressed(void **state)
{
    struct fx *f = *state;
    json_t *st;
    int total = 0, i;

    /* an alert raised before the restart stays raised: no second one */
    f->r = build(f, count_rule, NULL);
    assert_non_null(f->r);
    for (i = 0; i < 3; i++)
        total += feed(f, 6, "1", "a", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 1);
    st = ola_rules_state_save(f->r);
    ola_rules_destroy(f->r);
    f->r = build(f, count_rule, NULL);
    assert_non_null(f->r);
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), 0);
    json_decref(st);
    for (i = 3; i < 8; i++)
        total += feed(f, 6, "1", "a", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 1);
}

static void test_out_of_order_and_duplicates(void **state)
{
    struct fx *f = *state;

    f->r = build(f, count_rule, NULL);
    assert_non_null(f->r);
    assert_int_equal(feed(f, 6, "1", "a", 3, T0 + 50 * SEC), 0);
    assert_int_equal(feed(f, 6, "1", "a", 3, T0 + 50 * SEC), 0); /* duplicate id */
    assert_int_equal(feed(f, 6, "1", "a", 1, T0 + 10 * SEC), 0); /* late, in window */
    assert_int_equal(feed(f, 6, "1", "a", 2, T0 + 20 * SEC), 1);
    assert_string_equal(alert_str(f, "first_seen"), "2023-11-14T22:13:30.000Z");
    assert_string_equal(alert_str(f, "last_seen"), "2023-11-14T22:14:10.000Z");
    /* a late event older than the window before the newest is dropped */
    assert_int_equal(feed(f, 6, "2", "a", 10, T0 + 10 * MIN), 0);
    assert_int_equal(feed(f, 6, "2", "a", 11, T0 + 10 * MIN + 1), 0);
    assert_int_equal(feed(f, 6, "2", "a", 12, T0), 0);
}

static void test_expiry(void **state)
{
    struct fx *f = *state;

    f->r = build(f, count_rule, NULL);
    assert_non_null(f->r);
    /* backfill: events an hour old; the wall clock does not expire them */
    f->now = T0 + 60 * MIN;
    assert_int_equal(feed(f, 6, "1", "a", 1, T0), 0);
    assert_int_equal(feed(f, 6, "2", "a", 2, T0 + SEC), 0);
    assert_int_equal(saved_keys(f), 2);
    f->now = T0 + 600 * MIN;
    assert_int_equal(feed(f, 5, "9", "a", 3, T0 + 2 * SEC), 0);
    assert_int_equal(saved_keys(f), 2);
    /* event time reaching the window's end keeps them; past it expires them */
    assert_int_equal(feed(f, 5, "9", "a", 4, T0 + MIN), 0);
    assert_int_equal(saved_keys(f), 2);
    assert_int_equal(feed(f, 5, "9", "a", 5, T0 + MIN + 1), 0);
    assert_int_equal(saved_keys(f), 1);
    assert_int_equal(feed(f, 5, "9", "a", 6, T0 + MIN + SEC + 1), 0);
    assert_int_equal(saved_keys(f), 0);

    /* live: an idle key expires by the wall clock after window + late_grace */
    ola_rules_destroy(f->r);
    f->r = build(f, count_rule, "{late_grace: 2m}");
    assert_non_null(f->r);
    f->now = T0 + SEC;
    assert_int_equal(feed(f, 6, "1", "a", 1, T0), 0);
    assert_int_equal(saved_keys(f), 1);
    ola_batch_reset(&f->b);
    assert_int_equal(ola_rules_apply(f->r, &f->b, T0 + 3 * MIN), 0);
    assert_int_equal(saved_keys(f), 1);
    ola_batch_reset(&f->b);
    assert_int_equal(ola_rules_apply(f->r, &f->b, T0 + 3 * MIN + 1), 0);
    assert_int_equal(saved_keys(f), 0);
}

static void test_cap(void **state)
{
    struct fx *f = *state;
    int total = 0, i;

    f->r = build(f, count_rule, "{max_keys: 3}");
    assert_non_null(f->r);
    for (i = 0; i < 5; i++) {
        char user[16];

        snprintf(user, sizeof(user), "%d", 100 + i);
        total += feed(f, 6, user, "a", 1 + i, T0 + i);
    }
    assert_int_equal(saved_keys(f), 3);
    assert_int_equal(ola_rules_stats(f->r)->state_capped, 2);
    /* a refused key never alerts; a held one still does */
    total += feed(f, 6, "104", "a", 10, T0 + 10);
    total += feed(f, 6, "104", "a", 11, T0 + 11);
    assert_int_equal(total, 0);
    assert_int_equal(ola_rules_stats(f->r)->state_capped, 4);
    total += feed(f, 6, "100", "a", 12, T0 + 12);
    total += feed(f, 6, "100", "a", 13, T0 + 13);
    assert_int_equal(total, 1);
    /* once event time passes the windows, keys expire and room returns */
    assert_int_equal(feed(f, 6, "200", "a", 20, T0 + 10 * MIN), 0);
    assert_int_equal(saved_keys(f), 1);
    assert_int_equal(ola_rules_stats(f->r)->state_capped, 4);
    ola_rules_destroy(f->r);
    f->r = build(f, count_rule, "{max_keys: 0}");
    assert_null(f->r);
    assert_non_null(strstr(f->err.msg, "max_keys"));
}

static void test_default_pack(void **state)
{
    struct fx *f = *state;
    char cfg[8192];
    int total, i;

    snprintf(cfg, sizeof(cfg), "rules: [\"%s\"]\n", ola_t_default_pack());
    assert_int_equal(
        ola_cfg_load_string("olagent.yaml", cfg, strlen(cfg), &f->doc, &f->err), 0);
    f->s.rules = ola_cfg_get(ola_cfg_root(f->doc), "rules");
    f->r = ola_rules_new(&f->s, ola_t_catalog_path(), outs, 1, &f->err);
    assert_non_null(f->r);

    /* brute force by user: 10 failures (6, 9) in 5 minutes */
    for (i = 0, total = 0; i < 9; i++)
        total += feed(f, i % 2 ? 6 : 9, "1", "a", 1 + i, T0 + i * 30 * SEC);
    assert_int_equal(total, 0);
    assert_int_equal(feed(f, 6, "1", "a", 10, T0 + 5 * MIN), 1);
    assert_string_equal(alert_str(f, "rule"), "brute_force_user");
    /* ... then a success: login after failures (5 in 10 minutes) */
    for (i = 0, total = 0; i < 5; i++)
        total += feed(f, 6, "2", "b", 100 + i, T0 + i * SEC);
    assert_int_equal(total, 0);
    assert_int_equal(feed(f, 5, "2", "b", 110, T0 + 10 * SEC), 1);
    assert_string_equal(alert_str(f, "rule"), "login_after_failures");

    /* password spray: 10 distinct users from one IP */
    for (i = 0, total = 0; i < 10; i++) {
        char user[16];

        snprintf(user, sizeof(user), "%d", 1000 + i);
        total += feed(f, 6, user, "6.6.6.6", 200 + i, T0 + 6 * MIN + i * SEC);
    }
    assert_int_equal(total, 1);
    assert_string_equal(alert_str(f, "rule"), "password_spray");

    /* MFA fatigue: push rejections and challenge failures, 5 in 5 minutes */
    for (i = 0, total = 0; i < 5; i++)
        total += feed(f, i % 2 ? 950 : 1002, "3", "c", 300 + i, T0 + 7 * MIN + i * MIN);
    assert_int_equal(total, 1);
    assert_string_equal(alert_str(f, "rule"), "mfa_fatigue");

    /* mass deletes: 10 users deleted (17) by one actor */
    for (i = 0, total = 0; i < 10; i++)
        total += feed(f, 17, "4", "d", 400 + i, T0 + 8 * MIN + i * SEC);
    assert_int_equal(total, 1);
    assert_string_equal(alert_str(f, "rule"), "mass_user_deletion");

    /* mass lockouts: 5 distinct users locked */
    for (i = 0, total = 0; i < 5; i++) {
        char user[16];

        snprintf(user, sizeof(user), "%d", 2000 + i);
        total += feed(f, i % 2 ? 19 : 553, user, "e", 500 + i, T0 + 9 * MIN + i * SEC);
    }
    assert_int_equal(total, 1);
    assert_string_equal(alert_str(f, "rule"), "mass_lockouts");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_window_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_once_per_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suppression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_suppressed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_and_duplicates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_pack, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
