/*
 * http_fake.c - the one in-process HTTP(S) server of the unit tests.
 *
 * A libmicrohttpd daemon on 127.0.0.1 port 0, a thread per connection (so
 * concurrent clients overlap and a held answer stalls only its own
 * connection), keep-alive as any HTTP/1.1 server, HTTPS through
 * libmicrohttpd's GnuTLS when the test gives a certificate. Each complete
 * request (headers, query, body) is copied into a record and appended to the
 * fake's log before it is answered; the answer comes from the route with the
 * longest key prefixing the path (scripted answers in order), else from the
 * test's handler, else "599 unscripted request". Fault modes are response
 * callbacks: a body cut short of its Content-Length, an announced length far
 * over any cap, an endless chunked body. Every wait (a held answer, waiting
 * for requests) is a condition wait against a CLOCK_MONOTONIC deadline, and
 * stopping wakes them all. One mutex guards the log, routes and counters.
 */
#include "tests/lib/http_fake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "agent/core/fileio.h"
#include "agent/core/vec.h"

#define FAKE_MAX_UPLOAD (1u << 20) /* a request body over this drops the connection */
#define FAKE_MAX_PEM    (1u << 20)

struct fake_route {
    char *key;
    struct ola_fake_answer **a; /* each owned */
    size_t n, cap, next;
};

struct ola_fake {
    struct MHD_Daemon *d;
    unsigned short port;
    char url[64];
    int (*handler)(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a);
    void *handler_arg;
    char *pem_cert, *pem_key; /* kept while the daemon runs */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a request recorded, or stopping */
    bool stopping;
    struct fake_route *routes;
    size_t n_routes, cap_routes;
    struct ola_fake_req **log; /* each owned */
    size_t n_log, cap_log;
    unsigned unscripted, connections, inflight, max_inflight;
};

/* Per request: the record until it is logged. */
struct fake_ctx {
    struct ola_fake_req *rq;
    bool logged;
};

/* What a callback response reads from: a copy, freed with the response. */
struct fake_reader {
    enum ola_fake_mode mode;
    char *body;
    size_t len;
    uint64_t size;
};

static int fake_marker; /* con_cls of a request whose record could not be made */

static void fake_req_free(struct ola_fake_req *rq)
{
    size_t i;

    if (rq == NULL)
        return;
    for (i = 0; i < rq->n_headers; i++) {
        free(rq->headers[i].name);
        free(rq->headers[i].value);
    }
    for (i = 0; i < rq->n_args; i++) {
        free(rq->args[i].name);
        free(rq->args[i].value);
    }
    free(rq->headers);
    free(rq->args);
    free(rq->method);
    free(rq->path);
    free(rq->route);
    free(rq->body);
    free(rq);
}

static void fake_answer_clear(struct ola_fake_answer *a)
{
    size_t i;

    free(a->body);
    for (i = 0; i < a->nh; i++) {
        free(a->hname[i]);
        free(a->hval[i]);
    }
    memset(a, 0, sizeof(*a));
}

int ola_fake_answer_header(struct ola_fake_answer *a, const char *name, const char *value)
{
    char *n, *v;

    if (a->nh >= OLA_FAKE_MAX_HEADERS)
        return -1;
    n = strdup(name);
    v = strdup(value);
    if (n == NULL || v == NULL)
        goto fail;
    a->hname[a->nh] = n;
    a->hval[a->nh] = v;
    a->nh++;
    return 0;
fail:
    free(n);
    free(v);
    return -1;
}

static const char *fake_kv_find(const struct ola_fake_kv *kv, size_t n, const char *name,
                                bool any_case)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (any_case ? strcasecmp(kv[i].name, name) == 0 : strcmp(kv[i].name, name) == 0)
            return kv[i].value;
    return NULL;
}

const char *ola_fake_header(const struct ola_fake_req *rq, const char *name)
{
    return fake_kv_find(rq->headers, rq->n_headers, name, true);
}

const char *ola_fake_query(const struct ola_fake_req *rq, const char *name)
{
    return fake_kv_find(rq->args, rq->n_args, name, false);
}

/* ---- receiving ----------------------------------------------------------------- */

struct fake_kv_list {
    struct ola_fake_kv *kv;
    size_t n, cap;
    bool failed;
};

