/*
 * settings.c - the agent's settings, read from a loaded config document.
 *
 * One function per section reads its keys with the typed readers (defaults
 * for what is absent), refuses unknown keys, then checks the rules that span
 * keys: base_url xor region, http:// only on loopback, late_sweep no shorter
 * than poll_interval, unique output names. Strings point into the document;
 * the few made here (a base_url without its trailing slash, rule paths
 * resolved against the config file's directory) are stored in it too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "config/config.h"
#include "config/config_priv.h"

#define OLA_SEC  INT64_C(1000)
#define OLA_MIN  (60 * OLA_SEC)
#define OLA_HOUR (60 * OLA_MIN)
#define OLA_DAY  (24 * OLA_HOUR)

/* onelogin.max_response: a page of 1,000 events is about 2 MB */
#define OLA_MAX_RESPONSE_DEFAULT ((uint64_t)32 << 20)
#define OLA_MAX_RESPONSE_MIN     ((uint64_t)64 << 10)
#define OLA_MAX_RESPONSE_MAX     ((uint64_t)1 << 30)

static const char *const ola_top_keys[] = {
    "onelogin", "checkpoint", "outputs",          "log",     "metrics",       "enrich",
    "rules",    "alerts",     "shutdown_timeout", "catalog", "default_rules", NULL,
};

static const char *const ola_onelogin_keys[] = {
    "base_url",      "region",     "client_id", "client_secret", "client_secret_file",
    "poll_interval", "page_size",  "start",     "overlap",       "late_sweep",
    "settle",        "max_window", "timeout",   "backoff_max",   "ca_file",
    "max_response",  "proxy",      NULL,
};

static const char *const ola_region_names[] = {"us", "eu", NULL};
static const char *const ola_region_urls[] = {"https://api.us.onelogin.com",
                                              "https://api.eu.onelogin.com"};

static int ola_nomem(struct ola_err *err)
{
    return ola_err_set(err, ENOMEM, "out of memory");
}

/* The map under key: *out NULL when absent or null; an error when not a map. */
static int ola_section(const struct ola_cfg *root, const char *key,
                       const struct ola_cfg **out, struct ola_err *err)
{
    const struct ola_cfg *n = ola_cfg_get(root, key);

    *out = NULL;
    if (n == NULL || ola_cfg_type(n) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(n) != OLA_CFG_MAP)
        return ola_cfg_errf(err, n, "%s: expected a map", key);
    *out = n;
    return 0;
}

/* The node to blame for key in map: the value if present, else the map. */
static const struct ola_cfg *ola_blame(const struct ola_cfg *map, const char *key)
{
    const struct ola_cfg *n = ola_cfg_get(map, key);

    return n != NULL ? n : map;
}

static bool ola_host_is_loopback(const char *host)
{
    struct in_addr a4;

    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return false;
}

/* A host name (letters, digits, '.', '-', '_') or an IPv6 address (hex digits, ':', '.'),
 * what a URL parser takes as it is. */
