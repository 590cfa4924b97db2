/*
 * pipeline.c - one batch, one trip: enrichment, rules, outputs, acknowledgement.
 *
 * Enrichment runs first (it never fails a batch: lookups that cannot be made
 * mark the events), then the rules, so rules can match olagent.user.* facts.
 * Each output moves through two steps per batch: write (it takes its records
 * into its own buffers) and flush (it makes them durable). Outputs answer OK,
 * RETRY or FATAL and never sleep; a record an output refuses for good it
 * notes with ola_output_refuse, and after every call this loop writes those
 * to the output's dead-letter file (ola_output_bury): a batch is done for an
 * output once its flush answered OK and no refusal waits for its letter (a
 * letter that cannot be written is retried like a RETRY). FATAL (or an ERR
 * answer, which names no record to dead-letter) ends delivery: the agent
 * stops and the batch is not committed. This loop owns the backoff: a round
 * calls every output that still has a step to do, and when any of them
 * failed it waits (struct ola_backoff: from 100 ms, doubling up to the
 * configured maximum, full jitter; cut short by signals) before the next
 * round. Outputs that already acknowledged are not called again, so a
 * slow Kafka never makes the file output write twice. On stop, delivery goes
 * on until the shutdown deadline; a batch not acknowledged by then is simply
 * not committed and will be read again after restart.
 *
 * With several tenants, each has its own pipeline (its enricher, its rules)
 * and all share the outputs (struct ola_outputs_shared): the steps run
 * under the shared lock, backoff waits included, because an output that
 * cannot take one tenant's batch cannot take another's either.
 *
 * An output with a spool (`spool:`) has one step here: its part of the batch
 * appended to its spool and fsynced (outputs/spool.c), which is its
 * acknowledgement. Its drain thread (agent/spool_drain.c) delivers from the
 * spool at the output's pace and is the only caller of its write and flush,
 * so this loop never touches that output's state. A full spool answers
 * RETRY: this loop backs off as for any RETRY, so the checkpoint and the
 * source wait (back-pressure) and nothing is dropped.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "agent/core/backoff.h"
#include "agent/core/log.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/core/wait.h"
#include "agent/enrich_adapter.h"
#include "agent/pipeline.h"
#include "agent/spool_drain.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "outputs/formats/format.h"

/* The first failing round's longest wait; each further one doubles it, up to the max. */
#define OLA_PIPELINE_BACKOFF_BASE_MS 100

enum ola_step {
    OLA_STEP_WRITE = 0,
    OLA_STEP_FLUSH,
    OLA_STEP_DONE,
};

/* The shutdown deadline, started by the first caller after a stop request. */
static int64_t ola_pipeline_deadline(struct ola_outputs_shared *sh)
{
    int64_t none = 0, d = atomic_load(&sh->stop_deadline_mono_ms);

    if (d == 0) {
        d = ola_mono_ms() + sh->shutdown_timeout_ms;
        if (!atomic_compare_exchange_strong(&sh->stop_deadline_mono_ms, &none, d))
            d = none;
    }
    return d;
}

bool ola_pipeline_out_of_time(struct ola_pipeline *p)
{
    if (!ola_stop_requested)
        return false;
    return ola_mono_ms() >= ola_pipeline_deadline(p->out);
}

/* Logs an output's change of state: failing, or accepting again. */
static void ola_pipeline_note(struct ola_output *o, bool *failing, enum ola_rc rc,
                              const char *what)
{
    if (rc == OLA_OK) {
        if (*failing)
            ola_plg_log(OLA_LOG_INFO, o, "accepting data again");
        *failing = false;
        return;
    }
    if (!*failing)
        ola_plg_log(rc == OLA_RETRY ? OLA_LOG_WARN : OLA_LOG_ERR, o,
                    "%s failed: %s; holding the checkpoint and retrying", what,
                    o->last_error[0] ? o->last_error : "no reason given");
    *failing = true;
}

/*
 * Dead-letters what o refused during its last call. Returns true when none
 * waits; false when a letter could not be written (o->last_error says why).
 */
static bool ola_pipeline_bury(struct ola_output *o, struct ola_batch *b)
{
    struct ola_err err = {0, ""};

    if (o->n_refused == 0 || ola_output_bury(o, b, &err) == 0)
        return true;
    snprintf(o->last_error, sizeof(o->last_error), "%s", err.msg);
    o->stats.errors++;
    return false;
}

