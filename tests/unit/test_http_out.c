/*
 * test_http_out.c - the shared HTTP sender (outputs/http_out.c) and the http
 * webhook output, against the in-process HTTP fake (tests/lib/http_fake.c).
 *
 * Pure parts first (Retry-After, URL rules, metrics text), then the output
 * end to end: requests cut by count, NDJSON and JSON-array bodies, gzip,
 * the Idempotency-Key the same for the same records (a second output, as
 * after a restart, and a re-send after a 429), Retry-After honoured without
 * sleeping, a 400 narrowed down to the one refused record, 401 fatal, and
 * the configuration errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zlib.h>

#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "outputs/http_out.h"
#include "tests/lib/http_fake.h"

#define OLA_FX_OUTPUT_TYPE "http"
#include "output_fixture.h"

/* write, then flush until OK (or another answer than RETRY) within secs. */
static enum ola_rc deliver(struct ola_output *o, struct ola_batch *b, int secs)
{
    int64_t end = ola_mono_ms() + secs * 1000;
    enum ola_rc rc = ola_output_write(o, b);

    assert_int_equal(rc, OLA_OK);
    do {
        rc = ola_output_flush(o, 1000);
    } while (rc == OLA_RETRY && ola_mono_ms() < end);
    return rc;
}

static struct ola_fake *fake_start(int (*handler)(void *, const struct ola_fake_req *,
                                                  struct ola_fake_answer *))
{
    struct ola_fake_opts fo = {.handler = handler};
    struct ola_fake *f = NULL;
    struct ola_err err = {0, ""};

    if (ola_fake_start(&fo, &f, &err) != 0)
        fail_msg("%s", err.msg);
    return f;
}

static int answer_ok(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a)
{
    (void)arg;
    /* a record with id 5 is refused, as a receiver refuses one bad record */
    a->status = rq->body != NULL && strstr(rq->body, "\"id\":5,") != NULL ? 400 : 200;
    a->body = strdup(a->status == 400 ? "{\"error\":\"bad record 5\"}" : "{}");
    a->len = strlen(a->body);
    return 0;
}

/* ---- pure parts ---------------------------------------------------------------- */

static void test_retry_after(void **state)
{
    int64_t now = 1700000000000LL;

    (void)state;
    assert_int_equal(ola_ho_retry_after_ms("3", now), 3000);
    assert_int_equal(ola_ho_retry_after_ms("0", now), 0);
    assert_int_equal(ola_ho_retry_after_ms("999999", now), OLA_HO_RETRY_AFTER_MAX_MS);
    /* 1700000010 s = Tue, 14 Nov 2023 22:13:30 GMT */
    assert_int_equal(ola_ho_retry_after_ms("Tue, 14 Nov 2023 22:13:30 GMT", now), 10000);
    assert_int_equal(ola_ho_retry_after_ms("Tue, 14 Nov 2023 22:13:00 GMT", now), 0);
    assert_int_equal(ola_ho_retry_after_ms("soon", now), -1);
    assert_int_equal(ola_ho_retry_after_ms("-5", now), -1);
    assert_int_equal(ola_ho_retry_after_ms("", now), -1);
}

static void test_url_rules(void **state)
{
    struct ola_err err = {0, ""};

    (void)state;
    assert_int_equal(ola_ho_url_check(NULL, "https://hooks.example.com/x", &err), 0);
    assert_int_equal(ola_ho_url_check(NULL, "http://127.0.0.1:8080/x", &err), 0);
    assert_int_equal(ola_ho_url_check(NULL, "http://localhost/x", &err), 0);
    assert_int_equal(ola_ho_url_check(NULL, "http://[::1]:80/x", &err), 0);
    assert_int_equal(ola_ho_url_check(NULL, "http://hooks.example.com/x", &err), -1);
    assert_non_null(strstr(err.msg, "https is required except on loopback"));
    assert_int_equal(ola_ho_url_check(NULL, "http://127.0.0.1.evil.com/x", &err), -1);
    assert_int_equal(ola_ho_url_check(NULL, "https://u:p@h.example.com/", &err), -1);
    assert_non_null(strstr(err.msg, "no credentials"));
    assert_int_equal(ola_ho_url_check(NULL, "ftp://h/", &err), -1);
    assert_int_equal(ola_ho_url_check(NULL, "https:///x", &err), -1);
}

