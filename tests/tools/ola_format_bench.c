/*
 * ola_format_bench.c - events per second of each record format, and of the
 * syslog output pushing them to a receiver.
 *
 * Reads OneLogin events (NDJSON, e.g. olsim's /_sim/truth), repeats them up
 * to -n events, and builds batches of 50 the way pages arrive (each event
 * keeps its original bytes), then runs the catalog and the default rule pack
 * over them (ola_rules_apply), so records carry the olagent object, tags,
 * severities and alerts they carry in the agent. Then:
 *  - formats: CPU time to format every record with json, cef, leef, ocsf
 *    (best of -k rounds), as events/s and bytes per record;
 *  - syslog (each -s output.yaml): every batch through the output the way
 *    the pipeline drives it (write, then flush until OK), wall and CPU time,
 *    best of -k rounds. The receiver (rsyslogd) is started by the caller:
 *    tests/tools/ola_syslog_bench.sh does it all.
 * A benchmark, not a test: ctest does not run it.
 *   usage: ola_format_bench -i EVENTS.ndjson [-n N] [-k ROUNDS] [-c CATALOG]
 *                           [-r RULES.yaml] [-s OUTPUT.yaml]...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "filters/rules/filter.h"
#include "outputs/output.h"
#include "tests/lib/tools.h"

#define OLA_BENCH_BATCH 50
#define OLA_BENCH_MAX_S 8

struct ola_bench {
    struct ola_batch *batches;
    size_t n_batches;
    size_t n_events; /* records, alerts included */
    size_t n_alerts;
};

