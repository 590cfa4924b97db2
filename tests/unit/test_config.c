/*
 * test_config.c - the YAML layer and the agent's settings.
 *
 * Documents are loaded from strings (name "t.yaml") or from real files in a
 * temporary directory; every error is checked to start with "name:LINE: ".
 * Log lines (secret-file and literal-secret warnings) go to a temporary file
 * that the tests read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/log.h"
#include "agent/settings.h"
#include "config/config.h"

#define NOW_MS INT64_C(1700000000000)

static char tmpdir[256];

static struct ola_cfg_doc *load(const char *text, struct ola_err *err)
{
    struct ola_cfg_doc *doc = NULL;

    ola_err_clear(err);
    if (ola_cfg_load_string("t.yaml", text, strlen(text), &doc, err) != 0)
        return NULL;
    return doc;
}

static struct ola_cfg_doc *load_ok(const char *text)
{
    struct ola_err err;
    struct ola_cfg_doc *doc = load(text, &err);

    if (doc == NULL)
        fail_msg("load failed: %s", err.msg);
    return doc;
}

/* Asserts msg starts with prefix ("t.yaml:7: ") and contains want. */
static void check_err(const struct ola_err *err, const char *prefix, const char *want)
{
    if (strncmp(err->msg, prefix, strlen(prefix)) != 0)
        fail_msg("error '%s' does not start with '%s'", err->msg, prefix);
    if (want != NULL && strstr(err->msg, want) == NULL)
        fail_msg("error '%s' does not contain '%s'", err->msg, want);
}

/* Loading must fail with prefix + want. */
static void load_fails(const char *text, const char *prefix, const char *want)
{
    struct ola_err err;
    struct ola_cfg_doc *doc = load(text, &err);

    if (doc != NULL)
        fail_msg("loaded but expected '%s%s'", prefix, want);
    check_err(&err, prefix, want);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *path_in_tmp(const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", tmpdir, name);

    assert_true(n > 0 && (size_t)n < size);
    return buf;
}

/* Reads a whole small file into a static buffer. */
static const char *slurp(FILE *f)
{
    static char buf[16384];
    size_t n;

    assert_int_equal(fflush(f), 0);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    return buf;
}

static int setup_all(void **state)
{
    const char *t = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof(tmpdir), "%s/ola-config-XXXXXX", t ? t : "/tmp");

    (void)state;
    if (n < 0 || (size_t)n >= sizeof(tmpdir) || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int teardown_all(void **state)
{
    char cmd[512];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);

    (void)state;
    if (n > 0 && (size_t)n < sizeof(cmd) && system(cmd) != 0)
        return -1;
    return 0;
}

/* ---- the tree ---------------------------------------------------------------- */

static void test_tree(void **state)
{
    struct ola_cfg_doc *doc = load_ok("# comment\n"
                                      "a:\n"
                                      "  b: hello\n"
                                      "  c: [1, 2]\n"
                                      "empty:\n"
                                      "tilde: ~\n"
                                      "quoted: \"null\"\n"
                                      "list:\n"
                                      "  - x: 1\n"
                                      "  - y\n");
    const struct ola_cfg *root = ola_cfg_root(doc), *a, *c, *list;

    (void)state;
    assert_int_equal(ola_cfg_type(root), OLA_CFG_MAP);
    assert_int_equal(ola_cfg_len(root), 5);
    assert_string_equal(ola_cfg_key_at(root, 0), "a");
    assert_int_equal(ola_cfg_key_line(root, 0), 2);
    a = ola_cfg_get(root, "a");
    assert_int_equal(ola_cfg_type(a), OLA_CFG_MAP);
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(a, "b")), "hello");
    assert_int_equal(ola_cfg_line(ola_cfg_get(a, "b")), 3);
    assert_string_equal(ola_cfg_path(ola_cfg_get(a, "b")), "a.b");
    assert_string_equal(ola_cfg_file(ola_cfg_get(a, "b")), "t.yaml");
    c = ola_cfg_get(a, "c");
    assert_int_equal(ola_cfg_type(c), OLA_CFG_SEQ);
    assert_int_equal(ola_cfg_len(c), 2);
    assert_string_equal(ola_cfg_scalar(ola_cfg_at(c, 1)), "2");
    assert_string_equal(ola_cfg_path(ola_cfg_at(c, 1)), "a.c[1]");
    assert_null(ola_cfg_at(c, 2));
    assert_null(ola_cfg_key_at(c, 0));
    assert_int_equal(ola_cfg_type(ola_cfg_get(root, "empty")), OLA_CFG_NULL);
    assert_non_null(ola_cfg_get(root, "empty"));
    assert_int_equal(ola_cfg_type(ola_cfg_get(root, "tilde")), OLA_CFG_NULL);
    assert_int_equal(ola_cfg_type(ola_cfg_get(root, "quoted")), OLA_CFG_SCALAR);
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(root, "quoted")), "null");
    list = ola_cfg_get(root, "list");
    assert_int_equal(ola_cfg_line(ola_cfg_at(list, 0)), 9);
    assert_string_equal(ola_cfg_path(ola_cfg_get(ola_cfg_at(list, 0), "x")), "list[0].x");
    assert_null(ola_cfg_get(root, "missing"));
    assert_null(ola_cfg_get(NULL, "a"));
    assert_null(ola_cfg_get(c, "a"));
    assert_null(ola_cfg_scalar(a));
    assert_false(ola_cfg_is_secret(ola_cfg_get(a, "b")));
    assert_int_equal(ola_cfg_type(NULL), OLA_CFG_NULL);
    assert_int_equal(ola_cfg_len(ola_cfg_get(a, "b")), 0);
    ola_cfg_doc_destroy(doc);
    ola_cfg_doc_destroy(NULL);

    doc = load_ok("");
    assert_int_equal(ola_cfg_type(ola_cfg_root(doc)), OLA_CFG_NULL);
    ola_cfg_doc_destroy(doc);
}

static void test_yaml_rejections(void **state)
{
    (void)state;
    load_fails("a: 1\nb: [1, 2\nc: 3\n", "t.yaml:", "YAML syntax error");
    load_fails("a: 1\nb:\n  c: 1\n d: 2\n", "t.yaml:4: ", "YAML syntax error");
    load_fails("a: 1\n\tb: 2\n", "t.yaml:2: ", "YAML syntax error");
    load_fails("a: 1\nb: 2\na: 3\n", "t.yaml:3: ", "duplicate key 'a' (first at line 1)");
    load_fails("x:\n  y: 1\n  y: 2\n", "t.yaml:3: ", "duplicate key 'x.y'");
    load_fails("a: &anc 1\nb: 2\n", "t.yaml:1: ", "anchors (&anc) are not supported");
    load_fails("a: 1\nb: *anc\n", "t.yaml:2: ", "b: aliases (*anc) are not supported");
    load_fails("base: &b {x: 1}\n", "t.yaml:1: ", "anchors");
    load_fails("a:\n  <<: {x: 1}\n", "t.yaml:2: ", "merge keys (<<) are not supported");
    load_fails("a: 1\n---\nb: 2\n", "t.yaml:2: ", "second YAML document");
    load_fails("? [a, b]\n: 1\n", "t.yaml:1: ", "map key must be a plain string");
    load_fails("a: \"x\\0y\"\n", "t.yaml:1: ", "NUL byte");
}