static bool ola_host_chars_ok(const char *host, bool ipv6)
{
    static const char name[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789.-_";

    return host[strspn(host, ipv6 ? "0123456789abcdefABCDEF:." : name)] == '\0';
}

/*
 * Checks base_url (scheme, host, port; http:// only on loopback) and stores a
 * copy without trailing slashes in the document.
 */
static int ola_load_base_url(const struct ola_cfg_doc *doc, const struct ola_cfg *node,
                             const char *url, const char **out, bool *insecure,
                             struct ola_err *err)
{
    const char *rest, *h, *p;
    char host[256], shown[OLA_CFG_SHOWN_MAX];
    size_t hlen, len;
    bool https;

    if (strncasecmp(url, "https://", 8) == 0) {
        https = true;
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        https = false;
        rest = url + 7;
    } else {
        return ola_cfg_errf(err, node, "%s: must start with https://, got %s",
                            ola_cfg_path(node),
                            ola_cfg_shown(node, shown, sizeof(shown)));
    }
    p = rest + strcspn(rest, "/?#");
    if (memchr(rest, '@', (size_t)(p - rest)) != NULL)
        return ola_cfg_errf(err, node, "%s: must not contain credentials",
                            ola_cfg_path(node));
    if (strpbrk(rest, "?#") != NULL)
        return ola_cfg_errf(err, node, "%s: must not have a query or fragment",
                            ola_cfg_path(node));
    h = rest;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(p - h));

        if (close == NULL)
            return ola_cfg_errf(err, node, "%s: bad IPv6 host in %s", ola_cfg_path(node),
                                ola_cfg_shown(node, shown, sizeof(shown)));
        h++;
        hlen = (size_t)(close - h);
        p = close + 1;
    } else {
        hlen = strcspn(h, ":/");
        p = h + hlen;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return ola_cfg_errf(err, node, "%s: no host in %s", ola_cfg_path(node),
                            ola_cfg_shown(node, shown, sizeof(shown)));
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (!ola_host_chars_ok(host, rest[0] == '['))
        return ola_cfg_errf(err, node, "%s: bad host in %s", ola_cfg_path(node),
                            ola_cfg_shown(node, shown, sizeof(shown)));
    if (*p == ':') {
        unsigned long port = 0;
        size_t digits = 0;

        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (port <= 65535)
                port = port * 10 + (unsigned long)(*p - '0');
        if (digits == 0 || port == 0 || port > 65535 || (*p != '\0' && *p != '/'))
            return ola_cfg_errf(err, node, "%s: bad port in %s", ola_cfg_path(node),
                                ola_cfg_shown(node, shown, sizeof(shown)));
    } else if (*p != '\0' && *p != '/') {
        return ola_cfg_errf(err, node, "%s: bad host in %s", ola_cfg_path(node),
                            ola_cfg_shown(node, shown, sizeof(shown)));
    }
    *insecure = false;
    if (!https) {
        if (!ola_host_is_loopback(host))
            return ola_cfg_errf(err, node,
                                "%s: http:// is allowed only on loopback (127.0.0.0/8, "
                                "localhost, [::1]); use https://",
                                ola_cfg_path(node));
        *insecure = true;
    }
    len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    *out = ola_cfg_doc_strndup(doc, url, len);
    return *out != NULL ? 0 : ola_nomem(err);
}

