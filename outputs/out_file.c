/*
 * out_file.c - the "file" output: NDJSON files, gzip or plain.
 *
 * This file declares the plugin's keys (path, compression, level, fsync,
 * manifest, rotate, keep) in an option table, which the registry reads into
 * struct ola_file_conf; init turns that into struct ola_file_opts and opens
 * the engine, file_sink.c: one gzip member per flush, fsync before the ack,
 * rotation between members with a SHA-256 manifest chained to the previous
 * one, crash recovery at startup, SIGHUP reopen; with {tenant} in the path,
 * all of it per tenant (file_tenants.c).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "outputs/file_sink.h"

/* The keys as read (ola_file_options); opts.path and the sizes are final. */
struct ola_file_conf {
    struct ola_file_opts opts;
    int compression; /* index in ola_file_compressions */
    long long level;
};

static const char *const ola_file_compressions[] = {"none", "gzip", NULL};

#define OLA_FC_OFF(f) offsetof(struct ola_file_conf, f)

static int ola_file_path_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                              void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_file_conf *c = obj;

    (void)opt;
    (void)ctx;
    if (c->opts.path == NULL || c->opts.path[0] == '\0')
        return ola_cfg_errf(err, map, "outputs: file: path: required");
    return 0;
}

/* compression: the default follows the path (gzip when it ends in .gz). */
static int ola_file_compression_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                     void *obj, void *ctx, struct ola_err *err)
{
    struct ola_file_conf *c = obj;
    struct ola_file_opts d;

    (void)ctx;
    ola_file_opts_default(&d, c->opts.path);
    return ola_cfg_enum(map, opt->name, ola_file_compressions, d.gzip ? 1 : 0,
                        &c->compression, err);
}

static const struct ola_opt ola_file_rotate_options[] = {
    {.name = "size",
     .type = OLA_OPT_SIZE,
     .offset = OLA_FC_OFF(opts.rotate_size),
     .help = "once the file reaches this size (0: never)"},
    {.name = "age",
     .type = OLA_OPT_DURATION,
     .offset = OLA_FC_OFF(opts.rotate_age_ms),
     .min = 0,
     .max = INT64_MAX,
     .help = "once the file is this old (0: never)"},
    {.name = NULL},
};

static const struct ola_opt ola_file_keep_options[] = {
    {.name = "files",
     .type = OLA_OPT_INT,
     .offset = OLA_FC_OFF(opts.keep_files),
     .min = 0,
     .max = 1000000000,
     .help = "the newest N closed files (0: all)"},
    {.name = "days",
     .type = OLA_OPT_INT,
     .offset = OLA_FC_OFF(opts.keep_days),
     .min = 0,
     .max = 100000,
     .help = "closed files younger than D days (0: all)"},
    {.name = NULL},
};

static const struct ola_opt ola_file_options[] = {
    {.name = "path",
     .type = OLA_OPT_STR,
     .offset = OLA_FC_OFF(opts.path),
     .hook = ola_file_path_hook,
     .help = "strftime pattern, in UTC (required)"},
    {.name = "compression",
     .type = OLA_OPT_ENUM,
     .offset = OLA_FC_OFF(compression),
     .names = ola_file_compressions,
     .hook = ola_file_compression_hook,
     .flags = OLA_OPT_MANUAL,
     .help = "none or gzip; default gzip when path ends in .gz"},
    {.name = "level",
     .type = OLA_OPT_INT,
     .offset = OLA_FC_OFF(level),
     .def_int = 6,
     .min = 1,
     .max = 9,
     .help = "gzip level, 1 (fast) .. 9 (small)"},
    {.name = "fsync",
     .type = OLA_OPT_BOOL,
     .offset = OLA_FC_OFF(opts.fsync),
     .def_int = 1,
     .help = "fdatasync before a batch counts as delivered"},
    {.name = "manifest",
     .type = OLA_OPT_BOOL,
     .offset = OLA_FC_OFF(opts.manifest),
     .def_int = 1,
     .help = "a hash-chained manifest per closed file"},
    {.name = "rotate",
     .type = OLA_OPT_MAP,
     .sub = ola_file_rotate_options,
     .help = "default: never rotate"},
    {.name = "keep",
     .type = OLA_OPT_MAP,
     .sub = ola_file_keep_options,
     .help = "default: keep every closed file"},
    {.name = NULL},
};

static int ola_file_init(struct ola_output *o, const struct ola_cfg *node,
                         struct ola_err *err)
{
    const struct ola_file_conf *c = o->settings;
    struct ola_file_opts opts = c->opts;

    (void)node;
    opts.gzip = c->compression == 1;
    opts.level = (int)c->level;
    opts.now_ms = NULL;
    if (ola_file_sink_open(o, &opts, err) != 0)
        return ola_err_prefix(err, "outputs: %s", o->name);
    return 0;
}

const struct ola_output_ops ola_out_file = {
    .name = "file",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_file_options,
    .settings_size = sizeof(struct ola_file_conf),
    .init = ola_file_init,
    .write = ola_file_sink_write,
    .flush = ola_file_sink_flush,
    .reopen = ola_file_sink_reopen,
    .close = ola_file_sink_close,
    .trim = ola_file_sink_trim,
};
