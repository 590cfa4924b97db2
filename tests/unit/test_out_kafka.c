/*
 * test_out_kafka.c - the Kafka output against an in-process mock cluster.
 *
 * Each test starts librdkafka's mock cluster (real Kafka protocol on
 * loopback), opens the output from a YAML string the way the agent does,
 * drives write/flush like the pipeline, and reads the topic back with a
 * plain librdkafka consumer. Covered: acknowledgement only after delivery
 * reports (RETRY while the leader is down, OK after), no loss, queue limits,
 * fatal-error rebuild, dead letters, templates, keys and config errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "agent/core/timeutil.h"
#include "outputs/out_kafka.h"
#include "tests/lib/unit_files.h"

#define OLA_T_MAX 512

struct ola_t {
    rd_kafka_t *host; /* hosts the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    char bootstrap[256];
    char dir[64];
    char dead[128];
    struct ola_cfg_doc *doc;
    struct ola_output *out;
    struct ola_batch b;
    char raw[OLA_T_MAX][512]; /* event bytes; the batch points into them */
    size_t n_raw;
    char keys[OLA_T_MAX * 2][64]; /* read back */
    char vals[OLA_T_MAX * 2][512];
    size_t n_got;
};

static int ola_t_setup(void **state)
{
    struct ola_t *t = calloc(1, sizeof(*t));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];

    assert_non_null(t);
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    t->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(t->host);
    t->mc = rd_kafka_mock_cluster_new(t->host, 3);
    assert_non_null(t->mc);
    snprintf(t->bootstrap, sizeof(t->bootstrap), "%s",
             rd_kafka_mock_cluster_bootstraps(t->mc));
    assert_int_equal(rd_kafka_mock_topic_create(t->mc, "t.events", 1, 3), 0);
    assert_int_equal(rd_kafka_mock_partition_set_leader(t->mc, "t.events", 0, 1), 0);
    snprintf(t->dir, sizeof(t->dir), "/tmp/ola_kafka_XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->dead, sizeof(t->dead), "%s/dead.ndjson", t->dir);
    ola_batch_init(&t->b);
    ola_log_setup(OLA_LOG_WARN, OLA_LOG_TEXT, NULL);
    *state = t;
    return 0;
}

static int ola_t_teardown(void **state)
{
    struct ola_t *t = *state;

    ola_output_destroy(t->out);
    ola_cfg_doc_destroy(t->doc);
    ola_batch_free(&t->b);
    rd_kafka_mock_cluster_destroy(t->mc);
    rd_kafka_destroy(t->host);
    unlink(t->dead);
    rmdir(t->dir);
    free(t);
    return 0;
}

/* Loads yaml (one output's map) and creates the output; returns 0 / -1 with err. */
static int ola_t_open(struct ola_t *t, const char *yaml, struct ola_err *err)
{
    struct ola_output_cfg oc = {.type = "kafka", .name = "k"};

    if (ola_cfg_load_string("test.yaml", yaml, strlen(yaml), &t->doc, err) != 0)
        return -1;
    oc.node = ola_cfg_root(t->doc);
    t->out = ola_output_new(&oc, 0, err);
    return t->out != NULL ? 0 : -1;
}

static void ola_t_open_ok(struct ola_t *t, const char *extra)
{
    char yaml[2048];
    struct ola_err err = {0};

    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: %s\ntopic: t.events\ndead_letter: %s\n%s",
             t->bootstrap, t->dead, extra != NULL ? extra : "");
    if (ola_t_open(t, yaml, &err) != 0)
        fail_msg("open: %s", err.msg);
}

/* Adds an event with id and a payload of about size bytes. */
static struct ola_event *ola_t_add(struct ola_t *t, long long id, size_t size)
{
    char *raw = t->raw[t->n_raw++];
    char pad[400];
    struct ola_event *e;
    json_t *ev;
    size_t n;

    assert_true(size < sizeof(pad));
    memset(pad, 'p', size);
    pad[size] = '\0';
    n = (size_t)snprintf(raw, sizeof(t->raw[0]),
                         "{\"id\":%lld,\"event_type_id\":5,\"notes\":\"%s\"}", id, pad);
    ev = json_loadb(raw, n, 0, NULL);
    assert_non_null(ev);
    e = ola_batch_add(&t->b, OLA_REC_EVENT, ev, raw, n);
    assert_non_null(e);
    e->id = id;
    return e;
}

