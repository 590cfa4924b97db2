/*
 * out_file.c - the "file" output: NDJSON files, gzip or plain.
 *
 * This file reads the plugin's keys (path, compression, level, rotate, keep,
 * fsync, manifest) with the ola_cfg_* readers and registers the ops; the
 * engine is file_sink.c: one gzip member per flush, fsync before the ack,
 * rotation between members with a SHA-256 manifest chained to the previous
 * one, crash recovery at startup, SIGHUP reopen.
 */
#include <errno.h>
#include <string.h>

#include "outputs/file_sink.h"

static const char *const ola_file_keys[] = {
    "path", "compression", "level", "rotate", "keep", "fsync", "manifest", NULL,
};
static const char *const ola_file_rotate_keys[] = {"size", "age", NULL};
static const char *const ola_file_keep_keys[] = {"files", "days", NULL};
static const char *const ola_file_compressions[] = {"none", "gzip", NULL};

static int ola_file_init(struct ola_output *o, const struct ola_cfg *node,
                         struct ola_err *err)
{
    const struct ola_cfg *rotate = ola_cfg_get(node, "rotate");
    const struct ola_cfg *keep = ola_cfg_get(node, "keep");
    struct ola_file_opts opts;
    const char *path = NULL;
    long long level = 6;
    int comp = 0;

    if (ola_cfg_str(node, "path", NULL, &path, err) != 0)
        return -1;
    if (path == NULL || path[0] == '\0')
        return ola_cfg_errf(err, node, "outputs: file: path: required");
    ola_file_opts_default(&opts, path);
    if (ola_cfg_enum(node, "compression", ola_file_compressions, opts.gzip ? 1 : 0, &comp,
                     err) != 0 ||
        ola_cfg_int(node, "level", 6, 1, 9, &level, err) != 0 ||
        ola_cfg_bool(node, "fsync", true, &opts.fsync, err) != 0 ||
        ola_cfg_bool(node, "manifest", true, &opts.manifest, err) != 0)
        return -1;
    opts.gzip = comp == 1;
    opts.level = (int)level;
    if (rotate != NULL && ola_cfg_type(rotate) != OLA_CFG_NULL) {
        if (ola_cfg_type(rotate) != OLA_CFG_MAP)
            return ola_cfg_errf(err, rotate, "rotate: expected a map {size, age}");
        if (ola_cfg_check_keys(rotate, ola_file_rotate_keys, err) != 0 ||
            ola_cfg_size(rotate, "size", 0, &opts.rotate_size, err) != 0 ||
            ola_cfg_duration(rotate, "age", 0, 0, INT64_MAX, &opts.rotate_age_ms, err) !=
                0)
            return -1;
    }
    if (keep != NULL && ola_cfg_type(keep) != OLA_CFG_NULL) {
        if (ola_cfg_type(keep) != OLA_CFG_MAP)
            return ola_cfg_errf(err, keep, "keep: expected a map {files, days}");
        if (ola_cfg_check_keys(keep, ola_file_keep_keys, err) != 0 ||
            ola_cfg_int(keep, "files", 0, 0, 1000000000, &opts.keep_files, err) != 0 ||
            ola_cfg_int(keep, "days", 0, 0, 100000, &opts.keep_days, err) != 0)
            return -1;
    }
    if (ola_file_sink_open(o, &opts, err) != 0)
        return ola_err_prefix(err, "outputs: %s", o->name);
    return 0;
}

const struct ola_output_ops ola_out_file = {
    .name = "file",
    .abi = OLA_OUTPUT_ABI,
    .keys = ola_file_keys,
    .init = ola_file_init,
    .write = ola_file_sink_write,
    .flush = ola_file_sink_flush,
    .reopen = ola_file_sink_reopen,
    .close = ola_file_sink_close,
    .trim = ola_file_sink_trim,
};
