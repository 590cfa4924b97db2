/*
 * source.h - the OneLogin event source: windows, pages, dedupe.
 */
#ifndef OLA_SOURCE_H
#define OLA_SOURCE_H

#include <stdint.h>

#include "agent/core/event.h"
#include "agent/onelogin/client.h"
#include "agent/state/checkpoint.h"
#include "agent/onelogin/settings.h"
#include "config/config.h"

enum ola_src_rc {
    OLA_SRC_BATCH = 0, /* a page is in the batch (possibly empty after dedupe) */
    OLA_SRC_IDLE,      /* nothing to do before *wait_ms */
    OLA_SRC_RETRY,     /* a transient failure; try again after *wait_ms */
    OLA_SRC_FATAL,     /* cannot go on (credential, configuration); err says why */
};

struct ola_source;

/*
 * s, client and cp: borrowed, must outlive the source. cp is the loaded (or
 * fresh) checkpoint; a window in progress in it is resumed.
 * dead_letter: where malformed page elements go (NULL: counted and logged only).
 */
struct ola_source *ola_source_new(const struct ola_ol_settings *s,
                                  struct ola_ol_client *client, struct ola_checkpoint *cp,
                                  const char *dead_letter, struct ola_err *err);
void ola_source_destroy(struct ola_source *src);

/*
 * Fetches the next page of the current window (opening a window when one is
 * due) into b (reset first). Events already delivered are skipped, the rest
 * are ordered by (created_at, id). Never sleeps: on IDLE/RETRY *wait_ms says
 * how long to wait. @locality the agent thread.
 */
enum ola_src_rc ola_source_next(struct ola_source *src, struct ola_batch *b,
                                int64_t *wait_ms, struct ola_err *err);

/*
 * The batch last returned was durably delivered: records its ids as seen and
 * moves the window (cursor, or watermark when the window is finished) in the
 * checkpoint. The caller then saves the checkpoint.
 */
int ola_source_commit(struct ola_source *src, const struct ola_batch *b);

/* True when the last committed window ended behind the head (catching up). */
bool ola_source_catching_up(const struct ola_source *src);

#endif
