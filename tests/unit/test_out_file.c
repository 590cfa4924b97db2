/*
 * test_out_file.c - the file output on real files in a temporary directory.
 *
 * Drives the engine (file_sink.c) the way the pipeline does: write a batch,
 * flush, and checks the bytes with zlib and the real `gzip -t`: one member
 * per flush, rotation by size and by (injected) age, name collisions, crash
 * recovery of a file cut mid-member, a write failure (RLIMIT_FSIZE) answered
 * RETRY with the file rolled back, keep, reopen, manifests and the verifier
 * passing, then failing on a tampered file.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "outputs/file_sink.h"
#include "outputs/manifest.h"
#include "tests/lib/unit_files.h"

static char ola_dir[256];
static int64_t ola_fake_now = 1700000000000LL; /* 2023-11-14T22:13:20Z */
static int64_t ola_next_id = 1000;
static uint64_t ola_lcg = 42;

static int64_t ola_test_clock(void)
{
    return ola_fake_now;
}

static int setup(void **state)
{
    (void)state;
    snprintf(ola_dir, sizeof(ola_dir), "/tmp/ola_out_file_XXXXXX");
    assert_non_null(mkdtemp(ola_dir));
    ola_log_setup(OLA_LOG_WARN, OLA_LOG_TEXT, NULL);
    ola_fake_now = 1700000000000LL;
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ola_dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static struct ola_output *ola_test_output(const char *name)
{
    struct ola_output *o = calloc(1, sizeof(*o));

    assert_non_null(o);
    o->fmt = &ola_format_json;
    o->index = 0;
    snprintf(o->name, sizeof(o->name), "%s", name);
    snprintf(o->comp, sizeof(o->comp), "output:file:%s", name);
    return o;
}

static void ola_test_free(struct ola_output *o)
{
    ola_file_sink_close(o);
    free(o);
}

/* Opens a sink on dir/pat with the fake clock. */
static struct ola_output *ola_open(const char *pat, void (*tweak)(struct ola_file_opts *))
{
    struct ola_output *o = ola_test_output("files");
    struct ola_file_opts opts;
    struct ola_err err = {0, ""};
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", ola_dir, pat);
    ola_file_opts_default(&opts, path);
    opts.now_ms = ola_test_clock;
    if (tweak != NULL)
        tweak(&opts);
    if (ola_file_sink_open(o, &opts, &err) != 0)
        fail_msg("open: %s", err.msg);
    return o;
}

/* A batch of n events (ids from ola_next_id) and `alerts` alerts. */
static void ola_make_batch(struct ola_batch *b, size_t n, size_t alerts)
{
    size_t i;

    ola_batch_init(b);
    for (i = 0; i < n + alerts; i++) {
        bool alert = i >= n;
        int64_t id = alert ? 0 : ola_next_id++;
        char ip[64];
        json_t *ev;

        /* Something that does not compress to nothing. */
        ola_lcg = ola_lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(ip, sizeof(ip), "%016llx", (unsigned long long)ola_lcg);
        ev = alert ? json_pack("{s:s,s:s}", "alert", "brute_force", "user", "bob")
                   : json_pack("{s:I,s:s,s:i,s:s,s:s}", "id", (json_int_t)id,
                               "created_at", "2024-05-01T10:00:00.000Z", "event_type_id",
                               5, "user_name", "alice", "ipaddr", ip);
        struct ola_event *e =
            ola_batch_add(b, alert ? OLA_REC_ALERT : OLA_REC_EVENT, ev, NULL, 0);

        assert_non_null(e);
        e->id = id;
        e->created_ms = 1714557600000LL;
    }
}

static void ola_put(struct ola_output *o, size_t n, size_t alerts)
{
    struct ola_batch b;

    ola_make_batch(&b, n, alerts);
    assert_int_equal(ola_file_sink_write(o, &b), OLA_OK);
    ola_batch_free(&b);
    assert_int_equal(ola_file_sink_flush(o, 1000), OLA_OK);
}

struct ola_list {
    char names[64][512];
    size_t n;
};

static int ola_list_cb(const char *path, const struct stat *st, void *arg,
                       struct ola_err *err)
{
    struct ola_list *l = arg;

    (void)st;
    (void)err;
    if (l->n < 64)
        snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", path);
    return 0;
}

static int ola_strcmp_cb(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Data files (no manifests) under ola_dir, sorted. */
static void ola_list_data(struct ola_list *l, size_t *manifests)
{
    struct ola_list all;
    struct ola_err err;
    size_t i, m = 0;

    memset(&all, 0, sizeof(all));
    memset(l, 0, sizeof(*l));
    assert_int_equal(ola_dir_walk(ola_dir, 8, ola_list_cb, &all, &err), 0);
    for (i = 0; i < all.n; i++) {
        if (strstr(all.names[i], OLA_MANIFEST_SUFFIX) != NULL)
            m++;
        else
            memcpy(l->names[l->n++], all.names[i], sizeof(l->names[0]));
    }
    qsort(l->names, l->n, sizeof(l->names[0]), ola_strcmp_cb);
    if (manifests != NULL)
        *manifests = m;
}

static void ola_gzip_t(const char *path)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "gzip -t '%s'", path);
    if (system(cmd) != 0)
        fail_msg("gzip -t failed on %s", path);
}

