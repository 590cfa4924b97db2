/*
 * test_output_settings.c - the outputs' option tables, through the registry.
 *
 * ola_output_new() checks an output's map against the keys every output has
 * and its type's own, so an unknown key (at the top of the map or in a
 * nested one) is refused with file:line and the closest known key; the
 * settings in force print as `olagent check` shows them, from the tables,
 * with secrets masked; the tables' defaults are what an output gets when
 * its map says nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/log.h"
#include "config/config.h"
#include "config/options.h"
#include "outputs/output.h"

/* Builds an output of type from yaml (its map); NULL with err on error. */
static struct ola_output *build(const char *type, const char *yaml,
                                struct ola_cfg_doc **doc, struct ola_err *err)
{
    struct ola_output_cfg oc;

    assert_int_equal(ola_cfg_load_string("t.yaml", yaml, strlen(yaml), doc, err), 0);
    oc.node = ola_cfg_root(*doc);
    oc.type = type;
    oc.name = NULL;
    return ola_output_new(&oc, 0, err);
}

static void refused(const char *type, const char *yaml, const char *want)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err = {0, ""};
    struct ola_output *o;

    if (ola_output_find(type) == NULL) /* not compiled in */
        return;
    o = build(type, yaml, &doc, &err);
    if (o != NULL || strcmp(err.msg, want) != 0)
        fail_msg("%s: got '%s', want '%s'", yaml, o != NULL ? "no error" : err.msg, want);
    ola_cfg_doc_destroy(doc);
}

/* An unknown key names itself with file:line and the closest key of either table. */
static void test_unknown_key_suggests(void **state)
{
    (void)state;
    refused("stdout", "type: stdout\nformt: json\n",
            "t.yaml:2: unknown key 'formt'; did you mean 'format'?");
    refused("stdout", "type: stdout\ndead_leter: x\n",
            "t.yaml:2: unknown key 'dead_leter'; did you mean 'dead_letter'?");
    refused("syslog", "type: syslog\nhostname: h\ntransprt: tcp\n",
            "t.yaml:3: unknown key 'transprt'; did you mean 'transport'?");
    refused("syslog", "type: syslog\ntls:\n  verfy: false\n",
            "t.yaml:3: unknown key 'tls.verfy'; did you mean 'verify'?");
    refused("file", "type: file\npath: /tmp/x\nrotate: {sise: 1MB}\n",
            "t.yaml:3: unknown key 'rotate.sise'; did you mean 'size'?");
    refused("kafka", "type: kafka\nbrokers: h:1\nqueue_max_sise: 1MB\n",
            "t.yaml:3: unknown key 'queue_max_sise'; did you mean 'queue_max_size'?");
    refused("stdout", "type: stdout\nformat_options:\n  vendr: Acme\n",
            "t.yaml:3: unknown key 'format_options.vendr'; did you mean 'vendor'?");
    /* a key of another type is unknown to this one */
    refused("stdout", "type: stdout\nbrokers: h:1\n", "t.yaml:2: unknown key 'brokers'");
}

/* What `olagent check` prints for o, read from doc's root: a new string. */
static char *settings_text(const struct ola_output *o, const struct ola_cfg_doc *doc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    assert_non_null(mem);
    ola_output_print_settings(o, ola_cfg_root(doc), mem);
    assert_int_equal(fclose(mem), 0);
    return text;
}

/* What `olagent check` prints for an output: each key, its value and its origin. */
static void test_print_settings(void **state)
{
    static const char yaml[] = "type: syslog\n"
                               "host: ${OLA_T_HOST}\n"
                               "hostname: h1\n"
                               "transport: udp\n"
                               "format: cef\n"
                               "format_options:\n"
                               "  vendor: Acme\n";
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err = {0, ""};
    struct ola_output *o;
    char *text;

    (void)state;
    setenv("OLA_T_HOST", "secret-host.example", 1);
    o = build("syslog", yaml, &doc, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    text = settings_text(o, doc);
    print_message("%s", text);
    assert_non_null(strstr(text, "type: syslog  # t.yaml:1\n"));
    assert_non_null(strstr(text, "format: cef  # t.yaml:5\n"));
    assert_non_null(strstr(text, "\nformat_options.vendor: Acme  # t.yaml:7\n"));
    assert_non_null(strstr(text, "\nformat_options.product: OneLogin  # default\n"));
    assert_non_null(strstr(text, "dead_letter: (not set)\n"));
    assert_non_null(strstr(text, "transport: udp  # t.yaml:4\n"));
    assert_non_null(strstr(text, "hostname: h1  # t.yaml:3\n"));
    assert_non_null(strstr(text, "connect_timeout: 5s  # default\n"));
    assert_non_null(strstr(text, "tls.verify: true  # default\n"));
    /* a value from the environment is a secret: masked */
    assert_non_null(strstr(text, "host: ****  # t.yaml:2\n"));
    assert_null(strstr(text, "secret-host"));
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    free(text);
}

/* An output whose map says nothing gets the tables' defaults. */
static void test_defaults_from_tables(void **state)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_err err = {0, ""};
    struct ola_output *o;
    char *text;

    (void)state;
    o = build("syslog", "type: syslog\nhostname: h\n", &doc, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(o->common.format, "json");
    assert_string_equal(o->fmt->name, "json");
    assert_string_equal(o->fmt_opts.vendor, "OneLogin");
    assert_int_equal(o->fmt_opts.leef_delim, '\t');
    text = settings_text(o, doc);
    assert_non_null(strstr(text, "format: json  # default\n"));
    assert_non_null(strstr(text, "transport: tcp  # default\n"));
    assert_non_null(strstr(text, "rfc: 5424  # default\n"));
    assert_non_null(strstr(text, "sd_id: olagent@32473  # default\n"));
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    free(text);
}

/* The example blocks: one for the common keys, then one per type compiled in. */
static void test_print_examples(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    (void)state;
    assert_non_null(mem);
    ola_output_print_examples(mem);
    assert_int_equal(fclose(mem), 0);
    assert_non_null(strstr(text, "\n  # " OLA_OUTPUT_COMMON_HEADER "\n"));
    assert_non_null(strstr(text, "\n  #   format: json\n"));
    assert_non_null(strstr(text, "\n  # - type: stdout\n"));
    assert_non_null(strstr(text, "\n  # - type: file\n  #   # strftime pattern, in UTC "
                                 "(required)\n  #   # path: (string)\n"));
    assert_non_null(strstr(text, "\n  #   level: 6\n"));
    assert_non_null(strstr(text, "\n  #   rotate:\n"));
    if (ola_output_find("kafka") != NULL) {
        /* a default YAML would not read back as it is comes quoted */
        assert_non_null(strstr(text, "\n  #   key: \"{id}\"\n"));
        assert_non_null(strstr(text, "\n  #   queue_max_size: 64MiB\n"));
    } else {
        assert_null(strstr(text, "type: kafka"));
    }
    /* type opens the blocks; no block lists it as a key */
    assert_null(strstr(text, "type: (string)"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_key_suggests),
        cmocka_unit_test(test_print_settings),
        cmocka_unit_test(test_defaults_from_tables),
        cmocka_unit_test(test_print_examples),
    };

    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
