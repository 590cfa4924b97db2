/*
 * unit_files.c - file helpers of the unit tests (see unit_files.h).
 *
 * Plain POSIX and stdio; a tree is removed with nftw(3) depth first and
 * without following links, so a link a test planted is removed, never what
 * it points at. Only ola_test_onelogin_json speaks cmocka: it fails the
 * running test, as every copy of it did.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "tests/lib/unit_files.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

int ola_test_tmpdir(char *dir, size_t size, const char *what)
{
    int n = snprintf(dir, size, "/tmp/ola-%s-XXXXXX", what);

    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int ola_test_rm_one(const char *path, const struct stat *st, int flag,
                           struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int ola_test_rmtree(const char *dir)
{
    if (nftw(dir, ola_test_rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0)
        return 0;
    return errno == ENOENT && access(dir, F_OK) != 0 ? 0 : -1; /* rm -f: gone is fine */
}

int ola_test_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    if (fputs(text, f) == EOF) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

size_t ola_test_read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return 0;
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

json_t *ola_test_onelogin_json(const char *name)
{
    const char *dir = getenv("OLA_DATA_DIR");
    char path[1024];
    json_error_t jerr;
    json_t *j;

    assert_non_null(dir);
    assert_true(snprintf(path, sizeof(path), "%s/onelogin/%s", dir, name) <
                (int)sizeof(path));
    j = json_load_file(path, 0, &jerr);
    if (j == NULL)
        fail_msg("cannot load %s: %s", path, jerr.text);
    return j;
}
