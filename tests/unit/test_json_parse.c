/*
 * test_json_parse.c - the event parser (agent/core/json_parse.c) held to
 * Jansson: for every input, json_loadb(JSON_REJECT_DUPLICATES) and
 * ola_json_parse must give the same verdict, and when both accept, trees
 * that dump to the same bytes (reals at 17 digits, so a value off by one
 * bit shows). One difference is on purpose: a NUL byte anywhere is refused,
 * where Jansson 2.14 skips one after a number. The inputs: hand-picked
 * edges of the grammar, numbers, strings and depth; every recorded OneLogin
 * body in tests/data/onelogin; and 30,000 mutants of real events made by a
 * seeded generator, so a run is the same on every machine.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/fileio.h"
#include "agent/core/json_parse.h"
#include "agent/core/rng.h"

static size_t ola_tested, ola_accepted;

static char *ola_dump(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));

    assert_non_null(s);
    return s;
}

/* Both parsers on the same bytes: same verdict, same tree. */
static void ola_same(const char *p, size_t len)
{
    json_error_t je, oe;
    json_t *j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
    json_t *o = ola_json_parse(p, len, &oe);
    char *dj, *dol;

    ola_tested++;
    if (memchr(p, '\0', len) != NULL) { /* Jansson 2.14 skips one after a number */
        if (o != NULL)
            fail_msg("a NUL byte accepted in [%.*s] (%zu bytes)", (int)len, p, len);
        json_decref(j);
        return;
    }
    if ((j == NULL) != (o == NULL))
        fail_msg("verdicts differ on [%.*s] (%zu bytes): Jansson %s, olagent %s",
                 (int)(len > 200 ? 200 : len), p, len, j ? "accepts" : je.text,
                 o ? "accepts" : oe.text);
    if (j == NULL) {
        assert_true(oe.text[0] != '\0');
        assert_true(oe.position >= 0 && (size_t)oe.position <= len);
        assert_true(oe.line >= 1 && oe.column >= 1);
        return;
    }
    ola_accepted++;
    dj = ola_dump(j);
    dol = ola_dump(o);
    if (strcmp(dj, dol) != 0 || !json_equal(j, o))
        fail_msg("trees differ on [%.*s]: Jansson %s, olagent %s", (int)len, p, dj, dol);
    free(dj);
    free(dol);
    json_decref(j);
    json_decref(o);
}

/* ola_same on every NUL-terminated text of cases[0..n) */
static void ola_same_all(const char *const *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        ola_same(cases[i], strlen(cases[i]));
}

#define OLA_SAME_ALL(cases) ola_same_all((cases), sizeof(cases) / sizeof((cases)[0]))

static void test_grammar(void **state)
{
    static const char *const cases[] = {
        "{}", "[]", " \t\r\n{ } \n", "[1,2,3]", "{\"a\":1}", "{\"a\":[true,false,null]}",
        "{\"a\":{\"b\":{\"c\":[]}}}", "[{}, [], \"\", 0]",
        /* not a text whose top is an object or an array */
        "", " ", "1", "\"s\"", "true", "null",
        /* broken structure */
        "{", "[", "}", "]", "{]", "[}", "[1,]", "[,1]", "[1 2]", "{\"a\"}", "{\"a\":}",
        "{\"a\" 1}", "{\"a\":1,}", "{,\"a\":1}", "{\"a\":1 \"b\":2}", "{1:2}", "{'a':1}",
        "{a:1}", "[1]]", "[1][2]", "{} {}", "{}x", "[1]\x7f", "[1];",
        /* keywords: whole, exact, lower case */
        "[tru]", "[truex]", "[True]", "[nul]", "[nulll]", "[fals]", "[falsey]",
        "[true,false,null]", "[true1]", "[nan]", "[NaN]", "[Infinity]", "[-Infinity]",
        /* duplicates, also among decoded keys and at depth */
        "{\"a\":1,\"a\":1}", "{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":1,\"\\u0061\":2}",
        "{\"\":1,\"\":2}", "{\"x\":{\"a\":1,\"a\":2}}", "[{\"a\":1},{\"a\":1}]",
        "{\"a\":1,\"A\":2}", "{\"\\/\":1,\"/\":2}",
        /* whitespace JSON does not know */
        "[1,\x0b"
        "2]",
        "[1,\x0c"
        "2]",
        "\xef\xbb\xbf{}", "{}\xc2\xa0"};

    (void)state;
    OLA_SAME_ALL(cases);
}

