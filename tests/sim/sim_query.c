/*
 * olsim event queries: one page of positions in the event store for a struct olsim_query.
 *
 * The id sorts walk the id-ordered vector (a cursor or an id filter is a binary search)
 * and skip whole 1024-event blocks whose created_at range misses the window; the
 * created_at sorts walk the (created_at, id) index between the window's bounds. Each
 * scan stops once the page is full and one more match proves there is a next page.
 */
#include "sim.h"
#include "sim_tenant_priv.h"

#include <stdint.h>

/* ---- queries ---- */

static int olsim_match(const struct olsim_event *e, const struct olsim_query *q,
                       uint32_t uidx)
{
    size_t i;

    if (e->created_ms < q->since_ms || e->created_ms >= q->until_ms)
        return 0;
    if (q->user_id && e->user != uidx)
        return 0;
    if (q->id && e->id != q->id)
        return 0;
    if (q->ntypes) {
        for (i = 0; i < q->ntypes; i++)
            if (q->types[i] == e->type)
                return 1;
        return 0;
    }
    return 1;
}

/* First position whose id is >= id. */
static size_t olsim_id_lower(const struct olsim_tenant *t, int64_t id)
{
    size_t lo = 0;
    size_t hi = t->nev;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->ev[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index in tix whose (created, id) is >= (ms, id) (after = 0) or > it (after = 1).
 */
static size_t olsim_time_bound(const struct olsim_tenant *t, int64_t ms, int64_t id,
                               int after)
{
    size_t lo = 0;
    size_t hi = t->nev;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct olsim_event *e = &t->ev[t->tix[mid]];
        int less = e->created_ms < ms || (e->created_ms == ms && e->id < id);

        if (less || (after && e->created_ms == ms && e->id == id))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int olsim_block_hit(const struct olsim_tenant *t, size_t b,
                           const struct olsim_query *q)
{
    return t->blk[b].max_ms >= q->since_ms && t->blk[b].min_ms < q->until_ms;
}

/* Collects position p; returns 1 once the page is full and one more match was seen. */
static int olsim_collect(uint32_t *pos, size_t *n, const struct olsim_query *q, size_t p,
                         int *more)
{
    if (*n < q->limit) {
        pos[(*n)++] = (uint32_t)p;
        return 0;
    }
    *more = 1;
    return 1;
}

size_t olsim_tenant_query(const struct olsim_tenant *t, const struct olsim_query *q,
                          uint32_t *pos, int *more)
{
    uint32_t uidx = q->user_id ? olsim_tenant_user_index(t, q->user_id) : OLSIM_NONE;
    size_t n = 0;
    size_t i;
    size_t k;

    *more = 0;
    if (q->user_id && uidx == OLSIM_NONE)
        return 0;
    switch (q->sort) {
    case OLSIM_SORT_ID_ASC:
        i = q->has_cursor ? olsim_id_lower(t, q->cur_id + 1) : 0;
        if (q->id && olsim_id_lower(t, q->id) > i)
            i = olsim_id_lower(t, q->id);
        while (i < t->nev) {
            if (!olsim_block_hit(t, i >> OLSIM_BLOCK_SHIFT, q)) {
                i = ((i >> OLSIM_BLOCK_SHIFT) + 1) << OLSIM_BLOCK_SHIFT;
                continue;
            }
            if (q->id && t->ev[i].id > q->id)
                break;
            if (olsim_match(&t->ev[i], q, uidx) && olsim_collect(pos, &n, q, i, more))
                break;
            i++;
        }
        break;
    case OLSIM_SORT_ID_DESC:
        i = q->has_cursor ? olsim_id_lower(t, q->cur_id) : t->nev;
        while (i > 0) {
            size_t b = (i - 1) >> OLSIM_BLOCK_SHIFT;

            if (!olsim_block_hit(t, b, q)) {
                i = b << OLSIM_BLOCK_SHIFT;
                continue;
            }
            i--;
            if (q->id && t->ev[i].id < q->id)
                break;
            if (olsim_match(&t->ev[i], q, uidx) && olsim_collect(pos, &n, q, i, more))
                break;
        }
        break;
    case OLSIM_SORT_TIME_ASC:
        k = q->since_ms == INT64_MIN ? 0 : olsim_time_bound(t, q->since_ms, INT64_MIN, 0);
        if (q->has_cursor) {
            size_t c = olsim_time_bound(t, q->cur_ms, q->cur_id, 1);

            if (c > k)
                k = c;
        }
        for (; k < t->nev; k++) {
            const struct olsim_event *e = &t->ev[t->tix[k]];

            if (e->created_ms >= q->until_ms)
                break;
            if (olsim_match(e, q, uidx) && olsim_collect(pos, &n, q, t->tix[k], more))
                break;
        }
        break;
    case OLSIM_SORT_TIME_DESC:
        k = q->until_ms == INT64_MAX ? t->nev
                                     : olsim_time_bound(t, q->until_ms, INT64_MIN, 0);
        if (q->has_cursor) {
            size_t c = olsim_time_bound(t, q->cur_ms, q->cur_id, 0);

            if (c < k)
                k = c;
        }
        while (k > 0) {
            const struct olsim_event *e = &t->ev[t->tix[--k]];

            if (e->created_ms < q->since_ms)
                break;
            if (olsim_match(e, q, uidx) && olsim_collect(pos, &n, q, t->tix[k], more))
                break;
        }
        break;
    }
    return n;
}