static void test_config_errors(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"url: http://10.0.0.1/x\n", "https is required"},
        {"url: https://h.example.com/\nheaders: {Content-Type: text/plain}\n",
         "Content-Type is set by olagent"},
        {"url: https://h.example.com/\nheaders: {\"Bad Name\": x}\n",
         "not a header name"},
        {"url: https://h.example.com/\nheaders: [a]\n", "a map of header names"},
        {"url: https://h.example.com/\nframing: json_array\nformat: cef\n",
         "json_array needs a JSON format"},
        {"url: https://h.example.com/\nclient_cert: /c.pem\n", "go together"},
        {"url: https://h.example.com/\nmethod: GET\n", "method"},
        {"method: POST\n", "url is required"},
        {"url: https://h.example.com/\nbatch_max_events: 0\n", "batch_max_events"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ola_cfg_doc *doc = NULL;
        struct ola_err err = {0, ""};
        struct ola_output *o = make(&doc, cases[i].yaml, &err);

        if (o != NULL || strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want, err.msg);
        ola_cfg_doc_destroy(doc);
    }
}

static void test_verify_off_warns(void **state)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o =
        make_ok(&doc, "url: https://h.example.com/\nverify: false\ntimeout: 5s\n");

    (void)state;
    assert_int_equal(ola_cfg_warning_count(doc), 1);
    assert_non_null(strstr(ola_cfg_warning(doc, 0), "verify is false"));
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
}

/* ---- the output end to end ------------------------------------------------------- */

/* Requests cut by count; keys the same for the same records in a new output. */
static void test_split_and_keys(void **state)
{
    struct ola_fake *f = fake_start(answer_ok);
    struct ola_cfg_doc *doc = NULL, *doc2 = NULL;
    struct ola_output *o, *o2;
    struct ola_batch b;
    char keys[3][40];
    const char *last = "{\"id\":106,\"created_at\":\"x\"}\n";

    (void)state;
    o = make_ok(&doc, "url: %s/in\nbatch_max_events: 3\nheaders: {X-Api-Key: k1}\n",
                ola_fake_url(f));
    batch_of(&b, 7, 100);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    assert_int_equal(ola_fake_wait_requests(f, 3, 5000), 0);
    assert_int_equal(ola_fake_requests(f), 3);
    assert_int_equal(o->stats.emitted, 7);
    assert_int_equal(o->stats.req.requests[OLA_OUT_SC_2XX], 3);
    assert_true(o->stats.req.bytes_sent > 0);
    assert_int_equal(o->stats.req.batches, 1);
    for (size_t i = 0; i < 3; i++) {
        const struct ola_fake_req *rq = ola_fake_seen(f, i);
        const char *k = ola_fake_header(rq, "Idempotency-Key");

        assert_string_equal(rq->method, "POST");
        assert_string_equal(ola_fake_header(rq, "Content-Type"), "application/x-ndjson");
        assert_string_equal(ola_fake_header(rq, "X-Api-Key"), "k1");
        assert_non_null(k);
        assert_int_equal(strlen(k), 32);
        snprintf(keys[i], sizeof(keys[i]), "%s", k);
    }
    /* the requests run in parallel: they arrive in any order */
    assert_true(strcmp(ola_fake_seen(f, 0)->body, last) == 0 ||
                strcmp(ola_fake_seen(f, 1)->body, last) == 0 ||
                strcmp(ola_fake_seen(f, 2)->body, last) == 0);
    assert_string_not_equal(keys[0], keys[1]);
    assert_string_not_equal(keys[1], keys[2]);
    assert_string_not_equal(keys[0], keys[2]);
    /* the same batch through a new output (a restart): the same keys */
    o2 = make_ok(&doc2, "url: %s/in\nbatch_max_events: 3\n", ola_fake_url(f));
    assert_int_equal(deliver(o2, &b, 20), OLA_OK);
    assert_int_equal(ola_fake_wait_requests(f, 6, 5000), 0);
    assert_int_equal(ola_fake_requests(f), 6);
    for (size_t i = 0; i < 3; i++) {
        const char *k = ola_fake_header(ola_fake_seen(f, 3 + i), "Idempotency-Key");

        assert_true(strcmp(k, keys[0]) == 0 || strcmp(k, keys[1]) == 0 ||
                    strcmp(k, keys[2]) == 0);
    }
    ola_output_destroy(o);
    ola_output_destroy(o2);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_cfg_doc_destroy(doc2);
    ola_fake_stop(f);
}

