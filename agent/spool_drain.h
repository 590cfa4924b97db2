/*
 * spool_drain.h - the thread that drains one spooled output's spool into it.
 */
#ifndef OLA_SPOOL_DRAIN_H
#define OLA_SPOOL_DRAIN_H

#include <stdatomic.h>
#include <stdbool.h>

#include "agent/core/err.h"
#include "outputs/output.h"
#include "outputs/spool.h"

struct ola_spool_drain;

/*
 * Starts o's drain: a thread that reads runs of records from sp
 * (ola_spool_read), hands each to o (write until OK, then flush until OK,
 * refused records to o's dead-letter file, backoff between failing tries) and
 * moves sp's reader position after the flush said OK. From now on only the
 * drain calls o's write and flush; o->call_lock points at the drain's lock
 * until ola_spool_drain_stop. fatal: set when o answers FATAL (the drain
 * then ends; the pipeline stops the agent). o, sp: borrowed, outlive the
 * drain. Returns the drain or NULL with err. @locality the main thread.
 */
struct ola_spool_drain *ola_spool_drain_start(struct ola_output *o, struct ola_spool *sp,
                                              atomic_bool *fatal, struct ola_err *err);
/* Asks the drain to stop, joins it and frees it; NULL is a no-op. */
void ola_spool_drain_stop(struct ola_spool_drain *d);
/* New records wait: the drain's idle wait ends now. @locality any thread. */
void ola_spool_drain_kick(struct ola_spool_drain *d);
/*
 * The output's counters as of its last call and whether it is in a failure
 * streak: a copy the drain keeps, so a reader never waits for a call in
 * progress. @locality any thread.
 */
void ola_spool_drain_figures(struct ola_spool_drain *d, struct ola_output_stats *st,
                             bool *failing);

#endif
