/*
 * tenant.h - one OneLogin tenant served by its own thread.
 *
 * A tenant owns everything that is its own: token, rate-limit governor and
 * server clock (its API client), checkpoint with the seen set and the late
 * sweep (its source), enrichment cache, rules with their alert state, and
 * its counters. It shares the outputs (struct ola_outputs_shared) with the
 * other tenants. Its thread builds those parts (so no Jansson value it uses
 * was made by another thread), then runs the agent's loop: next batch,
 * deliver, commit, save. The main thread only starts, kicks, stops and
 * joins tenants.
 */
#ifndef OLA_TENANT_H
#define OLA_TENANT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "agent/core/buf.h"
#include "agent/core/stats.h"
#include "agent/core/wait.h"
#include "agent/metrics.h"
#include "agent/pipeline.h"
#include "agent/settings.h"
#include "agent/state/checkpoint.h"

/* A loaded configuration, shared by reference by the tenants built from it. */
struct ola_conf {
    struct ola_cfg_doc *doc;
    struct ola_settings s; /* strings point into doc */
    atomic_int refs;
};

/* Loads path into a new conf (one reference). Returns NULL with err. */
struct ola_conf *ola_conf_load(const char *path, struct ola_err *err);
/* Takes one more reference; returns c. */
struct ola_conf *ola_conf_hold(struct ola_conf *c);
/* Drops one reference; the last frees c. NULL: no-op. @locality any thread. */
void ola_conf_drop(struct ola_conf *c);

/* What every tenant shares with the others (borrowed). */
struct ola_tenant_env {
    struct ola_outputs_shared *out;
    const char *const *output_names;
    struct ola_metrics *metrics; /* NULL: no endpoint */
    bool lone;   /* the only tenant: a fatal error of its own stops the process */
    bool replay; /* the replay command: no lock, checkpoint, signals or thread */
};

struct ola_tenant {
    const struct ola_tenant_cfg *cfg; /* in conf */
    struct ola_conf *conf;            /* held */
    struct ola_tenant_env env;
    struct ola_lock *lock; /* taken by the main thread before the thread starts */
    struct ola_ol_client *client;
    struct ola_enricher *enricher;
    struct ola_rules *rules;
    struct ola_checkpoint cp;
    bool cp_ready;
    bool cp_unsaved;            /* a quiet batch's window is not saved yet */
    int64_t saved_mono_ms;      /* the last checkpoint save */
    size_t alerts_len_hint;     /* the last save's alert state text, bytes */
    struct ola_buf alerts_text; /* that text's buffer, kept while busy; the idle trim
                                 * frees it */
    struct ola_source *src;
    struct ola_pipeline pipe;
    char dead_letter[PATH_MAX]; /* the source's: records that are not events */
    struct ola_stats stats;
    struct ola_waker waker;
    struct ola_metrics_tenant snap;
    bool trim_due;
    int64_t trimmed_mono_ms; /* the last idle trim (ola_tenant_trim) */
    bool down; /* given up on for now: logged once when it starts and ends */
    pthread_t thread;
    bool started;
    atomic_bool finished;            /* the thread's loop ended */
    atomic_int exit_rc;              /* OLA_EXIT_*: what the thread ended with */
    atomic_bool fatal;               /* the process must stop (exit_rc says how) */
    _Atomic(struct ola_conf *) next; /* a reload's conf for the rules, held */
};

/*
 * A tenant of conf (held) for cfg (in conf). Nothing is built yet: the rules
 * by ola_tenant_prepare, the rest on the tenant's thread (ola_tenant_start)
 * or in ola_tenant_run.
 * Returns NULL with err.
 */
struct ola_tenant *ola_tenant_new(struct ola_conf *conf, const struct ola_tenant_cfg *cfg,
                                  const struct ola_tenant_env *env, struct ola_err *err);
/* Takes the tenant's checkpoint lock. Returns 0 / -1 with err. */
int ola_tenant_lock(struct ola_tenant *t, struct ola_err *err);
/*
 * Builds the tenant's rules, on the calling (main) thread; they go to the
 * tenant's thread as it starts, and nothing else uses them. The agent builds
 * every tenant's before it starts any thread: a rule set is a few thousand
 * small objects that last, and built while other tenants' first pages came
 * and went they were strewn over heap pages that churn then left mostly
 * free (BENCHMARKS.md). Returns 0 / -1 with err; 0 when built already.
 */
int ola_tenant_prepare(struct ola_tenant *t, struct ola_err *err);
/* Starts the tenant's thread (preparing it first if need be). Returns 0 / -1. */
int ola_tenant_start(struct ola_tenant *t, struct ola_err *err);
/* Runs the tenant on the calling thread until its source ends or a stop; an exit code. */
int ola_tenant_run(struct ola_tenant *t);
/* Builds the parts replay needs (rules; client and enricher when enrich); an exit code.
 */
int ola_tenant_setup_replay(struct ola_tenant *t, bool enrich);
/* Asks the tenant to stop after its batch in flight. @locality the main thread. */
void ola_tenant_stop(struct ola_tenant *t);
/* Hands the tenant a reloaded conf (held by the tenant now) for its rules. */
void ola_tenant_reload(struct ola_tenant *t, struct ola_conf *conf);
/* Joins the thread when it ended (block: wait for it). True when joined. */
bool ola_tenant_join(struct ola_tenant *t, bool block);
/* Frees t (its thread joined or never started). NULL: no-op. */
void ola_tenant_destroy(struct ola_tenant *t);

#endif
