/*
 * test_stack.c - ola_stack_trim: a thread that went deep gives the pages of
 * its stack below its current depth back (mincore says they are no longer
 * resident), keeps the ones above it, goes deep again on zeroed pages and
 * gives them back again, and the main thread is left alone.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/stack.h"

#define DEPTH 256   /* frames of ... */
#define FRAME 1024u /* ... bytes each: 256 KB */

/* Touches FRAME bytes a frame, depth frames deep; returns a sum so nothing is elided. */
__attribute__((noinline)) static unsigned go_deep(unsigned depth)
{
    volatile unsigned char frame[FRAME];
    unsigned sum = 0, i;

    for (i = 0; i < FRAME; i++) {
        sum += frame[i]; /* zero on a fresh or given-back page, else old bytes */
        frame[i] = (unsigned char)(depth + i);
    }
    return depth == 0 ? sum : sum + go_deep(depth - 1) + frame[depth % FRAME];
}

/* Bytes of the resident pages in [lo, hi); SIZE_MAX when mincore fails. The
   thread calls it: no cmocka assertion (a longjmp) off the main thread. */
static size_t resident(uintptr_t lo, uintptr_t hi)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (hi - lo) / page, k = 0, i;
    unsigned char *vec = malloc(n);

    if (vec == NULL || mincore((void *)lo, hi - lo, vec) != 0) {
        free(vec);
        return SIZE_MAX;
    }
    for (i = 0; i < n; i++)
        k += vec[i] & 1;
    free(vec);
    return k * page;
}

struct probe {
    bool ok;
    size_t before, given, after, again, given2, after2;
};

static void *thread_main(void *arg)
{
    struct probe *p = arg;
    pthread_attr_t attr;
    void *lo;
    size_t size;
    uintptr_t base, here = (uintptr_t)__builtin_frame_address(0);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return NULL;
    p->ok = pthread_attr_getstack(&attr, &lo, &size) == 0;
    pthread_attr_destroy(&attr);
    if (!p->ok)
        return NULL;
    base = ((uintptr_t)lo + page - 1) & ~(uintptr_t)(page - 1);
    here &= ~(uintptr_t)(page - 1);
    (void)go_deep(DEPTH);
    p->before = resident(base, here);
    p->given = ola_stack_trim();
    p->after = resident(base, here);
    (void)go_deep(DEPTH); /* deep again: on zero pages, nothing breaks */
    p->again = resident(base, here);
    p->given2 = ola_stack_trim(); /* the second trim: the bounds the first found */
    p->after2 = resident(base, here);
    return NULL;
}

static void test_thread_gives_back_its_depth(void **state)
{
    struct probe p = {0};
    pthread_attr_t attr;
    pthread_t t;

    (void)state;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 2u << 20), 0);
    assert_int_equal(pthread_create(&t, &attr, thread_main, &p), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
    assert_true(p.ok);
    assert_int_not_equal(p.before, SIZE_MAX);
    assert_int_not_equal(p.after, SIZE_MAX);
    assert_int_not_equal(p.again, SIZE_MAX);
    /* 256 KB touched below the probe's frame; all but the margin given back */
    assert_true(p.before >= DEPTH * FRAME);
    assert_true(p.given >= DEPTH * FRAME - 16384);
    assert_true(p.after <= 16384);
    assert_true(p.again >= DEPTH * FRAME);
    assert_int_not_equal(p.after2, SIZE_MAX);
    assert_true(p.given2 >= DEPTH * FRAME - 16384);
    assert_true(p.after2 <= 16384);
}

static void test_main_thread_left_alone(void **state)
{
    (void)state;
    (void)go_deep(16);
    assert_int_equal(ola_stack_trim(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_gives_back_its_depth),
        cmocka_unit_test(test_main_thread_left_alone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
