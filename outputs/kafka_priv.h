/*
 * kafka_priv.h - the Kafka output's state, shared by its own files only.
 *
 * out_kafka.c (the producer and the ops), kafka_dr.c (delivery reports and
 * the table of pending entries), kafka_conf.c (the output's settings map)
 * and kafka_template.c (topic and key templates) work on one struct
 * ola_kafka. Nothing outside these files includes it: tests and tools use
 * out_kafka.h.
 */
#ifndef OLA_KAFKA_PRIV_H
#define OLA_KAFKA_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/out_kafka.h"

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

/* ---- kafka_conf.c: the settings ------------------------------------------- */

/* The output's keys as read by ola_kafka_options (o->settings). */
struct ola_kafka_conf {
    struct ola_kafka_settings ks; /* strings borrowed from the document */
    int compression, acks;        /* indexes in the names of their entries */
    struct ola_buf brokers;       /* brokers given as a list, joined (owned) */
};

/* The output's keys (config/options.h), read by the registry into o->settings. */
extern const struct ola_opt ola_kafka_options[];
/* Frees what c owns (the close of the output calls it); NULL is a no-op. */
void ola_kafka_conf_free(struct ola_kafka_conf *c);
/* Reads properties, checks what spans keys, then opens (ops.init). 0 / -1 with err. */
int ola_kafka_init(struct ola_output *o, const struct ola_cfg *node, struct ola_err *err);
/* The output key that sets librdkafka property prop, or NULL when none does. */
const char *ola_kafka_own_key(const char *prop);
/* Puts property i's file:line (or "properties.") before the message in err. */
void ola_kafka_prop_error(struct ola_err *err, const struct ola_kafka_settings *ks,
                          size_t i);

/* ---- out_kafka.c: the producer -------------------------------------------- */

/* text with every secret value replaced by "****" (out: size bytes), or text. */
const char *ola_kafka_scrub(const struct ola_kafka *k, const char *text, char *out,
                            size_t size);

/* ---- kafka_dr.c: delivery reports and the table ---------------------------- */

/* Files a failed entry by its error's class; true: rebuild the producer. */
bool ola_kafka_failed(struct ola_kafka *k, struct ola_kmsg *m, rd_kafka_resp_err_t err);
/* librdkafka's callbacks; opaque is the struct ola_output. */
void ola_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void ola_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque);
void ola_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
/* Empties the table and frees its chunks. */
void ola_kafka_table_reset(struct ola_kafka *k);
/* Room for need entries in the table; 0 / -1. */
int ola_kafka_grow(struct ola_kafka *k, size_t need);
/* Adds a chunk (data: taken over). 0 / -1. */
int ola_kafka_add_chunk(struct ola_kafka *k, char *data);
/* Refuses the REJECTED entries (the pipeline dead-letters them); 0 / -1 (ENOMEM). */
int ola_kafka_refuse(struct ola_output *o);
/* The first entry in state st, or NULL. */
const struct ola_kmsg *ola_kafka_first(const struct ola_kafka *k, enum ola_kmsg_state st);
/* Logs "broker down" / "delivery resumed" once per change of state. */
void ola_kafka_report_state(struct ola_output *o);

#endif
