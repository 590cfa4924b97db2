/*
 * output.h - the output interface.
 *
 * An output is a struct of function pointers plus one static registration
 * object per plugin (Fluent Bit's output plugins, curl's TLS backends); the
 * pipeline calls through the thin wrappers below. The contract:
 *
 *  - write(b) takes every record of the batch routed to this output
 *    (ola_output_takes: e->routes has bit o->index, not dropped, not refused
 *    by this output), formats it into buffers the output owns, and answers
 *    OK (accepted, not yet durable), RETRY (accepted nothing; the pipeline
 *    calls again with the same batch after a backoff) or FATAL. It keeps no
 *    pointer into the batch (a record's index, for a later refusal, is fine).
 *  - flush(timeout_ms) makes everything accepted durable: Kafka delivery
 *    reports, file data flushed and fsynced, stream bytes written to a
 *    connected socket. OK when all of it is durable (or refused, below);
 *    RETRY when not yet (the output keeps the data and tries again on the
 *    next flush: reconnects, re-sends); FATAL when it can never be. flush
 *    may wait up to timeout_ms for acknowledgements but never sleeps for
 *    backoff and never loops retrying: the pipeline owns backoff.
 *  - close() accepts a half-initialised output.
 *  - trim(), when the agent goes quiet, frees buffers kept for reuse.
 *
 * The three outcomes, and who acts on them:
 *  - RETRY (a call): the destination cannot take data now (down, full,
 *    slow, out of memory). The pipeline backs off and calls again with the
 *    same batch; the checkpoint waits.
 *  - A refusal (one record, the record-level ERR): the destination or the
 *    format will never take this record (too large, invalid for the peer, a
 *    value the format cannot render). The output calls ola_output_refuse()
 *    from write or flush, naming the record and the reason, drops it from
 *    its own data and goes on with the others; the call still answers OK. A
 *    refusal stands even when the call then answers RETRY (the retried write
 *    no longer sees the record: ola_output_takes).
 *    The pipeline writes each refused record to the output's dead-letter
 *    file (`dead_letter:`, or dead-letter.<output>.ndjson beside the
 *    checkpoint) with the reason and the event id, counts it
 *    (olagent_output_dead_letters_total{output}), and the checkpoint moves
 *    past it once the letter is fsynced. A call never answers ERR: a whole
 *    batch refused with no record named cannot be dead-lettered record by
 *    record, so the pipeline takes an ERR answer as FATAL.
 *  - FATAL (a call): the output can never work in this process (credentials
 *    rejected, a fixed Kafka topic that does not exist, a reader that went
 *    away for good, a file this process cannot repair). The agent stops with
 *    exit code 1 and one line naming the output and o->last_error; the
 *    checkpoint stays before the batch, so a restart delivers it again.
 *
 * The checkpoint moves only after every output's flush answered OK and every
 * refused record is in its dead-letter file.
 */
#ifndef OLA_OUTPUT_H
#define OLA_OUTPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/core/deadletter.h"
#include "agent/core/err.h"
#include "agent/core/event.h"
#include "agent/core/log.h"
#include "config/config.h"
#include "config/options.h"
#include "outputs/formats/format.h"

#define OLA_OUTPUT_ABI 2

/* Entries in the table of all an output's keys (the common ones and its own). */
#define OLA_OUTPUT_OPTS_MAX 48

/*
 * One entry of the `outputs:` list, as the agent's settings read it: its type,
 * its name and its whole map, which ola_output_new() reads with the output's
 * option tables. OLA_MAX_OUTPUTS (agent/core/event.h) bounds the list.
 */
struct ola_output_cfg {
    const char *type;           /* "stdout", "file", "kafka", "syslog" */
    const char *name;           /* alias; defaults to type, unique */
    const struct ola_cfg *node; /* the whole map, for the plugin's own keys */
};

/*
 * The keys every output has (ola_output_options), as read. type and name come
 * from the struct ola_output_cfg; the strings are borrowed from the document.
 */
struct ola_output_common {
    const char *type;
    const char *name;
    const char *format;      /* the format's name, "json" */
    const char *dead_letter; /* as configured; NULL: the default beside the checkpoint */
    const char *spool_dir;   /* spool.dir; NULL: no spool, the direct path */
    uint64_t spool_max_size; /* spool.max_size */
};

enum ola_rc {
    OLA_OK = 0,
    OLA_RETRY = 1,
    OLA_ERR = -1,
    OLA_FATAL = -2,
};

struct ola_output;

