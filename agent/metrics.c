/*
 * metrics.c - Prometheus metrics and health endpoints over libmicrohttpd.
 *
 * One MHD daemon with its own polling thread serves GET /metrics (text
 * exposition 0.0.4), /healthz (the main loop's and every tenant's heartbeat
 * are fresh) and /readyz (every tenant up, every output accepting; the body
 * lists each tenant's state). Each tenant's thread publishes its figures
 * (API client, rules, enricher) after each batch, and the thread holding
 * the outputs' lock publishes theirs; both are copied under a mutex, and a
 * scrape renders under it (metrics_render.c), reading the tenants' atomic
 * counters live: a tenant leaves the list before its counters are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "agent/core/stats.h"
#include "agent/core/vec.h"
#include "agent/core/timeutil.h"
#include "agent/metrics.h"

#ifndef OLA_VERSION
#define OLA_VERSION "unknown"
#endif

/*
 * Connections: the one MHD thread polls them all (epoll, as MHD_USE_AUTO
 * picks on Linux), so a slow client costs a slot, not the thread. Slots are
 * what slow clients take, so one address gets at most OLA_METRICS_PER_IP (a
 * scraper needs one or two, a probe one), the server up to
 * OLA_METRICS_CONN_LIMIT, and a connection idle (or half-sent) for
 * OLA_METRICS_CONN_TIMEOUT is closed.
 */
#define OLA_METRICS_CONN_LIMIT   256
#define OLA_METRICS_PER_IP       16
#define OLA_METRICS_CONN_TIMEOUT 10 /* seconds */
#define OLA_METRICS_STALE_MIN_MS (5 * 60 * 1000)
#define OLA_METRICS_POLL_DEF_MS  10000

struct ola_metrics {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;
    struct ola_metrics_outputs outputs; /* guarded by mu */
    bool have_outputs;                  /* guarded by mu */
    struct ola_metrics_tenant *tenants; /* guarded by mu, in the order they came */
    size_t n_tenants, cap_tenants;      /* guarded by mu */
    int64_t poll_interval_ms;
    int64_t stale_after_ms;
    int port;
};

/* ---- the HTTP server ------------------------------------------------------ */

static enum MHD_Result ola_metrics_reply(struct MHD_Connection *conn, unsigned status,
                                         const char *ctype, const struct ola_buf *body)
{
    static char empty[1];
    struct MHD_Response *r;
    enum MHD_Result rc;

    r = MHD_create_response_from_buffer(body->len, body->data ? body->data : empty,
                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") !=
            MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* The view of what m holds. @locality with m->mu held. */
static struct ola_metrics_view ola_metrics_view_of(const struct ola_metrics *m)
{
    struct ola_metrics_view v = {m->have_outputs ? &m->outputs : NULL, m->tenants,
                                 m->n_tenants};

    return v;
}

static enum MHD_Result ola_metrics_handle(void *cls, struct MHD_Connection *conn,
                                          const char *url, const char *method,
                                          const char *version, const char *upload,
                                          size_t *upload_size, void **req_cls)
{
    struct ola_metrics *m = cls;
    struct ola_metrics_view v;
    struct ola_buf body = OLA_BUF_INIT, why = OLA_BUF_INIT;
    const char *ctype = "text/plain; charset=utf-8";
    int64_t now_ms = ola_now_ms();
    unsigned status;
    enum MHD_Result rc;
    int bad = 0;

    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        bad = ola_buf_puts(&body, "method not allowed\n");
    } else if (strcmp(url, "/healthz") == 0) {
        pthread_mutex_lock(&m->mu);
        v = ola_metrics_view_of(m);
        status = ola_metrics_alive(&v, m->stale_after_ms, now_ms, &why)
                     ? MHD_HTTP_OK
                     : MHD_HTTP_SERVICE_UNAVAILABLE;
        pthread_mutex_unlock(&m->mu);
        bad = status == MHD_HTTP_OK ? ola_buf_puts(&body, "ok\n")
                                    : ola_buf_puts(&body, "not alive:\n") ||
                                          ola_buf_append(&body, why.data, why.len);
    } else if (strcmp(url, "/metrics") == 0) {
        pthread_mutex_lock(&m->mu);
        v = ola_metrics_view_of(m);
        bad = ola_metrics_render(&v, now_ms, &body);
        pthread_mutex_unlock(&m->mu);
        status = MHD_HTTP_OK;
        ctype = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(url, "/readyz") == 0) {
        pthread_mutex_lock(&m->mu);
        v = ola_metrics_view_of(m);
        status = ola_metrics_ready(&v, now_ms, &why) ? MHD_HTTP_OK
                                                     : MHD_HTTP_SERVICE_UNAVAILABLE;
        pthread_mutex_unlock(&m->mu);
        bad = ola_buf_puts(&body, status == MHD_HTTP_OK ? "ready\n" : "not ready:\n") ||
              ola_buf_append(&body, why.data, why.len);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        bad = ola_buf_puts(&body, "not found: try /metrics, /healthz or /readyz\n");
    }
    if (bad)
        goto fail;
    rc = ola_metrics_reply(conn, status, ctype, &body);
    ola_buf_free(&why);
    ola_buf_free(&body);
    return rc;
fail:
    ola_buf_reset(&body);
    rc = ola_buf_puts(&body, "out of memory\n") == 0
             ? ola_metrics_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, ctype, &body)
             : MHD_NO;
    ola_buf_free(&why);
    ola_buf_free(&body);
    return rc;
}

