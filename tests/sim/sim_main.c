/*
 * olsim main: command line, the HTTP server, the live event generator and shutdown.
 *
 * libmicrohttpd runs one thread per connection (so a stalled response never blocks other
 * requests); each request's body is collected (bounded) by the access handler, then the
 * request is routed under sim.lock to sim_api.c or sim_control.c, logged, optionally
 * stalled outside the lock, and answered. /_sim/truth is streamed from a content reader
 * so a million-event truth never sits in memory at once. The main thread waits for
 * SIGTERM/SIGINT with sigwait, then stops the server, writes --truth and exits 0.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
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
    struct olsim *sim;
    size_t pos;
    size_t end;
    int ids_only;
    struct olsim_buf buf;
    size_t off;
};

static void olsim_usage(FILE *f)
{
    fprintf(
        f,
        "usage: olsim [options]\n"
        "  --listen ADDR:PORT       loopback address to bind (default 127.0.0.1:0)\n"
        "  --port-file FILE         write the bound port to FILE once listening\n"
        "  --seed N                 seed for everything generated (default 1)\n"
        "  --users N --roles N --apps N   tenant size (default 50, 10, 10)\n"
        "  --events N               events generated at start (default 1000)\n"
        "  --span DURATION          they spread over [now-span, now-1s] (default 24h)\n"
        "  --scenario NAME          add "
        "bruteforce|spray|mfa_fatigue|superuser|privilege\n"
        "  --rate R                 live events per second (default 0)\n"
        "  --late-fraction F        fraction of live events created late (default 0)\n"
        "  --late-max DURATION      maximum lateness (default 2m)\n"
        "  --page-max N             largest events page (default 50)\n"
        "  --rate-limit N           API calls per window (default 5000)\n"
        "  --rate-window DURATION   rate-limit window (default 1h)\n"
        "  --limit-style S          429 | 429html | 400 (default 429)\n"
        "  --client-id ID --client-secret S   credentials (olsim-client/olsim-secret)\n"
        "  --token-ttl DURATION     token lifetime (default 10h)\n"
        "  --fault KIND[:COUNT[:PATH_PREFIX]]  queue a fault (repeatable)\n"
        "  --fault-rate P           random transient fault probability per API call\n"
        "  --stall DURATION         how long a stall fault holds (default 30s)\n"
        "  --catalog FILE           event-type catalog JSON (default: built-in list)\n"
        "  --now ISO-8601           pin the clock used to pre-generate (reproducible)\n"
        "  --request-log FILE       append one JSON line per API request\n"
        "  --truth FILE             write every event (NDJSON) on exit\n"
        "  --help, --version\n"
        "Durations take ms, s, m, h or d suffixes.\n");
}

static int olsim_parse_listen(const char *s, struct olsim_cfg *c)
{
    const char *colon = strrchr(s, ':');
    struct in_addr a;
    long long port;
    size_t n;

    if (!colon)
        return -1;
    n = (size_t)(colon - s);
    if (n >= sizeof(c->listen_host))
        return -1;
    memcpy(c->listen_host, s, n);
    c->listen_host[n] = '\0';
    if (n == 0 || strcmp(c->listen_host, "localhost") == 0)
        snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    if (inet_pton(AF_INET, c->listen_host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
        return -1;
    if (olsim_parse_ll(colon + 1, 0, 65535, &port) < 0)
        return -1;
    c->listen_port = (unsigned)port;
    return 0;
}

static int olsim_size_arg(const char *s, size_t max, size_t *out)
{
    long long v;

    if (olsim_parse_ll(s, 0, (long long)max, &v) < 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Returns 0 to run, 1 to exit 0 (help, version), -1 on a bad option. */
