/*
 * checkpoint_fixture.h - the fixture of the checkpoint file's tests
 * (test_checkpoint.c, test_checkpoint_disk.c, test_checkpoint_bounds.c).
 *
 * Each test works in its own mkdtemp directory (struct fixture: the directory,
 * dir/cp.json and the prefix of its temp files), removed whole by teardown.
 * Files with a hand-made body get their checksum from an independent
 * computation here (dump without the checksum, hash, add it, dump again), so
 * the tests also pin the format. The includer defines _GNU_SOURCE before any
 * include (nftw's FTW_DEPTH/FTW_PHYS).
 */
#ifndef OLA_CHECKPOINT_FIXTURE_H
#define OLA_CHECKPOINT_FIXTURE_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any include (nftw's FTW_DEPTH/FTW_PHYS)"
#endif

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static inline int rm_entry(const char *p, const struct stat *st, int flag,
                           struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline int setup(void **state)
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

static inline int teardown(void **state)
{
    struct fixture *f = *state;

    chmod(f->dir, 0700);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static inline char *read_file(const char *path, size_t *len)
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

static inline void write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static inline bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* How many entries of dir begin with prefix (a path in dir). */
static inline size_t count_prefixed(const char *dir, const char *prefix)
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

static inline void sha256_hex(const char *data, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    assert_int_equal(EVP_Digest(data, strlen(data), md, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Writes obj (without checksum; stolen) to path with a correct checksum. */
static inline void write_signed(const char *path, json_t *obj)
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
static inline json_t *valid_body(void)
{
    json_t *o = json_loads("{\"version\":1,\"watermark\":\"2024-05-01T10:00:00.000Z\","
                           "\"window\":null,\"last_sweep\":null,\"delivered\":3,"
                           "\"updated_at\":\"2024-05-01T10:00:01.000Z\","
                           "\"seen\":[[1,3,100]],\"alerts\":null}",
                           0, NULL);

    assert_non_null(o);
    return o;
}

static inline int64_t iso(const char *s)
{
    int64_t ms;

    assert_int_equal(ola_time_parse_iso(s, &ms), 0);
    return ms;
}

/* Loads path expecting failure whose message names the file and contains want. */
static inline void expect_bad(const struct fixture *f, const char *want, bool with_fix)
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

/* Saves a (watermark 1) then checks a failing save of watermark 2 left it. */
static inline void check_old_intact(const struct fixture *f, const char *old_text)
{
    size_t len;
    char *now = read_file(f->path, &len);

    assert_string_equal(now, old_text);
    free(now);
    assert_int_equal(count_prefixed(f->dir, f->tmp), 0);
}

#endif
