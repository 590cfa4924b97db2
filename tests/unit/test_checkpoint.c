/*
 * test_checkpoint.c - the checkpoint file: round trips, the on-disk format,
 * every way a file can be bad or a save can fail, symlinks in the state
 * folder, and the bounds: whatever the saver writes, the loader reads.
 *
 * Each test works in its own mkdtemp directory. Files with a hand-made body
 * get their checksum from an independent computation here (dump without the
 * checksum, hash, add it, dump again), so the tests also pin the format.
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH/FTW_PHYS */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>
#include <openssl/evp.h>

#include "agent/core/timeutil.h"
#include "agent/state/checkpoint.h"

#define FIX_HINT "olagent checkpoint set -c CONFIG --since TIME"

struct fixture {
    char dir[64];
    char path[128]; /* dir/cp.json */
    char tmp[160];  /* dir/cp.json.tmp: the prefix of every temp file */
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/ola-cp-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/cp.json", f->dir);
    snprintf(f->tmp, sizeof(f->tmp), "%s/cp.json.tmp", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    chmod(f->dir, 0700);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* How many entries of dir begin with prefix (a path in dir). */
static size_t count_prefixed(const char *dir, const char *prefix)
{
    const char *base = strrchr(prefix, '/') + 1;
    struct dirent *de;
    size_t n = 0;
    DIR *d = opendir(dir);

    assert_non_null(d);
    for (de = readdir(d); de != NULL; de = readdir(d))
        if (strncmp(de->d_name, base, strlen(base)) == 0)
            n++;
    closedir(d);
    return n;
}

static void sha256_hex(const char *data, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    assert_int_equal(EVP_Digest(data, strlen(data), md, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Writes obj (without checksum; stolen) to path with a correct checksum. */
static void write_signed(const char *path, json_t *obj)
{
    char hex[65], sum[80];
    char *body, *full;

    body = json_dumps(obj, JSON_COMPACT);
    assert_non_null(body);
    sha256_hex(body, hex);
    snprintf(sum, sizeof(sum), "sha256:%s", hex);
    json_object_set_new(obj, "checksum", json_string(sum));
    full = json_dumps(obj, JSON_COMPACT);
    assert_non_null(full);
    write_file(path, full, strlen(full));
    free(body);
    free(full);
    json_decref(obj);
}

/* A valid file body (no checksum) to break one field of. New reference. */
static json_t *valid_body(void)
{
    json_t *o = json_loads("{\"version\":1,\"watermark\":\"2024-05-01T10:00:00.000Z\","
                           "\"window\":null,\"last_sweep\":null,\"delivered\":3,"
                           "\"updated_at\":\"2024-05-01T10:00:01.000Z\","
                           "\"seen\":[[1,3,100]],\"alerts\":null}",
                           0, NULL);

    assert_non_null(o);
    return o;
}

static int64_t iso(const char *s)
{
    int64_t ms;

    assert_int_equal(ola_time_parse_iso(s, &ms), 0);
    return ms;
}

/* Loads path expecting failure whose message names the file and contains want. */
static void expect_bad(const struct fixture *f, const char *want, bool with_fix)
{
    struct ola_checkpoint cp;
    struct ola_err err = {0};
    bool found = false;

    assert_int_equal(ola_checkpoint_init(&cp), 0);
    cp.pos.watermark_ms = 777;
    assert_int_equal(ola_checkpoint_load(f->path, &cp, &found, &err), -1);
    if (strstr(err.msg, f->path) == NULL || strstr(err.msg, want) == NULL ||
        (with_fix && strstr(err.msg, FIX_HINT) == NULL))
        fail_msg("unexpected error (want \"%s\"): %s", want, err.msg);
    assert_int_equal(cp.pos.watermark_ms, 777); /* cp untouched */
    ola_checkpoint_free(&cp);
}

static void test_round_trip_full(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found = false;
    int64_t before = ola_now_ms();
    int64_t ids[] = {-5, -4, 10, 11, 12, 20, INT64_MAX - 1, INT64_MAX};

    (void)state;
    assert_int_equal(ola_checkpoint_init(&a), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    a.pos.watermark_ms = iso("2024-05-01T10:00:00.123Z");
    a.pos.start_ms = iso("2024-04-30T10:00:00.500Z");
    a.pos.in_window = true;
    a.pos.window_kind = OLA_WINDOW_SWEEP;
    a.pos.window_since_ms = iso("2024-05-01T09:50:00.000Z");
    a.pos.window_until_ms = iso("2024-05-01T10:05:00.999Z");
    assert_int_equal(ola_position_set_cursor(&a.pos, "abc/\"def\"\\\xc3\xa9"), 0);
    a.pos.last_sweep_ms = iso("2024-05-01T09:00:00.000Z");
    a.pos.delivered = UINT64_C(12345678901);
    a.alerts = json_loads("{\"brute\":{\"n\":3,\"keys\":[\"a\",null,true,1.5,-2]},"
                          "\"z\":{},\"a\":[]}",
                          0, NULL);
    assert_non_null(a.alerts);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_int_equal(ola_seen_add(a.pos.seen, ids[i], 1000 + (int64_t)i), 0);

    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_true(a.updated_ms >= before && a.updated_ms <= ola_now_ms());
    assert_false(exists(f->tmp));
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_true(found);
    assert_int_equal(b.pos.watermark_ms, a.pos.watermark_ms);
    assert_int_equal(b.pos.start_ms, a.pos.start_ms);
    assert_true(b.pos.in_window);
    assert_int_equal(b.pos.window_kind, OLA_WINDOW_SWEEP);
    assert_int_equal(b.pos.window_since_ms, a.pos.window_since_ms);
    assert_int_equal(b.pos.window_until_ms, a.pos.window_until_ms);
    assert_string_equal(b.pos.cursor, a.pos.cursor);
    assert_int_equal(b.pos.last_sweep_ms, a.pos.last_sweep_ms);
    assert_int_equal(b.pos.delivered, a.pos.delivered);
    assert_int_equal(b.updated_ms, a.updated_ms);
    assert_true(json_equal(b.alerts, a.alerts));
    assert_int_equal(ola_seen_count(b.pos.seen), sizeof(ids) / sizeof(ids[0]));
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_true(ola_seen_has(b.pos.seen, ids[i]));
    /* Runs take their newest member's time: [-5,-4]@1001, [10,12]@1004, 20@1005. */
    assert_int_equal(ola_seen_prune(b.pos.seen, 1002), 2);
    assert_true(ola_seen_has(b.pos.seen, 10));
    assert_int_equal(ola_seen_prune(b.pos.seen, 1005), 3);
    assert_true(ola_seen_has(b.pos.seen, 20));
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

static void test_round_trip_nulls(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found = false;
    size_t len;
    char *text;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    /* b holds stale state that the load must replace. */
    b.pos.in_window = true;
    assert_int_equal(ola_position_set_cursor(&b.pos, "stale"), 0);
    b.alerts = json_object();
    assert_int_equal(ola_seen_add(b.pos.seen, 99, 1), 0);

    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    text = read_file(f->path, &len);
    assert_true(
        strncmp(text,
                "{\"version\":1,\"watermark\":null,\"start\":null,\"window\":null,"
                "\"last_sweep\":null,\"delivered\":0,\"updated_at\":\"",
                strlen("{\"version\":1,\"watermark\":null,\"start\":null,\"window\":null,"
                       "\"last_sweep\":null,\"delivered\":0,\"updated_at\":\"")) == 0);
    assert_non_null(strstr(text, "\"seen\":[],\"alerts\":null,\"checksum\":\"sha256:"));
    free(text);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_true(found);
    assert_int_equal(b.pos.watermark_ms, -1);
    assert_int_equal(b.pos.start_ms, -1);
    assert_false(b.pos.in_window);
    assert_null(b.pos.cursor);
    assert_int_equal(b.pos.last_sweep_ms, -1);
    assert_int_equal(b.pos.delivered, 0);
    assert_null(b.alerts);
    assert_int_equal(ola_seen_count(b.pos.seen), 0);

    /* A head window without a cursor. */
    a.pos.in_window = true;
    a.pos.window_kind = OLA_WINDOW_HEAD;
    a.pos.window_since_ms = 0;
    a.pos.window_until_ms = 1;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_true(b.pos.in_window);
    assert_int_equal(b.pos.window_kind, OLA_WINDOW_HEAD);
    assert_int_equal(b.pos.window_since_ms, 0);
    assert_int_equal(b.pos.window_until_ms, 1);
    assert_null(b.pos.cursor);
    text = read_file(f->path, &len);
    assert_non_null(strstr(text,
                           "\"window\":{\"kind\":\"head\",\"since\":\"1970-01-01T00:"
                           "00:00.000Z\",\"until\":\"1970-01-01T00:00:00.001Z\","
                           "\"cursor\":null}"));
    free(text);
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

static void test_file_format_and_runs(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    char hex[65], *text, *nl, *body, *sum;
    json_t *root, *seen;
    struct stat st;
    size_t len, i;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    /* One run: 100..199 added out of order, newest at 150. */
    for (i = 0; i < 100; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 199 - (int64_t)i, i == 49 ? 9000 : 10),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    text = read_file(f->path, &len);
    nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(nl - text, (ptrdiff_t)len - 1); /* one line */
    root = json_loads(text, 0, NULL);
    assert_non_null(root);
    seen = json_object_get(root, "seen");
    assert_int_equal(json_array_size(seen), 1);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(seen, 0), 0)), 100);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(seen, 0), 1)), 199);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(seen, 0), 2)),
                     9000);
    /* The checksum is over the compact dump without it. */
    sum = strdup(json_string_value(json_object_get(root, "checksum")));
    assert_non_null(sum);
    assert_int_equal(strncmp(sum, "sha256:", 7), 0);
    json_object_del(root, "checksum");
    body = json_dumps(root, JSON_COMPACT);
    sha256_hex(body, hex);
    assert_string_equal(sum + 7, hex);
    /* ...and the file is exactly that dump with the checksum added last. */
    assert_int_equal(json_object_set_new(root, "checksum", json_string(sum)), 0);
    free(body);
    body = json_dumps(root, JSON_COMPACT);
    assert_int_equal(strlen(body), len - 1);
    assert_memory_equal(body, text, len - 1);
    free(body);
    free(sum);
    json_decref(root);
    free(text);

    /* Gaps: 1,2,3  5  7,8  and -1,0 (consecutive across zero). */
    ola_seen_clear(a.pos.seen);
    {
        static const int64_t ids[] = {8, 1, -1, 3, 7, 2, 5, 0};

        for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
            assert_int_equal(ola_seen_add(a.pos.seen, ids[i], ids[i] * 10), 0);
    }
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    text = read_file(f->path, &len);
    assert_non_null(strstr(text, "\"seen\":[[-1,3,30],[5,5,50],[7,8,80]]"));
    free(text);
    ola_checkpoint_free(&a);
}