static int olsim_parse_args(struct olsim_cfg *c, int argc, char **argv)
{
    enum {
        O_LISTEN = 256,
        O_PORTFILE,
        O_SEED,
        O_USERS,
        O_ROLES,
        O_APPS,
        O_EVENTS,
        O_SPAN,
        O_RATE,
        O_LATEF,
        O_LATEMAX,
        O_PAGEMAX,
        O_RL,
        O_RLWIN,
        O_STYLE,
        O_CID,
        O_CSEC,
        O_TTL,
        O_FAULT,
        O_FAULTRATE,
        O_STALL,
        O_REQLOG,
        O_TRUTH,
        O_SCEN,
        O_CATALOG,
        O_NOW,
        O_HELP,
        O_VERSION
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"port-file", required_argument, NULL, O_PORTFILE},
        {"seed", required_argument, NULL, O_SEED},
        {"users", required_argument, NULL, O_USERS},
        {"roles", required_argument, NULL, O_ROLES},
        {"apps", required_argument, NULL, O_APPS},
        {"events", required_argument, NULL, O_EVENTS},
        {"span", required_argument, NULL, O_SPAN},
        {"rate", required_argument, NULL, O_RATE},
        {"late-fraction", required_argument, NULL, O_LATEF},
        {"late-max", required_argument, NULL, O_LATEMAX},
        {"page-max", required_argument, NULL, O_PAGEMAX},
        {"rate-limit", required_argument, NULL, O_RL},
        {"rate-window", required_argument, NULL, O_RLWIN},
        {"limit-style", required_argument, NULL, O_STYLE},
        {"client-id", required_argument, NULL, O_CID},
        {"client-secret", required_argument, NULL, O_CSEC},
        {"token-ttl", required_argument, NULL, O_TTL},
        {"fault", required_argument, NULL, O_FAULT},
        {"fault-rate", required_argument, NULL, O_FAULTRATE},
        {"stall", required_argument, NULL, O_STALL},
        {"request-log", required_argument, NULL, O_REQLOG},
        {"truth", required_argument, NULL, O_TRUTH},
        {"scenario", required_argument, NULL, O_SCEN},
        {"catalog", required_argument, NULL, O_CATALOG},
        {"now", required_argument, NULL, O_NOW},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    long long ll;
    int ch;
    int bad = 0;

    snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    c->seed = 1;
    c->users = 50;
    c->roles = 10;
    c->apps = 10;
    c->events = 1000;
    c->span_ms = 86400000;
    c->late_max_ms = 120000;
    c->page_max = 50;
    c->rate_limit = 5000;
    c->rate_window_ms = 3600000;
    c->limit_style = OLSIM_F_429;
    c->client_id = "olsim-client";
    c->client_secret = "olsim-secret";
    c->token_ttl_ms = 36000000;
    c->stall_ms = 30000;
    opterr = 0;
    while (!bad && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case O_LISTEN:
            bad = olsim_parse_listen(optarg, c) < 0;
            break;
        case O_PORTFILE:
            c->port_file = optarg;
            break;
        case O_SEED:
            bad = olsim_parse_ll(optarg, 0, INT64_MAX, &ll) < 0;
            c->seed = (uint64_t)ll;
            break;
        case O_USERS:
            bad = olsim_size_arg(optarg, 10000000, &c->users) < 0 || c->users == 0;
            break;
        case O_ROLES:
            bad = olsim_size_arg(optarg, 60000, &c->roles) < 0;
            break;
        case O_APPS:
            bad = olsim_size_arg(optarg, 60000, &c->apps) < 0;
            break;
        case O_EVENTS:
            bad = olsim_size_arg(optarg, 50000000, &c->events) < 0;
            break;
        case O_SPAN:
            bad = olsim_parse_duration(optarg, &c->span_ms) < 0 || c->span_ms < 1000;
            break;
        case O_RATE:
            bad = olsim_parse_double(optarg, 0, 1e7, &c->rate) < 0;
            break;
        case O_LATEF:
            bad = olsim_parse_double(optarg, 0, 1, &c->late_fraction) < 0;
            break;
        case O_LATEMAX:
            bad = olsim_parse_duration(optarg, &c->late_max_ms) < 0;
            break;
        case O_PAGEMAX:
            bad = olsim_size_arg(optarg, 100000, &c->page_max) < 0 || c->page_max == 0;
            break;
        case O_RL:
            bad = olsim_parse_ll(optarg, 0, 1000000000, &ll) < 0;
            c->rate_limit = (long)ll;
            break;
        case O_RLWIN:
            bad = olsim_parse_duration(optarg, &c->rate_window_ms) < 0 ||
                  c->rate_window_ms < 1;
            break;
        case O_STYLE:
            if (strcmp(optarg, "429") == 0)
                c->limit_style = OLSIM_F_429;
            else if (strcmp(optarg, "429html") == 0)
                c->limit_style = OLSIM_F_429HTML;
            else if (strcmp(optarg, "400") == 0)
                c->limit_style = OLSIM_F_RL400;
            else
                bad = 1;
            break;
        case O_CID:
            c->client_id = optarg;
            break;
        case O_CSEC:
            c->client_secret = optarg;
            break;
        case O_TTL:
            bad =
                olsim_parse_duration(optarg, &c->token_ttl_ms) < 0 || c->token_ttl_ms < 1;
            break;
        case O_FAULT:
            bad = c->nfaults >= sizeof(c->faults) / sizeof(c->faults[0]) ||
                  olsim_fault_parse_spec(optarg, &c->faults[c->nfaults]) < 0;
            if (!bad)
                c->nfaults++;
            break;
        case O_FAULTRATE:
            bad = olsim_parse_double(optarg, 0, 1, &c->fault_rate) < 0;
            break;
        case O_STALL:
            bad = olsim_parse_duration(optarg, &c->stall_ms) < 0;
            break;
        case O_REQLOG:
            c->request_log = optarg;
            break;
        case O_TRUTH:
            c->truth = optarg;
            break;
        case O_SCEN:
            bad = c->nscenarios >= sizeof(c->scenarios) / sizeof(c->scenarios[0]);
            if (!bad)
                c->scenarios[c->nscenarios++] = optarg;
            break;
        case O_CATALOG:
            c->catalog = optarg;
            break;
        case O_NOW:
            bad = olsim_parse_iso(optarg, &c->now_ms) < 0;
            break;
        case O_HELP:
            olsim_usage(stdout);
            return 1;
        case O_VERSION:
            printf("olsim %s\n", OLSIM_VERSION);
            return 1;
        default:
            fprintf(stderr, "olsim: unknown option or missing argument: %s\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (bad) {
        fprintf(stderr, "olsim: bad value for %s: %s\n",
                argv[optind - 2 >= 0 ? optind - 2 : 0], optarg ? optarg : "");
        return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "olsim: unexpected argument: %s\n", argv[optind]);
        return -1;
    }
    return 0;
}

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
        pthread_mutex_lock(&st->sim->lock);
        olsim_truth_chunk(st->sim, &st->pos, st->end, st->ids_only, &st->buf, 64 * 1024);
        pthread_mutex_unlock(&st->sim->lock);
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

