/*
 * test_formats.c - golden-file tests of the record formats.
 *
 * tests/data/formats/records.ndjson holds real-shaped records, one a line:
 * {"kind", "severity", "olagent", "event"}: events in every category and in
 * none, an unknown type, null fields, unicode, characters CEF and LEEF must
 * escape, olsim-rendered events with all 35 fields, and alerts of both kinds
 * shaped as rules.c makes them. The olagent objects are what classification
 * and the rules attach (event_type, tags, severity). Each
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

#include "agent/core/fileio.h"
#include "agent/core/timeutil.h"
#include "outputs/formats/format.h"

/* path's whole text (a new string), or NULL: fixtures are far below 16 MiB. */
static char *read_text(const char *path, size_t *len)
{
    char *p = NULL;

    return ola_read_file(path, (size_t)16 << 20, &p, len) == 0 ? p : NULL;
}

static void ola_path(char *buf, size_t n, const char *name)
{
    const char *dir = getenv("OLA_DATA_DIR");
    int w = snprintf(buf, n, "%s/formats/%s", dir ? dir : "tests/data", name);

    assert_true(w > 0 && (size_t)w < n);
}

/*
 * Loads the records into b: raw bytes are the event re-dumped compactly, as a
 * page holds them; alerts have none (rules.c gives them an empty event and
 * everything under olagent). raws must not move: size it first.
 */
static void ola_load_records(struct ola_batch *b, struct ola_buf *raws)
{
    char path[4096], *text, *line, *nl;
    size_t len;

    ola_path(path, sizeof(path), "records.ndjson");
    text = read_text(path, &len);
    assert_non_null(text);
    for (line = text; line < text + len; line = nl + 1) {
        json_error_t jerr;
        json_t *r, *ev;
        const char *kind, *created;
        struct ola_event *e;
        bool alert;
        char *dump;
        size_t off = raws->len, n;

        nl = memchr(line, '\n', (size_t)(text + len - line));
        if (nl == NULL)
            nl = text + len;
        if (nl == line)
            continue;
        r = json_loadb(line, (size_t)(nl - line), 0, &jerr);
        if (r == NULL)
            fail_msg("records.ndjson: %s", jerr.text);
        ev = json_object_get(r, "event");
        kind = json_string_value(json_object_get(r, "kind"));
        alert = kind != NULL && strcmp(kind, "alert") == 0;
        dump = json_dumps(ev, JSON_COMPACT);
        assert_non_null(dump);
        n = strlen(dump);
        assert_int_equal(ola_buf_append(raws, dump, n), 0);
        free(dump);
        e = ola_batch_add(b, alert ? OLA_REC_ALERT : OLA_REC_EVENT, json_incref(ev),
                          alert ? NULL : raws->data + off, alert ? 0 : n);
        assert_non_null(e);
        e->id = json_integer_value(json_object_get(ev, "id"));
        created = json_string_value(json_object_get(alert ? r : ev, "created_at"));
        if (created != NULL)
            assert_int_equal(ola_time_parse_iso(created, &e->created_ms), 0);
        e->severity = (int)json_integer_value(json_object_get(r, "severity"));
        if (json_object_get(r, "olagent") != NULL)
            e->ola = json_incref(json_object_get(r, "olagent"));
        json_decref(r);
    }
    free(text);
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
    assert_true(b.n >= 21);
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
    want = read_text(path, &want_len);
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
        assert_true(cls == 3001 || cls == 3002 || cls == 3004 || cls == 3005 ||
                    cls == 3006 || cls == 2004);
        assert_int_equal(json_integer_value(json_object_get(j, "type_uid")),
                         cls * 100 +
                             json_integer_value(json_object_get(j, "activity_id")));
        json_decref(j);
    }
    ola_buf_free(&out);
    ola_batch_free(&b);
    ola_buf_free(&raws);
}