static void test_missing_and_directories(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    bool found = true;
    char nested[192];
    struct stat st;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.pos.watermark_ms = 5;
    assert_int_equal(ola_checkpoint_load(f->path, &a, &found, &err), 0);
    assert_false(found);
    assert_int_equal(a.pos.watermark_ms, 5);

    /* Save creates missing parents, 0700. */
    snprintf(nested, sizeof(nested), "%s/a/b/cp.json", f->dir);
    assert_int_equal(ola_checkpoint_save(nested, &a, &err), 0);
    snprintf(nested, sizeof(nested), "%s/a/b", f->dir);
    assert_int_equal(stat(nested, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(nested, sizeof(nested), "%s/a/b/cp.json", f->dir);
    a.pos.watermark_ms = -1;
    assert_int_equal(ola_checkpoint_load(nested, &a, &found, &err), 0);
    assert_true(found);
    assert_int_equal(a.pos.watermark_ms, 5);

    /* A relative path with no directory part works too. */
    {
        char cwd[512];

        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(f->dir), 0);
        assert_int_equal(ola_checkpoint_save("rel.json", &a, &err), 0);
        assert_int_equal(ola_checkpoint_load("rel.json", &a, &found, &err), 0);
        assert_true(found);
        assert_int_equal(chdir(cwd), 0);
    }

    /* A path whose parent is a file: the error names the step. */
    snprintf(nested, sizeof(nested), "%s/cp.json/x.json", f->dir);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_checkpoint_save(nested, &a, &err), -1);
    assert_non_null(strstr(err.msg, "cannot create directory"));
    assert_non_null(strstr(err.msg, strerror(ENOTDIR)));

    /* A checkpoint that is a directory cannot be read. */
    snprintf(nested, sizeof(nested), "%s/a", f->dir);
    assert_int_equal(ola_checkpoint_load(nested, &a, &found, &err), -1);
    assert_non_null(strstr(err.msg, "cannot read"));
    ola_checkpoint_free(&a);
}

