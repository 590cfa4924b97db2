/*
 * expr.c - compiling and evaluating match expressions.
 *
 * A YAML map becomes a tree of nodes: a condition ({field, <operator>}),
 * a combinator (all, any, not) or a shorthand (tags, categories, severity,
 * event_type); several keys in one map are an implicit `all`. Everything
 * that can be decided at load time is: operands are parsed as numbers once,
 * integer `in` lists are sorted for binary search, regexes are compiled
 * (POSIX ERE, REG_NOSUB, after regex_guard.c refused costly shapes and
 * backreferences), category names become bits. Paths are interned in
 * the environment; lookups in the event (immutable while rules run) are
 * cached per event, lookups in the olagent object (which rules change) are not.
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filters/rules/catalog.h"
#include "filters/rules/expr.h"
#include "filters/rules/regex_guard.h"
#include "filters/rules/severity.h"

enum ola_xop {
    OLA_X_ALL,
    OLA_X_ANY,
    OLA_X_NOT,
    OLA_X_EQ,
    OLA_X_IN,
    OLA_X_PREFIX,
    OLA_X_REGEX,
    OLA_X_GT,
    OLA_X_GTE,
    OLA_X_LT,
    OLA_X_LTE,
    OLA_X_EXISTS,
    OLA_X_MISSING,
    OLA_X_TAGS,
    OLA_X_CATS,
    OLA_X_SEV,
};

struct ola_xval {
    char *s;
    size_t len;
    bool is_num;
    bool is_int;
    double num;
    long long i;
};

struct ola_expr {
    enum ola_xop op;
    int path;
    bool icase;
    struct ola_expr **kids;
    size_t n_kids;
    struct ola_xval *vals;
    size_t n_vals;
    long long *ints; /* sorted integer operands of `in` */
    size_t n_ints;
    regex_t re;
    bool has_re;
    uint32_t mask; /* categories */
    enum ola_xop sev_op;
    int sev;
};

struct ola_xpath {
    char *text;
    bool ola;     /* starts with "olagent." */
    char **seg;   /* segments after "olagent." when ola */
    size_t n_seg; /* >= 1, except for a bare "olagent" (0) */
    char **full;  /* all segments, for the e->ev fallback */
    size_t n_full;
};

struct ola_expr_env {
    const struct ola_catalog *cat;
    struct ola_xpath *paths;
    size_t n_paths, cap_paths;
};

/* ---- environment and paths ---------------------------------------------- */

struct ola_expr_env *ola_expr_env_new(const struct ola_catalog *cat)
{
    struct ola_expr_env *env = calloc(1, sizeof(*env));

    if (env != NULL)
        env->cat = cat;
    return env;
}

static void ola_xpath_free(struct ola_xpath *p)
{
    size_t i;

    for (i = 0; i < p->n_full; i++)
        free(p->full[i]);
    free(p->full);
    free(p->text);
}

void ola_expr_env_destroy(struct ola_expr_env *env)
{
    size_t i;

    if (env == NULL)
        return;
    for (i = 0; i < env->n_paths; i++)
        ola_xpath_free(&env->paths[i]);
    free(env->paths);
    free(env);
}

static int ola_xpath_split(struct ola_xpath *p, const char *dotted)
{
    const char *s = dotted;
    size_t n = 1, k = 0;

    for (s = dotted; *s; s++)
        n += *s == '.';
    p->full = calloc(n, sizeof(*p->full));
    if (p->full == NULL)
        return -1;
    s = dotted;
    while (k < n) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);

        if (len == 0)
            return -1;
        p->full[k] = strndup(s, len);
        if (p->full[k] == NULL)
            return -1;
        p->n_full = ++k;
        s += len + 1;
    }
    p->ola = strcmp(p->full[0], "olagent") == 0;
    p->seg = p->ola ? p->full + 1 : p->full;
    p->n_seg = p->ola ? n - 1 : n;
    return 0;
}

