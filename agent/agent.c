/*
 * agent.c - the agent's lifecycle: set up, tail, deliver, commit, stop.
 *
 * Setup builds every part from the settings in dependency order (outputs,
 * rules, API client and enricher, checkpoint, source) and fails early with
 * one clear message. The loop then asks the source for a batch, hands it to
 * the pipeline, and only when every output acknowledged it commits the
 * source (which moves its position) and saves the checkpoint (with the alert
 * state). `run` drives the OneLogin source with a checkpoint; `replay`
 * drives the replay source (replay.c) through the same outputs, rules and
 * loop, without a checkpoint, lock or signals, until its input ends. Signals
 * only set flags: SIGHUP reopens outputs and reloads rule files between
 * batches; SIGTERM/SIGINT let the batch in flight finish within
 * shutdown_timeout, then the agent exits 0.
 */
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/core/backoff.h"
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/source.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/core/wait.h"
#include "agent/enrich_adapter.h"
#include "agent/metrics.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/source.h"
#include "agent/pipeline.h"
#include "agent/progress.h"
#include "agent/replay.h"
#include "agent/state/checkpoint.h"
#include "agent/state/lock.h"
#include "agent/settings.h"
#include "config/config.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "outputs/output.h"

#define OLA_AGENT_COMP "agent"

struct ola_agent {
    bool replay;           /* the `replay` command: no lock, checkpoint or signals;
                              errors are printed for a person, not logged */
    struct ola_lock *lock; /* one agent per checkpoint, held until the end */
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_output *outputs[OLA_MAX_OUTPUTS];
    const char *output_names[OLA_MAX_OUTPUTS];
    size_t n_outputs;
    struct ola_rules *rules;
    struct ola_ol_client *client;
    struct ola_enricher *enricher; /* NULL when enrichment is off */
    struct ola_checkpoint cp;
    bool cp_ready;          /* a checkpoint is kept: saved after each committed batch */
    bool trim_due;          /* batches went through since the agent last trimmed */
    struct ola_source *src; /* the OneLogin source (run) or the replay source */
    struct ola_pipeline pipe;
    struct ola_metrics *metrics;
    struct ola_metrics_snapshot snap; /* built here, copied by publish */
    char dead_letter[PATH_MAX];
};