/* Saves a (watermark 1) then checks a failing save of watermark 2 left it. */
static void check_old_intact(const struct fixture *f, const char *old_text)
{
    size_t len;
    char *now = read_file(f->path, &len);

    assert_string_equal(now, old_text);
    free(now);
    assert_int_equal(count_prefixed(f->dir, f->tmp), 0);
}

static void test_failed_saves_keep_old_file(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    struct rlimit old, lim;
    char *old_text, sub[192];
    size_t len, i;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.pos.watermark_ms = 1;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(count_prefixed(f->dir, f->tmp), 0);
    old_text = read_file(f->path, &len);
    a.pos.watermark_ms = 2;
    for (i = 0; i < 5000; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)i * 3, 1), 0);

    /* The write fails halfway: the file size limit (EFBIG once reached). */
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), -1);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_non_null(strstr(err.msg, "cannot write"));
    assert_non_null(strstr(err.msg, f->tmp)); /* the temp file: cp.json.tmp.XXXXXX */
    assert_non_null(strstr(err.msg, strerror(EFBIG)));
    check_old_intact(f, old_text);

    /* The temp file cannot be created (no descriptor left for it). */
    {
        struct rlimit nofile, few;
        int lowest = dup(0);

        assert_true(lowest >= 0);
        close(lowest);
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
        few = nofile;
        few.rlim_cur = (rlim_t)lowest; /* every open() now fails with EMFILE */
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &few), 0);
        assert_int_equal(ola_checkpoint_save(f->path, &a, &err), -1);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &nofile), 0);
        assert_non_null(strstr(err.msg, "cannot create a temp file in"));
        assert_non_null(strstr(err.msg, strerror(EMFILE)));
        check_old_intact(f, old_text);
    }

    /* The directory is not writable (meaningless for root, who may write anyway). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(f->dir, 0500), 0);
        assert_int_equal(ola_checkpoint_save(f->path, &a, &err), -1);
        assert_non_null(strstr(err.msg, strerror(EACCES)));
        assert_int_equal(chmod(f->dir, 0700), 0);
        check_old_intact(f, old_text);
    }
    free(old_text);

    /* The rename fails (the target is a non-empty directory): no temp left. */
    snprintf(sub, sizeof(sub), "%s/dir.json", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof(sub), "%s/dir.json/keep", f->dir);
    write_file(sub, "x", 1);
    snprintf(sub, sizeof(sub), "%s/dir.json", f->dir);
    assert_int_equal(ola_checkpoint_save(sub, &a, &err), -1);
    assert_non_null(strstr(err.msg, "cannot rename"));
    snprintf(sub, sizeof(sub), "%s/dir.json.tmp", f->dir);
    assert_int_equal(count_prefixed(f->dir, sub), 0);

    /* And the next save works. */
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(count_prefixed(f->dir, f->tmp), 0);
    ola_checkpoint_free(&a);
}

