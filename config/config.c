/*
 * config.c - YAML into a line-aware tree.
 *
 * libyaml's event parser feeds a small recursive builder: every node keeps its
 * line, its dotted path ("onelogin.poll_interval", "outputs[1].type") and,
 * for scalars, the text after ${VAR} / ${VAR:-default} / $$ substitution.
 * Anchors, aliases, merge keys, duplicate keys and second documents are
 * refused with "file:line: ..." errors. Strings made later (a *_file secret)
 * are kept in a per-document store so that what the readers hand out stays
 * valid until ola_cfg_doc_destroy(). The tree's accessors and the error and
 * warning helpers are in tree.c, the typed readers in readers.c, the masked
 * dump in dump.c.
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
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "config/config.h"
#include "config/config_priv.h"

#define OLA_CFG_MAX_DEPTH 64
#define OLA_CFG_MAX_FILE  (16u << 20) /* a config file larger than this is a mistake */

/* One extra allocation owned by a document. */
struct ola_cfg_blob {
    struct ola_cfg_blob *next;
    size_t size;
    max_align_t data[];
};

struct ola_parse {
    yaml_parser_t yp;
    struct ola_cfg_store *store;
    const char *text;
    size_t len;
    struct ola_err *err;
    bool raw; /* scalars as written: no ${VAR} substitution */
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

char *ola_store_strndup(struct ola_cfg_store *st, const char *s, size_t n)
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
    ola_store_free_overlays(st);
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
    if (OLA_VEC_GROW(n->ents, n->cap, n->n + 1) != 0)
        return -1;
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
    if (node->type == OLA_CFG_SCALAR && p->raw) {
        node->text = strndup(s, n);
        if (node->text == NULL) {
            ola_node_free(node);
            return ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
        }
    } else if (node->type == OLA_CFG_SCALAR &&
               ola_subst(p, s, n, line, path, &node->text, &node->secret) != 0) {
        ola_node_free(node);
        return -1;
    }
    *out = node;
    return 0;
}

/*
 * A map key: ev is its event (borrowed). Refuses what the tree does not
 * support (aliases, anchors, non-string keys, NUL bytes, merge keys) and
 * duplicates of node's keys. *key: a new copy. Returns 0 / -1 with err.
 */
static int ola_parse_key(struct ola_parse *p, const struct ola_cfg *node,
                         const yaml_event_t *ev, const char *path, char **key)
{
    int line = ola_event_line(ev);
    size_t klen, i;

    if (ev->type == YAML_ALIAS_EVENT)
        return ola_errf_line(p->err, p->store, line,
                             "%s: aliases (*%s) are not supported", ola_node_what(node),
                             (const char *)ev->data.alias.anchor);
    if (ev->type != YAML_SCALAR_EVENT)
        return ola_errf_line(p->err, p->store, line,
                             "%s: a map key must be a plain string", ola_node_what(node));
    if (ev->data.scalar.anchor != NULL)
        return ola_errf_line(p->err, p->store, line,
                             "%s: anchors (&%s) are not supported", ola_node_what(node),
                             (const char *)ev->data.scalar.anchor);
    klen = ev->data.scalar.length;
    if (memchr(ev->data.scalar.value, '\0', klen) != NULL)
        return ola_errf_line(p->err, p->store, line, "%s: key contains a NUL byte",
                             ola_node_what(node));
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && klen == 2 &&
        memcmp(ev->data.scalar.value, "<<", 2) == 0)
        return ola_errf_line(p->err, p->store, line,
                             "%s: merge keys (<<) are not supported",
                             ola_node_what(node));
    *key = strndup((const char *)ev->data.scalar.value, klen);
    if (*key == NULL)
        return ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
    for (i = 0; i < node->n; i++) {
        if (strcmp(node->ents[i].key, *key) == 0) {
            ola_errf_line(p->err, p->store, line,
                          "duplicate key '%s%s%s' (first at line %d)", path,
                          path[0] ? "." : "", *key, node->ents[i].key_line);
            free(*key);
            *key = NULL;
            return -1;
        }
    }
    return 0;
}

/*
 * A map or a sequence (type), from its start event to its end event: one
 * loop for both. A map's entry is a key (ola_parse_key) and then a value;
 * a sequence's is a value. Children are parsed with their dotted path.
 */
static int ola_parse_coll(struct ola_parse *p, const yaml_event_t *start,
                          const char *path, int depth, enum ola_cfg_type type,
                          struct ola_cfg **out)
{
    yaml_event_type_t end =
        type == OLA_CFG_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
    struct ola_cfg *node = ola_node_new(p->store, type, ola_event_line(start), path);
    yaml_event_t ev;
    bool have_ev = false;
    char *key = NULL, *child_path = NULL;

    if (node == NULL)
        return ola_err_set(p->err, ENOMEM, "%s: out of memory", p->store->name);
    for (;;) {
        struct ola_cfg *child = NULL;
        int key_line = 0;

        if (ola_parse_next(p, &ev) != 0)
            goto fail;
        have_ev = true;
        if (ev.type == end)
            break;
        if (type == OLA_CFG_MAP) {
            key_line = ola_event_line(&ev);
            if (ola_parse_key(p, node, &ev, path, &key) != 0)
                goto fail;
            yaml_event_delete(&ev);
            have_ev = false;
            if (ola_parse_next(p, &ev) != 0)
                goto fail;
            have_ev = true;
        }
        child_path = key ? ola_path_key(path, key) : ola_path_index(path, node->n);
        if (child_path == NULL)
            goto nomem;
        if (ola_parse_node(p, &ev, child_path, depth + 1, &child) != 0)
            goto fail;
        /* A map or list under a key is "at" its key, where a reader looks for it. */
        if (key != NULL && (child->type == OLA_CFG_MAP || child->type == OLA_CFG_SEQ))
            child->line = key_line;
        if (ola_node_push(node, key, key ? key_line : child->line, child) != 0) {
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
        return ola_parse_coll(p, ev, path, depth, OLA_CFG_SEQ, out);
    case YAML_MAPPING_START_EVENT:
        return ola_parse_coll(p, ev, path, depth, OLA_CFG_MAP, out);
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

static int ola_load_string(const char *name, const char *text, size_t len, bool raw,
                           struct ola_cfg_doc **out, struct ola_err *err)
{
    struct ola_parse p;
    struct ola_cfg_doc *doc = NULL;
    bool have_parser = false;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    p.err = err;
    p.raw = raw;
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

int ola_cfg_load_string(const char *name, const char *text, size_t len,
                        struct ola_cfg_doc **out, struct ola_err *err)
{
    return ola_load_string(name, text, len, false, out, err);
}

int ola_cfg_load_string_raw(const char *name, const char *text, size_t len,
                            struct ola_cfg_doc **out, struct ola_err *err)
{
    return ola_load_string(name, text, len, true, out, err);
}

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
    if (fstat(fd, &st) != 0 || ola_read_fd_all(fd, OLA_CFG_MAX_FILE, &data, &len) != 0) {
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