/* Decompresses every member of path; returns the number of lines. */
static size_t ola_count_lines(const char *path)
{
    gzFile g = gzopen(path, "rb");
    char buf[8192];
    size_t lines = 0;
    int n, last = '\n', i;

    assert_non_null(g);
    while ((n = gzread(g, buf, sizeof(buf))) > 0) {
        for (i = 0; i < n; i++)
            if (buf[i] == '\n')
                lines++;
        last = buf[n - 1];
    }
    assert_int_equal(n, 0);
    gzclose(g);
    assert_int_equal(last, '\n');
    return lines;
}

/* Counts complete gzip members in path and checks they end at `size`. */
static size_t ola_members(const char *path, off_t *end)
{
    FILE *f = fopen(path, "rb");
    static unsigned char in[1 << 20], out[1 << 16];
    size_t n, members = 0;
    z_stream zs;

    assert_non_null(f);
    n = fread(in, 1, sizeof(in), f);
    fclose(f);
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 31), Z_OK);
    zs.next_in = in;
    zs.avail_in = (uInt)n;
    while (zs.avail_in > 0) {
        int zr;

        zs.next_out = out;
        zs.avail_out = sizeof(out);
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            members++;
            inflateReset(&zs);
        } else if (zr != Z_OK) {
            break;
        }
    }
    *end = (off_t)(n - zs.avail_in);
    inflateEnd(&zs);
    return members;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_member_per_flush(void **state)
{
    struct ola_output *o = ola_open("a/%Y/%m/events-%H%M%S.ndjson.gz", NULL);
    char path[512];
    struct stat st;
    off_t end;
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        ola_put(o, 10, 0);
        snprintf(path, sizeof(path), "%s", ola_file_sink_current(o));
        /* Cut right after this acknowledgement, the file is whole members. */
        assert_int_equal(ola_members(path, &end), (size_t)i + 1);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(end, st.st_size);
        ola_gzip_t(path);
        assert_int_equal(ola_count_lines(path), 10 * ((size_t)i + 1));
        ola_file_sink_trim(o); /* a quiet poll between batches changes nothing */
    }
    assert_non_null(strstr(path, "/a/2023/11/events-221320.ndjson.gz"));
    assert_int_equal(o->stats.emitted, 30);
    ola_test_free(o);
}

static void ola_tweak_size(struct ola_file_opts *opts)
{
    opts->rotate_size = 700;
}