/* No format writes a raw line break: one record is one line, whatever it holds. */
static void test_one_line_each(void **state)
{
    static const char *const names[] = {"json", "cef", "leef", "ocsf"};
    struct ola_format_opts o = {.leef_delim = '\t',
                                .vendor = "OneLogin",
                                .product = "OneLogin",
                                .product_version = "0.1.0"};
    struct ola_buf raws = OLA_BUF_INIT, out = OLA_BUF_INIT;
    struct ola_batch b;
    size_t i, k;

    (void)state;
    ola_batch_init(&b);
    assert_int_equal(ola_buf_reserve(&raws, 1 << 16), 0);
    ola_load_records(&b, &raws);
    for (k = 0; k < 4; k++)
        for (i = 0; i < b.n; i++) {
            ola_buf_reset(&out);
            assert_int_equal(
                ola_format_event(ola_format_find(names[k]), &b.ev[i], &o, &out), 0);
            assert_true(out.len > 0);
            if (memchr(out.data, '\n', out.len) != NULL ||
                memchr(out.data, '\r', out.len) != NULL)
                fail_msg("%s: record %zu holds a line break", names[k], i);
        }
    ola_buf_free(&out);
    ola_batch_free(&b);
    ola_buf_free(&raws);
}

static struct ola_event ola_one(json_t *ev, json_t *ola, int severity)
{
    struct ola_event e;

    memset(&e, 0, sizeof(e));
    e.kind = OLA_REC_EVENT;
    e.ev = ev;
    e.ola = ola;
    e.id = json_integer_value(json_object_get(ev, "id"));
    e.created_ms = 1659956400000LL;
    e.severity = severity;
    return e;
}

/* Header fields escape '\' and '|'; extension values escape '\' and '='. */
static void test_cef_escaping(void **state)
{
    struct ola_format_opts o = {
        .vendor = "Ven|dor\\", .product = "Multi\nLine", .product_version = "1.0"};
    json_t *ev =
        json_pack("{s:i,s:i,s:s,s:s,s:s}", "id", 9, "event_type_id", 6, "user_name",
                  "a=b\\c d", "notes", "x\r\ny|z", "ipaddr", "not an address");
    json_t *ola = json_pack("{s:{s:i,s:s,s:[s]},s:[s,s]}", "event_type", "id", 6, "name",
                            "USER|FAILED", "categories", "login_failure", "tags",
                            "login_failure", "a,b=c");
    struct ola_event e = ola_one(ev, ola, 11);
    struct ola_buf out = OLA_BUF_INIT;

    (void)state;
    assert_int_equal(ola_format_event(ola_format_find("cef"), &e, &o, &out), 0);
    assert_string_equal(
        out.data, "CEF:0|Ven\\|dor\\\\|Multi Line|1.0|6|USER\\|FAILED|0|"
                  "rt=1659956400000 externalId=9 cat=login_failure act=USER|FAILED "
                  "outcome=failure duser=a\\=b\\\\c d flexString1=not an address "
                  "flexString1Label=ipaddr msg=x\\r\\ny|z cs6=login_failure,a,b\\=c "
                  "cs6Label=Tags");
    ola_buf_free(&out);
    json_decref(ev);
    json_decref(ola);
}

/* The delimiter is named in the header (printable: itself, else xHH) and escaped. */
static void test_leef_delimiters(void **state)
{
    static const struct {
        char delim;
        const char *want;
    } cases[] = {
        {'\t',
         "LEEF:2.0|V|P|1|USER_LOCKED|x09|cat=lockout\tdevTime=2022-08-08T11:00:00.000Z"
         "\tdevTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX\tusrName=a^b\\\tc\\\\d"},
        {'^', "LEEF:2.0|V|P|1|USER_LOCKED|^|cat=lockout^devTime=2022-08-08T11:00:00.000Z"
              "^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX^usrName=a\\^b\tc\\\\d"},
        {'|',
         "LEEF:2.0|V|P|1|USER_LOCKED|x7C|cat=lockout|devTime=2022-08-08T11:00:00.000Z"
         "|devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX|usrName=a^b\tc\\\\d"},
    };
    json_t *ev = json_pack("{s:i,s:s}", "event_type_id", 19, "user_name", "a^b\tc\\d");
    json_t *ola = json_pack("{s:{s:i,s:s,s:[s]}}", "event_type", "id", 19, "name",
                            "USER_LOCKED", "categories", "lockout");
    struct ola_event e = ola_one(ev, ola, -1);
    struct ola_buf out = OLA_BUF_INIT;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ola_format_opts o = {.leef_delim = cases[i].delim,
                                    .vendor = "V",
                                    .product = "P",
                                    .product_version = "1"};
        const char *want = cases[i].want;

        ola_buf_reset(&out);
        assert_int_equal(ola_format_event(ola_format_find("leef"), &e, &o, &out), 0);
        /* the attributes after usrName are the event's fields: compare the start */
        if (out.len < strlen(want) || memcmp(out.data, want, strlen(want)) != 0)
            fail_msg("delimiter 0x%02x:\n got %s\nwant %s", (unsigned char)cases[i].delim,
                     out.data, want);
    }
    ola_buf_free(&out);
    json_decref(ev);
    json_decref(ola);
}

