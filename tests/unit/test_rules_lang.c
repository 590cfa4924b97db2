/*
 * test_rules_lang.c - the rule language's newer constructs: comparing two
 * fields of one event (null and missing sides), lists from files (strings
 * with comments, IPv4 and IPv6 CIDR, IPv4-mapped addresses, arrays), a
 * sequence with a count on both steps, distinct counts ("more than 3 users
 * per IP in 1h"), the per-rule key cap with eviction and its counter, the
 * saved state with held closing events (round trip, and a state of the
 * older form), each new load error with file:line, and `olagent rules test`
 * (a failing case fails the run; every rule of the default pack has a true
 * and a false case).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "filter_test.h"
#include "rules_fixture.h"
#include "filters/rules/lists.h"
#include "filters/rules/ruletest.h"

#define T0  INT64_C(1700000000000)
#define SEC INT64_C(1000)
#define MIN (60 * SEC)

static const char *const outs[] = {"out"};

/* Builds the rule set from one rule file's text. Returns NULL with f->err. */
static struct ola_rules *build(struct fx *f, const char *rules)
{
    char cfg[4400];
    const char *path = ola_t_write(f->dir, "lang.yaml", rules);

    assert_non_null(path);
    snprintf(cfg, sizeof(cfg), "rules: [\"%s\"]\n", path);
    ola_rules_destroy(f->r);
    f->r = NULL;
    ola_cfg_doc_destroy(f->doc);
    f->doc = NULL;
    assert_int_equal(
        ola_cfg_load_string("olagent.yaml", cfg, strlen(cfg), &f->doc, &f->err), 0);
    memset(&f->s, 0, sizeof(f->s));
    f->s.rules = ola_cfg_get(ola_cfg_root(f->doc), "rules");
    f->r = ola_rules_new(&f->s, ola_t_catalog_path(), outs, 1, &f->err);
    return f->r;
}

/* Runs one event (JSON text); returns the number of alerts it raised. */
static int feed(struct fx *f, int64_t id, int64_t t, const char *json)
{
    size_t i;
    int n = 0;

    ola_batch_reset(&f->b);
    assert_non_null(ola_t_add(&f->b, id, t, json));
    assert_int_equal(ola_rules_apply(f->r, &f->b, t), 0);
    for (i = 0; i < f->b.n; i++) {
        if (f->b.ev[i].kind != OLA_REC_ALERT)
            continue;
        json_decref(f->last);
        f->last = json_incref(json_object_get(f->b.ev[i].ola, "alert"));
        n++;
    }
    return n;
}

static bool tagged(struct fx *f, const char *json, const char *tag)
{
    (void)feed(f, 1, T0, json);
    return ola_t_has_tag(&f->b.ev[0], tag) != 0;
}

static void test_field_compare(void **state)
{
    struct fx *f = *state;

    assert_non_null(build(f,
                          "rules:\n"
                          "  - name: other\n"
                          "    match: {field: actor_user_id, not_equals_field: user_id}\n"
                          "    tags: [other]\n"
                          "  - name: self\n"
                          "    match: {field: actor_user_id, equals_field: user_id}\n"
                          "    tags: [self]\n"
                          "  - name: ola\n"
                          "    match: {field: olagent.event_type.id, equals_field: "
                          "event_type_id}\n"
                          "    tags: [ola]\n"));
    assert_true(tagged(f, "{\"actor_user_id\":7,\"user_id\":42}", "other"));
    assert_false(tagged(f, "{\"actor_user_id\":7,\"user_id\":42}", "self"));
    assert_true(tagged(f, "{\"actor_user_id\":42,\"user_id\":42}", "self"));
    assert_false(tagged(f, "{\"actor_user_id\":42,\"user_id\":42}", "other"));
    /* a number and its text are one value; so are 42 and 42.0 */
    assert_true(tagged(f, "{\"actor_user_id\":\"42\",\"user_id\":42}", "self"));
    assert_true(tagged(f, "{\"actor_user_id\":42.0,\"user_id\":42}", "self"));
    assert_true(tagged(f, "{\"actor_user_id\":\"ann\",\"user_id\":\"bob\"}", "other"));
    /* a missing or null side: neither equal nor different */
    assert_false(tagged(f, "{\"actor_user_id\":7}", "other"));
    assert_false(tagged(f, "{\"actor_user_id\":7}", "self"));
    assert_false(tagged(f, "{\"actor_user_id\":7,\"user_id\":null}", "other"));
    assert_false(tagged(f, "{\"actor_user_id\":[7],\"user_id\":8}", "other"));
    /* olagent.* paths: the classification's id against the event's */
    assert_true(tagged(f, "{\"event_type_id\":5}", "ola"));
}

