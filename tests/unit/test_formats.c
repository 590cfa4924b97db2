/*
 * test_formats.c - golden-file tests of the record formats.
 *
 * tests/data/formats/records.ndjson holds real-shaped records, one a line:
 * {"kind", "severity", "olagent", "event"} (every category, an unknown type,
 * null fields, unicode, characters CEF and LEEF must escape, an alert). Each
 * format turns every record into one line; the result is compared byte for
 * byte with expected.<name>.txt. OLA_GOLDEN_UPDATE=1 rewrites the files
 * (review the diff before committing them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"
#include "timeutil.h"

static char *ola_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)n + 1)) != NULL) {
        *len = fread(p, 1, (size_t)n, f);
        p[*len] = '\0';
    }
    fclose(f);
    return p;
}

static void ola_path(char *buf, size_t n, const char *name)
{
    const char *dir = getenv("OLA_DATA_DIR");
    int w = snprintf(buf, n, "%s/formats/%s", dir ? dir : "tests/data", name);

    assert_true(w > 0 && (size_t)w < n);
}

/* Loads the records into b: raw bytes are the event re-dumped, as a page would hold. */
static void ola_load_records(struct ola_batch *b, struct ola_buf *raws)
{
    char path[4096], *text, *line, *save = NULL;
    size_t len, i, *offs = calloc(64, sizeof(size_t)), *lens = calloc(64, sizeof(size_t));
    json_t *recs[64];
    size_t n = 0;

    ola_path(path, sizeof(path), "records.ndjson");
    text = ola_read_file(path, &len);
    assert_non_null(text);
    for (line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *r = json_loads(line, 0, &jerr);
        char *dump;

        assert_non_null(r);
        assert_true(n < 64);
        dump = json_dumps(json_object_get(r, "event"), JSON_COMPACT);
        assert_non_null(dump);
        offs[n] = raws->len;
        lens[n] = strlen(dump);
        assert_int_equal(ola_buf_append(raws, dump, lens[n]), 0);
        free(dump);
        recs[n++] = r;
    }
    for (i = 0; i < n; i++) {
        json_t *r = recs[i], *ev = json_object_get(r, "event");
        const char *kind = json_string_value(json_object_get(r, "kind"));
        bool alert = kind != NULL && strcmp(kind, "alert") == 0;
        struct ola_event *e =
            ola_batch_add(b, alert ? OLA_REC_ALERT : OLA_REC_EVENT, json_incref(ev),
                          alert ? NULL : raws->data + offs[i], alert ? 0 : lens[i]);
        const char *created = json_string_value(json_object_get(ev, "created_at"));

        assert_non_null(e);
        e->id = json_integer_value(json_object_get(ev, "id"));
        if (created != NULL)
            assert_int_equal(ola_time_parse_iso(created, &e->created_ms), 0);
        e->severity = (int)json_integer_value(json_object_get(r, "severity"));
        if (json_object_get(r, "olagent") != NULL)
            e->ola = json_incref(json_object_get(r, "olagent"));
        json_decref(r);
    }
    free(text);
    free(offs);
    free(lens);
}

static void ola_golden(const char *format, char delim, const char *expected_name)
{
    const struct ola_format_ops *f = ola_format_find(format);
    struct ola_format_opts o = {.leef_delim = delim,
                                .vendor = "OneLogin",
                                .product = "OneLogin",
                                .product_version = "0.1.0",
                                .hostname = "collector-1"};
    struct ola_buf raws = OLA_BUF_INIT, out = OLA_BUF_INIT;
    struct ola_batch b;
    char path[4096], *want;
    size_t i, want_len = 0;

    assert_non_null(f);
    ola_batch_init(&b);
    /* raw pointers must not move: size the buffer first */
    assert_int_equal(ola_buf_reserve(&raws, 1 << 16), 0);
    ola_load_records(&b, &raws);
    assert_true(b.n >= 9);
    for (i = 0; i < b.n; i++) {
        assert_int_equal(ola_format_event(f, &b.ev[i], &o, &out), 0);
        assert_int_equal(ola_buf_putc(&out, '\n'), 0);
    }
    ola_path(path, sizeof(path), expected_name);
    if (getenv("OLA_GOLDEN_UPDATE") != NULL) {
        FILE *w = fopen(path, "wb");

        assert_non_null(w);
        assert_int_equal(fwrite(out.data, 1, out.len, w), out.len);
        assert_int_equal(fclose(w), 0);
    }
    want = ola_read_file(path, &want_len);
    assert_non_null(want);
    if (want_len != out.len || memcmp(want, out.data, out.len) != 0) {
        size_t k = 0;

        while (k < want_len && k < out.len && want[k] == out.data[k])
            k++;
        fail_msg("%s differs from %s at byte %zu", format, expected_name, k);
    }
    free(want);
    ola_buf_free(&out);
    ola_batch_free(&b);
    ola_buf_free(&raws);
}

static void test_json(void **state)
{
    (void)state;
    ola_golden("json", '\t', "expected.json.txt");
}

static void test_cef(void **state)
{
    (void)state;
    ola_golden("cef", '\t', "expected.cef.txt");
}

static void test_leef_tab(void **state)
{
    (void)state;
    ola_golden("leef", '\t', "expected.leef.txt");
}

static void test_leef_caret(void **state)
{
    (void)state;
    ola_golden("leef", '^', "expected.leef-caret.txt");
}

static void test_ocsf(void **state)
{
    (void)state;
    ola_golden("ocsf", '\t', "expected.ocsf.txt");
}

/* Every OCSF line is JSON with a class the mapping allows. */
static void test_ocsf_classes(void **state)
{
    struct ola_format_opts o = {
        .leef_delim = '\t', .vendor = "V", .product = "P", .product_version = "1"};
    struct ola_buf raws = OLA_BUF_INIT, out = OLA_BUF_INIT;
    struct ola_batch b;
    size_t i;

    (void)state;
    ola_batch_init(&b);
    assert_int_equal(ola_buf_reserve(&raws, 1 << 16), 0);
    ola_load_records(&b, &raws);
    for (i = 0; i < b.n; i++) {
        json_t *j;
        long long cls;

        ola_buf_reset(&out);
        assert_int_equal(ola_format_event(ola_format_find("ocsf"), &b.ev[i], &o, &out),
                         0);
        j = json_loadb(out.data, out.len, 0, NULL);
        assert_non_null(j);
        cls = json_integer_value(json_object_get(j, "class_uid"));
        assert_true(cls == 3001 || cls == 3002 || cls == 3004 || cls == 2004);
        assert_int_equal(json_integer_value(json_object_get(j, "type_uid")),
                         cls * 100 +
                             json_integer_value(json_object_get(j, "activity_id")));
        json_decref(j);
    }
    ola_buf_free(&out);
    ola_batch_free(&b);
    ola_buf_free(&raws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),     cmocka_unit_test(test_cef),
        cmocka_unit_test(test_leef_tab), cmocka_unit_test(test_leef_caret),
        cmocka_unit_test(test_ocsf),     cmocka_unit_test(test_ocsf_classes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
