/*
 * seen.h - a set of event ids, each with its created time.
 *
 * A plain data structure shared by the source (the ids of a page, for
 * in-page dedupe; the ids already delivered, to skip a re-read event) and the
 * checkpoint (which saves and bounds the delivered ones). Single-threaded.
 */
#ifndef OLA_SEEN_H
#define OLA_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ola_seen;

/* A new empty set (the caller destroys it), or NULL out of memory. */
struct ola_seen *ola_seen_new(void);
void ola_seen_destroy(struct ola_seen *s);
bool ola_seen_has(const struct ola_seen *s, int64_t id);
/* Adds id (no-op if present). Returns 0 / -1 (ENOMEM). */
int ola_seen_add(struct ola_seen *s, int64_t id, int64_t created_ms);
/* Removes every id with created_ms < before_ms. Returns how many went. */
size_t ola_seen_prune(struct ola_seen *s, int64_t before_ms);
/*
 * Removes the oldest entries (smallest created_ms, then smallest id) until at
 * most keep remain; when bounded, only entries created before before_ms may
 * go (then more than keep may remain). *removed says how many went. Returns
 * 0, or -1 (ENOMEM: nothing removed; it needs a copy of the candidates).
 */
int ola_seen_trim(struct ola_seen *s, size_t keep, bool bounded, int64_t before_ms,
                  size_t *removed);
size_t ola_seen_count(const struct ola_seen *s);
void ola_seen_clear(struct ola_seen *s);
/* Calls fn for each entry, in increasing id order. */
void ola_seen_foreach(const struct ola_seen *s,
                      void (*fn)(int64_t id, int64_t created_ms, void *arg), void *arg);

#endif
