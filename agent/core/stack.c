/*
 * stack.c - drops the stack pages below the calling thread's current depth.
 *
 * pthread_getattr_np gives a thread's stack (its lowest usable address, the
 * guard page excluded, and its size); the pages from there up to a page
 * below this function's own frame are dead: nothing on this thread runs
 * deeper than this call until it returns, and a signal handler that runs
 * meanwhile runs on frames below it that are gone when madvise is called.
 * MADV_DONTNEED on private anonymous memory releases the pages; the next
 * touch maps a zero page, as it did the first time. The main thread is left
 * alone (getattr_np reads /proc/self/maps for it, and its stack grows on
 * demand anyway).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/core/stack.h"

/* Kept between the frame and the pages dropped: madvise's own frame and more. */
#define OLA_STACK_MARGIN 4096u

__attribute__((noinline)) size_t ola_stack_trim(void)
{
    volatile char here = 0;
    pthread_attr_t attr;
    void *lo = NULL;
    size_t size = 0, page;
    uintptr_t low, top;
    long ps = sysconf(_SC_PAGESIZE);

    if (ps <= 0 || getpid() == (pid_t)syscall(SYS_gettid))
        return 0;
    page = (size_t)ps;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return 0;
    if (pthread_attr_getstack(&attr, &lo, &size) != 0)
        size = 0;
    pthread_attr_destroy(&attr);
    if (size == 0)
        return 0;
    low = ((uintptr_t)lo + page - 1) & ~(uintptr_t)(page - 1);
    top = ((uintptr_t)&here - OLA_STACK_MARGIN) & ~(uintptr_t)(page - 1);
    if (top <= low || (uintptr_t)&here >= (uintptr_t)lo + size)
        return 0;
    if (madvise((void *)low, top - low, MADV_DONTNEED) != 0)
        return 0;
    return top - low;
}
