/*
 * olsim OneLogin routes: the token endpoint, /auth/rate_limit and the /api/1 and /api/2
 * resources olagent uses, with the real envelopes, error shapes and X-RateLimit-*
 * headers.
 *
 * Each /api/ call goes: bearer check (401, unmetered) -> queued or random fault -> rate
 * limit (metered, over-limit answered per --limit-style) -> the route -> body faults
 * (truncate, garbage). Handlers only fill a struct olsim_resp; sim_main.c turns it into
 * an HTTP response. The events routes are in sim_api_events.c. A request first finds its
 * tenant (olsim_api_tenant: by client id at the token endpoint, by the bearer token
 * elsewhere, without a lock); everything after runs with that tenant's lock held.
 */
#include "sim.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char olsim_html_429[] = "<html><body><h1>429 Too Many Requests</h1>\nYou "
                                     "have sent too many requests in a given "
                                     "amount of time.\n</body></html>\n";
static const char olsim_html_502[] =
    "<html><head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad "
    "Gateway</h1></center></body></html>\n";
static const char olsim_html_503[] =
    "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this "
    "request.\n</body></html>\n";

void olsim_json_error_v1(struct olsim_resp *rs, unsigned code, const char *type,
                         const char *msg)
{
    rs->status = code;
    rs->body.len = 0;
    olsim_buf_printf(&rs->body,
                     "{\"status\":{\"error\":true,\"code\":%u,\"type\":", code);
    olsim_buf_json_str(&rs->body, type);
    olsim_buf_str(&rs->body, ",\"message\":");
    olsim_buf_json_str(&rs->body, msg);
    olsim_buf_str(&rs->body, "}}");
}

void olsim_json_error_v2(struct olsim_resp *rs, unsigned code, const char *name,
                         const char *msg)
{
    rs->status = code;
    rs->body.len = 0;
    olsim_buf_printf(&rs->body, "{\"statusCode\":%u,\"name\":", code);
    olsim_buf_json_str(&rs->body, name);
    olsim_buf_str(&rs->body, ",\"message\":");
    olsim_buf_json_str(&rs->body, msg);
    olsim_buf_str(&rs->body, "}");
}

static void olsim_html(struct olsim_resp *rs, unsigned code, const char *html)
{
    rs->status = code;
    rs->body.len = 0;
    olsim_buf_str(&rs->body, html);
    rs->ctype = "text/html";
}

void olsim_ratelimit_roll(struct olsim_ten *tn, int64_t now)
{
    if (now >= tn->rl_start_ms + tn->rl_window_ms || now < tn->rl_start_ms) {
        tn->rl_start_ms = now;
        tn->rl_used = 0;
    }
}

long olsim_ratelimit_reset_s(const struct olsim_ten *tn, int64_t now)
{
    int64_t left = tn->rl_start_ms + tn->rl_window_ms - now;

    if (left < 0)
        left = 0;
    return (long)((left + 999) / 1000);
}

static void olsim_rl_headers(struct olsim_ten *tn, struct olsim_resp *rs, int64_t now)
{
    long rem = tn->rl_limit - tn->rl_used;

    rs->rl_headers = 1;
    rs->rl_limit = tn->rl_limit;
    rs->rl_remaining = rem < 0 ? 0 : rem;
    rs->rl_reset = olsim_ratelimit_reset_s(tn, now);
}

/* The three ways an over-limit call is answered. */
static void olsim_limit_answer(struct olsim_ten *tn, struct olsim_resp *rs,
                               enum olsim_fault_kind style, int64_t now)
{
    switch (style) {
    case OLSIM_F_429HTML:
        olsim_html(rs, 429, olsim_html_429);
        return;
    case OLSIM_F_RL400:
        rs->status = 400;
        rs->body.len = 0;
        olsim_buf_str(&rs->body,
                      "{\"status\":{\"error\":true,\"code\":400,\"type\":\"bad "
                      "request\",\"message\":\"rate_limit_exceeded\"}}");
        break;
    default:
        olsim_json_error_v1(rs, 429, "Too Many Requests", "Rate limit exceeded");
        break;
    }
    olsim_rl_headers(tn, rs, now);
    rs->rl_remaining = 0;
}

static void olsim_unauthorized(struct olsim_resp *rs, int v2)
{
    if (v2)
        olsim_json_error_v2(rs, 401, "UnauthorizedError", "Unauthorized");
    else
        olsim_json_error_v1(rs, 401, "Unauthorized", "Authentication Failure");
}

