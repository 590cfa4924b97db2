/*
 * slab.c - the enricher's records cut from chunks of OLA_SLAB_CHUNK bytes.
 *
 * Objects are cut from the current chunk by a bump pointer and never reused
 * inside it; a chunk counts its live bytes and is freed when the last object
 * in it is freed (and it is no longer the current one). Chunks are aligned
 * to their size, so an object finds its chunk from its address. Churn
 * (evictions, refetches) leaves dead bytes in old chunks: when they are over
 * a third (ola_slab_sparse), the enricher moves its records to fresh chunks
 * at its trim (vals.c), and the old chunks empty and go.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filters/enrich/slab.h"

struct ola_slab_chunk {
    struct ola_slab *slab;
    size_t top;  /* bytes cut, header included */
    size_t live; /* bytes of live objects */
    bool current;
};

#define OLA_SLAB_HEAD ((sizeof(struct ola_slab_chunk) + 15) / 16 * 16)

static void ola_slab_drop_if_empty(struct ola_slab_chunk *k)
{
    if (k->live > 0 || k->current)
        return;
    k->slab->used -= k->top - OLA_SLAB_HEAD;
    free(k);
}

void *ola_slab_alloc(struct ola_slab *s, size_t size, bool *in_slab)
{
    struct ola_slab_chunk *k = s->cur;
    void *p;

    size = (size + 7) / 8 * 8;
    *in_slab = false;
    if (size > OLA_SLAB_BIG)
        return calloc(1, size);
    if (k == NULL || k->top + size > OLA_SLAB_CHUNK) {
        k = aligned_alloc(OLA_SLAB_CHUNK, OLA_SLAB_CHUNK);
        if (k == NULL)
            return calloc(1, size);
        k->slab = s;
        k->top = OLA_SLAB_HEAD;
        k->live = 0;
        k->current = true;
        if (s->cur != NULL) {
            s->cur->current = false;
            ola_slab_drop_if_empty(s->cur);
        }
        s->cur = k;
    }
    p = (char *)k + k->top;
    memset(p, 0, size);
    k->top += size;
    k->live += size;
    s->used += size;
    s->live += size;
    *in_slab = true;
    return p;
}

void ola_slab_free(void *p, size_t size)
{
    struct ola_slab_chunk *k =
        (struct ola_slab_chunk *)((uintptr_t)p & ~(uintptr_t)(OLA_SLAB_CHUNK - 1));

    size = (size + 7) / 8 * 8;
    k->live -= size;
    k->slab->live -= size;
    ola_slab_drop_if_empty(k);
}

bool ola_slab_sparse(const struct ola_slab *s)
{
    size_t dead = s->used - s->live;

    return dead > OLA_SLAB_CHUNK / 2 && dead * 3 > s->used;
}

void ola_slab_fresh(struct ola_slab *s)
{
    if (s->cur == NULL)
        return;
    s->cur->current = false;
    ola_slab_drop_if_empty(s->cur);
    s->cur = NULL;
}

void ola_slab_release(struct ola_slab *s)
{
    ola_slab_fresh(s);
}
