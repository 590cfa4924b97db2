/*
 * options.c - the one walker over option tables (options.h).
 *
 * ola_opts_read checks a map's keys against a table (the allowed names are
 * the entries', plus key_file for a secret), then reads entry after entry
 * with the typed reader its type names, at the offset the entry gives, and
 * applies the table's flags and hooks. Nested maps recurse with their own
 * table into the same struct. The describing half turns an entry's default,
 * type and a struct's value back into the text a person writes in a config
 * file, for `olagent check` and `olagent config example`.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "agent/core/buf.h"
#include "agent/core/timeutil.h"
#include "config/config.h"
#include "config/config_priv.h"
#include "config/options.h"

#define OLA_OPTS_MAX 64 /* entries in one table (secrets count twice) */

const struct ola_opt *ola_opts_find(const struct ola_opt *tab, const char *name)
{
    for (; tab != NULL && tab->name != NULL; tab++)
        if (strcmp(tab->name, name) == 0)
            return tab;
    return NULL;
}

void ola_opts_defaults(const struct ola_opt *tab, void *obj)
{
    for (; tab != NULL && tab->name != NULL; tab++) {
        char *p = (char *)obj + tab->offset;

        if (tab->flags & OLA_OPT_MANUAL)
            continue;
        switch (tab->type) {
        case OLA_OPT_STR:
            *(const char **)(void *)p = tab->def_str;
            break;
        case OLA_OPT_INT:
            *(long long *)(void *)p = tab->def_int;
            break;
        case OLA_OPT_DOUBLE:
        case OLA_OPT_PERCENT:
            *(double *)(void *)p = tab->def_num;
            break;
        case OLA_OPT_BOOL:
            *(bool *)(void *)p = tab->def_int != 0;
            break;
        case OLA_OPT_DURATION:
            *(int64_t *)(void *)p = tab->def_int;
            break;
        case OLA_OPT_SIZE:
            *(uint64_t *)(void *)p = tab->def_size;
            break;
        case OLA_OPT_ENUM:
            *(int *)(void *)p = (int)tab->def_int;
            break;
        case OLA_OPT_MAP:
            ola_opts_defaults(tab->sub, obj);
            break;
        case OLA_OPT_SECRET:
        case OLA_OPT_OTHER:
            break;
        }
    }
}

int ola_opts_check(const struct ola_cfg *map, const struct ola_opt *tab,
                   struct ola_err *err)
{
    static const char *const none[] = {NULL};
    const char *allowed[OLA_OPTS_MAX + 1];
    char files[OLA_OPTS_MAX][64];
    size_t n = 0, nf = 0;

    for (; tab != NULL && tab->name != NULL; tab++) {
        if (n + 2 > OLA_OPTS_MAX)
            return ola_err_set(err, EINVAL, "option table too long at '%s'", tab->name);
        allowed[n++] = tab->name;
        if (tab->type == OLA_OPT_SECRET) {
            int w = snprintf(files[nf], sizeof(files[nf]), "%s_file", tab->name);

            if (w < 0 || (size_t)w >= sizeof(files[nf]))
                return ola_err_set(err, EINVAL, "secret key name too long: %s",
                                   tab->name);
            allowed[n++] = files[nf++];
        }
    }
    allowed[n] = NULL;
    return ola_cfg_check_keys(map, n > 0 ? allowed : none, err);
}

/* "path.name", or "name" at the top. */
static const char *ola_opt_where(const char *path, const char *name, char *buf,
                                 size_t size)
{
    int w = snprintf(buf, size, "%s%s%s", path, path[0] != '\0' ? "." : "", name);

    if (w < 0 || (size_t)w >= size)
        snprintf(buf, size, "%s", name);
    return buf;
}

