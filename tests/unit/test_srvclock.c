/*
 * test_srvclock.c - the server clock from whole-second Date headers: the
 * bounds always hold the truth, probes tighten them to about two round trips
 * in a few polls, and a stepped clock restarts the estimate.
 *
 * A Date far off the estimate (hours ahead or behind) is ignored and counted
 * until several answers in a row, over some seconds, agree on it.
 *
 * A simulated server with a known offset stamps each answer a little after
 * the request left (one-way time), cut down to the second, as HTTP does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent/onelogin/srvclock.h"

struct sim {
    int64_t offset; /* the truth: server - local */
    int64_t rtt;    /* request out to answer in */
};

/* One request sent at local `sent`; feeds the answer to ck. */
static void sim_ask(const struct sim *s, struct ola_srvclock *ck, int64_t sent)
{
    int64_t stamp = sent + s->rtt / 2 + s->offset; /* server time when it answered */
    int64_t date = stamp - stamp % 1000;

    ola_srvclock_learn(ck, date, sent, sent + s->rtt);
    assert_true(ck->lower_ms <= s->offset);
    assert_true(s->offset < ck->upper_ms);
    assert_true(ola_srvclock_now(ck, sent + s->rtt) <= stamp + s->rtt);
}

/*
 * Polls every second from t0 with the probe delays, n times. Returns the
 * number of polls that were delayed.
 */
static int sim_poll(const struct sim *s, struct ola_srvclock *ck, int64_t t0, int n,
                    int64_t *t_end)
{
    int64_t t = t0, delay;
    int i, delayed = 0;

    for (i = 0; i < n; i++) {
        sim_ask(s, ck, t);
        delay = ola_srvclock_probe_delay(ck, t + s->rtt + 1000, 50);
        assert_in_range(delay, 0, 999);
        if (delay > 0)
            delayed++;
        t += s->rtt + 1000 + delay;
    }
    *t_end = t;
    return delayed;
}

static void test_constant_phase_learns_nothing(void **state)
{
    /* without probes, polls at the same phase keep the first lag: the reason
     * the probes exist */
    struct sim s = {3600000 + 737, 2};
    struct ola_srvclock ck;
    int64_t t = 1700000000000;
    int i;

    (void)state;
    ola_srvclock_init(&ck);
    assert_false(ck.known);
    for (i = 0; i < 30; i++, t += 1000)
        sim_ask(&s, &ck, t);
    assert_true(s.offset - ck.lower_ms > 700);
    assert_true(ola_srvclock_spread(&ck) > 900);
}

static void test_probes_tighten_in_a_few_polls(void **state)
{
    int64_t offsets[] = {0,   1,  499,  500,           737,
                         999, -1, -250, 3600000 + 123, -7200000 + 901};
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
        struct sim s = {offsets[k], 2};
        struct ola_srvclock ck;
        int64_t t = 1700000000000 + (int64_t)k * 137, end;
        int delayed;

        ola_srvclock_init(&ck);
        delayed = sim_poll(&s, &ck, t, 12, &end);
        /* 1000 ms halves to <= 50 in about five probes */
        assert_in_range(delayed, 1, 7);
        assert_true(ola_srvclock_spread(&ck) <= 50);
        assert_in_range(s.offset - ck.lower_ms, 0, 50);
        /* tight: no more delays, and it stays tight */
        assert_int_equal(sim_poll(&s, &ck, end, 20, &end), 0);
        assert_true(ola_srvclock_spread(&ck) <= 50);
    }
}

static void test_slow_round_trips_stop_probing(void **state)
{
    /* 300 ms round trips cannot give 50 ms: the probes stop near two round
     * trips instead of delaying every poll forever */
    struct sim s = {42424, 300};
    struct ola_srvclock ck;
    int64_t end;

    (void)state;
    ola_srvclock_init(&ck);
    assert_in_range(sim_poll(&s, &ck, 1700000000000, 30, &end), 1, 8);
    assert_true(ola_srvclock_spread(&ck) <= 2 * 300 + 10);
    assert_int_equal(sim_poll(&s, &ck, end, 20, &end), 0);
}

