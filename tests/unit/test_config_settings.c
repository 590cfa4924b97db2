/*
 * test_config_settings.c - the agent's settings: ola_settings_load over a
 * loaded document (defaults, every key, region and base_url, loopback http,
 * each error with its file:line) and the shipped config/olagent.example.yaml.
 *
 * Documents are loaded from strings (name "t.yaml") or from real files in a
 * temporary directory made by the group setup (config_test.h).
 */
#include "config_test.h"

#include "agent/settings.h"

/* ---- settings
 * ----------------------------------------------------------------------------- */

/* Loads text and ola_settings_load; returns 0/-1 and keeps the doc in *docp. */
static int settings(const char *text, struct ola_settings *s, struct ola_err *err,
                    struct ola_cfg_doc **docp)
{
    struct ola_cfg_doc *doc = load_ok(text);

    *docp = doc;
    return ola_settings_load(doc, NOW_MS, s, err);
}

static void settings_fail(const char *text, const char *prefix, const char *want)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;

    if (settings(text, &s, &err, &doc) == 0)
        fail_msg("settings loaded but expected '%s%s'", prefix, want);
    check_err(&err, prefix, want);
    ola_cfg_doc_destroy(doc);
}

#define OL_MIN  "  client_id: id\n  client_secret: sec\n"
#define OUT_MIN "outputs:\n  - type: stdout\n"

static void test_settings_minimal_defaults(void **state)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;

    (void)state;
    if (settings("onelogin:\n  region: eu\n" OL_MIN OUT_MIN, &s, &err, &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.path, "t.yaml");
    assert_string_equal(s.onelogin.base_url, "https://api.eu.onelogin.com");
    assert_false(s.onelogin.allow_insecure_http);
    assert_string_equal(s.onelogin.client_id, "id");
    assert_string_equal(s.onelogin.client_secret, "sec");
    assert_int_equal(s.onelogin.poll_interval_ms, 10000);
    assert_int_equal(s.onelogin.page_size, 50);
    assert_string_equal(s.onelogin.start, "-24h");
    assert_int_equal(s.onelogin.start_ms, NOW_MS - 86400000);
    assert_int_equal(s.onelogin.overlap_ms, 300000);
    assert_int_equal(s.onelogin.late_sweep_ms, 60000);
    assert_int_equal(s.onelogin.settle_ms, 10000);
    assert_int_equal(s.onelogin.max_window_ms, 3600000);
    assert_int_equal(s.onelogin.timeout_ms, 30000);
    assert_int_equal(s.onelogin.backoff_max_ms, 60000);
    assert_int_equal(s.onelogin.max_response, 32 << 20);
    assert_null(s.onelogin.ca_file);
    assert_null(s.onelogin.proxy);
    assert_string_equal(s.checkpoint.path, "./state/checkpoint.json");
    assert_string_equal(s.log.level, "info");
    assert_string_equal(s.log.format, "text");
    assert_false(s.log.progress);
    assert_true(s.metrics.enabled);
    assert_string_equal(s.metrics.listen, "127.0.0.1:9464");
    assert_true(s.enrich_enabled);
    assert_null(s.enrich);
    assert_null(s.rules.rules);
    assert_int_equal(s.rules.n_rule_files, 0);
    assert_null(s.rules.alerts);
    assert_int_equal(s.shutdown_timeout_ms, 10000);
    assert_int_equal(s.n_outputs, 1);
    assert_string_equal(s.outputs[0].type, "stdout");
    assert_string_equal(s.outputs[0].name, "stdout");
    assert_int_equal(ola_cfg_line(s.outputs[0].node), 6);
    ola_cfg_doc_destroy(doc);
}

