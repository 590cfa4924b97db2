/*
 * test_example_config.c - config/olagent.example.yaml tells the truth.
 *
 * The example says it lists every setting with its default. Its commented
 * output blocks are uncommented, the whole file is loaded the way `olagent
 * check` loads it (settings, then every output's init), and the config
 * readers' trace hook records each key read with its value. Then, for each
 * key the example sets, the same file is loaded again without that line and
 * the value the reader answered by default is compared with the example's.
 * A few keys are illustrations by nature (credentials, addresses, names,
 * choices the reader must make); they are listed below with the reason.
 * Required keys (the file does not load without them) have no default.
 * Then the example is held to the option tables (config/options.h): every
 * key of the tables is in the example (set or commented out) and the other
 * way round, with the table's default and its help in the key's comment.
 * The output blocks under `outputs:` are held to their type's tables (the
 * keys every output has, outputs/output.c, and the plugin's own): a key no
 * table knows, a default or a help that differs fails, and every key of a
 * plugin's table is in its block. `olagent config example` is held to the
 * same tables the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/err.h"
#include "agent/core/log.h"
#include "agent/settings.h"
#include "config/config.h"
#include "config/options.h"
#include "outputs/output.h"

#define MAX_READS 512
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt" /* Debian's ca-certificates */

struct read {
    char path[96];
    char key[64];
    int line;
    char value[256];
};

struct reads {
    struct read r[MAX_READS];
    size_t n;
};

static void on_read(void *arg, const char *path, const char *key, int line,
                    const char *value)
{
    struct reads *t = arg;
    struct read *r;

    if (t->n == MAX_READS)
        return;
    r = &t->r[t->n++];
    snprintf(r->path, sizeof(r->path), "%s", path);
    snprintf(r->key, sizeof(r->key), "%s", key);
    r->line = line;
    snprintf(r->value, sizeof(r->value), "%s", value);
}

/*
 * Keys whose example value is an illustration, not a default: what the
 * operator must supply (credentials, addresses, paths), names, and choices
 * that pick a mode (an example shows the mode it documents).
 */
static const char *const illustrative[] = {
    "base_url",    /* the tenant's address */
    "client_id",   /* credentials */
    "type",        /* which output */
    "name",        /* an alias */
    "brokers",     /* addresses */
    "host",        /* the SIEM's address */
    "dead_letter", /* a path chosen by the operator */
    "ca_file",     /* a path chosen by the operator */
    "format",      /* the syslog example shows CEF */
    "hostname",    /* a machine name */
    "transport",   /* the syslog example shows TLS */
    "port",        /* follows the transport: 6514 is the TLS default */
    NULL,
};

static bool is_illustrative(const char *key)
{
    size_t i;

    for (i = 0; illustrative[i] != NULL; i++)
        if (strcmp(key, illustrative[i]) == 0)
            return true;
    return false;
}

