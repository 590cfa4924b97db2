/*
 * test_seen.c - the seen-id set: membership, ordering, growth, pruning.
 *
 * A randomized run checks the set against a plain array model through many
 * adds and prunes in a small id range, where clusters and backward shifts
 * are common; the large tests grow the set to a million ids. trim (the
 * checkpoint's bound) is checked against a model that sorts by age.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/seen.h"

struct collect {
    int64_t *ids;
    int64_t *created;
    size_t n, cap;
};

static void collect_fn(int64_t id, int64_t created_ms, void *arg)
{
    struct collect *c = arg;

    assert_true(c->n < c->cap);
    c->ids[c->n] = id;
    c->created[c->n] = created_ms;
    c->n++;
}

static void collect_init(struct collect *c, size_t cap)
{
    c->ids = calloc(cap, sizeof(*c->ids));
    c->created = calloc(cap, sizeof(*c->created));
    assert_non_null(c->ids);
    assert_non_null(c->created);
    c->n = 0;
    c->cap = cap;
}

static void collect_free(struct collect *c)
{
    free(c->ids);
    free(c->created);
}

/* xorshift64: deterministic pseudo-random numbers. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void test_add_has_count(void **state)
{
    struct ola_seen *s = ola_seen_new();

    (void)state;
    assert_non_null(s);
    assert_int_equal(ola_seen_count(s), 0);
    assert_false(ola_seen_has(s, 1));
    assert_int_equal(ola_seen_prune(s, INT64_MAX), 0);
    assert_int_equal(ola_seen_add(s, 42, 1000), 0);
    assert_int_equal(ola_seen_add(s, 42, 5000), 0); /* present: unchanged */
    assert_int_equal(ola_seen_add(s, 43, 2000), 0);
    assert_int_equal(ola_seen_count(s), 2);
    assert_true(ola_seen_has(s, 42));
    assert_true(ola_seen_has(s, 43));
    assert_false(ola_seen_has(s, 44));
    /* 42 kept its first created_ms, so a prune at 1001 takes it. */
    assert_int_equal(ola_seen_prune(s, 1001), 1);
    assert_false(ola_seen_has(s, 42));
    assert_true(ola_seen_has(s, 43));
    ola_seen_clear(s);
    assert_int_equal(ola_seen_count(s), 0);
    assert_false(ola_seen_has(s, 43));
    assert_int_equal(ola_seen_add(s, 43, 1), 0);
    assert_true(ola_seen_has(s, 43));
    ola_seen_destroy(s);
    ola_seen_destroy(NULL);
}

static void test_extreme_ids_and_order(void **state)
{
    static const int64_t ids[] = {0,
                                  -1,
                                  INT64_MIN,
                                  INT64_MAX,
                                  INT64_MIN + 1,
                                  INT64_MAX - 1,
                                  7,
                                  -123456789012LL,
                                  123456789012345LL};
    const size_t n = sizeof(ids) / sizeof(ids[0]);
    struct ola_seen *s = ola_seen_new();
    struct collect c;
    size_t i;

    (void)state;
    collect_init(&c, n);
    for (i = 0; i < n; i++)
        assert_int_equal(ola_seen_add(s, ids[i], (int64_t)i), 0);
    assert_int_equal(ola_seen_count(s), n);
    for (i = 0; i < n; i++)
        assert_true(ola_seen_has(s, ids[i]));
    assert_false(ola_seen_has(s, 1));
    assert_false(ola_seen_has(s, -2));
    ola_seen_foreach(s, collect_fn, &c);
    assert_int_equal(c.n, n);
    assert_int_equal(c.ids[0], INT64_MIN);
    assert_int_equal(c.ids[n - 1], INT64_MAX);
    for (i = 1; i < n; i++)
        assert_true(c.ids[i - 1] < c.ids[i]);
    for (i = 0; i < n; i++) {
        size_t k;

        for (k = 0; ids[k] != c.ids[i]; k++)
            ;
        assert_int_equal(c.created[i], (int64_t)k);
    }
    /* INT64_MIN (created 2) and -1 (created 1) and 0 (created 0) go. */
    assert_int_equal(ola_seen_prune(s, 3), 3);
    assert_false(ola_seen_has(s, INT64_MIN));
    assert_false(ola_seen_has(s, 0));
    assert_false(ola_seen_has(s, -1));
    assert_true(ola_seen_has(s, INT64_MAX));
    assert_int_equal(ola_seen_count(s), n - 3);
    collect_free(&c);
    ola_seen_destroy(s);
}

