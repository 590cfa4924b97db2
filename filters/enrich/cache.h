/*
 * cache.h - a bounded LRU cache with a time to live and negative entries.
 *
 * Keys are 64-bit integers (the caller folds a kind into them: user 17 and
 * role 17 are different keys), values are opaque pointers the cache owns and
 * releases through the free_val callback given at creation. An entry is
 * either positive (a value) or negative (remembered absence, e.g. a 404),
 * each kind with its own time to live. The cache never holds more than
 * max_entries: inserting into a full cache first evicts the least recently
 * used entry. Time is the caller's (a monotonic ms clock), so tests drive it.
 * @locality one thread.
 */
#ifndef OLA_CACHE_H
#define OLA_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ola_cache;

struct ola_cache_opts {
    size_t max_entries;      /* >= 1 */
    int64_t ttl_ms;          /* life of a positive entry; > 0 */
    int64_t negative_ttl_ms; /* life of a negative entry; 0: never stored */
    /* Releases a value the cache owns (evicted, expired, replaced, removed,
       destroyed), given ctx; key says which. NULL: values are not released. */
    void (*free_val)(void *ctx, uint64_t key, void *val);
    void *ctx; /* free_val's first argument, borrowed */
};

enum ola_cache_result {
    OLA_CACHE_MISS = 0, /* absent or expired */
    OLA_CACHE_HIT,      /* a positive entry: *val set */
    OLA_CACHE_NEGATIVE, /* a negative entry: the thing is known not to exist */
};

struct ola_cache_stats {
    uint64_t hits;          /* positive hits */
    uint64_t negative_hits; /* negative hits */
    uint64_t misses;        /* absent or expired */
    uint64_t expired;       /* entries dropped because their time was up */
    uint64_t evicted;       /* entries dropped to stay within max_entries */
    uint64_t removed;       /* entries dropped by ola_cache_remove */
    uint64_t inserts;
    size_t peak; /* most entries held at once */
};

/* Returns a new cache, or NULL (ENOMEM, or opts out of range). */
struct ola_cache *ola_cache_new(const struct ola_cache_opts *opts);
/* Releases every value. NULL is a no-op. */
void ola_cache_destroy(struct ola_cache *c);

/*
 * Looks key up at now_ms and marks the entry most recently used. On HIT,
 * *val is borrowed: valid until the entry leaves the cache (the next put may
 * evict it), so a caller that keeps it takes its own reference. An expired
 * entry is dropped and reported as a MISS.
 */
enum ola_cache_result ola_cache_get(struct ola_cache *c, uint64_t key, int64_t now_ms,
                                    void **val);

/* Like ola_cache_get, but counts nothing and leaves the recency order alone. */
enum ola_cache_result ola_cache_peek(const struct ola_cache *c, uint64_t key,
                                     int64_t now_ms, void **val);

/*
 * Inserts or replaces key with a positive entry living ttl_ms from now_ms.
 * val: not NULL (a NULL value is how the cache knows a negative entry); owned
 * by the cache from the call on, also when it fails (it is then released at
 * once). Returns 0, or -1 on ENOMEM or a NULL val.
 */
int ola_cache_put(struct ola_cache *c, uint64_t key, void *val, int64_t now_ms);

/* Inserts or replaces key with a negative entry (negative_ttl_ms). Returns 0 / -1. */
int ola_cache_put_negative(struct ola_cache *c, uint64_t key, int64_t now_ms);

/*
 * When key's entry was stored: the now_ms its put was given, or -1 when no
 * live entry (positive or negative) is there at now_ms. Counts nothing.
 */
int64_t ola_cache_stored_at(const struct ola_cache *c, uint64_t key, int64_t now_ms);

/* Drops key. Returns true when an entry (live or expired) was there. */
bool ola_cache_remove(struct ola_cache *c, uint64_t key);

/*
 * Replaces every positive entry's value with fn(value, ctx) (the same or a
 * moved copy; fn owns the old one from then on). Counts nothing.
 */
void ola_cache_remap(struct ola_cache *c, void *(*fn)(void *val, void *ctx), void *ctx);

/* Entries held now (expired ones not yet noticed included). */
size_t ola_cache_count(const struct ola_cache *c);
size_t ola_cache_max(const struct ola_cache *c);
const struct ola_cache_stats *ola_cache_stats(const struct ola_cache *c);

#endif
