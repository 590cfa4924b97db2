/*
 * test_pipeline.c - the pipeline's accounting of refused records.
 *
 * A real file output takes a batch in which one record cannot be rendered by
 * its format: the record is refused, the pipeline writes it to the default
 * dead-letter file beside the checkpoint (reason, event id, the record's own
 * bytes), counts it, marks it, and the batch is acknowledged with the other
 * records in the file. When the letter cannot be written, the batch is not
 * acknowledged (the checkpoint must not move past a record that is nowhere)
 * and the refusal waits for the next round.
 */
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

#include "agent/core/wait.h"
#include "agent/pipeline.h"
#include "tests/lib/unit_files.h"

struct ola_t {
    char dir[64];
    char cp[128];   /* checkpoint path: the state directory is its directory */
    char out[128];  /* the file output's file */
    char dead[160]; /* the default dead-letter file */
    struct ola_cfg_doc *doc;
    struct ola_output *o;
    struct ola_outputs_shared sh;
    struct ola_pipeline p;
    struct ola_batch b;
};

static int ola_t_setup(void **state)
{
    struct ola_t *t = calloc(1, sizeof(*t));
    struct ola_output_cfg oc = {.type = "file", .name = "f"};
    struct ola_err err = {0, ""};
    char yaml[512];

    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/ola_pipe_XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->cp, sizeof(t->cp), "%s/state/checkpoint.json", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/out.ndjson", t->dir);
    snprintf(t->dead, sizeof(t->dead), "%s/state/dead-letter.f.ndjson", t->dir);
    snprintf(yaml, sizeof(yaml), "type: file\npath: %s\nmanifest: false\n", t->out);
    if (ola_cfg_load_string("t.yaml", yaml, strlen(yaml), &t->doc, &err) != 0)
        fail_msg("%s", err.msg);
    oc.node = ola_cfg_root(t->doc);
    t->o = ola_output_new(&oc, 0, &err);
    if (t->o == NULL)
        fail_msg("%s", err.msg);
    if (ola_outputs_shared_init(&t->sh, &t->o, 1, &err) != 0)
        fail_msg("%s", err.msg);
    t->sh.shutdown_timeout_ms = 300;
    t->p.out = &t->sh;
    t->p.backoff_max_ms = 100;
    t->p.flush_timeout_ms = 1000;
    ola_batch_init(&t->b);
    ola_log_setup(OLA_LOG_ERR, OLA_LOG_TEXT, NULL);
    *state = t;
    return 0;
}

static int ola_t_teardown(void **state)
{
    struct ola_t *t = *state;
    char path[192];

    ola_stop_requested = 0;
    ola_outputs_shared_destroy(&t->sh);
    ola_output_destroy(t->o);
    ola_cfg_doc_destroy(t->doc);
    ola_batch_free(&t->b);
    unlink(t->out);
    unlink(t->dead);
    snprintf(path, sizeof(path), "%s/state", t->dir);
    unlink(path); /* a file in test_letter_fails, a directory otherwise */
    rmdir(path);
    rmdir(t->dir);
    free(t);
    return 0;
}

/* Adds event id with raw bytes raw (kept by the caller). */
static void ola_t_add(struct ola_t *t, long long id, const char *raw)
{
    json_t *ev = json_loadb(raw, strlen(raw), JSON_DECODE_ANY, NULL);
    struct ola_event *e;

    assert_non_null(ev);
    e = ola_batch_add(&t->b, OLA_REC_EVENT, ev, raw, strlen(raw));
    assert_non_null(e);
    e->id = id;
}

static size_t ola_t_lines(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* One record the json format cannot render: dead-lettered; the rest delivered. */
static void test_refused_record_dead_lettered(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0, ""};
    char buf[4096];
    json_t *line;

    ola_t_add(t, 41, "{\"id\":41}");
    ola_t_add(t, 42, "[42]"); /* not an object: json cannot splice into it */
    ola_t_add(t, 43, "{\"id\":43}");
    assert_int_equal(ola_pipeline_dead_letters(&t->sh, t->cp, &err), 0);
    assert_string_equal(t->o->dead_letter, t->dead);
    assert_int_equal(ola_pipeline_deliver(&t->p, &t->b, 0), OLA_OK);

    assert_true(ola_test_read_text(t->out, buf, sizeof(buf)) > 0);
    /* every record carries its tenant: none set reads as "default" */
    assert_string_equal(buf, "{\"id\":41,\"olagent\":{\"tenant\":\"default\"}}\n"
                             "{\"id\":43,\"olagent\":{\"tenant\":\"default\"}}\n");
    assert_int_equal(t->o->stats.emitted, 2);
    assert_int_equal(t->o->stats.dead_letters, 1);
    assert_int_equal(t->o->n_refused, 0);
    assert_int_equal(t->b.ev[1].refused, 1);
    assert_int_equal(t->b.ev[0].refused, 0);

    assert_true(ola_test_read_text(t->dead, buf, sizeof(buf)) > 0);
    assert_int_equal(ola_t_lines(buf), 1);
    line = json_loads(buf, 0, NULL);
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "output")), "f");
    assert_int_equal(json_integer_value(json_object_get(line, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(line, "record")), "[42]");
    assert_non_null(strstr(json_string_value(json_object_get(line, "reason")),
                           "format json cannot render"));
    json_decref(line);
}

/*
 * The letter cannot be written (the state "directory" is a file): the batch
 * is never acknowledged, the refusal stays, nothing is counted. On stop the
 * pipeline gives up with RETRY: nothing to commit.
 */
static void test_letter_fails_holds_batch(void **state)
{
    struct ola_t *t = *state;
    struct ola_err err = {0, ""};
    char path[192];
    FILE *f;

    snprintf(path, sizeof(path), "%s/state", t->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    ola_t_add(t, 41, "{\"id\":41}");
    ola_t_add(t, 42, "[42]");
    assert_int_equal(ola_pipeline_dead_letters(&t->sh, t->cp, &err), 0);
    ola_stop_requested = 1; /* the shutdown deadline (300 ms) ends the retries */
    assert_int_equal(ola_pipeline_deliver(&t->p, &t->b, 0), OLA_RETRY);
    assert_int_equal(t->o->stats.dead_letters, 0);
    assert_int_equal(t->o->n_refused, 1);
    assert_non_null(strstr(t->o->last_error, "dead letter"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refused_record_dead_lettered, ola_t_setup,
                                        ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_letter_fails_holds_batch, ola_t_setup,
                                        ola_t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
