/*
 * spool.h - an output's bounded, crash-safe spool on disk (`spool: {dir, max_size}`).
 *
 * The pipeline appends an output's part of each batch (ola_spool_append: one
 * write and one fdatasync); that append is the output's acknowledgement for the
 * checkpoint. A drain thread (agent/spool_drain.c) reads the records back
 * (ola_spool_read), hands them to the output and, once the output's flush said
 * OK, moves the reader position (ola_spool_advance: a small file replaced
 * atomically). The format and the guarantee are in docs/outputs.md, "Spool".
 *
 * Threads: one writer (callers serialise appends: the outputs' shared lock)
 * and one reader (the drain) may work at once; the spool's own mutex guards
 * what they share. ola_spool_figures may be called from any thread.
 */
#ifndef OLA_SPOOL_H
#define OLA_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/err.h"
#include "agent/core/event.h"
#include "outputs/output.h"

/* The smallest spool: a segment is an eighth of it, at least 64 KiB. */
#define OLA_SPOOL_MIN_SIZE ((uint64_t)1 << 20)
/* The largest record read back: an event (OLA_EVENT_MAX_BYTES) and its olagent object. */
#define OLA_SPOOL_REC_MAX ((size_t)16 << 20)
/* A drain batch: at most this many records, of one tenant, from one segment. */
#define OLA_SPOOL_BATCH_RECS  500
#define OLA_SPOOL_BATCH_BYTES ((size_t)4 << 20)

struct ola_spool;

/* A place in the spool: the segment's number and a byte offset in it. */
struct ola_spool_pos {
    uint64_t seg;
    uint64_t off;
};

/* What the metrics show; a copy. */
struct ola_spool_figures {
    uint64_t bytes;         /* undelivered record bytes on disk */
    uint64_t disk_bytes;    /* every segment's size (the bound holds this) */
    int64_t oldest_ms;      /* wall-clock time the oldest undelivered record was
                               spooled; 0 when none waits */
    uint64_t cut_bytes;     /* torn bytes cut when the spool was opened */
    uint64_t appended_recs; /* records appended in this process */
};

/*
 * Opens (creating it, mode 0700) the spool in dir, bounded by max_size bytes
 * of segments: a torn tail (a record with a bad length or CRC) is cut from
 * each segment, segments before the reader position are deleted. name: the
 * output's name, for logs (copied). Returns a new spool or NULL with err.
 * @locality the main thread, at start.
 */
struct ola_spool *ola_spool_open(const char *dir, uint64_t max_size, const char *name,
                                 struct ola_err *err);
/* Closes and frees; NULL is a no-op. Nothing on disk changes. */
void ola_spool_close(struct ola_spool *sp);

/*
 * Appends every record of b that o takes (ola_output_takes): its original
 * bytes (an alert: its tree, dumped), its olagent object, kind, severity,
 * event id, created_at, b's tenant and the time now, then fdatasyncs the
 * segment. All of b's part or none of it goes in. Returns OLA_OK (durable),
 * OLA_RETRY when the spool has no room for it (logged once until it has room
 * again: "spool of output X full, pausing") or an I/O error (err says; what
 * was written of it is cut off again). b: borrowed.
 * @locality one writer at a time (the outputs' shared lock).
 */
enum ola_rc ola_spool_append(struct ola_spool *sp, const struct ola_output *o,
                             const struct ola_batch *b, struct ola_err *err);

/*
 * Reads the next records after the reader position into b (reset first):
 * the longest run of one tenant, from one segment, of at most
 * OLA_SPOOL_BATCH_RECS records or OLA_SPOOL_BATCH_BYTES. Each event is parsed
 * again on the calling thread (its own json_t), e->raw points into b->body,
 * e->routes is the bit index; b->tenant points into tenant (tenant_size
 * bytes, at least OLA_TENANT_NAME_MAX + 1). *next gets the position after
 * the run. Returns the number of records (> 0), 0 when nothing durable
 * waits, -1 with err (out of memory, I/O; a record that fails its CRC is
 * reported and the rest of its segment skipped, never delivered).
 * @locality the one reader.
 */
int ola_spool_read(struct ola_spool *sp, struct ola_batch *b, unsigned index,
                   char *tenant, size_t tenant_size, struct ola_spool_pos *next,
                   struct ola_err *err);

/*
 * Moves the reader position to next (from ola_spool_read) durably: the
 * position file is written to a temp file, fsynced, renamed over, and the
 * directory fsynced; then the segments wholly before it are deleted. Returns
 * 0 / -1 with err (the position stays where it was).
 * @locality the one reader.
 */
int ola_spool_advance(struct ola_spool *sp, const struct ola_spool_pos *next,
                      struct ola_err *err);

/* The reader position now. @locality any thread. */
void ola_spool_position(struct ola_spool *sp, struct ola_spool_pos *pos);

/* Copies the spool's figures. @locality any thread. */
void ola_spool_figures(struct ola_spool *sp, struct ola_spool_figures *f);

#endif
