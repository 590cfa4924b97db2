/*
 * test_progress.c - progress lines: formatting, rates over the sliding
 * window, the ETA, the caught-up line, and the process-wide reporter
 * writing through the logger.
 *
 * The step function takes its clocks as arguments, so a backfill of hours
 * is simulated with made-up instants and no sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/log.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/progress.h"

#define HOUR (3600 * 1000LL)

static void test_duration(void **state)
{
    char b[32];

    (void)state;
    assert_int_equal(ola_progress_duration(0, b, sizeof(b)), 0);
    assert_string_equal(b, "0s");
    assert_int_equal(ola_progress_duration(999, b, sizeof(b)), 0);
    assert_string_equal(b, "0s");
    assert_int_equal(ola_progress_duration(45 * 1000, b, sizeof(b)), 0);
    assert_string_equal(b, "45s");
    assert_int_equal(ola_progress_duration(90 * 1000, b, sizeof(b)), 0);
    assert_string_equal(b, "1m30s");
    assert_int_equal(ola_progress_duration(5 * 60 * 1000, b, sizeof(b)), 0);
    assert_string_equal(b, "5m");
    assert_int_equal(
        ola_progress_duration(3 * HOUR + 12 * 60 * 1000 + 59 * 1000, b, sizeof(b)), 0);
    assert_string_equal(b, "3h12m");
    assert_int_equal(ola_progress_duration(2 * HOUR, b, sizeof(b)), 0);
    assert_string_equal(b, "2h");
    assert_int_equal(ola_progress_duration(51 * HOUR, b, sizeof(b)), 0);
    assert_string_equal(b, "2d3h");
    assert_int_equal(ola_progress_duration(-5, b, sizeof(b)), 0);
    assert_string_equal(b, "0s");
    assert_int_equal(ola_progress_duration(51 * HOUR, b, 4), -1);
}

static void test_format(void **state)
{
    struct ola_progress_figures f = {123456, 2500.0, 3 * HOUR + 12 * 60000,
                                     HOUR + 17 * 60000, false};
    char b[OLA_PROGRESS_LINE_MAX];

    (void)state;
    assert_int_equal(ola_progress_format(&f, b, sizeof(b)), 0);
    assert_string_equal(b, "123456 events, 2500/s, lag 3h12m, eta 1h17m");
    f.rate = 2.34;
    f.eta_ms = -1;
    assert_int_equal(ola_progress_format(&f, b, sizeof(b)), 0);
    assert_string_equal(b, "123456 events, 2.3/s, lag 3h12m, eta ?");
    f.rate = -1;
    f.lag_ms = -1;
    assert_int_equal(ola_progress_format(&f, b, sizeof(b)), 0);
    assert_string_equal(b, "123456 events, ?/s, lag ?, eta ?");
    f.rate = 40;
    f.lag_ms = 25000;
    f.caught_up = true;
    assert_int_equal(ola_progress_format(&f, b, sizeof(b)), 0);
    assert_string_equal(b, "123456 events, 40/s, lag 25s, caught up");
    assert_int_equal(ola_progress_format(&f, b, 20), -1);
}

/* A backfill: 2,500 events and one hour of event time per wall second. */
static void test_backfill_rate_and_eta(void **state)
{
    struct ola_progress p;
    struct ola_progress_figures f;
    const int64_t wall0 = 1700000000000LL, wm0 = wall0 - 10 * HOUR;
    int64_t t, lines = 0;

    (void)state;
    ola_progress_init(&p, 0, 0);
    for (t = 0; t <= 5000; t += 250) {
        uint64_t ev = (uint64_t)(t * 5 / 2);
        int64_t wm = wm0 + t * 3600;
        bool due = ola_progress_step(&p, t, wall0 + t, ev, wm, &f);

        if (t < 5000) {
            assert_false(due);
            continue;
        }
        assert_true(due);
        lines++;
        assert_int_equal(f.events, 12500);
        assert_true(f.rate > 2499.0 && f.rate < 2501.0);
        /* lag = 10h - 5 s * 3599 */
        assert_int_equal(f.lag_ms, 10 * HOUR - 5 * 3599000);
        /* the lag shrinks by 3599 s per second */
        assert_true(f.eta_ms >= f.lag_ms / 3599 - 1 && f.eta_ms <= f.lag_ms / 3599 + 1);
        assert_false(f.caught_up);
    }
    assert_int_equal(lines, 1);
    /* No second line before another interval. */
    assert_false(ola_progress_step(&p, 9000, wall0 + 9000, 22500, wm0 + 9000 * 3600, &f));
    assert_true(
        ola_progress_step(&p, 10000, wall0 + 10000, 25000, wm0 + 10000 * 3600, &f));
}