static void test_clock_step_restarts(void **state)
{
    struct sim s = {5000, 2};
    struct ola_srvclock ck;
    int64_t end;

    (void)state;
    ola_srvclock_init(&ck);
    sim_poll(&s, &ck, 1700000000000, 12, &end);
    assert_true(ola_srvclock_spread(&ck) <= 50);
    /* the local clock steps 10 s ahead: the server now seems 10 s behind */
    s.offset -= 10000;
    sim_ask(&s, &ck, end);
    assert_in_range(s.offset - ck.lower_ms, 0, 1000);
    assert_true(ola_srvclock_spread(&ck) > 50);
    /* and the probes start again */
    sim_poll(&s, &ck, end + 1000, 12, &end);
    assert_true(ola_srvclock_spread(&ck) <= 50);
    /* one second back: also outside the bounds, also a restart */
    s.offset += 1000;
    sim_ask(&s, &ck, end);
    assert_in_range(s.offset - ck.lower_ms, 0, 1000);
}

/* One answer at `sent` from a server `offset` off; returns what it changed. */
static enum ola_srvclock_change sim_answer(struct ola_srvclock *ck, int64_t offset,
                                           int64_t sent)
{
    int64_t stamp = sent + 1 + offset;

    return ola_srvclock_learn(ck, stamp - stamp % 1000, sent, sent + 2);
}

static void test_outliers_ignored(void **state)
{
    static const int64_t lies[] = {7200000, -7200000, 300000 + 2000, -86400000};
    struct sim s = {1234, 2};
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(lies) / sizeof(lies[0]); k++) {
        struct ola_srvclock ck;
        int64_t t, end, lower, upper;
        int i;

        ola_srvclock_init(&ck);
        sim_poll(&s, &ck, 1700000000000, 12, &end);
        lower = ck.lower_ms;
        upper = ck.upper_ms;
        /* a few seconds of answers that lie, all agreeing with each other: four
         * (fewer than needed), then more over less than the span */
        t = end;
        assert_int_equal(sim_answer(&ck, s.offset + lies[k], t),
                         OLA_SRVCLOCK_OUTLIER_START);
        assert_true(ck.jump_ms > 0 ? lies[k] > 0 : lies[k] < 0);
        for (i = 1; i < 8; i++) {
            t += 1000;
            assert_int_equal(sim_answer(&ck, s.offset + lies[k], t), OLA_SRVCLOCK_SAME);
        }
        /* the estimate never moved: the server's time is still the truth */
        assert_int_equal(ck.lower_ms, lower);
        assert_int_equal(ck.upper_ms, upper);
        assert_in_range(s.offset - ola_srvclock_now(&ck, t) + t, 0, 50);
        assert_int_equal(ck.rejected, 8);
        /* a true answer: the streak is over (told once) */
        t += 1000;
        assert_int_equal(sim_answer(&ck, s.offset, t), OLA_SRVCLOCK_OUTLIER_END);
        assert_int_equal(sim_answer(&ck, s.offset, t + 1000), OLA_SRVCLOCK_SAME);
        assert_int_equal(ck.rejected, 8);
        /* lies interleaved with true answers never add up */
        for (i = 0; i < 20; i++) {
            t += 1000;
            sim_answer(&ck, s.offset + lies[k], t);
            sim_answer(&ck, s.offset, t + 500);
        }
        assert_int_equal(ck.lower_ms, lower);
        assert_int_equal(ck.rejected, 28);
        /* lies that disagree with each other never add up either */
        for (i = 0; i < 20; i++) {
            t += 1000;
            sim_answer(&ck, s.offset + lies[k] + (i % 2) * 3600000, t);
        }
        assert_int_equal(ck.lower_ms, lower);
    }
}

/*
 * Answers in flight together: a lying answer whose request went out before
 * the true answer that ended the streak still belongs to that streak (the
 * server made it while its clock lied). It is counted but starts no new
 * streak: the rejection is told once and its end once, whatever order the
 * concurrent answers come in.
 */
