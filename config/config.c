/*
 * config.c - YAML into a line-aware tree, typed readers, masked dump.
 *
 * libyaml's event parser feeds a small recursive builder: every node keeps its
 * line, its dotted path ("onelogin.poll_interval", "outputs[1].type") and,
 * for scalars, the text after ${VAR} / ${VAR:-default} / $$ substitution.
 * Anchors, aliases, merge keys, duplicate keys and second documents are
 * refused with "file:line: ..." errors. The typed readers (ola_cfg_int, ...)
 * turn scalars into values and word their errors the same way. Strings made
 * later (a *_file secret) are kept in a per-document store so that what the
 * readers hand out stays valid until ola_cfg_doc_destroy().
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

#include <yaml.h>

#include "agent/core/buf.h"
#include "agent/core/log.h"
#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "config/config.h"
#include "config/config_priv.h"

#define OLA_CFG_MAX_DEPTH  64
#define OLA_CFG_MAX_FILE   (16u << 20) /* a config file larger than this is a mistake */
#define OLA_CFG_MAX_SECRET (64u << 10) /* a *_file secret */
#define OLA_CFG_COMP       "config"

/* One extra allocation owned by a document. */
struct ola_cfg_blob {
    struct ola_cfg_blob *next;
    size_t size;
    max_align_t data[];
};

/* What every node of a document shares: the name and the extra allocations. */
struct ola_cfg_store {
    char *name;
    struct ola_cfg_blob *blobs;
    char **warnings; /* "file:line: what", in the order found (ola_cfg_warn) */
    size_t n_warnings;
};

struct ola_cfg_entry {
    char *key; /* maps only; NULL in sequences */
    int key_line;
    struct ola_cfg *val;
};

struct ola_cfg {
    enum ola_cfg_type type;
    int line;
    bool secret; /* text came from ${VAR} */
    bool quoted; /* scalar was written in quotes */
    char *text;  /* scalars: after substitution */
    char *path;  /* "onelogin.poll_interval", "outputs[0]"; "" for the root */
    struct ola_cfg_store *store;
    struct ola_cfg_entry *ents; /* maps and sequences */
    size_t n, cap;
};

struct ola_cfg_doc {
    struct ola_cfg *root;
    struct ola_cfg_store *store;
};

struct ola_parse {
    yaml_parser_t yp;
    struct ola_cfg_store *store;
    const char *text;
    size_t len;
    struct ola_err *err;
};

/* ---- the document store ------------------------------------------------- */

static void *ola_store_alloc(struct ola_cfg_store *st, size_t size)
{
    struct ola_cfg_blob *b;

    if (size > SIZE_MAX - sizeof(*b))
        return NULL;
    b = calloc(1, sizeof(*b) + size);
    if (b == NULL)
        return NULL;
    b->next = st->blobs;
    b->size = size;
    st->blobs = b;
    return b->data;
}

static char *ola_store_strndup(struct ola_cfg_store *st, const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX)
        return NULL;
    p = ola_store_alloc(st, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *ola_cfg_doc_alloc(const struct ola_cfg_doc *doc, size_t size)
{
    return ola_store_alloc(doc->store, size);
}

char *ola_cfg_doc_strndup(const struct ola_cfg_doc *doc, const char *s, size_t n)
{
    return ola_store_strndup(doc->store, s, n);
}

char *ola_cfg_node_strndup(const struct ola_cfg *n, const char *s, size_t len)
{
    return ola_store_strndup(n->store, s, len);
}

static void ola_store_free(struct ola_cfg_store *st)
{
    struct ola_cfg_blob *b, *next;
    size_t i;

    if (st == NULL)
        return;
    for (b = st->blobs; b != NULL; b = next) {
        next = b->next;
        /* a *_file secret's content lives in a blob: wipe every one */
        ola_secret_wipe(b->data, b->size);
        free(b);
    }
    for (i = 0; i < st->n_warnings; i++)
        free(st->warnings[i]);
    free(st->warnings);
    free(st->name);
    free(st);
}

/* ---- nodes ---------------------------------------------------------------- */

static void ola_node_free(struct ola_cfg *n)
{
    size_t i;

    if (n == NULL)
        return;
    for (i = 0; i < n->n; i++) {
        free(n->ents[i].key);
        ola_node_free(n->ents[i].val);
    }
    free(n->ents);
    if (n->secret)
        ola_secret_free(n->text);
    else
        free(n->text);
    free(n->path);
    free(n);
}

static struct ola_cfg *ola_node_new(struct ola_cfg_store *st, enum ola_cfg_type type,
                                    int line, const char *path)
{
    struct ola_cfg *n = calloc(1, sizeof(*n));

    if (n == NULL)
        return NULL;
    n->path = strdup(path);
    if (n->path == NULL) {
        free(n);
        return NULL;
    }
    n->type = type;
    n->line = line;
    n->store = st;
    return n;
}

static int ola_node_push(struct ola_cfg *n, char *key, int key_line, struct ola_cfg *val)
{
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 8;
        struct ola_cfg_entry *e = realloc(n->ents, cap * sizeof(*e));

        if (e == NULL)
            return -1;
        n->ents = e;
        n->cap = cap;
    }
    n->ents[n->n].key = key;
    n->ents[n->n].key_line = key_line;
    n->ents[n->n].val = val;
    n->n++;
    return 0;
}