/* Flushes (1 s each) until OK or `secs` seconds have passed on the monotonic
 * clock (a deadline, not a count of calls: a flush may return early). Returns
 * the last answer. */
static enum ola_rc ola_t_flush_until_ok(struct ola_t *t, int secs)
{
    int64_t end = ola_mono_ms() + (int64_t)secs * 1000;
    enum ola_rc rc;

    while ((rc = ola_output_flush(t->out, 1000)) == OLA_RETRY && ola_mono_ms() < end)
        ;
    return rc;
}

/* Reads partition 0 of topic from the beginning to the end into t->keys/vals. */
static void ola_t_consume(struct ola_t *t, const char *topic)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    char errstr[256];
    rd_kafka_t *c;
    int64_t quiet_until = ola_mono_ms() + 30000; /* 30 s without a message: done */

    t->n_got = 0;
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", t->bootstrap, errstr,
                                       sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "group.id", "ola-test", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(c);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, parts), 0);
    while (ola_mono_ms() < quiet_until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 1000);

        if (m == NULL)
            continue;
        quiet_until = ola_mono_ms() + 30000;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err == 0 && t->n_got < OLA_T_MAX * 2) {
            snprintf(t->keys[t->n_got], sizeof(t->keys[0]), "%.*s",
                     m->key != NULL ? (int)m->key_len : 0,
                     m->key != NULL ? (const char *)m->key : "");
            snprintf(t->vals[t->n_got], sizeof(t->vals[0]), "%.*s", (int)m->len,
                     (const char *)m->payload);
            t->n_got++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

/* Every id in [first, first+n) exactly once, in order, key = id, value = bytes. */
static void ola_t_expect_ids(struct ola_t *t, long long first, size_t n)
{
    size_t i;

    assert_int_equal(t->n_got, n);
    for (i = 0; i < n; i++) {
        char want[32];

        snprintf(want, sizeof(want), "%lld", first + (long long)i);
        assert_string_equal(t->keys[i], want);
        assert_non_null(strstr(t->vals[i], want));
    }
}

/* ---- delivery --------------------------------------------------------------- */

static void test_delivered_after_reports(void **state)
{
    struct ola_t *t = *state;
    size_t i;

    ola_t_open_ok(t, NULL);
    for (i = 0; i < 50; i++)
        ola_t_add(t, 100 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_kafka_pending(t->out), 50);
    assert_int_equal(t->out->stats.emitted, 0); /* accepted is not delivered */
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(ola_kafka_pending(t->out), 0);
    assert_int_equal(t->out->stats.emitted, 50);
    ola_t_consume(t, "t.events");
    ola_t_expect_ids(t, 100, 50);
}

static void test_broker_down_retry_then_ok(void **state)
{
    struct ola_t *t = *state;
    size_t i;
    int r;

    ola_t_open_ok(t, NULL);
    /* A first batch, delivered: the producer knows the leader. */
    for (i = 0; i < 10; i++)
        ola_t_add(t, 1 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    ola_batch_reset(&t->b);

    assert_int_equal(rd_kafka_mock_broker_set_down(t->mc, 1), 0);
    for (i = 0; i < 40; i++)
        ola_t_add(t, 11 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    for (r = 0; r < 3; r++)
        assert_int_equal(ola_output_flush(t->out, 300), OLA_RETRY);
    assert_int_equal(ola_kafka_pending(t->out), 40);
    assert_int_equal(t->out->stats.emitted, 10);
    assert_true(t->out->last_error[0] != '\0');

    assert_int_equal(rd_kafka_mock_broker_set_up(t->mc, 1), 0);
    assert_int_equal(ola_t_flush_until_ok(t, 60), OLA_OK);
    assert_int_equal(t->out->stats.emitted, 50);
    ola_t_consume(t, "t.events");
    ola_t_expect_ids(t, 1, 50);
}

/* Past message.timeout.ms librdkafka gives up; the output produces again. */
static void test_message_timeout_reproduced(void **state)
{
    struct ola_t *t = *state;
    size_t i;
    int64_t end;

    ola_t_open_ok(t, "message_timeout: 1s\n");
    for (i = 0; i < 5; i++)
        ola_t_add(t, 1 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    ola_batch_reset(&t->b);

    assert_int_equal(rd_kafka_mock_broker_set_down(t->mc, 1), 0);
    for (i = 0; i < 20; i++)
        ola_t_add(t, 6 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    /* Long enough for every message to time out inside librdkafka: 4 s on the
     * monotonic clock, however quickly each flush returns. */
    end = ola_mono_ms() + 4000;
    do
        assert_int_equal(ola_output_flush(t->out, 1000), OLA_RETRY);
    while (ola_mono_ms() < end);
    assert_non_null(strstr(t->out->last_error, "not delivered yet"));
    assert_int_equal(ola_kafka_pending(t->out), 20);
    assert_int_equal(rd_kafka_mock_broker_set_up(t->mc, 1), 0);
    assert_int_equal(ola_t_flush_until_ok(t, 60), OLA_OK);
    ola_t_consume(t, "t.events");
    ola_t_expect_ids(t, 1, 25);
}

/* A batch larger than librdkafka's queue: QUEUE_FULL is absorbed by flush. */
static void test_queue_limit(void **state)
{
    struct ola_t *t = *state;
    size_t i;

    ola_t_open_ok(t, "queue_max_messages: 8\n");
    for (i = 0; i < 100; i++)
        ola_t_add(t, 1 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    /* The table is full: another batch is refused whole until the first is acked. */
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_RETRY);
    assert_int_equal(ola_kafka_pending(t->out), 100);
    assert_int_equal(ola_t_flush_until_ok(t, 60), OLA_OK);
    ola_t_consume(t, "t.events");
    ola_t_expect_ids(t, 1, 100);
}

static void test_fatal_error_rebuilds(void **state)
{
    struct ola_t *t = *state;
    rd_kafka_t *before;
    size_t i, j;

    ola_t_open_ok(t, NULL);
    for (i = 0; i < 30; i++)
        ola_t_add(t, 1 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    before = ola_kafka_handle(t->out);
    assert_int_equal(
        rd_kafka_test_fatal_error(before, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, "fenced"),
        0);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(ola_kafka_rebuilds(t->out), 1);
    assert_ptr_not_equal(ola_kafka_handle(t->out), NULL);
    assert_int_equal(t->out->stats.emitted, 30);
    ola_t_consume(t, "t.events");
    ola_t_expect_ids(t, 1, 30);

    /* Fatal while messages are in flight: every one is still delivered. */
    ola_batch_reset(&t->b);
    t->n_raw = 0;
    for (i = 0; i < 30; i++)
        ola_t_add(t, 31 + (long long)i, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    (void)ola_output_flush(t->out, 0); /* produced, reports not served */
    assert_int_equal(rd_kafka_test_fatal_error(
                         ola_kafka_handle(t->out),
                         RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "sequence"),
                     0);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(ola_kafka_rebuilds(t->out), 2);
    ola_t_consume(t, "t.events");
    /* At least once: a message the broker took before the fatal error may repeat. */
    for (i = 31; i <= 60; i++) {
        char want[32];
        bool seen = false;

        snprintf(want, sizeof(want), "%zu", i);
        for (j = 0; j < t->n_got; j++)
            seen = seen || strcmp(t->keys[j], want) == 0;
        assert_true(seen);
    }
}

/* ---- dead letters ------------------------------------------------------------ */

static void test_dead_letter_too_large(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    char dl[4096];

    ola_t_open_ok(t, "properties:\n  message.max.bytes: 1000\n");
    ola_t_add(t, 1, 20);
    ola_t_add(t, 2, 390);
    /* Make record 2 bigger than message.max.bytes by repeating its notes. */
    {
        struct ola_event *e = &t->b.ev[1];
        static char big[2000];
        int n = snprintf(big, sizeof(big), "{\"id\":2,\"notes\":\"%0*d\"}", 1500, 7);

        e->raw = big;
        e->raw_len = (size_t)n;
    }
    ola_t_add(t, 3, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    /* the output only noted the refusal; the pipeline's bury writes the letter */
    assert_int_equal(t->out->n_refused, 1);
    assert_int_equal(t->out->refused[0].rec, 1);
    assert_int_equal(ola_output_bury(t->out, &t->b, &err), 0);
    assert_int_equal(t->out->n_refused, 0);
    assert_true((t->b.ev[1].refused & 1) != 0);
    assert_false(ola_output_takes(t->out, &t->b.ev[1]));
    assert_int_equal(t->out->stats.dead_letters, 1);
    assert_int_equal(t->out->stats.emitted, 2);
    assert_true(ola_test_read_text(t->dead, dl, sizeof(dl)) > 0);
    assert_non_null(strstr(dl, "\"reason\":\"kafka: Broker: Message size too large"));
    assert_non_null(strstr(dl, "\"output\":\"k\""));
    assert_non_null(strstr(dl, "\"id\":2,"));
    assert_non_null(strstr(dl, "{\\\"id\\\":2,"));
    assert_null(strchr(strchr(dl, '\n') + 1, '\n')); /* one line */
    ola_t_consume(t, "t.events");
    assert_int_equal(t->n_got, 2);
    assert_string_equal(t->keys[0], "1");
    assert_string_equal(t->keys[1], "3");
}

/* The broker rejects a produce request for good: the records go to the dead letter. */
static void test_dead_letter_broker_reject(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    char dl[4096];

    ola_t_open_ok(t, NULL);
    ola_t_add(t, 1, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    ola_batch_reset(&t->b);

    rd_kafka_mock_push_request_errors(t->mc, 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_INVALID_RECORD);
    ola_t_add(t, 2, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(ola_output_bury(t->out, &t->b, &err), 0);
    assert_int_equal(t->out->stats.dead_letters, 1);
    assert_true(ola_test_read_text(t->dead, dl, sizeof(dl)) > 0);
    assert_non_null(strstr(dl, "kafka: Broker: Broker failed to validate record"));
    ola_batch_reset(&t->b);

    /* The pipeline is not blocked: the next record goes through. */
    ola_t_add(t, 3, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    ola_t_consume(t, "t.events");
    assert_int_equal(t->n_got, 2);
    assert_string_equal(t->keys[0], "1");
    assert_string_equal(t->keys[1], "3");
}

/*
 * A permanent failure is a refusal of that record, whatever the config: flush
 * answers OK. Burying it needs a file: without one the letter waits (the
 * pipeline gives every output a default file beside the checkpoint).
 */
static void test_no_dead_letter_is_error(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    char yaml[512];

    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: %s\ntopic: t.events\n"
             "properties:\n  message.max.bytes: 1000\n",
             t->bootstrap);
    assert_int_equal(ola_t_open(t, yaml, &err), 0);
    ola_t_add(t, 1, 20);
    {
        static char big[2000];
        int n = snprintf(big, sizeof(big), "{\"id\":1,\"notes\":\"%0*d\"}", 1500, 7);

        t->b.ev[0].raw = big;
        t->b.ev[0].raw_len = (size_t)n;
    }
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(t->out->n_refused, 1);
    assert_non_null(strstr(t->out->refused[0].reason, "Message size too large"));
    assert_int_equal(ola_output_bury(t->out, &t->b, &err), -1);
    assert_non_null(strstr(err.msg, "no dead_letter file configured"));
    assert_int_equal(t->out->n_refused, 1); /* kept, not dropped */
    assert_int_equal(t->out->stats.dead_letters, 0);
    {
        char cp[512];

        snprintf(cp, sizeof(cp), "%s/checkpoint.json", t->dir);
        assert_int_equal(ola_output_default_dead_letter(t->out, cp, &err), 0);
    }
    assert_int_equal(ola_output_bury(t->out, &t->b, &err), 0);
    assert_int_equal(t->out->stats.dead_letters, 1);
    {
        char path[512], dl[4096];

        snprintf(path, sizeof(path), "%s/dead-letter.k.ndjson", t->dir);
        assert_true(ola_test_read_text(path, dl, sizeof(dl)) > 0);
        assert_non_null(strstr(dl, "\"id\":1,"));
        unlink(path);
    }
}

/*
 * The broker says a topic does not exist (what a broker with auto-creation off
 * answers; the mock auto-creates, so the topic's metadata error is set).
 */
static void ola_t_missing_topic(struct ola_t *t, const char *topic)
{
    assert_int_equal(rd_kafka_mock_topic_create(t->mc, topic, 1, 1), 0);
    rd_kafka_mock_topic_set_error(t->mc, topic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}

/*
 * A fixed topic that does not exist, auto-creation off: librdkafka gives up on
 * it after topic.metadata.propagation.max.ms and the output answers FATAL,
 * naming the topic, instead of retrying forever.
 */
static void test_unknown_topic_fatal(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    char yaml[512];
    enum ola_rc rc = OLA_RETRY;
    int64_t deadline;

    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: %s\ntopic: t.missing\n"
             "properties:\n  topic.metadata.propagation.max.ms: \"500\"\n",
             t->bootstrap);
    ola_t_missing_topic(t, "t.missing");
    assert_int_equal(ola_t_open(t, yaml, &err), 0);
    ola_t_add(t, 1, 20);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    deadline = ola_mono_ms() + 30000;
    while (rc == OLA_RETRY && ola_mono_ms() < deadline)
        rc = ola_output_flush(t->out, 1000);
    assert_int_equal(rc, OLA_FATAL);
    assert_non_null(strstr(t->out->last_error, "t.missing"));
    assert_int_equal(t->out->n_refused, 0);
    assert_int_equal(ola_kafka_pending(t->out), 1); /* nothing counted as delivered */
}

/* The same topic error from a template only refuses the records routed to it. */
static void test_unknown_topic_template_refuses(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    char yaml[512];
    struct ola_event *e;

    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: %s\ntopic: \"t.{category}\"\n"
             "properties:\n  topic.metadata.propagation.max.ms: \"500\"\n",
             t->bootstrap);
    ola_t_missing_topic(t, "t.uncategorized");
    assert_int_equal(ola_t_open(t, yaml, &err), 0);
    ola_t_add(t, 1, 20); /* no category: t.uncategorized, which does not exist */
    e = ola_t_add(t, 2, 20);
    e->ola = json_pack("{s:{s:[s]}}", "event_type", "categories", "events");
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(t->out->n_refused, 1);
    assert_int_equal(t->out->refused[0].rec, 0);
    assert_non_null(strstr(t->out->refused[0].reason, "t.uncategorized"));
    assert_int_equal(t->out->stats.emitted, 1);
}

/* ---- templates and keys ------------------------------------------------------ */

static void test_topic_template(void **state)
{
    struct ola_t *t = *state;
    struct ola_event *e;
    struct ola_buf out = OLA_BUF_INIT;
    json_t *et;

    e = ola_t_add(t, 42, 5);
    assert_int_equal(ola_kafka_expand("onelogin.{category}", e, true, &out), 0);
    assert_string_equal(out.data, "onelogin.uncategorized");
    ola_buf_reset(&out);
    et = json_pack("{s:{s:i,s:[s,s]}}", "event_type", "id", 5, "categories",
                   "login failure", "mfa");
    e->ola = et;
    assert_int_equal(ola_kafka_expand("onelogin.{category}", e, true, &out), 0);
    assert_string_equal(out.data, "onelogin.login_failure"); /* space mapped */
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("{category}", e, false, &out), 0);
    assert_string_equal(out.data, "login failure");
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("ev.{event_type_id}.{{x}", e, true, &out), 0);
    assert_string_equal(out.data, "ev.5._x_"); /* "{{" is "{", then mapped */
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("{id}", e, false, &out), 0);
    assert_string_equal(out.data, "42");
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("x.{nope}", e, true, &out), -1);
    assert_int_equal(out.len, 0);
    assert_int_equal(ola_kafka_template_check("a.{category}.{event_type_id}", NULL), 0);
    assert_int_equal(ola_kafka_template_check("a.{user}", NULL), -1);
    assert_int_equal(ola_kafka_template_check("a.{id", NULL), -1);
    ola_buf_free(&out);
}

static void test_alert_key(void **state)
{
    struct ola_t *t = *state;
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_event *e;

    e = ola_batch_add(
        &t->b, OLA_REC_ALERT,
        json_pack("{s:s,s:s,s:i}", "rule", "brute_force", "key", "alice", "count", 12),
        NULL, 0);
    assert_non_null(e);
    assert_int_equal(ola_kafka_expand("{id}", e, false, &out), 0);
    assert_string_equal(out.data, "brute_force:alice");
    ola_buf_free(&out);
}

/* Routing by category: each record lands on its own topic, keyed by id. */
static void test_topic_routing_end_to_end(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    struct ola_event *e;
    char yaml[512];

    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: %s\ntopic: \"t.{category}\"\ndead_letter: %s\n",
             t->bootstrap, t->dead);
    assert_int_equal(rd_kafka_mock_topic_create(t->mc, "t.mfa", 1, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(t->mc, "t.uncategorized", 1, 1), 0);
    assert_int_equal(ola_t_open(t, yaml, &err), 0);
    e = ola_t_add(t, 7, 5);
    e->ola = json_pack("{s:{s:[s]}}", "event_type", "categories", "mfa");
    ola_t_add(t, 8, 5);
    e = ola_t_add(t, 9, 5);
    e->routes = 0; /* not for this output */
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(t->out->stats.emitted, 2);
    ola_t_consume(t, "t.mfa");
    assert_int_equal(t->n_got, 1);
    assert_string_equal(t->keys[0], "7");
    assert_non_null(strstr(t->vals[0], "\"olagent\":{\"event_type\""));
    ola_t_consume(t, "t.uncategorized");
    assert_int_equal(t->n_got, 1);
    assert_string_equal(t->keys[0], "8");
}

static void test_errclass(void **state)
{
    (void)state;
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE),
                     OLA_KAFKA_DEAD);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR_INVALID_RECORD),
                     OLA_KAFKA_DEAD);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT),
                     OLA_KAFKA_RETRY);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT),
                     OLA_KAFKA_RETRY);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED),
                     OLA_KAFKA_TOPIC);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC),
                     OLA_KAFKA_TOPIC);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART),
                     OLA_KAFKA_RETRY);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED),
                     OLA_KAFKA_STOP);
    assert_int_equal(ola_kafka_errclass(RD_KAFKA_RESP_ERR__FATAL), OLA_KAFKA_REBUILD);
}