/* ---- typed readers ------------------------------------------------------------- */

static const char *const reader_doc = "r:\n"
                                      "  s: text\n"                   /* 2 */
                                      "  m: {k: v}\n"                 /* 3 */
                                      "  i: 42\n"                     /* 4 */
                                      "  neg: -7\n"                   /* 5 */
                                      "  ten: ten\n"                  /* 6 */
                                      "  big: 99999999999999999999\n" /* 7 */
                                      "  d: 2.5\n"                    /* 8 */
                                      "  b1: yes\n"                   /* 9 */
                                      "  b2: Off\n"                   /* 10 */
                                      "  b3: maybe\n"                 /* 11 */
                                      "  n:\n"                        /* 12 */
                                      "  dur: 1h30m\n"                /* 13 */
                                      "  badd: 10x\n"                 /* 14 */
                                      "  float: 1.5\n"                /* 15 */
                                      "  l: [1]\n";                   /* 16 */

static void test_reader_str(void **state)
{
    struct ola_cfg_doc *doc = load_ok(reader_doc);
    const struct ola_cfg *r = ola_cfg_get(ola_cfg_root(doc), "r");
    struct ola_err err;
    const char *s = NULL;

    (void)state;
    assert_int_equal(ola_cfg_str(r, "s", "def", &s, &err), 0);
    assert_string_equal(s, "text");
    assert_int_equal(ola_cfg_str(r, "absent", "def", &s, &err), 0);
    assert_string_equal(s, "def");
    assert_int_equal(ola_cfg_str(r, "n", "def", &s, &err), 0);
    assert_string_equal(s, "def");
    assert_int_equal(ola_cfg_str(NULL, "s", NULL, &s, &err), 0);
    assert_null(s);
    assert_int_equal(ola_cfg_str(r, "m", "def", &s, &err), -1);
    check_err(&err, "t.yaml:3: ", "r.m: expected a string, got a map");
    assert_int_equal(ola_cfg_str(r, "l", "def", &s, &err), -1);
    check_err(&err, "t.yaml:16: ", "r.l: expected a string, got a list");
    ola_cfg_doc_destroy(doc);
}

