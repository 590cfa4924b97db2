/*
 * test_onelogin.c - the OneLogin client against a scripted HTTP server.
 *
 * Each test starts the unit tests' HTTP fake (tests/lib/http_fake.h) on
 * 127.0.0.1 and scripts its answers: one route for the token endpoint, one for
 * everything else. Bodies come from the recorded fixtures in
 * $OLA_DATA_DIR/onelogin (the body of a recorded exchange, or the whole file).
 * The fake records every request (headers, body) and counts connections, so
 * the tests check what went over the wire: how many token requests, which
 * bearer, whether the connection was reused. The pure parts (classification,
 * HTTP wrapper limits, URL checks) are tested directly too.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/timeutil.h"
#include "agent/onelogin/classify.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/http.h"
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

static char *fx_dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

    assert_non_null(s);
    return s;
}

/* The response body of a fixture: the recorded body, or the whole file. */
static char *fx_body(const char *name)
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
static int fx_status(const char *name)
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
static char *fx_token(const char *token, int64_t created_rel_ms, bool drop_created)
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
static char *fx_token_life(const char *token, int64_t created_rel_ms, json_int_t life_s)
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

static char *ts_strdup(const char *s)
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
static struct ola_fake_answer *ts_push(struct ts_server *s, bool token, int status,
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

static void ts_start(struct ts_server *s)
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
static unsigned ts_bad_token_requests(struct ts_server *s)
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
static const char *ts_last_bearer(struct ts_server *s)
{
    const struct ola_fake_req *rq = ola_fake_last(s->fake, "");
    const char *auth = rq ? ola_fake_header(rq, "Authorization") : NULL;

    return auth ? auth : "";
}

/* The path of the last request not for a token ("" before any). */
static const char *ts_last_path(struct ts_server *s)
{
    const struct ola_fake_req *rq = ola_fake_last(s->fake, "");

    return rq ? rq->path : "";
}

static unsigned ts_connections(struct ts_server *s)
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

static int fix_open(struct ts_fix *f, int64_t timeout_ms)
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

static int fix_setup(void **state)
{
    struct ts_fix *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    ts_start(&f->srv);
    fix_open(f, 5000);
    *state = f;
    return 0;
}

static int fix_teardown(void **state)
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
static void assert_no_secret(const char *s)
{
    assert_null(strstr(s, TS_CLIENT_SECRET));
    assert_null(strstr(s, "tok-"));
    assert_null(strstr(s, "Bearer"));
}

static enum ola_ol_status fix_get(struct ts_fix *f, const char *path,
                                  enum ola_ol_priority prio)
{
    enum ola_ol_status st = ola_ol_get(f->c, path, prio, &f->r);

    assert_no_secret(f->r.reason);
    return st;
}

#define FIVE_HOURS_MS (5LL * 3600 * 1000)
#define TEN_HOURS_MS  (36000LL * 1000)

/* ---- token ----------------------------------------------------------------- */

static void test_token_reused_until_expiry(void **state)
{
    struct ts_fix *f = *state;
    int i;

    /* created 5 h ago, as in the recording: 5 h left although expires_in says 10 h */
    ts_push(&f->srv, true, 200, fx_token("tok-a", -FIVE_HOURS_MS, false), "Content-Type",
            "application/json; charset=utf-8", NULL);
    for (i = 0; i < 3; i++) {
        ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "Content-Type",
                "application/json", NULL);
        assert_int_equal(fix_get(f, "/api/1/events?limit=50", OLA_OL_PRIO_POLL),
                         OLA_OL_OK);
        assert_int_equal(f->r.http_status, 200);
        assert_non_null(strstr(f->r.body.data, "aftercursor123"));
    }
    assert_int_equal(TS_TOKENS(f), 1);
    assert_int_equal(TS_CALLS(f), 3);
    assert_string_equal(ts_last_bearer(&f->srv), "Bearer tok-a");
    assert_string_equal(ts_last_path(&f->srv), "/api/1/events");
    assert_true(ola_ol_token_valid(f->c));
    /* one keep-alive connection carried all four requests */
    assert_int_equal(ts_connections(&f->srv), 1);
    assert_int_equal(ola_ol_counters(f->c)->requests, 4);
    assert_int_equal(ola_ol_counters(f->c)->token_requests, 1);
}

static void test_token_expiring_within_margin(void **state)
{
    struct ts_fix *f = *state;

    /* created_at + expires_in is 30 s away: inside the 60 s margin, so expired */
    ts_push(&f->srv, true, 200, fx_token("tok-a", -TEN_HOURS_MS + 30000, false), NULL);
    ts_push(&f->srv, true, 200, fx_token("tok-b", -TEN_HOURS_MS + 30000, false), NULL);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), NULL);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_false(ola_ol_token_valid(f->c));
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_int_equal(TS_TOKENS(f), 2);
    assert_string_equal(ts_last_bearer(&f->srv), "Bearer tok-b");
}

