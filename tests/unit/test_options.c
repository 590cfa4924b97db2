/*
 * test_options.c - the option-table walker (config/options.h).
 *
 * A small settings struct and its table stand for a module: the walker must
 * refuse unknown keys with the closest one suggested, word type and range
 * errors as "file:line: ...", apply defaults, take enum names, read secrets
 * from the key or the key_file, call hooks, read nested maps, and describe
 * the table (types, defaults, values with secrets masked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/err.h"
#include "agent/core/log.h"
#include "config/config.h"
#include "config/options.h"

struct t_settings {
    const char *name;
    const char *token;
    long long count;
    double ratio;
    bool on;
    int64_t wait_ms;
    uint64_t size;
    double share;
    int mode;
    long long inner;
    int hooked;
};

static const char *const t_modes[] = {"fast", "slow", NULL};

static int t_hook(const struct ola_cfg *map, const struct ola_opt *o, void *obj,
                  void *ctx, struct ola_err *err)
{
    struct t_settings *t = obj;

    (void)o;
    t->hooked += ctx != NULL ? *(int *)ctx : 1;
    if (t->count == 13)
        return ola_cfg_errf(err, ola_cfg_get(map, "count"), "count: 13 brings bad luck");
    return 0;
}

#define T_OFF(f) offsetof(struct t_settings, f)

static const struct ola_opt t_inner[] = {
    {.name = "depth",
     .type = OLA_OPT_INT,
     .offset = T_OFF(inner),
     .def_int = 3,
     .min = 1,
     .max = 9,
     .help = "how deep"},
    {.name = NULL},
};

static const struct ola_opt t_table[] = {
    {.name = "name",
     .type = OLA_OPT_STR,
     .offset = T_OFF(name),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .help = "who"},
    {.name = "token", .type = OLA_OPT_SECRET, .offset = T_OFF(token), .help = "a secret"},
    {.name = "count",
     .type = OLA_OPT_INT,
     .offset = T_OFF(count),
     .def_int = 5,
     .min = 1,
     .max = 100,
     .hook = t_hook,
     .help = "how many"},
    {.name = "ratio", .type = OLA_OPT_DOUBLE, .offset = T_OFF(ratio), .def_num = 1.5},
    {.name = "on", .type = OLA_OPT_BOOL, .offset = T_OFF(on), .def_int = 1},
    {.name = "wait",
     .type = OLA_OPT_DURATION,
     .offset = T_OFF(wait_ms),
     .def_int = 30000,
     .min = 100,
     .max = 3600000},
    {.name = "size",
     .type = OLA_OPT_SIZE,
     .offset = T_OFF(size),
     .def_size = 1 << 20,
     .size_min = 1024,
     .size_max = (uint64_t)1 << 30},
    {.name = "share", .type = OLA_OPT_PERCENT, .offset = T_OFF(share), .def_num = 0.25},
    {.name = "mode",
     .type = OLA_OPT_ENUM,
     .offset = T_OFF(mode),
     .names = t_modes,
     .def_int = 1},
    {.name = "nested", .type = OLA_OPT_MAP, .sub = t_inner},
    {.name = NULL},
};

static struct ola_cfg_doc *t_doc;

/* Loads text as t.yaml and reads its `sec` map with t_table into *t. */
static int t_read(const char *text, struct t_settings *t, struct ola_err *err)
{
    memset(t, 0, sizeof(*t));
    err->msg[0] = '\0';
    ola_cfg_doc_destroy(t_doc);
    t_doc = NULL;
    assert_int_equal(ola_cfg_load_string("t.yaml", text, strlen(text), &t_doc, err), 0);
    return ola_opts_read(ola_cfg_get(ola_cfg_root(t_doc), "sec"), "sec", t_table, t, NULL,
                         err);
}

static void t_fails(const char *text, const char *msg)
{
    struct t_settings t;
    struct ola_err err = {0, ""};

    assert_int_equal(t_read(text, &t, &err), -1);
    assert_string_equal(err.msg, msg);
}

