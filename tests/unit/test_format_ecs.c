/*
 * test_format_ecs.c - the ecs format (outputs/formats/format_ecs.c).
 *
 * Records are formatted and read back: a failed login (authentication /
 * start / failure, the user, source.ip, related, the tenant, the enriched
 * email, onelogin.* for the rest, one line), a role given to a user by an
 * admin (iam, user.* the admin and user.target.* the user), a type nobody
 * knows (configuration/info), and an alert (event.kind alert, rule.*).
 * Every event.category/event.type pair is one ECS allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outputs/formats/fmt_util.h"
#include "outputs/formats/format.h"

static json_t *render(enum ola_record_kind kind, const char *raw, const char *ola)
{
    const struct ola_format_ops *f = ola_format_find("ecs");
    struct ola_format_opts o;
    struct ola_event e;
    struct ola_buf out = OLA_BUF_INIT;
    json_t *j;

    assert_non_null(f);
    assert_int_equal(ola_format_opts_load(NULL, &o, NULL), 0);
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    e.ev = json_loads(raw, 0, NULL);
    assert_non_null(e.ev);
    e.raw = kind == OLA_REC_EVENT ? raw : NULL;
    e.raw_len = strlen(raw);
    e.ola = json_loads(ola, 0, NULL);
    assert_non_null(e.ola);
    e.severity = OLA_SEVERITY_UNSET;
    if (kind == OLA_REC_EVENT) /* as admitting the event sets it */
        assert_int_equal(
            ola_fmt_time_ms(json_object_get(e.ev, "created_at"), &e.created_ms), 0);
    assert_int_equal(ola_format_event(f, &e, &o, &out), 0);
    assert_null(memchr(out.data, '\n', out.len)); /* one line, for _bulk */
    j = json_loadb(out.data, out.len, 0, NULL);
    assert_non_null(j);
    ola_buf_free(&out);
    json_decref(e.ev);
    json_decref(e.ola);
    return j;
}

static const char *str(const json_t *j, const char *path)
{
    char key[64];
    const char *dot;

    while ((dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        j = json_object_get(j, key);
        path = dot + 1;
    }
    return json_string_value(json_object_get(j, path));
}

/* The pairs ECS lists as expected for each category (ECS 8.11). */
static void assert_ecs_categories(const json_t *doc)
{
    static const struct {
        const char *cat, *types;
    } allowed[] = {
        {"authentication", ",start,end,info,"},
        {"iam", ",admin,change,creation,deletion,group,info,user,"},
        {"configuration", ",access,change,creation,deletion,info,"},
    };
    const json_t *ev = json_object_get(doc, "event");
    const json_t *c = json_object_get(ev, "category"), *t = json_object_get(ev, "type");
    size_t i, k, n = 0;

    assert_true(json_array_size(c) == 1 && json_array_size(t) >= 1);
    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (strcmp(json_string_value(json_array_get(c, 0)), allowed[i].cat) != 0)
            continue;
        n++;
        for (k = 0; k < json_array_size(t); k++) {
            char tok[40];

            snprintf(tok, sizeof(tok), ",%s,", json_string_value(json_array_get(t, k)));
            if (strstr(allowed[i].types, tok) == NULL)
                fail_msg("event.type %s not allowed for %s", tok, allowed[i].cat);
        }
    }
    assert_int_equal(n, 1);
}

