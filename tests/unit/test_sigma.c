/*
 * test_sigma.c - `olagent rules import-sigma` (filters/rules/sigma*.c): each
 * Sigma construct converted, loaded as an olagent rule file and run on
 * events that the Sigma rule means to match and ones it does not:
 * selections (maps AND, lists OR, lists of maps), conditions (and, or, not,
 * parentheses and precedence, 1 of / all of a pattern and them, `_`
 * selections left out of them), each modifier (contains, startswith,
 * endswith, all, re with i and s, cased, cidr through a list file, exists,
 * gt..lte, fieldref, neq), wildcards and their escapes, null, `$` kept
 * literal; the rule's name, severity, technique tags, comment and tests: list; and
 * what cannot be converted: the message with file:line, the rule skipped,
 * or a part left out only where the rule then matches less. The PCRE to
 * POSIX regex translation is checked on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "filter_test.h"
#include "rules_fixture.h"
#include "filters/rules/sigma.h"
#include "filters/rules/sigma_priv.h"

#define T0 INT64_C(1700000000000)

static const char *const outs[] = {"out"};

/* What one conversion gave: the rule file text and the messages. */
struct conv {
    struct ola_buf text;
    char *msgs;
    int rc;
};

static void conv_free(struct conv *c)
{
    ola_buf_free(&c->text);
    free(c->msgs);
}

/* Converts one Sigma rule (as file "s.yml"); list files go to dir if given. */
static struct conv convert(const char *sigma, const char *dir)
{
    struct ola_sigma_conv *cv = ola_sigma_conv_new();
    struct conv c = {OLA_BUF_INIT, NULL, 0};
    size_t msz = 0, i;
    FILE *m = open_memstream(&c.msgs, &msz);

    assert_non_null(cv);
    assert_non_null(m);
    c.rc = ola_sigma_convert(cv, "s.yml", sigma, strlen(sigma), m);
    assert_int_equal(fclose(m), 0);
    assert_int_equal(ola_sigma_render(cv, &c.text), 0);
    assert_int_equal(ola_buf_putc(&c.text, '\0'), 0);
    for (i = 0; dir != NULL && i < ola_sigma_list_count(cv); i++) {
        const char *content, *file = ola_sigma_list_file(cv, i, &content);

        assert_non_null(ola_t_write(dir, file, content));
    }
    ola_sigma_conv_destroy(cv);
    return c;
}

/* Converts sigma (which must convert whole) and builds the rule set from it. */
static void build(struct fx *f, const char *sigma)
{
    struct conv c = convert(sigma, f->dir);
    char cfg[4400];
    const char *path;

    if (c.rc != OLA_SIGMA_OK)
        fprintf(stderr, "%s%s", c.msgs, c.text.data);
    assert_int_equal(c.rc, OLA_SIGMA_OK);
    assert_string_equal(c.msgs, "");
    path = ola_t_write(f->dir, "sigma.yaml", c.text.data);
    assert_non_null(path);
    snprintf(cfg, sizeof(cfg), "rules: [\"%s\"]\n", path);
    ola_rules_destroy(f->r);
    f->r = NULL;
    ola_cfg_doc_destroy(f->doc);
    f->doc = NULL;
    assert_int_equal(
        ola_cfg_load_string("olagent.yaml", cfg, strlen(cfg), &f->doc, &f->err), 0);
    memset(&f->s, 0, sizeof(f->s));
    f->s.rules = ola_cfg_get(ola_cfg_root(f->doc), "rules");
    f->r = ola_rules_new(&f->s, ola_t_catalog_path(), outs, 1, &f->err);
    if (f->r == NULL)
        fprintf(stderr, "%s\n%s", f->err.msg, c.text.data);
    assert_non_null(f->r);
    conv_free(&c);
}

