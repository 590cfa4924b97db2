/*
 * settings.h - what the rules module reads from the settings.
 *
 * The agent fills it from its settings (ola_settings_rules in agent/settings.h)
 * so that the rules module never sees the agent's settings struct: the rule
 * files, the alerts map, whether the built-in pack and catalog are in force,
 * and the outputs, whose maps may hold routing for rules.
 */
#ifndef OLA_RULES_SETTINGS_H
#define OLA_RULES_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/core/event.h"
#include "config/config.h"

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

#endif
