/*
 * http_out_conf.c - the settings every HTTP output shares (http_out.h).
 *
 * The entries of OLA_HO_OPTIONS go into each HTTP output's option table;
 * their hooks are here: `verify: false` draws one configuration warning
 * (logged once by `olagent run`, listed by `olagent check`), a client
 * certificate needs its key and the other way round. ola_ho_url_check holds
 * a destination URL to http(s) with a host and no credentials in it, and to
 * https unless the host is loopback: events are audit data, and a token in a
 * header must not cross a network in clear.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "outputs/http_out.h"

const char *const ola_ho_compressions[] = {"none", "gzip", NULL};

int ola_ho_verify_hook(const struct ola_cfg *map, const struct ola_opt *opt, void *obj,
                       void *ctx, struct ola_err *err)
{
    const bool *verify = (const bool *)((const char *)obj + opt->offset);

    (void)ctx;
    (void)err;
    if (!*verify)
        ola_cfg_warn(ola_cfg_get(map, opt->name),
                     "%s is false: the server's certificate is not checked (anyone on "
                     "the path can read the events and the credentials)",
                     ola_cfg_path(ola_cfg_get(map, opt->name)));
    return 0;
}

/* On client_key: the certificate and its key come together. */
int ola_ho_tls_hook(const struct ola_cfg *map, const struct ola_opt *opt, void *obj,
                    void *ctx, struct ola_err *err)
{
    /* the entry points into the struct ola_ho_conf of the output's settings */
    const struct ola_ho_conf *c =
        (const void *)((const char *)obj + opt->offset -
                       offsetof(struct ola_ho_conf, client_key));

    (void)ctx;
    if ((c->client_cert == NULL) != (c->client_key == NULL))
        return ola_cfg_errf(err, map, "client_cert and client_key go together");
    return 0;
}

/* True for 127.0.0.0/8, ::1 and localhost, the hosts https is not required for. */
static bool ola_ho_loopback(const char *host, size_t n)
{
    if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
        (n == 5 && strncmp(host, "[::1]", 5) == 0))
        return true;
    if (n < 7 || strncmp(host, "127.", 4) != 0)
        return false;
    for (size_t i = 4; i < n; i++)
        if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.'))
            return false;
    return true;
}

int ola_ho_url_check(const struct ola_cfg *node, const char *url, struct ola_err *err)
{
    const char *rest, *end, *host;
    bool https;
    size_t n;

    if (url == NULL || *url == '\0')
        return ola_cfg_errf(err, node, "url: required");
    if (strncasecmp(url, "https://", 8) == 0) {
        https = true;
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        https = false;
        rest = url + 7;
    } else {
        return ola_cfg_errf(err, node,
                            "url: must start with https:// (or http:// on "
                            "loopback)");
    }
    end = rest + strcspn(rest, "/?#");
    if (memchr(rest, '@', (size_t)(end - rest)) != NULL)
        return ola_cfg_errf(err, node,
                            "url: no credentials in the URL (use the output's "
                            "credential keys or headers)");
    for (const char *p = url; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return ola_cfg_errf(err, node, "url: no spaces or control characters");
    host = rest;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));

        n = close != NULL ? (size_t)(close - host) + 1 : 0;
    } else {
        n = strcspn(host, ":/?#");
    }
    if (n == 0)
        return ola_cfg_errf(err, node, "url: no host");
    if (!https && !ola_ho_loopback(host, n))
        return ola_cfg_errf(err, node,
                            "url: https is required except on loopback (127.0.0.1, ::1, "
                            "localhost)");
    return 0;
}
