/*
 * output.c - the output registry and the wrappers the pipeline calls.
 *
 * The list is NULL-terminated and built at compile time from what exists
 * (CMake defines OLA_HAVE_OUT_<NAME> for each outputs/out_<name>.c), like
 * curl's TLS backends. The keys every output shares (type, name, format,
 * format_options, when, dead_letter, spool) are one option table here; each plugin
 * declares its own in ops->opts (nginx's core and module directives, Fluent
 * Bit's config maps). ola_output_new() checks the map against both (so an
 * unknown key gets the closest known one), reads the common keys, reads the
 * plugin's into o->settings, then hands the output to the plugin's init.
 * ola_output_refuse() notes a record an output will never deliver; the
 * pipeline writes the notes to the dead-letter file (dead_letters.c, with
 * the writer of agent/core/deadletter.c).
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
#ifdef OLA_HAVE_OUT_HTTP
extern const struct ola_output_ops ola_out_http;
#endif
#ifdef OLA_HAVE_OUT_SENTINEL
extern const struct ola_output_ops ola_out_sentinel;
#endif
#ifdef OLA_HAVE_OUT_ELASTICSEARCH
extern const struct ola_output_ops ola_out_elasticsearch;
#endif
#ifdef OLA_HAVE_OUT_SPLUNK
extern const struct ola_output_ops ola_out_splunk;
#endif
#ifdef OLA_HAVE_OUT_S3
extern const struct ola_output_ops ola_out_s3;
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
#ifdef OLA_HAVE_OUT_HTTP
    &ola_out_http,
#endif
#ifdef OLA_HAVE_OUT_S3
    &ola_out_s3,
#endif
#ifdef OLA_HAVE_OUT_SPLUNK
    &ola_out_splunk,
#endif
#ifdef OLA_HAVE_OUT_SENTINEL
    &ola_out_sentinel,
#endif
#ifdef OLA_HAVE_OUT_ELASTICSEARCH
    &ola_out_elasticsearch,
#endif
    NULL,
};

#define OLA_OC_OFF(f) offsetof(struct ola_output_common, f)

/* format: the format must be compiled in; o->fmt is it. */
static int ola_output_format_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                  void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_output_common *c = obj;
    struct ola_output *o = ctx;
    char shown[OLA_CFG_SHOWN_MAX];

    (void)opt;
    o->fmt = ola_format_find(c->format);
    if (o->fmt == NULL)
        return ola_cfg_errf(
            err, ola_cfg_get(map, "format"), "format: unknown format %s",
            ola_cfg_shown(ola_cfg_get(map, "format"), shown, sizeof(shown)));
    return 0;
}

/* format_options: the format's own table (outputs/formats/format.c). */
static int ola_output_fmt_opts_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                    void *obj, void *ctx, struct ola_err *err)
{
    struct ola_output *o = ctx;

    (void)opt;
    (void)obj;
    return ola_format_opts_load(map, &o->fmt_opts, err);
}

static int ola_output_dead_letter_hook(const struct ola_cfg *map,
                                       const struct ola_opt *opt, void *obj, void *ctx,
                                       struct ola_err *err)
{
    const struct ola_output_common *c = obj;
    struct ola_output *o = ctx;

    (void)map;
    (void)opt;
    if (c->dead_letter != NULL && (o->dead_letter = strdup(c->dead_letter)) == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    return 0;
}

/* spool: a map with a dir (what turns the spool on) and a bound. */
static int ola_output_spool_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                 void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_output_common *c = obj;
    const struct ola_cfg *sp = ola_cfg_get(map, "spool");

    (void)opt;
    (void)ctx;
    if (sp != NULL && (c->spool_dir == NULL || c->spool_dir[0] == '\0'))
        return ola_cfg_errf(err, sp, "spool: dir is required");
    return 0;
}

static const struct ola_opt ola_output_spool_options[] = {
    {.name = "dir",
     .type = OLA_OPT_STR,
     .offset = OLA_OC_OFF(spool_dir),
     .help = "a directory of this output's own (required)"},
    {.name = "max_size",
     .type = OLA_OPT_SIZE,
     .offset = OLA_OC_OFF(spool_max_size),
     .def_size = (uint64_t)256 << 20,
     .size_min = (uint64_t)1 << 20,
     .size_max = (uint64_t)1 << 40,
     .help = "bytes on disk; when full the source pauses"},
    {.name = NULL},
};

/* type first: the example blocks open with it (ola_output_print_examples) */
const struct ola_opt ola_output_options[] = {
    {.name = "type",
     .type = OLA_OPT_STR,
     .offset = OLA_OC_OFF(type),
     .flags = OLA_OPT_MANUAL | OLA_OPT_REQUIRED,
     .help =
         "stdout, file, kafka, syslog, http, sentinel, elasticsearch, splunk_hec, s3"},
    {.name = "name",
     .type = OLA_OPT_STR,
     .offset = OLA_OC_OFF(name),
     .flags = OLA_OPT_MANUAL,
     .help = "default: the type"},
    {.name = "format",
     .type = OLA_OPT_STR,
     .offset = OLA_OC_OFF(format),
     .def_str = "json",
     .hook = ola_output_format_hook,
     .help = "json (default), cef (ArcSight), leef (QRadar), ocsf"},
    {.name = "format_options",
     .type = OLA_OPT_MAP,
     .sub = ola_format_options,
     .hook = ola_output_fmt_opts_hook,
     .flags = OLA_OPT_MANUAL,
     .help = "options of the format (docs/formats.md)"},
    {.name = "when",
     .type = OLA_OPT_OTHER,
     .flags = OLA_OPT_MANUAL,
     .help = "only records that match (docs/rules.md); default: everything"},
    {.name = "dead_letter",
     .type = OLA_OPT_STR,
     .offset = OLA_OC_OFF(dead_letter),
     .hook = ola_output_dead_letter_hook,
     .help = "records refused for good; default: dead-letter.NAME.ndjson beside the "
             "checkpoint"},
    {.name = "spool",
     .type = OLA_OPT_MAP,
     .sub = ola_output_spool_options,
     .hook = ola_output_spool_hook,
     .help = "a disk spool, so this output's outage holds no other (docs/outputs.md)"},
    {.name = NULL},
};

