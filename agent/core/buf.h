/*
 * buf.h - a growable byte buffer.
 *
 * Used for HTTP bodies, formatted records and output staging. The data is
 * always NUL-terminated (not counted in len) so it can be handed to parsers
 * that want a C string. Allocation failure is reported, never ignored.
 */
#ifndef OLA_BUF_H
#define OLA_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

struct ola_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
};

#define OLA_BUF_INIT                                                                     \
    {                                                                                    \
        NULL, 0, 0                                                                       \
    }

/* Makes room for `extra` more bytes (+1 for the NUL). Returns 0 / -1 (ENOMEM). */
int ola_buf_reserve(struct ola_buf *b, size_t extra);
int ola_buf_append(struct ola_buf *b, const void *p, size_t n);
int ola_buf_puts(struct ola_buf *b, const char *s);
int ola_buf_putc(struct ola_buf *b, char c);
int ola_buf_printf(struct ola_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ola_buf_vprintf(struct ola_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included. */
int ola_buf_put_json_string(struct ola_buf *b, const char *s, size_t n);
/* Appends v in decimal (as JSON and printf's %lld write it). 0 / -1 (ENOMEM). */
int ola_buf_put_i64(struct ola_buf *b, int64_t v);
/* Keeps the allocation, forgets the content. */
void ola_buf_reset(struct ola_buf *b);
/* Cuts the content back to its first len bytes (len <= b->len), still NUL-terminated:
 * the rollback of a partly appended record. */
void ola_buf_truncate(struct ola_buf *b, size_t len);
/* Drops the first n bytes (n <= len). */
void ola_buf_consume(struct ola_buf *b, size_t n);
void ola_buf_free(struct ola_buf *b);
/* Hands the data to the caller (who frees it) and empties b. */
char *ola_buf_steal(struct ola_buf *b, size_t *len);

/*
 * Length of the valid UTF-8 sequence at s[0..n): 1 for ASCII, 2..4, or 0
 * when it is not one (strict: no overlong forms, no surrogates, nothing above
 * U+10FFFF, nothing cut short by n). n > 0.
 */
size_t ola_utf8_seq(const unsigned char *s, size_t n);

#endif