int ola_expr_path(struct ola_expr_env *env, const char *dotted)
{
    struct ola_xpath *p;
    size_t i;

    for (i = 0; i < env->n_paths; i++)
        if (strcmp(env->paths[i].text, dotted) == 0)
            return (int)i;
    if (dotted[0] == '\0')
        return -1;
    if (env->n_paths == env->cap_paths) {
        size_t cap = env->cap_paths ? env->cap_paths * 2 : 16;
        struct ola_xpath *v = realloc(env->paths, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        env->paths = v;
        env->cap_paths = cap;
    }
    p = &env->paths[env->n_paths];
    memset(p, 0, sizeof(*p));
    p->text = strdup(dotted);
    if (p->text == NULL || ola_xpath_split(p, dotted) != 0) {
        ola_xpath_free(p);
        return -1;
    }
    return (int)env->n_paths++;
}

int ola_expr_ctx_init(struct ola_expr_ctx *ctx, const struct ola_expr_env *env)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->n = env->n_paths;
    if (ctx->n == 0)
        return 0;
    ctx->slots = calloc(ctx->n, sizeof(*ctx->slots));
    ctx->gen = calloc(ctx->n, sizeof(*ctx->gen));
    if (ctx->slots == NULL || ctx->gen == NULL) {
        ola_expr_ctx_free(ctx);
        return -1;
    }
    ctx->cur = 1;
    return 0;
}

void ola_expr_ctx_free(struct ola_expr_ctx *ctx)
{
    free(ctx->slots);
    free(ctx->gen);
    memset(ctx, 0, sizeof(*ctx));
}

void ola_expr_ctx_set(struct ola_expr_ctx *ctx, const struct ola_event *e, bool have_mask,
                      uint32_t mask)
{
    ctx->e = e;
    ctx->have_mask = have_mask;
    ctx->cat_mask = mask;
    if (++ctx->cur == 0) {
        /* generation wrapped: forget every slot */
        if (ctx->gen != NULL)
            memset(ctx->gen, 0, ctx->n * sizeof(*ctx->gen));
        ctx->cur = 1;
    }
}

static json_t *ola_walk(json_t *v, char *const *seg, size_t n)
{
    size_t i;

    for (i = 0; i < n && v != NULL; i++)
        v = json_object_get(v, seg[i]);
    return v;
}

json_t *ola_expr_get(const struct ola_expr_env *env, struct ola_expr_ctx *ctx, int p)
{
    const struct ola_xpath *x;
    json_t *v;

    if (p < 0 || (size_t)p >= env->n_paths || ctx->e == NULL)
        return NULL;
    x = &env->paths[p];
    if (x->ola) {
        v = ola_walk(ctx->e->ola, x->seg, x->n_seg);
        if (v != NULL)
            return v;
    }
    if ((size_t)p < ctx->n) {
        if (ctx->gen[p] == ctx->cur)
            return ctx->slots[p];
        v = ola_walk(ctx->e->ev, x->full, x->n_full);
        ctx->slots[p] = v;
        ctx->gen[p] = ctx->cur;
        return v;
    }
    return ola_walk(ctx->e->ev, x->full, x->n_full);
}

/* ---- values -------------------------------------------------------------- */

/* Decimal text of i; the hot path of alert keys (snprintf costs ~10x more). */
static int ola_itoa(long long i, char *buf, size_t n)
{
    char tmp[24];
    unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
    size_t k = sizeof(tmp), len;

    do {
        tmp[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (i < 0)
        tmp[--k] = '-';
    len = sizeof(tmp) - k;
    if (len >= n)
        return -1;
    memcpy(buf, tmp + k, len);
    buf[len] = '\0';
    return (int)len;
}

int ola_expr_text(const json_t *v, char *buf, size_t n)
{
    int w;

    switch (json_typeof(v)) {
    case JSON_STRING: {
        size_t len = json_string_length(v);

        if (len >= n)
            return -1;
        memcpy(buf, json_string_value(v), len + 1);
        return (int)len;
    }
    case JSON_INTEGER:
        return ola_itoa((long long)json_integer_value(v), buf, n);
    case JSON_REAL:
        w = snprintf(buf, n, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        w = snprintf(buf, n, "true");
        break;
    case JSON_FALSE:
        w = snprintf(buf, n, "false");
        break;
    default:
        return -1;
    }
    if (w < 0 || (size_t)w >= n)
        return -1;
    return w;
}

/* Parses all of s as a number. */
static bool ola_parse_num(const char *s, double *d, bool *is_int, long long *i)
{
    char *end;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    *i = strtoll(s, &end, 10);
    if (errno == 0 && *end == '\0') {
        *is_int = true;
        *d = (double)*i;
        return true;
    }
    errno = 0;
    *d = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(*d))
        return false;
    *is_int = false;
    return true;
}

static int ola_xval_set(struct ola_xval *v, const char *s)
{
    memset(v, 0, sizeof(*v));
    v->s = strdup(s);
    if (v->s == NULL)
        return -1;
    v->len = strlen(s);
    v->is_num = ola_parse_num(s, &v->num, &v->is_int, &v->i);
    return 0;
}

/* The value as a number, if it is one (numbers, numeric strings). */
static bool ola_json_num(const json_t *v, double *d, bool *is_int, long long *i)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        *i = json_integer_value(v);
        *d = (double)*i;
        *is_int = true;
        return true;
    case JSON_REAL:
        *d = json_real_value(v);
        *is_int = false;
        return true;
    case JSON_STRING:
        return ola_parse_num(json_string_value(v), d, is_int, i);
    default:
        return false;
    }
}

