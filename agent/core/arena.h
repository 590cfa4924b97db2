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

struct ola_arena;

/*
 * Makes Jansson allocate through the arenas. Call once, early, before other
 * threads use Jansson; values made before stay valid (they are freed with
 * free()). Idempotent.
 */
void ola_arena_install(void);

/* A new, empty arena registered with the calling thread, or NULL (ENOMEM). */
struct ola_arena *ola_arena_new(void);
/* Releases all memory of a; every value in it must be dead. NULL is a no-op. */
void ola_arena_destroy(struct ola_arena *a);
/* Gives back every allocation at once; keeps up to the last use's chunks for reuse. */
void ola_arena_reset(struct ola_arena *a);
/* Like reset, and returns every chunk to the system (for idle times). */
void ola_arena_trim(struct ola_arena *a);

/*
 * Makes Jansson allocate from a in the calling thread until ola_arena_leave.
 * a: borrowed, NULL enters none. Returns the arena entered before (for leave).
 * When ola_arena_install() was not called, this changes nothing.
 */
struct ola_arena *ola_arena_enter(struct ola_arena *a);
void ola_arena_leave(struct ola_arena *prev);

/*
 * Whether p is memory of one of the calling thread's arenas: something that
 * keeps a value past its batch (a cache keyed by address) must not keep it.
 */
bool ola_arena_contains(const void *p);

/* Bytes of chunks a holds (in use or kept for reuse). */
size_t ola_arena_size(const struct ola_arena *a);
/* Whether p lies in one of a's chunks. */
bool ola_arena_owns(const struct ola_arena *a, const void *p);

#endif
