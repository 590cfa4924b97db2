/*
 * ola_kafka_bench.c - events per second of the Kafka output vs librdkafka alone.
 *
 * An in-process mock cluster; N OneLogin-shaped events (~750 bytes) in batches
 * of 50 (a page) and 1000. Alternating, best of three: (a) librdkafka alone, an
 * idempotent producer sending the same bytes and keys zero-copy, rd_kafka_flush
 * per batch; (b) the Kafka output driven like the pipeline (write, flush until
 * OK). Prints events/s and process CPU per event (broker threads included: the
 * same for both) and the output's overhead. One partition: the mock broker
 * lacks TCP_NODELAY, so with several requests in flight a response may wait
 * ~40 ms for a delayed ACK. A benchmark, not a test.  ola_kafka_bench [events]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "agent/core/rng.h"
#include "outputs/out_kafka.h"
#include "tests/lib/tools.h"

#define OLA_RUNS       3
#define OLA_PARTITIONS 1

/* One timed run: wall and CPU seconds (CPU: of the whole process, ours and
 * librdkafka's and the broker's threads). */
struct ola_timing {
    double wall, cpu;
};

/*
 * Fills nb batches of per events (the last one shorter so that n add up).
 * Each batch owns its body; the events' trees are empty objects, as the
 * output only reads the raw bytes and the id. Returns 0 / -1.
 */
static int ola_gen(struct ola_batch *bs, size_t nb, size_t per, size_t n)
{
    int64_t id = 1000000000, ms = 1714557600000LL;
    size_t i, k, done = 0;
    struct ola_rng rng;

    /* a fixed seed: every run generates the same events */
    ola_rng_seed(&rng, 88172645463325252ULL);

    for (i = 0; i < nb; i++) {
        struct ola_buf body = OLA_BUF_INIT;
        size_t m = n - done < per ? n - done : per, *offs = calloc(m + 1, sizeof(*offs));
        char *data;

        if (offs == NULL)
            return -1;
        ola_batch_init(&bs[i]);
        for (k = 0; k < m; k++) {
            offs[k] = body.len;
            if (ola_tool_gen_event(&body, &rng, id + (int64_t)(done + k),
                                   ms + (int64_t)(done + k)) != 0) {
                free(offs);
                ola_buf_free(&body);
                return -1;
            }
        }
        offs[m] = body.len;
        bs[i].body_len = body.len;
        data = ola_buf_steal(&body, NULL);
        bs[i].body = data;
        for (k = 0; k < m; k++) {
            struct ola_event *e = ola_batch_add(&bs[i], OLA_REC_EVENT, json_object(),
                                                data + offs[k], offs[k + 1] - offs[k]);

            if (e == NULL) {
                free(offs);
                return -1;
            }
            e->id = id + (int64_t)(done + k);
            e->created_ms = ms + (int64_t)(done + k);
        }
        free(offs);
        done += m;
    }
    return 0;
}

static void ola_raw_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    long *failed = opaque;

    (void)rk;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
        (*failed)++;
}

/* librdkafka alone: produce every event zero-copy, flush per batch. Returns 0 / -1. */
static int ola_run_raw(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const struct ola_batch *bs,
                       size_t nb, long *failed, struct ola_timing *t)
{
    double t0 = ola_tool_secs(CLOCK_MONOTONIC),
           c0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
    size_t i, j;

    for (i = 0; i < nb; i++) {
        for (j = 0; j < bs[i].n; j++) {
            const struct ola_event *e = &bs[i].ev[j];
            char key[24];
            int kl = snprintf(key, sizeof(key), "%" PRId64, e->id);
            rd_kafka_resp_err_t rc;

            while ((rc = rd_kafka_producev(
                        rk, RD_KAFKA_V_RKT(rkt),
                        RD_KAFKA_V_VALUE((void *)(uintptr_t)e->raw, e->raw_len),
                        RD_KAFKA_V_KEY(key, (size_t)kl),
                        RD_KAFKA_V_TIMESTAMP(e->created_ms), RD_KAFKA_V_END)) ==
                   RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
            if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
                return -1;
        }
        if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR || *failed != 0)
            return -1;
    }
    t->wall = ola_tool_secs(CLOCK_MONOTONIC) - t0;
    t->cpu = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return 0;
}

