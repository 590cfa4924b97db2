/*
 * test_rules_pack.c - the default rule pack's metadata and the severity
 * scale it is written on.
 *
 * The scale: the five names info / low / medium / high / critical read as
 * 0 / 3 / 5 / 7 / 9 and every level 0..10 is named by its band; CEF writes
 * the level as its header severity and LEEF as `sev`, where 0 becomes 1
 * (LEEF's sev is 1..10). The pack (config/rules/default.yaml): every rule
 * has a severity by name, a MITRE ATT&CK technique tag `attack.tNNNN[.NNN]`,
 * a true and a false test case; every stateful rule states its window,
 * threshold and key; the rules issue 21 asks for are there, with the
 * super-user grant above the other privilege grants and the MFA factor
 * removal high.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <regex.h>

#include "config/config.h"
#include "filter_test.h"
#include "filters/rules/severity.h"
#include "outputs/formats/format.h"

static const struct {
    const char *name;
    int level, cef, leef;
} scale[] = {{"info", 0, 0, 1},
             {"low", 3, 3, 3},
             {"medium", 5, 5, 5},
             {"high", 7, 7, 7},
             {"critical", 9, 9, 9}};

#define NSCALE (sizeof(scale) / sizeof(scale[0]))

static void test_scale(void **state)
{
    static const char *const bands[11] = {"info",   "low",      "low",     "low",
                                          "medium", "medium",   "medium",  "high",
                                          "high",   "critical", "critical"};
    size_t i;

    (void)state;
    for (i = 0; i < NSCALE; i++) {
        assert_int_equal(ola_severity_parse(scale[i].name), scale[i].level);
        assert_string_equal(ola_severity_name(scale[i].level), scale[i].name);
    }
    for (i = 0; i <= 10; i++)
        assert_string_equal(ola_severity_name((int)i), bands[i]);
    assert_int_equal(ola_severity_parse("informational"), -1);
    assert_int_equal(ola_severity_parse("Info"), -1);
    assert_int_equal(ola_severity_parse("11"), -1);
}

/* The 7th '|' field of a CEF line (after "CEF:0|V|P|1|sig|name|"). */
static int cef_severity(const char *line)
{
    const char *p = line;
    char *end;
    int bars = 0;
    long v;

    while (*p != '\0' && bars < 6)
        if (*p++ == '|')
            bars++;
    if (bars != 6)
        return -1;
    v = strtol(p, &end, 10);
    return end != p && *end == '|' ? (int)v : -1;
}

static void test_cef_leef_numbers(void **state)
{
    struct ola_format_opts o = {
        .leef_delim = '^', .vendor = "V", .product = "P", .product_version = "1"};
    struct ola_buf out = OLA_BUF_INIT;
    size_t i;

    (void)state;
    for (i = 0; i < NSCALE; i++) {
        json_t *ev =
            json_pack("{s:i,s:i,s:i}", "id", 9, "event_type_id", 5, "user_id", 42);
        struct ola_event e;
        char want[32];

        memset(&e, 0, sizeof(e));
        e.kind = OLA_REC_EVENT;
        e.ev = ev;
        e.id = 9;
        e.created_ms = 1659956400000LL;
        e.severity = scale[i].level;
        ola_buf_reset(&out);
        assert_int_equal(ola_format_event(ola_format_find("cef"), &e, &o, &out), 0);
        if (cef_severity(out.data) != scale[i].cef)
            fail_msg("%s: CEF line '%s', want severity %d", scale[i].name, out.data,
                     scale[i].cef);
        ola_buf_reset(&out);
        assert_int_equal(ola_format_event(ola_format_find("leef"), &e, &o, &out), 0);
        snprintf(want, sizeof(want), "^sev=%d", scale[i].leef);
        if (strstr(out.data, want) == NULL || (strstr(out.data, "^sev=0") != NULL))
            fail_msg("%s: LEEF line '%s', want '%s'", scale[i].name, out.data, want);
        json_decref(ev);
    }
    ola_buf_free(&out);
}

