/*
 * test_enrich_facts.c - the enricher's pure parts and its configuration.
 *
 * Which event types evict a user or a role, status and state names, the user
 * facts read from the recorded and SDK fixtures in $OLA_DATA_DIR/onelogin (v2
 * objects, v1 envelopes, the recorded v1 users page), the v1 roles-of-a-user
 * shapes (nested [[...]], flat, empty) and role answers; then the enrich
 * section of the configuration, loaded with the real loader. No server: the
 * enricher end to end against a tenant is in test_enrich.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/settings.h"
#include "config/config.h"
#include "filters/enrich/enrich.h"
#include "tests/lib/unit_files.h"

/* ---- fixtures -------------------------------------------------------------- */

static json_t *facts_of(const char *fixture, int64_t **ids, size_t *n, bool *known)
{
    json_t *body = ola_test_onelogin_json(fixture);
    json_t *f = ola_enrich_user_facts(body, ids, n, known);

    json_decref(body);
    return f;
}

static const char *fstr(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    assert_non_null(v); /* every fact is present, null when unknown */
    return json_string_value(v);
}

static long long fint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

/* ---- the pure parts ---------------------------------------------------------- */

static void test_eviction_rules(void **state)
{
    /* the user-changing kinds the issue names, one id or more each */
    static const long long user[] = {
        4,   147, 149,  513, /* role assigned */
        148, 150, 514,       /* role removed */
        19,  531, 553,       /* locked */
        12,  554, 120,       /* unlocked */
        21,  551, 82,        /* suspended */
        14,  529, 81,        /* updated */
        17,  530, 84,        /* deleted */
        11,  211, 1608, 145, /* password changed */
        72,  73,  2106, 2109 /* privilege granted / revoked */
    };
    /* frequent types that change nothing: logins, failures, MFA, logout, app, assume */
    static const long long none[] = {5,    6,   7, 8, 9,  13, 22,   24,
                                     1001, 950, 3, 0, -1, 10, 99999};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(user) / sizeof(user[0]); i++) {
        if (ola_enrich_changes(user[i]) != OLA_ENRICH_CHANGES_USER)
            fail_msg("type %lld should evict its user", user[i]);
    }
    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        if (ola_enrich_changes(none[i]) != 0)
            fail_msg("type %lld should evict nothing", none[i]);
    }
    assert_int_equal(ola_enrich_changes(9052), OLA_ENRICH_CHANGES_ROLE);
    assert_int_equal(ola_enrich_changes(1802), OLA_ENRICH_CHANGES_ROLE);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(ola_user_status_name(0), "unactivated");
    assert_string_equal(ola_user_status_name(1), "active");
    assert_string_equal(ola_user_status_name(2), "suspended");
    assert_string_equal(ola_user_status_name(3), "locked");
    assert_string_equal(ola_user_status_name(4), "password_expired");
    assert_string_equal(ola_user_status_name(5), "awaiting_password_reset");
    assert_null(ola_user_status_name(6));
    assert_string_equal(ola_user_status_name(7), "password_pending");
    assert_string_equal(ola_user_status_name(8), "security_questions_required");
    assert_null(ola_user_status_name(9));
    assert_null(ola_user_status_name(-1));
    assert_string_equal(ola_user_state_name(0), "unapproved");
    assert_string_equal(ola_user_state_name(1), "approved");
    assert_string_equal(ola_user_state_name(2), "rejected");
    assert_string_equal(ola_user_state_name(3), "unlicensed");
    assert_null(ola_user_state_name(4));
}

