/*
 * test_enrich.c - the enricher against a small OneLogin tenant over HTTP.
 *
 * The pure parts first: which event types evict a user or a role, status and
 * state names, the user facts read from the recorded and SDK fixtures in
 * $OLA_DATA_DIR/onelogin (v2 objects, v1 envelopes, the recorded v1 users
 * page), the v1 roles-of-a-user shapes (nested [[...]], flat, empty) and
 * role answers. Then the enricher end to end: the unit tests' HTTP fake
 * (tests/lib/http_fake.h) on 127.0.0.1 plays a tenant (token, users v1/v2,
 * roles v1/v2, roles of a user, event types, X-RateLimit-* headers that count
 * down, 404s, 503s, a refused token) through a handler; the fake records every
 * request, holds each answer a few milliseconds and counts requests in flight
 * and connections, so the tests check what went over the wire: one lookup per
 * distinct user and role of a page, at most `concurrency` at once over reused
 * connections, nothing for a warm cache, a refetch after a user-changing
 * event, deferral at the reserve without a single 429, failure marking and the
 * pause after a failing round.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/enrich_adapter.h"
#include "agent/onelogin/client.h"
#include "agent/settings.h"
#include "config/config.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "tests/lib/http_fake.h"
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

/* ---- the tenant server ------------------------------------------------------- */

#define TN_MAX_USERS  64
#define TN_TOKEN_PATH "/auth/oauth2/v2/token"

struct tn_user {
    int64_t id;
    int64_t roles[4];
    int n_roles;
    int no_roles_key; /* the v2 answer lacks role_ids */
    int fail503;      /* answers 503 */
    int deleted;      /* answers 404 */
    char department[32];
};

struct tn_server {
    struct ola_fake *fake;
    pthread_mutex_t mu; /* the tenant below */
    struct tn_user users[TN_MAX_USERS];
    size_t n_users;
    int64_t role_ids[8];
    char role_names[8][32];
    size_t n_roles;
    json_t *tpl;   /* user-v2-200.json */
    json_t *types; /* event-types-200.json */
    long rl_limit; /* 0: no rate-limit headers */
    long rl_remaining;
    unsigned delay_ms; /* each answer to an authorized /api/ call is held this long */
    unsigned token_requests, refuse_next; /* refuse_next: 401s to give */
    unsigned n429;
    int token_gen;
};

static struct tn_user *tn_user(struct tn_server *s, int64_t id)
{
    size_t i;

    for (i = 0; i < s->n_users; i++)
        if (s->users[i].id == id)
            return &s->users[i];
    return NULL;
}

static int tn_role(const struct tn_server *s, int64_t id)
{
    size_t i;

    for (i = 0; i < s->n_roles; i++)
        if (s->role_ids[i] == id)
            return (int)i;
    return -1;
}

