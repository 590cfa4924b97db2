/*
 * sigma_cond.c - a Sigma detection's selections and condition as one tree
 * of olagent expressions, and the pruning that keeps it safe (sigma_priv.h).
 *
 * A selection that is a map is the AND of its fields (sigma_value.c), a list
 * of maps the OR of those; a list of plain values (a keyword search over the
 * whole event) has no olagent equivalent. The condition is read by a small
 * recursive-descent parser with Sigma's precedence, loosest first: or, and,
 * not, `1 of`/`all of` (`them`: every selection not starting with `_`; a
 * pattern: `*` matches any run of characters), parentheses. Each reference
 * builds the selection afresh, so the tree has no shared parts. An
 * aggregation (`| count() ...`), `near` or a parse error makes the whole rule
 * unconvertible. A condition that is a list is the OR of its items.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filters/rules/sigma_priv.h"

struct ola_sg_parse {
    const struct ola_cfg *det;
    const char *p; /* the condition text, read left to right */
    int line;
    char *why; /* the reason when failed; left empty on ENOMEM */
    size_t why_size;
    bool failed;
};

static struct ola_sg_node *ola_sg_fail(struct ola_sg_parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static struct ola_sg_node *ola_sg_fail(struct ola_sg_parse *ps, const char *fmt, ...)
{
    va_list ap;

    if (!ps->failed) {
        va_start(ap, fmt);
        vsnprintf(ps->why, ps->why_size, fmt, ap);
        va_end(ap);
    }
    ps->failed = true;
    return NULL;
}

/* ---- selections ---------------------------------------------------------- */

/* A map of fields: their AND. */
static struct ola_sg_node *ola_sg_map(const struct ola_cfg *map)
{
    struct ola_sg_node *n = ola_sg_new(OLA_SG_AND, ola_cfg_line(map));
    size_t i;

    for (i = 0; n != NULL && i < ola_cfg_len(map); i++)
        if (ola_sg_add(n, ola_sg_field(ola_cfg_key_at(map, i), ola_cfg_at(map, i),
                                       ola_cfg_key_line(map, i))) != 0) {
            ola_sg_free(n);
            return NULL;
        }
    if (n != NULL && n->n == 0) {
        ola_sg_free(n);
        return ola_sg_newf(OLA_SG_BAD, ola_cfg_line(map), "an empty selection");
    }
    return n;
}

static struct ola_sg_node *ola_sg_selection(const char *name, const struct ola_cfg *sel)
{
    struct ola_sg_node *n;
    size_t i;

    if (ola_cfg_type(sel) == OLA_CFG_MAP)
        return ola_sg_map(sel);
    if (ola_cfg_type(sel) != OLA_CFG_SEQ || ola_cfg_len(sel) == 0)
        return ola_sg_newf(OLA_SG_BAD, ola_cfg_line(sel),
                           "selection '%s' is neither a map nor a list of maps", name);
    n = ola_sg_new(OLA_SG_OR, ola_cfg_line(sel));
    for (i = 0; n != NULL && i < ola_cfg_len(sel); i++) {
        const struct ola_cfg *item = ola_cfg_at(sel, i);

        if (ola_sg_add(n, ola_cfg_type(item) == OLA_CFG_MAP
                              ? ola_sg_map(item)
                              : ola_sg_newf(OLA_SG_BAD, ola_cfg_line(item),
                                            "keyword search in '%s' (a value with no "
                                            "field)",
                                            name)) != 0) {
            ola_sg_free(n);
            return NULL;
        }
    }
    return n;
}

/* Sigma's identifier patterns: `*` matches any run of characters. */
static bool ola_sg_glob_match(const char *pat, const char *s)
{
    if (*pat == '\0')
        return *s == '\0';
    if (*pat == '*')
        return ola_sg_glob_match(pat + 1, s) ||
               (*s != '\0' && ola_sg_glob_match(pat, s + 1));
    return *s == *pat && ola_sg_glob_match(pat + 1, s + 1);
}

/* ---- the condition ------------------------------------------------------- */

static void ola_sg_skip(struct ola_sg_parse *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* The next word (identifier, pattern or keyword) into w; its length. */
static size_t ola_sg_word(struct ola_sg_parse *ps, char *w, size_t size)
{
    size_t n = 0;

    ola_sg_skip(ps);
    while (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_' || ps->p[n] == '*' ||
           ps->p[n] == '-' || ps->p[n] == '.')
        n++;
    if (n == 0 || n >= size)
        return 0;
    memcpy(w, ps->p, n);
    w[n] = '\0';
    return n;
}

static bool ola_sg_keyword(struct ola_sg_parse *ps, const char *kw)
{
    char w[64];
    size_t n = ola_sg_word(ps, w, sizeof(w));

    if (n == 0 || strcasecmp(w, kw) != 0)
        return false;
    ps->p += n;
    return true;
}

static struct ola_sg_node *ola_sg_or(struct ola_sg_parse *ps);

/* `1 of X` / `all of X`: the OR / AND of the matching selections. */
static struct ola_sg_node *ola_sg_of(struct ola_sg_parse *ps, bool all)
{
    struct ola_sg_node *n;
    char pat[256];
    size_t i, len;
    bool them;

    if (!ola_sg_keyword(ps, "of"))
        return ola_sg_fail(ps, "expected 'of' after '%s'", all ? "all" : "1");
    len = ola_sg_word(ps, pat, sizeof(pat));
    if (len == 0)
        return ola_sg_fail(ps, "expected 'them' or a selection pattern after 'of'");
    ps->p += len;
    them = strcmp(pat, "them") == 0;
    n = ola_sg_new(all ? OLA_SG_AND : OLA_SG_OR, ps->line);
    for (i = 0; n != NULL && i < ola_cfg_len(ps->det); i++) {
        const char *key = ola_cfg_key_at(ps->det, i);

        if (strcmp(key, "condition") == 0 || strcmp(key, "timeframe") == 0 ||
            (them ? key[0] == '_' : !ola_sg_glob_match(pat, key)))
            continue;
        if (ola_sg_add(n, ola_sg_selection(key, ola_cfg_at(ps->det, i))) != 0) {
            ola_sg_free(n);
            return NULL;
        }
    }
    if (n == NULL)
        return NULL;
    if (n->n == 0) {
        ola_sg_free(n);
        return ola_sg_fail(ps, "'%s' names no selection", pat);
    }
    return n;
}

static struct ola_sg_node *ola_sg_primary(struct ola_sg_parse *ps)
{
    struct ola_sg_node *n;
    const struct ola_cfg *sel;
    char w[256];
    size_t len;

    ola_sg_skip(ps);
    if (*ps->p == '(') {
        ps->p++;
        n = ola_sg_or(ps);
        ola_sg_skip(ps);
        if (n != NULL && *ps->p != ')') {
            ola_sg_free(n);
            return ola_sg_fail(ps, "expected ')'");
        }
        ps->p++;
        return n;
    }
    len = ola_sg_word(ps, w, sizeof(w));
    if (len == 0)
        return ola_sg_fail(
            ps, *ps->p == '\0' ? "the condition ends early" : "unexpected '%c'", *ps->p);
    ps->p += len;
    if (strcmp(w, "1") == 0 || strcasecmp(w, "any") == 0 || strcasecmp(w, "all") == 0)
        return ola_sg_of(ps, strcasecmp(w, "all") == 0);
    if (isdigit((unsigned char)w[0]))
        return ola_sg_fail(ps, "'%s of' (a count of selections) cannot be converted", w);
    if (strcasecmp(w, "near") == 0)
        return ola_sg_fail(ps, "'near' cannot be converted");
    if (strchr(w, '*') != NULL || strcmp(w, "condition") == 0 ||
        (sel = ola_cfg_get(ps->det, w)) == NULL)
        return ola_sg_fail(ps, "'%s' is not a selection of this rule", w);
    return ola_sg_selection(w, sel);
}

static struct ola_sg_node *ola_sg_not(struct ola_sg_parse *ps)
{
    struct ola_sg_node *n, *kid;

    if (!ola_sg_keyword(ps, "not"))
        return ola_sg_primary(ps);
    kid = ola_sg_not(ps);
    if (kid == NULL)
        return NULL;
    n = ola_sg_new(OLA_SG_NOT, ps->line);
    if (n == NULL || ola_sg_add(n, kid) != 0) {
        if (n == NULL)
            ola_sg_free(kid);
        ola_sg_free(n);
        return NULL;
    }
    return n;
}

/* Left-associative `a KW b KW c` of the next tighter level. */
static struct ola_sg_node *ola_sg_chain(struct ola_sg_parse *ps, bool is_and)
{
    struct ola_sg_node *n = NULL, *kid;

    for (;;) {
        kid = is_and ? ola_sg_not(ps) : ola_sg_chain(ps, true);
        if (kid == NULL)
            goto fail;
        if (n == NULL &&
            (n = ola_sg_new(is_and ? OLA_SG_AND : OLA_SG_OR, ps->line)) == NULL) {
            ola_sg_free(kid);
            goto fail;
        }
        if (ola_sg_add(n, kid) != 0)
            goto fail;
        if (!ola_sg_keyword(ps, is_and ? "and" : "or"))
            return n;
    }
fail:
    ola_sg_free(n);
    return NULL;
}

static struct ola_sg_node *ola_sg_or(struct ola_sg_parse *ps)
{
    return ola_sg_chain(ps, false);
}

/* One condition string. */
static struct ola_sg_node *ola_sg_condition(struct ola_sg_parse *ps, const char *text)
{
    struct ola_sg_node *n;

    if (strchr(text, '|') != NULL)
        return ola_sg_fail(ps,
                           "aggregation '%s' cannot be converted (write an olagent "
                           "alert: rule, docs/rules.md \"Alerts\")",
                           strchr(text, '|'));
    ps->p = text;
    n = ola_sg_or(ps);
    ola_sg_skip(ps);
    if (n != NULL && *ps->p != '\0') {
        ola_sg_free(n);
        return ola_sg_fail(ps, "unexpected '%s' in the condition", ps->p);
    }
    return n;
}

struct ola_sg_node *ola_sg_detection(const struct ola_cfg *det, char *why,
                                     size_t why_size, int *why_line)
{
    struct ola_sg_parse ps;
    const struct ola_cfg *cond = ola_cfg_get(det, "condition");
    struct ola_sg_node *n = NULL;
    size_t i, k;

    memset(&ps, 0, sizeof(ps));
    ps.det = det;
    ps.why = why;
    ps.why_size = why_size;
    why[0] = '\0';
    *why_line = ola_cfg_line(det);
    if (ola_cfg_type(det) != OLA_CFG_MAP) {
        snprintf(why, why_size, "detection: expected a map");
        return NULL;
    }
    if (cond == NULL) {
        snprintf(why, why_size, "detection: no condition");
        return NULL;
    }
    *why_line = ps.line = ola_cfg_line(cond);
    if (ola_cfg_type(cond) == OLA_CFG_SCALAR)
        return ola_sg_condition(&ps, ola_cfg_scalar(cond));
    k = ola_cfg_type(cond) == OLA_CFG_SEQ ? ola_cfg_len(cond) : 0;
    if (k == 0) {
        snprintf(why, why_size, "condition: expected text or a list of texts");
        return NULL;
    }
    n = ola_sg_new(OLA_SG_OR, ps.line);
    for (i = 0; n != NULL && i < k; i++) {
        const char *text = ola_cfg_scalar(ola_cfg_at(cond, i));

        ps.line = *why_line = ola_cfg_line(ola_cfg_at(cond, i));
        if (text == NULL) {
            snprintf(why, why_size, "condition: expected text or a list of texts");
            goto fail;
        }
        if (ola_sg_add(n, ola_sg_condition(&ps, text)) != 0)
            goto fail;
    }
    if (n == NULL)
        why[0] = '\0';
    return n;
fail:
    ola_sg_free(n);
    return NULL;
}

/* ---- pruning ------------------------------------------------------------- */

void ola_sg_report_bad(const struct ola_sg_node *n, ola_sg_report_fn *report, void *arg)
{
    size_t i;

    if (n->kind == OLA_SG_BAD && n->text != NULL)
        report(arg, n, false);
    for (i = 0; i < n->n; i++)
        ola_sg_report_bad(n->kids[i], report, arg);
}

static void ola_sg_left_out(const struct ola_sg_node *n, ola_sg_report_fn *report,
                            void *arg)
{
    size_t i;

    if (n->kind == OLA_SG_BAD && n->text != NULL)
        report(arg, n, true);
    for (i = 0; i < n->n; i++)
        ola_sg_left_out(n->kids[i], report, arg);
}

/*
 * Turns n into BAD (keeping its kids, for the reasons) when it cannot be
 * converted. positive: no odd number of `not`s above n, so n matching less
 * makes the rule match less: a BAD kid of an OR is left out there, of an AND
 * under a `not`.
 */
static void ola_sg_prune_at(struct ola_sg_node *n, bool positive,
                            ola_sg_report_fn *report, void *arg)
{
    bool droppable;
    size_t i, j;

    if (n->kind == OLA_SG_NOT) {
        ola_sg_prune_at(n->kids[0], !positive, report, arg);
        if (n->kids[0]->kind == OLA_SG_BAD)
            n->kind = OLA_SG_BAD;
        return;
    }
    if (n->kind != OLA_SG_AND && n->kind != OLA_SG_OR)
        return;
    droppable = (n->kind == OLA_SG_OR) == positive;
    for (i = 0; i < n->n; i++) {
        ola_sg_prune_at(n->kids[i], positive, report, arg);
        if (n->kids[i]->kind == OLA_SG_BAD && !droppable)
            n->kind = OLA_SG_BAD;
    }
    if (n->kind == OLA_SG_BAD)
        return;
    for (i = j = 0; i < n->n; i++) {
        if (n->kids[i]->kind == OLA_SG_BAD) {
            ola_sg_left_out(n->kids[i], report, arg);
            ola_sg_free(n->kids[i]);
        } else {
            n->kids[j++] = n->kids[i];
        }
    }
    n->n = j;
    if (j == 0)
        n->kind = OLA_SG_BAD;
}

/* Unwraps all/any of one kid; all: [all: [a, b], c] becomes all: [a, b, c]. */
static struct ola_sg_node *ola_sg_tidy(struct ola_sg_node *n, bool *nomem)
{
    size_t i, m;

    for (i = 0; i < n->n; i++)
        n->kids[i] = ola_sg_tidy(n->kids[i], nomem);
    while ((n->kind == OLA_SG_AND || n->kind == OLA_SG_OR) && n->n == 1) {
        struct ola_sg_node *k = n->kids[0];

        n->n = 0;
        ola_sg_free(n);
        n = k;
    }
    for (i = 0; (n->kind == OLA_SG_AND || n->kind == OLA_SG_OR) && i < n->n; i++) {
        struct ola_sg_node *k = n->kids[i], **kids;

        if (k->kind != n->kind)
            continue;
        kids = calloc(n->n - 1 + k->n, sizeof(*kids));
        if (kids == NULL) {
            *nomem = true;
            return n;
        }
        memcpy(kids, n->kids, i * sizeof(*kids));
        memcpy(kids + i, k->kids, k->n * sizeof(*kids));
        for (m = i + 1; m < n->n; m++)
            kids[m - 1 + k->n] = n->kids[m];
        free(n->kids);
        n->kids = kids;
        n->n = n->cap = n->n - 1 + k->n;
        i += k->n - 1;
        k->n = 0;
        ola_sg_free(k);
    }
    return n;
}

struct ola_sg_node *ola_sg_prune(struct ola_sg_node *n, ola_sg_report_fn *report,
                                 void *arg, bool *nomem)
{
    *nomem = false;
    ola_sg_prune_at(n, true, report, arg);
    if (n->kind == OLA_SG_BAD)
        return NULL;
    return ola_sg_tidy(n, nomem);
}
