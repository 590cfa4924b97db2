/*
 * tenant.c - one tenant's parts and its loop: tail, deliver, commit, save.
 *
 * The main thread makes a tenant (ola_tenant_new), takes its checkpoint lock,
 * builds its rules (ola_tenant_prepare) and starts its thread. The thread
 * binds its counters, its waker and its name in log lines, builds its API
 * client, enricher, checkpoint and source, then loops: it asks the source
 * for a batch, hands it to its pipeline (whose output steps take the shared
 * outputs' lock), and only when every output acknowledged it commits the
 * source and saves the checkpoint with the alert state. A reload hands it a
 * new conf, whose rules it builds between batches. A stop (SIGTERM, or the
 * main thread removing it) ends the loop after the batch in flight.
 *
 * Errors: with one tenant, what stops the tenant stops the process, as it
 * always did. With several, a tenant whose credential is refused (or whose
 * source fails for good) is marked down, logged once, and retried with a
 * long backoff while the others run; an output that can never deliver or a
 * checkpoint that cannot be saved still stops the process (exit_rc, fatal).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "agent/agent.h"
#include "agent/core/backoff.h"
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/stack.h"
#include "agent/core/timeutil.h"
#include "agent/enrich_adapter.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/source.h"
#include "agent/progress.h"
#include "agent/state/lock.h"
#include "agent/tenant.h"
#include "config/config.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "outputs/formats/format.h"

#define OLA_TENANT_COMP "agent"

/* A tenant that is down is tried again after this, doubling up to the max. */
#define OLA_TENANT_DOWN_BASE_MS (30 * 1000)
#define OLA_TENANT_DOWN_MAX_MS  (30 * 60 * 1000)
/* Its thread wakes at least this often meanwhile, so its heartbeat stays fresh. */
#define OLA_TENANT_BEAT_MS (30 * 1000)
/* The idle trim follows a page this big, or any events after this long. */
#define OLA_TENANT_TRIM_BODY     (64 * 1024)
#define OLA_TENANT_TRIM_EVERY_MS (10 * 60 * 1000)
#define OLA_TENANT_STACK_TRIM_MS 1000 /* waits this long or longer trim the stack */
/* A batch without events is saved at most this often (ola_tenant_checkpoint). */
#define OLA_TENANT_QUIET_SAVE_MS (60 * 1000)

/* ---- conf ------------------------------------------------------------------ */

struct ola_conf *ola_conf_load(const char *path, struct ola_err *err)
{
    struct ola_conf *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&c->refs, 1);
    if (ola_cfg_load_file(path, &c->doc, err) != 0 ||
        ola_settings_load(c->doc, ola_now_ms(), &c->s, err) != 0) {
        ola_cfg_doc_destroy(c->doc);
        free(c);
        return NULL;
    }
    return c;
}

