/*
 * test_catalog.c - the event-type catalog: the shipped 539-id file, lookups
 * of known and unknown ids, learning and renaming types, load errors, the
 * size limit and the idle trim; the built-in document read once and shared
 * by every tenant's catalog, each learning on its own.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent/core/arena.h"
#include "filter_test.h"
#include "filters/rules/catalog.h"

static void test_shipped_catalog(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_load(ola_t_catalog_path(), &err);
    const json_t *cats;
    long long id;

    (void)state;
    assert_non_null(c);
    assert_int_equal(ola_catalog_size(c), 539);
    assert_string_equal(ola_catalog_name(c, 5), "USER_LOGGED_INTO_ONELOGIN");
    assert_string_equal(ola_catalog_name(c, 950), "OL_OTP_PUSH_REJECT");
    assert_string_equal(ola_catalog_name(c, 1), "APP_ADDED_TO_ROLE");
    cats = ola_catalog_categories(c, 950);
    assert_non_null(cats);
    assert_int_equal(json_array_size(cats), 2);
    assert_string_equal(json_string_value(json_array_get(cats, 0)), "login_failure");
    assert_string_equal(json_string_value(json_array_get(cats, 1)), "mfa");
    cats = ola_catalog_categories(c, 7); /* logout: no category */
    assert_non_null(cats);
    assert_int_equal(json_array_size(cats), 0);
    assert_null(ola_catalog_name(c, 0));
    assert_null(ola_catalog_name(c, 123456789));
    assert_null(ola_catalog_categories(c, -5));
    assert_true(ola_catalog_id(c, "USER_REVEALED_PASSWORD", &id));
    assert_int_equal(id, 240);
    assert_false(ola_catalog_id(c, "NO_SUCH_TYPE", &id));
    /* the six categories the project assigns, each with a bit */
    assert_true(ola_catalog_category_bit(c, "mfa") >= 0);
    assert_true(ola_catalog_category_bit(c, "login_failure") >= 0);
    assert_true(ola_catalog_category_bit(c, "lockout") >= 0);
    assert_true(ola_catalog_category_bit(c, "privilege") >= 0);
    assert_true(ola_catalog_category_bit(c, "login_success") >= 0);
    assert_true(ola_catalog_category_bit(c, "authz_denied") >= 0);
    assert_int_equal(ola_catalog_category_bit(c, "nope"), -1);
    ola_catalog_destroy(c);
    ola_catalog_destroy(NULL);
}

static void test_every_id_found(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_load(ola_t_catalog_path(), &err);
    json_t *all = json_load_file(ola_t_catalog_path(), 0, NULL), *item;
    size_t i;

    (void)state;
    assert_non_null(c);
    assert_non_null(all);
    json_array_foreach(all, i, item)
    {
        long long id = json_integer_value(json_object_get(item, "id"));
        const char *name;
        const json_t *cats;
        uint32_t mask;

        assert_true(ola_catalog_lookup(c, id, &name, &cats, &mask));
        assert_string_equal(name, json_string_value(json_object_get(item, "name")));
        assert_true(json_equal((json_t *)json_object_get(item, "categories"),
                               (json_t *)(uintptr_t)cats));
        assert_int_equal(__builtin_popcount(mask), json_array_size(cats));
    }
    json_decref(all);
    ola_catalog_destroy(c);
}

