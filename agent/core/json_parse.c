/*
 * json_parse.c - a strict JSON reader that builds Jansson trees straight
 * from a buffer, for the one place where parsing is the agent's main cost:
 * admitting an event.
 *
 * Jansson's own reader pulls every byte through a stream callback, checks
 * UTF-8 one byte at a time, saves each token into a growing buffer and then
 * copies it again into the value, and looks every key up once more to refuse
 * duplicates. This one walks the bytes in place with a table of the bytes a
 * string may hold as they are: a string without escapes goes from the buffer
 * to json_stringn_nocheck, an object key to json_object_setn_new_nocheck,
 * one copy each; escapes are decoded into a scratch buffer (on the stack
 * until it outgrows it). A duplicate key shows as an object that did not
 * grow, so refusing one costs no lookup.
 *
 * It accepts exactly what json_loadb(JSON_REJECT_DUPLICATES) accepts: one
 * RFC 8259 text whose top is an object or an array; strict UTF-8 (no
 * overlong forms, no surrogates, nothing past U+10FFFF); no control
 * character inside a string and no \u0000; integers within int64; reals
 * that do not overflow (underflow reads as Jansson reads it); at most
 * OLA_JSON_MAX_DEPTH levels, counted as Jansson counts them. It builds the
 * same tree. It is stricter in one place: a NUL byte is refused wherever it
 * stands, where Jansson 2.14 skips one after a number.
 * tests/unit/test_json_parse.c and tests/fuzz/fuzz_json.c hold it to
 * Jansson, value for value and verdict for verdict.
 *
 * Reals go through strtod, which reads '.' as the decimal point only in the
 * "C" locale; the agent never calls setlocale, so that is the locale it has.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/buf.h"
#include "agent/core/json_parse.h"

/* 1 for the bytes a string holds as they are: printable ASCII but '"' and '\\'. */
static const unsigned char ola_jp_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70 */
    /* 0x80-0xff: 0, the start of a UTF-8 sequence to check */
};

struct ola_jp {
    const unsigned char *p;     /* the next byte to read */
    const unsigned char *start; /* the text's first byte */
    const unsigned char *end;   /* one past its last */
    json_error_t *err;          /* may be NULL */
    char *scratch;              /* decoded strings and reals: small or the heap */
    size_t scratch_len;
    size_t scratch_cap;
    char small[512];
};

/* Records the first fault at `at`: text, byte offset, 1-based line and column. */
static void ola_jp_fail(struct ola_jp *s, const unsigned char *at, const char *what)
{
    const unsigned char *q, *line_start = s->start;
    int line = 1;
    size_t pos = (size_t)(at - s->start);

    if (s->err == NULL)
        return;
    for (q = s->start; q < at; q++) {
        if (*q == '\n') {
            line++;
            line_start = q + 1;
        }
    }
    memset(s->err, 0, sizeof(*s->err));
    s->err->line = line;
    s->err->column = (int)(at - line_start) + 1;
    s->err->position = pos > INT32_MAX ? INT32_MAX : (int)pos;
    if (snprintf(s->err->source, sizeof(s->err->source), "<buffer>") < 0)
        s->err->source[0] = '\0';
    if (snprintf(s->err->text, sizeof(s->err->text), "%s at byte %zu", what, pos) < 0)
        s->err->text[0] = '\0';
}