static void test_token_short_lifetime(void **state)
{
    struct ts_fix *f = *state;
    int i;

    /* expires_in 30: renewed 3 s early (a tenth), not on every call (60 s margin) */
    ts_push(&f->srv, true, 200, fx_token_life("tok-a", 0, 30), NULL);
    for (i = 0; i < 3; i++) {
        ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), NULL);
        assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    }
    assert_int_equal(TS_TOKENS(f), 1);
    assert_int_equal(TS_CALLS(f), 3);
    assert_true(ola_ol_token_valid(f->c));
    /* 24 s into its 30: still good; 28 s in: inside the 3 s margin */
    ts_push(&f->srv, true, 200, fx_token_life("tok-b", -24000, 30), NULL);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_OK);
    assert_true(ola_ol_token_valid(f->c));
    ts_push(&f->srv, true, 200, fx_token_life("tok-c", -28000, 30), NULL);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_OK);
    assert_false(ola_ol_token_valid(f->c));
    /* an expiring token is fetched once per call, and that call uses it */
    ts_push(&f->srv, true, 200, fx_token_life("tok-d", -28000, 30), NULL);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_string_equal(ts_last_bearer(&f->srv), "Bearer tok-d");
    assert_int_equal(TS_TOKENS(f), 4);
}

static void test_token_lifetime_clamped(void **state)
{
    struct ts_fix *f = *state;

    /* a lifetime of 31,000 years counts as 24 h: created 25 h ago, so expired */
    ts_push(&f->srv, true, 200,
            fx_token_life("tok-a", -25 * 3600 * 1000LL, 1000000000000LL), NULL);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_OK);
    assert_false(ola_ol_token_valid(f->c));
    /* the largest expires_in does not wrap the expiry into the past */
    ts_push(&f->srv, true, 200, fx_token_life("tok-b", 0, INT64_MAX), NULL);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_OK);
    assert_true(ola_ol_token_valid(f->c));
    /* zero or negative: not a token */
    ts_push(&f->srv, true, 200, fx_token_life("tok-c", 0, 0), NULL);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_RETRY);
    assert_non_null(strstr(f->r.reason, "expires_in"));
    assert_int_equal(TS_TOKENS(f), 3);
}

static void test_token_recorded_created_at(void **state)
{
    struct ts_fix *f = *state;

    /*
     * The recorded body as is: created 2021, so long expired by created_at
     * although the answer just arrived (receipt time would call it valid).
     */
    ts_push(&f->srv, true, 200, fx_body("token-v2-200.json"), NULL);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_OK);
    assert_false(ola_ol_token_valid(f->c));
    assert_int_equal(f->r.body.len, 0); /* the token never lands in r */
    /* without created_at, the receipt time counts: valid for 10 h */
    ts_push(&f->srv, true, 200, fx_token("tok-c", 0, true), NULL);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_OK);
    assert_true(ola_ol_token_valid(f->c));
    assert_int_equal(TS_TOKENS(f), 2);
}

static void test_refresh_once_on_401(void **state)
{
    struct ts_fix *f = *state;

    ts_push(&f->srv, true, 200, fx_token("tok-old", -FIVE_HOURS_MS, false), NULL);
    ts_push(&f->srv, true, 200, fx_token("tok-new", -1000, false), NULL);
    ts_push(&f->srv, false, fx_status("error-v1-401.json"), fx_body("error-v1-401.json"),
            "Content-Type", "application/json; charset=utf-8", NULL);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_int_equal(TS_TOKENS(f), 2);
    assert_int_equal(TS_CALLS(f), 2);
    assert_string_equal(ts_last_bearer(&f->srv), "Bearer tok-new");
    assert_true(ola_ol_token_valid(f->c));
}

static void test_second_401_is_auth(void **state)
{
    struct ts_fix *f = *state;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, true, 200, fx_token("tok-2", -1000, false), NULL);
    ts_push(&f->srv, false, 401, fx_body("error-v1-401.json"), NULL);
    ts_push(&f->srv, false, 401, fx_body("error-v2-401.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_AUTH);
    assert_non_null(strstr(f->r.reason, "rejected the access token twice"));
    assert_int_equal(f->r.http_status, 401);
    assert_int_equal(TS_TOKENS(f), 2);
    assert_int_equal(TS_CALLS(f), 2);
    assert_false(ola_ol_token_valid(f->c));
}

static void test_insufficient_permission(void **state)
{
    struct ts_fix *f = *state;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, false, 401, fx_body("error-v1-401-insufficient-permission.json"),
            NULL);
    assert_int_equal(fix_get(f, "/api/1/users/1/roles", OLA_OL_PRIO_LOOKUP), OLA_OL_AUTH);
    assert_non_null(strstr(f->r.reason, "Read All"));
    assert_non_null(strstr(f->r.reason, "Manage All"));
    /* no refresh: a new token has the same scope */
    assert_int_equal(TS_TOKENS(f), 1);
    assert_int_equal(TS_CALLS(f), 1);
}

static void test_bad_credentials_backoff(void **state)
{
    struct ts_fix *f = *state;
    int i;

    ts_push(&f->srv, true, fx_status("token-v2-401-bad-secret.json"),
            fx_body("token-v2-401-bad-secret.json"), "Content-Type",
            "application/json; charset=utf-8", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_AUTH);
    assert_non_null(
        strstr(f->r.reason, "check onelogin.client_id and onelogin.client_secret"));
    assert_int_equal(TS_TOKENS(f), 1);
    assert_int_equal(TS_CALLS(f), 0);
    /* a caller looping on it sends nothing more during the backoff */
    for (i = 0; i < 5; i++) {
        assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_AUTH);
        assert_true(f->r.retry_after_ms > 0);
        assert_non_null(strstr(f->r.reason, "client_secret"));
        assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_AUTH);
        assert_no_secret(f->r.reason);
    }
    assert_int_equal(TS_TOKENS(f), 1);
    assert_int_equal(ola_ol_counters(f->c)->token_requests, 1);
    assert_int_equal(ola_ol_counters(f->c)->requests, 1);
}

