/*
 * commands.c - the commands besides `run`: check, checkpoint show/set, replay.
 *
 * They share the agent's loaders so that `check` validates exactly what
 * `run` would build (outputs are created, rule files compiled); `replay
 * --enrich` builds an API client and an enricher as `run` does. They print
 * for a person: errors as "file:line: what is wrong" on stderr, results on
 * stdout. Nothing here ever prints a secret: `check` prints the masked dump.
 * `replay` admits each line through the check the live source applies
 * (ola_event_admit) and dead-letters what it refuses, as the source does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "agent/enrich_adapter.h"
#include "agent/onelogin/client.h"
#include "agent/pipeline.h"
#include "agent/state/checkpoint.h"
#include "agent/state/lock.h"
#include "config/config.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "outputs/manifest.h"
#include "outputs/output.h"

/* replay: lines per batch (like a page of 1,000) and bytes (a batch ends at
 * the first line end past it), and the read size (what a batch reads past
 * its last line is carried to the next one) */
#define OLA_REPLAY_LINES 1000
#define OLA_REPLAY_BYTES ((size_t)32 << 20)
#define OLA_REPLAY_BLOCK (64 << 10)

/* What replay refused: counted, written to the dead-letter file as the live
 * source writes what it refuses, and the first one named in the summary. */
struct ola_replay_refused {
    const char *dead_letter; /* path */
    size_t n;
    size_t first_line; /* line number of the first one (1-based) */
    char first_why[OLA_EVENT_WHY_MAX];
};

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
    c->rules = ola_rules_new(&c->s, c->s.catalog_path, c->names, c->n_outputs, &err);
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

    ola_client_opts(&c->s, &o);
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
    size_t i;

    printf("catalog: %s\nrules: %s",
           s->catalog_path != NULL ? s->catalog_path : "built-in",
           s->default_rules ? "built-in default pack"
                            : (s->n_rule_files == 0 ? "none" : ""));
    for (i = 0; i < s->n_rule_files; i++)
        printf("%s%s", i > 0 ? ", " : (s->default_rules ? ", then " : ""),
               s->rule_files[i]);
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