/* The answer to an /api/ GET (under the lock). Returns a malloc'd body. */
static char *tn_answer(struct tn_server *s, const char *url, unsigned *status)
{
    long long id = 0;
    char rest[32] = "";
    json_t *j = NULL;
    char *out;

    *status = 404;
    if (strcmp(url, "/api/1/events/types") == 0) {
        *status = 200;
        return json_dumps(s->types, JSON_COMPACT);
    }
    if (sscanf(url, "/api/2/users/%lld%31s", &id, rest) >= 1 && rest[0] == '\0') {
        struct tn_user *u = tn_user(s, id);
        json_t *roles = json_array();
        int k;

        if (u == NULL || u->deleted) {
            json_decref(roles);
            return strdup("{\"statusCode\":404,\"name\":\"NotFoundError\",\"message\":"
                          "\"The resource with the given id could not be found\"}");
        }
        if (u->fail503) {
            json_decref(roles);
            *status = 503;
            return strdup("<html><body>503 Service Unavailable</body></html>");
        }
        j = json_deep_copy(s->tpl);
        for (k = 0; k < u->n_roles; k++)
            json_array_append_new(roles, json_integer(u->roles[k]));
        json_object_set_new(j, "id", json_integer(id));
        json_object_set_new(j, "username", json_sprintf("user%lld", id));
        json_object_set_new(j, "email", json_sprintf("user%lld@example.com", id));
        json_object_set_new(j, "department", json_string(u->department));
        if (u->no_roles_key) {
            json_decref(roles);
            json_object_del(j, "role_ids");
        } else {
            json_object_set_new(j, "role_ids", roles);
        }
        *status = 200;
    } else if (sscanf(url, "/api/1/users/%lld%31s", &id, rest) >= 1) {
        struct tn_user *u = tn_user(s, id);
        json_t *roles = json_array(), *item;
        int k;

        if (u == NULL || u->deleted) {
            json_decref(roles);
            return strdup("{\"status\":{\"code\":404,\"error\":true,\"message\":\"User "
                          "for id 1 was not found\",\"type\":\"not found\"}}");
        }
        for (k = 0; k < u->n_roles; k++)
            json_array_append_new(roles, json_integer(u->roles[k]));
        if (strcmp(rest, "/roles") == 0) {
            j = json_pack("{s:{s:b, s:i, s:s, s:s}, s:[o]}", "status", "error", 0, "code",
                          200, "type", "success", "message", "Success", "data", roles);
        } else if (rest[0] == '\0') {
            item = json_deep_copy(s->tpl);
            json_object_del(item, "role_ids");
            json_object_set_new(item, "id", json_integer(id));
            json_object_set_new(item, "username", json_sprintf("user%lld", id));
            json_object_set_new(item, "department", json_string(u->department));
            if (u->n_roles > 0) {
                json_object_set_new(item, "role_id", roles);
            } else {
                json_decref(roles);
                json_object_set_new(item, "role_id", json_null());
            }
            j = json_pack("{s:{s:b, s:i, s:s, s:s}, s:[o]}", "status", "error", 0, "code",
                          200, "type", "success", "message", "Success", "data", item);
        } else {
            json_decref(roles);
            return strdup("{}");
        }
        *status = 200;
    } else if (sscanf(url, "/api/%*d/roles/%lld", &id) == 1) {
        int r = tn_role(s, id);

        if (r < 0)
            return strdup("{\"statusCode\":404,\"name\":\"NotFoundError\","
                          "\"message\":\"no such role\"}");
        if (strncmp(url, "/api/2/", 7) == 0)
            j = json_pack("{s:I, s:s, s:[], s:[], s:[]}", "id", (json_int_t)id, "name",
                          s->role_names[r], "admins", "apps", "users");
        else
            j = json_pack("{s:{s:b, s:i, s:s, s:s}, s:[{s:I, s:s}]}", "status", "error",
                          0, "code", 200, "type", "success", "message", "Success", "data",
                          "id", (json_int_t)id, "name", s->role_names[r]);
        *status = 200;
    } else {
        return strdup("{}");
    }
    out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

/* Fills the fake's answer a. body: malloc'd (owned by a from now on), or NULL. */
static int tn_send(struct ola_fake_answer *a, unsigned status, char *body,
                   const struct tn_server *s, long remaining, bool metered)
{
    char v[32];
    int rc = 0;

    if (body == NULL)
        return -1;
    a->status = (int)status;
    a->body = body;
    a->len = strlen(body);
    rc |= ola_fake_answer_header(a, "Content-Type",
                                 body[0] == '<' ? "text/html" : "application/json");
    if (metered && s->rl_limit > 0) {
        snprintf(v, sizeof(v), "%ld", s->rl_limit);
        rc |= ola_fake_answer_header(a, "X-RateLimit-Limit", v);
        snprintf(v, sizeof(v), "%ld", remaining);
        rc |= ola_fake_answer_header(a, "X-RateLimit-Remaining", v);
        rc |= ola_fake_answer_header(a, "X-RateLimit-Reset", "600");
    }
    return rc;
}

/* The fake's handler: the tenant's answer to rq (on a server thread). */
static int tn_handler(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a)
{
    struct tn_server *s = arg;
    const char *auth;
    char want[64], *body;
    unsigned status;
    long remaining = 0;

    pthread_mutex_lock(&s->mu);
    if (strcmp(rq->path, TN_TOKEN_PATH) == 0 && strcmp(rq->method, "POST") == 0) {
        char created[40];
        time_t now = time(NULL);
        struct tm tm;

        s->token_requests++;
        s->token_gen++;
        gmtime_r(&now, &tm);
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        body = malloc(256);
        if (body != NULL)
            snprintf(body, 256,
                     "{\"access_token\":\"tok%d\",\"created_at\":\"%s\","
                     "\"expires_in\":36000,\"token_type\":\"bearer\"}",
                     s->token_gen, created);
        pthread_mutex_unlock(&s->mu);
        return tn_send(a, 200, body, s, 0, false);
    }
    snprintf(want, sizeof(want), "Bearer tok%d", s->token_gen);
    auth = ola_fake_header(rq, "Authorization");
    if (auth == NULL || strcmp(auth, want) != 0 || s->refuse_next > 0) {
        if (s->refuse_next > 0)
            s->refuse_next--;
        pthread_mutex_unlock(&s->mu);
        return tn_send(
            a, 401,
            strdup("{\"status\":{\"error\":true,\"code\":401,\"type\":"
                   "\"Unauthorized\",\"message\":\"Authentication Failure\"}}"),
            s, 0, false);
    }
    if (s->rl_limit > 0) {
        if (s->rl_remaining <= 0) {
            s->n429++;
            pthread_mutex_unlock(&s->mu);
            return tn_send(a, 429,
                           strdup("{\"status\":{\"error\":true,\"code\":429,\"type\":"
                                  "\"Too Many Requests\",\"message\":\"rate limited\"}}"),
                           s, 0, true);
        }
        remaining = --s->rl_remaining;
    }
    body = tn_answer(s, rq->path, &status);
    a->delay_ms = s->delay_ms;
    pthread_mutex_unlock(&s->mu);
    return tn_send(a, status, body, s, remaining, true);
}

static void tn_start(struct tn_server *s)
{
    struct ola_fake_opts o = {0};
    struct ola_err err = {0};

    memset(s, 0, sizeof(*s));
    assert_int_equal(pthread_mutex_init(&s->mu, NULL), 0);
    s->tpl = ola_test_onelogin_json("user-v2-200.json");
    s->types = ola_test_onelogin_json("event-types-200.json");
    s->delay_ms = 15;
    o.handler = tn_handler;
    o.handler_arg = s;
    o.send_date = true;
    if (ola_fake_start(&o, &s->fake, &err) != 0)
        fail_msg("%s", err.msg);
}

static void tn_stop(struct tn_server *s)
{
    ola_fake_stop(s->fake);
    json_decref(s->tpl);
    json_decref(s->types);
    pthread_mutex_destroy(&s->mu);
}

static void tn_add_user(struct tn_server *s, int64_t id, int n_roles, ...)
{
    struct tn_user *u = &s->users[s->n_users++];
    va_list ap;
    int k;

    assert_true(s->n_users <= TN_MAX_USERS);
    memset(u, 0, sizeof(*u));
    u->id = id;
    u->n_roles = n_roles;
    va_start(ap, n_roles);
    for (k = 0; k < n_roles; k++)
        u->roles[k] = va_arg(ap, int64_t);
    va_end(ap);
    snprintf(u->department, sizeof(u->department), "Dept%d", (int)(id % 7));
}

static void tn_add_role(struct tn_server *s, int64_t id, const char *name)
{
    s->role_ids[s->n_roles] = id;
    snprintf(s->role_names[s->n_roles], sizeof(s->role_names[0]), "%s", name);
    s->n_roles++;
}

/*
 * The tenant's log: the requests other than for a token, in arrival order
 * (the fake records those too). tn_mark: how many so far; tn_count: those
 * from the mark on whose path starts with prefix.
 */
static unsigned tn_count(struct tn_server *s, size_t mark, const char *prefix)
{
    const struct ola_fake_req *rq;
    unsigned n = 0;
    size_t i, k = 0;

    for (i = 0; (rq = ola_fake_seen(s->fake, i)) != NULL; i++) {
        if (strcmp(rq->path, TN_TOKEN_PATH) == 0 && strcmp(rq->method, "POST") == 0)
            continue;
        if (k++ >= mark && strncmp(rq->path, prefix, strlen(prefix)) == 0)
            n++;
    }
    return n;
}

static size_t tn_mark(struct tn_server *s)
{
    return tn_count(s, 0, "");
}

static struct ola_fake_stats tn_stats(struct tn_server *s)
{
    struct ola_fake_stats st;

    ola_fake_stats(s->fake, &st);
    return st;
}

/* A tenant of 20 users (ids 1001..1020) over 3 roles; user 1020 is deleted. */
static void tn_tenant(struct tn_server *s)
{
    int64_t id;

    tn_add_role(s, 501, "Employee");
    tn_add_role(s, 502, "Admin");
    tn_add_role(s, 503, "Sales");
    for (id = 1001; id <= 1020; id++) {
        if (id % 3 == 0)
            tn_add_user(s, id, 2, (int64_t)501, (int64_t)502);
        else
            tn_add_user(s, id, 1, (int64_t)501);
    }
    tn_user(s, 1020)->deleted = 1;
}

/* ---- the enricher's fixture ---------------------------------------------------- */

struct te {
    struct tn_server srv;
    struct ola_ol_client *client;
    struct ola_enricher *en;
    struct ola_enrich_settings o;
    struct ola_batch b;
    int64_t now; /* the enricher's monotonic clock, driven by the test */
};

static void te_settings(struct ola_enrich_settings *o)
{
    memset(o, 0, sizeof(*o));
    o->users = true;
    o->roles = true;
    o->event_types = true;
    o->concurrency = 4;
    o->api_version = 2;
    o->timeout_ms = 5000;
    o->reserve = 0.2;
    o->cache_entries = 10000;
    o->cache_ttl_ms = 15 * 60000;
    o->cache_negative_ms = 5 * 60000;
}

/* Client and enricher on the server, with settings o (the fixture's). */
static void te_open(struct te *t)
{
    struct ola_err err = {0, ""};
    struct ola_enrich_api api;
    struct ola_ol_opts oo;
    char base[64];

    snprintf(base, sizeof(base), "%s", ola_fake_url(t->srv.fake));
    memset(&oo, 0, sizeof(oo));
    oo.base_url = base;
    oo.client_id = "id";
    oo.client_secret = "secret";
    oo.timeout_ms = 5000;
    oo.reserve = t->o.reserve > 0 ? t->o.reserve : 0.2;
    if (ola_ol_client_new(&oo, &t->client, &err) != 0)
        fail_msg("client: %s", err.msg);
    if (ola_enricher_new(&t->o, ola_enrich_onelogin_api(t->client, &api), &t->en, &err) !=
        0)
        fail_msg("enricher: %s", err.msg);
}

static int te_setup(void **state)
{
    struct te *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    tn_start(&t->srv);
    tn_tenant(&t->srv);
    te_settings(&t->o);
    ola_batch_init(&t->b);
    t->now = 1000000;
    *state = t;
    return 0;
}

static int te_teardown(void **state)
{
    struct te *t = *state;

    ola_batch_free(&t->b);
    ola_enricher_destroy(t->en);
    ola_ol_client_destroy(t->client);
    tn_stop(&t->srv);
    free(t);
    return 0;
}

/* Appends an event: type, user, actor (0: none), role (0: none). */
static struct ola_event *te_event(struct te *t, long long type, long long user,
                                  long long actor, long long role)
{
    json_t *ev = json_pack("{s:I, s:I, s:I, s:s}", "id", (json_int_t)(t->b.n + 1),
                           "event_type_id", (json_int_t)type, "user_id", (json_int_t)user,
                           "user_name", "Event Name");
    struct ola_event *e;

    assert_non_null(ev);
    if (actor != 0) {
        json_object_set_new(ev, "actor_user_id", json_integer(actor));
        json_object_set_new(ev, "actor_user_name", json_string("Actor Name"));
    } else {
        json_object_set_new(ev, "actor_user_id", json_null());
    }
    if (role != 0) {
        json_object_set_new(ev, "role_id", json_integer(role));
        json_object_set_new(ev, "role_name", json_string("Role Name"));
    }
    e = ola_batch_add(&t->b, OLA_REC_EVENT, ev, NULL, 0);
    assert_non_null(e);
    return e;
}

static void te_run(struct te *t, struct ola_catalog *cat)
{
    struct ola_enrich_types types;

    assert_int_equal(
        ola_enrich_batch(t->en, &t->b, ola_enrich_catalog_types(cat, &types), t->now), 0);
}

static const json_t *te_ola(const struct ola_event *e, const char *slot)
{
    return json_object_get(e->ola, slot);
}

static const char *te_enrichment(const struct ola_event *e)
{
    return json_string_value(json_object_get(e->ola, "enrichment"));
}

/* The user object is what the server says about user id. */
static void te_check_user(const json_t *u, long long id, int n_roles)
{
    char want[64];
    const json_t *roles = json_object_get(u, "roles");

    assert_non_null(u);
    assert_int_equal(json_integer_value(json_object_get(u, "id")), id);
    snprintf(want, sizeof(want), "user%lld", id);
    assert_string_equal(json_string_value(json_object_get(u, "username")), want);
    snprintf(want, sizeof(want), "Dept%d", (int)(id % 7));
    assert_string_equal(json_string_value(json_object_get(u, "department")), want);
    assert_string_equal(json_string_value(json_object_get(u, "status_name")), "locked");
    assert_int_equal(json_array_size(roles), n_roles);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(roles, 0), "id")),
                     501);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(roles, 0), "name")), "Employee");
    if (n_roles > 1)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(roles, 1), "name")),
            "Admin");
}