const struct ola_output_ops *ola_output_find(const char *type)
{
    size_t i;

    for (i = 0; ola_outputs[i] != NULL; i++)
        if (strcmp(ola_outputs[i]->name, type) == 0)
            return ola_outputs[i];
    return NULL;
}

int ola_output_opts_all(const struct ola_output_ops *ops, struct ola_opt *out, size_t cap)
{
    const struct ola_opt *tabs[2] = {ola_output_options, ops->opts}, *e;
    size_t n = 0, t;

    for (t = 0; t < 2; t++)
        for (e = tabs[t]; e != NULL && e->name != NULL; e++) {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *e;
        }
    if (n >= cap)
        return -1;
    memset(&out[n], 0, sizeof(out[n]));
    return (int)n;
}

/* Reads every entry of tab (its keys were checked already) into obj. */
static int ola_output_read(const struct ola_cfg *node, const struct ola_opt *tab,
                           void *obj, struct ola_output *o, struct ola_err *err)
{
    for (; tab != NULL && tab->name != NULL; tab++)
        if (ola_opts_read_key(node, ola_cfg_path(node), tab, tab->name, obj, o, err) != 0)
            return -1;
    return 0;
}

struct ola_output *ola_output_new(const struct ola_output_cfg *oc, unsigned index,
                                  struct ola_err *err)
{
    struct ola_opt all[OLA_OUTPUT_OPTS_MAX];
    const struct ola_output_ops *ops;
    struct ola_output *o = NULL;
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
    if (ola_output_opts_all(ops, all, OLA_OUTPUT_OPTS_MAX) < 0) {
        ola_err_set(err, EINVAL, "outputs: %s: too many keys", ops->name);
        return NULL;
    }
    if (ola_opts_check(oc->node, all, err) != 0)
        return NULL;
    o = calloc(1, sizeof(*o));
    if (o == NULL || (ops->settings_size > 0 &&
                      (o->settings = calloc(1, ops->settings_size)) == NULL)) {
        free(o);
        ola_err_set(err, ENOMEM, "out of memory");
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
    o->common.type = ops->name;
    o->common.name = o->name;
    if (ola_output_read(oc->node, ola_output_options, &o->common, o, err) != 0 ||
        ola_output_read(oc->node, ops->opts, o->settings, o, err) != 0 ||
        ops->init(o, oc->node, err) != 0)
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
    free(o->settings);
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
    int rc;

    if (o->ops->reopen == NULL)
        return 0;
    if (o->call_lock != NULL)
        pthread_mutex_lock(o->call_lock);
    rc = o->ops->reopen(o, err);
    if (o->call_lock != NULL)
        pthread_mutex_unlock(o->call_lock);
    return rc;
}

int ola_output_check(struct ola_output *o, struct ola_err *err)
{
    if (o->ops->check == NULL)
        return 0;
    return o->ops->check(o, err);
}

void ola_output_trim(struct ola_output *o)
{
    if (o->ops->trim == NULL)
        return;
    if (o->call_lock != NULL)
        pthread_mutex_lock(o->call_lock);
    o->ops->trim(o);
    if (o->call_lock != NULL)
        pthread_mutex_unlock(o->call_lock);
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

void ola_output_print_settings(const struct ola_output *o, const struct ola_cfg *node,
                               FILE *out)
{
    const char *path = ola_cfg_path(node);
    char fo[128];

    ola_opts_print_effective(node, path, ola_output_options, &o->common, out);
    /* json reads no format option: shown only when they are set or used */
    if ((strcmp(o->common.format, "json") != 0 || ola_cfg_get(node, "format_options")) &&
        snprintf(fo, sizeof(fo), "%s%sformat_options", path, path[0] != '\0' ? "." : "") <
            (int)sizeof(fo))
        ola_opts_print_effective(ola_cfg_get(node, "format_options"), fo,
                                 ola_format_options, &o->fmt_opts, out);
    if (o->ops->opts != NULL)
        ola_opts_print_effective(node, path, o->ops->opts, o->settings, out);
}

/* Writes each line of text after prefix. */
static void ola_output_prefixed(const char *text, const char *prefix, FILE *out)
{
    while (*text != '\0') {
        size_t n = strcspn(text, "\n");

        fprintf(out, "%s%.*s\n", prefix, (int)n, text);
        text += n;
        if (*text == '\n')
            text++;
    }
}

/* Prints tab (NULL: none) as a commented block under header. */
static void ola_output_print_block(const char *header, const struct ola_opt *tab,
                                   FILE *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    if (mem == NULL)
        return;
    ola_opts_print_example(tab, 0, mem);
    if (fclose(mem) == 0) {
        fprintf(out, "\n  # %s\n", header);
        ola_output_prefixed(text != NULL ? text : "", "  #   ", out);
    }
    free(text);
}

void ola_output_print_examples(FILE *out)
{
    char header[96];
    size_t i;

    /* type opens each block; the other common keys once, then each type's own */
    ola_output_print_block(OLA_OUTPUT_COMMON_HEADER, ola_output_options + 1, out);
    for (i = 0; ola_outputs[i] != NULL; i++) {
        snprintf(header, sizeof(header), "- type: %s", ola_outputs[i]->name);
        ola_output_print_block(header, ola_outputs[i]->opts, out);
    }
}
