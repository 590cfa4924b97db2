/*
 * sigma.c - `olagent rules import-sigma`: Sigma rules for OneLogin in,
 * olagent rule YAML out (sigma.h).
 *
 * Each file is read as plain YAML data (no ${VAR} expansion) and checked
 * (logsource.product onelogin, a detection); sigma_cond.c turns its
 * detection into a tree of olagent conditions, prune leaves out only what
 * makes the rule match less, and the rule is written here as text: a
 * comment naming the Sigma file and id, name from the title, severity from
 * the level, technique tags (attack.tNNNN) as the default pack has them, the match in
 * block style, and an empty tests: list for the user. |cidr values become list files (the
 * language reads CIDR lists from files only) declared under lists:.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/core/vec.h"
#include "filters/rules/sigma.h"
#include "filters/rules/sigma_priv.h"

#define OLA_SIGMA_NAME_MAX 64

struct ola_sigma_list {
    char *file, *content;
};

struct ola_sigma_conv {
    struct ola_buf rules, lists;
    struct ola_sigma_list *files;
    size_t n_files, cap_files;
    char **names; /* rule names given so far */
    size_t n_names, cap_names;
};

/* One rule being converted: where messages go and what they say. */
struct ola_sigma_rule {
    struct ola_sigma_conv *cv;
    const char *file, *title;
    char name[OLA_SIGMA_NAME_MAX + 8];
    struct ola_buf left, skipped; /* message lines, kept until the outcome is known */
    size_t n_cidr;
    bool nomem;
};

struct ola_sigma_conv *ola_sigma_conv_new(void)
{
    return calloc(1, sizeof(struct ola_sigma_conv));
}

void ola_sigma_conv_destroy(struct ola_sigma_conv *cv)
{
    size_t i;

    if (cv == NULL)
        return;
    for (i = 0; i < cv->n_files; i++) {
        free(cv->files[i].file);
        free(cv->files[i].content);
    }
    for (i = 0; i < cv->n_names; i++)
        free(cv->names[i]);
    free(cv->files);
    free(cv->names);
    ola_buf_free(&cv->rules);
    ola_buf_free(&cv->lists);
    free(cv);
}

/* ---- messages ------------------------------------------------------------ */

/* Collects one message line, once per line and reason. */
static void ola_sigma_report(void *arg, const struct ola_sg_node *bad, bool left_out)
{
    struct ola_sigma_rule *r = arg;
    struct ola_buf *b = left_out ? &r->left : &r->skipped;
    struct ola_buf line = OLA_BUF_INIT;

    if (ola_buf_printf(&line, "%s:%d: rule '%s': %s %s%s\n", r->file, bad->line, r->title,
                       left_out ? "left out:" : "cannot convert:", bad->text,
                       left_out ? " (the olagent rule matches less than the Sigma rule)"
                                : "") != 0) {
        r->nomem = true;
    } else if (b->data == NULL || strstr(b->data, line.data) == NULL) {
        if (ola_buf_append(b, line.data, line.len) != 0 || ola_buf_putc(b, '\0') != 0)
            r->nomem = true;
        else
            b->len--;
    }
    ola_buf_free(&line);
}

/* ---- names, levels, tags ------------------------------------------------- */

/* "sigma_" + the title (else the id) in lower case, `_` between words. */
static int ola_sigma_name(struct ola_sigma_rule *r, const char *title, const char *id)
{
    struct ola_sigma_conv *cv = r->cv;
    const char *s = title != NULL ? title : id;
    size_t n = 0, i, k;
    char base[OLA_SIGMA_NAME_MAX + 1];

    n = (size_t)snprintf(base, sizeof(base), "sigma_");
    for (; s != NULL && *s != '\0' && n < OLA_SIGMA_NAME_MAX; s++) {
        if (isalnum((unsigned char)*s))
            base[n++] = (char)tolower((unsigned char)*s);
        else if (base[n - 1] != '_')
            base[n++] = '_';
    }
    while (n > 6 && base[n - 1] == '_')
        n--;
    base[n] = '\0';
    if (n == 6)
        snprintf(base + n, sizeof(base) - n, "rule");
    snprintf(r->name, sizeof(r->name), "%s", base);
    for (k = 2;; k++) {
        for (i = 0; i < cv->n_names && strcmp(cv->names[i], r->name) != 0; i++)
            ;
        if (i == cv->n_names)
            break;
        snprintf(r->name, sizeof(r->name), "%s_%zu", base, k);
    }
    if (OLA_VEC_GROW(cv->names, cv->cap_names, cv->n_names + 1) != 0 ||
        (cv->names[cv->n_names] = strdup(r->name)) == NULL)
        return -1;
    cv->n_names++;
    return 0;
}

