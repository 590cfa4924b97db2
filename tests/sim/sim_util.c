/*
 * olsim utilities: a growable byte buffer with JSON string output, a seeded splitmix64
 * RNG (the only source of randomness, so runs are reproducible), UTC time formatting and
 * parsing, duration and number parsing with full end checks, base64 and raw query-string
 * helpers. Nothing here takes locks or keeps global state.
 */
#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void olsim_buf_free(struct olsim_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

static int olsim_buf_reserve(struct olsim_buf *b, size_t extra)
{
    size_t need;
    size_t ncap;
    char *np;

    if (b->oom)
        goto fail;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    np = realloc(b->p, ncap);
    if (!np)
        goto fail;
    b->p = np;
    b->cap = ncap;
    return 0;
fail:
    b->oom = 1;
    return -1;
}

int olsim_buf_add(struct olsim_buf *b, const void *data, size_t n)
{
    if (olsim_buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int olsim_buf_str(struct olsim_buf *b, const char *s)
{
    return olsim_buf_add(b, s, strlen(s));
}

int olsim_buf_printf(struct olsim_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || olsim_buf_reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    b->len += (size_t)n;
    return 0;
}

int olsim_buf_json_str(struct olsim_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p;
    const unsigned char *run;
    char esc[7];

    if (!s)
        return olsim_buf_add(b, "null", 4);
    olsim_buf_add(b, "\"", 1);
    run = (const unsigned char *)s;
    for (p = run; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        olsim_buf_add(b, run, (size_t)(p - run));
        run = p + 1;
        esc[0] = '\\';
        switch (*p) {
        case '"':
            olsim_buf_add(b, "\\\"", 2);
            break;
        case '\\':
            olsim_buf_add(b, "\\\\", 2);
            break;
        case '\n':
            olsim_buf_add(b, "\\n", 2);
            break;
        case '\r':
            olsim_buf_add(b, "\\r", 2);
            break;
        case '\t':
            olsim_buf_add(b, "\\t", 2);
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            olsim_buf_add(b, esc, 6);
            break;
        }
    }
    olsim_buf_add(b, run, (size_t)(p - run));
    return olsim_buf_add(b, "\"", 1);
}

int olsim_buf_json_int(struct olsim_buf *b, long long v, int is_null)
{
    if (is_null)
        return olsim_buf_add(b, "null", 4);
    return olsim_buf_printf(b, "%lld", v);
}

int olsim_buf_json_time(struct olsim_buf *b, int64_t ms)
{
    char tmp[40];

    if (ms == 0)
        return olsim_buf_add(b, "null", 4);
    olsim_fmt_iso(ms, tmp, sizeof(tmp));
    return olsim_buf_printf(b, "\"%s\"", tmp);
}

uint64_t olsim_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void olsim_rng_seed(struct olsim_rng *r, uint64_t seed)
{
    r->s = olsim_mix(seed ^ 0x6f6c73696dULL);
}

uint64_t olsim_rng_next(struct olsim_rng *r)
{
    uint64_t z;

    r->s += 0x9e3779b97f4a7c15ULL;
    z = r->s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t olsim_rng_below(struct olsim_rng *r, uint32_t n)
{
    if (n == 0)
        return 0;
    return (uint32_t)(((olsim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

double olsim_rng_unit(struct olsim_rng *r)
{
    return (double)(olsim_rng_next(r) >> 11) / 9007199254740992.0;
}

int64_t olsim_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void olsim_fmt_iso(int64_t ms, char *out, size_t outsz)
{
    struct tm tm;
    time_t sec;
    int64_t frac;
    int n;

    sec = (time_t)(ms / 1000);
    frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        sec -= 1;
    }
    if (!gmtime_r(&sec, &tm))
        goto fail;
    n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    if (n < 0 || (size_t)n >= outsz)
        goto fail;
    return;
fail:
    if (outsz)
        out[0] = '\0';
}

/* Reads exactly n digits at *p. Returns the value, or -1. */
static int olsim_digits(const char **p, int n)
{
    int v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

int olsim_parse_iso(const char *s, int64_t *ms)
{
    struct tm tm;
    const char *p = s;
    int f[6];
    int frac = 0;
    int scale = 100;
    int off = 0;
    time_t sec;
    static const char seps[] = "--T::";
    int i;

    memset(&tm, 0, sizeof(tm));
    f[0] = olsim_digits(&p, 4);
    for (i = 1; i < 6; i++) {
        if (*p != seps[i - 1] && !(i == 3 && (*p == ' ' || *p == 't')))
            goto fail;
        p++;
        f[i] = olsim_digits(&p, 2);
    }
    for (i = 0; i < 6; i++)
        if (f[i] < 0)
            goto fail;
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 ||
        f[5] > 60)
        goto fail;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            goto fail;
        while (isdigit((unsigned char)*p)) {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-' || *p == ' ') {
        int sign = *p == '-' ? -1 : 1;
        int hh;
        int mm;

        p++;
        hh = olsim_digits(&p, 2);
        if (*p == ':')
            p++;
        mm = olsim_digits(&p, 2);
        if (hh < 0 || mm < 0 || hh > 23 || mm > 59)
            goto fail;
        off = sign * (hh * 3600 + mm * 60);
    } else if (*p != '\0') {
        goto fail;
    }
    if (*p != '\0')
        goto fail;
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    sec = timegm(&tm);
    if (sec == (time_t)-1)
        goto fail;
    *ms = ((int64_t)sec - off) * 1000 + frac;
    return 0;
fail:
    return -1;
}

int olsim_parse_duration(const char *s, int64_t *ms)
{
    char *end;
    double v;
    double mult = 1000.0;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        goto fail;
    if (strcmp(end, "ms") == 0)
        mult = 1.0;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        mult = 1000.0;
    else if (strcmp(end, "m") == 0)
        mult = 60000.0;
    else if (strcmp(end, "h") == 0)
        mult = 3600000.0;
    else if (strcmp(end, "d") == 0)
        mult = 86400000.0;
    else
        goto fail;
    if (v * mult > 9.0e15)
        goto fail;
    *ms = (int64_t)llround(v * mult);
    return 0;
fail:
    return -1;
}

int olsim_parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int olsim_parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char olsim_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int olsim_b64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
    const unsigned char *p = in;
    size_t o = 0;
    size_t i;
    uint32_t v;

    if (outsz < (n * 4 + 2) / 3 + 1)
        return -1;
    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = olsim_b64url_chars[v >> 18 & 63];
        out[o++] = olsim_b64url_chars[v >> 12 & 63];
        out[o++] = olsim_b64url_chars[v >> 6 & 63];
        out[o++] = olsim_b64url_chars[v & 63];
    }
    if (n - i == 1) {
        v = (uint32_t)p[i] << 16;
        out[o++] = olsim_b64url_chars[v >> 18 & 63];
        out[o++] = olsim_b64url_chars[v >> 12 & 63];
    } else if (n - i == 2) {
        v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = olsim_b64url_chars[v >> 18 & 63];
        out[o++] = olsim_b64url_chars[v >> 12 & 63];
        out[o++] = olsim_b64url_chars[v >> 6 & 63];
    }
    out[o] = '\0';
    return 0;
}

static int olsim_b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int olsim_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz,
                     size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    size_t i;
    int v;

    while (inlen > 0 && in[inlen - 1] == '=')
        inlen--;
    for (i = 0; i < inlen; i++) {
        v = olsim_b64_val((unsigned char)in[i]);
        if (v < 0)
            goto fail;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outsz)
                goto fail;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    if (bits >= 6)
        goto fail;
    *outlen = o;
    return 0;
fail:
    return -1;
}

static int olsim_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int olsim_query_get(const char *query, const char *key, char *out, size_t outsz)
{
    size_t klen = strlen(key);
    const char *p = query;
    const char *end;
    size_t o = 0;
    int hi;
    int lo;

    while (p && *p) {
        end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) >= klen && strncmp(p, key, klen) == 0 &&
            (p[klen] == '=' || p + klen == end)) {
            p += klen;
            if (*p == '=')
                p++;
            for (; p < end; p++) {
                char c = *p;

                hi = end - p >= 3 ? olsim_hexval(p[1]) : -1;
                lo = end - p >= 3 ? olsim_hexval(p[2]) : -1;
                if (c == '%' && hi >= 0 && lo >= 0) {
                    c = (char)(hi * 16 + lo);
                    p += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                if (o + 1 >= outsz)
                    return -1;
                out[o++] = c;
            }
            out[o] = '\0';
            return 1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

void olsim_query_copy_without(struct olsim_buf *b, const char *query, const char *drop)
{
    size_t dlen = strlen(drop);
    const char *p = query;
    const char *end;
    int first = 1;

    while (p && *p) {
        end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        if (end > p &&
            !(strncmp(p, drop, dlen) == 0 && (p[dlen] == '=' || p + dlen == end))) {
            if (!first)
                olsim_buf_add(b, "&", 1);
            olsim_buf_add(b, p, (size_t)(end - p));
            first = 0;
        }
        p = *end ? end + 1 : end;
    }
}

void olsim_url_encode(struct olsim_buf *b, const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            olsim_buf_add(b, p, 1);
        else
            olsim_buf_printf(b, "%%%02X", *p);
    }
}
