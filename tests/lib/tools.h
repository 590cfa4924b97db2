/*
 * tools.h - what the benchmark and writer tools in tests/tools/ share.
 *
 * A clock reading in seconds, a strict number argument, the generated
 * OneLogin-shaped event of the output benchmarks, and an NDJSON line added to
 * a batch as an event that keeps its bytes. See tools.c.
 */
#ifndef OLA_TEST_TOOLS_H
#define OLA_TEST_TOOLS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "agent/core/buf.h"
#include "agent/core/event.h"
#include "agent/core/rng.h"

/* clock_gettime(id) in seconds: CLOCK_MONOTONIC for wall, CLOCK_PROCESS_CPUTIME_ID for
 * CPU. */
double ola_tool_secs(clockid_t id);

/* s as a whole decimal number in [min, max] into *out; 0, or -1 (*out unchanged). */
int ola_tool_long(const char *s, long min, long max, long *out);

/*
 * Appends one event like /api/1/events returns it (compact, about 750 bytes:
 * varied users, types, addresses, risk) to b. rng: for its random parts (two
 * draws per event, so a fixed seed gives the same events every run). Returns
 * ola_buf_printf's 0 / -1.
 */
int ola_tool_gen_event(struct ola_buf *b, struct ola_rng *rng, int64_t id, int64_t ms);

/*
 * Parses raw[0..len) and appends it to b as an event that keeps raw as its
 * bytes (borrowed: it must outlive the batch), with id and created_ms read from
 * the event (0 when absent or unreadable). Returns the event, or NULL when the
 * line is not a JSON object or memory ran out; jerr then says why.
 */
struct ola_event *ola_tool_add_line(struct ola_batch *b, const char *raw, size_t len,
                                    json_error_t *jerr);

#endif
