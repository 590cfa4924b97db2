/*
 * test_regex_guard.c - the limits a rule's regex meets before regcomp.
 *
 * Hostile patterns (seconds and gigabytes in glibc's regcomp, or a crash in
 * its matcher) must be refused by the guard alone: regcomp is never called
 * on them here, so a guard that lets one through fails the test instead of
 * eating the machine. Ordinary patterns, and the shapes the guard must read
 * as literals (a '{' in brackets, "\{"), must pass the guard and compile.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "filters/rules/regex_guard.h"

/* The guard refuses p with a reason containing want. */
static void refused(const char *p, const char *want)
{
    char why[160] = "";

    if (ola_regex_guard(p, why, sizeof(why)) != -1)
        fail_msg("accepted: %s", p);
    if (strstr(why, want) == NULL)
        fail_msg("%s: reason '%s' lacks '%s'", p, why, want);
}

/* The guard accepts p and glibc compiles it. */
static void accepted(const char *p)
{
    char why[160] = "";
    regex_t re;

    if (ola_regex_guard(p, why, sizeof(why)) != 0)
        fail_msg("refused %s: %s", p, why);
    if (regcomp(&re, p, REG_EXTENDED | REG_NOSUB) != 0)
        fail_msg("regcomp refused %s", p);
    regfree(&re);
}

/* A pattern of n copies of unit (buf holds at least n * strlen(unit) + 1). */
static const char *times(char *buf, size_t cap, const char *unit, size_t n)
{
    size_t len = strlen(unit), i;

    assert_true(n * len < cap);
    for (i = 0; i < n; i++)
        memcpy(buf + i * len, unit, len);
    buf[n * len] = '\0';
    return buf;
}

static void test_hostile(void **state)
{
    char buf[2048];

    (void)state;
    /* 2.4 GB in 2 s */
    refused("(x{0,1000}){0,1000}", "counts above 100");
    /* 543 MB, and within the counts: repeated empty-matching part */
    refused("x{0,255}{0,255}", "counts above 100");
    refused("x{0,100}{0,100}", "repeats a part that can match the empty string");
    /* CVE-2019-9192: passes regcomp, crashes regexec */
    refused("(|)(\\1\\1)*", "backreference \\1 at character 5 is not supported");
    refused("(a)\\9", "backreference \\9");
    /* exponential closures: 20 copies took 1.7 s, 30 would take half an hour */
    refused(times(buf, sizeof(buf), "((x*)*|)", 30), "repeats a part that can match");
    refused(times(buf, sizeof(buf), "(()*)?", 30), "'*' at character 4 repeats");
    refused("((x*)*){0,20}", "'*' at character 6 repeats");
    refused("(x?){2,3}", "'{2,3}' at character 5 repeats");
    refused("(a|)+", "repeats");
    refused("(\\b)*", "repeats");
    /* 102 MB, 5.5 s for 20 copies: unbounded inside bounded */
    refused(times(buf, sizeof(buf), "(x*){0,100}", 20), "repeats");
    /* products and sizes */
    refused("((a{1,10}){1,10}){1,11}", "multiply to 1100, over 1000");
    refused("((a+){1,100}){1,6}", "multiply to 1200");
    refused(times(buf, sizeof(buf), "a{100}", 21), "unrolls to 2100 elements, over 2000");
    refused("(abcdefghijklmnopqrstu){0,100}",
            "unrolls to over 2000 elements at character 24");
    /* length, depth, malformed intervals */
    refused(times(buf, sizeof(buf), "a", 1025), "1025 bytes, over 1024");
    refused(times(buf, sizeof(buf), "(", 33), "groups nest deeper than 32");
    refused("a{x}", "'{' at character 2 does not start {m}, {m,} or {m,n}");
    refused("a{1", "does not start");
    refused("a{,}", "does not start");
    refused("a{99999999999999999999}", "counts above 100");
}

static void test_ordinary(void **state)
{
    static const char *const ok[] = {
        "^svc-[a-z]+$",
        "aws|gcp",
        "^[89][0-9]$",
        "^(foo|bar)+.*baz?$",
        "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$",
        "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9]"
        "[0-9]?)$",
        "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        "https?://[a-z.]+(:[0-9]+)?(/.*)?",
        "^(a+)+b[[:alpha:]]{1,3}\\\\d$",
        "^a\\|b=.*$",
        "(x*)?",
        "(ab*)*",
        "\\w+\\s\\<word\\>",
        /* literal braces and brackets: nothing here repeats */
        "[{]",
        "[]{]x",
        "[^]{}]",
        "[[:alpha:]{]",
        "[[.{.]]",
        "a\\{3\\}",
        "x[a\\]{2}", /* '\' is literal in brackets: [a\] then {2} */
        "a)",        /* an unmatched ')' is a literal */
        /* at the limits */
        "a{100}",
        "a{0,100}",
        "a{,100}",
        "a{100,}",
        "(a{0,10}b){0,100}",
        "((a{1,10}){1,10}){1,10}",
    };
    char buf[2048];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        accepted(ok[i]);
    accepted(times(buf, sizeof(buf), "a{100}", 20));
    accepted(times(buf, sizeof(buf), "a", 1024));
    times(buf, sizeof(buf), "(a", 32);
    times(buf + 64, sizeof(buf) - 64, ")", 32);
    accepted(buf);
    /* what regcomp refuses on syntax passes the guard, to be refused there */
    assert_int_equal(ola_regex_guard("([a-z", buf, sizeof(buf)), 0);
    assert_int_equal(ola_regex_guard("a{2,1}", buf, sizeof(buf)), 0);
    assert_int_equal(ola_regex_guard("\\", buf, sizeof(buf)), 0);
}

static void test_fast(void **state)
{
    char buf[2048], why[160];
    struct timespec t0, t1;
    int i;

    (void)state;
    /* linear in the pattern: a hundred longest patterns well within a second */
    times(buf, sizeof(buf), "(a|[b{]|\\{)", 93);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < 100; i++)
        assert_int_equal(ola_regex_guard(buf, why, sizeof(why)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    /* a short buffer still gets a terminated reason */
    assert_int_equal(ola_regex_guard("(|)(\\1\\1)*", why, 8), -1);
    assert_int_equal(strlen(why), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_ordinary),
        cmocka_unit_test(test_fast),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
