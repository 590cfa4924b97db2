/*
 * file_tenants.c - the file output's ops: one sink, or one sink per tenant.
 *
 * A path without {tenant} has one sink (one stream of files, one manifest
 * chain named after the output), started when the output opens, as before
 * tenants existed. A path with {tenant} gets a sink per tenant, made on the
 * tenant's first batch: its own pattern ({tenant} replaced), open file,
 * rotation, keep policy, crash recovery of what a previous run left open
 * (run then, for that tenant's files only) and manifest chain (named
 * NAME/TENANT). At most OLA_FILE_MAX_SINKS sinks live at once; a new tenant
 * beyond that closes the least recently written idle sink (its file gets
 * its manifest; its next batch starts a new file).
 *
 * Outputs are called one batch at a time, and a batch is one tenant's:
 * write() puts the records into that tenant's pending bytes; flush() makes
 * every sink's pending bytes durable, so whatever order the callers' writes
 * and flushes come in, an OK flush means the batch written before it is on
 * disk. The sinks share one deflate stream and member buffer (one member is
 * compressed at a time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/vec.h"
#include "outputs/file_sink_priv.h"

/*
 * {tenant} must not share a path component with a strftime conversion:
 * a conversion is a '*' in the sink's glob, and "%Y-{tenant}" of tenant "a"
 * would own "2024-b-a" of tenant "b-a". Returns 0 / -1.
 */
static int ola_fout_check_tmpl(const char *tmpl, struct ola_err *err)
{
    const char *v = strstr(tmpl, "{tenant}"), *a, *b;

    for (; v != NULL; v = strstr(v + 1, "{tenant}")) {
        for (a = v; a > tmpl && a[-1] != '/'; a--)
            ;
        b = strchr(v, '/');
        if (b == NULL)
            b = v + strlen(v);
        if (memchr(a, '%', (size_t)(b - a)) != NULL)
            return ola_err_set(err, EINVAL,
                               "path: {tenant} shares a path component with a strftime "
                               "conversion ('%.*s'); give it a directory of its own, or "
                               "a file name without conversions",
                               (int)(b - a), a);
    }
    return 0;
}

int ola_file_sink_open(struct ola_output *o, const struct ola_file_opts *opts,
                       struct ola_err *err)
{
    struct ola_fout *fo = calloc(1, sizeof(*fo));
    char longest[PATH_MAX], probe_path[PATH_MAX];

    if (fo == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = fo;
    fo->opts = *opts;
    if (opts->path == NULL || opts->path[0] == '\0')
        return ola_err_set(err, EINVAL, "path: required");
    if (opts->level < 1 || opts->level > 9)
        return ola_err_set(err, EINVAL, "level: %d is not 1..9", opts->level);
    fo->tmpl = strdup(opts->path);
    if (fo->tmpl == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    fo->opts.path = fo->tmpl;
    fo->per_tenant = ola_output_has_tenant(fo->tmpl);
    if (fo->opts.gzip) {
        if (deflateInit2(&fo->zs, fo->opts.level, Z_DEFLATED, 31, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return ola_err_set(err, ENOMEM, "deflateInit2 failed");
        fo->zs_ready = true;
    }
    if (OLA_VEC_GROW(fo->sinks, fo->cap, 1) != 0)
        return ola_err_set(err, ENOMEM, "out of memory");
    if (fo->per_tenant) {
        /* checked now with the longest name, so a tenant's sink only meets the disk */
        struct ola_fsink probe;

        memset(&probe, 0, sizeof(probe));
        if (ola_fout_check_tmpl(fo->tmpl, err) != 0)
            return -1;
        if (ola_output_tenant_longest(fo->tmpl, longest, sizeof(longest)) < 0 ||
            snprintf(probe_path, sizeof(probe_path), "%s%s",
                     strchr(longest, '/') != NULL ? "" : "./",
                     longest) >= (int)sizeof(probe_path))
            return ola_err_set(err, ENAMETOOLONG, "path: too long");
        probe.pattern = probe_path;
        return ola_pattern_compile(&probe, err);
    }
    fo->sinks[0] = ola_fsink_new(o, fo, NULL, err);
    if (fo->sinks[0] == NULL)
        return -1;
    fo->n = 1;
    return 0;
}

/* Closes the least recently written sink with nothing pending; false when none. */
static bool ola_fout_evict(struct ola_output *o, struct ola_fout *fo)
{
    size_t i, at = fo->n;

    for (i = 0; i < fo->n; i++)
        if (fo->sinks[i]->pending.len == 0 &&
            (at == fo->n || fo->sinks[i]->used < fo->sinks[at]->used))
            at = i;
    if (at == fo->n)
        return false;
    ola_plg_log(OLA_LOG_INFO, o, "%d tenants' files open: closing tenant %s's (idlest)",
                OLA_FILE_MAX_SINKS, fo->sinks[at]->tenant);
    ola_fsink_free(fo->sinks[at]);
    fo->sinks[at] = fo->sinks[--fo->n];
    return true;
}

/* The sink of b's tenant, made on its first batch; NULL with *rc and last_error. */
static struct ola_fsink *ola_fout_sink(struct ola_output *o, const struct ola_batch *b,
                                       enum ola_rc *rc)
{
    struct ola_fout *fo = o->ctx;
    struct ola_err err = {0, ""};
    const char *tenant;
    size_t i;

    *rc = OLA_RETRY;
    if (!fo->per_tenant)
        return fo->sinks[0];
    tenant = ola_output_tenant(o, b);
    if (tenant == NULL) {
        *rc = OLA_FATAL;
        return NULL;
    }
    for (i = 0; i < fo->n; i++)
        if (strcmp(fo->sinks[i]->tenant, tenant) == 0)
            return fo->sinks[i];
    if (fo->n >= OLA_FILE_MAX_SINKS && !ola_fout_evict(o, fo)) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "%d tenants' files hold data not yet flushed", OLA_FILE_MAX_SINKS);
        return NULL;
    }
    if (OLA_VEC_GROW(fo->sinks, fo->cap, fo->n + 1) != 0) {
        snprintf(o->last_error, sizeof(o->last_error), "out of memory");
        return NULL;
    }
    /* a directory that cannot be read yet is a retry, as for writes */
    fo->sinks[fo->n] = ola_fsink_new(o, fo, tenant, &err);
    if (fo->sinks[fo->n] == NULL) {
        int n = snprintf(o->last_error, sizeof(o->last_error), "tenant %s: %s", tenant,
                         err.msg);

        if (n < 0 || (size_t)n >= sizeof(o->last_error))
            memcpy(o->last_error + sizeof(o->last_error) - 4, "...", 4);
        o->stats.errors++;
        return NULL;
    }
    return fo->sinks[fo->n++];
}

enum ola_rc ola_file_sink_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_fout *fo = o->ctx;
    struct ola_fsink *s;
    enum ola_rc rc;

    if (b->n == 0)
        return OLA_OK;
    s = ola_fout_sink(o, b, &rc);
    if (s == NULL)
        return rc;
    s->used = ++fo->tick;
    return ola_fsink_write(s, b);
}

enum ola_rc ola_file_sink_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_fout *fo = o->ctx;
    enum ola_rc rc = OLA_OK;
    size_t i;