/* ---- the enricher end to end ------------------------------------------------- */

static void test_page_dedupe_concurrency_warm(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    unsigned conns;
    size_t i, mark;

    te_open(t);
    /* 200 events over users 1001..1019, actors among them, role 503 on some */
    for (i = 0; i < 200; i++)
        te_event(t, 5, 1001 + (long long)(i % 19), 1001 + (long long)((i * 7) % 19),
                 i % 10 == 0 ? 503 : 0);
    te_run(t, NULL);
    /* one lookup per distinct user and role: 19 users, 503 + the users' 501, 502 */
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/"), 19);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/roles/"), 3);
    assert_int_equal(tn_mark(&t->srv), 22);
    assert_true(tn_stats(&t->srv).max_inflight <= 4);
    assert_true(tn_stats(&t->srv).max_inflight >= 2); /* they did overlap */
    /* four for lookups, one for the token (the client's own handle) */
    assert_true(tn_stats(&t->srv).connections <= 5);
    assert_int_equal(t->srv.token_requests, 1);
    for (i = 0; i < t->b.n; i++) {
        const struct ola_event *e = &t->b.ev[i];
        long long uid = 1001 + (long long)(i % 19),
                  aid = 1001 + (long long)((i * 7) % 19);

        te_check_user(te_ola(e, "user"), uid, uid % 3 == 0 ? 2 : 1);
        te_check_user(te_ola(e, "actor"), aid, aid % 3 == 0 ? 2 : 1);
        assert_null(te_enrichment(e));
        if (i % 10 == 0) {
            assert_string_equal(
                json_string_value(json_object_get(te_ola(e, "role"), "name")), "Sales");
        } else {
            assert_null(te_ola(e, "role"));
        }
    }
    /* the same users shared one object: no copy per event */
    assert_ptr_equal(te_ola(&t->b.ev[0], "user"), te_ola(&t->b.ev[19], "user"));
    /* strings users share are kept once: 1001 and 1008 are both in Dept0 */
    assert_ptr_equal(json_object_get(te_ola(&t->b.ev[0], "user"), "department"),
                     json_object_get(te_ola(&t->b.ev[7], "user"), "department"));
    assert_ptr_equal(json_object_get(te_ola(&t->b.ev[0], "user"), "status_name"),
                     json_object_get(te_ola(&t->b.ev[1], "user"), "status_name"));

    /* a second page with the same people: nothing goes over the wire */
    conns = tn_stats(&t->srv).connections;
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    for (i = 0; i < 100; i++)
        te_event(t, 8, 1001 + (long long)(i % 19), 0, 503);
    t->now += 60000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    te_check_user(te_ola(&t->b.ev[4], "user"), 1005, 2);
    assert_null(te_ola(&t->b.ev[4], "actor"));
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.misses, 22);
    assert_int_equal(st.hits, 19 + 1); /* the second page's distinct users and role */
    assert_int_equal(st.entries, 22);

    /* a new user later: one lookup, over a connection already open */
    ola_batch_reset(&t->b);
    te_event(t, 5, 1020, 0, 0);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1020"), 1);
    assert_int_equal(tn_mark(&t->srv), mark + 1);
    assert_int_equal(tn_stats(&t->srv).connections, conns);
}