static void test_lists(void **state)
{
    struct fx *f = *state;

    assert_non_null(ola_t_write(f->dir, "admins.txt",
                                "# known admins\n"
                                "42\n"
                                "  ann@example.com   # the CFO\n"
                                "\n"
                                "Bob\n"));
    assert_non_null(ola_t_write(f->dir, "office.txt",
                                "10.0.0.0/8\n"
                                "192.0.2.7\n"
                                "2001:db8::/32 # v6 office\n"
                                "10.0.0.0/9\n"));
    assert_non_null(build(f,
                          "lists:\n"
                          "  admins: {file: admins.txt}\n"
                          "  admins_ci: {file: admins.txt, ignore_case: true}\n"
                          "  office: {file: office.txt, type: cidr}\n"
                          "rules:\n"
                          "  - {name: a, match: {field: user_id, in_list: admins}, "
                          "tags: [admin]}\n"
                          "  - {name: b, match: {field: user_name, in_list: admins_ci}, "
                          "tags: [admin_ci]}\n"
                          "  - {name: c, match: {field: ipaddr, in_list: office}, tags: "
                          "[office]}\n"
                          "  - name: d\n"
                          "    match: {not: {field: ipaddr, in_list: office}}\n"
                          "    tags: [outside]\n"));
    assert_true(tagged(f, "{\"user_id\":42}", "admin"));
    assert_true(tagged(f, "{\"user_id\":\"42\"}", "admin"));
    assert_false(tagged(f, "{\"user_id\":43}", "admin"));
    assert_true(tagged(f, "{\"user_id\":\"ann@example.com\"}", "admin"));
    assert_false(tagged(f, "{\"user_id\":\"bob\"}", "admin"));
    assert_true(tagged(f, "{\"user_name\":\"bob\"}", "admin_ci"));
    assert_true(tagged(f, "{\"user_id\":[1,42]}", "admin"));
    assert_true(tagged(f, "{\"ipaddr\":\"10.200.3.4\"}", "office"));
    assert_true(tagged(f, "{\"ipaddr\":\"192.0.2.7\"}", "office"));
    assert_false(tagged(f, "{\"ipaddr\":\"192.0.2.8\"}", "office"));
    assert_false(tagged(f, "{\"ipaddr\":\"11.0.0.1\"}", "office"));
    assert_true(tagged(f, "{\"ipaddr\":\"::ffff:10.1.2.3\"}", "office"));
    assert_true(tagged(f, "{\"ipaddr\":\"2001:db8:ffff::1\"}", "office"));
    assert_false(tagged(f, "{\"ipaddr\":\"2001:db9::1\"}", "office"));
    assert_false(tagged(f, "{\"ipaddr\":\"not an address\"}", "office"));
    assert_true(tagged(f, "{\"ipaddr\":\"11.0.0.1\"}", "outside"));
    assert_false(tagged(f, "{\"ipaddr\":\"10.0.0.1\"}", "outside"));
}