static int ola_load_onelogin(const struct ola_cfg_doc *doc, const struct ola_cfg *root,
                             int64_t now_ms, struct ola_settings *s, struct ola_err *err)
{
    const struct ola_cfg *ol, *bu, *rg;
    const char *url = NULL;
    char shown[OLA_CFG_SHOWN_MAX];
    int region = 0;

    if (ola_section(root, "onelogin", &ol, err) != 0)
        return -1;
    if (ol == NULL)
        return ola_cfg_errf(err, ola_blame(root, "onelogin"),
                            "onelogin: missing (base_url or region, client_id, "
                            "client_secret)");
    if (ola_cfg_check_keys(ol, ola_onelogin_keys, err) != 0)
        return -1;

    bu = ola_cfg_get(ol, "base_url");
    rg = ola_cfg_get(ol, "region");
    if (ola_cfg_type(bu) == OLA_CFG_NULL)
        bu = NULL;
    if (ola_cfg_type(rg) == OLA_CFG_NULL)
        rg = NULL;
    if (bu != NULL && rg != NULL)
        return ola_cfg_errf(err, ola_cfg_line(rg) > ola_cfg_line(bu) ? rg : bu,
                            "onelogin: set base_url or region, not both");
    if (bu == NULL && rg == NULL)
        return ola_cfg_errf(err, ol, "onelogin: base_url or region (us, eu) is required");
    if (rg != NULL) {
        if (ola_cfg_enum(ol, "region", ola_region_names, 0, &region, err) != 0)
            return -1;
        s->onelogin.base_url = ola_region_urls[region];
    } else {
        if (ola_cfg_str(ol, "base_url", NULL, &url, err) != 0 ||
            ola_load_base_url(doc, bu, url, &s->onelogin.base_url,
                              &s->onelogin.allow_insecure_http, err) != 0)
            return -1;
    }

    if (ola_cfg_str(ol, "client_id", NULL, &s->onelogin.client_id, err) != 0)
        return -1;
    if (s->onelogin.client_id == NULL)
        return ola_cfg_errf(err, ol, "onelogin.client_id is required");
    if (s->onelogin.client_id[0] == '\0')
        return ola_cfg_errf(err, ola_cfg_get(ol, "client_id"),
                            "onelogin.client_id: must not be empty");
    if (ola_cfg_secret(ol, "client_secret", &s->onelogin.client_secret, err) != 0)
        return -1;
    if (s->onelogin.client_secret == NULL)
        return ola_cfg_errf(err, ol,
                            "onelogin: client_secret or client_secret_file is required");
    if (s->onelogin.client_secret[0] == '\0')
        return ola_cfg_errf(err, ola_cfg_get(ol, "client_secret"),
                            "onelogin.client_secret: must not be empty");

    if (ola_cfg_duration(ol, "poll_interval", 10 * OLA_SEC, 100, OLA_DAY,
                         &s->onelogin.poll_interval_ms, err) != 0 ||
        ola_cfg_int(ol, "page_size", 50, 1, 1000, &s->onelogin.page_size, err) != 0 ||
        ola_cfg_str(ol, "start", "-24h", &s->onelogin.start, err) != 0 ||
        ola_cfg_duration(ol, "overlap", 5 * OLA_MIN, 1, 7 * OLA_DAY,
                         &s->onelogin.overlap_ms, err) != 0 ||
        ola_cfg_duration(ol, "late_sweep", OLA_MIN, 0, OLA_DAY,
                         &s->onelogin.late_sweep_ms, err) != 0 ||
        ola_cfg_duration(ol, "settle", 10 * OLA_SEC, 0, OLA_HOUR, &s->onelogin.settle_ms,
                         err) != 0 ||
        ola_cfg_duration(ol, "max_window", OLA_HOUR, OLA_SEC, 31 * OLA_DAY,
                         &s->onelogin.max_window_ms, err) != 0 ||
        ola_cfg_duration(ol, "timeout", 30 * OLA_SEC, 100, 10 * OLA_MIN,
                         &s->onelogin.timeout_ms, err) != 0 ||
        ola_cfg_duration(ol, "backoff_max", 60 * OLA_SEC, 100, OLA_HOUR,
                         &s->onelogin.backoff_max_ms, err) != 0 ||
        ola_cfg_str(ol, "ca_file", NULL, &s->onelogin.ca_file, err) != 0 ||
        ola_cfg_str(ol, "proxy", NULL, &s->onelogin.proxy, err) != 0 ||
        ola_cfg_size(ol, "max_response", OLA_MAX_RESPONSE_DEFAULT,
                     &s->onelogin.max_response, err) != 0)
        return -1;
    if (s->onelogin.max_response < OLA_MAX_RESPONSE_MIN ||
        s->onelogin.max_response > OLA_MAX_RESPONSE_MAX)
        return ola_cfg_errf(err, ola_cfg_get(ol, "max_response"),
                            "onelogin.max_response: 64KiB .. 1GiB");

    if (s->onelogin.late_sweep_ms < s->onelogin.poll_interval_ms) {
        char a[48], b[48];

        if (ola_duration_format(s->onelogin.late_sweep_ms, a, sizeof(a)) != 0 ||
            ola_duration_format(s->onelogin.poll_interval_ms, b, sizeof(b)) != 0)
            a[0] = b[0] = '\0';
        return ola_cfg_errf(err,
                            ola_cfg_get(ol, "late_sweep") != NULL
                                ? ola_cfg_get(ol, "late_sweep")
                                : ola_blame(ol, "poll_interval"),
                            "onelogin.late_sweep (%s) must be at least "
                            "onelogin.poll_interval (%s)",
                            a, b);
    }
    if (ola_time_parse_start(s->onelogin.start, now_ms, &s->onelogin.start_ms) != 0)
        return ola_cfg_errf(
            err, ola_blame(ol, "start"),
            "onelogin.start: bad start %s (use now, -24h or an "
            "ISO-8601 time like 2024-01-31T00:00:00Z)",
            ola_cfg_shown(ola_cfg_get(ol, "start"), shown, sizeof(shown)));
    if (s->onelogin.ca_file != NULL && s->onelogin.ca_file[0] == '\0')
        return ola_cfg_errf(err, ola_cfg_get(ol, "ca_file"),
                            "onelogin.ca_file: must not be empty");
    if (s->onelogin.proxy != NULL && s->onelogin.proxy[0] == '\0')
        s->onelogin.proxy = NULL;
    return 0;
}