/*
 * A change older than the cached facts does not evict: they were fetched
 * after it and show it already (a backfill looks each user up once). A
 * change newer than the fetch does.
 */
static void test_change_older_than_fetch_keeps_entry(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    struct ola_event *e;
    size_t mark;
    int64_t server_now;

    te_open(t);
    te_event(t, 5, 1004, 0, 0);
    te_event(t, 5, 1005, 0, 700001);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/"), 2);
    server_now = ola_ol_server_now_ms(t->client);

    /* a backfill meets changes an hour old: no lookup */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    e = te_event(t, 4, 1004, 1005, 0); /* USER_ASSIGNED_ROLE */
    e->created_ms = server_now - 3600000;
    e = te_event(t, 9052, 1005, 0, 700001); /* role renamed */
    e->created_ms = server_now - 3600000;
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.changes_seen, 2);
    assert_int_equal(st.change_evictions, 0);
    assert_int_equal(
        json_integer_value(json_object_get(te_ola(&t->b.ev[0], "user"), "id")), 1004);

    /* the same change happening now (tailing): evicted and fetched again */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    e = te_event(t, 4, 1004, 1005, 0);
    e->created_ms = server_now + 1000;
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1004"), 1);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.change_evictions, 1);
    assert_int_equal(st.changes_seen, 2);
}

