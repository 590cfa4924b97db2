/*
 * test_out_es.c - the elasticsearch output (outputs/out_elasticsearch*.c).
 *
 * Pure parts first: document ids, the _bulk body, an answer read item by
 * item. Then the output against the in-process HTTP fake playing a _bulk
 * endpoint: the request (path, filter_path, NDJSON, the Authorization header
 * of basic auth and of an API key), an answer of stored, 409, 429 and 400
 * items (the 409 delivered, the 429 ones sent again alone, the 400 one
 * dead-lettered with ES's reason), a 403 item fatal, failover to the second
 * URL, and the configuration errors with file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/timeutil.h"
#include "outputs/http_out.h"
#include "outputs/out_elasticsearch.h"
#include "tests/lib/http_fake.h"

#define OLA_FX_OUTPUT_TYPE "elasticsearch"
#include "output_fixture.h"

static struct ola_fake *fake_start(int (*handler)(void *, const struct ola_fake_req *,
                                                  struct ola_fake_answer *),
                                   void *arg)
{
    struct ola_fake_opts fo = {.handler = handler, .handler_arg = arg};
    struct ola_fake *f = NULL;
    struct ola_err err = {0, ""};

    if (ola_fake_start(&fo, &f, &err) != 0)
        fail_msg("%s", err.msg);
    return f;
}

/* write, then flush until an answer other than RETRY, within secs. */
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

/* ---- pure parts ---------------------------------------------------------------- */

static void test_doc_ids(void **state)
{
    char id[OLA_ES_ID_MAX], id2[OLA_ES_ID_MAX];

    (void)state;
    assert_int_equal(ola_es_doc_id("default", 123456, "{}", 2, id), 0);
    assert_string_equal(id, "123456");
    assert_int_equal(ola_es_doc_id(NULL, 7, "{}", 2, id), 0);
    assert_string_equal(id, "7");
    assert_int_equal(ola_es_doc_id("acme", 7, "{}", 2, id), 0);
    assert_string_equal(id, "acme:7");
    /* an alert: a hash of its bytes, the same for the same bytes */
    assert_int_equal(ola_es_doc_id("default", 0, "{\"a\":1}", 7, id), 0);
    assert_int_equal(strlen(id), 6 + 32);
    assert_memory_equal(id, "alert-", 6);
    assert_int_equal(ola_es_doc_id("default", 0, "{\"a\":1}", 7, id2), 0);
    assert_string_equal(id, id2);
    assert_int_equal(ola_es_doc_id("default", 0, "{\"a\":2}", 7, id2), 0);
    assert_string_not_equal(id, id2);
    assert_int_equal(ola_es_doc_id("acme", 0, "{\"a\":1}", 7, id2), 0);
    assert_string_not_equal(id, id2);
}

static void test_bulk_body(void **state)
{
    struct ola_buf b = OLA_BUF_INIT;

    (void)state;
    assert_int_equal(ola_es_bulk_append(&b, "onelogin-events", "5", "{\"id\":5}", 8), 0);
    assert_int_equal(ola_es_bulk_append(&b, "onelogin-events", "6", "{\"id\":6}", 8), 0);
    assert_int_equal(
        b.len, strlen("{\"create\":{\"_index\":\"onelogin-events\",\"_id\":\"5\"}}\n"
                      "{\"id\":5}\n"
                      "{\"create\":{\"_index\":\"onelogin-events\",\"_id\":\"6\"}}\n"
                      "{\"id\":6}\n"));
    assert_memory_equal(b.data,
                        "{\"create\":{\"_index\":\"onelogin-events\",\"_id\":\"5\"}}\n"
                        "{\"id\":5}\n"
                        "{\"create\":{\"_index\":\"onelogin-events\",\"_id\":\"6\"}}\n"
                        "{\"id\":6}\n",
                        b.len);
    ola_buf_free(&b);
}

static void test_items_read(void **state)
{
    static const char ans[] =
        "{\"errors\":true,\"items\":["
        "{\"create\":{\"status\":201}},"
        "{\"create\":{\"status\":409,\"error\":{\"type\":\"version_conflict_engine_"
        "exception\",\"reason\":\"[6]: version conflict, document already exists\"}}},"
        "{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_"
        "exception\",\"reason\":\"rejected\"}}},"
        "{\"create\":{\"status\":400,\"error\":{\"type\":\"document_parsing_exception\","
        "\"reason\":\"failed to parse field [id]\"}}},"
        "{\"create\":{\"status\":503,\"error\":{\"type\":\"unavailable_shards_"
        "exception\",\"reason\":\"primary shard is not active\"}}},"
        "{\"create\":{\"status\":403,\"error\":{\"type\":\"security_exception\","
        "\"reason\":\"action [indices:data/write/bulk[s]] is unauthorized\"}}},"
        "{\"create\":{}}]}";
    static const enum ola_es_item want[] = {
        OLA_ES_STORED, OLA_ES_DUPLICATE, OLA_ES_AGAIN, OLA_ES_REFUSED,
        OLA_ES_AGAIN,  OLA_ES_FATAL,     OLA_ES_AGAIN};
    char why[240];
    json_t *items;
    size_t i;

    (void)state;
    assert_null(ola_es_bulk_items(ans, strlen(ans), 3, why, sizeof(why)));
    assert_non_null(strstr(why, "7 items for 3 records"));
    assert_null(ola_es_bulk_items("{\"errors\":fal", 13, 1, why, sizeof(why)));
    assert_non_null(strstr(why, "not JSON"));
    items = ola_es_bulk_items(ans, strlen(ans), 7, why, sizeof(why));
    assert_non_null(items);
    for (i = 0; i < 7; i++)
        assert_int_equal(ola_es_item_read(json_array_get(items, i), why, sizeof(why)),
                         want[i]);
    assert_int_equal(ola_es_item_read(json_array_get(items, 3), why, sizeof(why)),
                     OLA_ES_REFUSED);
    assert_string_equal(why,
                        "400 document_parsing_exception: failed to parse field [id]");
    json_decref(items);
}

