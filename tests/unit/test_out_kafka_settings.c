/*
 * test_out_kafka_settings.c - the Kafka output's settings: topic templates
 * and keys, the classes of librdkafka errors, config errors and secrets.
 *
 * The fixture (kafka_fixture.h) starts librdkafka's mock cluster on loopback
 * for each test; templates and keys are checked directly on records, routing
 * and a valid config end to end by reading the topics back, config errors by
 * the message each YAML string gets, and secrets by what reaches errors and
 * librdkafka's own debug log.
 */
#include <sys/stat.h>

#include "kafka_fixture.h"

/* ---- templates and keys ------------------------------------------------------ */

static void test_topic_template(void **state)
{
    struct ola_t *t = *state;
    struct ola_event *e;
    struct ola_buf out = OLA_BUF_INIT;
    json_t *et;

    e = ola_t_add(t, 42, 5);
    assert_int_equal(ola_kafka_expand("onelogin.{category}", e, NULL, true, &out), 0);
    assert_string_equal(out.data, "onelogin.uncategorized");
    ola_buf_reset(&out);
    et = json_pack("{s:{s:i,s:[s,s]}}", "event_type", "id", 5, "categories",
                   "login failure", "mfa");
    e->ola = et;
    assert_int_equal(ola_kafka_expand("onelogin.{category}", e, NULL, true, &out), 0);
    assert_string_equal(out.data, "onelogin.login_failure"); /* space mapped */
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("{category}", e, NULL, false, &out), 0);
    assert_string_equal(out.data, "login failure");
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("ev.{event_type_id}.{{x}", e, NULL, true, &out), 0);
    assert_string_equal(out.data, "ev.5._x_"); /* "{{" is "{", then mapped */
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("{id}", e, NULL, false, &out), 0);
    assert_string_equal(out.data, "42");
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("x.{nope}", e, NULL, true, &out), -1);
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
    assert_int_equal(ola_kafka_expand("{id}", e, NULL, false, &out), 0);
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

/* {tenant}: the batch's tenant in topic and key, "default" when it names none. */
static void test_tenant_topic_and_key(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0};
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_event *e;
    char yaml[512];

    e = ola_t_add(t, 42, 5);
    assert_int_equal(ola_kafka_expand("ol.{tenant}.{id}", e, "acme", true, &out), 0);
    assert_string_equal(out.data, "ol.acme.42");
    ola_buf_reset(&out);
    assert_int_equal(ola_kafka_expand("{tenant}", e, NULL, false, &out), 0);
    assert_string_equal(out.data, "default");
    ola_buf_free(&out);
    assert_int_equal(ola_kafka_template_check("ol.{tenant}.{category}", NULL), 0);
    ola_batch_reset(&t->b);

    snprintf(yaml, sizeof(yaml),
             "type: kafka\nbrokers: %s\ntopic: \"ol.{tenant}\"\nkey: \"{tenant}:{id}\"\n"
             "dead_letter: %s\n",
             t->bootstrap, t->dead);
    assert_int_equal(rd_kafka_mock_topic_create(t->mc, "ol.acme", 1, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(t->mc, "ol.globex", 1, 1), 0);
    assert_int_equal(ola_t_open(t, yaml, &err), 0);
    t->b.tenant = "acme";
    ola_t_add(t, 7, 5);
    ola_t_add(t, 8, 5);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    ola_batch_reset(&t->b);
    t->b.tenant = "globex";
    ola_t_add(t, 9, 5);
    assert_int_equal(ola_output_write(t->out, &t->b), OLA_OK);
    assert_int_equal(ola_t_flush_until_ok(t, 30), OLA_OK);
    assert_int_equal(t->out->stats.emitted, 3);
    ola_t_consume(t, "ol.acme");
    assert_int_equal(t->n_got, 2);
    assert_string_equal(t->keys[0], "acme:7");
    assert_string_equal(t->keys[1], "acme:8");
    ola_t_consume(t, "ol.globex");
    assert_int_equal(t->n_got, 1);
    assert_string_equal(t->keys[0], "globex:9");
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
        cmocka_unit_test_setup_teardown(test_topic_template, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_alert_key, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_topic_routing_end_to_end, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_topic_and_key, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test(test_errclass),
        cmocka_unit_test_setup_teardown(test_config_errors, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_config_ok, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_secrets_hidden, ola_t_setup, ola_t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