/* "parent.key", or "key" at the top. Returns a new string or NULL. */
static char *ola_path_key(const char *parent, const char *key)
{
    struct ola_buf b = OLA_BUF_INIT;

    if (parent[0] != '\0' &&
        (ola_buf_puts(&b, parent) != 0 || ola_buf_putc(&b, '.') != 0))
        goto fail;
    if (ola_buf_puts(&b, key) != 0)
        goto fail;
    return ola_buf_steal(&b, NULL);
fail:
    ola_buf_free(&b);
    return NULL;
}

static char *ola_path_index(const char *parent, size_t i)
{
    struct ola_buf b = OLA_BUF_INIT;

    if (ola_buf_printf(&b, "%s[%zu]", parent, i) != 0) {
        ola_buf_free(&b);
        return NULL;
    }
    return ola_buf_steal(&b, NULL);
}

/* The path for messages: "onelogin.page_size", or "top level". */
static const char *ola_node_what(const struct ola_cfg *n)
{
    return n->path[0] != '\0' ? n->path : "top level";
}

static const char *ola_type_name(const struct ola_cfg *n)
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

static int ola_errf_line(struct ola_err *err, const struct ola_cfg_store *st, int line,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int ola_errf_line(struct ola_err *err, const struct ola_cfg_store *st, int line,
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

/* ---- ${VAR} substitution -------------------------------------------------- */

static bool ola_var_start(char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool ola_var_char(char c)
{
    return ola_var_start(c) || (c >= '0' && c <= '9');
}

/*
 * Replaces ${VAR}, ${VAR:-default} and $$ in s[0..n). *out: new string (caller
 * frees). *secret is set when a ${...} was replaced.
 */
static int ola_subst(struct ola_parse *p, const char *s, size_t n, int line,
                     const char *path, char **out, bool *secret)
{
    struct ola_buf b = OLA_BUF_INIT;
    const char *what = path[0] != '\0' ? path : "top level";
    size_t i;

    *out = NULL;
    *secret = false;
    for (i = 0; i < n; i++) {
        const char *close, *name, *val, *def = NULL;
        size_t name_len, def_len = 0;
        char var[256];

        if (s[i] != '$' || i + 1 >= n || (s[i + 1] != '$' && s[i + 1] != '{')) {
            if (ola_buf_putc(&b, s[i]) != 0)
                goto nomem;
            continue;
        }
        if (s[i + 1] == '$') {
            if (ola_buf_putc(&b, '$') != 0)
                goto nomem;
            i++;
            continue;
        }
        close = memchr(s + i + 2, '}', n - i - 2);
        if (close == NULL) {
            ola_errf_line(p->err, p->store, line,
                          "%s: unterminated '${' (write $$ for a $)", what);
            goto fail;
        }
        name = s + i + 2;
        for (name_len = 0; name + name_len < close && ola_var_char(name[name_len]);
             name_len++)
            ;
        if (name_len == 0 || !ola_var_start(name[0]) ||
            (name + name_len < close &&
             (close - (name + name_len) < 2 || name[name_len] != ':' ||
              name[name_len + 1] != '-'))) {
            ola_errf_line(p->err, p->store, line, "%s: bad variable reference '${%.*s}'",
                          what, (int)(close - name), name);
            goto fail;
        }
        if (name + name_len < close) {
            def = name + name_len + 2;
            def_len = (size_t)(close - def);
        }
        if (name_len >= sizeof(var)) {
            ola_errf_line(p->err, p->store, line, "%s: variable name too long", what);
            goto fail;
        }
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        val = getenv(var);
        if (def != NULL && (val == NULL || val[0] == '\0')) {
            if (ola_buf_append(&b, def, def_len) != 0)
                goto nomem;
        } else if (val == NULL) {
            ola_errf_line(p->err, p->store, line,
                          "%s: environment variable %s is not set", what, var);
            goto fail;
        } else if (ola_buf_puts(&b, val) != 0) {
            goto nomem;
        }
        *secret = true;
        i = (size_t)(close - s);
    }
    if (b.data == NULL) {
        if (ola_buf_reserve(&b, 1) != 0)
            goto nomem;
        b.data[0] = '\0';
    }
    *out = ola_buf_steal(&b, NULL);
    return 0;
nomem:
    ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
fail:
    ola_buf_free(&b);
    return -1;
}

/* ---- the builder ----------------------------------------------------------- */

static int ola_parse_syntax(struct ola_parse *p)
{
    const yaml_parser_t *yp = &p->yp;
    size_t line = yp->problem_mark.line + 1, i;

    if (yp->error == YAML_MEMORY_ERROR)
        return ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
    if (yp->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        line = 1;
        for (i = 0; i < yp->problem_offset && i < p->len; i++)
            if (p->text[i] == '\n')
                line++;
    }
    if (yp->context != NULL)
        return ola_err_set(p->err, EINVAL, "%s:%zu: YAML syntax error: %s %s (line %zu)",
                           p->store->name, line, yp->problem ? yp->problem : "error",
                           yp->context, yp->context_mark.line + 1);
    return ola_err_set(p->err, EINVAL, "%s:%zu: YAML syntax error: %s", p->store->name,
                       line, yp->problem ? yp->problem : "error");
}

static int ola_parse_next(struct ola_parse *p, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&p->yp, ev))
        return ola_parse_syntax(p);
    return 0;
}

static int ola_event_line(const yaml_event_t *ev)
{
    return ev->start_mark.line >= INT_MAX ? INT_MAX : (int)ev->start_mark.line + 1;
}

static bool ola_is_null_word(const char *s, size_t n)
{
    static const char *const words[] = {"~", "null", "Null", "NULL", NULL};
    size_t i;

    if (n == 0)
        return true;
    for (i = 0; words[i] != NULL; i++)
        if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
            return true;
    return false;
}

static int ola_parse_node(struct ola_parse *p, const yaml_event_t *ev, const char *path,
                          int depth, struct ola_cfg **out);

static int ola_parse_scalar(struct ola_parse *p, const yaml_event_t *ev, const char *path,
                            struct ola_cfg **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    int line = ola_event_line(ev);
    struct ola_cfg *node;

    if (memchr(s, '\0', n) != NULL)
        return ola_errf_line(p->err, p->store, line, "%s: value contains a NUL byte",
                             path[0] ? path : "top level");
    node = ola_node_new(p->store,
                        plain && ola_is_null_word(s, n) ? OLA_CFG_NULL : OLA_CFG_SCALAR,
                        line, path);
    if (node == NULL)
        return ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
    node->quoted = !plain;
    if (node->type == OLA_CFG_SCALAR &&
        ola_subst(p, s, n, line, path, &node->text, &node->secret) != 0) {
        ola_node_free(node);
        return -1;
    }
    *out = node;
    return 0;
}

static int ola_parse_seq(struct ola_parse *p, const yaml_event_t *start, const char *path,
                         int depth, struct ola_cfg **out)
{
    struct ola_cfg *node =
        ola_node_new(p->store, OLA_CFG_SEQ, ola_event_line(start), path);
    yaml_event_t ev;
    bool have_ev = false;
    char *child_path = NULL;

    if (node == NULL)
        return ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
    for (;;) {
        struct ola_cfg *child = NULL;

        if (ola_parse_next(p, &ev) != 0)
            goto fail;
        have_ev = true;
        if (ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        child_path = ola_path_index(path, node->n);
        if (child_path == NULL) {
            ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
            goto fail;
        }
        if (ola_parse_node(p, &ev, child_path, depth + 1, &child) != 0)
            goto fail;
        if (ola_node_push(node, NULL, child->line, child) != 0) {
            ola_node_free(child);
            ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
            goto fail;
        }
        free(child_path);
        child_path = NULL;
        yaml_event_delete(&ev);
        have_ev = false;
    }
    yaml_event_delete(&ev);
    *out = node;
    return 0;
fail:
    if (have_ev)
        yaml_event_delete(&ev);
    free(child_path);
    ola_node_free(node);
    return -1;
}

static int ola_parse_map(struct ola_parse *p, const yaml_event_t *start, const char *path,
                         int depth, struct ola_cfg **out)
{
    struct ola_cfg *node =
        ola_node_new(p->store, OLA_CFG_MAP, ola_event_line(start), path);
    yaml_event_t ev;
    bool have_ev = false;
    char *key = NULL, *child_path = NULL;
    size_t i;

    if (node == NULL)
        return ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
    for (;;) {
        struct ola_cfg *child = NULL;
        int key_line;
        size_t klen;

        if (ola_parse_next(p, &ev) != 0)
            goto fail;
        have_ev = true;
        if (ev.type == YAML_MAPPING_END_EVENT)
            break;
        key_line = ola_event_line(&ev);
        if (ev.type == YAML_ALIAS_EVENT) {
            ola_errf_line(p->err, p->store, key_line,
                          "%s: aliases (*%s) are not supported", ola_node_what(node),
                          (const char *)ev.data.alias.anchor);
            goto fail;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            ola_errf_line(p->err, p->store, key_line,
                          "%s: a map key must be a plain string", ola_node_what(node));
            goto fail;
        }
        if (ev.data.scalar.anchor != NULL) {
            ola_errf_line(p->err, p->store, key_line,
                          "%s: anchors (&%s) are not supported", ola_node_what(node),
                          (const char *)ev.data.scalar.anchor);
            goto fail;
        }
        klen = ev.data.scalar.length;
        if (memchr(ev.data.scalar.value, '\0', klen) != NULL) {
            ola_errf_line(p->err, p->store, key_line, "%s: key contains a NUL byte",
                          ola_node_what(node));
            goto fail;
        }
        key = strndup((const char *)ev.data.scalar.value, klen);
        if (key == NULL)
            goto nomem;
        if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(key, "<<") == 0) {
            ola_errf_line(p->err, p->store, key_line,
                          "%s: merge keys (<<) are not supported", ola_node_what(node));
            goto fail;
        }
        for (i = 0; i < node->n; i++) {
            if (strcmp(node->ents[i].key, key) == 0) {
                ola_errf_line(p->err, p->store, key_line,
                              "duplicate key '%s%s%s' (first at line %d)", path,
                              path[0] ? "." : "", key, node->ents[i].key_line);
                goto fail;
            }
        }
        yaml_event_delete(&ev);
        have_ev = false;
        child_path = ola_path_key(path, key);
        if (child_path == NULL)
            goto nomem;
        if (ola_parse_next(p, &ev) != 0)
            goto fail;
        have_ev = true;
        if (ola_parse_node(p, &ev, child_path, depth + 1, &child) != 0)
            goto fail;
        /* A map or list under a key is "at" its key, where a reader looks for it. */
        if (child->type == OLA_CFG_MAP || child->type == OLA_CFG_SEQ)
            child->line = key_line;
        if (ola_node_push(node, key, key_line, child) != 0) {
            ola_node_free(child);
            goto nomem;
        }
        key = NULL;
        free(child_path);
        child_path = NULL;
        yaml_event_delete(&ev);
        have_ev = false;
    }
    yaml_event_delete(&ev);
    *out = node;
    return 0;
nomem:
    ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
fail:
    if (have_ev)
        yaml_event_delete(&ev);
    free(key);
    free(child_path);
    ola_node_free(node);
    return -1;
}

/* ev: the event that starts the node (borrowed; the caller deletes it). */
static int ola_parse_node(struct ola_parse *p, const yaml_event_t *ev, const char *path,
                          int depth, struct ola_cfg **out)
{
    int line = ola_event_line(ev);
    const char *what = path[0] != '\0' ? path : "top level";
    const yaml_char_t *anchor = NULL;

    if (depth > OLA_CFG_MAX_DEPTH)
        return ola_errf_line(p->err, p->store, line, "%s: nested deeper than %d levels",
                             what, OLA_CFG_MAX_DEPTH);
    if (ev->type == YAML_SCALAR_EVENT)
        anchor = ev->data.scalar.anchor;
    else if (ev->type == YAML_SEQUENCE_START_EVENT)
        anchor = ev->data.sequence_start.anchor;
    else if (ev->type == YAML_MAPPING_START_EVENT)
        anchor = ev->data.mapping_start.anchor;
    if (anchor != NULL)
        return ola_errf_line(p->err, p->store, line,
                             "%s: anchors (&%s) are not supported", what,
                             (const char *)anchor);
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ola_parse_scalar(p, ev, path, out);
    case YAML_SEQUENCE_START_EVENT:
        return ola_parse_seq(p, ev, path, depth, out);
    case YAML_MAPPING_START_EVENT:
        return ola_parse_map(p, ev, path, depth, out);
    case YAML_ALIAS_EVENT:
        return ola_errf_line(p->err, p->store, line,
                             "%s: aliases (*%s) are not supported", what,
                             (const char *)ev->data.alias.anchor);
    default:
        break;
    }
    return ola_errf_line(p->err, p->store, line, "%s: unexpected YAML event", what);
}