/* Whether the rule (title "T", so named sigma_t) matches the event. */
static bool hit(struct fx *f, const char *json)
{
    ola_batch_reset(&f->b);
    assert_non_null(ola_t_add(&f->b, 1, T0, json));
    assert_int_equal(ola_rules_apply(f->r, &f->b, T0), 0);
    return ola_t_has_tag(&f->b.ev[0], "sigma_t") != 0;
}

/* A Sigma rule titled T around a detection (its lines indented by 4). */
#define RULE(det)                                                                        \
    "title: T\nid: 0b6c1b4e-0000-4000-8000-000000000001\nlogsource:\n"                   \
    "    product: onelogin\n    service: onelogin.events\ndetection:\n" det              \
    "level: low\n"

static void test_selections(void **state)
{
    struct fx *f = *state;

    /* a map is AND, a list of values OR */
    build(f, RULE("    sel:\n        event_type_id: [5, 6]\n        user_name: Ann\n"
                  "    condition: sel\n"));
    assert_true(hit(f, "{\"event_type_id\": 5, \"user_name\": \"Ann\"}"));
    assert_true(hit(f, "{\"event_type_id\": 6, \"user_name\": \"ANN\"}")); /* no case */
    assert_false(hit(f, "{\"event_type_id\": 7, \"user_name\": \"Ann\"}"));
    assert_false(hit(f, "{\"event_type_id\": 5, \"user_name\": \"Bob\"}"));
    assert_false(hit(f, "{\"event_type_id\": 5}"));
    /* a list of maps is the OR of them */
    build(f, RULE("    sel:\n        - event_type_id: 5\n          user_id: 1\n"
                  "        - event_type_id: 6\n    condition: sel\n"));
    assert_true(hit(f, "{\"event_type_id\": 5, \"user_id\": 1}"));
    assert_true(hit(f, "{\"event_type_id\": 6, \"user_id\": 2}"));
    assert_false(hit(f, "{\"event_type_id\": 5, \"user_id\": 2}"));
}

/* Builds a rule whose detection is sels + "    condition: COND\n". */
static void build_cond(struct fx *f, const char *sels, const char *cond)
{
    char text[2048];
    int n = snprintf(text, sizeof(text), RULE("%s    condition: %s\n"), sels, cond);

    assert_true(n > 0 && (size_t)n < sizeof(text));
    build(f, text);
}

static void test_condition_logic(void **state)
{
    struct fx *f = *state;
    static const char *const sels = "    sel_a:\n        user_id: 1\n"
                                    "    sel_b:\n        app_id: 2\n"
                                    "    c:\n        role_id: 3\n"
                                    "    _x:\n        group_id: 4\n";

    build_cond(f, sels, "sel_a or sel_b and not c");
    assert_true(hit(f, "{\"user_id\": 1, \"role_id\": 3}")); /* a alone */
    assert_true(hit(f, "{\"app_id\": 2}"));
    assert_false(hit(f, "{\"app_id\": 2, \"role_id\": 3}"));
    build_cond(f, sels, "(sel_a or sel_b) and not c");
    assert_false(hit(f, "{\"user_id\": 1, \"role_id\": 3}"));
    assert_true(hit(f, "{\"user_id\": 1}"));
    build_cond(f, sels, "not not sel_a AND NOT (sel_b Or c)");
    assert_true(hit(f, "{\"user_id\": 1}"));
    assert_false(hit(f, "{\"user_id\": 1, \"role_id\": 3}"));
    build_cond(f, sels, "1 of sel_*");
    assert_true(hit(f, "{\"app_id\": 2}"));
    assert_false(hit(f, "{\"role_id\": 3}"));
    build_cond(f, sels, "all of sel_*");
    assert_false(hit(f, "{\"app_id\": 2}"));
    assert_true(hit(f, "{\"user_id\": 1, \"app_id\": 2}"));
    build_cond(f, sels, "1 of them");
    assert_true(hit(f, "{\"role_id\": 3}"));
    assert_false(hit(f, "{\"group_id\": 4}")); /* _x is not one of them */
    build_cond(f, sels, "all of them");
    assert_true(hit(f, "{\"user_id\": 1, \"app_id\": 2, \"role_id\": 3}"));
    assert_false(hit(f, "{\"user_id\": 1, \"app_id\": 2}"));
    build_cond(f, sels, "sel_a and not _x");
    assert_false(hit(f, "{\"user_id\": 1, \"group_id\": 4}"));
    /* a list of conditions is their OR */
    build(f, RULE("    a:\n        user_id: 1\n    b:\n        app_id: 2\n"
                  "    condition:\n        - a\n        - b\n"));
    assert_true(hit(f, "{\"app_id\": 2}"));
    assert_false(hit(f, "{\"app_id\": 3}"));
}

