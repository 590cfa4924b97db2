/*
 * out_kafka.c - records to Kafka with librdkafka, acknowledged by delivery report.
 *
 * write() formats every routed record into a chunk of bytes the output owns
 * and stages it in a pending table (value, key, topic); flush() produces the
 * staged entries (zero-copy: librdkafka points into our chunk, each message's
 * opaque is its slot number) and serves delivery reports until every entry
 * is delivered or the timeout passes. Only then does flush answer OK and the
 * table is emptied, so a message that librdkafka merely queued never counts.
 * librdkafka is told never to give up on a message (message.timeout.ms 0,
 * unless configured): with the idempotent producer its own retries across a
 * broker outage of any length store each message once. A retriable failure
 * (a configured timeout passed, purge) puts the entry back to be produced
 * again on the next flush; a record the broker will never take (too large,
 * invalid) is refused (ola_output_refuse: the pipeline dead-letters it); a
 * fatal producer error (idempotence fencing) rebuilds the producer and
 * re-sends every unacknowledged entry. An error no retry can mend answers
 * FATAL: rejected credentials or cluster rights, and a fixed topic that does
 * not exist (auto-creation off: librdkafka's __UNKNOWN_TOPIC once
 * topic.metadata.propagation.max.ms passed) or may not be written. With a
 * topic template the same topic errors refuse only the records routed to
 * that topic: the other topics work, and one new category must not stop all.
 * Callbacks run in the thread that calls flush (rd_kafka_flush), never with a
 * json_t: librdkafka only ever sees bytes. The settings map is read in
 * kafka_conf.c, delivery reports and the table kept in kafka_dr.c, topic and
 * key templates expanded in kafka_template.c (shared state: kafka_priv.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "outputs/kafka_priv.h"

#define OLA_KAFKA_POLL_SLICE_MS 100
#define OLA_KAFKA_MAX_TOPIC     249

/* ---- secrets ---------------------------------------------------------------- */

/* Keys whose values are credentials whatever their origin. */
static bool ola_kafka_prop_sensitive(const char *name)
{
    return strstr(name, "password") != NULL || strstr(name, "secret") != NULL ||
           strcmp(name, "sasl.oauthbearer.config") == 0 ||
           strcmp(name, "ssl.key.pem") == 0;
}

/*
 * Copies text into out (size bytes, truncated) with every secret value
 * replaced by "****". Returns out, or text itself when there is nothing to
 * hide. Only reads k: safe from librdkafka's threads.
 */
const char *ola_kafka_scrub(const struct ola_kafka *k, const char *text, char *out,
                            size_t size)
{
    size_t o = 0, i;
    const char *p = text;

    if (k == NULL || k->n_secrets == 0 || size == 0)
        return text;
    while (*p != '\0' && o + 1 < size) {
        for (i = 0; i < k->n_secrets; i++)
            if (strncmp(p, k->secrets[i], strlen(k->secrets[i])) == 0)
                break;
        if (i == k->n_secrets) {
            out[o++] = *p++;
            continue;
        }
        p += strlen(k->secrets[i]);
        if (o + 4 >= size)
            break;
        memcpy(out + o, "****", 4);
        o += 4;
    }
    out[o] = '\0';
    return out;
}

static void ola_kafka_free_secrets(struct ola_kafka *k)
{
    size_t i;

    for (i = 0; i < k->n_secrets; i++)
        ola_secret_free(k->secrets[i]); /* not left lying around in freed memory */
    free(k->secrets);
    k->secrets = NULL;
    k->n_secrets = 0;
}

/* ---- producer --------------------------------------------------------------- */

/* librdkafka may quote the value in its error ("Invalid value ..."): scrubbed. */
static int ola_kafka_set(const struct ola_kafka *k, const char *name, const char *value,
                         struct ola_err *err)
{
    char errstr[256], clean[256];