/* Reads the NDJSON file into one text: offsets and lengths of each line. */
static int ola_read_events(const char *path, struct ola_buf *text, size_t **off,
                           size_t **len, size_t *n)
{
    char *data = NULL;
    size_t size, at, cap_off = 0, cap_len = 0;
    int rc = -1;

    *n = 0;
    /* no limit of its own: the input is as large as the benchmark chose */
    if (ola_read_file(path, SIZE_MAX - 2, &data, &size) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    for (at = 0; at < size;) {
        const char *line = data + at, *nl = memchr(line, '\n', size - at);
        size_t got = nl != NULL ? (size_t)(nl - line) : size - at;

        at += got + (nl != NULL);
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            got--;
        if (got == 0)
            continue;
        if (OLA_VEC_GROW_FROM(*off, cap_off, *n + 1, 1024) != 0 ||
            OLA_VEC_GROW_FROM(*len, cap_len, *n + 1, 1024) != 0)
            goto out;
        (*off)[*n] = text->len;
        (*len)[*n] = got;
        if (ola_buf_append(text, line, got) != 0)
            goto out;
        (*n)++;
    }
    rc = *n > 0 ? 0 : -1;
    if (*n == 0)
        fprintf(stderr, "%s: no events\n", path);
out:
    free(data);
    return rc;
}

/* Batches of 50 over the text (cycled to n events), classified by the rules. */
static int ola_build(struct ola_bench *bb, const struct ola_buf *text, const size_t *off,
                     const size_t *len, size_t n_src, size_t n, struct ola_rules *r)
{
    size_t i, k;

    bb->n_batches = (n + OLA_BENCH_BATCH - 1) / OLA_BENCH_BATCH;
    bb->batches = calloc(bb->n_batches, sizeof(*bb->batches));
    if (bb->batches == NULL)
        return -1;
    for (k = 0; k < bb->n_batches; k++) {
        struct ola_batch *b = &bb->batches[k];
        int64_t last_ms = 0;

        ola_batch_init(b);
        b->seq = k + 1;
        for (i = k * OLA_BENCH_BATCH; i < n && i < (k + 1) * OLA_BENCH_BATCH; i++) {
            const char *raw = text->data + off[i % n_src];
            size_t rl = len[i % n_src];
            json_error_t jerr;
            struct ola_event *e = ola_tool_add_line(b, raw, rl, &jerr);

            if (e == NULL) {
                fprintf(stderr, "event %zu: %s\n", i % n_src, jerr.text);
                return -1;
            }
            if (e->created_ms > last_ms)
                last_ms = e->created_ms;
        }
        if (ola_rules_apply(r, b, last_ms) != 0)
            return -1;
        bb->n_events += b->n;
        for (i = 0; i < b->n; i++)
            bb->n_alerts += b->ev[i].kind == OLA_REC_ALERT;
    }
    return 0;
}

static void ola_bench_free(struct ola_bench *bb)
{
    size_t k;

    for (k = 0; k < bb->n_batches; k++)
        ola_batch_free(&bb->batches[k]);
    free(bb->batches);
}

/* CPU seconds to format every record; bytes written. -1 on a format error. */
static double ola_time_format(const struct ola_bench *bb, const struct ola_format_ops *f,
                              const struct ola_format_opts *o, size_t *bytes)
{
    struct ola_buf out = OLA_BUF_INIT;
    double t0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
    size_t k, i;

    *bytes = 0;
    for (k = 0; k < bb->n_batches; k++)
        for (i = 0; i < bb->batches[k].n; i++) {
            ola_buf_reset(&out);
            if (ola_format_event(f, &bb->batches[k].ev[i], o, &out) != 0) {
                ola_buf_free(&out);
                return -1;
            }
            *bytes += out.len;
        }
    t0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - t0;
    ola_buf_free(&out);
    return t0;
}

/* Pushes every batch through o: write, then flush until OK. Returns 0 / -1. */
static int ola_push_all(struct ola_output *o, const struct ola_bench *bb, double *wall,
                        double *cpu, unsigned long *retries)
{
    double w0 = ola_tool_secs(CLOCK_MONOTONIC),
           c0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
    size_t k;

    for (k = 0; k < bb->n_batches; k++) {
        enum ola_rc rc;
        int tries = 0;

        while ((rc = ola_output_write(o, &bb->batches[k])) == OLA_RETRY && tries++ < 100)
            (*retries)++;
        if (rc != OLA_OK)
            goto fail;
        tries = 0;
        while ((rc = ola_output_flush(o, 1000)) == OLA_RETRY && tries++ < 600)
            (*retries)++;
        if (rc != OLA_OK)
            goto fail;
    }
    *wall = ola_tool_secs(CLOCK_MONOTONIC) - w0;
    *cpu = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return 0;
fail:
    fprintf(stderr, "%s: %s\n", o->comp, o->last_error);
    return -1;
}

static int ola_bench_syslog(const char *path, const struct ola_bench *bb, int rounds)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_output_cfg oc;
    struct ola_output *o = NULL;
    struct ola_err err = {0, ""};
    const struct ola_cfg *node;
    double best_wall = 0, best_cpu = 0;
    unsigned long retries = 0;
    int round, rc = -1;

    if (ola_cfg_load_file(path, &doc, &err) != 0)
        goto fail;
    node = ola_cfg_root(doc);
    oc.node = node;
    oc.type = ola_cfg_scalar(ola_cfg_get(node, "type"));
    oc.name = ola_cfg_scalar(ola_cfg_get(node, "name"));
    if (oc.type == NULL) {
        ola_err_set(&err, 0, "%s: no type", path);
        goto fail;
    }
    o = ola_output_new(&oc, 0, &err);
    if (o == NULL)
        goto fail;
    for (round = 0; round < rounds; round++) {
        double wall, cpu;

        if (ola_push_all(o, bb, &wall, &cpu, &retries) != 0)
            goto out;
        if (round == 0 || wall < best_wall)
            best_wall = wall;
        if (round == 0 || cpu < best_cpu)
            best_cpu = cpu;
    }
    printf("%-24s %10.0f events/s  (%.2f s wall, best of %d; %.2f us CPU here per event; "
           "%lu RETRY; %llu truncated)\n",
           o->name, (double)bb->n_events / best_wall, best_wall, rounds,
           best_cpu * 1e6 / (double)bb->n_events, retries,
           (unsigned long long)o->stats.truncated);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "ola_format_bench: %s\n", err.msg);
out:
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    return rc;
}

