/*
 * test_config_secrets.c - secrets in the YAML layer: client_secret and
 * client_secret_file, the masked dump (ola_cfg_dump), config files read from
 * disk and the warning for a literal secret in a file others can read.
 *
 * Files live in a temporary directory made by the group setup (config_test.h).
 * Log lines (secret-file and literal-secret warnings) go to a temporary file
 * that the tests read back; no secret may appear in them.
 */
#include "config_test.h"

#include "agent/core/log.h"

/* ---- secrets ------------------------------------------------------------------------
 */

static void test_secret(void **state)
{
    char good[512], loose[512], empty[512], yaml[4096], logpath[512];
    struct ola_cfg_doc *doc;
    struct ola_err err;
    const char *s = NULL;
    FILE *log;

    (void)state;
    path_in_tmp("secret-good", good, sizeof(good));
    path_in_tmp("secret-loose", loose, sizeof(loose));
    path_in_tmp("secret-empty", empty, sizeof(empty));
    write_file(good, "s3cr3t-from-file\n", 0600);
    write_file(loose, "loose-s3cr3t\r\n\n", 0644);
    write_file(empty, "", 0600);
    log = fopen(path_in_tmp("secret.log", logpath, sizeof(logpath)), "w+");
    assert_non_null(log);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, log);

    snprintf(yaml, sizeof(yaml),
             "lit:\n  client_secret: literal\n"
             "file:\n  client_secret_file: %s\n"
             "loose:\n  client_secret_file: %s\n"
             "both:\n  client_secret: x\n  client_secret_file: %s\n"
             "empty:\n  client_secret_file: %s\n"
             "missing:\n  client_secret_file: %s/nope\n"
             "none:\n  other: 1\n"
             "wrong:\n  client_secret: [1]\n",
             good, loose, good, empty, tmpdir);
    doc = load_ok(yaml);

    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "lit"), "client_secret", &s, &err),
        0);
    assert_string_equal(s, "literal");
    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "file"), "client_secret", &s, &err),
        0);
    assert_string_equal(s, "s3cr3t-from-file");
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "loose"),
                                    "client_secret", &s, &err),
                     0);
    assert_string_equal(s, "loose-s3cr3t");
    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "both"), "client_secret", &s, &err),
        -1);
    check_err(&err,
              "t.yaml:9: ", "both: set client_secret or client_secret_file, not both");
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "empty"),
                                    "client_secret", &s, &err),
                     -1);
    check_err(&err, "t.yaml:11: ", "empty.client_secret_file: ");
    check_err(&err, "t.yaml:11: ", "is empty");
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "missing"),
                                    "client_secret", &s, &err),
                     -1);
    check_err(&err, "t.yaml:13: ", "No such file or directory");
    assert_int_equal(
        ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "none"), "client_secret", &s, &err),
        0);
    assert_null(s);
    assert_int_equal(ola_cfg_secret(ola_cfg_get(ola_cfg_root(doc), "wrong"),
                                    "client_secret", &s, &err),
                     -1);
    check_err(&err, "t.yaml:17: ", "wrong.client_secret: expected a string, got a list");

    /* The loose file drew one warning naming the file, never the content. */
    {
        const char *text = slurp(log);

        assert_non_null(strstr(text, loose));
        assert_non_null(strstr(text, "readable by group or others"));
        assert_null(strstr(text, "loose-s3cr3t"));
        assert_null(strstr(text, "s3cr3t-from-file"));
        assert_null(strstr(text, good));
    }
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    assert_int_equal(fclose(log), 0);
    ola_cfg_doc_destroy(doc);
}

