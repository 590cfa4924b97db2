/*
 * olsim: a OneLogin API simulator for olagent's tests, benchmarks and demo.
 *
 * Shared declarations. The simulator is split by concern: sim_util.c (buffers, RNG, time,
 * parsing), the generated tenant (sim_tenant.c: event generation and the store with its
 * indexes; sim_catalog.c, sim_users.c, sim_query.c, sim_render.c, sharing
 * sim_tenant_priv.h), sim_api.c and sim_api_events.c (the OneLogin routes),
 * sim_control.c (the /_sim/ control routes, faults, request log, stats), sim_cli.c (the
 * command line) and sim_main.c (tenants' setup, HTTP server, signals, live generator).
 * olsim serves --tenants N tenants: each is a struct olsim_ten (the generated tenant
 * plus its token, rate limit, faults, generator, request log and counters) under its own
 * lock; struct olsim holds what is shared and read-only once serving (the options, the
 * port, the tenants array, the --request-log FILE, whose writes stdio serialises) and
 * the stop flag. A request takes exactly one tenant's lock, never a global one.
 */
#ifndef OLSIM_SIM_H
#define OLSIM_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OLSIM_VERSION  "0.1.0"
#define OLSIM_NONE     0xffffffffu
#define OLSIM_NONE16   0xffffu
#define OLSIM_MAX_BODY (1024 * 1024)
/* Tenant k's ids (events, users, roles, apps) are tenant t1's scheme plus
 * (k - 1) * OLSIM_ID_STRIDE; every scheme stays below the stride at the largest sizes. */
#define OLSIM_ID_STRIDE     1000000000LL
#define OLSIM_MAX_TENANTS   1000
#define OLSIM_MAX_OVERRIDES 64
/* The request log ring holds this many entries, shared out among the tenants. */
#define OLSIM_LOG_MAX     200000
#define OLSIM_LOG_MIN_TEN 10000

/* ---- sim_util.c ---- */

/* A growable byte buffer. On allocation failure it sets oom and ignores later appends. */
struct olsim_buf {
    char *p;
    size_t len;
    size_t cap;
    int oom;
};

void olsim_buf_free(struct olsim_buf *b);
int olsim_buf_add(struct olsim_buf *b, const void *data, size_t n);
int olsim_buf_str(struct olsim_buf *b, const char *s);
int olsim_buf_printf(struct olsim_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a quoted JSON string (NULL appends null). */
int olsim_buf_json_str(struct olsim_buf *b, const char *s);
/* Appends an integer, or null when is_null. */
int olsim_buf_json_int(struct olsim_buf *b, long long v, int is_null);
/* Appends an ISO time string, or null when ms is 0. */
int olsim_buf_json_time(struct olsim_buf *b, int64_t ms);

/* splitmix64: small, fast, deterministic. */
struct olsim_rng {
    uint64_t s;
};

void olsim_rng_seed(struct olsim_rng *r, uint64_t seed);
uint64_t olsim_rng_next(struct olsim_rng *r);
uint32_t olsim_rng_below(struct olsim_rng *r, uint32_t n);
double olsim_rng_unit(struct olsim_rng *r);
uint64_t olsim_mix(uint64_t x);

int64_t olsim_now_ms(void);
/* Formats ms since the epoch as 2022-08-08T11:00:00.000Z. */
void olsim_fmt_iso(int64_t ms, char *out, size_t outsz);
/* Parses ISO-8601 UTC (with or without ms, Z or +00:00). Returns 0 or -1. */
int olsim_parse_iso(const char *s, int64_t *ms);
/* Parses "250ms", "30s", "2m", "1h", "1d" (a bare number is seconds). Returns 0 or -1. */
int olsim_parse_duration(const char *s, int64_t *ms);
int olsim_parse_ll(const char *s, long long min, long long max, long long *out);
int olsim_parse_double(const char *s, double min, double max, double *out);

/* base64url without padding. Returns 0, or -1 if out is too small. */
int olsim_b64url_encode(const void *in, size_t n, char *out, size_t outsz);
/* Decodes standard or url alphabet, padding optional. Returns 0 or -1. */
int olsim_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz,
                     size_t *outlen);

