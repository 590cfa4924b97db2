/*
 * test_checkpoint.c - the checkpoint file: round trips, the on-disk format
 * (its runs of seen ids, its checksum), and every way a file can be bad:
 * truncated, a byte flipped, no start, a wrong version or type, bogus runs.
 *
 * Each test works in its own mkdtemp directory (checkpoint_fixture.h). Files
 * with a hand-made body get their checksum from an independent computation,
 * so the tests also pin the format. Saves that fail and symlinks in the state
 * folder are in test_checkpoint_disk.c, the bounds in test_checkpoint_bounds.c.
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH/FTW_PHYS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "agent/core/fileio.h"
#include "agent/core/timeutil.h"
#include "agent/state/checkpoint.h"
#include "tests/unit/checkpoint_fixture.h"

static void test_round_trip_full(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found = false;
    int64_t before = ola_now_ms();
    int64_t ids[] = {-5, -4, 10, 11, 12, 20, INT64_MAX - 1, INT64_MAX};

    (void)state;
    assert_int_equal(ola_checkpoint_init(&a), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    a.pos.watermark_ms = iso("2024-05-01T10:00:00.123Z");
    a.pos.start_ms = iso("2024-04-30T10:00:00.500Z");
    a.pos.in_window = true;
    a.pos.window_kind = OLA_WINDOW_SWEEP;
    a.pos.window_since_ms = iso("2024-05-01T09:50:00.000Z");
    a.pos.window_until_ms = iso("2024-05-01T10:05:00.999Z");
    assert_int_equal(ola_position_set_cursor(&a.pos, "abc/\"def\"\\\xc3\xa9"), 0);
    a.pos.last_sweep_ms = iso("2024-05-01T09:00:00.000Z");
    a.pos.delivered = UINT64_C(12345678901);
    a.alerts = json_loads("{\"brute\":{\"n\":3,\"keys\":[\"a\",null,true,1.5,-2]},"
                          "\"z\":{},\"a\":[]}",
                          0, NULL);
    assert_non_null(a.alerts);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_int_equal(ola_seen_add(a.pos.seen, ids[i], 1000 + (int64_t)i), 0);

    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_true(a.updated_ms >= before && a.updated_ms <= ola_now_ms());
    assert_false(exists(f->tmp));
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_true(found);
    assert_int_equal(b.pos.watermark_ms, a.pos.watermark_ms);
    assert_int_equal(b.pos.start_ms, a.pos.start_ms);
    assert_true(b.pos.in_window);
    assert_int_equal(b.pos.window_kind, OLA_WINDOW_SWEEP);
    assert_int_equal(b.pos.window_since_ms, a.pos.window_since_ms);
    assert_int_equal(b.pos.window_until_ms, a.pos.window_until_ms);
    assert_string_equal(b.pos.cursor, a.pos.cursor);
    assert_int_equal(b.pos.last_sweep_ms, a.pos.last_sweep_ms);
    assert_int_equal(b.pos.delivered, a.pos.delivered);
    assert_int_equal(b.updated_ms, a.updated_ms);
    assert_true(json_equal(b.alerts, a.alerts));
    assert_int_equal(ola_seen_count(b.pos.seen), sizeof(ids) / sizeof(ids[0]));
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_true(ola_seen_has(b.pos.seen, ids[i]));
    /* Runs take their newest member's time: [-5,-4]@1001, [10,12]@1004, 20@1005. */
    assert_int_equal(ola_seen_prune(b.pos.seen, 1002), 2);
    assert_true(ola_seen_has(b.pos.seen, 10));
    assert_int_equal(ola_seen_prune(b.pos.seen, 1005), 3);
    assert_true(ola_seen_has(b.pos.seen, 20));
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

