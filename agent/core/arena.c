/*
 * arena.c - bump allocation for the Jansson values of one batch, and of the
 * enricher's trees.
 *
 * Parsing a page of 1,000 events makes some 60,000 small Jansson allocations
 * that all die together when the batch is reset, and the pipeline adds as
 * many again (each event's "olagent" object, the alerts, the formats' and
 * outputs' scratch values). Through malloc each costs a header, a trip
 * through the bins on the way back, and the batch's freed trees scatter the
 * heap between pages and through idle times: what lasts (a tenant's caches,
 * libcurl's handles) lands among them and pins their pages. Here they are
 * cut from 1 MB chunks mapped straight from the system: allocation bumps a
 * pointer behind an 8-byte size, a freed small block waits on a list for the
 * next allocation of its size (the parser's growing buffers), and
 * ola_arena_reset() takes back a whole page at once; ola_arena_trim() unmaps
 * the chunks when the agent is idle, so a quiet agent holds no page memory.
 * A lasting arena is never reset under its values: they die one by one (the
 * enricher's trees, built while a user is hot and freed when it cools), their
 * blocks are reused by the next of their size, and its chunks go back once
 * nothing in it is alive (ola_arena_trim_if_empty, at rest).
 *
 * Jansson's allocator pair is process-wide, so ours routes by thread: a
 * thread that entered an arena allocates from it, any other allocation is
 * malloc's. free() is routed by address against the chunks of the arenas the
 * calling thread created (a thread-local list with one bounds check first),
 * which is why an arena's values must die in its thread, as json_t never
 * crosses threads anyway; text json_dumps returns inside an arena is arena
 * memory, so callers that free() it use ola_json_dumps. Under
 * AddressSanitizer each allocation carries its size and a red zone, and freed
 * or reset memory is poisoned, so a value used after its batch was reset is
 * reported like a use after free.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <jansson.h>

#include "agent/core/arena.h"

#if defined(__SANITIZE_ADDRESS__)
#define OLA_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OLA_ARENA_ASAN 1
#endif
#endif

#ifdef OLA_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define OLA_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define OLA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define OLA_ARENA_HEAD     16u /* the block's size, before it */
#define OLA_ARENA_RED      16u /* poisoned gap after it */
#define OLA_ARENA_ALIGN    16u
#else
#define OLA_POISON(p, n)   ((void)(p), (void)(n))
#define OLA_UNPOISON(p, n) ((void)(p), (void)(n))
#define OLA_ARENA_HEAD     8u /* the block's size, before it */
#define OLA_ARENA_RED      0u
/* Jansson's values hold nothing wider than 8 bytes (no long double) */
#define OLA_ARENA_ALIGN    8u
#endif

/* freed blocks up to this size are reused by the next allocation of the same
 * size: the lexer's growing token buffer and the tables of growing objects
 * would otherwise leave a third of a page's arena dead */
#define OLA_ARENA_REUSE 1024u
#define OLA_ARENA_CHUNK ((size_t)1 << 20)
/* an allocation above this gets a chunk of its own (a 100 KB string in a page) */
#define OLA_ARENA_BIG (OLA_ARENA_CHUNK / 4)
/* chunks kept for reuse across resets; a larger page's extra ones are unmapped */
#define OLA_ARENA_KEEP 8u

struct ola_arena_chunk {
    struct ola_arena_chunk *next;
    size_t size; /* mapped bytes, this header included */
    size_t used; /* offset of the next allocation */
};

#define OLA_ARENA_HDR                                                                    \
    ((sizeof(struct ola_arena_chunk) + OLA_ARENA_ALIGN - 1) &                            \
     ~(size_t)(OLA_ARENA_ALIGN - 1))

struct ola_arena {
    struct ola_arena_chunk *live;  /* chunks holding allocations, newest first */
    struct ola_arena_chunk *spare; /* standard chunks kept for reuse */
    size_t n_spare;
    size_t bytes;  /* mapped bytes of all chunks */
    size_t blocks; /* allocations not yet freed */
    bool lasting;  /* values freed one by one, never reset under them */
    void *reuse[OLA_ARENA_REUSE / OLA_ARENA_ALIGN + 1]; /* freed blocks by size */
    struct ola_arena *prev, *next;                      /* the owning thread's arenas */
};

static atomic_bool ola_arena_installed;

/* the calling thread's arenas, the one it allocates from, and their address range */
static _Thread_local struct ola_arena *ola_arena_list;
static _Thread_local struct ola_arena *ola_arena_cur;
static _Thread_local uintptr_t ola_arena_lo = UINTPTR_MAX, ola_arena_hi;