static void test_rotate_size_and_verify(void **state)
{
    struct ola_output *o = ola_open("events-%H%M%S.ndjson.gz", ola_tweak_size);
    struct ola_list l;
    struct ola_manifest m;
    struct ola_err err;
    char man[600];
    size_t i, manifests, total = 0;
    uint64_t seq = 0;

    (void)state;
    for (i = 0; i < 12; i++)
        ola_put(o, 20, i == 3 ? 2 : 0); /* every flush ~1.2 KB compressed */
    ola_test_free(o);
    ola_list_data(&l, &manifests);
    assert_true(l.n >= 4);
    assert_int_equal(manifests, l.n); /* close() manifested the last one */
    for (i = 0; i < l.n; i++) {
        ola_gzip_t(l.names[i]);
        snprintf(man, sizeof(man), "%s%s", l.names[i], OLA_MANIFEST_SUFFIX);
        assert_int_equal(ola_manifest_read(man, &m, NULL, &err), 0);
        assert_int_equal(m.events, ola_count_lines(l.names[i]));
        assert_string_equal(m.stream, "files");
        total += m.events;
        seq += m.seq;
        /* Same second each time: names collide, and get .1, .2, ... */
        if (i > 0)
            assert_non_null(strstr(l.names[i], "events-221320."));
    }
    assert_int_equal(total, 12 * 20 + 2);
    assert_int_equal(seq, l.n * (l.n + 1) / 2);
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), 0);
}

static void ola_tweak_age(struct ola_file_opts *opts)
{
    opts->rotate_age_ms = 60000;
}

static void test_rotate_age(void **state)
{
    struct ola_output *o = ola_open("events-%H%M%S.ndjson.gz", ola_tweak_age);
    char first[512];
    struct ola_list l;
    struct ola_err err;

    (void)state;
    ola_put(o, 5, 0);
    snprintf(first, sizeof(first), "%s", ola_file_sink_current(o));
    ola_fake_now += 59999;
    ola_put(o, 5, 0);
    assert_string_equal(ola_file_sink_current(o), first);
    ola_fake_now += 1;
    /* An empty flush closes a file that is due. */
    assert_int_equal(ola_file_sink_flush(o, 0), OLA_OK);
    assert_null(ola_file_sink_current(o));
    ola_put(o, 5, 0);
    assert_non_null(strstr(ola_file_sink_current(o), "events-221420.ndjson.gz"));
    ola_test_free(o);
    ola_list_data(&l, NULL);
    assert_int_equal(l.n, 2);
    assert_int_equal(ola_count_lines(l.names[0]), 10);
    assert_int_equal(ola_count_lines(l.names[1]), 5);
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), 0);
}

static void test_tamper_detected(void **state)
{
    struct ola_output *o = ola_open("events-%H%M%S.ndjson.gz", ola_tweak_size);
    struct ola_list l;
    struct ola_err err;
    char buf[4096];
    FILE *f, *report;
    size_t i;

    (void)state;
    for (i = 0; i < 8; i++)
        ola_put(o, 20, 0);
    ola_test_free(o);
    ola_list_data(&l, NULL);
    assert_true(l.n >= 3);
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), 0);
    /* Flip one byte in the middle of the second file. */
    f = fopen(l.names[1], "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    i = (size_t)fgetc(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    fputc((int)(i ^ 0x01), f);
    fclose(f);
    report = tmpfile();
    assert_non_null(report);
    assert_int_equal(ola_manifest_verify_dir(ola_dir, report, &err), -1);
    assert_non_null(strstr(err.msg, l.names[1]));
    assert_non_null(strstr(err.msg, "sha256"));
    rewind(report);
    i = fread(buf, 1, sizeof(buf) - 1, report);
    buf[i] = '\0';
    fclose(report);
    assert_non_null(strstr(buf, "BREAK"));
}

