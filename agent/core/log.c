/*
 * log.c - leveled log lines on stderr, as text or JSON.
 *
 * Each line is formatted into a local buffer and written with one fwrite
 * under the stream lock, so lines from threads never interleave. Text lines
 * read "2026-11-23T09:17:46.123Z warn source: message"; JSON lines carry the
 * same fields as {"ts","level","comp","msg"}. A thread serving a tenant
 * names it: "source[acme]: message", {"ts",..,"comp","tenant","msg"}.
 *
 * Messages carry strings from outside (an API error message, an event's
 * field, a file name), so the component and the formatted message are escaped
 * here, after formatting, whoever the caller: a line break cannot forge a
 * line, ESC cannot reach a terminal, and a byte that is not UTF-8 cannot make
 * a JSON line invalid. Text lines write controls as \n, \r, \t, \xHH (C1
 * controls as \u0080..\u009f) and a backslash as \\; JSON lines use JSON's
 * escapes. Bytes that are not UTF-8 read as \xHH in both.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "agent/core/buf.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"

int ola_log_level = OLA_LOG_INFO;
static enum ola_log_format ola_log_fmt = OLA_LOG_TEXT;
static FILE *ola_log_stream;
static _Thread_local const char *ola_log_tenant;

static const char *const ola_log_names[] = {"error", "warn", "info", "debug"};

void ola_log_setup(int level, enum ola_log_format fmt, FILE *stream)
{
    ola_log_level = level;
    ola_log_fmt = fmt;
    ola_log_stream = stream;
}

int ola_log_level_parse(const char *name, int *level)
{
    size_t i;

    for (i = 0; i < sizeof(ola_log_names) / sizeof(ola_log_names[0]); i++) {
        if (strcmp(name, ola_log_names[i]) == 0) {
            *level = (int)i;
            return 0;
        }
    }
    if (strcmp(name, "warning") == 0) {
        *level = OLA_LOG_WARN;
        return 0;
    }
    return -1;
}

/*
 * Appends s[0..n) to line, escaped for the format (text, or the inside of a
 * JSON string): every control character, DEL, C1 control (U+0080..U+009F),
 * backslash and byte that is not UTF-8. Returns 0 / -1 (ENOMEM).
 */
static int ola_log_put_escaped(struct ola_buf *line, const char *str, size_t n, bool json)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;

    while (i < n) {
        unsigned char c = s[i];
        char esc[8];
        size_t elen = 2, seq = 1;

        if (c >= 0x80) {
            seq = ola_utf8_seq(s + i, n - i);
            if (seq > 2 || (seq == 2 && !(c == 0xc2 && s[i + 1] < 0xa0))) {
                i += seq; /* printable UTF-8: as it is */
                continue;
            }
        } else if (c >= 0x20 && c != 0x7f && c != '\\' && !(json && c == '"')) {
            i++;
            continue;
        }
        if (ola_buf_append(line, s + run, i - run) != 0)
            return -1;
        esc[0] = '\\';
        if (c == '\\' || c == '"') {
            esc[1] = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (seq == 2) { /* a C1 control, U+0080..U+009F */
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[s[i + 1] >> 4];
            esc[5] = hex[s[i + 1] & 15];
            elen = 6;
        } else if (c < 0x80 && json) { /* other controls and DEL */
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        } else { /* text controls, and any byte that is not UTF-8 */
            size_t k = 0;

            if (json)
                esc[k++] = '\\'; /* a JSON string cannot hold the byte: "\\xHH" */
            esc[k++] = '\\';
            esc[k++] = 'x';
            esc[k++] = hex[c >> 4];
            esc[k++] = hex[c & 15];
            elen = k;
            seq = 1;
        }
        if (ola_buf_append(line, esc, elen) != 0)
            return -1;
        i += seq;
        run = i;
    }
    return ola_buf_append(line, s + run, n - run);
}

int ola_log_format_parse(const char *name, enum ola_log_format *fmt)
{
    if (strcmp(name, "text") == 0)
        *fmt = OLA_LOG_TEXT;
    else if (strcmp(name, "json") == 0)
        *fmt = OLA_LOG_JSON;
    else
        return -1;
    return 0;
}

void ola_log_set_tenant(const char *name)
{
    ola_log_tenant = name;
}

void ola_log_write(int lvl, const char *comp, int errnum, const char *fmt, ...)
{
    char msg[2048];
    char ts[OLA_ISO_MAX];
    char ebuf[128];
    struct ola_buf line = OLA_BUF_INIT;
    FILE *out = ola_log_stream ? ola_log_stream : stderr;
    const char *lname;
    bool json;
    va_list ap;
    int n;

    if (lvl < 0)
        lvl = 0;
    if (lvl > OLA_LOG_DEBUG)
        lvl = OLA_LOG_DEBUG;
    lname = ola_log_names[lvl];
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4);
    if (errnum != 0) {
        const char *es = strerror_r(errnum, ebuf, sizeof(ebuf)) == 0 ? ebuf : "error";
        size_t used = strlen(msg);

        if (used + 3 < sizeof(msg))
            snprintf(msg + used, sizeof(msg) - used, ": %s", es);
    }
    if (ola_time_format_iso(ola_now_ms(), ts, sizeof(ts)) != 0)
        ts[0] = '\0';
    if (comp == NULL)
        comp = "agent";
    json = ola_log_fmt == OLA_LOG_JSON;
    if (json) {
        if (ola_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"comp\":\"", ts,
                           lname) ||
            ola_log_put_escaped(&line, comp, strlen(comp), true) ||
            (ola_log_tenant != NULL &&
             (ola_buf_puts(&line, "\",\"tenant\":\"") ||
              ola_log_put_escaped(&line, ola_log_tenant, strlen(ola_log_tenant),
                                  true))) ||
            ola_buf_puts(&line, "\",\"msg\":\"") ||
            ola_log_put_escaped(&line, msg, strlen(msg), true) ||
            ola_buf_puts(&line, "\"}\n"))
            goto fail;
    } else {
        if (ola_buf_printf(&line, "%s %s ", ts, lname) ||
            ola_log_put_escaped(&line, comp, strlen(comp), false) ||
            (ola_log_tenant != NULL &&
             (ola_buf_putc(&line, '[') ||
              ola_log_put_escaped(&line, ola_log_tenant, strlen(ola_log_tenant), false) ||
              ola_buf_putc(&line, ']'))) ||
            ola_buf_puts(&line, ": ") ||
            ola_log_put_escaped(&line, msg, strlen(msg), false) ||
            ola_buf_putc(&line, '\n'))
            goto fail;
    }
    flockfile(out);
    fwrite(line.data, 1, line.len, out);
    fflush(out);
    funlockfile(out);
fail:
    ola_buf_free(&line);
}
