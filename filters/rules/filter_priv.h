/*
 * filter_priv.h - what catalog.c, expr.c, rules.c and alerts.c share and
 * nobody else needs: category bits, the fast catalog lookup, severity names.
 */
#ifndef OLA_FILTER_PRIV_H
#define OLA_FILTER_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "filters/rules/filter.h"

#define OLA_CAT_MAX 32 /* distinct category names: bits of a uint32_t */

/* Bit of a category name, or -1 if no type has it. */
int ola_catalog_category_bit(const struct ola_catalog *c, const char *name);
/* One lookup for everything classification needs. Borrowed name and cats. */
bool ola_catalog_lookup(const struct ola_catalog *c, long long id, const char **name,
                        const json_t **cats, uint32_t *mask);
/*
 * The shared {id, name, categories} object of a type (borrowed; take a
 * reference to keep it; never modify it), or NULL if unknown or on ENOMEM.
 */
json_t *ola_catalog_event_type(struct ola_catalog *c, long long id, uint32_t *mask);
/* Id of a type name (linear: for compiling rules, not per event). */
bool ola_catalog_id(const struct ola_catalog *c, const char *name, long long *id);
size_t ola_catalog_size(const struct ola_catalog *c);

/* "low" 0-3, "medium" 4-6, "high" 7-8, "critical" 9-10. */
const char *ola_severity_name(int sev);
/* "low"=3, "medium"=5, "high"=7, "critical"=9 or a number 0..10; -1 if neither. */
int ola_severity_parse(const char *s);

#endif