/* ---- configuration errors ---------------------------------------------------- */

static void ola_t_expect_cfg_error(struct ola_t *t, const char *yaml, const char *want)
{
    struct ola_err err = {0};

    assert_int_equal(ola_t_open(t, yaml, &err), -1);
    assert_null(t->out);
    if (strncmp(err.msg, "test.yaml:", 10) != 0 || strstr(err.msg, want) == NULL)
        fail_msg("error '%s' lacks 'test.yaml:' or '%s'", err.msg, want);
    ola_cfg_doc_destroy(t->doc);
    t->doc = NULL;
}

static void test_config_errors(void **state)
{
    struct ola_t *t = *state;

    ola_t_expect_cfg_error(t, "type: kafka\ntopic: x\n", "brokers: required");
    ola_t_expect_cfg_error(t, "type: kafka\nbrokers: h:1\nacks: 2\n", "acks");
    ola_t_expect_cfg_error(t, "type: kafka\nbrokers: h:1\nacks: 0\n",
                           "no delivery report");
    ola_t_expect_cfg_error(t, "type: kafka\nbrokers: h:1\nacks: 1\n",
                           "idempotence needs acks: all");
    ola_t_expect_cfg_error(t, "type: kafka\nbrokers: h:1\ncompression: brotli\n",
                           "compression");
    ola_t_expect_cfg_error(t, "type: kafka\nbrokers: h:1\ntopic: \"a.{user}\"\n",
                           "test.yaml:3: topic: unknown variable '{user}'");
    ola_t_expect_cfg_error(t,
                           "type: kafka\nbrokers: h:1\nproperties:\n"
                           "  linger.ms: 5\n  no.such.property: 1\n",
                           "test.yaml:5: properties.no.such.property: librdkafka says");
    ola_t_expect_cfg_error(t, "type: kafka\nbrokers: h:1\nbogus: 1\n",
                           "unknown key 'bogus'");
    ola_t_expect_cfg_error(
        t, "type: kafka\nbrokers: h:1\nmessage_timeout: 500ms\n",
        "test.yaml:3: message_timeout: 0 (never give up) or at least 1s");
    /* What olagent sets itself cannot be overridden (acks 0 would void the guarantee). */
    ola_t_expect_cfg_error(
        t, "type: kafka\nbrokers: h:1\nproperties:\n  acks: 0\n",
        "test.yaml:4: properties.acks: set it with the output's `acks:` key");
    ola_t_expect_cfg_error(t,
                           "type: kafka\nbrokers: h:1\nproperties:\n"
                           "  enable.idempotence: false\n",
                           "`idempotence:` key");
}

