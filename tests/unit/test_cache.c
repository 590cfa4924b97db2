/*
 * test_cache.c - the bounded LRU + TTL cache: hits and misses, the
 * least-recently-used order under the size bound, expiry of positive and
 * negative entries on the caller's clock, replacement and removal, that
 * every value the cache took is released exactly once (counted by the free
 * callback), and a long random run checked against a simple model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filters/enrich/cache.h"

/* Values are small heap blocks holding their key; the callback counts frees. */
static unsigned tc_freed;
static uint64_t tc_last_freed;

static void tc_free(void *ctx, uint64_t key, void *val)
{
    assert_ptr_equal(ctx, &tc_freed); /* what the options gave */
    assert_non_null(val);
    assert_int_equal(*(uint64_t *)val, key);
    tc_last_freed = key;
    tc_freed++;
    free(val);
}

static void *tc_val(uint64_t key)
{
    uint64_t *v = malloc(sizeof(*v));

    assert_non_null(v);
    *v = key;
    return v;
}

static struct ola_cache *tc_new(size_t max, int64_t ttl, int64_t neg_ttl)
{
    struct ola_cache_opts o;
    struct ola_cache *c;

    memset(&o, 0, sizeof(o));
    o.max_entries = max;
    o.ttl_ms = ttl;
    o.negative_ttl_ms = neg_ttl;
    o.free_val = tc_free;
    o.ctx = &tc_freed;
    c = ola_cache_new(&o);
    assert_non_null(c);
    tc_freed = 0;
    return c;
}

static uint64_t tc_get(struct ola_cache *c, uint64_t key, int64_t now)
{
    void *v = NULL;
    enum ola_cache_result r = ola_cache_get(c, key, now, &v);

    if (r == OLA_CACHE_HIT) {
        assert_non_null(v);
        return *(uint64_t *)v;
    }
    assert_null(v);
    return r == OLA_CACHE_NEGATIVE ? UINT64_MAX : 0;
}

static void test_bad_options(void **state)
{
    struct ola_cache_opts o;

    (void)state;
    memset(&o, 0, sizeof(o));
    assert_null(ola_cache_new(NULL));
    o.ttl_ms = 1000;
    assert_null(ola_cache_new(&o)); /* no room */
    o.max_entries = 1;
    o.ttl_ms = 0;
    assert_null(ola_cache_new(&o)); /* no life */
    o.ttl_ms = 1000;
    o.negative_ttl_ms = -1;
    assert_null(ola_cache_new(&o));
    ola_cache_destroy(NULL);
}

static void test_hit_miss_replace(void **state)
{
    struct ola_cache *c = tc_new(10, 1000, 500);

    (void)state;
    assert_int_equal(tc_get(c, 7, 0), 0);
    assert_int_equal(ola_cache_put(c, 7, tc_val(7), 0), 0);
    assert_int_equal(tc_get(c, 7, 10), 7);
    assert_int_equal(ola_cache_count(c), 1);
    /* replacing releases the old value, keeps one entry */
    assert_int_equal(ola_cache_put(c, 7, tc_val(7), 20), 0);
    assert_int_equal(tc_freed, 1);
    assert_int_equal(ola_cache_count(c), 1);
    assert_int_equal(ola_cache_stats(c)->hits, 1);
    assert_int_equal(ola_cache_stats(c)->misses, 1);
    assert_int_equal(ola_cache_stats(c)->inserts, 2);
    /* a positive entry turned negative (the user was deleted) */
    assert_int_equal(ola_cache_put_negative(c, 7, 30), 0);
    assert_int_equal(tc_freed, 2);
    assert_int_equal(tc_get(c, 7, 40), UINT64_MAX);
    assert_int_equal(ola_cache_stats(c)->negative_hits, 1);
    /* and back */
    assert_int_equal(ola_cache_put(c, 7, tc_val(7), 50), 0);
    assert_int_equal(tc_get(c, 7, 60), 7);
    /* a NULL value is no positive entry (NULL is how a negative one is kept) */
    assert_int_equal(ola_cache_put(c, 7, NULL, 55), -1);
    assert_int_equal(tc_get(c, 7, 56), 7);
    assert_int_equal(ola_cache_put(c, 8, NULL, 55), -1);
    assert_int_equal(tc_get(c, 8, 56), 0);
    /* removal */
    assert_true(ola_cache_remove(c, 7));
    assert_false(ola_cache_remove(c, 7));
    assert_int_equal(tc_freed, 3);
    assert_int_equal(ola_cache_stats(c)->removed, 1);
    assert_int_equal(tc_get(c, 7, 70), 0);
    assert_int_equal(ola_cache_count(c), 0);
    ola_cache_destroy(c);
    assert_int_equal(tc_freed, 3);
}

