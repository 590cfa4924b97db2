/*
 * example_scan.h - reading the example config, for the tests that hold it to
 * the option tables (test_example_config.c, test_example_outputs.c).
 *
 * scan_example() reads the keys a config text writes, set or commented out,
 * with the comment block above each and its trailing comment; check_table()
 * holds a table and those keys to each other: a key the table does not know,
 * a key of the table missing (CT_COMPLETE), a default or a help that differs.
 * Some keys' example values only illustrate (is_illustrative). Every function
 * here is used by both tests (static: each test is one file).
 */
#ifndef OLA_TEST_EXAMPLE_SCAN_H
#define OLA_TEST_EXAMPLE_SCAN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/fileio.h"
#include "config/config.h"
#include "config/options.h"

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
    char *text = NULL;
    size_t len = 0;

    assert_non_null(src);
    assert_true(snprintf(path, sizeof(path), "%s/config/olagent.example.yaml", src) <
                (int)sizeof(path));
    assert_int_equal(ola_read_file(path, (size_t)1 << 20, &text, &len), 0);
    assert_true(len > 0);
    return text;
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
static size_t check_table_mode(const struct ex_keys *ks, const char *path,
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
            wrong += check_table_mode(ks, where, o->sub, checked, mode);
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

/* check_table_mode with every key of the table in the example (CT_COMPLETE). */
static inline size_t check_table(const struct ex_keys *ks, const char *path,
                                 const struct ola_opt *tab, size_t *checked)
{
    return check_table_mode(ks, path, tab, checked, CT_COMPLETE);
}

#endif