static void test_user_changing_event_evicts(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    size_t mark, i;

    te_open(t);
    for (i = 0; i < 19; i++)
        te_event(t, 5, 1001 + (long long)i, 0, 0);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/"), 19);

    /* the tenant changes: 1004 gets Sales, 1005's department moves */
    tn_user(&t->srv, 1004)->roles[1] = 503;
    tn_user(&t->srv, 1004)->n_roles = 2;
    snprintf(tn_user(&t->srv, 1005)->department, 32, "Moved");
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1004, 0, 0);      /* before the change in the page: fresh facts too */
    te_event(t, 4, 1004, 1001, 503); /* USER_ASSIGNED_ROLE to 1004 by 1001 */
    te_event(t, 5, 1005, 0, 0);      /* 1005 changed without an event: still cached */
    te_event(t, 8, 1006, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    /* 1004 again, role 503 for the event's role_id; nothing else */
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1004"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/roles/503"), 1);
    for (i = 0; i < 2; i++) {
        const json_t *roles = json_object_get(te_ola(&t->b.ev[i], "user"), "roles");

        assert_int_equal(json_array_size(roles), 2);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(roles, 1), "name")),
            "Sales");
    }
    /* the actor of a user-changing event is not evicted */
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1001"), 0);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[2], "user"), "department")),
        "Dept4");
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.change_evictions, 1);
    assert_int_equal(st.evictions, 1);

    /* deleted, locked, role removed, password: each one lookup, once per page */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 17, 1007, 0, 0);  /* DELETED_USER */
    te_event(t, 19, 1008, 0, 0);  /* USER_LOCKED */
    te_event(t, 148, 1009, 0, 0); /* USER_MANUALLY_REMOVED_FROM_ROLE */
    te_event(t, 11, 1010, 0, 0);  /* USER_CHANGED_PASSWORD */
    te_event(t, 11, 1010, 0, 0);  /* twice in a page: one eviction, one lookup */
    te_event(t, 6, 1011, 0, 0);   /* a failed login changes nothing */
    tn_user(&t->srv, 1007)->deleted = 1;
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/"), 4);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1011"), 0);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.change_evictions, 5);
    /* the deleted user: the event's own name, found false; remembered */
    {
        const json_t *u = te_ola(&t->b.ev[0], "user");

        assert_int_equal(json_integer_value(json_object_get(u, "id")), 1007);
        assert_string_equal(json_string_value(json_object_get(u, "name")), "Event Name");
        assert_true(json_is_false(json_object_get(u, "found")));
        assert_null(te_enrichment(&t->b.ev[0]));
    }
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1007, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    assert_true(json_is_false(json_object_get(te_ola(&t->b.ev[0], "user"), "found")));
    /* ... until the negative ttl (5 min) is up */
    ola_batch_reset(&t->b);
    te_event(t, 5, 1007, 0, 0);
    t->now += 5 * 60000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1007"), 1);

    /* a role renamed: evicted by ROLE_UPDATE_SUCCESS, users show the new name */
    snprintf(t->srv.role_names[0], 32, "Staff");
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 9052, 1001, 0, 501);
    te_event(t, 5, 1002, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/roles/501"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/"), 0);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[0], "role"), "name")), "Staff");
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(te_ola(&t->b.ev[1], "user"), "roles"), 0),
            "name")),
        "Staff");
}

