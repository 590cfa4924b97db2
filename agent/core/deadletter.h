/*
 * deadletter.h - where records that can never be delivered go.
 *
 * One writer for every part that refuses something for good: the sources
 * (a malformed page element, a replayed line the event check refuses) and
 * the outputs (a record the destination or the format will never take,
 * written by ola_output_bury in outputs/). It lives in core so that the
 * sources need not include outputs/.
 */
#ifndef OLA_DEADLETTER_H
#define OLA_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "agent/core/err.h"

/*
 * Appends one JSON line {"time","output","reason","id","record"} to path
 * (its directory is created when missing) and fsyncs. output: who refused it
 * ("source", "replay", an output's name). id: the OneLogin event id, 0 for
 * none (the member is then left out). record: the bytes that could not be
 * delivered (bytes that are not UTF-8 go in "record_base64" instead of
 * "record"). path NULL is an error. Returns 0 / -1 with err.
 */
int ola_deadletter_append(const char *path, const char *output, const char *reason,
                          int64_t id, const char *record, size_t len,
                          struct ola_err *err);
/* The same without an id (the source's malformed page elements). */
int ola_deadletter_write(const char *path, const char *output, const char *reason,
                         const char *record, size_t len, struct ola_err *err);

#endif
