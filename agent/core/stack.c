/*
 * stack.c - drops the stack pages below the calling thread's current depth.
 *
 * pthread_getattr_np gives a thread's stack (its lowest usable address, the
 * guard page excluded, and its size); the pages from there up to a page
 * below this function's own frame are dead: nothing on this thread runs
 * deeper than this call until it returns, and a signal handler that runs
 * meanwhile runs on frames below it that are gone when madvise is called.
 * MADV_DONTNEED on private anonymous memory releases the pages; the next
 * touch maps a zero page, as it did the first time. The bounds are found on
 * a thread's first trim and kept (getattr_np costs a syscall and an
 * allocation, and a tenant trims before every wait). The main thread is
 * left alone (getattr_np reads /proc/self/maps for it, and its stack grows
 * on demand anyway).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/core/stack.h"

/* Kept between the frame and the pages dropped: madvise's own frame and more. */
#define OLA_STACK_MARGIN 4096u

/* The calling thread's stack, page-aligned [lo, hi), found on its first trim:
   a thread's stack does not move. lo 1: the main thread, or unknown. */
static _Thread_local uintptr_t ola_stack_lo, ola_stack_hi;

/* Finds the calling thread's stack once. Returns false: leave it alone. */
static bool ola_stack_bounds(size_t page)
{
    pthread_attr_t attr;
    void *lo = NULL;
    size_t size = 0;

    if (ola_stack_lo != 0)
        return ola_stack_lo != 1;
    ola_stack_lo = 1;
    if (getpid() == (pid_t)syscall(SYS_gettid) ||
        pthread_getattr_np(pthread_self(), &attr) != 0)
        return false;
    if (pthread_attr_getstack(&attr, &lo, &size) != 0)
        size = 0;
    pthread_attr_destroy(&attr);
    if (size == 0)
        return false;
    ola_stack_lo = ((uintptr_t)lo + page - 1) & ~(uintptr_t)(page - 1);
    ola_stack_hi = (uintptr_t)lo + size;
    return true;
}

__attribute__((noinline)) size_t ola_stack_trim(void)
{
    volatile char here = 0;
    long ps = sysconf(_SC_PAGESIZE);
    size_t page;
    uintptr_t top;

    if (ps <= 0)
        return 0;
    page = (size_t)ps;
    if (!ola_stack_bounds(page))
        return 0;
    top = ((uintptr_t)&here - OLA_STACK_MARGIN) & ~(uintptr_t)(page - 1);
    if (top <= ola_stack_lo || (uintptr_t)&here >= ola_stack_hi)
        return 0;
    if (madvise((void *)ola_stack_lo, top - ola_stack_lo, MADV_DONTNEED) != 0)
        return 0;
    return top - ola_stack_lo;
}