static void test_reader_int(void **state)
{
    struct ola_cfg_doc *doc = load_ok(reader_doc);
    const struct ola_cfg *r = ola_cfg_get(ola_cfg_root(doc), "r");
    struct ola_err err;
    long long v = 0;

    (void)state;
    assert_int_equal(ola_cfg_int(r, "i", 1, 0, 100, &v, &err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(ola_cfg_int(r, "neg", 1, -10, 100, &v, &err), 0);
    assert_int_equal(v, -7);
    assert_int_equal(ola_cfg_int(r, "absent", 5, 0, 100, &v, &err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(ola_cfg_int(r, "n", 6, 0, 100, &v, &err), 0);
    assert_int_equal(v, 6);
    assert_int_equal(ola_cfg_int(r, "ten", 1, 0, 100, &v, &err), -1);
    check_err(&err, "t.yaml:6: ", "r.ten: expected an integer, got 'ten'");
    assert_int_equal(ola_cfg_int(r, "float", 1, 0, 100, &v, &err), -1);
    check_err(&err, "t.yaml:15: ", "expected an integer, got '1.5'");
    assert_int_equal(ola_cfg_int(r, "i", 1, 0, 10, &v, &err), -1);
    check_err(&err, "t.yaml:4: ", "r.i: must be between 0 and 10, got '42'");
    assert_int_equal(ola_cfg_int(r, "neg", 1, 0, 10, &v, &err), -1);
    check_err(&err, "t.yaml:5: ", "must be between 0 and 10");
    assert_int_equal(ola_cfg_int(r, "big", 1, 0, 10, &v, &err), -1);
    check_err(&err, "t.yaml:7: ", "must be between");
    assert_int_equal(ola_cfg_int(r, "m", 1, 0, 10, &v, &err), -1);
    check_err(&err, "t.yaml:3: ", "r.m: expected an integer, got a map");
    ola_cfg_doc_destroy(doc);
}

static void test_reader_double_bool(void **state)
{
    struct ola_cfg_doc *doc = load_ok(reader_doc);
    const struct ola_cfg *r = ola_cfg_get(ola_cfg_root(doc), "r");
    struct ola_err err;
    double d = 0;
    bool b = false;

    (void)state;
    assert_int_equal(ola_cfg_double(r, "d", 1.0, &d, &err), 0);
    assert_true(d == 2.5);
    assert_int_equal(ola_cfg_double(r, "absent", 1.25, &d, &err), 0);
    assert_true(d == 1.25);
    assert_int_equal(ola_cfg_double(r, "ten", 1.0, &d, &err), -1);
    check_err(&err, "t.yaml:6: ", "r.ten: expected a number, got 'ten'");
    assert_int_equal(ola_cfg_double(r, "l", 1.0, &d, &err), -1);
    check_err(&err, "t.yaml:16: ", "got a list");

    assert_int_equal(ola_cfg_bool(r, "b1", false, &b, &err), 0);
    assert_true(b);
    assert_int_equal(ola_cfg_bool(r, "b2", true, &b, &err), 0);
    assert_false(b);
    assert_int_equal(ola_cfg_bool(r, "absent", true, &b, &err), 0);
    assert_true(b);
    assert_int_equal(ola_cfg_bool(r, "n", false, &b, &err), 0);
    assert_false(b);
    assert_int_equal(ola_cfg_bool(r, "b3", false, &b, &err), -1);
    check_err(&err, "t.yaml:11: ", "r.b3: expected true or false, got 'maybe'");
    assert_int_equal(ola_cfg_bool(r, "i", false, &b, &err), -1);
    check_err(&err, "t.yaml:4: ", "got '42'");
    ola_cfg_doc_destroy(doc);

    doc = load_ok("a: [true, FALSE, on, no, Yes, off]\n");
    {
        static const bool want[] = {true, false, true, false, true, false};
        const struct ola_cfg *a = ola_cfg_get(ola_cfg_root(doc), "a");
        size_t i;

        for (i = 0; i < ola_cfg_len(a); i++) {
            char yaml[64];
            struct ola_cfg_doc *one;

            snprintf(yaml, sizeof(yaml), "v: %s\n", ola_cfg_scalar(ola_cfg_at(a, i)));
            one = load_ok(yaml);
            assert_int_equal(ola_cfg_bool(ola_cfg_root(one), "v", !want[i], &b, &err), 0);
            assert_int_equal(b, want[i]);
            ola_cfg_doc_destroy(one);
        }
    }
    ola_cfg_doc_destroy(doc);
}

/* A duration past 36500d says "too large", not "bad duration". */
static void test_reader_duration_too_large(void **state)
{
    struct ola_cfg_doc *doc = load_ok("d: 9999999999999999h\nok: 36500d\n");
    const struct ola_cfg *r = ola_cfg_root(doc);
    struct ola_err err;
    int64_t v;

    (void)state;
    assert_int_equal(ola_cfg_duration(r, "d", 0, 0, INT64_MAX, &v, &err), -1);
    check_err(&err, "t.yaml:1: ", "d: duration '9999999999999999h' is too large");
    assert_int_equal(ola_cfg_duration(r, "ok", 0, 0, INT64_MAX, &v, &err), 0);
    assert_int_equal(v, INT64_C(36500) * 86400000);
    ola_cfg_doc_destroy(doc);
}

static void test_reader_duration(void **state)
{
    struct ola_cfg_doc *doc = load_ok(reader_doc);
    const struct ola_cfg *r = ola_cfg_get(ola_cfg_root(doc), "r");
    struct ola_err err;
    int64_t v = 0;

    (void)state;
    assert_int_equal(ola_cfg_duration(r, "dur", 0, 0, INT64_MAX, &v, &err), 0);
    assert_int_equal(v, 5400000);
    assert_int_equal(ola_cfg_duration(r, "i", 0, 0, INT64_MAX, &v, &err), 0);
    assert_int_equal(v, 42000); /* a bare number means seconds */
    assert_int_equal(ola_cfg_duration(r, "absent", 1234, 0, 10, &v, &err), 0);
    assert_int_equal(v, 1234);
    assert_int_equal(ola_cfg_duration(r, "badd", 0, 0, INT64_MAX, &v, &err), -1);
    check_err(&err, "t.yaml:14: ", "r.badd: bad duration '10x' (use ms, s, m, h, d)");
    assert_int_equal(ola_cfg_duration(r, "dur", 0, 1000, 3600000, &v, &err), -1);
    check_err(&err, "t.yaml:13: ", "r.dur: must be between 1s and 1h, got '1h30m'");
    assert_int_equal(ola_cfg_duration(r, "i", 0, 3600000, INT64_MAX, &v, &err), -1);
    check_err(&err, "t.yaml:4: ", "must be at least 1h");
    assert_int_equal(ola_cfg_duration(r, "neg", 0, 0, INT64_MAX, &v, &err), -1);
    check_err(&err, "t.yaml:5: ", "bad duration '-7'");
    assert_int_equal(ola_cfg_duration(r, "m", 0, 0, INT64_MAX, &v, &err), -1);
    check_err(&err, "t.yaml:3: ", "expected a duration, got a map");
    ola_cfg_doc_destroy(doc);
}

static void test_reader_size(void **state)
{
    static const struct {
        const char *text;
        uint64_t want;
    } good[] = {
        {"2048", 2048},
        {"0", 0},
        {"10B", 10},
        {"64KiB", 65536},
        {"64kib", 65536},
        {"10MB", 10000000},
        {"10 mb", 10000000},
        {"1GiB", UINT64_C(1073741824)},
        {"2GB", UINT64_C(2000000000)},
        {"3MiB", UINT64_C(3145728)},
        {"1KB", 1000},
    };
    static const char *const bad[] = {"10XB", "-1", "KiB", "1.5GiB", "ten", " 5"};
    struct ola_err err;
    uint64_t v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char yaml[64];
        struct ola_cfg_doc *doc;

        snprintf(yaml, sizeof(yaml), "x: 1\nv: \"%s\"\n", good[i].text);
        doc = load_ok(yaml);
        v = 7;
        if (ola_cfg_size(ola_cfg_root(doc), "v", 1, &v, &err) != 0)
            fail_msg("%s: %s", good[i].text, err.msg);
        assert_int_equal(v, good[i].want);
        ola_cfg_doc_destroy(doc);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char yaml[64];
        struct ola_cfg_doc *doc;

        snprintf(yaml, sizeof(yaml), "x: 1\nv: \"%s\"\n", bad[i]);
        doc = load_ok(yaml);
        assert_int_equal(ola_cfg_size(ola_cfg_root(doc), "v", 1, &v, &err), -1);
        check_err(&err, "t.yaml:2: ", "v: bad size");
        check_err(&err, "t.yaml:2: ", "(use bytes, KB, MB, GB, KiB, MiB, GiB)");
        ola_cfg_doc_destroy(doc);
    }
    {
        struct ola_cfg_doc *doc =
            load_ok("v: 99999999999GiB\nw: 99999999999999999999999\n");

        assert_int_equal(ola_cfg_size(ola_cfg_root(doc), "v", 1, &v, &err), -1);
        check_err(&err, "t.yaml:1: ", "too large");
        assert_int_equal(ola_cfg_size(ola_cfg_root(doc), "w", 1, &v, &err), -1);
        check_err(&err, "t.yaml:2: ", "too large");
        assert_int_equal(ola_cfg_size(ola_cfg_root(doc), "absent", 77, &v, &err), 0);
        assert_int_equal(v, 77);
        ola_cfg_doc_destroy(doc);
    }
}

static void test_reader_percent_enum(void **state)
{
    struct ola_cfg_doc *doc = load_ok("p1: 20%\n"
                                      "p2: 0.2\n"
                                      "p3: 150%\n"
                                      "p4: 2\n"
                                      "p5: lots\n"
                                      "e1: json\n"
                                      "e2: jsno\n"
                                      "e3: xml\n");
    const struct ola_cfg *r = ola_cfg_root(doc);
    static const char *const names[] = {"text", "json", NULL};
    struct ola_err err;
    double p = 0;
    int e = -1;

    (void)state;
    assert_int_equal(ola_cfg_percent(r, "p1", 0.5, &p, &err), 0);
    assert_true(p > 0.1999 && p < 0.2001);
    assert_int_equal(ola_cfg_percent(r, "p2", 0.5, &p, &err), 0);
    assert_true(p > 0.1999 && p < 0.2001);
    assert_int_equal(ola_cfg_percent(r, "absent", 0.5, &p, &err), 0);
    assert_true(p == 0.5);
    assert_int_equal(ola_cfg_percent(r, "p3", 0.5, &p, &err), -1);
    check_err(&err, "t.yaml:3: ", "p3: must be between 0% and 100%");
    assert_int_equal(ola_cfg_percent(r, "p4", 0.5, &p, &err), -1);
    check_err(&err, "t.yaml:4: ", "must be between");
    assert_int_equal(ola_cfg_percent(r, "p5", 0.5, &p, &err), -1);
    check_err(&err,
              "t.yaml:5: ", "p5: expected a percentage like 20% or 0.2, got 'lots'");

    assert_int_equal(ola_cfg_enum(r, "e1", names, 0, &e, &err), 0);
    assert_int_equal(e, 1);
    assert_int_equal(ola_cfg_enum(r, "absent", names, 0, &e, &err), 0);
    assert_int_equal(e, 0);
    assert_int_equal(ola_cfg_enum(r, "e2", names, 0, &e, &err), -1);
    check_err(&err, "t.yaml:7: ", "e2: unknown value 'jsno'; did you mean 'json'?");
    assert_int_equal(ola_cfg_enum(r, "e3", names, 0, &e, &err), -1);
    check_err(&err, "t.yaml:8: ", "e3: unknown value 'xml' (one of text, json)");
    ola_cfg_doc_destroy(doc);
}

static void test_check_keys_and_errf(void **state)
{
    struct ola_cfg_doc *doc = load_ok("top:\n  alpha: 1\n  betta: 2\n  zzz: 3\n");
    const struct ola_cfg *top = ola_cfg_get(ola_cfg_root(doc), "top");
    static const char *const ok1[] = {"alpha", "beta", "zzz", NULL};
    static const char *const ok2[] = {"alpha", "beta", "betta", NULL};
    static const char *const ok3[] = {"alpha", "beta", "betta", "zzz", NULL};
    struct ola_err err;

    (void)state;
    assert_int_equal(ola_cfg_check_keys(top, ok1, &err), -1);
    check_err(&err, "t.yaml:3: ", "unknown key 'top.betta'; did you mean 'beta'?");
    assert_int_equal(ola_cfg_check_keys(top, ok2, &err), -1);
    check_err(&err, "t.yaml:4: ", "unknown key 'top.zzz'");
    assert_null(strstr(err.msg, "did you mean"));
    assert_int_equal(ola_cfg_check_keys(top, ok3, &err), 0);
    assert_int_equal(ola_cfg_check_keys(NULL, ok3, &err), 0);
    assert_int_equal(ola_cfg_check_keys(ola_cfg_get(top, "alpha"), ok3, &err), -1);
    check_err(&err, "t.yaml:2: ", "top.alpha: expected a map");
    assert_int_equal(ola_cfg_errf(&err, ola_cfg_get(top, "zzz"), "custom %d", 5), -1);
    assert_string_equal(err.msg, "t.yaml:4: custom 5");
    ola_cfg_doc_destroy(doc);
}

/* ---- environment ----------------------------------------------------------------- */

static void test_env_substitution(void **state)
{
    struct ola_cfg_doc *doc;
    const struct ola_cfg *r;

    (void)state;
    assert_int_equal(setenv("OLA_T_HOST", "kafka1", 1), 0);
    assert_int_equal(setenv("OLA_T_EMPTY", "", 1), 0);
    assert_int_equal(unsetenv("OLA_T_UNSET"), 0);
    doc = load_ok("a: ${OLA_T_HOST}:9092\n"
                  "b: pre-${OLA_T_UNSET:-dflt}-post\n"
                  "c: ${OLA_T_EMPTY:-was_empty}\n"
                  "d: cost $$5 and $x and $\n"
                  "e: \"${OLA_T_HOST},${OLA_T_HOST}\"\n"
                  "f: plain\n"
                  "g: ${OLA_T_EMPTY}\n"
                  "h: ${OLA_T_UNSET:-}\n");
    r = ola_cfg_root(doc);
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(r, "a")), "kafka1:9092");
    assert_true(ola_cfg_is_secret(ola_cfg_get(r, "a")));
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(r, "b")), "pre-dflt-post");
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(r, "c")), "was_empty");
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(r, "d")), "cost $5 and $x and $");
    assert_false(ola_cfg_is_secret(ola_cfg_get(r, "d")));
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(r, "e")), "kafka1,kafka1");
    assert_false(ola_cfg_is_secret(ola_cfg_get(r, "f")));
    assert_int_equal(ola_cfg_type(ola_cfg_get(r, "g")), OLA_CFG_SCALAR);
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(r, "g")), "");
    assert_string_equal(ola_cfg_scalar(ola_cfg_get(r, "h")), "");
    ola_cfg_doc_destroy(doc);

    load_fails("onelogin:\n  client_id: x\n\n  client_secret: ${OLA_T_UNSET}\n",
               "t.yaml:4: ",
               "onelogin.client_secret: environment variable OLA_T_UNSET is not set");
    load_fails("list:\n  - ok\n  - a${OLA_T_UNSET}b\n",
               "t.yaml:3: ", "list[1]: environment variable OLA_T_UNSET is not set");
    load_fails("a: ${OLA_T_HOST\n", "t.yaml:1: ", "a: unterminated '${'");
    load_fails("a: ${1BAD}\n", "t.yaml:1: ", "a: bad variable reference '${1BAD}'");
    load_fails("a: ${A-b}\n", "t.yaml:1: ", "bad variable reference");
    load_fails("a: ${}\n", "t.yaml:1: ", "bad variable reference");
}

