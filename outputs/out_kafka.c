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
 * json_t: librdkafka only ever sees bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "outputs/out_kafka.h"

#define OLA_KAFKA_POLL_SLICE_MS 100
#define OLA_KAFKA_MAX_TOPIC     249

enum ola_kmsg_state {
    OLA_KMSG_STAGED = 0, /* to be produced on this flush */
    OLA_KMSG_INFLIGHT,   /* produced, waiting for its delivery report */
    OLA_KMSG_LATER,      /* failed retriably: produced again on the next flush */
    OLA_KMSG_REJECTED,   /* failed for good: to be refused (dead-lettered) */
    OLA_KMSG_DONE,       /* delivered */
    OLA_KMSG_DEAD,       /* refused: the pipeline dead-letters it */
};

struct ola_kmsg {
    size_t chunk;   /* index in ola_kafka.chunks */
    size_t val_off; /* value bytes: chunk + val_off, val_len */
    size_t val_len;
    size_t key_off;
    size_t key_len;
    bool has_key;
    unsigned topic; /* index in ola_kafka.topics */
    size_t rec;     /* index of the record in the batch in flight */
    int64_t id;
    int64_t ts_ms;
    enum ola_kmsg_state state;
    rd_kafka_resp_err_t err; /* last failure */
};

struct ola_ktopic {
    char *name;
    rd_kafka_topic_t *rkt; /* of the current producer; NULL until used */
};

struct ola_kafka {
    rd_kafka_conf_t *conf; /* template, duplicated for every producer */
    rd_kafka_t *rk;
    char *topic_tmpl;
    char *key_tmpl;
    bool topic_fixed; /* no variable in topic_tmpl */
    size_t max_pending;

    struct ola_kmsg *msgs;
    size_t n_msgs, cap_msgs;
    size_t n_final;    /* entries DONE or DEAD */
    size_t n_inflight; /* entries INFLIGHT */
    size_t next_produce;
    char **chunks;
    size_t n_chunks, cap_chunks;
    struct ola_ktopic *topics;
    size_t n_topics, cap_topics;

    /* Set by callbacks (flush's thread), reported by flush once per change. */
    bool fatal;                   /* rebuild the producer */
    rd_kafka_resp_err_t stop_err; /* the output can never work (0: none) */
    bool trouble;                 /* error_cb since the last successful delivery */
    bool trouble_logged;          /* "broker down" logged, waiting for "resumed" */
    char trouble_msg[200];
    uint64_t rebuilds;

    /* Values never to be shown (passwords, ${VAR} values): read by the log
     * callback in librdkafka's threads, fixed while a producer exists. */
    char **secrets;
    size_t n_secrets;
};

static const char *const ola_kafka_keys[] = {
    "brokers",
    "topic",
    "key",
    "compression",
    "acks",
    "idempotence",
    "message_timeout",
    "queue_max_messages",
    "queue_max_size",
    "properties",
    NULL,
};

static const char *const ola_kafka_compressions[] = {
    "none", "gzip", "snappy", "lz4", "zstd", NULL,
};

/* ---- templates ------------------------------------------------------------ */

static const char *ola_kafka_category(const struct ola_event *e)
{
    const json_t *cats, *c;

    if (e->ola == NULL)
        return NULL;
    cats = json_object_get(json_object_get(e->ola, "event_type"), "categories");
    c = json_array_get(cats, 0);
    return json_is_string(c) && json_string_length(c) > 0 ? json_string_value(c) : NULL;
}

/* A JSON scalar member as text: strings as they are, integers in decimal. */
static int ola_kafka_put_member(struct ola_buf *out, const json_t *ev, const char *name)
{
    const json_t *v = json_object_get(ev, name);

    if (json_is_string(v))
        return ola_buf_append(out, json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        return ola_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return ola_buf_puts(out, "unknown");
}

static int ola_kafka_put_var(struct ola_buf *out, const char *var, size_t n,
                             const struct ola_event *e)
{
    if (n == 2 && memcmp(var, "id", 2) == 0) {
        if (e->kind == OLA_REC_ALERT) {
            if (ola_kafka_put_member(out, e->ev, "rule") || ola_buf_putc(out, ':'))
                return -1;
            return ola_kafka_put_member(out, e->ev, "key");
        }
        return ola_buf_printf(out, "%" PRId64, e->id);
    }
    if (n == 8 && memcmp(var, "category", 8) == 0) {
        const char *c = ola_kafka_category(e);

        return ola_buf_puts(out, c != NULL ? c : "uncategorized");
    }
    if (n == 13 && memcmp(var, "event_type_id", 13) == 0) {
        const json_t *t = json_object_get(e->ev, "event_type_id");

        if (json_is_integer(t))
            return ola_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(t));
        return ola_buf_puts(out, "unknown");
    }
    return -1;
}