static int ola_load_checkpoint(const struct ola_cfg *root, struct ola_settings *s,
                               struct ola_err *err)
{
    static const char *const keys[] = {"path", NULL};
    const struct ola_cfg *cp;

    if (ola_section(root, "checkpoint", &cp, err) != 0 ||
        ola_cfg_check_keys(cp, keys, err) != 0 ||
        ola_cfg_str(cp, "path", "./state/checkpoint.json", &s->checkpoint.path, err) != 0)
        return -1;
    if (s->checkpoint.path[0] == '\0')
        return ola_cfg_errf(err, ola_cfg_get(cp, "path"),
                            "checkpoint.path: must not be empty");
    return 0;
}

static int ola_load_log(const struct ola_cfg *root, struct ola_settings *s,
                        struct ola_err *err)
{
    static const char *const keys[] = {"level", "format", "progress", NULL};
    const struct ola_cfg *lg;
    enum ola_log_format fmt;
    char shown[OLA_CFG_SHOWN_MAX];
    int level;

    if (ola_section(root, "log", &lg, err) != 0 ||
        ola_cfg_check_keys(lg, keys, err) != 0 ||
        ola_cfg_str(lg, "level", "info", &s->log.level, err) != 0 ||
        ola_cfg_str(lg, "format", "text", &s->log.format, err) != 0 ||
        ola_cfg_bool(lg, "progress", false, &s->log.progress, err) != 0)
        return -1;
    if (ola_log_level_parse(s->log.level, &level) != 0)
        return ola_cfg_errf(
            err, ola_cfg_get(lg, "level"),
            "log.level: unknown level %s (error, warn, info, debug)",
            ola_cfg_shown(ola_cfg_get(lg, "level"), shown, sizeof(shown)));
    if (ola_log_format_parse(s->log.format, &fmt) != 0)
        return ola_cfg_errf(
            err, ola_cfg_get(lg, "format"), "log.format: unknown format %s (text, json)",
            ola_cfg_shown(ola_cfg_get(lg, "format"), shown, sizeof(shown)));
    return 0;
}

/* "host:port", "[::1]:port"; port 0 asks for any free port. */
static bool ola_listen_ok(const char *s)
{
    const char *colon = strrchr(s, ':'), *p;
    unsigned long port = 0;

    if (colon == NULL || colon == s || colon[1] == '\0')
        return false;
    for (p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return false;
    }
    if (s[0] == '[')
        return colon[-1] == ']' && colon - s > 2;
    return true;
}

static int ola_load_metrics(const struct ola_cfg *root, struct ola_settings *s,
                            struct ola_err *err)
{
    static const char *const keys[] = {"enabled", "listen", NULL};
    const struct ola_cfg *m = ola_cfg_get(root, "metrics");
    char shown[OLA_CFG_SHOWN_MAX];

    s->metrics.enabled = true;
    s->metrics.listen = "127.0.0.1:9464";
    switch (ola_cfg_type(m)) {
    case OLA_CFG_NULL:
        return 0;
    case OLA_CFG_SCALAR:
        return ola_cfg_bool(root, "metrics", true, &s->metrics.enabled, err);
    case OLA_CFG_SEQ:
        return ola_cfg_errf(err, m, "metrics: expected a map or false");
    case OLA_CFG_MAP:
        break;
    }
    if (ola_cfg_check_keys(m, keys, err) != 0 ||
        ola_cfg_bool(m, "enabled", true, &s->metrics.enabled, err) != 0 ||
        ola_cfg_str(m, "listen", s->metrics.listen, &s->metrics.listen, err) != 0)
        return -1;
    if (!ola_listen_ok(s->metrics.listen))
        return ola_cfg_errf(
            err, ola_cfg_get(m, "listen"), "metrics.listen: expected host:port, got %s",
            ola_cfg_shown(ola_cfg_get(m, "listen"), shown, sizeof(shown)));
    return 0;
}