static void test_lru_bound(void **state)
{
    struct ola_cache *c = tc_new(3, 100000, 100000);
    uint64_t k;

    (void)state;
    for (k = 1; k <= 3; k++)
        assert_int_equal(ola_cache_put(c, k, tc_val(k), 0), 0);
    /* touch 1: now 2 is the least recently used */
    assert_int_equal(tc_get(c, 1, 1), 1);
    assert_int_equal(ola_cache_put(c, 4, tc_val(4), 2), 0);
    assert_int_equal(tc_last_freed, 2);
    assert_int_equal(ola_cache_count(c), 3);
    assert_int_equal(tc_get(c, 2, 3), 0);
    /* a negative entry takes a place like any other, and is evicted like any other */
    assert_int_equal(ola_cache_put_negative(c, 5, 4), 0); /* evicts 3 */
    assert_int_equal(tc_last_freed, 3);
    assert_int_equal(tc_get(c, 5, 5), UINT64_MAX);
    assert_int_equal(tc_get(c, 1, 6), 1);
    assert_int_equal(tc_get(c, 4, 7), 4);
    /* 5 is now the least recently used: a put drops it (no value to free) */
    assert_int_equal(ola_cache_put(c, 6, tc_val(6), 8), 0);
    assert_int_equal(tc_get(c, 5, 9), 0);
    assert_int_equal(ola_cache_stats(c)->evicted, 3);
    assert_int_equal(ola_cache_stats(c)->peak, 3);
    /* replacing an entry in a full cache evicts nothing */
    assert_int_equal(ola_cache_put(c, 4, tc_val(4), 10), 0);
    assert_int_equal(ola_cache_stats(c)->evicted, 3);
    /* peek: no count, no change of order */
    {
        void *v = NULL;
        uint64_t misses = ola_cache_stats(c)->misses;

        assert_int_equal(ola_cache_peek(c, 1, 11, &v), OLA_CACHE_HIT);
        assert_int_equal(*(uint64_t *)v, 1);
        assert_int_equal(ola_cache_peek(c, 99, 11, &v), OLA_CACHE_MISS);
        assert_int_equal(ola_cache_stats(c)->misses, misses);
    }
    /* 1 was least recently used before the peek, and still is */
    assert_int_equal(ola_cache_put(c, 7, tc_val(7), 12), 0);
    assert_int_equal(tc_last_freed, 1);
    ola_cache_destroy(c);
    /* 6, 4 (and its replaced twin), 7, 1, 2, 3 freed; nothing twice */
    assert_int_equal(tc_freed, 7);
}

