/*
 * srvclock.c - the server's clock, read from whole-second Date headers.
 *
 * The server stamps Date at some instant between our request leaving (sent)
 * and its answer arriving (recv), with the time cut down to the second. So
 * each answer bounds the offset (server - local): date - recv <= offset <
 * date + 1 s - sent. The estimate is the intersection of those intervals;
 * the agent reads the server's time from the lower bound, so a window's end
 * is never ahead of the server.
 *
 * A poller that asks at the same phase of every second learns nothing new
 * after its first answer: the lower bound can lag the truth by up to a
 * second, which is a second of latency for every event. The probe delay
 * fixes that by bisection: it moves the next poll to the instant where, were
 * the offset the middle of the interval, the server's second would just have
 * turned. The answer's Date then says on which side the truth is and the
 * interval halves; a few polls bring it down to about two round trips, and
 * the delays stop.
 *
 * An answer can lie: a proxy's or a broken node's Date hours off would, taken
 * at its word, carry every window's end (and the watermark) hours ahead, and
 * what is created meanwhile would never be asked for. So a contradiction of
 * up to OLA_SRVCLOCK_JUMP_MS restarts the estimate (the server's clock was
 * stepped), but one further off is only a candidate: it moves the estimate
 * once OLA_SRVCLOCK_AGREE_N answers in a row, over OLA_SRVCLOCK_AGREE_MS,
 * agree with each other, and any answer that agrees with the estimate drops
 * it. The caller feeds the monotonic clock as "local", so the local wall
 * clock stepping moves nothing here.
 */
#include "agent/onelogin/srvclock.h"

#define OLA_SRVCLOCK_MAX_PROBES 8 /* probes in a row that may not tighten it */

void ola_srvclock_init(struct ola_srvclock *ck)
{
    ck->known = false;
    ck->lower_ms = 0;
    ck->upper_ms = OLA_SRVCLOCK_UNBOUNDED;
    ck->travel_ms = -1;
    ck->probes = 0;
    ck->cand_n = 0;
    ck->cand_lower_ms = 0;
    ck->cand_upper_ms = OLA_SRVCLOCK_UNBOUNDED;
    ck->cand_first_ms = 0;
    ck->streak = 0;
    ck->end_sent_ms = -1;
    ck->jump_ms = 0;
    ck->rejected = 0;
}

static void ola_srvclock_restart(struct ola_srvclock *ck, int64_t lo, int64_t hi)
{
    ck->known = true;
    ck->lower_ms = lo;
    ck->upper_ms = hi;
    ck->probes = 0;
}

/* An answer agreed with the estimate: any outlier streak is over. */
/* An answer that agrees with the estimate (sent_ms: its request, or -1). */
static enum ola_srvclock_change ola_srvclock_agreed(struct ola_srvclock *ck,
                                                    int64_t sent_ms)
{
    unsigned had = ck->streak;

    ck->streak = 0;
    ck->cand_n = 0;
    if (had == 0)
        return OLA_SRVCLOCK_SAME;
    ck->end_sent_ms = sent_ms;
    return OLA_SRVCLOCK_OUTLIER_END;
}

/* An answer [lo, hi) more than OLA_SRVCLOCK_JUMP_MS off the estimate. */
static enum ola_srvclock_change ola_srvclock_outlier(struct ola_srvclock *ck, int64_t lo,
                                                     int64_t hi, int64_t recv_ms)
{
    ck->rejected++;
    if (ck->cand_n > 0 && hi > ck->cand_lower_ms && lo < ck->cand_upper_ms) {
        /* agrees with the outliers before it */
        if (lo > ck->cand_lower_ms)
            ck->cand_lower_ms = lo;
        if (hi < ck->cand_upper_ms)
            ck->cand_upper_ms = hi;
        ck->cand_n++;
    } else {
        ck->cand_n = 1;
        ck->cand_lower_ms = lo;
        ck->cand_upper_ms = hi;
        ck->cand_first_ms = recv_ms;
    }
    if (ck->cand_n >= OLA_SRVCLOCK_AGREE_N &&
        recv_ms - ck->cand_first_ms >= OLA_SRVCLOCK_AGREE_MS) {
        ola_srvclock_restart(ck, ck->cand_lower_ms, ck->cand_upper_ms);
        ck->cand_n = 0;
        ck->streak = 0;
        return OLA_SRVCLOCK_MOVED;
    }
    return ck->streak++ == 0 ? OLA_SRVCLOCK_OUTLIER_START : OLA_SRVCLOCK_SAME;
}