/* Parses the stream into *root: exactly one document (or none: a null root). */
static int ola_parse_stream(struct ola_parse *p, struct ola_cfg **root)
{
    yaml_event_t ev;
    bool have_ev = false;
    struct ola_cfg *node = NULL;

    if (ola_parse_next(p, &ev) != 0) /* STREAM-START */
        goto fail;
    yaml_event_delete(&ev);
    if (ola_parse_next(p, &ev) != 0)
        goto fail;
    have_ev = true;
    if (ev.type == YAML_STREAM_END_EVENT) {
        node = ola_node_new(p->store, OLA_CFG_NULL, 1, "");
        if (node == NULL)
            goto nomem;
        yaml_event_delete(&ev);
        *root = node;
        return 0;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    have_ev = false;
    if (ola_parse_next(p, &ev) != 0)
        goto fail;
    have_ev = true;
    if (ola_parse_node(p, &ev, "", 0, &node) != 0)
        goto fail;
    yaml_event_delete(&ev);
    have_ev = false;
    if (ola_parse_next(p, &ev) != 0) /* DOCUMENT-END */
        goto fail;
    yaml_event_delete(&ev);
    if (ola_parse_next(p, &ev) != 0)
        goto fail;
    have_ev = true;
    if (ev.type != YAML_STREAM_END_EVENT) {
        ola_errf_line(p->err, p->store, ola_event_line(&ev),
                      "a second YAML document: a config file holds exactly one");
        goto fail;
    }
    yaml_event_delete(&ev);
    *root = node;
    return 0;
nomem:
    ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
fail:
    if (have_ev)
        yaml_event_delete(&ev);
    ola_node_free(node);
    return -1;
}

int ola_cfg_load_string(const char *name, const char *text, size_t len,
                        struct ola_cfg_doc **out, struct ola_err *err)
{
    struct ola_parse p;
    struct ola_cfg_doc *doc = NULL;
    bool have_parser = false;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    p.err = err;
    p.text = text;
    p.len = len;
    doc = calloc(1, sizeof(*doc));
    if (doc == NULL)
        goto nomem;
    doc->store = calloc(1, sizeof(*doc->store));
    if (doc->store == NULL)
        goto nomem;
    doc->store->name = strdup(name);
    if (doc->store->name == NULL)
        goto nomem;
    p.store = doc->store;
    if (!yaml_parser_initialize(&p.yp))
        goto nomem;
    have_parser = true;
    yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
    if (ola_parse_stream(&p, &doc->root) != 0)
        goto fail;
    yaml_parser_delete(&p.yp);
    *out = doc;
    return 0;
nomem:
    ola_err_set(err, ENOMEM, "%s: out of memory", name);
fail:
    if (have_parser)
        yaml_parser_delete(&p.yp);
    ola_cfg_doc_destroy(doc);
    return -1;
}

/* Reads a whole file of at most max bytes. *data: new, NUL-terminated. errno on -1. */
static int ola_read_fd(int fd, size_t max, char **data, size_t *len)
{
    struct ola_buf b = OLA_BUF_INIT;

    for (;;) {
        ssize_t r;

        if (ola_buf_reserve(&b, 4096) != 0) {
            errno = ENOMEM;
            goto fail;
        }
        b.data[b.len] = '\0';
        r = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        b.len += (size_t)r;
        b.data[b.len] = '\0';
        if (b.len > max) {
            errno = EFBIG;
            goto fail;
        }
    }
    *len = b.len;
    *data = ola_buf_steal(&b, NULL);
    return 0;
fail:
    ola_buf_free(&b);
    return -1;
}

static bool ola_key_looks_secret(const char *key);
static const struct ola_cfg *ola_find_literal_secret(const struct ola_cfg *n, int *line);

int ola_cfg_load_file(const char *path, struct ola_cfg_doc **out, struct ola_err *err)
{
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    int fd, line = 0, rc;
    const struct ola_cfg *lit;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ola_err_set(err, errno, "%s: cannot read: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || ola_read_fd(fd, OLA_CFG_MAX_FILE, &data, &len) != 0) {
        int e = errno;

        close(fd);
        return ola_err_set(err, e, "%s: cannot read: %s", path, strerror(e));
    }
    close(fd);
    rc = ola_cfg_load_string(path, data, len, out, err);
    ola_secret_wipe(data, len); /* the text may hold literal secrets */
    free(data);
    if (rc != 0)
        return -1;
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        lit = ola_find_literal_secret((*out)->root, &line);
        if (lit != NULL)
            ola_log_warn(OLA_CFG_COMP,
                         "%s:%d: %s holds a literal secret and the file is readable by "
                         "group or others: use ${VAR} or a *_file key, or chmod 600 %s",
                         path, line, lit->path, path);
    }
    /* Whoever can write the file can point the agent (and its secret) elsewhere. */
    if ((st.st_mode & S_IWOTH) != 0)
        ola_log_warn(OLA_CFG_COMP,
                     "%s: the file is writable by others: anyone on this host can change "
                     "where the agent sends its credentials and events (chmod o-w %s)",
                     path, path);
    return 0;
}

