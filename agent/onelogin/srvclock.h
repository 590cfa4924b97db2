/*
 * srvclock.h - the server's clock, read from whole-second Date headers.
 */
#ifndef OLA_SRVCLOCK_H
#define OLA_SRVCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define OLA_SRVCLOCK_UNBOUNDED INT64_MAX
#define OLA_SRVCLOCK_JUMP_MS   300000 /* a Date this far off the estimate is suspect */
#define OLA_SRVCLOCK_AGREE_N   5      /* ... until this many in a row agree ... */
#define OLA_SRVCLOCK_AGREE_MS  10000  /* ... over at least this long */

/* What one answer did to the estimate, for the caller to log once per change. */
enum ola_srvclock_change {
    OLA_SRVCLOCK_SAME = 0,      /* taken, or one more outlier of a streak already told */
    OLA_SRVCLOCK_OUTLIER_START, /* a Date far off the estimate: ignored */
    OLA_SRVCLOCK_OUTLIER_END,   /* the Dates agree with the estimate again */
    OLA_SRVCLOCK_MOVED,         /* the outliers agreed long enough: the estimate moved */
};

struct ola_srvclock {
    bool known;
    int64_t lower_ms;  /* the offset (server - local clock) is at least this */
    int64_t upper_ms;  /* ... and below this; OLA_SRVCLOCK_UNBOUNDED if no sample said */
    int64_t travel_ms; /* the shortest request seen (send to answer), -1: none */
    unsigned probes;   /* probe delays handed out since the estimate last tightened */
    /* outliers: answers more than OLA_SRVCLOCK_JUMP_MS off the estimate */
    unsigned cand_n;       /* outliers in a row that agree with each other */
    int64_t cand_lower_ms; /* the offset they agree on (same bounds as above) */
    int64_t cand_upper_ms;
    int64_t cand_first_ms; /* local time of the first of them */
    unsigned streak;       /* outliers since the last answer that agreed */
    int64_t end_sent_ms;   /* when the request whose answer ended the last streak
                              went out (local clock); -1: none */
    int64_t jump_ms;       /* how far the last outlier was (signed: + is ahead) */
    uint64_t rejected;     /* outliers ignored in all */
};

void ola_srvclock_init(struct ola_srvclock *ck);

/*
 * Learns from one answer: date_ms is its Date header (whole seconds), sent_ms
 * and recv_ms the local clock (any clock that does not step: the client uses
 * the monotonic one) when the request went out and when the answer was in.
 * sent_ms < 0 means unknown (then only the lower bound learns).
 *
 * An answer that contradicts the estimate by up to OLA_SRVCLOCK_JUMP_MS
 * restarts it (the server's clock was stepped or drifted). One that is
 * further off is ignored and counted, until OLA_SRVCLOCK_AGREE_N such
 * answers in a row, spanning OLA_SRVCLOCK_AGREE_MS, agree with each other:
 * then the estimate moves to what they agree on. A single Date hours off
 * (a proxy, a broken node) never moves the server's time. An outlier whose
 * request went out before the one whose answer ended the last streak is a
 * straggler of that streak (requests in flight together answer in any
 * order): counted, but it starts no new one. The first answer is taken as
 * it is: there is nothing to judge it by.
 */
enum ola_srvclock_change ola_srvclock_learn(struct ola_srvclock *ck, int64_t date_ms,
                                            int64_t sent_ms, int64_t recv_ms);

/* The server's time at local_ms: never ahead of it (the lower bound). */
int64_t ola_srvclock_now(const struct ola_srvclock *ck, int64_t local_ms);

/* upper - lower in ms, or OLA_SRVCLOCK_UNBOUNDED. */
int64_t ola_srvclock_spread(const struct ola_srvclock *ck);

/*
 * How long after due_ms (local clock) a request should go so that its
 * Date halves what is unknown about the offset: a delay in [0, 1000), or 0
 * when the estimate is as tight as tight_ms (or as the round trips allow), or
 * after a few probes that did not tighten it.
 */
int64_t ola_srvclock_probe_delay(struct ola_srvclock *ck, int64_t due_ms,
                                 int64_t tight_ms);

#endif
