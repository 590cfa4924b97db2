/*
 * test_example_config.c - config/olagent.example.yaml tells the truth.
 *
 * The example says it lists every setting with its default. Its commented
 * output blocks are uncommented, the whole file is loaded the way `olagent
 * check` loads it (settings, then every output's init), and the config
 * readers' trace hook records each key read with its value. Then, for each
 * key the example sets, the same file is loaded again without that line and
 * the value the reader answered by default is compared with the example's.
 * A few keys are illustrations by nature (credentials, addresses, names,
 * choices the reader must make); they are listed below with the reason.
 * Required keys (the file does not load without them) have no default.
 * Then the example is held to the option tables (config/options.h): every
 * key of the tables is in the example (set or commented out) and the other
 * way round, with the table's default and its help in the key's comment.
 * The output blocks under `outputs:` are held to their type's tables (the
 * keys every output has, outputs/output.c, and the plugin's own): a key no
 * table knows, a default or a help that differs fails, and every key of a
 * plugin's table is in its block. `olagent config example` is held to the
 * same tables the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/err.h"
#include "agent/core/log.h"
#include "agent/settings.h"
#include "config/config.h"
#include "config/options.h"
#include "outputs/output.h"
#include "tests/unit/example_scan.h"

#define MAX_READS 512
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt" /* Debian's ca-certificates */

struct read {
    char path[96];
    char key[64];
    int line;
    char value[256];
};

struct reads {
    struct read r[MAX_READS];
    size_t n;
};

static void on_read(void *arg, const char *path, const char *key, int line,
                    const char *value)
{
    struct reads *t = arg;
    struct read *r;

    if (t->n == MAX_READS)
        return;
    r = &t->r[t->n++];
    snprintf(r->path, sizeof(r->path), "%s", path);
    snprintf(r->key, sizeof(r->key), "%s", key);
    r->line = line;
    snprintf(r->value, sizeof(r->value), "%s", value);
}

/*
 * The commented output blocks ("  # - type: kafka" and the lines under it,
 * up to the next line that is not a comment) uncommented: "  # x" -> "  x".
 * Comments inside a block ("  #     # leef_delimiter") stay comments. The
 * line count does not change, so line numbers still match the file.
 */
static char *uncomment_outputs(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(len + 1);
    const char *p = text;
    char *o = out;
    bool in_block = false;

    assert_non_null(out);
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);

        if (strncmp(p, "  # - type: ", 12) == 0)
            in_block = true;
        else if (strncmp(p, "  # ", 4) != 0)
            in_block = false;
        if (in_block) {
            memcpy(o, "  ", 2);
            memcpy(o + 2, p + 4, n - 4);
            o += n - 2;
        } else {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = '\0';
    return out;
}

/*
 * text with every occurrence of from replaced by to (the example's CA files
 * do not exist here; the producer and the TLS setup load them at init).
 */
static char *replaced(char *text, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    const char *p;
    char *out, *o;

    for (p = strstr(text, from); p != NULL; p = strstr(p + fl, from))
        n++;
    out = malloc(strlen(text) + n * tl + 1);
    assert_non_null(out);
    o = out;
    for (p = text; *p != '\0';) {
        if (strncmp(p, from, fl) == 0) {
            memcpy(o, to, tl);
            o += tl;
            p += fl;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    free(text);
    return out;
}

/* text with line `line` (1-based) left empty. */
static char *without_line(const char *text, int line)
{
    char *out = strdup(text), *p = out;
    int no = 1;

    assert_non_null(out);
    while (no < line && p != NULL) {
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
        no++;
    }
    assert_non_null(p);
    while (*p != '\0' && *p != '\n')
        *p++ = ' ';
    return out;
}

/* Loads text as `olagent check` does, recording every read into t. */
static int load_all(const char *text, struct reads *t, struct ola_err *err)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    size_t i;
    int rc = -1;

    t->n = 0;
    ola_cfg_set_trace(on_read, t);
    if (ola_cfg_load_string("olagent.example.yaml", text, strlen(text), &doc, err) != 0 ||
        ola_settings_load(doc, INT64_C(1700000000000), &s, err) != 0)
        goto out;
    for (i = 0; i < s.n_outputs; i++) {
        struct ola_output *o = ola_output_new(&s.outputs[i], (unsigned)i, err);

        if (o == NULL)
            goto out;
        ola_output_destroy(o);
    }
    rc = 0;
out:
    ola_cfg_set_trace(NULL, NULL);
    ola_cfg_doc_destroy(doc);
    return rc;
}

/*
 * The read of path.key; a section left empty reads its keys from a NULL map,
 * whose path is "", so a default read there counts too.
 */
static const struct read *find(const struct reads *t, const char *path, const char *key)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->r[i].path, path) == 0 && strcmp(t->r[i].key, key) == 0)
            return &t->r[i];
    for (i = 0; i < t->n; i++)
        if (t->r[i].path[0] == '\0' && t->r[i].line == 0 && strcmp(t->r[i].key, key) == 0)
            return &t->r[i];
    return NULL;
}

