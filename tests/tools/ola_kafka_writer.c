/*
 * ola_kafka_writer.c - drives one output the way the pipeline does.
 *
 * Reads NDJSON events on stdin, groups them into batches of -n (default 100)
 * with their original bytes, and for each batch calls write() then flush()
 * until the output answers OK, sleeping between RETRYs itself (it stands in
 * for the pipeline, which owns backoff). After each acknowledged batch it
 * prints "acked <total>" and flushes stdout, so a test knows exactly which
 * events were acknowledged. The output comes from a YAML file (-c) whose root
 * is one output's map (type: kafka, brokers: ..., ...).
 *   ola_kafka_writer -c out.yaml [-n batch] [-f flush_ms] [-r retry_ms]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "outputs/output.h"
#include "tests/lib/tools.h"

struct ola_writer {
    struct ola_output *out;
    long batch_size;
    long flush_ms;
    long retry_ms;
    uint64_t seq;
    uint64_t acked;
    uint64_t retries;
};

static void ola_writer_sleep(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Hands the batch to the output and waits for OK. Returns 0 / -1. */
static int ola_writer_ship(struct ola_writer *w, struct ola_batch *b)
{
    struct ola_err err = {0, ""};
    enum ola_rc rc;
    size_t i, n = 0;

    b->seq = ++w->seq;
    for (i = 0; i < b->n; i++)
        n += ola_output_takes(w->out, &b->ev[i]);
    while ((rc = ola_output_write(w->out, b)) == OLA_RETRY) {
        w->retries++;
        ola_writer_sleep(w->retry_ms);
    }
    if (rc != OLA_OK)
        goto fail;
    for (;;) {
        rc = ola_output_flush(w->out, (int)w->flush_ms);
        if (rc == OLA_OK)
            break;
        if (rc != OLA_RETRY)
            goto fail;
        w->retries++;
        fprintf(stderr, "ola_kafka_writer: batch %llu: retry: %s\n",
                (unsigned long long)b->seq, w->out->last_error);
        ola_writer_sleep(w->retry_ms);
    }
    /* what the output refused goes to its dead-letter file, as the pipeline does */
    if (ola_output_bury(w->out, b, &err) != 0) {
        fprintf(stderr, "ola_kafka_writer: dead letter: %s\n", err.msg);
        return -1;
    }
    w->acked += n;
    printf("acked %llu\n", (unsigned long long)w->acked);
    fflush(stdout);
    return 0;
fail:
    fprintf(stderr, "ola_kafka_writer: batch %llu: %s\n", (unsigned long long)b->seq,
            w->out->last_error);
    return -1;
}

/* Adds one NDJSON line (copied into a body the batch owns). Returns 0 / -1. */
static int ola_writer_add(struct ola_batch *b, char **body, size_t *body_len,
                          const char *line, size_t len)
{
    json_error_t jerr;
    char *copy = malloc(len);
    size_t at = b->n;

    if (copy == NULL)
        return -1;
    memcpy(copy, line, len);
    if (ola_tool_add_line(b, copy, len, &jerr) == NULL) {
        fprintf(stderr, "ola_kafka_writer: bad event: %s\n", jerr.text);
        free(copy);
        return -1;
    }
    body[at] = copy;
    body_len[at] = len;
    return 0;
}

static void ola_writer_free_bodies(char **body, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(body[i]);
        body[i] = NULL;
    }
}

int main(int argc, char **argv)
{
    struct ola_writer w = {.batch_size = 100, .flush_ms = 1000, .retry_ms = 200};
    struct ola_cfg_doc *doc = NULL;
    struct ola_output_cfg oc = {0};
    struct ola_err err = {0};
    struct ola_batch b;
    const char *path = NULL;
    char *line = NULL, **body = NULL;
    size_t cap = 0, *body_len = NULL;
    ssize_t len;
    int i, rc = 1;

    ola_batch_init(&b);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-c") == 0 && v != NULL)
            path = v;
        else if (strcmp(a, "-n") == 0 && v != NULL &&
                 ola_tool_long(v, 1, 1000000, &w.batch_size) == 0)
            ;
        else if (strcmp(a, "-f") == 0 && v != NULL &&
                 ola_tool_long(v, 0, 600000, &w.flush_ms) == 0)
            ;
        else if (strcmp(a, "-r") == 0 && v != NULL &&
                 ola_tool_long(v, 0, 600000, &w.retry_ms) == 0)
            ;
        else {
            fprintf(stderr,
                    "usage: ola_kafka_writer -c output.yaml [-n batch] [-f flush_ms] "
                    "[-r retry_ms] < events.ndjson\n");
            goto fail;
        }
        i++;
    }
    if (path == NULL) {
        fprintf(stderr, "ola_kafka_writer: -c output.yaml is required\n");
        goto fail;
    }
    if (ola_cfg_load_file(path, &doc, &err) != 0)
        goto cfg_fail;
    oc.node = ola_cfg_root(doc);
    if (ola_cfg_str(oc.node, "type", NULL, &oc.type, &err) != 0 ||
        ola_cfg_str(oc.node, "name", NULL, &oc.name, &err) != 0)
        goto cfg_fail;
    if (oc.type == NULL) {
        ola_cfg_errf(&err, oc.node, "type: required");
        goto cfg_fail;
    }
    w.out = ola_output_new(&oc, 0, &err);
    if (w.out == NULL)
        goto cfg_fail;
    body = calloc((size_t)w.batch_size, sizeof(*body));
    body_len = calloc((size_t)w.batch_size, sizeof(*body_len));
    if (body == NULL || body_len == NULL)
        goto fail;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if (ola_writer_add(&b, body, body_len, line, (size_t)len) != 0)
            goto fail;
        if ((long)b.n == w.batch_size) {
            if (ola_writer_ship(&w, &b) != 0)
                goto fail;
            ola_writer_free_bodies(body, b.n);
            ola_batch_reset(&b);
        }
    }
    if (b.n > 0 && ola_writer_ship(&w, &b) != 0)
        goto fail;
    fprintf(stderr,
            "ola_kafka_writer: done: acked %llu, emitted %llu, dead letters %llu, "
            "retries %llu\n",
            (unsigned long long)w.acked, (unsigned long long)w.out->stats.emitted,
            (unsigned long long)w.out->stats.dead_letters, (unsigned long long)w.retries);
    rc = 0;
    goto fail;
cfg_fail:
    fprintf(stderr, "ola_kafka_writer: %s\n", err.msg);
fail:
    if (body != NULL)
        ola_writer_free_bodies(body, b.n);
    ola_batch_free(&b);
    ola_output_destroy(w.out);
    ola_cfg_doc_destroy(doc);
    free(body);
    free(body_len);
    free(line);
    return rc;
}
