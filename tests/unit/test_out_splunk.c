/*
 * test_out_splunk.c - the splunk_hec output (outputs/out_splunk.c) against the
 * in-process HTTP fake (tests/lib/http_fake.c) playing HEC.
 *
 * The envelope (time with ms, host, source, sourcetype, index, the record as
 * an object or, for CEF, a string; the Authorization header; the event
 * path), indexer acknowledgment (a channel UUID, ackIds polled until true, a
 * flush that answers OK only then, an ackId never true re-sent after
 * ack_timeout), HEC's codes mapped (token refused: fatal, without the token
 * in the message; busy: retry; invalid data: the one record dead-lettered;
 * no ackId or ACK disabled with ack: true: fatal), and configuration errors
 * with file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "outputs/http_out.h"
#include "tests/lib/http_fake.h"

#define TOKEN "0b1c-hec-t0ken-s3cr3t"

#define OLA_FX_OUTPUT_TYPE  "splunk_hec"
#define OLA_FX_OWN_BATCH_OF /* events with real times: the envelopes carry them */
#include "output_fixture.h"

static void batch_of(struct ola_batch *b, int n, int64_t first_id)
{
    static char raw[64][128];

    ola_batch_init(b);
    for (int i = 0; i < n; i++) {
        json_t *ev;
        struct ola_event *e;

        snprintf(raw[i], sizeof(raw[i]),
                 "{\"id\":%lld,\"created_at\":\"2023-11-14T22:13:20.%03dZ\"}",
                 (long long)(first_id + i), i);
        ev = json_loads(raw[i], 0, NULL);
        assert_non_null(ev);
        e = ola_batch_add(b, OLA_REC_EVENT, ev, raw[i], strlen(raw[i]));
        assert_non_null(e);
        e->id = first_id + i;
        e->created_ms = 1700000000000LL + i;
    }
}

/* ---- HEC as the handler plays it ------------------------------------------------ */

static struct {
    int next_ack;     /* the next ackId */
    int ack_after;    /* an ackId reads true from this poll on (0: the first) */
    int never_below;  /* ackIds below this never read true */
    int polls;        /* ack polls seen */
    int fault_status; /* answer every event post with this status and body */
    const char *fault_body;
    bool no_ack_id; /* 200 without an ackId */
    bool ack_off;   /* the ack endpoint answers 400 code 14 */
} hec;

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return strdup(buf);
}

static int hec_handler(void *arg, const struct ola_fake_req *rq,
                       struct ola_fake_answer *a)
{
    (void)arg;
    if (strcmp(rq->path, "/services/collector/ack") == 0) {
        json_t *j = json_loads(rq->body, 0, NULL), *ids = json_object_get(j, "acks"), *v;
        json_t *out = json_object(), *w;
        size_t i;

        if (hec.ack_off) {
            a->status = 400;
            a->body = strdup("{\"text\":\"ACK is disabled\",\"code\":14}");
        } else {
            hec.polls++;
            json_array_foreach(ids, i, v)
            {
                char k[32];
                json_int_t id = json_integer_value(v);

                snprintf(k, sizeof(k), "%lld", (long long)id);
                json_object_set_new(
                    out, k,
                    json_boolean(hec.polls > hec.ack_after && id >= hec.never_below));
            }
            w = json_pack("{s:O}", "acks", out);
            a->status = 200;
            a->body = json_dumps(w, JSON_COMPACT);
            json_decref(w);
        }
        json_decref(out);
        json_decref(j);
    } else if (hec.fault_status != 0) {
        a->status = hec.fault_status;
        a->body = strdup(hec.fault_body);
    } else if (rq->body != NULL && strstr(rq->body, "\"id\":5,") != NULL) {
        a->status = 400;
        a->body = strdup("{\"text\":\"Invalid data format\",\"code\":6,"
                         "\"invalid-event-number\":0}");
    } else if (hec.no_ack_id) {
        a->status = 200;
        a->body = strdup("{\"text\":\"Success\",\"code\":0}");
    } else {
        a->status = 200;
        a->body =
            dup_printf("{\"text\":\"Success\",\"code\":0,\"ackId\":%d}", hec.next_ack++);
    }
    a->len = strlen(a->body);
    return 0;
}

