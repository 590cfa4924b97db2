/*
 * settings.h - the onelogin: block, declared as an option table.
 *
 * The OneLogin source and client read their settings from this struct only;
 * the table (ola_ol_options) says each key's type, default, range and help,
 * and ola_ol_settings_load reads the block with the one walker (options.h).
 */
#ifndef OLA_ONELOGIN_SETTINGS_H
#define OLA_ONELOGIN_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/core/err.h"
#include "config/config.h"
#include "config/options.h"

struct ola_ol_settings {
    const char *base_url; /* from base_url or region */
    const char *client_id;
    const char *client_secret; /* secret */
    int64_t poll_interval_ms;  /* 10s */
    long long page_size;       /* 50 */
    int64_t start_ms;          /* resolved from start at load time */
    const char *start;         /* as written */
    int64_t overlap_ms;        /* 5m */
    int64_t late_sweep_ms;     /* 1m */
    int64_t settle_ms;         /* 10s */
    int64_t max_window_ms;     /* 1h: longest window during catch-up */
    int64_t timeout_ms;        /* 30s: one HTTP request */
    int64_t backoff_max_ms;    /* 60s */
    const char *ca_file;       /* NULL: system store */
    const char *proxy;         /* NULL: libcurl's env handling */
    uint64_t max_response;     /* 32MiB: bigger API answers are refused */
    bool allow_insecure_http;  /* http:// allowed on loopback only anyway */
};

/* The keys of the onelogin: map, in the order they are read. */
extern const struct ola_opt ola_ol_options[];

/*
 * Reads the onelogin: map (ol, NULL when absent) of doc into *out (zeroed
 * first). Strings point into doc, which must outlive *out. now_ms resolves a
 * relative `start`. Returns 0 / -1 with "file:line: ..." in err.
 */
int ola_ol_settings_load(const struct ola_cfg_doc *doc, const struct ola_cfg *ol,
                         int64_t now_ms, struct ola_ol_settings *out,
                         struct ola_err *err);

/* True when a and b hold the same settings (start compared as written). */
bool ola_ol_settings_equal(const struct ola_ol_settings *a,
                           const struct ola_ol_settings *b);

#endif
