/*
 * test_replay_source.c - the replay source through the source interface:
 * batches of at most 1,000 lines, refused lines dead-lettered and counted,
 * END once the input is read (and again after), the summary only once the
 * input ended, a missing file and a failing dead-letter write as errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/event.h"
#include "agent/core/source.h"
#include "agent/replay.h"

static char dir[256];
static char in_path[300];
static char dl_path[300];
static char err_path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/ola_test_replay_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(in_path, sizeof(in_path), "%s/in.ndjson", dir);
    snprintf(dl_path, sizeof(dl_path), "%s/state/dead-letter.ndjson", dir);
    snprintf(err_path, sizeof(err_path), "%s/stderr.txt", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(in_path);
    unlink(dl_path);
    unlink(err_path);
    snprintf(in_path, sizeof(in_path), "%s/state", dir);
    rmdir(in_path);
    rmdir(dir);
    return 0;
}

/* Writes n events of about 500 bytes (real ones are 880), one a line; line k
 * (1-based) is "not json" when k % bad == 0. */
static void write_input(size_t n, size_t bad)
{
    FILE *f = fopen(in_path, "w");
    size_t k;

    assert_non_null(f);
    for (k = 1; k <= n; k++) {
        if (bad != 0 && k % bad == 0)
            fprintf(f, "not json\n");
        else
            fprintf(f,
                    "{\"id\":%zu,\"created_at\":\"2026-11-23T10:00:00.000Z\",\"pad\":\"%"
                    "0440d\"}\n",
                    k, 0);
    }
    assert_int_equal(fclose(f), 0);
}

/* Runs fn(src) with stderr going to err_path; returns what it printed (malloc'd). */
static char *capture_stderr(void (*fn)(struct ola_source *), struct ola_source *src)
{
    int saved = dup(2), fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *text = calloc(1, 4096);
    FILE *f;

    assert_true(saved >= 0 && fd >= 0 && text != NULL);
    fflush(stderr);
    assert_int_equal(dup2(fd, 2), 2);
    fn(src);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(fd);
    close(saved);
    f = fopen(err_path, "r");
    assert_non_null(f);
    assert_true(fread(text, 1, 4095, f) < 4095);
    fclose(f);
    return text;
}

static void test_batches_then_end(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_source *src;
    struct ola_batch b;
    size_t sizes[3], total = 0, i;
    int64_t wait = -1;
    char *said, *bodies[3];

    (void)state;
    write_input(2500, 1000); /* lines 1000 and 2000 are refused */
    src = ola_replay_source_new(in_path, dl_path, &err);
    assert_non_null(src);
    assert_string_equal(ola_source_name(src), "replay");
    ola_batch_init(&b);
    /* before the end, finish says nothing: a failure stopped the run */
    said = capture_stderr(ola_source_finish, src);
    assert_string_equal(said, "");
    free(said);
    for (i = 0; i < 3; i++) {
        assert_int_equal(ola_source_next(src, &b, &wait, &err), OLA_SRC_BATCH);
        assert_int_equal(wait, 0);
        sizes[i] = b.n;
        bodies[i] = b.body;
        total += b.n;
        assert_int_equal(b.ev[0].id, (int64_t)(i * 1000 + 1));
        assert_int_equal(ola_source_commit(src, &b), 0);
    }
    /* a batch is read into the memory of the one before once that is big
     * enough (the second may still grow it: it reserves the first's size
     * and a block more) */
    assert_ptr_equal(bodies[2], bodies[1]);
    ola_batch_reset(&b);
    assert_ptr_equal(b.spare, bodies[2]); /* kept for a next batch */
    ola_batch_trim(&b);                   /* which an idle batch gives back */
    assert_null(b.spare);
    assert_int_equal(sizes[0], 999); /* 1,000 lines, one refused */
    assert_int_equal(sizes[1], 999);
    assert_int_equal(sizes[2], 500);
    assert_int_equal(total, 2498);
    assert_int_equal(ola_source_next(src, &b, &wait, &err), OLA_SRC_END);
    assert_int_equal(b.n, 0);
    assert_int_equal(ola_source_next(src, &b, &wait, &err), OLA_SRC_END);
    said = capture_stderr(ola_source_finish, src);
    assert_non_null(strstr(said, "olagent: replayed 2498 records (2 lines refused, "
                                 "written to "));
    assert_non_null(strstr(said, "first: line 1000, not valid JSON"));
    free(said);
    ola_batch_free(&b);
    ola_source_destroy(src);
    ola_source_destroy(NULL);
}

static void test_empty_input(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_source *src;
    struct ola_batch b;
    int64_t wait = -1;
    char *said;

    (void)state;
    write_input(0, 0);
    src = ola_replay_source_new(in_path, dl_path, &err);
    assert_non_null(src);
    ola_batch_init(&b);
    assert_int_equal(ola_source_next(src, &b, &wait, &err), OLA_SRC_END);
    said = capture_stderr(ola_source_finish, src);
    assert_string_equal(said, "olagent: replayed 0 records (0 lines refused)\n");
    free(said);
    ola_batch_free(&b);
    ola_source_destroy(src);
}

static void test_missing_file(void **state)
{
    struct ola_err err = {0, ""};
    char path[320];

    (void)state;
    snprintf(path, sizeof(path), "%s/absent.ndjson", dir);
    assert_null(ola_replay_source_new(path, dl_path, &err));
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.msg, path));
}

/* A refused line whose dead letter cannot be written stops the replay. */
static void test_dead_letter_fails(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_source *src;
    struct ola_batch b;
    int64_t wait = -1;
    char *said;

    (void)state;
    write_input(3, 2);
    src = ola_replay_source_new(in_path, "/dev/null/dead-letter.ndjson", &err);
    assert_non_null(src);
    ola_batch_init(&b);
    assert_int_equal(ola_source_next(src, &b, &wait, &err), OLA_SRC_FATAL);
    assert_non_null(strstr(err.msg, "/dev/null/dead-letter.ndjson"));
    said = capture_stderr(ola_source_finish, src);
    assert_string_equal(said, ""); /* no summary: the input did not end */
    free(said);
    ola_batch_free(&b);
    ola_source_destroy(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_then_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_fails, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
