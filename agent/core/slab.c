/*
 * slab.c - long-lived objects cut from chunks of OLA_SLAB_CHUNK bytes.
 *
 * Objects are cut from the current chunk by a bump pointer and never reused
 * inside it; a chunk counts its live bytes and is unmapped when the last
 * object in it is freed (and it is no longer the current one). Chunks are
 * mapped on their own (mmap), aligned to their size, so an object finds its
 * chunk from its address, the heap never holds one, and a chunk costs only
 * the pages its objects touched. Churn (evictions, refetches, expiry) leaves
 * dead bytes in old chunks: when they are over a third (ola_slab_sparse),
 * the owner moves its objects to fresh chunks at its trim, and the old
 * chunks empty and go; at rest, where a move costs nothing anyone waits on,
 * as soon as they add up to a chunk (ola_slab_sparse_at_rest). Tables that
 * grow during a burst and stay (hash buckets, blocks of cache entries) are
 * mapped apart too (ola_pages_alloc).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent/core/slab.h"

struct ola_slab_chunk {
    struct ola_slab *slab;
    size_t top;  /* bytes cut, header included */
    size_t live; /* bytes of live objects */
    bool current;
};

/* Bytes of chunks mapped now, all slabs of the process. */
static _Atomic size_t ola_slab_mapped_bytes;

#define OLA_SLAB_HEAD ((sizeof(struct ola_slab_chunk) + 15) / 16 * 16)

/* A chunk of OLA_SLAB_CHUNK bytes aligned to its size, mapped apart; NULL if none. */
static struct ola_slab_chunk *ola_slab_map(void)
{
    size_t span = 2 * (size_t)OLA_SLAB_CHUNK, head, tail;
    char *p =
        mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t at;

    if (p == MAP_FAILED)
        return NULL;
    /* map twice the size and give back what lies outside the aligned chunk */
    at = ((uintptr_t)p + OLA_SLAB_CHUNK - 1) & ~(uintptr_t)(OLA_SLAB_CHUNK - 1);
    head = at - (uintptr_t)p;
    tail = span - head - OLA_SLAB_CHUNK;
    if (head > 0)
        munmap(p, head);
    if (tail > 0)
        munmap((char *)at + OLA_SLAB_CHUNK, tail);
    atomic_fetch_add(&ola_slab_mapped_bytes, OLA_SLAB_CHUNK);
    return (struct ola_slab_chunk *)at;
}

static void ola_slab_drop_if_empty(struct ola_slab_chunk *k)
{
    if (k->live > 0 || k->current)
        return;
    k->slab->used -= k->top - OLA_SLAB_HEAD;
    munmap(k, OLA_SLAB_CHUNK);
    atomic_fetch_sub(&ola_slab_mapped_bytes, OLA_SLAB_CHUNK);
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
        k = ola_slab_map();
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
    p = (char *)k + k->top; /* zero: a fresh mapping, never cut twice */
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

bool ola_slab_sparse_at_rest(const struct ola_slab *s)
{
    return s->used - s->live >= OLA_SLAB_CHUNK;
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

size_t ola_slab_mapped(void)
{
    return atomic_load(&ola_slab_mapped_bytes);
}

#define OLA_PAGES_MIN (8u << 10) /* smaller tables: calloc */

/* size in whole pages, as the kernel maps it. */
static size_t ola_pages_round(size_t size)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t p = ps > 0 ? (size_t)ps : 4096;

    return (size + p - 1) / p * p;
}

void *ola_pages_alloc(size_t size)
{
    void *p;

    if (size < OLA_PAGES_MIN)
        return calloc(1, size);
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    atomic_fetch_add(&ola_slab_mapped_bytes, ola_pages_round(size));
    return p;
}

void ola_pages_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    if (size < OLA_PAGES_MIN) {
        free(p);
        return;
    }
    munmap(p, size);
    atomic_fetch_sub(&ola_slab_mapped_bytes, ola_pages_round(size));
}