/* Answers the faults that replace the whole response. Returns 1 if rs is complete. */
static int olsim_fault_answer(struct olsim_ten *tn, struct olsim_resp *rs,
                              enum olsim_fault_kind f, int v2, int64_t now)
{
    switch (f) {
    case OLSIM_F_429:
    case OLSIM_F_429HTML:
    case OLSIM_F_RL400:
        olsim_ratelimit_roll(tn, now);
        olsim_limit_answer(tn, rs, f, now);
        return 1;
    case OLSIM_F_401:
        tn->token_created_ms = 0;
        olsim_unauthorized(rs, v2);
        return 1;
    case OLSIM_F_500:
        olsim_json_error_v1(rs, 500, "internal server error",
                            "We're sorry, but something went wrong.");
        return 1;
    case OLSIM_F_502:
        olsim_html(rs, 502, olsim_html_502);
        return 1;
    case OLSIM_F_503:
        olsim_html(rs, 503, olsim_html_503);
        return 1;
    case OLSIM_F_RESET:
        rs->reset_conn = 1;
        rs->status = 0;
        return 1;
    default:
        return 0;
    }
}

/* Applies the faults that alter a finished 2xx body. */
static void olsim_fault_body(struct olsim_ten *tn, struct olsim_resp *rs,
                             enum olsim_fault_kind f)
{
    static const char garbage[] = "\x1f\x8b\x08garbage<html>{\"status\": not json at all";

    if (rs->status != 200)
        return;
    if (f == OLSIM_F_TRUNCATE && rs->body.len > 1)
        rs->body.len /= 2;
    else if (f == OLSIM_F_GARBAGE) {
        rs->body.len = 0;
        olsim_buf_add(&rs->body, garbage, sizeof(garbage) - 1);
    } else if (f == OLSIM_F_STALL)
        rs->stall_ms = tn->srv->cfg.stall_ms;
}

/* ---- token ---- */

/* Splits "id:secret" style credentials out of the Authorization header. */
static int olsim_credentials(const char *auth, char *id, size_t idsz, char *secret,
                             size_t secsz)
{
    unsigned char dec[512];
    size_t n = 0;
    const char *p;
    const char *colon;
    const char *comma;

    if (!auth)
        return -1;
    if (strncasecmp(auth, "Basic ", 6) == 0) {
        p = auth + 6;
        while (*p == ' ')
            p++;
        if (olsim_b64_decode(p, strlen(p), dec, sizeof(dec) - 1, &n) < 0)
            return -1;
        dec[n] = '\0';
        colon = strchr((const char *)dec, ':');
        if (!colon || (size_t)(colon - (const char *)dec) >= idsz ||
            strlen(colon + 1) >= secsz)
            return -1;
        memcpy(id, dec, (size_t)(colon - (const char *)dec));
        id[colon - (const char *)dec] = '\0';
        memcpy(secret, colon + 1, strlen(colon + 1) + 1);
        return 0;
    }
    /* client_id:<id>, client_secret:<secret> */
    p = strstr(auth, "client_id:");
    comma = p ? strchr(p, ',') : NULL;
    if (!p || !comma)
        return -1;
    p += strlen("client_id:");
    while (*p == ' ')
        p++;
    if ((size_t)(comma - p) >= idsz)
        return -1;
    memcpy(id, p, (size_t)(comma - p));
    id[comma - p] = '\0';
    p = strstr(comma, "client_secret:");
    if (!p)
        return -1;
    p += strlen("client_secret:");
    while (*p == ' ')
        p++;
    if (strlen(p) >= secsz)
        return -1;
    memcpy(secret, p, strlen(p) + 1);
    return 0;
}

static int olsim_grant_ok(const struct olsim_req *rq)
{
    json_t *root;
    const char *g;
    char val[64];
    int ok = 0;

    if (!rq->body || rq->body_len == 0)
        return 0;
    root = json_loadb(rq->body, rq->body_len, 0, NULL);
    if (root) {
        g = json_string_value(json_object_get(root, "grant_type"));
        ok = g && strcmp(g, "client_credentials") == 0;
        json_decref(root);
        return ok;
    }
    /* Also accept a form body. */
    if (memchr(rq->body, '\0', rq->body_len))
        return 0;
    return olsim_query_get(rq->body, "grant_type", val, sizeof(val)) == 1 &&
           strcmp(val, "client_credentials") == 0;
}