static void test_user_v2_fixture(void **state)
{
    static const char *const order[] = {
        "id",     "username",        "email",        "firstname",  "lastname",
        "status", "status_name",     "state",        "state_name", "department",
        "title",  "manager_user_id", "locked_until", "last_login", "custom_attributes"};
    int64_t *ids;
    size_t n, i = 0;
    bool known;
    json_t *f = facts_of("user-v2-200.json", &ids, &n, &known), *v;
    const char *key;

    (void)state;
    assert_non_null(f);
    assert_int_equal(fint(f, "id"), 36216766);
    assert_string_equal(fstr(f, "username"), "morganfixture");
    assert_string_equal(fstr(f, "email"), "morgan.fixture+preprod@example.com");
    assert_string_equal(fstr(f, "firstname"), "Morgan");
    assert_string_equal(fstr(f, "lastname"), "Fixture");
    assert_int_equal(fint(f, "status"), 3);
    assert_string_equal(fstr(f, "status_name"), "locked");
    assert_int_equal(fint(f, "state"), 1);
    assert_string_equal(fstr(f, "state_name"), "approved");
    assert_string_equal(fstr(f, "department"), "Waves");
    assert_string_equal(fstr(f, "title"), "Surfer");
    assert_true(json_is_null(json_object_get(f, "manager_user_id")));
    assert_string_equal(fstr(f, "locked_until"), "2020-07-08T21:59:56.811Z");
    assert_string_equal(fstr(f, "last_login"), "2020-06-03T19:59:21.382Z");
    v = json_object_get(f, "custom_attributes");
    assert_string_equal(json_string_value(json_object_get(v, "food")), "chicken");
    assert_true(json_is_null(json_object_get(v, "employeenumber")));
    /* nothing else: no phone, no password dates, no comment */
    assert_int_equal(json_object_size(f), 15);
    json_object_foreach(f, key, v)
    {
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_true(known);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 199848);
    assert_int_equal(ids[1], 272445);
    free(ids);
    json_decref(f);

    f = facts_of("user-v2-200-no-roles.json", &ids, &n, &known);
    assert_non_null(f);
    assert_true(known); /* role_ids: [] says "none" */
    assert_int_equal(n, 0);
    assert_null(ids);
    assert_string_equal(fstr(f, "username"), "");
    assert_string_equal(fstr(f, "status_name"), "active");
    json_decref(f);

    /* a v2 list item says nothing about roles, title or custom attributes */
    f = facts_of("user-v2-list-item.json", &ids, &n, &known);
    assert_non_null(f);
    assert_false(known);
    assert_true(json_is_null(json_object_get(f, "username")));
    assert_true(json_is_null(json_object_get(f, "title")));
    assert_true(json_is_null(json_object_get(f, "custom_attributes")));
    assert_int_equal(fint(f, "id"), 56781966);
    json_decref(f);

    /* the spec's placeholders: status 5 */
    f = facts_of("oas-user.json", &ids, &n, &known);
    assert_non_null(f);
    assert_string_equal(fstr(f, "status_name"), "awaiting_password_reset");
    assert_null(fstr(f, "state_name") /* state 5: no such state */);
    assert_true(json_is_null(json_object_get(f, "state_name")));
    free(ids);
    json_decref(f);
}

static void test_user_v1_fixtures(void **state)
{
    json_t *page, *data, *u, *f;
    int64_t *ids;
    size_t n, i;
    bool known;

    (void)state;
    /* the v1 envelope: data is an array of one; role_id null means none */
    f = facts_of("user-v1-200.json", &ids, &n, &known);
    assert_non_null(f);
    assert_int_equal(fint(f, "id"), 60308064);
    assert_true(known);
    assert_int_equal(n, 0);
    assert_string_equal(fstr(f, "email"), "test@example.com");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(f, "custom_attributes"), "countrycode")),
                        "");
    json_decref(f);

    /* a v1 item: role_id is an array */
    f = facts_of("user-v1-item.json", &ids, &n, &known);
    assert_non_null(f);
    assert_true(known);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 77777);
    assert_int_equal(ids[1], 111111);
    assert_string_equal(fstr(f, "department"), "Finance");
    assert_true(json_is_null(json_object_get(f, "custom_attributes")));
    free(ids);
    json_decref(f);

    /* the recorded users page (real service): every item maps */
    page = ola_test_onelogin_json("users-v1-page.json");
    data = json_object_get(json_object_get(json_object_get(page, "response"), "body"),
                           "data");
    assert_int_equal(json_array_size(data), 5);
    json_array_foreach(data, i, u)
    {
        json_t *role_id = json_object_get(u, "role_id");

        f = ola_enrich_user_facts(u, &ids, &n, &known);
        assert_non_null(f);
        assert_int_equal(fint(f, "id"), json_integer_value(json_object_get(u, "id")));
        assert_string_equal(fstr(f, "email"),
                            json_string_value(json_object_get(u, "email")));
        assert_true(json_equal(json_object_get(f, "custom_attributes"),
                               json_object_get(u, "custom_attributes")));
        assert_true(known);
        assert_int_equal(n, json_is_array(role_id) ? json_array_size(role_id) : 0);
        free(ids);
        json_decref(f);
    }
    json_decref(page);

    /* not users */
    u = ola_test_onelogin_json("error-v2-404.json");
    assert_null(ola_enrich_user_facts(u, &ids, &n, &known));
    json_decref(u);
    u = ola_test_onelogin_json("error-v1-404-user-not-found.json");
    assert_null(ola_enrich_user_facts(u, &ids, &n, &known));
    json_decref(u);
    u = json_pack("{s:[i, s]}", "role_ids", 1, "x");
    assert_null(ola_enrich_user_facts(u, &ids, &n, &known));
    json_decref(u);
    u = json_pack("{s:i, s:[i, s]}", "id", 5, "role_ids", 1, "x"); /* bad role ids */
    assert_null(ola_enrich_user_facts(u, &ids, &n, &known));
    assert_null(ids);
    json_decref(u);
}

