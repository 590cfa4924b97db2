/*
 * unit_files.h - the files of the unit tests: a scratch directory made and
 * removed, a small file written or read whole, a recorded OneLogin fixture.
 *
 * Each was written again in one test file after another; see unit_files.c.
 */
#ifndef OLA_TEST_UNIT_FILES_H
#define OLA_TEST_UNIT_FILES_H

#include <stddef.h>

#include <jansson.h>

/*
 * A fresh directory "/tmp/ola-WHAT-XXXXXX" (mkdtemp: mode 0700, a new name)
 * into dir, of size bytes. Returns 0, or -1 (errno) when it does not fit or
 * cannot be made.
 */
int ola_test_tmpdir(char *dir, size_t size, const char *what);

/*
 * rm -rf dir: removes dir and all below it, following no links; a dir that
 * is not there is fine. 0 / -1 (errno).
 */
int ola_test_rmtree(const char *dir);

/* Creates or truncates path and writes text into it. 0 / -1 (errno). */
int ola_test_write_text(const char *path, const char *text);

/*
 * Reads at most cap - 1 bytes of path into buf and ends them with a NUL (a
 * longer file is cut there). Returns the bytes read; 0 with buf untouched when
 * path cannot be opened. cap must be at least 1.
 */
size_t ola_test_read_text(const char *path, char *buf, size_t cap);

/*
 * $OLA_DATA_DIR/onelogin/NAME (a recorded exchange or an SDK fixture) parsed
 * as JSON. Returns a new reference; call it from a cmocka test only: when the
 * file is missing or not JSON the running test fails.
 */
json_t *ola_test_onelogin_json(const char *name);

#endif
