/*
 * olsim main: the tenants, the HTTP server, the live event generator and shutdown.
 *
 * libmicrohttpd runs one thread per connection (so a stalled response never blocks other
 * requests); each request's body is collected (bounded) by the access handler, then the
 * request finds its tenant (sim_api.c by credentials or token, sim_control.c by
 * ?tenant=) and is routed under that tenant's lock to sim_api.c or sim_control.c, logged,
 * optionally stalled outside the lock, and answered. /_sim/truth is streamed from a
 * content reader so a million-event truth never sits in memory at once. One generator
 * thread feeds every tenant, taking each tenant's lock in turn. The main thread waits for
 * SIGTERM/SIGINT with sigwait, then stops the server, writes --truth and exits 0.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Per-connection request state, created by the URI callback. */
struct olsim_conn {
    char *uri;
    struct olsim_buf body;
    int started;
    int too_large;
};

struct olsim_stream {
    struct olsim_ten *tn;
    size_t pos;
    size_t end;
    int ids_only;
    struct olsim_buf buf;
    size_t off;
};

/* ---- HTTP ---- */

/* MHD's own messages, minus the one a deliberate reset fault causes. */
__attribute__((format(printf, 2, 0))) static void
olsim_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);

    (void)cls;
    if (n < 0 || strstr(msg, "internal error") != NULL)
        return;
    fprintf(stderr, "olsim: libmicrohttpd: %s%s", msg,
            (size_t)n < sizeof(msg) && n > 0 && msg[n - 1] == '\n' ? "" : "\n");
}

static void *olsim_uri_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
    struct olsim_conn *cc = calloc(1, sizeof(*cc));

    (void)cls;
    (void)con;
    if (cc)
        cc->uri = strdup(uri ? uri : "");
    return cc;
}

static void olsim_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    struct olsim_conn *cc = *con_cls;

    (void)cls;
    (void)con;
    (void)toe;
    if (!cc)
        return;
    free(cc->uri);
    olsim_buf_free(&cc->body);
    free(cc);
    *con_cls = NULL;
}