static void test_string_modifiers(void **state)
{
    struct fx *f = *state;

    build_cond(f, "    s:\n        notes|contains: 'Err'\n", "s");
    assert_true(hit(f, "{\"notes\": \"an error here\"}"));
    assert_false(hit(f, "{\"notes\": \"fine\"}"));
    build_cond(f, "    s:\n        notes|contains|all: [a.b, 'x$y']\n", "s");
    assert_true(hit(f, "{\"notes\": \"x$y then A.B\"}"));
    assert_false(hit(f, "{\"notes\": \"a.b only\"}"));
    assert_false(hit(f, "{\"notes\": \"axb and x$y\"}")); /* '.' is literal */
    build_cond(f, "    s:\n        app_name|startswith: Sales\n", "s");
    assert_true(hit(f, "{\"app_name\": \"salesforce\"}"));
    assert_false(hit(f, "{\"app_name\": \"my salesforce\"}"));
    build_cond(f, "    s:\n        app_name|endswith: '.corp'\n", "s");
    assert_true(hit(f, "{\"app_name\": \"wiki.CORP\"}"));
    assert_false(hit(f, "{\"app_name\": \"wiki.corp.io\"}"));
    assert_false(hit(f, "{\"app_name\": \"wikixcorp\"}"));
    build_cond(f, "    s:\n        user_name|cased: Ann\n", "s");
    assert_true(hit(f, "{\"user_name\": \"Ann\"}"));
    assert_false(hit(f, "{\"user_name\": \"ann\"}"));
    build_cond(f, "    s:\n        user_name|contains|cased: Ad\n", "s");
    assert_false(hit(f, "{\"user_name\": \"admin\"}"));
    assert_true(hit(f, "{\"user_name\": \"Admin\"}"));
}

static void test_regex_modifier(void **state)
{
    struct fx *f = *state;

    build_cond(f, "    s:\n        notes|re: '^err\\d{2}[\\w.-]+$'\n", "s");
    assert_true(hit(f, "{\"notes\": \"err42a.b-c\"}"));
    assert_false(hit(f, "{\"notes\": \"ERR42abc\"}")); /* re is case-sensitive */
    assert_false(hit(f, "{\"notes\": \"err4abc\"}"));
    build_cond(f, "    s:\n        notes|re|i: '^err'\n", "s");
    assert_true(hit(f, "{\"notes\": \"ERR42abc\"}"));
    build_cond(f, "    s:\n        notes|re: '(?i)^e(?:r)+'\n", "s");
    assert_true(hit(f, "{\"notes\": \"ERR42abc\"}"));
    assert_false(hit(f, "{\"notes\": \"xERR\"}"));
    /* PCRE's `.` does not match a newline; with |s it does */
    build_cond(f, "    s:\n        notes|re: 'a.b'\n", "s");
    assert_false(hit(f, "{\"notes\": \"a\\nb\"}"));
    assert_true(hit(f, "{\"notes\": \"a-b\"}"));
    build_cond(f, "    s:\n        notes|re|s: 'a.b'\n", "s");
    assert_true(hit(f, "{\"notes\": \"a\\nb\"}"));
}