static bool ola_str_eq(const struct ola_expr *x, const struct ola_xval *o, const char *s,
                       size_t len)
{
    if (len != o->len)
        return false;
    return x->icase ? strcasecmp(s, o->s) == 0 : memcmp(s, o->s, len) == 0;
}

static bool ola_val_eq(const struct ola_expr *x, const struct ola_xval *o,
                       const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return ola_str_eq(x, o, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        if (o->is_int)
            return o->i == json_integer_value(v);
        return o->is_num && o->num == (double)json_integer_value(v);
    case JSON_REAL:
        return o->is_num && o->num == json_real_value(v);
    case JSON_TRUE:
        return strcmp(o->s, "true") == 0;
    case JSON_FALSE:
        return strcmp(o->s, "false") == 0;
    default:
        return false;
    }
}

static int ola_ll_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

static bool ola_match_scalar(const struct ola_expr *x, const json_t *v)
{
    char tmp[64];
    const char *s;
    size_t i, len;
    double d;
    bool is_int;
    long long iv;

    switch (x->op) {
    case OLA_X_EQ:
        return ola_val_eq(x, &x->vals[0], v);
    case OLA_X_IN:
        if (json_is_integer(v) && x->n_ints > 0) {
            iv = json_integer_value(v);
            if (bsearch(&iv, x->ints, x->n_ints, sizeof(*x->ints), ola_ll_cmp) != NULL)
                return true;
            if (x->n_ints == x->n_vals)
                return false; /* every operand was an integer */
        }
        for (i = 0; i < x->n_vals; i++)
            if (ola_val_eq(x, &x->vals[i], v))
                return true;
        return false;
    case OLA_X_PREFIX:
    case OLA_X_REGEX:
        if (json_is_string(v)) {
            s = json_string_value(v);
            len = json_string_length(v);
        } else {
            int w = ola_expr_text(v, tmp, sizeof(tmp));

            if (w < 0)
                return false;
            s = tmp;
            len = (size_t)w;
        }
        if (x->op == OLA_X_REGEX)
            return regexec(&x->re, s, 0, NULL, 0) == 0;
        for (i = 0; i < x->n_vals; i++) {
            const struct ola_xval *o = &x->vals[i];

            if (len >= o->len && (x->icase ? strncasecmp(s, o->s, o->len) == 0
                                           : memcmp(s, o->s, o->len) == 0))
                return true;
        }
        return false;
    case OLA_X_GT:
    case OLA_X_GTE:
    case OLA_X_LT:
    case OLA_X_LTE: {
        const struct ola_xval *o = &x->vals[0];
        int c;

        if (!ola_json_num(v, &d, &is_int, &iv))
            return false;
        if (is_int && o->is_int)
            c = (iv > o->i) - (iv < o->i);
        else
            c = (d > o->num) - (d < o->num);
        if (x->op == OLA_X_GT)
            return c > 0;
        if (x->op == OLA_X_GTE)
            return c >= 0;
        if (x->op == OLA_X_LT)
            return c < 0;
        return c <= 0;
    }
    default:
        return false;
    }
}

/* A condition on an array holds when it holds for one of its items. */
static bool ola_match_value(const struct ola_expr *x, const json_t *v)
{
    size_t i;
    json_t *item;

    if (v == NULL || json_is_null(v))
        return false;
    if (!json_is_array(v))
        return ola_match_scalar(x, v);
    json_array_foreach(v, i, item)
    {
        if (ola_match_scalar(x, item))
            return true;
    }
    return false;
}

static bool ola_has_string(const json_t *arr, const char *s, size_t len)
{
    size_t i;
    json_t *item;

    json_array_foreach(arr, i, item)
    {
        if (json_is_string(item) && json_string_length(item) == len &&
            memcmp(json_string_value(item), s, len) == 0)
            return true;
    }
    return false;
}