static ssize_t olsim_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct olsim_stream *st = cls;
    size_t n;

    (void)pos;
    if (st->off >= st->buf.len) {
        st->buf.len = 0;
        st->off = 0;
        pthread_mutex_lock(&st->tn->lock);
        olsim_truth_chunk(st->tn, &st->pos, st->end, st->ids_only, &st->buf, 64 * 1024);
        pthread_mutex_unlock(&st->tn->lock);
        if (st->buf.oom)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (st->buf.len == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    n = st->buf.len - st->off;
    if (n > max)
        n = max;
    memcpy(buf, st->buf.p + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void olsim_stream_free(void *cls)
{
    struct olsim_stream *st = cls;

    olsim_buf_free(&st->buf);
    free(st);
}

static void olsim_stall(struct olsim_ten *tn, int64_t ms)
{
    int64_t deadline = olsim_now_ms() + ms;
    struct timespec ts;

    pthread_mutex_lock(&tn->lock);
    while (!atomic_load(&tn->srv->stopping) && olsim_now_ms() < deadline) {
        int64_t until = olsim_now_ms() + 100;

        if (until > deadline)
            until = deadline;
        ts.tv_sec = (time_t)(until / 1000);
        ts.tv_nsec = (long)(until % 1000) * 1000000;
        pthread_cond_timedwait(&tn->cond, &tn->lock, &ts);
    }
    pthread_mutex_unlock(&tn->lock);
}

static struct MHD_Response *olsim_make_response(struct olsim_ten *tn,
                                                struct olsim_resp *rs)
{
    struct MHD_Response *r = NULL;
    struct olsim_stream *st;
    char v[32];

    if (rs->stream != OLSIM_STREAM_NONE) {
        st = calloc(1, sizeof(*st));
        if (!st)
            goto fail;
        st->tn = tn;
        st->ids_only = rs->stream == OLSIM_STREAM_TRUTH_IDS;
        pthread_mutex_lock(&tn->lock);
        st->end = tn->t->nev;
        pthread_mutex_unlock(&tn->lock);
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                              olsim_stream_read, st, olsim_stream_free);
        if (!r) {
            olsim_stream_free(st);
            goto fail;
        }
    } else if (rs->body.len > 0 && !rs->body.oom) {
        r = MHD_create_response_from_buffer(rs->body.len, rs->body.p,
                                            MHD_RESPMEM_MUST_FREE);
        if (r)
            rs->body.p = NULL; /* now owned by the response */
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        goto fail;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rs->ctype ? rs->ctype : "application/json; charset=utf-8");
    if (rs->status >= 400)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (rs->date_ms > 0) {
        /* a skewed clock (/_sim/clock); libmicrohttpd adds the real Date otherwise */
        char date[64];
        time_t secs = (time_t)(rs->date_ms / 1000);
        struct tm tm;

        if (gmtime_r(&secs, &tm) &&
            strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
            MHD_add_response_header(r, MHD_HTTP_HEADER_DATE, date);
    }
    if (rs->rl_headers) {
        snprintf(v, sizeof(v), "%ld", rs->rl_limit);
        MHD_add_response_header(r, "X-RateLimit-Limit", v);
        snprintf(v, sizeof(v), "%ld", rs->rl_remaining);
        MHD_add_response_header(r, "X-RateLimit-Remaining", v);
        snprintf(v, sizeof(v), "%ld", rs->rl_reset);
        MHD_add_response_header(r, "X-RateLimit-Reset", v);
    }
    return r;
fail:
    return NULL;
}

static enum MHD_Result olsim_handler(void *cls, struct MHD_Connection *con,
                                     const char *url, const char *method,
                                     const char *version, const char *upload_data,
                                     size_t *upload_data_size, void **con_cls)
{
    struct olsim *sim = cls;
    struct olsim_ten *tn;
    struct olsim_conn *cc = *con_cls;
    struct olsim_req rq;
    struct olsim_resp rs;
    struct MHD_Response *r;
    const char *q;
    enum MHD_Result ret = MHD_NO;
    int control;

    (void)version;
    if (!cc)
        return MHD_NO;
    if (!cc->started) {
        cc->started = 1;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (cc->body.len + *upload_data_size > OLSIM_MAX_BODY)
            cc->too_large = 1;
        else
            olsim_buf_add(&cc->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    rq.method = method;
    rq.path = url;
    q = cc->uri ? strchr(cc->uri, '?') : NULL;
    rq.query = q ? q + 1 : "";
    rq.auth =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    rq.host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    rq.body = cc->body.p;
    rq.body_len = cc->body.len;
    rq.body_too_large = cc->too_large || cc->body.oom;
    control = strncmp(url, "/_sim/", 6) == 0;
    tn = control ? olsim_control_tenant(sim, &rq) : olsim_api_tenant(sim, &rq);
    if (!tn) {
        olsim_control_no_tenant(&rs);
        tn = &sim->tens[0]; /* only for the response below: no stream, no stall */
    } else if (control) {
        pthread_mutex_lock(&tn->lock);
        olsim_control_handle(tn, &rq, &rs);
        pthread_mutex_unlock(&tn->lock);
    } else {
        int64_t now = olsim_now_ms();

        pthread_mutex_lock(&tn->lock);
        olsim_api_handle(tn, &rq, &rs);
        olsim_log_request(tn, &rq, &rs);
        if (now < tn->date_skew_until_ms)
            rs.date_ms = now + tn->date_skew_ms;
        pthread_mutex_unlock(&tn->lock);
    }
    if (rs.stall_ms > 0)
        olsim_stall(tn, rs.stall_ms);
    if (rs.reset_conn)
        goto done; /* MHD_NO closes the connection without a response */
    if (rs.status == 0)
        rs.status = 500;
    r = olsim_make_response(tn, &rs);
    if (!r)
        goto done;
    ret = MHD_queue_response(con, rs.status, r);
    MHD_destroy_response(r);
done:
    olsim_buf_free(&rs.body);
    return ret;
}

/* ---- live generator ---- */

/* Inserts the live events due for one tenant by now (tn->lock held). */
static void olsim_gen_tenant(struct olsim_ten *tn, int64_t now)
{
    const struct olsim_cfg *c = &tn->srv->cfg;
    uint64_t due;
    unsigned n = 0;

    if (tn->gen_paused)
        return;
    due = (uint64_t)((double)(now - tn->gen_base_ms) * c->rate / 1000.0);
    while (tn->gen_done < due && n < 100000) {
        struct olsim_ev_spec spec;

        memset(&spec, 0, sizeof(spec));
        spec.type = -1;
        spec.user = OLSIM_NONE;
        spec.created_ms = now;
        if (c->late_fraction > 0 && olsim_rng_unit(&tn->live_rng) < c->late_fraction)
            spec.created_ms -=
                (int64_t)(olsim_rng_unit(&tn->live_rng) * (double)c->late_max_ms);
        if (olsim_tenant_insert(tn->t, &tn->live_rng, &spec, 1, now) < 0)
            break;
        tn->gen_done++;
        n++;
    }
    if (tn->gen_done < due) {
        /* Could not keep up: drop the backlog rather than burst forever. */
        tn->gen_base_ms = now;
        tn->gen_done = 0;
    }
}

/* One thread for every tenant: each 10 ms it takes each tenant's lock in turn. */
static void *olsim_gen_main(void *arg)
{
    struct olsim *sim = arg;
    struct timespec ts = {0, 10 * 1000000L};
    int64_t start = olsim_now_ms();
    size_t i;

    for (i = 0; i < sim->ntens; i++) {
        pthread_mutex_lock(&sim->tens[i].lock);
        sim->tens[i].gen_base_ms = start;
        sim->tens[i].gen_done = 0;
        pthread_mutex_unlock(&sim->tens[i].lock);
    }
    while (!atomic_load(&sim->stopping)) {
        for (i = 0; i < sim->ntens; i++) {
            pthread_mutex_lock(&sim->tens[i].lock);
            olsim_gen_tenant(&sim->tens[i], olsim_now_ms());
            pthread_mutex_unlock(&sim->tens[i].lock);
        }
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- startup and shutdown ---- */

/* Writes the port (tn NULL) or tn's truth to path through path.tmp and a rename. */
static int olsim_write_file_atomic(const char *path, struct olsim *sim,
                                   struct olsim_ten *tn)
{
    char tmp[4096];
    FILE *f = NULL;
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

    if (n < 0 || (size_t)n >= sizeof(tmp))
        goto fail;
    f = fopen(tmp, "w");
    if (!f)
        goto fail;
    if (tn) {
        if (olsim_write_truth(tn, f) < 0)
            goto fail;
    } else if (fprintf(f, "%u\n", sim->port) < 0) {
        goto fail;
    }
    if (fclose(f) != 0) {
        f = NULL;
        goto fail;
    }
    f = NULL;
    if (rename(tmp, path) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "olsim: cannot write %s: %s\n", path, strerror(errno));
    if (f)
        fclose(f);
    return -1;
}

/* --truth FILE: t1 to FILE, tK to FILE.tK when there are several tenants. */
static int olsim_write_truths(struct olsim *sim)
{
    char path[4096];
    size_t i;
    int n;

    for (i = 0; i < sim->ntens; i++) {
        if (i == 0)
            n = snprintf(path, sizeof(path), "%s", sim->cfg.truth);
        else
            n = snprintf(path, sizeof(path), "%s.%s", sim->cfg.truth, sim->tens[i].name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            fprintf(stderr, "olsim: --truth path too long\n");
            return -1;
        }
        if (olsim_write_file_atomic(path, sim, &sim->tens[i]) < 0)
            return -1;
    }
    return 0;
}

/* Tenant k's seed: --seed for t1 (a single tenant is what it always was), a splitmix64
 * mix of --seed and k for the others. */
static uint64_t olsim_ten_seed(uint64_t seed, unsigned k)
{
    return k == 1 ? seed : olsim_mix(seed + (uint64_t)k * 0x9e3779b97f4a7c15ULL);
}

/* Sets up tens[k - 1]: credentials, the generated tenant (borrowing t1's catalog),
 * RNGs, rate limit, faults, overrides. Returns 0 or -1 (reported on stderr). */
static int olsim_ten_init(struct olsim *sim, unsigned k, int64_t now)
{
    const struct olsim_cfg *c = &sim->cfg;
    struct olsim_ten *tn = &sim->tens[k - 1];
    struct olsim_tenant_opts o;
    uint64_t seed = olsim_ten_seed(c->seed, k);
    char err[512];
    int n1, n2;
    size_t i;

    tn->k = k;
    snprintf(tn->name, sizeof(tn->name), "t%u", k);
    if (sim->ntens == 1) {
        n1 = snprintf(tn->client_id, sizeof(tn->client_id), "%s", c->client_id);
        n2 = snprintf(tn->client_secret, sizeof(tn->client_secret), "%s",
                      c->client_secret);
    } else {
        n1 = snprintf(tn->client_id, sizeof(tn->client_id), "%s-%s", c->client_id,
                      tn->name);
        n2 = snprintf(tn->client_secret, sizeof(tn->client_secret), "%s-%s",
                      c->client_secret, tn->name);
    }
    if (n1 < 0 || (size_t)n1 >= sizeof(tn->client_id) || n2 < 0 ||
        (size_t)n2 >= sizeof(tn->client_secret)) {
        fprintf(stderr, "olsim: --client-id or --client-secret too long\n");
        return -1;
    }
    pthread_mutex_init(&tn->lock, NULL);
    pthread_cond_init(&tn->cond, NULL);
    tn->srv = sim; /* from here on olsim_fini frees it */
    memset(&o, 0, sizeof(o));
    o.seed = seed;
    o.users = c->users;
    o.roles = c->roles;
    o.apps = c->apps;
    o.events = c->events;
    o.span_ms = c->span_ms;
    o.now_ms = now;
    o.catalog = c->catalog;
    o.scenarios = c->scenarios;
    o.nscenarios = c->nscenarios;
    o.id_offset = (int64_t)(k - 1) * OLSIM_ID_STRIDE;
    o.catalog_from = k > 1 ? sim->tens[0].t : NULL;
    err[0] = '\0';
    tn->t = olsim_tenant_new(&o, err, sizeof(err));
    if (!tn->t) {
        fprintf(stderr, "olsim: %s%s%s\n", sim->ntens > 1 ? tn->name : "",
                sim->ntens > 1 ? ": " : "", err);
        return -1;
    }
    olsim_rng_seed(&tn->token_rng, seed ^ 0x746f6b656eULL);
    olsim_rng_seed(&tn->fault_rng, seed ^ 0x6661756c74ULL);
    olsim_rng_seed(&tn->live_rng, seed ^ 0x6c697665ULL);
    tn->rl_limit = c->rate_limit;
    tn->fault_rate = c->fault_rate;
    for (i = 0; i < c->noverrides; i++) {
        if (c->overrides[i].tenant != k)
            continue;
        if (c->overrides[i].is_rate_limit)
            tn->rl_limit = c->overrides[i].rate_limit;
        else
            tn->fault_rate = c->overrides[i].fault_rate;
    }
    tn->rl_window_ms = c->rate_window_ms;
    tn->rl_start_ms = olsim_now_ms();
    tn->log_max = OLSIM_LOG_MAX / sim->ntens;
    if (sim->ntens > 1 && tn->log_max < OLSIM_LOG_MIN_TEN)
        tn->log_max = OLSIM_LOG_MIN_TEN;
    for (i = 0; i < c->nfaults; i++) {
        if (c->fault_tenant[i] != 0 && c->fault_tenant[i] != k)
            continue;
        if (olsim_fault_push(tn, &c->faults[i]) < 0) {
            fprintf(stderr, "olsim: out of memory\n");
            return -1;
        }
    }
    return 0;
}

static int olsim_init(struct olsim *sim)
{
    int64_t now = sim->cfg.now_ms ? sim->cfg.now_ms : olsim_now_ms();
    unsigned k;

    sim->tens = calloc(sim->cfg.tenants, sizeof(*sim->tens));
    if (!sim->tens) {
        fprintf(stderr, "olsim: out of memory\n");
        return -1;
    }
    sim->ntens = sim->cfg.tenants;
    for (k = 1; k <= sim->ntens; k++)
        if (olsim_ten_init(sim, k, now) < 0)
            return -1;
    if (sim->cfg.request_log) {
        sim->log_file = fopen(sim->cfg.request_log, "a");
        if (!sim->log_file) {
            fprintf(stderr, "olsim: cannot open %s: %s\n", sim->cfg.request_log,
                    strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Frees every tenant set up (olsim_init may have stopped half-way); t1 last, since the
 * others borrow its catalog. */
static void olsim_fini(struct olsim *sim)
{
    size_t i;

    if (sim->log_file)
        fclose(sim->log_file);
    for (i = sim->ntens; i-- > 0;) {
        struct olsim_ten *tn = &sim->tens[i];

        if (!tn->srv)
            continue;
        olsim_log_free(tn);
        free(tn->faults);
        olsim_tenant_free(tn->t);
        pthread_cond_destroy(&tn->cond);
        pthread_mutex_destroy(&tn->lock);
    }
    free(sim->tens);
}

int main(int argc, char **argv)
{
    static struct olsim sim;
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    pthread_t gen;
    int have_gen = 0;
    sigset_t set;
    int sig = 0;
    int rc;
    int exit_code = 1;
    size_t i;

    rc = olsim_parse_args(&sim.cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    json_object_seed(1);
    atomic_init(&sim.stopping, 0);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (olsim_init(&sim) < 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)sim.cfg.listen_port);
    inet_pton(AF_INET, sim.cfg.listen_host, &sa.sin_addr);
    d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_POLL | MHD_USE_ERROR_LOG,
                         0, NULL, NULL, olsim_handler, &sim, MHD_OPTION_EXTERNAL_LOGGER,
                         olsim_mhd_log, &sim, MHD_OPTION_SOCK_ADDR, &sa,
                         MHD_OPTION_URI_LOG_CALLBACK, olsim_uri_cb, &sim,
                         MHD_OPTION_NOTIFY_COMPLETED, olsim_completed, &sim,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "olsim: cannot listen on %s:%u\n", sim.cfg.listen_host,
                sim.cfg.listen_port);
        goto fail;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    sim.port = info ? info->port : sim.cfg.listen_port;
    if (sim.cfg.port_file && olsim_write_file_atomic(sim.cfg.port_file, &sim, NULL) < 0)
        goto fail;
    printf("olsim listening on http://%s:%u\n", sim.cfg.listen_host, sim.port);
    fflush(stdout);
    if (sim.cfg.rate > 0) {
        if (pthread_create(&gen, NULL, olsim_gen_main, &sim) != 0) {
            fprintf(stderr, "olsim: cannot start the generator thread\n");
            goto fail;
        }
        have_gen = 1;
    }
    while (sigwait(&set, &sig) != 0)
        ;
    exit_code = 0;
fail:
    atomic_store(&sim.stopping, 1);
    for (i = 0; i < sim.ntens; i++) {
        if (!sim.tens[i].srv)
            continue;
        pthread_mutex_lock(&sim.tens[i].lock);
        pthread_cond_broadcast(&sim.tens[i].cond);
        pthread_mutex_unlock(&sim.tens[i].lock);
    }
    if (d)
        MHD_stop_daemon(d);
    if (have_gen)
        pthread_join(gen, NULL);
    if (exit_code == 0 && sim.cfg.truth && olsim_write_truths(&sim) < 0)
        exit_code = 1;
    olsim_fini(&sim);
    return exit_code;
}