static void test_learn(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_load(ola_t_catalog_path(), &err);

    (void)state;
    assert_non_null(c);
    /* a new id, in the middle and past the end */
    assert_int_equal(ola_catalog_learn(c, 8, "USER_LOGGED_INTO_APP"), 0);
    assert_int_equal(ola_catalog_learn(c, 4242, "SOMETHING_NEW"), 0);
    assert_int_equal(ola_catalog_learn(c, 99999, "LAST_ONE"), 0);
    assert_int_equal(ola_catalog_learn(c, 0, "FIRST_ONE"), 0);
    assert_int_equal(ola_catalog_size(c), 542);
    assert_string_equal(ola_catalog_name(c, 4242), "SOMETHING_NEW");
    assert_string_equal(ola_catalog_name(c, 99999), "LAST_ONE");
    assert_string_equal(ola_catalog_name(c, 0), "FIRST_ONE");
    assert_int_equal(json_array_size(ola_catalog_categories(c, 4242)), 0);
    /* neighbours still found after the inserts */
    assert_string_equal(ola_catalog_name(c, 1), "APP_ADDED_TO_ROLE");
    assert_string_equal(ola_catalog_name(c, 3028),
                        "DELEGATED_TRUSTED_IDP_PRIVILEGE_DENIED");
    /* a rename keeps the categories */
    assert_int_equal(ola_catalog_learn(c, 6, "USER_FAILED_LOGIN_RENAMED"), 0);
    assert_string_equal(ola_catalog_name(c, 6), "USER_FAILED_LOGIN_RENAMED");
    assert_int_equal(json_array_size(ola_catalog_categories(c, 6)), 1);
    assert_int_equal(ola_catalog_size(c), 542);
    assert_int_equal(ola_catalog_learn(c, 6, NULL), -1);
    ola_catalog_destroy(c);
}

static void test_load_errors(void **state)
{
    struct ola_err err = {0, ""};
    char *dir = ola_t_mkdtemp();
    const char *p;

    (void)state;
    assert_non_null(dir);
    assert_null(ola_catalog_load("/nonexistent/event-types.json", &err));
    assert_string_equal(err.msg, "event-type catalog: unable to open "
                                 "/nonexistent/event-types.json: No such file or "
                                 "directory (set catalog: in the config)");
    p = ola_t_write(dir, "obj.json", "{\"id\": 1}");
    assert_null(ola_catalog_load(p, &err));
    assert_non_null(strstr(err.msg, "expected an array"));
    p = ola_t_write(dir, "dup.json",
                    "[{\"id\":1,\"name\":\"A\",\"categories\":[]},"
                    "{\"id\":1,\"name\":\"B\",\"categories\":[]}]");
    assert_null(ola_catalog_load(p, &err));
    assert_non_null(strstr(err.msg, "duplicate event type id 1"));
    p = ola_t_write(dir, "noname.json", "[{\"id\":1,\"categories\":[]}]");
    assert_null(ola_catalog_load(p, &err));
    assert_non_null(strstr(err.msg, "entry 0"));
    p = ola_t_write(dir, "badcat.json", "[{\"id\":1,\"name\":\"A\",\"categories\":[3]}]");
    assert_null(ola_catalog_load(p, &err));
    assert_non_null(strstr(err.msg, "categories must be strings"));
    p = ola_t_write(dir, "broken.json", "[{\"id\":1,");
    assert_null(ola_catalog_load(p, &err));
    assert_non_null(strstr(err.msg, "broken.json:1:"));
    ola_t_rmdir(dir);
}

/* Bounded input: a file one byte over OLA_CATALOG_MAX_BYTES is refused, not read. */
static void test_load_too_big(void **state)
{
    struct ola_err err = {0, ""};
    char *dir = ola_t_mkdtemp();
    char *text = malloc(OLA_CATALOG_MAX_BYTES + 2);
    struct ola_catalog *c;
    const char *p;

    (void)state;
    assert_non_null(dir);
    assert_non_null(text);
    /* "[", blanks, "]": a valid, empty catalog of exactly the limit... */
    memset(text, ' ', OLA_CATALOG_MAX_BYTES);
    text[0] = '[';
    text[OLA_CATALOG_MAX_BYTES - 1] = ']';
    text[OLA_CATALOG_MAX_BYTES] = '\0';
    p = ola_t_write(dir, "limit.json", text);
    assert_non_null(p);
    c = ola_catalog_load(p, &err);
    assert_non_null(c);
    assert_int_equal(ola_catalog_size(c), 0);
    ola_catalog_destroy(c);
    /* ...loads; one blank more does not */
    text[OLA_CATALOG_MAX_BYTES - 1] = ' ';
    text[OLA_CATALOG_MAX_BYTES] = ']';
    text[OLA_CATALOG_MAX_BYTES + 1] = '\0';
    p = ola_t_write(dir, "big.json", text);
    assert_non_null(p);
    assert_null(ola_catalog_load(p, &err));
    assert_int_equal(err.code, EFBIG);
    assert_non_null(strstr(err.msg, "big.json: larger than 4194304 bytes"));
    free(text);
    ola_t_rmdir(dir);
}

