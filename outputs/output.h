/*
 * output.h - the output interface.
 *
 * An output is a struct of function pointers plus one static registration
 * object per plugin (Fluent Bit's output plugins, curl's TLS backends); the
 * pipeline calls through the thin wrappers below. The contract:
 *
 *  - write(b) takes every record of the batch routed to this output
 *    (e->routes has bit o->index, e->dropped false), formats it into buffers
 *    the output owns, and answers OK (accepted, not yet durable), RETRY
 *    (accepted nothing; the pipeline calls again with the same batch after a
 *    backoff) or ERR. It keeps no pointer into the batch.
 *  - flush(timeout_ms) makes everything accepted durable: Kafka delivery
 *    reports, file data flushed and fsynced, stream bytes written to a
 *    connected socket. OK when all of it is durable; RETRY when not yet (the
 *    output keeps the data and tries again on the next flush: reconnects,
 *    re-sends); ERR when it can never be. flush may wait up to timeout_ms for
 *    acknowledgements but never sleeps for backoff and never loops retrying:
 *    the pipeline owns backoff.
 *  - close() accepts a half-initialised output.
 *  - trim(), when the agent goes quiet, frees buffers kept for reuse.
 *
 * The checkpoint moves only after every output's flush answered OK.
 */
#ifndef OLA_OUTPUT_H
#define OLA_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "event.h"
#include "format.h"
#include "log.h"

#define OLA_OUTPUT_ABI 1

enum ola_rc {
    OLA_OK = 0,
    OLA_RETRY = 1,
    OLA_ERR = -1,
    OLA_FATAL = -2,
};

struct ola_output;

struct ola_output_stats {
    uint64_t emitted;      /* records durably accepted */
    uint64_t errors;       /* write/flush calls that answered RETRY or ERR */
    uint64_t dead_letters; /* records sent to the dead-letter file */
    uint64_t truncated;    /* records cut to fit a size limit */
};

struct ola_output_ops {
    const char *name;        /* "stdout", "file", "kafka", "syslog" */
    unsigned abi;            /* OLA_OUTPUT_ABI */
    const char *const *keys; /* the plugin's own config keys, NULL-terminated */
    int (*init)(struct ola_output *o, const struct ola_cfg *node, struct ola_err *err);
    enum ola_rc (*write)(struct ola_output *o, const struct ola_batch *b);
    enum ola_rc (*flush)(struct ola_output *o, int timeout_ms);
    int (*reopen)(struct ola_output *o, struct ola_err *err); /* SIGHUP; may be NULL */
    int (*check)(struct ola_output *o, struct ola_err *err);  /* reachable? may be NULL */
    void (*close)(struct ola_output *o);
    /* a quiet poll: free the buffers kept for the next batch, keeping any
     * data not yet durable; may be NULL */
    void (*trim)(struct ola_output *o);
};

struct ola_output {
    const struct ola_output_ops *ops;
    char name[64];  /* alias from `name:`, defaults to the type */
    char comp[96];  /* "output:kafka:main", the log component */
    unsigned index; /* bit in ola_event.routes */
    const struct ola_format_ops *fmt;
    struct ola_format_opts fmt_opts;
    char *dead_letter; /* path of the dead-letter file (owned), or NULL */
    void *ctx;         /* the plugin's state */
    struct ola_output_stats stats;
    char last_error[256]; /* why the last RETRY/ERR happened, for logs and /readyz */
};

/* Keys every output accepts; the registry checks them with ops->keys. */
extern const char *const ola_output_common_keys[];

/* NULL when the type is not compiled in. */
const struct ola_output_ops *ola_output_find(const char *type);
const struct ola_output_ops *const *ola_output_list(void);

/*
 * Creates an output from its config map (type, name, format, format_options,
 * when, dead_letter + the plugin's keys). Returns a new output or NULL with err.
 */
struct ola_output *ola_output_new(const struct ola_output_cfg *oc, unsigned index,
                                  struct ola_err *err);
/* Closes and frees; NULL is a no-op. */
void ola_output_destroy(struct ola_output *o);

static inline enum ola_rc ola_output_write(struct ola_output *o,
                                           const struct ola_batch *b)
{
    return o->ops->write(o, b);
}

static inline enum ola_rc ola_output_flush(struct ola_output *o, int timeout_ms)
{
    return o->ops->flush(o, timeout_ms);
}

/* SIGHUP: reopen files. Outputs without reopen answer 0. */
int ola_output_reopen(struct ola_output *o, struct ola_err *err);
/* `check --online`: can the output reach its peer? */
int ola_output_check(struct ola_output *o, struct ola_err *err);
/* A quiet poll: buffers kept for reuse go. Outputs without trim keep theirs. */
void ola_output_trim(struct ola_output *o);

/* True when the record goes to this output. */
static inline bool ola_output_takes(const struct ola_output *o, const struct ola_event *e)
{
    return !e->dropped && (e->routes & (UINT32_C(1) << o->index)) != 0;
}

/*
 * Formats e with the output's format and appends it to out. Returns 0 / -1.
 * Convenience for plugins.
 */
int ola_output_format(const struct ola_output *o, const struct ola_event *e,
                      struct ola_buf *out);

/* Plugin logging: "[output:TYPE:NAME] ...". */
#define ola_plg_log(lvl, o, ...) OLA_LOG((lvl), (o)->comp, 0, __VA_ARGS__)

/*
 * Dead letters (deadletter.c): appends one JSON line {"time","output","reason",
 * "record"} to path and fsyncs. record: the bytes that could not be delivered
 * (bytes that are not UTF-8 go in "record_base64" instead of "record").
 * Returns 0 / -1.
 */
int ola_deadletter_write(const char *path, const char *output, const char *reason,
                         const char *record, size_t len, struct ola_err *err);

#endif
