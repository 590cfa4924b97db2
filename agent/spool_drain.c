/*
 * spool_drain.c - one thread per spooled output, draining its spool into it.
 *
 * The pipeline's part for a spooled output ends when the batch's records are
 * in the spool and fsynced; this thread does the rest at the output's own
 * pace. It reads a run of records (outputs/spool_read.c: its own parsed
 * trees, so no json_t crosses threads), then, as the pipeline does for a
 * direct output, calls write until OK, flush until OK, writes what the
 * output refused to its dead-letter file, and backs off between failing
 * tries (struct ola_backoff, from 100 ms doubling up to 30 s, full jitter; an
 * output's Retry-After is honoured). Only after the flush said OK (and every
 * refusal is buried) does the reader position move, durably: a crash before
 * that delivers the run again (at most one run, OLA_SPOOL_BATCH_RECS records,
 * twice). Every call into the output is made holding d->mu, which
 * o->call_lock points at, so a reopen (SIGHUP) never overlaps the drain's
 * calls; the drain trims its output itself when it goes quiet and copies the
 * output's counters after each call for the metrics, so no tenant ever waits
 * for a call in progress. The outputs' shared lock is never taken here. A
 * stop (SIGTERM, or ola_spool_drain_stop) ends the thread after its current
 * call: what it had not acknowledged stays in the
 * spool for the next start.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/backoff.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "agent/core/wait.h"
#include "agent/spool_drain.h"

#define OLA_DRAIN_BACKOFF_BASE_MS 100
#define OLA_DRAIN_BACKOFF_MAX_MS  30000
/* Nothing to read: wait this long, unless a new append kicks the drain sooner. */
#define OLA_DRAIN_IDLE_MS          1000
#define OLA_DRAIN_FLUSH_TIMEOUT_MS 1000

struct ola_spool_drain {
    struct ola_output *o; /* borrowed */
    struct ola_spool *sp; /* borrowed */
    atomic_bool *fatal;   /* borrowed */
    pthread_mutex_t mu;   /* held around every call into o */
    struct ola_waker waker;
    pthread_t th;
    bool failing; /* guarded by mu */
    /* copies for readers, guarded by fig_mu (held only to copy) */
    pthread_mutex_t fig_mu;
    struct ola_output_stats fig_stats;
    bool fig_failing;
    char tenant[OLA_TENANT_NAME_MAX + 1];
};

enum ola_drain_step {
    OLA_DRAIN_READ = 0,
    OLA_DRAIN_WRITE,
    OLA_DRAIN_FLUSH,
    OLA_DRAIN_ADVANCE,
};

/* Logs the output's change of state, as the pipeline does. Called with mu held. */
static void ola_drain_note(struct ola_spool_drain *d, enum ola_rc rc, const char *what)
{
    struct ola_output *o = d->o;

    if (rc == OLA_OK) {
        if (d->failing)
            ola_plg_log(OLA_LOG_INFO, o, "accepting data again; draining its spool");
        d->failing = false;
        return;
    }
    if (!d->failing)
        ola_plg_log(OLA_LOG_WARN, o,
                    "%s failed: %s; its spool keeps the records, the other outputs go on",
                    what, o->last_error[0] ? o->last_error : "no reason given");
    d->failing = true;
}

/*
 * One call into the output for the run in b: its write or flush, then its
 * refusals buried. Moves *step on when it went through. Returns OLA_OK,
 * OLA_RETRY (try again after a backoff) or OLA_FATAL.
 */
/* Copies the output's figures for readers. Called with mu held. */
static void ola_drain_publish(struct ola_spool_drain *d)
{
    pthread_mutex_lock(&d->fig_mu);
    d->fig_stats = d->o->stats;
    d->fig_failing = d->failing;
    pthread_mutex_unlock(&d->fig_mu);
}

static enum ola_rc ola_drain_call(struct ola_spool_drain *d, struct ola_batch *b,
                                  enum ola_drain_step *step)
{
    struct ola_output *o = d->o;
    struct ola_err err = {0, ""};
    bool write = *step == OLA_DRAIN_WRITE;
    enum ola_rc rc;

