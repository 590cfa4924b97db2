/*
 * test_arena.c - the batch arena: Jansson values parsed inside it come from
 * its chunks, values made outside it stay malloc's even when mixed into an
 * arena tree, reset keeps the chunks for reuse and trim gives them back, a
 * big value gets a chunk of its own, and another thread is never affected;
 * the batch keeps a page body's memory only while bodies fill it. A lasting
 * arena counts its live values, reuses freed blocks, is not "transient" (a
 * memo may keep its values) and gives its chunks back only when empty;
 * ola_json_dumps's text is malloc's even inside an arena.
 * Under AddressSanitizer, freed and reset arena memory must be poisoned.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/arena.h"
#include "agent/core/event.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

static const char event_text[] =
    "{\"id\":123,\"created_at\":\"2026-11-23T10:00:00.000Z\",\"event_type_id\":5,"
    "\"user_name\":\"ada@example.com\",\"ipaddr\":\"203.0.113.9\",\"notes\":null,"
    "\"tags\":[\"a\",\"b\",{\"deep\":[1,2.5,true]}]}";

static json_t *parse_in(struct ola_arena *a, const char *text, size_t len)
{
    struct ola_arena *prev = ola_arena_enter(a);
    json_t *v = json_loadb(text, len, 0, NULL);

    ola_arena_leave(prev);
    return v;
}

static void test_parse_in_arena(void **state)
{
    struct ola_arena *a = ola_arena_new();
    json_t *ev, *tags;

    (void)state;
    assert_non_null(a);
    ev = parse_in(a, event_text, sizeof(event_text) - 1);
    assert_non_null(ev);
    tags = json_object_get(ev, "tags");
    assert_true(ola_arena_owns(a, ev));
    assert_true(ola_arena_owns(a, tags));
    assert_true(ola_arena_owns(a, json_string_value(json_object_get(ev, "user_name"))));
    assert_int_equal(json_integer_value(json_object_get(ev, "id")), 123);
    assert_int_equal(ola_arena_size(a), 1 << 20);
    /* made outside: malloc's, also when set into the arena tree; the decref
     * below must free() them (LeakSanitizer fails the test otherwise) */
    {
        json_t *s = json_string("added after the parse");

        assert_false(ola_arena_owns(a, s));
        assert_int_equal(json_object_set_new(ev, "olagent_note", s), 0);
        for (int i = 0; i < 40; i++) { /* grows the arena object's table with malloc */
            char k[16];

            snprintf(k, sizeof(k), "k%d", i);
            assert_int_equal(json_object_set_new(ev, k, json_integer(i)), 0);
        }
        assert_int_equal(json_array_append_new(tags, json_string("c")), 0);
    }
    json_decref(ev);
    ola_arena_reset(a);
    assert_int_equal(ola_arena_size(a), 1 << 20); /* kept for the next batch */
    ola_arena_trim(a);
    assert_int_equal(ola_arena_size(a), 0);
    ola_arena_destroy(a);
    ola_arena_destroy(NULL);
}

static void test_outside_is_malloc(void **state)
{
    struct ola_arena *a = ola_arena_new();
    json_t *v, *w;

    (void)state;
    v = json_loads(event_text, 0, NULL); /* not entered */
    assert_non_null(v);
    assert_false(ola_arena_owns(a, v));
    w = parse_in(a, "[1,2,3]", 7);
    /* an arena array holding a malloc'd tree, and the reverse */
    assert_int_equal(json_array_append(w, v), 0);
    assert_int_equal(json_object_set(v, "arr", w), 0);
    assert_int_equal(json_object_del(v, "arr"), 0);
    json_decref(w);
    json_decref(v);
    ola_arena_destroy(a);
}