struct ola_conf *ola_conf_hold(struct ola_conf *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void ola_conf_drop(struct ola_conf *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    ola_cfg_doc_destroy(c->doc);
    free(c);
}

/* ---- setup ------------------------------------------------------------------ */

/* A setup error: printed for a person when it stops the process, else logged. */
static int ola_tenant_fail(struct ola_tenant *t, int rc, const char *msg)
{
    if (t->env.lone)
        fprintf(stderr, "olagent: %s\n", msg);
    else
        ola_log_err(OLA_TENANT_COMP, "%s", msg);
    return rc;
}

struct ola_tenant *ola_tenant_new(struct ola_conf *conf, const struct ola_tenant_cfg *cfg,
                                  const struct ola_tenant_env *env, struct ola_err *err)
{
    struct ola_tenant *t = calloc(1, sizeof(*t));
    const char *base;

    if (t == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    if (ola_waker_init(&t->waker) != 0) {
        ola_err_set(err, errno, "cannot make a waker");
        free(t);
        return NULL;
    }
    t->conf = ola_conf_hold(conf);
    t->cfg = cfg;
    t->env = *env;
    ola_stats_init(&t->stats);
    atomic_init(&t->finished, false);
    atomic_init(&t->exit_rc, OLA_EXIT_OK);
    atomic_init(&t->fatal, false);
    atomic_init(&t->next, NULL);
    /* the lone tenant keeps the historical name; several need one each */
    base = conf->s.tenants_listed ? NULL : "dead-letter.ndjson";
    if (base == NULL) {
        char name[OLA_TENANT_NAME_MAX + 48];

        snprintf(name, sizeof(name), "source-dead-letter.%s.ndjson", cfg->name);
        if (ola_path_beside(cfg->checkpoint_path, name, t->dead_letter,
                            sizeof(t->dead_letter)) != 0)
            goto toolong;
    } else if (ola_path_beside(cfg->checkpoint_path, base, t->dead_letter,
                               sizeof(t->dead_letter)) != 0) {
        goto toolong;
    }
    t->pipe.out = env->out;
    t->pipe.backoff_max_ms = cfg->onelogin.backoff_max_ms;
    t->pipe.flush_timeout_ms = 1000;
    snprintf(t->snap.name, sizeof(t->snap.name), "%s", cfg->name);
    t->snap.stats = &t->stats;
    t->snap.poll_interval_ms = cfg->onelogin.poll_interval_ms;
    t->snap.rate_limit = t->snap.rate_remaining = -1;
    return t;
toolong:
    ola_err_set(err, ENAMETOOLONG, "checkpoint path too long: %s", cfg->checkpoint_path);
    ola_tenant_destroy(t);
    return NULL;
}

int ola_tenant_lock(struct ola_tenant *t, struct ola_err *err)
{
    t->lock = ola_lock_acquire(t->cfg->checkpoint_path, err);
    return t->lock != NULL ? 0 : -1;
}

/* The rules of t's conf. Returns 0 / -1 with err. */
static int ola_tenant_build_rules(struct ola_tenant *t, struct ola_err *err)
{
    struct ola_rules_settings rs;

    ola_settings_rules(&t->conf->s, &rs);
    t->rules = ola_rules_new(&rs, t->conf->s.rules.catalog_path, t->env.output_names,
                             t->env.out->n_outputs, err);
    t->pipe.rules = t->rules;
    return t->rules != NULL ? 0 : -1;
}

/* The API client, and the enricher when enrichment is on. Returns an exit code. */
static int ola_tenant_connect(struct ola_tenant *t)
{
    const struct ola_settings *s = &t->conf->s;
    struct ola_err err = {0, ""};
    struct ola_ol_opts o;
    char msg[OLA_ERR_MSG_MAX + 16];

    ola_client_opts(&t->cfg->onelogin, s, &o);
    if (ola_ol_client_new(&o, &t->client, &err) != 0)
        return ola_tenant_fail(t, OLA_EXIT_CONFIG, err.msg);
    if (s->enrich_enabled) {
        struct ola_enrich_api api;

        if (ola_enricher_new(&s->enrich_opts, ola_enrich_onelogin_api(t->client, &api),
                             &t->enricher, &err) != 0) {
            snprintf(msg, sizeof(msg), "%s%s", t->env.replay ? "" : "enrich: ", err.msg);
            return ola_tenant_fail(t, OLA_EXIT_CONFIG, msg);
        }
        t->pipe.enricher = t->enricher;
    }
    return OLA_EXIT_OK;
}

/* Loads the checkpoint (or starts fresh) and restores the alert state. */
static int ola_tenant_load_checkpoint(struct ola_tenant *t)
{
    const struct ola_ol_settings *ol = &t->cfg->onelogin;
    const char *path = t->cfg->checkpoint_path;
    struct ola_err err = {0, ""};
    bool found = false;

    if (ola_checkpoint_init(&t->cp) != 0) {
        ola_log_err(OLA_TENANT_COMP, "out of memory");
        return OLA_EXIT_RUNTIME;
    }
    t->cp_ready = true;
    /* over its bound, the seen set loses the ids older than the overlap first */
    t->cp.overlap_ms = ol->overlap_ms;
    if (ola_checkpoint_load(path, &t->cp, &found, &err) != 0) {
        ola_log_err(OLA_TENANT_COMP, "%s", err.msg);
        return OLA_EXIT_RUNTIME;
    }
    /* nothing read yet (no file, or one saved before the first window ended, or
     * by an olagent that kept no start): the configured start, kept from now on */
    if (t->cp.pos.watermark_ms < 0 && t->cp.pos.start_ms < 0)
        t->cp.pos.start_ms = ol->start_ms;
    if (!found) {
        char start[OLA_ISO_MAX];

        ola_time_format_iso(ol->start_ms, start, sizeof(start));
        ola_log_info(OLA_TENANT_COMP, "no checkpoint at %s: starting from %s (%s)", path,
                     start, ol->start);
    } else {
        char wm[OLA_ISO_MAX] = "none";

        if (t->cp.pos.watermark_ms >= 0)
            ola_time_format_iso(t->cp.pos.watermark_ms, wm, sizeof(wm));
        ola_log_info(OLA_TENANT_COMP,
                     "checkpoint %s: watermark %s, %zu ids in the overlap", path, wm,
                     ola_seen_count(t->cp.pos.seen));
    }
    if (t->cp.alerts != NULL &&
        ola_rules_state_restore(t->rules, t->cp.alerts, &err) != 0) {
        ola_log_err(OLA_TENANT_COMP, "checkpoint %s: alert state: %s", path, err.msg);
        return OLA_EXIT_RUNTIME;
    }
    json_decref(t->cp.alerts); /* the rules hold it now; each save makes it anew */
    t->cp.alerts = NULL;
    OLA_STAT_SET(watermark_ms, t->cp.pos.watermark_ms);
    return OLA_EXIT_OK;
}

/* Builds what `run` needs, on the tenant's thread. Returns an exit code. */
static int ola_tenant_setup(struct ola_tenant *t)
{
    struct ola_err err = {0, ""};
    int rc;

    rc = ola_tenant_connect(t); /* the rules came with the thread */
    if (rc != OLA_EXIT_OK)
        return rc;
    rc = ola_tenant_load_checkpoint(t);
    if (rc != OLA_EXIT_OK)
        return rc;
    t->src =
        ola_ol_source_new(&t->cfg->onelogin, t->client, &t->cp.pos, t->dead_letter, &err);
    if (t->src == NULL) {
        ola_log_err(OLA_TENANT_COMP, "setup failed: %s", err.msg);
        return OLA_EXIT_RUNTIME;
    }
    return OLA_EXIT_OK;
}

int ola_tenant_setup_replay(struct ola_tenant *t, bool enrich)
{
    struct ola_err err = {0, ""};

    if (ola_tenant_build_rules(t, &err) != 0)
        return ola_tenant_fail(t, OLA_EXIT_CONFIG, err.msg);
    return enrich ? ola_tenant_connect(t) : OLA_EXIT_OK;
}

/* ---- the loop --------------------------------------------------------------- */

/*
 * Saves the checkpoint, retrying with backoff until it works or time is up.
 * The alert state goes in as text written one key at a time and lives only
 * in its buffer: an idle tenant keeps its alert state once, in the rules, and
 * a save never builds it as a tree (3,700 keys: 2.9 MB of Jansson values, for
 * 360 KB of text). While big pages come (a trim is due: a backfill, a late
 * sweep, which save after every page) the buffer is kept from one save to
 * the next, since a fresh megabyte faulted in at every save was a tenth of a
 * backfill's CPU, and the idle trim (ola_tenant_trim) frees it; after any
 * other save it goes at once, so a quiet tenant does not hold its alert
 * state twice. The last size is the hint for the next first reserve, so the
 * text is not grown by doubling.
 */
static int ola_tenant_save(struct ola_tenant *t)
{
    struct ola_err err = {0, ""};
    struct ola_backoff bo;
    struct ola_buf *alerts = &t->alerts_text;
    bool failing = false;
    int rc = 0;

    json_decref(t->cp.alerts);
    t->cp.alerts = NULL;
    ola_buf_reset(alerts);
    if (ola_buf_reserve(alerts, t->alerts_len_hint + t->alerts_len_hint / 8) != 0 ||
        ola_rules_state_save_text(t->rules, alerts) != 0) {
        ola_log_err(OLA_TENANT_COMP, "the alert state could not be written out (out of "
                                     "memory)");
        ola_buf_free(alerts);
        return -1;
    }
    t->cp.alerts_text = alerts->data;
    t->cp.alerts_len = alerts->len;
    t->alerts_len_hint = alerts->len;
    ola_backoff_init(&bo, 500, t->cfg->onelogin.backoff_max_ms, 0);
    while (ola_checkpoint_save(t->cfg->checkpoint_path, &t->cp, &err) != 0) {
        OLA_STAT_ADD(checkpoint_errors, 1);
        if (!failing)
            ola_log_err(OLA_TENANT_COMP, "%s; retrying", err.msg);
        failing = true;
        if (ola_pipeline_out_of_time(&t->pipe)) {
            rc = -1;
            goto done;
        }
        ola_wait(ola_backoff_next(&bo));
    }
    if (failing)
        ola_log_info(OLA_TENANT_COMP, "checkpoint saved again");
    OLA_STAT_SET(checkpoint_ms, ola_now_ms());
    t->saved_mono_ms = ola_mono_ms();
    t->cp_unsaved = false;
done:
    t->cp.alerts_text = NULL;
    t->cp.alerts_len = 0;
    if (!t->trim_due)
        ola_buf_free(alerts);
    return rc;
}

/*
 * The checkpoint after a delivered batch. A batch with events is saved at
 * once: the checkpoint must name them delivered before the next fetch. One
 * without events (a quiet poll, a page of events already seen) only moves the
 * window; its save can wait, up to OLA_TENANT_QUIET_SAVE_MS and at most until
 * the tenant stops: a restart from the older position reads those seconds
 * again and the seen set, saved with the last events, drops what they hold
 * that was delivered. An idle tenant so writes its checkpoint (the whole alert
 * state) once a minute, not at every poll.
 */
static int ola_tenant_checkpoint(struct ola_tenant *t, const struct ola_batch *b)
{
    if (!t->cp_ready)
        return 0;
    if (b->n == 0 && ola_mono_ms() - t->saved_mono_ms < OLA_TENANT_QUIET_SAVE_MS) {
        t->cp_unsaved = true;
        return 0;
    }
    return ola_tenant_save(t);
}

/* A reload's conf: the rules are built again from it, their alert state kept. */
static void ola_tenant_reload_rules(struct ola_tenant *t, struct ola_conf *conf)
{
    struct ola_err err = {0, ""};
    struct ola_rules_settings rs;
    struct ola_rules *fresh;
    json_t *state;

    ola_settings_rules(&conf->s, &rs);
    fresh = ola_rules_new(&rs, conf->s.rules.catalog_path, t->env.output_names,
                          t->env.out->n_outputs, &err);
    if (fresh == NULL) {
        ola_log_err(OLA_TENANT_COMP, "rules not reloaded, the old rules stay: %s",
                    err.msg);
        ola_conf_drop(conf);
        return;
    }
    state = ola_rules_state_save(t->rules);
    if (state != NULL && ola_rules_state_restore(fresh, state, &err) != 0)
        ola_log_warn(OLA_TENANT_COMP, "alert state not carried over: %s", err.msg);
    json_decref(state);
    ola_rules_destroy(t->rules);
    t->rules = fresh;
    t->pipe.rules = fresh;
    /* the tenant's own settings stay those it started with (cfg, in its conf) */
    ola_conf_drop(conf);
    ola_log_info(OLA_TENANT_COMP, "rules reloaded");
}

/* Copies what the metrics thread may show; plain copies, no shared pointers. */
static void ola_tenant_publish(struct ola_tenant *t)
{
    struct ola_metrics_tenant *sn = &t->snap;
    const struct ola_ol_counters *ctr;
    const struct ola_rules_stats *rs;
    struct ola_ol_rate rate;
    size_t i;

    if (t->env.metrics == NULL)
        return;
    if (t->client != NULL) {
        ctr = ola_ol_counters(t->client);
        sn->api_requests = ctr->requests;
        sn->api_token_requests = ctr->token_requests;
        sn->api_rate_limited = ctr->rate_limited;
        sn->api_retries = ctr->retries;
        sn->api_paced_ms = ctr->paced_ms;
        sn->api_clock_rejected = ctr->clock_rejected;
        memcpy(sn->api_by_endpoint, ctr->by_endpoint, sizeof(sn->api_by_endpoint));
        ola_ol_rate(t->client, &rate);
        sn->rate_limit = rate.limit;
        sn->rate_remaining = rate.remaining;
    }
    if (t->rules != NULL) {
        rs = ola_rules_stats(t->rules);
        sn->rules_dropped = rs->dropped;
        sn->rules_alerts = rs->alerts;
        sn->rules_state_capped = rs->state_capped;
        sn->rules_state_evicted = rs->state_evicted;
        sn->n_rules = ola_rules_alert_count(t->rules);
        if (sn->n_rules > OLA_METRICS_MAX_RULES)
            sn->n_rules = OLA_METRICS_MAX_RULES;
        for (i = 0; i < sn->n_rules; i++) {
            snprintf(sn->rules[i].name, sizeof(sn->rules[i].name), "%s",
                     ola_rules_alert_name(t->rules, i));
            sn->rules[i].alerts = ola_rules_alerts_raised(t->rules, i);
        }
    }
    sn->seen_ids = t->cp_ready ? ola_seen_count(t->cp.pos.seen) : 0;
    if (t->enricher != NULL) {
        struct ola_enrich_stats es;

        ola_enricher_stats(t->enricher, &es);
        sn->enrich_hits = es.hits;
        sn->enrich_misses = es.misses;
        sn->enrich_evictions = es.evictions;
        sn->enrich_deferred = es.deferred;
    }
    sn->down = t->down;
    (void)ola_metrics_publish_tenant(t->env.metrics, sn);
}

/* The shared outputs' figures, read under their lock. */
static void ola_tenant_publish_outputs(struct ola_tenant *t, bool wait)
{
    struct ola_outputs_shared *sh = t->env.out;
    struct ola_metrics_outputs *mo;
    size_t i;

    if (t->env.metrics == NULL || (mo = calloc(1, sizeof(*mo))) == NULL)
        return;
    /* idle, not after a batch: never wait for another tenant's delivery */
    if (!wait && pthread_mutex_trylock(&sh->lock) != 0) {
        free(mo);
        return;
    }
    if (wait)
        pthread_mutex_lock(&sh->lock);
    mo->n_outputs = sh->n_outputs;
    for (i = 0; i < sh->n_outputs && i < OLA_METRICS_MAX_OUTPUTS; i++) {
        const struct ola_output *o = sh->outputs[i];
        struct ola_output_stats st;
        struct ola_spool_figures sf;

        /* a spooled output's drain may be inside it: read under its lock */
        ola_outputs_shared_figures(sh, i, &st, &mo->outputs[i].ok,
                                   &mo->outputs[i].spooled, &sf);
        snprintf(mo->outputs[i].name, sizeof(mo->outputs[i].name), "%s", o->name);
        snprintf(mo->outputs[i].type, sizeof(mo->outputs[i].type), "%s", o->ops->name);
        mo->outputs[i].emitted = st.emitted;
        mo->outputs[i].errors = st.errors;
        mo->outputs[i].dead_letters = st.dead_letters;
        mo->outputs[i].truncated = st.truncated;
        mo->outputs[i].req = st.req;
        mo->outputs[i].spool_bytes = sf.bytes;
        mo->outputs[i].spool_oldest_ms = sf.oldest_ms;
    }
    pthread_mutex_unlock(&sh->lock);
    ola_metrics_publish_outputs(t->env.metrics, mo);
    free(mo);
}

/*
 * Gives what the last batches grew back to the kernel when the tenant waits
 * for the next poll: the batch's arena is unmapped, the pipeline drops the
 * buffers it keeps for reuse, the client closes its lookups' handles and
 * connections (built again at the next lookups), and glibc's heap, where a
 * backfill's big pages left free chunks that free() alone does not return, is
 * trimmed. After every big page (a backfill's, a late sweep's), so an agent
 * tailing quietly for months does not keep its catch-up peak, and at least
 * every OLA_TENANT_TRIM_EVERY_MS while events trickle in (the alert state's and
 * the cache's compaction run here); not after each quiet poll, whose few pages
 * the next poll would only fault in again (with 50 tenants, a fifth of a core
 * in page faults and TLB shootdowns; the loop trims the stack at every wait).
 */
static void ola_tenant_trim(struct ola_tenant *t, struct ola_batch *b)
{
    if (!t->trim_due)
        return;
    t->trim_due = false;
    t->trimmed_mono_ms = ola_mono_ms();
    ola_batch_trim(b);
    ola_pipeline_trim(&t->pipe);
    ola_ol_lookups_trim(t->client);
    ola_buf_free(&t->alerts_text);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* One line on what enrichment did, at exit. */
static void ola_tenant_enrich_summary(const struct ola_tenant *t)
{
    struct ola_enrich_stats es;

    if (t->enricher == NULL)
        return;
    ola_enricher_stats(t->enricher, &es);
    ola_log_info(
        OLA_TENANT_COMP,
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

/*
 * The source failed for good (credential refused, ...). Returns true when
 * the tenant should stop (the lone tenant: the process stops with it), false
 * after marking it down and waiting its turn to try again.
 */
static bool ola_tenant_source_fatal(struct ola_tenant *t, struct ola_backoff *down_bo,
                                    const struct ola_err *err)
{
    int64_t until;

    OLA_STAT_SET(token_ok, 0);
    if (t->env.replay) {
        fprintf(stderr, "olagent: %s\n", err->msg);
        return true;
    }
    if (t->env.lone) {
        ola_log_err(OLA_TENANT_COMP, "stopping: %s", err->msg);
        return true;
    }
    until = ola_mono_ms() + ola_backoff_next(down_bo);
    if (!t->down)
        ola_log_err(OLA_TENANT_COMP,
                    "tenant down: %s; the other tenants go on, this one is tried again "
                    "with a backoff of up to %d minutes",
                    err->msg, OLA_TENANT_DOWN_MAX_MS / 60000);
    t->down = true;
    /* the reason as far as it fits: /readyz shows its start */
    if (snprintf(t->snap.down_reason, sizeof(t->snap.down_reason), "down: %.150s",
                 err->msg) < 0)
        t->snap.down_reason[0] = '\0';
    while (!ola_stopping() && ola_mono_ms() < until) {
        int64_t left = until - ola_mono_ms();

        OLA_STAT_SET(loop_alive_ms, ola_now_ms());
        ola_tenant_publish(t);
        ola_wait(left < OLA_TENANT_BEAT_MS ? left : OLA_TENANT_BEAT_MS);
    }
    return false;
}

/* The tenant answered again after being down. */
static void ola_tenant_recovered(struct ola_tenant *t, struct ola_backoff *down_bo)
{
    if (!t->down)
        return;
    t->down = false;
    t->snap.down_reason[0] = '\0';
    ola_backoff_reset(down_bo);
    ola_log_info(OLA_TENANT_COMP, "tenant up again");
}

/* The loop. Returns an exit code; sets t->fatal when the process must stop. */
static int ola_tenant_loop(struct ola_tenant *t)
{
    struct ola_batch b;
    struct ola_err err = {0, ""};
    struct ola_backoff down_bo;
    int rc = OLA_EXIT_OK;

    ola_batch_init(&b);
    ola_backoff_init(&down_bo, OLA_TENANT_DOWN_BASE_MS, OLA_TENANT_DOWN_MAX_MS, 0);
    while (!ola_stopping()) {
        struct ola_conf *next = atomic_exchange(&t->next, NULL);
        enum ola_src_rc src_rc;
        enum ola_rc drc;
        int64_t wait = 0;

        OLA_STAT_SET(loop_alive_ms, ola_now_ms());
        ola_tenant_publish(t);
        if (next != NULL)
            ola_tenant_reload_rules(t, next);
        b.tenant = t->cfg->name;
        src_rc = ola_source_next(t->src, &b, &wait, &err);
        if (src_rc == OLA_SRC_END)
            break;
        if (src_rc == OLA_SRC_FATAL) {
            if (ola_tenant_source_fatal(t, &down_bo, &err)) {
                rc = OLA_EXIT_RUNTIME;
                atomic_store(&t->fatal, true);
                break;
            }
            continue;
        }
        if (src_rc != OLA_SRC_RETRY)
            ola_tenant_recovered(t, &down_bo);
        if (src_rc != OLA_SRC_BATCH) {
            if (wait > 0) /* really idle, not between two windows */
                ola_tenant_trim(t, &b);
            ola_tenant_publish_outputs(t, false); /* spools drain while it is quiet */
            /* waiting, it needs the loop's stack, not its last poll's deepest */
            if (wait >= OLA_TENANT_STACK_TRIM_MS)
                ola_stack_trim();
            ola_wait(wait);
            continue;
        }
        if (b.body_len >= OLA_TENANT_TRIM_BODY ||
            (b.n > 0 && ola_mono_ms() - t->trimmed_mono_ms >= OLA_TENANT_TRIM_EVERY_MS))
            t->trim_due = true;
        drc = ola_pipeline_deliver(&t->pipe, &b, ola_now_ms());
        ola_tenant_publish_outputs(t, true);
        if (drc == OLA_FATAL || (drc != OLA_OK && t->env.replay)) {
            rc = OLA_EXIT_RUNTIME;
            atomic_store(&t->fatal, true);
            break;
        }
        if (drc != OLA_OK) {
            ola_log_warn(OLA_TENANT_COMP, "stopping before the batch in flight was "
                                          "acknowledged; it will be read again");
            break;
        }
        if (ola_source_commit(t->src, &b) != 0 || ola_tenant_checkpoint(t, &b) != 0) {
            ola_log_err(OLA_TENANT_COMP, "the checkpoint could not be saved; stopping");
            rc = OLA_EXIT_RUNTIME;
            atomic_store(&t->fatal, true);
            break;
        }
        OLA_STAT_ADD(batches, 1);
        ola_hist_observe(&ola_stats_here->batch_latency,
                         ola_mono_ms() - b.fetched_mono_ms);
        if (t->env.lone)
            ola_progress_tick(ola_mono_ms());
    }
    if (rc == OLA_EXIT_OK && t->cp_unsaved && ola_tenant_save(t) != 0) {
        ola_log_err(OLA_TENANT_COMP, "the checkpoint could not be saved at stop");
        rc = OLA_EXIT_RUNTIME;
        atomic_store(&t->fatal, true);
    }
    ola_tenant_publish(t);
    ola_batch_free(&b);
    return rc;
}

int ola_tenant_run(struct ola_tenant *t)
{
    int rc;

    ola_stats_bind(t->env.lone ? NULL : &t->stats);
    if (t->env.lone)
        t->snap.stats = &ola_stats;
    rc = ola_tenant_loop(t);
    ola_source_finish(t->src);
    return rc;
}

/* Frees the parts the tenant's thread built (Jansson values among them). */
static void ola_tenant_teardown(struct ola_tenant *t)
{
    ola_source_destroy(t->src);
    t->src = NULL;
    ola_rules_destroy(t->rules);
    t->rules = t->pipe.rules = NULL;
    ola_enricher_destroy(t->enricher);
    t->enricher = t->pipe.enricher = NULL;
    ola_ol_client_destroy(t->client);
    t->client = NULL;
    if (t->cp_ready)
        ola_checkpoint_free(&t->cp);
    t->cp_ready = false;
    ola_buf_free(&t->alerts_text);
}

static void *ola_tenant_main(void *arg)
{
    struct ola_tenant *t = arg;
    int rc;

    /* the lone tenant counts in the process-wide counters, as olagent always did */
    ola_stats_bind(t->env.lone ? NULL : &t->stats);
    if (t->env.lone)
        t->snap.stats = &ola_stats;
    ola_wait_bind(&t->waker);
    if (t->cfg->node != NULL)
        ola_log_set_tenant(t->cfg->name);
    rc = ola_tenant_setup(t);
    if (rc != OLA_EXIT_OK) {
        /* the lone tenant stops the process; one of several is down, not retried:
         * its setup fails for a reason a retry does not change (a broken checkpoint,
         * a bad CA file), so the operator fixes it and sends SIGHUP or restarts */
        atomic_store(&t->fatal, t->env.lone);
        if (!t->env.lone) {
            t->down = true;
            snprintf(t->snap.down_reason, sizeof(t->snap.down_reason),
                     "down: setup failed (see the log)");
            OLA_STAT_SET(loop_alive_ms, ola_now_ms());
            ola_tenant_publish(t);
            /* stays registered (and unready) until stopped */
            while (!ola_stopping()) {
                OLA_STAT_SET(loop_alive_ms, ola_now_ms());
                ola_wait(OLA_TENANT_BEAT_MS);
            }
        }
    } else {
        rc = ola_tenant_loop(t);
        ola_source_finish(t->src);
        ola_tenant_enrich_summary(t);
        if (!ola_stopping()) /* ended by itself: the main thread stops the process */
            atomic_store(&t->fatal, true);
    }
    /* what this thread made goes on this thread: the format memo, then the values
     * it holds references to (the enricher's trees live in an arena of this thread) */
    ola_format_release_all();
    ola_tenant_teardown(t);
    atomic_store(&t->exit_rc, rc);
    atomic_store(&t->finished, true);
    ola_wait_wake(); /* the main thread looks at what ended */
    return NULL;
}

int ola_tenant_prepare(struct ola_tenant *t, struct ola_err *err)
{
    return t->rules != NULL ? 0 : ola_tenant_build_rules(t, err);
}

int ola_tenant_start(struct ola_tenant *t, struct ola_err *err)
{
    int rc;

    if (ola_tenant_prepare(t, err) != 0)
        return -1;
    rc = pthread_create(&t->thread, NULL, ola_tenant_main, t);
    if (rc != 0)
        return ola_err_set(err, rc, "cannot start the thread of tenant %s", t->cfg->name);
    t->started = true;
    return 0;
}

void ola_tenant_stop(struct ola_tenant *t)
{
    ola_waker_stop(&t->waker);
}

void ola_tenant_reload(struct ola_tenant *t, struct ola_conf *conf)
{
    ola_conf_drop(atomic_exchange(&t->next, conf));
    ola_waker_kick(&t->waker);
}

bool ola_tenant_join(struct ola_tenant *t, bool block)
{
    if (!t->started)
        return true;
    if (!block && !atomic_load(&t->finished))
        return false;
    pthread_join(t->thread, NULL);
    t->started = false;
    return true;
}

void ola_tenant_destroy(struct ola_tenant *t)
{
    if (t == NULL)
        return;
    ola_tenant_join(t, true);
    ola_metrics_remove_tenant(t->env.metrics, t->snap.name);
    ola_tenant_teardown(t);
    ola_lock_release(t->lock); /* last: the checkpoint saved under it */
    ola_conf_drop(atomic_exchange(&t->next, NULL));
    ola_conf_drop(t->conf);
    ola_waker_destroy(&t->waker);
    free(t);
}
