/*
 * syslog_conf.c - the syslog output's settings: its YAML map, read once.
 *
 * ola_syslog_options declares the output's keys (transport, host and port
 * or socket, framing, rfc, facility, app_name, hostname, sd_id, max_size,
 * oversize, connect_timeout and the tls map); the registry reads them into
 * struct ola_syslog_conf with the walker, whose hooks check each value
 * against what RFC 5424 / 3164 allow with a file:line, fill the defaults
 * that follow the transport, and warn when TLS does not verify the server.
 * ola_syslog_init copies them into struct ola_syslog and sets up the TLS
 * context (syslog_net.c). Nothing connects here: the first flush does.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outputs/syslog_priv.h"

/* ---- checks ---------------------------------------------------------------- */

static int ola_sl_facility(const char *name, int *out)
{
    static const char *const names[] = {
        "kern",    "user",         "mail",   "daemon",   "auth",   "syslog", "lpr",
        "news",    "uucp",         "cron",   "authpriv", "ftp",    "ntp",    "security",
        "console", "solaris-cron", "local0", "local1",   "local2", "local3", "local4",
        "local5",  "local6",       "local7", NULL};
    char *end;
    long v;
    int i;

    for (i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0) {
            *out = i;
            return 0;
        }
    v = strtol(name, &end, 10);
    if (end == name || *end != '\0' || v < 0 || v > 23)
        return -1;
    *out = (int)v;
    return 0;
}

/* Copies a value whose length was checked (ola_sl_token_ok) into a field that fits it. */
static void ola_sl_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* PRINTUSASCII without spaces, 1..max chars (RFC 5424 HOSTNAME, APP-NAME, SD-ID). */
static bool ola_sl_token_ok(const char *v, size_t max)
{
    size_t i, n = strlen(v);

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++)
        if (v[i] < 33 || v[i] > 126)
            return false;
    return true;
}

/* ---- the keys ---------------------------------------------------------------- */

static const char *const ola_sl_transports[] = {"udp", "tcp", "tls", "unix", NULL};
static const char *const ola_sl_framings[] = {"octet", "lf", NULL};
static const char *const ola_sl_oversizes[] = {"truncate", "dead_letter", NULL};

#define OLA_SC_OFF(f) offsetof(struct ola_syslog_conf, f)

/* port: the default follows the transport (6514 for tls, else 514). */
static int ola_sl_port_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                            void *obj, void *ctx, struct ola_err *err)
{
    struct ola_syslog_conf *c = obj;

    (void)ctx;
    return ola_cfg_str(map, opt->name, c->transport == OLA_SL_TLS ? "6514" : "514",
                       &c->port, err);
}

static int ola_sl_socket_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                              void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_syslog_conf *c = obj;

    (void)opt;
    (void)ctx;
    if (c->transport == OLA_SL_UNIX && c->sock_path == NULL)
        return ola_cfg_errf(err, map, "syslog: transport unix needs 'socket'");
    return 0;
}

static int ola_sl_rfc_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                           void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_syslog_conf *c = obj;

    (void)ctx;
    if (c->rfc != 5424 && c->rfc != 3164)
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name), "rfc: 5424 or 3164");
    return 0;
}

static int ola_sl_facility_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                void *obj, void *ctx, struct ola_err *err)
{
    struct ola_syslog_conf *c = obj;

    (void)ctx;
    if (ola_sl_facility(c->facility_name, &c->facility) != 0)
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "facility: a name (local0, auth, ...) or 0..23");
    return 0;
}

static int ola_sl_app_name_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_syslog_conf *c = obj;
    int max = c->rfc == 3164 ? 32 : 48;
    char longest[128];

    (void)ctx;
    /* {tenant}: the name must hold for the longest tenant name as well */
    if (ola_output_has_tenant(c->app_name)) {
        if (ola_output_tenant_longest(c->app_name, longest, sizeof(longest)) < 0 ||
            !ola_sl_token_ok(longest, (size_t)max))
            return ola_cfg_errf(
                err, ola_cfg_get(map, opt->name),
                "app_name: 1..%d printable ASCII characters, no spaces, "
                "with {tenant} as the longest tenant name (%d characters)",
                max, OLA_TENANT_NAME_MAX);
        return 0;
    }
    if (!ola_sl_token_ok(c->app_name, (size_t)max))
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "app_name: 1..%d printable ASCII characters, no spaces", max);
    return 0;
}