static void test_reuse_and_big(void **state)
{
    struct ola_arena *a = ola_arena_new();
    json_t *evs[2000];
    size_t i, kept;
    char *big;
    json_t *bv;

    (void)state;
    for (i = 0; i < 2000; i++) {
        evs[i] = parse_in(a, event_text, sizeof(event_text) - 1);
        assert_non_null(evs[i]);
    }
    assert_true(ola_arena_size(a) > (1 << 20)); /* several chunks */
    for (i = 0; i < 2000; i++)
        json_decref(evs[i]);
    kept = ola_arena_size(a);
    ola_arena_reset(a);
    assert_int_equal(ola_arena_size(a), kept);
    /* a second batch of the same size maps nothing new */
    for (i = 0; i < 2000; i++)
        evs[i] = parse_in(a, event_text, sizeof(event_text) - 1);
    assert_int_equal(ola_arena_size(a), kept);
    for (i = 0; i < 2000; i++)
        json_decref(evs[i]);
    ola_arena_reset(a);

    /* a 600 KB string: its own chunk, unmapped at reset */
    big = malloc(600 * 1024 + 5);
    assert_non_null(big);
    big[0] = '[';
    big[1] = '"';
    memset(big + 2, 'x', 600 * 1024);
    big[600 * 1024 + 2] = '"';
    big[600 * 1024 + 3] = ']';
    big[600 * 1024 + 4] = '\0';
    bv = parse_in(a, big, strlen(big));
    assert_non_null(bv);
    assert_int_equal(json_string_length(json_array_get(bv, 0)), 600 * 1024);
    assert_true(ola_arena_owns(a, json_string_value(json_array_get(bv, 0))));
    assert_true(ola_arena_size(a) > kept);
    json_decref(bv);
    ola_arena_reset(a);
    assert_int_equal(ola_arena_size(a), kept);
    free(big);
    ola_arena_destroy(a);
}

/* Parsing and dropping events one at a time reuses their blocks: one chunk. */
static void test_reuse_freed(void **state)
{
    struct ola_arena *a = ola_arena_new();
    int i;

    (void)state;
    for (i = 0; i < 20000; i++) {
        json_t *ev = parse_in(a, event_text, sizeof(event_text) - 1);

        assert_non_null(ev);
        json_decref(ev);
    }
#ifdef TEST_ASAN
    assert_true(ola_arena_size(a) > (1 << 20)); /* freed memory stays poisoned */
#else
    assert_int_equal(ola_arena_size(a), 1 << 20);
#endif
    ola_arena_destroy(a);
}

static void test_two_arenas(void **state)
{
    struct ola_arena *a = ola_arena_new(), *b = ola_arena_new(), *prev;
    json_t *va, *vb;

    (void)state;
    va = parse_in(a, event_text, sizeof(event_text) - 1);
    prev = ola_arena_enter(b);
    vb = json_loads("{\"x\":[1,2]}", 0, NULL);
    json_decref(va); /* an a value freed while b is entered */
    ola_arena_leave(prev);
    assert_true(ola_arena_owns(b, vb));
    assert_false(ola_arena_owns(a, vb));
    ola_arena_destroy(a);
    json_decref(vb);
    ola_arena_destroy(b);
}

static void *other_thread(void *arg)
{
    json_t *v = json_string("made by another thread");

    (void)arg;
    return v; /* malloc'd: the entered arena is the main thread's only */
}

static void test_other_thread(void **state)
{
    struct ola_arena *a = ola_arena_new(), *prev;
    pthread_t t;
    void *res = NULL;

    (void)state;
    prev = ola_arena_enter(a);
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &res), 0);
    ola_arena_leave(prev);
    assert_non_null(res);
    assert_false(ola_arena_owns(a, res));
    json_decref(res);
    ola_arena_destroy(a);
}

/* Values die one by one; the chunks go back only once the last one has. */
static void test_lasting(void **state)
{
    struct ola_arena *a = ola_arena_new_lasting(), *batch = ola_arena_new();
    json_t *keep, *v, *b;
    int i;

    (void)state;
    assert_non_null(a);
    keep = parse_in(a, event_text, sizeof(event_text) - 1);
    assert_true(ola_arena_owns(a, keep));
    assert_false(ola_arena_transient(keep)); /* a memo may key on it */
    b = parse_in(batch, event_text, sizeof(event_text) - 1);
    assert_true(ola_arena_transient(b));
    assert_false(ola_arena_transient(json_object_get(keep, "tags")));
    json_decref(b);
    ola_arena_destroy(batch);
    for (i = 0; i < 20000; i++) { /* trees built and cooled while keep stays */
        v = parse_in(a, event_text, sizeof(event_text) - 1);
        assert_non_null(v);
        json_decref(v);
    }
#ifndef TEST_ASAN
    assert_int_equal(ola_arena_size(a), 1 << 20); /* their blocks were reused */
#endif
    assert_true(ola_arena_blocks(a) > 0);
    assert_false(ola_arena_trim_if_empty(a)); /* keep is alive */
    assert_int_equal(json_integer_value(json_object_get(keep, "id")), 123);
    json_decref(keep);
    assert_int_equal(ola_arena_blocks(a), 0);
    assert_true(ola_arena_trim_if_empty(a));
    assert_int_equal(ola_arena_size(a), 0);
    v = parse_in(a, event_text, sizeof(event_text) - 1); /* usable after a trim */
    assert_true(ola_arena_owns(a, v));
    json_decref(v);
    assert_int_equal(ola_arena_blocks(a), 0);
    ola_arena_destroy(a);
}

