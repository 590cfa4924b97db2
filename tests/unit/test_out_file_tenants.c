/*
 * test_out_file_tenants.c - one file output, many tenants: path .../{tenant}/...
 *
 * Drives the file output the way the pipeline does (write a batch, flush),
 * with batches of two tenants through one output: each tenant gets its own
 * files, every record in them is its own, each tenant's manifest chain
 * (stream NAME/TENANT) verifies, a file a crash tore is cut back when its
 * tenant's first batch comes, leaving the other tenant's files alone, a
 * path that would mix tenants is refused, a bad tenant name never reaches
 * a path, and past the bound of open sinks the idlest one is closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "outputs/file_sink.h"
#include "outputs/manifest.h"
#include "tests/lib/unit_files.h"

static char ola_dir[256];
static int64_t ola_next_id = 1000;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(ola_test_tmpdir(ola_dir, sizeof(ola_dir), "out-tenants"), 0);
    ola_log_setup(OLA_LOG_WARN, OLA_LOG_TEXT, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(ola_test_rmtree(ola_dir), 0);
    return 0;
}

static void ola_no_fsync(struct ola_file_opts *opts)
{
    opts->fsync = false;
}

/* The output "files" on ola_dir/pat (plain NDJSON); NULL with err when refused. */
static struct ola_output *ola_open(const char *pat, void (*tweak)(struct ola_file_opts *),
                                   struct ola_err *err)
{
    struct ola_output *o = calloc(1, sizeof(*o));
    struct ola_file_opts opts;
    char path[512];

    assert_non_null(o);
    o->fmt = &ola_format_json;
    snprintf(o->name, sizeof(o->name), "files");
    snprintf(o->comp, sizeof(o->comp), "output:file:files");
    snprintf(path, sizeof(path), "%s/%s", ola_dir, pat);
    ola_file_opts_default(&opts, path);
    if (tweak != NULL)
        tweak(&opts);
    if (ola_file_sink_open(o, &opts, err) != 0) {
        ola_file_sink_close(o);
        free(o);
        return NULL;
    }
    return o;
}

static void ola_close(struct ola_output *o)
{
    ola_file_sink_close(o);
    free(o);
}

/* A batch of n events of tenant, stamped as the pipeline does. */
static void ola_make_batch(struct ola_batch *b, const char *tenant, size_t n)
{
    size_t i;

    ola_batch_init(b);
    b->tenant = tenant;
    for (i = 0; i < n; i++) {
        int64_t id = ola_next_id++;
        json_t *ev = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "created_at",
                               "2024-05-01T10:00:00.000Z", "user_name", "alice");
        struct ola_event *e = ola_batch_add(b, OLA_REC_EVENT, ev, NULL, 0);

        assert_non_null(e);
        e->id = id;
        e->created_ms = 1714557600000LL;
    }
    assert_int_equal(ola_batch_stamp_tenant(b), 0);
}

/* Writes and flushes n events of tenant; returns the write's answer. */
static enum ola_rc ola_put(struct ola_output *o, const char *tenant, size_t n)
{
    struct ola_batch b;
    enum ola_rc rc;

    ola_make_batch(&b, tenant, n);
    rc = ola_file_sink_write(o, &b);
    ola_batch_free(&b);
    if (rc != OLA_OK)
        return rc;
    return ola_file_sink_flush(o, 1000);
}

/* Lines of path, each checked to carry "tenant":"<tenant>". */
static size_t ola_lines_of(const char *path, const char *tenant)
{
    static char buf[1 << 16];
    char want[64];
    size_t n = 0;
    char *line, *save = NULL;

    assert_true(ola_test_read_text(path, buf, sizeof(buf)) > 0);
    snprintf(want, sizeof(want), "\"tenant\":\"%s\"", tenant);
    for (line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strstr(line, want) == NULL)
            fail_msg("%s: a line without %s: %s", path, want, line);
        n++;
    }
    return n;
}

static void ola_path(char *out, size_t n, const char *rel)
{
    assert_true(snprintf(out, n, "%s/%s", ola_dir, rel) < (int)n);
}

static void ola_manifest_of(const char *rel, struct ola_manifest *m)
{
    char p[600];
    struct ola_err err;

    assert_true(snprintf(p, sizeof(p), "%s/%s%s", ola_dir, rel, OLA_MANIFEST_SUFFIX) <
                (int)sizeof(p));
    if (ola_manifest_read(p, m, NULL, &err) != 0)
        fail_msg("%s", err.msg);
}