static struct ola_fake *fake_start(void)
{
    struct ola_fake_opts fo = {.handler = hec_handler};
    struct ola_fake *f = NULL;
    struct ola_err err = {0, ""};

    memset(&hec, 0, sizeof(hec));
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
        rc = ola_output_flush(o, 500);
    } while (rc == OLA_RETRY && ola_mono_ms() < end);
    return rc;
}

/* ---- the envelope ------------------------------------------------------------------ */

static void test_envelope(void **state)
{
    struct ola_fake *f = fake_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    const struct ola_fake_req *rq;
    json_t *env, *ev;
    json_error_t je;
    const char *p;

    (void)state;
    o = make_ok(&doc, "url: %s/\ntoken: %s\nindex: onelogin\nack: false\n",
                ola_fake_url(f), TOKEN);
    batch_of(&b, 3, 1);
    b.ev[2].created_ms = 1700000000999LL;
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    rq = ola_fake_last(f, NULL);
    assert_non_null(rq);
    assert_string_equal(rq->path, "/services/collector/event");
    assert_string_equal(ola_fake_header(rq, "Authorization"), "Splunk " TOKEN);
    assert_null(ola_fake_header(rq, "X-Splunk-Request-Channel"));
    /* three envelopes, one after the other */
    p = rq->body;
    for (int i = 0; i < 3; i++) {
        env = json_loads(p, JSON_DISABLE_EOF_CHECK, &je);
        if (env == NULL)
            fail_msg("envelope %d: %s in %s", i, je.text, rq->body);
        assert_string_equal(json_string_value(json_object_get(env, "source")), "olagent");
        assert_string_equal(json_string_value(json_object_get(env, "sourcetype")),
                            "onelogin:events");
        assert_string_equal(json_string_value(json_object_get(env, "index")), "onelogin");
        assert_true(json_is_string(json_object_get(env, "host")));
        ev = json_object_get(env, "event");
        assert_true(json_is_object(ev));
        assert_int_equal(json_integer_value(json_object_get(ev, "id")), i + 1);
        json_decref(env);
        p += je.position;
    }
    assert_non_null(strstr(rq->body, "{\"time\":1700000000.000,"));
    assert_non_null(strstr(rq->body, "{\"time\":1700000000.001,"));
    assert_non_null(strstr(rq->body, "{\"time\":1700000000.999,"));
    assert_int_equal(o->stats.emitted, 3);
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);

    /* CEF: the line as a JSON string; gzip; no index key when none is set */
    o = make_ok(&doc, "url: %s\ntoken: %s\nack: false\nformat: cef\nsourcetype: ol:cef\n",
                ola_fake_url(f), TOKEN);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    rq = ola_fake_last(f, NULL);
    env = json_loads(rq->body, JSON_DISABLE_EOF_CHECK, &je);
    assert_non_null(env);
    assert_true(json_is_string(json_object_get(env, "event")));
    assert_non_null(strstr(json_string_value(json_object_get(env, "event")), "CEF:0|"));
    assert_null(json_object_get(env, "index"));
    assert_string_equal(json_string_value(json_object_get(env, "sourcetype")), "ol:cef");
    json_decref(env);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* ---- indexer acknowledgment ---------------------------------------------------------
 */

