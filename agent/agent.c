/*
 * agent.c - the agent's lifecycle: set up, run the tenants, reload, stop.
 *
 * `run` loads the configuration, builds the outputs every tenant shares
 * (and checks the rules once, so a bad rule file stops it before anything
 * runs), takes each tenant's checkpoint lock, starts the metrics endpoint
 * and one thread per tenant (tenant.c), then waits for signals on the main
 * thread. Signals only set flags: SIGHUP reloads the configuration between
 * batches (tenants added start, tenants removed stop after their batch in
 * flight, tenants whose settings changed restart, the others keep their
 * connections and caches and only rebuild their rules; outputs are
 * reopened); SIGTERM/SIGINT let every batch in flight finish within
 * shutdown_timeout, then the agent exits 0. A tenant that must stop the
 * process (an output that can never deliver, a checkpoint that cannot be
 * saved, the lone tenant's credential refused) wakes the main thread, which
 * stops the others and exits 1. `replay` runs one tenant on the main thread
 * with the replay source (replay.c) through the same outputs, rules and
 * loop, without a lock, checkpoint or signals, until its input ends.
 *
 * Why threads, not one event loop: docs/architecture.md ("Many tenants").
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/source.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "agent/core/wait.h"
#include "agent/metrics.h"
#include "agent/pipeline.h"
#include "agent/progress.h"
#include "agent/replay.h"
#include "agent/settings.h"
#include "agent/tenant.h"
#include "config/config.h"
#include "filters/rules/filter.h"
#include "outputs/formats/format.h"
#include "outputs/output.h"

#define OLA_AGENT_COMP "agent"

/* The main thread looks at its tenants at least this often. */
#define OLA_AGENT_TICK_MS 1000

struct ola_agent {
    bool replay;
    bool lone;             /* started with one tenant: its errors stop the process */
    struct ola_conf *conf; /* the configuration in force */
    struct ola_output *outputs[OLA_MAX_OUTPUTS];
    const char *output_names[OLA_MAX_OUTPUTS];
    size_t n_outputs;
    struct ola_outputs_shared out;
    bool out_ready;
    struct ola_metrics *metrics;
    struct ola_tenant **tenants; /* running, or stopping (listed in stopping too) */
    size_t n_tenants, cap_tenants;
    bool want_start; /* a reload asked for tenants that do not run yet */
};

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

/* The output dead letters' directory: checkpoint.path's, cut before any {tenant}. */
static int ola_agent_dead_letter_base(const struct ola_settings *s, char *out, size_t n)
{
    const char *mark = strstr(s->checkpoint.path, "{tenant}");
    size_t len =
        mark != NULL ? (size_t)(mark - s->checkpoint.path) : strlen(s->checkpoint.path);

    if (mark == NULL)
        return snprintf(out, n, "%s", s->checkpoint.path) < (int)n ? 0 : -1;
    /* "./state/{tenant}.json" -> "./state/x": only its directory is used */
    return snprintf(out, n, "%.*sx", (int)len, s->checkpoint.path) < (int)n ? 0 : -1;
}

/* Builds the outputs and checks the rule set. Returns an exit code. */
static int ola_agent_build_outputs(struct ola_agent *a)
{
    const struct ola_settings *s = &a->conf->s;
    struct ola_err err = {0, ""};
    struct ola_rules_settings rs;
    struct ola_rules *check;
    char base[PATH_MAX];
    size_t i;

    for (i = 0; i < s->n_outputs; i++) {
        a->outputs[i] = ola_output_new(&s->outputs[i], (unsigned)i, &err);
        if (a->outputs[i] == NULL)
            goto fail;
        a->output_names[i] = a->outputs[i]->name;
        a->n_outputs++;
    }
    /* the tenants build their own; a mistake in a rule file stops the start here */
    ola_settings_rules(s, &rs);
    check =
        ola_rules_new(&rs, s->rules.catalog_path, a->output_names, a->n_outputs, &err);
    if (check == NULL)
        goto fail;
    ola_rules_destroy(check);
    if (ola_outputs_shared_init(&a->out, a->outputs, a->n_outputs, &err) != 0)
        goto fail;
    a->out_ready = true;
    a->out.shutdown_timeout_ms = s->shutdown_timeout_ms;
    if (ola_agent_dead_letter_base(s, base, sizeof(base)) != 0) {
        ola_err_set(&err, ENAMETOOLONG, "checkpoint.path too long");
        goto fail;
    }
    if (ola_pipeline_dead_letters(&a->out, base, &err) != 0)
        goto fail;
    return OLA_EXIT_OK;
fail:
    fprintf(stderr, "olagent: %s\n", err.msg);
    return OLA_EXIT_CONFIG;
}

