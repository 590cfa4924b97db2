/*
 * buf.c - a growable byte buffer, always NUL-terminated.
 *
 * Growth doubles the capacity (at least 256 bytes), so appends are amortised
 * O(1). A failed allocation leaves the buffer as it was and returns -1.
 * Also the strict UTF-8 sequence reader that the logger and the dead-letter
 * writer share (bytes put into a buffer are checked with it).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/buf.h"

int ola_buf_reserve(struct ola_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - b->len - 1) {
        errno = ENOMEM;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int ola_buf_append(struct ola_buf *b, const void *p, size_t n)
{
    if (ola_buf_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ola_buf_puts(struct ola_buf *b, const char *s)
{
    return ola_buf_append(b, s, strlen(s));
}

int ola_buf_putc(struct ola_buf *b, char c)
{
    return ola_buf_append(b, &c, 1);
}

int ola_buf_vprintf(struct ola_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || ola_buf_reserve(b, (size_t)n) != 0)
        return -1;
    if (vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap) != n)
        return -1;
    b->len += (size_t)n;
    return 0;
}

int ola_buf_printf(struct ola_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ola_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int ola_buf_put_json_string(struct ola_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    if (ola_buf_reserve(b, n + 2) != 0 || ola_buf_putc(b, '"') != 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (ola_buf_append(b, s + run, i - run) != 0)
            return -1;
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (ola_buf_append(b, esc, elen) != 0)
            return -1;
    }
    if (ola_buf_append(b, s + run, n - run) != 0)
        return -1;
    return ola_buf_putc(b, '"');
}

/* "00" to "99": two digits a division (a checkpoint writes some 50,000
 * thirteen-digit times after every page of a backfill). */
static const char ola_two_digits[201] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

int ola_buf_put_i64(struct ola_buf *b, int64_t v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    while (u >= 100) {
        p -= 2;
        memcpy(p, ola_two_digits + u % 100 * 2, 2);
        u /= 100;
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, ola_two_digits + u * 2, 2);
    } else {
        *--p = (char)('0' + u);
    }
    if (v < 0)
        *--p = '-';
    return ola_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void ola_buf_truncate(struct ola_buf *b, size_t len)
{
    b->len = len;
    if (b->data != NULL)
        b->data[len] = '\0';
}

void ola_buf_reset(struct ola_buf *b)
{
    ola_buf_truncate(b, 0);
}

void ola_buf_consume(struct ola_buf *b, size_t n)
{
    if (n >= b->len) {
        ola_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void ola_buf_free(struct ola_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *ola_buf_steal(struct ola_buf *b, size_t *len)
{
    char *p = b->data;

    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

size_t ola_utf8_seq(const unsigned char *s, size_t n)
{
    size_t need, k;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        need = 1;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        need = 2;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        need = 3;
    else
        return 0;
    if (n <= need)
        return 0;
    for (k = 1; k <= need; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return need + 1;
}
