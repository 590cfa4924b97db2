/*
 * olsim control plane: the /_sim/ routes that tests use to drive and inspect the
 * simulator (insert events, queue faults, reset the rate limit, revoke the token, read
 * the ground truth, the request log and counters), plus the fault queue and the request
 * log themselves.
 *
 * Control routes take no auth, are never metered and are not logged; each acts on the
 * tenant its ?tenant=tK names (t1 without it). The fault queue is a FIFO of (kind,
 * remaining count, path prefix); each OneLogin request takes the first entry whose prefix
 * matches its path. Each tenant's request log keeps its last tn->log_max entries in
 * memory (a ring) and every entry is appended to --request-log when given. Everything but
 * olsim_control_tenant and olsim_control_no_tenant runs with that tenant's lock held.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const olsim_fault_names[OLSIM_F_COUNT] = {
    "none", "429",   "429html",  "ratelimit400", "401",      "500",   "502",
    "503",  "stall", "truncate", "garbage",      "unsorted", "short", "reset",
};

static const char *const olsim_route_names[OLSIM_R_COUNT] = {
    "token",      "events",   "event_types", "users_v1",   "users_v2",
    "user_roles", "roles_v1", "roles_v2",    "rate_limit", "other",
};

enum olsim_fault_kind olsim_fault_kind_parse(const char *s)
{
    int i;

    for (i = 1; i < OLSIM_F_COUNT; i++)
        if (strcmp(s, olsim_fault_names[i]) == 0)
            return (enum olsim_fault_kind)i;
    if (strcmp(s, "400") == 0)
        return OLSIM_F_RL400;
    return OLSIM_F_NONE;
}

const char *olsim_fault_kind_name(enum olsim_fault_kind k)
{
    if ((int)k < 0 || k >= OLSIM_F_COUNT)
        return "none";
    return olsim_fault_names[k];
}

int olsim_fault_parse_spec(const char *spec, struct olsim_fault *f)
{
    char kind[32];
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    size_t n = c1 ? (size_t)(c1 - spec) : strlen(spec);
    long long count = 1;
    int w;

    memset(f, 0, sizeof(*f));
    if (n == 0 || n >= sizeof(kind))
        goto fail;
    memcpy(kind, spec, n);
    kind[n] = '\0';
    f->kind = olsim_fault_kind_parse(kind);
    if (f->kind == OLSIM_F_NONE)
        goto fail;
    if (c1) {
        char num[32];
        size_t m = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);

        if (m == 0 || m >= sizeof(num))
            goto fail;
        memcpy(num, c1 + 1, m);
        num[m] = '\0';
        if (olsim_parse_ll(num, 1, 100000000, &count) < 0)
            goto fail;
    }
    f->count = (long)count;
    w = snprintf(f->path, sizeof(f->path), "%s", c2 ? c2 + 1 : "/api/1/events");
    if (w < 0 || (size_t)w >= sizeof(f->path) || f->path[0] != '/')
        goto fail;
    return 0;
fail:
    return -1;
}

int olsim_fault_push(struct olsim_ten *tn, const struct olsim_fault *f)
{
    if (tn->nfaults == tn->faults_cap) {
        size_t cap = tn->faults_cap ? tn->faults_cap * 2 : 16;
        struct olsim_fault *p = realloc(tn->faults, cap * sizeof(*p));

        if (!p)
            return -1;
        tn->faults = p;
        tn->faults_cap = cap;
    }
    tn->faults[tn->nfaults++] = *f;
    return 0;
}

enum olsim_fault_kind olsim_fault_take(struct olsim_ten *tn, const char *path)
{
    enum olsim_fault_kind k;
    size_t i;

    for (i = 0; i < tn->nfaults; i++) {
        struct olsim_fault *f = &tn->faults[i];

        if (strncmp(path, f->path, strlen(f->path)) != 0)
            continue;
        k = f->kind;
        if (--f->count <= 0) {
            memmove(f, f + 1, (tn->nfaults - i - 1) * sizeof(*f));
            tn->nfaults--;
        }
        return k;
    }
    return OLSIM_F_NONE;
}

/* ---- request log ---- */