    pthread_mutex_lock(&d->mu);
    rc = write ? ola_output_write(o, b) : ola_output_flush(o, OLA_DRAIN_FLUSH_TIMEOUT_MS);
    if (rc == OLA_ERR || rc == OLA_FATAL) {
        ola_plg_log(OLA_LOG_ERR, o, "can never deliver, stopping: %s",
                    o->last_error[0] ? o->last_error : "no reason given");
        ola_drain_publish(d);
        pthread_mutex_unlock(&d->mu);
        return OLA_FATAL;
    }
    if (o->n_refused > 0 && ola_output_bury(o, b, &err) != 0) {
        snprintf(o->last_error, sizeof(o->last_error), "%s", err.msg);
        o->stats.errors++;
        ola_drain_note(d, OLA_RETRY, "dead letter");
        ola_drain_publish(d);
        pthread_mutex_unlock(&d->mu);
        return OLA_RETRY;
    }
    ola_drain_note(d, rc, write ? "write" : "delivery");
    if (rc == OLA_OK)
        *step = write ? OLA_DRAIN_FLUSH : OLA_DRAIN_ADVANCE;
    ola_drain_publish(d);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* How long to back off now: the backoff's wait, or the output's Retry-After. */
static int64_t ola_drain_wait(struct ola_spool_drain *d, struct ola_backoff *bo)
{
    int64_t wait = ola_backoff_next(bo), now = ola_mono_ms(), at;

    pthread_mutex_lock(&d->mu);
    at = d->o->retry_at_mono_ms;
    pthread_mutex_unlock(&d->mu);
    if (at > now && at - now > wait)
        wait = at - now;
    return wait;
}

static void *ola_drain_main(void *arg)
{
    struct ola_spool_drain *d = arg;
    enum ola_drain_step step = OLA_DRAIN_READ;
    struct ola_spool_pos next = {0, 0};
    struct ola_err err = {0, ""};
    struct ola_backoff bo;
    struct ola_batch b;
    bool read_failing = false, trim_due = false;

    ola_wait_bind(&d->waker);
    ola_batch_init(&b);
    ola_backoff_init(&bo, OLA_DRAIN_BACKOFF_BASE_MS, OLA_DRAIN_BACKOFF_MAX_MS, 0);
    while (!ola_stopping()) {
        enum ola_rc rc = OLA_OK;
        int n;

        switch (step) {
        case OLA_DRAIN_READ:
            n = ola_spool_read(d->sp, &b, d->o->index, d->tenant, sizeof(d->tenant),
                               &next, &err);
            if (n < 0) {
                if (!read_failing)
                    ola_plg_log(OLA_LOG_ERR, d->o, "spool: %s; retrying", err.msg);
                read_failing = true;
                rc = OLA_RETRY;
            } else if (n == 0) {
                if (trim_due) /* quiet: the output's buffers kept for reuse go */
                    ola_output_trim(d->o);
                trim_due = false;
                ola_wait(OLA_DRAIN_IDLE_MS);
                continue;
            } else {
                read_failing = false;
                step = OLA_DRAIN_WRITE;
            }
            break;
        case OLA_DRAIN_WRITE:
        case OLA_DRAIN_FLUSH:
            rc = ola_drain_call(d, &b, &step);
            if (rc == OLA_FATAL) {
                atomic_store(d->fatal, true);
                ola_wait_wake();
                goto out;
            }
            break;
        case OLA_DRAIN_ADVANCE:
            if (ola_spool_advance(d->sp, &next, &err) != 0) {
                if (!read_failing)
                    ola_plg_log(OLA_LOG_ERR, d->o, "spool: %s; retrying", err.msg);
                read_failing = true;
                rc = OLA_RETRY;
                break;
            }
            read_failing = false;
            trim_due = true;
            ola_batch_reset(&b);
            ola_format_batch_done_all(); /* as the pipeline does after a batch */
            step = OLA_DRAIN_READ;
            break;
        }
        if (rc == OLA_OK)
            ola_backoff_reset(&bo);
        else
            ola_wait(ola_drain_wait(d, &bo));
    }
out:
    ola_batch_free(&b);
    ola_format_release_all();
    return NULL;
}

struct ola_spool_drain *ola_spool_drain_start(struct ola_output *o, struct ola_spool *sp,
                                              atomic_bool *fatal, struct ola_err *err)
{
    struct ola_spool_drain *d = calloc(1, sizeof(*d));
    int rc;

    if (d == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    d->o = o;
    d->sp = sp;
    d->fatal = fatal;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        ola_err_set(err, ENOMEM, "pthread_mutex_init failed");
        return NULL;
    }
    if (pthread_mutex_init(&d->fig_mu, NULL) != 0) {
        pthread_mutex_destroy(&d->mu);
        free(d);
        ola_err_set(err, ENOMEM, "pthread_mutex_init failed");
        return NULL;
    }
    d->fig_stats = o->stats;
    if (ola_waker_init(&d->waker) != 0) {
        pthread_mutex_destroy(&d->fig_mu);
        pthread_mutex_destroy(&d->mu);
        free(d);
        ola_err_set(err, errno, "cannot make a waker");
        return NULL;
    }
    o->call_lock = &d->mu;
    rc = pthread_create(&d->th, NULL, ola_drain_main, d);
    if (rc != 0) {
        o->call_lock = NULL;
        ola_waker_destroy(&d->waker);
        pthread_mutex_destroy(&d->fig_mu);
        pthread_mutex_destroy(&d->mu);
        free(d);
        ola_err_set(err, rc, "outputs: %s: cannot start the spool's drain: %s", o->name,
                    strerror(rc));
        return NULL;
    }
    return d;
}

void ola_spool_drain_stop(struct ola_spool_drain *d)
{
    if (d == NULL)
        return;
    ola_waker_stop(&d->waker);
    pthread_join(d->th, NULL);
    d->o->call_lock = NULL;
    ola_waker_destroy(&d->waker);
    pthread_mutex_destroy(&d->fig_mu);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

void ola_spool_drain_kick(struct ola_spool_drain *d)
{
    if (d != NULL)
        ola_waker_kick(&d->waker);
}

void ola_spool_drain_figures(struct ola_spool_drain *d, struct ola_output_stats *st,
                             bool *failing)
{
    pthread_mutex_lock(&d->fig_mu);
    *st = d->fig_stats;
    *failing = d->fig_failing;
    pthread_mutex_unlock(&d->fig_mu);
}