/* The enrich map: what to look up, how fast, how much of the budget, the cache. */
static int ola_load_enrich(const struct ola_cfg *root, struct ola_settings *s,
                           struct ola_err *err)
{
    static const char *const keys[] = {
        "enabled", "users",   "roles",   "event_types", "concurrency",
        "api",     "timeout", "reserve", "cache",       NULL,
    };
    static const char *const cache_keys[] = {"entries", "ttl", "negative_ttl", NULL};
    const struct ola_cfg *e = ola_cfg_get(root, "enrich"), *c;
    struct ola_enrich_settings *o = &s->enrich_opts;

    s->enrich = NULL;
    s->enrich_enabled = true;
    o->users = true;
    o->roles = true;
    o->event_types = true;
    o->concurrency = 4;
    o->api_version = 2;
    o->timeout_ms = 10 * OLA_SEC;
    o->reserve = 0.2;
    o->cache_entries = 10000;
    o->cache_ttl_ms = 15 * OLA_MIN;
    o->cache_negative_ms = 5 * OLA_MIN;
    switch (ola_cfg_type(e)) {
    case OLA_CFG_NULL:
        return 0;
    case OLA_CFG_SCALAR:
        return ola_cfg_bool(root, "enrich", true, &s->enrich_enabled, err);
    case OLA_CFG_SEQ:
        return ola_cfg_errf(err, e, "enrich: expected a map or false");
    case OLA_CFG_MAP:
        break;
    }
    s->enrich = e;
    if (ola_cfg_check_keys(e, keys, err) != 0 ||
        ola_cfg_bool(e, "enabled", true, &s->enrich_enabled, err) != 0 ||
        ola_cfg_bool(e, "users", true, &o->users, err) != 0 ||
        ola_cfg_bool(e, "roles", true, &o->roles, err) != 0 ||
        ola_cfg_bool(e, "event_types", true, &o->event_types, err) != 0 ||
        ola_cfg_int(e, "concurrency", 4, 1, 32, &o->concurrency, err) != 0 ||
        ola_cfg_int(e, "api", 2, 1, 2, &o->api_version, err) != 0 ||
        ola_cfg_duration(e, "timeout", 10 * OLA_SEC, 100, 5 * OLA_MIN, &o->timeout_ms,
                         err) != 0 ||
        ola_cfg_percent(e, "reserve", 0.2, &o->reserve, err) != 0)
        return -1;
    if (o->reserve > 0.9)
        return ola_cfg_errf(err, ola_cfg_get(e, "reserve"),
                            "enrich.reserve: at most 90%% (the share of the rate limit "
                            "kept for polling)");
    c = ola_cfg_get(e, "cache");
    if (ola_cfg_type(c) == OLA_CFG_NULL)
        c = NULL;
    if (c != NULL && ola_cfg_type(c) != OLA_CFG_MAP)
        return ola_cfg_errf(err, c,
                            "enrich.cache: expected a map (entries, ttl, negative_ttl)");
    if (ola_cfg_check_keys(c, cache_keys, err) != 0 ||
        ola_cfg_int(c, "entries", 10000, 1, 10000000, &o->cache_entries, err) != 0 ||
        ola_cfg_duration(c, "ttl", 15 * OLA_MIN, OLA_SEC, 7 * OLA_DAY, &o->cache_ttl_ms,
                         err) != 0 ||
        ola_cfg_duration(c, "negative_ttl", 5 * OLA_MIN, 0, 7 * OLA_DAY,
                         &o->cache_negative_ms, err) != 0)
        return -1;
    if (!o->users && !o->roles && !o->event_types)
        s->enrich_enabled = false;
    return 0;
}

/*
 * Resolves f against the directory of the config file cfg: absolute paths
 * and configs without a directory part stay as they are. The result lives
 * in doc. Returns 0 / -1 (out of memory).
 */
