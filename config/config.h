/*
 * config.h - YAML configuration: a line-aware tree and its typed readers.
 *
 * Loading is two steps. ola_cfg_load_*() reads YAML (libyaml) into a tree of
 * nodes that remember their file and line, replacing ${VAR} in scalars from
 * the environment (a missing variable is an error; a value that came from
 * ${VAR} or from a *_file key is marked secret). Then typed readers turn nodes
 * into settings; every error reads "file:line: what is wrong". Modules declare
 * their keys in option tables (options.h) read by one walker over the same
 * readers, so all configuration errors look alike. The settings themselves
 * live with their modules (agent/settings.h composes them).
 */
#ifndef OLA_CONFIG_H
#define OLA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/core/err.h"

enum ola_cfg_type {
    OLA_CFG_NULL = 0, /* "~", "null" or empty */
    OLA_CFG_SCALAR,
    OLA_CFG_MAP,
    OLA_CFG_SEQ,
};

struct ola_cfg;     /* a node; owned by its document */
struct ola_cfg_doc; /* a loaded document */

/* Returns 0 and a new document in *out, or -1 with "file:line: ..." in err. */
int ola_cfg_load_file(const char *path, struct ola_cfg_doc **out, struct ola_err *err);
/* name is used in error messages in place of a file name. */
int ola_cfg_load_string(const char *name, const char *text, size_t len,
                        struct ola_cfg_doc **out, struct ola_err *err);
/* The same for data that is not configuration (Sigma rules): scalars are kept
 * as written, without ${VAR} substitution, and never marked secret. */
int ola_cfg_load_string_raw(const char *name, const char *text, size_t len,
                            struct ola_cfg_doc **out, struct ola_err *err);
void ola_cfg_doc_destroy(struct ola_cfg_doc *doc);
/* The root node (a map for a config file). Borrowed from doc. */
const struct ola_cfg *ola_cfg_root(const struct ola_cfg_doc *doc);

enum ola_cfg_type ola_cfg_type(const struct ola_cfg *n);
int ola_cfg_line(const struct ola_cfg *n);
const char *ola_cfg_file(const struct ola_cfg *n);
/* Map lookup; NULL when map is NULL, not a map, or has no such key. */
const struct ola_cfg *ola_cfg_get(const struct ola_cfg *map, const char *key);
/* Items of a sequence or entries of a map. */
size_t ola_cfg_len(const struct ola_cfg *n);
const struct ola_cfg *ola_cfg_at(const struct ola_cfg *n, size_t i);
/* For maps: the key of entry i. */
const char *ola_cfg_key_at(const struct ola_cfg *map, size_t i);
/* The scalar text after ${VAR} substitution; NULL for non-scalars. */
const char *ola_cfg_scalar(const struct ola_cfg *n);
/* True when the value came from ${VAR} or a *_file. */
bool ola_cfg_is_secret(const struct ola_cfg *n);
/* The node's dotted path for messages ("onelogin.page_size", "outputs[1]"); "" for
 * the root and for NULL. Borrowed from the document. */
const char *ola_cfg_path(const struct ola_cfg *n);
/* For maps: the line of the key of entry i (0 when out of range). */
int ola_cfg_key_line(const struct ola_cfg *map, size_t i);

/*
 * How an error message shows node n's value, the one way to show a value: quoted
 * ('value', cut to fit size) when it was written in the file; a placeholder when it
 * came from ${VAR} or a *_file (a secret, never shown) or n is NULL. Error paths pass
 * the node, never the string read from it. Returns buf or a static string.
 */
#define OLA_CFG_SHOWN_MAX 96
const char *ola_cfg_shown(const struct ola_cfg *n, char *buf, size_t size);