static void test_numbers(void **state)
{
    static const char *const cases[] = {"[0]",
                                        "[-0]",
                                        "[1]",
                                        "[-1]",
                                        "[10]",
                                        "[01]",
                                        "[-01]",
                                        "[00]",
                                        "[+1]",
                                        "[-]",
                                        "[--1]",
                                        "[1.]",
                                        "[.5]",
                                        "[1.5]",
                                        "[-1.5]",
                                        "[1e5]",
                                        "[1E5]",
                                        "[1e+5]",
                                        "[1e-5]",
                                        "[1e]",
                                        "[1e+]",
                                        "[1.e5]",
                                        "[0.0]",
                                        "[-0.0]",
                                        "[0e0]",
                                        "[1.5e3]",
                                        "[1x]",
                                        "[0x10]",
                                        "[1_000]",
                                        "[9223372036854775807]",
                                        "[9223372036854775808]",
                                        "[-9223372036854775808]",
                                        "[-9223372036854775809]",
                                        "[18446744073709551615]",
                                        "[18446744073709551616]",
                                        "[99999999999999999999999]",
                                        "[1e308]",
                                        "[1.7976931348623157e308]",
                                        "[1.7976931348623159e308]",
                                        "[1e309]",
                                        "[-1e309]",
                                        "[1e-308]",
                                        "[4.9e-324]",
                                        "[1e-400]",
                                        "[-1e-400]",
                                        "[0.1]",
                                        "[0.30000000000000004]",
                                        "[123456789012345678901234567890.5]",
                                        "[1e0000000000000000000001]",
                                        "[100000000000000000000e-20]",
                                        "{\"id\":100000001,\"n\":-5,\"r\":2.5e-3}",
                                        "[1,-1,1.0,-1.0,1e1]",
                                        "[1 ]",
                                        "[1\n]"};
    char big[2100];
    size_t i;

    (void)state;
    OLA_SAME_ALL(cases);
    /* a real longer than the scratch buffer's first 512 bytes */
    big[0] = '[';
    big[1] = '1';
    big[2] = '.';
    for (i = 3; i < sizeof(big) - 2; i++)
        big[i] = (char)('0' + i % 10);
    big[sizeof(big) - 2] = ']';
    big[sizeof(big) - 1] = '\0';
    ola_same(big, strlen(big));
    memset(big + 1, '9', sizeof(big) - 3); /* an integer far past int64 */
    ola_same(big, strlen(big));
}