static int ola_sl_hostname_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_syslog_conf *c = obj;

    (void)ctx;
    if (c->hostname != NULL && !ola_sl_token_ok(c->hostname, 255))
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "hostname: 1..255 printable ASCII characters, no spaces");
    return 0;
}

static int ola_sl_sd_id_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                             void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_syslog_conf *c = obj;
    const char *sd = c->sd_id;

    (void)ctx;
    if (!ola_sl_token_ok(sd, 32) || strchr(sd, '@') == NULL ||
        strpbrk(sd, "=]\"") != NULL)
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "sd_id: name@PEN, at most 32 characters, no '=', ']', '\"'");
    return 0;
}

/* max_size: the default and the bound follow the transport. */
static int ola_sl_max_size_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                void *obj, void *ctx, struct ola_err *err)
{
    struct ola_syslog_conf *c = obj;
    uint64_t def = c->transport == OLA_SL_UDP    ? 2048
                   : c->transport == OLA_SL_UNIX ? 8192
                                                 : 65536;

    (void)ctx;
    if (ola_cfg_size(map, opt->name, def, &c->max_size, err) != 0)
        return -1;
    if (c->max_size < 480 ||
        c->max_size > (c->transport == OLA_SL_UDP ? 65507u : 16777216u))
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name), "max_size: 480 .. %s",
                            c->transport == OLA_SL_UDP ? "65507 for udp" : "16MiB");
    return 0;
}

/* tls: only with transport tls; verify false draws a warning. */
static int ola_sl_tls_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                           void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_syslog_conf *c = obj;
    const struct ola_cfg *tls = ola_cfg_get(map, opt->name);

    (void)ctx;
    if (ola_cfg_type(tls) != OLA_CFG_NULL && c->transport != OLA_SL_TLS)
        return ola_cfg_errf(err, tls, "tls: only with transport tls");
    if (c->transport == OLA_SL_TLS && !c->verify)
        ola_cfg_warn(ola_cfg_get(tls, "verify"),
                     "%s is false: the syslog server is not authenticated (anyone on "
                     "the path can read and alter the messages)",
                     ola_cfg_path(ola_cfg_get(tls, "verify")));
    return 0;
}

static const struct ola_opt ola_sl_tls_options[] = {
    {.name = "ca_file",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(ca_file),
     .help = "default: the system store"},
    {.name = "server_name",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(server_name),
     .help = "SNI and name check; default: host"},
    {.name = "cert_file",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(cert_file),
     .help = "client certificate, if required"},
    {.name = "key_file",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(key_file),
     .help = "the client certificate's key"},
    {.name = "verify",
     .type = OLA_OPT_BOOL,
     .offset = OLA_SC_OFF(verify),
     .def_int = 1,
     .help = "never turn off in production"},
    {.name = NULL},
};