static void test_settings_full(void **state)
{
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;

    (void)state;
    if (settings("onelogin:\n"
                 "  base_url: https://acme.onelogin.com:8443//\n" OL_MIN
                 "  poll_interval: 2s\n"
                 "  page_size: 1000\n"
                 "  start: 2024-01-31T00:00:00Z\n"
                 "  overlap: 10m\n"
                 "  late_sweep: 2s\n"
                 "  settle: 0\n"
                 "  max_window: 6h\n"
                 "  timeout: 500ms\n"
                 "  backoff_max: 2m\n"
                 "  ca_file: /etc/ca.pem\n"
                 "  proxy: http://proxy:3128\n"
                 "  max_response: 8MiB\n"
                 "checkpoint: {path: /var/lib/olagent/cp.json}\n"
                 "log: {level: debug, format: json, progress: on}\n"
                 "metrics: false\n"
                 "enrich: {cache: {entries: 100}}\n"
                 "alerts: {window: 5m}\n"
                 "shutdown_timeout: 0\n"
                 "outputs:\n"
                 "  - type: file\n"
                 "    name: audit\n"
                 "  - type: file\n"
                 "  - type: kafka\n"
                 "    name: k-1.main\n",
                 &s, &err, &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.base_url, "https://acme.onelogin.com:8443");
    assert_int_equal(s.onelogin.poll_interval_ms, 2000);
    assert_int_equal(s.onelogin.page_size, 1000);
    assert_int_equal(s.onelogin.start_ms, INT64_C(1706659200000));
    assert_int_equal(s.onelogin.overlap_ms, 600000);
    assert_int_equal(s.onelogin.late_sweep_ms, 2000);
    assert_int_equal(s.onelogin.settle_ms, 0);
    assert_int_equal(s.onelogin.max_window_ms, 6 * 3600000);
    assert_int_equal(s.onelogin.timeout_ms, 500);
    assert_int_equal(s.onelogin.backoff_max_ms, 120000);
    assert_string_equal(s.onelogin.ca_file, "/etc/ca.pem");
    assert_string_equal(s.onelogin.proxy, "http://proxy:3128");
    assert_int_equal(s.onelogin.max_response, 8 << 20);
    assert_string_equal(s.checkpoint.path, "/var/lib/olagent/cp.json");
    assert_string_equal(s.log.level, "debug");
    assert_string_equal(s.log.format, "json");
    assert_true(s.log.progress);
    assert_false(s.metrics.enabled);
    assert_true(s.enrich_enabled);
    assert_non_null(s.enrich);
    assert_int_equal(s.enrich_opts.cache_entries, 100);
    assert_int_equal(s.enrich_opts.concurrency, 4);
    assert_non_null(s.rules.alerts);
    assert_int_equal(s.shutdown_timeout_ms, 0);
    assert_int_equal(s.n_outputs, 3);
    assert_string_equal(s.outputs[0].name, "audit");
    assert_string_equal(s.outputs[1].name, "file");
    assert_string_equal(s.outputs[1].type, "file");
    assert_string_equal(s.outputs[2].name, "k-1.main");
    ola_cfg_doc_destroy(doc);

    if (settings("onelogin:\n  region: us\n" OL_MIN OUT_MIN
                 "enrich: false\nmetrics: {listen: '[::1]:0'}\n",
                 &s, &err, &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.base_url, "https://api.us.onelogin.com");
    assert_false(s.enrich_enabled);
    assert_null(s.enrich);
    assert_true(s.metrics.enabled);
    assert_string_equal(s.metrics.listen, "[::1]:0");
    ola_cfg_doc_destroy(doc);
}

static void test_settings_region_base_url(void **state)
{
    (void)state;
    settings_fail(
        "onelogin:\n  base_url: https://a.onelogin.com\n  region: us\n" OL_MIN OUT_MIN,
        "t.yaml:3: ", "onelogin: set base_url or region, not both");
    settings_fail("onelogin:\n" OL_MIN OUT_MIN,
                  "t.yaml:1: ", "onelogin: base_url or region (us, eu) is required");
    settings_fail("onelogin:\n  region: uk\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "onelogin.region: unknown value 'uk'");
    settings_fail("onelogin:\n  base_url: ftp://a.onelogin.com\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "onelogin.base_url: must start with https://");
    settings_fail("onelogin:\n  base_url: https://\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "no host");
    settings_fail("onelogin:\n  base_url: https://u:p@a.com\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "credentials");
    settings_fail("onelogin:\n  base_url: https://a.com:99999\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "bad port");
    settings_fail("onelogin:\n  base_url: https://a.com/?x=1\n" OL_MIN OUT_MIN,
                  "t.yaml:2: ", "query");
}

static void test_settings_http_loopback(void **state)
{
    static const struct {
        const char *url, *want;
    } ok[] = {
        {"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
        {"http://127.1.2.3", "http://127.1.2.3"},
        {"http://localhost:9/api/", "http://localhost:9/api"},
        {"http://LOCALHOST", "http://LOCALHOST"},
        {"http://[::1]:8080", "http://[::1]:8080"},
    };
    static const char *const refused[] = {
        "http://example.com",        "http://128.0.0.1:80", "http://10.0.0.1",
        "http://localhost.evil.com", "http://[::2]:80",     "http://127.0.0.1.nip.io",
    };
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_err err;
    char yaml[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(yaml, sizeof(yaml), "onelogin:\n  base_url: %s\n" OL_MIN OUT_MIN,
                 ok[i].url);
        if (settings(yaml, &s, &err, &doc) != 0)
            fail_msg("%s: %s", ok[i].url, err.msg);
        assert_string_equal(s.onelogin.base_url, ok[i].want);
        assert_true(s.onelogin.allow_insecure_http);
        ola_cfg_doc_destroy(doc);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(yaml, sizeof(yaml), "onelogin:\n  base_url: %s\n" OL_MIN OUT_MIN,
                 refused[i]);
        settings_fail(
            yaml, "t.yaml:2: ", "onelogin.base_url: http:// is allowed only on loopback");
    }
}

static void test_settings_errors(void **state)
{
    (void)state;
    settings_fail("onelogn:\n  region: us\n" OUT_MIN,
                  "t.yaml:1: ", "unknown key 'onelogn'; did you mean 'onelogin'?");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  pol_interval: 5s\n" OUT_MIN,
                  "t.yaml:5: ",
                  "unknown key 'onelogin.pol_interval'; did you mean "
                  "'poll_interval'?");
    settings_fail(
        "onelogin:\n  region: us\n" OL_MIN "  poll_interval: 10x\n" OUT_MIN,
        "t.yaml:5: ", "onelogin.poll_interval: bad duration '10x' (use ms, s, m, h, d)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  page_size: ten\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.page_size: expected an integer, got 'ten'");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  page_size: 0\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.page_size: must be between 1 and 1000");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  page_size: 1001\n" OUT_MIN,
                  "t.yaml:5: ", "must be between 1 and 1000");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  max_response: 1KiB\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.max_response: 64KiB .. 1GiB");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  max_response: 2GiB\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.max_response: 64KiB .. 1GiB");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  max_response: lots\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.max_response: bad size");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  overlap: 0\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.overlap: must be between 1ms and 7d");
    settings_fail(
        "onelogin:\n  region: us\n" OL_MIN "  poll_interval: 2m\n" OUT_MIN, "t.yaml:5: ",
        "onelogin.late_sweep (1m) must be at least onelogin.poll_interval (2m)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN
                  "  poll_interval: 2m\n  late_sweep: 1m\n" OUT_MIN,
                  "t.yaml:6: ", "must be at least onelogin.poll_interval (2m)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "  start: yesterday\n" OUT_MIN,
                  "t.yaml:5: ", "onelogin.start: bad start 'yesterday'");
    settings_fail("onelogin:\n  region: us\n  client_secret: s\n" OUT_MIN,
                  "t.yaml:1: ", "onelogin.client_id is required");
    settings_fail(
        "onelogin:\n  region: us\n  client_id: ''\n  client_secret: s\n" OUT_MIN,
        "t.yaml:3: ", "onelogin.client_id: must not be empty");
    settings_fail("onelogin:\n  region: us\n  client_id: i\n" OUT_MIN,
                  "t.yaml:1: ", "client_secret or client_secret_file is required");
    settings_fail(OUT_MIN, "t.yaml:1: ", "onelogin: missing");
    settings_fail("onelogin: us\n" OUT_MIN, "t.yaml:1: ", "onelogin: expected a map");
    settings_fail("onelogin:\n  region: us\n" OL_MIN,
                  "t.yaml:1: ", "outputs: at least one output is required");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs: []\n",
                  "t.yaml:5: ", "outputs: at least one output is required");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs: stdout\n",
                  "t.yaml:5: ", "outputs: expected a list");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs:\n  - name: x\n",
                  "t.yaml:6: ", "outputs[0]: type is required");
    settings_fail("onelogin:\n  region: us\n" OL_MIN "outputs:\n  - type: Kafka!\n",
                  "t.yaml:6: ", "outputs[0].type: 'Kafka!' is not an output type");
    settings_fail(
        "onelogin:\n  region: us\n" OL_MIN
        "outputs:\n  - type: file\n    path: a\n  - type: file\n    path: b\n",
        "t.yaml:8: ", "outputs[1]: two outputs of type 'file' (the other at line 6)");
    settings_fail("onelogin:\n  region: us\n" OL_MIN
                  "outputs:\n  - type: file\n    name: x\n  - type: kafka\n    name: x\n",
                  "t.yaml:9: ", "outputs[1]: output name 'x' is already used at line 6");
    settings_fail("onelogin:\n  region: us\n" OL_MIN
                  "outputs:\n  - type: file\n    name: 'a b'\n",
                  "t.yaml:7: ", "outputs[0].name: use 1-63 letters");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "log: {level: loud}\n",
                  "t.yaml:7: ", "log.level: unknown level 'loud'");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "log: {format: xml}\n",
                  "t.yaml:7: ", "log.format: unknown format 'xml'");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "log: {levle: info}\n",
                  "t.yaml:7: ", "unknown key 'log.levle'; did you mean 'level'?");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN
                  "metrics: {listen: nohost}\n",
                  "t.yaml:7: ", "metrics.listen: expected host:port");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "metrics: maybe\n",
                  "t.yaml:7: ", "metrics: expected true or false");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "enrich: [a]\n",
                  "t.yaml:7: ", "enrich: expected a map or false");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "rules: a.yaml\n",
                  "t.yaml:7: ", "rules: expected a list of rule files");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "rules:\n  - {a: 1}\n",
                  "t.yaml:8: ", "rules[0]: expected a file name");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "checkpoint: {path: ''}\n",
                  "t.yaml:7: ", "checkpoint.path: must not be empty");
    settings_fail("onelogin:\n  region: us\n" OL_MIN OUT_MIN "shutdown_timeout: 2h\n",
                  "t.yaml:7: ", "shutdown_timeout: must be between 0s and 1h");
    settings_fail("", "t.yaml:1: ", "the file is empty");
    settings_fail("- a\n", "t.yaml:1: ", "expected a map of settings");
}