static void test_cidr_parse(void **state)
{
    unsigned char lo[16], hi[16];
    char why[64];
    int fam;

    (void)state;
    assert_int_equal(ola_cidr_parse("10.1.0.0/16", &fam, lo, hi, why, sizeof(why)), 0);
    assert_int_equal(fam, 4);
    assert_memory_equal(lo, "\x0a\x01\x00\x00", 4);
    assert_memory_equal(hi, "\x0a\x01\xff\xff", 4);
    assert_int_equal(ola_cidr_parse("0.0.0.0/0", &fam, lo, hi, why, sizeof(why)), 0);
    assert_memory_equal(hi, "\xff\xff\xff\xff", 4);
    assert_int_equal(ola_cidr_parse("::/0", &fam, lo, hi, why, sizeof(why)), 0);
    assert_int_equal(fam, 6);
    assert_int_equal(ola_cidr_parse("10.1.0.0/33", &fam, lo, hi, why, sizeof(why)), -1);
    assert_int_equal(ola_cidr_parse("10.1.0.1/16", &fam, lo, hi, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "bits set after"));
    assert_int_equal(ola_cidr_parse("10.1.0.0/", &fam, lo, hi, why, sizeof(why)), -1);
    assert_int_equal(ola_cidr_parse("10.1.0/8", &fam, lo, hi, why, sizeof(why)), -1);
    assert_int_equal(ola_cidr_parse("2001:db8::1/129", &fam, lo, hi, why, sizeof(why)),
                     -1);
}

static const char *seq_rule = "rules:\n"
                              "  - name: otp_then_ok\n"
                              "    alert:\n"
                              "      kind: sequence\n"
                              "      match: {event_type: [950]}\n"
                              "      then: {event_type: [5]}\n"
                              "      key: user_id\n"
                              "      threshold: 3\n"
                              "      then_threshold: 2\n"
                              "      window: 10m\n";

static void test_sequence_counts(void **state)
{
    struct fx *f = *state;
    const char *rej = "{\"event_type_id\":950,\"user_id\":42}";
    const char *ok = "{\"event_type_id\":5,\"user_id\":42}";

    assert_non_null(build(f, seq_rule));
    assert_int_equal(feed(f, 1, T0, rej), 0);
    assert_int_equal(feed(f, 2, T0 + SEC, rej), 0);
    assert_int_equal(feed(f, 3, T0 + 2 * SEC, rej), 0);
    assert_int_equal(feed(f, 4, T0 + 3 * SEC, ok), 0); /* 1 of 2 closing events */
    assert_int_equal(feed(f, 4, T0 + 3 * SEC, ok), 0); /* the same one again */
    assert_int_equal(feed(f, 5, T0 + 4 * SEC, ok), 1);
    assert_int_equal(json_integer_value(json_object_get(f->last, "count")), 3);
    assert_int_equal(json_integer_value(json_object_get(f->last, "then_count")), 2);
    assert_int_equal(json_array_size(json_object_get(f->last, "event_ids")), 5);

    /* two failures only: the first success ends the streak */
    assert_non_null(build(f, seq_rule));
    assert_int_equal(feed(f, 11, T0, rej), 0);
    assert_int_equal(feed(f, 12, T0 + SEC, rej), 0);
    assert_int_equal(feed(f, 13, T0 + 2 * SEC, ok), 0);
    assert_int_equal(feed(f, 14, T0 + 3 * SEC, rej), 0);
    assert_int_equal(feed(f, 15, T0 + 4 * SEC, ok), 0);
    assert_int_equal(feed(f, 16, T0 + 5 * SEC, ok), 0);

    /* the second success out of the window of the failures: no alert */
    assert_non_null(build(f, seq_rule));
    assert_int_equal(feed(f, 21, T0, rej), 0);
    assert_int_equal(feed(f, 22, T0 + SEC, rej), 0);
    assert_int_equal(feed(f, 23, T0 + 2 * SEC, rej), 0);
    assert_int_equal(feed(f, 24, T0 + 3 * SEC, ok), 0);
    assert_int_equal(feed(f, 25, T0 + 11 * MIN, ok), 0);
}

