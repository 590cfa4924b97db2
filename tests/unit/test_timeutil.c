/*
 * test_timeutil.c - instants and durations: the parsing every window rests on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/timeutil.h"

static void test_iso_round_trip(void **state)
{
    char buf[OLA_ISO_MAX];
    int64_t ms;

    (void)state;
    assert_int_equal(ola_time_parse_iso("2022-08-08T11:00:00.000Z", &ms), 0);
    assert_int_equal(ms, INT64_C(1659956400000));
    assert_int_equal(ola_time_format_iso(ms, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2022-08-08T11:00:00.000Z");
    assert_int_equal(ola_time_parse_iso("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(ola_time_format_iso(-1, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    assert_int_equal(ola_time_parse_iso("2024-02-29T23:59:59.123456Z", &ms), 0);
    assert_int_equal(ola_time_format_iso(ms, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2024-02-29T23:59:59.123Z");
    assert_int_equal(ola_time_format_iso(ms, buf, 10), -1);
}

static void test_iso_offsets_and_errors(void **state)
{
    int64_t a, b;

    (void)state;
    assert_int_equal(ola_time_parse_iso("2022-08-08T13:00:00+02:00", &a), 0);
    assert_int_equal(ola_time_parse_iso("2022-08-08T11:00:00Z", &b), 0);
    assert_int_equal(a, b);
    assert_int_equal(ola_time_parse_iso("2022-08-08 06:30:00-0430", &a), 0);
    assert_int_equal(a, b);
    assert_int_equal(ola_time_parse_iso("2022-08-08T11:00:00", &a), -1);
    assert_int_equal(ola_time_parse_iso("2023-02-29T11:00:00Z", &a), -1);
    assert_int_equal(ola_time_parse_iso("2022-13-08T11:00:00Z", &a), -1);
    assert_int_equal(ola_time_parse_iso("2022-08-08T11:00:00Zjunk", &a), -1);
    assert_int_equal(ola_time_parse_iso("2022-08-08T11:00:00.Z", &a), -1);
    assert_int_equal(ola_time_parse_iso("", &a), -1);
    assert_int_equal(ola_time_parse_iso(NULL, &a), -1);
    assert_int_equal(ola_time_parse_iso_n("2022-08-08T11:00:00Z,rest", 20, &a), 0);
    assert_int_equal(a, b);
}

static void test_http_date(void **state)
{
    int64_t a, b;

    (void)state;
    assert_int_equal(ola_time_parse_iso("1994-11-06T08:49:37Z", &b), 0);
    assert_int_equal(ola_time_parse_http("Sun, 06 Nov 1994 08:49:37 GMT", &a), 0);
    assert_int_equal(a, b);
    assert_int_equal(ola_time_parse_http("Sunday, 06-Nov-94 08:49:37 GMT", &a), 0);
    assert_int_equal(a, b);
    assert_int_equal(ola_time_parse_http("Sun Nov  6 08:49:37 1994", &a), 0);
    assert_int_equal(a, b);
    assert_int_equal(ola_time_parse_http("yesterday", &a), -1);
    assert_int_equal(ola_time_parse_http("Sun, 06 Foo 1994 08:49:37 GMT", &a), -1);
}

static void test_durations(void **state)
{
    char buf[32];
    int64_t ms;

    (void)state;
    assert_int_equal(ola_duration_parse("10s", &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(ola_duration_parse("5m", &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(ola_duration_parse("1h30m", &ms), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(ola_duration_parse("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(ola_duration_parse("2d", &ms), 0);
    assert_int_equal(ms, 172800000);
    assert_int_equal(ola_duration_parse("30", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(ola_duration_parse("10x", &ms), -1);
    assert_int_equal(ola_duration_parse("-5s", &ms), -1);
    assert_int_equal(ola_duration_parse("s", &ms), -1);
    assert_int_equal(ola_duration_parse("5m30", &ms), -1);
    assert_int_equal(ola_duration_parse("", &ms), -1);
    assert_int_equal(ola_duration_format(5400000, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1h30m");
    assert_int_equal(ola_duration_format(1500, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1s500ms");
    assert_int_equal(ola_duration_format(0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "0s");
}

static void test_duration_limits(void **state)
{
    char buf[48];
    int64_t ms = 7;

    (void)state;
    /* 100 years is the most; beyond, 1 (too large), never a wrapped value */
    assert_int_equal(ola_duration_parse("36500d", &ms), 0);
    assert_int_equal(ms, OLA_DURATION_MAX_MS);
    ms = 7;
    assert_int_equal(ola_duration_parse("36500d1ms", &ms), 1);
    assert_int_equal(ola_duration_parse("36501d", &ms), 1);
    assert_int_equal(ola_duration_parse("200000000000d", &ms), 1); /* wrapped before */
    assert_int_equal(ola_duration_parse("106751991167d", &ms), 1);
    assert_int_equal(ola_duration_parse("9999999999999999h", &ms), 1);
    assert_int_equal(ola_duration_parse("99999999999999999999s", &ms), 1);
    assert_int_equal(ola_duration_parse("30000d30000d", &ms), 1);
    assert_int_equal(ola_duration_parse("3153600000001ms", &ms), 1);
    assert_int_equal(ms, 7); /* untouched on failure */
    assert_int_equal(ola_duration_parse("-1s", &ms), -1);
    assert_int_equal(ola_duration_parse("+1s", &ms), -1);
    assert_int_equal(ola_duration_parse("1s-1s", &ms), -1);
    /* formatting covers the whole int64_t range */
    assert_int_equal(ola_duration_format(INT64_MIN, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "-106751991167d7h12m55s808ms");
    assert_int_equal(ola_duration_format(INT64_MAX, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "106751991167d7h12m55s807ms");
    assert_int_equal(ola_duration_format(-90000, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "-1m30s");
    /* a start too far back for the clock is refused, not wrapped */
    assert_int_equal(ola_time_parse_start("-36501d", INT64_C(1700000000000), &ms), -1);
    assert_int_equal(ola_time_parse_start("-1d", INT64_MIN + 1000, &ms), -1);
    assert_int_equal(ola_time_parse_start("-1s", INT64_MIN + 1000, &ms), 0);
    assert_int_equal(ms, INT64_MIN);
}

static void test_start(void **state)
{
    int64_t now = INT64_C(1700000000000), ms;

    (void)state;
    assert_int_equal(ola_time_parse_start("now", now, &ms), 0);
    assert_int_equal(ms, now);
    assert_int_equal(ola_time_parse_start("-24h", now, &ms), 0);
    assert_int_equal(ms, now - 86400000);
    assert_int_equal(ola_time_parse_start("2022-08-08T11:00:00Z", now, &ms), 0);
    assert_int_equal(ms, INT64_C(1659956400000));
    assert_int_equal(ola_time_parse_start("-1y", now, &ms), -1);
    assert_int_equal(ola_time_parse_start("soon", now, &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_round_trip),
        cmocka_unit_test(test_iso_offsets_and_errors),
        cmocka_unit_test(test_http_date),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_duration_limits),
        cmocka_unit_test(test_start),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