static void test_round_trip_nulls(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found = false;
    size_t len;
    char *text;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    /* b holds stale state that the load must replace. */
    b.pos.in_window = true;
    assert_int_equal(ola_position_set_cursor(&b.pos, "stale"), 0);
    b.alerts = json_object();
    assert_int_equal(ola_seen_add(b.pos.seen, 99, 1), 0);

    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    text = read_file(f->path, &len);
    assert_true(
        strncmp(text,
                "{\"version\":1,\"watermark\":null,\"start\":null,\"window\":null,"
                "\"last_sweep\":null,\"delivered\":0,\"updated_at\":\"",
                strlen("{\"version\":1,\"watermark\":null,\"start\":null,\"window\":null,"
                       "\"last_sweep\":null,\"delivered\":0,\"updated_at\":\"")) == 0);
    assert_non_null(strstr(text, "\"seen\":[],\"alerts\":null,\"checksum\":\"sha256:"));
    free(text);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_true(found);
    assert_int_equal(b.pos.watermark_ms, -1);
    assert_int_equal(b.pos.start_ms, -1);
    assert_false(b.pos.in_window);
    assert_null(b.pos.cursor);
    assert_int_equal(b.pos.last_sweep_ms, -1);
    assert_int_equal(b.pos.delivered, 0);
    assert_null(b.alerts);
    assert_int_equal(ola_seen_count(b.pos.seen), 0);

    /* A head window without a cursor. */
    a.pos.in_window = true;
    a.pos.window_kind = OLA_WINDOW_HEAD;
    a.pos.window_since_ms = 0;
    a.pos.window_until_ms = 1;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_true(b.pos.in_window);
    assert_int_equal(b.pos.window_kind, OLA_WINDOW_HEAD);
    assert_int_equal(b.pos.window_since_ms, 0);
    assert_int_equal(b.pos.window_until_ms, 1);
    assert_null(b.pos.cursor);
    text = read_file(f->path, &len);
    assert_non_null(strstr(text,
                           "\"window\":{\"kind\":\"head\",\"since\":\"1970-01-01T00:"
                           "00:00.000Z\",\"until\":\"1970-01-01T00:00:00.001Z\","
                           "\"cursor\":null}"));
    free(text);
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

static void test_file_format_and_runs(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    char hex[65], *text, *nl, *body, *sum;
    json_t *root, *seen;
    struct stat st;
    size_t len, i;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    /* One run: 100..199 added out of order, newest at 150. */
    for (i = 0; i < 100; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 199 - (int64_t)i, i == 49 ? 9000 : 10),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    text = read_file(f->path, &len);
    nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(nl - text, (ptrdiff_t)len - 1); /* one line */
    root = json_loads(text, 0, NULL);
    assert_non_null(root);
    seen = json_object_get(root, "seen");
    assert_int_equal(json_array_size(seen), 1);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(seen, 0), 0)), 100);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(seen, 0), 1)), 199);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(seen, 0), 2)),
                     9000);
    /* The checksum is over the compact dump without it. */
    sum = strdup(json_string_value(json_object_get(root, "checksum")));
    assert_non_null(sum);
    assert_int_equal(strncmp(sum, "sha256:", 7), 0);
    json_object_del(root, "checksum");
    body = json_dumps(root, JSON_COMPACT);
    sha256_hex(body, hex);
    assert_string_equal(sum + 7, hex);
    /* ...and the file is exactly that dump with the checksum added last. */
    assert_int_equal(json_object_set_new(root, "checksum", json_string(sum)), 0);
    free(body);
    body = json_dumps(root, JSON_COMPACT);
    assert_int_equal(strlen(body), len - 1);
    assert_memory_equal(body, text, len - 1);
    free(body);
    free(sum);
    json_decref(root);
    free(text);

    /* Gaps: 1,2,3  5  7,8  and -1,0 (consecutive across zero). */
    ola_seen_clear(a.pos.seen);
    {
        static const int64_t ids[] = {8, 1, -1, 3, 7, 2, 5, 0};

        for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
            assert_int_equal(ola_seen_add(a.pos.seen, ids[i], ids[i] * 10), 0);
    }
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    text = read_file(f->path, &len);
    assert_non_null(strstr(text, "\"seen\":[[-1,3,30],[5,5,50],[7,8,80]]"));
    free(text);
    ola_checkpoint_free(&a);
}