static void test_tamper_manifest_breaks_chain(void **state)
{
    struct ola_output *o = ola_open("events-%H%M%S.ndjson.gz", ola_tweak_size);
    struct ola_list l;
    struct ola_err err;
    char man[600], *text;
    FILE *f;
    long n;
    size_t i;

    (void)state;
    for (i = 0; i < 8; i++)
        ola_put(o, 20, 0);
    ola_test_free(o);
    ola_list_data(&l, NULL);
    /* Rewrite the event count of the first manifest: the second's link breaks. */
    snprintf(man, sizeof(man), "%s%s", l.names[0], OLA_MANIFEST_SUFFIX);
    f = fopen(man, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    assert_non_null(strstr(text, "\"events\":"));
    text[strlen("\"events\":") + (size_t)(strstr(text, "\"events\":") - text)] = '9';
    rewind(f);
    fwrite(text, 1, (size_t)n, f);
    fclose(f);
    free(text);
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "chain break"));
}

/* Writes a gzip member of text to f. */
static void ola_put_member(FILE *f, const char *text, size_t cut)
{
    unsigned char out[4096];
    z_stream zs;
    size_t n;

    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)text;
    zs.avail_in = (uInt)strlen(text);
    zs.next_out = out;
    zs.avail_out = sizeof(out);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    n = sizeof(out) - zs.avail_out;
    deflateEnd(&zs);
    assert_int_equal(fwrite(out, 1, cut ? cut : n, f), cut ? cut : n);
}

static void test_recover_crashed_file(void **state)
{
    struct ola_output *o = ola_open("events-%H%M%S.ndjson.gz", NULL);
    char crashed[512], man[600];
    struct ola_manifest m;
    struct ola_err err;
    struct ola_list l;
    FILE *f;
    off_t end;

    (void)state;
    /* The chain has one closed file first. */
    ola_put(o, 3, 0);
    ola_test_free(o);
    /* A previous run died mid-member in this one. */
    snprintf(crashed, sizeof(crashed), "%s/events-000000.ndjson.gz", ola_dir);
    f = fopen(crashed, "wb");
    assert_non_null(f);
    ola_put_member(f,
                   "{\"id\":7,\"created_at\":\"2024-01-01T00:00:01.5Z\"}\n"
                   "{\"alert\":\"x\"}\n",
                   0);
    ola_put_member(f, "{\"id\":9,\"created_at\":\"2024-01-01T00:00:02.000Z\"}\n", 0);
    ola_put_member(f, "{\"id\":11,\"created_at\":\"2024-01-01T00:00:03.000Z\"}\n", 20);
    fclose(f);
    o = ola_open("events-%H%M%S.ndjson.gz", NULL);
    assert_null(ola_file_sink_current(o));
    ola_gzip_t(crashed);
    assert_int_equal(ola_members(crashed, &end), 2);
    snprintf(man, sizeof(man), "%s%s", crashed, OLA_MANIFEST_SUFFIX);
    assert_int_equal(ola_manifest_read(man, &m, NULL, &err), 0);
    assert_int_equal(m.events, 3);
    assert_int_equal(m.first_id, 7);
    assert_int_equal(m.last_id, 9);
    assert_int_equal(m.first_created_ms, 1704067201500LL);
    assert_true(m.recovered);
    assert_int_equal(m.seq, 2);
    /* The run goes on, chained after the recovered file. */
    ola_put(o, 2, 0);
    ola_test_free(o);
    ola_list_data(&l, NULL);
    assert_int_equal(l.n, 3);
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), 0);
}

static void ola_tweak_plain(struct ola_file_opts *opts)
{
    opts->rotate_size = 3000;
}