static char *read_example(void)
{
    const char *src = getenv("OLA_SOURCE_DIR");
    char path[512];
    FILE *f;
    long len;
    char *text;

    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/config/olagent.example.yaml", src);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

/*
 * The commented output blocks ("  # - type: kafka" and the lines under it,
 * up to the next line that is not a comment) uncommented: "  # x" -> "  x".
 * Comments inside a block ("  #     # leef_delimiter") stay comments. The
 * line count does not change, so line numbers still match the file.
 */
static char *uncomment_outputs(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(len + 1);
    const char *p = text;
    char *o = out;
    bool in_block = false;

    assert_non_null(out);
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);

        if (strncmp(p, "  # - type: ", 12) == 0)
            in_block = true;
        else if (strncmp(p, "  # ", 4) != 0)
            in_block = false;
        if (in_block) {
            memcpy(o, "  ", 2);
            memcpy(o + 2, p + 4, n - 4);
            o += n - 2;
        } else {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = '\0';
    return out;
}

/*
 * text with every occurrence of from replaced by to (the example's CA files
 * do not exist here; the producer and the TLS setup load them at init).
 */
static char *replaced(char *text, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    const char *p;
    char *out, *o;

    for (p = strstr(text, from); p != NULL; p = strstr(p + fl, from))
        n++;
    out = malloc(strlen(text) + n * tl + 1);
    assert_non_null(out);
    o = out;
    for (p = text; *p != '\0';) {
        if (strncmp(p, from, fl) == 0) {
            memcpy(o, to, tl);
            o += tl;
            p += fl;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    free(text);
    return out;
}

/* text with line `line` (1-based) left empty. */
static char *without_line(const char *text, int line)
{
    char *out = strdup(text), *p = out;
    int no = 1;

    assert_non_null(out);
    while (no < line && p != NULL) {
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
        no++;
    }
    assert_non_null(p);
    while (*p != '\0' && *p != '\n')
        *p++ = ' ';
    return out;
}

/* Loads text as `olagent check` does, recording every read into t. */
static int load_all(const char *text, struct reads *t, struct ola_err *err)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    size_t i;
    int rc = -1;

    t->n = 0;
    ola_cfg_set_trace(on_read, t);
    if (ola_cfg_load_string("olagent.example.yaml", text, strlen(text), &doc, err) != 0 ||
        ola_settings_load(doc, INT64_C(1700000000000), &s, err) != 0)
        goto out;
    for (i = 0; i < s.n_outputs; i++) {
        struct ola_output *o = ola_output_new(&s.outputs[i], (unsigned)i, err);

        if (o == NULL)
            goto out;
        ola_output_destroy(o);
    }
    rc = 0;
out:
    ola_cfg_set_trace(NULL, NULL);
    ola_cfg_doc_destroy(doc);
    return rc;
}

/*
 * The read of path.key; a section left empty reads its keys from a NULL map,
 * whose path is "", so a default read there counts too.
 */
static const struct read *find(const struct reads *t, const char *path, const char *key)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->r[i].path, path) == 0 && strcmp(t->r[i].key, key) == 0)
            return &t->r[i];
    for (i = 0; i < t->n; i++)
        if (t->r[i].path[0] == '\0' && t->r[i].line == 0 && strcmp(t->r[i].key, key) == 0)
            return &t->r[i];
    return NULL;
}

