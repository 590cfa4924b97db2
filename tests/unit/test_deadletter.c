/*
 * test_deadletter.c - the dead-letter file: one valid JSON line per record,
 * whatever the record's bytes (UTF-8 text with control bytes, a NUL, bytes
 * that are not UTF-8 at all, which go base64-encoded), and a file whose
 * directory does not exist yet (a fresh install, before the first checkpoint).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "outputs/output.h"
#include "tests/lib/unit_files.h"

static char tmpdir[256];

/* Every line of path, parsed (strictly: Jansson wants UTF-8). */
static json_t *read_lines(const char *path)
{
    json_t *all = json_array();
    char line[65536];
    FILE *f = fopen(path, "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        json_error_t jerr;
        json_t *v = json_loads(line, JSON_ALLOW_NUL, &jerr);

        if (v == NULL)
            fail_msg("not a JSON line (%s): %s", jerr.text, line);
        json_array_append_new(all, v);
    }
    fclose(f);
    return all;
}

/* The record of a line: "record", or "record_base64" decoded. *len set. */
static unsigned char *record_of(const json_t *line, size_t *len)
{
    const char *text = json_string_value(json_object_get(line, "record"));
    const char *b64 = json_string_value(json_object_get(line, "record_base64"));
    unsigned char *out;
    int n;

    if (text != NULL) {
        assert_null(b64);
        *len = json_string_length(json_object_get(line, "record"));
        out = malloc(*len + 1);
        assert_non_null(out);
        memcpy(out, text, *len);
        return out;
    }
    assert_non_null(b64);
    out = malloc(strlen(b64) + 1);
    assert_non_null(out);
    n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)strlen(b64));
    assert_true(n >= 0);
    /* EVP_DecodeBlock counts the padding as bytes */
    *len = (size_t)n - (strlen(b64) >= 2 && b64[strlen(b64) - 1] == '=') -
           (strlen(b64) >= 2 && b64[strlen(b64) - 2] == '=');
    return out;
}

static void test_any_bytes_one_json_line(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        bool base64;
    } cases[] = {
#define C(s, b64) {s, sizeof(s) - 1, b64}
        C("{\"id\":1,\"n\":\"plain\"}", false),
        C("line1\nline2\r\t\"quoted\" back\\slash \x01\x1f", false),
        C("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", false),
        C("a\0b", false),
        C("bad \xff\xfe bytes", true),
        C("truncated \xc3", true),
        C("overlong \xc0\xaf", true),
        C("surrogate \xed\xa0\x80", true),
        C("too high \xf4\x90\x80\x80", true),
        C("\x80", true),
        C("", false),
#undef C
    };
    char path[512];
    struct ola_err err;
    json_t *lines;
    size_t i;

    (void)state;
    snprintf(path, sizeof(path), "%s/dl.ndjson", tmpdir);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (ola_deadletter_write(path, "source", "why \"not\"\n", cases[i].bytes,
                                 cases[i].len, &err) != 0)
            fail_msg("case %zu: %s", i, err.msg);
    lines = read_lines(path);
    assert_int_equal(json_array_size(lines), sizeof(cases) / sizeof(cases[0]));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const json_t *l = json_array_get(lines, i);
        size_t len;
        unsigned char *rec = record_of(l, &len);

        assert_string_equal(json_string_value(json_object_get(l, "output")), "source");
        assert_string_equal(json_string_value(json_object_get(l, "reason")),
                            "why \"not\"\n");
        assert_non_null(json_string_value(json_object_get(l, "time")));
        if (cases[i].base64 != (json_object_get(l, "record_base64") != NULL))
            fail_msg("case %zu: base64 %d expected", i, cases[i].base64);
        if (len != cases[i].len || memcmp(rec, cases[i].bytes, len) != 0)
            fail_msg("case %zu: the record did not survive (%zu bytes back)", i, len);
        free(rec);
    }
    json_decref(lines);
}

static void test_missing_directory_created(void **state)
{
    char path[512];
    struct ola_err err;
    struct stat st;
    json_t *lines;

    (void)state;
    snprintf(path, sizeof(path), "%s/fresh/state/dead-letter.ndjson", tmpdir);
    assert_int_equal(ola_deadletter_write(path, "source", "r", "{}", 2, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    lines = read_lines(path);
    assert_int_equal(json_array_size(lines), 1);
    json_decref(lines);
    /* a path that cannot be made still fails, with the reason */
    snprintf(path, sizeof(path), "%s/dl.ndjson/below/x.ndjson", tmpdir);
    assert_int_equal(ola_deadletter_write(path, "source", "r", "{}", 2, &err), -1);
    assert_non_null(strstr(err.msg, "dead letter"));
}

/* A line a crash cut short stays a line of its own: the next letter is whole. */
static void test_after_a_torn_line(void **state)
{
    char path[512];
    struct ola_err err;
    json_t *line;
    char text[4096];

    (void)state;
    snprintf(path, sizeof(path), "%s/torn.ndjson", tmpdir);
    assert_int_equal(
        ola_test_write_text(
            path, "{\"time\":\"2026-11-23T10:00:00.000Z\",\"output\":\"kafka\",\"rea"),
        0);
    assert_int_equal(
        ola_deadletter_write(path, "kafka", "too large", "{\"id\":5}", 8, &err), 0);
    assert_int_equal(ola_deadletter_write(path, "kafka", "again", "{\"id\":6}", 8, &err),
                     0);
    assert_true(ola_test_read_text(path, text, sizeof(text)) > 0);
    /* line 1 the fragment, lines 2 and 3 whole letters, nothing else */
    {
        char *l2 = strchr(text, '\n'), *l3;

        assert_non_null(l2);
        l3 = strchr(l2 + 1, '\n');
        assert_non_null(l3);
        *l3 = '\0';
        line = json_loads(l2 + 1, 0, NULL);
        assert_non_null(line);
        assert_string_equal(json_string_value(json_object_get(line, "reason")),
                            "too large");
        json_decref(line);
        assert_true(strlen(l3 + 1) > 0);
        line = json_loads(l3 + 1, 0, NULL);
        assert_non_null(line);
        assert_string_equal(json_string_value(json_object_get(line, "reason")), "again");
        json_decref(line);
    }
}

static int group_setup(void **state)
{
    char path[512];

    (void)state;
    if (ola_test_tmpdir(tmpdir, sizeof(tmpdir), "deadletter") != 0)
        return -1;
    /* a file where the second test wants a directory */
    snprintf(path, sizeof(path), "%s/dl.ndjson", tmpdir);
    return ola_test_write_text(path, "");
}

static int group_teardown(void **state)
{
    (void)state;
    return ola_test_rmtree(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_bytes_one_json_line),
        cmocka_unit_test(test_missing_directory_created),
        cmocka_unit_test(test_after_a_torn_line),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
