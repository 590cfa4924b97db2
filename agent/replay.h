/*
 * replay.h - the replay source: saved NDJSON events, as the API gave them.
 *
 * A source behind the interface of agent/core/source.h, so `olagent replay`
 * runs through the very pipeline `olagent run` builds (agent.c).
 */
#ifndef OLA_REPLAY_H
#define OLA_REPLAY_H

#include "agent/core/err.h"
#include "agent/core/source.h"

/*
 * A source reading NDJSON events from path ("-": stdin) in batches of up to
 * 1,000 lines (or the first line end past 32 MiB). Each line is admitted by
 * the check the live source applies (ola_event_admit); a refused one is
 * written to dead_letter (borrowed path, must outlive the source) as the
 * live source writes what it refuses, and counted. A line longer than an
 * event may be is refused without being held whole, so memory stays bounded
 * whatever the input. next() answers BATCH until the input ends, then END
 * (FATAL on a read error); commit() only counts; finish() prints the summary
 * ("olagent: replayed N records (...)") on stderr once the input ended.
 * Returns a new source (ola_source_destroy frees it and closes the file),
 * or NULL with err when path cannot be opened.
 */
struct ola_source *ola_replay_source_new(const char *path, const char *dead_letter,
                                         struct ola_err *err);

#endif