/* In reading order: a hook may use the keys above it. */
const struct ola_opt ola_syslog_options[] = {
    {.name = "transport",
     .type = OLA_OPT_ENUM,
     .offset = OLA_SC_OFF(transport),
     .names = ola_sl_transports,
     .def_int = OLA_SL_TCP,
     .help = "tcp (default), tls, udp, unix"},
    {.name = "framing",
     .type = OLA_OPT_ENUM,
     .offset = OLA_SC_OFF(framing),
     .names = ola_sl_framings,
     .def_int = OLA_SL_OCTET,
     .help = "tcp/tls: octet (RFC 6587, default) or lf"},
    {.name = "oversize",
     .type = OLA_OPT_ENUM,
     .offset = OLA_SC_OFF(oversize),
     .names = ola_sl_oversizes,
     .def_int = OLA_SL_TRUNCATE,
     .help = "truncate (at a UTF-8 boundary) or dead_letter"},
    {.name = "rfc",
     .type = OLA_OPT_INT,
     .offset = OLA_SC_OFF(rfc),
     .def_int = 5424,
     .min = 3164,
     .max = 5424,
     .hook = ola_sl_rfc_hook,
     .help = "5424 (default) or 3164"},
    {.name = "host",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(host),
     .def_str = "127.0.0.1",
     .help = "the receiver's name or address"},
    {.name = "port",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(port),
     .hook = ola_sl_port_hook,
     .flags = OLA_OPT_MANUAL,
     .help = "default 514, 6514 for tls"},
    {.name = "socket",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(sock_path),
     .hook = ola_sl_socket_hook,
     .help = "transport unix: the datagram socket"},
    {.name = "facility",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(facility_name),
     .def_str = "local0",
     .hook = ola_sl_facility_hook,
     .help = "kern .. local7, or 0..23"},
    {.name = "app_name",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(app_name),
     .def_str = "olagent",
     .hook = ola_sl_app_name_hook,
     .help = "APP-NAME (TAG in RFC 3164)"},
    {.name = "sd_id",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(sd_id),
     .def_str = OLA_SL_DEFAULT_SD_ID,
     .hook = ola_sl_sd_id_hook,
     .help = "RFC 5424 SD-ID; put your enterprise number after @"},
    {.name = "hostname",
     .type = OLA_OPT_STR,
     .offset = OLA_SC_OFF(hostname),
     .hook = ola_sl_hostname_hook,
     .help = "default: this machine's name"},
    {.name = "connect_timeout",
     .type = OLA_OPT_DURATION,
     .offset = OLA_SC_OFF(connect_timeout_ms),
     .def_int = 5000,
     .min = 1,
     .max = 600000,
     .help = "TCP connect plus TLS handshake"},
    {.name = "max_size",
     .type = OLA_OPT_SIZE,
     .offset = OLA_SC_OFF(max_size),
     .hook = ola_sl_max_size_hook,
     .flags = OLA_OPT_MANUAL,
     .help = "default 64KiB for tcp/tls, 2048 for udp, 8192 for unix"},
    {.name = "tls",
     .type = OLA_OPT_MAP,
     .sub = ola_sl_tls_options,
     .hook = ola_sl_tls_hook,
     .help = "transport tls only"},
    {.name = NULL},
};

int ola_syslog_init(struct ola_output *o, const struct ola_cfg *node, struct ola_err *err)
{
    const struct ola_syslog_conf *c = o->settings;
    struct ola_syslog *s = calloc(1, sizeof(*s));

    (void)node;
    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    s->fd = -1;
    s->pid = (long)getpid();
    o->ctx = s;
    s->transport = c->transport;
    s->framing = c->framing;
    s->oversize = c->oversize;
    s->rfc = (int)c->rfc;
    s->facility = c->facility;
    s->host = c->host;
    s->port = c->port;
    s->sock_path = c->sock_path;
    ola_sl_copy(s->app_name, sizeof(s->app_name), c->app_name);
    if (ola_output_has_tenant(c->app_name))
        ola_sl_copy(s->app_tmpl, sizeof(s->app_tmpl), c->app_name);
    ola_sl_copy(s->sd_id, sizeof(s->sd_id), c->sd_id);
    if (c->hostname == NULL) {
        if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0 ||
            !ola_sl_token_ok(s->hostname, 255))
            ola_sl_copy(s->hostname, sizeof(s->hostname), "-");
    } else {
        ola_sl_copy(s->hostname, sizeof(s->hostname), c->hostname);
    }
    s->max_size = (size_t)c->max_size;
    s->connect_timeout_ms = c->connect_timeout_ms;
    s->ca_file = c->ca_file;
    s->cert_file = c->cert_file;
    s->key_file = c->key_file;
    s->server_name = c->server_name;
    s->verify = c->verify;
    if (s->transport == OLA_SL_TLS && ola_sl_tls_init(s, err) != 0)
        return -1;
    return 0;
}