/* The state of a sequence holding a closing event survives a restart. */
static void test_sequence_state(void **state)
{
    struct fx *f = *state;
    const char *rej = "{\"event_type_id\":950,\"user_id\":42}";
    const char *ok = "{\"event_type_id\":5,\"user_id\":42}";
    json_t *st, *items;

    assert_non_null(build(f, seq_rule));
    assert_int_equal(feed(f, 1, T0, rej), 0);
    assert_int_equal(feed(f, 2, T0 + SEC, rej), 0);
    assert_int_equal(feed(f, 3, T0 + 2 * SEC, rej), 0);
    assert_int_equal(feed(f, 4, T0 + 3 * SEC, ok), 0);
    st = ola_rules_state_save(f->r);
    assert_non_null(st);
    /* version 2: the rule's first key, [key, quiet_until, newest, touched, live, items]
     */
    items = json_array_get(
        json_array_get(
            json_object_get(json_array_get(json_object_get(st, "rules"), 0), "keys"), 0),
        5);
    assert_int_equal(json_array_size(items), 4);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(items, 3), 2)), 1);
    assert_non_null(build(f, seq_rule));
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), 0);
    json_decref(st);
    assert_int_equal(feed(f, 5, T0 + 4 * SEC, ok), 1);
    assert_int_equal(json_integer_value(json_object_get(f->last, "then_count")), 2);

    /* a state of the older form (no closing events held) restores as it was */
    st = json_loads("{\"version\":1,\"clock\":1700000002000,\"keys\":[{\"rule\":"
                    "\"otp_then_ok\",\"kind\":\"sequence\",\"key\":\"42\","
                    "\"quiet_until\":0,\"newest\":1700000002000,\"touched\":"
                    "1700000002000,\"live\":true,\"items\":[[1700000000000,1],"
                    "[1700000001000,2],[1700000002000,3]]}]}",
                    0, NULL);
    assert_non_null(st);
    assert_non_null(build(f, seq_rule));
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), 0);
    json_decref(st);
    assert_int_equal(feed(f, 4, T0 + 3 * SEC, ok), 0);
    assert_int_equal(feed(f, 5, T0 + 4 * SEC, ok), 1);

    /* a held closing event does not fit a count rule */
    st = json_loads("{\"version\":1,\"clock\":1,\"keys\":[{\"rule\":\"c\",\"kind\":"
                    "\"count\",\"key\":\"42\",\"quiet_until\":0,\"newest\":1,"
                    "\"touched\":1,\"live\":false,\"items\":[[1,1,1]]}]}",
                    0, NULL);
    assert_non_null(build(f, "rules:\n"
                             "  - name: c\n"
                             "    alert: {kind: count, match: {event_type: [950]}, key: "
                             "user_id, threshold: 3, window: 1m}\n"));
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "does not fit rule 'c'"));
    json_decref(st);
}

/* count_distinct(user_id) by ipaddr > 3 within 1h */
static void test_distinct_per_ip(void **state)
{
    struct fx *f = *state;
    char json[128];
    int i, n = 0;

    assert_non_null(build(f, "rules:\n"
                             "  - name: spray\n"
                             "    alert:\n"
                             "      kind: distinct\n"
                             "      match: {categories: [login_failure]}\n"
                             "      key: ipaddr\n"
                             "      distinct: user_id\n"
                             "      threshold: 4\n"
                             "      window: 1h\n"));
    for (i = 0; i < 3; i++) {
        snprintf(json, sizeof(json),
                 "{\"event_type_id\":6,\"user_id\":%d,\"ipaddr\":\"192.0.2.1\"}", i);
        n += feed(f, 100 + i, T0 + i * 20 * MIN, json);
        n += feed(f, 200 + i, T0 + i * 20 * MIN + SEC, json); /* repeated: once */
    }
    assert_int_equal(n, 0);
    assert_int_equal(feed(f, 300, T0 + 60 * MIN,
                          "{\"event_type_id\":6,\"user_id\":9,\"ipaddr\":\"192.0.2.1\"}"),
                     1);
    assert_int_equal(json_array_size(json_object_get(f->last, "values")), 4);
}