/* A value from the environment is never echoed in an error message. */
static void test_env_value_not_echoed(void **state)
{
    struct ola_cfg_doc *doc;
    struct ola_err err;
    long long v;

    (void)state;
    assert_int_equal(setenv("OLA_T_SECRETISH", "hunter2", 1), 0);
    doc = load_ok("n: ${OLA_T_SECRETISH}\n");
    assert_int_equal(ola_cfg_int(ola_cfg_root(doc), "n", 0, 0, 10, &v, &err), -1);
    check_err(&err, "t.yaml:1: ", "n: expected an integer");
    assert_null(strstr(err.msg, "hunter2"));
    ola_cfg_doc_destroy(doc);
}

/* ---- secrets ------------------------------------------------------------------------
 */

static void test_secret(void **state)
{
    char good[512], loose[512], empty[512], yaml[4096], logpath[512];
    struct ola_cfg_doc *doc;
    struct ola_err err;
    const char *s = NULL;
    FILE *log;

    (void)state;
    path_in_tmp("secret-good", good, sizeof(good));
    path_in_tmp("secret-loose", loose, sizeof(loose));
    path_in_tmp("secret-empty", empty, sizeof(empty));
    write_file(good, "s3cr3t-from-file\n", 0600);
    write_file(loose, "loose-s3cr3t\r\n\n", 0644);
    write_file(empty, "", 0600);
    log = fopen(path_in_tmp("secret.log", logpath, sizeof(logpath)), "w+");
    assert_non_null(log);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, log);

    snprintf(yaml, sizeof(yaml),
             "lit:\n  client_secret: literal\n"
             "file:\n  client_secret_file: %s\n"
             "loose:\n  client_secret_file: %s\n"
             "both:\n  client_secret: x\n  client_secret_file: %s\n"
             "empty:\n  client_secret_file: %s\n"
             "missing:\n  client_secret_file: %s/nope\n"
             "none:\n  other: 1\n"
             "wrong:\n  client_secret: [1]\n",
             good, loose, good, empty, tmpdir);
    doc = load_ok(yaml);

    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "lit"), "client_secret", &s, &err),
        0);
    assert_string_equal(s, "literal");
    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "file"), "client_secret", &s, &err),
        0);
    assert_string_equal(s, "s3cr3t-from-file");
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "loose"),
                                    "client_secret", &s, &err),
                     0);
    assert_string_equal(s, "loose-s3cr3t");
    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "both"), "client_secret", &s, &err),
        -1);
    check_err(&err,
              "t.yaml:9: ", "both: set client_secret or client_secret_file, not both");
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "empty"),
                                    "client_secret", &s, &err),
                     -1);
    check_err(&err, "t.yaml:11: ", "empty.client_secret_file: ");
    check_err(&err, "t.yaml:11: ", "is empty");
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "missing"),
                                    "client_secret", &s, &err),
                     -1);
    check_err(&err, "t.yaml:13: ", "No such file or directory");
    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "none"), "client_secret", &s, &err),
        0);
    assert_null(s);
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "wrong"),
                                    "client_secret", &s, &err),
                     -1);
    check_err(&err, "t.yaml:17: ", "wrong.client_secret: expected a string, got a list");

    /* The loose file drew one warning naming the file, never the content. */
    {
        const char *text = slurp(log);

        assert_non_null(strstr(text, loose));
        assert_non_null(strstr(text, "readable by group or others"));
        assert_null(strstr(text, "loose-s3cr3t"));
        assert_null(strstr(text, "s3cr3t-from-file"));
        assert_null(strstr(text, good));
    }
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    assert_int_equal(fclose(log), 0);
    ola_cfg_doc_destroy(doc);
}

