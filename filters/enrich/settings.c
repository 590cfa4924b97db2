/*
 * settings.c - the enrich: block's option table and its loader.
 *
 * The table declares every key with its default, range and help; the walker
 * (config/options.h) reads them, cache: included as a nested map. Code is
 * left for the shapes a table does not have: `enrich: false` (a boolean in
 * place of the map), reserve's ceiling (90%: polling keeps a share of the
 * rate limit) and "nothing to look up" turning enrichment off.
 */
#include <stddef.h>
#include <string.h>

#include "config/config.h"
#include "config/options.h"
#include "filters/enrich/settings.h"

#define OLA_SEC INT64_C(1000)
#define OLA_MIN (60 * OLA_SEC)
#define OLA_DAY (24 * 60 * OLA_MIN)

static int ola_enrich_reserve_max(const struct ola_cfg *e, const struct ola_opt *opt,
                                  void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_enrich_settings *o = obj;

    (void)opt;
    (void)ctx;
    if (o->reserve > 0.9)
        return ola_cfg_errf(err, ola_cfg_get(e, "reserve"),
                            "enrich.reserve: at most 90%% (the share of the rate limit "
                            "kept for polling)");
    return 0;
}

#define OLA_EN_OFF(f) offsetof(struct ola_enrich_settings, f)

static const struct ola_opt ola_enrich_cache_options[] = {
    {.name = "entries",
     .type = OLA_OPT_INT,
     .offset = OLA_EN_OFF(cache_entries),
     .def_int = 10000,
     .min = 1,
     .max = 10000000,
     .help = "users and roles together (1 .. 10000000)"},
    {.name = "ttl",
     .type = OLA_OPT_DURATION,
     .offset = OLA_EN_OFF(cache_ttl_ms),
     .def_int = 15 * OLA_MIN,
     .min = OLA_SEC,
     .max = 7 * OLA_DAY,
     .help = "how long an answer is kept (1s .. 7d)"},
    {.name = "negative_ttl",
     .type = OLA_OPT_DURATION,
     .offset = OLA_EN_OFF(cache_negative_ms),
     .def_int = 5 * OLA_MIN,
     .min = 0,
     .max = 7 * OLA_DAY,
     .help = "how long a 404 is remembered (0 .. 7d)"},
    {.name = NULL},
};

const struct ola_opt ola_enrich_options[] = {
    {.name = "enabled",
     .type = OLA_OPT_BOOL,
     .offset = OLA_EN_OFF(enabled),
     .def_int = 1,
     .help = "false turns enrichment off"},
    {.name = "users",
     .type = OLA_OPT_BOOL,
     .offset = OLA_EN_OFF(users),
     .def_int = 1,
     .help = "olagent.user and olagent.actor"},
    {.name = "roles",
     .type = OLA_OPT_BOOL,
     .offset = OLA_EN_OFF(roles),
     .def_int = 1,
     .help = "olagent.role and role names in user.roles"},
    {.name = "event_types",
     .type = OLA_OPT_BOOL,
     .offset = OLA_EN_OFF(event_types),
     .def_int = 1,
     .help = "learn unknown type names from the API"},
    {.name = "concurrency",
     .type = OLA_OPT_INT,
     .offset = OLA_EN_OFF(concurrency),
     .def_int = 4,
     .min = 1,
     .max = 32,
     .help = "lookups in flight at once (1 .. 32)"},
    {.name = "api",
     .type = OLA_OPT_INT,
     .offset = OLA_EN_OFF(api_version),
     .def_int = 2,
     .min = 1,
     .max = 2,
     .help = "2: /api/2/users, /api/2/roles; 1: the v1 routes"},
    {.name = "timeout",
     .type = OLA_OPT_DURATION,
     .offset = OLA_EN_OFF(timeout_ms),
     .def_int = 10 * OLA_SEC,
     .min = 100,
     .max = 5 * OLA_MIN,
     .help = "one lookup (100ms .. 5m)"},
    {.name = "reserve",
     .type = OLA_OPT_PERCENT,
     .offset = OLA_EN_OFF(reserve),
     .def_num = 0.2,
     .hook = ola_enrich_reserve_max,
     .help = "share of the rate limit left to polling (at most 90%)"},
    {.name = "cache",
     .type = OLA_OPT_MAP,
     .sub = ola_enrich_cache_options,
     .help = "the lookup cache"},
    {.name = NULL},
};

int ola_enrich_settings_load(const struct ola_cfg *root, struct ola_enrich_settings *o,
                             const struct ola_cfg **node, struct ola_err *err)
{
    const struct ola_cfg *e = ola_cfg_get(root, "enrich");

    *node = NULL;
    memset(o, 0, sizeof(*o));
    ola_opts_defaults(ola_enrich_options, o);
    switch (ola_cfg_type(e)) {
    case OLA_CFG_NULL:
        return 0;
    case OLA_CFG_SCALAR:
        return ola_cfg_bool(root, "enrich", true, &o->enabled, err);
    case OLA_CFG_SEQ:
        return ola_cfg_errf(err, e, "enrich: expected a map or false");
    case OLA_CFG_MAP:
        break;
    }
    *node = e;
    if (ola_opts_read(e, "enrich", ola_enrich_options, o, NULL, err) != 0)
        return -1;
    if (!o->users && !o->roles && !o->event_types)
        o->enabled = false;
    return 0;
}