static void test_plain_and_recover(void **state)
{
    struct ola_output *o;
    struct ola_manifest m;
    struct ola_err err;
    struct ola_list l;
    char man[600];
    pid_t pid;
    int status;

    (void)state;
    /* A child acknowledges 4 records, starts a fifth and dies. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f;

        o = ola_open("plain-%H.ndjson", ola_tweak_plain);
        ola_put(o, 4, 0);
        f = fopen(ola_file_sink_current(o), "ab");
        if (f == NULL || fputs("{\"id\":99,\"crea", f) < 0 || fclose(f) != 0)
            _exit(1);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    o = ola_open("plain-%H.ndjson", ola_tweak_plain);
    ola_test_free(o);
    ola_list_data(&l, NULL);
    assert_int_equal(l.n, 1);
    snprintf(man, sizeof(man), "%s%s", l.names[0], OLA_MANIFEST_SUFFIX);
    assert_int_equal(ola_manifest_read(man, &m, NULL, &err), 0);
    assert_int_equal(m.events, 4);
    assert_int_equal(m.bytes, 4 * strlen("{\"id\":1000,\"created_at\":\"2024-05-01T10:00:"
                                         "00.000Z\",\"event_type_id\":5,\"user_name\":"
                                         "\"alice\",\"ipaddr\":\"0123456789abcdef\"}\n"));
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), 0);
}

static void test_write_failure_rolls_back(void **state)
{
    struct ola_output *o = ola_open("events-%H%M%S.ndjson.gz", NULL);
    struct rlimit old, lim;
    struct ola_batch b;
    struct stat st;
    char path[512];
    off_t size, end;

    (void)state;
    ola_put(o, 10, 0);
    snprintf(path, sizeof(path), "%s", ola_file_sink_current(o));
    assert_int_equal(stat(path, &st), 0);
    size = st.st_size;
    /* The file may not grow: the next member fails part-way or entirely. */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ola_make_batch(&b, 200, 0);
    assert_int_equal(ola_file_sink_write(o, &b), OLA_OK);
    ola_batch_free(&b);
    assert_int_equal(ola_file_sink_flush(o, 0), OLA_RETRY);
    ola_file_sink_trim(o); /* the batch is not durable: trim must keep it */
    assert_int_equal(ola_file_sink_flush(o, 0), OLA_RETRY);
    assert_non_null(strstr(o->last_error, "write"));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, size); /* rolled back: no garbage */
    assert_int_equal(o->stats.emitted, 10);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    /* Room again: the kept data goes out, the file is whole. */
    assert_int_equal(ola_file_sink_flush(o, 0), OLA_OK);
    assert_int_equal(o->stats.emitted, 210);
    assert_int_equal(ola_members(path, &end), 2);
    ola_gzip_t(path);
    assert_int_equal(ola_count_lines(path), 210);
    ola_test_free(o);
}

static void ola_tweak_keep(struct ola_file_opts *opts)
{
    opts->rotate_size = 1;
    opts->keep_files = 3;
}

static void test_keep_files(void **state)
{
    struct ola_output *o;
    struct ola_list l;
    struct ola_err err;
    char other[512];
    int i;

    (void)state;
    /* Files that are not ours stay. */
    snprintf(other, sizeof(other), "%s/notes.txt", ola_dir);
    assert_int_equal(ola_test_write_text(other, ""), 0);
    o = ola_open("events-%H%M%S.ndjson.gz", ola_tweak_keep);
    for (i = 0; i < 7; i++) {
        ola_put(o, 2, 0); /* rotate_size 1: every flush closes its file */
        ola_fake_now += 1000;
    }
    ola_test_free(o);
    ola_list_data(&l, NULL);
    assert_int_equal(l.n, 4); /* 3 kept + notes.txt */
    assert_non_null(strstr(l.names[0], "/events-221324.ndjson.gz"));
    assert_non_null(strstr(l.names[1], "/events-221325.ndjson.gz"));
    assert_non_null(strstr(l.names[2], "/events-221326.ndjson.gz"));
    assert_string_equal(l.names[3], other);
    /* The chain starts at a pruned manifest: still valid. */
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), 0);
}