static void test_dump_masks_secrets(void **state)
{
    char dumppath[512], text[8192];
    struct ola_cfg_doc *doc;
    FILE *f;
    size_t n;

    (void)state;
    assert_int_equal(setenv("OLA_T_PW", "env-pass-XYZ", 1), 0);
    assert_int_equal(setenv("OLA_T_BROKERS", "broker-host-ABC:9092", 1), 0);
    doc = load_ok("onelogin:\n"
                  "  client_id: visible-client-id\n"
                  "  client_secret: lit-secret-111\n"
                  "  proxy: http://proxyuser:proxy-pw-000@proxy.corp:3128\n"
                  "outputs:\n"
                  "  - type: kafka\n"
                  "    brokers: ${OLA_T_BROKERS}\n"
                  "    properties:\n"
                  "      sasl.password: sasl-pw-222\n"
                  "      ssl.key.password: key-pw-333\n"
                  "      sasl.username: visible-user\n"
                  "      sasl.oauthbearer.client.secret: oauth-sec-123\n"
                  "      ssl.key.pem: pem-key-456\n"
                  "    api_token: tok-444\n"
                  "    db_password: ${OLA_T_PW}\n"
                  "    hmac_secret: hm-555\n"
                  "    secret: bare-666\n"
                  "    password: pw-777\n"
                  "    token: tk-888\n"
                  "    nested_secret: {a: inner-999}\n"
                  "  - type: stdout\n"
                  "    note: \"true\"\n");
    f = fopen(path_in_tmp("dump.yaml", dumppath, sizeof(dumppath)), "w+");
    assert_non_null(f);
    ola_cfg_dump(doc, f);
    assert_int_equal(fflush(f), 0);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    assert_int_equal(fclose(f), 0);

    {
        static const char *const hidden[] = {
            "lit-secret-111", "broker-host-ABC", "sasl-pw-222", "key-pw-333", "tok-444",
            "env-pass-XYZ",   "hm-555",          "bare-666",    "pw-777",     "tk-888",
            "inner-999",      "proxy-pw-000",    "proxyuser",   NULL};
        size_t i;

        for (i = 0; hidden[i] != NULL; i++)
            if (strstr(text, hidden[i]) != NULL)
                fail_msg("dump shows '%s':\n%s", hidden[i], text);
    }
    assert_non_null(strstr(text, "client_secret: \"****\""));
    assert_non_null(strstr(text, "sasl.password: \"****\""));
    assert_non_null(strstr(text, "visible-client-id"));
    assert_non_null(strstr(text, "proxy: \"http://****@proxy.corp:3128\""));
    assert_non_null(strstr(text, "visible-user"));
    assert_non_null(strstr(text, "note: \"true\""));
    ola_cfg_doc_destroy(doc);

    /* The dump is YAML that loads again, with the same shape. */
    {
        struct ola_cfg_doc *again = load_ok(text);
        const struct ola_cfg *outs = ola_cfg_get(ola_cfg_root(again), "outputs");

        assert_int_equal(ola_cfg_len(outs), 2);
        assert_string_equal(
            ola_cfg_scalar(ola_cfg_get(ola_cfg_get(ola_cfg_root(again), "onelogin"),
                                       "client_secret")),
            "****");
        ola_cfg_doc_destroy(again);
    }
}

/* ---- files ----------------------------------------------------------------------------
 */

static void test_unreadable_file(void **state)
{
    char path[512];
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err;
    char want[600];

    (void)state;
    path_in_tmp("does-not-exist.yaml", path, sizeof(path));
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
    assert_null(doc);
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
    assert_string_equal(err.msg, want);

    assert_int_equal(ola_cfg_load_file(tmpdir, &doc, &err), -1);
    snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmpdir);
    assert_string_equal(err.msg, want);

    path_in_tmp("noperm.yaml", path, sizeof(path));
    write_file(path, "a: 1\n", 0000);
    if (geteuid() != 0) { /* root reads anything */
        assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
        snprintf(want, sizeof(want), "%s: cannot read: Permission denied", path);
        assert_string_equal(err.msg, want);
    }

    path_in_tmp("empty.yaml", path, sizeof(path));
    write_file(path, "", 0600);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    assert_int_equal(ola_cfg_type(ola_cfg_root(doc)), OLA_CFG_NULL);
    ola_cfg_doc_destroy(doc);
    doc = NULL;

    path_in_tmp("bad.yaml", path, sizeof(path));
    write_file(path, "a: 1\nb: [\n", 0600);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
    snprintf(want, sizeof(want), "%s:", path);
    check_err(&err, want, "YAML syntax error");
}