/* Formats "file:line: " + message into err, for node n. Returns -1. */
int ola_cfg_errf(struct ola_err *err, const struct ola_cfg *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Warnings: settings that are valid but weaken security (TLS checks off, a
 * password sent in clear). ola_cfg_warn records "file:line: message" for node
 * n in its document (never put a secret's value in it); `olagent check`
 * prints them (`--strict` fails on them) and `olagent run` logs them once
 * outputs are built. Returns 0 / -1 (no memory: the warning is lost).
 */
int ola_cfg_warn(const struct ola_cfg *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t ola_cfg_warning_count(const struct ola_cfg_doc *doc);
/* Warning i, "file:line: message"; borrowed from doc. NULL when out of range. */
const char *ola_cfg_warning(const struct ola_cfg_doc *doc, size_t i);
/* Logs every warning of doc at level warn (for `olagent run`). */
void ola_cfg_log_warnings(const struct ola_cfg_doc *doc);

/*
 * Typed readers. An absent key (or null value) gives the default and 0. A
 * present key with a wrong type or out-of-range value gives -1 and
 * "file:line: key: what is wrong". `map` may be NULL (everything absent).
 */
int ola_cfg_str(const struct ola_cfg *map, const char *key, const char *def,
                const char **out, struct ola_err *err);
int ola_cfg_int(const struct ola_cfg *map, const char *key, long long def, long long min,
                long long max, long long *out, struct ola_err *err);
int ola_cfg_double(const struct ola_cfg *map, const char *key, double def, double *out,
                   struct ola_err *err);
int ola_cfg_bool(const struct ola_cfg *map, const char *key, bool def, bool *out,
                 struct ola_err *err);
/* Durations like "10s" (timeutil.h); min/max in ms bound the value. */
int ola_cfg_duration(const struct ola_cfg *map, const char *key, int64_t def, int64_t min,
                     int64_t max, int64_t *out, struct ola_err *err);
/* Sizes: "2048", "64KiB", "10MB", "1GiB". */
int ola_cfg_size(const struct ola_cfg *map, const char *key, uint64_t def, uint64_t *out,
                 struct ola_err *err);
/* "20%" or "0.2" -> 0.2. */
int ola_cfg_percent(const struct ola_cfg *map, const char *key, double def, double *out,
                    struct ola_err *err);
/* One of names[] (NULL-terminated); *out is the index. */
int ola_cfg_enum(const struct ola_cfg *map, const char *key, const char *const *names,
                 int def, int *out, struct ola_err *err);
/*
 * A secret: `key` or `key_file` (the file's content, trailing newline
 * stripped). Both present is an error. *out is borrowed from the document.
 * A file readable by group/other draws a warning log line.
 */
int ola_cfg_secret(const struct ola_cfg *map, const char *key, const char **out,
                   struct ola_err *err);
/*
 * For tests (the example config's defaults are the built-in ones): when set,
 * every typed reader but ola_cfg_secret calls fn with the map's path, the key,
 * the line it was read from (0: absent, the default was used) and the value it
 * answered as canonical text: integers as is, durations in ms ("30000ms"),
 * sizes in bytes ("65536 bytes"), booleans true/false, enums by name, strings
 * as is. NULL turns it off. Set it from the loading thread only.
 */
typedef void ola_cfg_trace_fn(void *arg, const char *path, const char *key, int line,
                              const char *value);
void ola_cfg_set_trace(ola_cfg_trace_fn *fn, void *arg);
/* An unknown key in map (not in allowed[], NULL-terminated) is an error. */
int ola_cfg_check_keys(const struct ola_cfg *map, const char *const *allowed,
                       struct ola_err *err);

/*
 * Writes the document as YAML with secrets masked ("****"): values marked
 * secret and values of keys that look secret (secret, password, token,
 * sasl.password, ...). For `olagent check`.
 */
void ola_cfg_dump(const struct ola_cfg_doc *doc, FILE *out);

/* ---- what settings derive from the document ------------------------------ */

/*
 * Strings derived while reading settings (a base_url without its trailing
 * slash, paths resolved against the config's directory) must live as long as
 * the document: it keeps them and frees them in ola_cfg_doc_destroy().
 */
/* Zeroed memory owned by doc (freed with it); NULL on ENOMEM. */
void *ola_cfg_doc_alloc(const struct ola_cfg_doc *doc, size_t size);
/* A NUL-terminated copy of s[0..n) owned by doc; NULL on ENOMEM. */
char *ola_cfg_doc_strndup(const struct ola_cfg_doc *doc, const char *s, size_t n);

/*
 * A map that reads as base with top laid over it: every key of top (but the
 * ones in skip), then every key of base that top does not set. groups lists
 * sets of keys that stand for one setting (NULL-terminated lists in a
 * NULL-terminated list, e.g. {base_url, region}): when top sets any key of a
 * group, base's keys of that group are left out, so top's choice replaces
 * base's instead of clashing with it. Values keep their own file:line; the
 * map reports top's path and line. base: NULL, null or a map; top: a map.
 * Returns a map owned by doc (freed with it), or NULL with err (ENOMEM).
 */
const struct ola_cfg *ola_cfg_overlay(const struct ola_cfg_doc *doc,
                                      const struct ola_cfg *base,
                                      const struct ola_cfg *top, const char *const *skip,
                                      const char *const *const *groups,
                                      struct ola_err *err);

#endif
