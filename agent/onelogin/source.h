/*
 * source.h - the OneLogin event source: windows, pages, dedupe.
 *
 * A source behind the interface of agent/core/source.h; this header only
 * gives its constructor.
 */
#ifndef OLA_ONELOGIN_SOURCE_H
#define OLA_ONELOGIN_SOURCE_H

#include "agent/core/err.h"
#include "agent/core/position.h"
#include "agent/core/source.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/settings.h"
#include "config/config.h"

/*
 * A source tailing the OneLogin audit events. s, client and pos: borrowed,
 * must outlive the source. pos is the loaded (or fresh) position, which the
 * source moves: a window in progress in it is resumed; next() skips the ids
 * in pos->seen; commit() records the delivered ids there and moves the
 * cursor, or the watermark when the window is finished (the caller then
 * saves it). dead_letter: where malformed page elements go (NULL: counted
 * and logged only). Returns a new source (ola_source_destroy frees it) or
 * NULL with err. next() never sleeps and is never END.
 */
struct ola_source *ola_ol_source_new(const struct ola_ol_settings *s,
                                     struct ola_ol_client *client,
                                     struct ola_position *pos, const char *dead_letter,
                                     struct ola_err *err);

#endif
