/*
 * json_parse.h - a strict JSON reader that builds Jansson trees in place.
 */
#ifndef OLA_JSON_PARSE_H
#define OLA_JSON_PARSE_H

#include <stddef.h>

#include <jansson.h>

/* Nesting limit, counted as Jansson counts it (every value one level). */
#define OLA_JSON_MAX_DEPTH JSON_PARSER_MAX_DEPTH

/*
 * Parses the len bytes at p (borrowed; need not be NUL-terminated) as one
 * JSON text whose top is an object or an array. Accepts exactly what
 * json_loadb(p, len, JSON_REJECT_DUPLICATES, ...) accepts and builds the
 * same tree (same types, values and key order); allocates through Jansson's
 * allocator, so a batch arena installed with json_set_alloc_funcs applies.
 * Returns a new reference, or NULL with err (may be NULL) filled: text,
 * position (byte offset), line and column (1-based) of the first fault.
 */
json_t *ola_json_parse(const char *p, size_t len, json_error_t *err);

#endif
