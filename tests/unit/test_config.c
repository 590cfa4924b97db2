/*
 * test_config.c - the YAML layer: the tree, the YAML it refuses, the typed
 * readers and ${VAR} substitution. The secrets, the masked dump and config
 * files on disk are in test_config_secrets.c; the agent's settings
 * (ola_settings_load) in test_config_settings.c.
 *
 * Documents are loaded from strings (name "t.yaml"); every error is checked
 * to start with "name:LINE: " (helpers in config_test.h).
 */
#include "config_test.h"

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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
