/*
 * position.h - where a source stands in its stream: what it delivered, the
 * window it is reading.
 *
 * The OneLogin source reads and moves a position (it opens a window, moves
 * the cursor page by page, sets the watermark when the window ends and
 * records the ids it delivered); the checkpoint (agent/state) saves and
 * loads one. It lives here, below both, so neither includes the other.
 * Single-threaded: the agent thread owns it.
 */
#ifndef OLA_POSITION_H
#define OLA_POSITION_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/core/seen.h"

enum ola_window_kind {
    OLA_WINDOW_HEAD = 0,  /* since = watermark */
    OLA_WINDOW_SWEEP = 1, /* since = watermark - overlap: the late sweep */
};

struct ola_position {
    int64_t watermark_ms; /* every event created before it was delivered; -1 none */
    int64_t start_ms;     /* nothing created before it is read (the start the
                             position was made with); -1 none (older files) */
    bool in_window;       /* a window is in progress */
    enum ola_window_kind window_kind;
    int64_t window_since_ms;
    int64_t window_until_ms;
    char *cursor;          /* owned after_cursor to resume with, or NULL */
    int64_t last_sweep_ms; /* server time the last sweep window started; -1 never */
    uint64_t delivered;    /* events delivered since the position was created */
    struct ola_seen *seen; /* owned: ids delivered inside the overlap and window */
};

/*
 * The empty position: no watermark, start, window or sweep, nothing
 * delivered, and a new empty seen set. Returns 0 / -1 (out of memory: pos
 * then holds nothing to free).
 */
int ola_position_init(struct ola_position *pos);
/* Frees the cursor and the seen set; pos is left empty (no seen set). NULL: no-op. */
void ola_position_free(struct ola_position *pos);
/* Replaces the cursor (copied; NULL clears). Returns 0 / -1 (the old one stays). */
int ola_position_set_cursor(struct ola_position *pos, const char *cursor);

#endif