static void ola_arena_widen(const struct ola_arena_chunk *c)
{
    uintptr_t lo = (uintptr_t)c, hi = lo + c->size;

    if (lo < ola_arena_lo)
        ola_arena_lo = lo;
    if (hi > ola_arena_hi)
        ola_arena_hi = hi;
}

/* Recomputes the thread's range after chunks went away. */
static void ola_arena_narrow(void)
{
    const struct ola_arena *a;
    const struct ola_arena_chunk *c;

    ola_arena_lo = UINTPTR_MAX;
    ola_arena_hi = 0;
    for (a = ola_arena_list; a != NULL; a = a->next)
        for (c = a->live; c != NULL; c = c->next)
            ola_arena_widen(c);
}

static struct ola_arena_chunk *ola_chunk_map(size_t size)
{
    struct ola_arena_chunk *c;

    c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = OLA_ARENA_HDR;
    OLA_POISON((char *)c + OLA_ARENA_HDR, size - OLA_ARENA_HDR);
    return c;
}

static void ola_chunk_unmap(struct ola_arena *a, struct ola_arena_chunk *c)
{
    a->bytes -= c->size;
    OLA_UNPOISON(c, c->size);
    munmap(c, c->size);
}

/* A chunk with room for need bytes, made the current one (or, if big, the second). */
static struct ola_arena_chunk *ola_arena_grow(struct ola_arena *a, size_t need)
{
    struct ola_arena_chunk *c;
    size_t page = 4096, size = OLA_ARENA_CHUNK;

    if (need <= OLA_ARENA_BIG && a->spare != NULL) {
        c = a->spare;
        a->spare = c->next;
        a->n_spare--;
        c->used = OLA_ARENA_HDR;
    } else {
        if (need > OLA_ARENA_BIG) {
            if (need > SIZE_MAX - OLA_ARENA_HDR - page)
                return NULL;
            size = (OLA_ARENA_HDR + need + page - 1) & ~(page - 1);
        }
        c = ola_chunk_map(size);
        if (c == NULL)
            return NULL;
        a->bytes += size;
    }
    if (need > OLA_ARENA_BIG && a->live != NULL) {
        /* keep filling the current chunk; the big one holds its value only */
        c->next = a->live->next;
        a->live->next = c;
    } else {
        c->next = a->live;
        a->live = c;
    }
    ola_arena_widen(c);
    return c;
}

static void *ola_arena_alloc(struct ola_arena *a, size_t n)
{
    struct ola_arena_chunk *c = a->live;
    size_t need;
    char *p;

    if (n > SIZE_MAX / 2)
        return NULL;
    need = (OLA_ARENA_HEAD + n + OLA_ARENA_RED + OLA_ARENA_ALIGN - 1) &
           ~(size_t)(OLA_ARENA_ALIGN - 1);
    if (need <= OLA_ARENA_REUSE && a->reuse[need / OLA_ARENA_ALIGN] != NULL) {
        p = a->reuse[need / OLA_ARENA_ALIGN]; /* never under ASan: none are kept */
        a->reuse[need / OLA_ARENA_ALIGN] = *(void **)(void *)p;
        a->blocks++;
        return p;
    }
    if (c == NULL || c->size - c->used < need) {
        c = ola_arena_grow(a, need);
        if (c == NULL)
            return NULL;
    }
    p = (char *)c + c->used;
    c->used += need;
    OLA_UNPOISON(p, OLA_ARENA_HEAD + n);
    *(size_t *)(void *)p = need;
    OLA_POISON(p, OLA_ARENA_HEAD);
    a->blocks++;
    return p + OLA_ARENA_HEAD;
}

/* p, cut from a, is dead: kept for reuse, or (under ASan) poisoned. */
static void ola_arena_dead(struct ola_arena *a, void *p)
{
    char *h = (char *)p - OLA_ARENA_HEAD;
    size_t need;

    OLA_UNPOISON(h, sizeof(need));
    need = *(size_t *)(void *)h;
    a->blocks--;
#ifdef OLA_ARENA_ASAN
    (void)a;
    OLA_POISON(h, need); /* the whole block: a later use is reported */
#else
    if (need <= OLA_ARENA_REUSE) {
        *(void **)p = a->reuse[need / OLA_ARENA_ALIGN];
        a->reuse[need / OLA_ARENA_ALIGN] = p;
    }
#endif
}