static void test_straggler_of_a_streak(void **state)
{
    struct sim s = {1234, 2};
    struct ola_srvclock ck;
    int64_t t, end, lie = s.offset + 7200000;

    (void)state;
    ola_srvclock_init(&ck);
    sim_poll(&s, &ck, 1700000000000, 12, &end);
    t = end;
    assert_int_equal(sim_answer(&ck, lie, t), OLA_SRVCLOCK_OUTLIER_START);
    assert_int_equal(sim_answer(&ck, lie, t + 1000), OLA_SRVCLOCK_SAME);
    /* a lookup sent at t + 1500 while the clock lied, answered slowly ... */
    /* ... a poll sent at t + 3000, after the lie ended, answered first */
    assert_int_equal(
        ola_srvclock_learn(&ck, (t + 3001 + s.offset) / 1000 * 1000, t + 3000, t + 3002),
        OLA_SRVCLOCK_OUTLIER_END);
    /* the lookup's answer lands after it: rejected, counted, nothing to tell */
    assert_int_equal(
        ola_srvclock_learn(&ck, (t + 1501 + lie) / 1000 * 1000, t + 1500, t + 3010),
        OLA_SRVCLOCK_SAME);
    assert_int_equal(ck.rejected, 3);
    assert_in_range(s.offset - ola_srvclock_now(&ck, t + 3010) + t + 3010, 0, 50);
    /* a lie sent after the streak ended is a new streak, told again */
    assert_int_equal(sim_answer(&ck, lie, t + 4000), OLA_SRVCLOCK_OUTLIER_START);
    assert_int_equal(sim_answer(&ck, s.offset, t + 5000), OLA_SRVCLOCK_OUTLIER_END);
}

static void test_consistent_outliers_accepted(void **state)
{
    /* the server's clock really moved 2 h: followed once 5 answers over 10 s agree */
    struct sim s = {1234, 2};
    struct ola_srvclock ck;
    int64_t t, end, moved = s.offset + 7200000;
    int i;

    (void)state;
    ola_srvclock_init(&ck);
    sim_poll(&s, &ck, 1700000000000, 12, &end);
    t = end;
    assert_int_equal(sim_answer(&ck, moved, t), OLA_SRVCLOCK_OUTLIER_START);
    /* five answers within a second are not enough */
    for (i = 1; i < 5; i++)
        assert_int_equal(sim_answer(&ck, moved, t + i * 100), OLA_SRVCLOCK_SAME);
    assert_true(ck.lower_ms < s.offset + 1000);
    /* answers every 2.5 s: the one 10 s after the first moves it */
    for (i = 1; i < 4; i++)
        assert_int_equal(sim_answer(&ck, moved, t + i * 2500), OLA_SRVCLOCK_SAME);
    assert_int_equal(sim_answer(&ck, moved, t + 10000), OLA_SRVCLOCK_MOVED);
    assert_in_range(moved - ck.lower_ms, 0, 1000);
    assert_true(moved < ck.upper_ms);
    assert_in_range(ck.jump_ms, 7200000 - 2000, 7200000);
    /* from here the new time is the estimate, and the old one is the outlier */
    assert_int_equal(sim_answer(&ck, moved, t + 11000), OLA_SRVCLOCK_SAME);
    assert_int_equal(sim_answer(&ck, s.offset, t + 12000), OLA_SRVCLOCK_OUTLIER_START);
    /* a small step (under 5 min) is followed at once, as before */
    ola_srvclock_init(&ck);
    sim_poll(&s, &ck, 1700000000000, 12, &end);
    assert_int_equal(sim_answer(&ck, s.offset + 240000, end), OLA_SRVCLOCK_SAME);
    assert_in_range(s.offset + 240000 - ck.lower_ms, 0, 1000);
    assert_int_equal(ck.rejected, 0);
}

static void test_unknown_send_time(void **state)
{
    /* answers without a send time (none in practice) move only the lower bound */
    struct ola_srvclock ck;

    (void)state;
    ola_srvclock_init(&ck);
    assert_int_equal(ola_srvclock_probe_delay(&ck, 1000, 50), 0);
    assert_int_equal(ola_srvclock_spread(&ck), OLA_SRVCLOCK_UNBOUNDED);
    ola_srvclock_learn(&ck, 10000, -1, 9400);
    assert_true(ck.known);
    assert_int_equal(ck.lower_ms, 600);
    assert_int_equal(ola_srvclock_spread(&ck), OLA_SRVCLOCK_UNBOUNDED);
    assert_int_equal(ola_srvclock_now(&ck, 20000), 20600);
    ola_srvclock_learn(&ck, 11000, -1, 10300);
    assert_int_equal(ck.lower_ms, 700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_phase_learns_nothing),
        cmocka_unit_test(test_probes_tighten_in_a_few_polls),
        cmocka_unit_test(test_slow_round_trips_stop_probing),
        cmocka_unit_test(test_clock_step_restarts),
        cmocka_unit_test(test_unknown_send_time),
        cmocka_unit_test(test_outliers_ignored),
        cmocka_unit_test(test_straggler_of_a_streak),
        cmocka_unit_test(test_consistent_outliers_accepted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
