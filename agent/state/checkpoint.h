/*
 * checkpoint.h - the agent's durable position, and the set of seen ids.
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

#define OLA_CHECKPOINT_VERSION 1

/*
 * The bounds of a checkpoint file, one constant each for the loader and the
 * saver: the loader refuses a `seen` list of more ids, or a file of this many
 * bytes or more; the saver trims `seen` to the first and refuses to write the
 * second, so a saved checkpoint always loads (ola_checkpoint_save).
 */
#define OLA_CHECKPOINT_MAX_SEEN  10000000
#define OLA_CHECKPOINT_MAX_BYTES ((size_t)1 << 30)

/* ---- seen ids: a hash set of (id, created_ms) ---------------------------- */
struct ola_seen;

struct ola_seen *ola_seen_new(void);
void ola_seen_destroy(struct ola_seen *s);
bool ola_seen_has(const struct ola_seen *s, int64_t id);
/* Adds id (no-op if present). Returns 0 / -1 (ENOMEM). */
int ola_seen_add(struct ola_seen *s, int64_t id, int64_t created_ms);
/* Removes every id with created_ms < before_ms. Returns how many went. */
size_t ola_seen_prune(struct ola_seen *s, int64_t before_ms);
/*
 * Removes the oldest entries (smallest created_ms, then smallest id) until at
 * most keep remain; when bounded, only entries created before before_ms may
 * go (then more than keep may remain). *removed says how many went. Returns
 * 0, or -1 (ENOMEM: nothing removed; it needs a copy of the candidates).
 */
int ola_seen_trim(struct ola_seen *s, size_t keep, bool bounded, int64_t before_ms,
                  size_t *removed);
size_t ola_seen_count(const struct ola_seen *s);
void ola_seen_clear(struct ola_seen *s);
/* Calls fn for each entry, in increasing id order. */
void ola_seen_foreach(const struct ola_seen *s,
                      void (*fn)(int64_t id, int64_t created_ms, void *arg), void *arg);

/* ---- the checkpoint -------------------------------------------------------- */
enum ola_window_kind {
    OLA_WINDOW_HEAD = 0,  /* since = watermark */
    OLA_WINDOW_SWEEP = 1, /* since = watermark - overlap: the late sweep */
};

struct ola_checkpoint {
    int64_t watermark_ms; /* every event created before it was delivered; -1 none */
    int64_t start_ms;     /* nothing created before it is read (the start the
                             checkpoint was made with); -1 none (older files) */
    bool in_window;       /* a window is in progress */
    enum ola_window_kind window_kind;
    int64_t window_since_ms;
    int64_t window_until_ms;
    char *cursor;          /* owned after_cursor to resume with, or NULL */
    int64_t last_sweep_ms; /* server time the last sweep window started; -1 never */
    uint64_t delivered;    /* events delivered since the checkpoint was created */
    int64_t updated_ms;    /* wall time of the last save */
    struct ola_seen *seen; /* owned */
    json_t *alerts;        /* owned opaque alert state, or NULL */

    /* Not saved: set by init, kept by load; the agent sets overlap_ms. */
    size_t max_seen;    /* OLA_CHECKPOINT_MAX_SEEN (a test may lower both bounds) */
    size_t max_bytes;   /* OLA_CHECKPOINT_MAX_BYTES */
    int64_t overlap_ms; /* the configured overlap, -1 unknown: when `seen` is over
                           max_seen, ids created before watermark - overlap go first */
    int bound_state;    /* what the log last said about max_seen (checkpoint.c) */
    uint64_t trimmed_outside, trimmed_inside; /* ids dropped since the bound was hit */
};

/* Zeroes cp, sets the bounds and creates its seen set. Returns 0 / -1. */
int ola_checkpoint_init(struct ola_checkpoint *cp);
void ola_checkpoint_free(struct ola_checkpoint *cp);
/* Replaces the cursor (copied; NULL clears). Returns 0 / -1. */
int ola_checkpoint_set_cursor(struct ola_checkpoint *cp, const char *cursor);

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
 * trims cp->seen to cp->max_seen (oldest ids first, those older than the
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