static enum MHD_Result fake_collect(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct fake_kv_list *l = cls;
    char *k = strdup(key), *v = strdup(value ? value : "");

    (void)kind;
    if (k == NULL || v == NULL || OLA_VEC_GROW(l->kv, l->cap, l->n + 1) != 0) {
        free(k);
        free(v);
        l->failed = true;
        return MHD_NO;
    }
    l->kv[l->n].name = k;
    l->kv[l->n].value = v;
    l->n++;
    return MHD_YES;
}

/* The record of a request whose headers just arrived, or NULL (no memory). */
static struct ola_fake_req *fake_req_new(struct MHD_Connection *conn, const char *url,
                                         const char *method)
{
    struct ola_fake_req *rq = calloc(1, sizeof(*rq));
    struct fake_kv_list h = {NULL, 0, 0, false}, q = {NULL, 0, 0, false};

    if (rq == NULL)
        return NULL;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, fake_collect, &h);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, fake_collect, &q);
    rq->headers = h.kv;
    rq->n_headers = h.n;
    rq->args = q.kv;
    rq->n_args = q.n;
    rq->method = strdup(method);
    rq->path = strdup(url);
    rq->body = calloc(1, 1);
    if (h.failed || q.failed || rq->method == NULL || rq->path == NULL ||
        rq->body == NULL)
        goto fail;
    return rq;
fail:
    fake_req_free(rq);
    return NULL;
}

static int fake_body_add(struct ola_fake_req *rq, const char *data, size_t n)
{
    char *p;

    if (n > FAKE_MAX_UPLOAD - rq->body_len)
        return -1;
    p = realloc(rq->body, rq->body_len + n + 1);
    if (p == NULL)
        return -1;
    memcpy(p + rq->body_len, data, n);
    rq->body_len += n;
    p[rq->body_len] = '\0';
    rq->body = p;
    return 0;
}

/* ---- answering ----------------------------------------------------------------- */

/* The route with the longest key prefixing path, or NULL. Under the lock. */
static struct fake_route *fake_route_for(struct ola_fake *f, const char *path)
{
    struct fake_route *best = NULL;
    size_t i, klen;

    for (i = 0; i < f->n_routes; i++) {
        klen = strlen(f->routes[i].key);
        if (strncmp(path, f->routes[i].key, klen) == 0 &&
            (best == NULL || klen > strlen(best->key)))
            best = &f->routes[i];
    }
    return best;
}

/* The CLOCK_MONOTONIC time ms milliseconds from now (the condition's clock). */
static struct timespec fake_deadline(unsigned ms)
{
    struct timespec dl;

    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(ms / 1000);
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    return dl;
}

/* Holds the calling server thread ms milliseconds, or until the fake stops. */
static void fake_hold(struct ola_fake *f, unsigned ms)
{
    struct timespec dl = fake_deadline(ms);

    pthread_mutex_lock(&f->mu);
    while (!f->stopping)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&f->mu);
}

static ssize_t fake_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct fake_reader *r = cls;
    size_t n;

    if (r->mode == OLA_FAKE_CUT) {
        if (pos >= r->len)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        n = r->len - (size_t)pos < max ? r->len - (size_t)pos : max;
        memcpy(buf, r->body + pos, n);
        return (ssize_t)n;
    }
    if (r->mode == OLA_FAKE_STREAM && pos >= r->size)
        return MHD_CONTENT_READER_END_OF_STREAM;
    n = max;
    if (r->mode == OLA_FAKE_STREAM && r->size - pos < n)
        n = (size_t)(r->size - pos);
    memset(buf, 'x', n);
    return (ssize_t)n;
}

static void fake_reader_free(void *cls)
{
    struct fake_reader *r = cls;

    free(r->body);
    free(r);
}

/* The response for a (borrowed; everything it needs is copied). */
static struct MHD_Response *fake_response(const struct ola_fake_answer *a)
{
    static char empty[1];
    struct MHD_Response *resp;
    struct fake_reader *r;
    size_t i;

