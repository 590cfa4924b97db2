/*
 * log.c - leveled log lines on stderr, as text or JSON.
 *
 * Each line is formatted into a local buffer and written with one fwrite
 * under the stream lock, so lines from threads never interleave. Text lines
 * read "2026-11-23T09:17:46.123Z warn source: message"; JSON lines carry the
 * same fields as {"ts","level","comp","msg"}.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "timeutil.h"

int ola_log_level = OLA_LOG_INFO;
static enum ola_log_format ola_log_fmt = OLA_LOG_TEXT;
static FILE *ola_log_stream;

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

void ola_log_write(int lvl, const char *comp, int errnum, const char *fmt, ...)
{
    char msg[2048];
    char ts[OLA_ISO_MAX];
    char ebuf[128];
    struct ola_buf line = OLA_BUF_INIT;
    FILE *out = ola_log_stream ? ola_log_stream : stderr;
    const char *lname;
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
    if (ola_log_fmt == OLA_LOG_JSON) {
        if (ola_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"comp\":", ts,
                           lname) ||
            ola_buf_put_json_string(&line, comp ? comp : "agent",
                                    strlen(comp ? comp : "agent")) ||
            ola_buf_puts(&line, ",\"msg\":") ||
            ola_buf_put_json_string(&line, msg, strlen(msg)) ||
            ola_buf_puts(&line, "}\n"))
            goto fail;
    } else {
        if (ola_buf_printf(&line, "%s %s %s: %s\n", ts, lname, comp ? comp : "agent",
                           msg))
            goto fail;
    }
    flockfile(out);
    fwrite(line.data, 1, line.len, out);
    fflush(out);
    funlockfile(out);
fail:
    ola_buf_free(&line);
}