static void test_literal_secret_warning(void **state)
{
    char path[512], logpath[512];
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err;
    FILE *log;

    (void)state;
    log = fopen(path_in_tmp("literal.log", logpath, sizeof(logpath)), "w+");
    assert_non_null(log);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, log);
    assert_int_equal(setenv("OLA_T_PW", "env-pass-XYZ", 1), 0);

    /* From the environment: no warning even when world-readable. */
    path_in_tmp("env.yaml", path, sizeof(path));
    write_file(path, "onelogin:\n  client_secret: ${OLA_T_PW}\n", 0644);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    ola_cfg_doc_destroy(doc);
    assert_string_equal(slurp(log), "");

    /* Literal but private: no warning. */
    path_in_tmp("private.yaml", path, sizeof(path));
    write_file(path, "onelogin:\n  client_secret: lit-secret-111\n", 0600);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    ola_cfg_doc_destroy(doc);
    assert_string_equal(slurp(log), "");

    /* Literal and world-readable: a warning naming file and key, not the value. */
    path_in_tmp("literal.yaml", path, sizeof(path));
    write_file(path,
               "x: 1\noutputs:\n  - type: kafka\n    sasl_password: lit-secret-111\n",
               0644);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    ola_cfg_doc_destroy(doc);
    {
        const char *text = slurp(log);

        assert_non_null(strstr(text, path));
        assert_non_null(
            strstr(text, ":4: outputs[0].sasl_password holds a literal secret"));
        assert_null(strstr(text, "lit-secret-111"));
    }
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    assert_int_equal(fclose(log), 0);
}

/* ---- settings
 * ----------------------------------------------------------------------------- */

/* Loads text and ola_settings_load; returns 0/-1 and keeps the doc in *docp. */
static int settings(const char *text, struct ola_settings *s, struct ola_err *err,
                    struct ola_cfg_doc **docp)
{
    struct ola_cfg_doc *doc = load_ok(text);

    *docp = doc;
    return ola_settings_load(doc, NOW_MS, s, err);
}

static void settings_fail(const char *text, const char *prefix, const char *want)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;

    if (settings(text, &s, &err, &doc) == 0)
        fail_msg("settings loaded but expected '%s%s'", prefix, want);
    check_err(&err, prefix, want);
    ola_cfg_doc_destroy(doc);
}

#define OL_MIN  "  client_id: id\n  client_secret: sec\n"
#define OUT_MIN "outputs:\n  - type: stdout\n"

static void test_settings_minimal_defaults(void **state)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;

    (void)state;
    if (settings("onelogin:\n  region: eu\n" OL_MIN OUT_MIN, &s, &err, &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.path, "t.yaml");
    assert_string_equal(s.onelogin.base_url, "https://api.eu.onelogin.com");
    assert_false(s.onelogin.allow_insecure_http);
    assert_string_equal(s.onelogin.client_id, "id");
    assert_string_equal(s.onelogin.client_secret, "sec");
    assert_int_equal(s.onelogin.poll_interval_ms, 10000);
    assert_int_equal(s.onelogin.page_size, 50);
    assert_string_equal(s.onelogin.start, "-24h");
    assert_int_equal(s.onelogin.start_ms, NOW_MS - 86400000);
    assert_int_equal(s.onelogin.overlap_ms, 300000);
    assert_int_equal(s.onelogin.late_sweep_ms, 60000);
    assert_int_equal(s.onelogin.settle_ms, 10000);
    assert_int_equal(s.onelogin.max_window_ms, 3600000);
    assert_int_equal(s.onelogin.timeout_ms, 30000);
    assert_int_equal(s.onelogin.backoff_max_ms, 60000);
    assert_int_equal(s.onelogin.max_response, 32 << 20);
    assert_null(s.onelogin.ca_file);
    assert_null(s.onelogin.proxy);
    assert_string_equal(s.checkpoint.path, "./state/checkpoint.json");
    assert_string_equal(s.log.level, "info");
    assert_string_equal(s.log.format, "text");
    assert_false(s.log.progress);
    assert_true(s.metrics.enabled);
    assert_string_equal(s.metrics.listen, "127.0.0.1:9464");
    assert_true(s.enrich_enabled);
    assert_null(s.enrich);
    assert_null(s.rules.rules);
    assert_int_equal(s.rules.n_rule_files, 0);
    assert_null(s.rules.alerts);
    assert_int_equal(s.shutdown_timeout_ms, 10000);
    assert_int_equal(s.n_outputs, 1);
    assert_string_equal(s.outputs[0].type, "stdout");
    assert_string_equal(s.outputs[0].name, "stdout");
    assert_int_equal(ola_cfg_line(s.outputs[0].node), 6);
    ola_cfg_doc_destroy(doc);
}