static void olsim_mint_token(struct olsim_ten *tn, int64_t now)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < 64; i++) {
        tn->token[i] = hex[olsim_rng_below(&tn->token_rng, 16)];
        tn->refresh[i] = hex[olsim_rng_below(&tn->token_rng, 16)];
    }
    if (tn->srv->ntens > 1) /* the tenant, for olsim_api_tenant */
        snprintf(tn->token + 60, 5, "%04x", tn->k);
    tn->token[64] = '\0';
    tn->refresh[64] = '\0';
    tn->token_created_ms = now;
}

static int olsim_token_live(const struct olsim_ten *tn, int64_t now)
{
    return tn->token_created_ms != 0 &&
           now < tn->token_created_ms + tn->srv->cfg.token_ttl_ms;
}

static void olsim_route_token(struct olsim_ten *tn, const struct olsim_req *rq,
                              struct olsim_resp *rs, int64_t now)
{
    char id[256];
    char secret[256];
    char created[40];

    if (strcmp(rq->method, "POST") != 0) {
        olsim_json_error_v1(rs, 404, "not found", "No Route Exists");
        return;
    }
    if (olsim_credentials(rq->auth, id, sizeof(id), secret, sizeof(secret)) < 0 ||
        strcmp(id, tn->client_id) != 0 || strcmp(secret, tn->client_secret) != 0) {
        olsim_json_error_v1(rs, 401, "Unauthorized", "Authentication Failure");
        return;
    }
    if (!olsim_grant_ok(rq)) {
        olsim_json_error_v1(rs, 400, "bad request", "grant_type is incorrect/absent");
        return;
    }
    if (!olsim_token_live(tn, now))
        olsim_mint_token(tn, now);
    olsim_fmt_iso(tn->token_created_ms, created, sizeof(created));
    rs->status = 200;
    olsim_buf_printf(
        &rs->body,
        "{\"access_token\":\"%s\",\"created_at\":\"%s\",\"expires_in\":%lld,"
        "\"refresh_token\":\"%s\",\"token_type\":\"bearer\",\"account_id\":%lld}",
        tn->token, created, (long long)(tn->srv->cfg.token_ttl_ms / 1000), tn->refresh,
        (long long)tn->t->account_id);
}

static int olsim_bearer_ok(const struct olsim_ten *tn, const char *auth, int64_t now)
{
    const char *p;

    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !olsim_token_live(tn, now))
        return 0;
    p = auth + 7;
    while (*p == ' ')
        p++;
    return strcmp(p, tn->token) == 0;
}

/* ---- users and roles ---- */

static void olsim_user_404_v1(struct olsim_resp *rs, const char *what, const char *idstr)
{
    char msg[160];
    int n = snprintf(msg, sizeof(msg), "%s for id %s was not found", what, idstr);

    if (n < 0 || (size_t)n >= sizeof(msg))
        msg[0] = '\0';
    rs->status = 404;
    rs->body.len = 0;
    olsim_buf_str(&rs->body, "{\"status\":{\"code\":404,\"error\":true,\"message\":");
    olsim_buf_json_str(&rs->body, msg);
    olsim_buf_str(&rs->body, ",\"type\":\"not found\"}}");
}

static void olsim_404_v2(struct olsim_resp *rs)
{
    olsim_json_error_v2(
        rs, 404, "NotFoundError",
        "The resource can't be found or the server has not found anything "
        "matching the Request-URI");
}

/* Parses the id segment at p (up to '/' or end) into *id; *rest gets what follows. */
static int olsim_path_id(const char *p, int64_t *id, const char **rest)
{
    char tmp[32];
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    long long v;

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    if (olsim_parse_ll(tmp, 1, INT64_MAX, &v) < 0)
        return -1;
    *id = v;
    *rest = p + n;
    return 0;
}

static void olsim_route_user(struct olsim_ten *tn, struct olsim_resp *rs, int64_t id,
                             enum olsim_route route)
{
    const struct olsim_tenant *t = tn->t;
    uint32_t ui = olsim_tenant_user_index(t, id);
    char idstr[32];
    uint8_t i;

    snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
    if (ui == OLSIM_NONE || t->users[ui].deleted) {
        if (route == OLSIM_R_USERS_V2)
            olsim_404_v2(rs);
        else
            olsim_user_404_v1(rs, "User", idstr);
        return;
    }
    rs->status = 200;
    if (route == OLSIM_R_USERS_V2) {
        olsim_render_user_v2(t, ui, &rs->body);
    } else if (route == OLSIM_R_USERS_V1) {
        olsim_buf_str(&rs->body, "{\"status\":" OLSIM_STATUS_OK ",\"data\":[");
        olsim_render_user_v1(t, ui, &rs->body);
        olsim_buf_str(&rs->body, "]}");
    } else {
        olsim_buf_str(&rs->body, "{\"status\":" OLSIM_STATUS_OK ",\"data\":[[");
        for (i = 0; i < t->users[ui].nroles; i++)
            olsim_buf_printf(&rs->body, "%s%lld", i ? "," : "",
                             (long long)t->roles[t->users[ui].roles[i]].id);
        olsim_buf_str(&rs->body, "]]}");
    }
}

