/*
 * seen.c - the set of event ids already delivered, with their created time.
 *
 * An open-addressing hash table of 16-byte slots {id, created_ms} with linear
 * probing over a power-of-two capacity, grown (doubled) before the load passes
 * 70% and shrunk after a prune leaves it under 1/8 full. Empty slots hold the
 * id INT64_MIN; the real id INT64_MIN lives in a side slot. Deletion is
 * backward-shift (no tombstones), so lookups stay short after heavy pruning.
 * foreach sorts a copy of the entries (it runs at checkpoint save, after
 * every page of a backfill) by a radix sort on the ids, which skips the
 * digits all ids share; without memory for the copy it falls back to
 * passes that each pick the next chunk of smallest ids, so the order
 * promise holds even then. trim (the bound the
 * checkpoint enforces) finds the k-th oldest entry by quickselect on a copy
 * and removes it and everything older in one walk, like prune.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/rng.h"
#include "agent/core/seen.h"

#define OLA_SEEN_EMPTY    INT64_MIN
#define OLA_SEEN_MIN_CAP  16u
#define OLA_SEEN_FALLBACK 1024u /* entries per pass of the low-memory foreach */
#define OLA_SEEN_DIGIT    11u   /* bits of the radix sort's digit: 16 KB of counts */
/* a fixed seed: the pivots, hence trim's cost, are the same on every run */
#define OLA_SEEN_PIVOT_SEED UINT64_C(0x9e3779b97f4a7c15)

struct ola_seen_slot {
    int64_t id;
    int64_t created_ms;
};

struct ola_seen {
    struct ola_seen_slot *slots; /* cap slots, id OLA_SEEN_EMPTY when free */
    size_t cap;                  /* power of two, or 0 before the first add */
    size_t used;                 /* occupied slots (not counting the side slot) */
    bool has_min;                /* the id INT64_MIN is present */
    int64_t min_created_ms;
};

/* splitmix64's finalizer: sequential ids spread over the whole table. */
static size_t ola_seen_hash(int64_t id, size_t mask)
{
    uint64_t x = (uint64_t)id;

    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return (size_t)x & mask;
}

static struct ola_seen_slot *ola_seen_alloc_slots(size_t cap)
{
    struct ola_seen_slot *slots;
    size_t i;

    if (cap > SIZE_MAX / sizeof(*slots))
        return NULL;
    slots = malloc(cap * sizeof(*slots));
    if (slots == NULL)
        return NULL;
    for (i = 0; i < cap; i++)
        slots[i].id = OLA_SEEN_EMPTY;
    return slots;
}

/* Index of id's slot, or of the free slot where it would go. cap > 0. */
static size_t ola_seen_find(const struct ola_seen *s, int64_t id)
{
    size_t mask = s->cap - 1;
    size_t i = ola_seen_hash(id, mask);

    while (s->slots[i].id != OLA_SEEN_EMPTY && s->slots[i].id != id)
        i = (i + 1) & mask;
    return i;
}

/* Moves every entry into a fresh table of new_cap slots. Returns 0 / -1. */
static int ola_seen_rehash(struct ola_seen *s, size_t new_cap)
{
    struct ola_seen_slot *old = s->slots;
    size_t old_cap = s->cap, i;

    s->slots = ola_seen_alloc_slots(new_cap);
    if (s->slots == NULL) {
        s->slots = old;
        return -1;
    }
    s->cap = new_cap;
    for (i = 0; i < old_cap; i++) {
        if (old[i].id != OLA_SEEN_EMPTY)
            s->slots[ola_seen_find(s, old[i].id)] = old[i];
    }
    free(old);
    return 0;
}

/* True when n entries in cap slots exceed the 70% load limit. */
static bool ola_seen_overloaded(size_t n, size_t cap)
{
    return n > cap / 10 * 7 + cap % 10 * 7 / 10;
}

struct ola_seen *ola_seen_new(void)
{
    return calloc(1, sizeof(struct ola_seen));
}

void ola_seen_destroy(struct ola_seen *s)
{
    if (s == NULL)
        return;
    free(s->slots);
    free(s);
}