static const struct ola_cfg *rule_named(const struct ola_cfg *list, const char *name)
{
    size_t i;

    for (i = 0; i < ola_cfg_len(list); i++) {
        const char *n = ola_cfg_scalar(ola_cfg_get(ola_cfg_at(list, i), "name"));

        if (n != NULL && strcmp(n, name) == 0)
            return ola_cfg_at(list, i);
    }
    fail_msg("the default pack has no rule '%s'", name);
    return NULL;
}

/* The level of a rule's severity (flag or alert). */
static int rule_level(const struct ola_cfg *rule)
{
    const struct ola_cfg *s = ola_cfg_get(rule, "severity");

    if (s == NULL)
        s = ola_cfg_get(ola_cfg_get(rule, "alert"), "severity");
    return ola_severity_parse(ola_cfg_scalar(s));
}

static void test_pack_meta(void **state)
{
    static const char *const wanted[] = {"password_spray",
                                         "many_users_login_one_ip",
                                         "password_changed_by_other",
                                         "password_changed_by_owner",
                                         "mass_password_changes",
                                         "new_user_created",
                                         "high_risk_failure_then_success",
                                         "mfa_failures_then_success",
                                         "user_assumed_many",
                                         "user_assumed",
                                         "password_revealed",
                                         "super_user_granted",
                                         "privilege_granted",
                                         "auth_factor_removed"};
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err = {0};
    const struct ola_cfg *list;
    regex_t tech;
    size_t i, k, n;

    (void)state;
    assert_int_equal(
        regcomp(&tech, "^attack\\.t[0-9]{4}(\\.[0-9]{3})?$", REG_EXTENDED | REG_NOSUB),
        0);
    assert_int_equal(ola_cfg_load_file(ola_t_default_pack(), &doc, &err), 0);
    list = ola_cfg_get(ola_cfg_root(doc), "rules");
    assert_true(ola_cfg_len(list) >= 25);
    for (i = 0; i < ola_cfg_len(list); i++) {
        const struct ola_cfg *r = ola_cfg_at(list, i);
        const struct ola_cfg *tags = ola_cfg_get(r, "tags");
        const struct ola_cfg *alert = ola_cfg_get(r, "alert");
        const struct ola_cfg *tests = ola_cfg_get(r, "tests");
        const char *name = ola_cfg_scalar(ola_cfg_get(r, "name"));
        const char *sev = ola_cfg_scalar(ola_cfg_get(r, "severity"));
        bool named = false, yes = false, no = false;

        if (sev == NULL)
            sev = ola_cfg_scalar(ola_cfg_get(alert, "severity"));
        for (k = 0; sev != NULL && k < NSCALE; k++)
            named |= strcmp(sev, scale[k].name) == 0;
        if (!named)
            fail_msg(
                "rule '%s': severity '%s' is not one of info/low/medium/high/critical",
                name, sev ? sev : "(none)");
        for (k = 0, n = 0; k < ola_cfg_len(tags); k++) {
            const char *t = ola_cfg_scalar(ola_cfg_at(tags, k));

            n += t != NULL && regexec(&tech, t, 0, NULL, 0) == 0;
        }
        if (n == 0)
            fail_msg("rule '%s' has no MITRE ATT&CK technique tag attack.tNNNN", name);
        for (k = 0; k < ola_cfg_len(tests); k++) {
            const char *e = ola_cfg_scalar(ola_cfg_get(ola_cfg_at(tests, k), "expect"));

            yes |= e != NULL && strcmp(e, "true") == 0;
            no |= e != NULL && strcmp(e, "false") == 0;
        }
        if (!yes || !no)
            fail_msg("rule '%s' lacks a true or a false case", name);
        if (alert != NULL && (ola_cfg_get(alert, "window") == NULL ||
                              ola_cfg_get(alert, "threshold") == NULL ||
                              ola_cfg_get(alert, "key") == NULL))
            fail_msg("alert rule '%s' does not state its window, threshold and key",
                     name);
    }
    for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
        (void)rule_named(list, wanted[i]);
    assert_true(rule_level(rule_named(list, "super_user_granted")) >
                rule_level(rule_named(list, "privilege_granted")));
    assert_int_equal(rule_level(rule_named(list, "auth_factor_removed")), 7);
    regfree(&tech);
    ola_cfg_doc_destroy(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_cef_leef_numbers),
        cmocka_unit_test(test_pack_meta),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