/*
 * The token backoff is the one backoff with its ceiling as a floor: after
 * the first failure the next token request waits 2.5 to 5 s, never 0.
 */
static void test_token_backoff_bounds(void **state)
{
    struct ts_fix *f = *state;
    int64_t t0, t1;

    ts_push(&f->srv, true, fx_status("token-v2-401-bad-secret.json"),
            fx_body("token-v2-401-bad-secret.json"), "Content-Type",
            "application/json; charset=utf-8", NULL);
    t0 = ola_mono_ms();
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_AUTH);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_AUTH);
    t1 = ola_mono_ms();
    assert_true(f->r.retry_after_ms >= 2500 - (t1 - t0));
    assert_true(f->r.retry_after_ms <= 5000);
    assert_non_null(strstr(f->r.reason, "next token request in"));
    assert_int_equal(TS_TOKENS(f), 1);
}

/* A Retry-After on a failed token request longer than the backoff wins. */
static void test_token_backoff_retry_after(void **state)
{
    struct ts_fix *f = *state;
    int64_t t0, t1;

    ts_push(&f->srv, true, 503, ts_strdup("<html>down for maintenance</html>"),
            "Content-Type", "text/html", "Retry-After", "30", NULL);
    t0 = ola_mono_ms();
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_RETRY);
    assert_int_equal(f->r.retry_after_ms, 30000);
    /* the next one sends nothing: the failure stands until the server said */
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    t1 = ola_mono_ms();
    assert_true(f->r.retry_after_ms >= 30000 - (t1 - t0));
    assert_true(f->r.retry_after_ms <= 30000);
    assert_int_equal(f->r.http_status, 503);
    assert_int_equal(TS_TOKENS(f), 1);
    assert_int_equal(TS_CALLS(f), 0);
}

/* ---- rate limits ------------------------------------------------------------- */