bool ola_seen_has(const struct ola_seen *s, int64_t id)
{
    if (id == OLA_SEEN_EMPTY)
        return s->has_min;
    if (s->cap == 0)
        return false;
    return s->slots[ola_seen_find(s, id)].id == id;
}

int ola_seen_add(struct ola_seen *s, int64_t id, int64_t created_ms)
{
    size_t i;

    if (id == OLA_SEEN_EMPTY) {
        if (!s->has_min) {
            s->has_min = true;
            s->min_created_ms = created_ms;
        }
        return 0;
    }
    if (s->cap == 0 || ola_seen_overloaded(s->used + 1, s->cap)) {
        size_t new_cap = s->cap == 0 ? OLA_SEEN_MIN_CAP : s->cap * 2;

        /* An id already present needs no room. */
        if (s->cap != 0 && ola_seen_has(s, id))
            return 0;
        if (new_cap < s->cap || ola_seen_rehash(s, new_cap) != 0) {
            errno = ENOMEM;
            return -1;
        }
    }
    i = ola_seen_find(s, id);
    if (s->slots[i].id == id)
        return 0;
    s->slots[i].id = id;
    s->slots[i].created_ms = created_ms;
    s->used++;
    return 0;
}

/*
 * Empties slot i and shifts later members of its cluster back, so that no
 * entry is separated from its home slot by a free slot.
 */
static void ola_seen_delete_at(struct ola_seen *s, size_t i)
{
    size_t mask = s->cap - 1;
    size_t hole = i, j = i;

    for (;;) {
        size_t home;

        j = (j + 1) & mask;
        if (s->slots[j].id == OLA_SEEN_EMPTY)
            break;
        home = ola_seen_hash(s->slots[j].id, mask);
        /* The entry at j may fill the hole unless its home lies in (hole, j]. */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole].id = OLA_SEEN_EMPTY;
    s->used--;
}

/*
 * Removes every entry (the side slot included) for which pred(e, arg) is true, then
 * gives memory back if the table is left mostly empty. Returns how many went.
 */
static size_t ola_seen_remove_where(struct ola_seen *s,
                                    bool (*pred)(const struct ola_seen_slot *e,
                                                 const void *arg),
                                    const void *arg)
{
    size_t removed = 0, start, step, i, mask, target;

    if (s->has_min) {
        struct ola_seen_slot side = {OLA_SEEN_EMPTY, s->min_created_ms};

        if (pred(&side, arg)) {
            s->has_min = false;
            removed++;
        }
    }
    if (s->used == 0)
        return removed;
    /*
     * Walk once around the table from a free slot: shifting only moves
     * entries back into the hole being examined, never behind it, so slot i
     * is examined again after a deletion and nothing is skipped or seen twice.
     */
    mask = s->cap - 1;
    start = 0;
    while (s->slots[start].id != OLA_SEEN_EMPTY)
        start++;
    i = (start + 1) & mask;
    for (step = 1; step < s->cap; step++) {
        while (s->slots[i].id != OLA_SEEN_EMPTY && pred(&s->slots[i], arg)) {
            ola_seen_delete_at(s, i);
            removed++;
        }
        i = (i + 1) & mask;
    }
    /* Give memory back once a prune leaves the table mostly empty. */
    target = s->cap;
    while (target > OLA_SEEN_MIN_CAP && s->used < target / 8)
        target /= 2;
    if (target != s->cap)
        (void)ola_seen_rehash(s, target); /* on failure the bigger table stays */
    return removed;
}

static bool ola_seen_created_before(const struct ola_seen_slot *e, const void *arg)
{
    return e->created_ms < *(const int64_t *)arg;
}

size_t ola_seen_prune(struct ola_seen *s, int64_t before_ms)
{
    return ola_seen_remove_where(s, ola_seen_created_before, &before_ms);
}