static void test_other_modifiers(void **state)
{
    struct fx *f = *state;

    build_cond(f,
               "    s:\n        ipaddr|cidr: [10.0.0.0/8, '2001:db8::/32', 192.0.2.7]\n",
               "s");
    assert_true(hit(f, "{\"ipaddr\": \"10.1.2.3\"}"));
    assert_true(hit(f, "{\"ipaddr\": \"2001:db8::1\"}"));
    assert_true(hit(f, "{\"ipaddr\": \"192.0.2.7\"}"));
    assert_false(hit(f, "{\"ipaddr\": \"192.0.2.8\"}"));
    assert_false(hit(f, "{\"ipaddr\": \"11.0.0.1\"}"));
    build_cond(f, "    s:\n        risk_score|gte: 50\n", "s");
    assert_true(hit(f, "{\"risk_score\": 50}"));
    assert_false(hit(f, "{\"risk_score\": 49}"));
    build_cond(f, "    s:\n        risk_score|lt: 10\n", "s");
    assert_true(hit(f, "{\"risk_score\": 9}"));
    assert_false(hit(f, "{\"risk_score\": 10}"));
    build_cond(f, "    s:\n        otp_device_id|exists: true\n", "s");
    assert_true(hit(f, "{\"otp_device_id\": 7}"));
    assert_false(hit(f, "{\"user_id\": 7}"));
    build_cond(f, "    s:\n        actor_user_id|fieldref: user_id\n", "s");
    assert_true(hit(f, "{\"actor_user_id\": 5, \"user_id\": 5}"));
    assert_false(hit(f, "{\"actor_user_id\": 5, \"user_id\": 6}"));
    build_cond(f, "    s:\n        actor_user_id|fieldref|neq: user_id\n", "s");
    assert_true(hit(f, "{\"actor_user_id\": 5, \"user_id\": 6}"));
    assert_false(hit(f, "{\"actor_user_id\": 5, \"user_id\": 5}"));
    assert_false(hit(f, "{\"actor_user_id\": 5}"));
    build_cond(f, "    s:\n        user_name|neq: Ann\n", "s");
    assert_true(hit(f, "{\"user_name\": \"Bob\"}"));
    assert_false(hit(f, "{\"user_name\": \"ann\"}"));
    assert_false(hit(f, "{\"user_id\": 1}")); /* never more: absent is not "different" */
}

static void test_wildcards_and_null(void **state)
{
    struct fx *f = *state;

    build_cond(f, "    s:\n        user_name: 'a*b?c'\n", "s");
    assert_true(hit(f, "{\"user_name\": \"AxxbYc\"}"));
    assert_true(hit(f, "{\"user_name\": \"abzc\"}"));
    assert_false(hit(f, "{\"user_name\": \"abc\"}"));   /* ? is one character */
    assert_false(hit(f, "{\"user_name\": \"xabzc\"}")); /* anchored */
    build_cond(f, "    s:\n        user_name: 'a\\*b\\?\\\\c'\n", "s");
    assert_true(hit(f, "{\"user_name\": \"a*b?\\\\c\"}"));
    assert_false(hit(f, "{\"user_name\": \"axb?\\\\c\"}"));
    build_cond(f, "    s:\n        user_name: '${HOME}$$'\n", "s");
    assert_true(hit(f, "{\"user_name\": \"${HOME}$$\"}"));
    build_cond(f, "    s:\n        event_type_id: 5\n        otp_device_name: null\n",
               "s");
    assert_true(hit(f, "{\"event_type_id\": 5}"));
    assert_true(hit(f, "{\"event_type_id\": 5, \"otp_device_name\": null}"));
    assert_false(hit(f, "{\"event_type_id\": 5, \"otp_device_name\": \"yubi\"}"));
    build_cond(f, "    s:\n        user_name: ['', 'x*']\n", "s");
    assert_true(hit(f, "{\"user_name\": \"\"}"));
    assert_true(hit(f, "{\"user_name\": \"xy\"}"));
    assert_false(hit(f, "{\"user_name\": \"y\"}"));
}