static void test_429_html_no_headers(void **state)
{
    struct ts_fix *f = *state;
    int64_t first;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    /* the recorded 429: text/html, no Date, no Retry-After, no X-RateLimit-* */
    assert_int_equal(fx_status("token-v2-429-burst.json"), 429);
    ts_push(&f->srv, false, 429, ts_strdup(ts_haproxy_429), "Content-Type", "text/html",
            "Cache-Control", "no-cache", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_true(f->r.rate_limited);
    assert_int_equal(f->r.http_status, 429);
    first = f->r.retry_after_ms;
    assert_in_range(first, 500, 1500); /* 1 s backoff, jittered */
    assert_int_equal(ola_ol_counters(f->c)->rate_limited, 1);
    assert_int_equal(ola_ol_counters(f->c)->retries, 1);
    /* until then nothing goes out: polls get RETRY, lookups DEFERRED */
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_true(f->r.rate_limited);
    assert_in_range(f->r.retry_after_ms, 1, first);
    assert_int_equal(fix_get(f, "/api/2/users/1", OLA_OL_PRIO_LOOKUP), OLA_OL_DEFERRED);
    assert_int_equal(ola_ol_authenticate(f->c, &f->r), OLA_OL_RETRY);
    assert_int_equal(TS_CALLS(f), 1);
    assert_int_equal(TS_TOKENS(f), 1);
}

static void test_429_with_reset(void **state)
{
    struct ts_fix *f = *state;
    struct ola_ol_rate rate;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, false, 429, NULL, "X-RateLimit-Limit", "5000",
            "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "7", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_true(f->r.rate_limited);
    assert_in_range(f->r.retry_after_ms, 6000, 7000);
    ola_ol_rate(f->c, &rate);
    assert_int_equal(rate.limit, 5000);
    assert_int_equal(rate.remaining, 0);
}

static void test_400_rate_limit_exceeded(void **state)
{
    struct ts_fix *f = *state;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, false, 400,
            ts_strdup("{\"status\":{\"error\":true,\"code\":400,\"type\":\"bad request\","
                      "\"message\":\"rate_limit_exceeded\"}}"),
            "Retry-After", "12", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_true(f->r.rate_limited);
    assert_in_range(f->r.retry_after_ms, 11000, 12000);
    assert_non_null(strstr(f->r.reason, "rate_limit_exceeded"));
    assert_int_equal(ola_ol_counters(f->c)->rate_limited, 1);
}

/* The 400's body carries no reset: the last headers said when the window ends. */
static void test_400_rate_limit_exceeded_last_reset(void **state)
{
    struct ts_fix *f = *state;
    int64_t before = ola_mono_ms();

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "X-RateLimit-Limit",
            "5000", "X-RateLimit-Remaining", "3000", "X-RateLimit-Reset", "40", NULL);
    ts_push(&f->srv, false, 400,
            ts_strdup("{\"status\":{\"error\":true,\"code\":400,\"type\":\"bad request\","
                      "\"message\":\"rate_limit_exceeded\"}}"),
            NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_true(f->r.rate_limited);
    assert_in_range(f->r.retry_after_ms, 40000 - (ola_mono_ms() - before) - 10, 40000);
}

static void test_rate_headers_and_reserve(void **state)
{
    struct ts_fix *f = *state;
    struct ola_ol_rate rate;
    int64_t before = ola_mono_ms();

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    /* header values are strings on the wire */
    ts_push(&f->srv, false, 200, fx_body("rate-limit-200.json"), "X-RateLimit-Limit",
            "5000", "X-RateLimit-Remaining", "4988", "X-RateLimit-Reset", "832", NULL);
    assert_int_equal(fix_get(f, "/auth/rate_limit", OLA_OL_PRIO_POLL), OLA_OL_OK);
    ola_ol_rate(f->c, &rate);
    assert_int_equal(rate.limit, 5000);
    assert_int_equal(rate.remaining, 4988);
    assert_in_range(rate.reset_at_mono_ms, before + 832000, ola_mono_ms() + 832000);

    /* 100 a window, 20 left, reserve 0.2: lookups must leave the 20 to polling */
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "X-RateLimit-Limit",
            "100", "X-RateLimit-Remaining", "20", "X-RateLimit-Reset", "600", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_int_equal(fix_get(f, "/api/1/users/1", OLA_OL_PRIO_LOOKUP), OLA_OL_DEFERRED);
    assert_in_range(f->r.retry_after_ms, 590000, 600000);
    assert_false(f->r.rate_limited);
    assert_int_equal(TS_CALLS(f), 2);
    /* a poll still goes out */
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "X-RateLimit-Limit",
            "100", "X-RateLimit-Remaining", "19", "X-RateLimit-Reset", "599", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_int_equal(TS_CALLS(f), 3);
}

static void test_pacing_through_client(void **state)
{
    struct ts_fix *f = *state;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    /* 5 of 100 left, 600 s to the reset: one call every ~100 s */
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "X-RateLimit-Limit",
            "100", "X-RateLimit-Remaining", "5", "X-RateLimit-Reset", "600", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_false(f->r.rate_limited);
    assert_in_range(f->r.retry_after_ms, 90000, 100000);
    assert_true(ola_ol_counters(f->c)->paced_ms >= 90000);
    assert_int_equal(TS_CALLS(f), 1);
}

/* ---- errors and transient failures --------------------------------------------- */

static void test_5xx_html(void **state)
{
    struct ts_fix *f = *state;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, false, 500,
            ts_strdup("<html><body><h1>500 Internal Server Error</h1></body></html>"),
            "Content-Type", "text/html", NULL);
    ts_push(&f->srv, false, 503,
            ts_strdup("<html><body><h1>503 Service Unavailable</h1></body></html>"),
            "Content-Type", "text/html", "Retry-After", "30", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_false(f->r.rate_limited);
    assert_string_equal(f->r.reason, "HTTP 500");
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_string_equal(f->r.reason, "HTTP 503");
    assert_int_equal(f->r.retry_after_ms, 30000);
    assert_int_equal(ola_ol_counters(f->c)->retries, 2);
    assert_int_equal(ola_ol_counters(f->c)->rate_limited, 0);
}

static void test_bad_bodies(void **state)
{
    struct ts_fix *f = *state;
    char *page = fx_body("events-page-200.json");

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    /* a complete answer whose JSON stops halfway */
    page[strlen(page) / 2] = '\0';
    ts_push(&f->srv, false, 200, page, "Content-Type", "application/json", NULL);
    assert_int_equal(fix_get(f, "/api/2/users/5", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_non_null(strstr(f->r.reason, "truncated or malformed JSON"));
    /* the same from the events endpoint: the page parser judges it, element by
     * element, so one bad event cannot hold back a page (tests/reliability) */
    page = fx_body("events-page-200.json");
    page[strlen(page) / 2] = '\0';
    ts_push(&f->srv, false, 200, page, "Content-Type", "application/json", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_non_null(strstr(f->r.reason, "element by element"));
    /* a transfer cut short of its Content-Length */
    page = fx_body("events-page-200.json");
    ts_push(&f->srv, false, 200, page, NULL)->mode = OLA_FAKE_CUT;
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_non_null(strstr(f->r.reason, "truncated"));
    /* HTML with 200 */
    ts_push(&f->srv, false, 200, ts_strdup("<html>maintenance</html>"), "Content-Type",
            "text/html", NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_non_null(strstr(f->r.reason, "non-JSON"));
    assert_non_null(strstr(f->r.reason, "text/html"));
    /* empty 200 */
    ts_push(&f->srv, false, 200, NULL, NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_non_null(strstr(f->r.reason, "empty"));
    assert_int_equal(ola_ol_counters(f->c)->retries, 4);
}

static void test_4xx_bodies(void **state)
{
    struct ts_fix *f = *state;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, false, 404, fx_body("error-v2-404.json"), NULL);
    assert_int_equal(fix_get(f, "/api/2/roles/9", OLA_OL_PRIO_LOOKUP), OLA_OL_NOT_FOUND);
    assert_non_null(strstr(f->r.reason, "can't be found"));
    ts_push(&f->srv, false, 400, fx_body("error-v1-400-message-object.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/users?last=x", OLA_OL_PRIO_POLL),
                     OLA_OL_BAD_REQUEST);
    assert_non_null(strstr(f->r.reason, "last is not a valid attribute for user model"));
    ts_push(&f->srv, false, 400, fx_body("error-v2-400-bad-request.json"), NULL);
    assert_int_equal(fix_get(f, "/api/2/users", OLA_OL_PRIO_POLL), OLA_OL_BAD_REQUEST);
    assert_non_null(strstr(f->r.reason, "unknown attribute: employee_number"));
    ts_push(&f->srv, false, 403, fx_body("error-v1-403-forbidden.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/users/5", OLA_OL_PRIO_POLL), OLA_OL_BAD_REQUEST);
    assert_non_null(strstr(f->r.reason, "HTTP 403"));
    /* an error envelope inside a 200 */
    ts_push(&f->srv, false, 200, fx_body("error-v1-404-user-not-found.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/users/8888888", OLA_OL_PRIO_LOOKUP),
                     OLA_OL_NOT_FOUND);
    assert_non_null(strstr(f->r.reason, "User for id 8888888 was not found"));
    assert_int_equal(TS_TOKENS(f), 1);
}

static void test_server_time(void **state)
{
    struct ts_fix *f = *state;
    char date[64];
    time_t t = (time_t)(ola_now_ms() / 1000) + 3600;
    struct tm tm;
    int64_t off, drift;

    assert_non_null(gmtime_r(&t, &tm));
    assert_true(strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
    assert_false(ola_ol_has_server_time(f->c));
    ts_push(&f->srv, true, 200, fx_token("tok-1", 3600000 - 1000, false), "Date", date,
            NULL);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "Date", date, NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_true(ola_ol_has_server_time(f->c));
    assert_int_equal(f->r.server_date_ms, (int64_t)t * 1000);
    off = ola_ol_server_now_ms(f->c) - ola_now_ms();
    assert_in_range(off, 3600000 - 2000, 3600000 + 1000);
    /* an answer without Date (a proxy's 429) keeps the offset */
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    assert_int_equal(f->r.server_date_ms, -1);
    off = ola_ol_server_now_ms(f->c) - ola_now_ms();
    assert_in_range(off, 3600000 - 2000, 3600000 + 1000);
    /* the same Date 300 ms later is consistent with the estimate, which stays
     * (taking Date - now each time would drop it by 300 ms, behind the server) */
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "Date", date, NULL);
    usleep(300000);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    /* the estimate runs on the monotonic clock and `off` was read against the
     * wall clock: each whole-millisecond reading may round 1 ms either way */
    drift = ola_ol_server_now_ms(f->c) - ola_now_ms() - off;
    if (drift < -2 || drift > 20)
        fail_msg("the estimate moved by %" PRId64 " ms", drift);
    /* a Date one second later raises the estimate: the highest lower bound */
    t += 1;
    assert_non_null(gmtime_r(&t, &tm));
    assert_true(strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "Date", date, NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    off = ola_ol_server_now_ms(f->c) - ola_now_ms();
    assert_in_range(off, 3601000 - 2000, 3601000 + 1000);
    /* a Date whose upper bound is below the estimate (a clock step of 10 s back)
     * restarts the estimate from it */
    t -= 11;
    assert_non_null(gmtime_r(&t, &tm));
    assert_true(strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), "Date", date, NULL);
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_OK);
    off = ola_ol_server_now_ms(f->c) - ola_now_ms();
    assert_in_range(off, 3590000 - 2000, 3590000 + 1000);
    assert_int_equal(TS_TOKENS(f), 1);
}

static void test_body_over_cap(void **state)
{
    struct ts_fix *f = *state;
    struct ola_fake_answer *a;

    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    a = ts_push(&f->srv, false, 200, NULL, "Content-Type", "application/json", NULL);
    a->mode = OLA_FAKE_HUGE;
    a->size = ((uint64_t)64 << 20) + 1;
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_BAD_REQUEST);
    assert_non_null(strstr(f->r.reason, "cap"));
}

/* A round of lookups holds at most the body cap of answers: the rest wait. */
static void test_lookups_held_to_the_cap(void **state)
{
    struct ts_fix *f = *state;
    struct ola_ol_opts o = {0};
    struct ola_ol_lookup l[5];
    struct ola_ol_client *c = NULL;
    char body[700];
    size_t i;

    memset(body, ' ', sizeof(body) - 2);
    body[0] = '{';
    body[sizeof(body) - 2] = '}';
    body[sizeof(body) - 1] = '\0';
    o.base_url = f->base;
    o.client_id = TS_CLIENT_ID;
    o.client_secret = TS_CLIENT_SECRET;
    o.timeout_ms = 5000;
    o.max_body = 1000;
    assert_int_equal(ola_ol_client_new(&o, &c, NULL), 0);
    assert_int_equal(ola_ol_lookups_setup(c, 1, 0, 0.2, NULL), 0);
    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    for (i = 0; i < 2; i++) {
        char *b = strdup(body);

        assert_non_null(b);
        ts_push(&f->srv, false, 200, b, "Content-Type", "application/json", NULL);
    }
    for (i = 0; i < 5; i++) {
        l[i].path = "/api/2/users/1";
        ola_ol_response_init(&l[i].r);
    }
    ola_ol_get_many(c, l, 5, OLA_OL_PRIO_LOOKUP);
    /* 699 bytes held after the first: the second goes; 1398 after it: no more */
    assert_int_equal(l[0].status, OLA_OL_OK);
    assert_int_equal(l[1].status, OLA_OL_OK);
    for (i = 2; i < 5; i++) {
        assert_int_equal(l[i].status, OLA_OL_DEFERRED);
        assert_non_null(strstr(l[i].r.reason, "1398 bytes, the body cap"));
    }
    assert_int_equal(TS_CALLS(f), 2);
    for (i = 0; i < 5; i++)
        ola_ol_response_free(&l[i].r);
    ola_ol_client_destroy(c);
}

static void test_timeout_and_refused(void **state)
{
    struct ts_fix *f = *state;
    struct ola_ol_opts o = {0};
    struct ola_ol_client *c2 = NULL;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char url[64];
    int fd;

    ola_ol_client_destroy(f->c);
    fix_open(f, 300);
    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    ts_push(&f->srv, false, 200, fx_body("events-page-200.json"), NULL)->delay_ms = 1200;
    assert_int_equal(fix_get(f, "/api/1/events", OLA_OL_PRIO_POLL), OLA_OL_RETRY);
    assert_non_null(strstr(f->r.reason, "timeout after 300 ms"));
    assert_false(f->r.rate_limited);

    /* a port nobody listens on */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)ntohs(sa.sin_port));
    o.base_url = url;
    o.client_id = TS_CLIENT_ID;
    o.client_secret = TS_CLIENT_SECRET;
    assert_int_equal(ola_ol_client_new(&o, &c2, NULL), 0);
    assert_int_equal(ola_ol_authenticate(c2, &f->r), OLA_OL_RETRY);
    assert_non_null(strstr(f->r.reason, "connection refused"));
    assert_int_equal(f->r.http_status, 0);
    assert_no_secret(f->r.reason);
    ola_ol_client_destroy(c2);
}

/* ---- setup checks and pure functions ------------------------------------------ */

static void test_base_url_rules(void **state)
{
    static const struct {
        const char *url;
        int rc;
    } cases[] = {
        {"https://acme.onelogin.com", 0},
        {"https://acme.onelogin.com/", 0},
        {"http://127.0.0.1:8080", 0},
        {"http://127.9.9.9", 0},
        {"http://localhost:1234/", 0},
        {"http://[::1]:8080", 0},
        {"http://acme.onelogin.com", -1},
        {"http://10.0.0.1", -1},
        {"http://128.0.0.1", -1},
        {"http://[::2]", -1},
        {"ftp://acme.onelogin.com", -1},
        {"https://user:pw@acme.onelogin.com", -1},
        {"https://acme.onelogin.com/?x=1", -1},
        {"not a url", -1},
    };
    struct ola_ol_opts o = {0};
    struct ola_ol_client *c;
    struct ola_err err;
    size_t i;

    (void)state;
    o.client_id = TS_CLIENT_ID;
    o.client_secret = TS_CLIENT_SECRET;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        o.base_url = cases[i].url;
        c = NULL;
        memset(&err, 0, sizeof(err));
        if (ola_ol_client_new(&o, &c, &err) != cases[i].rc)
            fail_msg("%s: expected %d (%s)", cases[i].url, cases[i].rc, err.msg);
        if (cases[i].rc != 0)
            assert_null(c);
        assert_no_secret(err.msg);
        ola_ol_client_destroy(c);
    }
    o.base_url = "http://acme.onelogin.com";
    assert_int_equal(ola_ol_client_new(&o, &c, &err), -1);
    assert_non_null(strstr(err.msg, "loopback"));
    o.base_url = "https://acme.onelogin.com";
    o.client_secret = "";
    assert_int_equal(ola_ol_client_new(&o, &c, &err), -1);
    assert_non_null(strstr(err.msg, "client_secret"));
    o.client_secret = TS_CLIENT_SECRET;
    o.reserve = 1.5;
    assert_int_equal(ola_ol_client_new(&o, &c, &err), -1);
    ola_ol_client_destroy(NULL);
}