int ola_outputs_shared_init(struct ola_outputs_shared *sh, struct ola_output **outputs,
                            size_t n, struct ola_err *err)
{
    size_t i, j;
    int rc;

    memset(sh, 0, sizeof(*sh));
    sh->outputs = outputs;
    sh->n_outputs = n;
    atomic_init(&sh->outputs_ok, 1);
    atomic_init(&sh->drain_fatal, false);
    for (i = 0; i < n; i++) {
        const struct ola_output_common *c = &outputs[i]->common;

        if (c->spool_dir == NULL)
            continue;
        for (j = 0; j < i; j++)
            if (outputs[j]->common.spool_dir != NULL &&
                strcmp(outputs[j]->common.spool_dir, c->spool_dir) == 0) {
                ola_err_set(err, EINVAL,
                            "outputs: %s and %s: one spool.dir for two outputs",
                            outputs[j]->name, outputs[i]->name);
                goto fail;
            }
        sh->spool[i] =
            ola_spool_open(c->spool_dir, c->spool_max_size, outputs[i]->name, err);
        if (sh->spool[i] == NULL)
            goto fail;
    }
    rc = pthread_mutex_init(&sh->lock, NULL);
    if (rc != 0) {
        ola_err_set(err, rc, "pthread_mutex_init failed");
        goto fail;
    }
    return 0;
fail:
    for (i = 0; i < n; i++) {
        ola_spool_close(sh->spool[i]);
        sh->spool[i] = NULL;
    }
    sh->outputs = NULL;
    return -1;
}

void ola_outputs_shared_destroy(struct ola_outputs_shared *sh)
{
    size_t i;

    if (sh == NULL || sh->outputs == NULL)
        return;
    for (i = 0; i < sh->n_outputs; i++) {
        ola_spool_drain_stop(sh->drain[i]);
        sh->drain[i] = NULL;
        ola_spool_close(sh->spool[i]);
        sh->spool[i] = NULL;
    }
    pthread_mutex_destroy(&sh->lock);
    sh->outputs = NULL;
}

void ola_outputs_shared_figures(struct ola_outputs_shared *sh, size_t i,
                                struct ola_output_stats *st, bool *ok, bool *spooled,
                                struct ola_spool_figures *sf)
{
    struct ola_output *o = sh->outputs[i];
    bool failing;

    *spooled = sh->spool[i] != NULL;
    memset(sf, 0, sizeof(*sf));
    if (!*spooled) {
        *st = o->stats;
        *ok = !sh->failing[i];
        return;
    }
    ola_spool_figures(sh->spool[i], sf);
    *ok = !sh->failing[i];
    if (sh->drain[i] == NULL) { /* not started yet: nobody calls o */
        *st = o->stats;
        return;
    }
    ola_spool_drain_figures(sh->drain[i], st, &failing);
    *ok = *ok && !failing;
}

int ola_pipeline_dead_letters(struct ola_outputs_shared *sh, const char *checkpoint_path,
                              struct ola_err *err)
{
    size_t i;

    for (i = 0; i < sh->n_outputs; i++)
        if (ola_output_default_dead_letter(sh->outputs[i], checkpoint_path, err) != 0)
            return -1;
    for (i = 0; i < sh->n_outputs; i++)
        if (sh->spool[i] != NULL && sh->drain[i] == NULL &&
            (sh->drain[i] = ola_spool_drain_start(sh->outputs[i], sh->spool[i],
                                                  &sh->drain_fatal, err)) == NULL)
            return -1;
    return 0;
}

/*
 * Output i's one step when it has a spool: b's part appended and fsynced.
 * A full spool logs its pausing and resuming itself; another failure (a disk
 * error) is logged here once per streak and marks the output failing.
 * Returns the spool's answer. Called with the outputs' lock held.
 */
static enum ola_rc ola_pipeline_spool_step(struct ola_outputs_shared *sh, size_t i,
                                           const struct ola_batch *b)
{
    const struct ola_output *o = sh->outputs[i];
    struct ola_err err = {0, ""};
    enum ola_rc rc = ola_spool_append(sh->spool[i], o, b, &err);

    if (rc == OLA_OK) {
        if (sh->failing[i])
            ola_log_info(o->comp, "its spool takes batches again");
        sh->failing[i] = false;
        ola_spool_drain_kick(sh->drain[i]);
        return OLA_OK;
    }
    if (err.code == ENOSPC)
        return rc;
    if (!sh->failing[i])
        ola_log_warn(o->comp, "%s; holding the checkpoint and retrying", err.msg);
    sh->failing[i] = true;
    return rc;
}