static bool ola_kafka_topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

int ola_kafka_expand(const char *tmpl, const struct ola_event *e, bool topic_safe,
                     struct ola_buf *out)
{
    size_t start = out->len, i;
    const char *p = tmpl;

    while (*p != '\0') {
        const char *open = strchr(p, '{'), *close;

        if (open == NULL)
            open = p + strlen(p);
        if (ola_buf_append(out, p, (size_t)(open - p)) != 0)
            goto fail;
        if (*open == '\0')
            break;
        if (open[1] == '{') {
            if (ola_buf_putc(out, '{') != 0)
                goto fail;
            p = open + 2;
            continue;
        }
        close = strchr(open, '}');
        if (close == NULL ||
            ola_kafka_put_var(out, open + 1, (size_t)(close - open - 1), e) != 0)
            goto fail;
        p = close + 1;
    }
    if (topic_safe)
        for (i = start; i < out->len; i++)
            if (!ola_kafka_topic_char(out->data[i]))
                out->data[i] = '_';
    return 0;
fail:
    out->len = start;
    if (out->data != NULL)
        out->data[start] = '\0';
    return -1;
}

int ola_kafka_template_check(const char *tmpl, struct ola_err *err)
{
    static const char *const vars[] = {"id", "category", "event_type_id", NULL};
    const char *p = tmpl;

    while ((p = strchr(p, '{')) != NULL) {
        const char *close;
        size_t n, i;

        if (p[1] == '{') {
            p += 2;
            continue;
        }
        close = strchr(p, '}');
        if (close == NULL)
            return ola_err_set(err, EINVAL, "unclosed '{' in '%s'", tmpl);
        n = (size_t)(close - p - 1);
        for (i = 0; vars[i] != NULL; i++)
            if (strlen(vars[i]) == n && memcmp(vars[i], p + 1, n) == 0)
                break;
        if (vars[i] == NULL)
            return ola_err_set(err, EINVAL,
                               "unknown variable '{%.*s}' (known: {id}, {category}, "
                               "{event_type_id})",
                               (int)n, p + 1);
        p = close + 1;
    }
    return 0;
}

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
static const char *ola_kafka_scrub(const struct ola_kafka *k, const char *text, char *out,
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

/* ---- callbacks (run inside rd_kafka_poll/flush, in flush's thread) ---------- */

/*
 * Files a failed entry by its error's class. Returns true when the producer
 * must be rebuilt (the entry is then STAGED, to go again on the new one).
 */
static bool ola_kafka_failed(struct ola_kafka *k, struct ola_kmsg *m,
                             rd_kafka_resp_err_t err)
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

static void ola_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
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

static void ola_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
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
static void ola_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                             const char *buf)
{
    struct ola_output *o = rd_kafka_opaque(rk);
    char clean[1024];

    (void)level;
    if (OLA_LOG_DEBUG > ola_log_level)
        return;
    OLA_LOG(OLA_LOG_DEBUG, o != NULL ? o->comp : "output:kafka", 0, "librdkafka %s: %s",
            fac, ola_kafka_scrub(o != NULL ? o->ctx : NULL, buf, clean, sizeof(clean)));
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
        if (k->n_topics == k->cap_topics) {
            size_t cap = k->cap_topics ? k->cap_topics * 2 : 8;
            struct ola_ktopic *p = realloc(k->topics, cap * sizeof(*p));

            if (p == NULL)
                return -1;
            k->topics = p;
            k->cap_topics = cap;
        }
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

/* ---- the table -------------------------------------------------------------- */

static void ola_kafka_table_reset(struct ola_kafka *k)
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

static int ola_kafka_grow(struct ola_kafka *k, size_t need)
{
    size_t cap = k->cap_msgs ? k->cap_msgs : 64;
    struct ola_kmsg *p;

    if (need <= k->cap_msgs)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(k->msgs, cap * sizeof(*p));
    if (p == NULL)
        return -1;
    k->msgs = p;
    k->cap_msgs = cap;
    return 0;
}

static int ola_kafka_add_chunk(struct ola_kafka *k, char *data)
{
    if (k->n_chunks == k->cap_chunks) {
        size_t cap = k->cap_chunks ? k->cap_chunks * 2 : 8;
        char **p = realloc(k->chunks, cap * sizeof(*p));

        if (p == NULL)
            return -1;
        k->chunks = p;
        k->cap_chunks = cap;
    }
    k->chunks[k->n_chunks++] = data;
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
            if (ola_kafka_expand(k->key_tmpl, e, false, &chunk) != 0)
                goto nomem;
            m->key_len = chunk.len - m->key_off;
            m->has_key = true;
        }
        if (k->topic_fixed) {
            m->topic = 0;
        } else {
            size_t t0 = chunk.len, tl;

            if (ola_kafka_expand(k->topic_tmpl, e, true, &chunk) != 0)
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

/* Refuses REJECTED entries (the pipeline dead-letters them). Returns 0 / -1 (ENOMEM). */
static int ola_kafka_refuse(struct ola_output *o)
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
static const struct ola_kmsg *ola_kafka_first(const struct ola_kafka *k,
                                              enum ola_kmsg_state st)
{
    size_t i;

    for (i = 0; i < k->n_msgs; i++)
        if (k->msgs[i].state == st)
            return &k->msgs[i];
    return NULL;
}

/* Logs "broker down" / "delivery resumed" once per change of state. */
static void ola_kafka_report_state(struct ola_output *o)
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

/*
 * The librdkafka properties that olagent sets from its own keys: overriding
 * them in `properties:` could void the delivery guarantee (acks 0) or say
 * one thing in two places, so they are refused. Returns the key to use.
 */
static const char *ola_kafka_own_key(const char *prop)
{
    static const char *const map[][2] = {
        {"bootstrap.servers", "brokers"},
        {"metadata.broker.list", "brokers"},
        {"acks", "acks"},
        {"request.required.acks", "acks"},
        {"enable.idempotence", "idempotence"},
        {"compression.codec", "compression"},
        {"compression.type", "compression"},
        {"message.timeout.ms", "message_timeout"},
        {"delivery.timeout.ms", "message_timeout"},
        {"queue.buffering.max.messages", "queue_max_messages"},
        {"queue.buffering.max.kbytes", "queue_max_size"},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(prop, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

/* True when a librdkafka property turns TLS certificate or host name checks off. */
static bool ola_kafka_verify_off(const char *name, const char *value)
{
    if (strcmp(name, "enable.ssl.certificate.verification") == 0)
        return strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
               strcasecmp(value, "no") == 0 || strcasecmp(value, "off") == 0;
    if (strcmp(name, "ssl.endpoint.identification.algorithm") == 0)
        return strcasecmp(value, "none") == 0 || value[0] == '\0';
    return false;
}

/*
 * sasl.mechanism PLAIN over security.protocol sasl_plaintext sends the
 * password in clear text: a config warning on the mechanism's node.
 */
static void ola_kafka_warn_plain(const char *const *names, const char *const *values,
                                 const struct ola_cfg *const *nodes, size_t n)
{
    const struct ola_cfg *mech = NULL;
    bool clear = false;
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(names[i], "security.protocol") == 0)
            clear = strcasecmp(values[i], "sasl_plaintext") == 0;
        else if ((strcmp(names[i], "sasl.mechanism") == 0 ||
                  strcmp(names[i], "sasl.mechanisms") == 0) &&
                 strcasecmp(values[i], "PLAIN") == 0)
            mech = nodes[i];
        else if (strcmp(names[i], "sasl.mechanism") == 0 ||
                 strcmp(names[i], "sasl.mechanisms") == 0)
            mech = NULL;
    }
    if (clear && mech != NULL)
        ola_cfg_warn(mech,
                     "%s is PLAIN over security.protocol sasl_plaintext: the SASL "
                     "password crosses the network in clear text (use sasl_ssl)",
                     ola_cfg_path(mech));
}

/* Puts the property's file:line (or "properties.") before the message in err. */
static void ola_kafka_prop_error(struct ola_err *err, const struct ola_kafka_settings *ks,
                                 size_t i)
{
    char msg[OLA_ERR_MSG_MAX];

    if (ks->prop_nodes != NULL && ks->prop_nodes[i] != NULL) {
        snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
        ola_cfg_errf(err, ks->prop_nodes[i], "properties.%s", msg);
    } else {
        ola_err_prefix(err, "properties");
    }
}

void ola_kafka_settings_defaults(struct ola_kafka_settings *ks)
{
    memset(ks, 0, sizeof(*ks));
    ks->topic = "onelogin.events";
    ks->key = "{id}";
    ks->compression = "none";
    ks->acks = "all";
    ks->idempotence = true;
    ks->message_timeout_ms = 0; /* never give up: no re-produce, no duplicate */
    ks->queue_max_messages = 100000;
    ks->queue_max_bytes = 64u * 1024 * 1024;
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

/* Reads the output's map into settings, then opens. */
static int ola_kafka_init(struct ola_output *o, const struct ola_cfg *node,
                          struct ola_err *err)
{
    static const char *const acks_names[] = {"all", "-1", "1", "0", NULL};
    struct ola_kafka_settings ks;
    const struct ola_cfg *brokers = ola_cfg_get(node, "brokers");
    const struct ola_cfg *props = ola_cfg_get(node, "properties");
    const struct ola_cfg *bad = NULL;
    const char **names = NULL, **values = NULL;
    const struct ola_cfg **nodes = NULL;
    char **bases = NULL; /* names of *_file entries without the suffix */
    bool *secret = NULL;
    struct ola_buf list = OLA_BUF_INIT;
    long long qmax = 0;
    uint64_t qsize = 0;
    int comp = 0, acks = 0, rc = -1;
    size_t i, n = 0;

    ola_kafka_settings_defaults(&ks);
    if (ola_cfg_type(brokers) == OLA_CFG_SEQ) {
        for (i = 0; i < ola_cfg_len(brokers); i++) {
            const char *b = ola_cfg_scalar(ola_cfg_at(brokers, i));

            if (b == NULL) {
                ola_cfg_errf(err, ola_cfg_at(brokers, i), "brokers: not a host:port");
                goto fail;
            }
            if ((i > 0 && ola_buf_putc(&list, ',')) || ola_buf_puts(&list, b)) {
                ola_err_set(err, ENOMEM, "out of memory");
                goto fail;
            }
        }
        ks.brokers = list.data;
    } else if (ola_cfg_str(node, "brokers", NULL, &ks.brokers, err) != 0) {
        goto fail;
    }
    if (ks.brokers == NULL || ks.brokers[0] == '\0') {
        ola_cfg_errf(err, brokers != NULL ? brokers : node,
                     "outputs: kafka: brokers: required (host:port, ...)");
        goto fail;
    }
    if (ola_cfg_str(node, "topic", ks.topic, &ks.topic, err) ||
        ola_cfg_str(node, "key", ks.key, &ks.key, err) ||
        ola_cfg_enum(node, "compression", ola_kafka_compressions, 0, &comp, err) ||
        ola_cfg_enum(node, "acks", acks_names, 0, &acks, err) ||
        ola_cfg_bool(node, "idempotence", true, &ks.idempotence, err) ||
        ola_cfg_duration(node, "message_timeout", ks.message_timeout_ms, 0, INT32_MAX,
                         &ks.message_timeout_ms, err) ||
        ola_cfg_int(node, "queue_max_messages", ks.queue_max_messages, 1, 10000000, &qmax,
                    err) ||
        ola_cfg_size(node, "queue_max_size", ks.queue_max_bytes, &qsize, err))
        goto fail;
    ks.compression = ola_kafka_compressions[comp];
    ks.acks = acks_names[acks];
    ks.queue_max_messages = qmax;
    ks.queue_max_bytes = qsize;
    if (ks.message_timeout_ms > 0 && ks.message_timeout_ms < 1000) {
        ola_cfg_errf(err, ola_cfg_get(node, "message_timeout"),
                     "message_timeout: 0 (never give up) or at least 1s");
        goto fail;
    }
    if (acks == 3) {
        ola_cfg_errf(err, ola_cfg_get(node, "acks"),
                     "acks: 0 gives no delivery report; use all or 1");
        goto fail;
    }
    if (strcmp(ks.acks, "1") == 0 && ks.idempotence) {
        ola_cfg_errf(err, ola_cfg_get(node, "acks"),
                     "acks: idempotence needs acks: all (or set idempotence: false)");
        goto fail;
    }
    if (ola_kafka_template_check(ks.topic, err) != 0) {
        char msg[OLA_ERR_MSG_MAX];

        snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
        ola_cfg_errf(err, ola_cfg_get(node, "topic"), "topic: %s", msg);
        goto fail;
    }
    if (ola_kafka_template_check(ks.key, err) != 0) {
        char msg[OLA_ERR_MSG_MAX];

        snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
        ola_cfg_errf(err, ola_cfg_get(node, "key"), "key: %s", msg);
        goto fail;
    }
    if (props != NULL && ola_cfg_type(props) != OLA_CFG_MAP &&
        ola_cfg_type(props) != OLA_CFG_NULL) {
        ola_cfg_errf(err, props, "properties: must be a map of librdkafka properties");
        goto fail;
    }
    n = ola_cfg_type(props) == OLA_CFG_MAP ? ola_cfg_len(props) : 0;
    if (n > 0) {
        names = calloc(n, sizeof(*names));
        values = calloc(n, sizeof(*values));
        nodes = calloc(n, sizeof(*nodes));
        bases = calloc(n, sizeof(*bases));
        secret = calloc(n, sizeof(*secret));
        if (names == NULL || values == NULL || nodes == NULL || bases == NULL ||
            secret == NULL) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        for (i = 0; i < n; i++) {
            const char *key = ola_cfg_key_at(props, i);
            size_t kl = strlen(key);

            names[i] = key;
            nodes[i] = ola_cfg_at(props, i);
            values[i] = ola_cfg_scalar(nodes[i]);
            if (values[i] == NULL) {
                bad = nodes[i];
                break;
            }
            secret[i] = ola_cfg_is_secret(nodes[i]);
            if (kl > 5 && strcmp(key + kl - 5, "_file") == 0) {
                /* sasl.password_file: /run/secrets/kafka -> sasl.password */
                bases[i] = strndup(key, kl - 5);
                if (bases[i] == NULL) {
                    ola_err_set(err, ENOMEM, "out of memory");
                    goto fail;
                }
                if (ola_cfg_secret(props, bases[i], &values[i], err) != 0)
                    goto fail;
                names[i] = bases[i];
                secret[i] = true;
            }
        }
        if (bad != NULL) {
            ola_cfg_errf(err, bad, "properties.%s: must be a scalar", names[i]);
            goto fail;
        }
        for (i = 0; i < n; i++)
            if (ola_kafka_verify_off(names[i], values[i]))
                ola_cfg_warn(nodes[i],
                             "properties.%s: %s turns off the check of the brokers' "
                             "certificates: anyone on the path can read and change the "
                             "audit trail",
                             names[i], values[i]);
        ola_kafka_warn_plain(names, values, nodes, n);
    }
    ks.n_props = n;
    ks.prop_names = names;
    ks.prop_values = values;
    ks.prop_nodes = nodes;
    ks.prop_secret = secret;
    if (ola_kafka_open(o, &ks, err) != 0) {
        /* Errors from open that carry no file:line yet get the output's. */
        const char *file = ola_cfg_file(node);

        if (err != NULL && file != NULL && strncmp(err->msg, file, strlen(file)) != 0) {
            char msg[OLA_ERR_MSG_MAX];

            snprintf(msg, sizeof(msg), "%s", err->msg);
            ola_cfg_errf(err, node, "outputs: kafka: %s", msg);
        }
        goto fail;
    }
    rc = 0;
fail:
    for (i = 0; bases != NULL && i < n; i++)
        free(bases[i]);
    free(bases);
    free(secret);
    free(names);
    free(values);
    free(nodes);
    ola_buf_free(&list);
    return rc;
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
    .keys = ola_kafka_keys,
    .init = ola_kafka_init,
    .write = ola_kafka_write,
    .flush = ola_kafka_flush,
    .check = ola_kafka_check,
    .close = ola_kafka_close,
};