static void test_ack_polled_until_true(void **state)
{
    struct ola_fake *f = fake_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    const struct ola_fake_req *ev_rq, *ack_rq;
    enum ola_rc rc;
    int64_t end;
    bool waited = false;
    json_t *polled;

    (void)state;
    hec.ack_after = 4; /* the fifth poll reads true: 1.5 s after the first */
    o = make_ok(&doc, "url: %s\ntoken: %s\nbatch_max_events: 2\n", ola_fake_url(f),
                TOKEN);
    batch_of(&b, 5, 11);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    end = ola_mono_ms() + 20000;
    do {
        rc = ola_output_flush(o, 300);
        /* a flush short of the acks answers RETRY, saying so */
        waited |=
            rc == OLA_RETRY && strstr(o->last_error, "indexer acknowledgments") != NULL;
    } while (rc == OLA_RETRY && ola_mono_ms() < end);
    assert_int_equal(rc, OLA_OK);
    assert_true(waited);
    assert_int_equal(hec.polls, 5);
    ev_rq = ola_fake_last(f, NULL);
    assert_string_equal(ev_rq->path, "/services/collector/ack");
    ack_rq = ev_rq;
    /* the three requests' ackIds in one poll, on the channel of the events */
    polled = json_loads(ack_rq->body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(polled, "acks")), 3);
    json_decref(polled);
    ev_rq = ola_fake_seen(f, 0);
    assert_string_equal(ev_rq->path, "/services/collector/event");
    assert_non_null(ola_fake_header(ev_rq, "X-Splunk-Request-Channel"));
    assert_int_equal(strlen(ola_fake_header(ev_rq, "X-Splunk-Request-Channel")), 36);
    assert_int_equal(ola_fake_header(ev_rq, "X-Splunk-Request-Channel")[14], '4');
    assert_string_equal(ola_fake_header(ev_rq, "X-Splunk-Request-Channel"),
                        ola_fake_header(ack_rq, "X-Splunk-Request-Channel"));
    assert_string_equal(ola_fake_header(ack_rq, "Authorization"), "Splunk " TOKEN);
    assert_int_equal(ola_fake_count(f, 0, "/services/collector/event"), 3);
    assert_int_equal(o->stats.emitted, 5);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* ackIds 0 and 1 never read true: their requests go again after ack_timeout. */
static void test_ack_never_true_resent(void **state)
{
    struct ola_fake *f = fake_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int64_t t0 = ola_mono_ms();

    (void)state;
    hec.never_below = 2;
    o = make_ok(&doc, "url: %s\ntoken: %s\nbatch_max_events: 3\nack_timeout: 1s\n",
                ola_fake_url(f), TOKEN);
    batch_of(&b, 6, 11);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    assert_true(ola_mono_ms() - t0 >= 1000);
    /* two requests, both re-sent once: their ackIds 2 and 3 read true */
    assert_int_equal(ola_fake_count(f, 0, "/services/collector/event"), 4);
    assert_int_equal(hec.next_ack, 4);
    assert_int_equal(o->stats.emitted, 6);
    assert_int_equal(o->stats.req.retries, 2);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* ---- HEC's codes ---------------------------------------------------------------------
 */

static void test_codes_mapped(void **state)
{
    static const struct {
        int status;
        const char *body;
        enum ola_rc want;
        const char *why;
    } cases[] = {
        {403, "{\"text\":\"Invalid token\",\"code\":4}", OLA_FATAL,
         "the token is refused"},
        {403, "{\"text\":\"Token disabled\",\"code\":1}", OLA_FATAL,
         "the token is refused"},
        {401, "{\"text\":\"Token is required\",\"code\":2}", OLA_FATAL,
         "token is refused"},
        {400, "{\"text\":\"Incorrect index\",\"code\":7}", OLA_FATAL,
         "index is not allowed"},
        {400, "{\"text\":\"ACK is disabled\",\"code\":14}", OLA_FATAL,
         "acknowledgment is off"},
        {400, "{\"text\":\"Data channel is missing\",\"code\":10}", OLA_FATAL,
         "set ack: true"},
        {503, "{\"text\":\"Server is busy\",\"code\":9}", OLA_RETRY,
         "the server is busy"},
        {500, "{\"text\":\"Internal server error\",\"code\":8}", OLA_RETRY, "busy"},
        {503, "<html>503 Service Unavailable</html>", OLA_RETRY, "HTTP 503"},
    };
    struct ola_fake *f = fake_start();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ola_cfg_doc *doc = NULL;
        struct ola_output *o;
        struct ola_batch b;
        enum ola_rc rc;

        hec.fault_status = cases[i].status;
        hec.fault_body = cases[i].body;
        o = make_ok(&doc, "url: %s\ntoken: %s\n", ola_fake_url(f), TOKEN);
        batch_of(&b, 2, 1);
        assert_int_equal(ola_output_write(o, &b), OLA_OK);
        rc = ola_output_flush(o, 2000);
        if (rc != cases[i].want || strstr(o->last_error, cases[i].why) == NULL)
            fail_msg("case %zu: rc %d, '%s'", i, rc, o->last_error);
        assert_null(strstr(o->last_error, TOKEN));
        ola_output_destroy(o);
        ola_batch_free(&b);
        ola_cfg_doc_destroy(doc);
    }
    ola_fake_stop(f);
}