static void test_settings_full(void **state)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;

    (void)state;
    if (settings("onelogin:\n"
                 "  base_url: https://acme.onelogin.com:8443//\n" OL_MIN
                 "  poll_interval: 2s\n"
                 "  page_size: 1000\n"
                 "  start: 2024-01-31T00:00:00Z\n"
                 "  overlap: 10m\n"
                 "  late_sweep: 2s\n"
                 "  settle: 0\n"
                 "  max_window: 6h\n"
                 "  timeout: 500ms\n"
                 "  backoff_max: 2m\n"
                 "  ca_file: /etc/ca.pem\n"
                 "  proxy: http://proxy:3128\n"
                 "  max_response: 8MiB\n"
                 "checkpoint: {path: /var/lib/olagent/cp.json}\n"
                 "log: {level: debug, format: json, progress: on}\n"
                 "metrics: false\n"
                 "enrich: {cache: {entries: 100}}\n"
                 "alerts: {window: 5m}\n"
                 "shutdown_timeout: 0\n"
                 "outputs:\n"
                 "  - type: file\n"
                 "    name: audit\n"
                 "  - type: file\n"
                 "  - type: kafka\n"
                 "    name: k-1.main\n",
                 &s, &err, &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.base_url, "https://acme.onelogin.com:8443");
    assert_int_equal(s.onelogin.poll_interval_ms, 2000);
    assert_int_equal(s.onelogin.page_size, 1000);
    assert_int_equal(s.onelogin.start_ms, INT64_C(1706659200000));
    assert_int_equal(s.onelogin.overlap_ms, 600000);
    assert_int_equal(s.onelogin.late_sweep_ms, 2000);
    assert_int_equal(s.onelogin.settle_ms, 0);
    assert_int_equal(s.onelogin.max_window_ms, 6 * 3600000);
    assert_int_equal(s.onelogin.timeout_ms, 500);
    assert_int_equal(s.onelogin.backoff_max_ms, 120000);
    assert_string_equal(s.onelogin.ca_file, "/etc/ca.pem");
    assert_string_equal(s.onelogin.proxy, "http://proxy:3128");
    assert_int_equal(s.onelogin.max_response, 8 << 20);
    assert_string_equal(s.checkpoint.path, "/var/lib/olagent/cp.json");
    assert_string_equal(s.log.level, "debug");
    assert_string_equal(s.log.format, "json");
    assert_true(s.log.progress);
    assert_false(s.metrics.enabled);
    assert_true(s.enrich_enabled);
    assert_non_null(s.enrich);
    assert_int_equal(s.enrich_opts.cache_entries, 100);
    assert_int_equal(s.enrich_opts.concurrency, 4);
    assert_non_null(s.rules.alerts);
    assert_int_equal(s.shutdown_timeout_ms, 0);
    assert_int_equal(s.n_outputs, 3);
    assert_string_equal(s.outputs[0].name, "audit");
    assert_string_equal(s.outputs[1].name, "file");
    assert_string_equal(s.outputs[1].type, "file");
    assert_string_equal(s.outputs[2].name, "k-1.main");
    ola_cfg_doc_destroy(doc);

    if (settings("onelogin:\n  region: us\n" OL_MIN OUT_MIN
                 "enrich: false\nmetrics: {listen: '[::1]:0'}\n",
                 &s, &err, &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.base_url, "https://api.us.onelogin.com");
    assert_false(s.enrich_enabled);
    assert_null(s.enrich);
    assert_true(s.metrics.enabled);
    assert_string_equal(s.metrics.listen, "[::1]:0");
    ola_cfg_doc_destroy(doc);
}

static void test_settings_region_base_url(void **state)
{
    (void)state;
    settings_fail(
        "onelogin:\n  base_url: https://a.onelogin.com\n  region: us\n" OL_MIN OUT_MIN,
        "t.yaml:3: ", "onelogin: set base_url or region, not both");
    settings_fail("onelogin:\n" OL_MIN OUT_MIN,
                  "t.yaml:1: ", "onelogin: base_url or region (us, eu) is required");
    settings_fail("onelogin:\n  region: uk\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "onelogin.region: unknown value 'uk'");
    settings_fail("onelogin:\n  base_url: ftp://a.onelogin.com\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "onelogin.base_url: must start with https://");
    settings_fail("onelogin:\n  base_url: https://\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "no host");
    settings_fail("onelogin:\n  base_url: https://u:p@a.com\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "credentials");
    settings_fail("onelogin:\n  base_url: https://a.com:99999\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "bad port");
    settings_fail("onelogin:\n  base_url: https://a.com/?x=1\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "query");
}

static void test_settings_http_loopback(void **state)
{
    static const struct {
        const char *url, *want;
    } ok[] = {
        {"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
        {"http://127.1.2.3", "http://127.1.2.3"},
        {"http://localhost:9/api/", "http://localhost:9/api"},
        {"http://LOCALHOST", "http://LOCALHOST"},
        {"http://[::1]:8080", "http://[::1]:8080"},
    };
    static const char *const refused[] = {
        "http://example.com",        "http://128.0.0.1:80", "http://10.0.0.1",
        "http://localhost.evil.com", "http://[::2]:80",     "http://127.0.0.1.nip.io",
    };
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;
    char yaml[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(yaml, sizeof(yaml), "onelogin:\n  base_url: %s\n" OL_MIN OUT_MIN,
                 ok[i].url);
        if (settings(yaml, &s, &err, &doc) != 0)
            fail_msg("%s: %s", ok[i].url, err.msg);
        assert_string_equal(s.onelogin.base_url, ok[i].want);
        assert_true(s.onelogin.allow_insecure_http);
        ola_cfg_doc_destroy(doc);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(yaml, sizeof(yaml), "onelogin:\n  base_url: %s\n" OL_MIN OUT_MIN,
                 refused[i]);
        settings_fail(
            yaml, "t.yaml:2: ", "onelogin.base_url: http:// is allowed only on loopback");
    }
}

static void test_settings_errors(void **state)
{
    (void)state;
    settings_fail("onelogn:\n  region: us\n" OUT_MIN,
                  "t.yaml:1: ", "unknown key 'onelogn'; did you mean 'onelogin'?");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  pol_interval: 5s\n" OUT_MIN,
                  "t.yaml:5: ",
                  "unknown key 'onelogin.pol_interval'; did you mean "
                  "'poll_interval'?");
    settings_fail(
        "onelogin:\n  region: us\n" OL_MIN "  poll_interval: 10x\n" OUT_MIN,
        "t.yaml:5: ", "onelogin.poll_interval: bad duration '10x' (use ms, s, m, h, d)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  page_size: ten\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.page_size: expected an integer, got 'ten'");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  page_size: 0\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.page_size: must be between 1 and 1000");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  page_size: 1001\n" OUT_MIN,
                  "t.yaml:5: ", "must be between 1 and 1000");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  max_response: 1KiB\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.max_response: 64KiB .. 1GiB");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  max_response: 2GiB\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.max_response: 64KiB .. 1GiB");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  max_response: lots\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.max_response: bad size");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  overlap: 0\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.overlap: must be between 1ms and 7d");
    settings_fail(
        "onelogin:\n  region: us\n" OL_MIN "  poll_interval: 2m\n" OUT_MIN, "t.yaml:5: ",
        "onelogin.late_sweep (1m) must be at least onelogin.poll_interval (2m)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN
                  "  poll_interval: 2m\n  late_sweep: 1m\n" OUT_MIN,
                  "t.yaml:6: ", "must be at least onelogin.poll_interval (2m)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  start: yesterday\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.start: bad start 'yesterday'");
    settings_fail("onelogin:\n  region: us\n  client_secret: s\n" OUT_MIN,
                  "t.yaml:1: ", "onelogin.client_id is required");
    settings_fail(
        "onelogin:\n  region: us\n  client_id: ''\n  client_secret: s\n" OUT_MIN,
        "t.yaml:3: ", "onelogin.client_id: must not be empty");
    settings_fail("onelogin:\n  region: us\n  client_id: i\n" OUT_MIN,
                  "t.yaml:1: ", "client_secret or client_secret_file is required");
    settings_fail(OUT_MIN, "t.yaml:1: ", "onelogin: missing");
    settings_fail("onelogin: us\n" OUT_MIN, "t.yaml:1: ", "onelogin: expected a map");
    settings_fail("onelogin:\n  region: us\n" OL_MIN,
                  "t.yaml:1: ", "outputs: at least one output is required");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs: []\n",
                  "t.yaml:5: ", "outputs: at least one output is required");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs: stdout\n",
                  "t.yaml:5: ", "outputs: expected a list");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs:\n  - name: x\n",
                  "t.yaml:6: ", "outputs[0]: type is required");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs:\n  - type: Kafka!\n",
                  "t.yaml:6: ", "outputs[0].type: 'Kafka!' is not an output type");
    settings_fail(
        "onelogin:\n  region: us\n" OL_MIN
        "outputs:\n  - type: file\n    path: a\n  - type: file\n    path: b\n",
        "t.yaml:8: ", "outputs[1]: two outputs of type 'file' (the other at line 6)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN
                  "outputs:\n  - type: file\n    name: x\n  - type: kafka\n    name: x\n",
                  "t.yaml:9: ", "outputs[1]: output name 'x' is already used at line 6");
    settings_fail("onelogin:\n  region: us\n" OL_MIN
                  "outputs:\n  - type: file\n    name: 'a b'\n",
                  "t.yaml:7: ", "outputs[0].name: use 1-63 letters");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "log: {level: loud}\n",
                  "t.yaml:7: ", "log.level: unknown level 'loud'");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "log: {format: xml}\n",
                  "t.yaml:7: ", "log.format: unknown format 'xml'");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "log: {levle: info}\n",
                  "t.yaml:7: ", "unknown key 'log.levle'; did you mean 'level'?");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN
                  "metrics: {listen: nohost}\n",
                  "t.yaml:7: ", "metrics.listen: expected host:port");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "metrics: maybe\n",
                  "t.yaml:7: ", "metrics: expected true or false");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "enrich: [a]\n",
                  "t.yaml:7: ", "enrich: expected a map or false");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "rules: a.yaml\n",
                  "t.yaml:7: ", "rules: expected a list of rule files");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "rules:\n  - {a: 1}\n",
                  "t.yaml:8: ", "rules[0]: expected a file name");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "checkpoint: {path: ''}\n",
                  "t.yaml:7: ", "checkpoint.path: must not be empty");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "shutdown_timeout: 2h\n",
                  "t.yaml:7: ", "shutdown_timeout: must be between 0s and 1h");
    settings_fail("", "t.yaml:1: ", "the file is empty");
    settings_fail("- a\n", "t.yaml:1: ", "expected a map of settings");
}