/* The rate follows a slowdown once the window has passed. */
static void test_sliding_window(void **state)
{
    struct ola_progress p;
    struct ola_progress_figures f;
    const int64_t wall0 = 1700000000000LL, wm0 = wall0 - 100 * HOUR;
    uint64_t ev = 0;
    int64_t t, wm = wm0;
    double last_rate = -1;

    (void)state;
    ola_progress_init(&p, 5000, 0);
    for (t = 0; t <= 120000; t += 500) {
        if (t > 0) {
            ev += t <= 60000 ? 1000 : 100; /* 2000/s, then 200/s */
            wm += t <= 60000 ? 500 * 10 : 500 * 3;
        }
        if (ola_progress_step(&p, t, wall0 + t, ev, wm, &f)) {
            last_rate = f.rate;
            if (t == 60000)
                assert_true(f.rate > 1999.0 && f.rate < 2001.0);
            if (t >= 95000) {
                /* the whole window is after the slowdown */
                assert_true(f.rate > 199.0 && f.rate < 201.0);
                /* pace 3: the lag shrinks by 2 s per second */
                assert_true(f.eta_ms >= f.lag_ms / 2 - 1 && f.eta_ms <= f.lag_ms / 2 + 1);
            }
        }
    }
    assert_true(last_rate > 199.0 && last_rate < 201.0);
}

/* A pace of one second per second or less never catches up: the ETA is unknown. */
static void test_not_gaining(void **state)
{
    struct ola_progress p;
    struct ola_progress_figures f;
    const int64_t wall0 = 1700000000000LL, wm0 = wall0 - 2 * HOUR;
    char b[OLA_PROGRESS_LINE_MAX];

    (void)state;
    ola_progress_init(&p, 1000, 0);
    assert_false(ola_progress_step(&p, 0, wall0, 0, wm0, &f));
    assert_true(ola_progress_step(&p, 2000, wall0 + 2000, 10, wm0 + 1000, &f));
    assert_int_equal(f.eta_ms, -1);
    assert_true(f.rate > 4.9 && f.rate < 5.1);
    assert_int_equal(ola_progress_format(&f, b, sizeof(b)), 0);
    assert_string_equal(b, "10 events, 5.0/s, lag 2h, eta ?");
}

/* Quiet while caught up; one "caught up" line at the end of a catch-up. */
static void test_caught_up(void **state)
{
    struct ola_progress p;
    struct ola_progress_figures f;
    const int64_t wall0 = 1700000000000LL;
    char b[OLA_PROGRESS_LINE_MAX];
    int64_t t;

    (void)state;
    ola_progress_init(&p, 5000, 60000);
    /* Live tail, 20 s behind: never a line. */
    for (t = 0; t <= 60000; t += 1000)
        assert_false(
            ola_progress_step(&p, t, wall0 + t, (uint64_t)t, wall0 + t - 20000, &f));
    /* Fall 2 minutes behind: lines again. */
    assert_true(ola_progress_step(&p, 65000, wall0 + 65000, 70000, wall0 - 55000, &f));
    assert_false(f.caught_up);
    assert_int_equal(f.lag_ms, 120000);
    /* Back to 10 s behind: one caught-up line, then quiet. */
    assert_true(ola_progress_step(&p, 70000, wall0 + 70000, 80000, wall0 + 60000, &f));
    assert_true(f.caught_up);
    assert_int_equal(ola_progress_format(&f, b, sizeof(b)), 0);
    assert_non_null(strstr(b, "lag 10s, caught up"));
    assert_false(ola_progress_step(&p, 75000, wall0 + 75000, 90000, wall0 + 65000, &f));
    assert_false(ola_progress_step(&p, 80000, wall0 + 80000, 99000, wall0 + 70000, &f));
}

/* Unknown watermark: lines say "lag ?" and carry on. */
static void test_unknown_watermark(void **state)
{
    struct ola_progress p;
    struct ola_progress_figures f;

    (void)state;
    ola_progress_init(&p, 1000, 0);
    assert_false(ola_progress_step(&p, 0, 1000, 0, -1, &f));
    assert_true(ola_progress_step(&p, 1000, 2000, 50, -1, &f));
    assert_int_equal(f.lag_ms, -1);
    assert_int_equal(f.eta_ms, -1);
}

/* The process-wide reporter reads ola_stats and writes through the logger. */
static void test_tick_logs(void **state)
{
    FILE *log = tmpfile();
    char text[1024];
    size_t n;

    (void)state;
    assert_non_null(log);
    ola_stats_reset();
    ola_log_setup(OLA_LOG_ERR, OLA_LOG_TEXT, log); /* progress ignores the level */
    ola_progress_setup(false, 2000, 0);
    if (!ola_progress_enabled()) {
        /* stderr is not a terminal here: nothing is printed unless asked. */
        OLA_STAT_SET(watermark_ms, ola_now_ms() - 5 * HOUR);
        ola_progress_tick(0);
        ola_progress_tick(3000);
        assert_int_equal(ftell(log), 0);
    }
    ola_progress_setup(true, 2000, 0);
    assert_true(ola_progress_enabled());
    OLA_STAT_SET(events_delivered, 100);
    OLA_STAT_SET(watermark_ms, ola_now_ms() - 5 * HOUR);
    ola_progress_tick(10000);
    OLA_STAT_SET(events_delivered, 1100);
    ola_progress_tick(12000);
    rewind(log);
    n = fread(text, 1, sizeof(text) - 1, log);
    text[n] = '\0';
    assert_non_null(strstr(text, " info progress: 1100 events, 500/s, lag 5h, eta ?\n"));
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    fclose(log);
    ola_stats_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_backfill_rate_and_eta),
        cmocka_unit_test(test_sliding_window),
        cmocka_unit_test(test_not_gaining),
        cmocka_unit_test(test_caught_up),
        cmocka_unit_test(test_unknown_watermark),
        cmocka_unit_test(test_tick_logs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
