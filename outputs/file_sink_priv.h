/*
 * file_sink_priv.h - the file output's state, shared by its own files only.
 *
 * The output (struct ola_fout, in o->ctx) holds one sink (struct ola_fsink)
 * per file stream: one, or one per tenant when the path holds {tenant}
 * (file_tenants.c: the ops, the table of sinks). A sink is one stream of
 * files with its own pattern, open file, rotation and manifest chain:
 * file_sink.c (formatting, one gzip member per flush, opening and closing
 * files), file_rotate.c (which files are the sink's, rotation and the keep
 * policy) and file_recover.c (crash recovery when a sink starts) work on it.
 * Nothing outside these files includes this header: tests and tools use
 * file_sink.h.
 */
#ifndef OLA_FILE_SINK_PRIV_H
#define OLA_FILE_SINK_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <zlib.h>

#include "outputs/file_sink.h"
#include "outputs/manifest.h"

struct ola_fstats {
    uint64_t events;
    int64_t first_id, last_id; /* 0: none */
    int64_t first_ms, last_ms; /* OLA_TIME_NONE: none */
};

/* The most tenant sinks open at once; beyond, the least recently used idle one closes. */
#define OLA_FILE_MAX_SINKS 256

struct ola_fsink;

/* The file output: what its sinks share (o->ctx). */
struct ola_fout {
    struct ola_file_opts opts; /* opts.path: tmpl */
    char *tmpl;                /* owned copy of the configured path */
    bool per_tenant;           /* the path holds {tenant}: one sink per tenant */
    struct ola_fsink **sinks;  /* owned; per_tenant: by first use, else one */
    size_t n, cap;
    uint64_t tick; /* counts writes: a sink's last use, for closing the idlest */
    z_stream zs;   /* shared: one member is compressed at a time */
    bool zs_ready;
    struct ola_buf member; /* the compressed member of one flush */
};

struct ola_fsink {
    struct ola_output *o; /* the output: its name, log, last_error, stats */
    struct ola_fout *fo;  /* the output's shared state */
    char tenant[OLA_TENANT_NAME_MAX +
                1];                   /* "" for the one sink of a path without {tenant} */
    char stream[OLA_MANIFEST_STREAM]; /* the manifest chain: NAME, or NAME/TENANT */
    uint64_t used;                    /* fo->tick of its last write */
    struct ola_file_opts opts;        /* opts.path: pattern */
    char *pattern;       /* owned: the path ({tenant} replaced), "./" added if relative */
    char root[PATH_MAX]; /* literal directory above the first conversion */
    int depth;           /* directory levels between root and the files */
    char glob[PATH_MAX]; /* the pattern as an fnmatch glob */
    char glob_dup[PATH_MAX]; /* the same with ".*" before the extension */
    struct ola_buf pending;  /* formatted records not yet durable */
    struct ola_fstats p;     /* what pending holds */
    int fd;                  /* the open file, or -1 */
    char path[PATH_MAX];
    uint64_t size;
    int64_t opened_ms;
    struct ola_fstats f; /* what the open file holds */
    uint64_t seq;        /* seq of the last manifest of the chain */
    char prev_sha[OLA_SHA256_HEX];
    struct ola_sha256_run hash; /* of the open file's durable bytes */
    bool trouble;               /* the last flush failed: log the recovery */
    bool rotate_failed;
};

/* A file the sink owns, found by a walk of its root (file_rotate.c). */
struct ola_owned {
    char *path;
    int64_t mtime_ms;
    bool manifest; /* a manifest exists beside it */
};

struct ola_scan {
    const struct ola_fsink *s;
    struct ola_owned *v;
    size_t n, cap;
    uint64_t tail_seq; /* the newest manifest (highest seq) */
    char tail_sha[OLA_SHA256_HEX];
};

/* ---- file_sink.c ------------------------------------------------------------ */

/* The wall clock (opts.now_ms when set), in ms. */
int64_t ola_fsink_now(const struct ola_fsink *s);
void ola_fstats_init(struct ola_fstats *st);
/* Counts one record (id 0: an alert, counted without an id). */
void ola_fstats_note(struct ola_fstats *st, int64_t id, int64_t created_ms);
void ola_fstats_add(struct ola_fstats *dst, const struct ola_fstats *src);
/* Fills the counting part of a manifest from stats. */
void ola_manifest_fill(struct ola_manifest *m, const char *path, const char *stream,
                       const struct ola_fstats *st);
/* Chains m after the tail, writes it beside path, moves the tail. 0 / -1. */
int ola_fsink_chain(struct ola_fsink *s, const char *path, struct ola_manifest *m,
                    struct ola_err *err);
/* Closes the open file (manifest; an empty one is removed); 0, or -1 and it stays open.
 */
int ola_fsink_close_file(struct ola_fsink *s, const char *why, struct ola_err *err);
/*
 * A new sink of o on fo for tenant (NULL: the one sink, its path as
 * configured; else {tenant} replaced by it), started (file_recover.c).
 * Returns it, or NULL with err.
 */
struct ola_fsink *ola_fsink_new(struct ola_output *o, struct ola_fout *fo,
                                const char *tenant, struct ola_err *err);
/* Closes the open file (a failure is logged, recovered at next start), frees s. */
void ola_fsink_free(struct ola_fsink *s);
/* Formats b's records routed to o into s's pending bytes: OK or RETRY. */
enum ola_rc ola_fsink_write(struct ola_fsink *s, const struct ola_batch *b);
/* Makes s's pending bytes durable (one member), then rotates when due. */
enum ola_rc ola_fsink_flush(struct ola_fsink *s);
/* Frees s's buffers when nothing waits in them. */
void ola_fsink_trim(struct ola_fsink *s);

/* ---- file_rotate.c ---------------------------------------------------------- */

/* Index of the extension in the last component of p (its first '.', not at 0). */
size_t ola_ext_at(const char *p);
/* Translates the strftime pattern into root, depth and the two globs. 0 / -1. */
int ola_pattern_compile(struct ola_fsink *s, struct ola_err *err);
/* Creates the directories above path, fsyncing the parent of each new one. 0 / -1. */
int ola_mkdir_parents(const char *path, struct ola_err *err);
/* Walks the root: the sink's files (not the open one) and the chain's tail. 0 / -1. */
int ola_fsink_scan(struct ola_fsink *s, struct ola_scan *sc, struct ola_err *err);
void ola_scan_free(struct ola_scan *sc);
/* qsort order of struct ola_owned by path. */
int ola_owned_by_name(const void *a, const void *b);
/* Deletes closed files (and manifests) beyond keep.files / keep.days. */
void ola_fsink_keep(struct ola_fsink *s);
/* Rotates when the open file is due (size or age); failures keep it open. */
void ola_fsink_maybe_rotate(struct ola_fsink *s);

/* ---- file_recover.c --------------------------------------------------------- */

/* Closes what a previous run left open, finds the chain's tail, applies keep. */
int ola_fsink_startup(struct ola_fsink *s, struct ola_err *err);

#endif