/* code 6 for a batch of 8: halves down to record id 5, dead-lettered alone. */
static void test_invalid_event_dead_lettered(void **state)
{
    struct ola_fake *f = fake_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;

    (void)state;
    o = make_ok(&doc, "url: %s\ntoken: %s\n", ola_fake_url(f), TOKEN);
    batch_of(&b, 8, 1);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    assert_int_equal(o->n_refused, 1);
    assert_int_equal(o->refused[0].rec, 4); /* id 5 */
    assert_non_null(strstr(o->refused[0].reason, "Invalid data format"));
    assert_int_equal(o->stats.emitted, 7);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* ack: true against a token without acknowledgment: one clear fatal line. */
static void test_ack_off_at_server_fatal(void **state)
{
    struct ola_fake *f = fake_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;

    (void)state;
    hec.no_ack_id = true;
    o = make_ok(&doc, "url: %s\ntoken: %s\n", ola_fake_url(f), TOKEN);
    batch_of(&b, 2, 1);
    assert_int_equal(deliver(o, &b, 10), OLA_FATAL);
    assert_non_null(strstr(o->last_error, "without an ackId"));
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    hec.no_ack_id = false;
    hec.ack_off = true;
    o = make_ok(&doc, "url: %s\ntoken: %s\n", ola_fake_url(f), TOKEN);
    assert_int_equal(deliver(o, &b, 10), OLA_FATAL);
    assert_non_null(strstr(o->last_error, "ack poll: HTTP 400, HEC code 14"));
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* ---- configuration -------------------------------------------------------------------
 */

static void test_config_errors(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"url: http://splunk.example.com:8088\ntoken: t\n",
         "o.yaml:1: url: https is required except on loopback"},
        {"url: https://s.example.com:8088/services/collector/event\ntoken: t\n",
         "o.yaml:1: url: the HEC base URL, without /services/collector"},
        {"url: https://s.example.com:8088/?x=1\ntoken: t\n", "o.yaml:1: url: no query"},
        {"url: https://s.example.com:8088\n", "token"},
        {"url: https://s.example.com:8088\ntoken: \"\"\n", "token"},
        {"url: https://s.example.com:8088\ntoken: t\nindex: Main\n",
         "o.yaml:3: index: a Splunk index name"},
        {"url: https://s.example.com:8088\ntoken: t\nindex: _internal\n",
         "o.yaml:3: index: a Splunk index name"},
        {"url: https://s.example.com:8088\ntoken: t\nsourcetype: \"\"\n",
         "o.yaml:3: sourcetype: 1 to 200 characters"},
        {"url: https://s.example.com:8088\ntoken: t\nack_timeout: 10ms\n", "o.yaml:3:"},
        {"url: https://s.example.com:8088\ntoken: t\ncompression: zstd\n", "o.yaml:3:"},
        {"url: https://s.example.com:8088\ntoken: t\nack_timout: 5s\n", "ack_timeout"},
        {"url: https://s.example.com:8088\ntoken: \"a\\nb\"\n", "token: no line breaks"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ola_cfg_doc *doc = NULL;
        struct ola_err err = {0, ""};
        struct ola_output *o = make(&doc, cases[i].yaml, &err);

        if (o != NULL || strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want, err.msg);
        ola_output_destroy(o);
        ola_cfg_doc_destroy(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_ack_polled_until_true),
        cmocka_unit_test(test_ack_never_true_resent),
        cmocka_unit_test(test_codes_mapped),
        cmocka_unit_test(test_invalid_event_dead_lettered),
        cmocka_unit_test(test_ack_off_at_server_fatal),
        cmocka_unit_test(test_config_errors),
    };

    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