static int ola_resolve_path(const struct ola_cfg_doc *doc, const char *cfg, const char *f,
                            const char **out)
{
    const char *slash = strrchr(cfg, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - cfg) + 1 : 0;
    size_t flen = strlen(f);
    char *res;

    if (f[0] == '/' || dir_len == 0) {
        *out = f;
        return 0;
    }
    res = ola_cfg_doc_alloc(doc, dir_len + flen + 1);
    if (res == NULL)
        return -1;
    memcpy(res, cfg, dir_len);
    memcpy(res + dir_len, f, flen + 1);
    *out = res;
    return 0;
}

/* rules: a list of files; relative paths are resolved against the config's directory. */
static int ola_load_rules(const struct ola_cfg_doc *doc, const struct ola_cfg *root,
                          struct ola_settings *s, struct ola_err *err)
{
    const struct ola_cfg *r = ola_cfg_get(root, "rules");
    const char **files;
    size_t i, n;

    s->rules = NULL;
    s->rule_files = NULL;
    s->n_rule_files = 0;
    if (ola_cfg_type(r) == OLA_CFG_NULL)
        return 0;
    if (ola_cfg_type(r) != OLA_CFG_SEQ)
        return ola_cfg_errf(err, r, "rules: expected a list of rule files");
    s->rules = r;
    n = ola_cfg_len(r);
    if (n == 0)
        return 0;
    files = ola_cfg_doc_alloc(doc, n * sizeof(*files));
    if (files == NULL)
        return ola_nomem(err);
    for (i = 0; i < n; i++) {
        const struct ola_cfg *item = ola_cfg_at(r, i);
        const char *f = ola_cfg_scalar(item);

        if (f == NULL || f[0] == '\0')
            return ola_cfg_errf(err, item, "%s: expected a file name",
                                ola_cfg_path(item));
        if (ola_resolve_path(doc, ola_cfg_file(root), f, &files[i]) != 0)
            return ola_nomem(err);
    }
    s->rule_files = files;
    s->n_rule_files = n;
    return 0;
}

/*
 * catalog: an event-type catalog file used instead of the built-in one (none
 * by default). default_rules: the built-in rule pack, on unless false.
 */
static int ola_load_catalog(const struct ola_cfg_doc *doc, const struct ola_cfg *root,
                            struct ola_settings *s, struct ola_err *err)
{
    const char *f = NULL;

    s->catalog_builtin = true;
    if (ola_cfg_bool(root, "default_rules", true, &s->default_rules, err) != 0 ||
        ola_cfg_str(root, "catalog", NULL, &f, err) != 0)
        return -1;
    if (f == NULL)
        return 0;
    if (f[0] == '\0')
        return ola_cfg_errf(err, ola_cfg_get(root, "catalog"),
                            "catalog: expected a file name");
    if (ola_resolve_path(doc, ola_cfg_file(root), f, &s->catalog_path) != 0)
        return ola_nomem(err);
    return 0;
}

static bool ola_type_ok(const char *t)
{
    size_t i;

    if (t[0] < 'a' || t[0] > 'z')
        return false;
    for (i = 0; t[i] != '\0'; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') ||
              t[i] == '_'))
            return false;
    return i <= 32;
}