static void ola_agent_free(struct ola_agent *a)
{
    size_t i;

    for (i = 0; i < a->n_tenants; i++)
        ola_tenant_destroy(a->tenants[i]);
    free(a->tenants);
    ola_metrics_stop(a->metrics);
    if (a->out_ready)
        ola_outputs_shared_destroy(&a->out);
    for (i = 0; i < a->n_outputs; i++)
        ola_output_destroy(a->outputs[i]);
    ola_conf_drop(a->conf);
}

/* What a tenant started now shares; only the first of a lone start is lone. */
static struct ola_tenant_env ola_agent_env(struct ola_agent *a)
{
    struct ola_tenant_env env = {&a->out, a->output_names, a->metrics,
                                 a->lone && a->n_tenants == 0, a->replay};

    return env;
}

/* Events delivered in this run, every tenant's. */
static unsigned long long ola_agent_delivered(const struct ola_agent *a)
{
    unsigned long long n = OLA_STAT_OF(&ola_stats, events_delivered);
    size_t i;

    for (i = 0; i < a->n_tenants; i++)
        if (!a->tenants[i]->env.lone)
            n += OLA_STAT_OF(&a->tenants[i]->stats, events_delivered);
    return n;
}

/* Makes, locks and (start) starts the tenant cfg of conf. Returns it or NULL. */
static struct ola_tenant *ola_agent_add(struct ola_agent *a, struct ola_conf *conf,
                                        const struct ola_tenant_cfg *cfg, bool start,
                                        struct ola_err *err)
{
    struct ola_tenant_env env = ola_agent_env(a);
    struct ola_tenant *t;

    if (OLA_VEC_GROW(a->tenants, a->cap_tenants, a->n_tenants + 1) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    t = ola_tenant_new(conf, cfg, &env, err);
    if (t == NULL)
        return NULL;
    if (!a->replay && ola_tenant_lock(t, err) != 0) {
        ola_tenant_destroy(t);
        return NULL;
    }
    if (start && ola_tenant_start(t, err) != 0) {
        ola_tenant_destroy(t);
        return NULL;
    }
    a->tenants[a->n_tenants++] = t;
    return t;
}

/* Starts the metrics endpoint when configured. Returns an exit code. */
static int ola_agent_start_metrics(struct ola_agent *a)
{
    const struct ola_settings *s = &a->conf->s;
    struct ola_metrics_cfg mc;
    struct ola_err err = {0, ""};

    if (!s->metrics.enabled)
        return OLA_EXIT_OK;
    memset(&mc, 0, sizeof(mc));
    mc.listen = s->metrics.listen;
    mc.poll_interval_ms = s->onelogin.poll_interval_ms;
    if (ola_metrics_start(&mc, &a->metrics, &err) != 0) {
        ola_log_err(OLA_AGENT_COMP, "metrics: %s", err.msg);
        return OLA_EXIT_RUNTIME;
    }
    ola_log_info(OLA_AGENT_COMP, "metrics on %s (port %d): /metrics /healthz /readyz",
                 s->metrics.listen, ola_metrics_port(a->metrics));
    return OLA_EXIT_OK;
}

/* True when two tenants' settings are the same (the tenant need not restart). */
static bool ola_agent_same_tenant(const struct ola_tenant_cfg *x,
                                  const struct ola_tenant_cfg *y)
{
    return strcmp(x->checkpoint_path, y->checkpoint_path) == 0 &&
           ola_ol_settings_equal(&x->onelogin, &y->onelogin);
}

/* The running tenant called name (not one that is stopping), or NULL. */
static struct ola_tenant *ola_agent_find(struct ola_agent *a, const char *name)
{
    size_t i;