/* ---- against a _bulk endpoint ---------------------------------------------------- */

/*
 * The fake cluster: every record of a body gets the status its id asks for in
 * `plan` (the n-th time it is seen), 201 otherwise; the answer as ES gives it.
 */
struct es_script {
    int status_of[64][4]; /* [id][time seen]: 0 = 201 */
    int seen[64];
    int whole; /* answer the whole request with this status, once */
};

static int es_handler(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a)
{
    struct es_script *s = arg;
    struct ola_buf out = OLA_BUF_INIT;
    const char *p = rq->body;
    bool first = true;

    if (s->whole != 0) {
        a->status = s->whole;
        s->whole = 0;
        a->body = strdup("{\"error\":{\"type\":\"security_exception\"},\"status\":401}");
        a->len = strlen(a->body);
        return 0;
    }
    ola_buf_puts(&out, "{\"errors\":true,\"items\":[");
    while (p != NULL && (p = strstr(p, "\"_id\":\"")) != NULL) {
        int id = (int)strtol(p + 7, NULL, 10), st = 201;

        if (id >= 0 && id < 64) {
            st = s->status_of[id][s->seen[id] < 4 ? s->seen[id] : 3];
            s->seen[id]++;
        }
        if (st == 0)
            st = 201;
        if (!first)
            ola_buf_putc(&out, ',');
        first = false;
        if (st == 201)
            ola_buf_puts(&out, "{\"create\":{\"status\":201}}");
        else if (st == 409)
            ola_buf_puts(
                &out, "{\"create\":{\"status\":409,\"error\":{\"type\":"
                      "\"version_conflict_engine_exception\",\"reason\":\"exists\"}}}");
        else if (st == 429)
            ola_buf_puts(&out,
                         "{\"create\":{\"status\":429,\"error\":{\"type\":"
                         "\"es_rejected_execution_exception\",\"reason\":\"busy\"}}}");
        else if (st == 403)
            ola_buf_puts(&out, "{\"create\":{\"status\":403,\"error\":{\"type\":"
                               "\"security_exception\",\"reason\":\"unauthorized\"}}}");
        else
            ola_buf_puts(&out,
                         "{\"create\":{\"status\":400,\"error\":{\"type\":"
                         "\"mapper_parsing_exception\",\"reason\":\"bad field\"}}}");
        p += 7;
    }
    ola_buf_puts(&out, "]}");
    a->status = 200;
    a->body = out.data;
    a->len = out.len;
    return 0;
}