static void test_shared_strings_bounded(void **state)
{
    struct te *t = *state;
    const json_t *u;
    char want[32];
    int i;

    te_open(t);
    /* a user updated over and over, a new department each time: more distinct
       strings than the enricher shares at once; old ones must go, new ones stay
       right */
    for (i = 0; i < 700; i++) {
        pthread_mutex_lock(&t->srv.mu);
        snprintf(tn_user(&t->srv, 1001)->department, 32, "Dept-%d", i);
        pthread_mutex_unlock(&t->srv.mu);
        ola_batch_reset(&t->b);
        te_event(t, 14, 1001, 0, 0); /* UPDATED_USER: evicts 1001 first */
        te_event(t, 5, 1002 + i % 18, 0, 0);
        t->now += 10;
        te_run(t, NULL);
        u = te_ola(&t->b.ev[0], "user");
        snprintf(want, sizeof(want), "Dept-%d", i);
        assert_string_equal(json_string_value(json_object_get(u, "department")), want);
        te_check_user(te_ola(&t->b.ev[1], "user"), 1002 + i % 18,
                      (1002 + i % 18) % 3 == 0 ? 2 : 1);
    }
}

static void test_trim_between_pages(void **state)
{
    struct te *t = *state;
    size_t i, mark;

    te_open(t);
    ola_enricher_trim(t->en); /* before any page: nothing to give back */
    for (i = 0; i < 300; i++)
        te_event(t, 5, 1001 + (long long)(i % 19), 1001 + (long long)((i * 3) % 19), 0);
    te_run(t, NULL);
    /* a quiet poll after the burst: tables go, the cache stays */
    ola_batch_reset(&t->b);
    ola_enricher_trim(t->en);
    mark = tn_mark(&t->srv);
    for (i = 0; i < 40; i++)
        te_event(t, 8, 1001 + (long long)(i % 19), 0, i % 4 == 0 ? 501 : 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark); /* all from the cache */
    for (i = 0; i < t->b.n; i++) {
        long long uid = 1001 + (long long)(i % 19);

        te_check_user(te_ola(&t->b.ev[i], "user"), uid, uid % 3 == 0 ? 2 : 1);
        assert_null(te_enrichment(&t->b.ev[i]));
    }
    /* and again, with a lookup to make after the trim */
    ola_batch_reset(&t->b);
    ola_enricher_trim(t->en);
    te_event(t, 5, 1020, 1019, 503);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1020"), 1);
    assert_true(json_is_false(json_object_get(te_ola(&t->b.ev[0], "user"), "found")));
    te_check_user(te_ola(&t->b.ev[0], "actor"), 1019, 1);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[0], "role"), "name")), "Sales");
}

static void test_ttl_refetch(void **state)
{
    struct te *t = *state;
    size_t mark;

    t->o.cache_ttl_ms = 60000;
    te_open(t);
    te_event(t, 5, 1001, 0, 0);
    te_run(t, NULL);
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1001, 0, 0);
    t->now += 59999;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1001, 0, 0);
    t->now += 1;
    te_run(t, NULL);
    /* the user and its role expired together (fetched in the same page) */
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1001"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/roles/501"), 1);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1001, 1);
}

