/*
 * tree.c - the config tree's accessors, its errors and its warnings.
 *
 * Everything here reads the tree config.c built: map lookups, lengths, keys
 * and their lines, scalars, paths; errors worded "file:line: what is wrong";
 * the per-document list of warnings that `olagent check` prints.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/core/buf.h"
#include "agent/core/log.h"
#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "config/config.h"
#include "config/config_priv.h"

/* The path for messages: "onelogin.page_size", or "top level". */
const char *ola_node_what(const struct ola_cfg *n)
{
    return n->path[0] != '\0' ? n->path : "top level";
}

const char *ola_type_name(const struct ola_cfg *n)
{
    switch (ola_cfg_type(n)) {
    case OLA_CFG_MAP:
        return "a map";
    case OLA_CFG_SEQ:
        return "a list";
    case OLA_CFG_SCALAR:
        return "a value";
    case OLA_CFG_NULL:
        break;
    }
    return "nothing";
}

/* ---- errors --------------------------------------------------------------- */

static int ola_errf_at(struct ola_err *err, const char *file, int line, const char *fmt,
                       va_list ap) __attribute__((format(printf, 4, 0)));

static int ola_errf_at(struct ola_err *err, const char *file, int line, const char *fmt,
                       va_list ap)
{
    char msg[OLA_ERR_MSG_MAX];
    int n;

    if (err == NULL)
        return -1;
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        msg[0] = '\0';
    else if ((size_t)n >= sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4);
    if (file == NULL)
        return ola_err_set(err, EINVAL, "%s", msg);
    return ola_err_set(err, EINVAL, "%s:%d: %s", file, line, msg);
}

int ola_errf_line(struct ola_err *err, const struct ola_cfg_store *st, int line,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

int ola_errf_line(struct ola_err *err, const struct ola_cfg_store *st, int line,
                  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ola_errf_at(err, st->name, line, fmt, ap);
    va_end(ap);
    return -1;
}

int ola_cfg_errf(struct ola_err *err, const struct ola_cfg *n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ola_errf_at(err, n ? n->store->name : NULL, n ? n->line : 0, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- warnings ------------------------------------------------------------- */

int ola_cfg_warn(const struct ola_cfg *n, const char *fmt, ...)
{
    struct ola_cfg_store *st;
    struct ola_buf b = OLA_BUF_INIT;
    char **v;
    va_list ap;
    int r;

    if (n == NULL)
        return -1;
    st = n->store;
    va_start(ap, fmt);
    r = ola_buf_printf(&b, "%s:%d: ", st->name, n->line) == 0
            ? ola_buf_vprintf(&b, fmt, ap)
            : -1;
    va_end(ap);
    v = r == 0 ? realloc(st->warnings, (st->n_warnings + 1) * sizeof(*v)) : NULL;
    if (v == NULL) {
        ola_buf_free(&b);
        return -1;
    }
    st->warnings = v;
    st->warnings[st->n_warnings++] = ola_buf_steal(&b, NULL);
    return 0;
}

size_t ola_cfg_warning_count(const struct ola_cfg_doc *doc)
{
    return doc != NULL ? doc->store->n_warnings : 0;
}

const char *ola_cfg_warning(const struct ola_cfg_doc *doc, size_t i)
{
    return doc != NULL && i < doc->store->n_warnings ? doc->store->warnings[i] : NULL;
}

void ola_cfg_log_warnings(const struct ola_cfg_doc *doc)
{
    size_t i;

    for (i = 0; i < ola_cfg_warning_count(doc); i++)
        ola_log_warn(OLA_CFG_COMP, "%s", ola_cfg_warning(doc, i));
}

/* ---- the tree ------------------------------------------------------------- */

const struct ola_cfg *ola_cfg_root(const struct ola_cfg_doc *doc)
{
    return doc ? doc->root : NULL;
}

enum ola_cfg_type ola_cfg_type(const struct ola_cfg *n)
{
    return n ? n->type : OLA_CFG_NULL;
}

int ola_cfg_line(const struct ola_cfg *n)
{
    return n ? n->line : 0;
}

const char *ola_cfg_file(const struct ola_cfg *n)
{
    return n ? n->store->name : NULL;
}

const char *ola_cfg_path(const struct ola_cfg *n)
{
    return n ? n->path : "";
}

const struct ola_cfg *ola_cfg_get(const struct ola_cfg *map, const char *key)
{
    size_t i;

    if (map == NULL || map->type != OLA_CFG_MAP || key == NULL)
        return NULL;
    for (i = 0; i < map->n; i++)
        if (strcmp(map->ents[i].key, key) == 0)
            return map->ents[i].val;
    return NULL;
}

size_t ola_cfg_len(const struct ola_cfg *n)
{
    if (n == NULL || (n->type != OLA_CFG_MAP && n->type != OLA_CFG_SEQ))
        return 0;
    return n->n;
}

const struct ola_cfg *ola_cfg_at(const struct ola_cfg *n, size_t i)
{
    if (i >= ola_cfg_len(n))
        return NULL;
    return n->ents[i].val;
}

const char *ola_cfg_key_at(const struct ola_cfg *map, size_t i)
{
    if (map == NULL || map->type != OLA_CFG_MAP || i >= map->n)
        return NULL;
    return map->ents[i].key;
}

int ola_cfg_key_line(const struct ola_cfg *map, size_t i)
{
    if (map == NULL || map->type != OLA_CFG_MAP || i >= map->n)
        return 0;
    return map->ents[i].key_line;
}

const char *ola_cfg_scalar(const struct ola_cfg *n)
{
    return n && n->type == OLA_CFG_SCALAR ? n->text : NULL;
}

bool ola_cfg_is_secret(const struct ola_cfg *n)
{
    return n != NULL && n->secret;
}