int main(int argc, char **argv)
{
    const char *input = NULL, *catalog = "config/event-types.json",
               *rules_path = "config/rules/default.yaml", *syslogs[OLA_BENCH_MAX_S];
    size_t n = 200000, n_src = 0, *off = NULL, *len = NULL, n_s = 0, i;
    struct ola_buf text = OLA_BUF_INIT;
    struct ola_cfg_doc *doc = NULL;
    struct ola_rules_settings s;
    struct ola_err err = {0, ""};
    struct ola_rules *r = NULL;
    struct ola_bench bb = {NULL, 0, 0, 0};
    const char *const outs[] = {"bench"};
    const struct ola_format_ops *const *fmts = ola_format_list();
    struct ola_format_opts fo = {.leef_delim = '\t',
                                 .vendor = "OneLogin",
                                 .product = "OneLogin",
                                 .product_version = "0.1.0",
                                 .hostname = "bench-host"};
    char cfg[4200];
    int rounds = 3, opt, rc = 1;
    long k;

    while ((opt = getopt(argc, argv, "i:n:k:c:r:s:")) != -1) {
        char *end;

        switch (opt) {
        case 'i':
            input = optarg;
            break;
        case 'n':
            errno = 0;
            n = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n == 0)
                goto usage;
            break;
        case 'k':
            if (ola_tool_long(optarg, 1, 100, &k) != 0)
                goto usage;
            rounds = (int)k;
            break;
        case 'c':
            catalog = optarg;
            break;
        case 'r':
            rules_path = optarg;
            break;
        case 's':
            if (n_s == OLA_BENCH_MAX_S)
                goto usage;
            syslogs[n_s++] = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (input == NULL)
        goto usage;
    if (ola_read_events(input, &text, &off, &len, &n_src) != 0)
        goto out;
    if (snprintf(cfg, sizeof(cfg), "rules: [\"%s\"]\noutputs:\n  - {type: stdout}\n",
                 rules_path) >= (int)sizeof(cfg))
        goto out;
    if (ola_cfg_load_string("bench.yaml", cfg, strlen(cfg), &doc, &err) != 0)
        goto fail;
    memset(&s, 0, sizeof(s));
    s.rules = ola_cfg_get(ola_cfg_root(doc), "rules");
    s.n_outputs = 1;
    s.outputs[0].name = "bench";
    s.outputs[0].node = ola_cfg_at(ola_cfg_get(ola_cfg_root(doc), "outputs"), 0);
    r = ola_rules_new(&s, catalog, outs, 1, &err);
    if (r == NULL)
        goto fail;
    if (ola_build(&bb, &text, off, len, n_src, n, r) != 0)
        goto out;
    printf("records: %zu (%zu events from %zu distinct, %zu alerts), %.0f bytes of "
           "OneLogin JSON per event\n",
           bb.n_events, n, n_src, bb.n_alerts, (double)text.len / (double)n_src);
    for (i = 0; fmts[i] != NULL; i++) {
        double best = 0;
        size_t bytes = 0;
        int round;

        for (round = 0; round < rounds; round++) {
            double t = ola_time_format(&bb, fmts[i], &fo, &bytes);

            if (t < 0) {
                fprintf(stderr, "format %s failed\n", fmts[i]->name);
                goto out;
            }
            if (round == 0 || t < best)
                best = t;
        }
        printf("format %-17s %10.0f events/s  (%.3f s CPU, best of %d; %.0f bytes per "
               "record)\n",
               fmts[i]->name, (double)bb.n_events / best, best, rounds,
               (double)bytes / (double)bb.n_events);
    }
    for (i = 0; i < n_s; i++)
        if (ola_bench_syslog(syslogs[i], &bb, rounds) != 0)
            goto out;
    rc = 0;
    goto out;
usage:
    fprintf(stderr,
            "usage: %s -i EVENTS.ndjson [-n N] [-k ROUNDS] [-c CATALOG] [-r RULES.yaml] "
            "[-s OUTPUT.yaml]...\n",
            argv[0]);
    rc = 2;
    goto out;
fail:
    fprintf(stderr, "ola_format_bench: %s\n", err.msg);
out:
    ola_bench_free(&bb);
    ola_rules_destroy(r);
    ola_cfg_doc_destroy(doc);
    ola_buf_free(&text);
    free(off);
    free(len);
    return rc;
}
