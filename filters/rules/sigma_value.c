/*
 * sigma_value.c - one Sigma field entry as olagent conditions (sigma_priv.h).
 *
 * `FIELD|MOD|...: VALUE(S)`: the field must be a OneLogin event field (the
 * table below; docs/rules.md, "Importing Sigma rules"), the modifiers ones
 * with an olagent equivalent. Values are ORed (ANDed with |all). Sigma
 * compares text without case unless |cased; a value's `*` and `?`
 * wildcards (`\*`, `\?`, `\\` escape them) become a POSIX regex, a plain
 * value without wildcards an `equals`/`in`, startswith a `prefix`. |re
 * patterns are translated from Sigma's PCRE subset to POSIX ERE (ola_sg_regex)
 * and checked with regex_guard and regcomp here, so a converted rule loads.
 * Whatever has no safe equivalent becomes a BAD node with the reason.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/core/vec.h"
#include "filters/rules/lists.h"
#include "filters/rules/regex_guard.h"
#include "filters/rules/sigma_priv.h"

/* Sigma's OneLogin field names and the OneLogin event fields olagent gets. */
static const struct {
    const char *sigma, *olagent;
} ola_sg_fields[] = {
    {"id", "id"},
    {"created_at", "created_at"},
    {"account_id", "account_id"},
    {"event_type_id", "event_type_id"},
    {"user_id", "user_id"},
    {"user_name", "user_name"},
    {"actor_user_id", "actor_user_id"},
    {"actor_user_name", "actor_user_name"},
    {"assuming_acting_user_id", "assuming_acting_user_id"},
    {"actor_system", "actor_system"},
    {"ipaddr", "ipaddr"},
    {"notes", "notes"},
    {"custom_message", "custom_message"},
    {"role_id", "role_id"},
    {"role_name", "role_name"},
    {"app_id", "app_id"},
    {"app_name", "app_name"},
    {"app-name", "app_name"},
    {"group_id", "group_id"},
    {"group_name", "group_name"},
    {"group-name", "group_name"},
    {"otp_device_id", "otp_device_id"},
    {"otp_device_name", "otp_device_name"},
    {"policy_id", "policy_id"},
    {"policy_name", "policy_name"},
    {"policy_type", "policy_type"},
    {"operation_name", "operation_name"},
    {"directory_sync_run_id", "directory_sync_run_id"},
    {"directory_id", "directory_id"},
    {"resolution", "resolution"},
    {"client_id", "client_id"},
    {"resource_type_id", "resource_type_id"},
    {"error_description", "error_description"},
    {"proxy_ip", "proxy_ip"},
    {"risk_score", "risk_score"},
    {"risk_reasons", "risk_reasons"},
    {"risk_cookie_id", "risk_cookie_id"},
    {"browser_fingerprint", "browser_fingerprint"},
    {"privilege_id", "privilege_id"},
    {"trusted_idp_id", "trusted_idp_id"},
    {"object_id", "object_id"},
    {"param", "param"},
    {"solved", "solved"},
    {"resolved_at", "resolved_at"},
};

/* ---- nodes --------------------------------------------------------------- */

struct ola_sg_node *ola_sg_new(enum ola_sg_kind kind, int line)
{
    struct ola_sg_node *n = calloc(1, sizeof(*n));

    if (n != NULL) {
        n->kind = kind;
        n->line = line;
    }
    return n;
}

struct ola_sg_node *ola_sg_newf(enum ola_sg_kind kind, int line, const char *fmt, ...)
{
    struct ola_sg_node *n = ola_sg_new(kind, line);
    struct ola_buf b = OLA_BUF_INIT;
    va_list ap;
    int rc;

    if (n == NULL)
        return NULL;
    va_start(ap, fmt);
    rc = ola_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc != 0 || (n->text = ola_buf_steal(&b, NULL)) == NULL) {
        ola_buf_free(&b);
        free(n);
        return NULL;
    }
    return n;
}

