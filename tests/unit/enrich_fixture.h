/*
 * enrich_fixture.h - the fixture of the enricher's end-to-end tests
 * (test_enrich.c): a small OneLogin tenant over HTTP and an enricher on it.
 *
 * The unit tests' HTTP fake (tests/lib/http_fake.h) on 127.0.0.1 plays the
 * tenant (token, users v1/v2, roles v1/v2, roles of a user, event types,
 * X-RateLimit-* headers that count down, 404s, 503s, a refused token) through
 * a handler; the fake records every request, holds each answer a few
 * milliseconds and counts requests in flight and connections, so a test can
 * check what went over the wire (tn_count, tn_mark, tn_stats). struct te holds
 * the tenant, the client and enricher on it, their settings, one batch and the
 * enricher's clock, which the test drives.
 */
#ifndef OLA_ENRICH_FIXTURE_H
#define OLA_ENRICH_FIXTURE_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/enrich_adapter.h"
#include "agent/onelogin/client.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "tests/lib/http_fake.h"
#include "tests/lib/unit_files.h"

/* ---- the tenant server ------------------------------------------------------- */

#define TN_MAX_USERS  64
#define TN_TOKEN_PATH "/auth/oauth2/v2/token"

struct tn_user {
    int64_t id;
    int64_t roles[4];
    int n_roles;
    int no_roles_key; /* the v2 answer lacks role_ids */
    int fail503;      /* answers 503 */
    int deleted;      /* answers 404 */
    char department[32];
};

struct tn_server {
    struct ola_fake *fake;
    pthread_mutex_t mu; /* the tenant below */
    struct tn_user users[TN_MAX_USERS];
    size_t n_users;
    int64_t role_ids[8];
    char role_names[8][32];
    int role_fail503[8]; /* the role answers 503 */
    size_t n_roles;
    json_t *tpl;   /* user-v2-200.json */
    json_t *types; /* event-types-200.json */
    long rl_limit; /* 0: no rate-limit headers */
    long rl_remaining;
    unsigned delay_ms; /* each answer to an authorized /api/ call is held this long */
    unsigned token_requests, refuse_next; /* refuse_next: 401s to give */
    unsigned n429;
    int token_gen;
};

static inline struct tn_user *tn_user(struct tn_server *s, int64_t id)
{
    size_t i;

    for (i = 0; i < s->n_users; i++)
        if (s->users[i].id == id)
            return &s->users[i];
    return NULL;
}

static inline int tn_role(const struct tn_server *s, int64_t id)
{
    size_t i;

    for (i = 0; i < s->n_roles; i++)
        if (s->role_ids[i] == id)
            return (int)i;
    return -1;
}

