/*
 * expr_compile.c - compiling match expressions (expr.h) from YAML.
 *
 * A YAML map becomes a tree of nodes (expr_priv.h): a condition ({field,
 * <operator>}), a combinator (all, any, not) or a shorthand (tags,
 * categories, severity, event_type); several keys in one map are an
 * implicit `all`. Everything that can be decided at load time is: operands
 * are parsed as numbers once, integer `in` lists are sorted for binary
 * search, regexes are compiled (POSIX ERE, REG_NOSUB, after regex_guard.c
 * refused costly shapes and backreferences), category names become bits.
 * expr.c evaluates the tree.
 */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/vec.h"
#include "filters/rules/catalog.h"
#include "filters/rules/expr.h"
#include "filters/rules/expr_priv.h"
#include "filters/rules/lists.h"
#include "filters/rules/regex_guard.h"
#include "filters/rules/severity.h"

/* ---- compiling ----------------------------------------------------------- */

static int ola_xval_set(struct ola_xval *v, const char *s)
{
    memset(v, 0, sizeof(*v));
    v->s = strdup(s);
    if (v->s == NULL)
        return -1;
    v->len = strlen(s);
    v->is_num = ola_expr_parse_num(s, &v->num, &v->is_int, &v->i);
    return 0;
}

void ola_expr_destroy(struct ola_expr *x)
{
    size_t i;

    if (x == NULL)
        return;
    for (i = 0; i < x->n_kids; i++)
        ola_expr_destroy(x->kids[i]);
    free(x->kids);
    for (i = 0; i < x->n_vals; i++)
        free(x->vals[i].s);
    free(x->vals);
    free(x->ints);
    if (x->has_re)
        regfree(&x->re);
    free(x);
}

static struct ola_expr *ola_x_new(enum ola_xop op, struct ola_err *err)
{
    struct ola_expr *x = calloc(1, sizeof(*x));

    if (x == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    x->op = op;
    x->path = -1;
    return x;
}

static int ola_x_add_kid(struct ola_expr *x, struct ola_expr *kid, struct ola_err *err)
{
    if (OLA_VEC_GROW_FROM(x->kids, x->cap_kids, x->n_kids + 1, 2) != 0) {
        ola_expr_destroy(kid);
        return ola_err_set(err, ENOMEM, "out of memory");
    }
    x->kids[x->n_kids++] = kid;
    return 0;
}

/* Operands: a scalar or a sequence of scalars (when many is true). */
static int ola_x_operands(struct ola_expr *x, const struct ola_cfg *n, const char *op,
                          bool many, struct ola_err *err)
{
    size_t count, i;

    if (ola_cfg_type(n) == OLA_CFG_SCALAR) {
        count = 1;
    } else if (ola_cfg_type(n) == OLA_CFG_SEQ && many) {
        count = ola_cfg_len(n);
        if (count == 0)
            return ola_cfg_errf(err, n, "%s: empty list", op);
    } else {
        return ola_cfg_errf(err, n, "%s: expected %s", op,
                            many ? "a value or a list of values" : "a value");
    }
    x->vals = calloc(count, sizeof(*x->vals));
    if (x->vals == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    for (i = 0; i < count; i++) {
        const struct ola_cfg *item =
            ola_cfg_type(n) == OLA_CFG_SEQ ? ola_cfg_at(n, i) : n;
        const char *s = ola_cfg_scalar(item);

        if (s == NULL)
            return ola_cfg_errf(err, item, "%s: list items must be values", op);
        if (ola_xval_set(&x->vals[i], s) != 0)
            return ola_err_set(err, ENOMEM, "out of memory");
        x->n_vals++;
    }
    return 0;
}

static int ola_x_bool(const struct ola_cfg *n, const char *op, bool *out,
                      struct ola_err *err)
{
    const char *s = ola_cfg_scalar(n);

    if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)) {
        *out = true;
        return 0;
    }
    if (s != NULL && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)) {
        *out = false;
        return 0;
    }
    return ola_cfg_errf(err, n, "%s: expected true or false", op);
}

static const struct {
    const char *name;
    enum ola_xop op;
} ola_field_ops[] = {
    {"equals", OLA_X_EQ},
    {"in", OLA_X_IN},
    {"prefix", OLA_X_PREFIX},
    {"regex", OLA_X_REGEX},
    {"gt", OLA_X_GT},
    {"gte", OLA_X_GTE},
    {"lt", OLA_X_LT},
    {"lte", OLA_X_LTE},
    {"exists", OLA_X_EXISTS},
    {"missing", OLA_X_MISSING},
    {"equals_field", OLA_X_FEQ},
    {"not_equals_field", OLA_X_FNE},
    {"in_list", OLA_X_INLIST},
};

static const char *const ola_group_keys[] = {
    "all", "any", "not", "tags", "categories", "severity", "event_type", NULL};

