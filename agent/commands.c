/*
 * commands.c - the commands besides `run` and `replay`: check, checkpoint
 * show/set, verify.
 *
 * They share the agent's loaders so that `check` validates exactly what
 * `run` would build (outputs are created, rule files compiled). They print
 * for a person: errors as "file:line: what is wrong" on stderr, results on
 * stdout. Nothing here ever prints a secret: `check` prints the masked dump
 * and the settings in force from the option tables, secrets masked; `config
 * example` prints the tables as an example config. `replay` lives in
 * agent.c: it runs the agent's own pipeline with the replay source (replay.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "agent/enrich_adapter.h"
#include "agent/onelogin/client.h"
#include "agent/state/checkpoint.h"
#include "agent/state/lock.h"
#include "agent/settings.h"
#include "config/config.h"
#include "filters/rules/filter.h"
#include "outputs/manifest.h"
#include "outputs/output.h"

struct ola_cmd_ctx {
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    struct ola_output *outputs[OLA_MAX_OUTPUTS];
    const char *names[OLA_MAX_OUTPUTS];
    size_t n_outputs;
    struct ola_rules *rules;
};

static void ola_cmd_free(struct ola_cmd_ctx *c)
{
    size_t i;

    for (i = 0; i < c->n_outputs; i++)
        ola_output_destroy(c->outputs[i]);
    ola_rules_destroy(c->rules);
    ola_cfg_doc_destroy(c->doc);
}

/* Loads config and settings; with `build`, outputs and rules too. Returns an exit code.
 */
static int ola_cmd_load(struct ola_cmd_ctx *c, const char *path, bool build)
{
    struct ola_err err = {0, ""};
    struct ola_rules_settings rs;
    size_t i;

    memset(c, 0, sizeof(*c));
    if (ola_cfg_load_file(path, &c->doc, &err) != 0 ||
        ola_settings_load(c->doc, ola_now_ms(), &c->s, &err) != 0)
        goto config_error;
    if (!build)
        return OLA_EXIT_OK;
    for (i = 0; i < c->s.n_outputs; i++) {
        c->outputs[i] = ola_output_new(&c->s.outputs[i], (unsigned)i, &err);
        if (c->outputs[i] == NULL)
            goto config_error;
        c->names[i] = c->outputs[i]->name;
        c->n_outputs++;
    }
    ola_settings_rules(&c->s, &rs);
    c->rules = ola_rules_new(&rs, c->s.rules.catalog_path, c->names, c->n_outputs, &err);
    if (c->rules == NULL)
        goto config_error;
    return OLA_EXIT_OK;
config_error:
    fprintf(stderr, "olagent: %s\n", err.msg);
    return OLA_EXIT_CONFIG;
}

static int ola_cmd_online(struct ola_cmd_ctx *c)
{
    struct ola_err err = {0, ""};
    struct ola_ol_client *client = NULL;
    struct ola_ol_response r;
    struct ola_ol_opts o;
    int failed = 0;
    size_t i;

    ola_client_opts(&c->s.onelogin, &c->s, &o);
    ola_ol_response_init(&r);
    if (ola_ol_client_new(&o, &client, &err) != 0) {
        printf("onelogin: FAILED: %s\n", err.msg);
        return 1;
    }
    if (ola_ol_authenticate(client, &r) != OLA_OL_OK) {
        printf("onelogin credential: FAILED: %s\n", r.reason);
        failed++;
    } else {
        printf("onelogin credential: ok\n");
        ola_ol_response_free(&r);
        ola_ol_response_init(&r);
        if (ola_ol_get(client, "/auth/rate_limit", OLA_OL_PRIO_POLL, &r) != OLA_OL_OK) {
            printf("onelogin rate limit endpoint: FAILED: %s\n", r.reason);
            failed++;
        } else {
            struct ola_ol_rate rate;

            ola_ol_rate(client, &rate);
            printf("onelogin rate limit endpoint: ok (%ld of %ld calls left)\n",
                   rate.remaining, rate.limit);
        }
    }
    ola_ol_response_free(&r);
    ola_ol_client_destroy(client);
    for (i = 0; i < c->n_outputs; i++) {
        if (ola_output_check(c->outputs[i], &err) != 0) {
            printf("output %s: FAILED: %s\n", c->outputs[i]->name, err.msg);
            failed++;
        } else {
            printf("output %s: ok\n", c->outputs[i]->name);
        }
    }
    return failed;
}

