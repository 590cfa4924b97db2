/*
 * output.c - the output registry and the wrappers the pipeline calls.
 *
 * The list is NULL-terminated and built at compile time from what exists
 * (CMake defines OLA_HAVE_OUT_<NAME> for each outputs/out_<name>.c), like
 * curl's TLS backends. ola_output_new() reads the keys every output shares
 * (type, name, format, format_options, when, dead_letter), checks that no
 * unknown key is present, then hands the map to the plugin's init.
 * ola_output_refuse() notes a record an output will never deliver; the
 * pipeline writes the notes to the dead-letter file (deadletter.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "outputs/output.h"

extern const struct ola_output_ops ola_out_stdout;
#ifdef OLA_HAVE_OUT_FILE
extern const struct ola_output_ops ola_out_file;
#endif
#ifdef OLA_HAVE_OUT_KAFKA
extern const struct ola_output_ops ola_out_kafka;
#endif
#ifdef OLA_HAVE_OUT_SYSLOG
extern const struct ola_output_ops ola_out_syslog;
#endif

static const struct ola_output_ops *const ola_outputs[] = {
    &ola_out_stdout,
#ifdef OLA_HAVE_OUT_FILE
    &ola_out_file,
#endif
#ifdef OLA_HAVE_OUT_KAFKA
    &ola_out_kafka,
#endif
#ifdef OLA_HAVE_OUT_SYSLOG
    &ola_out_syslog,
#endif
    NULL,
};

const char *const ola_output_common_keys[] = {
    "type", "name", "format", "format_options", "when", "dead_letter", NULL,
};

const struct ola_output_ops *ola_output_find(const char *type)
{
    size_t i;

    for (i = 0; ola_outputs[i] != NULL; i++)
        if (strcmp(ola_outputs[i]->name, type) == 0)
            return ola_outputs[i];
    return NULL;
}

static bool ola_key_in(const char *key, const char *const *list)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

static int ola_output_check_keys(const struct ola_output_ops *ops,
                                 const struct ola_cfg *node, struct ola_err *err)
{
    size_t i;

    for (i = 0; i < ola_cfg_len(node); i++) {
        const char *key = ola_cfg_key_at(node, i);

        if (!ola_key_in(key, ola_output_common_keys) && !ola_key_in(key, ops->keys))
            return ola_err_set(err, 0, "%s:%d: %s: unknown key '%s' for a %s output",
                               ola_cfg_file(node), ola_cfg_key_line(node, i),
                               ola_cfg_path(node), key, ops->name);
    }
    return 0;
}

struct ola_output *ola_output_new(const struct ola_output_cfg *oc, unsigned index,
                                  struct ola_err *err)
{
    const struct ola_output_ops *ops;
    struct ola_output *o = NULL;
    const char *fmt_name = NULL, *dl = NULL;
    char shown[OLA_CFG_SHOWN_MAX];
    int n;

    if (index >= 32) {
        ola_cfg_errf(err, oc->node, "outputs: at most 32 outputs");
        return NULL;
    }
    ops = ola_output_find(oc->type);
    if (ops == NULL) {
        ola_cfg_errf(err, oc->node, "outputs: unknown type %s",
                     ola_cfg_shown(ola_cfg_get(oc->node, "type"), shown, sizeof(shown)));
        return NULL;
    }
    if (ops->abi != OLA_OUTPUT_ABI) {
        ola_cfg_errf(err, oc->node, "outputs: %s: plugin ABI %u, agent ABI %u", ops->name,
                     ops->abi, OLA_OUTPUT_ABI);
        return NULL;
    }
    if (ola_output_check_keys(ops, oc->node, err) != 0)
        return NULL;
    o = calloc(1, sizeof(*o));
    if (o == NULL) {
        ola_err_set(err, 12, "out of memory");
        return NULL;
    }
    o->ops = ops;
    o->index = index;
    n = snprintf(o->name, sizeof(o->name), "%s", oc->name ? oc->name : ops->name);
    if (n < 0 || (size_t)n >= sizeof(o->name)) {
        ola_cfg_errf(err, oc->node, "outputs: name too long");
        goto fail;
    }
    n = snprintf(o->comp, sizeof(o->comp), "output:%s:%s", ops->name, o->name);
    if (n < 0 || (size_t)n >= sizeof(o->comp))
        o->comp[sizeof(o->comp) - 1] = '\0';
    if (ola_cfg_str(oc->node, "format", "json", &fmt_name, err) != 0)
        goto fail;
    o->fmt = ola_format_find(fmt_name);
    if (o->fmt == NULL) {
        ola_cfg_errf(
            err, ola_cfg_get(oc->node, "format"), "format: unknown format %s",
            ola_cfg_shown(ola_cfg_get(oc->node, "format"), shown, sizeof(shown)));
        goto fail;
    }
    if (ola_format_opts_load(oc->node, &o->fmt_opts, err) != 0)
        goto fail;
    if (ola_cfg_str(oc->node, "dead_letter", NULL, &dl, err) != 0)
        goto fail;
    if (dl != NULL && (o->dead_letter = strdup(dl)) == NULL) {
        ola_err_set(err, 12, "out of memory");
        goto fail;
    }
    if (ops->init(o, oc->node, err) != 0)
        goto fail;
    return o;
fail:
    ola_output_destroy(o);
    return NULL;
}

void ola_output_destroy(struct ola_output *o)
{
    if (o == NULL)
        return;
    if (o->ops != NULL && o->ops->close != NULL)
        o->ops->close(o);
    for (size_t i = 0; i < o->n_refused; i++)
        free(o->refused[i].bytes);
    free(o->refused);
    free(o->dead_letter);
    free(o);
}

int ola_output_refuse_unusable(struct ola_output *o, size_t rec)
{
    return ola_output_refuse(o, rec, NULL, 0, "format %s cannot render this record",
                             o->fmt->name);
}

int ola_output_put_line(struct ola_output *o, const struct ola_batch *b, size_t i,
                        struct ola_buf *out)
{
    int rc;

    if (!ola_output_takes(o, &b->ev[i]))
        return 0;
    rc = ola_output_format(o, &b->ev[i], out);
    if (rc == OLA_FORMAT_UNUSABLE)
        return ola_output_refuse_unusable(o, i) != 0 ? -1 : 0;
    if (rc != 0 || ola_buf_putc(out, '\n') != 0)
        return -1;
    return 1;
}

int ola_output_refuse(struct ola_output *o, size_t rec, const char *bytes, size_t len,
                      const char *fmt, ...)
{
    struct ola_refusal *r;
    va_list ap;
    int n;

    if (OLA_VEC_GROW(o->refused, o->cap_refused, o->n_refused + 1) != 0)
        return -1;
    r = &o->refused[o->n_refused];
    memset(r, 0, sizeof(*r));
    r->rec = rec;
    if (bytes != NULL) {
        r->bytes = malloc(len > 0 ? len : 1);
        if (r->bytes == NULL)
            return -1;
        memcpy(r->bytes, bytes, len);
        r->len = len;
    }
    va_start(ap, fmt);
    n = vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(r->reason, sizeof(r->reason), "refused");
    o->n_refused++;
    return 0;
}

int ola_output_default_dead_letter(struct ola_output *o, const char *beside,
                                   struct ola_err *err)
{
    char name[sizeof(o->name)], file[sizeof(o->name) + 24], path[4096];
    size_t i;

    if (o->dead_letter != NULL)
        return 0;
    for (i = 0; o->name[i] != '\0'; i++) {
        char c = o->name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

        name[i] = ok ? c : '_';
    }
    name[i] = '\0';
    /* file fits: name is shorter than o->name */
    snprintf(file, sizeof(file), "dead-letter.%s.ndjson", name);
    if (ola_path_beside(beside, file, path, sizeof(path)) != 0)
        return ola_err_set(err, ENAMETOOLONG, "outputs: %s: dead-letter path too long",
                           o->name);
    o->dead_letter = strdup(path);
    if (o->dead_letter == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    return 0;
}

int ola_output_reopen(struct ola_output *o, struct ola_err *err)
{
    if (o->ops->reopen == NULL)
        return 0;
    return o->ops->reopen(o, err);
}

int ola_output_check(struct ola_output *o, struct ola_err *err)
{
    if (o->ops->check == NULL)
        return 0;
    return o->ops->check(o, err);
}

void ola_output_trim(struct ola_output *o)
{
    if (o->ops->trim != NULL)
        o->ops->trim(o);
}

int ola_output_format(const struct ola_output *o, const struct ola_event *e,
                      struct ola_buf *out)
{
    size_t mark = out->len;
    int rc = ola_format_event(o->fmt, e, &o->fmt_opts, out);

    if (rc != 0)
        ola_buf_truncate(out, mark);
    return rc;
}