/* Finds key in a raw query string and URL-decodes its value into out. Returns 1 if found,
 * 0 if absent, -1 if the value does not fit. */
int olsim_query_get(const char *query, const char *key, char *out, size_t outsz);
/* Appends query to b, URL-encoded where needed, minus any parameter named drop. */
void olsim_query_copy_without(struct olsim_buf *b, const char *query, const char *drop);
void olsim_url_encode(struct olsim_buf *b, const char *s);

/* ---- sim_tenant.c ---- */

enum {
    OLSIM_CAT_PRIVILEGE = 1,
    OLSIM_CAT_LOGIN_OK = 2,
    OLSIM_CAT_LOGIN_FAIL = 4,
    OLSIM_CAT_MFA = 8,
    OLSIM_CAT_LOCKOUT = 16,
    OLSIM_CAT_AUTHZ = 32
};

struct olsim_type {
    uint16_t id;
    uint8_t cats;
    char *name;
    char *desc;
};

struct olsim_user {
    int64_t id;
    int64_t created_ms;
    int64_t updated_ms;
    int64_t pw_changed_ms;
    int64_t last_login_ms;
    int64_t locked_until_ms; /* 0: null */
    uint32_t manager;        /* user index or OLSIM_NONE */
    uint32_t ip;             /* usual address, host order */
    uint32_t seed;
    uint16_t name;     /* index of the (first, last) pair */
    uint16_t suffix;   /* username suffix for large tenants, 0 none */
    uint16_t roles[8]; /* role indexes */
    uint8_t nroles;
    uint8_t dept;
    uint8_t title;
    uint8_t status;
    uint8_t state;
    uint8_t deleted;
    uint8_t group; /* group index, 0xff none */
    uint8_t invalid_logins;
};

struct olsim_role {
    int64_t id;
};

/* One stored event: ~40 bytes. The JSON is rendered from these fields and seed. */
struct olsim_event {
    int64_t id;
    int64_t created_ms;
    uint32_t seed;
    uint32_t user;  /* user index */
    uint32_t actor; /* user index */
    uint32_t ip;
    uint16_t type;
    uint16_t role; /* role index or OLSIM_NONE16 */
    uint16_t app;  /* app index or OLSIM_NONE16 */
    uint16_t flags;
};

/* Per 1024 events (in id order): the range of created_at, to skip blocks in scans. */
struct olsim_block {
    int64_t min_ms;
    int64_t max_ms;
};

struct olsim_tenant {
    struct olsim_rng rng;
    int64_t account_id;
    struct olsim_type *types;
    size_t ntypes;
    struct olsim_user *users;
    size_t nusers;
    struct olsim_role *roles;
    size_t nroles;
    int64_t *app_ids;
    size_t napps;
    uint32_t *admins; /* indexes of users with the Admin role */
    size_t nadmins;
    uint16_t *mfa_types; /* catalog ids in the mfa category */
    size_t nmfa_types;
    uint16_t *other_types; /* catalog ids that change nothing, for background noise */
    size_t nother_types;
    char client_id[33];     /* the API client id that API-driven events carry */
    struct olsim_event *ev; /* sorted by id (= insertion order) */
    size_t nev;
    size_t ev_cap;
    uint32_t *tix; /* positions in ev sorted by (created_ms, id) */
    size_t tix_cap;
    struct olsim_block *blk;
    size_t nblk;
    size_t blk_cap;
    int64_t last_id;
    int64_t id_offset;  /* (k - 1) * OLSIM_ID_STRIDE */
    int types_borrowed; /* types belong to another tenant (one catalog for all) */
};

struct olsim_tenant_opts {
    uint64_t seed;
    size_t users;
    size_t roles;
    size_t apps;
    size_t events;
    int64_t span_ms;
    int64_t now_ms;
    const char *catalog; /* NULL: built-in list */
    const char *const *scenarios;
    size_t nscenarios;
    int64_t id_offset;
    /* NULL: load the catalog; else borrow its types (it outlives the new tenant) */
    const struct olsim_tenant *catalog_from;
};