static void test_truncated(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    char *full;
    size_t len, cut;
    bool found;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.pos.watermark_ms = iso("2024-05-01T10:00:00.000Z");
    a.pos.in_window = true;
    a.pos.window_since_ms = 1;
    a.pos.window_until_ms = 2;
    assert_int_equal(ola_position_set_cursor(&a.pos, "cur"), 0);
    a.alerts = json_pack("{s:{s:i}}", "r", "n", 1);
    assert_int_equal(ola_seen_add(a.pos.seen, 1, 1), 0);
    assert_int_equal(ola_seen_add(a.pos.seen, 5, 1), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    full = read_file(f->path, &len);
    assert_true(len > 100);
    /* Every cut short of the closing brace fails cleanly. */
    for (cut = 0; cut + 1 < len; cut++) {
        write_file(f->path, full, cut);
        expect_bad(f, cut == 0 ? "empty" : "", true);
    }
    /* Without the trailing newline the file is still whole. */
    write_file(f->path, full, len - 1);
    assert_int_equal(ola_checkpoint_load(f->path, &a, &found, &err), 0);
    assert_true(found);
    /* Garbage after it is not. */
    write_file(f->path, full, len);
    {
        FILE *fp = fopen(f->path, "ab");

        assert_non_null(fp);
        fputs("{}", fp);
        fclose(fp);
    }
    expect_bad(f, "not valid JSON", true);
    write_file(f->path, full, len / 2);
    expect_bad(f, "not valid JSON", true);
    free(full);
    ola_checkpoint_free(&a);
}

static void test_flipped_byte(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    char *full, *p, c;
    size_t len;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.pos.delivered = 41;
    a.pos.watermark_ms = iso("2024-05-01T10:00:00.000Z");
    assert_int_equal(ola_seen_add(a.pos.seen, 1000, 1), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    full = read_file(f->path, &len);

    /* A digit in a value: still valid JSON, wrong checksum. */
    p = strstr(full, "\"delivered\":41");
    assert_non_null(p);
    p[strlen("\"delivered\":4")] = '2';
    write_file(f->path, full, len);
    expect_bad(f, "checksum mismatch", true);
    p[strlen("\"delivered\":4")] = '1';

    p = strstr(full, "[[1000,");
    assert_non_null(p);
    p[2] = '2';
    write_file(f->path, full, len);
    expect_bad(f, "checksum mismatch", true);
    p[2] = '1';

    /* A digit of the checksum itself. */
    p = strstr(full, "sha256:");
    assert_non_null(p);
    c = p[7];
    p[7] = c == '0' ? '1' : '0';
    write_file(f->path, full, len);
    expect_bad(f, "checksum mismatch", true);
    p[7] = c;

    /* A bit flip that breaks the JSON syntax. */
    p = strchr(full, ':');
    *p ^= 0x01;
    write_file(f->path, full, len);
    expect_bad(f, "not valid JSON", true);
    *p ^= 0x01;

    /* Restored: loads again. */
    write_file(f->path, full, len);
    {
        bool found;

        assert_int_equal(ola_checkpoint_load(f->path, &a, &found, &err), 0);
        assert_int_equal(a.pos.delivered, 41);
    }
    free(full);
    ola_checkpoint_free(&a);
}

/* A file from before "start" existed loads, with no start: nothing clamps. */
static void test_file_without_start(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint cp;
    struct ola_err err = {0};
    bool found = false;

    write_signed(f->path, valid_body());
    assert_int_equal(ola_checkpoint_init(&cp), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &cp, &found, &err), 0);
    assert_true(found);
    assert_int_equal(cp.pos.watermark_ms, iso("2024-05-01T10:00:00.000Z"));
    assert_int_equal(cp.pos.start_ms, -1);
    ola_checkpoint_free(&cp);
}

static void test_wrong_version_and_types(void **state)
{
    struct fixture *f = *state;
    json_t *o;

    /* Version 2, correctly signed: the version is the complaint. */
    o = valid_body();
    json_object_set_new(o, "version", json_integer(2));
    write_signed(f->path, o);
    expect_bad(f, "version 2", true);

    o = valid_body();
    json_object_del(o, "version");
    write_signed(f->path, o);
    expect_bad(f, "version", true);

    /* The control: the helper writes files that load. */
    write_signed(f->path, valid_body());
    {
        struct ola_checkpoint cp;
        struct ola_err err = {0};
        bool found;

        assert_int_equal(ola_checkpoint_init(&cp), 0);
        assert_int_equal(ola_checkpoint_load(f->path, &cp, &found, &err), 0);
        assert_int_equal(ola_seen_count(cp.pos.seen), 3);
        assert_int_equal(cp.pos.delivered, 3);
        ola_checkpoint_free(&cp);
    }

    /* No checksum at all, or a malformed one. */
    o = valid_body();
    {
        char *s = json_dumps(o, JSON_COMPACT);

        write_file(f->path, s, strlen(s));
        free(s);
    }
    json_decref(o);
    expect_bad(f, "checksum", true);

    write_file(f->path, "[1,2]\n", 6);
    expect_bad(f, "not a JSON object", true);
    write_file(f->path, "{\"version\":1,\"version\":1}", 25);
    expect_bad(f, "not valid JSON", true);

    o = valid_body();
    json_object_set_new(o, "delivered", json_string("3"));
    write_signed(f->path, o);
    expect_bad(f, "'delivered'", true);

    o = valid_body();
    json_object_set_new(o, "delivered", json_integer(-1));
    write_signed(f->path, o);
    expect_bad(f, "'delivered'", true);

    o = valid_body();
    json_object_set_new(o, "watermark", json_string("yesterday"));
    write_signed(f->path, o);
    expect_bad(f, "'watermark'", true);

    o = valid_body();
    json_object_set_new(o, "start", json_integer(5));
    write_signed(f->path, o);
    expect_bad(f, "'start'", true);

    o = valid_body();
    json_object_del(o, "updated_at");
    write_signed(f->path, o);
    expect_bad(f, "'updated_at'", true);

    o = valid_body();
    json_object_set_new(o, "window",
                        json_pack("{s:s,s:s,s:s,s:n}", "kind", "middle", "since",
                                  "2024-05-01T10:00:00Z", "until", "2024-05-01T10:00:00Z",
                                  "cursor"));
    write_signed(f->path, o);
    expect_bad(f, "'window.kind'", true);

    o = valid_body();
    json_object_set_new(o, "window",
                        json_pack("{s:s,s:s,s:s,s:i}", "kind", "head", "since",
                                  "2024-05-01T10:00:00Z", "until", "2024-05-01T10:00:00Z",
                                  "cursor", 5));
    write_signed(f->path, o);
    expect_bad(f, "'window.cursor'", true);

    o = valid_body();
    json_object_set_new(
        o, "window",
        json_pack("{s:s,s:s}", "kind", "head", "since", "2024-05-01T10:00:00Z"));
    write_signed(f->path, o);
    expect_bad(f, "'window.until'", true);

    o = valid_body();
    json_object_set_new(o, "window", json_true());
    write_signed(f->path, o);
    expect_bad(f, "'window'", true);

    o = valid_body();
    json_object_set_new(o, "alerts", json_array());
    write_signed(f->path, o);
    expect_bad(f, "'alerts'", true);

    o = valid_body();
    json_object_set_new(o, "seen", json_object());
    write_signed(f->path, o);
    expect_bad(f, "'seen'", true);

    o = valid_body();
    json_object_set_new(o, "seen", json_pack("[[I,I]]", (json_int_t)1, (json_int_t)2));
    write_signed(f->path, o);
    expect_bad(f, "'seen' run 0", true);

    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I],[I,s,I]]", (json_int_t)1, (json_int_t)2,
                                  (json_int_t)3, (json_int_t)1, "2", (json_int_t)3));
    write_signed(f->path, o);
    expect_bad(f, "'seen' run 1", true);

    write_file(f->path, "", 0);
    expect_bad(f, "empty", true);
}

