/*
 * test_buf.c - the byte buffer's writers that other tests only reach
 * indirectly: integers in decimal at the ends of their range, and JSON
 * strings that need escaping, each compared with what printf and Jansson
 * make of the same value.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/buf.h"

static void test_put_i64(void **state)
{
    static const int64_t vals[] = {0,
                                   1,
                                   -1,
                                   9,
                                   10,
                                   -10,
                                   1765000000000,
                                   -1765000000000,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MIN + 1,
                                   99,
                                   100,
                                   101,
                                   999,
                                   1000,
                                   -99,
                                   -100,
                                   1796696217483};
    struct ola_buf b = OLA_BUF_INIT;
    char want[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        ola_buf_reset(&b);
        assert_int_equal(ola_buf_puts(&b, "x"), 0);
        assert_int_equal(ola_buf_put_i64(&b, vals[i]), 0);
        assert_true(snprintf(want, sizeof(want), "x%" PRId64, vals[i]) > 0);
        assert_string_equal(b.data, want); /* NUL-terminated, as every append leaves it */
        assert_int_equal(b.len, strlen(want));
    }
    ola_buf_free(&b);
}

/* Every byte below 0x20, quotes, backslashes, non-ASCII: JSON that Jansson
 * reads back as the same string. */
static void test_put_json_string(void **state)
{
    struct ola_buf b = OLA_BUF_INIT;
    char s[64];
    json_t *v;
    size_t i, n = 0;

    (void)state;
    for (i = 1; i < 0x20; i++)
        s[n++] = (char)i;
    memcpy(s + n, "\"\\/\xc3\xa9\xe2\x80\xa8z", 9); /* no NUL: that one is refused */
    n += 9;
    assert_int_equal(ola_buf_put_json_string(&b, s, n), 0);
    v = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), s, n);
    json_decref(v);
    ola_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_i64),
        cmocka_unit_test(test_put_json_string),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