static void test_roles_of_user_shapes(void **state)
{
    json_t *b;
    int64_t *ids;
    size_t n;

    (void)state;
    /* the documented v1 shape: a nested [[...]] */
    b = ola_test_onelogin_json("user-roles-v1-nested.json");
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 77777);
    assert_int_equal(ids[1], 111111);
    free(ids);
    json_decref(b);
    /* none: [[]] */
    b = ola_test_onelogin_json("user-roles-v1-empty.json");
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ids);
    json_decref(b);
    /* the spec's flat shape */
    b = ola_test_onelogin_json("oas-user-roles.json");
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), 0);
    assert_int_equal(n, 2);
    free(ids);
    json_decref(b);
    /* a flat [] */
    b = json_pack("{s:[]}", "data");
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), 0);
    assert_int_equal(n, 0);
    json_decref(b);
    /* other shapes are refused */
    b = json_pack("{s:[[i], [i]]}", "data", 1, 2); /* two inner lists */
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), -1);
    json_decref(b);
    b = json_pack("{s:[[s]]}", "data", "x");
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), -1);
    json_decref(b);
    b = json_pack("{s:{}}", "data");
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), -1);
    json_decref(b);
    b = ola_test_onelogin_json("error-v1-401-insufficient-permission.json");
    assert_int_equal(ola_enrich_role_ids(b, &ids, &n), -1);
    json_decref(b);
}

static void test_role_answers(void **state)
{
    json_t *b, *f;

    (void)state;
    b = ola_test_onelogin_json("role-v1-200.json");
    f = ola_enrich_role_facts(b);
    assert_non_null(f);
    assert_int_equal(fint(f, "id"), 123456);
    assert_string_equal(fstr(f, "name"), "Employee");
    assert_int_equal(json_object_size(f), 2);
    json_decref(f);
    json_decref(b);
    b = ola_test_onelogin_json("role-v2-200.json");
    f = ola_enrich_role_facts(b);
    assert_non_null(f);
    assert_int_equal(fint(f, "id"), 452448);
    assert_string_equal(fstr(f, "name"), "New Role");
    assert_int_equal(json_object_size(f), 2); /* no users, apps, admins */
    json_decref(f);
    json_decref(b);
    b = ola_test_onelogin_json("error-v2-404.json");
    assert_null(ola_enrich_role_facts(b));
    json_decref(b);
}

/* A lookup by id asks for one object: an answer with more is refused. */
static void test_answer_larger_than_asked(void **state)
{
    json_t *b, *f;
    int64_t *ids;
    size_t n;
    bool known;

    (void)state;
    b = json_pack("{s:[{s:i, s:s}, {s:i, s:s}]}", "data", "id", 1, "email", "a@x", "id",
                  2, "email", "b@x");
    assert_null(ola_enrich_user_facts(b, &ids, &n, &known));
    json_decref(b);
    b = json_pack("{s:[{s:i, s:s}, {s:i, s:s}]}", "data", "id", 7, "name", "A", "id", 8,
                  "name", "B");
    assert_null(ola_enrich_role_facts(b));
    json_decref(b);
    /* exactly one is the answer */
    b = json_pack("{s:[{s:i, s:s}]}", "data", "id", 7, "name", "A");
    f = ola_enrich_role_facts(b);
    assert_non_null(f);
    assert_int_equal(fint(f, "id"), 7);
    json_decref(f);
    json_decref(b);
}

/* ---- the enrich section of the configuration --------------------------------- */

#define CF_HEAD                                                                          \
    "onelogin:\n  region: us\n  client_id: id\n  client_secret: sec\n"                   \
    "outputs:\n  - type: stdout\n"

/* Loads CF_HEAD + text; returns 0 / -1 with err; *doc to destroy. */
static int cf_load(const char *text, struct ola_settings *s, struct ola_err *err,
                   struct ola_cfg_doc **doc)
{
    char buf[2048];
    int n = snprintf(buf, sizeof(buf), "%s%s", CF_HEAD, text);

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    *doc = NULL;
    if (ola_cfg_load_string("t.yaml", buf, (size_t)n, doc, err) != 0)
        return -1;
    return ola_settings_load(*doc, 1700000000000LL, s, err);
}