static void ola_jp_ws(struct ola_jp *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static bool ola_jp_digit(const struct ola_jp *s, const unsigned char *q)
{
    return q < s->end && *q >= '0' && *q <= '9';
}

/* Appends n bytes to the scratch buffer. 0, or -1 (out of memory, recorded). */
static int ola_jp_put(struct ola_jp *s, const void *data, size_t n)
{
    size_t cap = s->scratch_cap;
    char *grown;

    if (n <= s->scratch_cap - s->scratch_len) {
        memcpy(s->scratch + s->scratch_len, data, n);
        s->scratch_len += n;
        return 0;
    }
    while (cap - s->scratch_len < n) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    if (s->scratch == s->small) {
        grown = malloc(cap);
        if (grown != NULL)
            memcpy(grown, s->small, s->scratch_len);
    } else {
        grown = realloc(s->scratch, cap);
    }
    if (grown == NULL)
        goto fail;
    s->scratch = grown;
    s->scratch_cap = cap;
    memcpy(s->scratch + s->scratch_len, data, n);
    s->scratch_len += n;
    return 0;
fail:
    ola_jp_fail(s, s->p, "out of memory");
    return -1;
}

/* The four hex digits at q (at least 4 bytes readable) as a number, or -1. */
static int32_t ola_jp_hex4(const unsigned char *q)
{
    int32_t v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned char c = q[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Decodes the \u escape at q (q[0] == '\\', q[1] == 'u'), a surrogate pair
 * whole, into the scratch buffer as UTF-8. Returns the bytes read, 0 on a fault. */
static size_t ola_jp_unicode(struct ola_jp *s, const unsigned char *q)
{
    const unsigned char *end = s->end;
    unsigned char out[4];
    int32_t u, lo;
    size_t used = 6, n;

    if (end - q < 6 || (u = ola_jp_hex4(q + 2)) < 0)
        goto bad_escape;
    if (u == 0) {
        ola_jp_fail(s, q, "\\u0000 is not allowed");
        return 0;
    }
    if (u >= 0xDC00 && u <= 0xDFFF)
        goto bad_unicode;
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (end - q < 12 || q[6] != '\\' || q[7] != 'u')
            goto bad_unicode;
        if ((lo = ola_jp_hex4(q + 8)) < 0) {
            q += 6;
            goto bad_escape;
        }
        if (lo < 0xDC00 || lo > 0xDFFF)
            goto bad_unicode;
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        used = 12;
    }
    if (u < 0x80) {
        out[0] = (unsigned char)u;
        n = 1;
    } else if (u < 0x800) {
        out[0] = (unsigned char)(0xC0 | (u >> 6));
        out[1] = (unsigned char)(0x80 | (u & 0x3F));
        n = 2;
    } else if (u < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (u >> 12));
        out[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (u & 0x3F));
        n = 3;
    } else {
        out[0] = (unsigned char)(0xF0 | (u >> 18));
        out[1] = (unsigned char)(0x80 | ((u >> 12) & 0x3F));
        out[2] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
        out[3] = (unsigned char)(0x80 | (u & 0x3F));
        n = 4;
    }
    return ola_jp_put(s, out, n) == 0 ? used : 0;
bad_escape:
    ola_jp_fail(s, q, "invalid escape");
    return 0;
bad_unicode:
    ola_jp_fail(s, q, "invalid Unicode escape (a lone or unpaired surrogate)");
    return 0;
}

/* The byte a one-letter escape (\n, \", ...) stands for, or -1. */
static int ola_jp_simple_escape(unsigned char c)
{
    switch (c) {
    case '"':
    case '\\':
    case '/':
        return c;
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return -1;
    }
}

/*
 * The rest of a string that holds an escape, from q (its first escape or
 * non-ASCII byte past the plain prefix at s->p) to its closing quote,
 * decoded into the scratch buffer. 1, or -1 on a fault.
 */
static int ola_jp_unescape(struct ola_jp *s, const unsigned char *q, const char **out,
                           size_t *n)
{
    const unsigned char *end = s->end, *run = s->p;
    size_t k;
    int c;

    s->scratch_len = 0;
    for (;;) {
        if (ola_jp_put(s, run, (size_t)(q - run)) != 0)
            return -1;
        if (q == end) {
            ola_jp_fail(s, q, "premature end of input in a string");
            return -1;
        }
        if (*q == '"')
            break;
        if (*q >= 0x80) {
            if ((k = ola_utf8_seq(q, (size_t)(end - q))) == 0) {
                ola_jp_fail(s, q, "invalid UTF-8 in a string");
                return -1;
            }
            if (ola_jp_put(s, q, k) != 0)
                return -1;
        } else if (*q < 0x20) {
            ola_jp_fail(s, q, "control character in a string");
            return -1;
        } else if (q + 1 < end && q[1] == 'u') {
            if ((k = ola_jp_unicode(s, q)) == 0)
                return -1;
        } else {
            if ((c = ola_jp_simple_escape(q + 1 < end ? q[1] : 0)) < 0) {
                ola_jp_fail(s, q, "invalid escape");
                return -1;
            }
            if (ola_jp_put(s, &(char){(char)c}, 1) != 0)
                return -1;
            k = 2;
        }
        q += k;
        run = q;
        while (q < end && ola_jp_plain[*q])
            q++;
    }
    *out = s->scratch;
    *n = s->scratch_len;
    s->p = q + 1;
    return 1;
}

/*
 * A string's body, from s->p (just past its opening quote) through its
 * closing quote. Sets *out and *n to its bytes: in place when nothing needs
 * decoding (returns 0), else decoded into the scratch buffer, valid until
 * the next string or number (returns 1). -1 on a fault.
 */
static int ola_jp_string(struct ola_jp *s, const char **out, size_t *n)
{
    const unsigned char *q = s->p, *end = s->end;
    size_t k;

    for (;;) {
        while (q < end && ola_jp_plain[*q])
            q++;
        if (q == end) {
            ola_jp_fail(s, q, "premature end of input in a string");
            return -1;
        }
        if (*q == '"') {
            *out = (const char *)s->p;
            *n = (size_t)(q - s->p);
            s->p = q + 1;
            return 0;
        }
        if (*q == '\\')
            return ola_jp_unescape(s, q, out, n);
        if (*q < 0x20) {
            ola_jp_fail(s, q, "control character in a string");
            return -1;
        }
        if ((k = ola_utf8_seq(q, (size_t)(end - q))) == 0) {
            ola_jp_fail(s, q, "invalid UTF-8 in a string");
            return -1;
        }
        q += k;
    }
}

/* A number at s->p: an integer when it has neither fraction nor exponent. */
static json_t *ola_jp_number(struct ola_jp *s)
{
    const unsigned char *q = s->p, *digits;
    bool neg = false, real = false;
    uint64_t v = 0, limit = INT64_MAX;
    const char *what = "invalid number";
    char *endp;
    double d;
    json_t *j;

    if (*q == '-') {
        neg = true;
        limit = (uint64_t)INT64_MAX + 1;
        q++;
    }
    if (!ola_jp_digit(s, q))
        goto fail;
    digits = q;
    if (*q == '0' && ola_jp_digit(s, q + 1))
        goto fail; /* no leading zero */
    while (ola_jp_digit(s, q))
        q++;
    if (q < s->end && *q == '.') {
        if (!ola_jp_digit(s, ++q))
            goto fail;
        while (ola_jp_digit(s, q))
            q++;
        real = true;
    }
    if (q < s->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < s->end && (*q == '+' || *q == '-'))
            q++;
        if (!ola_jp_digit(s, q))
            goto fail;
        while (ola_jp_digit(s, q))
            q++;
        real = true;
    }
    if (!real) {
        for (; digits < q; digits++) {
            unsigned dig = (unsigned)(*digits - '0');

            if (v > (limit - dig) / 10) {
                what = neg ? "too big negative integer" : "too big integer";
                goto fail;
            }
            v = v * 10 + dig;
        }
        if (!neg)
            j = json_integer((json_int_t)v);
        else if (v == (uint64_t)INT64_MAX + 1)
            j = json_integer(INT64_MIN);
        else
            j = json_integer(-(json_int_t)v);
    } else {
        s->scratch_len = 0;
        if (ola_jp_put(s, s->p, (size_t)(q - s->p)) != 0 || ola_jp_put(s, "", 1) != 0)
            return NULL;
        errno = 0;
        d = strtod(s->scratch, &endp);
        if (endp != s->scratch + (q - s->p))
            goto fail;
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
            what = "real number overflow";
            goto fail;
        }
        j = json_real(d);
    }
    if (j == NULL) {
        what = "out of memory";
        goto fail;
    }
    s->p = q;
    return j;