static bool ola_key_in(const char *key, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(key, *set) == 0)
            return true;
    return false;
}

/* {field: PATH, OPERATOR: VALUE[, ignore_case: BOOL]} */
static struct ola_expr *ola_x_condition(struct ola_expr_env *env,
                                        const struct ola_cfg *map, struct ola_err *err)
{
    const struct ola_cfg *field = ola_cfg_get(map, "field"), *opn = NULL, *icn;
    const char *path = ola_cfg_scalar(field), *opname = NULL;
    struct ola_expr *x = NULL;
    size_t i, k;
    int found = -1;

    if (path == NULL || path[0] == '\0') {
        ola_cfg_errf(err, field, "field: expected a dotted path");
        goto fail;
    }
    if (!ola_expr_path_ok(path)) {
        ola_cfg_errf(err, field, "field: bad path '%.64s'", path);
        goto fail;
    }
    for (i = 0; i < ola_cfg_len(map); i++) {
        const char *key = ola_cfg_key_at(map, i);

        if (strcmp(key, "field") == 0 || strcmp(key, "ignore_case") == 0 ||
            ola_key_in(key, ola_group_keys))
            continue;
        for (k = 0; k < sizeof(ola_field_ops) / sizeof(ola_field_ops[0]); k++)
            if (strcmp(key, ola_field_ops[k].name) == 0)
                break;
        if (k == sizeof(ola_field_ops) / sizeof(ola_field_ops[0])) {
            ola_cfg_errf(err, ola_cfg_at(map, i), "unknown operator '%s'", key);
            goto fail;
        }
        if (found >= 0) {
            ola_cfg_errf(err, ola_cfg_at(map, i),
                         "one operator per condition ('%s' and '%s'): use all:", opname,
                         key);
            goto fail;
        }
        found = (int)k;
        opname = key;
        opn = ola_cfg_at(map, i);
    }
    if (found < 0) {
        ola_cfg_errf(err, map, "field '%s' has no operator", path);
        goto fail;
    }
    x = ola_x_new(ola_field_ops[found].op, err);
    if (x == NULL)
        goto fail;
    x->path = ola_expr_path(env, path);
    if (x->path < 0) {
        ola_cfg_errf(err, field, "field: bad path '%s'", path);
        goto fail;
    }
    icn = ola_cfg_get(map, "ignore_case");
    if (icn != NULL && ola_x_bool(icn, "ignore_case", &x->icase, err) != 0)
        goto fail;
    switch (x->op) {
    case OLA_X_EXISTS:
    case OLA_X_MISSING: {
        bool yes;

        if (ola_x_bool(opn, opname, &yes, err) != 0)
            goto fail;
        if (!yes)
            x->op = x->op == OLA_X_EXISTS ? OLA_X_MISSING : OLA_X_EXISTS;
        break;
    }
    case OLA_X_EQ:
        if (ola_x_operands(x, opn, opname, false, err) != 0)
            goto fail;
        break;
    case OLA_X_IN:
        if (ola_x_operands(x, opn, opname, true, err) != 0)
            goto fail;
        x->ints = calloc(x->n_vals, sizeof(*x->ints));
        if (x->ints == NULL) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        for (i = 0; i < x->n_vals; i++)
            if (x->vals[i].is_int)
                x->ints[x->n_ints++] = x->vals[i].i;
        qsort(x->ints, x->n_ints, sizeof(*x->ints), ola_expr_ll_cmp);
        break;
    case OLA_X_PREFIX:
        if (ola_x_operands(x, opn, opname, true, err) != 0)
            goto fail;
        break;
    case OLA_X_REGEX: {
        int rc, flags = REG_EXTENDED | REG_NOSUB | (x->icase ? REG_ICASE : 0);
        char why[160];

        if (ola_x_operands(x, opn, opname, false, err) != 0)
            goto fail;
        /* costly shapes and backreferences never reach regcomp */
        rc = ola_regex_guard(x->vals[0].s, why, sizeof(why));
        if (rc == 0) {
            rc = regcomp(&x->re, x->vals[0].s, flags);
            if (rc != 0)
                regerror(rc, &x->re, why, sizeof(why));
        }
        if (rc != 0) { /* a long pattern shows its start, so the reason still fits */
            ola_cfg_errf(err, opn, "bad regex '%.48s%s': %s", x->vals[0].s,
                         x->vals[0].len > 48 ? "..." : "", why);
            goto fail;
        }
        x->has_re = true;
        break;
    }
    case OLA_X_FEQ:
    case OLA_X_FNE: {
        const char *other = ola_cfg_scalar(opn);

        if (other == NULL || !ola_expr_path_ok(other) ||
            (x->path2 = ola_expr_path(env, other)) < 0) {
            ola_cfg_errf(err, opn, "%s: bad path '%.64s'", opname, other ? other : "?");
            goto fail;
        }
        break;
    }
    case OLA_X_INLIST: {
        const char *name = ola_cfg_scalar(opn);

        if (icn != NULL) {
            ola_cfg_errf(err, icn, "ignore_case: set it on the list for in_list");
            goto fail;
        }
        for (i = 0; name != NULL && i < env->n_lists; i++)
            if (strcmp(ola_list_name(env->lists[i]), name) == 0)
                x->list = env->lists[i];
        if (x->list == NULL) {
            ola_cfg_errf(err, opn,
                         "in_list: unknown list '%.64s' (declare it under lists:)",
                         name ? name : "?");
            goto fail;
        }
        break;
    }
    default: /* gt, gte, lt, lte */
        if (ola_x_operands(x, opn, opname, false, err) != 0)
            goto fail;
        if (!x->vals[0].is_num) {
            ola_cfg_errf(err, opn, "%s: expected a number, got '%s'", opname,
                         x->vals[0].s);
            goto fail;
        }
        break;
    }
    return x;
fail:
    ola_expr_destroy(x);
    return NULL;
}

