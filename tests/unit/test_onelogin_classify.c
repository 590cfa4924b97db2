/*
 * test_onelogin_classify.c - the OneLogin client's pure parts and its setup
 * checks: the classification of answers, the base URL rules and the HTTP
 * wrapper's limits.
 *
 * The classification table runs ola_ol_classify over recorded bodies from
 * $OLA_DATA_DIR/onelogin and hand-written ones; the URL rules create clients
 * without a server; the HTTP wrapper is driven against the unit tests' HTTP
 * fake through the fixture in onelogin_fixture.h, as test_onelogin.c does.
 */
#include "agent/onelogin/classify.h"
#include "agent/onelogin/http.h"
#include "onelogin_fixture.h"

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
        cmocka_unit_test_setup_teardown(test_http_wrapper, fix_setup, fix_teardown),
        cmocka_unit_test(test_base_url_rules),
        cmocka_unit_test(test_classify_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
