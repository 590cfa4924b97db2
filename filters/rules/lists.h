/*
 * lists.h - named lists read from files, for the `in_list` operator.
 *
 * A rule file may declare `lists: {NAME: {file: PATH, type: string|cidr,
 * ignore_case: BOOL}}`. The file holds one entry a line; blank lines and
 * `#` comments are skipped. A `string` list holds texts (user ids, names),
 * compared exactly (or without case); a `cidr` list holds IPv4 and IPv6
 * addresses and ranges (10.0.0.0/8, 2001:db8::/32; a bare address is a /32
 * or /128), merged into sorted intervals and searched by bisection. Lists
 * are read when the rule set is built (at start and on SIGHUP) and never
 * change afterwards. Sizes are bounded (OLA_LIST_MAX_BYTES, _ENTRIES).
 */
#ifndef OLA_LISTS_H
#define OLA_LISTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "agent/core/err.h"
#include "config/config.h"

#define OLA_LIST_MAX_BYTES   ((size_t)16 << 20)
#define OLA_LIST_MAX_ENTRIES ((size_t)1000000)
#define OLA_LIST_ENTRY_MAX   512

struct ola_list;

/*
 * Reads the list `name` from its YAML definition def ({file, type,
 * ignore_case}); a relative file is looked up beside the rule file that
 * declares it. Errors read "file:line: ..." (the rule file's line for the
 * definition, the list file's line for a bad entry). Returns a new list or NULL.
 */
struct ola_list *ola_list_load(const char *name, const struct ola_cfg *def,
                               struct ola_err *err);
void ola_list_destroy(struct ola_list *l);
/* The list's name (borrowed) and number of entries (after merging ranges). */
const char *ola_list_name(const struct ola_list *l);
size_t ola_list_size(const struct ola_list *l);
/* Where the list was declared, "file:line" (borrowed). */
const char *ola_list_where(const struct ola_list *l);

/*
 * True when the value is in the list: a string list takes strings, numbers
 * and booleans by their text; a cidr list takes strings that are IP
 * addresses (IPv4-mapped IPv6 addresses count as IPv4). v may be NULL.
 */
bool ola_list_has(const struct ola_list *l, const json_t *v);

/*
 * Parses one CIDR or address into family (4 or 6), the first and last
 * address (16 bytes, big-endian; IPv4 in the first 4). why gets the reason
 * on failure. Returns 0 / -1. For tests and the loader.
 */
int ola_cidr_parse(const char *s, int *family, unsigned char lo[16], unsigned char hi[16],
                   char *why, size_t why_size);

#endif
