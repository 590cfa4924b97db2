/*
 * test_builtin.c - what is compiled in and what hardens the process: the
 * built-in catalog equals config/event-types.json and a `catalog:` file is
 * used instead of it; the built-in rule pack loads unless default_rules is
 * off and a listed rule of the same name replaces or disables a built-in one;
 * config warnings are recorded per document; the secret helpers zero memory
 * and the process can be made non-dumpable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cmocka.h>

#include "agent/core/secret.h"
#include "filter_test.h"
#include "filters/rules/builtin.h"
#include "filters/rules/catalog.h"

/* ---- catalog --------------------------------------------------------------- */

static void test_builtin_catalog_is_the_file(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_catalog *c = ola_catalog_builtin(&err);
    json_t *all = json_load_file(ola_t_catalog_path(), 0, NULL), *item;
    size_t i;

    (void)state;
    assert_non_null(c);
    assert_non_null(all);
    assert_int_equal(strlen(ola_builtin_event_types), ola_builtin_event_types_len);
    assert_int_equal(ola_catalog_size(c), json_array_size(all));
    json_array_foreach(all, i, item)
    {
        long long id = json_integer_value(json_object_get(item, "id"));

        assert_string_equal(ola_catalog_name(c, id),
                            json_string_value(json_object_get(item, "name")));
        assert_true(json_equal(ola_catalog_categories(c, id),
                               json_object_get(item, "categories")));
    }
    json_decref(all);
    ola_catalog_destroy(c);
}