/* tenant: the tenant's name, or NULL to leave the member out (a single tenant). */
static void olsim_logent_json(const struct olsim_logent *le, const char *tenant,
                              struct olsim_buf *b)
{
    olsim_buf_printf(b, "{\"t_ms\":%lld,", (long long)le->t_ms);
    if (tenant) {
        olsim_buf_str(b, "\"tenant\":");
        olsim_buf_json_str(b, tenant);
        olsim_buf_add(b, ",", 1);
    }
    olsim_buf_str(b, "\"method\":");
    olsim_buf_json_str(b, le->method);
    olsim_buf_str(b, ",\"path\":");
    olsim_buf_json_str(b, le->path);
    olsim_buf_str(b, ",\"query\":");
    olsim_buf_json_str(b, le->query);
    olsim_buf_printf(b, ",\"status\":%u,\"fault\":", le->status);
    olsim_buf_json_str(b, le->fault == OLSIM_F_NONE ? NULL
                                                    : olsim_fault_kind_name(le->fault));
    olsim_buf_add(b, "}", 1);
}

static const char *olsim_log_tenant(const struct olsim_ten *tn)
{
    return tn->srv->ntens > 1 ? tn->name : NULL;
}

void olsim_log_request(struct olsim_ten *tn, const struct olsim_req *rq,
                       const struct olsim_resp *rs)
{
    struct olsim_logent le;
    struct olsim_logent *slot;
    int n;

    memset(&le, 0, sizeof(le));
    le.t_ms = olsim_now_ms();
    n = snprintf(le.method, sizeof(le.method), "%s", rq->method);
    if (n < 0 || (size_t)n >= sizeof(le.method))
        le.method[sizeof(le.method) - 1] = '\0';
    le.status = rs->reset_conn ? 0 : rs->status;
    le.fault = rs->fault;
    le.path = strdup(rq->path);
    le.query = strdup(rq->query);
    if ((int)rs->route >= 0 && rs->route < OLSIM_R_COUNT)
        tn->route_count[rs->route]++;
    if (le.status < sizeof(tn->status_count) / sizeof(tn->status_count[0]))
        tn->status_count[le.status]++;
    if (tn->srv->log_file) {
        struct olsim_buf b = {0};

        olsim_logent_json(&le, olsim_log_tenant(tn), &b);
        if (!b.oom && b.p) {
            /* one call per line: stdio serialises the tenants' writes */
            fprintf(tn->srv->log_file, "%s\n", b.p);
            fflush(tn->srv->log_file);
        }
        olsim_buf_free(&b);
    }
    if (!le.path || !le.query)
        goto fail;
    if (tn->nlog < tn->log_max) {
        if (tn->nlog == tn->log_cap) {
            size_t cap = tn->log_cap ? tn->log_cap * 2 : 256;
            struct olsim_logent *p = realloc(tn->log, cap * sizeof(*p));

            if (!p)
                goto fail;
            tn->log = p;
            tn->log_cap = cap;
        }
        tn->log[tn->nlog++] = le;
        return;
    }
    slot = &tn->log[tn->log_head];
    free(slot->path);
    free(slot->query);
    *slot = le;
    tn->log_head = (tn->log_head + 1) % tn->log_max;
    return;
fail:
    free(le.path);
    free(le.query);
}

void olsim_log_free(struct olsim_ten *tn)
{
    size_t i;

    for (i = 0; i < tn->nlog; i++) {
        free(tn->log[i].path);
        free(tn->log[i].query);
    }
    free(tn->log);
    tn->log = NULL;
    tn->nlog = 0;
}

/* ---- truth ---- */

void olsim_truth_chunk(struct olsim_ten *tn, size_t *pos, size_t nev_end, int ids_only,
                       struct olsim_buf *b, size_t want)
{
    const struct olsim_tenant *t = tn->t;

    while (*pos < nev_end && *pos < t->nev && b->len < want && !b->oom) {
        if (ids_only)
            olsim_buf_printf(b, "%lld\n", (long long)t->ev[*pos].id);
        else {
            olsim_render_event(t, &t->ev[*pos], b);
            olsim_buf_add(b, "\n", 1);
        }
        (*pos)++;
    }
}

