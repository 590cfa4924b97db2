/*
 * slab.h - where long-lived small objects live: chunks their owner holds,
 * mapped apart from the heap, so that they never sit among the trees and
 * buffers a busy page allocates and frees (a record kept in the middle of a
 * freed page would pin it: after a backfill, glibc's heap would keep the
 * peak resident). The enricher's records and the alert rules' keys live
 * here; their owners move them to fresh chunks when churn leaves the old
 * ones sparse.
 *
 * @locality one thread: the owner's.
 */
#ifndef OLA_CORE_SLAB_H
#define OLA_CORE_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#define OLA_SLAB_CHUNK (64u << 10) /* bytes, a power of two; chunks are aligned to it */
#define OLA_SLAB_BIG   (4u << 10)  /* larger objects go to malloc */

struct ola_slab_chunk;

/* Zeroed memory is an empty slab. */
struct ola_slab {
    struct ola_slab_chunk *cur; /* where objects are cut from */
    size_t used;                /* bytes cut from chunks still held */
    size_t live;                /* bytes of those not freed */
};

/*
 * size zeroed bytes (8-aligned), from a chunk (*in_slab true) or, for big
 * objects or when no chunk can be had, from calloc (*in_slab false).
 * NULL on ENOMEM.
 */
void *ola_slab_alloc(struct ola_slab *s, size_t size, bool *in_slab);
/* Frees p (size bytes, from a chunk); a chunk with nothing left goes. */
void ola_slab_free(void *p, size_t size);
/* True when more than a third of the chunks' bytes are dead: time to move. */
bool ola_slab_sparse(const struct ola_slab *s);
/* True when a chunk's worth of bytes is dead: a move at rest gives a chunk back. */
bool ola_slab_sparse_at_rest(const struct ola_slab *s);
/* The next objects come from a new chunk (the ones they move out of empty). */
void ola_slab_fresh(struct ola_slab *s);
/* Lets go of the current chunk once nothing in it is alive (destroy). */
void ola_slab_release(struct ola_slab *s);
/* Bytes mapped now by every slab and ola_pages_alloc of the process (not in the heap). */
size_t ola_slab_mapped(void);

/*
 * size zeroed bytes for a long-lived table that grows while the heap is busy
 * (hash buckets, blocks of entries): from 8 KB up mapped apart from the heap
 * (whole pages), smaller from calloc. NULL on ENOMEM. Free with
 * ola_pages_free and the same size; p NULL is a no-op.
 */
void *ola_pages_alloc(size_t size);
void ola_pages_free(void *p, size_t size);

#endif
