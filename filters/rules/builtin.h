/*
 * builtin.h - the event-type catalog and the default rule pack, compiled in.
 *
 * The bytes of config/event-types.json and config/rules/default.yaml, turned
 * into C arrays at build time by cmake/embed.cmake (one source of truth: the
 * files in config/). Each array ends with a NUL not counted in its _len.
 */
#ifndef OLA_BUILTIN_H
#define OLA_BUILTIN_H

#include <stddef.h>

/* What `olagent check` prints for a built-in source, and what errors name. */
#define OLA_BUILTIN_CATALOG_NAME "built-in:config/event-types.json"
#define OLA_BUILTIN_RULES_NAME   "built-in:config/rules/default.yaml"

extern const char ola_builtin_event_types[];
extern const size_t ola_builtin_event_types_len;
extern const char ola_builtin_rules[];
extern const size_t ola_builtin_rules_len;

#endif