/* A rule with Sigma's informational level and technique tags loads as converted. */
static void test_level_and_techniques_load(void **state)
{
    struct fx *f = *state;

    build(f, "title: T\nid: 0b6c1b4e-0000-4000-8000-000000000002\n"
             "tags: [attack.initial_access, attack.t1078.004]\nlogsource:\n"
             "    product: onelogin\ndetection:\n    sel:\n        event_type_id: 5\n"
             "    condition: sel\nlevel: informational\n");
    assert_true(hit(f, "{\"event_type_id\": 5}"));
    assert_true(ola_t_has_tag(&f->b.ev[0], "attack.t1078.004") != 0);
    assert_false(hit(f, "{\"event_type_id\": 6}"));
}

static void test_rule_text(void **state)
{
    struct conv c;

    (void)state;
    c = convert("title: 'Admin: Signed In (2)'\nid: 0b6c1b4e-aaaa\nauthor: A. Person\n"
                "description: 'Says \"hi\"'\ntags: [attack.impact, attack.t1078.004, "
                "attack.T1110, attack.t12]\nlogsource: {product: OneLogin}\n"
                "detection: {sel: {event_type_id: 5}, condition: sel}\n"
                "level: informational\n",
                NULL);
    assert_int_equal(c.rc, OLA_SIGMA_OK);
    assert_non_null(strstr(c.text.data, "  # From Sigma s.yml\n"
                                        "  # id 0b6c1b4e-aaaa: \"Admin: Signed In (2)\" "
                                        "by A. Person\n"
                                        "  - name: sigma_admin_signed_in_2\n"
                                        "    description: \"Says \\\"hi\\\"\"\n"
                                        "    match: {field: event_type_id, equals: 5}\n"
                                        "    tags: [sigma, sigma_admin_signed_in_2, "
                                        "attack.t1078.004, attack.t1110]\n"
                                        "    severity: info\n"));
    assert_non_null(strstr(c.text.data, "    tests: []\n"));
    conv_free(&c);
    c = convert(RULE("    sel: {event_type_id: 5}\n    condition: sel\n"), NULL);
    assert_non_null(strstr(c.text.data, "    severity: low\n"));
    assert_null(strstr(c.text.data, "attack."));
    conv_free(&c);
}

/* Converts sigma; expects rc and each of the message fragments (NULL-ended). */
static void expect_msgs(const char *sigma, int rc, bool converted, ...)
{
    struct conv c = convert(sigma, NULL);
    const char *frag;
    va_list ap;

    if (c.rc != rc)
        fprintf(stderr, "rc %d: %s", c.rc, c.msgs);
    assert_int_equal(c.rc, rc);
    va_start(ap, converted);
    while ((frag = va_arg(ap, const char *)) != NULL) {
        if (strstr(c.msgs, frag) == NULL)
            fprintf(stderr, "missing '%s' in:\n%s", frag, c.msgs);
        assert_non_null(strstr(c.msgs, frag));
    }
    va_end(ap);
    assert_int_equal(strstr(c.text.data, "- name: sigma_t") != NULL, converted);
    conv_free(&c);
}