static void test_rule_key_cap(void **state)
{
    struct fx *f = *state;
    char json[128];
    int i;

    assert_non_null(build(f, "rules:\n"
                             "  - name: c\n"
                             "    alert: {kind: count, match: {event_type: [6]}, key: "
                             "user_id, threshold: 2, window: 1h, max_keys: 3}\n"));
    for (i = 0; i < 5; i++) {
        snprintf(json, sizeof(json), "{\"event_type_id\":6,\"user_id\":%d}", i);
        assert_int_equal(feed(f, 10 + i, T0 + i * SEC, json), 0);
    }
    assert_int_equal(ola_rules_stats(f->r)->state_evicted, 2);
    assert_int_equal(ola_rules_stats(f->r)->state_capped, 0);
    /* the oldest keys (0, 1) went; 4 is held and alerts on its second event */
    assert_int_equal(feed(f, 20, T0 + 6 * SEC, "{\"event_type_id\":6,\"user_id\":4}"), 1);
    assert_int_equal(feed(f, 21, T0 + 7 * SEC, "{\"event_type_id\":6,\"user_id\":0}"), 0);
    assert_int_equal(ola_rules_stats(f->r)->state_evicted, 3);
}

/* Each new mistake is a load error naming the file and line. */
static void check_err(struct fx *f, const char *rules, const char *want)
{
    assert_null(build(f, rules));
    if (strstr(f->err.msg, want) == NULL)
        fail_msg("got '%s', want '%s'", f->err.msg, want);
}

static void test_load_errors(void **state)
{
    struct fx *f = *state;

    check_err(
        f,
        "rules:\n  - {name: a, match: {field: \"user_id[0]\", equals: 1}, tags: [x]}\n",
        "lang.yaml:2: field: bad path 'user_id[0]'");
    check_err(f,
              "rules:\n  - name: a\n    match: {field: a, not_equals_field: \"$.b\"}\n"
              "    tags: [x]\n",
              "lang.yaml:3: not_equals_field: bad path '$.b'");
    check_err(f,
              "rules:\n  - {name: a, match: {field: a, equals_field: b..c}, tags: [x]}\n",
              "lang.yaml:2: equals_field: bad path 'b..c'");
    check_err(f,
              "rules:\n  - {name: a, match: {field: ipaddr, in_list: nope}, tags: [x]}\n",
              "lang.yaml:2: in_list: unknown list 'nope'");
    check_err(f,
              "rules:\n  - name: a\n    alert: {kind: count, match: {tags: [x]}, key: u,"
              " threshold: 3, window: 5 minutes}\n",
              "lang.yaml:3:");
    check_err(f,
              "rules:\n  - name: a\n    alert: {kind: count, match: {tags: [x]}, key: u,"
              " threshold: 3, window: 5m, then_threshold: 2}\n",
              "lang.yaml:3: then_threshold: only for kind sequence");
    check_err(f,
              "rules:\n  - name: a\n    alert: {kind: count, match: {tags: [x]}, key: u,"
              " threshold: 3, window: 5m, max_keys: 0}\n",
              "lang.yaml:3:");
    assert_non_null(ola_t_write(f->dir, "bad.txt", "10.0.0.0/8\n\n# x\n10.0.0.300/32\n"));
    check_err(f, "lists:\n  l: {file: bad.txt, type: cidr}\nrules: []\n",
              "bad.txt:4: list 'l': bad CIDR '10.0.0.300/32'");
    assert_non_null(ola_t_write(f->dir, "host.txt", "10.0.0.1/8\n"));
    check_err(f, "lists:\n  l: {file: host.txt, type: cidr}\nrules: []\n",
              "host.txt:1: list 'l': bad CIDR '10.0.0.1/8': address bits set");
    check_err(f, "lists:\n  l: {file: missing.txt}\nrules: []\n",
              "lang.yaml:2: file: cannot read missing.txt");
    check_err(f, "lists:\n  l: {file: bad.txt, type: ranges}\nrules: []\n",
              "lang.yaml:2:");
    check_err(f, "lists:\n  l: {file: bad.txt, kind: cidr}\nrules: []\n", "lang.yaml:2:");
    check_err(f, "lists: [a]\nrules: []\n", "lang.yaml:1: lists: expected a map");
    assert_non_null(ola_t_write(f->dir, "ok.txt", "a\n"));
    check_err(
        f,
        "lists:\n  l: {file: ok.txt}\nrules:\n"
        "  - {name: a, match: {field: u, in_list: l, ignore_case: true}, tags: [x]}\n",
        "lang.yaml:4: ignore_case: set it on the list");
}

