/*
 * regex_guard.c - refusing costly or crashing regexes before regcomp.
 *
 * One left-to-right pass reads the pattern as glibc reads a POSIX ERE:
 * "\x" is one literal (\1..\9 are backreferences and refused), "[...]" is
 * one element whatever it holds (a "{" or "\" inside is literal; "]" first,
 * "[:class:]", "[=e=]" and "[.c.]" do not close it), "(" and ")" nest, "|"
 * separates alternatives, and "*", "+", "?", "{m}", "{m,}", "{m,n}", "{,n}"
 * repeat the element before them. A stack of open groups keeps, for the
 * sequence being read and for the last element, three figures: its size
 * once regcomp unrolls the repetitions, the largest product of repetition
 * factors over any element nested in it, and whether it can match the empty
 * string. A repetition multiplies size and product by its factor and is
 * refused over a part that can match the empty string: that shape
 * ("(x*)*", "(a|)+", "x{0,9}{0,9}") drives glibc's epsilon closures
 * exponential. Limits: regex_guard.h; measurements: docs/rules.md.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "filters/rules/regex_guard.h"

/* One element: an atom, a group, either with its repetitions applied. */
struct ola_re_elem {
    uint64_t size; /* nodes once unrolled */
    uint64_t prod; /* largest product of repetition factors inside */
    bool nullable; /* can match the empty string */
    bool present;
};

/* An open group (frame 0 is the whole pattern). */
struct ola_re_frame {
    uint64_t alt_size; /* finished alternatives */
    bool alt_nullable; /* one of them can match empty */
    uint64_t seq_size; /* the alternative being read */
    bool seq_nullable; /* every element of it can match empty */
    uint64_t prod;     /* over every finished element */
    struct ola_re_elem last;
};

static int ola_re_fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ola_re_fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (n > 0) {
        va_start(ap, fmt);
        if (vsnprintf(why, n, fmt, ap) < 0)
            why[0] = '\0';
        va_end(ap);
    }
    return -1;
}

static void ola_re_frame_init(struct ola_re_frame *f)
{
    memset(f, 0, sizeof(*f));
    f->seq_nullable = true;
    f->prod = 1;
}

/* The last element joins the sequence. */
static void ola_re_fold(struct ola_re_frame *f)
{
    if (!f->last.present)
        return;
    f->seq_size += f->last.size;
    f->seq_nullable = f->seq_nullable && f->last.nullable;
    if (f->last.prod > f->prod)
        f->prod = f->last.prod;
    f->last.present = false;
}

/* "|": the sequence becomes a finished alternative. */
static void ola_re_alternative(struct ola_re_frame *f)
{
    ola_re_fold(f);
    f->alt_size += f->seq_size;
    f->alt_nullable = f->alt_nullable || f->seq_nullable;
    f->seq_size = 0;
    f->seq_nullable = true;
}

/* The group f as one element (after its last alternative). */
static struct ola_re_elem ola_re_close(struct ola_re_frame *f)
{
    struct ola_re_elem e;

    ola_re_alternative(f);
    e.size = f->alt_size;
    e.prod = f->prod;
    e.nullable = f->alt_nullable;
    e.present = true;
    return e;
}

static void ola_re_atom(struct ola_re_frame *f, bool nullable)
{
    ola_re_fold(f);
    f->last.size = 1;
    f->last.prod = 1;
    f->last.nullable = nullable;
    f->last.present = true;
}