/* What to insert; fields left at their "random" value are drawn by the generator. */
struct olsim_ev_spec {
    int type;      /* -1: random */
    uint32_t user; /* OLSIM_NONE: random */
    int has_ip;
    uint32_t ip;
    int64_t created_ms;
};

enum olsim_sort {
    OLSIM_SORT_ID_ASC,
    OLSIM_SORT_ID_DESC,
    OLSIM_SORT_TIME_ASC,
    OLSIM_SORT_TIME_DESC
};

struct olsim_query {
    int64_t since_ms; /* INT64_MIN: none */
    int64_t until_ms; /* INT64_MAX: none */
    enum olsim_sort sort;
    int has_cursor;
    int64_t cur_ms;
    int64_t cur_id;
    int64_t id;      /* 0: any */
    int64_t user_id; /* 0: any */
    size_t ntypes;
    uint16_t types[64];
    size_t limit;
};

struct olsim_tenant *olsim_tenant_new(const struct olsim_tenant_opts *o, char *err,
                                      size_t errsz);
void olsim_tenant_free(struct olsim_tenant *t);
const struct olsim_type *olsim_tenant_type(const struct olsim_tenant *t, int id);
/* Generates one event per spec with rng and appends it (id assigned); applies its effect
 * on the user when mutate. Returns the new id, or -1 on allocation failure. */
int64_t olsim_tenant_insert(struct olsim_tenant *t, struct olsim_rng *rng,
                            const struct olsim_ev_spec *spec, int mutate, int64_t now_ms);
/* Fills pos[] (up to q->limit) with matching positions in the query's order; *more says
 * whether another match exists after them. Returns the count. */
size_t olsim_tenant_query(const struct olsim_tenant *t, const struct olsim_query *q,
                          uint32_t *pos, int *more);
/* Index of the user with this id, or OLSIM_NONE (deleted users are found too). */
uint32_t olsim_tenant_user_index(const struct olsim_tenant *t, int64_t id);
uint32_t olsim_tenant_role_index(const struct olsim_tenant *t, int64_t id);
void olsim_render_event(const struct olsim_tenant *t, const struct olsim_event *e,
                        struct olsim_buf *b);
void olsim_render_user_v2(const struct olsim_tenant *t, uint32_t ui, struct olsim_buf *b);
void olsim_render_user_v1(const struct olsim_tenant *t, uint32_t ui, struct olsim_buf *b);
void olsim_render_role_v2(const struct olsim_tenant *t, uint32_t ri, struct olsim_buf *b);
const char *olsim_role_name(const struct olsim_tenant *t, uint32_t ri, char *tmp,
                            size_t tmpsz);

/* ---- server state (sim_main.c, sim_cli.c, sim_api.c, sim_control.c) ---- */

enum olsim_fault_kind {
    OLSIM_F_NONE = 0,
    OLSIM_F_429,
    OLSIM_F_429HTML,
    OLSIM_F_RL400,
    OLSIM_F_401,
    OLSIM_F_500,
    OLSIM_F_502,
    OLSIM_F_503,
    OLSIM_F_STALL,
    OLSIM_F_TRUNCATE,
    OLSIM_F_GARBAGE,
    OLSIM_F_UNSORTED,
    OLSIM_F_SHORT,
    OLSIM_F_RESET,
    OLSIM_F_COUNT
};

enum olsim_route {
    OLSIM_R_TOKEN,
    OLSIM_R_EVENTS,
    OLSIM_R_EVENT_TYPES,
    OLSIM_R_USERS_V1,
    OLSIM_R_USERS_V2,
    OLSIM_R_USER_ROLES,
    OLSIM_R_ROLES_V1,
    OLSIM_R_ROLES_V2,
    OLSIM_R_RATE_LIMIT,
    OLSIM_R_OTHER,
    OLSIM_R_COUNT,
    OLSIM_R_CONTROL = -1
};

struct olsim_fault {
    enum olsim_fault_kind kind;
    long count;
    char path[128];
};