/* Which catalog and rule files are in force: built-in, file paths. */
static void ola_cmd_print_sources(const struct ola_settings *s)
{
    const struct ola_rules_config *rc = &s->rules;
    size_t i;

    printf("catalog: %s\nrules: %s",
           rc->catalog_path != NULL ? rc->catalog_path : "built-in",
           rc->default_rules ? "built-in default pack"
                             : (rc->n_rule_files == 0 ? "none" : ""));
    for (i = 0; i < rc->n_rule_files; i++)
        printf("%s%s", i > 0 ? ", " : (rc->default_rules ? ", then " : ""),
               rc->rule_files[i]);
    putchar('\n');
}

int ola_cmd_check(const char *config_path, bool online)
{
    return ola_cmd_check_opts(config_path, online, false);
}

int ola_cmd_check_opts(const char *config_path, bool online, bool strict)
{
    struct ola_cmd_ctx c;
    size_t i, n_warn;
    int rc = ola_cmd_load(&c, config_path, true);

    if (rc != OLA_EXIT_OK)
        goto out;
    ola_cfg_dump(c.doc, stdout);
    ola_settings_print(c.doc, &c.s, stdout);
    ola_opts_print_effective(c.s.rules.alerts, "alerts", ola_alerts_options,
                             ola_rules_alerts_settings(c.rules), stdout);
    for (i = 0; i < c.n_outputs; i++)
        ola_output_print_settings(c.outputs[i], c.s.outputs[i].node, stdout);
    ola_cmd_print_sources(&c.s);
    n_warn = ola_cfg_warning_count(c.doc);
    for (i = 0; i < n_warn; i++)
        fprintf(stderr, "%s: %s\n", strict ? "error" : "warning",
                ola_cfg_warning(c.doc, i));
    if (strict && n_warn > 0) {
        fprintf(stderr, "olagent: %zu warning(s), and --strict turns them into errors\n",
                n_warn);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    if (online && ola_cmd_online(&c) != 0) {
        printf("online checks failed\n");
        rc = OLA_EXIT_RUNTIME;
        goto out;
    }
    printf("configuration ok: %s\n", config_path);
out:
    ola_cmd_free(&c);
    return rc;
}

int ola_cmd_config_example(void)
{
    ola_settings_print_example(stdout);
    return fflush(stdout) == 0 ? OLA_EXIT_OK : OLA_EXIT_RUNTIME;
}

/*
 * The tenants a checkpoint command acts on: the one called name, or (name
 * NULL) every tenant when all is true, else the only one. *first and *n
 * index c->s.tenants. Returns an exit code (the error printed).
 */
static int ola_cmd_tenants(const struct ola_cmd_ctx *c, const char *cmd, const char *name,
                           bool all, size_t *first, size_t *n)
{
    size_t i;

    if (name == NULL) {
        if (c->s.n_tenants > 1 && !all) {
            fprintf(stderr, "olagent checkpoint %s: %zu tenants; name one with --tenant",
                    cmd, c->s.n_tenants);
            for (i = 0; i < c->s.n_tenants; i++)
                fprintf(stderr, "%s%s", i ? ", " : " (", c->s.tenants[i].name);
            fputs(")\n", stderr);
            return OLA_EXIT_CONFIG;
        }
        *first = 0;
        *n = c->s.n_tenants;
        return OLA_EXIT_OK;
    }
    for (i = 0; i < c->s.n_tenants; i++) {
        if (strcmp(c->s.tenants[i].name, name) == 0) {
            *first = i;
            *n = 1;
            return OLA_EXIT_OK;
        }
    }
    fprintf(stderr, "olagent checkpoint %s: no tenant %s in %s\n", cmd, name, c->s.path);
    return OLA_EXIT_CONFIG;
}

/* Prints tenant t's checkpoint (or where it would start). Returns an exit code. */
static int ola_cmd_show_one(const struct ola_cmd_ctx *c, const struct ola_tenant_cfg *t)
{
    struct ola_checkpoint cp;
    struct ola_err err = {0, ""};
    bool found = false;
    int rc = OLA_EXIT_OK;

    if (ola_checkpoint_init(&cp) != 0)
        return OLA_EXIT_RUNTIME;
    if (c->s.tenants_listed)
        printf("tenant %s: ", t->name);
    if (ola_checkpoint_load(t->checkpoint_path, &cp, &found, &err) != 0) {
        fflush(stdout);
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_RUNTIME;
    } else if (!found) {
        char start[OLA_ISO_MAX];

        ola_time_format_iso(t->onelogin.start_ms, start, sizeof(start));
        printf("no checkpoint at %s: the agent starts from %s (%s)\n", t->checkpoint_path,
               start, t->onelogin.start);
    } else {
        json_t *j = ola_checkpoint_to_json(&cp);

        if (j == NULL || json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
            rc = OLA_EXIT_RUNTIME;
        putchar('\n');
        json_decref(j);
    }
    ola_checkpoint_free(&cp);
    return rc;
}

int ola_cmd_checkpoint_show(const char *config_path, const char *tenant)
{
    struct ola_cmd_ctx c;
    size_t first = 0, n = 0, i;
    int rc = ola_cmd_load(&c, config_path, false);

    if (rc == OLA_EXIT_OK)
        rc = ola_cmd_tenants(&c, "show", tenant, true, &first, &n);
    for (i = first; rc != OLA_EXIT_CONFIG && i < first + n; i++) {
        int one = ola_cmd_show_one(&c, &c.s.tenants[i]);

        if (one != OLA_EXIT_OK)
            rc = one;
    }
    ola_cmd_free(&c);
    return rc;
}

/*
 * Checks tenant t's checkpoint: it loads, and its alert state fits rules.
 * Returns an exit code; one line on stdout when it is sound.
 */
static int ola_cmd_verify_one(const struct ola_tenant_cfg *t, struct ola_rules *rules)
{
    struct ola_checkpoint cp;
    struct ola_err err = {0, ""};
    char wm[OLA_ISO_MAX] = "none";
    bool found = false;
    int rc = OLA_EXIT_OK;

    if (ola_checkpoint_init(&cp) != 0)
        return OLA_EXIT_RUNTIME;
    if (ola_checkpoint_load(t->checkpoint_path, &cp, &found, &err) != 0) {
        fprintf(stderr, "olagent: tenant %s: %s\n", t->name, err.msg);
        rc = OLA_EXIT_RUNTIME;
    } else if (!found) {
        printf("tenant %s: no checkpoint at %s (the agent starts from %s)\n", t->name,
               t->checkpoint_path, t->onelogin.start);
    } else if (cp.alerts != NULL &&
               ola_rules_state_restore(rules, cp.alerts, &err) != 0) {
        fprintf(stderr, "olagent: tenant %s: checkpoint %s: alert state: %s\n", t->name,
                t->checkpoint_path, err.msg);
        rc = OLA_EXIT_RUNTIME;
    } else {
        if (cp.pos.watermark_ms >= 0)
            ola_time_format_iso(cp.pos.watermark_ms, wm, sizeof(wm));
        printf("tenant %s: checkpoint %s is sound: watermark %s, %zu ids in the overlap, "
               "%s alert state\n",
               t->name, t->checkpoint_path, wm, ola_seen_count(cp.pos.seen),
               cp.alerts != NULL ? "its" : "no");
    }
    ola_checkpoint_free(&cp);
    return rc;
}

int ola_cmd_checkpoint_verify(const char *config_path, const char *tenant)
{
    struct ola_cmd_ctx c;
    struct ola_err err = {0, ""};
    struct ola_rules_settings rs;
    const char *names[OLA_MAX_OUTPUTS];
    size_t first = 0, n = 0, i;
    int rc = ola_cmd_load(&c, config_path, false);

    if (rc == OLA_EXIT_OK)
        rc = ola_cmd_tenants(&c, "verify", tenant, true, &first, &n);
    if (rc != OLA_EXIT_OK)
        goto out;
    /* the rules the agent would run, to check the alert state against; the
     * outputs are named, not opened */
    for (i = 0; i < c.s.n_outputs; i++)
        names[i] = c.s.outputs[i].name;
    for (i = first; i < first + n; i++) {
        struct ola_rules *rules;
        int one;

        ola_settings_rules(&c.s, &rs);
        rules = ola_rules_new(&rs, c.s.rules.catalog_path, names, c.s.n_outputs, &err);
        if (rules == NULL) {
            fprintf(stderr, "olagent: %s\n", err.msg);
            rc = OLA_EXIT_CONFIG;
            goto out;
        }
        one = ola_cmd_verify_one(&c.s.tenants[i], rules);
        ola_rules_destroy(rules);
        if (one != OLA_EXIT_OK)
            rc = one;
    }
out:
    ola_cmd_free(&c);
    return rc;
}

int ola_cmd_checkpoint_set(const char *config_path, const char *tenant, const char *since)
{
    struct ola_cmd_ctx c;
    struct ola_checkpoint cp;
    struct ola_err err = {0, ""};
    struct ola_lock *lock = NULL;
    const char *path;
    char iso[OLA_ISO_MAX];
    bool found = false;
    size_t first = 0, n = 0;
    int64_t ms;
    int rc = ola_cmd_load(&c, config_path, false);

    if (rc == OLA_EXIT_OK)
        rc = ola_cmd_tenants(&c, "set", tenant, false, &first, &n);
    if (rc != OLA_EXIT_OK) {
        ola_cmd_free(&c);
        return rc;
    }
    path = c.s.tenants[first].checkpoint_path;
    if (ola_time_parse_start(since, ola_now_ms(), &ms) != 0) {
        fprintf(stderr,
                "olagent: --since: '%s' is not an ISO-8601 instant, 'now' or "
                "'-DURATION'\n",
                since);
        ola_cmd_free(&c);
        return OLA_EXIT_CONFIG;
    }
    /* a running agent would overwrite the new position with its next save */
    lock = ola_lock_acquire(path, &err);
    if (lock == NULL) {
        fprintf(stderr, "olagent: %s; stop it first\n", err.msg);
        ola_cmd_free(&c);
        return OLA_EXIT_RUNTIME;
    }
    if (ola_checkpoint_init(&cp) != 0) {
        rc = OLA_EXIT_RUNTIME;
        goto out_cfg;
    }
    if (ola_checkpoint_load(path, &cp, &found, &err) != 0) {
        /* an explicit set replaces a damaged file, but keeps it for inspection */
        char aside[4096];
        int len = snprintf(aside, sizeof(aside), "%s.damaged", path);

        if (err.code == ELOOP) { /* a symlink is not damage: it stays, refused */
            fprintf(stderr, "olagent: %s\n", err.msg);
            rc = OLA_EXIT_RUNTIME;
            goto out;
        }

        if (len < 0 || (size_t)len >= sizeof(aside) || rename(path, aside) != 0) {
            fprintf(stderr, "olagent: %s\nolagent: cannot move it aside\n", err.msg);
            rc = OLA_EXIT_RUNTIME;
            goto out;
        }
        fprintf(stderr, "olagent: the damaged checkpoint was moved to %s\n", aside);
        ola_checkpoint_free(&cp);
        if (ola_checkpoint_init(&cp) != 0) {
            rc = OLA_EXIT_RUNTIME;
            goto out_cfg;
        }
    }
    cp.pos.watermark_ms = ms;
    cp.pos.start_ms = ms; /* nothing before it, not even the first sweep's overlap */
    cp.pos.in_window = false;
    ola_position_set_cursor(&cp.pos, NULL);
    cp.pos.last_sweep_ms = -1;
    if (ola_checkpoint_save(path, &cp, &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_RUNTIME;
        goto out;
    }
    ola_time_format_iso(ms, iso, sizeof(iso));
    printf("checkpoint %s: the agent resumes from %s\n", path, iso);
out:
    ola_checkpoint_free(&cp);
out_cfg:
    ola_lock_release(lock);
    ola_cmd_free(&c);
    return rc;
}

int ola_cmd_verify(const char *dir)
{
    struct ola_err err = {0, ""};

    if (ola_manifest_verify_dir(dir, stdout, &err) != 0) {
        fprintf(stderr, "olagent verify: %s\n", err.msg);
        return OLA_EXIT_RUNTIME;
    }
    printf("verify: %s: every file matches its manifest and the chain holds\n", dir);
    return OLA_EXIT_OK;
}
