/*
 * kafka_fixture.h - the fixture of the Kafka output tests (test_out_kafka.c,
 * test_out_kafka_settings.c): an in-process mock cluster, the output under
 * test, one batch and what was read back.
 *
 * The setup starts librdkafka's mock cluster (real Kafka protocol on
 * loopback, three brokers, topic t.events led by broker 1) and a temporary
 * directory for the dead-letter file. A test opens the output from a YAML
 * string the way the agent does, drives write/flush like the pipeline, and
 * reads the topic back with a plain librdkafka consumer.
 */
#ifndef OLA_KAFKA_FIXTURE_H
#define OLA_KAFKA_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static inline int ola_t_setup(void **state)
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

static inline int ola_t_teardown(void **state)
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
static inline int ola_t_open(struct ola_t *t, const char *yaml, struct ola_err *err)
{
    struct ola_output_cfg oc = {.type = "kafka", .name = "k"};

    if (ola_cfg_load_string("test.yaml", yaml, strlen(yaml), &t->doc, err) != 0)
        return -1;
    oc.node = ola_cfg_root(t->doc);
    t->out = ola_output_new(&oc, 0, err);
    return t->out != NULL ? 0 : -1;
}

static inline void ola_t_open_ok(struct ola_t *t, const char *extra)
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
static inline struct ola_event *ola_t_add(struct ola_t *t, long long id, size_t size)
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
static inline enum ola_rc ola_t_flush_until_ok(struct ola_t *t, int secs)
{
    int64_t end = ola_mono_ms() + (int64_t)secs * 1000;
    enum ola_rc rc;

    while ((rc = ola_output_flush(t->out, 1000)) == OLA_RETRY && ola_mono_ms() < end)
        ;
    return rc;
}

/* Reads partition 0 of topic from the beginning to the end into t->keys/vals. */
static inline void ola_t_consume(struct ola_t *t, const char *topic)
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
static inline void ola_t_expect_ids(struct ola_t *t, long long first, size_t n)
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

#endif