/* Age order: created_ms, then id (ids ascend with time at OneLogin). */
static int ola_seen_age_cmp(const struct ola_seen_slot *a, const struct ola_seen_slot *b)
{
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

static bool ola_seen_not_younger(const struct ola_seen_slot *e, const void *arg)
{
    return ola_seen_age_cmp(e, arg) <= 0;
}

/*
 * Quickselect: reorders v[0..n) so that v[k] is the entry of age rank k.
 * Keys are unique (ids are), so a two-way partition around a pivot drawn
 * from a fixed pseudo-random stream is expected linear whatever the input.
 */
static void ola_seen_select(struct ola_seen_slot *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    struct ola_rng r;

    ola_rng_seed(&r, OLA_SEEN_PIVOT_SEED);
    while (lo < hi) {
        struct ola_seen_slot pivot, t;
        size_t i, store;

        i = lo + (size_t)ola_rng_upto(&r, (uint64_t)(hi - lo));
        pivot = v[i];
        v[i] = v[hi];
        v[hi] = pivot;
        for (store = lo, i = lo; i < hi; i++) {
            if (ola_seen_age_cmp(&v[i], &pivot) < 0) {
                t = v[i];
                v[i] = v[store];
                v[store++] = t;
            }
        }
        v[hi] = v[store];
        v[store] = pivot;
        if (store == k)
            return;
        if (k < store)
            hi = store - 1;
        else
            lo = store + 1;
    }
}

int ola_seen_trim(struct ola_seen *s, size_t keep, bool bounded, int64_t before_ms,
                  size_t *removed)
{
    struct ola_seen_slot *v, kth;
    size_t n = ola_seen_count(s), eligible = 0, k, i;

    *removed = 0;
    if (n <= keep)
        return 0;
    k = n - keep;
    for (i = 0; i < s->cap; i++)
        if (s->slots[i].id != OLA_SEEN_EMPTY &&
            (!bounded || s->slots[i].created_ms < before_ms))
            eligible++;
    if (s->has_min && (!bounded || s->min_created_ms < before_ms))
        eligible++;
    if (k >= eligible) { /* every eligible entry goes */
        if (bounded) {
            *removed = ola_seen_prune(s, before_ms);
        } else {
            ola_seen_clear(s);
            *removed = n;
        }
        return 0;
    }
    /* The k oldest eligible entries are the k oldest of all: eligible ones are
     * older than the rest. Find the k-th and remove it and everything older. */
    v = malloc(eligible * sizeof(*v));
    if (v == NULL) {
        errno = ENOMEM;
        return -1;
    }
    eligible = 0;
    for (i = 0; i < s->cap; i++)
        if (s->slots[i].id != OLA_SEEN_EMPTY &&
            (!bounded || s->slots[i].created_ms < before_ms))
            v[eligible++] = s->slots[i];
    if (s->has_min && (!bounded || s->min_created_ms < before_ms))
        v[eligible++] = (struct ola_seen_slot){OLA_SEEN_EMPTY, s->min_created_ms};
    ola_seen_select(v, eligible, k - 1);
    kth = v[k - 1];
    free(v);
    *removed = ola_seen_remove_where(s, ola_seen_not_younger, &kth);
    return 0;
}

size_t ola_seen_count(const struct ola_seen *s)
{
    return s->used + (s->has_min ? 1 : 0);
}

void ola_seen_clear(struct ola_seen *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = 0;
    s->used = 0;
    s->has_min = false;
}

static int ola_seen_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct ola_seen_slot *)a)->id;
    int64_t y = ((const struct ola_seen_slot *)b)->id;

    return (x > y) - (x < y);
}

/* An id as an unsigned key in the same order. */
static uint64_t ola_seen_key(int64_t id)
{
    return (uint64_t)id ^ (UINT64_C(1) << 63);
}

/*
 * v[0..n) sorted by id through tmp (n slots): a least-significant-digit
 * radix sort, a pass per 11-bit digit in which the ids differ (event ids
 * share their high bits: three or four passes). The copy of a backfill's set
 * sorted with qsort after every page was a tenth of the backfill's CPU.
 * Returns the sorted array, v or tmp.
 */
static struct ola_seen_slot *ola_seen_radix(struct ola_seen_slot *v,
                                            struct ola_seen_slot *tmp, size_t n)
{
    const uint64_t mask = (UINT64_C(1) << OLA_SEEN_DIGIT) - 1;
    size_t count[(size_t)1 << OLA_SEEN_DIGIT], i, d, sum;
    uint64_t first = ola_seen_key(v[0].id), diff = 0;
    unsigned shift;