static void test_ttl(void **state)
{
    struct ola_cache *c = tc_new(10, 1000, 200);
    void *v;

    (void)state;
    assert_int_equal(ola_cache_put(c, 1, tc_val(1), 0), 0);
    assert_int_equal(ola_cache_put_negative(c, 2, 0), 0);
    assert_int_equal(tc_get(c, 1, 999), 1);
    assert_int_equal(tc_get(c, 2, 199), UINT64_MAX);
    /* the negative entry lives 200 ms, the positive one 1000 ms */
    assert_int_equal(ola_cache_peek(c, 2, 200, &v), OLA_CACHE_MISS);
    assert_int_equal(tc_get(c, 2, 200), 0);
    assert_int_equal(ola_cache_stats(c)->expired, 1);
    assert_int_equal(tc_get(c, 1, 1000), 0);
    assert_int_equal(ola_cache_stats(c)->expired, 2);
    assert_int_equal(tc_freed, 1);
    assert_int_equal(ola_cache_count(c), 0);
    /* a hit does not extend the life; a put does */
    assert_int_equal(ola_cache_put(c, 3, tc_val(3), 2000), 0);
    assert_int_equal(tc_get(c, 3, 2900), 3);
    assert_int_equal(tc_get(c, 3, 3000), 0);
    assert_int_equal(ola_cache_put(c, 3, tc_val(3), 3000), 0);
    assert_int_equal(ola_cache_put(c, 3, tc_val(3), 3500), 0);
    assert_int_equal(tc_get(c, 3, 4400), 3);
    ola_cache_destroy(c);
}

static void test_stored_at(void **state)
{
    struct ola_cache *c = tc_new(10, 1000, 200);

    (void)state;
    assert_int_equal(ola_cache_stored_at(c, 1, 0), -1);
    assert_int_equal(ola_cache_put(c, 1, tc_val(1), 500), 0);
    assert_int_equal(ola_cache_put_negative(c, 2, 600), 0);
    assert_int_equal(ola_cache_stored_at(c, 1, 900), 500);
    assert_int_equal(ola_cache_stored_at(c, 2, 700), 600);
    /* a hit does not move it; a put does; expired entries have none */
    assert_int_equal(tc_get(c, 1, 1000), 1);
    assert_int_equal(ola_cache_stored_at(c, 1, 1000), 500);
    assert_int_equal(ola_cache_stored_at(c, 2, 800), -1);
    assert_int_equal(ola_cache_put(c, 1, tc_val(1), 1200), 0);
    assert_int_equal(ola_cache_stored_at(c, 1, 1300), 1200);
    assert_int_equal(ola_cache_stored_at(c, 1, 2200), -1);
    /* counts nothing */
    assert_int_equal(ola_cache_stats(c)->misses, 0);
    ola_cache_destroy(c);
}

static void test_dead_tail_is_not_an_eviction(void **state)
{
    struct ola_cache *c = tc_new(2, 100, 100);

    (void)state;
    assert_int_equal(ola_cache_put(c, 1, tc_val(1), 0), 0);
    assert_int_equal(ola_cache_put(c, 2, tc_val(2), 50), 0);
    /* at 120, entry 1 is dead already: making room for 3 drops it as expired */
    assert_int_equal(ola_cache_put(c, 3, tc_val(3), 120), 0);
    assert_int_equal(ola_cache_stats(c)->evicted, 0);
    assert_int_equal(ola_cache_stats(c)->expired, 1);
    assert_int_equal(tc_get(c, 2, 121), 2);
    ola_cache_destroy(c);
}

static void test_negative_ttl_zero(void **state)
{
    struct ola_cache *c = tc_new(4, 1000, 0);

    (void)state;
    assert_int_equal(ola_cache_put(c, 9, tc_val(9), 0), 0);
    /* absence is not remembered, but the stale positive entry goes */
    assert_int_equal(ola_cache_put_negative(c, 9, 10), 0);
    assert_int_equal(ola_cache_count(c), 0);
    assert_int_equal(tc_freed, 1);
    assert_int_equal(tc_get(c, 9, 20), 0);
    ola_cache_destroy(c);
}