static void test_not_convertible(void **state)
{
    (void)state;
    /* whole-rule problems: skipped, with the condition's line */
    expect_msgs(
        RULE("    sel: {user_id: 1}\n    condition: sel | count() by ipaddr > 3\n"),
        OLA_SIGMA_INCOMPLETE, false,
        "s.yml:8: rule 'T': skipped: aggregation '| count() by ipaddr > 3'", NULL);
    expect_msgs(
        RULE("    a: {user_id: 1}\n    b: {app_id: 1}\n    condition: a near b\n"),
        OLA_SIGMA_INCOMPLETE, false, "s.yml:9: rule 'T': skipped: ", NULL);
    expect_msgs(RULE("    a: {user_id: 1}\n    condition: a and nope\n"),
                OLA_SIGMA_INCOMPLETE, false,
                "s.yml:8: rule 'T': skipped: 'nope' is not a selection", NULL);
    expect_msgs(RULE("    a: {user_id: 1}\n    condition: (a\n"), OLA_SIGMA_INCOMPLETE,
                false, "s.yml:8: rule 'T': skipped: expected ')'", NULL);
    expect_msgs(RULE("    a: {user_id: 1}\n    condition: 2 of a*\n"),
                OLA_SIGMA_INCOMPLETE, false,
                "'2 of' (a count of selections) cannot be converted", NULL);
    expect_msgs("title: T\nlogsource: {product: windows}\ndetection: {a: {x: 1}, "
                "condition: a}\n",
                OLA_SIGMA_INCOMPLETE, false,
                "s.yml:2: rule 'T': skipped: logsource.product is 'windows'", NULL);
    expect_msgs("title: [\n", OLA_SIGMA_UNREADABLE, false, "s.yml:", NULL);
    /* a part in an AND: the rule would match more without it, so it is skipped */
    expect_msgs(
        RULE("    sel:\n        user_id: 1\n        CommandLine: x\n"
             "    condition: sel\n"),
        OLA_SIGMA_INCOMPLETE, false,
        "s.yml:9: rule 'T': cannot convert: field 'CommandLine' is not a OneLogin "
        "event field",
        "rule 'T': skipped (no part of it may be left out", NULL);
    expect_msgs(RULE("    sel:\n        user_name|base64: x\n    condition: sel\n"),
                OLA_SIGMA_INCOMPLETE, false,
                "s.yml:8: rule 'T': cannot convert: modifier 'base64' is not supported",
                NULL);
    /* ... and under `not`, an OR's part cannot go either */
    expect_msgs(RULE("    sel: {user_id: 1}\n    f:\n        - app_id: 2\n"
                     "        - notes|re: '(?=x)'\n    condition: sel and not f\n"),
                OLA_SIGMA_INCOMPLETE, false, "s.yml:10: rule 'T': cannot convert: regex",
                "'(?=' groups are not supported", NULL);
    expect_msgs(RULE("    sel: {otp_device_id|exists: false}\n    condition: sel\n"),
                OLA_SIGMA_INCOMPLETE, false, "also true for a null field", NULL);
    expect_msgs(RULE("    kw:\n        - 'evil'\n    condition: kw\n"),
                OLA_SIGMA_INCOMPLETE, false,
                "s.yml:8: rule 'T': cannot convert: keyword search", NULL);
    /* a part of an OR (or of an AND under `not`) is left out: it matches less */
    expect_msgs(
        RULE("    sel: {user_id: 1}\n    other: {Image|endswith: x.exe}\n"
             "    condition: sel or other\n"),
        OLA_SIGMA_INCOMPLETE, true,
        "s.yml:8: rule 'T': left out: field 'Image' is not a OneLogin event field "
        "(the olagent rule matches less than the Sigma rule)",
        NULL);
    expect_msgs(RULE("    sel: {user_id: 1}\n    f:\n        app_id: 2\n"
                     "        user_name|windash: x\n    condition: sel and not f\n"),
                OLA_SIGMA_INCOMPLETE, true,
                "s.yml:10: rule 'T': left out: modifier 'windash' is not supported",
                NULL);
}