void ola_cfg_doc_destroy(struct ola_cfg_doc *doc)
{
    if (doc == NULL)
        return;
    ola_node_free(doc->root);
    ola_store_free(doc->store);
    free(doc);
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

/* ---- typed readers --------------------------------------------------------- */

const char *ola_cfg_shown(const struct ola_cfg *n, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const char *t;
    size_t j = 0;

    if (n == NULL)
        return "(not set)";
    if (n->secret)
        return "(value from the environment)";
    if (size < 10)
        return "(not shown)";
    t = n->type == OLA_CFG_SCALAR ? n->text : "";
    buf[j++] = '\'';
    for (; *t != '\0' && j + 9 <= size; t++) { /* room for \xHH, "...", "'" and NUL */
        unsigned char c = (unsigned char)*t;

        if (c >= 0x20 && c != 0x7f) {
            buf[j++] = (char)c;
            continue;
        }
        buf[j++] = '\\'; /* a control character, as \xHH */
        buf[j++] = 'x';
        buf[j++] = hex[c >> 4];
        buf[j++] = hex[c & 15];
    }
    if (*t != '\0') {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j++] = '\'';
    buf[j] = '\0';
    return buf;
}

/* The readers' trace hook (tests only; see config.h). */
static ola_cfg_trace_fn *ola_trace_fn;
static void *ola_trace_arg;

void ola_cfg_set_trace(ola_cfg_trace_fn *fn, void *arg)
{
    ola_trace_fn = fn;
    ola_trace_arg = arg;
}

/* Tells the hook what a reader answered for key: n is the node read, NULL
 * when the default was used. */
static void ola_traced(const struct ola_cfg *map, const char *key,
                       const struct ola_cfg *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ola_traced(const struct ola_cfg *map, const char *key,
                       const struct ola_cfg *n, const char *fmt, ...)
{
    char value[256];
    va_list ap;

    if (ola_trace_fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n != NULL && n->secret)
        snprintf(value, sizeof(value), "(secret)");
    ola_trace_fn(ola_trace_arg, ola_cfg_path(map), key, n != NULL ? n->line : 0, value);
}

/*
 * Finds key in map. Returns 1 with *node set for a scalar, 0 when absent or
 * null, -1 (error set) when the value is a map or a list.
 */
static int ola_reader(const struct ola_cfg *map, const char *key, const char *expected,
                      const struct ola_cfg **node, struct ola_err *err)
{
    const struct ola_cfg *n = ola_cfg_get(map, key);

    *node = NULL;
    if (n == NULL || n->type == OLA_CFG_NULL)
        return 0;
    if (n->type != OLA_CFG_SCALAR)
        return ola_cfg_errf(err, n, "%s: expected %s, got %s", n->path, expected,
                            ola_type_name(n));
    *node = n;
    return 1;
}

int ola_cfg_str(const struct ola_cfg *map, const char *key, const char *def,
                const char **out, struct ola_err *err)
{
    const struct ola_cfg *n;
    int r = ola_reader(map, key, "a string", &n, err);

    if (r < 0)
        return -1;
    *out = r ? n->text : def;
    ola_traced(map, key, n, "%s", *out != NULL ? *out : "(none)");
    return 0;
}

static int ola_parse_ll(const char *s, long long *v)
{
    char *end;

    if (s[0] == '\0' || isspace((unsigned char)s[0]))
        return -1;
    errno = 0;
    *v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -1;
    if (errno == ERANGE)
        return 1;
    return 0;
}

int ola_cfg_int(const struct ola_cfg *map, const char *key, long long def, long long min,
                long long max, long long *out, struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    long long v;
    int r = ola_reader(map, key, "an integer", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%lld", def);
        }
        return r;
    }
    r = ola_parse_ll(n->text, &v);
    if (r < 0)
        return ola_cfg_errf(err, n, "%s: expected an integer, got %s", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    if (r > 0 || v < min || v > max)
        return ola_cfg_errf(err, n, "%s: must be between %lld and %lld, got %s", n->path,
                            min, max, ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%lld", v);
    return 0;
}

/*
 * Parses text as a whole finite number, optionally followed by the single
 * character suffix (when not '\0'; *had_suffix says whether it was there).
 * No leading space, nothing after. Returns true on success.
 */
static bool ola_parse_finite(const char *text, char suffix, double *v, bool *had_suffix)
{
    char *end;

    if (text[0] == '\0' || isspace((unsigned char)text[0]))
        return false;
    errno = 0;
    *v = strtod(text, &end);
    if (had_suffix != NULL)
        *had_suffix = suffix != '\0' && *end == suffix;
    if (suffix != '\0' && *end == suffix)
        end++;
    return *end == '\0' && errno != ERANGE && isfinite(*v);
}

int ola_cfg_double(const struct ola_cfg *map, const char *key, double def, double *out,
                   struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    double v;
    int r = ola_reader(map, key, "a number", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%g", def);
        }
        return r;
    }
    if (!ola_parse_finite(n->text, '\0', &v, NULL))
        return ola_cfg_errf(err, n, "%s: expected a number, got %s", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%g", v);
    return 0;
}

int ola_cfg_bool(const struct ola_cfg *map, const char *key, bool def, bool *out,
                 struct ola_err *err)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    const struct ola_cfg *n;
    char shown[96];
    size_t i;
    int r = ola_reader(map, key, "true or false", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%s", def ? "true" : "false");
        }
        return r;
    }
    for (i = 0; yes[i] != NULL; i++) {
        if (strcasecmp(n->text, yes[i]) == 0 || strcasecmp(n->text, no[i]) == 0) {
            *out = strcasecmp(n->text, yes[i]) == 0;
            ola_traced(map, key, n, "%s", *out ? "true" : "false");
            return 0;
        }
    }
    return ola_cfg_errf(err, n, "%s: expected true or false, got %s", n->path,
                        ola_cfg_shown(n, shown, sizeof(shown)));
}

static const char *ola_dur_str(int64_t ms, char *buf, size_t size)
{
    if (ola_duration_format(ms, buf, size) != 0)
        snprintf(buf, size, "%" PRId64 "ms", ms);
    return buf;
}

int ola_cfg_duration(const struct ola_cfg *map, const char *key, int64_t def, int64_t min,
                     int64_t max, int64_t *out, struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96], a[48], b[48];
    int64_t v;
    int r = ola_reader(map, key, "a duration", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%" PRId64 "ms", def);
        }
        return r;
    }
    r = ola_duration_parse(n->text, &v);
    if (r > 0)
        return ola_cfg_errf(err, n, "%s: duration %s is too large (at most 36500d)",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    if (r != 0)
        return ola_cfg_errf(err, n, "%s: bad duration %s (use ms, s, m, h, d)", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    if (v < min || v > max) {
        if (max == INT64_MAX)
            return ola_cfg_errf(err, n, "%s: must be at least %s, got %s", n->path,
                                ola_dur_str(min, a, sizeof(a)),
                                ola_cfg_shown(n, shown, sizeof(shown)));
        return ola_cfg_errf(err, n, "%s: must be between %s and %s, got %s", n->path,
                            ola_dur_str(min, a, sizeof(a)),
                            ola_dur_str(max, b, sizeof(b)),
                            ola_cfg_shown(n, shown, sizeof(shown)));
    }
    *out = v;
    ola_traced(map, key, n, "%" PRId64 "ms", v);
    return 0;
}

/* "2048", "64KiB", "10 MB", "1gib". Returns 0, or -1 (syntax), 1 (overflow). */
static int ola_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"kb", UINT64_C(1000)},
        {"mb", UINT64_C(1000) * 1000},
        {"gb", UINT64_C(1000) * 1000 * 1000},
        {"tb", UINT64_C(1000) * 1000 * 1000 * 1000},
        {"kib", UINT64_C(1) << 10},
        {"mib", UINT64_C(1) << 20},
        {"gib", UINT64_C(1) << 30},
        {"tib", UINT64_C(1) << 40},
    };
    char *end;
    unsigned long long v;
    size_t i;

    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return 1;
    while (*end == ' ')
        end++;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].mult)
                return 1;
            *out = (uint64_t)v * units[i].mult;
            return 0;
        }
    }
    return -1;
}