/* --tenant-fault-rate tK:P and --tenant-rate-limit tK:N */
struct olsim_override {
    unsigned tenant; /* k of tK */
    int is_rate_limit;
    double fault_rate;
    long rate_limit;
};

struct olsim_cfg {
    char listen_host[64];
    unsigned listen_port;
    const char *port_file;
    uint64_t seed;
    size_t users;
    size_t roles;
    size_t apps;
    size_t events;
    int64_t span_ms;
    int64_t now_ms; /* --now: the clock pre-generation uses; 0 = real time */
    double rate;
    double late_fraction;
    int64_t late_max_ms;
    size_t page_max;
    long rate_limit;
    int64_t rate_window_ms;
    enum olsim_fault_kind limit_style; /* 429, 429html or rl400 */
    const char *client_id;
    const char *client_secret;
    int64_t token_ttl_ms;
    double fault_rate;
    int64_t stall_ms;
    const char *request_log;
    const char *truth;
    const char *catalog;
    const char *scenarios[32];
    size_t nscenarios;
    struct olsim_fault faults[32];
    unsigned fault_tenant[32]; /* --tenant-fault's K for faults[i]; 0: every tenant */
    size_t nfaults;
    size_t tenants; /* --tenants, default 1 */
    struct olsim_override overrides[OLSIM_MAX_OVERRIDES];
    size_t noverrides;
};

struct olsim_logent {
    int64_t t_ms;
    char method[8];
    unsigned status;
    enum olsim_fault_kind fault;
    char *path;
    char *query;
};

/* One tenant as the server sees it. Every field below lock is guarded by it; name,
 * client_id, client_secret, k and srv are fixed before serving starts. */
struct olsim_ten {
    struct olsim *srv;
    unsigned k; /* 1..N */
    char name[16];
    char client_id[256];
    char client_secret[256];
    pthread_mutex_t lock;
    pthread_cond_t cond; /* stalls */
    struct olsim_tenant *t;
    /* token */
    char token[65];
    char refresh[65];
    int64_t token_created_ms; /* 0: no live token */
    struct olsim_rng token_rng;
    /* rate limit */
    long rl_limit;
    int64_t rl_window_ms;
    int64_t rl_start_ms;
    long rl_used;
    /* faults */
    struct olsim_fault *faults;
    size_t nfaults;
    size_t faults_cap;
    struct olsim_rng fault_rng;
    double fault_rate;
    /* live generator */
    struct olsim_rng live_rng;
    int gen_paused;
    int64_t gen_base_ms; /* live events are due at rate since gen_base_ms */
    uint64_t gen_done;
    /* request log and stats */
    struct olsim_logent *log;
    size_t nlog;
    size_t log_cap;
    size_t log_max;  /* ring size: OLSIM_LOG_MAX shared out among the tenants */
    size_t log_head; /* ring start once full */
    unsigned long route_count[OLSIM_R_COUNT];
    unsigned long status_count[600];
    /* POST /_sim/clock: OneLogin answers carry a Date skewed by this until then */
    int64_t date_skew_ms;
    int64_t date_skew_until_ms;
};

struct olsim {
    struct olsim_cfg cfg;
    atomic_int stopping;
    unsigned port;
    struct olsim_ten *tens; /* cfg.tenants of them, tens[k - 1] is tK */
    size_t ntens;
    FILE *log_file; /* --request-log, shared: one fprintf per line */
};

/* A request as the handlers see it; every string is borrowed and NUL-terminated. */
struct olsim_req {
    const char *method;
    const char *path;
    const char *query; /* raw query string without '?', "" if none */
    const char *auth;  /* Authorization header or NULL */
    const char *host;  /* Host header or NULL */
    const char *body;
    size_t body_len;
    int body_too_large;
};

struct olsim_resp {
    unsigned status;
    struct olsim_buf body;
    const char *ctype; /* NULL: application/json */
    int rl_headers;
    long rl_limit;
    long rl_remaining;
    long rl_reset;
    int reset_conn;
    int64_t date_ms; /* > 0: send this Date instead of the real one */
    int64_t stall_ms;
    enum olsim_fault_kind fault;
    enum olsim_route route;
    int stream; /* OLSIM_STREAM_*: body produced by a callback instead of body */
};

