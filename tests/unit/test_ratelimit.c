/*
 * test_ratelimit.c - the rate-limit governor on a clock the test drives.
 *
 * The governor reads no clock: each case feeds header strings and instants
 * and checks the verdicts, so pacing, reserve, 429 blocks and the jittered
 * backoff are exercised over simulated hours without sleeping. A simulated
 * server cuts the time to its reset to whole seconds as the real one does, so
 * the cases can check that a block ends within a second after the reset.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "agent/onelogin/ratelimit.h"

#define T0 1000000 /* an arbitrary monotonic start */

static void test_unknown_budget_goes(void **state)
{
    struct ola_rl rl;
    int64_t wait;
    int i;

    (void)state;
    ola_rl_init(&rl, 0.2, 1);
    for (i = 0; i < 100; i++) {
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, T0 + i, &wait), OLA_RL_GO);
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0 + i, &wait), OLA_RL_GO);
        assert_int_equal(wait, 0);
    }
    /* headers missing or malformed keep the budget unknown */
    ola_rl_update(&rl, NULL, "", "abc", T0);
    ola_rl_update(&rl, "-5", "12x", " ", T0);
    assert_int_equal(rl.limit, -1);
    assert_int_equal(rl.remaining, -1);
    assert_int_equal(rl.reset_at_ms, -1);
}

static void test_headers_parsed(void **state)
{
    struct ola_rl rl;
    int64_t ms;

    (void)state;
    ola_rl_init(&rl, 0.2, 1);
    ola_rl_update(&rl, "5000", " 4988 ", "832", T0);
    assert_int_equal(rl.limit, 5000);
    assert_int_equal(rl.remaining, 4988);
    assert_int_equal(rl.reset_at_ms, T0 + 832000);
    /* a response without headers (v2, token) keeps what was known */
    ola_rl_update(&rl, NULL, NULL, NULL, T0 + 5);
    assert_int_equal(rl.remaining, 4988);
    assert_int_equal(rl.reset_at_ms, T0 + 832000);
    assert_int_equal(ola_rl_parse_seconds("7", &ms), 0);
    assert_int_equal(ms, 7000);
    assert_int_equal(ola_rl_parse_seconds("99999999", &ms), 0);
    assert_int_equal(ms, OLA_RL_MAX_HINT_MS);
    assert_int_equal(ola_rl_parse_seconds("-1", &ms), -1);
    assert_int_equal(ola_rl_parse_seconds("1.5", &ms), -1);
    assert_int_equal(ola_rl_parse_seconds(NULL, &ms), -1);
}

/* The advised wait grows as the remaining calls fall. */
static void test_pacing_as_remaining_falls(void **state)
{
    static const long remaining[] = {5000, 1000, 501, 499, 200, 50, 10, 1};
    struct ola_rl rl;
    int64_t now = T0, wait, prev = 0;
    size_t i;

    (void)state;
    ola_rl_init(&rl, 0.2, 1);
    for (i = 0; i < sizeof(remaining) / sizeof(remaining[0]); i++) {
        char rem[32];

        snprintf(rem, sizeof(rem), "%ld", remaining[i]);
        ola_rl_init(&rl, 0.2, 1);
        ola_rl_update(&rl, "5000", rem, "1000", now); /* 1000 s to the reset */
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, now, &wait), OLA_RL_GO);
        ola_rl_update(&rl, "5000", rem, "1000", now);
        /* right after a call: how long until the next one? */
        if (ola_rl_admit(&rl, OLA_RL_POLL, now, &wait) == OLA_RL_GO) {
            assert_true(remaining[i] >= 500); /* above the 10% low-water mark */
            assert_int_equal(wait, 0);
        } else {
            assert_true(remaining[i] < 500);
            assert_int_equal(wait, 1000000 / (remaining[i] + 1));
            assert_true(wait > prev);
            prev = wait;
            /* waiting that long is enough */
            now += wait;
            ola_rl_update(&rl, "5000", rem, "1000", now);
            assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, now, &wait), OLA_RL_GO);
        }
        now += 1;
    }
    assert_true(prev >= 500000); /* one left: wait half the window */
}

