/*
 * out_kafka.h - the Kafka output's internals, for its tests and benchmark.
 *
 * The pipeline only sees `ola_out_kafka` (output.h). These declarations let
 * tests open the output from a C struct, reach its producer handle (to inject
 * fatal errors) and check the pure helpers (templates, error classes) without
 * a broker.
 */
#ifndef OLA_OUT_KAFKA_H
#define OLA_OUT_KAFKA_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "agent/core/buf.h"
#include "agent/core/event.h"
#include "outputs/output.h"

/* The registration object (output.c finds it as type "kafka"). */
extern const struct ola_output_ops ola_out_kafka;

/* The settings read from an output's map; strings are borrowed. */
struct ola_kafka_settings {
    const char *brokers;          /* bootstrap.servers, "host:port,host:port" */
    const char *topic;            /* template: "onelogin.{category}" */
    const char *key;              /* template, "{id}"; "" for no key */
    const char *compression;      /* none, gzip, snappy, lz4, zstd */
    const char *acks;             /* "all" (or "-1") or "1" */
    bool idempotence;             /* enable.idempotence, default true */
    int64_t message_timeout_ms;   /* message.timeout.ms, default 30s */
    long long queue_max_messages; /* queue.buffering.max.messages, 100000 */
    uint64_t queue_max_bytes;     /* queue.buffering.max.kbytes * 1024, 64 MiB */
    /* properties: passed to rd_kafka_conf_set after the above; those that
     * olagent sets from its own keys (acks, bootstrap.servers, ...) are refused. */
    size_t n_props;
    const char *const *prop_names;
    const char *const *prop_values;
    const struct ola_cfg *const *prop_nodes; /* for file:line errors; may be NULL */
    /* true for a value that came from ${VAR} or a *_file; may be NULL. Such
     * values, and those of keys that name a password or secret, are replaced
     * by "****" in every error and log line the output writes. */
    const bool *prop_secret;
};

/* Fills ks with the defaults above (brokers and properties empty). */
void ola_kafka_settings_defaults(struct ola_kafka_settings *ks);

/*
 * Opens the Kafka output on o (o->fmt, o->dead_letter, o->comp set by the
 * caller) from ks, which is borrowed for the call only. Returns 0 / -1 with
 * err. Used by init() after reading the config map.
 */
int ola_kafka_open(struct ola_output *o, const struct ola_kafka_settings *ks,
                   struct ola_err *err);

/*
 * Expands a topic or key template for record e into out (appended):
 * {id} (event id; for alerts "<rule>:<key>"), {category}
 * (olagent.event_type.categories[0], else "uncategorized"), {event_type_id}
 * (else "unknown"), {tenant} (tenant: the batch's tenant, NULL reads as
 * "default"); "{{" is a literal "{". topic_safe maps every byte that a topic
 * name cannot hold to '_'. Returns 0 / -1 (ENOMEM or an unknown variable).
 */
int ola_kafka_expand(const char *tmpl, const struct ola_event *e, const char *tenant,
                     bool topic_safe, struct ola_buf *out);
/* Checks a template's variables; returns 0 / -1 with the bad name in err. */
int ola_kafka_template_check(const char *tmpl, struct ola_err *err);

enum ola_kafka_errclass {
    OLA_KAFKA_RETRY = 0, /* try again later: the record is fine */
    OLA_KAFKA_DEAD,      /* the broker will never take this record: refuse it */
    OLA_KAFKA_REBUILD,   /* the producer is unusable: rebuild it */
    OLA_KAFKA_TOPIC,     /* the topic does not exist or may not be written: with a
                            fixed topic the output can never work (FATAL); a topic
                            from a template only loses the records routed to it */
    OLA_KAFKA_STOP,      /* credentials or cluster rights refused: FATAL */
};
enum ola_kafka_errclass ola_kafka_errclass(rd_kafka_resp_err_t err);

/* The current producer handle (changes after a rebuild). For tests. */
rd_kafka_t *ola_kafka_handle(const struct ola_output *o);
/* Records held by the output that are not yet acknowledged. */
size_t ola_kafka_pending(const struct ola_output *o);
/* How many times the producer was rebuilt after a fatal error. */
uint64_t ola_kafka_rebuilds(const struct ola_output *o);

#endif