static void test_strings(void **state)
{
    static const char *const cases[] = {
        "[\"\"]", "[\"a\"]", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"\\a\"]",
        "[\"\\x41\"]", "[\"\\u0041\"]", "[\"\\u00e9\\u00E9\"]", "[\"\\u20ac\"]",
        "[\"\\uffff\"]", "[\"\\u0000\"]", "[\"a\\u0000b\"]", "[\"\\u001f\"]",
        "[\"\\u004\"]", "[\"\\u00g1\"]", "[\"\\u\"]", "[\"\\\"]", "[\"\\", "[\"abc",
        "[\"abc\\\"]",
        /* surrogates: a pair, lone halves, halves in the wrong order */
        "[\"\\ud83d\\ude00\"]", "[\"\\uD83D\\uDE00\"]", "[\"\\ud83d\"]", "[\"\\ude00\"]",
        "[\"\\ud83d\\u0041\"]", "[\"\\ude00\\ud83d\"]", "[\"\\ud83dx\"]",
        "[\"\\ud83d\\\"]", "[\"\\ud83d\\ud83d\"]", "[\"\\udbff\\udfff\"]",
        "[\"\\ud800\\udc00\"]", "[\"\\ud83d\\ude0\"]", "[\"\\ud83d\\u\"]",
        "[\"\\ue000\"]", "[\"\\ud7ff\"]",
        /* control characters raw, DEL raw */
        "[\"a\x01"
        "b\"]",
        "[\"a\tb\"]", "[\"a\nb\"]",
        "[\"a\x1f"
        "b\"]",
        "[\"a\x7f"
        "b\"]",
        /* UTF-8: good, overlong, surrogate, past U+10FFFF, truncated, stray */
        "[\"\xc3\xa9\"]", "[\"\xe2\x82\xac\"]", "[\"\xf0\x9f\x98\x80\"]",
        "[\"\xf4\x8f\xbf\xbf\"]", "[\"\xc0\x80\"]", "[\"\xc1\xbf\"]",
        "[\"\xe0\x80\x80\"]", "[\"\xe0\x9f\xbf\"]", "[\"\xed\xa0\x80\"]",
        "[\"\xed\x9f\xbf\"]", "[\"\xf0\x80\x80\x80\"]", "[\"\xf0\x8f\xbf\xbf\"]",
        "[\"\xf4\x90\x80\x80\"]", "[\"\xf5\x80\x80\x80\"]", "[\"\xff\"]", "[\"\xfe\"]",
        "[\"\x80\"]", "[\"\xbf\"]", "[\"\xc3\"]", "[\"\xe2\x82\"]", "[\"\xf0\x9f\x98\"]",
        "[\"\xc3\x28\"]", "[\"\xe2\x28\xa1\"]", "[\"\xf0\x28\x8c\xbc\"]", "[\"\xc3",
        "[\"\xe2\x82", "[\"\xf0\x9f\x98", "[\xc3\xa9]", "{\"\xc3\xa9\":1}",
        "{\"\xc3\":1}", "{\"a\\u00e9\":\"\\u00e9\",\"b\":[\"\\n\"]}",
        /* a decoded key followed by a value that decodes too (the scratch buffer is
           shared) */
        "{\"k\\n1\":\"v\\n1\",\"k\\n2\":{\"k\\n3\":\"v\\n3\"}}"};
    char big[3000];
    size_t i, n = 0;

    (void)state;
    OLA_SAME_ALL(cases);
    /* strings that outgrow the scratch buffer, with escapes early and late */
    n += (size_t)snprintf(big + n, sizeof(big) - n, "{\"\\t");
    for (i = 0; i < 1200; i++)
        big[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(big + n, sizeof(big) - n, "\\n\":\"\\u00e9");
    for (i = 0; i < 1200; i++)
        big[n++] = i % 100 == 0 ? '\\' : (char)('a' + i % 26);
    n += (size_t)snprintf(big + n, sizeof(big) - n, "\\u20ac\"}");
    assert_true(n < sizeof(big));
    ola_same(big, n);
}

/*
 * Nesting at and around Jansson's limit, where every value, a scalar too, is
 * a level: L arrays (L levels), L arrays around a 1 and L objects around {}
 * (L + 1 levels each).
 */
static void test_depth(void **state)
{
    static const size_t levels[] = {1,
                                    2,
                                    OLA_JSON_MAX_DEPTH - 1,
                                    OLA_JSON_MAX_DEPTH,
                                    OLA_JSON_MAX_DEPTH + 1,
                                    3 * OLA_JSON_MAX_DEPTH};
    static const char *const open[] = {"[", "[", "{\"a\":"};
    static const char *const mid[] = {"", "1", "{}"};
    static const char close[] = {']', ']', '}'};
    char *buf = malloc(6 * 3 * OLA_JSON_MAX_DEPTH + 16);
    size_t i, k, n, v;

    (void)state;
    assert_non_null(buf);
    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        for (v = 0; v < 3; v++) {
            n = 0;
            for (k = 0; k < levels[i]; k++) {
                memcpy(buf + n, open[v], strlen(open[v]));
                n += strlen(open[v]);
            }
            memcpy(buf + n, mid[v], strlen(mid[v]));
            n += strlen(mid[v]);
            for (k = 0; k < levels[i]; k++)
                buf[n++] = close[v];
            ola_same(buf, n);
        }
    }
    free(buf);
}

