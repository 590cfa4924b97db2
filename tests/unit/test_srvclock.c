/*
 * test_srvclock.c - the server clock from whole-second Date headers: the
 * bounds always hold the truth, probes tighten them to about two round trips
 * in a few polls, and a stepped clock restarts the estimate.
 *
 * A simulated server with a known offset stamps each answer a little after
 * the request left (one-way time), cut down to the second, as HTTP does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "srvclock.h"

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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