static void test_example_defaults_are_built_in(void **state)
{
    static struct reads set, dflt;
    struct ola_err err = {0, ""};
    char scratch[64] = "/tmp/olaexample.XXXXXX", dir[80], cmd[128];
    char *file = read_example(), *text;
    size_t i, compared = 0, wrong = 0;

    (void)state;
    text = uncomment_outputs(file);
    text = replaced(text, "/etc/ssl/certs/corp-ca.pem", SYSTEM_CA);
    text = replaced(text, "/etc/olagent/siem-ca.pem", SYSTEM_CA);
    /* the file output creates its directory at init: a scratch one */
    assert_non_null(mkdtemp(scratch));
    snprintf(dir, sizeof(dir), "%s/", scratch);
    text = replaced(text, "/var/log/olagent/", dir);
    text = replaced(text, "/var/lib/olagent/", dir);
    if (load_all(text, &set, &err) != 0)
        fail_msg("the example with its outputs uncommented does not load: %s", err.msg);
    for (i = 0; i < set.n; i++) {
        const struct read *r = &set.r[i], *d;
        char *less;

        if (r->line == 0 || is_illustrative(r->key))
            continue;
        less = without_line(text, r->line);
        if (load_all(less, &dflt, &err) != 0) {
            /* a required key: there is no default to compare with */
            if (strstr(err.msg, "required") == NULL)
                fail_msg("olagent.example.yaml:%d: without %s.%s it does not load: %s",
                         r->line, r->path, r->key, err.msg);
            free(less);
            continue;
        }
        d = find(&dflt, r->path, r->key);
        if (d == NULL || d->line != 0) {
            print_message("olagent.example.yaml:%d: %s.%s: no default was read\n",
                          r->line, r->path, r->key);
            wrong++;
        } else if (strcmp(d->value, r->value) != 0) {
            print_message("olagent.example.yaml:%d: %s.%s: the example says %s, the "
                          "built-in default is %s\n",
                          r->line, r->path, r->key, r->value, d->value);
            wrong++;
        }
        compared++;
        free(less);
    }
    print_message("%zu settings compared with their built-in defaults\n", compared);
    assert_true(compared >= 30);
    assert_int_equal(wrong, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        print_message("could not remove %s\n", scratch);
    free(text);
    free(file);
}

/* ---- the example against the option tables ---------------------------------- */

/* One key the example writes, set or commented out ("# key: value"). */
struct ex_key {
    char path[128];     /* "onelogin.page_size", "enrich.cache.ttl", "shutdown_timeout" */
    char value[256];    /* as written; "" for a map */
    char context[2048]; /* the comments above it and after it */
    int line;
};

struct ex_keys {
    struct ex_key k[256];
    size_t n;
};

/* Appends comment text to ctx, '#' and leading spaces dropped. */
static void ctx_add(char *ctx, size_t size, const char *text)
{
    size_t n = strlen(ctx);

    while (*text == '#' || *text == ' ')
        text++;
    if (*text == '\0')
        return;
    snprintf(ctx + n, size - n, "%s%s", n > 0 ? " " : "", text);
}

/*
 * Reads the example's keys: "key: value" at the indentation its map's keys
 * have (two spaces a level), also after "# " (commented out). A line at another
 * indentation is prose or a list item and is skipped; a key without a value opens a map.
 * Each key's context is the comment block right above it (up to a blank or
 * an uncommented line) and its trailing comment.
 */
static void scan_example(const char *text, struct ex_keys *out)
{
    struct {
        int indent;
        char path[128];
    } st[16];
    int depth = 0, line = 0;
    char block[2048] = "";
    const char *p = text;

    st[0].indent = -1;
    st[0].path[0] = '\0';
    out->n = 0;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char l[512], *t, *colon, *v, *hash;
        struct ex_key *k;
        int indent = 0;
        bool commented = false;

        snprintf(l, sizeof(l), "%.*s", (int)n, p);
        p += eol ? n + 1 : n;
        line++;
        for (t = l; *t == ' '; t++)
            indent++;
        if (*t == '\0') {
            block[0] = '\0';
            continue;
        }
        if (t[0] == '#' && t[1] == ' ') {
            commented = true;
            for (t += 2; *t == ' '; t++)
                indent++;
        } else if (t[0] == '#') {
            ctx_add(block, sizeof(block), t);
            continue;
        }
        for (colon = t; (*colon >= 'a' && *colon <= 'z') || *colon == '_' ||
                        (colon > t && *colon >= '0' && *colon <= '9');
             colon++)
            ;
        if (colon == t || *colon != ':' || (colon[1] != ' ' && colon[1] != '\0')) {
            if (commented)
                ctx_add(block, sizeof(block), t);
            else
                block[0] = '\0';
            continue;
        }
        while (depth > 0 && st[depth].indent >= indent)
            depth--;
        if (indent != (depth == 0 ? 0 : st[depth].indent + 2)) { /* 2 spaces a level */
            if (commented)
                ctx_add(block, sizeof(block), t);
            continue;
        }
        assert_true(out->n < sizeof(out->k) / sizeof(out->k[0]));
        k = &out->k[out->n++];
        *colon = '\0';
        if (snprintf(k->path, sizeof(k->path), "%s%s%.64s", st[depth].path,
                     st[depth].path[0] ? "." : "", t) >= (int)sizeof(k->path))
            fail_msg("olagent.example.yaml:%d: key path too long", line);
        for (v = colon + 1; *v == ' '; v++)
            ;
        snprintf(k->context, sizeof(k->context), "%s", block);
        hash = strstr(v, "#");
        if (hash == v || (hash != NULL && hash[-1] == ' ')) {
            ctx_add(k->context, sizeof(k->context), hash);
            *hash = '\0';
        }
        while (*v != '\0' && v[strlen(v) - 1] == ' ')
            v[strlen(v) - 1] = '\0';
        /* prose: "# key: does this"; a flow map ("{a: 1}") or a "(type)" is a value */
        if (commented && strchr(v, ' ') != NULL && !(v[0] == '{' && strstr(v, ": ")) &&
            !(v[0] == '(' && v[strlen(v) - 1] == ')')) {
            out->n--;
            *colon = ':';
            ctx_add(block, sizeof(block), t);
            continue;
        }
        snprintf(k->value, sizeof(k->value), "%s", v);
        k->line = line;
        if (*v == '\0' && depth + 1 < 16) {
            depth++;
            st[depth].indent = indent;
            snprintf(st[depth].path, sizeof(st[depth].path), "%s", k->path);
        }
        block[0] = '\0';
    }
}