/*
 * Symlinks planted in the state folder: at the old fixed temp name the save
 * writes through nothing (its temp file has a fresh mkstemp name); at the
 * checkpoint's own name the load refuses, naming the link, and reads
 * nothing through it.
 */
static void test_symlinks_planted(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    char target[192], *text;
    bool found = false;
    size_t len;

    snprintf(target, sizeof(target), "%s/precious", f->dir);
    write_file(target, "precious\n", 9);
    assert_int_equal(symlink(target, f->tmp), 0);
    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.pos.watermark_ms = 1;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    text = read_file(target, &len);
    assert_string_equal(text, "precious\n");
    free(text);
    assert_int_equal(unlink(f->tmp), 0);

    /* A symlink at the checkpoint's name: refused, whether its target exists or not. */
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(symlink(target, f->path), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), -1);
    assert_true(found);
    assert_int_equal(err.code, ELOOP);
    assert_non_null(strstr(err.msg, f->path));
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_int_equal(unlink(target), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), -1);
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_false(exists(target));
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

/* Temp files a killed save left go; nothing else does. */
static void test_remove_temps(void **state)
{
    struct fixture *f = *state;
    char p[4][192];
    int i;

    snprintf(p[0], sizeof(p[0]), "%s/cp.json.tmp.Ab3xYz", f->dir);    /* ours */
    snprintf(p[1], sizeof(p[1]), "%s/cp.json.tmp.Ab3", f->dir);       /* not mkstemp's */
    snprintf(p[2], sizeof(p[2]), "%s/other.json.tmp.Ab3xYz", f->dir); /* another file's */
    snprintf(p[3], sizeof(p[3]), "%s/cp.json", f->dir);
    for (i = 0; i < 4; i++)
        write_file(p[i], "x", 1);
    assert_int_equal(ola_checkpoint_remove_temps(f->path), 1);
    assert_false(exists(p[0]));
    for (i = 1; i < 4; i++)
        assert_true(exists(p[i]));
}

/* Loads path with the given bounds into a fresh checkpoint; asserts success. */
static void load_bounded(const char *path, size_t max_seen, struct ola_checkpoint *cp)
{
    struct ola_err err = {0};
    bool found = false;

    assert_int_equal(ola_checkpoint_init(cp), 0);
    cp->max_seen = max_seen;
    if (ola_checkpoint_load(path, cp, &found, &err) != 0)
        fail_msg("a saved checkpoint does not load: %s", err.msg);
    assert_true(found);
}

