/*
 * config_test.h - helpers shared by the config tests (test_config.c,
 * test_config_secrets.c, test_config_settings.c): documents loaded from
 * strings (name "t.yaml"), errors checked to start with "name:LINE: ", real
 * files in a temporary directory made and removed by the group setup and
 * teardown, and a log file read back whole.
 *
 * Static functions, as in rules_fixture.h: each test file gets its own copy
 * (and its own tmpdir), so include it once, from the test file.
 */
#ifndef OLA_CONFIG_TEST_H
#define OLA_CONFIG_TEST_H

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

#include "config/config.h"

#define NOW_MS INT64_C(1700000000000)

/* The group's temporary directory (setup_all makes it, teardown_all removes it). */
static char tmpdir[256];

/* Loads text as "t.yaml"; NULL with err filled when it does not load. */
static inline struct ola_cfg_doc *load(const char *text, struct ola_err *err)
{
    struct ola_cfg_doc *doc = NULL;

    ola_err_clear(err);
    if (ola_cfg_load_string("t.yaml", text, strlen(text), &doc, err) != 0)
        return NULL;
    return doc;
}

/* Loads text as "t.yaml"; the running test fails when it does not load. */
static inline struct ola_cfg_doc *load_ok(const char *text)
{
    struct ola_err err;
    struct ola_cfg_doc *doc = load(text, &err);

    if (doc == NULL)
        fail_msg("load failed: %s", err.msg);
    return doc;
}

/* Asserts msg starts with prefix ("t.yaml:7: ") and contains want. */
static inline void check_err(const struct ola_err *err, const char *prefix,
                             const char *want)
{
    if (strncmp(err->msg, prefix, strlen(prefix)) != 0)
        fail_msg("error '%s' does not start with '%s'", err->msg, prefix);
    if (want != NULL && strstr(err->msg, want) == NULL)
        fail_msg("error '%s' does not contain '%s'", err->msg, want);
}

/* Loading must fail with prefix + want. */
static inline void load_fails(const char *text, const char *prefix, const char *want)
{
    struct ola_err err;
    struct ola_cfg_doc *doc = load(text, &err);

    if (doc != NULL)
        fail_msg("loaded but expected '%s%s'", prefix, want);
    check_err(&err, prefix, want);
}

/* Writes text into path and gives it mode. */
static inline void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* tmpdir/name into buf (size bytes); returns buf. */
static inline char *path_in_tmp(const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", tmpdir, name);

    assert_true(n > 0 && (size_t)n < size);
    return buf;
}

/* Reads a whole small file into a static buffer. */
static inline const char *slurp(FILE *f)
{
    static char buf[16384];
    size_t n;

    assert_int_equal(fflush(f), 0);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    return buf;
}

/* cmocka group setup: a fresh tmpdir under $TMPDIR (or /tmp). */
static inline int setup_all(void **state)
{
    const char *t = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof(tmpdir), "%s/ola-config-XXXXXX", t ? t : "/tmp");

    (void)state;
    if (n < 0 || (size_t)n >= sizeof(tmpdir) || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

/* cmocka group teardown: removes tmpdir and all in it. */
static inline int teardown_all(void **state)
{
    char cmd[512];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);

    (void)state;
    if (n > 0 && (size_t)n < sizeof(cmd) && system(cmd) != 0)
        return -1;
    return 0;
}

#endif
