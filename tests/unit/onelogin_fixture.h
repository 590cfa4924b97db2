/*
 * onelogin_fixture.h - the fixture of the OneLogin client tests
 * (test_onelogin.c, test_onelogin_classify.c): the recorded bodies, the
 * scripted HTTP server and one client per test.
 *
 * Each test starts the unit tests' HTTP fake (tests/lib/http_fake.h) on
 * 127.0.0.1 and scripts its answers: one route for the token endpoint, one for
 * everything else. Bodies come from the recorded fixtures in
 * $OLA_DATA_DIR/onelogin (the body of a recorded exchange, or the whole file).
 * The fake records every request (headers, body); the teardown checks that
 * every token request was well formed and nothing went unscripted.
 */
#ifndef OLA_ONELOGIN_FIXTURE_H
#define OLA_ONELOGIN_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/timeutil.h"
#include "agent/onelogin/client.h"
#include "tests/lib/http_fake.h"
#include "tests/lib/unit_files.h"

#define TS_CLIENT_ID     "test-client"
#define TS_CLIENT_SECRET "test-secret-XYZ"
/* base64("test-client:test-secret-XYZ") */
#define TS_BASIC      "Basic dGVzdC1jbGllbnQ6dGVzdC1zZWNyZXQtWFla"
#define TS_TOKEN_PATH "/auth/oauth2/v2/token"

/* HAProxy's built-in 429 page: what the recorded 117-byte text/html 429 was. */
static const char ts_haproxy_429[] =
    "<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a "
    "given amount of time.\n</body></html>\n";

struct ts_server {
    struct ola_fake *fake;
};

struct ts_fix {
    struct ts_server srv;
    struct ola_ol_client *c;
    struct ola_ol_response r;
    char base[64];
};

/* ---- fixtures -------------------------------------------------------------- */

static inline char *fx_dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

    assert_non_null(s);
    return s;
}

/* The response body of a fixture: the recorded body, or the whole file. */
static inline char *fx_body(const char *name)
{
    json_t *j = ola_test_onelogin_json(name);
    json_t *resp = json_object_get(j, "response");
    char *s;

    if (resp != NULL) {
        json_t *b = json_object_get(resp, "body");

        s = json_is_null(b) || b == NULL ? NULL : fx_dump(b);
    } else {
        s = fx_dump(j);
    }
    json_decref(j);
    return s;
}

/* The recorded status of an exchange fixture. */
static inline int fx_status(const char *name)
{
    json_t *j = ola_test_onelogin_json(name);
    int st = (int)json_integer_value(
        json_object_get(json_object_get(j, "response"), "status"));

    json_decref(j);
    return st;
}

/*
 * A token body in the shape of token-v2-200-reused.json with its own
 * access_token and created_at = now + created_rel_ms (omitted if drop_created).
 */
static inline char *fx_token(const char *token, int64_t created_rel_ms, bool drop_created)
{
    json_t *j = ola_test_onelogin_json("token-v2-200-reused.json");
    json_t *b = json_object_get(json_object_get(j, "response"), "body");
    char iso[OLA_ISO_MAX];
    char *s;

    assert_non_null(b);
    assert_int_equal(json_integer_value(json_object_get(b, "expires_in")), 36000);
    assert_int_equal(json_object_set_new(b, "access_token", json_string(token)), 0);
    if (drop_created) {
        assert_int_equal(json_object_del(b, "created_at"), 0);
    } else {
        assert_int_equal(
            ola_time_format_iso(ola_now_ms() + created_rel_ms, iso, sizeof(iso)), 0);
        assert_int_equal(json_object_set_new(b, "created_at", json_string(iso)), 0);
    }
    s = fx_dump(b);
    json_decref(j);
    return s;
}

/* fx_token with expires_in replaced by life_s. */
static inline char *fx_token_life(const char *token, int64_t created_rel_ms,
                                  json_int_t life_s)
{
    char *body = fx_token(token, created_rel_ms, false), *s;
    json_t *j = json_loads(body, 0, NULL);

    assert_non_null(j);
    assert_int_equal(json_object_set_new(j, "expires_in", json_integer(life_s)), 0);
    s = fx_dump(j);
    json_decref(j);
    free(body);
    return s;
}

static inline char *ts_strdup(const char *s)
{
    char *p = strdup(s);

    assert_non_null(p);
    return p;
}

/* ---- the scripted server --------------------------------------------------- */

/*
 * Scripts one answer: the token route's or the one for every other path.
 * body: owned (may be NULL). Then name, value pairs, NULL. Returns the answer
 * (owned by the fake) to set a fault mode on.
 */