/* A comment's text on one line. */
static int ola_sigma_comment(struct ola_buf *b, const char *s)
{
    int rc = 0;

    for (; rc == 0 && *s != '\0'; s++)
        rc = ola_buf_putc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
    return rc;
}

static const char *ola_sigma_level(const char *level)
{
    static const char *const map[][2] = {{"informational", "info"},
                                         {"low", "low"},
                                         {"medium", "medium"},
                                         {"high", "high"},
                                         {"critical", "critical"}};
    size_t i;

    for (i = 0; level != NULL && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(level, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

/* `attack.t1078.004` -> "T1078.004" into out; 0, or -1 when tag is no technique. */
static int ola_sigma_technique(const char *tag, char *out, size_t size)
{
    const char *p = tag + 8;
    size_t i;

    if (strncasecmp(tag, "attack.t", 8) != 0)
        return -1;
    for (i = 0; i < 4; i++)
        if (!isdigit((unsigned char)p[i]))
            return -1;
    if (p[4] != '\0' &&
        !(p[4] == '.' && isdigit((unsigned char)p[5]) && isdigit((unsigned char)p[6]) &&
          isdigit((unsigned char)p[7]) && p[8] == '\0'))
        return -1;
    snprintf(out, size, "attack.t%s", p); /* the default pack's spelling */
    return 0;
}

/* ---- the match ----------------------------------------------------------- */

static int ola_sigma_indent(struct ola_buf *b, int col)
{
    int i, rc = 0;

    for (i = 0; rc == 0 && i < col; i++)
        rc = ola_buf_putc(b, ' ');
    return rc;
}

/* A CIDR leaf: its list file and declaration, and the in_list condition. */
static int ola_sigma_cidr(struct ola_sigma_rule *r, const struct ola_sg_node *n,
                          struct ola_buf *b)
{
    struct ola_sigma_conv *cv = r->cv;
    struct ola_buf content = OLA_BUF_INIT, file = OLA_BUF_INIT;
    size_t i;
    int rc = -1;

    r->n_cidr++;
    if (ola_buf_printf(&file, "%s_cidr%zu.txt", r->name, r->n_cidr) != 0 ||
        ola_buf_printf(&content, "# %s, Sigma %s line %d (%s|cidr)\n", r->name, r->file,
                       n->line, n->text) != 0)
        goto done;
    for (i = 0; i < n->n_vals; i++)
        if (ola_buf_printf(&content, "%s\n", n->vals[i]) != 0)
            goto done;
    if (ola_buf_printf(&cv->lists, "  %s_cidr%zu: {file: ", r->name, r->n_cidr) != 0 ||
        ola_sg_yaml_str(&cv->lists, file.data) != 0 ||
        ola_buf_puts(&cv->lists, ", type: cidr}\n") != 0 ||
        OLA_VEC_GROW(cv->files, cv->cap_files, cv->n_files + 1) != 0 ||
        ola_buf_printf(b, "{field: %s, in_list: %s_cidr%zu}\n", n->text, r->name,
                       r->n_cidr) != 0)
        goto done;
    cv->files[cv->n_files].file = ola_buf_steal(&file, NULL);
    cv->files[cv->n_files].content = ola_buf_steal(&content, NULL);
    cv->n_files++;
    rc = 0;
done:
    ola_buf_free(&content);
    ola_buf_free(&file);
    return rc;
}

static int ola_sigma_block(struct ola_sigma_rule *r, const struct ola_sg_node *n, int col,
                           struct ola_buf *b);

/* n as a sequence item; the "- " is written, col is where n starts. */
static int ola_sigma_item(struct ola_sigma_rule *r, const struct ola_sg_node *n, int col,
                          struct ola_buf *b)
{
    if (n->kind == OLA_SG_LEAF)
        return ola_buf_printf(b, "%s\n", n->text);
    if (n->kind == OLA_SG_CIDR)
        return ola_sigma_cidr(r, n, b);
    return ola_sigma_block(r, n, col, b);
}

/* n as a map value after "key:". */
static int ola_sigma_value(struct ola_sigma_rule *r, const struct ola_sg_node *n, int col,
                           struct ola_buf *b)
{
    if (n->kind == OLA_SG_LEAF || n->kind == OLA_SG_CIDR)
        return ola_buf_putc(b, ' ') != 0 ? -1 : ola_sigma_item(r, n, col, b);
    if (ola_buf_putc(b, '\n') != 0 || ola_sigma_indent(b, col) != 0)
        return -1;
    return ola_sigma_block(r, n, col, b);
}

/* all/any/not as a block map; its first line's indent is written. */
static int ola_sigma_block(struct ola_sigma_rule *r, const struct ola_sg_node *n, int col,
                           struct ola_buf *b)
{
    size_t i;

    if (n->kind == OLA_SG_NOT)
        return ola_buf_puts(b, "not:") != 0 ? -1
                                            : ola_sigma_value(r, n->kids[0], col + 2, b);
    if (ola_buf_puts(b, n->kind == OLA_SG_AND ? "all:\n" : "any:\n") != 0)
        return -1;
    for (i = 0; i < n->n; i++)
        if (ola_sigma_indent(b, col + 2) != 0 || ola_buf_puts(b, "- ") != 0 ||
            ola_sigma_item(r, n->kids[i], col + 4, b) != 0)
            return -1;
    return 0;
}

/* ---- one rule ------------------------------------------------------------ */

static const char *ola_sigma_str(const struct ola_cfg *map, const char *key)
{
    return ola_cfg_scalar(ola_cfg_get(map, key));
}

/* Writes the converted rule (tree: the pruned match) into cv->rules. */
static int ola_sigma_emit(struct ola_sigma_rule *r, const struct ola_cfg *root,
                          const struct ola_sg_node *tree)
{
    struct ola_buf *b = &r->cv->rules;
    const struct ola_cfg *tags = ola_cfg_get(root, "tags");
    const char *id = ola_sigma_str(root, "id"),
               *desc = ola_sigma_str(root, "description");
    const char *level = ola_sigma_str(root, "level"), *sev = ola_sigma_level(level);
    const char *author = ola_sigma_str(root, "author");
    size_t i;
    char tech[32];

    if (ola_buf_printf(b, "\n  # From Sigma %s\n  # id %s: \"", r->file,
                       id ? id : "(none)") != 0 ||
        ola_sigma_comment(b, r->title) != 0 || ola_buf_puts(b, "\"") != 0 ||
        (author != NULL &&
         (ola_buf_puts(b, " by ") != 0 || ola_sigma_comment(b, author) != 0)) ||
        ola_buf_printf(b, "\n  - name: %s\n", r->name) != 0)
        return -1;
    if (desc != NULL && (ola_buf_puts(b, "    description: ") != 0 ||
                         ola_sg_yaml_str(b, desc) != 0 || ola_buf_putc(b, '\n') != 0))
        return -1;
    if (ola_buf_puts(b, "    match:") != 0 || ola_sigma_value(r, tree, 6, b) != 0 ||
        ola_buf_printf(b, "    tags: [sigma, %s", r->name) != 0)
        return -1;
    /* techniques are tags, as in the default pack: attack.t1078.004 */
    for (i = 0; ola_cfg_type(tags) == OLA_CFG_SEQ && i < ola_cfg_len(tags); i++) {
        const char *t = ola_cfg_scalar(ola_cfg_at(tags, i));

        if (t == NULL || ola_sigma_technique(t, tech, sizeof(tech)) != 0)
            continue;
        if (ola_buf_printf(b, ", %s", tech) != 0)
            return -1;
    }
    if (ola_buf_puts(b, "]\n") != 0)
        return -1;
    if (sev != NULL && ola_buf_printf(b, "    severity: %s\n", sev) != 0)
        return -1;
    return ola_buf_puts(
        b, "    # cases for you to write: events the Sigma rule means to "
           "catch\n    # (expect true) and near misses (expect false)\n    tests: []\n");
}

/* Whole-rule problems: the rule is skipped with one message. */
static int ola_sigma_skip(struct ola_sigma_rule *r, int line, const char *why, FILE *msgs)
{
    fprintf(msgs, "%s:%d: rule '%s': skipped: %s\n", r->file, line, r->title, why);
    return OLA_SIGMA_INCOMPLETE;
}

static int ola_sigma_rule(struct ola_sigma_rule *r, const struct ola_cfg *root,
                          FILE *msgs)
{
    const struct ola_cfg *ls = ola_cfg_get(root, "logsource");
    const char *product = ola_sigma_str(ls, "product");
    struct ola_sg_node *tree, *kept;
    char why[512];
    int line, rc;
    bool nomem;

    if (ola_cfg_get(root, "correlation") != NULL)
        return ola_sigma_skip(r, ola_cfg_line(ola_cfg_get(root, "correlation")),
                              "a correlation rule cannot be converted (write an olagent "
                              "alert: rule, docs/rules.md \"Alerts\")",
                              msgs);
    if (product == NULL || strcasecmp(product, "onelogin") != 0) {
        snprintf(why, sizeof(why), "logsource.product is '%s', not onelogin",
                 product != NULL ? product : "(none)");
        return ola_sigma_skip(r, ls != NULL ? ola_cfg_line(ls) : ola_cfg_line(root), why,
                              msgs);
    }
    if (ola_cfg_get(root, "detection") == NULL)
        return ola_sigma_skip(r, ola_cfg_line(root), "no detection:", msgs);
    tree = ola_sg_detection(ola_cfg_get(root, "detection"), why, sizeof(why), &line);
    if (tree == NULL)
        return why[0] == '\0' ? -1 : ola_sigma_skip(r, line, why, msgs);
    ola_sg_report_bad(tree, ola_sigma_report, r);
    kept = ola_sg_prune(tree, ola_sigma_report, r, &nomem);
    if (kept == NULL) {
        ola_sg_free(tree);
        if (r->nomem)
            return -1;
        fputs(r->skipped.data != NULL ? r->skipped.data : "", msgs);
        fprintf(msgs,
                "%s:%d: rule '%s': skipped (no part of it may be left out without "
                "the rule matching more)\n",
                r->file, ola_cfg_line(ola_cfg_get(root, "detection")), r->title);
        return OLA_SIGMA_INCOMPLETE;
    }
    rc = nomem || r->nomem ||
                 ola_sigma_name(r, ola_sigma_str(root, "title"),
                                ola_sigma_str(root, "id")) != 0 ||
                 ola_sigma_emit(r, root, kept) != 0
             ? -1
             : 0;
    ola_sg_free(kept);
    if (rc != 0)
        return -1;
    if (r->left.len > 0) {
        fputs(r->left.data, msgs);
        return OLA_SIGMA_INCOMPLETE;
    }
    return OLA_SIGMA_OK;
}

int ola_sigma_convert(struct ola_sigma_conv *cv, const char *name, const char *text,
                      size_t len, FILE *msgs)
{
    struct ola_sigma_rule r;
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err = {0, ""};
    const struct ola_cfg *root;
    int rc;

    memset(&r, 0, sizeof(r));
    r.cv = cv;
    r.file = name;
    if (ola_cfg_load_string_raw(name, text, len, &doc, &err) != 0) {
        if (err.code == ENOMEM)
            return -1;
        fprintf(msgs, "%s\n", err.msg);
        return OLA_SIGMA_UNREADABLE;
    }
    root = ola_cfg_root(doc);
    r.title = ola_sigma_str(root, "title");
    if (r.title == NULL)
        r.title = "(no title)";
    if (ola_cfg_type(root) != OLA_CFG_MAP)
        rc = ola_sigma_skip(&r, ola_cfg_line(root), "not a Sigma rule (expected a map)",
                            msgs);
    else
        rc = ola_sigma_rule(&r, root, msgs);
    ola_buf_free(&r.left);
    ola_buf_free(&r.skipped);
    ola_cfg_doc_destroy(doc);
    return rc;
}

int ola_sigma_render(const struct ola_sigma_conv *cv, struct ola_buf *out)
{
    if (ola_buf_puts(out, "# olagent rules converted from Sigma by `olagent rules "
                          "import-sigma`\n# (docs/rules.md, \"Importing Sigma rules\"). "
                          "SigmaHQ's rules are under the\n# Detection Rule License 1.1: "
                          "keep their authors' names with them.\n") != 0)
        return -1;
    if (cv->lists.len > 0 && (ola_buf_puts(out, "lists:\n") != 0 ||
                              ola_buf_append(out, cv->lists.data, cv->lists.len) != 0))
        return -1;
    if (cv->rules.len == 0)
        return ola_buf_puts(out, "rules: []\n");
    if (ola_buf_puts(out, "rules:") != 0 ||
        ola_buf_append(out, cv->rules.data, cv->rules.len) != 0)
        return -1;
    return 0;
}

size_t ola_sigma_list_count(const struct ola_sigma_conv *cv)
{
    return cv->n_files;
}

const char *ola_sigma_list_file(const struct ola_sigma_conv *cv, size_t i,
                                const char **content)
{
    if (i >= cv->n_files)
        return NULL;
    *content = cv->files[i].content;
    return cv->files[i].file;
}
