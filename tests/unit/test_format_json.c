/*
 * test_format_json.c - the json format: original bytes, "olagent" spliced
 * in, and shared values (an enricher's user object, the catalog's
 * event_type) taken from the memo: the text must always equal a fresh dump
 * of the olagent object, whatever the memo holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/arena.h"
#include "agent/core/buf.h"
#include "agent/core/event.h"
#include "outputs/formats/format.h"

static const char raw_event[] = "{\"id\":7,\"created_at\":\"2024-01-31T00:00:00Z\","
                                "\"notes\":\"a \\\"quote\\\"\\nand a line\",\"x\":1.50}";

/* What the format must produce: raw minus '}', "olagent", a fresh dump. */
static char *expected(const json_t *ola)
{
    char *dump = json_dumps(ola, JSON_COMPACT | JSON_REAL_PRECISION(17));
    size_t n = strlen(raw_event) + strlen(dump) + 16;
    char *s = malloc(n);

    assert_non_null(s);
    assert_true(snprintf(s, n, "%.*s,\"olagent\":%s}", (int)strlen(raw_event) - 1,
                         raw_event, dump) < (int)n);
    free(dump);
    return s;
}

/* Formats one event whose olagent object is built by fill; checks the bytes. */
static void format_check(struct ola_batch *b, json_t *user, json_t *type)
{
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_event *e;
    json_t *ola, *tags;
    char *want;

    ola_batch_reset(b);
    e = ola_batch_add(b, OLA_REC_EVENT, json_loads(raw_event, 0, NULL), raw_event,
                      strlen(raw_event));
    assert_non_null(e);
    ola = ola_event_ola(e);
    assert_non_null(ola);
    if (type != NULL)
        assert_int_equal(json_object_set(ola, "event_type", type), 0);
    if (user != NULL)
        assert_int_equal(json_object_set(ola, "user", user), 0);
    tags = json_pack("[ss]", "mfa", "caf\xc3\xa9");
    assert_int_equal(json_object_set_new(ola, "tags", tags), 0);
    assert_int_equal(json_object_set_new(ola, "severity", json_integer(5)), 0);
    want = expected(ola);
    assert_int_equal(ola_format_event(&ola_format_json, e, NULL, &out), 0);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    free(want);
    ola_buf_free(&out);
}

static void test_plain_and_no_olagent(void **state)
{
    struct ola_batch b;
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_event *e;

    (void)state;
    ola_batch_init(&b);
    e = ola_batch_add(&b, OLA_REC_EVENT, json_loads(raw_event, 0, NULL), raw_event,
                      strlen(raw_event));
    assert_non_null(e);
    assert_int_equal(ola_format_event(&ola_format_json, e, NULL, &out), 0);
    assert_int_equal(out.len, strlen(raw_event)); /* byte for byte */
    assert_memory_equal(out.data, raw_event, out.len);
    ola_buf_free(&out);
    format_check(&b, NULL, NULL);
    ola_batch_free(&b);
}

static void test_shared_values_from_the_memo(void **state)
{
    struct ola_batch b;
    json_t *type = json_pack("{s:i, s:s, s:[s]}", "id", 5, "name", "USER_LOGGED_IN",
                             "categories", "login_success");
    json_t *user = json_pack("{s:i, s:s, s:n, s:[{s:i,s:s}]}", "id", 40000001, "username",
                             "zo\xc3\xab.angstrom", "manager_user_id", "roles", "id",
                             700001, "name", "Employee");
    json_t *changed;
    int i;

    (void)state;
    ola_batch_init(&b);
    /* the same shared objects many times: dumped once, copied after */
    for (i = 0; i < 3; i++)
        format_check(&b, user, type);
    /* a user that changed is a new object (the enricher never edits one in place) */
    changed = json_deep_copy(user);
    assert_int_equal(json_object_set_new(changed, "username", json_string("renamed")), 0);
    json_decref(user);
    format_check(&b, changed, type);
    format_check(&b, changed, type);
    json_decref(changed);
    json_decref(type);
    ola_batch_free(&b);
}

static void test_memo_starts_over_when_full(void **state)
{
    enum { LIVE = 5000 };
    struct ola_batch b;
    json_t *first = json_pack("{s:i, s:s}", "id", 1, "username", "first");
    json_t **live = calloc(LIVE, sizeof(*live));
    int i;

    (void)state;
    assert_non_null(live);
    ola_batch_init(&b);
    format_check(&b, first, NULL);
    /* more distinct shared objects alive at once than the memo keeps (4096),
       with dead ones in between, so that sweeps move entries before the memo
       has to start over */
    for (i = 0; i < LIVE; i++) {
        json_t *u = json_pack("{s:i, s:s}", "id", -i, "pad", "dead");

        format_check(&b, u, NULL);
        json_decref(u);
        live[i] = json_pack("{s:i, s:s}", "id", i + 100, "pad", "0123456789abcdef");
        format_check(&b, live[i], NULL);
        if (i % 500 == 0)
            ola_format_batch_done_all();
    }
    format_check(&b, first, NULL);
    for (i = 0; i < LIVE; i += 7)
        format_check(&b, live[i], NULL);
    ola_batch_reset(&b);
    ola_format_batch_done_all();
    for (i = 0; i < LIVE; i++) {
        /* at most one memo entry each: the test's reference and maybe the memo's */
        assert_true(live[i]->refcount <= 2);
        json_decref(live[i]);
    }
    free(live);
    json_decref(first);
    ola_batch_free(&b);
}