int olsim_write_truth(struct olsim_ten *tn, FILE *f)
{
    struct olsim_buf b = {0};
    size_t pos = 0;
    int rc = -1;

    while (pos < tn->t->nev) {
        b.len = 0;
        olsim_truth_chunk(tn, &pos, tn->t->nev, 0, &b, 1 << 20);
        if (b.oom || fwrite(b.p, 1, b.len, f) != b.len)
            goto fail;
    }
    rc = 0;
fail:
    olsim_buf_free(&b);
    return rc;
}

/* ---- control routes ---- */

static void olsim_ctl_error(struct olsim_resp *rs, unsigned code, const char *msg)
{
    rs->status = code;
    rs->body.len = 0;
    olsim_buf_str(&rs->body, "{\"error\":");
    olsim_buf_json_str(&rs->body, msg);
    olsim_buf_add(&rs->body, "}", 1);
}

/* Reads an optional integer member. Returns 0 (absent or valid) or -1. */
static int olsim_json_int_opt(json_t *o, const char *key, long long min, long long max,
                              long long *out)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

static json_t *olsim_body_json(const struct olsim_req *rq, struct olsim_resp *rs)
{
    json_t *root;

    if (rq->body_too_large) {
        olsim_ctl_error(rs, 413, "body too large");
        return NULL;
    }
    if (!rq->body || rq->body_len == 0)
        return json_object();
    root = json_loadb(rq->body, rq->body_len, 0, NULL);
    if (!root)
        olsim_ctl_error(rs, 400, "body is not JSON");
    return root;
}

static void olsim_ctl_events(struct olsim_ten *tn, const struct olsim_req *rq,
                             struct olsim_resp *rs)
{
    json_t *root = olsim_body_json(rq, rs);
    long long count = 1;
    long long type = -1;
    long long user_id = 0;
    long long late = 0;
    long long interval = 0;
    struct olsim_ev_spec spec;
    const char *ip;
    struct in_addr addr;
    int64_t now = olsim_now_ms();
    long long k;
    int64_t id;

    if (!root)
        return;
    if (!json_is_object(root)) {
        olsim_ctl_error(rs, 400, "body must be an object");
        goto fail;
    }
    memset(&spec, 0, sizeof(spec));
    spec.user = OLSIM_NONE;
    if (olsim_json_int_opt(root, "count", 0, 2000000, &count) < 0 ||
        olsim_json_int_opt(root, "event_type_id", 1, 65535, &type) < 0 ||
        olsim_json_int_opt(root, "user_id", 1, INT64_MAX, &user_id) < 0 ||
        olsim_json_int_opt(root, "late_ms", 0, 100LL * 365 * 86400000, &late) < 0 ||
        olsim_json_int_opt(root, "interval_ms", 0, 86400000, &interval) < 0) {
        olsim_ctl_error(rs, 400,
                        "bad count, event_type_id, user_id, late_ms or interval_ms");
        goto fail;
    }
    spec.type = (int)type;
    if (user_id) {
        spec.user = olsim_tenant_user_index(tn->t, user_id);
        if (spec.user == OLSIM_NONE) {
            olsim_ctl_error(rs, 404, "no such user");
            goto fail;
        }
    }
    ip = json_string_value(json_object_get(root, "ipaddr"));
    if (ip) {
        if (inet_pton(AF_INET, ip, &addr) != 1) {
            olsim_ctl_error(rs, 400, "ipaddr must be an IPv4 address");
            goto fail;
        }
        spec.has_ip = 1;
        spec.ip = ntohl(addr.s_addr);
    }
    rs->status = 200;
    olsim_buf_str(&rs->body, "{\"ids\":[");
    for (k = 0; k < count; k++) {
        spec.created_ms = now - late - (count - 1 - k) * interval;
        id = olsim_tenant_insert(tn->t, &tn->live_rng, &spec, 1, now);
        if (id < 0) {
            olsim_ctl_error(rs, 500, "out of memory");
            goto fail;
        }
        olsim_buf_printf(&rs->body, "%s%lld", k ? "," : "", (long long)id);
    }
    olsim_buf_str(&rs->body, "]}");
fail:
    json_decref(root);
}

