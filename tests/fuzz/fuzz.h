/*
 * fuzz.h - what every libFuzzer harness in tests/fuzz/ shares.
 *
 * A harness defines LLVMFuzzerInitialize (once per process) and
 * LLVMFuzzerTestOneInput (once per input). With OLA_FUZZ=ON and clang they
 * link with libFuzzer (-fsanitize=fuzzer); in every build they also link with
 * replay.c, a small main that feeds each file of a corpus directory to the
 * harness, so ctest replays the corpus with gcc too. A harness checks its
 * invariants with OLA_FUZZ_CHECK, which aborts: a crash is a finding.
 */
#ifndef OLA_FUZZ_H
#define OLA_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/core/fileio.h"
#include "agent/core/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test; a violation aborts (libFuzzer saves the input). */
#define OLA_FUZZ_CHECK(cond)                                                             \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__,       \
                    #cond);                                                              \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* The source tree (for config/event-types.json and the default rule pack). */
static inline const char *ola_fuzz_source_dir(void)
{
    const char *s = getenv("OLA_SOURCE_DIR");

    return s != NULL && s[0] != '\0' ? s : OLA_FUZZ_SOURCE_DIR;
}

/*
 * Sends the log (errors only) to /dev/null, so a run prints findings only;
 * returns that stream (the process keeps it). Aborts when it cannot.
 */
static inline FILE *ola_fuzz_quiet_log(void)
{
    static FILE *null;

    if (null == NULL)
        null = fopen("/dev/null", "w");
    if (null == NULL)
        abort();
    ola_log_setup(OLA_LOG_ERR, OLA_LOG_TEXT, null);
    return null;
}

/* A fresh directory "/tmp/ola-fuzz-WHAT-XXXXXX" into dir (size bytes); aborts when it
 * cannot. */
static inline void ola_fuzz_tmpdir(char *dir, size_t size, const char *what)
{
    int n = snprintf(dir, size, "/tmp/ola-fuzz-%s-XXXXXX", what);

    if (n < 0 || (size_t)n >= size || mkdtemp(dir) == NULL)
        abort();
}

/* Replaces path's content with data[0..size), file mode mode (umask aside). 0 / -1. */
static inline int ola_fuzz_write_file(const char *path, const uint8_t *data, size_t size,
                                      mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    if (fd < 0)
        return -1;
    if (fchmod(fd, mode) != 0 || ola_write_all(fd, data, size) != 0) {
        close(fd);
        return -1;
    }
    return close(fd);
}

#endif