static const struct ex_key *ex_find(const struct ex_keys *ks, const char *path)
{
    size_t i;

    for (i = 0; i < ks->n; i++)
        if (strcmp(ks->k[i].path, path) == 0)
            return &ks->k[i];
    return NULL;
}

/* The example's value read with the entry's own reader, in the default's form. */
static const char *ex_value_text(const struct ola_opt *o, const char *value, char *buf,
                                 size_t size)
{
    static char obj[4096];
    struct ola_opt one[2];
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err = {0, ""};
    char yaml[512];
    const char *r = NULL;

    memset(one, 0, sizeof(one));
    one[0] = *o;
    one[0].hook = NULL;
    one[0].flags = 0;
    assert_true(o->offset + 16 <= sizeof(obj));
    snprintf(yaml, sizeof(yaml), "%s: %s\n", o->name, value);
    if (ola_cfg_load_string("example", yaml, strlen(yaml), &doc, &err) == 0 &&
        ola_opts_read(ola_cfg_root(doc), "", one, obj, NULL, &err) == 0)
        r = ola_opt_value_text(&one[0], obj, buf, size);
    else
        print_message("%s\n", err.msg);
    ola_cfg_doc_destroy(doc);
    return r;
}

/* in with runs of spaces made one. */
static void squeeze(const char *in, char *out, size_t size)
{
    size_t j = 0;

    for (; *in != '\0' && j + 1 < size; in++)
        if (*in != ' ' || (j > 0 && out[j - 1] != ' '))
            out[j++] = *in;
    out[j] = '\0';
}

#define CT_COMPLETE     0x1u /* every key of the table is in the example */
#define CT_ILLUSTRATIVE 0x2u /* the values of illustrative keys are not defaults */