/* Many keys, so the table grows and chains are walked; all still found. */
static void test_growth(void **state)
{
    struct ola_cache *c = tc_new(5000, 100000, 100000);
    uint64_t k;

    (void)state;
    for (k = 1; k <= 5000; k++)
        assert_int_equal(ola_cache_put(c, k * 4 + 1, tc_val(k * 4 + 1), 0), 0);
    for (k = 1; k <= 5000; k++)
        assert_int_equal(tc_get(c, k * 4 + 1, 1), k * 4 + 1);
    assert_int_equal(tc_get(c, 3, 1), 0);
    assert_int_equal(ola_cache_count(c), 5000);
    /* a 5001st key evicts the least recently used: the first one read */
    assert_int_equal(ola_cache_put(c, 2, tc_val(2), 2), 0);
    assert_int_equal(tc_last_freed, 5);
    ola_cache_destroy(c);
    assert_int_equal(tc_freed, 5001);
}

/*
 * A random run against a model: an array of (key, expiry, negative, last
 * use). The cache must agree on every get and never hold more than its bound.
 */
struct tc_model {
    uint64_t key;
    int64_t expires;
    int64_t used;
    int negative;
    int live;
};

static struct tc_model *tm_find(struct tc_model *m, size_t n, uint64_t key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (m[i].live && m[i].key == key)
            return &m[i];
    return NULL;
}

static void test_random_against_model(void **state)
{
    enum { MAX = 16, KEYS = 40, OPS = 20000 };
    struct tc_model m[MAX * 4];
    struct ola_cache *c = tc_new(MAX, 300, 120);
    unsigned seed = 12345, i;
    int64_t now = 0;
    size_t n_model = 0;

    (void)state;
    memset(m, 0, sizeof(m));
    for (i = 0; i < OPS; i++) {
        uint64_t key = (uint64_t)(rand_r(&seed) % KEYS) + 1;
        int op = rand_r(&seed) % 10;
        struct tc_model *e = tm_find(m, n_model, key);
        size_t j, live = 0;

        now += rand_r(&seed) % 7;
        if (op < 5) {
            uint64_t want;

            if (e != NULL && now >= e->expires) {
                e->live = 0; /* expiry is lazy: a get drops it, in both */
                e = NULL;
            }
            want = e == NULL ? 0 : e->negative ? UINT64_MAX : key;
            assert_int_equal(tc_get(c, key, now), want);
            if (e != NULL)
                e->used = (int64_t)i;
        } else if (op < 9) {
            /* a put replaces the entry in place, expired or not */
            int neg = op == 8;

            if (e == NULL) {
                /* make room like the cache: drop the least recently used live entry */
                for (j = 0; j < n_model; j++)
                    if (m[j].live)
                        live++;
                if (live >= MAX) {
                    struct tc_model *lru = NULL;

                    for (j = 0; j < n_model; j++)
                        if (m[j].live && (lru == NULL || m[j].used < lru->used))
                            lru = &m[j];
                    lru->live = 0;
                }
                for (j = 0; j < n_model && m[j].live; j++)
                    ;
                if (j == n_model)
                    n_model++;
                e = &m[j];
                e->key = key;
                e->live = 1;
            }
            e->negative = neg;
            e->expires = now + (neg ? 120 : 300);
            e->used = (int64_t)i;
            if (neg)
                assert_int_equal(ola_cache_put_negative(c, key, now), 0);
            else
                assert_int_equal(ola_cache_put(c, key, tc_val(key), now), 0);
        } else {
            (void)ola_cache_remove(c, key);
            if (e != NULL)
                e->live = 0;
        }
        assert_true(ola_cache_count(c) <= MAX);
    }
    assert_true(ola_cache_stats(c)->peak <= MAX);
    assert_true(ola_cache_stats(c)->evicted > 0);
    assert_true(ola_cache_stats(c)->expired > 0);
    ola_cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_hit_miss_replace),
        cmocka_unit_test(test_lru_bound),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_stored_at),
        cmocka_unit_test(test_dead_tail_is_not_an_eviction),
        cmocka_unit_test(test_negative_ttl_zero),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_random_against_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
