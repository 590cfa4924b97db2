/*
 * settings.c - the rules module's top-level keys: rules, default_rules,
 * catalog, alerts.
 *
 * The entries are declared once, as macros in settings.h, so that the
 * agent's top-level table (which refuses unknown keys, prints the example
 * and the settings in force) and ola_rules_options below say the same thing.
 * The walker reads default_rules; the hooks read what a table cannot say: a
 * list of file names and a catalog file, both resolved against the config
 * file's directory (the results are stored in the document), and the alerts
 * map, kept as a node for the rule set to read with ola_alerts_options.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "config/config.h"
#include "config/options.h"
#include "filters/rules/settings.h"

const struct ola_opt ola_rules_options[] = {
    OLA_RULES_OPT_RULES(0),         OLA_RULES_OPT_ALERTS(0), OLA_RULES_OPT_CATALOG(0),
    OLA_RULES_OPT_DEFAULT_RULES(0), {.name = NULL},
};

/* The struct ola_rules_config that holds opt's field f in obj. */
static struct ola_rules_config *ola_rc_of(void *obj, const struct ola_opt *opt, size_t f)
{
    return (struct ola_rules_config *)(void *)((char *)obj + opt->offset - f);
}

static int ola_nomem(struct ola_err *err)
{
    return ola_err_set(err, ENOMEM, "out of memory");
}

/*
 * Resolves f against the directory of the config file cfg: absolute paths
 * and configs without a directory part stay as they are. The result lives
 * in doc. Returns 0 / -1 (out of memory).
 */
static int ola_resolve_path(const struct ola_cfg_doc *doc, const char *cfg, const char *f,
                            const char **out)
{
    const char *slash = strrchr(cfg, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - cfg) + 1 : 0;
    size_t flen = strlen(f);
    char *res;

    if (f[0] == '/' || dir_len == 0) {
        *out = f;
        return 0;
    }
    res = ola_cfg_doc_alloc(doc, dir_len + flen + 1);
    if (res == NULL)
        return -1;
    memcpy(res, cfg, dir_len);
    memcpy(res + dir_len, f, flen + 1);
    *out = res;
    return 0;
}

/* rules: a list of files; relative paths are resolved against the config's directory. */
int ola_rules_files_hook(const struct ola_cfg *root, const struct ola_opt *opt, void *obj,
                         void *ctx, struct ola_err *err)
{
    struct ola_rules_config *s =
        ola_rc_of(obj, opt, offsetof(struct ola_rules_config, rules));
    const struct ola_cfg_doc *doc = *(const struct ola_cfg_doc *const *)ctx;
    const struct ola_cfg *r = ola_cfg_get(root, "rules");
    const char **files;
    size_t i, n;

    s->rules = NULL;
    s->rule_files = NULL;
    s->n_rule_files = 0;
    if (ola_cfg_type(r) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(r) != OLA_CFG_SEQ)
        return ola_cfg_errf(err, r, "rules: expected a list of rule files");
    s->rules = r;
    n = ola_cfg_len(r);
    if (n == 0)
        return 0;
    files = ola_cfg_doc_alloc(doc, n * sizeof(*files));
    if (files == NULL)
        return ola_nomem(err);
    for (i = 0; i < n; i++) {
        const struct ola_cfg *item = ola_cfg_at(r, i);
        const char *f = ola_cfg_scalar(item);

        if (f == NULL || f[0] == '\0')
            return ola_cfg_errf(err, item, "%s: expected a file name",
                                ola_cfg_path(item));
        if (ola_resolve_path(doc, ola_cfg_file(root), f, &files[i]) != 0)
            return ola_nomem(err);
    }
    s->rule_files = files;
    s->n_rule_files = n;
    return 0;
}

/* catalog: an event-type catalog file used instead of the built-in one (none by default).
 */
int ola_rules_catalog_hook(const struct ola_cfg *root, const struct ola_opt *opt,
                           void *obj, void *ctx, struct ola_err *err)
{
    struct ola_rules_config *s =
        ola_rc_of(obj, opt, offsetof(struct ola_rules_config, catalog_path));
    const struct ola_cfg_doc *doc = *(const struct ola_cfg_doc *const *)ctx;
    const char *f = NULL;

    s->catalog_path = NULL;
    s->catalog_builtin = true;
    if (ola_cfg_str(root, "catalog", NULL, &f, err) != 0)
        return -1;
    if (f == NULL)
        return 0;
    if (f[0] == '\0')
        return ola_cfg_errf(err, ola_cfg_get(root, "catalog"),
                            "catalog: expected a file name");
    if (ola_resolve_path(doc, ola_cfg_file(root), f, &s->catalog_path) != 0)
        return ola_nomem(err);
    return 0;
}

/* alerts: kept as a node; the rule set reads it with ola_alerts_options. */
int ola_rules_alerts_hook(const struct ola_cfg *root, const struct ola_opt *opt,
                          void *obj, void *ctx, struct ola_err *err)
{
    struct ola_rules_config *s =
        ola_rc_of(obj, opt, offsetof(struct ola_rules_config, alerts));

    (void)ctx;
    (void)err;
    s->alerts = ola_cfg_get(root, "alerts");
    if (ola_cfg_type(s->alerts) == OLA_CFG_NULL)
        s->alerts = NULL;
    return 0;
}

int ola_rules_config_load(const struct ola_cfg_doc *doc, const struct ola_cfg *root,
                          struct ola_rules_config *out, struct ola_err *err)
{
    /* the order the agent always read them in: which error comes first */
    static const char *const order[] = {"rules", "default_rules", "catalog", "alerts"};
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (ola_opts_read_key(root, "", ola_rules_options, order[i], out, &doc, err) != 0)
            return -1;
    return 0;
}
