/*
 * ola_own_floor.c - the parse floor with olagent's own reader: what is left of
 * replay's cost once the parse itself is as cheap as we make it.
 *
 * The same bare loop as ola_bare_floor.c (getline one line at a time,
 * parse, free at once), with ola_json_parse (agent/core/json_parse.c) in
 * place of json_loadb: the parse olagent does on every event, on malloc's
 * memory, with nothing after it. tests/bench/run.sh runs it in the same
 * alternating rounds as the Jansson floor, so the report shows both: replay
 * against the library's bare loop (issue 22's floor) and against this one
 * (how much of replay is work beyond the parse).
 *   usage: ola_own_floor FILE.ndjson
 * Prints "events N bytes B" (stdout); exits 1 if a line is not JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "agent/core/json_parse.h"

int main(int argc, char **argv)
{
    FILE *in;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long long events = 0, bytes = 0, lineno = 0;
    int rc = 0;

    if (argc != 2) {
        fputs("usage: ola_own_floor FILE.ndjson\n", stderr);
        return 2;
    }
    in = fopen(argv[1], "r");
    if (in == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    while ((n = getline(&line, &cap, in)) > 0) {
        size_t len = (size_t)n;
        json_error_t jerr;
        json_t *ev;

        lineno++;
        bytes += n;
        if (line[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        ev = ola_json_parse(line, len, &jerr);
        if (ev == NULL) {
            fprintf(stderr, "%s:%lld: not JSON: %s\n", argv[1], lineno, jerr.text);
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