int ola_cmd_checkpoint_show(const char *config_path)
{
    struct ola_cmd_ctx c;
    struct ola_checkpoint cp;
    struct ola_err err = {0, ""};
    bool found = false;
    int rc = ola_cmd_load(&c, config_path, false);

    if (rc != OLA_EXIT_OK) {
        ola_cmd_free(&c);
        return rc;
    }
    if (ola_checkpoint_init(&cp) != 0) {
        ola_cmd_free(&c);
        return OLA_EXIT_RUNTIME;
    }
    if (ola_checkpoint_load(c.s.checkpoint.path, &cp, &found, &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_RUNTIME;
    } else if (!found) {
        char start[OLA_ISO_MAX];

        ola_time_format_iso(c.s.onelogin.start_ms, start, sizeof(start));
        printf("no checkpoint at %s: the agent starts from %s (%s)\n",
               c.s.checkpoint.path, start, c.s.onelogin.start);
    } else {
        json_t *j = ola_checkpoint_to_json(&cp);

        if (j == NULL || json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
            rc = OLA_EXIT_RUNTIME;
        putchar('\n');
        json_decref(j);
    }
    ola_checkpoint_free(&cp);
    ola_cmd_free(&c);
    return rc;
}

int ola_cmd_checkpoint_set(const char *config_path, const char *since)
{
    struct ola_cmd_ctx c;
    struct ola_checkpoint cp;
    struct ola_err err = {0, ""};
    struct ola_lock *lock = NULL;
    char iso[OLA_ISO_MAX];
    bool found = false;
    int64_t ms;
    int rc = ola_cmd_load(&c, config_path, false);

    if (rc != OLA_EXIT_OK) {
        ola_cmd_free(&c);
        return rc;
    }
    if (ola_time_parse_start(since, ola_now_ms(), &ms) != 0) {
        fprintf(stderr,
                "olagent: --since: '%s' is not an ISO-8601 instant, 'now' or "
                "'-DURATION'\n",
                since);
        ola_cmd_free(&c);
        return OLA_EXIT_CONFIG;
    }
    /* a running agent would overwrite the new position with its next save */
    lock = ola_lock_acquire(c.s.checkpoint.path, &err);
    if (lock == NULL) {
        fprintf(stderr, "olagent: %s; stop it first\n", err.msg);
        ola_cmd_free(&c);
        return OLA_EXIT_RUNTIME;
    }
    if (ola_checkpoint_init(&cp) != 0) {
        rc = OLA_EXIT_RUNTIME;
        goto out_cfg;
    }
    if (ola_checkpoint_load(c.s.checkpoint.path, &cp, &found, &err) != 0) {
        /* an explicit set replaces a damaged file, but keeps it for inspection */
        char aside[4096];
        int n = snprintf(aside, sizeof(aside), "%s.damaged", c.s.checkpoint.path);

        if (err.code == ELOOP) { /* a symlink is not damage: it stays, refused */
            fprintf(stderr, "olagent: %s\n", err.msg);
            rc = OLA_EXIT_RUNTIME;
            goto out;
        }

        if (n < 0 || (size_t)n >= sizeof(aside) ||
            rename(c.s.checkpoint.path, aside) != 0) {
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
    cp.watermark_ms = ms;
    cp.start_ms = ms; /* nothing before it, not even the first sweep's overlap */
    cp.in_window = false;
    ola_checkpoint_set_cursor(&cp, NULL);
    cp.last_sweep_ms = -1;
    if (ola_checkpoint_save(c.s.checkpoint.path, &cp, &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_RUNTIME;
        goto out;
    }
    ola_time_format_iso(ms, iso, sizeof(iso));
    printf("checkpoint %s: the agent resumes from %s\n", c.s.checkpoint.path, iso);
out:
    ola_checkpoint_free(&cp);
out_cfg:
    ola_lock_release(lock);
    ola_cmd_free(&c);
    return rc;
}

/*
 * Admits the lines of body[0..len) into b (which takes body) through the
 * check the live source applies (ola_event_admit); a refused line goes to the
 * dead-letter file. *line is the number of lines before this batch, updated.
 * Returns 0 / -1 (message printed).
 */
static int ola_replay_batch(struct ola_batch *b, char *body, size_t len, size_t *line,
                            struct ola_replay_refused *rf)
{
    size_t off = 0;

    b->body = body;
    b->body_len = len;
    while (off < len) {
        char *nl = memchr(body + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - body) : len, n = end - off;
        char why[OLA_EVENT_WHY_MAX];
        struct ola_err err;
        int rc;

        ++*line;
        /* the line's end, as a page's element ends at its value (a blank line
         * is skipped, not refused) */
        while (n > 0 && (body[off + n - 1] == '\r' || body[off + n - 1] == ' ' ||
                         body[off + n - 1] == '\t'))
            n--;
        if (n > 0) {
            rc = ola_event_admit(b, body + off, n, why, sizeof(why));
            if (rc < 0) {
                fprintf(stderr, "olagent: out of memory\n");
                return -1;
            }
            if (rc == 0) {
                if (rf->n++ == 0) {
                    rf->first_line = *line;
                    memcpy(rf->first_why, why, sizeof(why));
                }
                if (ola_deadletter_write(rf->dead_letter, "replay", why, body + off, n,
                                         &err) != 0) {
                    fprintf(stderr, "olagent: %s\n", err.msg);
                    return -1;
                }
            }
        }
        off = end + 1;
    }
    return 0;
}

/*
 * The next batch of replay: up to OLA_REPLAY_LINES lines (or the first line
 * end past OLA_REPLAY_BYTES), read in large blocks straight into the buffer
 * the batch will own (no per-line copy). A line longer than
 * OLA_EVENT_MAX_BYTES keeps its first OLA_EVENT_MAX_BYTES + 1 bytes (enough
 * to be refused as too large) and the rest of it is skipped, so memory stays
 * bounded whatever the input. carry holds what was read past the batch's last
 * line. *len is the size of the previous batch on entry (a hint), of this one
 * on return. *data is a new buffer (the caller frees it), or NULL at the end.
 * Returns 0 / -1.
 */
static int ola_replay_read(FILE *in, struct ola_buf *carry, char **data, size_t *len)
{
    struct ola_buf body = *carry;
    size_t scanned = 0, lines = 0, line_start = 0;
    bool skipping = false;

    *carry = (struct ola_buf)OLA_BUF_INIT;
    /* room for a batch like the last one at once: growing by doubling would
     * free a chain of large blocks, and each such free makes malloc
     * consolidate every small chunk the previous batch's events left */
    if (ola_buf_reserve(&body, *len + OLA_REPLAY_BLOCK) != 0)
        goto fail;
    for (;;) {
        char *nl;
        size_t n;

        while (scanned < body.len &&
               (nl = memchr(body.data + scanned, '\n', body.len - scanned)) != NULL) {
            scanned = (size_t)(nl - body.data) + 1;
            line_start = scanned;
            if (++lines == OLA_REPLAY_LINES || scanned >= OLA_REPLAY_BYTES) {
                if (ola_buf_append(carry, body.data + scanned, body.len - scanned) != 0)
                    goto fail;
                body.len = scanned;
                goto done;
            }
        }
        scanned = body.len;
        if (body.len - line_start > OLA_EVENT_MAX_BYTES) {
            body.len = line_start + OLA_EVENT_MAX_BYTES + 1;
            scanned = body.len;
            skipping = true;
        }
        if (feof(in) || ferror(in))
            break;
        if (ola_buf_reserve(&body, OLA_REPLAY_BLOCK) != 0)
            goto fail;
        n = fread(body.data + body.len, 1, OLA_REPLAY_BLOCK, in);
        if (skipping) { /* drop the rest of an oversize line, up to its end */
            nl = memchr(body.data + body.len, '\n', n);
            if (nl != NULL) {
                n -= (size_t)(nl - (body.data + body.len));
                memmove(body.data + body.len, nl, n);
                skipping = false;
            } else {
                n = 0;
            }
        }
        body.len += n;
        body.data[body.len] = '\0';
    }
done:
    if (body.len == 0) {
        ola_buf_free(&body);
        *data = NULL;
        *len = 0;
        return 0;
    }
    body.data[body.len] = '\0';
    *data = ola_buf_steal(&body, len);
    return 0;
fail:
    ola_buf_free(&body);
    return -1;
}

/* The API client and enricher of `replay --enrich`. Returns an exit code. */
static int ola_replay_enricher(const struct ola_settings *s,
                               struct ola_ol_client **client, struct ola_enricher **en)
{
    struct ola_err err = {0, ""};
    struct ola_enrich_api api;
    struct ola_ol_opts o;

    if (!s->enrich_enabled) {
        fprintf(stderr, "olagent replay: --enrich, but the configuration turns "
                        "enrichment off\n");
        return OLA_EXIT_CONFIG;
    }
    ola_client_opts(s, &o);
    if (ola_ol_client_new(&o, client, &err) != 0 ||
        ola_enricher_new(&s->enrich_opts, ola_enrich_onelogin_api(*client, &api), en,
                         &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        return OLA_EXIT_CONFIG;
    }
    return OLA_EXIT_OK;
}

int ola_cmd_replay(const char *config_path, const char *events_path)
{
    return ola_cmd_replay_opts(config_path, events_path, false);
}

int ola_cmd_replay_opts(const char *config_path, const char *events_path, bool enrich)
{
    struct ola_cmd_ctx c;
    struct ola_pipeline p;
    struct ola_batch b;
    struct ola_ol_client *client = NULL;
    struct ola_enricher *en = NULL;
    FILE *in = NULL;
    struct ola_buf carry = OLA_BUF_INIT;
    struct ola_err err = {0, ""};
    struct ola_replay_refused rf;
    char dead_letter[PATH_MAX];
    size_t total = 0, len = 0, line = 0;
    int rc = ola_cmd_load(&c, config_path, true);

    ola_batch_init(&b);
    memset(&rf, 0, sizeof(rf));
    if (rc != OLA_EXIT_OK)
        goto out;
    /* the live source's dead-letter file (agent.c) */
    if (ola_path_beside(c.s.checkpoint.path, "dead-letter.ndjson", dead_letter,
                        sizeof(dead_letter)) != 0) {
        fprintf(stderr, "olagent: checkpoint.path too long\n");
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    rf.dead_letter = dead_letter;
    if (enrich) {
        rc = ola_replay_enricher(&c.s, &client, &en);
        if (rc != OLA_EXIT_OK)
            goto out;
    }
    in = strcmp(events_path, "-") == 0 ? stdin : fopen(events_path, "rb");
    if (in == NULL) {
        fprintf(stderr, "olagent: %s: %s\n", events_path, strerror(errno));
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    memset(&p, 0, sizeof(p));
    p.outputs = c.outputs;
    p.n_outputs = c.n_outputs;
    p.rules = c.rules;
    p.enricher = en;
    p.backoff_max_ms = c.s.onelogin.backoff_max_ms;
    p.flush_timeout_ms = 1000;
    p.shutdown_timeout_ms = c.s.shutdown_timeout_ms;
    if (ola_pipeline_dead_letters(&p, c.s.checkpoint.path, &err) != 0) {
        fprintf(stderr, "olagent: %s\n", err.msg);
        rc = OLA_EXIT_CONFIG;
        goto out;
    }
    for (;;) {
        char *data;

        if (ola_replay_read(in, &carry, &data, &len) != 0) {
            rc = OLA_EXIT_RUNTIME;
            goto out;
        }
        if (data == NULL)
            break;
        ola_batch_reset(&b);
        if (ola_replay_batch(&b, data, len, &line, &rf) != 0 ||
            ola_pipeline_deliver(&p, &b, ola_now_ms()) != OLA_OK) {
            rc = OLA_EXIT_RUNTIME;
            goto out;
        }
        total += b.n;
    }
    if (ferror(in)) {
        fprintf(stderr, "olagent: %s: read error\n", events_path);
        rc = OLA_EXIT_RUNTIME;
    }
    if (rf.n == 0)
        fprintf(stderr, "olagent: replayed %zu records (0 lines refused)\n", total);
    else
        fprintf(stderr,
                "olagent: replayed %zu records (%zu lines refused, written to %s; first: "
                "line %zu, %s)\n",
                total, rf.n, rf.dead_letter, rf.first_line, rf.first_why);
out:
    if (in != NULL && in != stdin)
        fclose(in);
    ola_buf_free(&carry);
    ola_batch_free(&b);
    ola_enricher_destroy(en);
    ola_ol_client_destroy(client);
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