/* Left-out parts really are gone, and the rest still works. */
static void test_partial_rule(void **state)
{
    struct fx *f = *state;
    struct conv c = convert(RULE("    sel: {user_id: 1}\n    f:\n        app_id: 2\n"
                                 "        Image: x\n    condition: sel and not f\n"),
                            NULL);
    char cfg[4400];
    const char *path;

    assert_int_equal(c.rc, OLA_SIGMA_INCOMPLETE);
    path = ola_t_write(f->dir, "p.yaml", c.text.data);
    snprintf(cfg, sizeof(cfg), "rules: [\"%s\"]\n", path);
    assert_int_equal(
        ola_cfg_load_string("olagent.yaml", cfg, strlen(cfg), &f->doc, &f->err), 0);
    f->s.rules = ola_cfg_get(ola_cfg_root(f->doc), "rules");
    f->r = ola_rules_new(&f->s, ola_t_catalog_path(), outs, 1, &f->err);
    assert_non_null(f->r);
    /* sel and not (app_id 2): narrower than Sigma's sel and not (app_id 2 and Image x) */
    assert_true(hit(f, "{\"user_id\": 1, \"app_id\": 3}"));
    assert_false(hit(f, "{\"user_id\": 1, \"app_id\": 2}"));
    conv_free(&c);
}

static void re_ok(const char *pcre, bool dotall, const char *posix)
{
    struct ola_buf b = OLA_BUF_INIT;
    char why[160];

    if (ola_sg_regex(pcre, dotall, &b, why, sizeof(why)) != 0)
        fprintf(stderr, "%s: %s\n", pcre, why);
    assert_int_equal(ola_buf_putc(&b, '\0'), 0);
    assert_string_equal(b.data, posix);
    ola_buf_free(&b);
}

static void re_bad(const char *pcre, const char *why_part)
{
    struct ola_buf b = OLA_BUF_INIT;
    char why[160];

    assert_int_equal(ola_sg_regex(pcre, false, &b, why, sizeof(why)), -1);
    if (strstr(why, why_part) == NULL)
        fprintf(stderr, "%s: %s\n", pcre, why);
    assert_non_null(strstr(why, why_part));
    ola_buf_free(&b);
}

static void test_regex_translation(void **state)
{
    (void)state;
    re_ok("^a\\.b$", false, "^a\\.b$");
    re_ok("a.b", false, "a[^\n]b");
    re_ok("a.b", true, "a.b");
    re_ok("\\d+\\s\\w", false, "[0-9]+[[:space:]][[:alnum:]_]");
    re_ok("\\D\\S\\W", false, "[^0-9][^[:space:]][^[:alnum:]_]");
    re_ok("\\/\\<x\\>\\-", false, "/<x>-"); /* GNU would read \< \> as word edges */
    re_ok("[\\d.-]", false, "[.0-9-]");
    re_ok("[\\w]", false, "[[:alnum:]_]");
    re_ok("[]a^-]", false, "[]a^-]");
    re_ok("[\\^]", false, "\\^");
    re_ok("[^\\]\\\\]", false, "[^]\\]");
    re_ok("[a-fA-F0-9]{2,4}", false, "[0-9A-Fa-f]{2,4}");
    re_ok("[[:alpha:]x]", false, "[[:alpha:]x]");
    re_ok("x{,3}y}", false, "x\\{,3\\}y\\}");
    re_ok("(ab|cd)?e", false, "(ab|cd)?e");
    re_ok("a(?:b|c)+", false, "a(b|c)+");
    re_bad("(?i)x", "'(?i' groups");
    re_bad("(?=x)", "'(?=' groups");
    re_bad("a*?", "lazy or possessive");
    re_bad("a{2}+", "lazy or possessive");
    re_bad("\\bword", "'\\b' is not supported");
    re_bad("(a)\\1", "'\\1' is not supported");
    re_bad("[\\S]", "inside brackets is not supported");
    re_bad("[a", "unclosed '['");
    re_bad("[z-a]", "out of order");
    re_bad("(a*)*", "empty"); /* regex_guard */
    re_bad("(a", "regcomp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_selections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_condition_logic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_modifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regex_modifier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_modifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wildcards_and_null, setup, teardown),
        cmocka_unit_test(test_rule_text),
        cmocka_unit_test_setup_teardown(test_level_and_techniques_load, setup, teardown),
        cmocka_unit_test(test_not_convertible),
        cmocka_unit_test_setup_teardown(test_partial_rule, setup, teardown),
        cmocka_unit_test(test_regex_translation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
