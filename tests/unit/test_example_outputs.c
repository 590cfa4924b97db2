/*
 * test_example_outputs.c - the example config's outputs tell the truth.
 *
 * The output blocks under `outputs:` in config/olagent.example.yaml ("  # -
 * type: kafka" and the lines under it) are held to their type's option
 * tables: the keys every output has (outputs/output.c) and the plugin's own
 * (ops->opts). A key no table knows, or a default or a help that differs,
 * fails; every key of a plugin's own table is in its type's block and every
 * common key in some block. The blocks `olagent config example` prints are
 * held to the same tables, every key of them present.
 */
#include "tests/unit/example_scan.h"

#include "agent/core/log.h"
#include "agent/settings.h"
#include "outputs/output.h"

/* ---- the output blocks against the outputs' tables ---------------------------- */

/* One block under `outputs:`: "  # - type: kafka" (or uncommented) and its lines. */
struct ex_block {
    char type[32]; /* "" for the block of the keys every output has */
    int line;
    struct ex_keys keys;
};

struct ex_blocks {
    struct ex_block b[16];
    size_t n;
};

/*
 * Finds the output blocks of text: a block opens at "  # - type: X" or
 * "  - type: X" (or at the header of the common keys that `config example`
 * prints) and holds the lines after it that start with its indentation
 * ("  #   " or "    "), which are read, that prefix cut, like a config file.
 */
static void scan_blocks(const char *text, struct ex_blocks *out)
{
    static char body[16384];
    const char *p = text, *prefix = NULL;
    size_t used = 0;
    int line = 0;

    out->n = 0;
    while (true) {
        const char *eol = *p != '\0' ? strchr(p, '\n') : NULL;
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char l[512];
        bool end = *p == '\0', open_c, open_p, common;

        snprintf(l, sizeof(l), "%.*s", (int)n, p);
        line++;
        open_c = strncmp(l, "  # - type: ", 12) == 0;
        open_p = strncmp(l, "  - type: ", 10) == 0;
        common = strcmp(l, "  # " OLA_OUTPUT_COMMON_HEADER) == 0;
        if (prefix != NULL && !end && !open_c && !open_p && !common &&
            (strncmp(l, prefix, strlen(prefix)) == 0 ||
             (prefix[2] == '#' && strcmp(l, "  #") == 0))) {
            const char *rest = strlen(l) >= strlen(prefix) ? l + strlen(prefix) : "";

            assert_true(used + strlen(rest) + 2 < sizeof(body));
            used += (size_t)snprintf(body + used, sizeof(body) - used, "%s\n", rest);
        } else if (prefix != NULL) {
            struct ex_block *b = &out->b[out->n - 1];
            size_t k;

            scan_example(body, &b->keys);
            for (k = 0; k < b->keys.n; k++) /* lines of the file, not of the block */
                b->keys.k[k].line += b->line;
            prefix = NULL;
        }
        if (end)
            break;
        if (open_c || open_p || common) {
            struct ex_block *b;
            char *sp;

            assert_true(out->n < sizeof(out->b) / sizeof(out->b[0]));
            b = &out->b[out->n++];
            snprintf(b->type, sizeof(b->type), "%s",
                     common ? "" : l + (open_c ? 12 : 10));
            sp = strpbrk(b->type, " #");
            if (sp != NULL)
                *sp = '\0';
            b->line = line;
            prefix = open_p ? "    " : "  #   ";
            used = 0;
            body[0] = '\0';
        }
        p += eol ? n + 1 : n;
    }
}

/* The output types olagent has; those not compiled in are skipped. */
static const char *const output_types[] = {"stdout", "file", "kafka", "syslog", NULL};

/*
 * Holds every block of text to its type's tables. complete: every key of a
 * block's tables is in it (the blocks `config example` prints); otherwise
 * every key of a plugin's own table is in its type's block, and every common
 * key in some block. Returns the disagreements; *checked counts the keys.
 */
