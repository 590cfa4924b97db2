/*
 * err.h - the caller-supplied error of setup functions.
 *
 * Setup code (config, plugin init, file opening) returns 0 / -1 and, on -1,
 * fills a struct ola_err the caller passed in (like Jansson's json_error_t).
 * It never logs: the caller decides whether the message becomes a log line,
 * an exit message or a test assertion. `err` may be NULL everywhere.
 */
#ifndef OLA_ERR_H
#define OLA_ERR_H

#include <stdarg.h>

#define OLA_ERR_MSG_MAX 256

struct ola_err {
    int code; /* an errno value, an HTTP status, or 0 */
    char msg[OLA_ERR_MSG_MAX];
};

/* Fills err (if not NULL) and returns -1, so `return ola_err_set(...)` reads well. */
int ola_err_set(struct ola_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ola_err_vset(struct ola_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Prepends "prefix: " to an error already set. Returns -1. */
int ola_err_prefix(struct ola_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ola_err_clear(struct ola_err *err);

#endif