static bool ola_name_ok(const char *t)
{
    size_t i;

    for (i = 0; t[i] != '\0'; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-' || t[i] == '.'))
            return false;
    return i > 0 && i < 64;
}

static int ola_load_outputs(const struct ola_cfg *root, struct ola_settings *s,
                            struct ola_err *err)
{
    const struct ola_cfg *outs = ola_cfg_get(root, "outputs");
    char shown[OLA_CFG_SHOWN_MAX];
    size_t i, j, n;

    s->n_outputs = 0;
    if (ola_cfg_type(outs) == OLA_CFG_NULL)
        return ola_cfg_errf(err, outs != NULL ? outs : root,
                            "outputs: at least one output is required (e.g. "
                            "- type: stdout)");
    if (ola_cfg_type(outs) != OLA_CFG_SEQ)
        return ola_cfg_errf(err, outs, "outputs: expected a list of outputs");
    n = ola_cfg_len(outs);
    if (n == 0)
        return ola_cfg_errf(err, outs, "outputs: at least one output is required");
    if (n > OLA_MAX_OUTPUTS)
        return ola_cfg_errf(err, ola_cfg_at(outs, OLA_MAX_OUTPUTS),
                            "outputs: at most %d outputs", OLA_MAX_OUTPUTS);
    for (i = 0; i < n; i++) {
        const struct ola_cfg *o = ola_cfg_at(outs, i);
        struct ola_output_cfg *oc = &s->outputs[i];

        if (ola_cfg_type(o) != OLA_CFG_MAP)
            return ola_cfg_errf(err, o, "%s: expected a map with a type",
                                ola_cfg_path(o));
        oc->node = o;
        if (ola_cfg_str(o, "type", NULL, &oc->type, err) != 0)
            return -1;
        if (oc->type == NULL)
            return ola_cfg_errf(err, o,
                                "%s: type is required (stdout, file, kafka, syslog)",
                                ola_cfg_path(o));
        if (!ola_type_ok(oc->type))
            return ola_cfg_errf(
                err, ola_cfg_get(o, "type"), "%s.type: %s is not an output type",
                ola_cfg_path(o),
                ola_cfg_shown(ola_cfg_get(o, "type"), shown, sizeof(shown)));
        if (ola_cfg_str(o, "name", oc->type, &oc->name, err) != 0)
            return -1;
        if (!ola_name_ok(oc->name))
            return ola_cfg_errf(err, ola_cfg_get(o, "name"),
                                "%s.name: use 1-63 letters, digits, '_', '-' or '.'",
                                ola_cfg_path(o));
        for (j = 0; j < i; j++) {
            const struct ola_output_cfg *prev = &s->outputs[j];

            if (strcmp(prev->name, oc->name) != 0)
                continue;
            if (ola_cfg_get(o, "name") == NULL && ola_cfg_get(prev->node, "name") == NULL)
                return ola_cfg_errf(
                    err, o,
                    "%s: two outputs of type %s (the other at line %d): "
                    "give each a distinct name:",
                    ola_cfg_path(o),
                    ola_cfg_shown(ola_cfg_get(o, "type"), shown, sizeof(shown)),
                    ola_cfg_line(prev->node));
            return ola_cfg_errf(
                err, ola_blame(o, "name"),
                "%s: output name %s is already used at line %d", ola_cfg_path(o),
                ola_cfg_shown(ola_cfg_get(o, "name"), shown, sizeof(shown)),
                ola_cfg_line(prev->node));
        }
    }
    s->n_outputs = n;
    return 0;
}

int ola_settings_load(const struct ola_cfg_doc *doc, int64_t now_ms,
                      struct ola_settings *s, struct ola_err *err)
{
    const struct ola_cfg *root = ola_cfg_root(doc);

    memset(s, 0, sizeof(*s));
    if (root == NULL)
        return ola_err_set(err, EINVAL, "no configuration");
    s->path = ola_cfg_file(root);
    if (ola_cfg_type(root) == OLA_CFG_NULL)
        return ola_cfg_errf(err, root,
                            "the file is empty: onelogin and outputs are required");
    if (ola_cfg_type(root) != OLA_CFG_MAP)
        return ola_cfg_errf(err, root, "expected a map of settings at the top level");
    if (ola_cfg_check_keys(root, ola_top_keys, err) != 0 ||
        ola_load_onelogin(doc, root, now_ms, s, err) != 0 ||
        ola_load_checkpoint(root, s, err) != 0 || ola_load_log(root, s, err) != 0 ||
        ola_load_metrics(root, s, err) != 0 || ola_load_enrich(root, s, err) != 0 ||
        ola_load_rules(doc, root, s, err) != 0 ||
        ola_load_catalog(doc, root, s, err) != 0 ||
        ola_cfg_duration(root, "shutdown_timeout", 10 * OLA_SEC, 0, OLA_HOUR,
                         &s->shutdown_timeout_ms, err) != 0 ||
        ola_load_outputs(root, s, err) != 0)
        return -1;
    s->alerts = ola_cfg_get(root, "alerts");
    if (ola_cfg_type(s->alerts) == OLA_CFG_NULL)
        s->alerts = NULL;
    return 0;
}