/* Answers of an HTTP output's requests by status class; NONE: no answer came. */
enum ola_out_sc {
    OLA_OUT_SC_2XX = 0,
    OLA_OUT_SC_3XX,
    OLA_OUT_SC_4XX,
    OLA_OUT_SC_5XX,
    OLA_OUT_SC_NONE,
    OLA_OUT_SC_MAX,
};

/* The figures of outputs that send requests (outputs/http_out.c). */
struct ola_output_req_stats {
    bool active;                       /* the output sends requests: render these */
    uint64_t requests[OLA_OUT_SC_MAX]; /* by enum ola_out_sc */
    uint64_t bytes_sent;        /* request bytes on the wire (bodies, compressed) */
    uint64_t retries;           /* requests sent again after no or a retry answer */
    uint64_t batches, batch_ms; /* batches delivered; their write-to-ack time summed */
};

struct ola_output_stats {
    uint64_t emitted;      /* records durably accepted */
    uint64_t errors;       /* write/flush calls that answered RETRY or FATAL */
    uint64_t dead_letters; /* records sent to the dead-letter file */
    uint64_t truncated;    /* records cut to fit a size limit */
    struct ola_output_req_stats req;
};

/* One record an output refused for good, waiting for its dead-letter line. */
struct ola_refusal {
    size_t rec;  /* index of the record in the batch in flight (b->ev[rec]) */
    char *bytes; /* what the destination refused (owned); NULL: the record's own */
    size_t len;
    char reason[240];
};

struct ola_output_ops {
    const char *name; /* "stdout", "file", "kafka", "syslog" */
    unsigned abi;     /* OLA_OUTPUT_ABI */
    /* The plugin's own keys (config/options.h; NULL: none) and the size of the
     * struct their offsets point into. The registry reads them into
     * o->settings (with the entries' hooks, ctx o) before init. */
    const struct ola_opt *opts;
    size_t settings_size;
    /* Sets up o from o->settings; node (the output's map) is for what spans
     * keys and for file:line in errors. */
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
    char *dead_letter;               /* path of the dead-letter file (owned), or NULL */
    struct ola_output_common common; /* the common keys as read (for `check`) */
    /* The plugin's keys read with ops->opts (owned by the registry; strings
     * borrowed from the config document, which outlives the output). What
     * the plugin allocates inside it, its close frees. */
    void *settings;
    void *ctx; /* the plugin's state */
    struct ola_output_stats stats;
    char last_error[256]; /* why the last RETRY/FATAL happened, for logs and /readyz */
    /* With a RETRY: the earliest ola_mono_ms() at which the destination takes a
     * retry (an HTTP Retry-After), 0 when it did not say. The pipeline may wait
     * until then; the output answers RETRY at once before it anyway. */
    int64_t retry_at_mono_ms;
    /* refused records not yet in the dead-letter file (ola_output_refuse) */
    struct ola_refusal *refused;
    size_t n_refused, cap_refused;
    /* A spooled output is called by its drain thread, outside the outputs'
     * shared lock: the pipeline points this at the drain's lock, which any
     * other caller (a reopen; a trim) holds. NULL: none. */
    pthread_mutex_t *call_lock;
};

/* The keys every output has (type, name, format, format_options, when,
 * dead_letter, spool), on struct ola_output_common; hooks take the output as ctx. */
extern const struct ola_opt ola_output_options[];

/*
 * Copies every key an output of type ops has into out (cap entries): the
 * common ones first, then the plugin's, then the terminator. Returns the
 * number of keys, or -1 when cap is too small. For the unknown-key check,
 * `olagent config example` and the test holding the example config to them.
 */
int ola_output_opts_all(const struct ola_output_ops *ops, struct ola_opt *out,
                        size_t cap);

/* NULL when the type is not compiled in. */
const struct ola_output_ops *ola_output_find(const char *type);

/*
 * Creates an output from its config map: refuses keys no table of its type
 * knows (suggesting the closest), reads the common keys and the plugin's
 * (ops->opts) with the walker, then calls init. Returns a new output or NULL
 * with err.
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

/*
 * `olagent check`: the settings o was built with, one line per key,
 * "outputs[0].key: value  # file:line" (or "# default"), secrets masked.
 * node: the output's map (oc->node).
 */
void ola_output_print_settings(const struct ola_output *o, const struct ola_cfg *node,
                               FILE *out);
/*
 * `olagent config example`: commented blocks as the example config shows
 * them under `outputs:` (each key's help as a comment, then "key: default"):
 * first the keys every output has but type, under "  # " OLA_OUTPUT_COMMON_HEADER,
 * then for each output type compiled in "  # - type: kafka" and its own keys.
 */
