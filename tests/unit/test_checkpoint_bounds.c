/*
 * test_checkpoint_bounds.c - the checkpoint's bounds: whatever the saver
 * writes, the loader reads. The saver holds `seen` to the loader's bound
 * (oldest outside the overlap first), random sets around the bound always
 * load, and the loader's own bounds hold at and just over them.
 *
 * Each test works in its own mkdtemp directory (checkpoint_fixture.h).
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH/FTW_PHYS */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/state/checkpoint.h"
#include "tests/unit/checkpoint_fixture.h"

/* Loads path with the given bounds into a fresh checkpoint; asserts success. */
static void load_bounded(const char *path, size_t max_seen, struct ola_checkpoint *cp)
{
    struct ola_err err = {0};
    bool found = false;

    assert_int_equal(ola_checkpoint_init(cp), 0);
    cp->max_seen = max_seen;
    if (ola_checkpoint_load(path, cp, &found, &err) != 0)
        fail_msg("a saved checkpoint does not load: %s", err.msg);
    assert_true(found);
}

/*
 * The saver holds `seen` to the loader's bound (lowered to 1,000 here, the
 * same code path as the real 10,000,000): at the bound everything is kept;
 * over it the ids older than the overlap go first, then the oldest inside it.
 * Every saved file loads.
 */
static void test_seen_bound(void **state)
{
    struct fixture *f = *state;
    const size_t max = 1000;
    const int64_t wm = 100000000, overlap = 60000;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    size_t i;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.max_seen = max;
    a.pos.watermark_ms = wm;
    a.overlap_ms = overlap;
    /* Exactly at the bound, all inside the overlap: saved and loaded whole. */
    for (i = 1; i <= max; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)i * 2, wm - 5000 + (int64_t)i),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    ola_checkpoint_free(&b);

    /* One over, nothing outside the overlap: the oldest goes. */
    assert_int_equal(ola_seen_add(a.pos.seen, 5000, wm), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    assert_false(ola_seen_has(a.pos.seen, 2));
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    assert_false(ola_seen_has(b.pos.seen, 2));
    assert_true(ola_seen_has(b.pos.seen, 4));
    assert_true(ola_seen_has(b.pos.seen, 5000));
    ola_checkpoint_free(&b);

    /* 500 over, all of them older than the overlap: those go, and only they. */
    for (i = 0; i < 500; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 100000 + (int64_t)i, wm - overlap - 1),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    assert_false(ola_seen_has(a.pos.seen, 100000));
    assert_true(ola_seen_has(a.pos.seen, 4));
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    ola_checkpoint_free(&b);

    /* Over even without them: the outside ones and the oldest inside go. */
    for (i = 0; i < 100; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 200000 + (int64_t)i, wm - overlap - 1),
                         0);
    for (i = 0; i < 50; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 300000 + (int64_t)i, wm + 1), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    assert_false(ola_seen_has(a.pos.seen, 200000));
    assert_false(ola_seen_has(a.pos.seen, 102)); /* 4..102 were the 50 oldest inside */
    assert_true(ola_seen_has(a.pos.seen, 104));
    assert_true(ola_seen_has(a.pos.seen, 300049));
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    ola_checkpoint_free(&b);

    /* Back under the bound: nothing is dropped. */
    assert_int_equal(ola_seen_prune(a.pos.seen, wm), max - 51);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), 51);
    ola_checkpoint_free(&a);
}

/*
 * Random sets around the bound, with consecutive runs (a run loads with its
 * newest time for every id) and an unknown overlap: each save loads, under a
 * bound of a few hundred ids.
 */
static void test_saved_always_loads(void **state)
{
    struct fixture *f = *state;
    uint64_t r = 12345;
    int round;

    for (round = 0; round < 60; round++) {
        struct ola_checkpoint a, b;
        struct ola_err err = {0};
        size_t max = 200 + (size_t)round * 7, n, i;

        assert_int_equal(ola_checkpoint_init(&a), 0);
        a.max_seen = max;
        a.pos.watermark_ms = 1000000;
        a.overlap_ms = round % 3 == 0 ? -1 : 60000;
        n = max - 3 + (size_t)round % 7; /* at, under and just over the bound */
        if (round % 5 == 0)
            n = max * 3;
        for (i = 0; i < n; i++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            /* mostly consecutive ids (runs) with random times across the overlap */
            assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)(i + (r % 4 == 0 ? i : 0)),
                                          900000 + (int64_t)(r % 200000)),
                             0);
        }
        assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
        load_bounded(f->path, max, &b);
        assert_true(ola_seen_count(a.pos.seen) <= max);
        assert_int_equal(ola_seen_count(b.pos.seen), ola_seen_count(a.pos.seen));
        ola_checkpoint_free(&a);
        ola_checkpoint_free(&b);
    }
}

/* The loader's bounds, at and just over them. */
static void test_load_bounds(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found = false;
    json_t *o;
    char *text;
    size_t len;

    o = valid_body();
    json_object_set_new(
        o, "seen",
        json_pack("[[i,i,i],[i,i,i],[i,i,i]]", 1, 1, 100, 3, 3, 100, 5, 5, 100));
    write_signed(f->path, o);
    load_bounded(f->path, 3, &b);
    ola_checkpoint_free(&b);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    b.max_seen = 2;
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), -1);
    assert_non_null(strstr(err.msg, "more than 2 ids"));
    ola_checkpoint_free(&b);

    /* Bytes: a file of max_bytes - 1 loads, one of max_bytes does not. */
    text = read_file(f->path, &len);
    free(text);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    b.max_bytes = len + 1;
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    b.max_bytes = len;
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), -1);
    assert_non_null(strstr(err.msg, strerror(EFBIG)));
    ola_checkpoint_free(&b);

    /* The saver refuses what the loader would: the last file stays. */
    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.max_bytes = 300;
    a.pos.watermark_ms = 5;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    load_bounded(f->path, OLA_CHECKPOINT_MAX_SEEN, &b);
    ola_checkpoint_free(&b);
    text = read_file(f->path, &len);
    for (len = 0; len < 100; len++)
        assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)len * 10, 1), 0);
    a.pos.watermark_ms = 6;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), -1);
    assert_non_null(strstr(err.msg, "not written"));
    check_old_intact(f, text);
    free(text);
    ola_checkpoint_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seen_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saved_always_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_bounds, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
