/*
 * replay.c - runs a libFuzzer harness over saved inputs, without libFuzzer.
 *
 * `fuzz_NAME_replay DIR|FILE...` feeds every regular file (directories are
 * read one level deep, in name order) to LLVMFuzzerTestOneInput, the way
 * libFuzzer would replay a corpus. ctest runs it on tests/fuzz/corpus/NAME in
 * every build, gcc included, so a fixed crash stays fixed and the harness
 * keeps compiling. An empty corpus is an error, so the test cannot pass by
 * finding nothing to run.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int ola_replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds one file to the harness. Returns 0 / -1 (unreadable). */
static int ola_replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(data, ncap);

            if (p == NULL)
                goto fail;
            data = p;
            cap = ncap;
        }
        n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        goto fail;
    }
    /* An exact-size copy, so ASan sees a read past the input's end. */
    {
        uint8_t *exact = malloc(len ? len : 1);

        if (exact == NULL)
            goto fail;
        memcpy(exact, data, len);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    rc = 0;
fail:
    free(data);
    fclose(f);
    return rc;
}

/* Replays every regular file in dir, in name order. Adds to *count. */
static int ola_replay_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        int w;

        if (de->d_name[0] == '.')
            continue;
        w = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (w < 0 || (size_t)w >= sizeof(path) || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **p = realloc(names, ncap * sizeof(*p));

            if (p == NULL) {
                rc = -1;
                break;
            }
            names = p;
            cap = ncap;
        }
        names[n] = strdup(path);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), ola_replay_cmp);
    for (i = 0; i < n; i++) {
        if (rc == 0 && ola_replay_file(names[i]) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    *count += n;
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            if (ola_replay_dir(argv[i], &count) != 0)
                return 1;
        } else {
            if (ola_replay_file(argv[i]) != 0)
                return 1;
            count++;
        }
    }
    if (count == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    printf("replayed %zu input(s) without a crash\n", count);
    return 0;
}