/* Every recorded OneLogin body, as it is and with each line on its own. */
static void test_recorded_bodies(void **state)
{
    const char *dir = getenv("OLA_DATA_DIR");
    char path[4096], *data = NULL, *line, *nl;
    struct dirent *de;
    size_t len, files = 0;
    DIR *d;

    (void)state;
    assert_non_null(dir);
    assert_true(snprintf(path, sizeof(path), "%s/onelogin", dir) < (int)sizeof(path));
    d = opendir(path);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t nl_len = strlen(de->d_name);

        if (nl_len < 5 || strcmp(de->d_name + nl_len - 5, ".json") != 0)
            continue;
        assert_true(snprintf(path, sizeof(path), "%s/onelogin/%s", dir, de->d_name) <
                    (int)sizeof(path));
        assert_int_equal(ola_read_file(path, 16 << 20, &data, &len), 0);
        ola_same(data, len);
        for (line = data; line < data + len; line = nl + 1) {
            nl = memchr(line, '\n', (size_t)(data + len - line));
            if (nl == NULL)
                nl = data + len;
            ola_same(line, (size_t)(nl - line));
        }
        free(data);
        data = NULL;
        files++;
    }
    closedir(d);
    assert_true(files >= 10);
}

/*
 * Mutants of real events: a byte replaced by one of the bytes that matter to
 * a JSON reader, deleted, or doubled; a span copied elsewhere (which makes
 * duplicate keys); the text cut short. One to four edits each.
 */
static void test_mutants(void **state)
{
    static const char *const seeds[] = {
        "{\"id\":100000001,\"created_at\":\"2024-02-29T12:00:00.834Z\",\"account_id\":"
        "519738,"
        "\"user_id\":40000978,\"event_type_id\":228,\"notes\":null,\"actor_system\":\"\","
        "\"actor_user_name\":\"Linda "
        "\xc3\x85ngstr\xc3\xb6m\",\"ipaddr\":\"185.225.192.95\","
        "\"risk_score\":null,\"risk_reasons\":[\"new device\",\"tor\"]}",
        "{\"id\":7,\"created_at\":\"2024-01-01T00:00:00Z\",\"custom_message\":\"a "
        "\\\"quoted\\\" "
        "\\u00e9\\ud83d\\ude00 \\\\ "
        "path\\/x\\n\",\"score\":-12.5e-3,\"ok\":true,\"f\":false,"
        "\"nested\":{\"a\":[1,2,{\"b\":null}],\"c\":{}}}",
        "[{\"a\":0},{\"a\":-0.0},[[],[[]]],\"\xe2\x82\xac\",9223372036854775807,1e308]"};
    static const char bytes[] = "\"\\{}[],:0-+.eE1u \t\n\x80\xc3\xed\xf4\xff\x00\x1f"
                                "aDnt";
    char buf[1024];
    struct ola_rng rng; /* a fixed seed: the same mutants on every machine */
    size_t round, n, edits, e, at, span, to;

    (void)state;
    ola_rng_seed(&rng, 0x9e3779b97f4a7c15ULL);
    for (round = 0; round < 30000; round++) {
        const char *seed = seeds[round % (sizeof(seeds) / sizeof(seeds[0]))];

        n = strlen(seed);
        memcpy(buf, seed, n);
        edits = 1 + ola_rng_next(&rng) % 4;
        for (e = 0; e < edits && n > 0; e++) {
            at = ola_rng_next(&rng) % n;
            switch (ola_rng_next(&rng) % 5) {
            case 0: /* replace */
                buf[at] = bytes[ola_rng_next(&rng) % (sizeof(bytes) - 1)];
                break;
            case 1: /* delete */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            case 2: /* insert */
                if (n + 1 >= sizeof(buf))
                    break;
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = bytes[ola_rng_next(&rng) % (sizeof(bytes) - 1)];
                n++;
                break;
            case 3: /* copy a span elsewhere */
                span = 1 + ola_rng_next(&rng) % 40;
                if (span > n - at)
                    span = n - at;
                to = ola_rng_next(&rng) % n;
                if (n + span >= sizeof(buf))
                    break;
                memmove(buf + to + span, buf + to, n - to);
                memmove(buf + to, buf + (at >= to ? at + span : at), span);
                n += span;
                break;
            default: /* cut */
                n = at;
                break;
            }
        }
        ola_same(buf, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar),         cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings),         cmocka_unit_test(test_depth),
        cmocka_unit_test(test_recorded_bodies), cmocka_unit_test(test_mutants),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    fprintf(stderr, "compared %zu inputs, %zu accepted by both\n", ola_tested,
            ola_accepted);
    return rc;
}