void ola_pipeline_trim(struct ola_pipeline *p)
{
    size_t i;

    /* first: the formats' memos hold the enricher's trees and the catalog's
     * event_type objects */
    ola_format_release_all();
    if (p->enricher != NULL)
        ola_enricher_trim(p->enricher);
    pthread_mutex_lock(&p->out->lock);
    for (i = 0; i < p->out->n_outputs; i++)
        if (p->out->spool[i] == NULL) /* a drain trims its own */
            ola_output_trim(p->out->outputs[i]);
    pthread_mutex_unlock(&p->out->lock);
    if (p->rules != NULL)
        ola_rules_trim(p->rules);
}

/*
 * Output i's step (a write, or a flush) for b: notes how it went (the step
 * failing, or its dead letters lagging: *buried false) and moves *step on
 * when it succeeded. Returns the output's answer; OLA_ERR and OLA_FATAL
 * (it can never deliver) are returned before anything is noted.
 */
static enum ola_rc ola_pipeline_step(struct ola_pipeline *p, size_t i,
                                     struct ola_batch *b, enum ola_step *step,
                                     bool *buried)
{
    struct ola_output *o = p->out->outputs[i];
    bool write = *step == OLA_STEP_WRITE;
    enum ola_rc rc =
        write ? ola_output_write(o, b) : ola_output_flush(o, (int)p->flush_timeout_ms);

    if (rc == OLA_FATAL || rc == OLA_ERR)
        return rc;
    *buried = ola_pipeline_bury(o, b);
    ola_pipeline_note(o, &p->out->failing[i], *buried ? rc : OLA_RETRY,
                      *buried ? (write ? "write" : "delivery") : "dead letter");
    if (rc == OLA_OK)
        *step = write ? OLA_STEP_FLUSH : OLA_STEP_DONE;
    return rc;
}

/*
 * The outputs' part of a delivery: rounds of steps until every output
 * acknowledged b, with backoff between failing rounds. Called with the
 * outputs' lock held.
 */
static enum ola_rc ola_pipeline_outputs(struct ola_pipeline *p, struct ola_batch *b)
{
    struct ola_outputs_shared *sh = p->out;
    enum ola_step step[OLA_MAX_OUTPUTS];
    enum ola_rc frc = OLA_FATAL;
    struct ola_backoff backoff;
    size_t i;

