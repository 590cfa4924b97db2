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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/core/fileio.h"
#include "tests/lib/tools.h"

#define OLA_FLOOR_BATCH 1000

/* One pass: parse every line, a batch at a time. Returns events or -1. */
static long long ola_floor_pass(const char *data, size_t len, double *secs)
{
    json_t *batch[OLA_FLOOR_BATCH];
    size_t n = 0, i;
    long long events = 0;
    const char *p = data, *end = data + len;
    double t0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);

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
    *secs = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - t0;
    return events;
}

int main(int argc, char **argv)
{
    int rounds = 3, opt, r;
    double best = 0;
    long long events = 0;
    size_t len = 0;
    char *data;
    long k;

    while ((opt = getopt(argc, argv, "k:")) != -1) {
        if (opt != 'k') {
            fprintf(stderr, "usage: %s [-k ROUNDS] FILE.ndjson\n", argv[0]);
            return 2;
        }
        if (ola_tool_long(optarg, 1, 100, &k) != 0) {
            fprintf(stderr, "bad -k\n");
            return 2;
        }
        rounds = (int)k;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: %s [-k ROUNDS] FILE.ndjson\n", argv[0]);
        return 2;
    }
    /* no limit of its own: the input is as large as the benchmark chose */
    if (ola_read_file(argv[optind], SIZE_MAX - 2, &data, &len) != 0) {
        fprintf(stderr, "%s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
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
