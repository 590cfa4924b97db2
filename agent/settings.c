/*
 * settings.c - the agent's settings: the modules' blocks composed, the rest read here.
 *
 * The top-level keys and the small sections (checkpoint, log, metrics) are
 * declared in option tables below; onelogin:, enrich: and the rules module's
 * keys (rules, catalog, default_rules, alerts: its entries are spliced into
 * the top-level table) are read by their modules' loaders with their own
 * tables. The order is fixed: unknown top-level keys first, then section by
 * section, then the rules that span keys: unique output names. Strings point
 * into the document; the few made here are stored in it.
 *
 * Tenants: without a tenants: list, onelogin: is the one tenant, "default".
 * With one, onelogin: holds the keys every tenant shares and each entry of
 * the list is read as onelogin: with its own keys laid over
 * (ola_cfg_overlay), so every key, check and error of the onelogin: table
 * applies to each tenant, and each value names its own line.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "agent/core/buf.h"
#include "agent/core/log.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/settings.h"
#include "agent/settings.h"
#include "config/config.h"
#include "config/options.h"
#include "filters/enrich/settings.h"
#include "filters/rules/settings.h"

#define OLA_SEC  INT64_C(1000)
#define OLA_MIN  (60 * OLA_SEC)
#define OLA_HOUR (60 * OLA_MIN)

#define OLA_S_OFF(f) offsetof(struct ola_settings, f)

static const struct ola_opt ola_checkpoint_options[] = {
    {.name = "path",
     .type = OLA_OPT_STR,
     .offset = OLA_S_OFF(checkpoint.path),
     .def_str = "./state/checkpoint.json",
     .flags = OLA_OPT_NONEMPTY,
     .help = "The checkpoint file (written atomically); {tenant} is replaced by the "
             "tenant's name (required with several tenants)."},
    {.name = NULL},
};

static const struct ola_opt ola_log_options[] = {
    {.name = "level",
     .type = OLA_OPT_STR,
     .offset = OLA_S_OFF(log.level),
     .def_str = "info",
     .help = "error, warn, info, debug"},
    {.name = "format",
     .type = OLA_OPT_STR,
     .offset = OLA_S_OFF(log.format),
     .def_str = "text",
     .help = "text, json"},
    {.name = "progress",
     .type = OLA_OPT_BOOL,
     .offset = OLA_S_OFF(log.progress),
     .def_int = 0,
     .help = "periodic progress lines on stderr"},
    {.name = NULL},
};

static const struct ola_opt ola_metrics_options[] = {
    {.name = "enabled",
     .type = OLA_OPT_BOOL,
     .offset = OLA_S_OFF(metrics.enabled),
     .def_int = 1,
     .help = "false: no endpoint"},
    {.name = "listen",
     .type = OLA_OPT_STR,
     .offset = OLA_S_OFF(metrics.listen),
     .def_str = "127.0.0.1:9464",
     .help = "host:port; port 0 picks a free port"},
    {.name = NULL},
};

/* In the order unknown keys are matched against (the closest one is suggested). */
const struct ola_opt ola_settings_options[] = {
    {.name = "onelogin",
     .type = OLA_OPT_MAP,
     .sub = ola_ol_options,
     .flags = OLA_OPT_MANUAL,
     .help = "The OneLogin tenant; with tenants:, the keys every tenant shares."},
    {.name = "tenants",
     .type = OLA_OPT_OTHER,
     .flags = OLA_OPT_MANUAL,
     .help = "Several tenants: a list of maps, each with a name ([a-z0-9_-]{1,32}, "
             "unique) and any onelogin key, which overrides onelogin: for it."},
    {.name = "checkpoint",
     .type = OLA_OPT_MAP,
     .sub = ola_checkpoint_options,
     .flags = OLA_OPT_MANUAL},
    {.name = "outputs",
     .type = OLA_OPT_OTHER,
     .flags = OLA_OPT_MANUAL | OLA_OPT_REQUIRED,
     .help = "Where events go: at least one output, at most 16."},
    {.name = "log", .type = OLA_OPT_MAP, .sub = ola_log_options, .flags = OLA_OPT_MANUAL},
    {.name = "metrics",
     .type = OLA_OPT_MAP,
     .sub = ola_metrics_options,
     .flags = OLA_OPT_MANUAL,
     .help = "Prometheus metrics and health checks (/metrics, /healthz, /readyz)."},
    {.name = "enrich",
     .type = OLA_OPT_MAP,
     .sub = ola_enrich_options,
     .flags = OLA_OPT_MANUAL,
     .help = "Enrichment of events with user and role facts (on by default)."},
    OLA_RULES_OPT_RULES(OLA_S_OFF(rules)),
    OLA_RULES_OPT_ALERTS(OLA_S_OFF(rules)),
    {.name = "shutdown_timeout",
     .type = OLA_OPT_DURATION,
     .offset = OLA_S_OFF(shutdown_timeout_ms),
     .def_int = 10 * OLA_SEC,
     .min = 0,
     .max = OLA_HOUR,
     .help = "How long shutdown waits for outputs to flush (0 .. 1h)."},
    OLA_RULES_OPT_CATALOG(OLA_S_OFF(rules)),
    OLA_RULES_OPT_DEFAULT_RULES(OLA_S_OFF(rules)),
    {.name = NULL},
};