static void test_defaults_applied(void **state)
{
    struct t_settings t;
    struct ola_err err = {0, ""};

    (void)state;
    assert_int_equal(t_read("sec:\n  name: x\n", &t, &err), 0);
    assert_string_equal(t.name, "x");
    assert_null(t.token);
    assert_int_equal(t.count, 5);
    assert_true(t.ratio == 1.5);
    assert_true(t.on);
    assert_int_equal(t.wait_ms, 30000);
    assert_int_equal(t.size, 1 << 20);
    assert_true(t.share == 0.25);
    assert_int_equal(t.mode, 1);
    assert_int_equal(t.inner, 3);
    assert_int_equal(t.hooked, 1); /* the hook runs with the default too */

    /* ola_opts_defaults writes the same without reading anything */
    memset(&t, 0, sizeof(t));
    ola_opts_defaults(t_table, &t);
    assert_int_equal(t.count, 5);
    assert_int_equal(t.inner, 3);
    assert_int_equal(t.mode, 1);
    assert_int_equal(t.size, 1 << 20);
}

static void test_values_read(void **state)
{
    struct t_settings t;
    struct ola_err err = {0, ""};

    (void)state;
    assert_int_equal(t_read("sec:\n  name: x\n  count: 7\n  ratio: 0.5\n  on: no\n"
                            "  wait: 2m\n  size: 64KiB\n  share: 40%\n  mode: fast\n"
                            "  nested: {depth: 9}\n",
                            &t, &err),
                     0);
    assert_int_equal(t.count, 7);
    assert_true(t.ratio == 0.5);
    assert_false(t.on);
    assert_int_equal(t.wait_ms, 120000);
    assert_int_equal(t.size, 65536);
    assert_true(t.share > 0.399 && t.share < 0.401);
    assert_int_equal(t.mode, 0);
    assert_int_equal(t.inner, 9);
}

static void test_unknown_key_suggests(void **state)
{
    (void)state;
    t_fails("sec:\n  name: x\n  cuont: 3\n", "t.yaml:3: unknown key 'sec.cuont'; did you "
                                             "mean 'count'?");
    t_fails("sec:\n  name: x\n  zzzzzz: 3\n", "t.yaml:3: unknown key 'sec.zzzzzz'");
    /* a secret's _file key is known; a nested map's keys too */
    t_fails("sec:\n  name: x\n  nested:\n    dpeth: 2\n",
            "t.yaml:4: unknown key 'sec.nested.dpeth'; did you mean 'depth'?");
    t_fails("sec:\n  name: x\n  token_fiel: /x\n",
            "t.yaml:3: unknown key 'sec.token_fiel'; did you mean 'token_file'?");
}

static void test_type_and_range_errors(void **state)
{
    (void)state;
    t_fails("sec:\n  name: x\n  count: many\n",
            "t.yaml:3: sec.count: expected an integer, got 'many'");
    t_fails("sec:\n  name: x\n  count: 101\n",
            "t.yaml:3: sec.count: must be between 1 and 100, got '101'");
    t_fails("sec:\n  name: x\n  wait: 10ms\n",
            "t.yaml:3: sec.wait: must be between 100ms and 1h, got '10ms'");
    t_fails("sec:\n  name: x\n  on: maybe\n",
            "t.yaml:3: sec.on: expected true or false, got 'maybe'");
    t_fails("sec:\n  name: x\n  size: 2GiB\n", "t.yaml:3: sec.size: 1KiB .. 1GiB");
    t_fails("sec:\n  name: [x]\n", "t.yaml:2: sec.name: expected a string, got a list");
    t_fails("sec:\n  name: x\n  nested: 3\n",
            "t.yaml:3: sec.nested: expected a map (depth)");
    t_fails("sec: [1]\n", "t.yaml:1: sec: expected a map, got a list");
}

static void test_required_and_nonempty(void **state)
{
    (void)state;
    t_fails("sec:\n  count: 2\n", "t.yaml:1: sec.name is required");
    t_fails("sec:\n  name: ''\n", "t.yaml:2: sec.name: must not be empty");
}

static void test_enum_names(void **state)
{
    struct t_settings t;
    struct ola_err err = {0, ""};

    (void)state;
    assert_int_equal(t_read("sec:\n  name: x\n  mode: slow\n", &t, &err), 0);
    assert_int_equal(t.mode, 1);
    t_fails(
        "sec:\n  name: x\n  mode: fats\n",
        "t.yaml:3: sec.mode: unknown value 'fats'; did you mean 'fast'? (one of fast, "
        "slow)");
}