static void test_settings_rules_and_secret_file(void **state)
{
    char cfg[512], secret[512], text[1024];
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    struct ola_err err;

    (void)state;
    path_in_tmp("ol.secret", secret, sizeof(secret));
    write_file(secret, "from-file\n", 0600);
    path_in_tmp("rules.yaml", cfg, sizeof(cfg));
    snprintf(text, sizeof(text),
             "onelogin:\n  region: us\n  client_id: i\n  client_secret_file: %s\n"
             "rules:\n  - rules/a.yaml\n  - /abs/b.yaml\ncatalog: types.json\n" OUT_MIN,
             secret);
    write_file(cfg, text, 0600);
    if (ola_cfg_load_file(cfg, &doc, &err) != 0)
        fail_msg("%s", err.msg);
    if (ola_settings_load(doc, NOW_MS, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.client_secret, "from-file");
    assert_non_null(s.rules.rules);
    assert_int_equal(s.rules.n_rule_files, 2);
    snprintf(text, sizeof(text), "%s/rules/a.yaml", tmpdir);
    assert_string_equal(s.rules.rule_files[0], text);
    assert_string_equal(s.rules.rule_files[1], "/abs/b.yaml");
    snprintf(text, sizeof(text), "%s/types.json", tmpdir);
    assert_string_equal(s.rules.catalog_path, text);
    ola_cfg_doc_destroy(doc);

    /* Without a directory in the name, rule paths stay as written. */
    if (settings("onelogin:\n  region: us\n" OL_MIN OUT_MIN "rules: [r.yaml]\n", &s, &err,
                 &doc) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.rules.rule_files[0], "r.yaml");
    assert_null(s.rules.catalog_path); /* the built-in catalog alone */
    assert_true(s.rules.catalog_builtin);
    assert_true(s.rules.default_rules);
    ola_cfg_doc_destroy(doc);
}

static void test_example_file(void **state)
{
    const char *src = getenv("OLA_SOURCE_DIR");
    char path[1024];
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    struct ola_err err;
    int n;

    (void)state;
    if (src == NULL)
        src = ".";
    n = snprintf(path, sizeof(path), "%s/config/olagent.example.yaml", src);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    assert_int_equal(unsetenv("ONELOGIN_CLIENT_SECRET"), 0);
    assert_int_equal(setenv("ONELOGIN_CLIENT_ID", "example-id", 1), 0);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
    check_err(&err, path,
              "onelogin.client_secret: environment variable "
              "ONELOGIN_CLIENT_SECRET is not set");

    assert_int_equal(setenv("ONELOGIN_CLIENT_SECRET", "example-secret", 1), 0);
    if (ola_cfg_load_file(path, &doc, &err) != 0)
        fail_msg("%s", err.msg);
    if (ola_settings_load(doc, NOW_MS, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.onelogin.base_url, "https://acme.onelogin.com");
    assert_string_equal(s.onelogin.client_id, "example-id");
    assert_string_equal(s.onelogin.client_secret, "example-secret");
    assert_int_equal(s.onelogin.poll_interval_ms, 10000);
    assert_int_equal(s.onelogin.start_ms, NOW_MS - 86400000);
    assert_string_equal(s.checkpoint.path, "./state/checkpoint.json");
    assert_true(s.metrics.enabled);
    assert_int_equal(s.n_outputs, 1);
    assert_string_equal(s.outputs[0].type, "stdout");
    ola_cfg_doc_destroy(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_minimal_defaults),
        cmocka_unit_test(test_settings_full),
        cmocka_unit_test(test_settings_region_base_url),
        cmocka_unit_test(test_settings_http_loopback),
        cmocka_unit_test(test_settings_errors),
        cmocka_unit_test(test_settings_rules_and_secret_file),
        cmocka_unit_test(test_example_file),
    };

    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
