/*
 * test_format_ocsf.c - what the OCSF format says about single records.
 *
 * Each case builds one event (a OneLogin event and the olagent object
 * classification attaches), formats it with format: ocsf and checks the
 * fields the mapping promises: the tenant in metadata.tenant_uid, a locked
 * user as a successful Lock, role changes in User Access Management and
 * Group Management, authentication details, and the fall back to Entity
 * Management when the event names no subject its class requires. Every
 * record of every catalog type is validated against the schema by
 * tests/integration/test_ocsf.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/event.h"
#include "outputs/formats/format.h"

/* The OCSF record of event ev (JSON text) with olagent object ola (JSON text or NULL). */
static json_t *ocsf_of(const char *ev, const char *ola)
{
    struct ola_format_opts o = {
        .vendor = "OneLogin", .product = "OneLogin", .product_version = "0.1.0"};
    struct ola_event e = {.kind = OLA_REC_EVENT, .severity = OLA_SEVERITY_UNSET};
    struct ola_buf out = OLA_BUF_INIT;
    json_t *j;

    e.ev = json_loads(ev, 0, NULL);
    assert_non_null(e.ev);
    if (ola != NULL) {
        e.ola = json_loads(ola, 0, NULL);
        assert_non_null(e.ola);
    }
    assert_int_equal(ola_format_event(ola_format_find("ocsf"), &e, &o, &out), 0);
    j = json_loadb(out.data, out.len, 0, NULL);
    assert_non_null(j);
    json_decref(e.ev);
    json_decref(e.ola);
    ola_buf_free(&out);
    return j;
}

static long long int_at(const json_t *j, const char *path)
{
    const json_t *v = json_object_get(j, path);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *str_at(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    assert_non_null(s);
    return s;
}

#define OLA_TYPE(id, name, cats)                                                         \
    "{\"event_type\":{\"id\":" #id ",\"name\":\"" name "\",\"categories\":" cats "}"

static void test_tenant_uid(void **state)
{
    const char *ev = "{\"id\":7,\"event_type_id\":5,\"user_id\":1,\"user_name\":\"A\"}";
    json_t *j;

    (void)state;
    j = ocsf_of(ev, OLA_TYPE(5, "USER_LOGGED_INTO_ONELOGIN",
                             "[\"login_success\"]") ",\"tenant\":\"acme-eu\"}");
    assert_string_equal(str_at(json_object_get(j, "metadata"), "tenant_uid"), "acme-eu");
    assert_string_equal(str_at(json_object_get(j, "metadata"), "version"), "1.8.0");
    json_decref(j);
    /* a numeric tenant is written as text (tenant_uid is a string) */
    j = ocsf_of(ev, OLA_TYPE(5, "USER_LOGGED_INTO_ONELOGIN",
                             "[\"login_success\"]") ",\"tenant\":42}");
    assert_string_equal(str_at(json_object_get(j, "metadata"), "tenant_uid"), "42");
    json_decref(j);
    /* no tenant: no tenant_uid, and nothing under unmapped either */
    j = ocsf_of(ev, OLA_TYPE(5, "USER_LOGGED_INTO_ONELOGIN", "[\"login_success\"]") "}");
    assert_null(json_object_get(json_object_get(j, "metadata"), "tenant_uid"));
    json_decref(j);
}

static void test_locked_user_is_successful_lock(void **state)
{
    json_t *j;

    (void)state;
    j = ocsf_of("{\"id\":8,\"event_type_id\":19,\"user_id\":1,\"user_name\":\"A\"}",
                OLA_TYPE(19, "USER_LOCKED", "[\"lockout\"]") "}");
    assert_int_equal(int_at(j, "class_uid"), 3001);
    assert_int_equal(int_at(j, "activity_id"), 9);
    assert_int_equal(int_at(j, "type_uid"), 300109);
    assert_int_equal(int_at(j, "status_id"), 1);
    assert_string_equal(str_at(j, "status"), "Success");
    json_decref(j);
}

static void test_roles_and_privileges(void **state)
{
    json_t *j;

    (void)state;
    /* a role given to a user: User Access Management, the role as the privilege */
    j = ocsf_of("{\"id\":9,\"event_type_id\":4,\"user_id\":1,\"user_name\":\"A\","
                "\"role_id\":7,\"role_name\":\"Admin\"}",
                OLA_TYPE(4, "USER_ASSIGNED_ROLE", "[\"privilege\"]") "}");
    assert_int_equal(int_at(j, "class_uid"), 3005);
    assert_int_equal(int_at(j, "activity_id"), 1);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(j, "privileges"), 0)), "Admin");
    json_decref(j);
    /* an app taken from a role: Group Management, the role as the group */
    j = ocsf_of("{\"id\":10,\"event_type_id\":2,\"role_id\":7,\"role_name\":\"Sales\","
                "\"app_id\":3,\"app_name\":\"Zoom\"}",
                OLA_TYPE(2, "APP_REMOVED_FROM_ROLE", "[\"privilege\"]") "}");
    assert_int_equal(int_at(j, "class_uid"), 3006);
    assert_int_equal(int_at(j, "activity_id"), 2);
    assert_string_equal(str_at(json_object_get(j, "group"), "name"), "Sales");
    assert_string_equal(str_at(json_object_get(j, "group"), "type"), "Role");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(j, "privileges"), 0)), "Zoom");
    json_decref(j);
    /* assuming a user: an Account Switch by impersonation */
    j = ocsf_of("{\"id\":11,\"event_type_id\":3,\"user_id\":1,\"user_name\":\"A\","
                "\"actor_user_id\":2,\"actor_user_name\":\"B\"}",
                OLA_TYPE(3, "USER_ASSUMED_USER", "[\"privilege\"]") "}");
    assert_int_equal(int_at(j, "class_uid"), 3002);
    assert_int_equal(int_at(j, "activity_id"), 7);
    assert_int_equal(int_at(j, "account_switch_type_id"), 2);
    json_decref(j);
}

