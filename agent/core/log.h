/*
 * log.h - leveled log lines on stderr, text or JSON.
 *
 * The macros test the level before anything is formatted, so a disabled debug
 * line costs one comparison. Components name themselves ("source",
 * "output:kafka:main"). Never pass a secret to these functions: nothing here
 * can tell a token from any other string.
 */
#ifndef OLA_LOG_H
#define OLA_LOG_H

#include <stdio.h>

enum ola_log_level {
    OLA_LOG_ERR = 0,
    OLA_LOG_WARN = 1,
    OLA_LOG_INFO = 2,
    OLA_LOG_DEBUG = 3,
};

enum ola_log_format {
    OLA_LOG_TEXT = 0,
    OLA_LOG_JSON = 1,
};

extern int ola_log_level;

/* Sets level and format; stream NULL keeps stderr. @locality main thread, at startup. */
void ola_log_setup(int level, enum ola_log_format fmt, FILE *stream);
/* Parses "error|warn|info|debug"; returns -1 on an unknown name. */
int ola_log_level_parse(const char *name, int *level);
/*
 * The calling thread's lines name this tenant from now on ("comp[acme]: ..."
 * in text, "tenant":"acme" in JSON). name: borrowed, must outlive the
 * thread's logging; NULL: none.
 */
void ola_log_set_tenant(const char *name);
int ola_log_format_parse(const char *name, enum ola_log_format *fmt);

/*
 * errnum != 0 appends ": strerror(errnum)". Thread-safe (one write per line). The
 * component and the formatted message are escaped (controls, backslash, bytes that
 * are not UTF-8): a string from outside can neither break the line nor reach a terminal.
 */
void ola_log_write(int lvl, const char *comp, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define OLA_LOG(lvl, comp, errnum, ...)                                                  \
    do {                                                                                 \
        if ((lvl) <= ola_log_level)                                                      \
            ola_log_write((lvl), (comp), (errnum), __VA_ARGS__);                         \
    } while (0)

#define ola_log_err(comp, ...)        OLA_LOG(OLA_LOG_ERR, (comp), 0, __VA_ARGS__)
#define ola_log_warn(comp, ...)       OLA_LOG(OLA_LOG_WARN, (comp), 0, __VA_ARGS__)
#define ola_log_info(comp, ...)       OLA_LOG(OLA_LOG_INFO, (comp), 0, __VA_ARGS__)
#define ola_log_debug(comp, ...)      OLA_LOG(OLA_LOG_DEBUG, (comp), 0, __VA_ARGS__)
#define ola_log_errno(lvl, comp, ...) OLA_LOG((lvl), (comp), errno, __VA_ARGS__)

#endif
