/*
 * expr.c - match expressions: the environment of paths, and evaluation.
 *
 * expr_compile.c turns YAML into a tree of nodes (expr_priv.h); this file
 * evaluates it against one event at a time. Paths are interned in the
 * environment; lookups in the event (immutable while rules run) are cached
 * per event, lookups in the olagent object (which rules change) are not.
 * Integer `in` lists are searched by bsearch, categories tested as bits.
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/core/vec.h"
#include "filters/rules/expr.h"
#include "filters/rules/expr_priv.h"

struct ola_xpath {
    char *text;
    bool ola;     /* starts with "olagent." */
    char **seg;   /* segments after "olagent." when ola */
    size_t n_seg; /* >= 1, except for a bare "olagent" (0) */
    char **full;  /* all segments, for the e->ev fallback */
    size_t n_full;
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
    for (i = 0; i < env->n_lists; i++)
        ola_list_destroy(env->lists[i]);
    free(env->lists);
    free(env);
}

int ola_expr_env_add_list(struct ola_expr_env *env, struct ola_list *l,
                          const struct ola_cfg *where, struct ola_err *err)
{
    size_t i;

    for (i = 0; i < env->n_lists; i++)
        if (strcmp(ola_list_name(env->lists[i]), ola_list_name(l)) == 0) {
            ola_cfg_errf(err, where, "lists: '%s' declared twice (first at %s)",
                         ola_list_name(l), ola_list_where(env->lists[i]));
            ola_list_destroy(l);
            return -1;
        }
    if (OLA_VEC_GROW(env->lists, env->cap_lists, env->n_lists + 1) != 0) {
        ola_list_destroy(l);
        return ola_err_set(err, ENOMEM, "out of memory");
    }
    env->lists[env->n_lists++] = l;
    return 0;
}

bool ola_expr_path_ok(const char *dotted)
{
    const char *s;

    if (dotted == NULL || *dotted == '\0' || *dotted == '.')
        return false;
    for (s = dotted; *s; s++) {
        if (strchr(" \t\r\n[](){}<>=!*,\"'|&", *s) != NULL)
            return false;
        if (*s == '.' && (s[1] == '.' || s[1] == '\0'))
            return false;
    }
    return dotted[0] != '$';
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
    if (!ola_expr_path_ok(dotted))
        return -1;
    if (OLA_VEC_GROW_FROM(env->paths, env->cap_paths, env->n_paths + 1, 16) != 0)
        return -1;
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

bool ola_expr_parse_num(const char *s, double *d, bool *is_int, long long *i)
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
        return ola_expr_parse_num(json_string_value(v), d, is_int, i);
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

int ola_expr_ll_cmp(const void *a, const void *b)
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
            if (bsearch(&iv, x->ints, x->n_ints, sizeof(*x->ints), ola_expr_ll_cmp) !=
                NULL)
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

/*
 * equals_field / not_equals_field: 1 equal, 0 different, -1 not comparable
 * (either side missing, null, an array or an object). Two numbers (or
 * numeric strings) compare by value, anything else by its text.
 */
static int ola_fields_equal(const struct ola_expr *x, const json_t *a, const json_t *b)
{
    char ta[OLA_LIST_ENTRY_MAX], tb[OLA_LIST_ENTRY_MAX];
    double da, db;
    bool ia, ib;
    long long la, lb;
    int wa, wb;

    if (a == NULL || b == NULL || json_is_null(a) || json_is_null(b) ||
        json_is_array(a) || json_is_array(b) || json_is_object(a) || json_is_object(b))
        return -1;
    if (ola_json_num(a, &da, &ia, &la) && ola_json_num(b, &db, &ib, &lb))
        return ia && ib ? la == lb : da == db;
    if (json_is_string(a) && json_is_string(b) && !x->icase)
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b),
                      json_string_length(a)) == 0;
    wa = ola_expr_text(a, ta, sizeof(ta));
    wb = ola_expr_text(b, tb, sizeof(tb));
    if (wa < 0 || wb < 0)
        return -1;
    return wa == wb &&
           (x->icase ? strcasecmp(ta, tb) == 0 : memcmp(ta, tb, (size_t)wa) == 0);
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
    case OLA_X_FEQ:
    case OLA_X_FNE: {
        int eq = ola_fields_equal(x, ola_expr_get(env, ctx, x->path),
                                  ola_expr_get(env, ctx, x->path2));

        return eq >= 0 && (x->op == OLA_X_FEQ) == (eq == 1);
    }
    case OLA_X_INLIST: {
        json_t *item;

        v = ola_expr_get(env, ctx, x->path);
        if (!json_is_array(v))
            return ola_list_has(x->list, v);
        json_array_foreach(v, i, item)
        {
            if (ola_list_has(x->list, item))
                return true;
        }
        return false;
    }
    default:
        return ola_match_value(x, ola_expr_get(env, ctx, x->path));
    }
}