/*
 * The saver holds `seen` to the loader's bound (lowered to 1,000 here, the
 * same code path as the real 10,000,000): at the bound everything is kept;
 * over it the ids older than the overlap go first, then the oldest inside it.
 * Every saved file loads.
 */
static void test_seen_bound(void **state)
{
    struct fixture *f = *state;
    const size_t max = 1000;
    const int64_t wm = 100000000, overlap = 60000;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    size_t i;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.max_seen = max;
    a.pos.watermark_ms = wm;
    a.overlap_ms = overlap;
    /* Exactly at the bound, all inside the overlap: saved and loaded whole. */
    for (i = 1; i <= max; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)i * 2, wm - 5000 + (int64_t)i),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    ola_checkpoint_free(&b);

    /* One over, nothing outside the overlap: the oldest goes. */
    assert_int_equal(ola_seen_add(a.pos.seen, 5000, wm), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    assert_false(ola_seen_has(a.pos.seen, 2));
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    assert_false(ola_seen_has(b.pos.seen, 2));
    assert_true(ola_seen_has(b.pos.seen, 4));
    assert_true(ola_seen_has(b.pos.seen, 5000));
    ola_checkpoint_free(&b);

    /* 500 over, all of them older than the overlap: those go, and only they. */
    for (i = 0; i < 500; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 100000 + (int64_t)i, wm - overlap - 1),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    assert_false(ola_seen_has(a.pos.seen, 100000));
    assert_true(ola_seen_has(a.pos.seen, 4));
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    ola_checkpoint_free(&b);

    /* Over even without them: the outside ones and the oldest inside go. */
    for (i = 0; i < 100; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 200000 + (int64_t)i, wm - overlap - 1),
                         0);
    for (i = 0; i < 50; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, 300000 + (int64_t)i, wm + 1), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), max);
    assert_false(ola_seen_has(a.pos.seen, 200000));
    assert_false(ola_seen_has(a.pos.seen, 102)); /* 4..102 were the 50 oldest inside */
    assert_true(ola_seen_has(a.pos.seen, 104));
    assert_true(ola_seen_has(a.pos.seen, 300049));
    load_bounded(f->path, max, &b);
    assert_int_equal(ola_seen_count(b.pos.seen), max);
    ola_checkpoint_free(&b);

    /* Back under the bound: nothing is dropped. */
    assert_int_equal(ola_seen_prune(a.pos.seen, wm), max - 51);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_seen_count(a.pos.seen), 51);
    ola_checkpoint_free(&a);
}

/*
 * Random sets around the bound, with consecutive runs (a run loads with its
 * newest time for every id) and an unknown overlap: each save loads, under a
 * bound of a few hundred ids.
 */
static void test_saved_always_loads(void **state)
{
    struct fixture *f = *state;
    uint64_t r = 12345;
    int round;

    for (round = 0; round < 60; round++) {
        struct ola_checkpoint a, b;
        struct ola_err err = {0};
        size_t max = 200 + (size_t)round * 7, n, i;

        assert_int_equal(ola_checkpoint_init(&a), 0);
        a.max_seen = max;
        a.pos.watermark_ms = 1000000;
        a.overlap_ms = round % 3 == 0 ? -1 : 60000;
        n = max - 3 + (size_t)round % 7; /* at, under and just over the bound */
        if (round % 5 == 0)
            n = max * 3;
        for (i = 0; i < n; i++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            /* mostly consecutive ids (runs) with random times across the overlap */
            assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)(i + (r % 4 == 0 ? i : 0)),
                                          900000 + (int64_t)(r % 200000)),
                             0);
        }
        assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
        load_bounded(f->path, max, &b);
        assert_true(ola_seen_count(a.pos.seen) <= max);
        assert_int_equal(ola_seen_count(b.pos.seen), ola_seen_count(a.pos.seen));
        ola_checkpoint_free(&a);
        ola_checkpoint_free(&b);
    }
}

/* The loader's bounds, at and just over them. */
static void test_load_bounds(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found = false;
    json_t *o;
    char *text;
    size_t len;

    o = valid_body();
    json_object_set_new(
        o, "seen",
        json_pack("[[i,i,i],[i,i,i],[i,i,i]]", 1, 1, 100, 3, 3, 100, 5, 5, 100));
    write_signed(f->path, o);
    load_bounded(f->path, 3, &b);
    ola_checkpoint_free(&b);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    b.max_seen = 2;
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), -1);
    assert_non_null(strstr(err.msg, "more than 2 ids"));
    ola_checkpoint_free(&b);

    /* Bytes: a file of max_bytes - 1 loads, one of max_bytes does not. */
    text = read_file(f->path, &len);
    free(text);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    b.max_bytes = len + 1;
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    b.max_bytes = len;
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), -1);
    assert_non_null(strstr(err.msg, strerror(EFBIG)));
    ola_checkpoint_free(&b);

    /* The saver refuses what the loader would: the last file stays. */
    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.max_bytes = 300;
    a.pos.watermark_ms = 5;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    load_bounded(f->path, OLA_CHECKPOINT_MAX_SEEN, &b);
    ola_checkpoint_free(&b);
    text = read_file(f->path, &len);
    for (len = 0; len < 100; len++)
        assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)len * 10, 1), 0);
    a.pos.watermark_ms = 6;
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), -1);
    assert_non_null(strstr(err.msg, "not written"));
    check_old_intact(f, text);
    free(text);
    ola_checkpoint_free(&a);
}