    if (a->mode == OLA_FAKE_WHOLE) {
        resp = MHD_create_response_from_buffer(a->len, a->body ? a->body : empty,
                                               MHD_RESPMEM_MUST_COPY);
    } else {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return NULL;
        r->mode = a->mode;
        r->len = a->len;
        r->size = a->size;
        if (a->len > 0) {
            r->body = malloc(a->len);
            if (r->body == NULL) {
                free(r);
                return NULL;
            }
            memcpy(r->body, a->body, a->len);
        }
        if (a->mode == OLA_FAKE_CUT)
            resp = MHD_create_response_from_callback(a->len + 100, 4096, fake_read, r,
                                                     fake_reader_free);
        else if (a->mode == OLA_FAKE_HUGE)
            resp = MHD_create_response_from_callback(a->size, 65536, fake_read, r,
                                                     fake_reader_free);
        else
            resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, fake_read,
                                                     r, fake_reader_free);
        if (resp == NULL)
            fake_reader_free(r);
    }
    if (resp == NULL)
        return NULL;
    for (i = 0; i < a->nh; i++)
        MHD_add_response_header(resp, a->hname[i], a->hval[i]);
    return resp;
}

static enum MHD_Result fake_queue(struct MHD_Connection *conn,
                                  const struct ola_fake_answer *a)
{
    struct MHD_Response *resp = fake_response(a);
    enum MHD_Result rc;

    if (resp == NULL)
        return MHD_NO;
    rc = MHD_queue_response(conn, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* The request is complete: log it, pick its answer, hold it, send it. */
static enum MHD_Result fake_answer(struct ola_fake *f, struct MHD_Connection *conn,
                                   struct fake_ctx *ctx)
{
    static char unscripted[] = "unscripted request";
    struct ola_fake_answer mine, *a = NULL;
    struct ola_fake_req *rq = ctx->rq;
    struct fake_route *route;
    enum MHD_Result rc;
    bool call = false;

    memset(&mine, 0, sizeof(mine));
    pthread_mutex_lock(&f->mu);
    if (OLA_VEC_GROW(f->log, f->cap_log, f->n_log + 1) != 0) {
        pthread_mutex_unlock(&f->mu);
        return MHD_NO;
    }
    route = fake_route_for(f, rq->path);
    if (route != NULL) {
        rq->route = strdup(route->key);
        if (route->next < route->n)
            a = route->a[route->next++];
    } else if (f->handler != NULL) {
        call = true;
    }
    if (a == NULL && !call) {
        rq->unscripted = true;
        f->unscripted++;
    }
    f->log[f->n_log++] = rq;
    ctx->logged = true;
    f->inflight++;
    if (f->inflight > f->max_inflight)
        f->max_inflight = f->inflight;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);

    if (call) {
        if (f->handler(f->handler_arg, rq, &mine) != 0) {
            rc = MHD_NO;
            goto out;
        }
        a = &mine;
    }
    if (a == NULL) {
        mine.status = 599;
        mine.body = unscripted;
        mine.len = sizeof(unscripted) - 1;
        rc = fake_queue(conn, &mine);
        mine.body = NULL;
        goto out;
    }
    if (a->delay_ms > 0)
        fake_hold(f, a->delay_ms);
    rc = fake_queue(conn, a);
out:
    fake_answer_clear(&mine);
    pthread_mutex_lock(&f->mu);
    f->inflight--;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static enum MHD_Result fake_handler(void *cls, struct MHD_Connection *conn,
                                    const char *url, const char *method,
                                    const char *version, const char *upload,
                                    size_t *upload_size, void **con_cls)
{
    struct ola_fake *f = cls;
    struct fake_ctx *ctx = *con_cls;

    (void)version;
    if (ctx == (void *)&fake_marker)
        return MHD_NO;
    if (ctx == NULL) {
        ctx = calloc(1, sizeof(*ctx));
        if (ctx != NULL)
            ctx->rq = fake_req_new(conn, url, method);
        if (ctx == NULL || ctx->rq == NULL) {
            free(ctx);
            *con_cls = &fake_marker;
            return MHD_NO;
        }
        *con_cls = ctx;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (fake_body_add(ctx->rq, upload, *upload_size) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    return fake_answer(f, conn, ctx);
}

static void fake_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    struct fake_ctx *ctx = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (ctx != NULL && ctx != (void *)&fake_marker) {
        if (!ctx->logged)
            fake_req_free(ctx->rq);
        free(ctx);
    }
    *con_cls = NULL;
}

static void fake_on_connection(void *cls, struct MHD_Connection *conn, void **sock_ctx,
                               enum MHD_ConnectionNotificationCode toe)
{
    struct ola_fake *f = cls;

    (void)conn;
    (void)sock_ctx;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&f->mu);
        f->connections++;
        pthread_mutex_unlock(&f->mu);
    }
}

/* ---- life ------------------------------------------------------------------------ */

int ola_fake_start(const struct ola_fake_opts *o, struct ola_fake **out,
                   struct ola_err *err)
{
    struct ola_fake *f = calloc(1, sizeof(*f));
    const union MHD_DaemonInfo *info;
    pthread_condattr_t ca;
    struct sockaddr_in sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    size_t len;
    bool tls = o->tls_cert != NULL;

    *out = NULL;
    if (f == NULL)
        return ola_err_set(err, ENOMEM, "http fake: out of memory");
    if (pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        return ola_err_set(err, 0, "http fake: mutex");
    }
    if (pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&f->cv, &ca) != 0) {
        pthread_mutex_destroy(&f->mu);
        free(f);
        return ola_err_set(err, 0, "http fake: condition variable");
    }
    pthread_condattr_destroy(&ca);
    f->handler = o->handler;
    f->handler_arg = o->handler_arg;
    if (!o->send_date)
        flags |= MHD_USE_SUPPRESS_DATE_NO_CLOCK;
    if (tls) {
        if (o->tls_key == NULL) {
            ola_err_set(err, EINVAL, "http fake: tls_cert without tls_key");
            goto fail;
        }
        if (ola_read_file(o->tls_cert, FAKE_MAX_PEM, &f->pem_cert, &len) != 0 ||
            ola_read_file(o->tls_key, FAKE_MAX_PEM, &f->pem_key, &len) != 0) {
            ola_err_set(err, errno, "http fake: cannot read %s or %s: %s", o->tls_cert,
                        o->tls_key, strerror(errno));
            goto fail;
        }
        flags |= MHD_USE_TLS;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (tls)
        f->d = MHD_start_daemon(
            flags, 0, NULL, NULL, fake_handler, f, MHD_OPTION_NOTIFY_CONNECTION,
            fake_on_connection, f, MHD_OPTION_NOTIFY_COMPLETED, fake_completed, f,
            MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_HTTPS_MEM_CERT, f->pem_cert,
            MHD_OPTION_HTTPS_MEM_KEY, f->pem_key, MHD_OPTION_HTTPS_PRIORITIES,
            o->tls_prio ? o->tls_prio : "NORMAL", MHD_OPTION_END);
    else
        f->d = MHD_start_daemon(flags, 0, NULL, NULL, fake_handler, f,
                                MHD_OPTION_NOTIFY_CONNECTION, fake_on_connection, f,
                                MHD_OPTION_NOTIFY_COMPLETED, fake_completed, f,
                                MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (f->d == NULL) {
        ola_err_set(err, 0, "http fake: the server did not start");
        goto fail;
    }
    info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        ola_err_set(err, 0, "http fake: no port");
        goto fail;
    }
    f->port = info->port;
    snprintf(f->url, sizeof(f->url), "%s://127.0.0.1:%u", tls ? "https" : "http",
             (unsigned)f->port);
    *out = f;
    return 0;
fail:
    ola_fake_stop(f);
    return -1;
}

void ola_fake_stop(struct ola_fake *f)
{
    size_t i, k;

    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->d != NULL)
        MHD_stop_daemon(f->d);
    for (i = 0; i < f->n_routes; i++) {
        for (k = 0; k < f->routes[i].n; k++) {
            fake_answer_clear(f->routes[i].a[k]);
            free(f->routes[i].a[k]);
        }
        free(f->routes[i].a);
        free(f->routes[i].key);
    }
    free(f->routes);
    for (i = 0; i < f->n_log; i++)
        fake_req_free(f->log[i]);
    free(f->log);
    free(f->pem_cert);
    free(f->pem_key);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

unsigned short ola_fake_port(const struct ola_fake *f)
{
    return f->port;
}

const char *ola_fake_url(const struct ola_fake *f)
{
    return f->url;
}

/* ---- scripting ------------------------------------------------------------------- */

/* The route of key, made if new. Under the lock. NULL: no memory. */
static struct fake_route *fake_route_get(struct ola_fake *f, const char *key)
{
    struct fake_route *r;
    size_t i;

    for (i = 0; i < f->n_routes; i++)
        if (strcmp(f->routes[i].key, key) == 0)
            return &f->routes[i];
    if (OLA_VEC_GROW(f->routes, f->cap_routes, f->n_routes + 1) != 0)
        return NULL;
    r = &f->routes[f->n_routes];
    memset(r, 0, sizeof(*r));
    r->key = strdup(key);
    if (r->key == NULL)
        return NULL;
    f->n_routes++;
    return r;
}

struct ola_fake_answer *ola_fake_vpush(struct ola_fake *f, const char *key, int status,
                                       char *body, va_list ap)
{
    struct ola_fake_answer *a = calloc(1, sizeof(*a));
    struct fake_route *r;
    const char *name, *value;

    if (a == NULL) {
        free(body);
        return NULL;
    }
    a->status = status;
    a->body = body;
    a->len = body ? strlen(body) : 0;
    while ((name = va_arg(ap, const char *)) != NULL) {
        value = va_arg(ap, const char *);
        if (ola_fake_answer_header(a, name, value) != 0)
            goto fail;
    }
    pthread_mutex_lock(&f->mu);
    r = fake_route_get(f, key);
    if (r == NULL || OLA_VEC_GROW(r->a, r->cap, r->n + 1) != 0) {
        pthread_mutex_unlock(&f->mu);
        goto fail;
    }
    r->a[r->n++] = a;
    pthread_mutex_unlock(&f->mu);
    return a;
fail:
    fake_answer_clear(a);
    free(a);
    return NULL;
}

struct ola_fake_answer *ola_fake_push(struct ola_fake *f, const char *key, int status,
                                      char *body, ...)
{
    struct ola_fake_answer *a;
    va_list ap;

    va_start(ap, body);
    a = ola_fake_vpush(f, key, status, body, ap);
    va_end(ap);
    return a;
}

/* ---- the record ------------------------------------------------------------------ */

void ola_fake_stats(struct ola_fake *f, struct ola_fake_stats *out)
{
    pthread_mutex_lock(&f->mu);
    out->requests = f->n_log;
    out->unscripted = f->unscripted;
    out->connections = f->connections;
    out->max_inflight = f->max_inflight;
    pthread_mutex_unlock(&f->mu);
}

size_t ola_fake_requests(struct ola_fake *f)
{
    size_t n;

    pthread_mutex_lock(&f->mu);
    n = f->n_log;
    pthread_mutex_unlock(&f->mu);
    return n;
}

unsigned ola_fake_count(struct ola_fake *f, size_t from, const char *prefix)
{
    unsigned n = 0;
    size_t i;

    pthread_mutex_lock(&f->mu);
    for (i = from; i < f->n_log; i++)
        if (prefix == NULL || strncmp(f->log[i]->path, prefix, strlen(prefix)) == 0)
            n++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

const struct ola_fake_req *ola_fake_seen(struct ola_fake *f, size_t i)
{
    const struct ola_fake_req *rq = NULL;

    pthread_mutex_lock(&f->mu);
    if (i < f->n_log)
        rq = f->log[i];
    pthread_mutex_unlock(&f->mu);
    return rq;
}

const struct ola_fake_req *ola_fake_last(struct ola_fake *f, const char *key)
{
    const struct ola_fake_req *rq = NULL;
    size_t i;

    pthread_mutex_lock(&f->mu);
    for (i = f->n_log; i > 0 && rq == NULL; i--)
        if (key == NULL ||
            (f->log[i - 1]->route != NULL && strcmp(f->log[i - 1]->route, key) == 0))
            rq = f->log[i - 1];
    pthread_mutex_unlock(&f->mu);
    return rq;
}

int ola_fake_wait_requests(struct ola_fake *f, size_t n, int timeout_ms)
{
    struct timespec dl = fake_deadline(timeout_ms > 0 ? (unsigned)timeout_ms : 0);
    int rc;

    pthread_mutex_lock(&f->mu);
    while (f->n_log < n)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
            break;
    rc = f->n_log >= n ? 0 : -1;
    pthread_mutex_unlock(&f->mu);
    return rc;
}
