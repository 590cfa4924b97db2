/*
 * pipeline.h - one batch, one trip: enrichment, rules, outputs, acknowledgement.
 */
#ifndef OLA_PIPELINE_H
#define OLA_PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/err.h"
#include "agent/core/event.h"
#include "outputs/output.h"
#include "outputs/spool.h"

struct ola_rules;
struct ola_enricher;
struct ola_spool_drain;

/*
 * The outputs every tenant's pipeline shares. Tenants' threads take turns:
 * a pipeline holds lock from a batch's first write to its last flush, so an
 * output sees one batch at a time, whole, as with one tenant. What happens
 * before (enrichment, rules: the slow, tenant-bound part) runs outside it.
 */
struct ola_outputs_shared {
    struct ola_output **outputs; /* borrowed */
    size_t n_outputs;
    pthread_mutex_t lock;
    bool failing[OLA_MAX_OUTPUTS]; /* guarded by lock: in a failure streak (for logs) */
    _Atomic int outputs_ok;        /* every output accepted the last batch */
    int64_t shutdown_timeout_ms;   /* how long delivery goes on after a stop request */
    _Atomic int64_t stop_deadline_mono_ms; /* set when a stop is first seen; 0 = none */
    /* Outputs with `spool:` (docs/outputs.md, "Spool"): the pipeline appends to
     * spool[i] (under lock) and drain[i], a thread of its own, is then the only
     * caller of outputs[i]'s write, flush and trim (never under lock; a reopen
     * holds outputs[i]->call_lock). NULL: the direct path. */
    struct ola_spool *spool[OLA_MAX_OUTPUTS];       /* owned */
    struct ola_spool_drain *drain[OLA_MAX_OUTPUTS]; /* owned */
    atomic_bool drain_fatal;                        /* a drained output answered FATAL */
};

/*
 * Sets up sh for outputs (borrowed) and opens the spool of each output that
 * has one (its torn tail cut). Returns 0 / -1 with err.
 */
int ola_outputs_shared_init(struct ola_outputs_shared *sh, struct ola_output **outputs,
                            size_t n, struct ola_err *err);
void ola_outputs_shared_destroy(struct ola_outputs_shared *sh);

/* One tenant's pipeline (or replay's). */
struct ola_pipeline {
    struct ola_outputs_shared *out; /* borrowed */
    struct ola_rules *rules;        /* borrowed, may be NULL */
    struct ola_enricher *enricher;  /* borrowed, may be NULL: no enrichment */
    int64_t backoff_max_ms;
    int64_t flush_timeout_ms; /* one flush call may wait this long for acks */
};

/*
 * Enriches b (when an enricher is set; rules then see olagent.user, .actor,
 * .role), runs it through the rules (when any) and every output: write until each
 * output accepted it, then flush until each made it durable, backing off
 * between failing rounds (one log line when an output starts failing, one
 * when it recovers). Records an output refuses for good go to its
 * dead-letter file and count as handled (see output.h). Returns OLA_OK when
 * every output acknowledged the batch and every refused record is in its
 * dead-letter file: only then may the checkpoint move. Returns OLA_RETRY
 * when a stop was requested and the deadline passed first (nothing to
 * commit), and OLA_FATAL (one error line naming the output logged) when an
 * output can never accept data: the caller stops with exit code 1 and does
 * not commit. b: borrowed, mutated by rules and the refusal marks.
 * @locality the thread of p's tenant; takes p->out->lock around the outputs.
 */
enum ola_rc ola_pipeline_deliver(struct ola_pipeline *p, struct ola_batch *b,
                                 int64_t now_ms);

/*
 * Gives every output without a `dead_letter:` file the default one beside the
 * checkpoint: "<dir of checkpoint_path>/dead-letter.<output name>.ndjson",
 * then starts the drain thread of each spooled output (the last step of
 * setting the outputs up: a drain buries refusals in that file).
 * Returns 0 / -1 with err. Called once after the outputs are built.
 */
int ola_pipeline_dead_letters(struct ola_outputs_shared *sh, const char *checkpoint_path,
                              struct ola_err *err);

/*
 * The agent went quiet after a burst: what the enricher, the outputs and the
 * formats (their release hooks) keep between batches only to reuse it goes (the cache and
 * data not yet durable stay); the rules compact their alert state and drop
 * the catalog's unused JSON. @locality p's thread (takes the outputs' lock).
 */
void ola_pipeline_trim(struct ola_pipeline *p);

/*
 * Output i's figures for the metrics: its counters, whether it accepts data
 * and, when it has a spool, the spool's (*spooled true; the counters are the
 * copy its drain keeps, so this never waits for a call in progress).
 * @locality a tenant's thread, holding sh->lock.
 */
void ola_outputs_shared_figures(struct ola_outputs_shared *sh, size_t i,
                                struct ola_output_stats *st, bool *ok, bool *spooled,
                                struct ola_spool_figures *sf);

/*
 * True once a stop was requested and the shutdown deadline passed (the first
 * call after the request starts the clock, one for every tenant).
 */
bool ola_pipeline_out_of_time(struct ola_pipeline *p);

#endif
