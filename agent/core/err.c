/*
 * err.c - filling the caller-supplied error of setup functions.
 *
 * Messages are truncated to OLA_ERR_MSG_MAX; a truncated message ends in
 * "..." so the reader knows.
 */
#include <stdio.h>
#include <string.h>

#include "agent/core/err.h"

static void ola_err_mark_truncated(struct ola_err *err)
{
    memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
}

int ola_err_vset(struct ola_err *err, int code, const char *fmt, va_list ap)
{
    int n;

    if (err == NULL)
        return -1;
    err->code = code;
    n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (n < 0)
        err->msg[0] = '\0';
    else if ((size_t)n >= sizeof(err->msg))
        ola_err_mark_truncated(err);
    return -1;
}

int ola_err_set(struct ola_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ola_err_vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int ola_err_prefix(struct ola_err *err, const char *fmt, ...)
{
    char prefix[OLA_ERR_MSG_MAX];
    char old[OLA_ERR_MSG_MAX];
    va_list ap;
    int n;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    memcpy(old, err->msg, sizeof(old));
    n = snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
    if (n >= 0 && (size_t)n >= sizeof(err->msg))
        ola_err_mark_truncated(err);
    return -1;
}

void ola_err_clear(struct ola_err *err)
{
    if (err == NULL)
        return;
    err->code = 0;
    err->msg[0] = '\0';
}