static void test_classify_table(void **state)
{
    static const struct {
        long http;
        const char *fixture; /* or NULL: body below */
        const char *body;
        enum ola_ol_call call;
        enum ola_ol_status want;
        bool rate_limited, token_rejected;
        const char *in_reason;
    } cases[] = {
        {200, "events-page-200.json", NULL, OLA_OL_CALL_RESOURCE, OLA_OL_OK, 0, 0,
         "HTTP 200"},
        {200, "app-rules-v2-empty.json", NULL, OLA_OL_CALL_RESOURCE, OLA_OL_OK, 0, 0,
         NULL},
        {200, "token-v2-200.json", NULL, OLA_OL_CALL_TOKEN, OLA_OL_OK, 0, 0, NULL},
        {200, "user-roles-v1-empty.json", NULL, OLA_OL_CALL_RESOURCE, OLA_OL_OK, 0, 0,
         NULL},
        {401, "error-v1-401.json", NULL, OLA_OL_CALL_RESOURCE, OLA_OL_AUTH, 0, 1,
         "Authentication Failure"},
        {401, "error-v2-401-requires-auth.json", NULL, OLA_OL_CALL_RESOURCE, OLA_OL_AUTH,
         0, 1, "requires user authentication"},
        {401, "token-v2-401-bad-client.json", NULL, OLA_OL_CALL_TOKEN, OLA_OL_AUTH, 0, 0,
         "token request rejected: check onelogin.client_id and onelogin.client_secret"},
        {401, "error-v1-401-insufficient-permission.json", NULL, OLA_OL_CALL_RESOURCE,
         OLA_OL_AUTH, 0, 0, "Read All"},
        {401, "error-v1-401-insufficient-permission.json", NULL, OLA_OL_CALL_TOKEN,
         OLA_OL_AUTH, 0, 0, "scope"},
        {429, NULL, NULL, OLA_OL_CALL_TOKEN, OLA_OL_RETRY, 1, 0, "429"},
        {429, NULL, ts_haproxy_429, OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 1, 0, "429"},
        {400, NULL,
         "{\"status\":{\"error\":true,\"code\":400,\"message\":\"rate_limit_exceeded\"}}",
         OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 1, 0, "rate_limit_exceeded"},
        {200, NULL,
         "{\"status\":{\"error\":true,\"code\":400,\"message\":\"rate_limit_exceeded\"}}",
         OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 1, 0, "rate_limit_exceeded"},
        {400, "error-v1-400-id-incorrect.json", NULL, OLA_OL_CALL_RESOURCE,
         OLA_OL_BAD_REQUEST, 0, 0, "ID is incorrect (attribute id)"},
        {400, "error-v1-400-grant-type.json", NULL, OLA_OL_CALL_TOKEN, OLA_OL_BAD_REQUEST,
         0, 0, "grant_type is incorrect/absent"},
        {400, "error-v1-400-authorization-info.json", NULL, OLA_OL_CALL_RESOURCE,
         OLA_OL_BAD_REQUEST, 0, 0, "Authorization Information is incorrect"},
        {422, "error-v2-422-field.json", NULL, OLA_OL_CALL_RESOURCE, OLA_OL_BAD_REQUEST,
         0, 0, "Invalid sort field"},
        {422, "error-v2-422-validation.json", NULL, OLA_OL_CALL_RESOURCE,
         OLA_OL_BAD_REQUEST, 0, 0, "Validation Failed"},
        {404, "error-v1-404-no-route.json", NULL, OLA_OL_CALL_RESOURCE, OLA_OL_NOT_FOUND,
         0, 0, "No Route Exists"},
        {404, NULL, "<html>nope</html>", OLA_OL_CALL_RESOURCE, OLA_OL_NOT_FOUND, 0, 0,
         "HTTP 404"},
        {500, NULL, "<html>oops</html>", OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 0, 0,
         "HTTP 500"},
        {502, NULL, NULL, OLA_OL_CALL_TOKEN, OLA_OL_RETRY, 0, 0, "HTTP 502"},
        {504, NULL, NULL, OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 0, 0, "HTTP 504"},
        {408, NULL, NULL, OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 0, 0, "HTTP 408"},
        {302, NULL, NULL, OLA_OL_CALL_RESOURCE, OLA_OL_BAD_REQUEST, 0, 0, "unexpected"},
        {200, NULL, "{\"data\":[1,2", OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 0, 0,
         "truncated"},
        {200, NULL, "OK", OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 0, 0, "non-JSON"},
        /* an events page is judged element by element (page.c), not as a whole */
        {200, NULL, " {\"data\":[{\"id\":1,\"n\":\"\xff\"}]}", OLA_OL_CALL_PAGE,
         OLA_OL_OK, 0, 0, "element by element"},
        {200, NULL, "<html>maintenance</html>", OLA_OL_CALL_PAGE, OLA_OL_RETRY, 0, 0,
         "non-JSON"},
        {200, NULL, "", OLA_OL_CALL_PAGE, OLA_OL_RETRY, 0, 0, "empty"},
        {200, NULL,
         "{\"status\":{\"error\":true,\"code\":400,\"message\":"
         "\"rate_limit_exceeded\"}}",
         OLA_OL_CALL_PAGE, OLA_OL_RETRY, 1, 0, "rate_limit_exceeded"},
        /* the page's status is read from its envelope alone: an event Jansson
         * refuses (invalid UTF-8) does not hide it */
        {200, NULL,
         "{\"data\":[{\"id\":1,\"n\":\"\xff\"}],\"status\":{\"error\":true,\"code\":"
         "400,\"message\":\"rate_limit_exceeded\"}}",
         OLA_OL_CALL_PAGE, OLA_OL_RETRY, 1, 0, "rate_limit_exceeded"},
        {200, "events-page-200.json", NULL, OLA_OL_CALL_PAGE, OLA_OL_OK, 0, 0,
         "element by element"},
        {401, "error-v1-401.json", NULL, OLA_OL_CALL_PAGE, OLA_OL_AUTH, 0, 1,
         "Authentication Failure"},
        {200, NULL, "", OLA_OL_CALL_RESOURCE, OLA_OL_RETRY, 0, 0, "empty"},
        {200, NULL,
         "{\"status\":{\"error\":true,\"code\":401,\"message\":\"Authentication "
         "Failure\"}}",
         OLA_OL_CALL_TOKEN, OLA_OL_AUTH, 0, 0, "client_secret"},
        {200, NULL, "{\"status\":{\"error\":true,\"message\":\"odd\"}}",
         OLA_OL_CALL_RESOURCE, OLA_OL_BAD_REQUEST, 0, 0, "odd"},
        {200, NULL, "{\"status\":{\"error\":false,\"code\":200},\"data\":[]}",
         OLA_OL_CALL_RESOURCE, OLA_OL_OK, 0, 0, NULL},
    };
    struct ola_ol_verdict v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *fx = cases[i].fixture ? fx_body(cases[i].fixture) : NULL;
        const char *body = fx ? fx : cases[i].body;

        ola_ol_classify(cases[i].http, "application/json", body, body ? strlen(body) : 0,
                        cases[i].call, &v);
        if (v.status != cases[i].want || v.rate_limited != cases[i].rate_limited ||
            v.token_rejected != cases[i].token_rejected ||
            (cases[i].in_reason && strstr(v.reason, cases[i].in_reason) == NULL))
            fail_msg("case %zu (%ld %s): status %d rl %d tr %d reason \"%s\"", i,
                     cases[i].http, cases[i].fixture ? cases[i].fixture : "", v.status,
                     v.rate_limited, v.token_rejected, v.reason);
        free(fx);
    }
    /* a body that is not NUL-terminated is read by length */
    ola_ol_classify(200, NULL, "{}garbage", 2, OLA_OL_CALL_RESOURCE, &v);
    assert_int_equal(v.status, OLA_OL_OK);
    /* control characters from the server never reach a reason */
    ola_ol_classify(400, NULL, "{\"message\":\"a\\nb\\u001bc\"}",
                    strlen("{\"message\":\"a\\nb\\u001bc\"}"), OLA_OL_CALL_RESOURCE, &v);
    assert_int_equal(v.status, OLA_OL_BAD_REQUEST);
    assert_null(strchr(v.reason, '\n'));
    assert_null(strchr(v.reason, 0x1b));
    ola_ol_classify_fail(OLA_HTTP_TIMEOUT, "timeout after 30s", 0, &v);
    assert_int_equal(v.status, OLA_OL_RETRY);
    assert_string_equal(v.reason, "timeout after 30s");
    ola_ol_classify_fail(OLA_HTTP_RESET, "", 0, &v);
    assert_int_equal(v.status, OLA_OL_RETRY);
    assert_string_equal(v.reason, "connection reset");
    ola_ol_classify_fail(OLA_HTTP_TLS, "TLS error: certificate", 0, &v);
    assert_int_equal(v.status, OLA_OL_RETRY);
    ola_ol_classify_fail(OLA_HTTP_TOO_BIG, "body over the cap", 200, &v);
    assert_int_equal(v.status, OLA_OL_BAD_REQUEST);
}