static void test_config_ok(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    char yaml[512];

    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: [%s]\ntopic: t.events\nkey: \"\"\nacks: 1\n"
             "idempotence: false\ncompression: gzip\nproperties:\n  linger.ms: 1\n",
             t->bootstrap);
    if (ola_t_open(t, yaml, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ola_output_check(t->out, &err), 0);
    ola_t_add(t, 1, 5);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    ola_t_consume(t, "t.events");
    assert_int_equal(t->n_got, 1);
    assert_non_null(strstr(t->vals[0], "{\"id\":1,"));
    assert_int_equal(t->out->stats.emitted, 1);
}

/* ---- secrets ------------------------------------------------------------------- */

/*
 * A ${VAR} value and a *_file value never show in errors or logs: librdkafka
 * quotes a bad value in its error, and its `debug: conf` dump prints every
 * property that it does not itself deem sensitive (client.id here).
 */
static void test_secrets_hidden(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    char yaml[1024], path[160], logpath[160], logs[65536], got[64];
    size_t got_len = sizeof(got);
    FILE *f, *log;

    setenv("OLA_T_PROTO", "Hunter2Proto", 1);
    ola_t_expect_cfg_error(t,
                           "type: kafka\nbrokers: h:1\nproperties:\n"
                           "  security.protocol: ${OLA_T_PROTO}\n",
                           "test.yaml:4: properties.security.protocol: librdkafka says");
    assert_int_equal(ola_t_open(t,
                                "type: kafka\nbrokers: h:1\nproperties:\n"
                                "  security.protocol: ${OLA_T_PROTO}\n",
                                &err),
                     -1);
    assert_null(strstr(err.msg, "Hunter2"));
    assert_non_null(strstr(err.msg, "****"));
    ola_cfg_doc_destroy(t->doc);
    t->doc = NULL;

    snprintf(path, sizeof(path), "%s/kafka.pw", t->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("Hunter2Pass\n", f);
    fclose(f);
    chmod(path, 0600);
    snprintf(logpath, sizeof(logpath), "%s/log.txt", t->dir);
    log = fopen(logpath, "w");
    assert_non_null(log);
    ola_log_setup(OLA_LOG_DEBUG, OLA_LOG_TEXT, log);
    setenv("OLA_T_CLIENT", "Hunter2Client", 1);
    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: %s\ntopic: t.events\nproperties:\n"
             "  debug: conf\n  client.id: ${OLA_T_CLIENT}\n"
             "  sasl.password_file: %s\n",
             t->bootstrap, path);
    if (ola_t_open(t, yaml, &err) != 0)
        fail_msg("open: %s", err.msg);
    /* The file's content (without its newline) reached librdkafka. */
    assert_int_equal(rd_kafka_conf_get(rd_kafka_conf(ola_kafka_handle(t->out)),
                                       "sasl.password", got, &got_len),
                     RD_KAFKA_CONF_OK);
    assert_string_equal(got, "Hunter2Pass");
    ola_t_add(t, 1, 5);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    ola_output_destroy(t->out);
    t->out = NULL;
    ola_log_setup(OLA_LOG_WARN, OLA_LOG_TEXT, NULL);
    fclose(log);
    assert_true(ola_test_read_text(logpath, logs, sizeof(logs)) > 0);
    unlink(logpath);
    unlink(path);
    /* The dump happened (so the test can fail) and hid the values. */
    assert_non_null(strstr(logs, "client.id = ****"));
    if (strstr(logs, "Hunter2") != NULL)
        fail_msg("a secret reached the log:\n%s", strstr(logs, "Hunter2") - 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delivered_after_reports, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_broker_down_retry_then_ok, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_message_timeout_reproduced, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_queue_limit, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_fatal_error_rebuilds, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_too_large, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_broker_reject, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_topic_fatal, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_topic_template_refuses, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_no_dead_letter_is_error, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_topic_template, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_alert_key, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_topic_routing_end_to_end, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test(test_errclass),
        cmocka_unit_test_setup_teardown(test_config_errors, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_config_ok, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_secrets_hidden, ola_t_setup, ola_t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