static void test_exhausted_waits_for_reset(void **state)
{
    struct ola_rl rl;
    int64_t wait;

    (void)state;
    ola_rl_init(&rl, 0.2, 1);
    ola_rl_update(&rl, "5000", "0", "30", T0);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, T0, &wait), OLA_RL_WAIT);
    assert_int_equal(wait, 30000);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0 + 10000, &wait), OLA_RL_DEFER);
    assert_int_equal(wait, 20000);
    /* the window turns over: a fresh budget */
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, T0 + 30000, &wait), OLA_RL_GO);
    assert_int_equal(rl.remaining, 4999);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0 + 30001, &wait), OLA_RL_GO);
}

static void test_lookup_reserve(void **state)
{
    struct ola_rl rl;
    int64_t wait;

    (void)state;
    ola_rl_init(&rl, 0.2, 1);
    /* reserve 20% of 5000 = 1000 calls for polling */
    ola_rl_update(&rl, "5000", "1001", "600", T0);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0, &wait), OLA_RL_GO);
    assert_int_equal(rl.remaining, 1000);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0 + 1, &wait), OLA_RL_DEFER);
    assert_int_equal(wait, 600000 - 1);
    /* polls may still spend it */
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, T0 + 2, &wait), OLA_RL_GO);
    /* reserve unknown reset: a fixed deferral */
    ola_rl_init(&rl, 0.5, 1);
    ola_rl_update(&rl, "100", "40", NULL, T0);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0, &wait), OLA_RL_DEFER);
    assert_int_equal(wait, OLA_RL_DEFER_MS);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, T0, &wait), OLA_RL_GO);
    /* no reserve: lookups may use everything */
    ola_rl_init(&rl, 0, 1);
    ola_rl_update(&rl, "100", "40", "100", T0);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0, &wait), OLA_RL_GO);
}

static void test_limited_hints(void **state)
{
    struct ola_rl rl;
    int64_t wait;

    (void)state;
    ola_rl_init(&rl, 0.2, 1);
    /* X-RateLimit-Reset wins over Retry-After */
    assert_int_equal(ola_rl_limited(&rl, "7", "100", true, T0, 0), 7000);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, T0 + 6999, &wait), OLA_RL_WAIT);
    assert_int_equal(wait, 1);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_LOOKUP, T0 + 100, &wait), OLA_RL_WAIT);
    assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, T0 + 7000, &wait), OLA_RL_GO);
    /* Retry-After in seconds */
    ola_rl_init(&rl, 0.2, 1);
    assert_int_equal(ola_rl_limited(&rl, NULL, "12", false, T0, 0), 12000);
    /* Retry-After as an HTTP date, against the wall clock given */
    ola_rl_init(&rl, 0.2, 1);
    assert_int_equal(ola_rl_limited(&rl, "", "Mon, 28 Feb 2022 22:04:38 GMT", false, T0,
                                    1646085878000LL - 20000),
                     20000);
    /* "0" or a date in the past still means: not now (half a second) */
    ola_rl_init(&rl, 0.2, 1);
    assert_int_equal(ola_rl_limited(&rl, "0", NULL, true, T0, 0), OLA_RL_MIN_WAIT_MS);
    /* a server that keeps saying "0" is asked less and less often */
    assert_int_equal(ola_rl_limited(&rl, "0", NULL, true, T0 + 500, 0),
                     2 * OLA_RL_MIN_WAIT_MS);
    /* a later 429 never shortens an earlier block */
    ola_rl_init(&rl, 0.2, 1);
    assert_int_equal(ola_rl_limited(&rl, "60", NULL, true, T0, 0), 60000);
    assert_int_equal(ola_rl_limited(&rl, "1", NULL, true, T0 + 1000, 0), 59000);
}