int ola_sg_add(struct ola_sg_node *parent, struct ola_sg_node *kid)
{
    if (kid == NULL)
        return -1;
    if (OLA_VEC_GROW(parent->kids, parent->cap, parent->n + 1) != 0) {
        ola_sg_free(kid);
        return -1;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

void ola_sg_free(struct ola_sg_node *n)
{
    size_t i;

    if (n == NULL)
        return;
    for (i = 0; i < n->n; i++)
        ola_sg_free(n->kids[i]);
    for (i = 0; i < n->n_vals; i++)
        free(n->vals[i]);
    free(n->vals);
    free(n->kids);
    free(n->text);
    free(n);
}

/* ---- text ---------------------------------------------------------------- */

int ola_sg_yaml_str(struct ola_buf *b, const char *s)
{
    const unsigned char *p;
    int rc = ola_buf_putc(b, '"');

    for (p = (const unsigned char *)s; rc == 0 && *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            rc = ola_buf_printf(b, "\\%c", *p);
        else if (*p == '$')
            rc = ola_buf_puts(b, "$$");
        else if (*p < 0x20 || *p == 0x7f)
            rc = ola_buf_printf(b, "\\x%02x", *p);
        else
            rc = ola_buf_putc(b, (char)*p);
    }
    return rc == 0 ? ola_buf_putc(b, '"') : -1;
}

/* A value olagent reads as a number, written bare; anything else quoted. */
static int ola_sg_put_value(struct ola_buf *b, const char *s)
{
    const char *p = s;

    if (*p == '-')
        p++;
    if (isdigit((unsigned char)*p)) {
        while (isdigit((unsigned char)*p))
            p++;
        if (*p == '.' && isdigit((unsigned char)p[1]))
            for (p++; isdigit((unsigned char)*p);)
                p++;
        if (*p == '\0')
            return ola_buf_puts(b, s);
    }
    return ola_sg_yaml_str(b, s);
}

static bool ola_sg_has_alpha(const char *s)
{
    for (; *s != '\0'; s++)
        if (isalpha((unsigned char)*s) || (unsigned char)*s >= 0x80)
            return true;
    return false;
}

/* c as one literal of a POSIX ERE. */
static int ola_sg_re_lit(struct ola_buf *b, char c)
{
    if (strchr(".[]{}()\\*+?^$|", c) != NULL)
        return ola_buf_printf(b, "\\%c", c);
    return ola_buf_putc(b, c);
}

/*
 * A Sigma value: its text with escapes resolved into lit, and the same as a
 * regex body into re (wildcards `*` -> `.*`, `?` -> `.`). Returns 1 when it
 * has a wildcard, 0 when not, -1 on ENOMEM.
 */
static int ola_sg_glob(const char *s, struct ola_buf *lit, struct ola_buf *re)
{
    int wild = 0, rc = 0;

    for (; rc == 0 && *s != '\0'; s++) {
        if (*s == '\\' && (s[1] == '*' || s[1] == '?' || s[1] == '\\')) {
            s++;
            rc = ola_buf_putc(lit, *s) != 0 || ola_sg_re_lit(re, *s) != 0 ? -1 : 0;
        } else if (*s == '*' || *s == '?') {
            wild = 1;
            rc = ola_buf_puts(re, *s == '*' ? ".*" : ".");
        } else {
            rc = ola_buf_putc(lit, *s) != 0 || ola_sg_re_lit(re, *s) != 0 ? -1 : 0;
        }
    }
    if (rc == 0 && (ola_buf_putc(lit, '\0') != 0 || ola_buf_putc(re, '\0') != 0))
        rc = -1;
    return rc != 0 ? -1 : wild;
}

/* ---- PCRE subset -> POSIX ERE -------------------------------------------- */

static int ola_sg_why(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ola_sg_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* One escaped character inside or outside brackets: its literal, or 0. */
static char ola_sg_esc_char(char d)
{
    if (d == 'n')
        return '\n';
    if (d == 't')
        return '\t';
    if (d == 'r')
        return '\r';
    if (ispunct((unsigned char)d))
        return d;
    return 0;
}

/* [...] at *pp (on '['): parsed into a set, written back in POSIX order. */
static int ola_sg_bracket(const char **pp, struct ola_buf *o, char *why, size_t n)
{
    bool set[256] = {false}, neg = false;
    struct ola_buf cls = OLA_BUF_INIT, body = OLA_BUF_INIT;
    const char *p = *pp + 1;
    int rc = -1, c, lo;

    if (*p == '^') {
        neg = true;
        p++;
    }
    for (bool first = true; *p != ']' || first; first = false) {
        if (*p == '\0') {
            ola_sg_why(why, n, "unclosed '['");
            goto done;
        }
        if (p[0] == '[' && p[1] == ':') {
            const char *end = strstr(p, ":]");

            if (end == NULL || ola_buf_append(&cls, p, (size_t)(end + 2 - p)) != 0)
                goto bad_class;
            p = end + 2;
            continue;
        }
        if (p[0] == '[' && (p[1] == '.' || p[1] == '=')) {
            ola_sg_why(why, n, "'[%c' inside brackets is not supported", p[1]);
            goto done;
        }
        if (*p == '\\') {
            char d = p[1];

            p += 2;
            if (d == 'd') {
                for (c = '0'; c <= '9'; c++)
                    set[c] = true;
                continue;
            }
            if (d == 'w' || d == 's') {
                if (ola_buf_puts(&cls, d == 'w' ? "[:alnum:]" : "[:space:]") != 0)
                    goto bad_class;
                set['_'] = set['_'] || d == 'w';
                continue;
            }
            c = (unsigned char)ola_sg_esc_char(d);
            if (c == 0) {
                ola_sg_why(why, n, "'\\%c' inside brackets is not supported",
                           d ? d : ' ');
                goto done;
            }
        } else {
            c = (unsigned char)*p++;
        }
        lo = c;
        if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
            int hi = (unsigned char)p[1];

            p += 2;
            if (hi == '\\') {
                hi = (unsigned char)ola_sg_esc_char(*p);
                if (*p == '\0' || hi == 0) {
                    ola_sg_why(why, n, "a range ending in '\\%c' is not supported",
                               *p ? *p : ' ');
                    goto done;
                }
                p++;
            }
            if (hi < lo) {
                ola_sg_why(why, n, "range '%c-%c' is out of order", lo, hi);
                goto done;
            }
            for (c = lo; c <= hi; c++)
                set[c] = true;
            continue;
        }
        set[lo] = true;
    }
    p++;
    for (c = 1; c < 256; c++) {
        int end = c;

        if (!set[c] || c == ']' || c == '^' || c == '-' || c == '[')
            continue;
        while (isalnum(c) && end + 1 < 256 && set[end + 1] && isalnum(end + 1) &&
               (isdigit(c) ? isdigit(end + 1)
                           : (islower(c) ? islower(end + 1) : isupper(end + 1))))
            end++;
        if (end - c >= 2) {
            if (ola_buf_printf(&body, "%c-%c", c, end) != 0)
                goto done;
            c = end;
        } else if (ola_buf_putc(&body, (char)c) != 0) {
            goto done;
        }
    }
    if (set['['] && ola_buf_putc(&body, '[') != 0)
        goto done;
    if (!neg && !set[']'] && body.len == 0 && cls.len == 0) {
        if (set['^'])
            rc = ola_buf_puts(o, set['-'] ? "[-^]" : "\\^");
        else if (set['-'])
            rc = ola_buf_puts(o, "-");
        else
            ola_sg_why(why, n, "an empty '[]'");
        goto done;
    }
    rc = ola_buf_printf(o, "[%s%s%.*s%.*s%s%s]", neg ? "^" : "", set[']'] ? "]" : "",
                        (int)cls.len, cls.data ? cls.data : "", (int)body.len,
                        body.data ? body.data : "", set['^'] ? "^" : "",
                        set['-'] ? "-" : "");
    goto done;
bad_class:
    ola_sg_why(why, n, "bad character class");
done:
    ola_buf_free(&cls);
    ola_buf_free(&body);
    *pp = p;
    return rc;
}

/* A {m}, {m,} or {m,n} quantifier at p: its length, or 0. */
static size_t ola_sg_counted(const char *p)
{
    const char *q = p + 1;

    if (!isdigit((unsigned char)*q))
        return 0;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == ',')
        for (q++; isdigit((unsigned char)*q);)
            q++;
    return *q == '}' ? (size_t)(q + 1 - p) : 0;
}

int ola_sg_regex(const char *re, bool dotall, struct ola_buf *o, char *why, size_t n)
{
    static const char *const cls[][2] = {{"d", "[0-9]"},        {"D", "[^0-9]"},
                                         {"w", "[[:alnum:]_]"}, {"W", "[^[:alnum:]_]"},
                                         {"s", "[[:space:]]"},  {"S", "[^[:space:]]"}};
    const char *p = re;
    size_t start = o->len, k;
    regex_t rx;
    int rc = 0;

    why[0] = '\0';
    while (rc == 0 && *p != '\0') {
        char c = *p;

        if (c == '\\') {
            char d = p[1], lit;

            p += 2;
            for (k = 0; k < sizeof(cls) / sizeof(cls[0]); k++)
                if (d == cls[k][0][0])
                    break;
            if (k < sizeof(cls) / sizeof(cls[0])) {
                rc = ola_buf_puts(o, cls[k][1]);
                continue;
            }
            lit = ola_sg_esc_char(d);
            if (lit == 0)
                return ola_sg_why(why, n, "'\\%c' is not supported", d ? d : ' ');
            rc = ola_sg_re_lit(o, lit);
        } else if (c == '[') {
            if (ola_sg_bracket(&p, o, why, n) != 0)
                return -1;
        } else if (c == '(' && p[1] == '?' && p[2] == ':') {
            rc = ola_buf_putc(o, '('); /* a group that does not capture: one that does */
            p += 3;
        } else if (c == '(' && p[1] == '?') {
            return ola_sg_why(why, n, "'(?%c' groups are not supported",
                              p[2] ? p[2] : ' ');
        } else if (c == '.') {
            rc = ola_buf_puts(o, dotall ? "." : "[^\n]");
            p++;
        } else if (c == '{') {
            size_t len = ola_sg_counted(p);

            rc = len > 0 ? ola_buf_append(o, p, len) : ola_buf_puts(o, "\\{");
            p += len > 0 ? len : 1;
            if (len > 0 && (*p == '?' || *p == '+'))
                return ola_sg_why(why, n,
                                  "lazy or possessive quantifiers are not supported");
        } else if (c == '}') {
            rc = ola_buf_puts(o, "\\}");
            p++;
        } else {
            rc = ola_buf_putc(o, c);
            p++;
            if ((c == '*' || c == '+' || c == '?') && (*p == '?' || *p == '+'))
                return ola_sg_why(why, n,
                                  "lazy or possessive quantifiers are not supported");
        }
    }
    if (rc != 0 || ola_buf_putc(o, '\0') != 0)
        return -1;
    o->len--;
    if (ola_regex_guard(o->data + start, why, n) != 0)
        return -1;
    if (regcomp(&rx, o->data + start, REG_EXTENDED | REG_NOSUB) != 0)
        return ola_sg_why(why, n, "POSIX regcomp refuses the translation '%s'",
                          o->data + start);
    regfree(&rx);
    return 0;
}

/* ---- one field entry ----------------------------------------------------- */

enum ola_sg_how {
    OLA_SG_PLAIN,
    OLA_SG_CONTAINS,
    OLA_SG_STARTS,
    OLA_SG_ENDS,
    OLA_SG_RE,
    OLA_SG_CIDR_M,
    OLA_SG_EXISTS,
    OLA_SG_CMP,
    OLA_SG_FIELDREF,
};

struct ola_sg_mods {
    enum ola_sg_how how;
    const char *cmp; /* gt, gte, lt, lte */
    bool all, cased, neq, re_i, re_s;
};

static const char *ola_sg_map_field(const char *f)
{
    size_t i;

    for (i = 0; i < sizeof(ola_sg_fields) / sizeof(ola_sg_fields[0]); i++)
        if (strcmp(f, ola_sg_fields[i].sigma) == 0)
            return ola_sg_fields[i].olagent;
    return NULL;
}

/* Reads the modifiers in mods ("contains|all"); NULL or a BAD node. */
static struct ola_sg_node *ola_sg_read_mods(char *mods, int line, struct ola_sg_mods *m)
{
    static const char *const how_names[] = {"",         "contains", "startswith",
                                            "endswith", "re",       "cidr",
                                            "exists",   NULL,       "fieldref"};
    char *mod, *save = NULL;
    bool have_how = false;
    int h;

    memset(m, 0, sizeof(*m));
    for (mod = mods; mod != NULL; mod = save) {
        save = strchr(mod, '|');
        if (save != NULL)
            *save++ = '\0';
        for (h = 1; h <= OLA_SG_FIELDREF; h++)
            if (how_names[h] != NULL && strcmp(mod, how_names[h]) == 0)
                break;
        if (strcmp(mod, "gt") == 0 || strcmp(mod, "gte") == 0 || strcmp(mod, "lt") == 0 ||
            strcmp(mod, "lte") == 0) {
            h = OLA_SG_CMP;
            m->cmp = mod;
        }
        if (h <= OLA_SG_FIELDREF) {
            if (have_how)
                return ola_sg_newf(OLA_SG_BAD, line, "modifier '%s' after '%s'", mod,
                                   m->how == OLA_SG_CMP ? m->cmp : how_names[m->how]);
            have_how = true;
            m->how = (enum ola_sg_how)h;
        } else if (strcmp(mod, "all") == 0) {
            m->all = true;
        } else if (strcmp(mod, "cased") == 0) {
            m->cased = true;
        } else if (strcmp(mod, "neq") == 0) {
            m->neq = true;
        } else if (m->how == OLA_SG_RE &&
                   (strcmp(mod, "i") == 0 || strcmp(mod, "s") == 0)) {
            *(mod[0] == 'i' ? &m->re_i : &m->re_s) = true;
        } else {
            return ola_sg_newf(OLA_SG_BAD, line, "modifier '%s' is not supported", mod);
        }
    }
    if (m->neq && m->how != OLA_SG_PLAIN && m->how != OLA_SG_FIELDREF)
        return ola_sg_newf(OLA_SG_BAD, line, "modifier 'neq' with '%s' is not supported",
                           m->how == OLA_SG_CMP ? m->cmp : how_names[m->how]);
    return NULL;
}

static struct ola_sg_node *ola_sg_leaf(int line, const char *field, const char *op,
                                       const char *value, bool quoted, bool icase)
{
    struct ola_buf b = OLA_BUF_INIT;
    struct ola_sg_node *n = ola_sg_new(OLA_SG_LEAF, line);

    if (n == NULL || ola_buf_printf(&b, "{field: %s, %s: ", field, op) != 0 ||
        (quoted ? ola_sg_yaml_str(&b, value) : ola_sg_put_value(&b, value)) != 0 ||
        ola_buf_puts(&b, icase ? ", ignore_case: true}" : "}") != 0 ||
        (n->text = ola_buf_steal(&b, NULL)) == NULL) {
        ola_buf_free(&b);
        ola_sg_free(n);
        return NULL;
    }
    return n;
}

/* `not equals`, only where the field is present (never more than Sigma's neq). */
static struct ola_sg_node *ola_sg_neq(int line, const char *field, struct ola_sg_node *eq)
{
    struct ola_sg_node *all = ola_sg_new(OLA_SG_AND, line);
    struct ola_sg_node *not = ola_sg_new(OLA_SG_NOT, line);

    if (all == NULL || not == NULL || eq == NULL ||
        ola_sg_add(all, ola_sg_newf(OLA_SG_LEAF, line, "{field: %s, exists: true}",
                                    field)) != 0) {
        ola_sg_free(all);
        ola_sg_free(not );
        ola_sg_free(eq);
        return NULL;
    }
    if (ola_sg_add(not, eq) != 0 || ola_sg_add(all, not ) != 0) {
        ola_sg_free(all);
        return NULL;
    }
    return all;
}

/* One value (v borrowed) of field under m: a new node, BAD or NULL (ENOMEM). */
static struct ola_sg_node *ola_sg_value(const char *field, const struct ola_sg_mods *m,
                                        const struct ola_cfg *v, int line)
{
    struct ola_buf lit = OLA_BUF_INIT, re = OLA_BUF_INIT, pat = OLA_BUF_INIT;
    struct ola_sg_node *n = NULL;
    const char *s = ola_cfg_scalar(v), *ref;
    char why[160], *end;
    int wild;

    if (ola_cfg_type(v) == OLA_CFG_NULL) {
        if (m->how != OLA_SG_PLAIN || m->neq)
            return ola_sg_newf(OLA_SG_BAD, line, "null with a modifier");
        return ola_sg_newf(OLA_SG_LEAF, line, "{field: %s, missing: true}", field);
    }
    if (s == NULL)
        return ola_sg_newf(OLA_SG_BAD, line, "a list or map as a value of '%s'", field);
    switch (m->how) {
    case OLA_SG_EXISTS:
        if (strcasecmp(s, "true") == 0)
            return ola_sg_newf(OLA_SG_LEAF, line, "{field: %s, exists: true}", field);
        return ola_sg_newf(OLA_SG_BAD, line,
                           "'%s|exists: %s': olagent's 'missing' is also true for a "
                           "null field, which Sigma counts as existing",
                           field, s);
    case OLA_SG_CMP:
        errno = 0;
        (void)strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0')
            return ola_sg_newf(OLA_SG_BAD, line, "'%s|%s' needs a number", field, m->cmp);
        return ola_sg_leaf(line, field, m->cmp, s, false, false);
    case OLA_SG_FIELDREF:
        ref = ola_sg_map_field(s);
        if (ref == NULL)
            return ola_sg_newf(OLA_SG_BAD, line,
                               "field '%s' is not a OneLogin event field", s);
        return ola_sg_newf(OLA_SG_LEAF, line, "{field: %s, %s: %s%s}", field,
                           m->neq ? "not_equals_field" : "equals_field", ref,
                           m->cased ? "" : ", ignore_case: true");
    case OLA_SG_RE:
        /* a leading (?i) is the |i modifier written inside the pattern */
        if (ola_sg_regex(strncmp(s, "(?i)", 4) == 0 ? s + 4 : s, m->re_s, &pat, why,
                         sizeof(why)) != 0) {
            n = why[0] == '\0' ? NULL
                               : ola_sg_newf(OLA_SG_BAD, line, "regex '%s': %s", s, why);
            break;
        }
        n = ola_sg_leaf(line, field, "regex", pat.data, true,
                        m->re_i || strncmp(s, "(?i)", 4) == 0);
        break;
    default:
        wild = ola_sg_glob(s, &lit, &re);
        if (wild < 0)
            break;
        if (!wild && m->how == OLA_SG_PLAIN) {
            n = ola_sg_leaf(line, field, "equals", lit.data, false,
                            !m->cased && ola_sg_has_alpha(lit.data));
        } else if (!wild && m->how == OLA_SG_STARTS) {
            n = ola_sg_leaf(line, field, "prefix", lit.data, true,
                            !m->cased && ola_sg_has_alpha(lit.data));
        } else if (ola_buf_printf(
                       &pat, "%s%s%s",
                       m->how == OLA_SG_PLAIN || m->how == OLA_SG_STARTS ? "^" : "",
                       re.data,
                       m->how == OLA_SG_PLAIN || m->how == OLA_SG_ENDS ? "$" : "") == 0) {
            if (ola_regex_guard(pat.data, why, sizeof(why)) != 0)
                n = ola_sg_newf(OLA_SG_BAD, line, "value '%s': %s", s, why);
            else
                n = ola_sg_leaf(line, field, "regex", pat.data, true,
                                !m->cased && ola_sg_has_alpha(lit.data));
        }
        if (n != NULL && m->neq)
            n = ola_sg_neq(line, field, n);
        break;
    }
    ola_buf_free(&lit);
    ola_buf_free(&re);
    ola_buf_free(&pat);
    return n;
}

/* The |cidr values: one CIDR node (a list file), each address checked. */
static struct ola_sg_node *ola_sg_cidr(const char *field, const struct ola_sg_mods *m,
                                       const struct ola_cfg *val, int line)
{
    size_t i, k = ola_cfg_type(val) == OLA_CFG_SEQ ? ola_cfg_len(val) : 1;
    struct ola_sg_node *n;
    unsigned char lo[16], hi[16];
    char why[128];
    int fam;

    if (m->all && k > 1)
        return ola_sg_newf(OLA_SG_BAD, line, "'%s|cidr|all': an address in every range",
                           field);
    n = ola_sg_newf(OLA_SG_CIDR, line, "%s", field);
    for (i = 0; n != NULL && i < k; i++) {
        const struct ola_cfg *v =
            ola_cfg_type(val) == OLA_CFG_SEQ ? ola_cfg_at(val, i) : val;
        const char *s = ola_cfg_scalar(v);

        if (s == NULL || ola_cidr_parse(s, &fam, lo, hi, why, sizeof(why)) != 0) {
            ola_sg_free(n);
            return ola_sg_newf(OLA_SG_BAD, line, "'%s|cidr': bad CIDR '%s': %s", field,
                               s != NULL ? s : "(not a scalar)",
                               s != NULL ? why : "a list or map");
        }
        if (OLA_VEC_GROW(n->vals, n->cap_vals, n->n_vals + 1) != 0 ||
            (n->vals[n->n_vals] = strdup(s)) == NULL) {
            ola_sg_free(n);
            return NULL;
        }
        n->n_vals++;
    }
    return n;
}

struct ola_sg_node *ola_sg_field(const char *key, const struct ola_cfg *val, int line)
{
    struct ola_sg_node *n = NULL, *bad;
    struct ola_sg_mods m;
    struct ola_buf in = OLA_BUF_INIT;
    const char *field;
    char *name = strdup(key), *mods;
    size_t i, k, n_in = 0;
    bool icase = false;

    if (name == NULL)
        return NULL;
    mods = strchr(name, '|');
    if (mods != NULL)
        *mods++ = '\0';
    if (name[0] == '\0') {
        n = ola_sg_newf(OLA_SG_BAD, line, "keyword search '%s' (no field)", key);
        goto done;
    }
    field = ola_sg_map_field(name);
    if (field == NULL) {
        n = ola_sg_newf(OLA_SG_BAD, line, "field '%s' is not a OneLogin event field",
                        name);
        goto done;
    }
    bad = mods != NULL ? ola_sg_read_mods(mods, line, &m) : NULL;
    if (mods == NULL)
        memset(&m, 0, sizeof(m));
    if (bad != NULL) {
        n = bad;
        goto done;
    }
    if (m.how == OLA_SG_CIDR_M) {
        n = ola_sg_cidr(field, &m, val, line);
        goto done;
    }
    k = ola_cfg_type(val) == OLA_CFG_SEQ ? ola_cfg_len(val) : 1;
    if (k == 0) {
        n = ola_sg_newf(OLA_SG_BAD, line, "'%s': an empty list of values", key);
        goto done;
    }
    n = ola_sg_new(m.all ? OLA_SG_AND : OLA_SG_OR, line);
    for (i = 0; n != NULL && i < k; i++) {
        const struct ola_cfg *v =
            ola_cfg_type(val) == OLA_CFG_SEQ ? ola_cfg_at(val, i) : val;
        const char *s = ola_cfg_scalar(v);

        /* exact values of an OR, without wildcards: one `in:` list */
        if (!m.all && !m.neq && m.how == OLA_SG_PLAIN && s != NULL && k > 1 &&
            strpbrk(s, "*?\\") == NULL) {
            if (ola_buf_puts(&in, n_in++ > 0 ? ", " : "{field: ") != 0 ||
                (n_in == 1 && ola_buf_printf(&in, "%s, in: [", field) != 0) ||
                ola_sg_put_value(&in, s) != 0)
                goto nomem;
            icase = icase || (!m.cased && ola_sg_has_alpha(s));
            continue;
        }
        if (ola_sg_add(n, ola_sg_value(field, &m, v, line)) != 0)
            goto nomem;
    }
    if (n != NULL && n_in > 0 &&
        (ola_buf_puts(&in, icase ? "], ignore_case: true}" : "]}") != 0 ||
         ola_sg_add(n, ola_sg_newf(OLA_SG_LEAF, line, "%s", in.data)) != 0))
        goto nomem;
    goto done;
nomem:
    ola_sg_free(n);
    n = NULL;
done:
    ola_buf_free(&in);
    free(name);
    return n;
}