    (void)timeout_ms;
    for (i = 0; i < fo->n; i++) {
        enum ola_rc r = ola_fsink_flush(fo->sinks[i]);

        if (r == OLA_FATAL || (r == OLA_RETRY && rc == OLA_OK))
            rc = r;
    }
    return rc;
}

void ola_file_sink_trim(struct ola_output *o)
{
    struct ola_fout *fo = o->ctx;
    size_t i;
    bool pending = false;

    for (i = 0; i < fo->n; i++) {
        pending = pending || fo->sinks[i]->pending.len > 0;
        ola_fsink_trim(fo->sinks[i]);
    }
    if (!pending) /* else the next flush compresses into it */
        ola_buf_free(&fo->member);
}

int ola_file_sink_reopen(struct ola_output *o, struct ola_err *err)
{
    struct ola_fout *fo = o->ctx;
    size_t i;

    if (fo == NULL)
        return 0;
    for (i = 0; i < fo->n; i++) {
        struct ola_fsink *s = fo->sinks[i];

        if (s->fd < 0)
            continue;
        if (ola_fsink_close_file(s, "reopen", err) != 0)
            return -1;
        ola_fsink_keep(s);
    }
    return 0;
}

void ola_file_sink_close(struct ola_output *o)
{
    struct ola_fout *fo = o->ctx;
    size_t i;

    if (fo == NULL)
        return;
    for (i = 0; i < fo->n; i++)
        ola_fsink_free(fo->sinks[i]);
    free(fo->sinks);
    if (fo->zs_ready)
        deflateEnd(&fo->zs);
    ola_buf_free(&fo->member);
    free(fo->tmpl);
    free(fo);
    o->ctx = NULL;
}

const char *ola_file_sink_current_of(const struct ola_output *o, const char *tenant)
{
    const struct ola_fout *fo = o->ctx;
    size_t i;

    if (fo == NULL)
        return NULL;
    for (i = 0; i < fo->n; i++)
        if (tenant == NULL || strcmp(fo->sinks[i]->tenant, tenant) == 0)
            return fo->sinks[i]->fd >= 0 ? fo->sinks[i]->path : NULL;
    return NULL;
}

const char *ola_file_sink_current(const struct ola_output *o)
{
    return ola_file_sink_current_of(o, NULL);
}

size_t ola_file_sink_count(const struct ola_output *o)
{
    const struct ola_fout *fo = o->ctx;

    return fo != NULL ? fo->n : 0;
}