/* Holds the table tab (the map at path) and the example to each other. */
static size_t check_table(const struct ex_keys *ks, const char *path,
                          const struct ola_opt *tab, size_t *checked, unsigned mode)
{
    const struct ola_opt *o;
    size_t wrong = 0, i, pl = strlen(path);

    for (o = tab; o->name != NULL; o++) {
        char where[128], a[256], b[256], h[1024], c[2048];
        const struct ex_key *k;
        const char *dflt, *ex;

        snprintf(where, sizeof(where), "%s%s%s", path, pl > 0 ? "." : "", o->name);
        k = ex_find(ks, where);
        (*checked)++;
        if (k == NULL && !(mode & CT_COMPLETE))
            continue;
        if (k == NULL) {
            print_message("olagent.example.yaml: %s is in the option tables, not in the "
                          "example\n",
                          where);
            wrong++;
            continue;
        }
        if (o->help != NULL) {
            squeeze(o->help, h, sizeof(h));
            squeeze(k->context, c, sizeof(c));
            if (strstr(c, h) == NULL) {
                print_message("olagent.example.yaml:%d: %s: the comment does not say the "
                              "table's help \"%s\" (it says \"%s\")\n",
                              k->line, where, o->help, k->context);
                wrong++;
            }
        }
        if (o->type == OLA_OPT_MAP) {
            wrong += check_table(ks, where, o->sub, checked, mode);
            continue;
        }
        dflt = ola_opt_default_text(o, a, sizeof(a));
        if (dflt == NULL || k->value[0] == '\0' ||
            ((mode & CT_ILLUSTRATIVE) && is_illustrative(o->name)))
            continue;
        ex = ex_value_text(o, k->value, b, sizeof(b));
        if (ex == NULL || strcmp(ex, dflt) != 0) {
            print_message("olagent.example.yaml:%d: %s: the example says %s, the table's "
                          "default is %s\n",
                          k->line, where, k->value, dflt);
            wrong++;
        }
    }
    for (i = 0; i < ks->n; i++) {
        const char *key = ks->k[i].path, *last = key + (pl > 0 ? pl + 1 : 0);
        char base[128];
        size_t bl;

        if (pl > 0 && (strncmp(key, path, pl) != 0 || key[pl] != '.'))
            continue;
        if (strchr(last, '.') != NULL)
            continue;
        snprintf(base, sizeof(base), "%s", last);
        bl = strlen(base);
        o = ola_opts_find(tab, base);
        if (o == NULL && bl > 5 && strcmp(base + bl - 5, "_file") == 0) {
            base[bl - 5] = '\0';
            o = ola_opts_find(tab, base);
            if (o != NULL && o->type != OLA_OPT_SECRET)
                o = NULL;
        }
        if (o == NULL) {
            print_message("olagent.example.yaml:%d: %s is in the example, not in the "
                          "option tables\n",
                          ks->k[i].line, key);
            wrong++;
        }
    }
    return wrong;
}

static void test_example_matches_tables(void **state)
{
    static struct ex_keys ks;
    char *file = read_example();
    size_t checked = 0, wrong;

    (void)state;
    scan_example(file, &ks);
    wrong = check_table(&ks, "", ola_settings_options, &checked, CT_COMPLETE);
    print_message("%zu keys of the option tables held to the example\n", checked);
    assert_true(checked >= 40);
    assert_int_equal(wrong, 0);
    free(file);
}

/* The scanner and the checks find what they are for: a key missing, an
 * unknown one, a default and a comment that differ. */
static void test_example_check_finds_disagreement(void **state)
{
    static const char text[] = "# the section\n"
                               "sec:\n"
                               "  # How many.\n"
                               "  count: 6\n"
                               "  # speling: 3\n"
                               "  wait: 5s   # a different comment\n";
    static const struct ola_opt sub[] = {
        {.name = "count", .type = OLA_OPT_INT, .def_int = 5, .help = "How many."},
        {.name = "wait",
         .type = OLA_OPT_DURATION,
         .offset = 8,
         .def_int = 5000,
         .help = "How long."},
        {.name = "gone", .type = OLA_OPT_BOOL, .offset = 16},
        {.name = NULL},
    };
    static const struct ola_opt top[] = {
        {.name = "sec", .type = OLA_OPT_MAP, .sub = sub, .help = "the section"},
        {.name = NULL},
    };
    static struct ex_keys ks;
    size_t checked = 0;

    (void)state;
    scan_example(text, &ks);
    assert_int_equal(ks.n, 4);
    assert_string_equal(ks.k[2].path, "sec.speling");
    /* count's default, wait's comment, gone missing, speling unknown */
    assert_int_equal(check_table(&ks, "", top, &checked, CT_COMPLETE), 4);
}

/* ---- the output blocks against the outputs' tables ---------------------------- */

/* One block under `outputs:`: "  # - type: kafka" (or uncommented) and its lines. */
struct ex_block {
    char type[32]; /* "" for the block of the keys every output has */
    int line;
    struct ex_keys keys;
};

struct ex_blocks {
    struct ex_block b[16];
    size_t n;
};

/*
 * Finds the output blocks of text: a block opens at "  # - type: X" or
 * "  - type: X" (or at the header of the common keys that `config example`
 * prints) and holds the lines after it that start with its indentation
 * ("  #   " or "    "), which are read, that prefix cut, like a config file.
 */