static void olsim_route_role(struct olsim_ten *tn, struct olsim_resp *rs, int64_t id,
                             int v2)
{
    uint32_t ri = olsim_tenant_role_index(tn->t, id);
    char idstr[32];
    char tmp[32];

    snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
    if (ri == OLSIM_NONE) {
        if (v2)
            olsim_404_v2(rs);
        else
            olsim_user_404_v1(rs, "Role", idstr);
        return;
    }
    rs->status = 200;
    if (v2) {
        olsim_render_role_v2(tn->t, ri, &rs->body);
        return;
    }
    olsim_buf_printf(&rs->body,
                     "{\"status\":" OLSIM_STATUS_OK ",\"data\":[{\"id\":%lld,\"name\":",
                     (long long)id);
    olsim_buf_json_str(&rs->body, olsim_role_name(tn->t, ri, tmp, sizeof(tmp)));
    olsim_buf_str(&rs->body, "}]}");
}

static void olsim_route_rate_limit(struct olsim_ten *tn, struct olsim_resp *rs,
                                   int64_t now)
{
    long rem;

    olsim_ratelimit_roll(tn, now);
    rem = tn->rl_limit - tn->rl_used;
    rs->status = 200;
    olsim_buf_printf(&rs->body,
                     "{\"status\":" OLSIM_STATUS_OK
                     ",\"data\":{\"X-RateLimit-Limit\":%ld,"
                     "\"X-RateLimit-Remaining\":%ld,\"X-RateLimit-Reset\":%ld}}",
                     tn->rl_limit, rem < 0 ? 0 : rem, olsim_ratelimit_reset_s(tn, now));
}

/* Which /api/ route a path is, with its id. */
static enum olsim_route olsim_api_route(const char *path, int64_t *id)
{
    const char *rest = "";

    *id = 0;
    if (strcmp(path, "/api/1/events") == 0)
        return OLSIM_R_EVENTS;
    if (strcmp(path, "/api/1/events/types") == 0)
        return OLSIM_R_EVENT_TYPES;
    if (strncmp(path, "/api/1/events/", 14) == 0 &&
        olsim_path_id(path + 14, id, &rest) == 0 && *rest == '\0')
        return OLSIM_R_EVENTS;
    if (strncmp(path, "/api/2/users/", 13) == 0 &&
        olsim_path_id(path + 13, id, &rest) == 0 && *rest == '\0')
        return OLSIM_R_USERS_V2;
    if (strncmp(path, "/api/1/users/", 13) == 0 &&
        olsim_path_id(path + 13, id, &rest) == 0) {
        if (*rest == '\0')
            return OLSIM_R_USERS_V1;
        if (strcmp(rest, "/roles") == 0)
            return OLSIM_R_USER_ROLES;
    }
    if (strncmp(path, "/api/2/roles/", 13) == 0 &&
        olsim_path_id(path + 13, id, &rest) == 0 && *rest == '\0')
        return OLSIM_R_ROLES_V2;
    if (strncmp(path, "/api/1/roles/", 13) == 0 &&
        olsim_path_id(path + 13, id, &rest) == 0 && *rest == '\0')
        return OLSIM_R_ROLES_V1;
    return OLSIM_R_OTHER;
}

static enum olsim_fault_kind olsim_random_fault(struct olsim_ten *tn)
{
    static const enum olsim_fault_kind menu[] = {
        OLSIM_F_429,      OLSIM_F_429HTML, OLSIM_F_RL400,    OLSIM_F_500,
        OLSIM_F_502,      OLSIM_F_503,     OLSIM_F_TRUNCATE, OLSIM_F_GARBAGE,
        OLSIM_F_UNSORTED, OLSIM_F_SHORT,   OLSIM_F_RESET,
    };

    if (tn->fault_rate <= 0 || olsim_rng_unit(&tn->fault_rng) >= tn->fault_rate)
        return OLSIM_F_NONE;
    return menu[olsim_rng_below(&tn->fault_rng, sizeof(menu) / sizeof(menu[0]))];
}

struct olsim_ten *olsim_api_tenant(struct olsim *sim, const struct olsim_req *rq)
{
    char id[256];
    char secret[256];
    const char *p;
    char *end;
    size_t i;
    long long k;