/* The answer to an /api/ GET (under the lock). Returns a malloc'd body. */
static inline char *tn_answer(struct tn_server *s, const char *url, unsigned *status)
{
    long long id = 0;
    char rest[32] = "";
    json_t *j = NULL;
    char *out;

    *status = 404;
    if (strcmp(url, "/api/1/events/types") == 0) {
        *status = 200;
        return json_dumps(s->types, JSON_COMPACT);
    }
    if (sscanf(url, "/api/2/users/%lld%31s", &id, rest) >= 1 && rest[0] == '\0') {
        struct tn_user *u = tn_user(s, id);
        json_t *roles = json_array();
        int k;

        if (u == NULL || u->deleted) {
            json_decref(roles);
            return strdup("{\"statusCode\":404,\"name\":\"NotFoundError\",\"message\":"
                          "\"The resource with the given id could not be found\"}");
        }
        if (u->fail503) {
            json_decref(roles);
            *status = 503;
            return strdup("<html><body>503 Service Unavailable</body></html>");
        }
        j = json_deep_copy(s->tpl);
        for (k = 0; k < u->n_roles; k++)
            json_array_append_new(roles, json_integer(u->roles[k]));
        json_object_set_new(j, "id", json_integer(id));
        json_object_set_new(j, "username", json_sprintf("user%lld", id));
        json_object_set_new(j, "email", json_sprintf("user%lld@example.com", id));
        json_object_set_new(j, "department", json_string(u->department));
        if (u->no_roles_key) {
            json_decref(roles);
            json_object_del(j, "role_ids");
        } else {
            json_object_set_new(j, "role_ids", roles);
        }
        *status = 200;
    } else if (sscanf(url, "/api/1/users/%lld%31s", &id, rest) >= 1) {
        struct tn_user *u = tn_user(s, id);
        json_t *roles = json_array(), *item;
        int k;

        if (u == NULL || u->deleted) {
            json_decref(roles);
            return strdup("{\"status\":{\"code\":404,\"error\":true,\"message\":\"User "
                          "for id 1 was not found\",\"type\":\"not found\"}}");
        }
        for (k = 0; k < u->n_roles; k++)
            json_array_append_new(roles, json_integer(u->roles[k]));
        if (strcmp(rest, "/roles") == 0) {
            j = json_pack("{s:{s:b, s:i, s:s, s:s}, s:[o]}", "status", "error", 0, "code",
                          200, "type", "success", "message", "Success", "data", roles);
        } else if (rest[0] == '\0') {
            item = json_deep_copy(s->tpl);
            json_object_del(item, "role_ids");
            json_object_set_new(item, "id", json_integer(id));
            json_object_set_new(item, "username", json_sprintf("user%lld", id));
            json_object_set_new(item, "department", json_string(u->department));
            if (u->n_roles > 0) {
                json_object_set_new(item, "role_id", roles);
            } else {
                json_decref(roles);
                json_object_set_new(item, "role_id", json_null());
            }
            j = json_pack("{s:{s:b, s:i, s:s, s:s}, s:[o]}", "status", "error", 0, "code",
                          200, "type", "success", "message", "Success", "data", item);
        } else {
            json_decref(roles);
            return strdup("{}");
        }
        *status = 200;
    } else if (sscanf(url, "/api/%*d/roles/%lld", &id) == 1) {
        int r = tn_role(s, id);

        if (r < 0)
            return strdup("{\"statusCode\":404,\"name\":\"NotFoundError\","
                          "\"message\":\"no such role\"}");
        if (s->role_fail503[r]) {
            *status = 503;
            return strdup("<html><body>503 Service Unavailable</body></html>");
        }
        if (strncmp(url, "/api/2/", 7) == 0)
            j = json_pack("{s:I, s:s, s:[], s:[], s:[]}", "id", (json_int_t)id, "name",
                          s->role_names[r], "admins", "apps", "users");
        else
            j = json_pack("{s:{s:b, s:i, s:s, s:s}, s:[{s:I, s:s}]}", "status", "error",
                          0, "code", 200, "type", "success", "message", "Success", "data",
                          "id", (json_int_t)id, "name", s->role_names[r]);
        *status = 200;
    } else {
        return strdup("{}");
    }
    out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

/* Fills the fake's answer a. body: malloc'd (owned by a from now on), or NULL. */
static inline int tn_send(struct ola_fake_answer *a, unsigned status, char *body,
                          const struct tn_server *s, long remaining, bool metered)
{
    char v[32];
    int rc = 0;

    if (body == NULL)
        return -1;
    a->status = (int)status;
    a->body = body;
    a->len = strlen(body);
    rc |= ola_fake_answer_header(a, "Content-Type",
                                 body[0] == '<' ? "text/html" : "application/json");
    if (metered && s->rl_limit > 0) {
        snprintf(v, sizeof(v), "%ld", s->rl_limit);
        rc |= ola_fake_answer_header(a, "X-RateLimit-Limit", v);
        snprintf(v, sizeof(v), "%ld", remaining);
        rc |= ola_fake_answer_header(a, "X-RateLimit-Remaining", v);
        rc |= ola_fake_answer_header(a, "X-RateLimit-Reset", "600");
    }
    return rc;
}

/* The fake's handler: the tenant's answer to rq (on a server thread). */
static inline int tn_handler(void *arg, const struct ola_fake_req *rq,
                             struct ola_fake_answer *a)
{
    struct tn_server *s = arg;
    const char *auth;
    char want[64], *body;
    unsigned status;
    long remaining = 0;

    pthread_mutex_lock(&s->mu);
    if (strcmp(rq->path, TN_TOKEN_PATH) == 0 && strcmp(rq->method, "POST") == 0) {
        char created[40];
        time_t now = time(NULL);
        struct tm tm;

        s->token_requests++;
        s->token_gen++;
        gmtime_r(&now, &tm);
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        body = malloc(256);
        if (body != NULL)
            snprintf(body, 256,
                     "{\"access_token\":\"tok%d\",\"created_at\":\"%s\","
                     "\"expires_in\":36000,\"token_type\":\"bearer\"}",
                     s->token_gen, created);
        pthread_mutex_unlock(&s->mu);
        return tn_send(a, 200, body, s, 0, false);
    }
    snprintf(want, sizeof(want), "Bearer tok%d", s->token_gen);
    auth = ola_fake_header(rq, "Authorization");
    if (auth == NULL || strcmp(auth, want) != 0 || s->refuse_next > 0) {
        if (s->refuse_next > 0)
            s->refuse_next--;
        pthread_mutex_unlock(&s->mu);
        return tn_send(
            a, 401,
            strdup("{\"status\":{\"error\":true,\"code\":401,\"type\":"
                   "\"Unauthorized\",\"message\":\"Authentication Failure\"}}"),
            s, 0, false);
    }
    if (s->rl_limit > 0) {
        if (s->rl_remaining <= 0) {
            s->n429++;
            pthread_mutex_unlock(&s->mu);
            return tn_send(a, 429,
                           strdup("{\"status\":{\"error\":true,\"code\":429,\"type\":"
                                  "\"Too Many Requests\",\"message\":\"rate limited\"}}"),
                           s, 0, true);
        }
        remaining = --s->rl_remaining;
    }
    body = tn_answer(s, rq->path, &status);
    a->delay_ms = s->delay_ms;
    pthread_mutex_unlock(&s->mu);
    return tn_send(a, status, body, s, remaining, true);
}

static inline void tn_start(struct tn_server *s)
{
    struct ola_fake_opts o = {0};
    struct ola_err err = {0};

    memset(s, 0, sizeof(*s));
    assert_int_equal(pthread_mutex_init(&s->mu, NULL), 0);
    s->tpl = ola_test_onelogin_json("user-v2-200.json");
    s->types = ola_test_onelogin_json("event-types-200.json");
    s->delay_ms = 15;
    o.handler = tn_handler;
    o.handler_arg = s;
    o.send_date = true;
    if (ola_fake_start(&o, &s->fake, &err) != 0)
        fail_msg("%s", err.msg);
}

static inline void tn_stop(struct tn_server *s)
{
    ola_fake_stop(s->fake);
    json_decref(s->tpl);
    json_decref(s->types);
    pthread_mutex_destroy(&s->mu);
}

static inline void tn_add_user(struct tn_server *s, int64_t id, int n_roles, ...)
{
    struct tn_user *u = &s->users[s->n_users++];
    va_list ap;
    int k;

    assert_true(s->n_users <= TN_MAX_USERS);
    memset(u, 0, sizeof(*u));
    u->id = id;
    u->n_roles = n_roles;
    va_start(ap, n_roles);
    for (k = 0; k < n_roles; k++)
        u->roles[k] = va_arg(ap, int64_t);
    va_end(ap);
    snprintf(u->department, sizeof(u->department), "Dept%d", (int)(id % 7));
}

static inline void tn_add_role(struct tn_server *s, int64_t id, const char *name)
{
    s->role_ids[s->n_roles] = id;
    snprintf(s->role_names[s->n_roles], sizeof(s->role_names[0]), "%s", name);
    s->n_roles++;
}

/*
 * The tenant's log: the requests other than for a token, in arrival order
 * (the fake records those too). tn_mark: how many so far; tn_count: those
 * from the mark on whose path starts with prefix.
 */
static inline unsigned tn_count(struct tn_server *s, size_t mark, const char *prefix)
{
    const struct ola_fake_req *rq;
    unsigned n = 0;
    size_t i, k = 0;

    for (i = 0; (rq = ola_fake_seen(s->fake, i)) != NULL; i++) {
        if (strcmp(rq->path, TN_TOKEN_PATH) == 0 && strcmp(rq->method, "POST") == 0)
            continue;
        if (k++ >= mark && strncmp(rq->path, prefix, strlen(prefix)) == 0)
            n++;
    }
    return n;
}

static inline size_t tn_mark(struct tn_server *s)
{
    return tn_count(s, 0, "");
}

static inline struct ola_fake_stats tn_stats(struct tn_server *s)
{
    struct ola_fake_stats st;

    ola_fake_stats(s->fake, &st);
    return st;
}

/* A tenant of 20 users (ids 1001..1020) over 3 roles; user 1020 is deleted. */
static inline void tn_tenant(struct tn_server *s)
{
    int64_t id;

    tn_add_role(s, 501, "Employee");
    tn_add_role(s, 502, "Admin");
    tn_add_role(s, 503, "Sales");
    for (id = 1001; id <= 1020; id++) {
        if (id % 3 == 0)
            tn_add_user(s, id, 2, (int64_t)501, (int64_t)502);
        else
            tn_add_user(s, id, 1, (int64_t)501);
    }
    tn_user(s, 1020)->deleted = 1;
}

/* ---- the enricher's fixture ---------------------------------------------------- */

struct te {
    struct tn_server srv;
    struct ola_ol_client *client;
    struct ola_enricher *en;
    struct ola_enrich_settings o;
    struct ola_batch b;
    int64_t now; /* the enricher's monotonic clock, driven by the test */
};

static inline void te_settings(struct ola_enrich_settings *o)
{
    memset(o, 0, sizeof(*o));
    o->users = true;
    o->roles = true;
    o->event_types = true;
    o->concurrency = 4;
    o->api_version = 2;
    o->timeout_ms = 5000;
    o->reserve = 0.2;
    o->cache_entries = 10000;
    o->cache_ttl_ms = 15 * 60000;
    o->cache_negative_ms = 5 * 60000;
}

/* Client and enricher on the server, with settings o (the fixture's). */
static inline void te_open(struct te *t)
{
    struct ola_err err = {0, ""};
    struct ola_enrich_api api;
    struct ola_ol_opts oo;
    char base[64];

    snprintf(base, sizeof(base), "%s", ola_fake_url(t->srv.fake));
    memset(&oo, 0, sizeof(oo));
    oo.base_url = base;
    oo.client_id = "id";
    oo.client_secret = "secret";
    oo.timeout_ms = 5000;
    oo.reserve = t->o.reserve > 0 ? t->o.reserve : 0.2;
    if (ola_ol_client_new(&oo, &t->client, &err) != 0)
        fail_msg("client: %s", err.msg);
    if (ola_enricher_new(&t->o, ola_enrich_onelogin_api(t->client, &api), &t->en, &err) !=
        0)
        fail_msg("enricher: %s", err.msg);
}

static inline int te_setup(void **state)
{
    struct te *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    tn_start(&t->srv);
    tn_tenant(&t->srv);
    te_settings(&t->o);
    ola_batch_init(&t->b);
    t->now = 1000000;
    *state = t;
    return 0;
}

static inline int te_teardown(void **state)
{
    struct te *t = *state;

    ola_batch_free(&t->b);
    ola_enricher_destroy(t->en);
    ola_ol_client_destroy(t->client);
    tn_stop(&t->srv);
    free(t);
    return 0;
}

/* Appends an event: type, user, actor (0: none), role (0: none). */
static inline struct ola_event *te_event(struct te *t, long long type, long long user,
                                         long long actor, long long role)
{
    json_t *ev = json_pack("{s:I, s:I, s:I, s:s}", "id", (json_int_t)(t->b.n + 1),
                           "event_type_id", (json_int_t)type, "user_id", (json_int_t)user,
                           "user_name", "Event Name");
    struct ola_event *e;

    assert_non_null(ev);
    if (actor != 0) {
        json_object_set_new(ev, "actor_user_id", json_integer(actor));
        json_object_set_new(ev, "actor_user_name", json_string("Actor Name"));
    } else {
        json_object_set_new(ev, "actor_user_id", json_null());
    }
    if (role != 0) {
        json_object_set_new(ev, "role_id", json_integer(role));
        json_object_set_new(ev, "role_name", json_string("Role Name"));
    }
    e = ola_batch_add(&t->b, OLA_REC_EVENT, ev, NULL, 0);
    assert_non_null(e);
    return e;
}

static inline void te_run(struct te *t, struct ola_catalog *cat)
{
    struct ola_enrich_types types;

    assert_int_equal(
        ola_enrich_batch(t->en, &t->b, ola_enrich_catalog_types(cat, &types), t->now), 0);
}

static inline const json_t *te_ola(const struct ola_event *e, const char *slot)
{
    return json_object_get(e->ola, slot);
}

static inline const char *te_enrichment(const struct ola_event *e)
{
    return json_string_value(json_object_get(e->ola, "enrichment"));
}

/* The user object is what the server says about user id. */
static inline void te_check_user(const json_t *u, long long id, int n_roles)
{
    char want[64];
    const json_t *roles = json_object_get(u, "roles");

    assert_non_null(u);
    assert_int_equal(json_integer_value(json_object_get(u, "id")), id);
    snprintf(want, sizeof(want), "user%lld", id);
    assert_string_equal(json_string_value(json_object_get(u, "username")), want);
    snprintf(want, sizeof(want), "Dept%d", (int)(id % 7));
    assert_string_equal(json_string_value(json_object_get(u, "department")), want);
    assert_string_equal(json_string_value(json_object_get(u, "status_name")), "locked");
    assert_int_equal(json_array_size(roles), n_roles);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(roles, 0), "id")),
                     501);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(roles, 0), "name")), "Employee");
    if (n_roles > 1)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(roles, 1), "name")),
            "Admin");
}

#endif
