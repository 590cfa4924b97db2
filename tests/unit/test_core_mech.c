/*
 * test_core_mech.c - the one-of-each mechanisms of agent/core: the backoff's
 * ceilings double to the cap and its waits cover [0, ceiling] (full jitter),
 * the generator is deterministic per seed and spreads over a range, the
 * growable array doubles and refuses overflow, and the whole-file reader
 * reads exactly, refuses one byte over its limit and reads pipes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/backoff.h"
#include "agent/core/fileio.h"
#include "agent/core/rng.h"
#include "agent/core/vec.h"

static void test_backoff_ceilings(void **state)
{
    struct ola_backoff b;
    static const int64_t want[] = {100, 200, 400, 800, 1000, 1000, 1000};

    (void)state;
    ola_backoff_init(&b, 100, 1000, 42);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int64_t c = ola_backoff_ceiling(&b), w;

        assert_int_equal(c, want[i]);
        w = ola_backoff_next(&b);
        assert_true(w >= 0 && w <= c);
    }
    ola_backoff_reset(&b);
    assert_int_equal(ola_backoff_ceiling(&b), 100);
    ola_backoff_set_max(&b, 150);
    ola_backoff_next(&b);
    ola_backoff_next(&b);
    assert_int_equal(ola_backoff_ceiling(&b), 150);
    ola_backoff_set_max(&b, 0); /* ignored */
    assert_int_equal(ola_backoff_ceiling(&b), 150);
}

/* Full jitter: the waits fill [0, ceiling], low and high quarters alike. */
static void test_backoff_full_jitter(void **state)
{
    struct ola_backoff b;
    int low = 0, high = 0;

    (void)state;
    ola_backoff_init(&b, 1000, 1000, 7);
    for (int i = 0; i < 4000; i++) {
        int64_t w = ola_backoff_next(&b);

        assert_true(w >= 0 && w <= 1000);
        low += w < 250;
        high += w > 750;
    }
    /* 1000 expected in each; 800 is more than 7 standard deviations away */
    assert_true(low > 800 && high > 800);
}

/* Many attempts never overflow the ceiling, even with a huge cap. */
static void test_backoff_no_overflow(void **state)
{
    struct ola_backoff b;

    (void)state;
    ola_backoff_init(&b, INT64_MAX / 4, INT64_MAX, 1);
    for (int i = 0; i < 200; i++)
        assert_true(ola_backoff_next(&b) >= 0);
    assert_int_equal(ola_backoff_ceiling(&b), INT64_MAX);
    ola_backoff_init(&b, 0, -5, 1); /* nonsense is raised to 1 ms */
    assert_int_equal(ola_backoff_ceiling(&b), 1);
}

static void test_rng(void **state)
{
    struct ola_rng a, b, c;
    int seen[10] = {0};

    (void)state;
    ola_rng_seed(&a, 99);
    ola_rng_seed(&b, 99);
    ola_rng_seed(&c, 100);
    for (int i = 0; i < 100; i++) {
        uint64_t x = ola_rng_next(&a);

        assert_true(x == ola_rng_next(&b));
        assert_true(x != ola_rng_next(&c));
    }
    for (int i = 0; i < 1000; i++) {
        uint64_t v = ola_rng_upto(&a, 9);

        assert_true(v <= 9);
        seen[v]++;
    }
    for (int i = 0; i < 10; i++)
        assert_true(seen[i] > 50);
    assert_int_equal(ola_rng_upto(&a, 0), 0);
    ola_rng_seed(&a, 0); /* from the clock: still a working generator */
    assert_true(ola_rng_next(&a) != ola_rng_next(&a));
}

static void test_vec(void **state)
{
    int *v = NULL;
    size_t cap = 0, n = 0;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(OLA_VEC_GROW(v, cap, n + 1), 0);
        v[n++] = i;
    }
    assert_int_equal(cap, 1024); /* 8, 16, ... doubled */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], i);
    assert_int_equal(v[1000], 0);                  /* new slots are zeroed */
    assert_int_equal(OLA_VEC_GROW(v, cap, 10), 0); /* already room: unchanged */
    assert_int_equal(cap, 1024);
    errno = 0;
    assert_int_equal(OLA_VEC_GROW(v, cap, SIZE_MAX / 2), -1);
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(cap, 1024); /* a failure leaves the array as it was */
    assert_int_equal(v[999], 999);
    free(v);

    double *d = NULL;
    size_t dcap = 0;
    assert_int_equal(OLA_VEC_GROW_FROM(d, dcap, 1, 64), 0);
    assert_int_equal(dcap, 64);
    free(d);
}

static char *write_temp(const char *text, size_t len)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/ola_test_read.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ola_write_all(fd, text, len), 0);
    close(fd);
    return path;
}

static void test_read_file(void **state)
{
    char big[10000], *data = NULL, *path;
    size_t len = 0;
    int fds[2];

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    path = write_temp(big, sizeof(big));
    assert_int_equal(ola_read_file(path, sizeof(big), &data, &len), 0);
    assert_int_equal(len, sizeof(big));
    assert_memory_equal(data, big, sizeof(big));
    assert_int_equal(data[len], '\0');
    free(data);
    data = NULL;
    /* one byte over the limit is refused */
    errno = 0;
    assert_int_equal(ola_read_file(path, sizeof(big) - 1, &data, &len), -1);
    assert_int_equal(errno, EFBIG);
    assert_null(data);
    unlink(path);
    /* an empty file */
    path = write_temp("", 0);
    assert_int_equal(ola_read_file(path, 0, &data, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    unlink(path);
    errno = 0;
    assert_int_equal(ola_read_file("/nonexistent/ola", 10, &data, &len), -1);
    assert_int_equal(errno, ENOENT);
    /* a pipe has no size to ask: read until EOF, limit still enforced */
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(ola_write_all(fds[1], big, 5000), 0);
    close(fds[1]);
    assert_int_equal(ola_read_fd_all(fds[0], 5000, &data, &len), 0);
    assert_int_equal(len, 5000);
    assert_memory_equal(data, big, 5000);
    free(data);
    close(fds[0]);
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(ola_write_all(fds[1], big, 5000), 0);
    close(fds[1]);
    assert_int_equal(ola_read_fd_all(fds[0], 4999, &data, &len), -1);
    assert_int_equal(errno, EFBIG);
    close(fds[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_ceilings),
        cmocka_unit_test(test_backoff_full_jitter),
        cmocka_unit_test(test_backoff_no_overflow),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_vec),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