static void test_truncated(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    char *full;
    size_t len, cut;
    bool found;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.pos.watermark_ms = iso("2024-05-01T10:00:00.000Z");
    a.pos.in_window = true;
    a.pos.window_since_ms = 1;
    a.pos.window_until_ms = 2;
    assert_int_equal(ola_position_set_cursor(&a.pos, "cur"), 0);
    a.alerts = json_pack("{s:{s:i}}", "r", "n", 1);
    assert_int_equal(ola_seen_add(a.pos.seen, 1, 1), 0);
    assert_int_equal(ola_seen_add(a.pos.seen, 5, 1), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    full = read_file(f->path, &len);
    assert_true(len > 100);
    /* Every cut short of the closing brace fails cleanly. */
    for (cut = 0; cut + 1 < len; cut++) {
        write_file(f->path, full, cut);
        expect_bad(f, cut == 0 ? "empty" : "", true);
    }
    /* Without the trailing newline the file is still whole. */
    write_file(f->path, full, len - 1);
    assert_int_equal(ola_checkpoint_load(f->path, &a, &found, &err), 0);
    assert_true(found);
    /* Garbage after it is not. */
    write_file(f->path, full, len);
    {
        FILE *fp = fopen(f->path, "ab");

        assert_non_null(fp);
        fputs("{}", fp);
        fclose(fp);
    }
    expect_bad(f, "not valid JSON", true);
    write_file(f->path, full, len / 2);
    expect_bad(f, "not valid JSON", true);
    free(full);
    ola_checkpoint_free(&a);
}

static void test_flipped_byte(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a;
    struct ola_err err = {0};
    char *full, *p, c;
    size_t len;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    a.pos.delivered = 41;
    a.pos.watermark_ms = iso("2024-05-01T10:00:00.000Z");
    assert_int_equal(ola_seen_add(a.pos.seen, 1000, 1), 0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    full = read_file(f->path, &len);

    /* A digit in a value: still valid JSON, wrong checksum. */
    p = strstr(full, "\"delivered\":41");
    assert_non_null(p);
    p[strlen("\"delivered\":4")] = '2';
    write_file(f->path, full, len);
    expect_bad(f, "checksum mismatch", true);
    p[strlen("\"delivered\":4")] = '1';

    p = strstr(full, "[[1000,");
    assert_non_null(p);
    p[2] = '2';
    write_file(f->path, full, len);
    expect_bad(f, "checksum mismatch", true);
    p[2] = '1';

    /* A digit of the checksum itself. */
    p = strstr(full, "sha256:");
    assert_non_null(p);
    c = p[7];
    p[7] = c == '0' ? '1' : '0';
    write_file(f->path, full, len);
    expect_bad(f, "checksum mismatch", true);
    p[7] = c;

    /* A bit flip that breaks the JSON syntax. */
    p = strchr(full, ':');
    *p ^= 0x01;
    write_file(f->path, full, len);
    expect_bad(f, "not valid JSON", true);
    *p ^= 0x01;

    /* Restored: loads again. */
    write_file(f->path, full, len);
    {
        bool found;

        assert_int_equal(ola_checkpoint_load(f->path, &a, &found, &err), 0);
        assert_int_equal(a.pos.delivered, 41);
    }
    free(full);
    ola_checkpoint_free(&a);
}

/* A file from before "start" existed loads, with no start: nothing clamps. */
static void test_file_without_start(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint cp;
    struct ola_err err = {0};
    bool found = false;

    write_signed(f->path, valid_body());
    assert_int_equal(ola_checkpoint_init(&cp), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &cp, &found, &err), 0);
    assert_true(found);
    assert_int_equal(cp.pos.watermark_ms, iso("2024-05-01T10:00:00.000Z"));
    assert_int_equal(cp.pos.start_ms, -1);
    ola_checkpoint_free(&cp);
}

static void test_wrong_version_and_types(void **state)
{
    struct fixture *f = *state;
    json_t *o;

    /* Version 2, correctly signed: the version is the complaint. */
    o = valid_body();
    json_object_set_new(o, "version", json_integer(2));
    write_signed(f->path, o);
    expect_bad(f, "version 2", true);

    o = valid_body();
    json_object_del(o, "version");
    write_signed(f->path, o);
    expect_bad(f, "version", true);

    /* The control: the helper writes files that load. */
    write_signed(f->path, valid_body());
    {
        struct ola_checkpoint cp;
        struct ola_err err = {0};
        bool found;

        assert_int_equal(ola_checkpoint_init(&cp), 0);
        assert_int_equal(ola_checkpoint_load(f->path, &cp, &found, &err), 0);
        assert_int_equal(ola_seen_count(cp.pos.seen), 3);
        assert_int_equal(cp.pos.delivered, 3);
        ola_checkpoint_free(&cp);
    }

    /* No checksum at all, or a malformed one. */
    o = valid_body();
    {
        char *s = json_dumps(o, JSON_COMPACT);

        write_file(f->path, s, strlen(s));
        free(s);
    }
    json_decref(o);
    expect_bad(f, "checksum", true);

    write_file(f->path, "[1,2]\n", 6);
    expect_bad(f, "not a JSON object", true);
    write_file(f->path, "{\"version\":1,\"version\":1}", 25);
    expect_bad(f, "not valid JSON", true);

    o = valid_body();
    json_object_set_new(o, "delivered", json_string("3"));
    write_signed(f->path, o);
    expect_bad(f, "'delivered'", true);

    o = valid_body();
    json_object_set_new(o, "delivered", json_integer(-1));
    write_signed(f->path, o);
    expect_bad(f, "'delivered'", true);

    o = valid_body();
    json_object_set_new(o, "watermark", json_string("yesterday"));
    write_signed(f->path, o);
    expect_bad(f, "'watermark'", true);

    o = valid_body();
    json_object_set_new(o, "start", json_integer(5));
    write_signed(f->path, o);
    expect_bad(f, "'start'", true);

    o = valid_body();
    json_object_del(o, "updated_at");
    write_signed(f->path, o);
    expect_bad(f, "'updated_at'", true);

    o = valid_body();
    json_object_set_new(o, "window",
                        json_pack("{s:s,s:s,s:s,s:n}", "kind", "middle", "since",
                                  "2024-05-01T10:00:00Z", "until", "2024-05-01T10:00:00Z",
                                  "cursor"));
    write_signed(f->path, o);
    expect_bad(f, "'window.kind'", true);

    o = valid_body();
    json_object_set_new(o, "window",
                        json_pack("{s:s,s:s,s:s,s:i}", "kind", "head", "since",
                                  "2024-05-01T10:00:00Z", "until", "2024-05-01T10:00:00Z",
                                  "cursor", 5));
    write_signed(f->path, o);
    expect_bad(f, "'window.cursor'", true);

    o = valid_body();
    json_object_set_new(
        o, "window",
        json_pack("{s:s,s:s}", "kind", "head", "since", "2024-05-01T10:00:00Z"));
    write_signed(f->path, o);
    expect_bad(f, "'window.until'", true);

    o = valid_body();
    json_object_set_new(o, "window", json_true());
    write_signed(f->path, o);
    expect_bad(f, "'window'", true);

    o = valid_body();
    json_object_set_new(o, "alerts", json_array());
    write_signed(f->path, o);
    expect_bad(f, "'alerts'", true);

    o = valid_body();
    json_object_set_new(o, "seen", json_object());
    write_signed(f->path, o);
    expect_bad(f, "'seen'", true);

    o = valid_body();
    json_object_set_new(o, "seen", json_pack("[[I,I]]", (json_int_t)1, (json_int_t)2));
    write_signed(f->path, o);
    expect_bad(f, "'seen' run 0", true);

    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I],[I,s,I]]", (json_int_t)1, (json_int_t)2,
                                  (json_int_t)3, (json_int_t)1, "2", (json_int_t)3));
    write_signed(f->path, o);
    expect_bad(f, "'seen' run 1", true);

    write_file(f->path, "", 0);
    expect_bad(f, "empty", true);
}