/* An HTML 429 (a proxy's page: no headers): from about a second, doubling. */
static void test_backoff_without_hints(void **state)
{
    struct ola_rl rl;
    int64_t now = T0, wait, w;
    int64_t base = OLA_RL_BACKOFF_BASE_MS;
    int i;

    (void)state;
    ola_rl_init(&rl, 0.2, 42);
    ola_rl_update(&rl, "5000", "4000", "1800", now);
    for (i = 0; i < 10; i++) {
        w = ola_rl_limited(&rl, NULL, NULL, false, now, 0);
        if (i == 0)
            assert_in_range(w, 500, 1500);
        assert_in_range(w, base / 2,
                        base * 3 / 2 > OLA_RL_BACKOFF_MAX_MS ? OLA_RL_BACKOFF_MAX_MS
                                                             : base * 3 / 2);
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, now, &wait), OLA_RL_WAIT);
        assert_int_equal(wait, w);
        now += w;
        base = base * 2 > OLA_RL_BACKOFF_MAX_MS ? OLA_RL_BACKOFF_MAX_MS : base * 2;
        /* a proxy's page says nothing about the budget: once the backoff is over,
         * the call goes, not a wait for the reset half an hour away */
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, now, &wait), OLA_RL_GO);
    }
    /* a good answer starts the backoff over */
    ola_rl_ok(&rl);
    w = ola_rl_limited(&rl, NULL, NULL, false, now, 0);
    assert_in_range(w, 500, 1500);
    /* the cap is onelogin.backoff_max */
    ola_rl_init(&rl, 0.2, 7);
    ola_rl_set_backoff_max(&rl, 2000);
    for (i = 0; i < 10; i++) {
        w = ola_rl_limited(&rl, NULL, NULL, false, now, 0);
        assert_in_range(w, 500, 2000);
        now += w;
    }
    assert_int_equal(w, 2000);
    /* answers of calls in flight when the block began do not double it again */
    ola_rl_init(&rl, 0.2, 9);
    w = ola_rl_limited(&rl, NULL, NULL, false, now, 0);
    ola_rl_limited(&rl, NULL, NULL, false, now + 1, 0);
    ola_rl_limited(&rl, NULL, NULL, false, now + 2, 0);
    w = ola_rl_limited(&rl, NULL, NULL, false, now + w, 0);
    assert_in_range(w, 1000, 3000);
}

/*
 * A server whose window resets at `reset`: the header it sends at t is the
 * time left cut to whole seconds (rounded up, as olsim does; rounded down
 * makes the agent ask once early and get "0").
 */
static const char *sim_reset(char *buf, size_t cap, int64_t reset, int64_t t)
{
    snprintf(buf, cap, "%lld", (long long)((reset - t + 999) / 1000));
    return buf;
}

/* The block after a rate-limited answer ends within a second after the reset. */
static void test_resume_at_reset(void **state)
{
    static const int64_t phase[] = {0, 1, 137, 499, 500, 501, 999};
    char h[32];
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(phase) / sizeof(phase[0]); k++) {
        int64_t reset = T0 + 3000 + phase[k], t, w, wait;
        struct ola_rl rl;

        /* one answer, a 429 with the header */
        ola_rl_init(&rl, 0.2, 1);
        t = T0 + 50;
        w = ola_rl_limited(&rl, sim_reset(h, sizeof(h), reset, t), NULL, true, t, 0);
        assert_true(t + w >= reset);
        assert_true(t + w < reset + 1000);
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, t + w - 1, &wait), OLA_RL_WAIT);
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, t + w, &wait), OLA_RL_GO);

        /* a 400 rate_limit_exceeded: its body has no reset, the last headers do;
         * answers at several phases of the window bound it to a few ms */
        ola_rl_init(&rl, 0.2, 1);
        for (t = T0; t < T0 + 2000; t += 333) {
            ola_rl_update(&rl, "5", "1", sim_reset(h, sizeof(h), reset, t), t);
            ola_rl_ok(&rl);
        }
        w = ola_rl_limited(&rl, NULL, NULL, true, t, 0);
        assert_true(t + w >= reset);
        assert_true(t + w < reset + 340);

        /* budget spent (Remaining 0): pacing holds the call until the reset */
        ola_rl_init(&rl, 0.2, 1);
        t = T0 + 10;
        ola_rl_update(&rl, "5", "0", sim_reset(h, sizeof(h), reset, t), t);
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, t, &wait), OLA_RL_WAIT);
        assert_true(t + wait >= reset);
        assert_true(t + wait < reset + 1000);
        /* the next window: a bound more than a second later is a new window */
        t = t + wait;
        assert_int_equal(ola_rl_admit(&rl, OLA_RL_POLL, t, &wait), OLA_RL_GO);
        ola_rl_update(&rl, "5", "4", "3", t + 20);
        assert_int_equal(rl.reset_at_ms, t + 3020);
    }
}

