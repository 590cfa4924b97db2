/*
 * source.h - the source interface: where the agent's batches come from.
 *
 * A source is a struct of function pointers, like an output (outputs/output.h):
 * each implementation embeds a struct ola_source as its first member and
 * hands out a pointer to it from its constructor; the agent calls through
 * the thin wrappers below and never knows which source it drives. Two exist:
 * the OneLogin API (agent/onelogin/source.h), which never ends, and the
 * replay of saved NDJSON (agent/replay.h), which ends with its input.
 *
 * The contract: next() fills a batch, or says how long to wait, and never
 * sleeps (the agent owns the wait). The agent hands the batch to the
 * pipeline and, only once every output acknowledged it, calls commit(): the
 * source then moves its position (and the agent saves the checkpoint, when
 * it keeps one). A batch that was not committed is handed out again.
 */
#ifndef OLA_SOURCE_H
#define OLA_SOURCE_H

#include <stdint.h>

#include "agent/core/err.h"
#include "agent/core/event.h"

enum ola_src_rc {
    OLA_SRC_BATCH = 0, /* a batch is in b (possibly empty after dedupe) */
    OLA_SRC_IDLE,      /* nothing to do before *wait_ms */
    OLA_SRC_RETRY,     /* a transient failure; try again after *wait_ms */
    OLA_SRC_FATAL,     /* cannot go on (credential, configuration, input); err says why */
    OLA_SRC_END,       /* the input is exhausted: nothing more will come */
};

struct ola_source;

struct ola_source_ops {
    const char *name; /* "onelogin", "replay" */
    /*
     * Resets b and fills it with the next batch (b owns what it holds).
     * On IDLE/RETRY *wait_ms says how long to wait; on FATAL err says why.
     */
    enum ola_src_rc (*next)(struct ola_source *src, struct ola_batch *b, int64_t *wait_ms,
                            struct ola_err *err);
    /* The batch last returned was durably delivered (b: borrowed). 0 / -1. */
    int (*commit)(struct ola_source *src, const struct ola_batch *b);
    /* The agent's loop is over: say what the source did. May be NULL. */
    void (*finish)(struct ola_source *src);
    /* Frees src and everything it owns. */
    void (*destroy)(struct ola_source *src);
};

/* The part every source starts with. */
struct ola_source {
    const struct ola_source_ops *ops;
};

/* The wrappers the agent calls. @locality the agent thread. */
enum ola_src_rc ola_source_next(struct ola_source *src, struct ola_batch *b,
                                int64_t *wait_ms, struct ola_err *err);
int ola_source_commit(struct ola_source *src, const struct ola_batch *b);
void ola_source_finish(struct ola_source *src);
/* NULL: no-op. */
void ola_source_destroy(struct ola_source *src);
const char *ola_source_name(const struct ola_source *src);

#endif
