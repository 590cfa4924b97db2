/*
 * test_checkpoint_disk.c - the checkpoint file on disk: a missing file,
 * missing parent directories, saves that fail halfway (file size limit, no
 * descriptor, an unwritable folder, a rename refused) and leave the old file
 * and no temp behind, symlinks planted in the state folder, and the temp files
 * a killed save left.
 *
 * Each test works in its own mkdtemp directory (checkpoint_fixture.h).
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH/FTW_PHYS */
#include <errno.h>
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

#include "agent/state/checkpoint.h"
#include "tests/unit/checkpoint_fixture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_and_directories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_saves_keep_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_planted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_temps, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
