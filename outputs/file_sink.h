/*
 * file_sink.h - the engine of the file output, apart from its config.
 *
 * out_file.c reads the YAML keys into struct ola_file_opts and registers the
 * ops; everything else (formatting into the pending buffer, one gzip member
 * per flush, fsync, rotation, manifests, crash recovery, keep) lives in
 * file_sink.c (with file_rotate.c and file_recover.c; file_tenants.c holds
 * the ops and one sink per tenant when the path has {tenant}), callable
 * without a config document (tests, tools).
 */
#ifndef OLA_FILE_SINK_H
#define OLA_FILE_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "outputs/output.h"

struct ola_file_opts {
    const char *path;      /* strftime pattern, expanded in UTC, {tenant}; borrowed */
    bool gzip;             /* one gzip member per flush; false: plain NDJSON */
    int level;             /* 1..9 */
    uint64_t rotate_size;  /* rotate once the file reaches this many bytes; 0: never */
    int64_t rotate_age_ms; /* rotate once the file is this old; 0: never */
    long long keep_files;  /* keep at most this many closed files; 0: all */
    long long keep_days;   /* delete closed files older than this; 0: never */
    bool fsync;            /* fsync each flush (false only for benchmarks) */
    bool manifest;         /* manifests and their hash chain */
    /* Wall clock in ms; NULL: the real one. For tests of age rotation. */
    int64_t (*now_ms)(void);
};

/* Defaults: gzip if path ends in ".gz", level 6, fsync, manifest, no limits. */
void ola_file_opts_default(struct ola_file_opts *opts, const char *path);

/*
 * Sets up o->ctx (o->name is the manifest stream; o->fmt and o->index must be
 * set). Closes what a previous run left open (truncates a partial trailing
 * member, writes the missing manifest), finds the tail of the manifest chain
 * and applies `keep`. The first file is opened by the first flush with data.
 * With {tenant} in the path, all of that happens per tenant, on the tenant's
 * first batch (stream NAME/TENANT); open only checks the path.
 * opts and what it points to are copied. Returns 0 / -1.
 */
int ola_file_sink_open(struct ola_output *o, const struct ola_file_opts *opts,
                       struct ola_err *err);

/* The ops (output.h contract). */
enum ola_rc ola_file_sink_write(struct ola_output *o, const struct ola_batch *b);
enum ola_rc ola_file_sink_flush(struct ola_output *o, int timeout_ms);
int ola_file_sink_reopen(struct ola_output *o, struct ola_err *err);
void ola_file_sink_close(struct ola_output *o);
/* Frees the batch buffers when nothing waits in them (a quiet poll). */
void ola_file_sink_trim(struct ola_output *o);

/* Path of the open file, or NULL when none is open. Borrowed. */
const char *ola_file_sink_current(const struct ola_output *o);
/* The same for tenant's file (a path with {tenant}); NULL: the first sink's. */
const char *ola_file_sink_current_of(const struct ola_output *o, const char *tenant);
/* How many sinks (streams of files) the output holds: 1, or one per tenant seen. */
size_t ola_file_sink_count(const struct ola_output *o);

/*
 * Closes a file left by a crash: truncates it after its last complete gzip
 * member (plain: after its last newline) and counts its records into m
 * (events, ids, created_at; ids and times from JSON lines only). Returns 0 /
 * -1. Exposed for tests.
 */
struct ola_manifest;
int ola_file_recover(const char *path, bool gzip, struct ola_manifest *m,
                     uint64_t *dropped_bytes, struct ola_err *err);

#endif
