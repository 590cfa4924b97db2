/*
 * test_slab.c - the slab and the page tables mapped apart from the heap:
 * chunks aligned to their size and unmapped when their last object goes,
 * the sparse test that tells an owner to move, big objects and small tables
 * from calloc, and the count of mapped bytes going back to where it was.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/slab.h"

#define N_OBJ 2000

static void test_chunks_come_and_go(void **state)
{
    struct ola_slab s;
    void *obj[N_OBJ];
    size_t before = ola_slab_mapped(), i, chunks;
    bool in_slab;

    (void)state;
    memset(&s, 0, sizeof(s));
    for (i = 0; i < N_OBJ; i++) {
        unsigned char *p = ola_slab_alloc(&s, 100, &in_slab);

        assert_non_null(p);
        assert_true(in_slab);
        assert_int_equal((uintptr_t)p % 8, 0);
        for (size_t j = 0; j < 100; j++)
            assert_int_equal(p[j], 0); /* zeroed */
        memset(p, 0xab, 100);
        obj[i] = p;
    }
    /* 104 bytes each (8-aligned): 2,000 of them need 4 chunks of 64 KB */
    chunks = (ola_slab_mapped() - before) / OLA_SLAB_CHUNK;
    assert_int_equal(chunks, (N_OBJ * 104 + OLA_SLAB_CHUNK - 1) / OLA_SLAB_CHUNK);
    assert_int_equal(s.used, s.live);
    assert_int_equal(s.live, (size_t)N_OBJ * 104);
    assert_false(ola_slab_sparse(&s));
    /* free three in four: the old chunks are sparse, none empty yet */
    for (i = 0; i < N_OBJ; i++)
        if (i % 4 != 0)
            ola_slab_free(obj[i], 100);
    assert_true(ola_slab_sparse(&s));
    assert_int_equal(ola_slab_mapped() - before, chunks * OLA_SLAB_CHUNK);
    /* the owner's move: fresh chunks for the survivors, the old ones empty and go */
    ola_slab_fresh(&s);
    for (i = 0; i < N_OBJ; i += 4) {
        unsigned char *p = ola_slab_alloc(&s, 100, &in_slab);

        assert_true(in_slab);
        memcpy(p, obj[i], 100);
        ola_slab_free(obj[i], 100);
        obj[i] = p;
    }
    assert_int_equal(s.used, s.live);
    assert_false(ola_slab_sparse(&s));
    assert_int_equal(ola_slab_mapped() - before, OLA_SLAB_CHUNK); /* 500 x 104 B */
    for (i = 0; i < N_OBJ; i += 4) {
        assert_int_equal(((unsigned char *)obj[i])[99], 0xab);
        ola_slab_free(obj[i], 100);
    }
    ola_slab_release(&s);
    assert_int_equal(ola_slab_mapped(), before);
    assert_int_equal(s.used, 0);
}

/* At rest a move pays as soon as a chunk's worth is dead, long before a third. */
static void test_sparse_at_rest(void **state)
{
    enum { N = 4000 }; /* 104 bytes each: 416,000 bytes in 7 chunks */
    static void *obj[N];
    struct ola_slab s;
    bool in_slab;
    size_t i;

    (void)state;
    memset(&s, 0, sizeof(s));
    for (i = 0; i < N; i++) {
        obj[i] = ola_slab_alloc(&s, 100, &in_slab);
        assert_non_null(obj[i]);
        assert_true(in_slab);
    }
    for (i = 0; i < N; i += 8) /* 52,000 bytes dead: less than a chunk */
        ola_slab_free(obj[i], 100);
    assert_false(ola_slab_sparse(&s));
    assert_false(ola_slab_sparse_at_rest(&s));
    for (i = 1; i < N; i += 8) /* 104,000: more than a chunk, less than a third */
        ola_slab_free(obj[i], 100);
    assert_false(ola_slab_sparse(&s));
    assert_true(ola_slab_sparse_at_rest(&s));
    for (i = 0; i < N; i++)
        if (i % 8 > 1)
            ola_slab_free(obj[i], 100);
    ola_slab_release(&s);
}

static void test_big_objects_from_the_heap(void **state)
{
    struct ola_slab s;
    size_t before = ola_slab_mapped();
    bool in_slab = true;
    char *p;

    (void)state;
    memset(&s, 0, sizeof(s));
    p = ola_slab_alloc(&s, OLA_SLAB_BIG + 1, &in_slab);
    assert_non_null(p);
    assert_false(in_slab);
    assert_int_equal(p[OLA_SLAB_BIG], 0);
    assert_int_equal(ola_slab_mapped(), before);
    free(p);
    ola_slab_release(&s);
}

static void test_pages(void **state)
{
    size_t before = ola_slab_mapped(), heap;
    unsigned char *big, *small;

    (void)state;
    heap = mallinfo2().uordblks;
    big = ola_pages_alloc(64 * 1024);
    assert_non_null(big);
    assert_int_equal((uintptr_t)big % 4096, 0);
    assert_int_equal(big[65535], 0);
    big[0] = 1;
    assert_int_equal(ola_slab_mapped() - before, 64 * 1024);
    if (heap != 0) /* glibc's allocator, not a sanitizer's: the heap did not grow */
        assert_true(mallinfo2().uordblks - heap < 1024);
    small = ola_pages_alloc(2048); /* a small table: calloc */
    assert_non_null(small);
    assert_int_equal(small[2047], 0);
    assert_int_equal(ola_slab_mapped() - before, 64 * 1024);
    ola_pages_free(small, 2048);
    ola_pages_free(big, 64 * 1024);
    ola_pages_free(NULL, 64 * 1024);
    assert_int_equal(ola_slab_mapped(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_come_and_go),
        cmocka_unit_test(test_sparse_at_rest),
        cmocka_unit_test(test_big_objects_from_the_heap),
        cmocka_unit_test(test_pages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