/*
 * The trim drops the values only the catalog holds; one an event still holds
 * stays valid and is not reused; the next use builds equal values again.
 */
static void test_trim(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_load(ola_t_catalog_path(), &err);
    json_t *held, *again, *dropped;
    uint32_t mask = 0, mask2 = 0;

    (void)state;
    assert_non_null(c);
    held = json_incref(ola_catalog_event_type(c, 950, &mask)); /* an event holds it */
    dropped = ola_catalog_event_type(c, 5, &mask2);
    assert_non_null(held);
    assert_non_null(dropped);
    assert_ptr_equal(ola_catalog_event_type(c, 950, &mask), held); /* shared */
    assert_int_equal(held->refcount, 2);
    ola_catalog_trim(c);
    assert_int_equal(held->refcount, 2); /* still the catalog's: not dropped */
    assert_ptr_equal(ola_catalog_event_type(c, 950, &mask), held);
    json_decref(held); /* the event went */
    ola_catalog_trim(c);
    again = ola_catalog_event_type(c, 950, &mask2);
    assert_non_null(again);
    assert_int_equal(again->refcount, 1);
    assert_int_equal(mask2, mask);
    assert_string_equal(json_string_value(json_object_get(again, "name")),
                        "OL_OTP_PUSH_REJECT");
    assert_int_equal(json_array_size(json_object_get(again, "categories")), 2);
    again = ola_catalog_event_type(c, 5, &mask2);
    assert_non_null(again);
    assert_string_equal(json_string_value(json_object_get(again, "name")),
                        "USER_LOGGED_INTO_ONELOGIN");
    ola_catalog_trim(NULL);
    ola_catalog_destroy(c);
}

/*
 * Asked for while the pipeline runs in a batch's arena, the event type and its
 * categories are still made outside it: the catalog keeps them past the batch.
 */
static void test_values_outside_the_batch_arena(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_load(ola_t_catalog_path(), &err);
    struct ola_arena *batch = ola_arena_new(), *prev;
    const json_t *cats;
    json_t *et, *own;
    uint32_t mask = 0;

    (void)state;
    assert_non_null(c);
    assert_non_null(batch);
    ola_arena_install(); /* as the agent does; idempotent */
    prev = ola_arena_enter(batch);
    own = json_object(); /* the batch's */
    et = ola_catalog_event_type(c, 950, &mask);
    cats = ola_catalog_categories(c, 5);
    ola_arena_leave(prev);
    assert_true(ola_arena_transient(own));
    assert_non_null(et);
    assert_non_null(cats);
    assert_false(ola_arena_transient(et));
    assert_false(ola_arena_transient(json_object_get(et, "categories")));
    assert_false(ola_arena_transient(cats));
    json_decref(own);
    ola_arena_destroy(batch);
    assert_string_equal(json_string_value(json_object_get(et, "name")),
                        "OL_OTP_PUSH_REJECT");
    ola_catalog_destroy(c);
}

