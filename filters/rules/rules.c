/*
 * rules.c - building the rule set: the catalog, the rule files, the outputs'
 * `when:`.
 *
 * ola_rules_new loads the catalog (the `catalog:` file, else the one compiled
 * in) and the rules: the built-in default pack unless
 * `default_rules: false`, then the files listed under `rules:` (paths
 * relative to the config file, globs allowed; a rule named like a built-in
 * one replaces it), compiles every
 * expression once, and compiles each output's `when:`. rules_apply.c runs
 * the result over each batch. Semantics: docs/rules.md.
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/vec.h"
#include "filters/rules/alerts.h"
#include "filters/rules/builtin.h"
#include "filters/rules/catalog.h"
#include "filters/rules/expr.h"
#include "filters/rules/filter.h"
#include "filters/rules/lists.h"
#include "filters/rules/rules_priv.h"
#include "filters/rules/severity.h"

/* Names of the rules loaded so far, for duplicate checks. */
struct ola_rule_names {
    char **name;
    char **where;
    size_t n, cap_name, cap_where;
};

/* ---- loading --------------------------------------------------------------- */

static void ola_strv_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void ola_jsonv_free(json_t **v, size_t n)
{
    size_t i;

    for (i = 0; v != NULL && i < n; i++)
        json_decref(v[i]);
    free(v);
}

/* Shared JSON strings for tags. Returns NULL on ENOMEM. */
static json_t **ola_jsonv_new(char **tags, size_t n)
{
    json_t **v = calloc(n ? n : 1, sizeof(*v));
    size_t i;

    for (i = 0; v != NULL && i < n; i++) {
        v[i] = json_string(tags[i]);
        if (v[i] == NULL) {
            ola_jsonv_free(v, i);
            return NULL;
        }
    }
    return v;
}

static void ola_rule_free(struct ola_rule *r)
{
    free(r->name);
    ola_expr_destroy(r->match);
    ola_jsonv_free(r->tagv, r->n_tags);
    ola_strv_free(r->tags, r->n_tags);
}

/* tags: a string or a list of strings. */
static int ola_read_tags(const struct ola_cfg *n, char ***out, size_t *n_out,
                         struct ola_err *err)
{
    size_t count, i;
    char **v;