/* The HTTP wrapper alone: capped chunked body, headers kept as strings. */
static void test_http_wrapper(void **state)
{
    struct ts_fix *f = *state;
    struct ola_http_opts ho = {0};
    struct ola_http_req rq = {0};
    struct ola_http_resp rs;
    struct ola_buf body = OLA_BUF_INIT;
    struct ola_http *h = NULL;
    struct ola_fake_answer *a;
    char url[128];

    ho.timeout_ms = 5000;
    ho.max_body = 10000;
    assert_int_equal(ola_http_new(&ho, &h, NULL), 0);
    snprintf(url, sizeof(url), "%s/api/1/events", f->base);
    rq.method = "GET";
    rq.url = url;
    rq.bearer = "tok-x";
    a = ts_push(&f->srv, false, 200, NULL, NULL);
    a->mode = OLA_FAKE_STREAM;
    a->size = 100000;
    assert_int_equal(ola_http_do(h, &rq, &body, &rs), -1);
    assert_int_equal(rs.fail, OLA_HTTP_TOO_BIG);
    assert_true(body.len <= 10000);
    assert_non_null(strstr(rs.fail_msg, "body over the cap of 10000 bytes (aborted at "));
    assert_string_equal(ts_last_bearer(&f->srv), "Bearer tok-x");
    /* exactly at the cap is fine; headers come back as strings */
    a = ts_push(&f->srv, false, 200, NULL, "X-RateLimit-Limit", "5000",
                "x-ratelimit-remaining", " 4988 ", "X-RateLimit-Reset", "832",
                "Retry-After", "3", "Date", "Mon, 28 Feb 2022 22:04:38 GMT", NULL);
    a->mode = OLA_FAKE_STREAM;
    a->size = 10000;
    assert_int_equal(ola_http_do(h, &rq, &body, &rs), 0);
    assert_int_equal(rs.status, 200);
    assert_int_equal(body.len, 10000);
    assert_string_equal(rs.rl_limit, "5000");
    assert_string_equal(rs.rl_remaining, "4988");
    assert_string_equal(rs.rl_reset, "832");
    assert_string_equal(rs.retry_after, "3");
    assert_string_equal(rs.date, "Mon, 28 Feb 2022 22:04:38 GMT");
    assert_string_equal(rs.fail_msg, "");
    /* a body cut at the cap leaves nothing behind (the buffer held one before) */
    a = ts_push(&f->srv, false, 200, NULL, NULL);
    a->mode = OLA_FAKE_STREAM;
    a->size = 100000;
    assert_int_equal(ola_http_do(h, &rq, &body, &rs), -1);
    assert_int_equal(rs.fail, OLA_HTTP_TOO_BIG);
    assert_true(body.len == 0 && body.data == NULL);
    rq.method = "DELETE";
    assert_int_equal(ola_http_do(h, &rq, &body, &rs), -1);
    ola_buf_free(&body);
    ola_http_destroy(h);
    ola_http_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token_reused_until_expiry, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_token_expiring_within_margin, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_token_short_lifetime, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_token_lifetime_clamped, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_token_recorded_created_at, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_once_on_401, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_second_401_is_auth, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_insufficient_permission, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_bad_credentials_backoff, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_token_backoff_bounds, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_token_backoff_retry_after, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_429_html_no_headers, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_429_with_reset, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_400_rate_limit_exceeded_last_reset,
                                        fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_400_rate_limit_exceeded, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_rate_headers_and_reserve, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_pacing_through_client, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_5xx_html, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_bad_bodies, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_4xx_bodies, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_server_time, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_body_over_cap, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_lookups_held_to_the_cap, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_and_refused, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_http_wrapper, fix_setup, fix_teardown),
        cmocka_unit_test(test_base_url_rules),
        cmocka_unit_test(test_classify_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
