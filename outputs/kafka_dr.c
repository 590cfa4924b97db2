/*
 * kafka_dr.c - the Kafka output's delivery-report bookkeeping.
 *
 * Every staged record is an entry in the output's table (struct ola_kmsg,
 * kafka_priv.h) whose bytes live in chunks the output owns. librdkafka's
 * callbacks (run inside rd_kafka_poll/flush, in flush's thread) move the
 * entries along: a delivery report marks an entry DONE, or files its error
 * by class (retry later, refuse for good, rebuild the producer, stop); the
 * error callback notes broker trouble and fatal errors. After the callbacks
 * flush refuses the REJECTED entries (the pipeline dead-letters them), logs
 * a change of broker state once, and empties the table once every entry is
 * final.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/vec.h"
#include "outputs/kafka_priv.h"

/* ---- errors --------------------------------------------------------------- */

enum ola_kafka_errclass ola_kafka_errclass(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION: /* a name the broker calls invalid */
        return OLA_KAFKA_DEAD;
    case RD_KAFKA_RESP_ERR__FATAL:
        return OLA_KAFKA_REBUILD;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        return OLA_KAFKA_TOPIC;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        /* the credentials come from the config, read at start: a restart
         * with a mended config is the only way out */
        return OLA_KAFKA_STOP;
    default:
        /*
         * Everything else is about the path, not the record: broker down,
         * timeouts, purges, leader changes (the records wait, nothing drops).
         * The broker's UNKNOWN_TOPIC_OR_PART stays here: it also answers
         * while a new topic's metadata spreads; librdkafka turns a topic that
         * stays unknown into __UNKNOWN_TOPIC.
         */
        return OLA_KAFKA_RETRY;
    }
}

/* ---- callbacks (run inside rd_kafka_poll/flush, in flush's thread) ---------- */

/*
 * Files a failed entry by its error's class. Returns true when the producer
 * must be rebuilt (the entry is then STAGED, to go again on the new one).
 */
bool ola_kafka_failed(struct ola_kafka *k, struct ola_kmsg *m, rd_kafka_resp_err_t err)
{
    m->err = err;
    switch (ola_kafka_errclass(err)) {
    case OLA_KAFKA_DEAD:
        m->state = OLA_KMSG_REJECTED;
        return false;
    case OLA_KAFKA_REBUILD:
        k->fatal = true;
        m->state = OLA_KMSG_STAGED;
        return true;
    case OLA_KAFKA_TOPIC:
        if (!k->topic_fixed) {
            m->state = OLA_KMSG_REJECTED;
            return false;
        }
        k->stop_err = err;
        break;
    case OLA_KAFKA_STOP:
        k->stop_err = err;
        break;
    case OLA_KAFKA_RETRY:
        break;
    }
    m->state = OLA_KMSG_LATER;
    return false;
}

void ola_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct ola_output *o = opaque;
    struct ola_kafka *k = o->ctx;
    size_t slot = (size_t)(uintptr_t)m->_private;
    struct ola_kmsg *msg;

    (void)rk;
    if (slot == 0 || slot > k->n_msgs)
        return; /* not ours (cannot happen: every produce passes its slot) */
    msg = &k->msgs[slot - 1];
    if (msg->state != OLA_KMSG_INFLIGHT)
        return;
    k->n_inflight--;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        msg->state = OLA_KMSG_DONE;
        k->n_final++;
        k->trouble = false;
        return;
    }
    (void)ola_kafka_failed(k, msg, m->err);
}

void ola_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct ola_output *o = opaque;
    struct ola_kafka *k = o->ctx;
    char clean[sizeof(k->trouble_msg)];

    (void)rk;
    switch (ola_kafka_errclass((rd_kafka_resp_err_t)err)) {
    case OLA_KAFKA_REBUILD:
        k->fatal = true;
        break;
    case OLA_KAFKA_STOP:
        k->stop_err = (rd_kafka_resp_err_t)err;
        break;
    case OLA_KAFKA_TOPIC:
        if (k->topic_fixed)
            k->stop_err = (rd_kafka_resp_err_t)err;
        break;
    default:
        break;
    }
    k->trouble = true;
    snprintf(k->trouble_msg, sizeof(k->trouble_msg), "%s",
             ola_kafka_scrub(k, reason, clean, sizeof(clean)));
}

/*
 * librdkafka's own lines come from its threads; they are detail, kept at
 * debug. Its `debug: conf` dump hides passwords but not other ${VAR} values:
 * every secret is scrubbed.
 */
void ola_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct ola_output *o = rd_kafka_opaque(rk);
    char clean[1024];

    (void)level;
    if (OLA_LOG_DEBUG > ola_log_level)
        return;
    OLA_LOG(OLA_LOG_DEBUG, o != NULL ? o->comp : "output:kafka", 0, "librdkafka %s: %s",
            fac, ola_kafka_scrub(o != NULL ? o->ctx : NULL, buf, clean, sizeof(clean)));
}

/* ---- the table -------------------------------------------------------------- */

void ola_kafka_table_reset(struct ola_kafka *k)
{
    size_t i;

    for (i = 0; i < k->n_chunks; i++)
        free(k->chunks[i]);
    k->n_chunks = 0;
    k->n_msgs = 0;
    k->n_final = 0;
    k->n_inflight = 0;
    k->next_produce = 0;
}

int ola_kafka_grow(struct ola_kafka *k, size_t need)
{
    return OLA_VEC_GROW_FROM(k->msgs, k->cap_msgs, need, 64);
}

int ola_kafka_add_chunk(struct ola_kafka *k, char *data)
{
    if (OLA_VEC_GROW(k->chunks, k->cap_chunks, k->n_chunks + 1) != 0)
        return -1;
    k->chunks[k->n_chunks++] = data;
    return 0;
}

/* Refuses REJECTED entries (the pipeline dead-letters them). Returns 0 / -1 (ENOMEM). */
int ola_kafka_refuse(struct ola_output *o)
{
    struct ola_kafka *k = o->ctx;
    size_t i;

    for (i = 0; i < k->n_msgs; i++) {
        struct ola_kmsg *m = &k->msgs[i];

        if (m->state != OLA_KMSG_REJECTED)
            continue;
        if (ola_output_refuse(o, m->rec, k->chunks[m->chunk] + m->val_off, m->val_len,
                              "kafka: %s (topic %s)", rd_kafka_err2str(m->err),
                              k->topics[m->topic].name) != 0) {
            snprintf(o->last_error, sizeof(o->last_error), "out of memory");
            return -1;
        }
        m->state = OLA_KMSG_DEAD;
        k->n_final++;
    }
    return 0;
}

/* The first entry in state st, or NULL. */
const struct ola_kmsg *ola_kafka_first(const struct ola_kafka *k, enum ola_kmsg_state st)
{
    size_t i;

    for (i = 0; i < k->n_msgs; i++)
        if (k->msgs[i].state == st)
            return &k->msgs[i];
    return NULL;
}

/* Logs "broker down" / "delivery resumed" once per change of state. */
void ola_kafka_report_state(struct ola_output *o)
{
    struct ola_kafka *k = o->ctx;

    if (k->trouble && !k->trouble_logged) {
        ola_plg_log(OLA_LOG_WARN, o, "broker down: %s", k->trouble_msg);
        k->trouble_logged = true;
    } else if (!k->trouble && k->trouble_logged) {
        ola_plg_log(OLA_LOG_INFO, o, "delivery resumed");
        k->trouble_logged = false;
    }
}
