/*
 * test_expr.c - match expressions: each operator, the combinators and
 * shorthands, missing fields, type mismatches, arrays, dotted paths into
 * the olagent object, and load errors with file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "filter_test.h"
#include "filters/rules/catalog.h"
#include "filters/rules/expr.h"

struct fx {
    struct ola_catalog *cat;
    struct ola_expr_env *env;
    struct ola_cfg_doc *docs[64];
    size_t n_docs;
    struct ola_expr *x[64];
    size_t n_x;
    struct ola_batch b;
    struct ola_err err;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->cat = ola_catalog_load(ola_t_catalog_path(), &f->err);
    assert_non_null(f->cat);
    f->env = ola_expr_env_new(f->cat);
    assert_non_null(f->env);
    ola_batch_init(&f->b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < f->n_x; i++)
        ola_expr_destroy(f->x[i]);
    for (i = 0; i < f->n_docs; i++)
        ola_cfg_doc_destroy(f->docs[i]);
    ola_batch_free(&f->b);
    ola_expr_env_destroy(f->env);
    ola_catalog_destroy(f->cat);
    free(f);
    return 0;
}

/* Compiles the YAML text (a map under key "x"); NULL on error (in f->err). */
static struct ola_expr *compile(struct fx *f, const char *yaml)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_expr *x;

    if (ola_cfg_load_string("rule.yaml", yaml, strlen(yaml), &doc, &f->err) != 0)
        return NULL;
    f->docs[f->n_docs++] = doc;
    x = ola_expr_compile(f->env, ola_cfg_get(ola_cfg_root(doc), "x"), &f->err);
    if (x != NULL)
        f->x[f->n_x++] = x;
    return x;
}

/* Evaluates x on the event given as JSON (olagent object optional). */
static bool eval_ola(struct fx *f, const struct ola_expr *x, const char *json,
                     const char *ola_json)
{
    struct ola_expr_ctx ctx;
    struct ola_event *e;
    bool r;

    ola_batch_reset(&f->b);
    e = ola_t_add(&f->b, 1, 1000, json);
    assert_non_null(e);
    if (ola_json != NULL) {
        e->ola = json_loads(ola_json, 0, NULL);
        assert_non_null(e->ola);
    }
    assert_int_equal(ola_expr_ctx_init(&ctx, f->env), 0);
    ola_expr_ctx_set(&ctx, e, false, 0);
    r = ola_expr_eval(f->env, x, &ctx);
    ola_expr_ctx_free(&ctx);
    return r;
}

static bool eval(struct fx *f, const struct ola_expr *x, const char *json)
{
    return eval_ola(f, x, json, NULL);
}

static void test_equals(void **state)
{
    struct fx *f = *state;
    struct ola_expr *s = compile(f, "x: {field: ipaddr, equals: 10.0.0.1}\n");
    struct ola_expr *n = compile(f, "x: {field: event_type_id, equals: 6}\n");
    struct ola_expr *q =
        compile(f, "x: {field: user_name, equals: Ann, ignore_case: true}\n");
    struct ola_expr *bo = compile(f, "x: {field: solved, equals: true}\n");
    struct ola_expr *r = compile(f, "x: {field: score, equals: 1.5}\n");

    assert_non_null(s);
    assert_non_null(n);
    assert_non_null(q);
    assert_non_null(bo);
    assert_non_null(r);
    assert_true(eval(f, s, "{\"ipaddr\":\"10.0.0.1\"}"));
    assert_false(eval(f, s, "{\"ipaddr\":\"10.0.0.10\"}"));
    assert_false(eval(f, s, "{\"ipaddr\":null}"));
    assert_false(eval(f, s, "{}"));
    /* numbers compare as numbers, whatever their JSON type */
    assert_true(eval(f, n, "{\"event_type_id\":6}"));
    assert_true(eval(f, n, "{\"event_type_id\":6.0}"));
    assert_true(eval(f, n, "{\"event_type_id\":\"6\"}"));
    assert_false(eval(f, n, "{\"event_type_id\":60}"));
    assert_false(eval(f, n, "{\"event_type_id\":{\"a\":6}}"));
    assert_true(eval(f, q, "{\"user_name\":\"ANN\"}"));
    assert_false(eval(f, q, "{\"user_name\":\"Anne\"}"));
    assert_true(eval(f, bo, "{\"solved\":true}"));
    assert_false(eval(f, bo, "{\"solved\":false}"));
    assert_false(eval(f, bo, "{\"solved\":\"yes\"}"));
    assert_true(eval(f, r, "{\"score\":1.5}"));
    assert_false(eval(f, r, "{\"score\":1}"));
}

