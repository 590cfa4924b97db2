/*
 * settings.c - the onelogin: block: its option table and what a table cannot say.
 *
 * ola_ol_options declares every key (type, default, range, help); the walker
 * (config/options.h) reads them. Two things need code: the tenant's address
 * (base_url xor region; base_url's scheme, host and port, http:// only on
 * loopback, a copy without trailing slashes kept in the document) in a hook,
 * and the checks that span keys (late_sweep no shorter than poll_interval,
 * `start` resolved against the load time) after the walk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "agent/core/timeutil.h"
#include "agent/onelogin/settings.h"
#include "config/config.h"
#include "config/options.h"

#define OLA_SEC  INT64_C(1000)
#define OLA_MIN  (60 * OLA_SEC)
#define OLA_HOUR (60 * OLA_MIN)
#define OLA_DAY  (24 * OLA_HOUR)

static const char *const ola_region_names[] = {"us", "eu", NULL};
static const char *const ola_region_urls[] = {"https://api.us.onelogin.com",
                                              "https://api.eu.onelogin.com"};

/* What the hooks need besides the map. */
struct ola_ol_ctx {
    const struct ola_cfg_doc *doc;
};

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
    return *out != NULL ? 0 : ola_err_set(err, ENOMEM, "out of memory");
}

/* base_url or region (the walker leaves both to this hook). */
static int ola_ol_tenant(const struct ola_cfg *ol, const struct ola_opt *opt, void *obj,
                         void *ctx, struct ola_err *err)
{
    struct ola_ol_settings *s = obj;
    const struct ola_ol_ctx *c = ctx;
    const struct ola_cfg *bu = ola_cfg_get(ol, "base_url"),
                         *rg = ola_cfg_get(ol, "region");
    const char *url = NULL;
    int region = 0;

    (void)opt;
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
        s->base_url = ola_region_urls[region];
        return 0;
    }
    if (ola_cfg_str(ol, "base_url", NULL, &url, err) != 0 ||
        ola_load_base_url(c->doc, bu, url, &s->base_url, &s->allow_insecure_http, err) !=
            0)
        return -1;
    return 0;
}

#define OLA_OL_OFF(f) offsetof(struct ola_ol_settings, f)

const struct ola_opt ola_ol_options[] = {
    {.name = "base_url",
     .type = OLA_OPT_STR,
     .offset = OLA_OL_OFF(base_url),
     .hook = ola_ol_tenant,
     .flags = OLA_OPT_MANUAL,
     .help = "The tenant's API: either base_url or region, not both."},
    {.name = "region",
     .type = OLA_OPT_ENUM,
     .names = ola_region_names,
     .flags = OLA_OPT_MANUAL,
     .help = "us or eu, instead of base_url"},
    {.name = "client_id",
     .type = OLA_OPT_STR,
     .offset = OLA_OL_OFF(client_id),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .help = "API credentials (required)."},
    {.name = "client_secret",
     .type = OLA_OPT_SECRET,
     .offset = OLA_OL_OFF(client_secret),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .help = "or client_secret_file: a file that holds it"},
    {.name = "poll_interval",
     .type = OLA_OPT_DURATION,
     .offset = OLA_OL_OFF(poll_interval_ms),
     .def_int = 10 * OLA_SEC,
     .min = 100,
     .max = OLA_DAY,
     .help = "How often the head of the log is polled (100ms .. 1d)."},
    {.name = "page_size",
     .type = OLA_OPT_INT,
     .offset = OLA_OL_OFF(page_size),
     .def_int = 50,
     .min = 1,
     .max = 1000,
     .help = "Events per page (1 .. 1000; OneLogin's default is 50)."},
    {.name = "start",
     .type = OLA_OPT_STR,
     .offset = OLA_OL_OFF(start),
     .def_str = "-24h",
     .help = "Where to begin when there is no checkpoint yet: now, -24h (relative to "
             "startup), or an ISO-8601 instant such as 2024-01-31T00:00:00Z."},
    {.name = "overlap",
     .type = OLA_OPT_DURATION,
     .offset = OLA_OL_OFF(overlap_ms),
     .def_int = 5 * OLA_MIN,
     .min = 1,
     .max = 7 * OLA_DAY,
     .help = "How far behind the watermark the late sweep re-reads, to catch events "
             "that arrive late (must be more than 0; up to 7d)."},
    {.name = "late_sweep",
     .type = OLA_OPT_DURATION,
     .offset = OLA_OL_OFF(late_sweep_ms),
     .def_int = OLA_MIN,
     .min = 0,
     .max = OLA_DAY,
     .help = "How often the overlap is re-read (at least poll_interval; up to 1d)."},
    {.name = "settle",
     .type = OLA_OPT_DURATION,
     .offset = OLA_OL_OFF(settle_ms),
     .def_int = 10 * OLA_SEC,
     .min = 0,
     .max = OLA_HOUR,
     .help = "Polls ask for events up to server time minus settle (0 .. 1h)."},
    {.name = "max_window",
     .type = OLA_OPT_DURATION,
     .offset = OLA_OL_OFF(max_window_ms),
     .def_int = OLA_HOUR,
     .min = OLA_SEC,
     .max = 31 * OLA_DAY,
     .help = "Longest window asked for in one go while catching up (1s .. 31d)."},
    {.name = "timeout",
     .type = OLA_OPT_DURATION,
     .offset = OLA_OL_OFF(timeout_ms),
     .def_int = 30 * OLA_SEC,
     .min = 100,
     .max = 10 * OLA_MIN,
     .help = "One HTTP request, connect to last byte (100ms .. 10m)."},
    {.name = "backoff_max",
     .type = OLA_OPT_DURATION,
     .offset = OLA_OL_OFF(backoff_max_ms),
     .def_int = 60 * OLA_SEC,
     .min = 100,
     .max = OLA_HOUR,
     .help = "Longest wait between retries after errors (100ms .. 1h)."},
    {.name = "ca_file",
     .type = OLA_OPT_STR,
     .offset = OLA_OL_OFF(ca_file),
     .help = "CA bundle to trust instead of the system store (optional)."},
    {.name = "max_response",
     .type = OLA_OPT_SIZE,
     .offset = OLA_OL_OFF(max_response),
     .def_size = (uint64_t)32 << 20,
     .size_min = (uint64_t)64 << 10,
     .size_max = (uint64_t)1 << 30,
     .help = "Largest API answer taken, events pages and user/role lookups alike "
             "(64KiB .. 1GiB; a page of 1,000 events is about 2 MB)."},
    {.name = "proxy",
     .type = OLA_OPT_STR,
     .offset = OLA_OL_OFF(proxy),
     .help = "HTTP(S) proxy (optional; when absent libcurl honours https_proxy etc.)."},
    {.name = NULL},
};