static void test_authentication_details(void **state)
{
    json_t *j;

    (void)state;
    j = ocsf_of("{\"id\":12,\"event_type_id\":69,\"user_id\":1,\"user_name\":\"A\"}",
                OLA_TYPE(69, "USER_REJECTED_BY_RADIUS", "[\"login_failure\"]") "}");
    assert_int_equal(int_at(j, "auth_protocol_id"), 10);
    assert_string_equal(str_at(j, "auth_protocol"), "RADIUS");
    assert_int_equal(int_at(j, "status_id"), 2);
    assert_string_equal(str_at(json_object_get(j, "service"), "name"), "OneLogin");
    assert_null(json_object_get(j, "is_mfa")); /* the event does not say */
    json_decref(j);
    /* an OTP device named in a login: MFA was used */
    j = ocsf_of(
        "{\"id\":13,\"event_type_id\":900,\"user_id\":1,\"user_name\":\"A\","
        "\"otp_device_id\":5}",
        OLA_TYPE(900, "ONELOGIN_DESKTOP_MAC_LOGIN_SUCCESS", "[\"login_success\"]") "}");
    assert_int_equal(int_at(j, "logon_type_id"), 2);
    assert_true(json_is_true(json_object_get(j, "is_mfa")));
    json_decref(j);
}

static void test_no_subject_falls_back(void **state)
{
    json_t *j;

    (void)state;
    /* an API client is the user of an API-created user */
    j = ocsf_of("{\"id\":14,\"event_type_id\":533,\"client_id\":\"c1\"}",
                OLA_TYPE(533, "API_CREATE_USER", "[]") "}");
    assert_int_equal(int_at(j, "class_uid"), 3001);
    assert_string_equal(str_at(json_object_get(j, "user"), "uid"), "c1");
    assert_int_equal(int_at(json_object_get(j, "user"), "type_id"), 4);
    json_decref(j);
    /* nobody named: Entity Management on the account, by the verb */
    j = ocsf_of("{\"id\":15,\"event_type_id\":13,\"account_id\":99}",
                OLA_TYPE(13, "CREATED_USER", "[]") "}");
    assert_int_equal(int_at(j, "class_uid"), 3004);
    assert_int_equal(int_at(j, "activity_id"), 1);
    assert_string_equal(str_at(json_object_get(j, "entity"), "uid"), "99");
    assert_null(json_object_get(json_object_get(j, "unmapped"), "account_id"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_uid),
        cmocka_unit_test(test_locked_user_is_successful_lock),
        cmocka_unit_test(test_roles_and_privileges),
        cmocka_unit_test(test_authentication_details),
        cmocka_unit_test(test_no_subject_falls_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