static void test_bogus_runs(void **state)
{
    struct fixture *f = *state;
    json_t *o;

    o = valid_body();
    json_object_set_new(
        o, "seen",
        json_pack("[[I,I,I]]", (json_int_t)0, (json_int_t)20000000, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "corrupt", true);

    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I]]", (json_int_t)INT64_MIN,
                                  (json_int_t)INT64_MAX, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "corrupt", true);

    o = valid_body();
    json_object_set_new(
        o, "seen", json_pack("[[I,I,I]]", (json_int_t)10, (json_int_t)9, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "corrupt", true);

    /* Each run within bounds, the total not. */
    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I],[I,I,I]]", (json_int_t)0, (json_int_t)5999999,
                                  (json_int_t)1, (json_int_t)10000000,
                                  (json_int_t)15999999, (json_int_t)1));
    write_signed(f->path, o);
    expect_bad(f, "more than", true);

    /* A run ending at INT64_MAX expands without overflow. */
    o = valid_body();
    json_object_set_new(o, "seen",
                        json_pack("[[I,I,I]]", (json_int_t)(INT64_MAX - 2),
                                  (json_int_t)INT64_MAX, (json_int_t)1));
    write_signed(f->path, o);
    {
        struct ola_checkpoint cp;
        struct ola_err err = {0};
        bool found;

        assert_int_equal(ola_checkpoint_init(&cp), 0);
        assert_int_equal(ola_checkpoint_load(f->path, &cp, &found, &err), 0);
        assert_int_equal(ola_seen_count(cp.pos.seen), 3);
        assert_true(ola_seen_has(cp.pos.seen, INT64_MAX));
        ola_checkpoint_free(&cp);
    }
}