fail:
    ola_jp_fail(s, s->p, what);
    return NULL;
}

static json_t *ola_jp_value(struct ola_jp *s, size_t depth);

/*
 * After a container's member: a ',' (returns 1: another follows) or the
 * container's closing byte (returns 0), whitespace around them skipped;
 * anything else is a fault (-1, recorded as "`expected`").
 */
static int ola_jp_after_member(struct ola_jp *s, unsigned char close,
                               const char *expected)
{
    ola_jp_ws(s);
    if (s->p < s->end && *s->p == ',') {
        s->p++;
        ola_jp_ws(s);
        return 1;
    }
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    ola_jp_fail(s, s->p, expected);
    return -1;
}

/* Skips the opening byte and whitespace; true when the container closes at once. */
static bool ola_jp_empty(struct ola_jp *s, unsigned char close)
{
    s->p++;
    ola_jp_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    return false;
}

static json_t *ola_jp_array(struct ola_jp *s, size_t depth)
{
    json_t *a = json_array(), *v;
    int more;

    if (a == NULL) {
        ola_jp_fail(s, s->p, "out of memory");
        return NULL;
    }
    if (ola_jp_empty(s, ']'))
        return a;
    do {
        if ((v = ola_jp_value(s, depth + 1)) == NULL)
            goto fail;
        if (json_array_append_new(a, v) != 0) {
            ola_jp_fail(s, s->p, "out of memory");
            goto fail;
        }
    } while ((more = ola_jp_after_member(s, ']', "',' or ']' expected")) == 1);
    if (more == 0)
        return a;
fail:
    json_decref(a);
    return NULL;
}

