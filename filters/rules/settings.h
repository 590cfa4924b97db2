/*
 * settings.h - what the rules module reads from the settings, and its tables.
 *
 * The module's own keys are declared here as option tables (config/options.h):
 * its top-level keys (rules, catalog, default_rules, alerts: read by
 * ola_rules_config_load, which the agent calls) and the `alerts:` map
 * (ola_alerts_options, read when the rule set is built). The top-level keys
 * share one level with the agent's own, so they are also written as entry
 * macros that the agent's top-level table splices in: one declaration each.
 * The agent then fills struct ola_rules_settings (ola_settings_rules in
 * agent/settings.h) so that the rules module never sees the agent's settings
 * struct: the rule files, the alerts map, whether the built-in pack and
 * catalog are in force, and the outputs, whose maps may hold routing for rules.
 */
#ifndef OLA_RULES_SETTINGS_H
#define OLA_RULES_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/err.h"
#include "agent/core/event.h"
#include "config/config.h"
#include "config/options.h"

/* One entry of the outputs list, as the rules see it (its map may hold `when:`). */
struct ola_rules_output {
    const char *type;
    const char *name;
    const struct ola_cfg *node;
};

struct ola_rules_settings {
    const struct ola_cfg *rules;  /* rules: list of files (NULL: none) */
    const struct ola_cfg *alerts; /* alerts settings (NULL: none) */
    bool default_rules;           /* the compiled-in rule pack first */
    bool catalog_builtin;         /* no catalog path: the compiled-in catalog */
    size_t n_outputs;
    struct ola_rules_output outputs[OLA_MAX_OUTPUTS];
};

/* ---- the top-level keys ------------------------------------------------------ */

/* The rules module's top-level keys, as read by ola_rules_config_load. */
struct ola_rules_config {
    bool default_rules;            /* the compiled-in rule pack first (true) */
    const struct ola_cfg *rules;   /* rules: the list of files (NULL: none) */
    const char *const *rule_files; /* those files resolved against the config's dir */
    size_t n_rule_files;
    const char *catalog_path;     /* catalog: resolved like rules; NULL: not set */
    bool catalog_builtin;         /* no catalog_path: the compiled-in one (true) */
    const struct ola_cfg *alerts; /* the alerts map (NULL: absent), read at build */
};

/*
 * Hooks of the entries below: they find the struct from opt->offset; ctx
 * points at the document's pointer (const struct ola_cfg_doc *).
 */
ola_opt_hook_fn ola_rules_files_hook, ola_rules_catalog_hook, ola_rules_alerts_hook;
/* The keys of the `alerts:` map. */
extern const struct ola_opt ola_alerts_options[];

#define OLA_RC_OFF(base, f) ((base) + offsetof(struct ola_rules_config, f))

/* The entries; base: the offset of a struct ola_rules_config in the table's struct. */
#define OLA_RULES_OPT_RULES(base)                                                        \
    {                                                                                    \
        .name = "rules", .type = OLA_OPT_OTHER, .offset = OLA_RC_OFF(base, rules),       \
        .hook = ola_rules_files_hook, .flags = OLA_OPT_MANUAL,                           \
        .help =                                                                          \
            "Your own rule files, applied in order after the built-in pack (none by "    \
            "default)."                                                                  \
    }
#define OLA_RULES_OPT_ALERTS(base)                                                       \
    {                                                                                    \
        .name = "alerts", .type = OLA_OPT_MAP, .offset = OLA_RC_OFF(base, alerts),       \
        .sub = ola_alerts_options, .hook = ola_rules_alerts_hook,                        \
        .flags = OLA_OPT_MANUAL,                                                         \
        .help =                                                                          \
            "Alert settings: the defaults of every alert rule and the bound on their "   \
            "state (docs/rules.md)."                                                     \
    }
#define OLA_RULES_OPT_CATALOG(base)                                                      \
    {                                                                                    \
        .name = "catalog", .type = OLA_OPT_STR,                                          \
        .offset = OLA_RC_OFF(base, catalog_path), .hook = ola_rules_catalog_hook,        \
        .flags = OLA_OPT_MANUAL,                                                         \
        .help = "The event-type catalog (id -> name and categories) is built in "        \
                "(config/event-types.json)."                                             \
    }
#define OLA_RULES_OPT_DEFAULT_RULES(base)                                                \
    {                                                                                    \
        .name = "default_rules", .type = OLA_OPT_BOOL,                                   \
        .offset = OLA_RC_OFF(base, default_rules), .def_int = 1,                         \
        .help =                                                                          \
            "The default rule pack (config/rules/default.yaml, docs/rules.md) is built " \
            "into olagent and applied first; `default_rules: false` turns it off."       \
    }

/* The same entries over a struct ola_rules_config. */
extern const struct ola_opt ola_rules_options[];

/*
 * Reads the rules module's top-level keys of root (the top-level map) into
 * *out: rules (a list of file names), default_rules, catalog (a file name),
 * alerts (kept as a node; its keys are read when the rule set is built).
 * Unknown top-level keys are the agent's to refuse. Paths are resolved
 * against the config file's directory; the strings made live in doc.
 * Returns 0 / -1 with "file:line: ..." in err.
 */
int ola_rules_config_load(const struct ola_cfg_doc *doc, const struct ola_cfg *root,
                          struct ola_rules_config *out, struct ola_err *err);

/* ---- the alerts: map -------------------------------------------------------- */

/* The `alerts:` map, read with ola_alerts_options. */
struct ola_alerts_settings {
    long long max_keys;    /* alert state keys, all rules together (100000) */
    const char *suppress;  /* as written: window, none or a duration (window) */
    int64_t suppress_ms;   /* read from it: ms, 0 none, -1 one window */
    int64_t late_grace_ms; /* idle live keys expire after window + this (10m) */
};

/*
 * Reads the `alerts:` map (NULL or null: the defaults) into *out with the
 * table. Strings are borrowed from map's document. Returns 0 / -1 with
 * "file:line: ..." in err.
 */
int ola_alerts_settings_read(const struct ola_cfg *map, struct ola_alerts_settings *out,
                             struct ola_err *err);

#endif