static void test_deferred_before_the_reserve(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    size_t i, deferred = 0, enriched = 0;

    /*
     * 100 calls a window, 40 left. Lookups never touch the last 20% (kept for
     * polling), and once what they may use falls under 10% of the limit the
     * governor paces them over the time to the reset: here, they stop at 30.
     */
    t->srv.rl_limit = 100;
    t->srv.rl_remaining = 40;
    te_open(t);
    /* the budget is learned from the first answers (1001 and its role: 38 left) */
    te_event(t, 5, 1001, 0, 0);
    te_run(t, NULL);
    ola_batch_reset(&t->b);
    for (i = 0; i < 18; i++)
        te_event(t, 5, 1002 + (long long)i, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(t->srv.n429, 0);
    assert_int_equal(t->srv.rl_remaining, 29);
    /*
     * 1002..1010 were looked up; 1011..1019 deferred. The role Admin (502) of
     * 1002, 1005 and 1008 was deferred too: they show it without a name.
     */
    for (i = 0; i < t->b.n; i++) {
        const struct ola_event *e = &t->b.ev[i];
        const json_t *u = te_ola(e, "user");
        long long uid = 1002 + (long long)i;

        if (u != NULL) {
            enriched++;
            assert_true(uid <= 1010);
            if (uid % 3 == 0) {
                const json_t *admin = json_array_get(json_object_get(u, "roles"), 1);

                assert_int_equal(json_integer_value(json_object_get(admin, "id")), 502);
                assert_null(json_object_get(admin, "name"));
                assert_string_equal(te_enrichment(e), "deferred");
                deferred++;
            } else {
                te_check_user(u, uid, 1);
                assert_null(te_enrichment(e));
            }
        } else {
            deferred++;
            assert_string_equal(te_enrichment(e), "deferred");
            assert_null(json_object_get(e->ola, "enrichment_error"));
        }
    }
    assert_int_equal(enriched, 9);
    assert_int_equal(deferred, 12);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.deferred, 10); /* 9 users and a role */
    assert_int_equal(st.events_deferred, 12);
    /* polling still has its calls */
    {
        struct ola_ol_response r;

        ola_ol_response_init(&r);
        assert_int_equal(ola_ol_get(t->client, "/api/2/users/1001", OLA_OL_PRIO_POLL, &r),
                         OLA_OL_OK);
        ola_ol_response_free(&r);
    }
    /* a deferred user is not remembered as anything: a later page asks again */
    t->srv.rl_remaining = 100;
    ola_batch_reset(&t->b);
    te_event(t, 5, 1019, 0, 0);
    t->now += 1000;
    /* the governor learns the new window from the next answer: let one through */
    {
        struct ola_ol_response r;

        ola_ol_response_init(&r);
        assert_int_equal(
            ola_ol_get(t->client, "/api/1/events/types", OLA_OL_PRIO_POLL, &r),
            OLA_OL_OK);
        ola_ol_response_free(&r);
    }
    te_run(t, NULL);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1019, 1);
    assert_int_equal(t->srv.n429, 0);
}

static void test_failed_and_paused(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    const char *why;
    size_t mark;

    te_open(t);
    tn_user(&t->srv, 1002)->fail503 = 1;
    te_event(t, 5, 1001, 0, 0);
    te_event(t, 5, 1002, 0, 0);
    te_run(t, NULL);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1001, 1);
    assert_null(te_enrichment(&t->b.ev[0]));
    assert_null(te_ola(&t->b.ev[1], "user"));
    assert_string_equal(te_enrichment(&t->b.ev[1]), "failed");
    why = json_string_value(json_object_get(t->b.ev[1].ola, "enrichment_error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "GET /api/2/users/1002"));
    assert_non_null(strstr(why, "503"));
    /* a failure among successes is retried on the next page: no pause */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1002"), 1);
    /* that round failed entirely: lookups pause for 5 s */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    te_event(t, 5, 1003, 0, 0);
    t->now += 4000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    assert_string_equal(te_enrichment(&t->b.ev[1]), "failed");
    why = json_string_value(json_object_get(t->b.ev[1].ola, "enrichment_error"));
    assert_non_null(strstr(why, "GET /api/2/users/1002"));
    /* after the pause, lookups go again */
    tn_user(&t->srv, 1002)->fail503 = 0;
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    te_event(t, 5, 1003, 0, 0);
    t->now += 1001;
    te_run(t, NULL);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1002, 2);
    te_check_user(te_ola(&t->b.ev[1], "user"), 1003, 1);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.failed, 4); /* two answered 503, two skipped in the pause */
    assert_int_equal(st.events_failed, 4);
}

static void test_token_refused_once(void **state)
{
    struct te *t = *state;

    te_open(t);
    te_event(t, 5, 1001, 0, 0);
    te_run(t, NULL);
    assert_int_equal(t->srv.token_requests, 1);
    /* the token is revoked: the next lookups get 401, one refresh, one retry */
    pthread_mutex_lock(&t->srv.mu);
    t->srv.refuse_next = 2;
    pthread_mutex_unlock(&t->srv.mu);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    te_event(t, 5, 1004, 0, 0);
    te_run(t, NULL);
    assert_int_equal(t->srv.token_requests, 2);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1002, 2);
    te_check_user(te_ola(&t->b.ev[1], "user"), 1004, 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/1002"), 2);
}

