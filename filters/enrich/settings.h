/*
 * settings.h - the enrich: block, declared as an option table.
 *
 * What docs/enrichment.md describes: which lookups, how fast, how much of the
 * rate limit, the cache. ola_enrich_settings_load reads `enrich:` (absent: the
 * defaults; `enrich: false`: off; a map: these keys) with the one walker.
 */
#ifndef OLA_ENRICH_SETTINGS_H
#define OLA_ENRICH_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/core/err.h"
#include "config/config.h"
#include "config/options.h"

/* enrich: filled with defaults when absent. */
struct ola_enrich_settings {
    bool users;                /* olagent.user and olagent.actor (true) */
    bool roles;                /* olagent.role and role names in user.roles (true) */
    bool event_types;          /* learn unknown type names from the API (true) */
    long long concurrency;     /* lookups in flight at once (4) */
    long long api_version;     /* 2: /api/2/users, /api/2/roles; 1: the v1 routes */
    int64_t timeout_ms;        /* one lookup (10s) */
    double reserve;            /* share of the rate limit left to polling (0.2) */
    long long cache_entries;   /* cache bound, users and roles together (10000) */
    int64_t cache_ttl_ms;      /* 15m */
    int64_t cache_negative_ms; /* how long a 404 is remembered (5m) */
    bool enabled;              /* enrich: false, enabled: false, or nothing to look up */
};

/* The keys of the enrich: map. */
extern const struct ola_opt ola_enrich_options[];

/*
 * Reads the `enrich` key of root (the top-level map) into *out (defaults
 * first). *node gets the enrich map (NULL when absent or a scalar). Returns
 * 0 / -1 with "file:line: ..." in err.
 */
int ola_enrich_settings_load(const struct ola_cfg *root, struct ola_enrich_settings *out,
                             const struct ola_cfg **node, struct ola_err *err);

#endif