static void test_random_against_model(void **state)
{
    enum { RANGE = 3000, ROUNDS = 40, ADDS = 1500 };
    int64_t *model = malloc(RANGE * sizeof(*model)); /* created_ms, or -1 absent */
    struct ola_seen *s = ola_seen_new();
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    struct collect c;
    int64_t clock = 0;
    size_t round, i, count = 0;

    (void)state;
    assert_non_null(model);
    collect_init(&c, RANGE);
    for (i = 0; i < RANGE; i++)
        model[i] = -1;
    for (round = 0; round < ROUNDS; round++) {
        size_t removed = 0, pruned;
        int64_t before;

        for (i = 0; i < ADDS; i++) {
            /* Ids spaced by RANGE keep hash clusters varied; some negative. */
            size_t k = (size_t)(rnd(&seed) % RANGE);
            int64_t id = ((int64_t)k - RANGE / 2) * 1024;

            clock++;
            assert_int_equal(ola_seen_add(s, id, clock), 0);
            if (model[k] < 0) {
                model[k] = clock;
                count++;
            }
        }
        before = clock - (int64_t)(rnd(&seed) % (ADDS * 2));
        for (i = 0; i < RANGE; i++) {
            if (model[i] >= 0 && model[i] < before) {
                model[i] = -1;
                removed++;
            }
        }
        pruned = ola_seen_prune(s, before);
        assert_int_equal(pruned, removed);
        count -= removed;
        assert_int_equal(ola_seen_count(s), count);
        for (i = 0; i < RANGE; i++)
            assert_int_equal(ola_seen_has(s, ((int64_t)i - RANGE / 2) * 1024),
                             model[i] >= 0);
        c.n = 0;
        ola_seen_foreach(s, collect_fn, &c);
        assert_int_equal(c.n, count);
        {
            size_t j = 0;

            for (i = 0; i < RANGE; i++) {
                if (model[i] < 0)
                    continue;
                assert_int_equal(c.ids[j], ((int64_t)i - RANGE / 2) * 1024);
                assert_int_equal(c.created[j], model[i]);
                j++;
            }
        }
    }
    collect_free(&c);
    free(model);
    ola_seen_destroy(s);
}

struct aged {
    int64_t id, created;
};

