/*
 * syslog_conf.c - the syslog output's settings: its YAML map, read once.
 *
 * ola_syslog_init reads the output's map (transport, host and port or
 * socket, framing, rfc, facility, app_name, hostname, sd_id, max_size,
 * oversize, connect_timeout and the tls map) into struct ola_syslog,
 * checks each value against what RFC 5424 / 3164 allow with a file:line,
 * warns when TLS does not verify the server, and sets up the TLS context
 * (syslog_net.c). Nothing connects here: the first flush does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outputs/syslog_int.h"

const char *const ola_syslog_keys[] = {
    "transport",       "host",     "port",     "socket",   "framing",  "rfc",
    "facility",        "app_name", "hostname", "max_size", "oversize", "tls",
    "connect_timeout", "sd_id",    NULL,
};

/* ---- plugin ---------------------------------------------------------------- */

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

int ola_syslog_init(struct ola_output *o, const struct ola_cfg *node, struct ola_err *err)
{
    static const char *const transports[] = {"udp", "tcp", "tls", "unix", NULL};
    static const char *const framings[] = {"octet", "lf", NULL};
    static const char *const oversizes[] = {"truncate", "dead_letter", NULL};
    static const char *const tls_keys[] = {"ca_file",     "cert_file", "key_file",
                                           "server_name", "verify",    NULL};
    struct ola_syslog *s = calloc(1, sizeof(*s));
    const struct ola_cfg *tls = ola_cfg_get(node, "tls");
    const char *fac = NULL, *app = NULL, *host = NULL, *sd = NULL;
    long long rfc;
    uint64_t max_size, def_max;

    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    s->fd = -1;
    s->pid = (long)getpid();
    o->ctx = s;
    if (ola_cfg_enum(node, "transport", transports, OLA_SL_TCP, &s->transport, err) ||
        ola_cfg_enum(node, "framing", framings, OLA_SL_OCTET, &s->framing, err) ||
        ola_cfg_enum(node, "oversize", oversizes, OLA_SL_TRUNCATE, &s->oversize, err) ||
        ola_cfg_int(node, "rfc", 5424, 3164, 5424, &rfc, err) ||
        ola_cfg_str(node, "host", "127.0.0.1", &s->host, err) ||
        ola_cfg_str(node, "port", s->transport == OLA_SL_TLS ? "6514" : "514", &s->port,
                    err) ||
        ola_cfg_str(node, "socket", NULL, &s->sock_path, err) ||
        ola_cfg_str(node, "facility", "local0", &fac, err) ||
        ola_cfg_str(node, "app_name", "olagent", &app, err) ||
        ola_cfg_str(node, "hostname", NULL, &host, err) ||
        ola_cfg_str(node, "sd_id", OLA_SL_DEFAULT_SD_ID, &sd, err) ||
        ola_cfg_duration(node, "connect_timeout", 5000, 1, 600000, &s->connect_timeout_ms,
                         err))
        return -1;
    if (rfc != 5424 && rfc != 3164)
        return ola_cfg_errf(err, ola_cfg_get(node, "rfc"), "rfc: 5424 or 3164");
    s->rfc = (int)rfc;
    if (ola_sl_facility(fac, &s->facility) != 0)
        return ola_cfg_errf(err, ola_cfg_get(node, "facility"),
                            "facility: a name (local0, auth, ...) or 0..23");
    if (!ola_sl_token_ok(app, s->rfc == 3164 ? 32 : 48))
        return ola_cfg_errf(err, ola_cfg_get(node, "app_name"),
                            "app_name: 1..%d printable ASCII characters, no spaces",
                            s->rfc == 3164 ? 32 : 48);
    ola_sl_copy(s->app_name, sizeof(s->app_name), app);
    if (!ola_sl_token_ok(sd, 32) || strchr(sd, '@') == NULL ||
        strpbrk(sd, "=]\"") != NULL)
        return ola_cfg_errf(err, ola_cfg_get(node, "sd_id"),
                            "sd_id: name@PEN, at most 32 characters, no '=', ']', '\"'");
    ola_sl_copy(s->sd_id, sizeof(s->sd_id), sd);
    if (host == NULL) {
        if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0 ||
            !ola_sl_token_ok(s->hostname, 255))
            ola_sl_copy(s->hostname, sizeof(s->hostname), "-");
    } else {
        if (!ola_sl_token_ok(host, 255))
            return ola_cfg_errf(err, ola_cfg_get(node, "hostname"),
                                "hostname: 1..255 printable ASCII characters, no spaces");
        ola_sl_copy(s->hostname, sizeof(s->hostname), host);
    }
    if (s->transport == OLA_SL_UNIX && s->sock_path == NULL)
        return ola_cfg_errf(err, node, "syslog: transport unix needs 'socket'");
    def_max = s->transport == OLA_SL_UDP    ? 2048
              : s->transport == OLA_SL_UNIX ? 8192
                                            : 65536;
    if (ola_cfg_size(node, "max_size", def_max, &max_size, err) != 0)
        return -1;
    if (max_size < 480 || max_size > (s->transport == OLA_SL_UDP ? 65507u : 16777216u))
        return ola_cfg_errf(err, ola_cfg_get(node, "max_size"), "max_size: 480 .. %s",
                            s->transport == OLA_SL_UDP ? "65507 for udp" : "16MiB");
    s->max_size = (size_t)max_size;
    if (tls != NULL && s->transport != OLA_SL_TLS)
        return ola_cfg_errf(err, tls, "tls: only with transport tls");
    if (tls != NULL && ola_cfg_type(tls) != OLA_CFG_MAP)
        return ola_cfg_errf(err, tls, "tls: expected a map");
    if (ola_cfg_check_keys(tls, tls_keys, err) != 0 ||
        ola_cfg_str(tls, "ca_file", NULL, &s->ca_file, err) != 0 ||
        ola_cfg_str(tls, "cert_file", NULL, &s->cert_file, err) != 0 ||
        ola_cfg_str(tls, "key_file", NULL, &s->key_file, err) != 0 ||
        ola_cfg_str(tls, "server_name", NULL, &s->server_name, err) != 0 ||
        ola_cfg_bool(tls, "verify", true, &s->verify, err) != 0)
        return -1;
    if (s->transport == OLA_SL_TLS && !s->verify)
        ola_cfg_warn(ola_cfg_get(tls, "verify"),
                     "%s is false: the syslog server is not authenticated (anyone on "
                     "the path can read and alter the messages)",
                     ola_cfg_path(ola_cfg_get(tls, "verify")));
    if (s->transport == OLA_SL_TLS && ola_sl_tls_init(s, err) != 0)
        return -1;
    return 0;
}