/* tags: [..] / categories: [..] */
static struct ola_expr *ola_x_names(struct ola_expr_env *env, const struct ola_cfg *n,
                                    enum ola_xop op, struct ola_err *err)
{
    const char *what = op == OLA_X_TAGS ? "tags" : "categories";
    struct ola_expr *x = ola_x_new(op, err);
    size_t i;

    if (x == NULL || ola_x_operands(x, n, what, true, err) != 0)
        goto fail;
    if (op == OLA_X_CATS && env->cat != NULL) {
        for (i = 0; i < x->n_vals; i++) {
            int bit = ola_catalog_category_bit(env->cat, x->vals[i].s);

            if (bit < 0) {
                ola_cfg_errf(err, n, "categories: no event type has category '%s'",
                             x->vals[i].s);
                goto fail;
            }
            x->mask |= UINT32_C(1) << bit;
        }
    }
    return x;
fail:
    ola_expr_destroy(x);
    return NULL;
}

/* severity: ">= 7", "high", "7" (a bare level means at least). */
static struct ola_expr *ola_x_severity(const struct ola_cfg *n, struct ola_err *err)
{
    static const struct {
        const char *text;
        enum ola_xop op;
    } ops[] = {{">=", OLA_X_GTE}, {"<=", OLA_X_LTE}, {"==", OLA_X_EQ}, {"!=", OLA_X_NOT},
               {">", OLA_X_GT},   {"<", OLA_X_LT},   {"=", OLA_X_EQ}};
    const char *s = ola_cfg_scalar(n);
    struct ola_expr *x;
    size_t k;

    if (s == NULL)
        goto bad;
    x = ola_x_new(OLA_X_SEV, err);
    if (x == NULL)
        return NULL;
    x->sev_op = OLA_X_GTE;
    for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        size_t len = strlen(ops[k].text);

        if (strncmp(s, ops[k].text, len) == 0) {
            x->sev_op = ops[k].op;
            s += len;
            break;
        }
    }
    while (*s == ' ')
        s++;
    x->sev = ola_severity_parse(s);
    if (x->sev < 0) {
        ola_expr_destroy(x);
        goto bad;
    }
    return x;
bad:
    ola_cfg_errf(err, n, "severity: expected a level like \">= 7\" or \"high\"");
    return NULL;
}

/* event_type: [names or ids] -> event_type_id in [ids] */
static struct ola_expr *ola_x_event_type(struct ola_expr_env *env,
                                         const struct ola_cfg *n, struct ola_err *err)
{
    struct ola_expr *x = ola_x_new(OLA_X_IN, err);
    size_t i;

    if (x == NULL || ola_x_operands(x, n, "event_type", true, err) != 0)
        goto fail;
    x->path = ola_expr_path(env, "event_type_id");
    x->ints = calloc(x->n_vals, sizeof(*x->ints));
    if (x->path < 0 || x->ints == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < x->n_vals; i++) {
        long long id;

        if (x->vals[i].is_int) {
            id = x->vals[i].i;
        } else if (!ola_catalog_id(env->cat, x->vals[i].s, &id)) {
            ola_cfg_errf(err, n, "event_type: unknown event type '%s'", x->vals[i].s);
            goto fail;
        }
        x->ints[x->n_ints++] = id;
    }
    qsort(x->ints, x->n_ints, sizeof(*x->ints), ola_expr_ll_cmp);
    return x;
fail:
    ola_expr_destroy(x);
    return NULL;
}

static struct ola_expr *ola_x_compile(struct ola_expr_env *env,
                                      const struct ola_cfg *node, int depth,
                                      struct ola_err *err);