/* Tags or categories: any of x->vals in the array at ola_key (or ev.olagent). */
static bool ola_match_names(const struct ola_expr *x, const struct ola_event *e,
                            const char *k1, const char *k2)
{
    json_t *arr = json_object_get(e->ola, k1);
    size_t i;

    if (k2 != NULL)
        arr = json_object_get(arr, k2);
    if (arr == NULL) {
        arr = json_object_get(json_object_get(e->ev, "olagent"), k1);
        if (k2 != NULL)
            arr = json_object_get(arr, k2);
    }
    if (!json_is_array(arr))
        return false;
    for (i = 0; i < x->n_vals; i++)
        if (ola_has_string(arr, x->vals[i].s, x->vals[i].len))
            return true;
    return false;
}

static bool ola_sev_cmp(enum ola_xop op, int a, int b)
{
    switch (op) {
    case OLA_X_GT:
        return a > b;
    case OLA_X_GTE:
        return a >= b;
    case OLA_X_LT:
        return a < b;
    case OLA_X_LTE:
        return a <= b;
    case OLA_X_EQ:
        return a == b;
    default: /* OLA_X_NOT: != */
        return a != b;
    }
}

bool ola_expr_eval(const struct ola_expr_env *env, const struct ola_expr *x,
                   struct ola_expr_ctx *ctx)
{
    size_t i;
    json_t *v;

    if (x == NULL)
        return true;
    switch (x->op) {
    case OLA_X_ALL:
        for (i = 0; i < x->n_kids; i++)
            if (!ola_expr_eval(env, x->kids[i], ctx))
                return false;
        return true;
    case OLA_X_ANY:
        for (i = 0; i < x->n_kids; i++)
            if (ola_expr_eval(env, x->kids[i], ctx))
                return true;
        return false;
    case OLA_X_NOT:
        return !ola_expr_eval(env, x->kids[0], ctx);
    case OLA_X_EXISTS:
        v = ola_expr_get(env, ctx, x->path);
        return v != NULL && !json_is_null(v);
    case OLA_X_MISSING:
        v = ola_expr_get(env, ctx, x->path);
        return v == NULL || json_is_null(v);
    case OLA_X_TAGS:
        return ola_match_names(x, ctx->e, "tags", NULL);
    case OLA_X_CATS:
        if (ctx->have_mask)
            return (ctx->cat_mask & x->mask) != 0;
        return ola_match_names(x, ctx->e, "event_type", "categories");
    case OLA_X_SEV:
        if (ctx->e->severity == OLA_SEVERITY_UNSET)
            return false;
        return ola_sev_cmp(x->sev_op, ctx->e->severity, x->sev);
    default:
        return ola_match_value(x, ola_expr_get(env, ctx, x->path));
    }
}

/* ---- compiling ----------------------------------------------------------- */

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
    struct ola_expr **v = realloc(x->kids, (x->n_kids + 1) * sizeof(*v));

    if (v == NULL) {
        ola_expr_destroy(kid);
        return ola_err_set(err, ENOMEM, "out of memory");
    }
    x->kids = v;
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
    {"equals", OLA_X_EQ},       {"in", OLA_X_IN},   {"prefix", OLA_X_PREFIX},
    {"regex", OLA_X_REGEX},     {"gt", OLA_X_GT},   {"gte", OLA_X_GTE},
    {"lt", OLA_X_LT},           {"lte", OLA_X_LTE}, {"exists", OLA_X_EXISTS},
    {"missing", OLA_X_MISSING},
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
        qsort(x->ints, x->n_ints, sizeof(*x->ints), ola_ll_cmp);
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
    qsort(x->ints, x->n_ints, sizeof(*x->ints), ola_ll_cmp);
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
    if (ola_cfg_type(n) == OLA_CFG_MAP) {
        struct ola_expr *kid = ola_x_compile(env, n, depth + 1, err);

        if (kid == NULL || ola_x_add_kid(x, kid, err) != 0)
            goto fail;
        return x;
    }
    if (ola_cfg_type(n) != OLA_CFG_SEQ || ola_cfg_len(n) == 0) {
        ola_cfg_errf(err, n, "%s: expected a list of expressions",
                     op == OLA_X_ALL ? "all" : "any");
        goto fail;
    }
    count = ola_cfg_len(n);
    for (i = 0; i < count; i++) {
        struct ola_expr *kid = ola_x_compile(env, ola_cfg_at(n, i), depth + 1, err);

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