/* The output, as the pipeline drives it: write, flush until OK. Returns 0 / -1. */
static int ola_run_output(struct ola_output *o, const struct ola_batch *bs, size_t nb,
                          struct ola_timing *t)
{
    double t0 = ola_tool_secs(CLOCK_MONOTONIC),
           c0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
    size_t i;

    for (i = 0; i < nb; i++) {
        enum ola_rc rc;

        if (o->ops->write(o, &bs[i]) != OLA_OK)
            return -1;
        while ((rc = o->ops->flush(o, 1000)) == OLA_RETRY)
            ;
        if (rc != OLA_OK)
            return -1;
    }
    t->wall = ola_tool_secs(CLOCK_MONOTONIC) - t0;
    t->cpu = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return 0;
}

static rd_kafka_t *ola_raw_new(const char *bootstrap, long *failed)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];
    rd_kafka_t *rk;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
        fprintf(stderr, "ola_kafka_bench: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, failed);
    rd_kafka_conf_set_dr_msg_cb(conf, ola_raw_dr);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "ola_kafka_bench: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int ola_output_open(struct ola_output *o, const char *bootstrap)
{
    struct ola_kafka_settings ks;
    struct ola_err err = {0};

    memset(o, 0, sizeof(*o));
    o->ops = &ola_out_kafka;
    o->fmt = &ola_format_json;
    snprintf(o->name, sizeof(o->name), "bench");
    snprintf(o->comp, sizeof(o->comp), "output:kafka:bench");
    ola_kafka_settings_defaults(&ks); /* acks all, idempotence, no compression */
    ks.brokers = bootstrap;
    ks.topic = "bench.out";
    if (ola_kafka_open(o, &ks, &err) != 0) {
        fprintf(stderr, "ola_kafka_bench: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Checks that the raw path sends the bytes the output would: format == raw. */
static int ola_same_bytes(const struct ola_output *o, const struct ola_batch *b)
{
    struct ola_buf out = OLA_BUF_INIT;
    int same;

    if (ola_output_format(o, &b->ev[0], &out) != 0)
        return 0;
    same = out.len == b->ev[0].raw_len && memcmp(out.data, b->ev[0].raw, out.len) == 0;
    ola_buf_free(&out);
    return same;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {50, 1000};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_mock_cluster_t *mc = NULL;
    rd_kafka_t *host = NULL, *raw = NULL;
    rd_kafka_topic_t *rkt = NULL;
    struct ola_output o;
    struct ola_batch *bs = NULL;
    size_t n = 200000, nb = 0, si, i;
    long failed = 0;
    double avg = 0;
    char errstr[256], *end;
    int run, rc = 1;

    memset(&o, 0, sizeof(o));
    if (argc > 1) {
        errno = 0;
        n = (size_t)strtoul(argv[1], &end, 10);
        if (errno != 0 || *end != '\0' || n < 1000) {
            fprintf(stderr, "usage: ola_kafka_bench [events >= 1000]\n");
            goto fail;
        }
    }
    ola_log_setup(OLA_LOG_WARN, OLA_LOG_TEXT, NULL);
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK)
        goto fail;
    host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (host == NULL)
        goto fail;
    conf = NULL;
    mc = rd_kafka_mock_cluster_new(host, 1);
    if (mc == NULL ||
        rd_kafka_mock_topic_create(mc, "bench.out", OLA_PARTITIONS, 1) != 0 ||
        rd_kafka_mock_topic_create(mc, "bench.raw", OLA_PARTITIONS, 1) != 0) {
        fprintf(stderr, "ola_kafka_bench: cannot start the mock cluster\n");
        goto fail;
    }
    raw = ola_raw_new(rd_kafka_mock_cluster_bootstraps(mc), &failed);
    if (raw == NULL || ola_output_open(&o, rd_kafka_mock_cluster_bootstraps(mc)) != 0)
        goto fail;
    rkt = rd_kafka_topic_new(raw, "bench.raw", NULL);
    if (rkt == NULL)
        goto fail;
    printf("%zu events, mock cluster (1 broker, %d partition per topic), acks all, "
           "idempotent, no compression, key = id; best of %d\n",
           n, OLA_PARTITIONS, OLA_RUNS);
    printf("%-30s %6s %12s %9s %12s\n", "what", "batch", "events/s", "MB/s",
           "CPU us/event");
    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t per = sizes[si];
        struct ola_timing t, best_raw = {0, 0}, best_out = {0, 0};
        double mb;
        size_t bytes = 0;

        nb = (n + per - 1) / per;
        bs = calloc(nb, sizeof(*bs));
        if (bs == NULL || ola_gen(bs, nb, per, n) != 0) {
            fprintf(stderr, "ola_kafka_bench: cannot generate events\n");
            goto fail;
        }
        for (i = 0; i < nb; i++)
            bytes += bs[i].body_len;
        avg = (double)bytes / (double)n;
        if (!ola_same_bytes(&o, &bs[0])) {
            fprintf(stderr, "ola_kafka_bench: the output does not send the raw bytes\n");
            goto fail;
        }
        /* Warm-up: connections, producer ids, metadata. */
        if (ola_run_raw(raw, rkt, bs, 1, &failed, &t) != 0 ||
            ola_run_output(&o, bs, 1, &t) != 0)
            goto delivery;
        /* Alternating, so that a busy moment of the machine hits both. */
        for (run = 0; run < OLA_RUNS; run++) {
            if (ola_run_raw(raw, rkt, bs, nb, &failed, &t) != 0)
                goto delivery;
            if (best_raw.wall == 0 || t.wall < best_raw.wall)
                best_raw.wall = t.wall;
            if (best_raw.cpu == 0 || t.cpu < best_raw.cpu)
                best_raw.cpu = t.cpu;
            if (ola_run_output(&o, bs, nb, &t) != 0)
                goto delivery;
            if (best_out.wall == 0 || t.wall < best_out.wall)
                best_out.wall = t.wall;
            if (best_out.cpu == 0 || t.cpu < best_out.cpu)
                best_out.cpu = t.cpu;
        }
        mb = (double)bytes / 1e6;
        printf("%-30s %6zu %12.0f %9.1f %12.2f\n", "librdkafka alone (zero-copy)", per,
               (double)n / best_raw.wall, mb / best_raw.wall,
               1e6 * best_raw.cpu / (double)n);
        printf("%-30s %6zu %12.0f %9.1f %12.2f\n", "kafka output", per,
               (double)n / best_out.wall, mb / best_out.wall,
               1e6 * best_out.cpu / (double)n);
        printf("%-30s %6zu %11.0f%% %9s %12.2f\n", "output overhead", per,
               100.0 * (best_out.wall - best_raw.wall) / best_raw.wall, "",
               1e6 * (best_out.cpu - best_raw.cpu) / (double)n);
        for (i = 0; i < nb; i++)
            ola_batch_free(&bs[i]);
        free(bs);
        bs = NULL;
    }
    printf("%.0f bytes per event on average\n", avg);
    rc = 0;
    goto fail;
delivery:
    fprintf(stderr, "ola_kafka_bench: delivery failed (raw failures %ld; output: %s)\n",
            failed, o.last_error);
fail:
    if (bs != NULL) {
        for (i = 0; i < nb; i++)
            ola_batch_free(&bs[i]);
        free(bs);
    }
    if (o.ops != NULL)
        o.ops->close(&o);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    if (raw != NULL)
        rd_kafka_destroy(raw);
    if (mc != NULL)
        rd_kafka_mock_cluster_destroy(mc);
    if (host != NULL)
        rd_kafka_destroy(host);
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    return rc;
}
