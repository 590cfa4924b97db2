/*
 * ola_bare_floor.c - the parse floor: the cheapest honest way to look into each event.
 *
 * A bare streaming loop, as an outside engineer would write it to bound any
 * pipeline that must parse every event: getline() one line at a time from
 * the file, json_loadb() it with Jansson as the distribution packages it,
 * json_decref() it at once. No batches, no arena, nothing of olagent: it is
 * linked against libjansson only (tests/CMakeLists.txt), so its figure is
 * the library's, not ours. tests/bench/run.sh runs it on the same file as
 * `olagent replay`, in alternating rounds, and divides replay's events per
 * CPU-second (user + sys of the whole process, reading included, measured
 * from outside the same way for both) by this one's.
 *
 * Built a second time as ola_own_floor (OLA_OWN_READER defined, linked with
 * ola_core): the same loop with olagent's reader, ola_json_parse
 * (agent/core/json_parse.c), on malloc's memory with nothing after it. The
 * report shows replay against both: the library's bare loop (issue 22's
 * floor) and parsing alone at olagent's own cost.
 *   usage: ola_bare_floor FILE.ndjson   (or ola_own_floor FILE.ndjson)
 * Prints "events N bytes B" (stdout); exits 1 if a line is not JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#ifdef OLA_OWN_READER
#include "agent/core/json_parse.h"
#define OLA_FLOOR_NAME        "ola_own_floor"
#define OLA_FLOOR_PARSE(p, n) ola_json_parse((p), (n), NULL)
#else
#define OLA_FLOOR_NAME        "ola_bare_floor"
#define OLA_FLOOR_PARSE(p, n) json_loadb((p), (n), 0, NULL)
#endif

int main(int argc, char **argv)
{
    FILE *in;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long long events = 0, bytes = 0, lineno = 0;
    int rc = 0;

    if (argc != 2) {
        fputs("usage: " OLA_FLOOR_NAME " FILE.ndjson\n", stderr);
        return 2;
    }
    in = fopen(argv[1], "r");
    if (in == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    while ((n = getline(&line, &cap, in)) > 0) {
        size_t len = (size_t)n;
        json_t *ev;

        lineno++;
        bytes += n;
        if (line[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        ev = OLA_FLOOR_PARSE(line, len);
        if (ev == NULL) {
            fprintf(stderr, "%s:%lld: not JSON\n", argv[1], lineno);
            rc = 1;
            break;
        }
        json_decref(ev);
        events++;
    }
    if (rc == 0 && ferror(in)) {
        fprintf(stderr, "%s: read error\n", argv[1]);
        rc = 1;
    }
    free(line);
    fclose(in);
    if (rc == 0)
        printf("events %lld bytes %lld\n", events, bytes);
    return rc;
}