/* The map under key: *out NULL when absent or null; an error when not a map. */
static int ola_section(const struct ola_cfg *root, const char *key,
                       const struct ola_cfg **out, struct ola_err *err)
{
    const struct ola_cfg *n = ola_cfg_get(root, key);

    *out = NULL;
    if (n == NULL || ola_cfg_type(n) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(n) != OLA_CFG_MAP)
        return ola_cfg_errf(err, n, "%s: expected a map", key);
    *out = n;
    return 0;
}

/* The node to blame for key in map: the value if present, else the map. */
static const struct ola_cfg *ola_blame(const struct ola_cfg *map, const char *key)
{
    const struct ola_cfg *n = ola_cfg_get(map, key);

    return n != NULL ? n : map;
}

/* One entry of tenants: its name checked and its onelogin settings read. */
static int ola_load_tenant(const struct ola_cfg_doc *doc, const struct ola_cfg *ol,
                           const struct ola_cfg *t, int64_t now_ms,
                           struct ola_settings *s, size_t i, struct ola_err *err)
{
    static const char *const skip[] = {"name", NULL};
    static const char *const address[] = {"base_url", "region", NULL};
    static const char *const secret[] = {"client_secret", "client_secret_file", NULL};
    static const char *const *const groups[] = {address, secret, NULL};
    struct ola_tenant_cfg *tc = &s->tenants[i];
    const struct ola_cfg *merged;
    size_t j;

    if (ola_cfg_type(t) != OLA_CFG_MAP)
        return ola_cfg_errf(err, t, "%s: expected a map with a name", ola_cfg_path(t));
    tc->node = t;
    if (ola_cfg_str(t, "name", NULL, &tc->name, err) != 0)
        return -1;
    if (tc->name == NULL)
        return ola_cfg_errf(err, t, "%s: name is required", ola_cfg_path(t));
    if (!ola_tenant_name_valid(tc->name))
        return ola_cfg_errf(err, ola_cfg_get(t, "name"),
                            "%s.name: use 1-%d of a-z, 0-9, '_' and '-'", ola_cfg_path(t),
                            OLA_TENANT_NAME_MAX);
    for (j = 0; j < i; j++)
        if (strcmp(s->tenants[j].name, tc->name) == 0)
            return ola_cfg_errf(err, ola_cfg_get(t, "name"),
                                "%s.name: tenant %s is already defined at line %d",
                                ola_cfg_path(t), tc->name,
                                ola_cfg_line(s->tenants[j].node));
    merged = ola_cfg_overlay(doc, ol, t, skip, groups, err);
    if (merged == NULL)
        return -1;
    return ola_ol_settings_load(doc, merged, now_ms, &tc->onelogin, err);
}