static void test_bogus_runs(void **state)
{
    struct fixture *f = *state;
    json_t *o;

    o = valid_body();
    json_object_set_new(
        o, "seen",
        json_pack("[[I,I,I]]", (json_int_t)0, (json_int_t)20000000, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "corrupt", true);

    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I]]", (json_int_t)INT64_MIN,
                                  (json_int_t)INT64_MAX, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "corrupt", true);

    o = valid_body();
    json_object_set_new(
        o, "seen", json_pack("[[I,I,I]]", (json_int_t)10, (json_int_t)9, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "corrupt", true);

    /* Each run within bounds, the total not. */
    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I],[I,I,I]]", (json_int_t)0, (json_int_t)5999999,
                                  (json_int_t)1, (json_int_t)10000000,
                                  (json_int_t)15999999, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "more than", true);

    /* A run ending at INT64_MAX expands without overflow. */
    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I]]", (json_int_t)(INT64_MAX - 2),
                                  (json_int_t)INT64_MAX, (json_int_t)1));
    write_signed(f->path, o);
    {
        struct ola_checkpoint cp;
        struct ola_err err = {0};
        bool found;

        assert_int_equal(ola_checkpoint_init(&cp), 0);
        assert_int_equal(ola_checkpoint_load(f->path, &cp, &found, &err), 0);
        assert_int_equal(ola_seen_count(cp.pos.seen), 3);
        assert_true(ola_seen_has(cp.pos.seen, INT64_MAX));
        ola_checkpoint_free(&cp);
    }
}

