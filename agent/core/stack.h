/*
 * stack.h - giving back the pages a thread's stack touched deep down and no
 * longer uses.
 *
 * A tenant's thread goes deep only now and then (an HTTP answer through
 * libcurl, a page through the parser and the outputs, a checkpoint save);
 * the kernel keeps every stack page it ever touched, so each of 50 threads
 * would hold its deepest call's pages for good. @locality the calling thread.
 */
#ifndef OLA_CORE_STACK_H
#define OLA_CORE_STACK_H

#include <stddef.h>

/*
 * Drops the calling thread's stack pages below its current depth (they read
 * back as zeros when touched again, as a fresh stack's do). Does nothing on
 * the process's main thread, whose stack the kernel grows on its own.
 * Returns the bytes given back (0 when none, or unknown).
 */
size_t ola_stack_trim(void);

#endif