int ola_cfg_size(const struct ola_cfg *map, const char *key, uint64_t def, uint64_t *out,
                 struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    uint64_t v;
    int r = ola_reader(map, key, "a size", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%" PRIu64 " bytes", def);
        }
        return r;
    }
    r = ola_parse_size(n->text, &v);
    if (r < 0)
        return ola_cfg_errf(err, n,
                            "%s: bad size %s (use bytes, KB, MB, GB, KiB, MiB, GiB)",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    if (r > 0)
        return ola_cfg_errf(err, n, "%s: size %s is too large", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%" PRIu64 " bytes", v);
    return 0;
}

int ola_cfg_percent(const struct ola_cfg *map, const char *key, double def, double *out,
                    struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    double v;
    bool pct;
    int r = ola_reader(map, key, "a percentage", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%g", def);
        }
        return r;
    }
    if (!ola_parse_finite(n->text, '%', &v, &pct))
        return ola_cfg_errf(err, n, "%s: expected a percentage like 20%% or 0.2, got %s",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    if (pct)
        v /= 100.0;
    if (v < 0.0 || v > 1.0)
        return ola_cfg_errf(err, n, "%s: must be between 0%% and 100%% (0 and 1), got %s",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%g", v);
    return 0;
}

/* Levenshtein distance, or a large number for long strings. */
static size_t ola_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t row[65];

    if (la > 64 || lb > 64)
        return SIZE_MAX;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest of names[] within edit distance 2, or NULL. */
static const char *ola_suggest(const char *word, const char *const *names)
{
    const char *best = NULL;
    size_t best_d = 3, i;

    for (i = 0; names != NULL && names[i] != NULL; i++) {
        size_t d = ola_edit_distance(word, names[i]);

        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

int ola_cfg_enum(const struct ola_cfg *map, const char *key, const char *const *names,
                 int def, int *out, struct ola_err *err)
{
    const struct ola_cfg *n;
    struct ola_buf list = OLA_BUF_INIT;
    const char *hint;
    char shown[96];
    int r = ola_reader(map, key, "a name", &n, err), i;

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%s", names[def]);
        }
        return r;
    }
    for (i = 0; names[i] != NULL; i++) {
        if (strcmp(n->text, names[i]) == 0) {
            *out = i;
            ola_traced(map, key, n, "%s", names[i]);
            return 0;
        }
    }
    for (i = 0; names[i] != NULL; i++)
        if (ola_buf_printf(&list, "%s%s", i ? ", " : "", names[i]) != 0)
            break;
    hint = n->secret ? NULL : ola_suggest(n->text, names);
    if (hint != NULL)
        ola_cfg_errf(err, n, "%s: unknown value %s; did you mean '%s'? (one of %s)",
                     n->path, ola_cfg_shown(n, shown, sizeof(shown)), hint,
                     list.data ? list.data : "");
    else
        ola_cfg_errf(err, n, "%s: unknown value %s (one of %s)", n->path,
                     ola_cfg_shown(n, shown, sizeof(shown)), list.data ? list.data : "");
    ola_buf_free(&list);
    return -1;
}

int ola_cfg_check_keys(const struct ola_cfg *map, const char *const *allowed,
                       struct ola_err *err)
{
    size_t i, j;

    if (map == NULL || map->type == OLA_CFG_NULL)
        return 0;
    if (map->type != OLA_CFG_MAP)
        return ola_cfg_errf(err, map, "%s: expected a map, got %s", ola_node_what(map),
                            ola_type_name(map));
    for (i = 0; i < map->n; i++) {
        const char *key = map->ents[i].key, *hint;
        bool ok = false;

        for (j = 0; allowed != NULL && allowed[j] != NULL && !ok; j++)
            ok = strcmp(allowed[j], key) == 0;
        if (ok)
            continue;
        hint = ola_suggest(key, allowed);
        if (hint != NULL)
            return ola_errf_line(err, map->store, map->ents[i].key_line,
                                 "unknown key '%s%s%s'; did you mean '%s'?", map->path,
                                 map->path[0] ? "." : "", key, hint);
        return ola_errf_line(err, map->store, map->ents[i].key_line,
                             "unknown key '%s%s%s'", map->path, map->path[0] ? "." : "",
                             key);
    }
    return 0;
}

/* ---- secrets ---------------------------------------------------------------- */

static int ola_read_secret_file(const struct ola_cfg *fnode, const char **out,
                                struct ola_err *err)
{
    const char *path = fnode->text, *shown;
    char *data = NULL, *copy, buf[OLA_CFG_SHOWN_MAX];
    size_t len = 0;
    struct stat st;
    int fd;

    shown = ola_cfg_shown(fnode, buf, sizeof(buf)); /* the path may come from ${VAR} */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ola_cfg_errf(err, fnode, "%s: cannot read %s: %s", fnode->path, shown,
                            strerror(errno));
    if (fstat(fd, &st) != 0 || ola_read_fd(fd, OLA_CFG_MAX_SECRET, &data, &len) != 0) {
        int e = errno;

        close(fd);
        return ola_cfg_errf(err, fnode, "%s: cannot read %s: %s", fnode->path, shown,
                            strerror(e));
    }
    close(fd);
    if (memchr(data, '\0', len) != NULL) {
        free(data);
        return ola_cfg_errf(err, fnode, "%s: %s contains a NUL byte", fnode->path, shown);
    }
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 0) {
        free(data);
        return ola_cfg_errf(err, fnode, "%s: %s is empty", fnode->path, shown);
    }
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        ola_log_warn(OLA_CFG_COMP,
                     "%s:%d: %s: secret file %s is readable by group or others "
                     "(chmod 600 it)",
                     fnode->store->name, fnode->line, fnode->path, shown);
    if ((st.st_mode & S_IWOTH) != 0)
        ola_log_warn(OLA_CFG_COMP,
                     "%s:%d: %s: secret file %s is writable by others (chmod 600 it)",
                     fnode->store->name, fnode->line, fnode->path, shown);
    copy = ola_store_strndup(fnode->store, data, len);
    /* Do not leave the secret lying around in freed memory. */
    ola_secret_wipe(data, len);
    free(data);
    if (copy == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    *out = copy;
    return 0;
}

int ola_cfg_secret(const struct ola_cfg *map, const char *key, const char **out,
                   struct ola_err *err)
{
    char fkey[128];
    const struct ola_cfg *v, *f;
    int r;

    *out = NULL;
    r = snprintf(fkey, sizeof(fkey), "%s_file", key);
    if (r < 0 || (size_t)r >= sizeof(fkey))
        return ola_err_set(err, EINVAL, "secret key name too long: %s", key);
    if (ola_reader(map, key, "a string", &v, err) < 0 ||
        ola_reader(map, fkey, "a file name", &f, err) < 0)
        return -1;
    if (v != NULL && f != NULL)
        return ola_cfg_errf(err, f, "%s: set %s or %s, not both", ola_node_what(map), key,
                            fkey);
    if (v != NULL) {
        *out = v->text;
        return 0;
    }
    if (f == NULL)
        return 0;
    if (f->text[0] == '\0')
        return ola_cfg_errf(err, f, "%s: empty file name", f->path);
    return ola_read_secret_file(f, out, err);
}

static bool ola_key_looks_secret(const char *key)
{
    static const char *const exact[] = {"client_secret",
                                        "secret",
                                        "password",
                                        "token",
                                        "sasl.password",
                                        "ssl.key.password",
                                        "ssl.key.pem",
                                        "sasl.oauthbearer.config",
                                        NULL};
    static const char *const suffix[] = {"_secret",   "_password", "_token",
                                         ".password", ".secret",   NULL};
    size_t i, kl = strlen(key);

    for (i = 0; exact[i] != NULL; i++)
        if (strcmp(key, exact[i]) == 0)
            return true;
    for (i = 0; suffix[i] != NULL; i++) {
        size_t sl = strlen(suffix[i]);

        if (kl > sl && strcmp(key + kl - sl, suffix[i]) == 0)
            return true;
    }
    return false;
}

/* The first value under a secret-looking key that is written out literally. */
static const struct ola_cfg *ola_find_literal_secret(const struct ola_cfg *n, int *line)
{
    size_t i;

    if (n == NULL || (n->type != OLA_CFG_MAP && n->type != OLA_CFG_SEQ))
        return NULL;
    for (i = 0; i < n->n; i++) {
        const struct ola_cfg *v = n->ents[i].val, *hit;

        if (n->type == OLA_CFG_MAP && ola_key_looks_secret(n->ents[i].key) &&
            v->type == OLA_CFG_SCALAR && !v->secret && v->text[0] != '\0') {
            *line = n->ents[i].key_line;
            return v;
        }
        hit = ola_find_literal_secret(v, line);
        if (hit != NULL)
            return hit;
    }
    return NULL;
}

/* ---- dump --------------------------------------------------------------------- */

static int ola_emit_scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;

    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s,
                                      (int)strlen(s), 1, 1, style))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