/* Reads a count of at most 6 digits at *p; larger counts read as 1000000. */
static long ola_re_count(const char **p)
{
    long v = 0;

    if (**p < '0' || **p > '9')
        return -1;
    while (**p >= '0' && **p <= '9') {
        if (v < 1000000)
            v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v > 1000000 ? 1000000 : v;
}

/*
 * Reads "{m}", "{m,}", "{m,n}" or "{,n}" at *p (on the '{'). Sets *min, *max
 * (-1: no upper bound). Returns 0, or -1 when it is not an interval.
 */
static int ola_re_interval(const char **p, long *min, long *max)
{
    const char *s = *p + 1;

    *min = 0;
    if (*s != ',') {
        *min = ola_re_count(&s);
        if (*min < 0)
            return -1;
    }
    *max = *min;
    if (*s == ',') {
        s++;
        *max = *s == '}' ? -1 : ola_re_count(&s);
        if (*max < 0 && *s != '}')
            return -1;
        if (*min == 0 && *max < 0 && s == *p + 2)
            return -1; /* "{,}" */
    }
    if (*s != '}')
        return -1;
    *p = s + 1;
    return 0;
}

/* Skips a bracket expression at *p (on the '['). Unterminated: to the end. */
static void ola_re_bracket(const char **p)
{
    const char *s = *p + 1;

    if (*s == '^')
        s++;
    if (*s == ']')
        s++; /* a leading ']' is a member */
    while (*s != '\0' && *s != ']') {
        if (s[0] == '[' && (s[1] == ':' || s[1] == '=' || s[1] == '.')) {
            const char *q = s + 2;

            while (*q != '\0' && !(q[0] == s[1] && q[1] == ']'))
                q++;
            if (*q != '\0') {
                s = q + 2;
                continue;
            }
        }
        s++;
    }
    *p = *s == ']' ? s + 1 : s;
}

/*
 * Applies a repetition with the given factor to f's last element. repeats:
 * the operator can match its operand more than once; nullable: it can match
 * zero times. at: where the operator starts in pattern, for the message.
 */
static int ola_re_repeat(struct ola_re_frame *f, uint64_t factor, bool repeats,
                         bool nullable, const char *pattern, const char *at, size_t len,
                         char *why, size_t n)
{
    struct ola_re_elem *e = &f->last;
    int col = (int)(at - pattern) + 1;

    if (!e->present)
        return 0; /* nothing to repeat: regcomp says so */
    if (repeats && e->nullable)
        return ola_re_fail(why, n,
                           "'%.*s' at character %d repeats a part that can match the "
                           "empty string (write (a|b)* rather than (a*b*)* or (a|)*)",
                           (int)len, at, col);
    e->size *= factor;
    e->prod *= factor;
    e->nullable = e->nullable || nullable;
    if (e->prod > OLA_RE_MAX_PRODUCT)
        return ola_re_fail(why, n,
                           "repetitions nested at character %d multiply to %llu, over "
                           "%d",
                           col, (unsigned long long)e->prod, OLA_RE_MAX_PRODUCT);
    if (e->size > OLA_RE_MAX_SIZE)
        return ola_re_fail(why, n,
                           "the pattern unrolls to over %d elements at character %d",
                           OLA_RE_MAX_SIZE, col);
    return 0;
}

int ola_regex_guard(const char *pattern, char *why, size_t n)
{
    struct ola_re_frame st[OLA_RE_MAX_DEPTH + 1];
    const char *p = pattern, *op;
    size_t depth = 0, len = strlen(pattern);
    struct ola_re_elem whole;
    long min, max;

    if (len > OLA_RE_MAX_LEN)
        return ola_re_fail(why, n, "the pattern is %zu bytes, over %d", len,
                           OLA_RE_MAX_LEN);
    ola_re_frame_init(&st[0]);
    while (*p != '\0') {
        struct ola_re_frame *f = &st[depth];

        op = p;
        switch (*p) {
        case '\\':
            if (p[1] >= '1' && p[1] <= '9')
                return ola_re_fail(why, n,
                                   "backreference \\%c at character %d is not supported",
                                   p[1], (int)(p - pattern) + 1);
            /* \b \B \< \> \` \' match the empty string; the rest one character */
            ola_re_atom(f, p[1] != '\0' && strchr("bB<>`'", p[1]) != NULL);
            p += p[1] != '\0' ? 2 : 1;
            break;
        case '[':
            ola_re_bracket(&p);
            ola_re_atom(f, false);
            break;
        case '^':
        case '$':
            ola_re_atom(f, true);
            p++;
            break;
        case '(':
            if (depth == OLA_RE_MAX_DEPTH)
                return ola_re_fail(why, n, "groups nest deeper than %d at character %d",
                                   OLA_RE_MAX_DEPTH, (int)(p - pattern) + 1);
            ola_re_fold(f);
            ola_re_frame_init(&st[++depth]);
            p++;
            break;
        case ')':
            if (depth == 0) {
                ola_re_atom(f, false); /* an unmatched ')' is a literal */
            } else {
                struct ola_re_elem e = ola_re_close(f);

                depth--;
                ola_re_fold(&st[depth]);
                st[depth].last = e;
            }
            p++;
            break;
        case '|':
            ola_re_alternative(f);
            p++;
            break;
        case '*':
        case '+':
        case '?':
            p++;
            if (ola_re_repeat(f, *op == '+' ? 2 : 1, *op != '?', *op != '+', pattern, op,
                              1, why, n) != 0)
                return -1;
            break;
        case '{':
            if (ola_re_interval(&p, &min, &max) != 0)
                return ola_re_fail(
                    why, n,
                    "'{' at character %d does not start {m}, {m,} or {m,n} "
                    "(write \\{ for a literal brace)",
                    (int)(op - pattern) + 1);
            if (min > OLA_RE_MAX_COUNT || max > OLA_RE_MAX_COUNT)
                return ola_re_fail(why, n, "'%.*s' at character %d: counts above %d",
                                   (int)(p - op), op, (int)(op - pattern) + 1,
                                   OLA_RE_MAX_COUNT);
            /* regcomp unrolls {m,n} to n copies, {m,} to m copies and a star */
            if (ola_re_repeat(f,
                              max < 0 ? (uint64_t)min + 1 : (uint64_t)(max > 1 ? max : 1),
                              max < 0 || max > 1, min == 0, pattern, op, (size_t)(p - op),
                              why, n) != 0)
                return -1;
            break;
        default:
            ola_re_atom(f, false);
            p++;
            break;
        }
    }
    while (depth > 0) { /* an unclosed group: regcomp refuses it */
        struct ola_re_elem e = ola_re_close(&st[depth]);

        depth--;
        ola_re_fold(&st[depth]);
        st[depth].last = e;
    }
    whole = ola_re_close(&st[0]);
    if (whole.size > OLA_RE_MAX_SIZE)
        return ola_re_fail(why, n, "the pattern unrolls to %llu elements, over %d",
                           (unsigned long long)whole.size, OLA_RE_MAX_SIZE);
    return 0;
}