/* Runs `olagent rules test` on one file; returns its exit code and output. */
static int run_cases(struct fx *f, const char *text, char *out, size_t n)
{
    const char *path = ola_t_write(f->dir, "cases.yaml", text);
    const char *files[1];
    FILE *m = fmemopen(out, n, "w");
    int rc;

    assert_non_null(path);
    assert_non_null(m);
    files[0] = path;
    rc = ola_rules_test_run(files, 1, m, stderr);
    fclose(m);
    return rc;
}

static void test_rules_test_cmd(void **state)
{
    struct fx *f = *state;
    char out[4096], text[2048];
    const char *head = "rules:\n"
                       "  - name: risky\n"
                       "    match: {field: risk_score, gte: 50}\n"
                       "    tags: [risky]\n"
                       "    route: [siem]\n"
                       "    tests:\n"
                       "      - {name: high, expect: true, event: {risk_score: 60}}\n"
                       "      - name: low\n"
                       "        expect: ";
    const char *tail =
        "\n"
        "        event: '{\"risk_score\": 10}'\n"
        "  - name: burst\n"
        "    alert: {kind: count, match: {field: x, equals: 1}, key: u, "
        "threshold: 2, window: 1m}\n"
        "    tests:\n"
        "      - {name: two, expect: true, events: [{x: 1, u: a}, {x: 1, u: "
        "a}]}\n"
        "      - name: apart\n"
        "        expect: false\n"
        "        events:\n"
        "          - {x: 1, u: a, created_at: \"2024-01-01T00:00:00Z\"}\n"
        "          - {x: 1, u: a, created_at: \"2024-01-01T00:01:01Z\"}\n";

    snprintf(text, sizeof(text), "%s%s%s", head, "false", tail);
    assert_int_equal(run_cases(f, text, out, sizeof(out)), OLA_RULETEST_PASS);
    assert_non_null(strstr(out, "4 cases: 4 passed, 0 failed"));
    snprintf(text, sizeof(text), "%s%s%s", head, "true", tail);
    assert_int_equal(run_cases(f, text, out, sizeof(out)), OLA_RULETEST_FAILED);
    assert_non_null(
        strstr(out, "cases.yaml:8: risky: low: expected a match, got no match"));
    assert_int_equal(run_cases(f,
                               "rules:\n  - name: r\n    tags: [x]\n    tests:\n"
                               "      - {name: n, expect: true}\n",
                               out, sizeof(out)),
                     OLA_RULETEST_ERROR);
}

/* Every rule of the default pack carries a true and a false case, and they pass. */
static void test_pack_cases(void **state)
{
    struct fx *f = *state;
    struct ola_cfg_doc *doc = NULL;
    const struct ola_cfg *list;
    const char *files[1] = {ola_t_default_pack()};
    char *out = calloc(1, 1 << 16);
    FILE *m;
    size_t i, k;

    assert_non_null(out);
    assert_int_equal(ola_cfg_load_file(ola_t_default_pack(), &doc, &f->err), 0);
    list = ola_cfg_get(ola_cfg_root(doc), "rules");
    assert_true(ola_cfg_len(list) > 10);
    for (i = 0; i < ola_cfg_len(list); i++) {
        const struct ola_cfg *tests = ola_cfg_get(ola_cfg_at(list, i), "tests");
        bool t = false, fl = false;

        for (k = 0; k < ola_cfg_len(tests); k++) {
            const char *e = ola_cfg_scalar(ola_cfg_get(ola_cfg_at(tests, k), "expect"));

            t |= e != NULL && strcmp(e, "true") == 0;
            fl |= e != NULL && strcmp(e, "false") == 0;
        }
        if (!t || !fl)
            fail_msg("rule '%s' lacks a true or a false case",
                     ola_cfg_scalar(ola_cfg_get(ola_cfg_at(list, i), "name")));
    }
    ola_cfg_doc_destroy(doc);
    m = fmemopen(out, 1 << 16, "w");
    assert_non_null(m);
    assert_int_equal(ola_rules_test_run(files, 1, m, stderr), OLA_RULETEST_PASS);
    fclose(m);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_field_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test_setup_teardown(test_sequence_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_distinct_per_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_key_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_test_cmd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_cases, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