    if (rd_kafka_conf_set(k->conf, name, value, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK)
        return ola_err_set(err, EINVAL, "%s: librdkafka says: %s", name,
                           ola_kafka_scrub(k, errstr, clean, sizeof(clean)));
    return 0;
}

static void ola_kafka_drop_producer(struct ola_kafka *k)
{
    size_t i;

    for (i = 0; i < k->n_topics; i++) {
        if (k->topics[i].rkt != NULL)
            rd_kafka_topic_destroy(k->topics[i].rkt);
        k->topics[i].rkt = NULL;
    }
    if (k->rk != NULL) {
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                  RD_KAFKA_PURGE_F_NON_BLOCKING);
        rd_kafka_poll(k->rk, 0); /* purged reports: entries go back to LATER */
        rd_kafka_destroy(k->rk);
        k->rk = NULL;
    }
    /* librdkafka no longer points into our chunks: nothing is in flight. */
    for (i = 0; i < k->n_msgs; i++)
        if (k->msgs[i].state == OLA_KMSG_INFLIGHT || k->msgs[i].state == OLA_KMSG_LATER)
            k->msgs[i].state = OLA_KMSG_STAGED;
    k->n_inflight = 0;
    k->next_produce = 0;
}

static int ola_kafka_new_producer(struct ola_output *o, struct ola_err *err)
{
    struct ola_kafka *k = o->ctx;
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(k->conf);
    char errstr[512], clean[512];

    if (conf == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(conf); /* only when rd_kafka_new failed */
        return ola_err_set(err, EINVAL, "cannot create producer: %s",
                           ola_kafka_scrub(k, errstr, clean, sizeof(clean)));
    }
    k->fatal = false;
    return 0;
}

/* The fatal path: a new producer (a new producer id), every unacked entry re-sent. */
static int ola_kafka_rebuild(struct ola_output *o)
{
    struct ola_kafka *k = o->ctx;
    struct ola_err err = {0};
    char why[256] = "", clean[256];

    if (k->rk != NULL)
        rd_kafka_fatal_error(k->rk, why, sizeof(why));
    ola_plg_log(OLA_LOG_WARN, o, "fatal producer error (%s): rebuilding the producer",
                why[0] ? ola_kafka_scrub(k, why, clean, sizeof(clean)) : "unknown");
    ola_kafka_drop_producer(k);
    k->rebuilds++;
    if (ola_kafka_new_producer(o, &err) != 0) {
        snprintf(o->last_error, sizeof(o->last_error), "%s", err.msg);
        return -1;
    }
    return 0;
}

static rd_kafka_topic_t *ola_kafka_rkt(struct ola_kafka *k, unsigned t)
{
    if (k->topics[t].rkt == NULL)
        k->topics[t].rkt = rd_kafka_topic_new(k->rk, k->topics[t].name, NULL);
    return k->topics[t].rkt;
}

static int ola_kafka_topic_index(struct ola_kafka *k, const char *name, size_t len,
                                 unsigned *out)
{
    size_t i;

    for (i = 0; i < k->n_topics; i++)
        if (strlen(k->topics[i].name) == len && memcmp(k->topics[i].name, name, len) == 0)
            break;
    if (i == k->n_topics) {
        if (OLA_VEC_GROW(k->topics, k->cap_topics, k->n_topics + 1) != 0)
            return -1;
        k->topics[i].name = strndup(name, len);
        k->topics[i].rkt = NULL;
        if (k->topics[i].name == NULL)
            return -1;
        k->n_topics++;
    }
    *out = (unsigned)i;
    return 0;
}

/* Produces one entry. Returns the error librdkafka gave (0: now in flight). */
static rd_kafka_resp_err_t ola_kafka_produce(struct ola_kafka *k, size_t slot)
{
    struct ola_kmsg *m = &k->msgs[slot];
    char *base = k->chunks[m->chunk];
    rd_kafka_topic_t *rkt = ola_kafka_rkt(k, m->topic);
    char *val = base + m->val_off;
    const char *key = m->has_key ? base + m->key_off : NULL;
    size_t key_len = m->has_key ? m->key_len : 0;
    rd_kafka_resp_err_t rc;

    if (rkt == NULL)
        return rd_kafka_last_error();
    /* No F_COPY, no F_FREE: the bytes stay ours until the delivery report. */
    rc = rd_kafka_producev(
        k->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE(val, m->val_len),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_TIMESTAMP(m->ts_ms > 0 ? m->ts_ms : 0),
        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(slot + 1)), RD_KAFKA_V_END);
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) {
        m->state = OLA_KMSG_INFLIGHT;
        k->n_inflight++;
    }
    return rc;
}

/*
 * Produces every STAGED entry from next_produce on. Stops at QUEUE_FULL
 * (returns 1: librdkafka's queue is at its limit, poll and come back).
 * Returns 0 when all were handed over, -1 on a fatal producer error.
 */