#define OLA_OUTPUT_COMMON_HEADER "Every output has these keys besides type and its own:"
void ola_output_print_examples(FILE *out);

/* SIGHUP: reopen files. Outputs without reopen answer 0. Both take o->call_lock. */
int ola_output_reopen(struct ola_output *o, struct ola_err *err);
/* `check --online`: can the output reach its peer? */
int ola_output_check(struct ola_output *o, struct ola_err *err);
/* A quiet poll: buffers kept for reuse go. Outputs without trim keep theirs. */
void ola_output_trim(struct ola_output *o);

/* True when the record goes to this output (routed, not dropped, not refused by it). */
static inline bool ola_output_takes(const struct ola_output *o, const struct ola_event *e)
{
    return !e->dropped && (e->routes & (UINT32_C(1) << o->index)) != 0 &&
           (e->refused & (UINT32_C(1) << o->index)) == 0;
}

/*
 * Formats e with the output's format and appends it to out. Returns 0,
 * -1 (out of memory: answer RETRY) or OLA_FORMAT_UNUSABLE (this record can
 * never be rendered in this format: refuse it). Convenience for plugins.
 */
int ola_output_format(const struct ola_output *o, const struct ola_event *e,
                      struct ola_buf *out);

/*
 * Called by an output, from write or flush, for one record of the batch in
 * flight that can never be delivered: the pipeline dead-letters it (see the
 * contract at the top). rec: the record's index in the batch given to write.
 * bytes: what the destination refused, copied (NULL: the record's original
 * bytes go to the letter). reason: printf-style, one line. The output then
 * forgets the record. Returns 0, or -1 when out of memory (nothing was
 * noted: the output answers RETRY and refuses the record again next call).
 * @locality the agent thread.
 */
int ola_output_refuse(struct ola_output *o, size_t rec, const char *bytes, size_t len,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* ola_output_refuse for record rec that o's format cannot render (the format
 * answered OLA_FORMAT_UNUSABLE). Returns 0, or -1 when out of memory. */
int ola_output_refuse_unusable(struct ola_output *o, size_t rec);
/*
 * For the line outputs (stdout, file): appends record i of b, formatted and
 * newline-terminated, to out when it is routed to o. Returns 1 when appended,
 * 0 when not routed or refused (a record the format cannot render is noted
 * with ola_output_refuse_unusable; out is left as it was), -1 out of memory.
 */
int ola_output_put_line(struct ola_output *o, const struct ola_batch *b, size_t i,
                        struct ola_buf *out);

/*
 * Called by the pipeline after each write/flush: writes every refusal o noted
 * to o->dead_letter (in order; each line fsynced), marks the record refused
 * by o (e->refused, so a retried write skips it), counts it in
 * o->stats.dead_letters and forgets the refusal. b: the batch in flight,
 * mutated (the marks). Returns 0 when none is left, -1 with err when a letter
 * could not be written (the rest stay for the next call).
 * @locality the agent thread.
 */
int ola_output_bury(struct ola_output *o, struct ola_batch *b, struct ola_err *err);

/*
 * Sets o->dead_letter, when the config gave none, to
 * "dead-letter.<name>.ndjson" in the folder of `beside` (the checkpoint's
 * path; characters of the name other than [A-Za-z0-9._-] become '_').
 * Returns 0 / -1 with err.
 */
int ola_output_default_dead_letter(struct ola_output *o, const char *beside,
                                   struct ola_err *err);

/*
 * {tenant} in the names of outputs (output_tenant.c). has: tmpl holds
 * "{tenant}". expand: tmpl into out (n bytes) with every "{tenant}" replaced
 * by tenant; returns the length, or -1 when it does not fit. longest: the
 * same with a tenant name of the longest length (OLA_TENANT_NAME_MAX), for config
 * checks. ola_output_tenant: b's tenant when it is a valid name (it goes into
 * paths), else NULL with o->last_error set (answer FATAL: config checks names).
 */
bool ola_output_has_tenant(const char *tmpl);
int ola_output_tenant_expand(const char *tmpl, const char *tenant, char *out, size_t n);
int ola_output_tenant_longest(const char *tmpl, char *out, size_t n);
const char *ola_output_tenant(struct ola_output *o, const struct ola_batch *b);

/* Plugin logging: "[output:TYPE:NAME] ...". */
#define ola_plg_log(lvl, o, ...) OLA_LOG((lvl), (o)->comp, 0, __VA_ARGS__)

#endif