    if (sim->ntens == 1)
        return &sim->tens[0];
    if (strcmp(rq->path, "/auth/oauth2/v2/token") == 0) {
        if (olsim_credentials(rq->auth, id, sizeof(id), secret, sizeof(secret)) == 0)
            for (i = 0; i < sim->ntens; i++)
                if (strcmp(id, sim->tens[i].client_id) == 0)
                    return &sim->tens[i];
        return &sim->tens[0];
    }
    if (!rq->auth || strncasecmp(rq->auth, "Bearer ", 7) != 0)
        return &sim->tens[0];
    p = rq->auth + 7;
    while (*p == ' ')
        p++;
    if (strlen(p) != 64 || strspn(p, "0123456789abcdef") != 64)
        return &sim->tens[0];
    k = strtoll(p + 60, &end, 16);
    if (*end != '\0' || k < 1 || (size_t)k > sim->ntens)
        return &sim->tens[0];
    return &sim->tens[k - 1];
}

void olsim_api_handle(struct olsim_ten *tn, const struct olsim_req *rq,
                      struct olsim_resp *rs)
{
    int64_t now = olsim_now_ms();
    enum olsim_fault_kind fault;
    enum olsim_route route;
    int64_t id = 0;
    int v2;

    if (strcmp(rq->path, "/auth/oauth2/v2/token") == 0) {
        rs->route = OLSIM_R_TOKEN;
        fault = olsim_fault_take(tn, rq->path);
        rs->fault = fault;
        if (olsim_fault_answer(tn, rs, fault, 0, now)) {
            rs->rl_headers = 0;
            return;
        }
        olsim_route_token(tn, rq, rs, now);
        olsim_fault_body(tn, rs, fault);
        return;
    }
    if (strcmp(rq->path, "/auth/rate_limit") == 0) {
        rs->route = OLSIM_R_RATE_LIMIT;
        if (!olsim_bearer_ok(tn, rq->auth, now)) {
            olsim_unauthorized(rs, 0);
            return;
        }
        fault = olsim_fault_take(tn, rq->path);
        rs->fault = fault;
        if (olsim_fault_answer(tn, rs, fault, 0, now))
            return;
        olsim_route_rate_limit(tn, rs, now);
        olsim_fault_body(tn, rs, fault);
        return;
    }
    if (strncmp(rq->path, "/api/", 5) != 0) {
        rs->route = OLSIM_R_OTHER;
        olsim_json_error_v1(rs, 404, "not found", "No Route Exists");
        return;
    }
    route = olsim_api_route(rq->path, &id);
    rs->route = route;
    v2 = strncmp(rq->path, "/api/2/", 7) == 0;
    if (!olsim_bearer_ok(tn, rq->auth, now)) {
        olsim_unauthorized(rs, v2);
        return;
    }
    fault = olsim_fault_take(tn, rq->path);
    if (fault == OLSIM_F_NONE)
        fault = olsim_random_fault(tn);
    rs->fault = fault;
    if (olsim_fault_answer(tn, rs, fault, v2, now))
        return;
    olsim_ratelimit_roll(tn, now);
    if (tn->rl_used >= tn->rl_limit) {
        olsim_limit_answer(tn, rs, tn->srv->cfg.limit_style, now);
        return;
    }
    tn->rl_used++;
    olsim_rl_headers(tn, rs, now);
    if (strcmp(rq->method, "GET") != 0) {
        if (v2)
            olsim_404_v2(rs);
        else
            olsim_json_error_v1(rs, 404, "not found", "No Route Exists");
        return;
    }
    switch (route) {
    case OLSIM_R_EVENTS:
        if (id)
            olsim_route_event_by_id(tn, rs, id);
        else
            olsim_route_events(tn, rq, rs, fault);
        break;
    case OLSIM_R_EVENT_TYPES:
        olsim_route_event_types(tn, rs);
        break;
    case OLSIM_R_USERS_V1:
    case OLSIM_R_USERS_V2:
    case OLSIM_R_USER_ROLES:
        olsim_route_user(tn, rs, id, route);
        break;
    case OLSIM_R_ROLES_V1:
    case OLSIM_R_ROLES_V2:
        olsim_route_role(tn, rs, id, route == OLSIM_R_ROLES_V2);
        break;
    default:
        if (v2)
            olsim_404_v2(rs);
        else
            olsim_json_error_v1(rs, 404, "not found", "No Route Exists");
        break;
    }
    olsim_fault_body(tn, rs, fault);
}