static int olsim_ctl_fault_one(struct olsim_ten *tn, json_t *o)
{
    struct olsim_fault f;
    json_t *kind = json_object_get(o, "kind");
    const char *path = json_string_value(json_object_get(o, "path"));
    long long count = 1;
    char kbuf[32];
    int n;

    memset(&f, 0, sizeof(f));
    if (json_is_integer(kind))
        snprintf(kbuf, sizeof(kbuf), "%lld", (long long)json_integer_value(kind));
    else if (json_is_string(kind) && strlen(json_string_value(kind)) < sizeof(kbuf))
        snprintf(kbuf, sizeof(kbuf), "%s", json_string_value(kind));
    else
        return -1;
    f.kind = olsim_fault_kind_parse(kbuf);
    if (f.kind == OLSIM_F_NONE ||
        olsim_json_int_opt(o, "count", 1, 100000000, &count) < 0)
        return -1;
    f.count = (long)count;
    n = snprintf(f.path, sizeof(f.path), "%s", path ? path : "/api/1/events");
    if (n < 0 || (size_t)n >= sizeof(f.path) || f.path[0] != '/')
        return -1;
    return olsim_fault_push(tn, &f);
}

static void olsim_ctl_faults(struct olsim_ten *tn, const struct olsim_req *rq,
                             struct olsim_resp *rs)
{
    json_t *root;
    json_t *it;
    size_t i;
    size_t queued = 0;

    if (strcmp(rq->method, "DELETE") == 0) {
        rs->status = 200;
        olsim_buf_printf(&rs->body, "{\"cleared\":%zu}", tn->nfaults);
        tn->nfaults = 0;
        return;
    }
    if (strcmp(rq->method, "GET") == 0) {
        rs->status = 200;
        olsim_buf_str(&rs->body, "[");
        for (i = 0; i < tn->nfaults; i++) {
            olsim_buf_printf(
                &rs->body, "%s{\"kind\":\"%s\",\"count\":%ld,\"path\":", i ? "," : "",
                olsim_fault_kind_name(tn->faults[i].kind), tn->faults[i].count);
            olsim_buf_json_str(&rs->body, tn->faults[i].path);
            olsim_buf_add(&rs->body, "}", 1);
        }
        olsim_buf_str(&rs->body, "]");
        return;
    }
    root = olsim_body_json(rq, rs);
    if (!root)
        return;
    if (json_is_object(root)) {
        if (olsim_ctl_fault_one(tn, root) < 0)
            goto bad;
        queued = 1;
    } else if (json_is_array(root)) {
        json_array_foreach(root, i, it)
        {
            if (!json_is_object(it) || olsim_ctl_fault_one(tn, it) < 0)
                goto bad;
            queued++;
        }
    } else {
        goto bad;
    }
    rs->status = 200;
    olsim_buf_printf(&rs->body, "{\"queued\":%zu,\"pending\":%zu}", queued, tn->nfaults);
    json_decref(root);
    return;
bad:
    olsim_ctl_error(rs, 400,
                    "a fault is {\"kind\":K,\"count\":N,\"path\":P}; "
                    "faults queued before the bad one stay queued");
    json_decref(root);
}

static void olsim_ctl_rate_limit(struct olsim_ten *tn, const struct olsim_req *rq,
                                 struct olsim_resp *rs)
{
    json_t *root = olsim_body_json(rq, rs);
    long long limit = tn->rl_limit;
    long long window = tn->rl_window_ms;

    if (!root)
        return;
    if (!json_is_object(root) ||
        olsim_json_int_opt(root, "limit", 0, 1000000000, &limit) < 0 ||
        olsim_json_int_opt(root, "window_ms", 1, 100LL * 86400000, &window) < 0) {
        olsim_ctl_error(rs, 400, "expected {\"limit\":N,\"window_ms\":W}");
        goto fail;
    }
    tn->rl_limit = (long)limit;
    tn->rl_window_ms = window;
    tn->rl_start_ms = olsim_now_ms();
    tn->rl_used = 0;
    rs->status = 200;
    olsim_buf_printf(&rs->body, "{\"limit\":%ld,\"window_ms\":%lld}", tn->rl_limit,
                     (long long)tn->rl_window_ms);
fail:
    json_decref(root);
}