static size_t check_blocks(const char *text, bool complete, size_t *checked)
{
    static const struct ola_opt none[] = {{.name = NULL}};
    static struct ex_blocks bs;
    struct ola_opt all[OLA_OUTPUT_OPTS_MAX];
    const struct ola_opt *o;
    size_t wrong = 0, i, t;

    scan_blocks(text, &bs);
    for (i = 0; i < bs.n; i++) {
        const struct ex_block *b = &bs.b[i];
        const struct ola_output_ops *ops = ola_output_find(b->type);

        if (b->type[0] == '\0') {
            wrong += check_table_mode(&b->keys, "", ola_output_options + 1, checked,
                                      CT_COMPLETE | CT_ILLUSTRATIVE);
            continue;
        }
        if (ops == NULL) {
            if (strcmp(b->type, "kafka") != 0) { /* kafka may be built without */
                print_message("line %d: no output type '%s'\n", b->line, b->type);
                wrong++;
            }
            continue;
        }
        if (complete) {
            wrong += check_table_mode(&b->keys, "", ops->opts != NULL ? ops->opts : none,
                                      checked, CT_COMPLETE | CT_ILLUSTRATIVE);
            continue;
        }
        assert_true(ola_output_opts_all(ops, all, OLA_OUTPUT_OPTS_MAX) > 0);
        wrong += check_table_mode(&b->keys, "", all, checked, CT_ILLUSTRATIVE);
        for (o = ops->opts; o != NULL && o->name != NULL; o++)
            if (ex_find(&b->keys, o->name) == NULL) {
                print_message("line %d: %s.%s is in the option tables, not in the "
                              "block\n",
                              b->line, b->type, o->name);
                wrong++;
            }
    }
    /* every type compiled in has its block */
    for (t = 0; output_types[t] != NULL; t++) {
        bool found = false;

        for (i = 0; i < bs.n; i++)
            found = found || strcmp(bs.b[i].type, output_types[t]) == 0;
        if (ola_output_find(output_types[t]) != NULL && !found) {
            print_message("no block for the %s output\n", output_types[t]);
            wrong++;
        }
    }
    /* every common key but type in some block */
    for (o = ola_output_options + 1; !complete && o->name != NULL; o++) {
        bool found = false;

        for (i = 0; i < bs.n; i++)
            found = found || ex_find(&bs.b[i].keys, o->name) != NULL;
        if (!found) {
            print_message("outputs: %s is in the option tables, in no block\n", o->name);
            wrong++;
        }
    }
    return wrong;
}

static void test_example_outputs_match_tables(void **state)
{
    char *file = read_example();
    size_t checked = 0, wrong;

    (void)state;
    wrong = check_blocks(file, false, &checked);
    print_message("%zu keys of the outputs' tables held to the example\n", checked);
    assert_true(checked >= 40);
    assert_int_equal(wrong, 0);
    free(file);
}

/* The block check finds what it is for: an unknown key, a default and a help
 * that differ, a plugin key missing, a type that does not exist. */
static void test_example_outputs_check_finds_disagreement(void **state)
{
    static const char text[] =
        "outputs:\n"
        "  - type: stdout\n"
        "    formt: json\n" /* unknown */
        "\n"
        "  # - type: syslog\n"
        "  #   rfc: 3164                 # 5424 (default) or 3164\n" /* default */
        "  #   oversize: truncate        # what to do\n"             /* help */
        "\n"
        "  # - type: nosuch\n"; /* no such type; every syslog key but two missing */
    size_t checked = 0, n_syslog = 0;
    const struct ola_opt *o;

    (void)state;
    for (o = ola_output_find("syslog")->opts; o->name != NULL; o++)
        n_syslog++;
    /* formt, rfc's default, oversize's help, the syslog keys not there, nosuch,
     * the six common keys but type in no block, the types without a block */
    assert_int_equal(check_blocks(text, false, &checked),
                     1 + 1 + 1 + 1 + (n_syslog - 2) + 6 +
                         (ola_output_find("file") != NULL) +
                         (ola_output_find("kafka") != NULL));
}

/* `olagent config example` prints each output type's keys as the tables say. */
static void test_config_example_prints_outputs(void **state)
{
    static struct ex_keys ks;
    char *text = NULL;
    size_t len = 0, checked = 0;
    FILE *mem = open_memstream(&text, &len);

    (void)state;
    assert_non_null(mem);
    ola_settings_print_example(mem);
    assert_int_equal(fclose(mem), 0);
    assert_non_null(strstr(text, "\n  # - type: syslog\n"));
    assert_non_null(strstr(text, "\n  #   transport: tcp\n"));
    assert_int_equal(check_blocks(text, true, &checked), 0);
    print_message("%zu keys of the outputs' tables printed\n", checked);
    assert_true(checked >= 40);
    scan_example(text, &ks);
    checked = 0;
    assert_int_equal(check_table(&ks, "", ola_settings_options, &checked), 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_outputs_match_tables),
        cmocka_unit_test(test_example_outputs_check_finds_disagreement),
        cmocka_unit_test(test_config_example_prints_outputs),
    };

    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