static void test_settings_rules_and_secret_file(void **state)
{
    char cfg[512], secret[512], text[1024];
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    struct ola_err err;

    (void)state;
    path_in_tmp("ol.secret", secret, sizeof(secret));
    write_file(secret, "from-file\n", 0600);
    path_in_tmp("rules.yaml", cfg, sizeof(cfg));
    snprintf(text, sizeof(text),
             "onelogin:\n  region: us\n  client_id: i\n  client_secret_file: %s\n"
             "rules:\n  - rules/a.yaml\n  - /abs/b.yaml\ncatalog: types.json\n" OUT_MIN,
             secret);
    write_file(cfg, text, 0600);
    if (ola_cfg_load_file(cfg, &doc, &err) != 0)
        fail_msg("%s", err.msg);
    if (ola_settings_load(doc, NOW_MS, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.client_secret, "from-file");
    assert_non_null(s.rules.rules);
    assert_int_equal(s.rules.n_rule_files, 2);
    snprintf(text, sizeof(text), "%s/rules/a.yaml", tmpdir);
    assert_string_equal(s.rules.rule_files[0], text);
    assert_string_equal(s.rules.rule_files[1], "/abs/b.yaml");
    snprintf(text, sizeof(text), "%s/types.json", tmpdir);
    assert_string_equal(s.rules.catalog_path, text);
    ola_cfg_doc_destroy(doc);

    /* Without a directory in the name, rule paths stay as written. */
    if (settings("onelogin:\n  region: us\n" OL_MIN OUT_MIN "rules: [r.yaml]\n", &s, &err,
                 &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.rules.rule_files[0], "r.yaml");
    assert_null(s.rules.catalog_path); /* the built-in catalog alone */
    assert_true(s.rules.catalog_builtin);
    assert_true(s.rules.default_rules);
    ola_cfg_doc_destroy(doc);
}

static void test_example_file(void **state)
{
    const char *src = getenv("OLA_SOURCE_DIR");
    char path[1024];
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    struct ola_err err;
    int n;

    (void)state;
    if (src == NULL)
        src = ".";
    n = snprintf(path, sizeof(path), "%s/config/olagent.example.yaml", src);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    assert_int_equal(unsetenv("ONELOGIN_CLIENT_SECRET"), 0);
    assert_int_equal(setenv("ONELOGIN_CLIENT_ID", "example-id", 1), 0);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
    check_err(&err, path,
              "onelogin.client_secret: environment variable "
              "ONELOGIN_CLIENT_SECRET is not set");

    assert_int_equal(setenv("ONELOGIN_CLIENT_SECRET", "example-secret", 1), 0);
    if (ola_cfg_load_file(path, &doc, &err) != 0)
        fail_msg("%s", err.msg);
    if (ola_settings_load(doc, NOW_MS, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.base_url, "https://acme.onelogin.com");
    assert_string_equal(s.onelogin.client_id, "example-id");
    assert_string_equal(s.onelogin.client_secret, "example-secret");
    assert_int_equal(s.onelogin.poll_interval_ms, 10000);
    assert_int_equal(s.onelogin.start_ms, NOW_MS - 86400000);
    assert_string_equal(s.checkpoint.path, "./state/checkpoint.json");
    assert_true(s.metrics.enabled);
    assert_int_equal(s.n_outputs, 1);
    assert_string_equal(s.outputs[0].type, "stdout");
    ola_cfg_doc_destroy(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_yaml_rejections),
        cmocka_unit_test(test_reader_str),
        cmocka_unit_test(test_reader_int),
        cmocka_unit_test(test_reader_double_bool),
        cmocka_unit_test(test_reader_duration),
        cmocka_unit_test(test_reader_duration_too_large),
        cmocka_unit_test(test_reader_size),
        cmocka_unit_test(test_reader_percent_enum),
        cmocka_unit_test(test_check_keys_and_errf),
        cmocka_unit_test(test_env_substitution),
        cmocka_unit_test(test_env_value_not_echoed),
        cmocka_unit_test(test_secret),
        cmocka_unit_test(test_dump_masks_secrets),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_literal_secret_warning),
        cmocka_unit_test(test_settings_minimal_defaults),
        cmocka_unit_test(test_settings_full),
        cmocka_unit_test(test_settings_region_base_url),
        cmocka_unit_test(test_settings_http_loopback),
        cmocka_unit_test(test_settings_errors),
        cmocka_unit_test(test_settings_rules_and_secret_file),
        cmocka_unit_test(test_example_file),
    };

    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
