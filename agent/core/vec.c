/*
 * vec.c - growth of plain C arrays (vec.h).
 *
 * Doubling keeps appends amortised O(1); the product count * size is checked
 * before every realloc, so a count that would overflow size_t fails cleanly
 * instead of allocating a short block. New elements are zeroed so an owner
 * may treat a slot past its count as empty.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/vec.h"

int ola_vec_reserve(void **items, size_t *cap, size_t elem, size_t need, size_t min_cap)
{
    size_t n = *cap ? *cap : (min_cap ? min_cap : 1);
    void *p;

    if (need <= *cap)
        return 0;
    while (n < need) {
        if (n > SIZE_MAX / 2) {
            n = need;
            break;
        }
        n *= 2;
    }
    if (elem == 0 || n > SIZE_MAX / elem) {
        errno = ENOMEM;
        return -1;
    }
    p = realloc(*items, n * elem);
    if (p == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
    *items = p;
    *cap = n;
    return 0;
}

int ola_vec_reserve_typed(void *items, size_t *cap, size_t elem, size_t need,
                          size_t min_cap)
{
    void *p;
    int rc;

    /* items points at a T*: copy through void * to keep strict aliasing */
    memcpy(&p, items, sizeof(p));
    rc = ola_vec_reserve(&p, cap, elem, need, min_cap);
    memcpy(items, &p, sizeof(p));
    return rc;
}