static int aged_cmp(const void *a, const void *b)
{
    const struct aged *x = a, *y = b;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/*
 * trim against a model: the set keeps exactly the youngest entries (by
 * created_ms, then id); bounded, nothing created at or after the bound goes.
 * Many equal times (as loaded runs have), the side-slot id INT64_MIN, and
 * every keep from 0 to all.
 */
static void test_trim_against_model(void **state)
{
    enum { N = 700 };
    struct aged *m = malloc(N * sizeof(*m));
    uint64_t seed = 77;
    size_t round;

    (void)state;
    assert_non_null(m);
    for (round = 0; round < 200; round++) {
        struct ola_seen *s = ola_seen_new();
        bool bounded = round % 2 == 1;
        int64_t before = (int64_t)(rnd(&seed) % 60);
        size_t keep = round < 10 ? round * N / 9 : (size_t)(rnd(&seed) % (N + 50));
        size_t removed = 0, want_removed, eligible = 0, i;

        assert_non_null(s);
        for (i = 0; i < N; i++) {
            m[i].id =
                i == 0 ? INT64_MIN : (int64_t)(rnd(&seed) % 100000) * N + (int64_t)i;
            m[i].created = (int64_t)(rnd(&seed) % 50); /* many ties */
            assert_int_equal(ola_seen_add(s, m[i].id, m[i].created), 0);
            if (m[i].created < before)
                eligible++;
        }
        qsort(m, N, sizeof(*m), aged_cmp);
        want_removed = keep >= N ? 0 : N - keep;
        if (bounded && want_removed > eligible)
            want_removed = eligible;
        assert_int_equal(ola_seen_trim(s, keep, bounded, before, &removed), 0);
        assert_int_equal(removed, want_removed);
        assert_int_equal(ola_seen_count(s), N - want_removed);
        for (i = 0; i < N; i++)
            if (ola_seen_has(s, m[i].id) != (i >= want_removed))
                fail_msg("round %zu: entry %zu (id %lld, created %lld) %s", round, i,
                         (long long)m[i].id, (long long)m[i].created,
                         i >= want_removed ? "lost" : "kept");
        ola_seen_destroy(s);
    }
    free(m);
}

/* The id of the i-th entry in the big tests: scattered, some negative. */
static int64_t big_id(size_t i)
{
    int64_t v = (int64_t)i * 2654435761LL;

    return (i & 1) ? -v : v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/*
 * foreach's radix sort: ids that differ only in their highest digit, only in
 * their lowest, across the sign and at both ends of the range come out in
 * order, each with its own created time (the digits all ids share are
 * skipped, the others each take a pass).
 */
static void test_foreach_sorts_every_digit(void **state)
{
    static const int64_t fixed[] = {
        INT64_MAX,
        INT64_MIN + 1,
        -1,
        0,
        1,
        INT64_C(1) << 55,
        -(INT64_C(1) << 55),
        (INT64_C(3) << 55) + 5,
        (INT64_C(3) << 55) + 4,
        INT64_C(12345678901),
        INT64_C(12345678901) + (INT64_C(1) << 33),
        INT64_C(2047),
        INT64_C(2048),
    };
    enum { N = sizeof(fixed) / sizeof(fixed[0]) + 2000 };
    struct ola_seen *s = ola_seen_new();
    int64_t want[N];
    struct collect c;
    size_t i;

    (void)state;
    for (i = 0; i < N; i++) {
        /* then 2,000 ids around 10^11 that differ in a few low digits */
        want[i] = i < sizeof(fixed) / sizeof(fixed[0])
                      ? fixed[i]
                      : INT64_C(100000000000) + (int64_t)((i * 7919) % 4001) * 3;
        if (ola_seen_has(s, want[i]))
            want[i] = INT64_C(200000000000) + (int64_t)i; /* a repeat: another id */
        assert_int_equal(ola_seen_add(s, want[i], want[i] ^ 7), 0);
    }
    qsort(want, N, sizeof(want[0]), cmp_i64);
    collect_init(&c, N);
    ola_seen_foreach(s, collect_fn, &c);
    assert_int_equal(c.n, N);
    for (i = 0; i < N; i++) {
        assert_int_equal(c.ids[i], want[i]);
        assert_int_equal(c.created[i], want[i] ^ 7);
    }
    collect_free(&c);
    ola_seen_destroy(s);
}

static void test_million(void **state)
{
    enum { N = 1000000 };
    struct ola_seen *s = ola_seen_new();
    struct collect c;
    size_t i;

    (void)state;
    for (i = 0; i < N; i++)
        assert_int_equal(ola_seen_add(s, big_id(i), (int64_t)i), 0);
    assert_int_equal(ola_seen_count(s), N);
    for (i = 0; i < N; i++) {
        if (!ola_seen_has(s, big_id(i)))
            fail_msg("id %lld missing", (long long)big_id(i));
        if (ola_seen_has(s, big_id(i) + 1))
            fail_msg("id %lld should be absent", (long long)big_id(i) + 1);
    }
    collect_init(&c, N);
    ola_seen_foreach(s, collect_fn, &c);
    assert_int_equal(c.n, N);
    for (i = 1; i < N; i++) {
        if (c.ids[i - 1] >= c.ids[i])
            fail_msg("foreach out of order at %zu", i);
    }
    collect_free(&c);

    /* Prune the older half. */
    assert_int_equal(ola_seen_prune(s, N / 2), N / 2);
    assert_int_equal(ola_seen_count(s), N / 2);
    for (i = 0; i < N; i++) {
        if (ola_seen_has(s, big_id(i)) != (i >= N / 2))
            fail_msg("after prune, id %zu wrong", i);
    }
    /* Re-add the pruned half with new times; everything is back. */
    for (i = 0; i < N / 2; i++)
        assert_int_equal(ola_seen_add(s, big_id(i), (int64_t)(N + i)), 0);
    assert_int_equal(ola_seen_count(s), N);
    for (i = 0; i < N; i++) {
        if (!ola_seen_has(s, big_id(i)))
            fail_msg("after re-add, id %zu missing", i);
    }
    /* Now the second half is the oldest. */
    assert_int_equal(ola_seen_prune(s, N), N / 2);
    for (i = 0; i < N; i++) {
        if (ola_seen_has(s, big_id(i)) != (i < N / 2))
            fail_msg("after second prune, id %zu wrong", i);
    }
    /* Pruning almost everything shrinks the table; it still works. */
    assert_int_equal(ola_seen_prune(s, N + N / 2 - 10), N / 2 - 10);
    assert_int_equal(ola_seen_count(s), 10);
    for (i = N / 2 - 10; i < N / 2; i++)
        assert_true(ola_seen_has(s, big_id(i)));
    assert_false(ola_seen_has(s, big_id(0)));
    ola_seen_destroy(s);
}

static void test_consecutive_ids(void **state)
{
    enum { N = 200000 };
    struct ola_seen *s = ola_seen_new();
    struct collect c;
    size_t i;

    (void)state;
    for (i = 0; i < N; i++)
        assert_int_equal(ola_seen_add(s, (int64_t)(N - i), 5), 0);
    collect_init(&c, N);
    ola_seen_foreach(s, collect_fn, &c);
    assert_int_equal(c.n, N);
    for (i = 0; i < N; i++)
        assert_int_equal(c.ids[i], (int64_t)i + 1);
    collect_free(&c);
    assert_int_equal(ola_seen_prune(s, 5), 0);
    assert_int_equal(ola_seen_prune(s, 6), N);
    assert_int_equal(ola_seen_count(s), 0);
    ola_seen_destroy(s);
}

/*
 * foreach with no memory for its sorted copy: cap the address space just
 * above what is mapped, eat what malloc can still hand out, then walk the set.
 * (Skipped under ASan, whose shadow memory cannot live under RLIMIT_AS.)
 */
static void test_foreach_without_memory(void **state)
{
    enum { N = 100000, BLOCK = 16384, MAX_BLOCKS = 65536 };
    struct ola_seen *s;
    void **blocks;
    struct rlimit old, lim;
    struct collect c;
    unsigned long pages = 0;
    size_t nblocks = 0, i;
    FILE *f;

    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip();
#endif
    s = ola_seen_new();
    blocks = calloc(MAX_BLOCKS, sizeof(*blocks));
    assert_non_null(s);
    assert_non_null(blocks);
    for (i = 0; i < N; i++)
        assert_int_equal(ola_seen_add(s, big_id(i), (int64_t)i), 0);
    collect_init(&c, N);
    f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (1u << 20);
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
    while (nblocks < MAX_BLOCKS) {
        blocks[nblocks] = malloc(BLOCK);
        if (blocks[nblocks] == NULL)
            break;
        nblocks++;
    }
    ola_seen_foreach(s, collect_fn, &c);
    for (i = 0; i < nblocks; i++)
        free(blocks[i]);
    assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
    assert_true(nblocks < MAX_BLOCKS); /* malloc did run dry */
    assert_int_equal(c.n, N);
    for (i = 1; i < N; i++) {
        if (c.ids[i - 1] >= c.ids[i])
            fail_msg("low-memory foreach out of order at %zu", i);
    }
    for (i = 0; i < N; i++) {
        int64_t id = c.ids[i];
        /* Invert big_id: created_ms is the index the id was made from. */
        int64_t k = (id < 0 ? -id : id) / 2654435761LL;

        assert_int_equal(c.created[i], k);
    }
    collect_free(&c);
    free(blocks);
    ola_seen_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_has_count),
        cmocka_unit_test(test_extreme_ids_and_order),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_trim_against_model),
        cmocka_unit_test(test_million),
        cmocka_unit_test(test_consecutive_ids),
        cmocka_unit_test(test_foreach_without_memory),
        cmocka_unit_test(test_foreach_sorts_every_digit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