    for (i = 1; i < n; i++)
        diff |= ola_seen_key(v[i].id) ^ first;
    for (shift = 0; shift < 64 && (diff >> shift) != 0; shift += OLA_SEEN_DIGIT) {
        struct ola_seen_slot *t;

        if (((diff >> shift) & mask) == 0)
            continue; /* every id has this digit */
        memset(count, 0, sizeof(count));
        for (i = 0; i < n; i++)
            count[(ola_seen_key(v[i].id) >> shift) & mask]++;
        for (d = 0, sum = 0; d <= mask; d++) {
            size_t c = count[d];

            count[d] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            tmp[count[(ola_seen_key(v[i].id) >> shift) & mask]++] = v[i];
        t = v;
        v = tmp;
        tmp = t;
    }
    return v;
}

/* Max-heap on id over buf[0..n): the largest of the chunk sits at buf[0]. */
static void ola_seen_sift_down(struct ola_seen_slot *buf, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, big = i;
        struct ola_seen_slot t;

        if (l < n && buf[l].id > buf[big].id)
            big = l;
        if (r < n && buf[r].id > buf[big].id)
            big = r;
        if (big == i)
            return;
        t = buf[i];
        buf[i] = buf[big];
        buf[big] = t;
        i = big;
    }
}

/*
 * Low-memory foreach: each pass keeps, in a fixed buffer, the smallest ids
 * above the last one emitted, then emits them sorted.
 */
static void ola_seen_foreach_chunked(const struct ola_seen *s,
                                     void (*fn)(int64_t, int64_t, void *), void *arg)
{
    struct ola_seen_slot buf[OLA_SEEN_FALLBACK];
    size_t emitted = 0, n, i;
    int64_t last = OLA_SEEN_EMPTY; /* every table id is above it */

    while (emitted < s->used) {
        n = 0;
        for (i = 0; i < s->cap; i++) {
            const struct ola_seen_slot *e = &s->slots[i];

            if (e->id == OLA_SEEN_EMPTY || e->id <= last)
                continue;
            if (n < OLA_SEEN_FALLBACK) {
                size_t k = n++;

                buf[k] = *e;
                /* Sift up. */
                while (k > 0 && buf[(k - 1) / 2].id < buf[k].id) {
                    struct ola_seen_slot t = buf[(k - 1) / 2];

                    buf[(k - 1) / 2] = buf[k];
                    buf[k] = t;
                    k = (k - 1) / 2;
                }
            } else if (e->id < buf[0].id) {
                buf[0] = *e;
                ola_seen_sift_down(buf, n, 0);
            }
        }
        qsort(buf, n, sizeof(buf[0]), ola_seen_cmp);
        for (i = 0; i < n; i++)
            fn(buf[i].id, buf[i].created_ms, arg);
        emitted += n;
        last = buf[n - 1].id;
    }
}

void ola_seen_foreach(const struct ola_seen *s,
                      void (*fn)(int64_t id, int64_t created_ms, void *arg), void *arg)
{
    struct ola_seen_slot *all, *sorted;
    size_t n = 0, i;

    if (s->has_min)
        fn(OLA_SEEN_EMPTY, s->min_created_ms, arg);
    if (s->used == 0)
        return;
    /* the copy and the radix sort's other half; used <= cap, a power of two */
    all = s->used <= SIZE_MAX / (2 * sizeof(*all)) ? malloc(2 * s->used * sizeof(*all))
                                                   : NULL;
    if (all == NULL) {
        ola_seen_foreach_chunked(s, fn, arg);
        return;
    }
    for (i = 0; i < s->cap; i++) {
        if (s->slots[i].id != OLA_SEEN_EMPTY)
            all[n++] = s->slots[i];
    }
    sorted = ola_seen_radix(all, all + n, n);
    for (i = 0; i < n; i++)
        fn(sorted[i].id, sorted[i].created_ms, arg);
    free(all);
}
