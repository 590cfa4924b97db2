/*
 * checkpoint.h - the agent's durable position.
 *
 * The checkpoint file is versioned JSON with a checksum, written atomically
 * (temp file, fsync, rename, fsync of the directory) after each batch is
 * delivered. It holds the start, the watermark, the window in progress (bounds, cursor),
 * the ids delivered inside the overlap and the window (dedupe across
 * restarts), when the overlap was last swept, and an opaque state object for
 * the alert rules. A missing file means "start from `start`"; a corrupt one
 * is an error that names the file and the command that fixes it: it is never
 * silently replaced.
 */
#ifndef OLA_CHECKPOINT_H
#define OLA_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/err.h"
#include "agent/core/position.h"

#define OLA_CHECKPOINT_VERSION 1

/*
 * The bounds of a checkpoint file, one constant each for the loader and the
 * saver: the loader refuses a `seen` list of more ids, or a file of this many
 * bytes or more; the saver trims `seen` to the first and refuses to write the
 * second, so a saved checkpoint always loads (ola_checkpoint_save).
 */
#define OLA_CHECKPOINT_MAX_SEEN  10000000
#define OLA_CHECKPOINT_MAX_BYTES ((size_t)1 << 30)

/*
 * The position (core/position.h) as the source left it, plus what only the
 * file has: the alert state and when it was last saved.
 */
struct ola_checkpoint {
    struct ola_position pos; /* owned: watermark, window, cursor, seen ids, ... */
    int64_t updated_ms;      /* wall time of the last save */
    json_t *alerts;          /* owned opaque alert state, or NULL */
    /* borrowed, for the next save only: the alert state as JSON text in the
     * form json_dumps(..., JSON_COMPACT) writes (the checksum is over that
     * form), written in place of `alerts`: the saver builds no tree of it */
    const char *alerts_text;
    size_t alerts_len;

    /* Not saved: set by init, kept by load; the agent sets overlap_ms. */
    size_t max_seen;    /* OLA_CHECKPOINT_MAX_SEEN (a test may lower both bounds) */
    size_t max_bytes;   /* OLA_CHECKPOINT_MAX_BYTES */
    int64_t overlap_ms; /* the configured overlap, -1 unknown: when `seen` is over
                           max_seen, ids created before watermark - overlap go first */
    int bound_state;    /* what the log last said about max_seen (checkpoint.c) */
    uint64_t trimmed_outside, trimmed_inside; /* ids dropped since the bound was hit */
};

/* Zeroes cp, sets the bounds and makes its position empty. Returns 0 / -1. */
int ola_checkpoint_init(struct ola_checkpoint *cp);
void ola_checkpoint_free(struct ola_checkpoint *cp);

/*
 * Reads path into cp (initialised; its bounds and overlap_ms are kept). *found
 * is false when the file does not exist (cp untouched). A file that is
 * unreadable, truncated, over the bounds, fails its checksum or has another
 * version is an error naming the file; so is a symlink at path (the saver
 * would replace the link, not write its target).
 */
int ola_checkpoint_load(const char *path, struct ola_checkpoint *cp, bool *found,
                        struct ola_err *err);
/*
 * Writes cp atomically and durably (a mkstemp temp file beside path, fsync,
 * rename, fsync of the directory); creates the directory if missing. First
 * trims cp->pos.seen to cp->max_seen (oldest ids first, those older than the
 * overlap before any other; logged when it starts and when it ends) and
 * refuses a file of max_bytes or more, so what it writes always loads.
 * Single-threaded: the caller holds the checkpoint's lock (lock.h).
 */
int ola_checkpoint_save(const char *path, struct ola_checkpoint *cp, struct ola_err *err);
/*
 * Removes the temp files ("<path>.tmp.XXXXXX") that saves killed before
 * their rename left beside path. Only for the holder of the checkpoint's
 * lock: another agent's save in progress would lose its file. Returns how
 * many went.
 */
size_t ola_checkpoint_remove_temps(const char *path);
/* The checkpoint as JSON (without checksum), for `checkpoint show`. New reference. */
json_t *ola_checkpoint_to_json(const struct ola_checkpoint *cp);

#endif
