/*
 * settings.h - the agent's settings: every module's block, composed.
 *
 * Each module declares its keys in an option table next to its code
 * (agent/onelogin/settings.h, filters/enrich/settings.h); this layer, the only
 * one that knows them all, composes their structs into struct ola_settings,
 * reads the top-level keys and the small sections (checkpoint, log, metrics)
 * with its own tables, and hands each module only its own struct.
 */
#ifndef OLA_AGENT_SETTINGS_H
#define OLA_AGENT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/core/err.h"
#include "agent/onelogin/settings.h"
#include "config/config.h"
#include "config/options.h"
#include "filters/enrich/settings.h"
#include "filters/rules/settings.h"
#include "outputs/output.h"

struct ola_ol_opts;

/* A tenant's name: ola_tenant_name_valid (agent/core/event.h); without tenants:,
 * onelogin: is the one tenant, OLA_TENANT_DEFAULT. */
#define OLA_MAX_TENANTS 1000

/* One tenant: its name, its OneLogin settings and its checkpoint. */
struct ola_tenant_cfg {
    const char *name;
    struct ola_ol_settings onelogin; /* onelogin: with the tenant's own keys over it */
    const char *checkpoint_path;     /* checkpoint.path with {tenant} replaced */
    const struct ola_cfg *node;      /* its tenants: entry; NULL for the lone tenant */
};

struct ola_settings {
    const char *path;                /* config file path */
    struct ola_ol_settings onelogin; /* the first tenant's (the only one's, usually) */
    struct {
        const char *path; /* ./state/checkpoint.json; may hold {tenant} */
    } checkpoint;
    struct ola_tenant_cfg *tenants; /* n_tenants >= 1, in the document's memory */
    size_t n_tenants;
    bool tenants_listed; /* the config has a tenants: list (else one "default") */
    struct {
        const char *level;  /* info */
        const char *format; /* text */
        bool progress;      /* off unless asked, or stderr is a tty */
    } log;
    struct {
        bool enabled;
        const char *listen; /* 127.0.0.1:9464 */
    } metrics;
    const struct ola_cfg *enrich; /* the enrich map, NULL or false if absent */
    bool enrich_enabled;
    struct ola_rules_config rules; /* rules, default_rules, catalog, alerts */
    int64_t shutdown_timeout_ms;   /* 10s */
    size_t n_outputs;
    struct ola_output_cfg outputs[OLA_MAX_OUTPUTS];
    struct ola_enrich_settings enrich_opts; /* the enrich map read (defaults if absent) */
};

/* The top-level keys; sections point at their modules' tables. */
extern const struct ola_opt ola_settings_options[];

/*
 * Reads and validates the settings from doc. Strings point into doc, which
 * must outlive s. now_ms resolves a relative `start`. Returns 0 / -1.
 */
int ola_settings_load(const struct ola_cfg_doc *doc, int64_t now_ms,
                      struct ola_settings *s, struct ola_err *err);

/* The tenant called name in s, or NULL. */
const struct ola_tenant_cfg *ola_settings_tenant(const struct ola_settings *s,
                                                 const char *name);

/* What the rules module reads, from s (out: filled, borrows from s's document). */
void ola_settings_rules(const struct ola_settings *s, struct ola_rules_settings *out);
/* A tenant's API client options from its settings and s (strings borrowed). */
void ola_client_opts(const struct ola_ol_settings *ol, const struct ola_settings *s,
                     struct ola_ol_opts *o);

/*
 * `olagent check`: every key of the tables with the value in force and where
 * it came from ("# file:line" or "# default"), secrets masked. The outputs'
 * keys are printed by ola_output_print_settings, from the built outputs.
 */
void ola_settings_print(const struct ola_cfg_doc *doc, const struct ola_settings *s,
                        FILE *out);
/* `olagent config example`: the example config's keys, from the tables, with a
 * commented block of each output type's keys under `outputs:`. */
void ola_settings_print_example(FILE *out);

#endif