/* format_options from YAML: cef_labels rename cs1..cn3; unknown labels are errors. */
static void test_cef_labels_option(void **state)
{
    static const char yaml[] = "type: stdout\nformat: cef\nformat_options:\n"
                               "  vendor: Acme\n  cef_labels: {cs1: Application, "
                               "cn1: Risk}\n";
    static const char bad[] = "type: stdout\nformat_options:\n  cef_labels: {cs7: x}\n";
    struct ola_cfg_doc *doc = NULL;
    struct ola_format_opts o;
    struct ola_err err = {0};
    json_t *ev = json_pack("{s:i,s:s,s:i}", "event_type_id", 8, "app_name", "Zoom",
                           "risk_score", 48);
    struct ola_event e = ola_one(ev, NULL, -1);
    struct ola_buf out = OLA_BUF_INIT;

    (void)state;
    assert_int_equal(ola_cfg_load_string("t.yaml", yaml, strlen(yaml), &doc, &err), 0);
    memset(&o, 0, sizeof(o));
    assert_int_equal(ola_format_opts_load(ola_cfg_root(doc), &o, &err), 0);
    assert_int_equal(ola_format_event(ola_format_find("cef"), &e, &o, &out), 0);
    assert_non_null(strstr(out.data, "CEF:0|Acme|"));
    assert_non_null(strstr(out.data, " cs1=Zoom cs1Label=Application "));
    assert_non_null(strstr(out.data, " cn1=48 cn1Label=Risk"));
    ola_cfg_doc_destroy(doc);
    doc = NULL;
    assert_int_equal(ola_cfg_load_string("t.yaml", bad, strlen(bad), &doc, &err), 0);
    assert_int_equal(ola_format_opts_load(ola_cfg_root(doc), &o, &err), -1);
    assert_non_null(strstr(err.msg, "cs7"));
    ola_cfg_doc_destroy(doc);
    ola_buf_free(&out);
    json_decref(ev);
}

/*
 * leef_delimiter from YAML: one printable character other than '=' and '\', a tab
 * ("tab", "\t" or a real one) or a hex code of one (x5E, 0x5E, \x5E). CR, LF, '=',
 * '\' and the rest would break LEEF framing: refused at load with file:line.
 */