static int ola_opt_size_str(uint64_t v, char *buf, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    int u = -1, w;

    while (u < 3 && v != 0 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    w = u < 0 ? snprintf(buf, size, "%" PRIu64, v)
              : snprintf(buf, size, "%" PRIu64 "%s", v, units[u]);
    return w > 0 && (size_t)w < size ? 0 : -1;
}

/* The nested map of a MAP entry: NULL when absent; an error when not a map. */
static int ola_opt_submap(const struct ola_cfg *map, const struct ola_opt *o,
                          const char *where, const struct ola_cfg **out,
                          struct ola_err *err)
{
    const struct ola_cfg *n = ola_cfg_get(map, o->name);
    const struct ola_opt *s;
    struct ola_buf names = OLA_BUF_INIT;

    *out = NULL;
    if (ola_cfg_type(n) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(n) == OLA_CFG_MAP) {
        *out = n;
        return 0;
    }
    for (s = o->sub; s != NULL && s->name != NULL; s++)
        if (ola_buf_printf(&names, "%s%s", s == o->sub ? "" : ", ", s->name) != 0)
            break;
    ola_cfg_errf(err, n, "%s: expected a map (%s)", where,
                 names.data != NULL ? names.data : "");
    ola_buf_free(&names);
    return -1;
}

static int ola_opt_read_one(const struct ola_cfg *map, const char *path,
                            const struct ola_opt *o, void *obj, void *ctx,
                            struct ola_err *err)
{
    char *p = (char *)obj + o->offset;
    char where[256], a[48], b[48];
    long long min = o->min, max = o->max;
    const struct ola_cfg *sub;
    int r = 0;

    ola_opt_where(path, o->name, where, sizeof(where));
    if (min == 0 && max == 0) {
        min = o->type == OLA_OPT_INT ? LLONG_MIN : 0;
        max = LLONG_MAX;
    }
    if (!(o->flags & OLA_OPT_MANUAL)) {
        switch (o->type) {
        case OLA_OPT_STR:
            r = ola_cfg_str(map, o->name, o->def_str, (const char **)(void *)p, err);
            break;
        case OLA_OPT_SECRET:
            r = ola_cfg_secret(map, o->name, (const char **)(void *)p, err);
            break;
        case OLA_OPT_INT:
            r = ola_cfg_int(map, o->name, o->def_int, min, max, (long long *)(void *)p,
                            err);
            break;
        case OLA_OPT_DOUBLE:
            r = ola_cfg_double(map, o->name, o->def_num, (double *)(void *)p, err);
            break;
        case OLA_OPT_BOOL:
            r = ola_cfg_bool(map, o->name, o->def_int != 0, (bool *)(void *)p, err);
            break;
        case OLA_OPT_DURATION:
            r = ola_cfg_duration(map, o->name, o->def_int, min, max, (int64_t *)(void *)p,
                                 err);
            break;
        case OLA_OPT_SIZE:
            r = ola_cfg_size(map, o->name, o->def_size, (uint64_t *)(void *)p, err);
            if (r == 0 && o->size_max != 0 &&
                (*(uint64_t *)(void *)p < o->size_min ||
                 *(uint64_t *)(void *)p > o->size_max)) {
                if (ola_opt_size_str(o->size_min, a, sizeof(a)) != 0 ||
                    ola_opt_size_str(o->size_max, b, sizeof(b)) != 0)
                    a[0] = b[0] = '\0';
                return ola_cfg_errf(err, ola_cfg_get(map, o->name), "%s: %s .. %s", where,
                                    a, b);
            }
            break;
        case OLA_OPT_PERCENT:
            r = ola_cfg_percent(map, o->name, o->def_num, (double *)(void *)p, err);
            break;
        case OLA_OPT_ENUM:
            r = ola_cfg_enum(map, o->name, o->names, (int)o->def_int, (int *)(void *)p,
                             err);
            break;
        case OLA_OPT_MAP:
            if (ola_opt_submap(map, o, where, &sub, err) != 0)
                return -1;
            r = ola_opts_read(sub, where, o->sub, obj, ctx, err);
            break;
        case OLA_OPT_OTHER:
            break;
        }
        if (r != 0)
            return -1;
        if ((o->type == OLA_OPT_STR || o->type == OLA_OPT_SECRET)) {
            const char *v = *(const char **)(void *)p;

            if (v == NULL && (o->flags & OLA_OPT_REQUIRED)) {
                if (o->type == OLA_OPT_SECRET)
                    return ola_cfg_errf(err, map, "%s: %s or %s_file is required",
                                        path[0] != '\0' ? path : "top level", o->name,
                                        o->name);
                return ola_cfg_errf(err, map, "%s is required", where);
            }
            if (v != NULL && v[0] == '\0' && (o->flags & OLA_OPT_NONEMPTY))
                return ola_cfg_errf(err, ola_cfg_get(map, o->name),
                                    "%s: must not be empty", where);
        }
    }
    if (o->hook != NULL)
        return o->hook(map, o, obj, ctx, err);
    return 0;
}

int ola_opts_read_key(const struct ola_cfg *map, const char *path,
                      const struct ola_opt *tab, const char *name, void *obj, void *ctx,
                      struct ola_err *err)
{
    const struct ola_opt *o = ola_opts_find(tab, name);

    if (o == NULL)
        return ola_err_set(err, EINVAL, "no option '%s' in the table", name);
    if (ola_cfg_type(map) == OLA_CFG_NULL)
        map = NULL;
    return ola_opt_read_one(map, map != NULL ? ola_cfg_path(map) : path, o, obj, ctx,
                            err);
}

int ola_opts_read(const struct ola_cfg *map, const char *path, const struct ola_opt *tab,
                  void *obj, void *ctx, struct ola_err *err)
{
    if (ola_cfg_type(map) == OLA_CFG_NULL)
        map = NULL;
    if (map != NULL)
        path = ola_cfg_path(map);
    if (ola_opts_check(map, tab, err) != 0)
        return -1;
    for (; tab->name != NULL; tab++)
        if (ola_opt_read_one(map, path, tab, obj, ctx, err) != 0)
            return -1;
    return 0;
}

/* ---- describing ------------------------------------------------------------ */

static const char *ola_opt_dur(long long ms, char *buf, size_t size)
{
    if (ola_duration_format((int64_t)ms, buf, size) != 0)
        snprintf(buf, size, "%lldms", ms);
    return buf;
}

const char *ola_opt_type_text(const struct ola_opt *o, char *buf, size_t size)
{
    struct ola_buf b = OLA_BUF_INIT;
    char x[48], y[48];
    size_t i;

    switch (o->type) {
    case OLA_OPT_STR:
        return "string";
    case OLA_OPT_SECRET:
        return "secret (or a _file)";
    case OLA_OPT_INT:
        if (o->min == 0 && o->max == 0)
            return "integer";
        snprintf(buf, size, "integer %lld..%lld", o->min, o->max);
        return buf;
    case OLA_OPT_DOUBLE:
        return "number";
    case OLA_OPT_BOOL:
        return "boolean";
    case OLA_OPT_DURATION:
        if (o->max == LLONG_MAX || o->max == INT64_MAX)
            snprintf(buf, size, "duration, at least %s",
                     ola_opt_dur(o->min, x, sizeof(x)));
        else
            snprintf(buf, size, "duration %s..%s", ola_opt_dur(o->min, x, sizeof(x)),
                     ola_opt_dur(o->max, y, sizeof(y)));
        return buf;
    case OLA_OPT_SIZE:
        if (o->size_max == 0 || ola_opt_size_str(o->size_min, x, sizeof(x)) != 0 ||
            ola_opt_size_str(o->size_max, y, sizeof(y)) != 0)
            return "size";
        snprintf(buf, size, "size %s..%s", x, y);
        return buf;
    case OLA_OPT_PERCENT:
        return "percentage";
    case OLA_OPT_ENUM:
        for (i = 0; o->names[i] != NULL; i++)
            if (ola_buf_printf(&b, "%s%s", i ? ", " : "one of ", o->names[i]) != 0)
                break;
        snprintf(buf, size, "%s", b.data != NULL ? b.data : "name");
        ola_buf_free(&b);
        return buf;
    case OLA_OPT_MAP:
        return "map";
    case OLA_OPT_OTHER:
        break;
    }
    return "value";
}

const char *ola_opt_default_text(const struct ola_opt *o, char *buf, size_t size)
{
    if (o->flags & (OLA_OPT_MANUAL | OLA_OPT_REQUIRED))
        return NULL;
    switch (o->type) {
    case OLA_OPT_STR:
        if (o->def_str == NULL)
            return NULL;
        snprintf(buf, size, "%s", o->def_str);
        return buf;
    case OLA_OPT_INT:
        snprintf(buf, size, "%lld", o->def_int);
        return buf;
    case OLA_OPT_DOUBLE:
        snprintf(buf, size, "%g", o->def_num);
        return buf;
    case OLA_OPT_BOOL:
        return o->def_int ? "true" : "false";
    case OLA_OPT_DURATION:
        return ola_opt_dur(o->def_int, buf, size);
    case OLA_OPT_SIZE:
        return ola_opt_size_str(o->def_size, buf, size) == 0 ? buf : NULL;
    case OLA_OPT_PERCENT:
        snprintf(buf, size, "%g%%", o->def_num * 100.0);
        return buf;
    case OLA_OPT_ENUM:
        return o->names[o->def_int];
    case OLA_OPT_SECRET:
    case OLA_OPT_MAP:
    case OLA_OPT_OTHER:
        break;
    }
    return NULL;
}

const char *ola_opt_value_text(const struct ola_opt *o, const void *obj, char *buf,
                               size_t size)
{
    const char *p = (const char *)obj + o->offset;
    const char *s;
    int e;

    switch (o->type) {
    case OLA_OPT_STR:
        s = *(const char *const *)(const void *)p;
        if (s == NULL)
            return NULL;
        snprintf(buf, size, "%s", s);
        return buf;
    case OLA_OPT_SECRET:
        return *(const char *const *)(const void *)p != NULL ? "****" : NULL;
    case OLA_OPT_INT:
        snprintf(buf, size, "%lld", *(const long long *)(const void *)p);
        return buf;
    case OLA_OPT_DOUBLE:
        snprintf(buf, size, "%g", *(const double *)(const void *)p);
        return buf;
    case OLA_OPT_BOOL:
        return *(const bool *)(const void *)p ? "true" : "false";
    case OLA_OPT_DURATION:
        return ola_opt_dur(*(const int64_t *)(const void *)p, buf, size);
    case OLA_OPT_SIZE:
        return ola_opt_size_str(*(const uint64_t *)(const void *)p, buf, size) == 0
                   ? buf
                   : NULL;
    case OLA_OPT_PERCENT:
        snprintf(buf, size, "%g%%", *(const double *)(const void *)p * 100.0);
        return buf;
    case OLA_OPT_ENUM:
        e = *(const int *)(const void *)p;
        return e >= 0 ? o->names[e] : NULL;
    case OLA_OPT_MAP:
    case OLA_OPT_OTHER:
        break;
    }
    return NULL;
}

/* v as a YAML scalar that reads back as v: quoted when plain text would not ("{id}"). */
static void ola_opt_print_scalar(const char *v, FILE *out)
{
    if (v[0] != '\0' && strchr("{}[]&*!|>'\"%@`#,", v[0]) == NULL &&
        strstr(v, ": ") == NULL && strstr(v, " #") == NULL) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (; *v != '\0'; v++) {
        if (*v == '"' || *v == '\\')
            fputc('\\', out);
        fputc(*v, out);
    }
    fputc('"', out);
}

void ola_opts_print_example(const struct ola_opt *tab, int indent, FILE *out)
{
    char buf[128];

    for (; tab != NULL && tab->name != NULL; tab++) {
        const char *def = ola_opt_default_text(tab, buf, sizeof(buf));

        if (tab->help != NULL)
            fprintf(out, "%*s# %s\n", indent, "", tab->help);
        if (tab->type == OLA_OPT_MAP && tab->sub != NULL) {
            fprintf(out, "%*s%s:\n", indent, "", tab->name);
            ola_opts_print_example(tab->sub, indent + 2, out);
        } else if (def != NULL) {
            fprintf(out, "%*s%s: ", indent, "", tab->name);
            ola_opt_print_scalar(def, out);
            fputc('\n', out);
        } else {
            fprintf(out, "%*s# %s: (%s)\n", indent, "", tab->name,
                    ola_opt_type_text(tab, buf, sizeof(buf)));
        }
    }
}

void ola_opts_print_effective(const struct ola_cfg *map, const char *path,
                              const struct ola_opt *tab, const void *obj, FILE *out)
{
    char where[256], val[512], def[128], masked[512];

    if (ola_cfg_type(map) != OLA_CFG_MAP)
        map = NULL;
    for (; tab != NULL && tab->name != NULL; tab++) {
        const struct ola_cfg *n = ola_cfg_get(map, tab->name);
        const char *v, *d;

        ola_opt_where(path, tab->name, where, sizeof(where));
        if (tab->type == OLA_OPT_MAP && !(tab->flags & OLA_OPT_MANUAL)) {
            ola_opts_print_effective(n, where, tab->sub, obj, out);
            continue;
        }
        if (tab->type == OLA_OPT_OTHER && !(tab->flags & OLA_OPT_MANUAL))
            continue;
        if (n == NULL && tab->type == OLA_OPT_SECRET) {
            char fkey[96];

            snprintf(fkey, sizeof(fkey), "%s_file", tab->name);
            n = ola_cfg_get(map, fkey);
        }
        if (tab->flags & OLA_OPT_MANUAL) {
            /* read by a hook or the caller: what the file says, when it says it */
            if (ola_cfg_type(n) != OLA_CFG_SCALAR)
                continue;
            v = ola_cfg_is_secret(n) ? "****" : ola_cfg_scalar(n);
        } else {
            v = ola_opt_value_text(tab, obj, val, sizeof(val));
        }
        if (v != NULL && (ola_cfg_is_secret(n) || ola_key_looks_secret(tab->name)))
            v = "****";
        else if (v != NULL && ola_mask_userinfo(v, masked, sizeof(masked)))
            v = masked;
        if (n != NULL && ola_cfg_type(n) != OLA_CFG_NULL) {
            fprintf(out, "%s: %s  # %s:%d\n", where, v != NULL ? v : "(not set)",
                    ola_cfg_file(n), ola_cfg_line(n));
            continue;
        }
        d = ola_opt_default_text(tab, def, sizeof(def));
        if (v == NULL)
            fprintf(out, "%s: (not set)\n", where);
        else
            fprintf(out, "%s: %s  # %s\n", where, v, d != NULL ? "default" : "not set");
    }
}