/* What a tenant learned outlasts the trim, which drops only what it can build again. */
static void test_trim_keeps_what_was_learned(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_builtin(&err);
    uint32_t mask = 0;
    json_t *et;

    (void)state;
    assert_non_null(c);
    assert_int_equal(ola_catalog_learn(c, 6, "USER_FAILED_LOGIN_RENAMED"), 0);
    assert_int_equal(ola_catalog_learn(c, 4242, "SOMETHING_NEW"), 0);
    assert_non_null(ola_catalog_event_type(c, 6, &mask));
    assert_non_null(ola_catalog_event_type(c, 950, &mask));
    assert_non_null(ola_catalog_event_type(c, 4242, &mask));
    assert_int_equal(mask, 0); /* learned: no categories */
    ola_catalog_trim(c);
    assert_string_equal(ola_catalog_name(c, 6), "USER_FAILED_LOGIN_RENAMED");
    assert_string_equal(ola_catalog_name(c, 4242), "SOMETHING_NEW");
    assert_string_equal(ola_catalog_name(c, 950), "OL_OTP_PUSH_REJECT");
    assert_int_equal(ola_catalog_size(c), 540);
    et = ola_catalog_event_type(c, 6, &mask);
    assert_non_null(et);
    assert_string_equal(json_string_value(json_object_get(et, "name")),
                        "USER_FAILED_LOGIN_RENAMED");
    assert_int_equal(json_array_size(json_object_get(et, "categories")), 1);
    assert_true(mask != 0);
    ola_catalog_trim(c);
    ola_catalog_trim(c); /* nothing left to drop but the same */
    assert_string_equal(ola_catalog_name(c, 6), "USER_FAILED_LOGIN_RENAMED");
    ola_catalog_destroy(c);
}

/* Catalogs of the built-in document share its types; what one learns is its own. */
static void test_builtin_shared_learning_apart(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *a = ola_catalog_builtin(&err), *b = ola_catalog_builtin(&err);
    long long id;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    /* one copy of the document: the same name, not an equal one */
    assert_ptr_equal(ola_catalog_name(a, 5), ola_catalog_name(b, 5));
    assert_int_equal(ola_catalog_learn(a, 5, "RENAMED_IN_A"), 0);
    assert_int_equal(ola_catalog_learn(a, 4242, "ONLY_IN_A"), 0);
    assert_string_equal(ola_catalog_name(a, 5), "RENAMED_IN_A");
    assert_string_equal(ola_catalog_name(b, 5), "USER_LOGGED_INTO_ONELOGIN");
    assert_null(ola_catalog_name(b, 4242));
    assert_int_equal(ola_catalog_size(a), 540);
    assert_int_equal(ola_catalog_size(b), 539);
    assert_true(ola_catalog_id(a, "ONLY_IN_A", &id));
    assert_int_equal(id, 4242);
    assert_true(ola_catalog_id(a, "RENAMED_IN_A", &id));
    assert_int_equal(id, 5);
    assert_false(ola_catalog_id(a, "USER_LOGGED_INTO_ONELOGIN", &id));
    assert_true(ola_catalog_id(b, "USER_LOGGED_INTO_ONELOGIN", &id));
    assert_false(ola_catalog_id(b, "ONLY_IN_A", &id));
    ola_catalog_destroy(a); /* b still reads the document */
    assert_string_equal(ola_catalog_name(b, 950), "OL_OTP_PUSH_REJECT");
    assert_int_equal(json_array_size(ola_catalog_categories(b, 950)), 2);
    ola_catalog_destroy(b);
}

/* Tenants start at once: each thread makes and uses its own catalog of the document. */
static void *tenant_catalog(void *arg)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_builtin(&err);
    uint32_t mask = 0;
    int i, *ok = arg;

    *ok = c != NULL;
    for (i = 0; c != NULL && i < 1000; i++) {
        json_t *et = ola_catalog_event_type(c, i % 2 ? 950 : 5, &mask);

        *ok = *ok && et != NULL && ola_catalog_learn(c, 100000 + i % 7, "X") == 0;
        ola_catalog_trim(c);
    }
    *ok = *ok && ola_catalog_size(c) == 539 + 7;
    ola_catalog_destroy(c);
    return NULL;
}

static void test_builtin_from_many_threads(void **state)
{
    pthread_t t[8];
    int ok[8], i;

    (void)state;
    for (i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, tenant_catalog, &ok[i]), 0);
    for (i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_true(ok[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_catalog),
        cmocka_unit_test(test_every_id_found),
        cmocka_unit_test(test_learn),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_too_big),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_values_outside_the_batch_arena),
        cmocka_unit_test(test_trim_keeps_what_was_learned),
        cmocka_unit_test(test_builtin_shared_learning_apart),
        cmocka_unit_test(test_builtin_from_many_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