static void test_leef_delimiter_option(void **state)
{
    static const struct {
        const char *yaml; /* the value as written in the YAML file */
        char want;        /* 0: refused */
    } cases[] = {
        {"'^'", '^'},      {"'|'", '|'},      {"tab", '\t'},      {"'\\t'", '\t'},
        {"\"\\t\"", '\t'}, {"x5E", '^'},      {"0x5e", '^'},      {"'\\x5E'", '^'},
        {"'\\x09'", '\t'}, {"x7C", '|'},      {"'~'", '~'},       {"\"\\n\"", 0},
        {"\"\\r\"", 0},    {"'='", 0},        {"x3D", 0},         {"'\\x3d'", 0},
        {"x0A", 0},        {"'\\x0d'", 0},    {"0x0a", 0},        {"'\\'", 0},
        {"x5C", 0},        {"' '", 0},        {"x20", 0},         {"x7F", 0},
        {"'\\x'", 0},      {"'\\x5'", 0},     {"x", 'x'},         {"x5E5E", 0},
        {"'\\x5G'", 0},    {"'ab'", 0},       {"\"\\u00e9\"", 0}, {"x-5", 0},
        {"' x5E'", 0},     {"'\\x0005E'", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[256];
        struct ola_cfg_doc *doc = NULL;
        struct ola_format_opts o;
        struct ola_err err = {0};
        int rc;

        snprintf(yaml, sizeof(yaml),
                 "type: stdout\nformat: leef\nformat_options:\n  leef_delimiter: %s\n",
                 cases[i].yaml);
        assert_int_equal(ola_cfg_load_string("t.yaml", yaml, strlen(yaml), &doc, &err),
                         0);
        rc = ola_format_opts_load(ola_cfg_root(doc), &o, &err);
        if (cases[i].want != 0) {
            if (rc != 0 || o.leef_delim != cases[i].want)
                fail_msg("%s: rc %d, delimiter 0x%02x, want 0x%02x (%s)", cases[i].yaml,
                         rc, (unsigned char)o.leef_delim, (unsigned char)cases[i].want,
                         err.msg);
        } else {
            if (rc != -1)
                fail_msg("%s: accepted as 0x%02x", cases[i].yaml,
                         (unsigned char)o.leef_delim);
            if (strncmp(err.msg, "t.yaml:4: ", 10) != 0 ||
                strstr(err.msg, "leef_delimiter") == NULL)
                fail_msg("%s: error without file:line and key: %s", cases[i].yaml,
                         err.msg);
            if (strchr(err.msg, '\n') != NULL || strchr(err.msg, '\r') != NULL)
                fail_msg("%s: the error holds a line break: %s", cases[i].yaml, err.msg);
        }
        ola_cfg_doc_destroy(doc);
    }
}

/* A record that is not an object is refused as unusable (not as out of memory: the
 * output dead-letters it), and the buffer is left as it was. */
static void test_unusable_record(void **state)
{
    static const char *const names[] = {"json", "cef", "leef", "ocsf"};
    struct ola_format_opts o = {.vendor = "V", .product = "P", .product_version = "1"};
    json_t *ev = json_string("not an object");
    struct ola_event e = ola_one(ev, NULL, -1);
    struct ola_buf out = OLA_BUF_INIT;
    size_t k;

    (void)state;
    assert_int_equal(ola_buf_puts(&out, "kept"), 0);
    for (k = 0; k < 4; k++) {
        assert_int_equal(ola_format_event(ola_format_find(names[k]), &e, &o, &out),
                         OLA_FORMAT_UNUSABLE);
        assert_int_equal(out.len, 4);
        assert_string_equal(out.data, "kept");
    }
    ola_buf_free(&out);
    json_decref(ev);
}

/*
 * The pipeline reaches a format's kept state only through the registry: the
 * json format's memo has both hooks, the pure formats none, and the wrappers
 * call what is there (twice, with nothing kept: harmless).
 */
static void test_state_hooks(void **state)
{
    const struct ola_format_ops *const *f;

    (void)state;
    assert_non_null(ola_format_json.batch_done);
    assert_non_null(ola_format_json.release);
    for (f = ola_format_list(); *f != NULL; f++)
        if (*f != &ola_format_json) {
            assert_null((*f)->batch_done);
            assert_null((*f)->release);
        }
    ola_format_batch_done_all();
    ola_format_release_all();
    ola_format_release_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_cef),
        cmocka_unit_test(test_leef_tab),
        cmocka_unit_test(test_leef_caret),
        cmocka_unit_test(test_ocsf),
        cmocka_unit_test(test_ocsf_classes),
        cmocka_unit_test(test_one_line_each),
        cmocka_unit_test(test_cef_escaping),
        cmocka_unit_test(test_leef_delimiters),
        cmocka_unit_test(test_cef_labels_option),
        cmocka_unit_test(test_leef_delimiter_option),
        cmocka_unit_test(test_unusable_record),
        cmocka_unit_test(test_state_hooks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
