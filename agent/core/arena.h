/*
 * arena.h - bump allocation for the parsed events of one batch.
 *
 * Jansson allocates through one process-wide pair of functions. After
 * ola_arena_install(), a thread that has entered an arena gets Jansson's
 * allocations from it; every other allocation is malloc's. Freeing goes by
 * address: memory of one of the calling thread's arenas is given back all at
 * once by ola_arena_reset(), anything else goes to free(). So a json_t that
 * was parsed inside an arena must be released in the thread that owns the
 * arena and before its reset; values made outside it may be mixed in freely.
 * An arena is created, used and destroyed by one thread.
 */
#ifndef OLA_ARENA_H
#define OLA_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct ola_arena;

/*
 * Makes Jansson allocate through the arenas. Call once, early, before other
 * threads use Jansson; values made before stay valid (they are freed with
 * free()). Idempotent.
 */
void ola_arena_install(void);

/* A new, empty arena registered with the calling thread, or NULL (ENOMEM). */
struct ola_arena *ola_arena_new(void);
/*
 * A lasting arena, for values that outlive a batch but die one by one (the
 * enricher's trees while hot): never reset under them; its freed blocks are
 * reused by the next of their size, and ola_arena_trim_if_empty() gives its
 * chunks back once nothing in it is alive. Registered with the calling
 * thread like any arena. NULL on ENOMEM.
 */
struct ola_arena *ola_arena_new_lasting(void);
/* Releases all memory of a; every value in it must be dead. NULL is a no-op. */
void ola_arena_destroy(struct ola_arena *a);
/* Gives back every allocation at once; keeps up to the last use's chunks for reuse. */
void ola_arena_reset(struct ola_arena *a);
/* Like reset, and returns every chunk to the system (for idle times). */
void ola_arena_trim(struct ola_arena *a);
/* Trims a only when none of its allocations is alive; returns whether it did. */
bool ola_arena_trim_if_empty(struct ola_arena *a);
/* a's allocations not yet freed (0 for NULL). */
size_t ola_arena_blocks(const struct ola_arena *a);

/*
 * Makes Jansson allocate from a in the calling thread until ola_arena_leave.
 * a: borrowed, NULL enters none. Returns the arena entered before (for leave).
 * When ola_arena_install() was not called, this changes nothing.
 */
struct ola_arena *ola_arena_enter(struct ola_arena *a);
void ola_arena_leave(struct ola_arena *prev);

/*
 * json_dumps(v, flags) made outside any arena: returns a new string the
 * caller frees with free() (json_dumps inside an arena would return arena
 * memory, which free() does not take). v: borrowed. NULL on failure.
 */
char *ola_json_dumps(const json_t *v, size_t flags);

/*
 * Whether p is memory of one of the calling thread's arenas that are reset at
 * once (a batch's, not a lasting one): something that keeps a value past its
 * batch (a cache keyed by address) must not keep it.
 */
bool ola_arena_transient(const void *p);

/* Bytes of chunks a holds (in use or kept for reuse). */
size_t ola_arena_size(const struct ola_arena *a);
/* Whether p lies in one of a's chunks. */
bool ola_arena_owns(const struct ola_arena *a, const void *p);

#endif