/* Jitter: two governors with different seeds do not march in step. */
static void test_backoff_jitter(void **state)
{
    struct ola_rl a, b;
    int differ = 0, i;

    (void)state;
    for (i = 0; i < 16; i++) {
        ola_rl_init(&a, 0.2, (uint64_t)i + 1);
        ola_rl_init(&b, 0.2, (uint64_t)i + 1001);
        if (ola_rl_limited(&a, NULL, NULL, false, T0, 0) !=
            ola_rl_limited(&b, NULL, NULL, false, T0, 0))
            differ++;
    }
    assert_true(differ >= 12);
}

/*
 * The hintless wait is the floor plus the backoff's full-jitter draw: it
 * never goes below the floor, never past twice it, and fills that range.
 */
static void test_backoff_jitter_over_floor(void **state)
{
    int low = 0, high = 0;
    uint64_t seed;

    (void)state;
    for (seed = 1; seed <= 400; seed++) {
        struct ola_rl rl;
        int64_t w, w2;

        ola_rl_init(&rl, 0.2, seed);
        w = ola_rl_limited(&rl, NULL, NULL, false, T0, 0);
        assert_in_range(w, OLA_RL_MIN_WAIT_MS, 2 * OLA_RL_MIN_WAIT_MS);
        low += w < OLA_RL_MIN_WAIT_MS * 5 / 4;
        high += w > OLA_RL_MIN_WAIT_MS * 7 / 4;
        /* the second answer in a row: the floor has doubled */
        w2 = ola_rl_limited(&rl, NULL, NULL, false, T0 + w, 0);
        assert_in_range(w2, 2 * OLA_RL_MIN_WAIT_MS, 4 * OLA_RL_MIN_WAIT_MS);
    }
    /* 100 expected in each quarter */
    assert_true(low > 50 && high > 50);
}

/* onelogin.backoff_max under the 500 ms floor caps the floor too. */
static void test_backoff_max_under_floor(void **state)
{
    struct ola_rl rl;
    int i;

    (void)state;
    ola_rl_init(&rl, 0.2, 3);
    ola_rl_set_backoff_max(&rl, 200);
    for (i = 0; i < 4; i++)
        assert_int_equal(ola_rl_limited(&rl, NULL, NULL, false, T0 + i * 1000, 0), 200);
    ola_rl_init(&rl, 0.2, 3);
    ola_rl_set_backoff_max(&rl, 200);
    assert_int_equal(ola_rl_limited(&rl, "0", NULL, true, T0, 0), 200);
    /* a hint still wins over the cap */
    assert_int_equal(ola_rl_limited(&rl, "3", NULL, true, T0 + 1000, 0), 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_budget_goes),
        cmocka_unit_test(test_headers_parsed),
        cmocka_unit_test(test_pacing_as_remaining_falls),
        cmocka_unit_test(test_exhausted_waits_for_reset),
        cmocka_unit_test(test_lookup_reserve),
        cmocka_unit_test(test_limited_hints),
        cmocka_unit_test(test_backoff_without_hints),
        cmocka_unit_test(test_resume_at_reset),
        cmocka_unit_test(test_backoff_jitter),
        cmocka_unit_test(test_backoff_jitter_over_floor),
        cmocka_unit_test(test_backoff_max_under_floor),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