static void cf_fail(const char *text, const char *want)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err = {0, ""};

    if (cf_load(text, &s, &err, &doc) == 0)
        fail_msg("loaded, but expected an error like '%s'", want);
    if (strstr(err.msg, want) == NULL)
        fail_msg("error '%s' does not say '%s'", err.msg, want);
    ola_cfg_doc_destroy(doc);
}

static void test_config_section(void **state)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err = {0, ""};

    (void)state;
    /* absent: on, with the defaults */
    assert_int_equal(cf_load("", &s, &err, &doc), 0);
    assert_true(s.enrich_enabled);
    assert_true(s.enrich_opts.users && s.enrich_opts.roles && s.enrich_opts.event_types);
    assert_int_equal(s.enrich_opts.concurrency, 4);
    assert_int_equal(s.enrich_opts.api_version, 2);
    assert_int_equal(s.enrich_opts.timeout_ms, 10000);
    assert_true(s.enrich_opts.reserve > 0.199 && s.enrich_opts.reserve < 0.201);
    assert_int_equal(s.enrich_opts.cache_entries, 10000);
    assert_int_equal(s.enrich_opts.cache_ttl_ms, 15 * 60000);
    assert_int_equal(s.enrich_opts.cache_negative_ms, 5 * 60000);
    ola_cfg_doc_destroy(doc);
    /* every key */
    assert_int_equal(cf_load("enrich:\n  users: true\n  roles: false\n  event_types: no\n"
                             "  concurrency: 8\n  api: 1\n  timeout: 2s\n  reserve: 30%\n"
                             "  cache: {entries: 100, ttl: 1h, negative_ttl: 0}\n",
                             &s, &err, &doc),
                     0);
    assert_true(s.enrich_enabled);
    assert_true(s.enrich_opts.users);
    assert_false(s.enrich_opts.roles);
    assert_false(s.enrich_opts.event_types);
    assert_int_equal(s.enrich_opts.concurrency, 8);
    assert_int_equal(s.enrich_opts.api_version, 1);
    assert_int_equal(s.enrich_opts.timeout_ms, 2000);
    assert_true(s.enrich_opts.reserve > 0.299 && s.enrich_opts.reserve < 0.301);
    assert_int_equal(s.enrich_opts.cache_entries, 100);
    assert_int_equal(s.enrich_opts.cache_ttl_ms, 3600000);
    assert_int_equal(s.enrich_opts.cache_negative_ms, 0);
    ola_cfg_doc_destroy(doc);
    /* off, three ways */
    assert_int_equal(cf_load("enrich: false\n", &s, &err, &doc), 0);
    assert_false(s.enrich_enabled);
    ola_cfg_doc_destroy(doc);
    assert_int_equal(cf_load("enrich: {enabled: false}\n", &s, &err, &doc), 0);
    assert_false(s.enrich_enabled);
    ola_cfg_doc_destroy(doc);
    assert_int_equal(cf_load("enrich: {users: false, roles: false, event_types: false}\n",
                             &s, &err, &doc),
                     0);
    assert_false(s.enrich_enabled);
    ola_cfg_doc_destroy(doc);
    /* errors carry file:line and the key */
    cf_fail("enrich:\n  cache_size: 100\n", "t.yaml:8: unknown key 'enrich.cache_size'");
    cf_fail("enrich:\n  cache: {entry: 5}\n",
            "t.yaml:8: unknown key 'enrich.cache.entry'");
    cf_fail("enrich:\n  concurrency: 0\n", "t.yaml:8:");
    cf_fail("enrich:\n  concurrency: 33\n", "concurrency");
    cf_fail("enrich:\n  api: 3\n", "t.yaml:8:");
    cf_fail("enrich:\n  reserve: 95%\n", "t.yaml:8: enrich.reserve: at most 90%");
    cf_fail("enrich:\n  reserve: lots\n", "expected a percentage");
    cf_fail("enrich:\n  timeout: 1ms\n", "t.yaml:8:");
    cf_fail("enrich:\n  cache: [1]\n", "t.yaml:8: enrich.cache: expected a map");
    cf_fail("enrich:\n  cache: {entries: 0}\n", "t.yaml:8:");
    cf_fail("enrich:\n  cache: {ttl: 0}\n", "t.yaml:8:");
    cf_fail("enrich:\n  users: maybe\n", "t.yaml:8:");
    cf_fail("enrich: [users]\n", "t.yaml:7: enrich: expected a map or false");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eviction_rules),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_user_v2_fixture),
        cmocka_unit_test(test_user_v1_fixtures),
        cmocka_unit_test(test_roles_of_user_shapes),
        cmocka_unit_test(test_role_answers),
        cmocka_unit_test(test_answer_larger_than_asked),
        cmocka_unit_test(test_config_section),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