/* Text made inside an arena by ola_json_dumps is malloc's: free() takes it. */
static void test_dumps_is_malloc(void **state)
{
    struct ola_arena *a = ola_arena_new(), *prev;
    json_t *ev = parse_in(a, event_text, sizeof(event_text) - 1);
    char *text;

    (void)state;
    prev = ola_arena_enter(a);
    text = ola_json_dumps(ev, JSON_COMPACT);
    ola_arena_leave(prev);
    assert_non_null(text);
    assert_false(ola_arena_owns(a, text));
    assert_non_null(strstr(text, "\"user_name\":\"ada@example.com\""));
    free(text);
    json_decref(ev);
    ola_arena_destroy(a);
}

static void test_batch(void **state)
{
    struct ola_batch b;
    struct ola_arena *prev;
    json_t *ev;
    int round;

    (void)state;
    ola_batch_init(&b);
    for (round = 0; round < 3; round++) {
        prev = ola_batch_enter(&b);
        ev = json_loads(event_text, 0, NULL);
        ola_batch_leave(prev);
        assert_non_null(ev);
        assert_true(ola_arena_owns(b.arena, ev));
        assert_non_null(ola_batch_add(&b, OLA_REC_EVENT, ev, NULL, 0));
        assert_int_equal(ola_event_add_tag(&b.ev[0], "t"), 0);
        assert_false(ola_arena_owns(b.arena, b.ev[0].ola));
        ola_batch_trim(&b); /* events alive: keeps everything */
        assert_true(ola_arena_size(b.arena) > 0);
        ola_batch_reset(&b);
    }
    ola_batch_trim(&b);
    assert_int_equal(ola_arena_size(b.arena), 0);
    ola_batch_free(&b);
}

/* A body's memory is kept for the next one while bodies fill it, and given back
 * when one leaves most of it empty (a quiet poll's answer in a page's buffer). */
static void test_batch_spare(void **state)
{
    struct ola_batch b;
    size_t cap = 0;
    char *p;

    (void)state;
    ola_batch_init(&b);
    b.body = malloc(1 << 20);
    assert_non_null(b.body);
    b.body_cap = 1 << 20;
    b.body_len = 900000;
    ola_batch_reset(&b);
    assert_non_null(b.spare);
    assert_int_equal(b.spare_cap, 1 << 20);
    p = ola_batch_take_spare(&b, &cap);
    assert_int_equal(cap, 1 << 20);
    assert_null(b.spare);
    b.body = p; /* a quiet poll's answer lands in it */
    b.body_cap = cap;
    b.body_len = 120;
    ola_batch_reset(&b);
    assert_null(b.spare);
    assert_null(b.body);
    b.body = malloc(4096); /* no size told: freed, never kept */
    assert_non_null(b.body);
    b.body_len = 4000;
    ola_batch_reset(&b);
    assert_null(b.spare);
    ola_batch_free(&b);
}

static void test_poisoned(void **state)
{
    (void)state;
#ifdef TEST_ASAN
    struct ola_arena *a = ola_arena_new();
    json_t *ev = parse_in(a, event_text, sizeof(event_text) - 1), *s;
    const char *name;

    s = json_object_get(ev, "user_name");
    name = json_string_value(s);
    assert_false(__asan_address_is_poisoned(name));
    json_incref(s);
    json_decref(ev);
    assert_false(__asan_address_is_poisoned(name)); /* still referenced */
    json_decref(s);
    assert_true(__asan_address_is_poisoned(name)); /* freed */
    ev = parse_in(a, event_text, sizeof(event_text) - 1);
    name = json_string_value(json_object_get(ev, "user_name"));
    ola_arena_reset(a); /* reset with the value alive: a use would be reported */
    assert_true(__asan_address_is_poisoned(name));
    ola_arena_destroy(a);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_in_arena),  cmocka_unit_test(test_outside_is_malloc),
        cmocka_unit_test(test_reuse_and_big),   cmocka_unit_test(test_reuse_freed),
        cmocka_unit_test(test_two_arenas),      cmocka_unit_test(test_other_thread),
        cmocka_unit_test(test_batch),           cmocka_unit_test(test_poisoned),
        cmocka_unit_test(test_batch_spare),     cmocka_unit_test(test_lasting),
        cmocka_unit_test(test_dumps_is_malloc),
    };

    ola_arena_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