/* Splits "host:port" or "[v6]:port". Returns 0 / -1 with err. */
static int ola_metrics_parse_listen(const char *spec, char *host, size_t hostsz,
                                    char *port, size_t portsz, struct ola_err *err)
{
    const char *h = spec, *colon, *p;
    size_t hlen;
    char *end;
    long v;

    if (spec == NULL || *spec == '\0')
        return ola_err_set(err, EINVAL, "metrics.listen: empty");
    if (*spec == '[') {
        const char *close = strchr(spec, ']');

        if (close == NULL || close[1] != ':')
            return ola_err_set(err, EINVAL, "metrics.listen: %s: want [addr]:port", spec);
        h = spec + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL || strchr(spec, ':') != colon)
            return ola_err_set(err, EINVAL,
                               "metrics.listen: %s: want host:port or [addr]:port", spec);
        hlen = (size_t)(colon - h);
    }
    p = colon + 1;
    errno = 0;
    v = strtol(p, &end, 10);
    if (hlen == 0 || *p == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 65535)
        return ola_err_set(err, EINVAL,
                           "metrics.listen: %s: want host:port, port 0..65535", spec);
    if (hlen >= hostsz || (size_t)(end - p) >= portsz)
        return ola_err_set(err, EINVAL, "metrics.listen: %s: too long", spec);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, p, (size_t)(end - p) + 1);
    return 0;
}

/* Creates, binds and listens on the socket for spec. Returns the fd or -1. */
static int ola_metrics_bind(const char *spec, int *family, int *bound_port,
                            struct ola_err *err)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[256], port[8];
    int fd = -1, one = 1, rc;

    if (ola_metrics_parse_listen(spec, host, sizeof(host), port, sizeof(port), err))
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        ola_err_set(err, EINVAL, "metrics.listen: %s: %s", spec, gai_strerror(rc));
        goto fail;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ola_err_set(err, errno, "metrics: socket: %s", strerror(errno));
        goto fail;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        ola_err_set(err, errno, "metrics: cannot listen on %s: %s", spec,
                    strerror(errno));
        goto fail;
    }
    *family = res->ai_family;
    if (ss.ss_family == AF_INET6)
        *bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else
        *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(res);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    if (res != NULL)
        freeaddrinfo(res);
    return -1;
}

int ola_metrics_start(const struct ola_metrics_cfg *cfg, struct ola_metrics **out,
                      struct ola_err *err)
{
    struct ola_metrics *m = NULL;
    sigset_t block, old;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
    int fd = -1, family = AF_INET, mu_ready = 0;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        ola_err_set(err, ENOMEM, "metrics: out of memory");
        goto fail;
    }
    m->poll_interval_ms =
        cfg->poll_interval_ms > 0 ? cfg->poll_interval_ms : OLA_METRICS_POLL_DEF_MS;
    m->stale_after_ms = cfg->stale_after_ms;
    if (m->stale_after_ms <= 0) {
        m->stale_after_ms = 3 * m->poll_interval_ms;
        if (m->stale_after_ms < OLA_METRICS_STALE_MIN_MS)
            m->stale_after_ms = OLA_METRICS_STALE_MIN_MS;
    }
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        ola_err_set(err, ENOMEM, "metrics: cannot create a mutex");
        goto fail;
    }
    mu_ready = 1;
    fd = ola_metrics_bind(cfg->listen, &family, &m->port, err);
    if (fd < 0)
        goto fail;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The server thread inherits this mask: signals go to the agent's threads. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    m->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, ola_metrics_handle, m, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)OLA_METRICS_CONN_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)OLA_METRICS_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)OLA_METRICS_CONN_TIMEOUT,
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (m->daemon == NULL) {
        ola_err_set(err, 0, "metrics: cannot start the HTTP server on %s", cfg->listen);
        /* Whether MHD closed the socket on failure is version-dependent. */
        if (fcntl(fd, F_GETFD) != -1)
            close(fd);
        goto fail;
    }
    *out = m;
    return 0;
fail:
    if (mu_ready)
        pthread_mutex_destroy(&m->mu);
    free(m);
    return -1;
}

int ola_metrics_port(const struct ola_metrics *m)
{
    return m ? m->port : -1;
}

int ola_metrics_publish_tenant(struct ola_metrics *m, const struct ola_metrics_tenant *t)
{
    size_t i;
    int rc = 0;

    if (m == NULL || t == NULL)
        return 0;
    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->n_tenants; i++)
        if (strcmp(m->tenants[i].name, t->name) == 0)
            break;
    if (i == m->n_tenants) {
        if (OLA_VEC_GROW(m->tenants, m->cap_tenants, m->n_tenants + 1) != 0)
            rc = -1;
        else
            m->n_tenants++;
    }
    if (rc == 0)
        memcpy(&m->tenants[i], t, sizeof(*t));
    pthread_mutex_unlock(&m->mu);
    return rc;
}

void ola_metrics_remove_tenant(struct ola_metrics *m, const char *name)
{
    size_t i;

    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->n_tenants; i++) {
        if (strcmp(m->tenants[i].name, name) != 0)
            continue;
        memmove(&m->tenants[i], &m->tenants[i + 1],
                (m->n_tenants - i - 1) * sizeof(m->tenants[0]));
        m->n_tenants--;
        break;
    }
    pthread_mutex_unlock(&m->mu);
}

void ola_metrics_publish_outputs(struct ola_metrics *m,
                                 const struct ola_metrics_outputs *o)
{
    if (m == NULL || o == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    memcpy(&m->outputs, o, sizeof(*o));
    m->have_outputs = true;
    pthread_mutex_unlock(&m->mu);
}

void ola_metrics_stop(struct ola_metrics *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->daemon);
    pthread_mutex_destroy(&m->mu);
    free(m->tenants);
    free(m);
}
