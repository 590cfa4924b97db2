/*
 * ola_syslog_writer.c - drives one output the way the pipeline does, for tests.
 *
 * Reads OneLogin events from stdin, one a line (NDJSON) or, with -m, one per
 * block of lines ended by an empty line (pretty-printed JSON: the record's
 * bytes then hold line breaks, as a multi-line message would). Groups them
 * into batches of -b events (each event keeps its original bytes, like a
 * page), and pushes every batch through an output built from a YAML file
 * (-c FILE: the first entry of `outputs:`, or a bare output map): write, then
 * flush until OK (each flush may wait -t ms, default 1000 like the agent's
 * pipeline), sleeping with struct ola_backoff (50 ms to 1 s) between RETRYs
 * (-p: a pause between batches, for UDP, which has no flow control). Prints
 * "acked N" (records emitted) at the end. Exit status 0 when every record was acked.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/core/backoff.h"
#include "config/config.h"
#include "outputs/output.h"
#include "tests/lib/tools.h"

static void ola_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* write + flush with backoff until OK; -1 on ERR. */
static int ola_push(struct ola_output *o, struct ola_batch *b, int timeout_ms)
{
    struct ola_backoff backoff;
    struct ola_err err = {0, ""};
    enum ola_rc rc;

    ola_backoff_init(&backoff, 50, 1000, 0);
    while ((rc = ola_output_write(o, b)) == OLA_RETRY) {
        fprintf(stderr, "write: RETRY (%s)\n", o->last_error);
        ola_sleep_ms(ola_backoff_next(&backoff));
    }
    if (rc != OLA_OK) {
        fprintf(stderr, "write: %s\n", o->last_error);
        return -1;
    }
    ola_backoff_reset(&backoff);
    while ((rc = ola_output_flush(o, timeout_ms)) == OLA_RETRY) {
        fprintf(stderr, "flush: RETRY (%s)\n", o->last_error);
        ola_sleep_ms(ola_backoff_next(&backoff));
    }
    if (rc != OLA_OK) {
        fprintf(stderr, "flush: %s\n", o->last_error);
        return -1;
    }
    /* what the output refused goes to its dead-letter file, as the pipeline does */
    if (ola_output_bury(o, b, &err) != 0) {
        fprintf(stderr, "dead letter: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Moves the collected lines into b (body owned by b) as events. */
static int ola_fill(struct ola_batch *b, struct ola_buf *lines, size_t *offs, size_t n)
{
    size_t len, i;

    b->body = ola_buf_steal(lines, &len);
    b->body_len = len;
    for (i = 0; i < n; i++) {
        const char *raw = b->body + offs[i];
        size_t rl = (i + 1 < n ? offs[i + 1] : len) - offs[i];
        json_error_t jerr;

        while (rl > 0 &&
               (raw[rl - 1] == '\n' || raw[rl - 1] == '\r' || raw[rl - 1] == ' '))
            rl--;
        if (ola_tool_add_line(b, raw, rl, &jerr) == NULL) {
            fprintf(stderr, "bad event line: %s\n", jerr.text);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    long batch_size = 50, pause_ms = 0, timeout_ms = 1000;
    struct ola_cfg_doc *doc = NULL;
    const struct ola_cfg *node;
    struct ola_output_cfg oc;
    struct ola_output *o = NULL;
    struct ola_err err = {0};
    struct ola_buf lines = OLA_BUF_INIT;
    struct ola_batch b;
    size_t *offs = NULL, n = 0, total = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    bool multi = false, in_rec = false;
    int opt, rc = 1;

    ola_batch_init(&b);
    while ((opt = getopt(argc, argv, "c:b:p:t:m")) != -1) {
        char *end;

        if (opt == 'c')
            conf = optarg;
        else if (opt == 'm')
            multi = true;
        else if (opt == 'b') {
            batch_size = strtol(optarg, &end, 10);
            if (*end != '\0' || batch_size < 1 || batch_size > 100000)
                goto usage;
        } else if (opt == 't') {
            timeout_ms = strtol(optarg, &end, 10);
            if (*end != '\0' || timeout_ms < 0 || timeout_ms > 600000)
                goto usage;
        } else if (opt == 'p') {
            pause_ms = strtol(optarg, &end, 10);
            if (*end != '\0' || pause_ms < 0 || pause_ms > 60000)
                goto usage;
        } else
            goto usage;
    }
    if (conf == NULL)
        goto usage;
    if (ola_cfg_load_file(conf, &doc, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    node = ola_cfg_get(ola_cfg_root(doc), "outputs");
    node = node != NULL ? ola_cfg_at(node, 0) : ola_cfg_root(doc);
    oc.node = node;
    oc.type = ola_cfg_scalar(ola_cfg_get(node, "type"));
    oc.name = ola_cfg_scalar(ola_cfg_get(node, "name"));
    if (oc.type == NULL) {
        fprintf(stderr, "%s: no output type\n", conf);
        goto done;
    }
    o = ola_output_new(&oc, 0, &err);
    if (o == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    offs = calloc((size_t)batch_size, sizeof(*offs));
    if (offs == NULL)
        goto done;
    for (;;) {
        got = getline(&line, &cap, stdin);
        if (got > 1) {
            if (!multi || !in_rec)
                offs[n++] = lines.len;
            in_rec = true;
            if (ola_buf_append(&lines, line, (size_t)got) != 0)
                goto done;
        } else if (got == 1)
            in_rec = false; /* an empty line ends a multi-line record */
        if (n > 0 && ((n == (size_t)batch_size && (!multi || !in_rec)) || got < 0)) {
            if (ola_fill(&b, &lines, offs, n) != 0 ||
                ola_push(o, &b, (int)timeout_ms) != 0)
                goto done;
            total += n;
            n = 0;
            if (pause_ms > 0)
                ola_sleep_ms(pause_ms);
            ola_batch_reset(&b);
            in_rec = false;
        }
        if (got < 0)
            break;
    }
    printf("acked %llu\n", (unsigned long long)o->stats.emitted);
    fprintf(stderr, "read %zu truncated %llu dead_letters %llu errors %llu\n", total,
            (unsigned long long)o->stats.truncated,
            (unsigned long long)o->stats.dead_letters,
            (unsigned long long)o->stats.errors);
    rc = o->stats.emitted + o->stats.dead_letters == total ? 0 : 1;
    goto done;
usage:
    fprintf(stderr,
            "usage: %s -c output.yaml [-b batch_size] [-p pause_ms] [-t flush_ms] [-m] < "
            "events\n",
            argv[0]);
    rc = 2;
done:
    free(line);
    free(offs);
    ola_buf_free(&lines);
    ola_batch_free(&b);
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    return rc;
}