static void test_secret_key_or_file(void **state)
{
    char path[] = "/tmp/ola_opts_secret.XXXXXX", text[256];
    struct t_settings t;
    struct ola_err err = {0, ""};
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    assert_int_equal(t_read("sec:\n  name: x\n  token: abc\n", &t, &err), 0);
    assert_string_equal(t.token, "abc");
    snprintf(text, sizeof(text), "sec:\n  name: x\n  token_file: %s\n", path);
    assert_int_equal(t_read(text, &t, &err), 0);
    assert_string_equal(t.token, "s3cret");
    snprintf(text, sizeof(text), "sec:\n  name: x\n  token: a\n  token_file: %s\n", path);
    t_fails(text, "t.yaml:4: sec: set token or token_file, not both");
    unlink(path);
}

static void test_hook(void **state)
{
    struct t_settings t;
    struct ola_err err = {0, ""};
    int add = 10;

    (void)state;
    t_fails("sec:\n  name: x\n  count: 13\n", "t.yaml:3: count: 13 brings bad luck");
    /* the caller's ctx reaches the hook */
    memset(&t, 0, sizeof(t));
    ola_cfg_doc_destroy(t_doc);
    t_doc = NULL;
    assert_int_equal(ola_cfg_load_string("t.yaml", "a: 1", 4, &t_doc, &err) == 0 ? 0 : -1,
                     0);
    assert_int_equal(ola_opts_read(NULL, "sec", t_table, &t, &add, &err), -1);
    assert_string_equal(err.msg, "sec.name is required");
    t.name = "x";
    assert_int_equal(ola_opts_read_key(NULL, "sec", t_table, "count", &t, &add, &err), 0);
    assert_int_equal(t.hooked, 10);
}

static void test_describe(void **state)
{
    struct t_settings t;
    struct ola_err err = {0, ""};
    char buf[128], *text = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    assert_string_equal(ola_opt_default_text(ola_opts_find(t_table, "wait"), buf, 128),
                        "30s");
    assert_string_equal(ola_opt_default_text(ola_opts_find(t_table, "size"), buf, 128),
                        "1MiB");
    assert_string_equal(ola_opt_default_text(ola_opts_find(t_table, "share"), buf, 128),
                        "25%");
    assert_string_equal(ola_opt_default_text(ola_opts_find(t_table, "mode"), buf, 128),
                        "slow");
    assert_null(ola_opt_default_text(ola_opts_find(t_table, "name"), buf, 128));
    assert_string_equal(ola_opt_type_text(ola_opts_find(t_table, "count"), buf, 128),
                        "integer 1..100");
    assert_string_equal(ola_opt_type_text(ola_opts_find(t_table, "mode"), buf, 128),
                        "one of fast, slow");

    assert_int_equal(t_read("sec:\n  name: x\n  token: hunter2\n  count: 8\n", &t, &err),
                     0);
    assert_string_equal(ola_opt_value_text(ola_opts_find(t_table, "token"), &t, buf, 128),
                        "****");
    f = open_memstream(&text, &len);
    assert_non_null(f);
    ola_opts_print_effective(ola_cfg_get(ola_cfg_root(t_doc), "sec"), "sec", t_table, &t,
                             f);
    ola_opts_print_example(t_table, 2, f);
    fclose(f);
    assert_non_null(strstr(text, "sec.count: 8  # t.yaml:4\n"));
    assert_non_null(strstr(text, "sec.wait: 30s  # default\n"));
    assert_non_null(strstr(text, "sec.token: ****  # t.yaml:3\n"));
    assert_non_null(strstr(text, "sec.nested.depth: 3  # default\n"));
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "  # how many\n  count: 5\n"));
    assert_non_null(strstr(text, "  nested:\n    # how deep\n    depth: 3\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_applied),
        cmocka_unit_test(test_values_read),
        cmocka_unit_test(test_unknown_key_suggests),
        cmocka_unit_test(test_type_and_range_errors),
        cmocka_unit_test(test_required_and_nonempty),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_secret_key_or_file),
        cmocka_unit_test(test_hook),
        cmocka_unit_test(test_describe),
    };
    int rc;

    ola_log_level = OLA_LOG_ERR;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    ola_cfg_doc_destroy(t_doc);
    return rc;
}
