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

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