/* Loads and validates the config; prints the error. Returns an exit code. */
static int ola_agent_load_config(struct ola_agent *a, const char *path)
{
    struct ola_err err = {0, ""};

    if (ola_cfg_load_file(path, &a->doc, &err) != 0 ||
        ola_settings_load(a->doc, ola_now_ms(), &a->s, &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        return OLA_EXIT_CONFIG;
    }
    if (ola_path_beside(a->s.checkpoint.path, "dead-letter.ndjson", a->dead_letter,
                        sizeof(a->dead_letter)) != 0) {
        fprintf(stderr, "olagent: checkpoint.path too long\n");
        return OLA_EXIT_CONFIG;
    }
    return OLA_EXIT_OK;
}

static void ola_agent_setup_logging(const struct ola_settings *s)
{
    int level = OLA_LOG_INFO;
    enum ola_log_format fmt = OLA_LOG_TEXT;

    if (s->log.level != NULL && ola_log_level_parse(s->log.level, &level) != 0)
        level = OLA_LOG_INFO;
    if (s->log.format != NULL && ola_log_format_parse(s->log.format, &fmt) != 0)
        fmt = OLA_LOG_TEXT;
    ola_log_setup(level, fmt, NULL);
}

/* Builds the outputs and the rule set. Returns an exit code. */
static int ola_agent_build_outputs(struct ola_agent *a)
{
    struct ola_err err = {0, ""};
    struct ola_rules_settings rs;
    size_t i;

    for (i = 0; i < a->s.n_outputs; i++) {
        a->outputs[i] = ola_output_new(&a->s.outputs[i], (unsigned)i, &err);
        if (a->outputs[i] == NULL) {
            fprintf(stderr, "olagent: %s\n", err.msg);
            return OLA_EXIT_CONFIG;
        }
        a->output_names[i] = a->outputs[i]->name;
        a->n_outputs++;
    }
    ola_settings_rules(&a->s, &rs);
    a->rules =
        ola_rules_new(&rs, a->s.rules.catalog_path, a->output_names, a->n_outputs, &err);
    if (a->rules == NULL) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        return OLA_EXIT_CONFIG;
    }
    a->pipe.outputs = a->outputs;
    a->pipe.n_outputs = a->n_outputs;
    a->pipe.rules = a->rules;
    a->pipe.backoff_max_ms = a->s.onelogin.backoff_max_ms;
    a->pipe.flush_timeout_ms = 1000;
    a->pipe.shutdown_timeout_ms = a->s.shutdown_timeout_ms;
    if (ola_pipeline_dead_letters(&a->pipe, a->s.checkpoint.path, &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        return OLA_EXIT_CONFIG;
    }
    return OLA_EXIT_OK;
}

static void ola_agent_free(struct ola_agent *a)
{
    size_t i;

    ola_metrics_stop(a->metrics);
    ola_source_destroy(a->src);
    for (i = 0; i < a->n_outputs; i++)
        ola_output_destroy(a->outputs[i]);
    ola_rules_destroy(a->rules);
    ola_enricher_destroy(a->enricher);
    ola_ol_client_destroy(a->client);
    if (a->cp_ready)
        ola_checkpoint_free(&a->cp);
    ola_cfg_doc_destroy(a->doc);
    ola_lock_release(a->lock); /* last: outputs close and the checkpoint saves under it */
}

/* Loads the checkpoint (or starts fresh) and restores the alert state. */
static int ola_agent_load_checkpoint(struct ola_agent *a)
{
    struct ola_err err = {0, ""};
    bool found = false;

    if (ola_checkpoint_init(&a->cp) != 0) {
        ola_log_err(OLA_AGENT_COMP, "out of memory");
        return OLA_EXIT_RUNTIME;
    }
    a->cp_ready = true;
    /* over its bound, the seen set loses the ids older than the overlap first */
    a->cp.overlap_ms = a->s.onelogin.overlap_ms;
    if (ola_checkpoint_load(a->s.checkpoint.path, &a->cp, &found, &err) != 0) {
        ola_log_err(OLA_AGENT_COMP, "%s", err.msg);
        return OLA_EXIT_RUNTIME;
    }
    /* nothing read yet (no file, or one saved before the first window ended, or
     * by an olagent that kept no start): the configured start, kept from now on */
    if (a->cp.pos.watermark_ms < 0 && a->cp.pos.start_ms < 0)
        a->cp.pos.start_ms = a->s.onelogin.start_ms;
    if (!found) {
        char start[OLA_ISO_MAX];

        ola_time_format_iso(a->s.onelogin.start_ms, start, sizeof(start));
        ola_log_info(OLA_AGENT_COMP, "no checkpoint at %s: starting from %s (%s)",
                     a->s.checkpoint.path, start, a->s.onelogin.start);
    } else {
        char wm[OLA_ISO_MAX] = "none";

        if (a->cp.pos.watermark_ms >= 0)
            ola_time_format_iso(a->cp.pos.watermark_ms, wm, sizeof(wm));
        ola_log_info(OLA_AGENT_COMP,
                     "checkpoint %s: watermark %s, %zu ids in the overlap",
                     a->s.checkpoint.path, wm, ola_seen_count(a->cp.pos.seen));
    }
    if (a->cp.alerts != NULL &&
        ola_rules_state_restore(a->rules, a->cp.alerts, &err) != 0) {
        ola_log_err(OLA_AGENT_COMP, "checkpoint %s: alert state: %s",
                    a->s.checkpoint.path, err.msg);
        return OLA_EXIT_RUNTIME;
    }
    OLA_STAT_SET(watermark_ms, a->cp.pos.watermark_ms);
    return OLA_EXIT_OK;
}

void ola_client_opts(const struct ola_settings *s, struct ola_ol_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->base_url = s->onelogin.base_url;
    o->client_id = s->onelogin.client_id;
    o->client_secret = s->onelogin.client_secret;
    o->timeout_ms = s->onelogin.timeout_ms;
    o->ca_file = s->onelogin.ca_file;
    o->proxy = s->onelogin.proxy;
    o->max_body = (size_t)s->onelogin.max_response;
    o->reserve = s->enrich_opts.reserve;
    o->backoff_max_ms = s->onelogin.backoff_max_ms;
}

static int ola_agent_connect(struct ola_agent *a)
{
    struct ola_err err = {0, ""};
    struct ola_ol_opts o;

    ola_client_opts(&a->s, &o);
    if (ola_ol_client_new(&o, &a->client, &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        return OLA_EXIT_CONFIG;
    }
    if (a->s.enrich_enabled) {
        struct ola_enrich_api api;

        if (ola_enricher_new(&a->s.enrich_opts, ola_enrich_onelogin_api(a->client, &api),
                             &a->enricher, &err) != 0) {
            fprintf(stderr, "olagent: %s%s\n", a->replay ? "" : "enrich: ", err.msg);
            return OLA_EXIT_CONFIG;
        }
        a->pipe.enricher = a->enricher;
    }
    return OLA_EXIT_OK;
}

/* One line on what enrichment did, at exit. */
static void ola_agent_enrich_summary(const struct ola_agent *a)
{
    struct ola_enrich_stats es;

    if (a->enricher == NULL)
        return;
    ola_enricher_stats(a->enricher, &es);
    ola_log_info(
        OLA_AGENT_COMP,
        "enrichment: %llu lookups, %llu cache hits, %zu cache entries (peak %zu, "
        "bound %zu), %llu evictions (%llu on user or role changes; %llu changes "
        "older than the cached facts), %llu expired, %llu not found, %llu deferred, "
        "%llu failed; events deferred %llu, failed %llu; %llu type names learned",
        (unsigned long long)es.misses, (unsigned long long)es.hits, es.entries,
        es.peak_entries, es.max_entries, (unsigned long long)es.evictions,
        (unsigned long long)es.change_evictions, (unsigned long long)es.changes_seen,
        (unsigned long long)es.expired, (unsigned long long)es.not_found,
        (unsigned long long)es.deferred, (unsigned long long)es.failed,
        (unsigned long long)es.events_deferred, (unsigned long long)es.events_failed,
        (unsigned long long)es.types_learned);
}

/* Saves the checkpoint, retrying with backoff until it works or time is up. */
static int ola_agent_save(struct ola_agent *a)
{
    struct ola_err err = {0, ""};
    struct ola_backoff bo;
    bool failing = false;

    json_decref(a->cp.alerts);
    a->cp.alerts = ola_rules_state_save(a->rules);
    ola_backoff_init(&bo, 500, a->s.onelogin.backoff_max_ms, 0);
    for (;;) {
        if (ola_checkpoint_save(a->s.checkpoint.path, &a->cp, &err) == 0) {
            if (failing)
                ola_log_info(OLA_AGENT_COMP, "checkpoint saved again");
            OLA_STAT_SET(checkpoint_ms, ola_now_ms());
            return 0;
        }
        OLA_STAT_ADD(checkpoint_errors, 1);
        if (!failing)
            ola_log_err(OLA_AGENT_COMP, "%s; retrying", err.msg);
        failing = true;
        if (ola_pipeline_out_of_time(&a->pipe))
            return -1;
        ola_wait(ola_backoff_next(&bo));
    }
}

static void ola_agent_reload(struct ola_agent *a)
{
    struct ola_err err = {0, ""};
    struct ola_rules_settings rs;
    struct ola_rules *fresh;
    json_t *state;
    size_t i;

    ola_reload_requested = 0;
    ola_log_info(OLA_AGENT_COMP, "SIGHUP: reopening outputs and reloading rules");
    for (i = 0; i < a->n_outputs; i++)
        if (ola_output_reopen(a->outputs[i], &err) != 0)
            ola_plg_log(OLA_LOG_ERR, a->outputs[i], "reopen failed: %s", err.msg);
    ola_settings_rules(&a->s, &rs);
    fresh =
        ola_rules_new(&rs, a->s.rules.catalog_path, a->output_names, a->n_outputs, &err);
    if (fresh == NULL) {
        ola_log_err(OLA_AGENT_COMP, "rules not reloaded, the old rules stay: %s",
                    err.msg);
        return;
    }
    state = ola_rules_state_save(a->rules);
    if (state != NULL && ola_rules_state_restore(fresh, state, &err) != 0)
        ola_log_warn(OLA_AGENT_COMP, "alert state not carried over: %s", err.msg);
    json_decref(state);
    ola_rules_destroy(a->rules);
    a->rules = fresh;
    a->pipe.rules = fresh;
    ola_log_info(OLA_AGENT_COMP, "rules reloaded");
}

/* Copies what the metrics thread may show; plain copies, no shared pointers. */
static void ola_agent_publish(struct ola_agent *a)
{
    struct ola_metrics_snapshot *sn = &a->snap;
    const struct ola_ol_counters *ctr;
    const struct ola_rules_stats *rs;
    struct ola_ol_rate rate;
    size_t i;

    if (a->metrics == NULL)
        return;
    ctr = ola_ol_counters(a->client);
    rs = ola_rules_stats(a->rules);
    memset(sn, 0, sizeof(*sn));
    sn->n_outputs = a->n_outputs;
    for (i = 0; i < a->n_outputs && i < OLA_METRICS_MAX_OUTPUTS; i++) {
        const struct ola_output *o = a->outputs[i];

        snprintf(sn->outputs[i].name, sizeof(sn->outputs[i].name), "%s", o->name);
        snprintf(sn->outputs[i].type, sizeof(sn->outputs[i].type), "%s", o->ops->name);
        sn->outputs[i].emitted = o->stats.emitted;
        sn->outputs[i].errors = o->stats.errors;
        sn->outputs[i].dead_letters = o->stats.dead_letters;
        sn->outputs[i].truncated = o->stats.truncated;
        sn->outputs[i].req = o->stats.req;
        sn->outputs[i].ok = !a->pipe.failing[i];
    }
    sn->api_requests = ctr->requests;
    sn->api_token_requests = ctr->token_requests;
    sn->api_rate_limited = ctr->rate_limited;
    sn->api_retries = ctr->retries;
    sn->api_paced_ms = ctr->paced_ms;
    sn->api_clock_rejected = ctr->clock_rejected;
    memcpy(sn->api_by_endpoint, ctr->by_endpoint, sizeof(sn->api_by_endpoint));
    ola_ol_rate(a->client, &rate);
    sn->rate_limit = rate.limit;
    sn->rate_remaining = rate.remaining;
    sn->rules_dropped = rs->dropped;
    sn->rules_alerts = rs->alerts;
    sn->rules_state_capped = rs->state_capped;
    sn->n_rules = ola_rules_alert_count(a->rules);
    if (sn->n_rules > OLA_METRICS_MAX_RULES)
        sn->n_rules = OLA_METRICS_MAX_RULES;
    for (i = 0; i < sn->n_rules; i++) {
        snprintf(sn->rules[i].name, sizeof(sn->rules[i].name), "%s",
                 ola_rules_alert_name(a->rules, i));
        sn->rules[i].alerts = ola_rules_alerts_raised(a->rules, i);
    }
    sn->seen_ids = ola_seen_count(a->cp.pos.seen);
    if (a->enricher != NULL) {
        struct ola_enrich_stats es;

        ola_enricher_stats(a->enricher, &es);
        sn->enrich_hits = es.hits;
        sn->enrich_misses = es.misses;
        sn->enrich_evictions = es.evictions;
        sn->enrich_deferred = es.deferred;
    }
    ola_metrics_publish(a->metrics, sn);
}

/* Starts the metrics endpoint when configured. Returns an exit code. */
static int ola_agent_start_metrics(struct ola_agent *a)
{
    struct ola_metrics_cfg mc;
    struct ola_err err = {0, ""};

    if (!a->s.metrics.enabled)
        return OLA_EXIT_OK;
    memset(&mc, 0, sizeof(mc));
    mc.listen = a->s.metrics.listen;
    mc.poll_interval_ms = a->s.onelogin.poll_interval_ms;
    if (ola_metrics_start(&mc, &a->metrics, &err) != 0) {
        ola_log_err(OLA_AGENT_COMP, "metrics: %s", err.msg);
        return OLA_EXIT_RUNTIME;
    }
    ola_log_info(OLA_AGENT_COMP, "metrics on %s (port %d): /metrics /healthz /readyz",
                 a->s.metrics.listen, ola_metrics_port(a->metrics));
    return OLA_EXIT_OK;
}

/*
 * Gives what the last batches grew back to the kernel when the agent waits
 * for the next poll: the batch's arena is unmapped, the pipeline drops the
 * buffers it keeps for reuse, and glibc's heap, where a backfill's big pages
 * left free chunks that free() alone does not return, is trimmed. After every
 * batch, quiet polls included (trimming a small heap is cheap): an agent
 * tailing quietly for months should not keep its catch-up peak.
 */
static void ola_agent_trim(struct ola_agent *a, struct ola_batch *b)
{
    if (!a->trim_due)
        return;
    a->trim_due = false;
    ola_batch_trim(b);
    ola_pipeline_trim(&a->pipe);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* The main loop. Returns an exit code. */
static int ola_agent_loop(struct ola_agent *a)
{
    struct ola_batch b;
    struct ola_err err = {0, ""};
    int rc = OLA_EXIT_OK;

    ola_batch_init(&b);
    while (!ola_stop_requested) {
        enum ola_src_rc src_rc;
        enum ola_rc drc;
        int64_t wait = 0;

        OLA_STAT_SET(loop_alive_ms, ola_now_ms());
        ola_agent_publish(a);
        if (ola_reload_requested)
            ola_agent_reload(a);
        src_rc = ola_source_next(a->src, &b, &wait, &err);
        if (src_rc == OLA_SRC_END)
            break;
        if (src_rc == OLA_SRC_FATAL) {
            if (a->replay) {
                fprintf(stderr, "olagent: %s\n", err.msg);
            } else {
                ola_log_err(OLA_AGENT_COMP, "stopping: %s", err.msg);
                OLA_STAT_SET(token_ok, 0);
            }
            rc = OLA_EXIT_RUNTIME;
            break;
        }
        if (src_rc != OLA_SRC_BATCH) {
            if (wait > 0) /* really idle, not between two windows */
                ola_agent_trim(a, &b);
            ola_wait(wait);
            continue;
        }
        a->trim_due = true;
        drc = ola_pipeline_deliver(&a->pipe, &b, ola_now_ms());
        if (drc == OLA_FATAL || (drc != OLA_OK && a->replay)) {
            rc = OLA_EXIT_RUNTIME;
            break;
        }
        if (drc != OLA_OK) {
            ola_log_warn(OLA_AGENT_COMP, "stopping before the batch in flight was "
                                         "acknowledged; it will be read again");
            break;
        }
        if (ola_source_commit(a->src, &b) != 0 ||
            (a->cp_ready && ola_agent_save(a) != 0)) {
            ola_log_err(OLA_AGENT_COMP, "the checkpoint could not be saved; stopping");
            rc = OLA_EXIT_RUNTIME;
            break;
        }
        OLA_STAT_ADD(batches, 1);
        ola_hist_observe(&ola_stats.batch_latency, ola_mono_ms() - b.fetched_mono_ms);
        ola_progress_tick(ola_mono_ms());
    }
    ola_batch_free(&b);
    return rc;
}

int ola_cmd_run(const char *config_path)
{
    struct ola_agent a;
    struct ola_err err = {0, ""};
    int rc;

    memset(&a, 0, sizeof(a));
    json_object_seed(0);
    rc = ola_agent_load_config(&a, config_path);
    if (rc != OLA_EXIT_OK)
        goto out;
    /* before anything touches the checkpoint or the outputs' files */
    a.lock = ola_lock_acquire(a.s.checkpoint.path, &err);
    if (a.lock == NULL) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_RUNTIME;
        goto out;
    }
    ola_agent_setup_logging(&a.s);
    rc = ola_agent_build_outputs(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    ola_cfg_log_warnings(a.doc); /* settings that weaken security, once */
    rc = ola_agent_connect(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    rc = ola_agent_load_checkpoint(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    a.src = ola_ol_source_new(&a.s.onelogin, a.client, &a.cp.pos, a.dead_letter, &err);
    if (a.src == NULL || ola_wait_install_signals() != 0) {
        ola_log_err(OLA_AGENT_COMP, "setup failed: %s", err.msg[0] ? err.msg : "signals");
        rc = OLA_EXIT_RUNTIME;
        goto out;
    }
    OLA_STAT_SET(started_ms, ola_now_ms());
    ola_progress_setup(a.s.log.progress, 0, 0);
    rc = ola_agent_start_metrics(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    ola_agent_publish(&a);
    ola_log_info(OLA_AGENT_COMP, "olagent %s tailing %s into %zu output(s)", OLA_VERSION,
                 a.s.onelogin.base_url, a.n_outputs);
    rc = ola_agent_loop(&a);
    ola_source_finish(a.src);
    ola_agent_enrich_summary(&a);
    if (ola_stop_requested)
        ola_log_info(OLA_AGENT_COMP,
                     "stopped by signal; %llu events delivered in this run",
                     (unsigned long long)OLA_STAT_GET(events_delivered));
out:
    ola_agent_free(&a);
    return rc;
}

int ola_cmd_replay_opts(const char *config_path, const char *events_path, bool enrich)
{
    struct ola_agent a;
    struct ola_err err = {0, ""};
    int rc;

    memset(&a, 0, sizeof(a));
    a.replay = true;
    rc = ola_agent_load_config(&a, config_path);
    if (rc != OLA_EXIT_OK)
        goto out;
    rc = ola_agent_build_outputs(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    if (enrich && !a.s.enrich_enabled) {
        fprintf(stderr, "olagent replay: --enrich, but the configuration turns "
                        "enrichment off\n");
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    if (enrich) {
        rc = ola_agent_connect(&a);
        if (rc != OLA_EXIT_OK)
            goto out;
    }
    /* the live source's dead-letter file, beside the checkpoint */
    a.src = ola_replay_source_new(events_path, a.dead_letter, &err);
    if (a.src == NULL) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    rc = ola_agent_loop(&a);
    ola_source_finish(a.src);
out:
    ola_agent_free(&a);
    return rc;
}
