/*
 * test_onelogin.c - the OneLogin client against a scripted HTTP server.
 *
 * Each test starts the unit tests' HTTP fake (tests/lib/http_fake.h) on
 * 127.0.0.1 and scripts its answers (onelogin_fixture.h): one route for the
 * token endpoint, one for everything else, bodies from the recorded fixtures.
 * The fake records every request (headers, body) and counts connections, so
 * the tests check what went over the wire: how many token requests, which
 * bearer, whether the connection was reused. Covered here: the token, rate
 * limits, errors and transient failures. The pure parts (classification,
 * HTTP wrapper limits, URL checks) are in test_onelogin_classify.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "onelogin_fixture.h"

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

/*
 * ola_ol_lookups_trim closes the lookups' connections; the next lookups open a
 * new one, still at the concurrency set up (1: two slow answers never overlap).
 */
static void test_lookups_trim(void **state)
{
    struct ts_fix *f = *state;
    struct ola_ol_lookup l[2];
    struct ola_ol_client *c = f->c;
    struct ola_fake_stats st;
    unsigned conns;
    size_t i, round;

    assert_int_equal(ola_ol_lookups_setup(c, 1, 0, 0.2, NULL), 0);
    ts_push(&f->srv, true, 200, fx_token("tok-1", -1000, false), NULL);
    for (i = 0; i < 4; i++) {
        struct ola_fake_answer *a = ts_push(&f->srv, false, 200, strdup("{\"data\":[]}"),
                                            "Content-Type", "application/json", NULL);

        assert_non_null(a);
        a->delay_ms = 150;
    }
    conns = 0;
    for (round = 0; round < 2; round++) {
        for (i = 0; i < 2; i++) {
            l[i].path = "/api/2/users/1";
            ola_ol_response_init(&l[i].r);
        }
        ola_ol_get_many(c, l, 2, OLA_OL_PRIO_LOOKUP);
        for (i = 0; i < 2; i++) {
            assert_int_equal(l[i].status, OLA_OL_OK);
            ola_ol_response_free(&l[i].r);
        }
        if (round == 0) {
            conns = ts_connections(&f->srv); /* the token's and the lookups' */
            ola_ol_lookups_trim(c);
            ola_ol_lookups_trim(c); /* twice: nothing left to close */
        }
    }
    assert_int_equal(TS_CALLS(f), 4);
    assert_int_equal(ts_connections(&f->srv), conns + 1);
    ola_fake_stats(f->srv.fake, &st);
    assert_int_equal(st.max_inflight, 1);
    ola_ol_lookups_trim(NULL);
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
        cmocka_unit_test_setup_teardown(test_lookups_trim, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_and_refused, fix_setup,
                                        fix_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