static void test_large_seen_round_trip(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found;
    size_t i;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    /* 100,000 scattered ids plus a run of 50,000 consecutive ones. */
    for (i = 0; i < 100000; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)i * 7 - 350000, (int64_t)i),
                         0);
    for (i = 0; i < 50000; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, INT64_C(1) << 40 | (int64_t)i, 1000000),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_int_equal(ola_seen_count(b.pos.seen), 150000);
    for (i = 0; i < 100000; i++) {
        if (!ola_seen_has(b.pos.seen, (int64_t)i * 7 - 350000))
            fail_msg("id %zu lost", i);
    }
    assert_true(ola_seen_has(b.pos.seen, INT64_C(1) << 40 | 49999));
    /* Scattered ids kept their own times: pruning below 50,000 takes 50,000. */
    assert_int_equal(ola_seen_prune(b.pos.seen, 50000), 50000);
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

static void test_to_json(void **state)
{
    struct ola_checkpoint a;
    json_t *j;

    (void)state;
    assert_int_equal(ola_checkpoint_init(&a), 0);
    j = ola_checkpoint_to_json(&a);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "watermark")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "count")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(j, "seen"), "min_id")));
    json_decref(j);

    a.pos.watermark_ms = iso("2024-05-01T10:00:00.000Z");
    a.updated_ms = iso("2024-05-01T10:00:05.000Z");
    a.pos.delivered = 9;
    a.alerts = json_pack("{s:i}", "k", 1);
    assert_int_equal(ola_seen_add(a.pos.seen, 30, 1), 0);
    assert_int_equal(ola_seen_add(a.pos.seen, -4, 1), 0);
    assert_int_equal(ola_seen_add(a.pos.seen, 12, 1), 0);
    j = ola_checkpoint_to_json(&a);
    assert_non_null(j);
    assert_null(json_object_get(j, "checksum"));
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "watermark")),
                        "2024-05-01T10:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "updated_at")),
                        "2024-05-01T10:00:05.000Z");
    assert_int_equal(json_integer_value(json_object_get(j, "delivered")), 9);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "count")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "min_id")), -4);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "max_id")), 30);
    assert_true(json_equal(json_object_get(j, "alerts"), a.alerts));
    /* A copy: changing it leaves the checkpoint's state alone. */
    json_object_set_new(json_object_get(j, "alerts"), "k", json_integer(2));
    assert_int_equal(json_integer_value(json_object_get(a.alerts, "k")), 1);
    json_decref(j);
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&a); /* free twice is harmless */
}

/* text without its updated_at value and checksum (they differ between two saves). */
static void strip_volatile(char *text)
{
    char *p = strstr(text, "\"updated_at\":\""), *q;

    assert_non_null(p);
    p += strlen("\"updated_at\":\"");
    q = strchr(p, '"');
    assert_non_null(q);
    memmove(p, q, strlen(q) + 1);
    p = strstr(text, ",\"checksum\":");
    assert_non_null(p);
    *p = '\0';
}

/*
 * The alert state given as text (the agent's saves) is written in place of
 * the tree: the file loads (its checksum holds), and but for the time of the
 * save it is byte for byte the file the same state as a tree gives.
 */
static void test_alerts_as_text(void **state)
{
    struct fixture *f = *state;
    /* as Jansson's compact dump writes it (the checksum is over that form) */
    static const char text[] = "{\"version\":1,\"keys\":[{\"key\":\"a\\\"\xc3\xa9\","
                               "\"items\":[[1,2,\"x\"]]}],\"clock\":-3}";
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    char *by_text = NULL, *by_tree = NULL;
    bool found = false;
    size_t n;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    a.pos.watermark_ms = iso("2024-05-01T10:00:00.123Z");
    assert_int_equal(ola_seen_add(a.pos.seen, 7, 1000), 0);
    a.alerts_text = text;
    a.alerts_len = sizeof(text) - 1;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_read_file(f->path, 1 << 20, &by_text, &n), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_true(found);
    assert_non_null(b.alerts);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(b.alerts, "keys"), 0), "key")),
                        "a\"\xc3\xa9");
    /* the same state as a tree */
    a.alerts_text = NULL;
    a.alerts_len = 0;
    a.alerts = json_incref(b.alerts);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_read_file(f->path, 1 << 20, &by_tree, &n), 0);
    strip_volatile(by_text);
    strip_volatile(by_tree);
    assert_string_equal(by_text, by_tree);
    assert_non_null(strstr(by_text, text));
    free(by_text);
    free(by_tree);
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_as_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_without_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_format_and_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_version_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bogus_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_seen_round_trip, setup, teardown),
        cmocka_unit_test(test_to_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