static void scan_blocks(const char *text, struct ex_blocks *out)
{
    static char body[16384];
    const char *p = text, *prefix = NULL;
    size_t used = 0;
    int line = 0;

    out->n = 0;
    while (true) {
        const char *eol = *p != '\0' ? strchr(p, '\n') : NULL;
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char l[512];
        bool end = *p == '\0', open_c, open_p, common;

        snprintf(l, sizeof(l), "%.*s", (int)n, p);
        line++;
        open_c = strncmp(l, "  # - type: ", 12) == 0;
        open_p = strncmp(l, "  - type: ", 10) == 0;
        common = strcmp(l, "  # " OLA_OUTPUT_COMMON_HEADER) == 0;
        if (prefix != NULL && !end && !open_c && !open_p && !common &&
            (strncmp(l, prefix, strlen(prefix)) == 0 ||
             (prefix[2] == '#' && strcmp(l, "  #") == 0))) {
            const char *rest = strlen(l) >= strlen(prefix) ? l + strlen(prefix) : "";

            assert_true(used + strlen(rest) + 2 < sizeof(body));
            used += (size_t)snprintf(body + used, sizeof(body) - used, "%s\n", rest);
        } else if (prefix != NULL) {
            struct ex_block *b = &out->b[out->n - 1];
            size_t k;

            scan_example(body, &b->keys);
            for (k = 0; k < b->keys.n; k++) /* lines of the file, not of the block */
                b->keys.k[k].line += b->line;
            prefix = NULL;
        }
        if (end)
            break;
        if (open_c || open_p || common) {
            struct ex_block *b;
            char *sp;

            assert_true(out->n < sizeof(out->b) / sizeof(out->b[0]));
            b = &out->b[out->n++];
            snprintf(b->type, sizeof(b->type), "%s",
                     common ? "" : l + (open_c ? 12 : 10));
            sp = strpbrk(b->type, " #");
            if (sp != NULL)
                *sp = '\0';
            b->line = line;
            prefix = open_p ? "    " : "  #   ";
            used = 0;
            body[0] = '\0';
        }
        p += eol ? n + 1 : n;
    }
}

/* The output types olagent has; those not compiled in are skipped. */
static const char *const output_types[] = {"stdout", "file", "kafka", "syslog", NULL};

/*
 * Holds every block of text to its type's tables. complete: every key of a
 * block's tables is in it (the blocks `config example` prints); otherwise
 * every key of a plugin's own table is in its type's block, and every common
 * key in some block. Returns the disagreements; *checked counts the keys.
 */
static size_t check_blocks(const char *text, bool complete, size_t *checked)
{
    static const struct ola_opt none[] = {{.name = NULL}};
    static struct ex_blocks bs;
    struct ola_opt all[OLA_OUTPUT_OPTS_MAX];
    const struct ola_opt *o;
    size_t wrong = 0, i, t;

    scan_blocks(text, &bs);
    for (i = 0; i < bs.n; i++) {
        const struct ex_block *b = &bs.b[i];
        const struct ola_output_ops *ops = ola_output_find(b->type);

        if (b->type[0] == '\0') {
            wrong += check_table(&b->keys, "", ola_output_options + 1, checked,
                                 CT_COMPLETE | CT_ILLUSTRATIVE);
            continue;
        }
        if (ops == NULL) {
            if (strcmp(b->type, "kafka") != 0) { /* kafka may be built without */
                print_message("line %d: no output type '%s'\n", b->line, b->type);
                wrong++;
            }
            continue;
        }
        if (complete) {
            wrong += check_table(&b->keys, "", ops->opts != NULL ? ops->opts : none,
                                 checked, CT_COMPLETE | CT_ILLUSTRATIVE);
            continue;
        }
        assert_true(ola_output_opts_all(ops, all, OLA_OUTPUT_OPTS_MAX) > 0);
        wrong += check_table(&b->keys, "", all, checked, CT_ILLUSTRATIVE);
        for (o = ops->opts; o != NULL && o->name != NULL; o++)
            if (ex_find(&b->keys, o->name) == NULL) {
                print_message("line %d: %s.%s is in the option tables, not in the "
                              "block\n",
                              b->line, b->type, o->name);
                wrong++;
            }
    }
    /* every type compiled in has its block */
    for (t = 0; output_types[t] != NULL; t++) {
        bool found = false;

        for (i = 0; i < bs.n; i++)
            found = found || strcmp(bs.b[i].type, output_types[t]) == 0;
        if (ola_output_find(output_types[t]) != NULL && !found) {
            print_message("no block for the %s output\n", output_types[t]);
            wrong++;
        }
    }
    /* every common key but type in some block */
    for (o = ola_output_options + 1; !complete && o->name != NULL; o++) {
        bool found = false;

        for (i = 0; i < bs.n; i++)
            found = found || ex_find(&bs.b[i].keys, o->name) != NULL;
        if (!found) {
            print_message("outputs: %s is in the option tables, in no block\n", o->name);
            wrong++;
        }
    }
    return wrong;
}