static void olsim_stall(struct olsim *sim, int64_t ms)
{
    int64_t deadline = olsim_now_ms() + ms;
    struct timespec ts;

    pthread_mutex_lock(&sim->lock);
    while (!sim->stopping && olsim_now_ms() < deadline) {
        int64_t until = olsim_now_ms() + 100;

        if (until > deadline)
            until = deadline;
        ts.tv_sec = (time_t)(until / 1000);
        ts.tv_nsec = (long)(until % 1000) * 1000000;
        pthread_cond_timedwait(&sim->cond, &sim->lock, &ts);
    }
    pthread_mutex_unlock(&sim->lock);
}

static struct MHD_Response *olsim_make_response(struct olsim *sim, struct olsim_resp *rs)
{
    struct MHD_Response *r = NULL;
    struct olsim_stream *st;
    char v[32];

    if (rs->stream != OLSIM_STREAM_NONE) {
        st = calloc(1, sizeof(*st));
        if (!st)
            goto fail;
        st->sim = sim;
        st->ids_only = rs->stream == OLSIM_STREAM_TRUTH_IDS;
        pthread_mutex_lock(&sim->lock);
        st->end = sim->t->nev;
        pthread_mutex_unlock(&sim->lock);
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
    pthread_mutex_lock(&sim->lock);
    if (control) {
        olsim_control_handle(sim, &rq, &rs);
    } else {
        int64_t now = olsim_now_ms();

        olsim_api_handle(sim, &rq, &rs);
        olsim_log_request(sim, &rq, &rs);
        if (now < sim->date_skew_until_ms)
            rs.date_ms = now + sim->date_skew_ms;
    }
    pthread_mutex_unlock(&sim->lock);
    if (rs.stall_ms > 0)
        olsim_stall(sim, rs.stall_ms);
    if (rs.reset_conn)
        goto done; /* MHD_NO closes the connection without a response */
    if (rs.status == 0)
        rs.status = 500;
    r = olsim_make_response(sim, &rs);
    if (!r)
        goto done;
    ret = MHD_queue_response(con, rs.status, r);
    MHD_destroy_response(r);
done:
    olsim_buf_free(&rs.body);
    return ret;
}

/* ---- live generator ---- */

static void *olsim_gen_main(void *arg)
{
    struct olsim *sim = arg;
    struct timespec ts;

    pthread_mutex_lock(&sim->lock);
    sim->gen_base_ms = olsim_now_ms();
    sim->gen_done = 0;
    while (!sim->stopping) {
        int64_t now = olsim_now_ms();
        int64_t wake = now + 10;

        if (!sim->gen_paused) {
            uint64_t due =
                (uint64_t)((double)(now - sim->gen_base_ms) * sim->cfg.rate / 1000.0);
            unsigned n = 0;

            while (sim->gen_done < due && n < 100000) {
                struct olsim_ev_spec spec;

                memset(&spec, 0, sizeof(spec));
                spec.type = -1;
                spec.user = OLSIM_NONE;
                spec.created_ms = now;
                if (sim->cfg.late_fraction > 0 &&
                    olsim_rng_unit(&sim->live_rng) < sim->cfg.late_fraction)
                    spec.created_ms -= (int64_t)(olsim_rng_unit(&sim->live_rng) *
                                                 (double)sim->cfg.late_max_ms);
                if (olsim_tenant_insert(sim->t, &sim->live_rng, &spec, 1, now) < 0)
                    break;
                sim->gen_done++;
                n++;
            }
            if (sim->gen_done < due) {
                /* Could not keep up: drop the backlog rather than burst forever. */
                sim->gen_base_ms = now;
                sim->gen_done = 0;
            }
        }
        ts.tv_sec = (time_t)(wake / 1000);
        ts.tv_nsec = (long)(wake % 1000) * 1000000;
        pthread_cond_timedwait(&sim->cond, &sim->lock, &ts);
    }
    pthread_mutex_unlock(&sim->lock);
    return NULL;
}

/* ---- startup and shutdown ---- */

static int olsim_write_file_atomic(const char *path, struct olsim *sim, int truth)
{
    char tmp[4096];
    FILE *f = NULL;
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

    if (n < 0 || (size_t)n >= sizeof(tmp))
        goto fail;
    f = fopen(tmp, "w");
    if (!f)
        goto fail;
    if (truth) {
        if (olsim_write_truth(sim, f) < 0)
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

static int olsim_init(struct olsim *sim)
{
    struct olsim_tenant_opts o;
    char err[512];
    size_t i;

    memset(&o, 0, sizeof(o));
    o.seed = sim->cfg.seed;
    o.users = sim->cfg.users;
    o.roles = sim->cfg.roles;
    o.apps = sim->cfg.apps;
    o.events = sim->cfg.events;
    o.span_ms = sim->cfg.span_ms;
    o.now_ms = sim->cfg.now_ms ? sim->cfg.now_ms : olsim_now_ms();
    o.catalog = sim->cfg.catalog;
    o.scenarios = sim->cfg.scenarios;
    o.nscenarios = sim->cfg.nscenarios;
    err[0] = '\0';
    sim->t = olsim_tenant_new(&o, err, sizeof(err));
    if (!sim->t) {
        fprintf(stderr, "olsim: %s\n", err);
        return -1;
    }
    olsim_rng_seed(&sim->token_rng, sim->cfg.seed ^ 0x746f6b656eULL);
    olsim_rng_seed(&sim->fault_rng, sim->cfg.seed ^ 0x6661756c74ULL);
    olsim_rng_seed(&sim->live_rng, sim->cfg.seed ^ 0x6c697665ULL);
    sim->rl_limit = sim->cfg.rate_limit;
    sim->rl_window_ms = sim->cfg.rate_window_ms;
    sim->rl_start_ms = olsim_now_ms();
    for (i = 0; i < sim->cfg.nfaults; i++)
        if (olsim_fault_push(sim, &sim->cfg.faults[i]) < 0)
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

    rc = olsim_parse_args(&sim.cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    json_object_seed(1);
    pthread_mutex_init(&sim.lock, NULL);
    pthread_cond_init(&sim.cond, NULL);
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
    if (sim.cfg.port_file && olsim_write_file_atomic(sim.cfg.port_file, &sim, 0) < 0)
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
    pthread_mutex_lock(&sim.lock);
    sim.stopping = 1;
    pthread_cond_broadcast(&sim.cond);
    pthread_mutex_unlock(&sim.lock);
    if (d)
        MHD_stop_daemon(d);
    if (have_gen)
        pthread_join(gen, NULL);
    if (exit_code == 0 && sim.cfg.truth &&
        olsim_write_file_atomic(sim.cfg.truth, &sim, 1) < 0)
        exit_code = 1;
    if (sim.log_file)
        fclose(sim.log_file);
    olsim_log_free(&sim);
    free(sim.faults);
    olsim_tenant_free(sim.t);
    pthread_cond_destroy(&sim.cond);
    pthread_mutex_destroy(&sim.lock);
    return exit_code;
}