/* The calling thread's arena p was cut from, or NULL. */
static struct ola_arena *ola_arena_mine(const void *p)
{
    uintptr_t u = (uintptr_t)p;
    struct ola_arena *a;

    if (u < ola_arena_lo || u >= ola_arena_hi)
        return NULL;
    for (a = ola_arena_list; a != NULL; a = a->next)
        if (ola_arena_owns(a, p))
            return a;
    return NULL;
}

static void *ola_arena_malloc_fn(size_t n)
{
    return ola_arena_cur != NULL ? ola_arena_alloc(ola_arena_cur, n) : malloc(n);
}

static void ola_arena_free_fn(void *p)
{
    struct ola_arena *a;

    if (p == NULL)
        return;
    a = ola_arena_mine(p);
    if (a != NULL)
        ola_arena_dead(a, p);
    else
        free(p);
}

void ola_arena_install(void)
{
    if (!atomic_exchange(&ola_arena_installed, true))
        json_set_alloc_funcs(ola_arena_malloc_fn, ola_arena_free_fn);
}

struct ola_arena *ola_arena_new(void)
{
    struct ola_arena *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    a->next = ola_arena_list;
    if (ola_arena_list != NULL)
        ola_arena_list->prev = a;
    ola_arena_list = a;
    return a;
}

struct ola_arena *ola_arena_new_lasting(void)
{
    struct ola_arena *a = ola_arena_new();

    if (a != NULL)
        a->lasting = true;
    return a;
}

/* Moves the live chunks to the spares, unmapping big ones and those beyond keep. */
static void ola_arena_release(struct ola_arena *a, size_t keep)
{
    struct ola_arena_chunk *c, *next;

    memset(a->reuse, 0, sizeof(a->reuse));
    a->blocks = 0;
    for (c = a->live; c != NULL; c = next) {
        next = c->next;
        if (c->size != OLA_ARENA_CHUNK || a->n_spare >= keep) {
            ola_chunk_unmap(a, c);
            continue;
        }
        OLA_POISON((char *)c + OLA_ARENA_HDR, c->size - OLA_ARENA_HDR);
        c->next = a->spare;
        a->spare = c;
        a->n_spare++;
    }
    a->live = NULL;
    if (keep == 0) {
        for (c = a->spare; c != NULL; c = next) {
            next = c->next;
            ola_chunk_unmap(a, c);
        }
        a->spare = NULL;
        a->n_spare = 0;
    }
    ola_arena_narrow();
}

void ola_arena_reset(struct ola_arena *a)
{
    if (a != NULL && a->live != NULL)
        ola_arena_release(a, OLA_ARENA_KEEP);
}

void ola_arena_trim(struct ola_arena *a)
{
    if (a != NULL)
        ola_arena_release(a, 0);
}

bool ola_arena_trim_if_empty(struct ola_arena *a)
{
    if (a == NULL || a->blocks > 0)
        return false;
    ola_arena_release(a, 0);
    return true;
}

void ola_arena_destroy(struct ola_arena *a)
{
    if (a == NULL)
        return;
    if (ola_arena_cur == a)
        ola_arena_cur = NULL;
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        ola_arena_list = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
    ola_arena_release(a, 0);
    free(a);
}

struct ola_arena *ola_arena_enter(struct ola_arena *a)
{
    struct ola_arena *prev = ola_arena_cur;

    if (atomic_load_explicit(&ola_arena_installed, memory_order_relaxed))
        ola_arena_cur = a;
    return prev;
}

void ola_arena_leave(struct ola_arena *prev)
{
    ola_arena_cur = prev;
}

char *ola_json_dumps(const json_t *v, size_t flags)
{
    struct ola_arena *prev = ola_arena_enter(NULL);
    char *text = json_dumps(v, flags);

    ola_arena_leave(prev);
    return text;
}

bool ola_arena_transient(const void *p)
{
    const struct ola_arena *a = ola_arena_mine(p);

    return a != NULL && !a->lasting;
}

size_t ola_arena_blocks(const struct ola_arena *a)
{
    return a != NULL ? a->blocks : 0;
}

size_t ola_arena_size(const struct ola_arena *a)
{
    return a != NULL ? a->bytes : 0;
}

bool ola_arena_owns(const struct ola_arena *a, const void *p)
{
    const struct ola_arena_chunk *c;
    uintptr_t u = (uintptr_t)p;

    if (a == NULL)
        return false;
    for (c = a->live; c != NULL; c = c->next)
        if (u >= (uintptr_t)c + OLA_ARENA_HDR && u < (uintptr_t)c + c->size)
            return true;
    return false;
}