    /* every batch starts from the base again, as each failing round doubles */
    ola_backoff_init(&backoff, OLA_PIPELINE_BACKOFF_BASE_MS, p->backoff_max_ms, 0);
    for (i = 0; i < sh->n_outputs; i++)
        step[i] = b->n > 0 ? OLA_STEP_WRITE : OLA_STEP_DONE;
    for (;;) {
        bool all_done = true, any_failed = false;

        for (i = 0; i < sh->n_outputs; i++) {
            struct ola_output *o = sh->outputs[i];
            enum ola_rc rc;
            bool buried;

            if (sh->spool[i] != NULL) {
                if (step[i] == OLA_STEP_WRITE &&
                    ola_pipeline_spool_step(sh, i, b) == OLA_OK)
                    step[i] = OLA_STEP_DONE;
                if (step[i] != OLA_STEP_DONE) {
                    all_done = false;
                    any_failed = true;
                }
                continue;
            }
            buried = ola_pipeline_bury(o, b);

            if (step[i] == OLA_STEP_WRITE) {
                rc = ola_pipeline_step(p, i, b, &step[i], &buried);
                if (rc == OLA_FATAL || rc == OLA_ERR) {
                    frc = rc;
                    goto fatal;
                }
            }
            if (step[i] == OLA_STEP_FLUSH) {
                rc = ola_pipeline_step(p, i, b, &step[i], &buried);
                if (rc == OLA_FATAL || rc == OLA_ERR) {
                    frc = rc;
                    goto fatal;
                }
            } else if (step[i] == OLA_STEP_DONE && !buried) {
                ola_pipeline_note(o, &sh->failing[i], OLA_RETRY, "dead letter");
            }
            if (step[i] != OLA_STEP_DONE || !buried) {
                all_done = false;
                any_failed = true;
            }
        }
        atomic_store(&sh->outputs_ok, any_failed ? 0 : 1);
        OLA_STAT_SET(outputs_ok, any_failed ? 0 : 1);
        OLA_STAT_SET(loop_alive_ms, ola_now_ms());
        if (all_done) {
            /* what the batch's enrichment evicted: the formats' copies go too */
            ola_format_batch_done_all();
            return OLA_OK;
        }
        if (ola_pipeline_out_of_time(p))
            return OLA_RETRY;
        if (any_failed) {
            int64_t wait = ola_backoff_next(&backoff), now = ola_mono_ms();

            /* an output told when its destination takes a retry (Retry-After):
             * no sooner, as the backoff would only knock on a closed door */
            for (i = 0; i < sh->n_outputs; i++)
                if (step[i] != OLA_STEP_DONE && sh->spool[i] == NULL &&
                    sh->outputs[i]->retry_at_mono_ms > now &&
                    sh->outputs[i]->retry_at_mono_ms - now > wait)
                    wait = sh->outputs[i]->retry_at_mono_ms - now;

            if (ola_stop_requested && ola_mono_ms() + wait > ola_pipeline_deadline(sh))
                wait = ola_pipeline_deadline(sh) - ola_mono_ms();
            OLA_STAT_ADD(retries, 1);
            OLA_STAT_ADD(backoff_ms, (uint64_t)(wait > 0 ? wait : 0));
            ola_wait(wait);
        }
    }
fatal:
    /* one line, naming the output: the agent exits 1 after it */
    ola_log_err("pipeline", "output %s (%s) can never deliver, stopping: %s%s",
                sh->outputs[i]->name, sh->outputs[i]->ops->name,
                sh->outputs[i]->last_error[0] ? sh->outputs[i]->last_error
                                              : "no reason given",
                frc == OLA_ERR ? " (it answered ERR for a whole call, which names no "
                                 "record to dead-letter)"
                               : "");
    return OLA_FATAL;
}

static enum ola_rc ola_pipeline_run(struct ola_pipeline *p, struct ola_batch *b,
                                    int64_t now_ms)
{
    struct ola_enrich_types types;
    enum ola_rc rc;
    size_t i;

    /* olagent.tenant first: the rules match it, every record (alerts too) carries it */
    if (b->n > 0 && ola_batch_stamp_tenant(b) != 0)
        ola_log_err("pipeline", "out of memory stamping the tenant; some records of a "
                                "batch go out without it");
    if (p->enricher != NULL && b->n > 0 &&
        ola_enrich_batch(p->enricher, b,
                         ola_enrich_catalog_types(
                             p->rules ? ola_rules_catalog(p->rules) : NULL, &types),
                         ola_mono_ms()) != 0)
        ola_log_err("pipeline", "enrichment ran out of memory on a batch; it goes out "
                                "partly enriched");
    if (p->rules != NULL && ola_rules_apply(p->rules, b, now_ms) != 0)
        ola_log_err("pipeline", "rules failed on a batch; it goes out unfiltered");
    for (i = 0; i < b->n; i++)
        if (b->ev[i].dropped)
            OLA_STAT_ADD(dropped_rule, 1);
    if (atomic_load(&p->out->drain_fatal)) {
        ola_log_err("pipeline",
                    "a spooled output can never deliver (logged above), stopping");
        return OLA_FATAL;
    }
    if (b->n == 0)
        return OLA_OK; /* nothing for the outputs: a quiet tenant never waits for them */
    pthread_mutex_lock(&p->out->lock);
    /* a stop whose deadline passed while this tenant waited for its turn */
    rc = ola_pipeline_out_of_time(p) ? OLA_RETRY : ola_pipeline_outputs(p, b);
    pthread_mutex_unlock(&p->out->lock);
    return rc;
}

enum ola_rc ola_pipeline_deliver(struct ola_pipeline *p, struct ola_batch *b,
                                 int64_t now_ms)
{
    struct ola_arena *prev = ola_batch_enter(b);
    enum ola_rc rc = ola_pipeline_run(p, b, now_ms);

    ola_batch_leave(prev);
    return rc;
}