static void ola_verify(const char *rel)
{
    char p[600];
    struct ola_err err;

    ola_path(p, sizeof(p), rel);
    if (ola_manifest_verify_dir(p, NULL, &err) != 0)
        fail_msg("verify %s: %s", p, err.msg);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_two_tenants_two_files(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_output *o = ola_open("{tenant}/events.ndjson", NULL, &err);
    struct ola_manifest m;
    char p[600];

    (void)state;
    assert_non_null(o);
    assert_int_equal(ola_file_sink_count(o), 0); /* sinks come with their tenants */
    assert_int_equal(ola_put(o, "acme", 3), OLA_OK);
    assert_int_equal(ola_put(o, "globex", 2), OLA_OK);
    assert_int_equal(ola_put(o, "acme", 2), OLA_OK);
    assert_int_equal(ola_put(o, NULL, 1), OLA_OK); /* no tenant: "default" */
    assert_int_equal(ola_file_sink_count(o), 3);
    ola_path(p, sizeof(p), "acme/events.ndjson");
    assert_string_equal(ola_file_sink_current_of(o, "acme"), p);
    assert_int_equal(ola_lines_of(p, "acme"), 5);
    ola_path(p, sizeof(p), "globex/events.ndjson");
    assert_int_equal(ola_lines_of(p, "globex"), 2);
    ola_path(p, sizeof(p), "default/events.ndjson");
    assert_int_equal(ola_lines_of(p, "default"), 1);
    assert_int_equal(o->stats.emitted, 8);
    ola_close(o);

    /* one chain per tenant, each verifying alone and all together */
    ola_manifest_of("acme/events.ndjson", &m);
    assert_string_equal(m.stream, "files/acme");
    assert_int_equal(m.seq, 1);
    assert_int_equal(m.events, 5);
    ola_manifest_of("globex/events.ndjson", &m);
    assert_string_equal(m.stream, "files/globex");
    assert_int_equal(m.seq, 1);
    assert_int_equal(m.events, 2);
    ola_verify("acme");
    ola_verify("globex");
    ola_verify("");

    /* a restart goes on with each tenant's own chain */
    o = ola_open("{tenant}/events.ndjson", NULL, &err);
    assert_non_null(o);
    assert_int_equal(ola_put(o, "globex", 1), OLA_OK);
    ola_close(o);
    ola_manifest_of("globex/events.1.ndjson", &m);
    assert_string_equal(m.stream, "files/globex");
    assert_int_equal(m.seq, 2);
    ola_verify("");
}

/*
 * A run killed with both tenants' files open, acme's torn mid-line: globex's
 * first batch closes only globex's file; acme's is cut back (and only then)
 * when acme's first batch comes.
 */
static void test_crash_torn_tail_one_tenant(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_output *o;
    struct ola_manifest m;
    struct stat st;
    char acme[600], globex[600], man[600];
    pid_t pid;
    int status;
    off_t torn;

    (void)state;
    ola_path(acme, sizeof(acme), "acme/events.ndjson");
    ola_path(globex, sizeof(globex), "globex/events.ndjson");
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f;

        o = ola_open("{tenant}/events.ndjson", NULL, &err);
        if (o == NULL || ola_put(o, "acme", 3) != OLA_OK ||
            ola_put(o, "globex", 2) != OLA_OK)
            _exit(2);
        /* a write the crash cut short */
        f = fopen(ola_file_sink_current_of(o, "acme"), "ab");
        if (f == NULL || fputs("{\"id\":99,\"created_at\":\"2024-05", f) < 0 ||
            fclose(f) != 0)
            _exit(3);
        _exit(0); /* no close: no manifests, as after kill -9 */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(stat(acme, &st), 0);
    torn = st.st_size;

    o = ola_open("{tenant}/events.ndjson", NULL, &err);
    assert_non_null(o);
    assert_int_equal(ola_put(o, "globex", 1), OLA_OK);
    /* globex's file is closed and chained; acme's is as the crash left it */
    ola_manifest_of("globex/events.ndjson", &m);
    assert_true(m.recovered);
    assert_int_equal(m.events, 2);
    assert_int_equal(m.seq, 1);
    assert_int_equal(stat(acme, &st), 0);
    assert_int_equal(st.st_size, torn);
    ola_path(man, sizeof(man), "acme/events.ndjson" OLA_MANIFEST_SUFFIX);
    assert_int_not_equal(access(man, F_OK), 0);

    assert_int_equal(ola_put(o, "acme", 2), OLA_OK);
    assert_int_equal(stat(acme, &st), 0);
    assert_true(st.st_size < torn);
    assert_int_equal(ola_lines_of(acme, "acme"), 3); /* the torn line is gone */
    ola_manifest_of("acme/events.ndjson", &m);
    assert_true(m.recovered);
    assert_int_equal(m.events, 3);
    assert_string_equal(m.stream, "files/acme");
    assert_int_equal(ola_lines_of(globex, "globex"), 2);
    ola_close(o);
    ola_manifest_of("acme/events.1.ndjson", &m);
    assert_int_equal(m.seq, 2);
    ola_verify("acme");
    ola_verify("globex");
    ola_verify("");
}

static void test_paths_and_names(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_output *o;
    struct ola_manifest m;
    char p[600];

    (void)state;
    /* a conversion beside {tenant}: tenant "a" would own "2024-b-a" */
    assert_null(ola_open("%Y-{tenant}.ndjson", NULL, &err));
    assert_non_null(strstr(err.msg, "{tenant}"));
    assert_null(ola_open("out/{tenant}%H/x.ndjson", NULL, &err));
    /* its own component next to conversions elsewhere is fine */
    o = ola_open("%Y/{tenant}/events-%H.ndjson", NULL, &err);
    assert_non_null(o);
    ola_close(o);
    o = ola_open("events-{tenant}.ndjson", NULL, &err);
    assert_non_null(o);
    assert_int_equal(ola_put(o, "a", 1), OLA_OK);
    assert_int_equal(ola_put(o, "a-b", 1), OLA_OK);
    /* a name that is no tenant's never becomes part of a path */
    assert_int_equal(ola_put(o, "../x", 1), OLA_FATAL);
    assert_non_null(strstr(o->last_error, "tenant name"));
    assert_int_equal(ola_file_sink_count(o), 2);
    ola_close(o);
    ola_path(p, sizeof(p), "events-a.ndjson");
    assert_int_equal(ola_lines_of(p, "a"), 1);
    ola_path(p, sizeof(p), "events-a-b.ndjson");
    assert_int_equal(ola_lines_of(p, "a-b"), 1);
    ola_verify("");

    /* without {tenant}: one stream named after the output, whatever the tenants */
    o = ola_open("plain/events.ndjson", NULL, &err);
    assert_non_null(o);
    assert_int_equal(ola_file_sink_count(o), 1);
    assert_int_equal(ola_put(o, "acme", 1), OLA_OK);
    assert_int_equal(ola_put(o, "globex", 1), OLA_OK);
    ola_close(o);
    ola_manifest_of("plain/events.ndjson", &m);
    assert_string_equal(m.stream, "files");
    assert_int_equal(m.events, 2);
}

/* More tenants than sinks may be open: the idlest closes, with its manifest. */
static void test_bounded_sinks(void **state)
{
    struct ola_err err = {0, ""};
    struct ola_output *o = ola_open("{tenant}/events.ndjson", ola_no_fsync, &err);
    struct ola_manifest m;
    char t[32];
    int i;

    (void)state;
    assert_non_null(o);
    for (i = 0; i <= 256; i++) {
        snprintf(t, sizeof(t), "t%d", i);
        assert_int_equal(ola_put(o, t, 1), OLA_OK);
        assert_true(ola_file_sink_count(o) <= 256);
    }
    assert_int_equal(ola_file_sink_count(o), 256);
    /* t0 wrote first and was closed for t256 */
    assert_null(ola_file_sink_current_of(o, "t0"));
    ola_manifest_of("t0/events.ndjson", &m);
    assert_int_equal(m.events, 1);
    assert_int_equal(ola_put(o, "t0", 1), OLA_OK); /* back: a new file, same chain */
    ola_close(o);
    ola_manifest_of("t0/events.1.ndjson", &m);
    assert_int_equal(m.seq, 2);
    assert_string_equal(m.stream, "files/t0");
    ola_verify("");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_tenants_two_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_torn_tail_one_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_sinks, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
