/*
 * test_out_kafka.c - the Kafka output's delivery against an in-process mock
 * cluster.
 *
 * Each test starts librdkafka's mock cluster (real Kafka protocol on
 * loopback, kafka_fixture.h), opens the output from a YAML string the way the
 * agent does, drives write/flush like the pipeline, and reads the topic back
 * with a plain librdkafka consumer. Covered: acknowledgement only after
 * delivery reports (RETRY while the leader is down, OK after), no loss, queue
 * limits, fatal-error rebuild, dead letters and unknown topics. Templates,
 * keys, config errors and secrets are in test_out_kafka_settings.c.
 */
#include "kafka_fixture.h"

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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