    *out = NULL;
    *n_out = 0;
    if (n == NULL || ola_cfg_type(n) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(n) != OLA_CFG_SCALAR && ola_cfg_type(n) != OLA_CFG_SEQ)
        return ola_cfg_errf(err, n, "tags: expected a list of tags");
    count = ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_len(n) : 1;
    v = calloc(count ? count : 1, sizeof(*v));
    if (v == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    for (i = 0; i < count; i++) {
        const struct ola_cfg *item =
            ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_at(n, i) : n;
        const char *s = ola_cfg_scalar(item);

        if (s == NULL || *s == '\0') {
            ola_strv_free(v, i);
            return ola_cfg_errf(err, item, "tags: expected a non-empty string");
        }
        v[i] = strdup(s);
        if (v[i] == NULL) {
            ola_strv_free(v, i);
            return ola_err_set(err, ENOMEM, "out of memory");
        }
    }
    *out = v;
    *n_out = count;
    return 0;
}

/* route: output names -> bits. */
static int ola_read_route(const struct ola_cfg *n, const char *const *outs, size_t n_outs,
                          bool *has, uint32_t *bits, struct ola_err *err)
{
    size_t count, i, j;

    *has = false;
    *bits = 0;
    if (n == NULL || ola_cfg_type(n) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(n) != OLA_CFG_SCALAR && ola_cfg_type(n) != OLA_CFG_SEQ)
        return ola_cfg_errf(err, n, "route: expected a list of output names");
    count = ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_len(n) : 1;
    for (i = 0; i < count; i++) {
        const struct ola_cfg *item =
            ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_at(n, i) : n;
        const char *s = ola_cfg_scalar(item);

        for (j = 0; s != NULL && j < n_outs; j++)
            if (outs[j] != NULL && strcmp(outs[j], s) == 0)
                break;
        if (s == NULL || j == n_outs)
            return ola_cfg_errf(err, item, "route: unknown output '%s'", s ? s : "?");
        *bits |= UINT32_C(1) << j;
    }
    *has = true;
    return 0;
}

static int ola_names_add(struct ola_rule_names *names, const char *name,
                         const struct ola_cfg *n, struct ola_err *err)
{
    char where[300];
    size_t i;

    for (i = 0; i < names->n; i++)
        if (strcmp(names->name[i], name) == 0)
            return ola_cfg_errf(err, n, "duplicate rule name '%s' (first at %s)", name,
                                names->where[i]);
    if (snprintf(where, sizeof(where), "%s:%d", ola_cfg_file(n), ola_cfg_line(n)) < 0)
        where[0] = '\0';
    if (OLA_VEC_GROW(names->name, names->cap_name, names->n + 1) != 0 ||
        OLA_VEC_GROW(names->where, names->cap_where, names->n + 1) != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
    names->name[names->n] = strdup(name);
    names->where[names->n] = strdup(where);
    if (names->name[names->n] == NULL || names->where[names->n] == NULL) {
        free(names->name[names->n]);
        free(names->where[names->n]);
        return ola_err_set(err, ENOMEM, "out of memory");
    }
    names->n++;
    return 0;
}

static int ola_add_alert_rule(struct ola_rules *r, const char *name,
                              const struct ola_cfg *entry, const char *const *outs,
                              size_t n_outs, struct ola_err *err)
{
    struct ola_alert_extra x;
    int idx;

    memset(&x, 0, sizeof(x));
    if (ola_cfg_get(entry, "match") != NULL || ola_cfg_get(entry, "drop") != NULL ||
        ola_cfg_get(entry, "severity") != NULL)
        return ola_cfg_errf(err, entry,
                            "rule '%s': an alert rule takes match and severity inside "
                            "alert:, and cannot drop",
                            name);
    if (ola_read_tags(ola_cfg_get(entry, "tags"), &x.tags, &x.n_tags, err) != 0 ||
        ola_read_route(ola_cfg_get(entry, "route"), outs, n_outs, &x.has_route, &x.route,
                       err) != 0)
        goto fail;
    x.tagv = ola_jsonv_new(x.tags, x.n_tags);
    if (x.tagv == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (OLA_VEC_GROW(r->extra, r->cap_extra, ola_alerts_count(r->alerts) + 1) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    idx = ola_alerts_add(r->alerts, name, ola_cfg_get(entry, "alert"), err);
    if (idx < 0)
        goto fail;
    r->extra[idx] = x;
    return 0;
fail:
    ola_jsonv_free(x.tagv, x.n_tags);
    ola_strv_free(x.tags, x.n_tags);
    return -1;
}

static int ola_add_rule(struct ola_rules *r, const struct ola_cfg *entry,
                        const char *const *outs, size_t n_outs,
                        struct ola_rule_names *names, struct ola_err *err)
{
    static const char *const keys[] = {"name",     "description", "match", "tags",
                                       "severity", "drop",        "route", "enabled",
                                       "alert",    "tests",       NULL};
    struct ola_rule rule;
    const char *name;
    const struct ola_cfg *sevn, *matchn;
    bool enabled;

    memset(&rule, 0, sizeof(rule));
    rule.severity = -1;
    if (ola_cfg_type(entry) != OLA_CFG_MAP)
        return ola_cfg_errf(err, entry, "rule: expected a map with name:");
    if (ola_cfg_check_keys(entry, keys, err) != 0 ||
        ola_cfg_str(entry, "name", NULL, &name, err) != 0 ||
        ola_cfg_bool(entry, "enabled", true, &enabled, err) != 0)
        return -1;
    if (name == NULL || *name == '\0')
        return ola_cfg_errf(err, entry, "rule: name is required");
    if (ola_names_add(names, name, entry, err) != 0)
        return -1;
    if (ola_cfg_get(entry, "alert") != NULL) {
        if (!enabled)
            return 0;
        return ola_add_alert_rule(r, name, entry, outs, n_outs, err);
    }
    rule.name = strdup(name);
    if (rule.name == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    matchn = ola_cfg_get(entry, "match");
    if (matchn != NULL && (rule.match = ola_expr_compile(r->env, matchn, err)) == NULL)
        goto fail;
    sevn = ola_cfg_get(entry, "severity");
    if (sevn != NULL && (rule.severity = ola_severity_parse(ola_cfg_scalar(sevn))) < 0) {
        ola_cfg_errf(err, sevn,
                     "severity: expected 0..10 or low, medium, high, critical");
        goto fail;
    }
    if (ola_cfg_bool(entry, "drop", false, &rule.drop, err) != 0 ||
        ola_read_tags(ola_cfg_get(entry, "tags"), &rule.tags, &rule.n_tags, err) != 0 ||
        ola_read_route(ola_cfg_get(entry, "route"), outs, n_outs, &rule.has_route,
                       &rule.route, err) != 0)
        goto fail;
    rule.tagv = ola_jsonv_new(rule.tags, rule.n_tags);
    if (rule.tagv == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    /* `- {name: X, enabled: false}` turns off the built-in rule X */
    if (enabled && rule.n_tags == 0 && rule.severity < 0 && !rule.drop &&
        !rule.has_route) {
        ola_cfg_errf(err, entry,
                     "rule '%s' does nothing: give it tags, severity, drop, "
                     "route or alert",
                     name);
        goto fail;
    }
    if (!enabled) {
        ola_rule_free(&rule);
        return 0;
    }
    if (OLA_VEC_GROW(r->rules, r->cap_rules, r->n_rules + 1) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    r->rules[r->n_rules++] = rule;
    return 0;
fail:
    ola_rule_free(&rule);
    return -1;
}

/* The rule documents of one load: the built-in pack's, then each listed file's. */
struct ola_rule_docs {
    struct ola_cfg_doc **doc;
    size_t n, cap;
};

static void ola_rule_docs_free(struct ola_rule_docs *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        ola_cfg_doc_destroy(d->doc[i]);
    free(d->doc);
}

/* Appends doc (taken: destroyed on failure). Returns 0 / -1. */
static int ola_rule_docs_push(struct ola_rule_docs *d, struct ola_cfg_doc *doc,
                              struct ola_err *err)
{
    if (OLA_VEC_GROW(d->doc, d->cap, d->n + 1) != 0) {
        ola_cfg_doc_destroy(doc);
        return ola_err_set(err, ENOMEM, "out of memory");
    }
    d->doc[d->n++] = doc;
    return 0;
}

/* The list of rules of a rule document: *list NULL for an empty file. */
static int ola_rule_list(const struct ola_cfg_doc *doc, const struct ola_cfg **list,
                         struct ola_err *err)
{
    const struct ola_cfg *root = ola_cfg_root(doc);

    *list = root;
    if (ola_cfg_type(root) == OLA_CFG_MAP) {
        static const char *const keys[] = {"rules", "description", "lists", NULL};

        if (ola_cfg_check_keys(root, keys, err) != 0)
            return -1;
        *list = ola_cfg_get(root, "rules");
    }
    if (ola_cfg_type(*list) == OLA_CFG_NULL) {
        *list = NULL; /* an empty rule file */
        return 0;
    }
    if (ola_cfg_type(*list) != OLA_CFG_SEQ)
        return ola_cfg_errf(err, *list, "rules: expected a list of rules");
    return 0;
}

/* The `lists:` of every rule document, into the environment (before any rule). */
static int ola_load_lists(struct ola_rules *r, const struct ola_rule_docs *docs,
                          struct ola_err *err)
{
    size_t i, k;

    for (i = 0; i < docs->n; i++) {
        const struct ola_cfg *lists = ola_cfg_get(ola_cfg_root(docs->doc[i]), "lists");

        if (lists == NULL || ola_cfg_type(lists) == OLA_CFG_NULL)
            continue;
        if (ola_cfg_type(lists) != OLA_CFG_MAP)
            return ola_cfg_errf(err, lists,
                                "lists: expected a map of NAME: {file: PATH, type: "
                                "string|cidr}");
        for (k = 0; k < ola_cfg_len(lists); k++) {
            struct ola_list *l =
                ola_list_load(ola_cfg_key_at(lists, k), ola_cfg_at(lists, k), err);

            if (l == NULL ||
                ola_expr_env_add_list(r->env, l, ola_cfg_at(lists, k), err) != 0)
                return -1;
        }
    }
    return 0;
}

/* A listed path: relative to the file that lists it, else to the cwd; globs allowed. */
static int ola_open_rule_entry(const struct ola_cfg *item, struct ola_rule_docs *docs,
                               struct ola_err *err)
{
    const char *s = ola_cfg_scalar(item), *from = ola_cfg_file(item);
    char path[4096];
    glob_t g;
    size_t i;
    int rc;

    if (s == NULL || *s == '\0')
        return ola_cfg_errf(err, item, "rules: expected a file name");
    path[0] = '\0';
    if (s[0] != '/' && from != NULL && strchr(from, '/') != NULL) {
        char dir[4096];
        int w = snprintf(dir, sizeof(dir), "%s", from);

        if (w < 0 || (size_t)w >= sizeof(dir))
            return ola_cfg_errf(err, item, "rules: path too long");
        w = snprintf(path, sizeof(path), "%s/%s", dirname(dir), s);
        if (w < 0 || (size_t)w >= sizeof(path))
            return ola_cfg_errf(err, item, "rules: path too long");
    }
    memset(&g, 0, sizeof(g));
    rc = path[0] ? glob(path, 0, NULL, &g) : GLOB_NOMATCH;
    if (rc == GLOB_NOMATCH) {
        globfree(&g);
        memset(&g, 0, sizeof(g));
        rc = glob(s, 0, NULL, &g);
    }
    if (rc != 0) {
        globfree(&g);
        return ola_cfg_errf(err, item, "rules: no rule file matches '%s'", s);
    }
    for (i = 0; i < g.gl_pathc; i++) {
        struct ola_cfg_doc *doc = NULL;

        if (ola_cfg_load_file(g.gl_pathv[i], &doc, err) != 0 ||
            ola_rule_docs_push(docs, doc, err) != 0) {
            globfree(&g);
            return -1;
        }
    }
    globfree(&g);
    return 0;
}

/* True when a rule of docs[from..] is called name: it replaces a built-in rule. */
static bool ola_rule_named(const struct ola_rule_docs *docs, size_t from,
                           const char *name)
{
    const struct ola_cfg *list;
    size_t i, k;

    for (i = from; i < docs->n; i++) {
        if (ola_rule_list(docs->doc[i], &list, NULL) != 0)
            continue;
        for (k = 0; k < ola_cfg_len(list); k++) {
            const char *n = ola_cfg_scalar(ola_cfg_get(ola_cfg_at(list, k), "name"));

            if (n != NULL && strcmp(n, name) == 0)
                return true;
        }
    }
    return false;
}

/*
 * The built-in pack (unless s->default_rules is off), then the files listed
 * under `rules:` in order. A rule in a listed file named like a built-in rule
 * replaces it (`enabled: false` turns it off); other duplicate names are
 * errors.
 */
static int ola_load_rules(struct ola_rules *r, const struct ola_rules_settings *s,
                          const char *const *outs, size_t n_outs, struct ola_err *err)
{
    const struct ola_cfg *list = s->rules;
    struct ola_rule_names names = {NULL, NULL, 0, 0, 0};
    struct ola_rule_docs docs = {NULL, 0, 0};
    size_t i, k, count, user = 0;
    int rc = -1;

    if (s->default_rules) {
        struct ola_cfg_doc *doc = NULL;

        if (ola_cfg_load_string(OLA_BUILTIN_RULES_NAME, ola_builtin_rules,
                                ola_builtin_rules_len, &doc, err) != 0 ||
            ola_rule_docs_push(&docs, doc, err) != 0)
            goto fail;
        user = 1;
    }
    if (list != NULL && ola_cfg_type(list) != OLA_CFG_NULL) {
        if (ola_cfg_type(list) != OLA_CFG_SEQ && ola_cfg_type(list) != OLA_CFG_SCALAR) {
            ola_cfg_errf(err, list, "rules: expected a list of rule files");
            goto fail;
        }
        count = ola_cfg_type(list) == OLA_CFG_SEQ ? ola_cfg_len(list) : 1;
        for (i = 0; i < count; i++) {
            const struct ola_cfg *item =
                ola_cfg_type(list) == OLA_CFG_SEQ ? ola_cfg_at(list, i) : list;

            if (ola_open_rule_entry(item, &docs, err) != 0)
                goto fail;
        }
    }
    for (i = 0; i < docs.n; i++) {
        const struct ola_cfg *rules;

        if (ola_rule_list(docs.doc[i], &rules, err) != 0)
            goto fail;
    }
    if (ola_load_lists(r, &docs, err) != 0)
        goto fail;
    for (i = 0; i < docs.n; i++) {
        const struct ola_cfg *rules;

        if (ola_rule_list(docs.doc[i], &rules, err) != 0)
            goto fail;
        for (k = 0; k < ola_cfg_len(rules); k++) {
            const struct ola_cfg *entry = ola_cfg_at(rules, k);
            const char *name = ola_cfg_scalar(ola_cfg_get(entry, "name"));

            if (i < user && name != NULL && ola_rule_named(&docs, user, name))
                continue;
            if (ola_add_rule(r, entry, outs, n_outs, &names, err) != 0)
                goto fail;
        }
    }
    rc = 0;
fail:
    ola_rule_docs_free(&docs);
    ola_strv_free(names.name, names.n);
    ola_strv_free(names.where, names.n);
    return rc;
}

static const struct ola_cfg *ola_output_node(const struct ola_rules_settings *s,
                                             const char *name, size_t i)
{
    size_t j;

    for (j = 0; j < s->n_outputs; j++)
        if (s->outputs[j].name != NULL && name != NULL &&
            strcmp(s->outputs[j].name, name) == 0)
            return s->outputs[j].node;
    return i < s->n_outputs && name == NULL ? s->outputs[i].node : NULL;
}

struct ola_rules *ola_rules_new(const struct ola_rules_settings *s,
                                const char *catalog_path, const char *const *output_names,
                                size_t n_outputs, struct ola_err *err)
{
    struct ola_rules *r = calloc(1, sizeof(*r));
    size_t i;

    if (r == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    if (n_outputs > OLA_MAX_OUTPUTS) {
        ola_err_set(err, EINVAL, "too many outputs (%zu, at most %d)", n_outputs,
                    OLA_MAX_OUTPUTS);
        goto fail;
    }
    if (catalog_path != NULL)
        r->cat = ola_catalog_load(catalog_path, err);
    else if (s->catalog_builtin)
        r->cat = ola_catalog_builtin(err);
    if ((catalog_path != NULL || s->catalog_builtin) && r->cat == NULL)
        goto fail;
    for (i = 0; i < 11; i++) {
        r->sev_num[i] = json_integer((json_int_t)i);
        r->sev_name[i] = json_string(ola_severity_name((int)i));
        if (r->sev_num[i] == NULL || r->sev_name[i] == NULL) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
    }
    r->alert_tag = json_string("alert");
    r->env = ola_expr_env_new(r->cat);
    if (r->env == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    r->alerts = ola_alerts_new(r->env, s->alerts, err);
    if (r->alerts == NULL)
        goto fail;
    if (ola_load_rules(r, s, output_names, n_outputs, err) != 0)
        goto fail;
    r->n_outputs = n_outputs;
    r->all_outputs = n_outputs >= 32 ? UINT32_MAX : (UINT32_C(1) << n_outputs) - 1;
    for (i = 0; i < n_outputs; i++) {
        const struct ola_cfg *when = ola_cfg_get(
            ola_output_node(s, output_names ? output_names[i] : NULL, i), "when");

        if (when == NULL || ola_cfg_type(when) == OLA_CFG_NULL)
            continue;
        r->when[i] = ola_expr_compile(r->env, when, err);
        if (r->when[i] == NULL)
            goto fail;
    }
    if (ola_expr_ctx_init(&r->ctx, r->env) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    return r;
fail:
    ola_rules_destroy(r);
    return NULL;
}

void ola_rules_destroy(struct ola_rules *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n_rules; i++)
        ola_rule_free(&r->rules[i]);
    free(r->rules);
    for (i = 0; i < ola_alerts_count(r->alerts); i++) {
        ola_jsonv_free(r->extra[i].tagv, r->extra[i].n_tags);
        ola_strv_free(r->extra[i].tags, r->extra[i].n_tags);
    }
    for (i = 0; i < 11; i++) {
        json_decref(r->sev_num[i]);
        json_decref(r->sev_name[i]);
    }
    json_decref(r->alert_tag);
    free(r->extra);
    ola_alerts_destroy(r->alerts);
    ola_alert_list_free(&r->raised);
    for (i = 0; i < OLA_MAX_OUTPUTS; i++)
        ola_expr_destroy(r->when[i]);
    ola_expr_ctx_free(&r->ctx);
    ola_expr_env_destroy(r->env);
    ola_catalog_destroy(r->cat);
    free(r);
}