/*
 * A URL with credentials (scheme://user:password@host...) is printed with
 * the user information masked: proxies and brokers are often written so.
 * Returns 1 when out holds the masked text, 0 when there is nothing to mask.
 */
static int ola_mask_userinfo(const char *text, char *out, size_t n)
{
    const char *sep = strstr(text, "://"), *host, *at;
    int w;

    if (sep == NULL)
        return 0;
    host = sep + 3;
    at = strchr(host, '@');
    if (at == NULL || memchr(host, '/', (size_t)(at - host)) != NULL)
        return 0;
    w = snprintf(out, n, "%.*s****%s", (int)(host - text), text, at);
    return w > 0 && (size_t)w < n;
}

static int ola_emit_node(yaml_emitter_t *em, const struct ola_cfg *n, bool mask)
{
    char masked[1024];
    yaml_event_t ev;
    size_t i;

    if (mask && n->type != OLA_CFG_NULL)
        return ola_emit_scalar(em, "****", YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    switch (n->type) {
    case OLA_CFG_NULL:
        return ola_emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
    case OLA_CFG_SCALAR:
        if (n->secret)
            return ola_emit_scalar(em, "****", YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        if (ola_mask_userinfo(n->text, masked, sizeof(masked)))
            return ola_emit_scalar(em, masked, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return ola_emit_scalar(em, n->text,
                               n->quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                         : YAML_ANY_SCALAR_STYLE);
    case OLA_CFG_SEQ:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                  YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        for (i = 0; i < n->n; i++)
            if (ola_emit_node(em, n->ents[i].val, false) != 0)
                return -1;
        if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
            return -1;
        return 0;
    case OLA_CFG_MAP:
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                 YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        for (i = 0; i < n->n; i++) {
            if (ola_emit_scalar(em, n->ents[i].key, YAML_ANY_SCALAR_STYLE) != 0 ||
                ola_emit_node(em, n->ents[i].val, ola_key_looks_secret(n->ents[i].key)) !=
                    0)
                return -1;
        }
        if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
            return -1;
        return 0;
    }
    return -1;
}

void ola_cfg_dump(const struct ola_cfg_doc *doc, FILE *out)
{
    yaml_emitter_t em;
    yaml_event_t ev;

    if (doc == NULL || out == NULL || !yaml_emitter_initialize(&em))
        return;
    yaml_emitter_set_output_file(&em, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
        !yaml_emitter_emit(&em, &ev) ||
        !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
        !yaml_emitter_emit(&em, &ev) || ola_emit_node(&em, doc->root, false) != 0 ||
        !yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev) ||
        !yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev))
        fprintf(out, "# dump failed: %s\n", em.problem ? em.problem : "emitter error");
    yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
}