/* POST /_sim/clock {"skew_ms":N,"for_ms":D}: Date skewed by N for the next D ms. */
static void olsim_ctl_clock(struct olsim_ten *tn, const struct olsim_req *rq,
                            struct olsim_resp *rs)
{
    json_t *root = olsim_body_json(rq, rs);
    long long skew = 0, for_ms = -1;
    int64_t now = olsim_now_ms();

    if (!root)
        return;
    if (!json_is_object(root) ||
        olsim_json_int_opt(root, "skew_ms", -100LL * 86400000, 100LL * 86400000, &skew) <
            0 ||
        olsim_json_int_opt(root, "for_ms", 0, 100LL * 86400000, &for_ms) < 0 ||
        for_ms < 0) {
        olsim_ctl_error(rs, 400, "expected {\"skew_ms\":N,\"for_ms\":D}");
        goto fail;
    }
    tn->date_skew_ms = skew;
    tn->date_skew_until_ms = now + for_ms;
    rs->status = 200;
    olsim_buf_printf(&rs->body, "{\"skew_ms\":%lld,\"until_ms\":%lld}", skew,
                     (long long)tn->date_skew_until_ms);
fail:
    json_decref(root);
}

static void olsim_ctl_stats(struct olsim_ten *tn, struct olsim_resp *rs)
{
    int64_t now = olsim_now_ms();
    size_t i;
    int first = 1;
    size_t live = 0;
    long rem;

    rs->status = 200;
    olsim_buf_str(&rs->body, "{\"requests\":{");
    for (i = 0; i < OLSIM_R_COUNT; i++)
        olsim_buf_printf(&rs->body, "%s\"%s\":%lu", i ? "," : "", olsim_route_names[i],
                         tn->route_count[i]);
    olsim_buf_str(&rs->body, "},\"status\":{");
    for (i = 0; i < sizeof(tn->status_count) / sizeof(tn->status_count[0]); i++) {
        if (!tn->status_count[i])
            continue;
        olsim_buf_printf(&rs->body, "%s\"%zu\":%lu", first ? "" : ",", i,
                         tn->status_count[i]);
        first = 0;
    }
    for (i = 0; i < tn->t->nusers; i++)
        live += !tn->t->users[i].deleted;
    olsim_ratelimit_roll(tn, now);
    rem = tn->rl_limit - tn->rl_used;
    olsim_buf_printf(
        &rs->body,
        "},\"events\":%zu,\"users\":%zu,\"roles\":%zu,\"last_id\":%lld,"
        "\"faults_pending\":%zu,\"rate_limit\":{\"limit\":%ld,\"remaining\":%ld,"
        "\"reset\":%ld}}",
        tn->t->nev, live, tn->t->nroles, (long long)tn->t->last_id, tn->nfaults,
        tn->rl_limit, rem < 0 ? 0 : rem, olsim_ratelimit_reset_s(tn, now));
}

static void olsim_ctl_requests(struct olsim_ten *tn, struct olsim_resp *rs)
{
    size_t i;

    rs->status = 200;
    olsim_buf_add(&rs->body, "[", 1);
    for (i = 0; i < tn->nlog; i++) {
        if (i)
            olsim_buf_add(&rs->body, ",", 1);
        olsim_logent_json(&tn->log[(tn->log_head + i) % tn->nlog], olsim_log_tenant(tn),
                          &rs->body);
    }
    olsim_buf_add(&rs->body, "]", 1);
}

static void olsim_ctl_user(struct olsim_ten *tn, const char *idstr, struct olsim_resp *rs)
{
    long long id;
    uint32_t ui = OLSIM_NONE;

    if (olsim_parse_ll(idstr, 1, INT64_MAX, &id) == 0)
        ui = olsim_tenant_user_index(tn->t, id);
    if (ui == OLSIM_NONE || tn->t->users[ui].deleted) {
        olsim_json_error_v2(rs, 404, "NotFoundError",
                            "The resource can't be found or the server has not found "
                            "anything matching the Request-URI");
        return;
    }
    rs->status = 200;
    olsim_render_user_v2(tn->t, ui, &rs->body);
}