int ola_ol_settings_load(const struct ola_cfg_doc *doc, const struct ola_cfg *ol,
                         int64_t now_ms, struct ola_ol_settings *s, struct ola_err *err)
{
    struct ola_ol_ctx ctx = {doc};
    char shown[OLA_CFG_SHOWN_MAX];

    memset(s, 0, sizeof(*s));
    if (ola_opts_read(ol, "onelogin", ola_ol_options, s, &ctx, err) != 0)
        return -1;
    if (s->late_sweep_ms < s->poll_interval_ms) {
        char a[48], b[48];
        const struct ola_cfg *blame = ola_cfg_get(ol, "late_sweep");

        if (blame == NULL)
            blame = ola_cfg_get(ol, "poll_interval") != NULL
                        ? ola_cfg_get(ol, "poll_interval")
                        : ol;
        if (ola_duration_format(s->late_sweep_ms, a, sizeof(a)) != 0 ||
            ola_duration_format(s->poll_interval_ms, b, sizeof(b)) != 0)
            a[0] = b[0] = '\0';
        return ola_cfg_errf(err, blame,
                            "onelogin.late_sweep (%s) must be at least "
                            "onelogin.poll_interval (%s)",
                            a, b);
    }
    if (ola_time_parse_start(s->start, now_ms, &s->start_ms) != 0)
        return ola_cfg_errf(
            err, ola_cfg_get(ol, "start") != NULL ? ola_cfg_get(ol, "start") : ol,
            "onelogin.start: bad start %s (use now, -24h or an "
            "ISO-8601 time like 2024-01-31T00:00:00Z)",
            ola_cfg_shown(ola_cfg_get(ol, "start"), shown, sizeof(shown)));
    if (s->ca_file != NULL && s->ca_file[0] == '\0')
        return ola_cfg_errf(err, ola_cfg_get(ol, "ca_file"),
                            "onelogin.ca_file: must not be empty");
    if (s->proxy != NULL && s->proxy[0] == '\0')
        s->proxy = NULL;
    return 0;
}

static bool ola_str_eq(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool ola_ol_settings_equal(const struct ola_ol_settings *a,
                           const struct ola_ol_settings *b)
{
    return ola_str_eq(a->base_url, b->base_url) &&
           ola_str_eq(a->client_id, b->client_id) &&
           ola_str_eq(a->client_secret, b->client_secret) &&
           a->poll_interval_ms == b->poll_interval_ms && a->page_size == b->page_size &&
           ola_str_eq(a->start, b->start) && a->overlap_ms == b->overlap_ms &&
           a->late_sweep_ms == b->late_sweep_ms && a->settle_ms == b->settle_ms &&
           a->max_window_ms == b->max_window_ms && a->timeout_ms == b->timeout_ms &&
           a->backoff_max_ms == b->backoff_max_ms && ola_str_eq(a->ca_file, b->ca_file) &&
           ola_str_eq(a->proxy, b->proxy) && a->max_response == b->max_response &&
           a->allow_insecure_http == b->allow_insecure_http;
}