static void test_login_failure(void **state)
{
    json_t *d =
        render(OLA_REC_EVENT,
               "{\"id\":101,\"created_at\":\"2022-08-08T11:00:00.000Z\","
               "\"account_id\":1234,\"user_id\":55,\"event_type_id\":6,"
               "\"notes\":\"bad\\npassword\",\"actor_user_id\":55,"
               "\"role_id\":null,\"user_name\":\"Zoë\",\"actor_user_name\":\"Zoë\","
               "\"ipaddr\":\"203.0.113.9\",\"proxy_ip\":\"10.0.0.1\","
               "\"error_description\":\"bad password\",\"policy_id\":7,"
               "\"risk_score\":48}",
               "{\"event_type\":{\"id\":6,\"name\":\"USER_FAILED_ONELOGIN_LOGIN\","
               "\"categories\":[\"login_failure\"]},\"tags\":[\"brute\"],"
               "\"tenant\":\"acme\",\"user\":{\"id\":55,\"email\":\"z@example.com\"}}");

    (void)state;
    assert_string_equal(str(d, "@timestamp"), "2022-08-08T11:00:00.000Z");
    assert_string_equal(str(d, "ecs.version"), "8.11.0");
    assert_string_equal(str(d, "event.kind"), "event");
    assert_string_equal(str(d, "event.id"), "101");
    assert_string_equal(str(d, "event.code"), "6");
    assert_string_equal(str(d, "event.action"), "USER_FAILED_ONELOGIN_LOGIN");
    assert_string_equal(str(d, "event.outcome"), "failure");
    assert_string_equal(str(d, "event.provider"), "onelogin");
    assert_string_equal(str(d, "event.reason"), "bad password");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(d, "event"), "category"), 0)),
                        "authentication");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(d, "event"), "type"), 0)),
                        "start");
    assert_ecs_categories(d);
    assert_string_equal(str(d, "message"), "bad\npassword");
    assert_string_equal(str(d, "user.id"), "55");
    assert_string_equal(str(d, "user.name"), "Zoë");
    assert_string_equal(str(d, "user.email"), "z@example.com");
    assert_null(json_object_get(json_object_get(d, "user"), "target"));
    assert_string_equal(str(d, "source.ip"), "203.0.113.9");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(d, "related"), "ip")), 2);
    /* names and ids, each once */
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(d, "related"), "user")), 2);
    assert_string_equal(str(d, "organization.id"), "1234");
    assert_string_equal(str(d, "organization.name"), "acme");
    assert_string_equal(str(d, "labels.tenant"), "acme");
    assert_string_equal(str(d, "observer.vendor"), "OneLogin");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "tags"), 0)),
                        "brute");
    /* the rest: onelogin.*, nulls dropped, mapped fields not repeated */
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(d, "onelogin"), "policy_id")),
        7);
    assert_null(json_object_get(json_object_get(d, "onelogin"), "role_id"));
    assert_null(json_object_get(json_object_get(d, "onelogin"), "user_id"));
    assert_true(json_number_value(
                    json_object_get(json_object_get(d, "event"), "risk_score")) == 48.0);
    assert_string_equal(str(d, "olagent.tenant"), "acme");
    json_decref(d);
}

static void test_admin_acts_on_user(void **state)
{
    json_t *d =
        render(OLA_REC_EVENT,
               "{\"id\":7,\"created_at\":\"2022-08-08T11:00:00.000Z\","
               "\"user_id\":5,\"user_name\":\"bob\",\"actor_user_id\":9,"
               "\"actor_user_name\":\"admin\",\"role_id\":3,\"role_name\":\"Admins\","
               "\"event_type_id\":4}",
               "{\"event_type\":{\"id\":4,\"name\":\"USER_ASSIGNED_ROLE\","
               "\"categories\":[\"privilege\"]},\"user\":{\"email\":\"b@x.io\"}}");

    (void)state;
    assert_string_equal(str(d, "user.id"), "9");
    assert_string_equal(str(d, "user.name"), "admin");
    assert_string_equal(str(d, "user.target.id"), "5");
    assert_string_equal(str(d, "user.target.name"), "bob");
    assert_string_equal(str(d, "user.target.email"), "b@x.io");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(d, "event"), "category"), 0)),
                        "iam");
    assert_ecs_categories(d);
    assert_string_equal(str(d, "event.outcome"), "success");
    assert_string_equal(str(d, "onelogin.role_name"), "Admins");
    json_decref(d);
}

static void test_unknown_type(void **state)
{
    json_t *d = render(OLA_REC_EVENT,
                       "{\"id\":8,\"created_at\":\"2022-08-08T11:00:00.000Z\","
                       "\"app_id\":4,\"event_type_id\":9999}",
                       "{}");

    (void)state;
    assert_ecs_categories(d);
    assert_string_equal(str(d, "event.code"), "9999");
    assert_null(json_object_get(d, "user"));
    assert_null(json_object_get(d, "related"));
    json_decref(d);
}

static void test_alert(void **state)
{
    json_t *d = render(OLA_REC_ALERT, "{}",
                       "{\"alert\":{\"rule\":\"brute_force_user\",\"key\":\"1234\","
                       "\"severity\":7,\"first_seen\":\"2022-08-08T10:56:00.000Z\","
                       "\"last_seen\":\"2022-08-08T11:00:00.000Z\",\"count\":10},"
                       "\"tags\":[\"alert\"],\"tenant\":\"default\"}");

    (void)state;
    assert_string_equal(str(d, "event.kind"), "alert");
    assert_string_equal(str(d, "event.id"), "brute_force_user:1234:1659956160000");
    assert_string_equal(str(d, "rule.name"), "brute_force_user");
    assert_string_equal(str(d, "event.start"), "2022-08-08T10:56:00.000Z");
    assert_string_equal(str(d, "@timestamp"), "2022-08-08T11:00:00.000Z");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(d, "event"), "severity")), 7);
    assert_ecs_categories(d);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_failure),
        cmocka_unit_test(test_admin_acts_on_user),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_alert),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
