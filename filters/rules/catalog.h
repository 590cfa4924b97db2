/*
 * catalog.h - the event-type catalog: event type id -> name, categories.
 *
 * The first part is what the rest of the agent uses (enrichment names and
 * learns types; filter.h includes this header for it); the second part is for
 * the rule files only: category bits for expressions, and the shared
 * olagent.event_type object for classification. catalog.c calls nothing else
 * in filters/rules.
 */
#ifndef OLA_CATALOG_H
#define OLA_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/err.h"

struct ola_catalog;

/* A catalog file larger than this is a mistake (the shipped one is 38 KB). */
#define OLA_CATALOG_MAX_BYTES ((size_t)4 << 20)

/*
 * Loads a JSON array of {id, name, categories} from a file of at most
 * OLA_CATALOG_MAX_BYTES. Returns a new catalog or NULL.
 */
struct ola_catalog *ola_catalog_load(const char *path, struct ola_err *err);
/* The built-in catalog (config/event-types.json, compiled in): new, or NULL. */
struct ola_catalog *ola_catalog_builtin(struct ola_err *err);
void ola_catalog_destroy(struct ola_catalog *c);
/* Borrowed name or NULL if unknown. */
const char *ola_catalog_name(const struct ola_catalog *c, long long id);
/* Borrowed categories array (json array of strings), or NULL if unknown. */
const json_t *ola_catalog_categories(struct ola_catalog *c, long long id);
/* Learns or renames a type (from GET /api/1/events/types). Returns 0 / -1. */
int ola_catalog_learn(struct ola_catalog *c, long long id, const char *name);

/* ---- for filters/rules only ---------------------------------------------- */

#define OLA_CAT_MAX 32 /* distinct category names: bits of a uint32_t */

/* Bit of a category name, or -1 if no type has it. */
int ola_catalog_category_bit(const struct ola_catalog *c, const char *name);
/* One lookup for everything classification needs. Borrowed name and cats. */
bool ola_catalog_lookup(struct ola_catalog *c, long long id, const char **name,
                        const json_t **cats, uint32_t *mask);
/*
 * The shared {id, name, categories} object of a type (borrowed; take a
 * reference to keep it; never modify it), or NULL if unknown or on ENOMEM.
 */
json_t *ola_catalog_event_type(struct ola_catalog *c, long long id, uint32_t *mask);
/* Id of a type name (linear: for compiling rules, not per event). */
bool ola_catalog_id(const struct ola_catalog *c, const char *name, long long *id);
size_t ola_catalog_size(const struct ola_catalog *c);
/*
 * Drops the event_type objects and category arrays that only the catalog
 * still references (the agent going idle); they are built again on next use.
 * Values returned earlier and still referenced elsewhere stay valid. c: NULL ok.
 */
void ola_catalog_trim(struct ola_catalog *c);

#endif
