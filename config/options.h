/*
 * options.h - option tables: a module's keys declared once, read by one walker.
 *
 * A module (the OneLogin source, enrichment, an output plugin) declares the
 * keys of its map in a table of struct ola_opt: name, type, default, range,
 * where the value goes in its settings struct (offsetof) and one line of
 * help. ola_opts_read() reads the map into the struct with that table: it
 * refuses unknown keys ("file:line: unknown key 'x'; did you mean 'y'?"),
 * reads every key with the typed readers of config.h (so defaults, errors and
 * the trace hook are theirs), checks the flags (required, not empty, size
 * range) and calls an entry's hook for what a table cannot say. The same
 * table describes the keys: their types and defaults as text, for `olagent
 * check`, `olagent config example` and the test that holds the example
 * config to the tables. Nothing here knows any module's settings.
 */
#ifndef OLA_CONFIG_OPTIONS_H
#define OLA_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/core/err.h"
#include "config/config.h"

enum ola_opt_type {
    OLA_OPT_STR,      /* const char *; def_str (NULL: not set) */
    OLA_OPT_SECRET,   /* const char *; the key or key_file (ola_cfg_secret), no default */
    OLA_OPT_INT,      /* long long; def_int, min..max */
    OLA_OPT_DOUBLE,   /* double; def_num */
    OLA_OPT_BOOL,     /* bool; def_int (0 or 1) */
    OLA_OPT_DURATION, /* int64_t ms; def_int, min..max in ms */
    OLA_OPT_SIZE,     /* uint64_t bytes; def_size, size_min..size_max when size_max */
    OLA_OPT_PERCENT,  /* double 0..1; def_num */
    OLA_OPT_ENUM,     /* int, the index in names[]; def_int */
    OLA_OPT_MAP,      /* a nested map read with the table sub (same struct) */
    OLA_OPT_OTHER, /* a list or a value of its own shape: read by a hook or the caller */
};

/* flags */
#define OLA_OPT_REQUIRED 0x1u /* absent (or null) is an error */
#define OLA_OPT_NONEMPTY 0x2u /* "" is an error (STR, SECRET) */
#define OLA_OPT_MANUAL                                                                   \
    0x4u /* the walker allows and describes the key but does not                         \
            read it: the entry's hook (or another's) or the caller does */

struct ola_opt;

/*
 * An entry's hook: called after the walker read the entry (or in place of the
 * read with OLA_OPT_MANUAL), with the map (NULL when absent), the entry, the
 * settings struct and the caller's ctx from ola_opts_read. Returns 0 / -1
 * with "file:line: ..." in err (ola_cfg_errf).
 */
typedef int ola_opt_hook_fn(const struct ola_cfg *map, const struct ola_opt *opt,
                            void *obj, void *ctx, struct ola_err *err);

struct ola_opt {
    const char *name; /* NULL ends a table */
    enum ola_opt_type type;
    size_t offset;               /* offsetof(struct ..., field) of the value */
    const char *def_str;         /* STR */
    long long def_int;           /* INT, BOOL, DURATION (ms), ENUM (index) */
    double def_num;              /* DOUBLE, PERCENT */
    uint64_t def_size;           /* SIZE */
    long long min, max;          /* INT, DURATION: bounds (both 0: none) */
    uint64_t size_min, size_max; /* SIZE: bounds when size_max is not 0 */
    const char *const *names;    /* ENUM: NULL-terminated */
    const struct ola_opt *sub;   /* MAP: the nested table */
    ola_opt_hook_fn *hook;       /* optional */
    unsigned flags;
    const char *help; /* one line, what the example config says about the key */
};

/*
 * Reads map (NULL, or a null value: everything absent) into obj with tab:
 * unknown keys first (ola_opts_check), then every entry in table order.
 * path names the map in messages when map is NULL ("checkpoint"). ctx is
 * passed to the hooks. Strings in obj are borrowed from map's document.
 * Returns 0 / -1 with the first error in err.
 */
int ola_opts_read(const struct ola_cfg *map, const char *path, const struct ola_opt *tab,
                  void *obj, void *ctx, struct ola_err *err);
/* Only the unknown-key check: "file:line: unknown key 'a.x'; did you mean 'a.y'?". */
int ola_opts_check(const struct ola_cfg *map, const struct ola_opt *tab,
                   struct ola_err *err);
/* Reads the one entry called name of tab (as ola_opts_read does for each). */
int ola_opts_read_key(const struct ola_cfg *map, const char *path,
                      const struct ola_opt *tab, const char *name, void *obj, void *ctx,
                      struct ola_err *err);
/* Writes every entry's default into obj (nested maps too), reading nothing. */
void ola_opts_defaults(const struct ola_opt *tab, void *obj);
/* The entry called name in tab, or NULL. */
const struct ola_opt *ola_opts_find(const struct ola_opt *tab, const char *name);

/* ---- describing a table ---------------------------------------------------- */

/* "string", "secret", "integer 1..1000", "duration 100ms..1d", "one of us, eu", ... */
const char *ola_opt_type_text(const struct ola_opt *o, char *buf, size_t size);
/*
 * The default as a person writes it in a config file ("10s", "32MiB", "20%",
 * "true", "us"), or NULL when the key has none (required, optional, or
 * MANUAL/MAP/OTHER). Returns buf or NULL.
 */
const char *ola_opt_default_text(const struct ola_opt *o, char *buf, size_t size);
/*
 * The value obj holds for o, in the same form; secrets are "****" when set.
 * NULL for a string not set and for MAP/OTHER entries.
 */
const char *ola_opt_value_text(const struct ola_opt *o, const void *obj, char *buf,
                               size_t size);
/*
 * Prints tab as the body of an example config: for each key its help as a
 * comment and "key: default" (commented out when there is no default),
 * indented by indent spaces, nested maps under their key.
 */
void ola_opts_print_example(const struct ola_opt *tab, int indent, FILE *out);
/*
 * Prints what obj holds for each key of tab: "path.key: value  # default"
 * or "# file:line", for `olagent check`. map: the map obj was read from
 * (NULL: absent). Secrets are masked.
 */
void ola_opts_print_effective(const struct ola_cfg *map, const char *path,
                              const struct ola_opt *tab, const void *obj, FILE *out);

#endif