/* A JSON array, PUT, gzip-compressed: the fake's body inflates to it. */
static void test_gzip_json_array(void **state)
{
    struct ola_fake *f = fake_start(answer_ok);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    const struct ola_fake_req *rq;
    char plain[512];
    uLongf n = sizeof(plain);
    z_stream z;

    (void)state;
    o = make_ok(&doc, "url: %s/in\nmethod: PUT\nframing: json_array\ncompression: gzip\n",
                ola_fake_url(f));
    batch_of(&b, 2, 7);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    assert_int_equal(ola_fake_wait_requests(f, 1, 5000), 0);
    rq = ola_fake_seen(f, 0);
    assert_string_equal(rq->method, "PUT");
    assert_string_equal(ola_fake_header(rq, "Content-Encoding"), "gzip");
    assert_string_equal(ola_fake_header(rq, "Content-Type"), "application/json");
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)rq->body;
    z.avail_in = (uInt)rq->body_len;
    z.next_out = (Bytef *)plain;
    z.avail_out = (uInt)n;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    plain[z.total_out] = '\0';
    inflateEnd(&z);
    assert_string_equal(
        plain, "[{\"id\":7,\"created_at\":\"x\"},{\"id\":8,\"created_at\":\"x\"}]");
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* 429 + Retry-After: 2: no request before 2 s have passed, then the same key. */
static void test_retry_after_honoured(void **state)
{
    struct ola_fake *f = fake_start(NULL);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int64_t t0, end;
    enum ola_rc rc;

    (void)state;
    ola_fake_push(f, "", 429, strdup("slow down"), "Retry-After", "2", NULL);
    ola_fake_push(f, "", 200, strdup("{}"), NULL);
    o = make_ok(&doc, "url: %s/in\n", ola_fake_url(f));
    batch_of(&b, 3, 1);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    t0 = ola_mono_ms();
    end = t0 + 20000;
    do {
        rc = ola_output_flush(o, 1000);
    } while (rc == OLA_RETRY && ola_fake_requests(f) < 1 && ola_mono_ms() < end);
    assert_int_equal(rc, OLA_RETRY);
    assert_non_null(strstr(o->last_error, "429"));
    assert_true(o->retry_at_mono_ms >= t0 + 1900);
    /* at once again: answered RETRY without a request */
    assert_int_equal(ola_output_flush(o, 1000), OLA_RETRY);
    assert_non_null(strstr(o->last_error, "Retry-After"));
    assert_int_equal(ola_fake_requests(f), 1);
    do {
        rc = ola_output_flush(o, 1000);
    } while (rc == OLA_RETRY && ola_mono_ms() < end);
    assert_int_equal(rc, OLA_OK);
    assert_int_equal(ola_fake_wait_requests(f, 2, 5000), 0);
    assert_int_equal(ola_fake_requests(f), 2);
    assert_true(ola_mono_ms() - t0 >= 1900);
    assert_string_equal(ola_fake_header(ola_fake_seen(f, 0), "Idempotency-Key"),
                        ola_fake_header(ola_fake_seen(f, 1), "Idempotency-Key"));
    assert_int_equal(o->stats.req.retries, 1);
    assert_int_equal(o->stats.req.requests[OLA_OUT_SC_4XX], 1);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/*
 * A Retry-After holds every request of the batch, not only the answered one:
 * twenty one-record requests (more than go in parallel), the first answer a
 * 429 with Retry-After: 2; the ones not started yet must not start before
 * that time either.
 */
static void test_retry_after_holds_the_rest(void **state)
{
    struct ola_fake *f = fake_start(NULL);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    size_t before;
    int64_t end;
    enum ola_rc rc;
    int i;

    (void)state;
    ola_fake_push(f, "", 429, strdup("slow down"), "Retry-After", "2", NULL);
    for (i = 0; i < 24; i++)
        ola_fake_push(f, "", 200, strdup("{}"), NULL);
    o = make_ok(&doc, "url: %s/in\nbatch_max_events: 1\n", ola_fake_url(f));
    batch_of(&b, 20, 1);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    end = ola_mono_ms() + 20000;
    do {
        rc = ola_output_flush(o, 1000);
    } while (rc == OLA_RETRY && o->retry_at_mono_ms == 0 && ola_mono_ms() < end);
    assert_int_equal(rc, OLA_RETRY);
    assert_true(o->retry_at_mono_ms > 0);
    /* what went out before the 429 was read: the requests in flight then, not
     * the whole batch (at most a second round of parallel slots) */
    before = ola_fake_requests(f);
    if (before > 8)
        fail_msg("%zu of 20 requests went out after the 429 asked to wait", before - 1);
    /* and until shortly before the Retry-After time, nothing new is sent */
    while (ola_mono_ms() < o->retry_at_mono_ms - 300) {
        (void)ola_output_flush(o, 100);
        if (ola_mono_ms() < o->retry_at_mono_ms - 300)
            assert_int_equal(ola_fake_requests(f), before);
    }
    do {
        rc = ola_output_flush(o, 1000);
    } while (rc == OLA_RETRY && ola_mono_ms() < end);
    assert_int_equal(rc, OLA_OK);
    assert_int_equal(ola_fake_wait_requests(f, 21, 5000), 0);
    assert_int_equal(ola_fake_requests(f), 21); /* twenty, and the 429 sent again */
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* A 400 for a batch of 8: halves down to record id 5, dead-lettered alone. */
static void test_refused_record_narrowed(void **state)
{
    struct ola_fake *f = fake_start(answer_ok);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;

    (void)state;
    o = make_ok(&doc, "url: %s/in\n", ola_fake_url(f));
    batch_of(&b, 8, 1);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    assert_int_equal(o->n_refused, 1);
    assert_int_equal(o->refused[0].rec, 4); /* id 5 */
    assert_non_null(
        strstr(o->refused[0].reason, "HTTP 400: {\"error\":\"bad record 5\"}"));
    assert_int_equal(o->stats.emitted, 7);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

static void test_auth_refused_fatal(void **state)
{
    struct ola_fake *f = fake_start(NULL);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;

    (void)state;
    ola_fake_push(f, "", 401, strdup("{\"error\":\"bad key\"}"), NULL);
    o = make_ok(&doc, "url: %s/in\nheaders: {Authorization: Bearer sekrit}\n",
                ola_fake_url(f));
    batch_of(&b, 2, 1);
    assert_int_equal(deliver(o, &b, 20), OLA_FATAL);
    assert_non_null(
        strstr(o->last_error, "HTTP 401: the server refused the credentials"));
    assert_null(strstr(o->last_error, "sekrit"));
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* 503, a dropped connection: retried; the answers counted by class. */
static void test_transient_retried(void **state)
{
    struct ola_fake *f = fake_start(NULL);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    struct ola_fake_answer *a;

    (void)state;
    ola_fake_push(f, "", 503, strdup("busy"), NULL);
    a = ola_fake_push(f, "", 200, strdup("{}"), NULL);
    a->mode = OLA_FAKE_CUT;
    ola_fake_push(f, "", 200, strdup("{}"), NULL);
    o = make_ok(&doc, "url: %s/in\n", ola_fake_url(f));
    batch_of(&b, 2, 1);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    assert_int_equal(ola_fake_wait_requests(f, 3, 5000), 0);
    assert_int_equal(ola_fake_requests(f), 3);
    assert_int_equal(o->stats.req.requests[OLA_OUT_SC_5XX], 1);
    assert_int_equal(o->stats.req.requests[OLA_OUT_SC_NONE], 1);
    assert_int_equal(o->stats.req.requests[OLA_OUT_SC_2XX], 1);
    assert_int_equal(o->stats.req.retries, 2);
    assert_int_equal(o->stats.emitted, 2);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_verify_off_warns),
        cmocka_unit_test(test_split_and_keys),
        cmocka_unit_test(test_gzip_json_array),
        cmocka_unit_test(test_retry_after_honoured),
        cmocka_unit_test(test_retry_after_holds_the_rest),
        cmocka_unit_test(test_refused_record_narrowed),
        cmocka_unit_test(test_auth_refused_fatal),
        cmocka_unit_test(test_transient_retried),
    };

    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