static int ola_kafka_produce_staged(struct ola_output *o)
{
    struct ola_kafka *k = o->ctx;

    for (; k->next_produce < k->n_msgs; k->next_produce++) {
        struct ola_kmsg *m = &k->msgs[k->next_produce];
        rd_kafka_resp_err_t rc;

        if (m->state != OLA_KMSG_STAGED)
            continue;
        rc = ola_kafka_produce(k, k->next_produce);
        if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        if (rc == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return 1;
        if (ola_kafka_failed(k, m, rc))
            return -1;
        if (k->stop_err != RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
    }
    return 0;
}

/* ---- the output ------------------------------------------------------------- */

/*
 * Stages every routed record of b: all or nothing. The bytes go into one
 * new chunk (value, then key), the entries into the table; nothing reaches
 * librdkafka before flush.
 */
static enum ola_rc ola_kafka_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_kafka *k = o->ctx;
    struct ola_buf chunk = OLA_BUF_INIT;
    size_t n0 = k->n_msgs, routed = 0, i;
    char *data;
    int rc;

    for (i = 0; i < b->n; i++)
        if (ola_output_takes(o, &b->ev[i]))
            routed++;
    if (routed == 0)
        return OLA_OK;
    if (k->n_msgs > 0 && k->n_msgs + routed > k->max_pending) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "%zu records still waiting for delivery", k->n_msgs - k->n_final);
        o->stats.errors++;
        return OLA_RETRY;
    }
    if (ola_kafka_grow(k, k->n_msgs + routed) != 0)
        goto nomem;
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        struct ola_kmsg *m;
        size_t mark = chunk.len;

        if (!ola_output_takes(o, e))
            continue;
        m = &k->msgs[k->n_msgs];
        memset(m, 0, sizeof(*m));
        m->chunk = k->n_chunks;
        m->rec = i;
        m->id = e->id;
        m->ts_ms = e->created_ms;
        m->val_off = chunk.len;
        rc = ola_output_format(o, e, &chunk);
        if (rc == OLA_FORMAT_UNUSABLE) {
            /* noted at once, kept by the pipeline even if this write fails later */
            if (ola_output_refuse_unusable(o, i) != 0)
                goto nomem;
            continue;
        }
        if (rc != 0)
            goto nomem;
        m->val_len = chunk.len - mark;
        if (k->key_tmpl[0] != '\0') {
            m->key_off = chunk.len;
            if (ola_kafka_expand(k->key_tmpl, e, b->tenant, false, &chunk) != 0)
                goto nomem;
            m->key_len = chunk.len - m->key_off;
            m->has_key = true;
        }
        if (k->topic_fixed) {
            m->topic = 0;
        } else {
            size_t t0 = chunk.len, tl;

            if (ola_kafka_expand(k->topic_tmpl, e, b->tenant, true, &chunk) != 0)
                goto nomem;
            tl = chunk.len - t0;
            if (tl > OLA_KAFKA_MAX_TOPIC)
                tl = OLA_KAFKA_MAX_TOPIC;
            if (ola_kafka_topic_index(k, chunk.data + t0, tl, &m->topic) != 0)
                goto nomem;
            chunk.len = t0;
        }
        m->state = OLA_KMSG_STAGED;
        k->n_msgs++;
    }
    if (k->n_msgs == n0) { /* every record refused */
        ola_buf_free(&chunk);
        return OLA_OK;
    }
    data = ola_buf_steal(&chunk, NULL);
    if (data == NULL || ola_kafka_add_chunk(k, data) != 0) {
        free(data);
        goto nomem;
    }
    return OLA_OK;