static void test_example_outputs_match_tables(void **state)
{
    char *file = read_example();
    size_t checked = 0, wrong;

    (void)state;
    wrong = check_blocks(file, false, &checked);
    print_message("%zu keys of the outputs' tables held to the example\n", checked);
    assert_true(checked >= 40);
    assert_int_equal(wrong, 0);
    free(file);
}

/* The block check finds what it is for: an unknown key, a default and a help
 * that differ, a plugin key missing, a type that does not exist. */
static void test_example_outputs_check_finds_disagreement(void **state)
{
    static const char text[] =
        "outputs:\n"
        "  - type: stdout\n"
        "    formt: json\n" /* unknown */
        "\n"
        "  # - type: syslog\n"
        "  #   rfc: 3164                 # 5424 (default) or 3164\n" /* default */
        "  #   oversize: truncate        # what to do\n"             /* help */
        "\n"
        "  # - type: nosuch\n"; /* no such type; every syslog key but two missing */
    size_t checked = 0, n_syslog = 0;
    const struct ola_opt *o;

    (void)state;
    for (o = ola_output_find("syslog")->opts; o->name != NULL; o++)
        n_syslog++;
    /* formt, rfc's default, oversize's help, the syslog keys not there, nosuch,
     * the five common keys but type in no block, the types without a block */
    assert_int_equal(check_blocks(text, false, &checked),
                     1 + 1 + 1 + 1 + (n_syslog - 2) + 5 +
                         (ola_output_find("file") != NULL) +
                         (ola_output_find("kafka") != NULL));
}

/* `olagent config example` prints each output type's keys as the tables say. */
static void test_config_example_prints_outputs(void **state)
{
    static struct ex_keys ks;
    char *text = NULL;
    size_t len = 0, checked = 0;
    FILE *mem = open_memstream(&text, &len);

    (void)state;
    assert_non_null(mem);
    ola_settings_print_example(mem);
    assert_int_equal(fclose(mem), 0);
    assert_non_null(strstr(text, "\n  # - type: syslog\n"));
    assert_non_null(strstr(text, "\n  #   transport: tcp\n"));
    assert_int_equal(check_blocks(text, true, &checked), 0);
    print_message("%zu keys of the outputs' tables printed\n", checked);
    assert_true(checked >= 40);
    scan_example(text, &ks);
    checked = 0;
    assert_int_equal(check_table(&ks, "", ola_settings_options, &checked, CT_COMPLETE),
                     0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_defaults_are_built_in),
        cmocka_unit_test(test_example_matches_tables),
        cmocka_unit_test(test_example_check_finds_disagreement),
        cmocka_unit_test(test_example_outputs_match_tables),
        cmocka_unit_test(test_example_outputs_check_finds_disagreement),
        cmocka_unit_test(test_config_example_prints_outputs),
    };

    setenv("ONELOGIN_CLIENT_ID", "example-id", 1);
    setenv("ONELOGIN_CLIENT_SECRET", "example-secret", 1);
    setenv("KAFKA_PASSWORD", "example-password", 1);
    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