/* all: [..] / any: [..] (a single map is a list of one) */
static struct ola_expr *ola_x_list(struct ola_expr_env *env, const struct ola_cfg *n,
                                   enum ola_xop op, int depth, struct ola_err *err)
{
    struct ola_expr *x = ola_x_new(op, err);
    size_t i, count;

    if (x == NULL)
        return NULL;
    if (ola_cfg_type(n) != OLA_CFG_MAP &&
        (ola_cfg_type(n) != OLA_CFG_SEQ || ola_cfg_len(n) == 0)) {
        ola_cfg_errf(err, n, "%s: expected a list of expressions",
                     op == OLA_X_ALL ? "all" : "any");
        goto fail;
    }
    count = ola_cfg_type(n) == OLA_CFG_MAP ? 1 : ola_cfg_len(n);
    for (i = 0; i < count; i++) {
        const struct ola_cfg *item =
            ola_cfg_type(n) == OLA_CFG_MAP ? n : ola_cfg_at(n, i);
        struct ola_expr *kid = ola_x_compile(env, item, depth + 1, err);

        if (kid == NULL || ola_x_add_kid(x, kid, err) != 0)
            goto fail;
    }
    return x;
fail:
    ola_expr_destroy(x);
    return NULL;
}

static struct ola_expr *ola_x_compile(struct ola_expr_env *env,
                                      const struct ola_cfg *node, int depth,
                                      struct ola_err *err)
{
    struct ola_expr *all = NULL, *kid = NULL;
    size_t i, count, groups;

    if (depth > 32) {
        ola_cfg_errf(err, node, "expression nested too deeply");
        return NULL;
    }
    if (ola_cfg_type(node) == OLA_CFG_SEQ)
        return ola_x_list(env, node, OLA_X_ALL, depth, err);
    if (ola_cfg_type(node) != OLA_CFG_MAP || ola_cfg_len(node) == 0) {
        ola_cfg_errf(err, node,
                     "expected an expression (a map such as "
                     "{field: risk_score, gte: 50})");
        return NULL;
    }
    count = ola_cfg_len(node);
    for (i = 0, groups = 0; i < count; i++)
        groups += ola_key_in(ola_cfg_key_at(node, i), ola_group_keys);
    if (ola_cfg_get(node, "field") != NULL) {
        /* the condition takes field, its operator and ignore_case */
        kid = ola_x_condition(env, node, err);
        if (kid == NULL || groups == 0)
            return kid;
        all = ola_x_new(OLA_X_ALL, err);
        if (all == NULL || ola_x_add_kid(all, kid, err) != 0) {
            if (all == NULL)
                ola_expr_destroy(kid);
            goto fail;
        }
    } else if (count > 1) {
        all = ola_x_new(OLA_X_ALL, err);
        if (all == NULL)
            return NULL;
    }
    for (i = 0; i < count; i++) {
        const char *key = ola_cfg_key_at(node, i);
        const struct ola_cfg *v = ola_cfg_at(node, i);

        if (!ola_key_in(key, ola_group_keys) && ola_cfg_get(node, "field") != NULL)
            continue;
        if (strcmp(key, "all") == 0) {
            kid = ola_x_list(env, v, OLA_X_ALL, depth, err);
        } else if (strcmp(key, "any") == 0) {
            kid = ola_x_list(env, v, OLA_X_ANY, depth, err);
        } else if (strcmp(key, "not") == 0) {
            struct ola_expr *inner = ola_x_compile(env, v, depth + 1, err);

            kid = inner ? ola_x_new(OLA_X_NOT, err) : NULL;
            if (kid != NULL && ola_x_add_kid(kid, inner, err) != 0) {
                ola_expr_destroy(kid);
                kid = NULL;
            } else if (kid == NULL) {
                ola_expr_destroy(inner);
            }
        } else if (strcmp(key, "tags") == 0) {
            kid = ola_x_names(env, v, OLA_X_TAGS, err);
        } else if (strcmp(key, "categories") == 0) {
            kid = ola_x_names(env, v, OLA_X_CATS, err);
        } else if (strcmp(key, "severity") == 0) {
            kid = ola_x_severity(v, err);
        } else if (strcmp(key, "event_type") == 0) {
            kid = ola_x_event_type(env, v, err);
        } else {
            ola_cfg_errf(err, v, "unknown operator '%s'", key);
            kid = NULL;
        }
        if (kid == NULL)
            goto fail;
        if (all == NULL)
            return kid;
        if (ola_x_add_kid(all, kid, err) != 0)
            goto fail;
    }
    return all;
fail:
    ola_expr_destroy(all);
    return NULL;
}

struct ola_expr *ola_expr_compile(struct ola_expr_env *env, const struct ola_cfg *node,
                                  struct ola_err *err)
{
    return ola_x_compile(env, node, 0, err);
}