nomem:
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    k->n_msgs = n0;
    ola_buf_free(&chunk);
    o->stats.errors++;
    return OLA_RETRY;
}
static enum ola_rc ola_kafka_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_kafka *k = o->ctx;
    int64_t deadline = ola_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    const struct ola_kmsg *later;
    bool rebuilt = false;
    size_t i, done = 0;

    if (k->n_msgs == 0)
        return OLA_OK;
    /* What failed retriably on an earlier flush goes out again now. */
    for (i = 0; i < k->n_msgs; i++)
        if (k->msgs[i].state == OLA_KMSG_LATER)
            k->msgs[i].state = OLA_KMSG_STAGED;
    k->next_produce = 0;
    for (;;) {
        int64_t left;
        int rc;

        if (k->fatal) {
            /* At most one rebuild per flush: a producer that dies at once waits. */
            if (rebuilt || ola_kafka_rebuild(o) != 0)
                goto retry;
            rebuilt = true;
        }
        rc = ola_kafka_produce_staged(o);
        if (rc < 0)
            continue;
        if (k->stop_err != RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (rc == 0 && k->n_inflight == 0)
            break;
        left = deadline - ola_mono_ms();
        if (left <= 0)
            break;
        /*
         * rd_kafka_flush serves delivery reports like rd_kafka_poll, and also
         * tells the broker threads to send now instead of lingering.
         */
        rd_kafka_flush(
            k->rk,
            (int)(left < OLA_KAFKA_POLL_SLICE_MS ? left : OLA_KAFKA_POLL_SLICE_MS));
    }
    rd_kafka_poll(k->rk, 0);
    if (k->stop_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(o->last_error, sizeof(o->last_error), "kafka: %s (topic %s)%s%s",
                 rd_kafka_err2str(k->stop_err),
                 k->topic_fixed && k->n_topics > 0 ? k->topics[0].name : k->topic_tmpl,
                 k->trouble ? ": " : "", k->trouble ? k->trouble_msg : "");
        o->stats.errors++;
        return OLA_FATAL;
    }
    if (k->fatal) {
        snprintf(o->last_error, sizeof(o->last_error), "fatal producer error: %s",
                 k->trouble_msg);
        goto retry; /* rebuilt at the start of the next flush */
    }
    if (ola_kafka_refuse(o) != 0) {
        ola_kafka_report_state(o);
        goto retry;
    }
    ola_kafka_report_state(o);
    if (k->n_final < k->n_msgs) {
        later = ola_kafka_first(k, OLA_KMSG_LATER);
        snprintf(o->last_error, sizeof(o->last_error),
                 "%zu of %zu records not delivered yet: %s", k->n_msgs - k->n_final,
                 k->n_msgs,
                 later != NULL ? rd_kafka_err2str(later->err)
                 : k->trouble  ? k->trouble_msg
                               : "waiting for delivery reports");
        goto retry;
    }
    for (i = 0; i < k->n_msgs; i++)
        done += k->msgs[i].state == OLA_KMSG_DONE;
    o->stats.emitted += done;
    ola_kafka_table_reset(k);
    return OLA_OK;
retry:
    o->stats.errors++;
    return OLA_RETRY;
}

static int ola_kafka_check(struct ola_output *o, struct ola_err *err)
{
    struct ola_kafka *k = o->ctx;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rc;

    if (k->rk == NULL)
        return ola_err_set(err, EIO, "kafka: no producer: %s", o->last_error);
    rc = rd_kafka_metadata(k->rk, 0, NULL, &md, 5000);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
        return ola_err_set(err, EIO, "kafka: cannot reach the brokers: %s",
                           rd_kafka_err2str(rc));
    rd_kafka_metadata_destroy(md);
    return 0;
}

static void ola_kafka_close(struct ola_output *o)
{
    struct ola_kafka *k = o->ctx;
    size_t i;

    ola_kafka_conf_free(o->settings);
    if (k == NULL)
        return;
    /* Unacknowledged records are dropped here; the checkpoint never covered them. */
    ola_kafka_drop_producer(k);
    if (k->conf != NULL)
        rd_kafka_conf_destroy(k->conf);
    ola_kafka_table_reset(k);
    ola_kafka_free_secrets(k);
    free(k->msgs);
    free(k->chunks);
    for (i = 0; i < k->n_topics; i++)
        free(k->topics[i].name);
    free(k->topics);
    free(k->topic_tmpl);
    free(k->key_tmpl);
    free(k);
    o->ctx = NULL;
}

int ola_kafka_open(struct ola_output *o, const struct ola_kafka_settings *ks,
                   struct ola_err *err)
{
    struct ola_kafka *k;
    char num[32];
    size_t i;
    int all;