static void test_request_and_items(void **state)
{
    struct es_script s;
    struct ola_fake *f;
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    const struct ola_fake_req *r;
    size_t i, again = 0;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.status_of[2][0] = 409; /* stored before: delivered */
    s.status_of[3][0] = 429; /* busy once: sent again alone */
    s.status_of[4][0] = 429;
    s.status_of[6][0] = 400; /* mapping error: dead letter */
    f = fake_start(es_handler, &s);
    setenv("TEST_ES_PW", "s3cr3t", 1);
    o = make_ok(&doc,
                "url: %s/\nindex: audit\nusername: olagent\npassword: ${TEST_ES_PW}\n",
                ola_fake_url(f));
    batch_of(&b, 8, 1);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    r = ola_fake_seen(f, 0);
    assert_string_equal(r->path, "/_bulk");
    assert_string_equal(ola_fake_header(r, "Content-Type"), "application/x-ndjson");
    /* base64("olagent:s3cr3t") */
    assert_string_equal(ola_fake_header(r, "Authorization"),
                        "Basic b2xhZ2VudDpzM2NyM3Q=");
    assert_non_null(strstr(r->body, "{\"create\":{\"_index\":\"audit\",\"_id\":\"1\"}}\n"
                                    "{\"id\":1,\"created_at\":\"x\"}\n"));
    assert_int_equal(r->body[r->body_len - 1], '\n');
    for (i = 0; i < r->n_args; i++)
        if (strcmp(r->args[i].name, "filter_path") == 0)
            assert_string_equal(r->args[i].value, "errors,items.*.status,items.*.error");
    /* the 429 ones, and only they, went again: one request of records 3 and 4 */
    assert_int_equal(ola_fake_requests(f), 2);
    r = ola_fake_seen(f, 1);
    assert_non_null(strstr(r->body, "\"_id\":\"3\""));
    assert_non_null(strstr(r->body, "\"_id\":\"4\""));
    for (i = 0; i < 8; i++)
        again += s.seen[i + 1] > 1;
    assert_int_equal(again, 2);
    assert_int_equal(o->n_refused, 1);
    assert_int_equal(o->refused[0].rec, 5); /* id 6 */
    assert_string_equal(o->refused[0].reason,
                        "Elasticsearch 400 mapper_parsing_exception: bad field");
    assert_int_equal(o->stats.emitted, 7);
    assert_int_equal(o->stats.req.retries, 1);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

static void test_api_key_and_fatal(void **state)
{
    struct es_script s;
    struct ola_fake *f;
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.status_of[2][0] = 403;
    f = fake_start(es_handler, &s);
    o = make_ok(&doc,
                "url: %s\napi_key: "
                "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\n",
                ola_fake_url(f));
    batch_of(&b, 3, 1);
    assert_int_equal(deliver(o, &b, 20), OLA_FATAL);
    assert_string_equal(
        ola_fake_header(ola_fake_seen(f, 0), "Authorization"),
        "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
    assert_non_null(strstr(o->last_error, "403 security_exception"));
    assert_null(strstr(o->last_error, "VnVhQ2"));
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    /* a whole-request 401: fatal too */
    memset(&s, 0, sizeof(s));
    s.whole = 401;
    o = make_ok(&doc, "url: %s\napi_key: k\n", ola_fake_url(f));
    batch_of(&b, 2, 1);
    assert_int_equal(deliver(o, &b, 20), OLA_FATAL);
    assert_non_null(strstr(o->last_error, "HTTP 401"));
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* The first URL refuses connections: the second takes the requests, no loss. */
static void test_failover(void **state)
{
    struct es_script s;
    struct ola_fake *f, *dead;
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    char dead_url[64];

    (void)state;
    memset(&s, 0, sizeof(s));
    dead = fake_start(es_handler, &s);
    snprintf(dead_url, sizeof(dead_url), "%s", ola_fake_url(dead));
    ola_fake_stop(dead); /* its port now refuses connections */
    f = fake_start(es_handler, &s);
    o = make_ok(&doc, "url: [%s, %s]\nbatch_max_events: 2\n", dead_url, ola_fake_url(f));
    batch_of(&b, 8, 1);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    assert_int_equal(o->stats.emitted, 8);
    /* once skipped, the dead URL is not tried again: 4 requests, each once or twice */
    assert_int_equal(ola_fake_requests(f), 4);
    ola_batch_free(&b);
    batch_of(&b, 4, 20);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    assert_int_equal(ola_fake_requests(f), 6);
    assert_int_equal(o->stats.req.requests[OLA_OUT_SC_NONE] <= 4, true);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

static void test_config_errors(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"index: x\n", "o.yaml:1: url: required"},
        {"url: ftp://es:9200\n", "o.yaml:1: url: must start with https://"},
        {"url: http://es.example.com:9200\n", "o.yaml:1: url: https is required"},
        {"url: [http://127.0.0.1:9200, 'https://u:p@es:9200']\n",
         "o.yaml:1: url: no credentials in the URL"},
        {"url: []\n", "o.yaml:1: url: a list of 1 to 8 URLs"},
        {"url: http://127.0.0.1:9200/?pretty\n", "o.yaml:1: url: the cluster's address"},
        {"url: http://127.0.0.1:9200\nindex: Events\n",
         "o.yaml:2: index: not an index name"},
        {"url: http://127.0.0.1:9200\nindex: _x\n", "o.yaml:2: index: not an index name"},
        {"url: http://127.0.0.1:9200\nusername: u\n",
         "o.yaml:1: username and password go together"},
        {"url: http://127.0.0.1:9200\nusername: u\npassword: p\napi_key: k\n",
         "o.yaml:1: api_key or username and password, not both"},
        {"url: http://127.0.0.1:9200\nusername: 'a:b'\npassword: p\n",
         "o.yaml:2: username: not empty, no ':'"},
        {"url: http://127.0.0.1:9200\nformat: cef\n",
         "o.yaml:2: format: elasticsearch takes JSON documents"},
        {"url: http://127.0.0.1:9200\nindx: x\n", "o.yaml:2: unknown key"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ola_cfg_doc *doc = NULL;
        struct ola_err err = {0, ""};
        struct ola_output *o = make(&doc, cases[i].yaml, &err);

        if (o != NULL || strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: got '%s', want '%s'", i, err.msg, cases[i].want);
        ola_cfg_doc_destroy(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_ids),
        cmocka_unit_test(test_bulk_body),
        cmocka_unit_test(test_items_read),
        cmocka_unit_test(test_request_and_items),
        cmocka_unit_test(test_api_key_and_fatal),
        cmocka_unit_test(test_failover),
        cmocka_unit_test(test_config_errors),
    };

    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