static json_t *ola_jp_object(struct ola_jp *s, size_t depth)
{
    json_t *o = json_object(), *v;
    const unsigned char *at;
    const char *k;
    char *kcopy = NULL;
    size_t kn, had;
    int rc;

    if (o == NULL) {
        ola_jp_fail(s, s->p, "out of memory");
        return NULL;
    }
    if (ola_jp_empty(s, '}'))
        return o;
    do {
        at = s->p;
        if (s->p == s->end || *s->p != '"') {
            ola_jp_fail(s, s->p, "string or '}' expected");
            goto fail;
        }
        s->p++;
        if ((rc = ola_jp_string(s, &k, &kn)) < 0)
            goto fail;
        if (rc == 1) { /* decoded: the value's strings reuse the scratch buffer */
            if ((kcopy = malloc(kn + 1)) == NULL) {
                ola_jp_fail(s, at, "out of memory");
                goto fail;
            }
            memcpy(kcopy, k, kn);
            k = kcopy;
        }
        ola_jp_ws(s);
        if (s->p == s->end || *s->p != ':') {
            ola_jp_fail(s, s->p, "':' expected");
            goto fail;
        }
        s->p++;
        ola_jp_ws(s);
        if ((v = ola_jp_value(s, depth + 1)) == NULL)
            goto fail;
        had = json_object_size(o);
        if (json_object_setn_new_nocheck(o, k, kn, v) != 0) {
            ola_jp_fail(s, at, "out of memory");
            goto fail;
        }
        free(kcopy);
        kcopy = NULL;
        if (json_object_size(o) == had) { /* replaced, not added */
            ola_jp_fail(s, at, "duplicate object key");
            goto fail;
        }
    } while ((rc = ola_jp_after_member(s, '}', "',' or '}' expected")) == 1);
    if (rc == 0)
        return o;
fail:
    free(kcopy);
    json_decref(o);
    return NULL;
}

static json_t *ola_jp_value(struct ola_jp *s, size_t depth)
{
    const char *str;
    size_t n;
    json_t *j;

    if (depth > OLA_JSON_MAX_DEPTH) {
        ola_jp_fail(s, s->p, "maximum parsing depth reached");
        return NULL;
    }
    if (s->p == s->end) {
        ola_jp_fail(s, s->p, "premature end of input");
        return NULL;
    }
    switch (*s->p) {
    case '{':
        return ola_jp_object(s, depth);
    case '[':
        return ola_jp_array(s, depth);
    case '"':
        s->p++;
        if (ola_jp_string(s, &str, &n) < 0)
            return NULL;
        if ((j = json_stringn_nocheck(str, n)) == NULL)
            ola_jp_fail(s, s->p, "out of memory");
        return j;
    case 't':
        if (s->end - s->p >= 4 && memcmp(s->p, "true", 4) == 0) {
            s->p += 4;
            return json_true();
        }
        break;
    case 'f':
        if (s->end - s->p >= 5 && memcmp(s->p, "false", 5) == 0) {
            s->p += 5;
            return json_false();
        }
        break;
    case 'n':
        if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0) {
            s->p += 4;
            return json_null();
        }
        break;
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return ola_jp_number(s);
        break;
    }
    ola_jp_fail(s, s->p, "invalid token");
    return NULL;
}

json_t *ola_json_parse(const char *p, size_t len, json_error_t *err)
{
    struct ola_jp s;
    json_t *v = NULL;

    s.start = s.p = (const unsigned char *)p;
    s.end = s.start + len;
    s.err = err;
    s.scratch = s.small;
    s.scratch_len = 0;
    s.scratch_cap = sizeof(s.small);
    ola_jp_ws(&s);
    if (s.p == s.end || (*s.p != '{' && *s.p != '[')) {
        ola_jp_fail(&s, s.p, "'[' or '{' expected");
        goto fail;
    }
    if ((v = ola_jp_value(&s, 1)) == NULL)
        goto fail;
    ola_jp_ws(&s);
    if (s.p != s.end) {
        ola_jp_fail(&s, s.p, "end of file expected");
        goto fail;
    }
    if (s.scratch != s.small)
        free(s.scratch);
    return v;
fail:
    json_decref(v);
    if (s.scratch != s.small)
        free(s.scratch);
    return NULL;
}