static void test_example_defaults_are_built_in(void **state)
{
    static struct reads set, dflt;
    struct ola_err err = {0, ""};
    char scratch[64] = "/tmp/olaexample.XXXXXX", dir[80], cmd[128];
    char *file = read_example(), *text;
    size_t i, compared = 0, wrong = 0;

    (void)state;
    text = uncomment_outputs(file);
    text = replaced(text, "/etc/ssl/certs/corp-ca.pem", SYSTEM_CA);
    text = replaced(text, "/etc/olagent/siem-ca.pem", SYSTEM_CA);
    /* the file output creates its directory at init: a scratch one */
    assert_non_null(mkdtemp(scratch));
    snprintf(dir, sizeof(dir), "%s/", scratch);
    text = replaced(text, "/var/log/olagent/", dir);
    text = replaced(text, "/var/lib/olagent/", dir);
    if (load_all(text, &set, &err) != 0)
        fail_msg("the example with its outputs uncommented does not load: %s", err.msg);
    for (i = 0; i < set.n; i++) {
        const struct read *r = &set.r[i], *d;
        char *less;

        if (r->line == 0 || is_illustrative(r->key))
            continue;
        less = without_line(text, r->line);
        if (load_all(less, &dflt, &err) != 0) {
            /* a required key: there is no default to compare with */
            if (strstr(err.msg, "required") == NULL)
                fail_msg("olagent.example.yaml:%d: without %s.%s it does not load: %s",
                         r->line, r->path, r->key, err.msg);
            free(less);
            continue;
        }
        d = find(&dflt, r->path, r->key);
        if (d == NULL || d->line != 0) {
            print_message("olagent.example.yaml:%d: %s.%s: no default was read\n",
                          r->line, r->path, r->key);
            wrong++;
        } else if (strcmp(d->value, r->value) != 0) {
            print_message("olagent.example.yaml:%d: %s.%s: the example says %s, the "
                          "built-in default is %s\n",
                          r->line, r->path, r->key, r->value, d->value);
            wrong++;
        }
        compared++;
        free(less);
    }
    print_message("%zu settings compared with their built-in defaults\n", compared);
    assert_true(compared >= 30);
    assert_int_equal(wrong, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        print_message("could not remove %s\n", scratch);
    free(text);
    free(file);
}

static void test_example_matches_tables(void **state)
{
    static struct ex_keys ks;
    char *file = read_example();
    size_t checked = 0, wrong;

    (void)state;
    scan_example(file, &ks);
    wrong = check_table(&ks, "", ola_settings_options, &checked);
    print_message("%zu keys of the option tables held to the example\n", checked);
    assert_true(checked >= 40);
    assert_int_equal(wrong, 0);
    free(file);
}

/* The example's alerts: block holds each key of the alerts module's own table
 * (filters/rules), with its default and help. */
static void test_example_alerts_block(void **state)
{
    static struct ex_keys ks;
    char *file = read_example();
    size_t checked = 0, n = 0;
    const struct ola_opt *o;

    (void)state;
    scan_example(file, &ks);
    assert_non_null(ola_opts_find(ola_settings_options, "alerts"));
    assert_ptr_equal(ola_opts_find(ola_settings_options, "alerts")->sub,
                     ola_alerts_options);
    for (o = ola_alerts_options; o->name != NULL; o++)
        n++;
    assert_int_equal(check_table(&ks, "alerts", ola_alerts_options, &checked), 0);
    assert_int_equal(checked, n);
    assert_true(n >= 3);
    free(file);
}

/* The scanner and the checks find what they are for: a key missing, an
 * unknown one, a default and a comment that differ. */
static void test_example_check_finds_disagreement(void **state)
{
    static const char text[] = "# the section\n"
                               "sec:\n"
                               "  # How many.\n"
                               "  count: 6\n"
                               "  # speling: 3\n"
                               "  wait: 5s   # a different comment\n";
    static const struct ola_opt sub[] = {
        {.name = "count", .type = OLA_OPT_INT, .def_int = 5, .help = "How many."},
        {.name = "wait",
         .type = OLA_OPT_DURATION,
         .offset = 8,
         .def_int = 5000,
         .help = "How long."},
        {.name = "gone", .type = OLA_OPT_BOOL, .offset = 16},
        {.name = NULL},
    };
    static const struct ola_opt top[] = {
        {.name = "sec", .type = OLA_OPT_MAP, .sub = sub, .help = "the section"},
        {.name = NULL},
    };
    static struct ex_keys ks;
    size_t checked = 0;

    (void)state;
    scan_example(text, &ks);
    assert_int_equal(ks.n, 4);
    assert_string_equal(ks.k[2].path, "sec.speling");
    /* count's default, wait's comment, gone missing, speling unknown */
    assert_int_equal(check_table(&ks, "", top, &checked), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_defaults_are_built_in),
        cmocka_unit_test(test_example_matches_tables),
        cmocka_unit_test(test_example_check_finds_disagreement),
        cmocka_unit_test(test_example_alerts_block),
    };

    setenv("ONELOGIN_CLIENT_ID", "example-id", 1);
    setenv("ONELOGIN_CLIENT_SECRET", "example-secret", 1);
    setenv("KAFKA_PASSWORD", "example-password", 1);
    setenv("HOOK_KEY", "example-hook-key", 1);
    setenv("HEC_TOKEN", "example-hec-token", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "example-secret-access-key", 1);
    setenv("AZ_TENANT", "contoso.onmicrosoft.com", 1);
    setenv("AZ_CLIENT", "example-client", 1);
    setenv("AZ_SECRET", "example-az-secret", 1);
    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