enum { OLSIM_STREAM_NONE, OLSIM_STREAM_TRUTH, OLSIM_STREAM_TRUTH_IDS };

/* sim_cli.c: fills c from argv. Returns 0 to run, 1 to exit 0 (help, version), -1 on a
 * bad option (already reported on stderr). */
int olsim_parse_args(struct olsim_cfg *c, int argc, char **argv);

/* sim_api.c: the OneLogin routes. */
/* The tenant a OneLogin request belongs to: the token endpoint's by its client id, the
 * others' by their bearer token (with several tenants a token ends in four hex digits
 * naming its tenant); t1 when neither names one. Takes no lock (reads fixed fields). */
struct olsim_ten *olsim_api_tenant(struct olsim *sim, const struct olsim_req *rq);
/* Called with tn->lock held. */
void olsim_api_handle(struct olsim_ten *tn, const struct olsim_req *rq,
                      struct olsim_resp *rs);
void olsim_json_error_v1(struct olsim_resp *rs, unsigned code, const char *type,
                         const char *msg);
void olsim_json_error_v2(struct olsim_resp *rs, unsigned code, const char *name,
                         const char *msg);
void olsim_ratelimit_roll(struct olsim_ten *tn, int64_t now);
long olsim_ratelimit_reset_s(const struct olsim_ten *tn, int64_t now);

/* sim_api_events.c: the /api/1/events routes, called by olsim_api_handle with tn->lock
 * held. olsim_route_events applies the short and unsorted faults. */
#define OLSIM_STATUS_OK                                                                  \
    "{\"error\":false,\"code\":200,\"type\":\"success\",\"message\":\"Success\"}"

void olsim_route_events(struct olsim_ten *tn, const struct olsim_req *rq,
                        struct olsim_resp *rs, enum olsim_fault_kind fault);
void olsim_route_event_by_id(struct olsim_ten *tn, struct olsim_resp *rs, int64_t id);
void olsim_route_event_types(struct olsim_ten *tn, struct olsim_resp *rs);

/* sim_control.c: /_sim/ routes, faults, request log. */
/* The tenant a control request names with ?tenant=tK (t1 without it), or NULL when it
 * names none of them. Takes no lock. */
struct olsim_ten *olsim_control_tenant(struct olsim *sim, const struct olsim_req *rq);
/* Called with tn->lock held. */
void olsim_control_handle(struct olsim_ten *tn, const struct olsim_req *rq,
                          struct olsim_resp *rs);
/* The answer for a control request whose ?tenant= names no tenant (no lock). */
void olsim_control_no_tenant(struct olsim_resp *rs);
enum olsim_fault_kind olsim_fault_kind_parse(const char *s);
const char *olsim_fault_kind_name(enum olsim_fault_kind k);
/* Parses KIND[:COUNT[:PATH_PREFIX]]. Returns 0 or -1. */
int olsim_fault_parse_spec(const char *spec, struct olsim_fault *f);
/* The functions below are called with tn->lock held. */
int olsim_fault_push(struct olsim_ten *tn, const struct olsim_fault *f);
/* Takes the next queued fault matching path, or OLSIM_F_NONE. */
enum olsim_fault_kind olsim_fault_take(struct olsim_ten *tn, const char *path);
void olsim_log_request(struct olsim_ten *tn, const struct olsim_req *rq,
                       const struct olsim_resp *rs);
void olsim_log_free(struct olsim_ten *tn);
/* Renders truth lines for positions [*pos, nev_end) into b until it holds at least
 * want bytes; advances *pos. ids_only: one id per line. */
void olsim_truth_chunk(struct olsim_ten *tn, size_t *pos, size_t nev_end, int ids_only,
                       struct olsim_buf *b, size_t want);
/* Writes the tenant's NDJSON truth to f. Returns 0 or -1. */
int olsim_write_truth(struct olsim_ten *tn, FILE *f);

#endif