/* GET /_sim/tenants: names and client ids (fixed fields: no other tenant's lock). */
static void olsim_ctl_tenants(const struct olsim *sim, struct olsim_resp *rs)
{
    size_t i;

    rs->status = 200;
    olsim_buf_add(&rs->body, "[", 1);
    for (i = 0; i < sim->ntens; i++) {
        olsim_buf_str(&rs->body, i ? ",{\"name\":" : "{\"name\":");
        olsim_buf_json_str(&rs->body, sim->tens[i].name);
        olsim_buf_str(&rs->body, ",\"client_id\":");
        olsim_buf_json_str(&rs->body, sim->tens[i].client_id);
        olsim_buf_add(&rs->body, "}", 1);
    }
    olsim_buf_add(&rs->body, "]", 1);
}

void olsim_control_handle(struct olsim_ten *tn, const struct olsim_req *rq,
                          struct olsim_resp *rs)
{
    const char *p = rq->path + strlen("/_sim/");
    int get = strcmp(rq->method, "GET") == 0;
    int post = strcmp(rq->method, "POST") == 0;

    rs->route = OLSIM_R_CONTROL;
    if (post && strcmp(p, "events") == 0) {
        olsim_ctl_events(tn, rq, rs);
    } else if (strcmp(p, "faults") == 0) {
        olsim_ctl_faults(tn, rq, rs);
    } else if (post && strcmp(p, "rate_limit") == 0) {
        olsim_ctl_rate_limit(tn, rq, rs);
    } else if (post && strcmp(p, "clock") == 0) {
        olsim_ctl_clock(tn, rq, rs);
    } else if (post && strcmp(p, "token/revoke") == 0) {
        tn->token_created_ms = 0;
        rs->status = 200;
        olsim_buf_str(&rs->body, "{\"revoked\":true}");
    } else if (get && strcmp(p, "truth") == 0) {
        rs->status = 200;
        rs->stream = OLSIM_STREAM_TRUTH;
        rs->ctype = "application/x-ndjson";
    } else if (get && strcmp(p, "truth/ids") == 0) {
        rs->status = 200;
        rs->stream = OLSIM_STREAM_TRUTH_IDS;
        rs->ctype = "text/plain";
    } else if (get && strcmp(p, "stats") == 0) {
        olsim_ctl_stats(tn, rs);
    } else if (get && strcmp(p, "requests") == 0) {
        olsim_ctl_requests(tn, rs);
    } else if (get && strncmp(p, "user/", 5) == 0) {
        olsim_ctl_user(tn, p + 5, rs);
    } else if (post && strcmp(p, "pause_generation") == 0) {
        tn->gen_paused = 1;
        rs->status = 200;
        olsim_buf_str(&rs->body, "{\"paused\":true}");
    } else if (post && strcmp(p, "resume_generation") == 0) {
        if (tn->gen_paused) {
            tn->gen_paused = 0;
            tn->gen_base_ms = olsim_now_ms();
            tn->gen_done = 0;
        }
        rs->status = 200;
        olsim_buf_str(&rs->body, "{\"paused\":false}");
    } else if (get && strcmp(p, "tenants") == 0) {
        olsim_ctl_tenants(tn->srv, rs);
    } else {
        olsim_ctl_error(rs, 404, "no such control endpoint");
    }
}

struct olsim_ten *olsim_control_tenant(struct olsim *sim, const struct olsim_req *rq)
{
    char v[32];
    long long k;

    switch (olsim_query_get(rq->query, "tenant", v, sizeof(v))) {
    case 0:
        return &sim->tens[0];
    case 1:
        if (v[0] != 't' || olsim_parse_ll(v + 1, 1, (long long)sim->ntens, &k) < 0)
            return NULL;
        return &sim->tens[k - 1];
    default:
        return NULL;
    }
}

void olsim_control_no_tenant(struct olsim_resp *rs)
{
    rs->route = OLSIM_R_CONTROL;
    olsim_ctl_error(rs, 404, "no such tenant");
}