static int ola_load_onelogin(const struct ola_cfg_doc *doc, const struct ola_cfg *root,
                             int64_t now_ms, struct ola_settings *s, struct ola_err *err)
{
    const struct ola_cfg *ol, *ts = ola_cfg_get(root, "tenants");
    size_t i, n = 1;

    if (ola_section(root, "onelogin", &ol, err) != 0)
        return -1;
    if (ts != NULL && ola_cfg_type(ts) != OLA_CFG_NULL) {
        if (ola_cfg_type(ts) != OLA_CFG_SEQ || ola_cfg_len(ts) == 0)
            return ola_cfg_errf(err, ts,
                                "tenants: expected a list of tenants (maps with "
                                "a name and the tenant's onelogin keys)");
        n = ola_cfg_len(ts);
        if (n > OLA_MAX_TENANTS)
            return ola_cfg_errf(err, ola_cfg_at(ts, OLA_MAX_TENANTS),
                                "tenants: at most %d tenants", OLA_MAX_TENANTS);
        s->tenants_listed = true;
    } else if (ol == NULL) {
        return ola_cfg_errf(err, ola_blame(root, "onelogin"),
                            "onelogin: missing (base_url or region, client_id, "
                            "client_secret), or a tenants: list");
    }
    s->tenants = ola_cfg_doc_alloc(doc, n * sizeof(*s->tenants));
    if (s->tenants == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    memset(s->tenants, 0, n * sizeof(*s->tenants));
    s->n_tenants = n;
    if (!s->tenants_listed) {
        s->tenants[0].name = OLA_TENANT_DEFAULT;
        if (ola_ol_settings_load(doc, ol, now_ms, &s->tenants[0].onelogin, err) != 0)
            return -1;
    }
    for (i = 0; s->tenants_listed && i < n; i++)
        if (ola_load_tenant(doc, ol, ola_cfg_at(ts, i), now_ms, s, i, err) != 0)
            return -1;
    s->onelogin = s->tenants[0].onelogin;
    return 0;
}

/* checkpoint.path with {tenant} replaced by name, stored in doc; NULL on ENOMEM. */
static const char *ola_tenant_path(const struct ola_cfg_doc *doc, const char *tmpl,
                                   const char *name)
{
    static const char mark[] = "{tenant}";
    struct ola_buf b = OLA_BUF_INIT;
    const char *p = tmpl, *hit;
    char *out = NULL;

    while ((hit = strstr(p, mark)) != NULL) {
        if (ola_buf_append(&b, p, (size_t)(hit - p)) != 0 || ola_buf_puts(&b, name) != 0)
            goto done;
        p = hit + sizeof(mark) - 1;
    }
    if (ola_buf_puts(&b, p) != 0)
        goto done;
    out = ola_cfg_doc_strndup(doc, b.data, b.len);
done:
    ola_buf_free(&b);
    return out;
}

/* Every tenant's checkpoint path; {tenant} is required with several. */
static int ola_load_tenant_paths(const struct ola_cfg_doc *doc,
                                 const struct ola_cfg *root, struct ola_settings *s,
                                 struct ola_err *err)
{
    size_t i;

    if (s->n_tenants > 1 && strstr(s->checkpoint.path, "{tenant}") == NULL)
        return ola_cfg_errf(
            err, ola_blame(ola_cfg_get(root, "checkpoint"), "path"),
            "checkpoint.path: %s has no {tenant}; with %zu tenants each needs its own "
            "checkpoint (e.g. ./state/{tenant}.json)",
            s->checkpoint.path, s->n_tenants);
    for (i = 0; i < s->n_tenants; i++) {
        s->tenants[i].checkpoint_path =
            ola_tenant_path(doc, s->checkpoint.path, s->tenants[i].name);
        if (s->tenants[i].checkpoint_path == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
    }
    return 0;
}

const struct ola_tenant_cfg *ola_settings_tenant(const struct ola_settings *s,
                                                 const char *name)
{
    size_t i;

    for (i = 0; i < s->n_tenants; i++)
        if (strcmp(s->tenants[i].name, name) == 0)
            return &s->tenants[i];
    return NULL;
}

static int ola_load_checkpoint(const struct ola_cfg *root, struct ola_settings *s,
                               struct ola_err *err)
{
    const struct ola_cfg *cp;

    if (ola_section(root, "checkpoint", &cp, err) != 0)
        return -1;
    return ola_opts_read(cp, "checkpoint", ola_checkpoint_options, s, NULL, err);
}

static int ola_load_log(const struct ola_cfg *root, struct ola_settings *s,
                        struct ola_err *err)
{
    const struct ola_cfg *lg;
    enum ola_log_format fmt;
    char shown[OLA_CFG_SHOWN_MAX];
    int level;

    if (ola_section(root, "log", &lg, err) != 0 ||
        ola_opts_read(lg, "log", ola_log_options, s, NULL, err) != 0)
        return -1;
    if (ola_log_level_parse(s->log.level, &level) != 0)
        return ola_cfg_errf(
            err, ola_cfg_get(lg, "level"),
            "log.level: unknown level %s (error, warn, info, debug)",
            ola_cfg_shown(ola_cfg_get(lg, "level"), shown, sizeof(shown)));
    if (ola_log_format_parse(s->log.format, &fmt) != 0)
        return ola_cfg_errf(
            err, ola_cfg_get(lg, "format"), "log.format: unknown format %s (text, json)",
            ola_cfg_shown(ola_cfg_get(lg, "format"), shown, sizeof(shown)));
    return 0;
}

/* "host:port", "[::1]:port"; port 0 asks for any free port. */
static bool ola_listen_ok(const char *s)
{
    const char *colon = strrchr(s, ':'), *p;
    unsigned long port = 0;

    if (colon == NULL || colon == s || colon[1] == '\0')
        return false;
    for (p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return false;
    }
    if (s[0] == '[')
        return colon[-1] == ']' && colon - s > 2;
    return true;
}

static int ola_load_metrics(const struct ola_cfg *root, struct ola_settings *s,
                            struct ola_err *err)
{
    const struct ola_cfg *m = ola_cfg_get(root, "metrics");
    char shown[OLA_CFG_SHOWN_MAX];

    ola_opts_defaults(ola_metrics_options, s);
    switch (ola_cfg_type(m)) {
    case OLA_CFG_NULL:
        return 0;
    case OLA_CFG_SCALAR:
        return ola_cfg_bool(root, "metrics", true, &s->metrics.enabled, err);
    case OLA_CFG_SEQ:
        return ola_cfg_errf(err, m, "metrics: expected a map or false");
    case OLA_CFG_MAP:
        break;
    }
    if (ola_opts_read(m, "metrics", ola_metrics_options, s, NULL, err) != 0)
        return -1;
    if (!ola_listen_ok(s->metrics.listen))
        return ola_cfg_errf(
            err, ola_cfg_get(m, "listen"), "metrics.listen: expected host:port, got %s",
            ola_cfg_shown(ola_cfg_get(m, "listen"), shown, sizeof(shown)));
    return 0;
}

/* enrich: read by the enrichment module's own table. */
static int ola_load_enrich(const struct ola_cfg *root, struct ola_settings *s,
                           struct ola_err *err)
{
    if (ola_enrich_settings_load(root, &s->enrich_opts, &s->enrich, err) != 0)
        return -1;
    s->enrich_enabled = s->enrich_opts.enabled;
    return 0;
}

static bool ola_type_ok(const char *t)
{
    size_t i;

    if (t[0] < 'a' || t[0] > 'z')
        return false;
    for (i = 0; t[i] != '\0'; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') ||
              t[i] == '_'))
            return false;
    return i <= 32;
}

static bool ola_name_ok(const char *t)
{
    size_t i;

    for (i = 0; t[i] != '\0'; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-' || t[i] == '.'))
            return false;
    return i > 0 && i < 64;
}

static int ola_load_outputs(const struct ola_cfg *root, struct ola_settings *s,
                            struct ola_err *err)
{
    const struct ola_cfg *outs = ola_cfg_get(root, "outputs");
    char shown[OLA_CFG_SHOWN_MAX];
    size_t i, j, n;

    s->n_outputs = 0;
    if (ola_cfg_type(outs) == OLA_CFG_NULL)
        return ola_cfg_errf(err, outs != NULL ? outs : root,
                            "outputs: at least one output is required (e.g. "
                            "- type: stdout)");
    if (ola_cfg_type(outs) != OLA_CFG_SEQ)
        return ola_cfg_errf(err, outs, "outputs: expected a list of outputs");
    n = ola_cfg_len(outs);
    if (n == 0)
        return ola_cfg_errf(err, outs, "outputs: at least one output is required");
    if (n > OLA_MAX_OUTPUTS)
        return ola_cfg_errf(err, ola_cfg_at(outs, OLA_MAX_OUTPUTS),
                            "outputs: at most %d outputs", OLA_MAX_OUTPUTS);
    for (i = 0; i < n; i++) {
        const struct ola_cfg *o = ola_cfg_at(outs, i);
        struct ola_output_cfg *oc = &s->outputs[i];

        if (ola_cfg_type(o) != OLA_CFG_MAP)
            return ola_cfg_errf(err, o, "%s: expected a map with a type",
                                ola_cfg_path(o));
        oc->node = o;
        if (ola_cfg_str(o, "type", NULL, &oc->type, err) != 0)
            return -1;
        if (oc->type == NULL)
            return ola_cfg_errf(err, o,
                                "%s: type is required (stdout, file, kafka, syslog)",
                                ola_cfg_path(o));
        if (!ola_type_ok(oc->type))
            return ola_cfg_errf(
                err, ola_cfg_get(o, "type"), "%s.type: %s is not an output type",
                ola_cfg_path(o),
                ola_cfg_shown(ola_cfg_get(o, "type"), shown, sizeof(shown)));
        if (ola_cfg_str(o, "name", oc->type, &oc->name, err) != 0)
            return -1;
        if (!ola_name_ok(oc->name))
            return ola_cfg_errf(err, ola_cfg_get(o, "name"),
                                "%s.name: use 1-63 letters, digits, '_', '-' or '.'",
                                ola_cfg_path(o));
        for (j = 0; j < i; j++) {
            const struct ola_output_cfg *prev = &s->outputs[j];

            if (strcmp(prev->name, oc->name) != 0)
                continue;
            if (ola_cfg_get(o, "name") == NULL && ola_cfg_get(prev->node, "name") == NULL)
                return ola_cfg_errf(
                    err, o,
                    "%s: two outputs of type %s (the other at line %d): "
                    "give each a distinct name:",
                    ola_cfg_path(o),
                    ola_cfg_shown(ola_cfg_get(o, "type"), shown, sizeof(shown)),
                    ola_cfg_line(prev->node));
            return ola_cfg_errf(
                err, ola_blame(o, "name"),
                "%s: output name %s is already used at line %d", ola_cfg_path(o),
                ola_cfg_shown(ola_cfg_get(o, "name"), shown, sizeof(shown)),
                ola_cfg_line(prev->node));
        }
    }
    s->n_outputs = n;
    return 0;
}

int ola_settings_load(const struct ola_cfg_doc *doc, int64_t now_ms,
                      struct ola_settings *s, struct ola_err *err)
{
    const struct ola_cfg *root = ola_cfg_root(doc);

    memset(s, 0, sizeof(*s));
    if (root == NULL)
        return ola_err_set(err, EINVAL, "no configuration");
    s->path = ola_cfg_file(root);
    if (ola_cfg_type(root) == OLA_CFG_NULL)
        return ola_cfg_errf(err, root,
                            "the file is empty: onelogin and outputs are required");
    if (ola_cfg_type(root) != OLA_CFG_MAP)
        return ola_cfg_errf(err, root, "expected a map of settings at the top level");
    if (ola_opts_check(root, ola_settings_options, err) != 0 ||
        ola_load_onelogin(doc, root, now_ms, s, err) != 0 ||
        ola_load_checkpoint(root, s, err) != 0 ||
        ola_load_tenant_paths(doc, root, s, err) != 0 ||
        ola_load_log(root, s, err) != 0 || ola_load_metrics(root, s, err) != 0 ||
        ola_load_enrich(root, s, err) != 0 ||
        ola_rules_config_load(doc, root, &s->rules, err) != 0 ||
        ola_opts_read_key(root, "", ola_settings_options, "shutdown_timeout", s, NULL,
                          err) != 0 ||
        ola_load_outputs(root, s, err) != 0)
        return -1;
    return 0;
}

void ola_client_opts(const struct ola_ol_settings *ol, const struct ola_settings *s,
                     struct ola_ol_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->base_url = ol->base_url;
    o->client_id = ol->client_id;
    o->client_secret = ol->client_secret;
    o->timeout_ms = ol->timeout_ms;
    o->ca_file = ol->ca_file;
    o->proxy = ol->proxy;
    o->max_body = (size_t)ol->max_response;
    o->reserve = s->enrich_opts.reserve;
    o->backoff_max_ms = ol->backoff_max_ms;
}

void ola_settings_rules(const struct ola_settings *s, struct ola_rules_settings *out)
{
    memset(out, 0, sizeof(*out));
    out->rules = s->rules.rules;
    out->alerts = s->rules.alerts;
    out->default_rules = s->rules.default_rules;
    out->catalog_builtin = s->rules.catalog_builtin;
    out->n_outputs = s->n_outputs;
    for (size_t i = 0; i < s->n_outputs; i++) {
        out->outputs[i].type = s->outputs[i].type;
        out->outputs[i].name = s->outputs[i].name;
        out->outputs[i].node = s->outputs[i].node;
    }
}

void ola_settings_print(const struct ola_cfg_doc *doc, const struct ola_settings *s,
                        FILE *out)
{
    const struct ola_cfg *root = ola_cfg_root(doc);

    fputs("# settings in force (value, then where it came from)\n", out);
    ola_opts_print_effective(root, "", ola_settings_options, s, out);
    ola_opts_print_effective(ola_cfg_get(root, "onelogin"), "onelogin", ola_ol_options,
                             &s->onelogin, out);
    ola_opts_print_effective(ola_cfg_get(root, "checkpoint"), "checkpoint",
                             ola_checkpoint_options, s, out);
    ola_opts_print_effective(ola_cfg_get(root, "log"), "log", ola_log_options, s, out);
    ola_opts_print_effective(ola_cfg_get(root, "metrics"), "metrics", ola_metrics_options,
                             s, out);
    ola_opts_print_effective(ola_cfg_get(root, "enrich"), "enrich", ola_enrich_options,
                             &s->enrich_opts, out);
}

void ola_settings_print_example(FILE *out)
{
    struct ola_opt top[sizeof(ola_settings_options) / sizeof(ola_settings_options[0])];
    const struct ola_opt *outs = ola_opts_find(ola_settings_options, "outputs");
    size_t i, n = 0;

    fputs("# olagent settings, from the option tables (olagent config example).\n"
          "# Keys shown commented out have no default. Each output type's keys\n"
          "# follow under outputs: (docs/outputs.md).\n",
          out);
    /* every top-level key but outputs, which closes the example */
    for (i = 0; ola_settings_options[i].name != NULL; i++)
        if (&ola_settings_options[i] != outs)
            top[n++] = ola_settings_options[i];
    memset(&top[n], 0, sizeof(top[n]));
    ola_opts_print_example(top, 0, out);
    fprintf(out, "\n# %s\noutputs:\n  - type: stdout\n", outs->help);
    ola_output_print_examples(out);
}