static void test_memo_lets_dead_values_go(void **state)
{
    struct ola_batch b;
    json_t *keep = json_pack("{s:i, s:s}", "id", 1, "username", "kept");
    /* every value below holds a reference to probe: its count tells how many
       of them are still alive */
    json_t *probe = json_pack("{s:s}", "costcenter", "CC-1");
    int i;

    (void)state;
    ola_batch_init(&b);
    format_check(&b, keep, NULL);
    /* users evicted and rebuilt: each object dies once its events went out */
    for (i = 0; i < 3000; i++) {
        json_t *u = json_pack("{s:i, s:O}", "id", i + 100, "custom_attributes", probe);

        format_check(&b, u, NULL);
        json_decref(u);
    }
    /* the memo keeps at most a sweep's worth (256) of dead ones, not the 3000
       (it used to keep up to 4096 before starting over) */
    assert_true(probe->refcount - 1 <= 257);
    format_check(&b, keep, NULL);
    json_decref(keep);
    json_decref(probe);
    ola_batch_free(&b);
}

static void test_memo_sweep_keeps_the_live(void **state)
{
    enum { LIVE = 300, DEAD = 1500 };
    struct ola_batch b;
    json_t *live[LIVE], *probe = json_pack("{s:s}", "costcenter", "CC-2");
    int i, j;

    (void)state;
    ola_batch_init(&b);
    ola_format_batch_done_all();
    /* dead ones first in some probe runs, live ones behind them */
    for (i = 0; i < LIVE; i++) {
        json_t *u = json_pack("{s:i, s:O}", "id", i + 1000, "custom_attributes", probe);

        format_check(&b, u, NULL);
        json_decref(u);
        live[i] = json_pack("{s:i, s:s}", "id", i + 1, "username", "alive");
        format_check(&b, live[i], NULL);
    }
    /* dead ones in between force sweeps; the live ones must stay findable */
    for (i = 0; i < DEAD; i++) {
        json_t *u = json_pack("{s:i, s:O}", "id", i + 5000, "custom_attributes", probe);

        format_check(&b, u, NULL);
        json_decref(u);
        if (i % 97 == 0)
            ola_format_batch_done_all();
        if (i % 5 == 0)
            for (j = i % 7; j < LIVE; j += 7)
                format_check(&b, live[j], NULL);
    }
    ola_batch_reset(&b);
    /* each live object: the test's reference and exactly one memo entry's */
    for (i = 0; i < LIVE; i++)
        assert_int_equal(live[i]->refcount, 2);
    /* after a batch, what only the memo held is gone */
    ola_format_batch_done_all();
    assert_int_equal(probe->refcount, 1);
    for (i = 0; i < LIVE; i++) {
        format_check(&b, live[i], NULL);
        json_decref(live[i]);
    }
    json_decref(probe);
    ola_batch_free(&b);
}

/* A quiet poll drops every text, live or not; the next batch dumps again. */
static void test_memo_released_when_quiet(void **state)
{
    enum { N = 50 };
    struct ola_batch b;
    json_t *u[N];
    int i;

    (void)state;
    ola_batch_init(&b);
    for (i = 0; i < N; i++) {
        u[i] = json_pack("{s:i, s:s}", "id", i + 1, "username", "quiet");
        format_check(&b, u[i], NULL);
    }
    ola_batch_reset(&b);
    assert_int_equal(u[0]->refcount, 2); /* the test's and the memo's */
    ola_format_release_all();
    for (i = 0; i < N; i++)
        assert_int_equal(u[i]->refcount, 1);
    ola_format_release_all(); /* twice, and on an empty memo: harmless */
    for (i = 0; i < N; i++) {
        format_check(&b, u[i], NULL);
        format_check(&b, u[i], NULL); /* the second from the memo again */
        json_decref(u[i]);
    }
    ola_batch_free(&b);
    ola_format_release_all();
}

/*
 * A value of the event itself (parsed into the batch's arena) set into
 * "olagent" is shared too, but must not enter the memo: the memo would keep
 * its address past the batch, whose arena then reuses it.
 */
static void test_event_values_stay_out_of_the_memo(void **state)
{
    static const char raw[] = "{\"id\":8,\"geo\":{\"country\":\"DE\"}}";
    static const char want[] = "{\"id\":8,\"geo\":{\"country\":\"DE\"},\"olagent\":{"
                               "\"geo\":{\"country\":\"DE\"}}}";
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_batch b;
    struct ola_arena *prev;
    struct ola_event *e;
    json_t *ev, *geo;

    (void)state;
    ola_batch_init(&b);
    prev = ola_batch_enter(&b);
    ev = json_loads(raw, 0, NULL);
    ola_batch_leave(prev);
    assert_non_null(ev);
    assert_true(ola_arena_transient(ev));
    e = ola_batch_add(&b, OLA_REC_EVENT, ev, raw, strlen(raw));
    assert_non_null(e);
    geo = json_object_get(ev, "geo");
    assert_int_equal(json_object_set(ola_event_ola(e), "geo", geo), 0);
    assert_int_equal(geo->refcount, 2);
    assert_int_equal(ola_format_event(&ola_format_json, e, NULL, &out), 0);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    assert_int_equal(geo->refcount, 2); /* no reference went to the memo */
    ola_buf_free(&out);
    ola_batch_free(&b);
    ola_format_release_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_no_olagent),
        cmocka_unit_test(test_shared_values_from_the_memo),
        cmocka_unit_test(test_memo_starts_over_when_full),
        cmocka_unit_test(test_memo_lets_dead_values_go),
        cmocka_unit_test(test_memo_sweep_keeps_the_live),
        cmocka_unit_test(test_memo_released_when_quiet),
        cmocka_unit_test(test_event_values_stay_out_of_the_memo),
    };

    ola_arena_install(); /* events parse into their batch's arena, as in the agent */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
