/*
 * ola_parse_floor.c - the floor of olagent's per-event pipeline.
 *
 * Reads an NDJSON file and parses each line with Jansson into a batch of
 * 1,000, as the agent does with a page, then frees the batch: nothing more.
 * Any pipeline that must look into each event costs at least this, so
 * tests/bench/run.sh divides `olagent replay`'s throughput by this one's.
 * The file is read into memory first; only the parse loop is timed, in CPU
 * time, best of -k rounds (the machine may be shared).
 *   usage: ola_parse_floor [-k ROUNDS] FILE.ndjson
 * Prints "events N bytes B best_cpu_s S events_per_s R".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define OLA_FLOOR_BATCH 1000

static double ola_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the whole file; returns a malloc'd buffer (caller frees) or NULL. */
static char *ola_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    data = malloc((size_t)size + 1);
    if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size)
        goto fail;
    data[size] = '\0';
    *len = (size_t)size;
    fclose(f);
    return data;
fail:
    fprintf(stderr, "%s: %s\n", path, errno ? strerror(errno) : "read failed");
    free(data);
    if (f != NULL)
        fclose(f);
    return NULL;
}

/* One pass: parse every line, a batch at a time. Returns events or -1. */
static long long ola_floor_pass(const char *data, size_t len, double *secs)
{
    json_t *batch[OLA_FLOOR_BATCH];
    size_t n = 0, i;
    long long events = 0;
    const char *p = data, *end = data + len;
    double t0 = ola_cpu_s();

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

        if (l > 0) {
            batch[n] = json_loadb(p, l, 0, NULL);
            if (batch[n] == NULL)
                return -1;
            n++;
            events++;
        }
        if (n == OLA_FLOOR_BATCH) {
            for (i = 0; i < n; i++)
                json_decref(batch[i]);
            n = 0;
        }
        p += l + 1;
    }
    for (i = 0; i < n; i++)
        json_decref(batch[i]);
    *secs = ola_cpu_s() - t0;
    return events;
}

int main(int argc, char **argv)
{
    int rounds = 3, opt, r;
    double best = 0;
    long long events = 0;
    size_t len = 0;
    char *data, *end;

    while ((opt = getopt(argc, argv, "k:")) != -1) {
        if (opt != 'k') {
            fprintf(stderr, "usage: %s [-k ROUNDS] FILE.ndjson\n", argv[0]);
            return 2;
        }
        errno = 0;
        rounds = (int)strtol(optarg, &end, 10);
        if (errno != 0 || *end != '\0' || rounds <= 0 || rounds > 100) {
            fprintf(stderr, "bad -k\n");
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: %s [-k ROUNDS] FILE.ndjson\n", argv[0]);
        return 2;
    }
    data = ola_slurp(argv[optind], &len);
    if (data == NULL)
        return 1;
    for (r = 0; r < rounds; r++) {
        double secs = 0;

        events = ola_floor_pass(data, len, &secs);
        if (events < 0) {
            fprintf(stderr, "%s: a line is not JSON\n", argv[optind]);
            free(data);
            return 1;
        }
        if (r == 0 || secs < best)
            best = secs;
    }
    printf("events %lld bytes %zu best_cpu_s %.3f events_per_s %.0f\n", events, len, best,
           best > 0 ? (double)events / best : 0.0);
    free(data);
    return 0;
}