enum ola_srvclock_change ola_srvclock_learn(struct ola_srvclock *ck, int64_t date_ms,
                                            int64_t sent_ms, int64_t recv_ms)
{
    int64_t lo = date_ms - recv_ms;
    int64_t hi = sent_ms >= 0 ? date_ms + 1000 - sent_ms : OLA_SRVCLOCK_UNBOUNDED;
    int64_t off;

    if (sent_ms >= 0 && recv_ms >= sent_ms &&
        (ck->travel_ms < 0 || recv_ms - sent_ms < ck->travel_ms))
        ck->travel_ms = recv_ms - sent_ms;
    if (!ck->known) {
        ola_srvclock_restart(ck, lo, hi);
        return OLA_SRVCLOCK_SAME;
    }
    if (hi <= ck->lower_ms || lo >= ck->upper_ms) {
        /* contradicts the estimate: by how much (+ ahead, - behind)? */
        off = lo >= ck->upper_ms ? lo - ck->upper_ms : hi - ck->lower_ms;
        if (off > OLA_SRVCLOCK_JUMP_MS || off < -OLA_SRVCLOCK_JUMP_MS) {
            ck->jump_ms = off;
            if (ck->streak == 0 && sent_ms >= 0 && sent_ms < ck->end_sent_ms) {
                /* made while the last streak lasted, answered after its end */
                ck->rejected++;
                return OLA_SRVCLOCK_SAME;
            }
            return ola_srvclock_outlier(ck, lo, hi, recv_ms);
        }
        /* near enough: the server's clock was stepped; start again from here */
        ola_srvclock_restart(ck, lo, hi);
        return ola_srvclock_agreed(ck, sent_ms);
    }
    if (lo > ck->lower_ms) {
        ck->lower_ms = lo;
        ck->probes = 0;
    }
    if (hi < ck->upper_ms) {
        ck->upper_ms = hi;
        ck->probes = 0;
    }
    return ola_srvclock_agreed(ck, sent_ms);
}

int64_t ola_srvclock_now(const struct ola_srvclock *ck, int64_t local_ms)
{
    return local_ms + (ck->known ? ck->lower_ms : 0);
}

int64_t ola_srvclock_spread(const struct ola_srvclock *ck)
{
    if (!ck->known || ck->upper_ms == OLA_SRVCLOCK_UNBOUNDED)
        return OLA_SRVCLOCK_UNBOUNDED;
    return ck->upper_ms - ck->lower_ms;
}

int64_t ola_srvclock_probe_delay(struct ola_srvclock *ck, int64_t due_ms,
                                 int64_t tight_ms)
{
    int64_t spread = ola_srvclock_spread(ck), mid, phase;

    if (!ck->known || ck->probes >= OLA_SRVCLOCK_MAX_PROBES)
        return 0;
    /* two round trips is as tight as answers can make it */
    if (ck->travel_ms >= 0 && tight_ms < 2 * ck->travel_ms + 10)
        tight_ms = 2 * ck->travel_ms + 10;
    if (spread <= tight_ms)
        return 0;
    ck->probes++;
    mid = ck->lower_ms + (spread == OLA_SRVCLOCK_UNBOUNDED ? 500 : spread / 2);
    /* the first instant >= due_ms at which due_ms + mid is a whole second */
    phase = (due_ms + mid) % 1000;
    if (phase < 0)
        phase += 1000;
    return phase == 0 ? 0 : 1000 - phase;
}