static void test_v1_api_and_roles_of_user(void **state)
{
    struct te *t = *state;

    t->o.api_version = 1;
    te_open(t);
    te_event(t, 5, 1003, 0, 502);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/users/1003"), 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/roles/"), 2);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/"), 0);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1003, 1);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[0], "role"), "name")), "Admin");
}

static void test_v2_without_role_ids(void **state)
{
    struct te *t = *state;

    tn_user(&t->srv, 1005)->no_roles_key = 1;
    te_open(t);
    te_event(t, 5, 1005, 0, 0);
    te_run(t, NULL);
    /* the user, its roles through the v1 route (nested shape), their names */
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/1005"), 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/users/1005/roles"), 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/roles/"), 2);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1005, 2);
}

static void test_cache_smaller_than_a_page(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    size_t i;

    t->o.cache_entries = 5;
    te_open(t);
    for (i = 0; i < 57; i++)
        te_event(t, 5, 1001 + (long long)(i % 19), 0, 0);
    te_run(t, NULL);
    for (i = 0; i < t->b.n; i++) {
        long long uid = 1001 + (long long)(i % 19);

        te_check_user(te_ola(&t->b.ev[i], "user"), uid, uid % 3 == 0 ? 2 : 1);
    }
    ola_enricher_stats(t->en, &st);
    assert_true(st.entries <= 5);
    assert_int_equal(st.peak_entries, 5);
    assert_int_equal(st.max_entries, 5);
    assert_true(st.evictions >= 21 - 5);
}

static void test_event_type_names(void **state)
{
    struct te *t = *state;
    struct ola_err err = {0, ""};
    struct ola_catalog *cat;
    char dir[] = "/tmp/ola_enrich_XXXXXX", path[256];
    FILE *f;

    t->o.users = false;
    t->o.roles = false;
    te_open(t);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/types.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("[{\"id\":5,\"name\":\"USER_LOGGED_INTO_ONELOGIN\",\"categories\":"
          "[\"login_success\"]}]",
          f);
    fclose(f);
    cat = ola_catalog_load(path, &err);
    assert_non_null(cat);
    /* known ids: no call */
    te_event(t, 5, 1001, 0, 0);
    te_run(t, cat);
    assert_int_equal(tn_mark(&t->srv), 0);
    /* 6 is unknown: one fetch names it, 3 too (they arrive in the same page) */
    ola_batch_reset(&t->b);
    te_event(t, 6, 1001, 0, 0);
    te_event(t, 3, 1001, 0, 0);
    te_event(t, 424242, 1001, 0, 0); /* the API does not know it either */
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 1);
    assert_string_equal(ola_catalog_name(cat, 6), "USER_FAILED_ONELOGIN_LOGIN");
    assert_string_equal(ola_catalog_name(cat, 3), "USER_ASSUMED_USER");
    assert_null(ola_catalog_name(cat, 424242));
    /* no users or roles asked for, so none looked up */
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/"), 0);
    assert_null(t->b.ev[0].ola);
    /* an id the API did not know is not asked about again within 24 h */
    ola_batch_reset(&t->b);
    te_event(t, 424242, 1001, 0, 0);
    t->now += 3600000;
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 1);
    /* a catalog loaded again (SIGHUP) is taught from the kept list, no call */
    ola_catalog_destroy(cat);
    cat = ola_catalog_load(path, &err);
    assert_non_null(cat);
    ola_batch_reset(&t->b);
    te_event(t, 6, 1001, 0, 0);
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 1);
    assert_string_equal(ola_catalog_name(cat, 6), "USER_FAILED_ONELOGIN_LOGIN");
    /* a day later the list is stale: an unknown id fetches it again */
    ola_batch_reset(&t->b);
    te_event(t, 424242, 1001, 0, 0);
    t->now += 24 * 3600000;
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 2);
    ola_catalog_destroy(cat);
    unlink(path);
    rmdir(dir);
}

static void test_settings_checked(void **state)
{
    struct te *t = *state;
    struct ola_err err = {0, ""};
    struct ola_enricher *en = NULL;
    struct ola_enrich_api api;

    te_open(t);
    ola_enrich_onelogin_api(t->client, &api);
    t->o.concurrency = 0;
    assert_int_equal(ola_enricher_new(&t->o, &api, &en, &err), -1);
    assert_null(en);
    te_settings(&t->o);
    t->o.api_version = 3;
    assert_int_equal(ola_enricher_new(&t->o, &api, &en, &err), -1);
    ola_enricher_destroy(NULL);
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
        cmocka_unit_test_setup_teardown(test_trim_between_pages, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_shared_strings_bounded, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_page_dedupe_concurrency_warm, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_change_older_than_fetch_keeps_entry,
                                        te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_user_changing_event_evicts, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_ttl_refetch, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_deferred_before_the_reserve, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_failed_and_paused, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_token_refused_once, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_v1_api_and_roles_of_user, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_v2_without_role_ids, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_cache_smaller_than_a_page, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_event_type_names, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_settings_checked, te_setup, te_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