static void test_dump_masks_secrets(void **state)
{
    char dumppath[512], text[8192];
    struct ola_cfg_doc *doc;
    FILE *f;
    size_t n;

    (void)state;
    assert_int_equal(setenv("OLA_T_PW", "env-pass-XYZ", 1), 0);
    assert_int_equal(setenv("OLA_T_BROKERS", "broker-host-ABC:9092", 1), 0);
    doc = load_ok("onelogin:\n"
                  "  client_id: visible-client-id\n"
                  "  client_secret: lit-secret-111\n"
                  "  proxy: http://proxyuser:proxy-pw-000@proxy.corp:3128\n"
                  "outputs:\n"
                  "  - type: kafka\n"
                  "    brokers: ${OLA_T_BROKERS}\n"
                  "    properties:\n"
                  "      sasl.password: sasl-pw-222\n"
                  "      ssl.key.password: key-pw-333\n"
                  "      sasl.username: visible-user\n"
                  "      sasl.oauthbearer.client.secret: oauth-sec-123\n"
                  "      ssl.key.pem: pem-key-456\n"
                  "    api_token: tok-444\n"
                  "    db_password: ${OLA_T_PW}\n"
                  "    hmac_secret: hm-555\n"
                  "    secret: bare-666\n"
                  "    password: pw-777\n"
                  "    token: tk-888\n"
                  "    nested_secret: {a: inner-999}\n"
                  "  - type: stdout\n"
                  "    note: \"true\"\n");
    f = fopen(path_in_tmp("dump.yaml", dumppath, sizeof(dumppath)), "w+");
    assert_non_null(f);
    ola_cfg_dump(doc, f);
    assert_int_equal(fflush(f), 0);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    assert_int_equal(fclose(f), 0);

    {
        static const char *const hidden[] = {
            "lit-secret-111", "broker-host-ABC", "sasl-pw-222", "key-pw-333", "tok-444",
            "env-pass-XYZ",   "hm-555",          "bare-666",    "pw-777",     "tk-888",
            "inner-999",      "proxy-pw-000",    "proxyuser",   NULL};
        size_t i;

        for (i = 0; hidden[i] != NULL; i++)
            if (strstr(text, hidden[i]) != NULL)
                fail_msg("dump shows '%s':\n%s", hidden[i], text);
    }
    assert_non_null(strstr(text, "client_secret: \"****\""));
    assert_non_null(strstr(text, "sasl.password: \"****\""));
    assert_non_null(strstr(text, "visible-client-id"));
    assert_non_null(strstr(text, "proxy: \"http://****@proxy.corp:3128\""));
    assert_non_null(strstr(text, "visible-user"));
    assert_non_null(strstr(text, "note: \"true\""));
    ola_cfg_doc_destroy(doc);

    /* The dump is YAML that loads again, with the same shape. */
    {
        struct ola_cfg_doc *again = load_ok(text);
        const struct ola_cfg *outs = ola_cfg_get(ola_cfg_root(again), "outputs");

        assert_int_equal(ola_cfg_len(outs), 2);
        assert_string_equal(
            ola_cfg_scalar(ola_cfg_get(ola_cfg_get(ola_cfg_root(again), "onelogin"),
                                       "client_secret")),
            "****");
        ola_cfg_doc_destroy(again);
    }
}

/* ---- files ----------------------------------------------------------------------------
 */

static void test_unreadable_file(void **state)
{
    char path[512];
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err;
    char want[600];

    (void)state;
    path_in_tmp("does-not-exist.yaml", path, sizeof(path));
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
    assert_null(doc);
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
    assert_string_equal(err.msg, want);

    assert_int_equal(ola_cfg_load_file(tmpdir, &doc, &err), -1);
    snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmpdir);
    assert_string_equal(err.msg, want);

    path_in_tmp("noperm.yaml", path, sizeof(path));
    write_file(path, "a: 1\n", 0000);
    if (geteuid() != 0) { /* root reads anything */
        assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
        snprintf(want, sizeof(want), "%s: cannot read: Permission denied", path);
        assert_string_equal(err.msg, want);
    }

    path_in_tmp("empty.yaml", path, sizeof(path));
    write_file(path, "", 0600);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    assert_int_equal(ola_cfg_type(ola_cfg_root(doc)), OLA_CFG_NULL);
    ola_cfg_doc_destroy(doc);
    doc = NULL;

    path_in_tmp("bad.yaml", path, sizeof(path));
    write_file(path, "a: 1\nb: [\n", 0600);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), -1);
    snprintf(want, sizeof(want), "%s:", path);
    check_err(&err, want, "YAML syntax error");
}

static void test_literal_secret_warning(void **state)
{
    char path[512], logpath[512];
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err;
    FILE *log;

    (void)state;
    log = fopen(path_in_tmp("literal.log", logpath, sizeof(logpath)), "w+");
    assert_non_null(log);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, log);
    assert_int_equal(setenv("OLA_T_PW", "env-pass-XYZ", 1), 0);

    /* From the environment: no warning even when world-readable. */
    path_in_tmp("env.yaml", path, sizeof(path));
    write_file(path, "onelogin:\n  client_secret: ${OLA_T_PW}\n", 0644);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    ola_cfg_doc_destroy(doc);
    assert_string_equal(slurp(log), "");

    /* Literal but private: no warning. */
    path_in_tmp("private.yaml", path, sizeof(path));
    write_file(path, "onelogin:\n  client_secret: lit-secret-111\n", 0600);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    ola_cfg_doc_destroy(doc);
    assert_string_equal(slurp(log), "");

    /* Literal and world-readable: a warning naming file and key, not the value. */
    path_in_tmp("literal.yaml", path, sizeof(path));
    write_file(path,
               "x: 1\noutputs:\n  - type: kafka\n    sasl_password: lit-secret-111\n",
               0644);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    ola_cfg_doc_destroy(doc);
    {
        const char *text = slurp(log);

        assert_non_null(strstr(text, path));
        assert_non_null(
            strstr(text, ":4: outputs[0].sasl_password holds a literal secret"));
        assert_null(strstr(text, "lit-secret-111"));
    }
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    assert_int_equal(fclose(log), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret),
        cmocka_unit_test(test_dump_masks_secrets),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_literal_secret_warning),
    };

    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