static void test_in(void **state)
{
    struct fx *f = *state;
    struct ola_expr *i = compile(f, "x: {field: event_type_id, in: [9, 6, 1002]}\n");
    struct ola_expr *s = compile(f, "x: {field: app_name, in: [Slack, AWS]}\n");
    struct ola_expr *m = compile(f, "x: {field: v, in: [3, abc]}\n");
    struct ola_expr *one = compile(f, "x: {field: v, in: 7}\n");

    assert_non_null(i);
    assert_non_null(s);
    assert_non_null(m);
    assert_non_null(one);
    assert_true(eval(f, i, "{\"event_type_id\":6}"));
    assert_true(eval(f, i, "{\"event_type_id\":1002}"));
    assert_false(eval(f, i, "{\"event_type_id\":5}"));
    assert_true(eval(f, i, "{\"event_type_id\":\"9\"}"));
    assert_true(eval(f, s, "{\"app_name\":\"AWS\"}"));
    assert_false(eval(f, s, "{\"app_name\":\"aws\"}"));
    assert_false(eval(f, s, "{\"app_name\":5}"));
    assert_true(eval(f, m, "{\"v\":3}"));
    assert_true(eval(f, m, "{\"v\":\"abc\"}"));
    assert_false(eval(f, m, "{\"v\":4}"));
    assert_true(eval(f, one, "{\"v\":7}"));
    assert_null(compile(f, "x: {field: v, in: []}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:1: in: empty list");
}

static void test_prefix(void **state)
{
    struct fx *f = *state;
    struct ola_expr *p =
        compile(f, "x: {field: ipaddr, prefix: [\"10.\", \"192.168.\"]}\n");
    struct ola_expr *c =
        compile(f, "x: {field: user_name, prefix: adm, ignore_case: true}\n");
    struct ola_expr *n = compile(f, "x: {field: user_id, prefix: \"12\"}\n");

    assert_non_null(p);
    assert_non_null(c);
    assert_non_null(n);
    assert_true(eval(f, p, "{\"ipaddr\":\"10.1.2.3\"}"));
    assert_true(eval(f, p, "{\"ipaddr\":\"192.168.0.1\"}"));
    assert_false(eval(f, p, "{\"ipaddr\":\"172.16.0.1\"}"));
    assert_false(eval(f, p, "{\"ipaddr\":\"10\"}"));
    assert_true(eval(f, c, "{\"user_name\":\"ADMIN Joe\"}"));
    /* numbers are matched by their decimal text */
    assert_true(eval(f, n, "{\"user_id\":12345}"));
    assert_false(eval(f, n, "{\"user_id\":312}"));
}

static void test_regex(void **state)
{
    struct fx *f = *state;
    struct ola_expr *r = compile(f, "x: {field: user_name, regex: \"^svc-[a-z]+$\"}\n");
    struct ola_expr *i = compile(f, "x: {field: app_name, regex: \"aws|gcp\", "
                                    "ignore_case: true}\n");
    struct ola_expr *n = compile(f, "x: {field: risk_score, regex: \"^[89][0-9]$\"}\n");

    assert_non_null(r);
    assert_non_null(i);
    assert_non_null(n);
    assert_true(eval(f, r, "{\"user_name\":\"svc-backup\"}"));
    assert_false(eval(f, r, "{\"user_name\":\"svc-Backup\"}"));
    assert_false(eval(f, r, "{\"user_name\":\"x svc-backup\"}"));
    assert_true(eval(f, i, "{\"app_name\":\"Amazon AWS console\"}"));
    assert_true(eval(f, n, "{\"risk_score\":85}"));
    assert_false(eval(f, n, "{\"risk_score\":8}"));
    assert_false(eval(f, r, "{}"));
    /* a bad regex is a load error with file:line */
    assert_null(compile(f, "# comment\nx:\n  field: a\n  regex: \"([a-z\"\n"));
    assert_non_null(strstr(f->err.msg, "rule.yaml:4: bad regex '([a-z'"));
    /* refused before regcomp (only shapes regcomp would compile cheaply here) */
    assert_null(compile(f, "x:\n  field: a\n  regex: '(|)(\\1\\1)*'\n"));
    assert_non_null(strstr(f->err.msg, "rule.yaml:3: bad regex '(|)(\\1\\1)*': "
                                       "backreference \\1 at character 5"));
    assert_null(compile(f, "x: {field: a, regex: 'x{0,101}'}\n"));
    assert_non_null(strstr(f->err.msg, "rule.yaml:1: bad regex 'x{0,101}': "
                                       "'{0,101}' at character 2: counts above 100"));
    /* a long pattern shows its start and the whole reason */
    assert_null(compile(
        f, "x: {field: a, regex: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
           "aaaaaaaaaaaaaaaaaaaaaaaaaaa(x*)*'}\n"));
    assert_non_null(
        strstr(f->err.msg, "aaaaaaaa...': '*' at character 80 repeats a part"));
}

static void test_numeric(void **state)
{
    struct fx *f = *state;
    struct ola_expr *gt = compile(f, "x: {field: risk_score, gt: 50}\n");
    struct ola_expr *gte = compile(f, "x: {field: risk_score, gte: 50}\n");
    struct ola_expr *lt = compile(f, "x: {field: risk_score, lt: 50}\n");
    struct ola_expr *lte = compile(f, "x: {field: risk_score, lte: 50}\n");
    struct ola_expr *fr = compile(f, "x: {field: ratio, gt: 0.5}\n");
    const char *e49 = "{\"risk_score\":49}", *e50 = "{\"risk_score\":50}",
               *e51 = "{\"risk_score\":51}";

    assert_non_null(gt);
    assert_non_null(gte);
    assert_non_null(lt);
    assert_non_null(lte);
    assert_non_null(fr);
    assert_false(eval(f, gt, e50));
    assert_true(eval(f, gt, e51));
    assert_true(eval(f, gte, e50));
    assert_false(eval(f, gte, e49));
    assert_true(eval(f, lt, e49));
    assert_false(eval(f, lt, e50));
    assert_true(eval(f, lte, e50));
    assert_false(eval(f, lte, e51));
    assert_true(eval(f, fr, "{\"ratio\":0.75}"));
    assert_false(eval(f, fr, "{\"ratio\":0.5}"));
    /* numeric strings compare as numbers; other types never match */
    assert_true(eval(f, gte, "{\"risk_score\":\"75\"}"));
    assert_false(eval(f, gte, "{\"risk_score\":\"high\"}"));
    assert_false(eval(f, gte, "{\"risk_score\":true}"));
    assert_false(eval(f, gte, "{\"risk_score\":null}"));
    assert_false(eval(f, gte, "{}"));
    assert_false(eval(f, lt, "{}"));
    assert_null(compile(f, "x: {field: risk_score, gte: high}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:1: gte: expected a number, got 'high'");
}

static void test_exists_missing(void **state)
{
    struct fx *f = *state;
    struct ola_expr *ex =
        compile(f, "x: {field: assuming_acting_user_id, exists: true}\n");
    struct ola_expr *mi =
        compile(f, "x: {field: assuming_acting_user_id, missing: true}\n");
    struct ola_expr *nf =
        compile(f, "x: {field: assuming_acting_user_id, exists: false}\n");

    assert_non_null(ex);
    assert_non_null(mi);
    assert_non_null(nf);
    assert_true(eval(f, ex, "{\"assuming_acting_user_id\":7}"));
    assert_true(eval(f, ex, "{\"assuming_acting_user_id\":0}"));
    assert_false(eval(f, ex, "{\"assuming_acting_user_id\":null}"));
    assert_false(eval(f, ex, "{}"));
    assert_true(eval(f, mi, "{\"assuming_acting_user_id\":null}"));
    assert_true(eval(f, mi, "{}"));
    assert_false(eval(f, mi, "{\"assuming_acting_user_id\":\"\"}"));
    assert_true(eval(f, nf, "{}"));
    assert_null(compile(f, "x: {field: a, exists: maybe}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:1: exists: expected true or false");
}

static void test_combinators(void **state)
{
    struct fx *f = *state;
    struct ola_expr *all = compile(f, "x:\n"
                                      "  all:\n"
                                      "    - {field: a, equals: 1}\n"
                                      "    - {field: b, equals: 2}\n");
    struct ola_expr *any = compile(f, "x:\n"
                                      "  any:\n"
                                      "    - {field: a, equals: 1}\n"
                                      "    - {field: b, equals: 2}\n");
    struct ola_expr *nt = compile(f, "x: {not: {field: a, equals: 1}}\n");
    struct ola_expr *seq = compile(f, "x:\n"
                                      "  - {field: a, equals: 1}\n"
                                      "  - not: {any: [{field: b, equals: 3}, "
                                      "{field: c, exists: true}]}\n");

    assert_non_null(all);
    assert_non_null(any);
    assert_non_null(nt);
    assert_non_null(seq);
    assert_true(eval(f, all, "{\"a\":1,\"b\":2}"));
    assert_false(eval(f, all, "{\"a\":1,\"b\":3}"));
    assert_false(eval(f, all, "{\"b\":2}"));
    assert_true(eval(f, any, "{\"a\":0,\"b\":2}"));
    assert_true(eval(f, any, "{\"a\":1}"));
    assert_false(eval(f, any, "{}"));
    assert_true(eval(f, nt, "{\"a\":2}"));
    assert_true(eval(f, nt, "{}")); /* not over a missing field */
    assert_false(eval(f, nt, "{\"a\":1}"));
    assert_true(eval(f, seq, "{\"a\":1,\"b\":2}"));
    assert_false(eval(f, seq, "{\"a\":1,\"b\":3}"));
    assert_false(eval(f, seq, "{\"a\":1,\"c\":null,\"b\":3}"));
    assert_true(eval(f, seq, "{\"a\":1,\"c\":null}"));
    assert_false(eval(f, seq, "{\"a\":1,\"c\":0}"));
}

static void test_shorthands(void **state)
{
    struct fx *f = *state;
    struct ola_expr *tags = compile(f, "x: {tags: [high_risk, mfa]}\n");
    struct ola_expr *cats = compile(f, "x: {categories: login_failure}\n");
    struct ola_expr *sev = compile(f, "x: {severity: \">= 7\"}\n");
    struct ola_expr *sevn = compile(f, "x: {severity: high}\n");
    struct ola_expr *sevl = compile(f, "x: {severity: \"< 4\"}\n");
    struct ola_expr *et =
        compile(f, "x: {event_type: [USER_FAILED_ONELOGIN_LOGIN, 9]}\n");
    struct ola_expr *both = compile(f, "x: {tags: [mfa], severity: \">= 5\"}\n");
    struct ola_expr_ctx ctx;
    struct ola_event *e;

    assert_non_null(tags);
    assert_non_null(cats);
    assert_non_null(sev);
    assert_non_null(sevn);
    assert_non_null(sevl);
    assert_non_null(et);
    assert_non_null(both);
    assert_true(eval_ola(f, tags, "{}", "{\"tags\":[\"x\",\"mfa\"]}"));
    assert_false(eval_ola(f, tags, "{}", "{\"tags\":[\"x\"]}"));
    assert_false(eval(f, tags, "{}"));
    /* categories by name (no mask) and by the catalog's bits */
    assert_true(eval_ola(
        f, cats, "{}", "{\"event_type\":{\"id\":6,\"categories\":[\"login_failure\"]}}"));
    assert_false(
        eval_ola(f, cats, "{}", "{\"event_type\":{\"id\":5,\"categories\":[]}}"));
    assert_true(eval(f, et, "{\"event_type_id\":6}"));
    assert_true(eval(f, et, "{\"event_type_id\":9}"));
    assert_false(eval(f, et, "{\"event_type_id\":5}"));

    assert_int_equal(ola_expr_ctx_init(&ctx, f->env), 0);
    ola_batch_reset(&f->b);
    e = ola_t_add(&f->b, 1, 1, "{\"event_type_id\":6}");
    assert_non_null(e);
    ola_expr_ctx_set(&ctx, e, true, 0);
    assert_false(ola_expr_eval(f->env, cats, &ctx));
    ola_expr_ctx_set(&ctx, e, true,
                     UINT32_C(1) << ola_catalog_category_bit(f->cat, "login_failure"));
    assert_true(ola_expr_eval(f->env, cats, &ctx));
    /* severity: unset never matches; levels and names */
    assert_false(ola_expr_eval(f->env, sev, &ctx));
    assert_false(ola_expr_eval(f->env, sevl, &ctx));
    e->severity = 7;
    assert_true(ola_expr_eval(f->env, sev, &ctx));
    assert_true(ola_expr_eval(f->env, sevn, &ctx));
    assert_false(ola_expr_eval(f->env, sevl, &ctx));
    e->severity = 6;
    assert_false(ola_expr_eval(f->env, sev, &ctx));
    assert_false(ola_expr_eval(f->env, sevn, &ctx));
    e->severity = 3;
    assert_true(ola_expr_eval(f->env, sevl, &ctx));
    ola_expr_ctx_free(&ctx);
    assert_true(eval_ola(f, both, "{}", "{\"tags\":[\"mfa\"]}") == false);

    assert_null(compile(f, "x: {categories: [nope]}\n"));
    assert_string_equal(f->err.msg,
                        "rule.yaml:1: categories: no event type has category 'nope'");
    assert_null(compile(f, "x: {event_type: [NOT_A_TYPE]}\n"));
    assert_string_equal(f->err.msg,
                        "rule.yaml:1: event_type: unknown event type 'NOT_A_TYPE'");
    assert_null(compile(f, "x: {severity: \">= eleven\"}\n"));
    assert_non_null(strstr(f->err.msg, "rule.yaml:1: severity:"));
}

static void test_paths(void **state)
{
    struct fx *f = *state;
    struct ola_expr *d =
        compile(f, "x: {field: olagent.user.department, equals: Finance}\n");
    struct ola_expr *nested = compile(f, "x: {field: actor.geo.country, in: [RU, KP]}\n");
    struct ola_expr *arr = compile(f, "x: {field: olagent.user.role_ids, in: [42]}\n");

    assert_non_null(d);
    assert_non_null(nested);
    assert_non_null(arr);
    assert_true(eval_ola(f, d, "{}", "{\"user\":{\"department\":\"Finance\"}}"));
    assert_false(eval_ola(f, d, "{}", "{\"user\":{\"department\":\"Sales\"}}"));
    assert_false(eval_ola(f, d, "{}", "{\"user\":\"Finance\"}"));
    assert_false(eval(f, d, "{}"));
    /* replayed from our own output: the event carries its olagent object */
    assert_true(eval(f, d, "{\"olagent\":{\"user\":{\"department\":\"Finance\"}}}"));
    assert_true(eval(f, nested, "{\"actor\":{\"geo\":{\"country\":\"KP\"}}}"));
    assert_false(eval(f, nested, "{\"actor\":{\"geo\":\"KP\"}}"));
    /* arrays: a condition holds when it holds for one item */
    assert_true(eval_ola(f, arr, "{}", "{\"user\":{\"role_ids\":[1,42,7]}}"));
    assert_false(eval_ola(f, arr, "{}", "{\"user\":{\"role_ids\":[1,7]}}"));
    assert_null(compile(f, "x: {field: \"a..b\", equals: 1}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:1: field: bad path 'a..b'");
}

static void test_cache_per_event(void **state)
{
    struct fx *f = *state;
    struct ola_expr *x = compile(f, "x: {field: user_id, equals: 5}\n");
    struct ola_expr_ctx ctx;
    struct ola_event *e1, *e2;

    assert_non_null(x);
    ola_batch_reset(&f->b);
    e1 = ola_t_add(&f->b, 1, 1, "{\"user_id\":5}");
    e2 = ola_t_add(&f->b, 2, 2, "{\"user_id\":6}");
    assert_non_null(e1);
    assert_non_null(e2);
    assert_int_equal(ola_expr_ctx_init(&ctx, f->env), 0);
    ola_expr_ctx_set(&ctx, e1, false, 0);
    assert_true(ola_expr_eval(f->env, x, &ctx));
    assert_true(ola_expr_eval(f->env, x, &ctx));
    ola_expr_ctx_set(&ctx, e2, false, 0);
    assert_false(ola_expr_eval(f->env, x, &ctx));
    ola_expr_ctx_set(&ctx, e1, false, 0);
    assert_true(ola_expr_eval(f->env, x, &ctx));
    ola_expr_ctx_free(&ctx);
}

static void test_errors(void **state)
{
    struct fx *f = *state;

    assert_null(compile(f, "x:\n  field: a\n  like: b\n"));
    assert_string_equal(f->err.msg, "rule.yaml:3: unknown operator 'like'");
    assert_null(compile(f, "x:\n  sometimes: [a]\n"));
    assert_string_equal(f->err.msg, "rule.yaml:2: unknown operator 'sometimes'");
    assert_null(compile(f, "x: {field: a}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:1: field 'a' has no operator");
    assert_null(compile(f, "x:\n  field: a\n  equals: 1\n  gt: 0\n"));
    assert_non_null(strstr(f->err.msg, "rule.yaml:4: one operator per condition"));
    assert_null(compile(f, "x: {all: []}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:1: all: expected a list of expressions");
    assert_null(compile(f, "x: just a string\n"));
    assert_non_null(strstr(f->err.msg, "rule.yaml:1: expected an expression"));
    assert_null(compile(f, "x: {field: a, equals: [1, 2]}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:1: equals: expected a value");
    assert_null(compile(f, "x:\n  any:\n    - {field: a, equals: 1}\n    - {nope: 1}\n"));
    assert_string_equal(f->err.msg, "rule.yaml:4: unknown operator 'nope'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numeric, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exists_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_combinators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shorthands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_per_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