    if (ks->brokers == NULL || ks->brokers[0] == '\0')
        return ola_err_set(err, EINVAL, "brokers: required");
    if (ks->topic == NULL || ks->topic[0] == '\0')
        return ola_err_set(err, EINVAL, "topic: must not be empty");
    if (ola_kafka_template_check(ks->topic, err) != 0)
        return ola_err_prefix(err, "topic");
    if (ola_kafka_template_check(ks->key, err) != 0)
        return ola_err_prefix(err, "key");
    all = strcmp(ks->acks, "all") == 0 || strcmp(ks->acks, "-1") == 0;
    if (!all && strcmp(ks->acks, "1") != 0)
        return ola_err_set(err, EINVAL,
                           "acks: '%s' is not all or 1 (acks 0 gives no delivery report)",
                           ks->acks);
    if (!all && ks->idempotence)
        return ola_err_set(err, EINVAL, "acks: idempotence needs acks: all");
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = k;
    k->topic_tmpl = strdup(ks->topic);
    k->key_tmpl = strdup(ks->key);
    k->conf = rd_kafka_conf_new();
    if (k->topic_tmpl == NULL || k->key_tmpl == NULL || k->conf == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    k->topic_fixed = strchr(ks->topic, '{') == NULL;
    if (k->topic_fixed) {
        unsigned t;

        if (ola_kafka_topic_index(k, ks->topic, strlen(ks->topic), &t) != 0) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
    }
    k->max_pending = (size_t)ks->queue_max_messages;
    if (ks->n_props > 0) {
        k->secrets = calloc(ks->n_props, sizeof(*k->secrets));
        if (k->secrets == NULL) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
    }
    for (i = 0; i < ks->n_props; i++) {
        bool secret = (ks->prop_secret != NULL && ks->prop_secret[i]) ||
                      ola_kafka_prop_sensitive(ks->prop_names[i]);

        if (!secret || ks->prop_values[i][0] == '\0')
            continue;
        k->secrets[k->n_secrets] = strdup(ks->prop_values[i]);
        if (k->secrets[k->n_secrets] == NULL) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        k->n_secrets++;
    }
    rd_kafka_conf_set_opaque(k->conf, o);
    rd_kafka_conf_set_dr_msg_cb(k->conf, ola_kafka_dr_cb);
    rd_kafka_conf_set_error_cb(k->conf, ola_kafka_error_cb);
    rd_kafka_conf_set_log_cb(k->conf, ola_kafka_log_cb);
    if (ola_kafka_set(k, "bootstrap.servers", ks->brokers, err) ||
        ola_kafka_set(k, "acks", all ? "all" : "1", err) ||
        ola_kafka_set(k, "enable.idempotence", ks->idempotence ? "true" : "false", err) ||
        ola_kafka_set(k, "compression.codec", ks->compression, err))
        goto fail;
    snprintf(num, sizeof(num), "%" PRId64, ks->message_timeout_ms);
    if (ola_kafka_set(k, "message.timeout.ms", num, err) != 0)
        goto fail;
    snprintf(num, sizeof(num), "%lld", ks->queue_max_messages);
    if (ola_kafka_set(k, "queue.buffering.max.messages", num, err) != 0)
        goto fail;
    snprintf(num, sizeof(num), "%" PRIu64,
             ks->queue_max_bytes / 1024 > 0 ? ks->queue_max_bytes / 1024 : 1);
    if (ola_kafka_set(k, "queue.buffering.max.kbytes", num, err) != 0)
        goto fail;
    for (i = 0; i < ks->n_props; i++) {
        const char *own = ola_kafka_own_key(ks->prop_names[i]);

        if (own != NULL) {
            ola_err_set(err, EINVAL, "%s: set it with the output's `%s:` key",
                        ks->prop_names[i], own);
            ola_kafka_prop_error(err, ks, i);
            goto fail;
        }
        if (ola_kafka_set(k, ks->prop_names[i], ks->prop_values[i], err) != 0) {
            ola_kafka_prop_error(err, ks, i);
            goto fail;
        }
    }
    if (ola_kafka_new_producer(o, err) != 0)
        goto fail;
    return 0;
fail:
    ola_kafka_close(o);
    return -1;
}
rd_kafka_t *ola_kafka_handle(const struct ola_output *o)
{
    const struct ola_kafka *k = o->ctx;

    return k != NULL ? k->rk : NULL;
}

size_t ola_kafka_pending(const struct ola_output *o)
{
    const struct ola_kafka *k = o->ctx;

    return k != NULL ? k->n_msgs - k->n_final : 0;
}

uint64_t ola_kafka_rebuilds(const struct ola_output *o)
{
    const struct ola_kafka *k = o->ctx;

    return k != NULL ? k->rebuilds : 0;
}

const struct ola_output_ops ola_out_kafka = {
    .name = "kafka",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_kafka_options,
    .settings_size = sizeof(struct ola_kafka_conf),
    .init = ola_kafka_init,
    .write = ola_kafka_write,
    .flush = ola_kafka_flush,
    .check = ola_kafka_check,
    .close = ola_kafka_close,
};