static void test_large_seen_round_trip(void **state)
{
    struct fixture *f = *state;
    struct ola_checkpoint a, b;
    struct ola_err err = {0};
    bool found;
    size_t i;

    assert_int_equal(ola_checkpoint_init(&a), 0);
    assert_int_equal(ola_checkpoint_init(&b), 0);
    /* 100,000 scattered ids plus a run of 50,000 consecutive ones. */
    for (i = 0; i < 100000; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, (int64_t)i * 7 - 350000, (int64_t)i),
                         0);
    for (i = 0; i < 50000; i++)
        assert_int_equal(ola_seen_add(a.pos.seen, INT64_C(1) << 40 | (int64_t)i, 1000000),
                         0);
    assert_int_equal(ola_checkpoint_save(f->path, &a, &err), 0);
    assert_int_equal(ola_checkpoint_load(f->path, &b, &found, &err), 0);
    assert_int_equal(ola_seen_count(b.pos.seen), 150000);
    for (i = 0; i < 100000; i++) {
        if (!ola_seen_has(b.pos.seen, (int64_t)i * 7 - 350000))
            fail_msg("id %zu lost", i);
    }
    assert_true(ola_seen_has(b.pos.seen, INT64_C(1) << 40 | 49999));
    /* Scattered ids kept their own times: pruning below 50,000 takes 50,000. */
    assert_int_equal(ola_seen_prune(b.pos.seen, 50000), 50000);
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&b);
}

static void test_to_json(void **state)
{
    struct ola_checkpoint a;
    json_t *j;

    (void)state;
    assert_int_equal(ola_checkpoint_init(&a), 0);
    j = ola_checkpoint_to_json(&a);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "watermark")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "count")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(j, "seen"), "min_id")));
    json_decref(j);

    a.pos.watermark_ms = iso("2024-05-01T10:00:00.000Z");
    a.updated_ms = iso("2024-05-01T10:00:05.000Z");
    a.pos.delivered = 9;
    a.alerts = json_pack("{s:i}", "k", 1);
    assert_int_equal(ola_seen_add(a.pos.seen, 30, 1), 0);
    assert_int_equal(ola_seen_add(a.pos.seen, -4, 1), 0);
    assert_int_equal(ola_seen_add(a.pos.seen, 12, 1), 0);
    j = ola_checkpoint_to_json(&a);
    assert_non_null(j);
    assert_null(json_object_get(j, "checksum"));
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "watermark")),
                        "2024-05-01T10:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "updated_at")),
                        "2024-05-01T10:00:05.000Z");
    assert_int_equal(json_integer_value(json_object_get(j, "delivered")), 9);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "count")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "min_id")), -4);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "seen"), "max_id")), 30);
    assert_true(json_equal(json_object_get(j, "alerts"), a.alerts));
    /* A copy: changing it leaves the checkpoint's state alone. */
    json_object_set_new(json_object_get(j, "alerts"), "k", json_integer(2));
    assert_int_equal(json_integer_value(json_object_get(a.alerts, "k")), 1);
    json_decref(j);
    ola_checkpoint_free(&a);
    ola_checkpoint_free(&a); /* free twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_without_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_format_and_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_directories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_saves_keep_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_version_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bogus_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_seen_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_planted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_temps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seen_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saved_always_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_bounds, setup, teardown),
        cmocka_unit_test(test_to_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