/* The rule set's catalog: the built-in one, or the `catalog:` file instead. */
static void test_catalog_choice(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_rules_settings s;
    struct ola_rules *r;
    char *dir = ola_t_mkdtemp();
    const char *p;

    (void)state;
    assert_non_null(dir);
    memset(&s, 0, sizeof(s));
    s.catalog_builtin = true;
    r = ola_rules_new(&s, NULL, NULL, 0, &err);
    if (r == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(ola_catalog_size(ola_rules_catalog(r)), 539);
    ola_rules_destroy(r);

    p = ola_t_write(
        dir, "types.json",
        "[{\"id\": 6, \"name\": \"RENAMED\", \"categories\": [\"watched\"]}]");
    assert_non_null(p);
    r = ola_rules_new(&s, p, NULL, 0, &err);
    if (r == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(ola_catalog_size(ola_rules_catalog(r)), 1);
    assert_string_equal(ola_catalog_name(ola_rules_catalog(r), 6), "RENAMED");
    ola_rules_destroy(r);

    /* settings made by hand (catalog_builtin false) and no file: no catalog */
    s.catalog_builtin = false;
    r = ola_rules_new(&s, NULL, NULL, 0, &err);
    assert_non_null(r);
    assert_null(ola_rules_catalog(r));
    ola_rules_destroy(r);
    ola_t_rmdir(dir);
}

/* ---- rules ------------------------------------------------------------------- */

struct rfx {
    char *dir;
    struct ola_cfg_doc *doc;
    struct ola_rules_settings s;
    struct ola_err err;
};

static const char *const ola_t_outs[] = {"stdout"};

/* Rules from yaml (a config's top level) with default_rules as given. */
static struct ola_rules *rules_from(struct rfx *f, const char *yaml, bool builtin)
{
    const char *path = ola_t_write(f->dir, "olagent.yaml", yaml);

    ola_cfg_doc_destroy(f->doc);
    f->doc = NULL;
    if (path == NULL || ola_cfg_load_file(path, &f->doc, &f->err) != 0)
        return NULL;
    memset(&f->s, 0, sizeof(f->s));
    f->s.rules = ola_cfg_get(ola_cfg_root(f->doc), "rules");
    f->s.default_rules = builtin;
    f->s.catalog_builtin = true;
    return ola_rules_new(&f->s, NULL, ola_t_outs, 1, &f->err);
}

static bool has_alert(const struct ola_rules *r, const char *name)
{
    size_t i;

    for (i = 0; i < ola_rules_alert_count(r); i++)
        if (strcmp(ola_rules_alert_name(r, i), name) == 0)
            return true;
    return false;
}

static void test_builtin_rules(void **state)
{
    struct rfx f;
    struct ola_rules *r;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.dir = ola_t_mkdtemp();
    assert_non_null(f.dir);

    /* the pack alone: its thirteen alert rules */
    r = rules_from(&f, "outputs: [{type: stdout}]\n", true);
    if (r == NULL)
        fail_msg("%s", f.err.msg);
    assert_int_equal(ola_rules_alert_count(r), 13);
    assert_true(has_alert(r, "brute_force_user"));
    ola_rules_destroy(r);

    /* off */
    r = rules_from(&f, "outputs: [{type: stdout}]\n", false);
    assert_non_null(r);
    assert_int_equal(ola_rules_alert_count(r), 0);
    ola_rules_destroy(r);

    /* a listed rule named like a built-in one replaces or disables it */
    assert_non_null(ola_t_write(f.dir, "mine.yaml",
                                "rules:\n"
                                "  - name: brute_force_ip\n    enabled: false\n"
                                "  - name: mfa_fatigue\n    tags: [mine]\n"
                                "    alert: {kind: count, match: {event_type: [950]},\n"
                                "            key: user_id, threshold: 2, window: 1m}\n"
                                "  - name: extra\n    tags: [extra]\n"));
    r = rules_from(&f, "rules: [mine.yaml]\n", true);
    if (r == NULL)
        fail_msg("%s", f.err.msg);
    assert_int_equal(ola_rules_alert_count(r), 12);
    assert_false(has_alert(r, "brute_force_ip"));
    assert_true(has_alert(r, "mfa_fatigue"));
    ola_rules_destroy(r);

    /* listing the shipped pack itself replaces every built-in rule: no duplicate */
    assert_non_null(ola_t_write(f.dir, "pack.yaml", ola_builtin_rules));
    r = rules_from(&f, "rules: [pack.yaml]\n", true);
    if (r == NULL)
        fail_msg("%s", f.err.msg);
    assert_int_equal(ola_rules_alert_count(r), 13);
    ola_rules_destroy(r);

    /* between listed files a repeated name is still an error */
    r = rules_from(&f, "rules: [mine.yaml, mine.yaml]\n", true);
    assert_null(r);
    assert_non_null(strstr(f.err.msg, "duplicate rule name"));

    ola_cfg_doc_destroy(f.doc);
    ola_t_rmdir(f.dir);
}

/* ---- config warnings ------------------------------------------------------------ */

static void test_cfg_warnings(void **state)
{
    static const char yaml[] = "a: 1\nb:\n  c: false\n";
    struct ola_err err = {0, ""};
    struct ola_cfg_doc *doc = NULL;
    const struct ola_cfg *c;

    (void)state;
    assert_int_equal(ola_cfg_load_string("x.yaml", yaml, strlen(yaml), &doc, &err), 0);
    assert_int_equal(ola_cfg_warning_count(doc), 0);
    assert_null(ola_cfg_warning(doc, 0));
    c = ola_cfg_get(ola_cfg_get(ola_cfg_root(doc), "b"), "c");
    assert_int_equal(ola_cfg_warn(c, "%s is %s: careful", ola_cfg_path(c), "false"), 0);
    assert_int_equal(ola_cfg_warn(ola_cfg_root(doc), "second"), 0);
    assert_int_equal(ola_cfg_warning_count(doc), 2);
    assert_string_equal(ola_cfg_warning(doc, 0), "x.yaml:3: b.c is false: careful");
    assert_string_equal(ola_cfg_warning(doc, 1), "x.yaml:1: second");
    assert_int_equal(ola_cfg_warning_count(NULL), 0);
    ola_cfg_doc_destroy(doc);
}

/* ---- secrets -------------------------------------------------------------------- */

static void test_secret_wipe(void **state)
{
    char buf[64];
    char *s;
    size_t i;

    (void)state;
    memset(buf, 'S', sizeof(buf));
    ola_secret_wipe(buf, 40);
    for (i = 0; i < 40; i++)
        assert_int_equal(buf[i], 0);
    for (i = 40; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 'S');
    ola_secret_wipe(NULL, 0);
    ola_secret_free(NULL);
    s = strdup("client-secret");
    assert_non_null(s);
    ola_secret_free(s); /* ASan builds check it frees what it wiped */
}

static void test_nodump(void **state)
{
    (void)state;
#ifdef __linux__
    assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
    assert_int_equal(ola_secret_dumpable(), 1);
    assert_int_equal(ola_secret_nodump(), 0);
    assert_int_equal(ola_secret_dumpable(), 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
#else
    assert_int_equal(ola_secret_nodump(), -1);
    assert_int_equal(ola_secret_dumpable(), -1);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_catalog_is_the_file),
        cmocka_unit_test(test_catalog_choice),
        cmocka_unit_test(test_builtin_rules),
        cmocka_unit_test(test_cfg_warnings),
        cmocka_unit_test(test_secret_wipe),
        cmocka_unit_test(test_nodump),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