    for (i = 0; i < a->n_tenants; i++)
        if (!atomic_load(&a->tenants[i]->waker.stop) &&
            strcmp(a->tenants[i]->cfg->name, name) == 0)
            return a->tenants[i];
    return NULL;
}

/* True when a tenant called name still holds its checkpoint (stopping). */
static bool ola_agent_stopping(struct ola_agent *a, const char *name)
{
    size_t i;

    for (i = 0; i < a->n_tenants; i++)
        if (atomic_load(&a->tenants[i]->waker.stop) &&
            strcmp(a->tenants[i]->cfg->name, name) == 0)
            return true;
    return false;
}

/*
 * SIGHUP: the configuration read again. Outputs reopen; each tenant keeps
 * running with new rules, restarts (its settings changed), stops (gone) or
 * starts (new). A configuration that does not load changes nothing.
 */
static void ola_agent_reload(struct ola_agent *a)
{
    struct ola_err err = {0, ""};
    struct ola_conf *fresh;
    size_t i;

    ola_reload_requested = 0;
    ola_log_info(OLA_AGENT_COMP,
                 "SIGHUP: reopening outputs, reloading the configuration");
    pthread_mutex_lock(&a->out.lock);
    for (i = 0; i < a->n_outputs; i++)
        if (ola_output_reopen(a->outputs[i], &err) != 0)
            ola_plg_log(OLA_LOG_ERR, a->outputs[i], "reopen failed: %s", err.msg);
    pthread_mutex_unlock(&a->out.lock);
    fresh = ola_conf_load(a->conf->s.path, &err);
    if (fresh == NULL) {
        ola_log_err(OLA_AGENT_COMP, "configuration not reloaded, the old one stays: %s",
                    err.msg);
        return;
    }
    for (i = 0; i < a->n_tenants; i++) {
        struct ola_tenant *t = a->tenants[i];
        const struct ola_tenant_cfg *now;

        if (atomic_load(&t->waker.stop))
            continue;
        now = ola_settings_tenant(&fresh->s, t->cfg->name);
        if (now != NULL && ola_agent_same_tenant(t->cfg, now)) {
            ola_tenant_reload(t, ola_conf_hold(fresh));
            continue;
        }
        ola_log_info(OLA_AGENT_COMP, "tenant %s %s: stopping after its batch in flight",
                     t->cfg->name, now == NULL ? "removed" : "changed");
        ola_tenant_stop(t);
    }
    ola_conf_drop(a->conf);
    a->conf = fresh; /* tenants to start are started by ola_agent_tend */
    a->want_start = true;
}

/*
 * Joins tenants that ended, and starts the configuration's tenants that do
 * not run (new ones; changed ones once their old self let go of the
 * checkpoint). Returns an exit code: not OK when a tenant must stop the process.
 */
static int ola_agent_tend(struct ola_agent *a)
{
    struct ola_err err = {0, ""};
    size_t i, kept = 0;
    int rc = OLA_EXIT_OK;

    for (i = 0; i < a->n_tenants; i++) {
        struct ola_tenant *t = a->tenants[i];

        if (atomic_load(&t->fatal) && rc == OLA_EXIT_OK)
            rc = atomic_load(&t->exit_rc) != OLA_EXIT_OK ? atomic_load(&t->exit_rc)
                                                         : OLA_EXIT_RUNTIME;
        if (atomic_load(&t->waker.stop) && ola_tenant_join(t, false)) {
            ola_log_info(OLA_AGENT_COMP, "tenant %s stopped", t->cfg->name);
            ola_tenant_destroy(t);
            continue;
        }
        a->tenants[kept++] = t;
    }
    a->n_tenants = kept;
    if (rc != OLA_EXIT_OK || ola_stop_requested || !a->want_start)
        return rc;
    a->want_start = false;
    for (i = 0; i < a->conf->s.n_tenants; i++) {
        const struct ola_tenant_cfg *cfg = &a->conf->s.tenants[i];

        if (ola_agent_find(a, cfg->name) != NULL)
            continue;
        if (ola_agent_stopping(a, cfg->name)) {
            a->want_start = true; /* its old self still holds the checkpoint */
            continue;
        }
        if (ola_agent_add(a, a->conf, cfg, true, &err) == NULL) {
            /* not tried again before the next reload: the operator fixes and HUPs */
            ola_log_err(OLA_AGENT_COMP, "tenant %s not started: %s", cfg->name, err.msg);
            continue;
        }
        ola_log_info(OLA_AGENT_COMP, "tenant %s started", cfg->name);
    }
    return rc;
}

/* The main thread's loop: signals and tenants. Returns an exit code. */
static int ola_agent_watch(struct ola_agent *a)
{
    int rc = OLA_EXIT_OK;
    bool tend = false;
    size_t i;

    while (!ola_stop_requested) {
        OLA_STAT_SET(loop_alive_ms, ola_now_ms());
        if (ola_reload_requested) {
            ola_agent_reload(a);
            tend = true;
        }
        if (tend) {
            rc = ola_agent_tend(a);
            tend = false;
            if (rc != OLA_EXIT_OK)
                break;
        }
        for (i = 0; i < a->n_tenants; i++)
            if (atomic_load(&a->tenants[i]->finished))
                tend = true;
        if (tend)
            continue;
        ola_wait(OLA_AGENT_TICK_MS);
        tend = true;
    }
    /* a signal or a fatal tenant: every tenant stops after its batch in flight */
    for (i = 0; i < a->n_tenants; i++)
        ola_tenant_stop(a->tenants[i]);
    for (i = 0; i < a->n_tenants; i++) {
        struct ola_tenant *t = a->tenants[i];

        ola_tenant_join(t, true);
        if (atomic_load(&t->fatal) && rc == OLA_EXIT_OK)
            rc = atomic_load(&t->exit_rc) != OLA_EXIT_OK ? atomic_load(&t->exit_rc)
                                                         : OLA_EXIT_RUNTIME;
    }
    return rc;
}

int ola_cmd_run(const char *config_path)
{
    struct ola_agent a;
    struct ola_err err = {0, ""};
    size_t i;
    int rc;

    memset(&a, 0, sizeof(a));
    json_object_seed(0); /* before any thread makes an object */
    a.conf = ola_conf_load(config_path, &err);
    if (a.conf == NULL) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    /* a tenants: list of one is still one tenant: its errors stop the process */
    a.lone = a.conf->s.n_tenants == 1;
    /* every lock before anything touches a checkpoint or an output's files */
    for (i = 0; i < a.conf->s.n_tenants; i++) {
        if (ola_agent_add(&a, a.conf, &a.conf->s.tenants[i], false, &err) == NULL) {
            fprintf(stderr, "olagent: %s\n", err.msg);
            rc = OLA_EXIT_RUNTIME;
            goto out;
        }
    }
    ola_agent_setup_logging(&a.conf->s);
    rc = ola_agent_build_outputs(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    ola_cfg_log_warnings(a.conf->doc); /* settings that weaken security, once */
    if (ola_wait_install_signals() != 0) {
        ola_log_err(OLA_AGENT_COMP, "setup failed: signals");
        rc = OLA_EXIT_RUNTIME;
        goto out;
    }
    OLA_STAT_SET(started_ms, ola_now_ms());
    if (a.n_tenants == 1)
        ola_progress_setup(a.conf->s.log.progress, 0, 0);
    rc = ola_agent_start_metrics(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    for (i = 0; i < a.n_tenants; i++) {
        /* every tenant's rules before any thread runs (ola_tenant_prepare) */
        if (ola_tenant_prepare(a.tenants[i], &err) != 0) {
            /* the check build passed a moment ago: a rule file changed, or ENOMEM */
            ola_log_err(OLA_AGENT_COMP, "tenant %s: %s", a.tenants[i]->cfg->name,
                        err.msg);
            rc = OLA_EXIT_CONFIG;
            goto out;
        }
    }
    for (i = 0; i < a.n_tenants; i++) {
        /* now with the metrics endpoint */
        a.tenants[i]->env.metrics = a.metrics;
        if (ola_tenant_start(a.tenants[i], &err) != 0) {
            ola_log_err(OLA_AGENT_COMP, "%s", err.msg);
            ola_stop_requested = 1;
            break;
        }
    }
    if (a.n_tenants == 1 && !a.conf->s.tenants_listed)
        ola_log_info(OLA_AGENT_COMP, "olagent %s tailing %s into %zu output(s)",
                     OLA_VERSION, a.conf->s.onelogin.base_url, a.n_outputs);
    else
        ola_log_info(OLA_AGENT_COMP,
                     "olagent %s tailing %zu tenant(s) into %zu output(s)", OLA_VERSION,
                     a.n_tenants, a.n_outputs);
    rc = ola_agent_watch(&a);
    if (ola_stop_requested && rc == OLA_EXIT_OK)
        ola_log_info(OLA_AGENT_COMP,
                     "stopped by signal; %llu events delivered in this run",
                     ola_agent_delivered(&a));
out:
    ola_agent_free(&a);
    return rc;
}

int ola_cmd_replay_opts(const char *config_path, const char *events_path, bool enrich,
                        const char *tenant)
{
    struct ola_agent a;
    const struct ola_tenant_cfg *tc;
    struct ola_tenant *t;
    struct ola_err err = {0, ""};
    int rc;

    memset(&a, 0, sizeof(a));
    a.replay = true;
    a.lone = true;
    a.conf = ola_conf_load(config_path, &err);
    if (a.conf == NULL) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    rc = ola_agent_build_outputs(&a);
    if (rc != OLA_EXIT_OK)
        goto out;
    if (enrich && !a.conf->s.enrich_enabled) {
        fprintf(stderr, "olagent replay: --enrich, but the configuration turns "
                        "enrichment off\n");
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    /* the tenant's settings: its API (--enrich), its name and its dead-letter file */
    tc = tenant != NULL ? ola_settings_tenant(&a.conf->s, tenant) : &a.conf->s.tenants[0];
    if (tc == NULL) {
        fprintf(stderr, "olagent replay: no tenant %s in %s\n", tenant, config_path);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    t = ola_agent_add(&a, a.conf, tc, false, &err);
    if (t == NULL) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    rc = ola_tenant_setup_replay(t, enrich);
    if (rc != OLA_EXIT_OK)
        goto out;
    t->src = ola_replay_source_new(events_path, t->dead_letter, &err);
    if (t->src == NULL) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    rc = ola_tenant_run(t);
    /* the memo holds references to the enricher's trees, which live in an arena of
     * this thread: it goes before the tenant does */
    ola_format_release_all();
out:
    ola_agent_free(&a);
    return rc;
}
