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

#include "err.h"

#define OLA_CHECKPOINT_VERSION 1

/* ---- seen ids: a hash set of (id, created_ms) ---------------------------- */
struct ola_seen;

struct ola_seen *ola_seen_new(void);
void ola_seen_destroy(struct ola_seen *s);
bool ola_seen_has(const struct ola_seen *s, int64_t id);
/* Adds id (no-op if present). Returns 0 / -1 (ENOMEM). */
int ola_seen_add(struct ola_seen *s, int64_t id, int64_t created_ms);
/* Removes every id with created_ms < before_ms. Returns how many went. */
size_t ola_seen_prune(struct ola_seen *s, int64_t before_ms);
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
};

/* Zeroes cp and creates its seen set. Returns 0 / -1. */
int ola_checkpoint_init(struct ola_checkpoint *cp);
void ola_checkpoint_free(struct ola_checkpoint *cp);
/* Replaces the cursor (copied; NULL clears). Returns 0 / -1. */
int ola_checkpoint_set_cursor(struct ola_checkpoint *cp, const char *cursor);

/*
 * Reads path into cp (initialised). *found is false when the file does not
 * exist (cp untouched). A file that is unreadable, truncated, fails its
 * checksum or has another version is an error naming the file.
 */
int ola_checkpoint_load(const char *path, struct ola_checkpoint *cp, bool *found,
                        struct ola_err *err);
/* Writes cp atomically and durably; creates the directory if missing. */
int ola_checkpoint_save(const char *path, struct ola_checkpoint *cp, struct ola_err *err);
/* The checkpoint as JSON (without checksum), for `checkpoint show`. New reference. */
json_t *ola_checkpoint_to_json(const struct ola_checkpoint *cp);

#endif
