/*
 * vec.h - the one growable array: room for one more item, doubling.
 *
 * Arrays stay plain C (an items pointer, a count, a capacity) in the structs
 * that own them; only the growth step is shared:
 *
 *     if (OLA_VEC_GROW(l->items, l->cap, l->n + 1) != 0)
 *         goto fail;
 *     l->items[l->n++] = item;
 *
 * Characters go in struct ola_buf (buf.h) instead.
 */
#ifndef OLA_VEC_H
#define OLA_VEC_H

#include <stddef.h>

/*
 * Makes *items (of *cap elements of size elem) hold at least need elements:
 * the capacity doubles from min_cap until it does. New elements are zeroed.
 * Returns 0, or -1 with errno ENOMEM (overflow or no memory) and *items and
 * *cap as they were. *items: owned by the caller, realloc'd.
 */
int ola_vec_reserve(void **items, size_t *cap, size_t elem, size_t need, size_t min_cap);

/* ola_vec_reserve for an array of any type, 8 elements first; 0 / -1. */
#define OLA_VEC_GROW(items, cap, need) OLA_VEC_GROW_FROM(items, cap, need, 8)
/* The same, starting at min elements (a batch's 64 events, an index's 256). */
#define OLA_VEC_GROW_FROM(items, cap, need, min)                                         \
    ola_vec_reserve_typed((void *)&(items), &(cap), sizeof(*(items)), (need), (min))

/* The step behind the macros. items: a T** passed as void *. */
int ola_vec_reserve_typed(void *items, size_t *cap, size_t elem, size_t need,
                          size_t min_cap);

#endif