static inline struct ola_fake_answer *ts_push(struct ts_server *s, bool token, int status,
                                              char *body, ...)
{
    struct ola_fake_answer *a;
    va_list ap;

    va_start(ap, body);
    a = ola_fake_vpush(s->fake, token ? TS_TOKEN_PATH : "", status, body, ap);
    va_end(ap);
    assert_non_null(a);
    return a;
}

static inline void ts_start(struct ts_server *s)
{
    struct ola_fake_opts o = {0};
    struct ola_err err = {0};

    if (ola_fake_start(&o, &s->fake, &err) != 0)
        fail_msg("%s", err.msg);
}

/*
 * Every token request was a POST of {"grant_type":"client_credentials"} as
 * JSON with the client's Basic credentials, and nothing else sent a body.
 */
static inline unsigned ts_bad_token_requests(struct ts_server *s)
{
    static const char body_want[] = "{\"grant_type\":\"client_credentials\"}";
    const struct ola_fake_req *rq;
    const char *auth, *ctype;
    unsigned bad = 0;
    size_t i;

    for (i = 0; (rq = ola_fake_seen(s->fake, i)) != NULL; i++) {
        bool is_token = strcmp(rq->path, TS_TOKEN_PATH) == 0;

        if (rq->body_len > 0 && (!is_token || rq->body_len != sizeof(body_want) - 1 ||
                                 memcmp(rq->body, body_want, rq->body_len) != 0))
            bad++;
        if (!is_token)
            continue;
        auth = ola_fake_header(rq, "Authorization");
        ctype = ola_fake_header(rq, "Content-Type");
        if (strcmp(rq->method, "POST") != 0 || auth == NULL ||
            strcmp(auth, TS_BASIC) != 0 || ctype == NULL ||
            strncmp(ctype, "application/json", 16) != 0)
            bad++;
    }
    return bad;
}

/* The Authorization header ("" without one) of the last request not for a token. */
static inline const char *ts_last_bearer(struct ts_server *s)
{
    const struct ola_fake_req *rq = ola_fake_last(s->fake, "");
    const char *auth = rq ? ola_fake_header(rq, "Authorization") : NULL;

    return auth ? auth : "";
}

/* The path of the last request not for a token ("" before any). */
static inline const char *ts_last_path(struct ts_server *s)
{
    const struct ola_fake_req *rq = ola_fake_last(s->fake, "");

    return rq ? rq->path : "";
}

static inline unsigned ts_connections(struct ts_server *s)
{
    struct ola_fake_stats st;

    ola_fake_stats(s->fake, &st);
    return st.connections;
}

#define TS_TOKENS(f) ola_fake_count((f)->srv.fake, 0, TS_TOKEN_PATH)
#define TS_CALLS(f)                                                                      \
    ((unsigned)ola_fake_requests((f)->srv.fake) -                                        \
     ola_fake_count((f)->srv.fake, 0, TS_TOKEN_PATH))

/* ---- per-test setup ---------------------------------------------------------- */

static inline int fix_open(struct ts_fix *f, int64_t timeout_ms)
{
    struct ola_ol_opts o = {0};
    struct ola_err err = {0};

    snprintf(f->base, sizeof(f->base), "%s", ola_fake_url(f->srv.fake));
    o.base_url = f->base;
    o.client_id = TS_CLIENT_ID;
    o.client_secret = TS_CLIENT_SECRET;
    o.timeout_ms = timeout_ms;
    o.reserve = 0.2;
    if (ola_ol_client_new(&o, &f->c, &err) != 0)
        fail_msg("client_new: %s", err.msg);
    ola_ol_response_init(&f->r);
    return 0;
}

static inline int fix_setup(void **state)
{
    struct ts_fix *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    ts_start(&f->srv);
    fix_open(f, 5000);
    *state = f;
    return 0;
}

static inline int fix_teardown(void **state)
{
    struct ts_fix *f = *state;
    struct ola_fake_stats st;

    ola_ol_response_free(&f->r);
    ola_ol_client_destroy(f->c);
    ola_fake_stats(f->srv.fake, &st);
    assert_int_equal(ts_bad_token_requests(&f->srv), 0);
    assert_int_equal(st.unscripted, 0);
    ola_fake_stop(f->srv.fake);
    free(f);
    return 0;
}

/* Neither the secret nor any token the server handed out may leak. */
static inline void assert_no_secret(const char *s)
{
    assert_null(strstr(s, TS_CLIENT_SECRET));
    assert_null(strstr(s, "tok-"));
    assert_null(strstr(s, "Bearer"));
}

static inline enum ola_ol_status fix_get(struct ts_fix *f, const char *path,
                                         enum ola_ol_priority prio)
{
    enum ola_ol_status st = ola_ol_get(f->c, path, prio, &f->r);

    assert_no_secret(f->r.reason);
    return st;
}

#endif