static void test_reopen(void **state)
{
    struct ola_output *o = ola_open("events-%H%M%S.ndjson.gz", NULL);
    struct ola_list l;
    struct ola_err err;
    size_t manifests;

    (void)state;
    ola_put(o, 5, 0);
    assert_int_equal(ola_file_sink_reopen(o, &err), 0);
    assert_null(ola_file_sink_current(o));
    ola_list_data(&l, &manifests);
    assert_int_equal(l.n, 1);
    assert_int_equal(manifests, 1);
    ola_put(o, 5, 0);
    assert_non_null(ola_file_sink_current(o));
    ola_test_free(o);
    ola_list_data(&l, &manifests);
    assert_int_equal(l.n, 2);
    assert_int_equal(manifests, 2);
    assert_int_equal(ola_manifest_verify_dir(ola_dir, NULL, &err), 0);
}

static void test_bad_patterns(void **state)
{
    struct ola_output *o = ola_test_output("bad");
    struct ola_file_opts opts;
    struct ola_err err;

    (void)state;
    ola_file_opts_default(&opts, "/tmp/x/%D.gz");
    assert_int_equal(ola_file_sink_open(o, &opts, &err), -1);
    assert_non_null(strstr(err.msg, "%D"));
    ola_file_sink_close(o);
    ola_file_opts_default(&opts, "/tmp/x/");
    assert_int_equal(ola_file_sink_open(o, &opts, &err), -1);
    ola_file_sink_close(o);
    ola_file_opts_default(&opts, "/tmp/x/a.gz");
    assert_true(opts.gzip);
    opts.level = 10;
    assert_int_equal(ola_file_sink_open(o, &opts, &err), -1);
    ola_test_free(o);
}

static void test_yaml_config(void **state)
{
    char yaml[1024];
    struct ola_cfg_doc *doc = NULL;
    struct ola_output_cfg oc;
    struct ola_output *o;
    struct ola_batch b;
    struct ola_err err = {0, ""};
    struct ola_list l;
    size_t manifests;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "type: file\nname: audit\npath: %s/y/%%Y/ev-%%H%%M%%S.ndjson.gz\n"
             "level: 1\nrotate: {size: 1KiB, age: 1h}\nkeep: {files: 5, days: 30}\n"
             "fsync: true\nmanifest: true\n",
             ola_dir);
    if (ola_cfg_load_string("test", yaml, strlen(yaml), &doc, &err) != 0)
        fail_msg("yaml: %s", err.msg);
    oc.type = "file";
    oc.name = "audit";
    oc.node = ola_cfg_root(doc);
    o = ola_output_new(&oc, 0, &err);
    if (o == NULL)
        fail_msg("output: %s", err.msg);
    ola_make_batch(&b, 50, 0);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    ola_batch_free(&b);
    assert_int_equal(ola_output_flush(o, 0), OLA_OK);
    assert_int_equal(ola_output_reopen(o, &err), 0);
    ola_output_destroy(o);
    ola_list_data(&l, &manifests);
    assert_int_equal(l.n, 1);
    assert_int_equal(manifests, 1);
    assert_int_equal(ola_count_lines(l.names[0]), 50);
    ola_cfg_doc_destroy(doc);
    /* A wrong key or value is a config error with a line. */
    snprintf(yaml, sizeof(yaml), "type: file\npath: %s/z.gz\nrotate: {sise: 1}\n",
             ola_dir);
    assert_int_equal(ola_cfg_load_string("test", yaml, strlen(yaml), &doc, &err), 0);
    oc.node = ola_cfg_root(doc);
    assert_null(ola_output_new(&oc, 0, &err));
    assert_non_null(strstr(err.msg, "sise"));
    ola_cfg_doc_destroy(doc);
    snprintf(yaml, sizeof(yaml), "type: file\npath: %s/z.gz\nlevel: 11\n", ola_dir);
    assert_int_equal(ola_cfg_load_string("test", yaml, strlen(yaml), &doc, &err), 0);
    oc.node = ola_cfg_root(doc);
    assert_null(ola_output_new(&oc, 0, &err));
    assert_non_null(strstr(err.msg, "level"));
    ola_cfg_doc_destroy(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_member_per_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_size_and_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_manifest_breaks_chain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recover_crashed_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_and_recover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_config, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
