/*
 * format_json.c - the json format: OneLogin's own bytes plus "olagent".
 *
 * An event goes out as OneLogin sent it: the original bytes of the object
 * (the page parser already removed insignificant whitespace, so a record is
 * one line), with the "olagent" object spliced in before the closing brace.
 * Field order, number formatting and unknown fields survive byte for byte,
 * and the event tree is never dumped: only the small olagent object is.
 * Records without original bytes (alerts) are dumped from their tree, with
 * "olagent" spliced the same way.
 *
 * Inside "olagent", values shared by many events (the catalog's event_type,
 * the enricher's user, actor and role objects: one json_t per user, held by
 * its cache entry) are dumped once and their text copied after: a memo
 * keyed by the value's address, holding a reference so that no other object
 * can take that address while it is remembered. Shared values are read-only
 * (the enricher builds a new object when a user changes). The memo is per
 * thread and bounded; when full it starts over. An entry whose value nobody
 * else holds any more (the enricher evicted or rebuilt the user, the events
 * went out) is dead weight: the tree and its text. Every OLA_MEMO_SLACK new
 * entries the memo sweeps those out, so it holds about what is alive, not
 * every object ever dumped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/arena.h"
#include "outputs/formats/format.h"

#define OLA_MEMO_SLOTS 8192       /* at most; a power of two */
#define OLA_MEMO_FIRST 128        /* at first: an idle tenant's trickle needs no more */
#define OLA_MEMO_MAX   4096       /* entries before starting over */
#define OLA_MEMO_BYTES (4u << 20) /* text before starting over */
#define OLA_MEMO_SLACK 256        /* new entries between sweeps of dead ones */

struct ola_memo_ent {
    json_t *v; /* a reference */
    char *text;
    size_t len;
};

struct ola_memo {
    struct ola_memo_ent *tab; /* slots of them, open addressing on the address */
    size_t slots;             /* a power of two; doubled while n passes half */
    size_t n, bytes;
    size_t sweep_at; /* n at which dead entries are swept out */
};

static _Thread_local struct ola_memo ola_memo;

static void ola_memo_reset(struct ola_memo *m)
{
    size_t i;

    for (i = 0; m->tab != NULL && i < m->slots; i++) {
        json_decref(m->tab[i].v);
        free(m->tab[i].text);
        memset(&m->tab[i], 0, sizeof(m->tab[i]));
    }
    m->n = 0;
    m->bytes = 0;
    m->sweep_at = OLA_MEMO_SLACK;
}

/* The slot of v in tab (slots of them): where it is, or the free slot where it goes. */
static size_t ola_memo_slot(const struct ola_memo_ent *tab, size_t slots, const json_t *v)
{
    uint64_t k = (uint64_t)(uintptr_t)v;
    size_t s;

    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    s = (size_t)k & (slots - 1);
    while (tab[s].v != NULL && tab[s].v != v)
        s = (s + 1) & (slots - 1);
    return s;
}

/*
 * Drops the entries whose value only the memo references (a count of 1 can
 * only fall: nobody else can reach the value to take a new reference), then
 * closes the gaps in the probe runs: going once round the table from a slot
 * that was empty before (no run crosses it), each entry is taken out and put
 * back at the first free slot from its home, as if inserted anew in that order.
 */
static void ola_memo_sweep(struct ola_memo *m)
{
    size_t i, k, start = 0, before = m->n;

    if (m->tab == NULL)
        return;
    while (m->tab[start].v != NULL) /* there is one: n is at most half the slots */
        start++;
    for (i = 0; i < m->slots; i++) {
        struct ola_memo_ent *e = &m->tab[i];

        if (e->v == NULL || e->v->refcount > 1)
            continue;
        json_decref(e->v);
        free(e->text);
        m->n--;
        m->bytes -= e->len;
        memset(e, 0, sizeof(*e));
    }
    for (k = 1; m->n < before && k < m->slots; k++) {
        struct ola_memo_ent e;

        i = (start + k) & (m->slots - 1);
        if (m->tab[i].v == NULL)
            continue;
        e = m->tab[i];
        memset(&m->tab[i], 0, sizeof(m->tab[i]));
        m->tab[ola_memo_slot(m->tab, m->slots, e.v)] = e;
    }
    m->sweep_at =
        m->n + OLA_MEMO_SLACK < OLA_MEMO_MAX ? m->n + OLA_MEMO_SLACK : OLA_MEMO_MAX;
}

static void ola_format_json_release(void)
{
    ola_memo_reset(&ola_memo);
    free(ola_memo.tab);
    ola_memo.tab = NULL;
    ola_memo.slots = 0;
}

static void ola_format_json_trim(void)
{
    ola_memo_sweep(&ola_memo);
}

/*
 * Doubles m's table (rehashing what it holds), up to OLA_MEMO_SLOTS: a table
 * of the most slots from the start would keep 192 KB per tenant thread that
 * formats a few events a minute. Returns 0 / -1 (ENOMEM, m unchanged).
 */
static int ola_memo_grow(struct ola_memo *m)
{
    size_t slots = m->slots ? m->slots * 2 : OLA_MEMO_FIRST, i;
    struct ola_memo_ent *tab = calloc(slots, sizeof(*tab));

    if (tab == NULL)
        return -1;
    for (i = 0; i < m->slots; i++)
        if (m->tab[i].v != NULL)
            tab[ola_memo_slot(tab, slots, m->tab[i].v)] = m->tab[i];
    free(m->tab);
    m->tab = tab;
    m->slots = slots;
    return 0;
}

/* The text of shared value v, dumped on first use; NULL on failure. */
static const struct ola_memo_ent *ola_memo_get(struct ola_memo *m, json_t *v)
{
    size_t s;

    if (m->tab == NULL) {
        if (ola_memo_grow(m) != 0)
            return NULL;
        m->sweep_at = OLA_MEMO_SLACK;
    }
    s = ola_memo_slot(m->tab, m->slots, v);
    if (m->tab[s].v == v)
        return &m->tab[s];
    if (m->n >= m->sweep_at || m->bytes >= OLA_MEMO_BYTES) {
        ola_memo_sweep(m);
        /* what is alive leaves too little room: start over rather than sweep often */
        if (m->n + OLA_MEMO_SLACK > OLA_MEMO_MAX ||
            m->bytes + OLA_MEMO_BYTES / 16 > OLA_MEMO_BYTES)
            ola_memo_reset(m);
        return ola_memo_get(m, v);
    }
    if ((m->n + 1) * 2 > m->slots) { /* n < OLA_MEMO_MAX: never past OLA_MEMO_SLOTS */
        if (ola_memo_grow(m) != 0)
            return NULL;
        s = ola_memo_slot(m->tab, m->slots, v);
    }
    m->tab[s].text = ola_json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (m->tab[s].text == NULL)
        return NULL;
    m->tab[s].len = strlen(m->tab[s].text);
    m->tab[s].v = json_incref(v);
    m->n++;
    m->bytes += m->tab[s].len;
    return &m->tab[s];
}

static int ola_json_dump_cb(const char *p, size_t n, void *arg)
{
    return ola_buf_append(arg, p, n);
}

/* Appends obj (compact, key order kept) to out. */
static int ola_json_dump_into(const json_t *obj, struct ola_buf *out)
{
    return json_dump_callback(obj, ola_json_dump_cb, out,
                              JSON_COMPACT | JSON_REAL_PRECISION(17));
}

/*
 * Appends the olagent object: its members in order, a shared container
 * value (referenced elsewhere too) from the memo, anything else dumped.
 */
static int ola_json_dump_ola(json_t *ola, struct ola_buf *out)
{
    const char *key;
    json_t *v;
    bool first = true;

    if (ola_buf_putc(out, '{') != 0)
        return -1;
    json_object_foreach(ola, key, v)
    {
        if ((!first && ola_buf_putc(out, ',') != 0) ||
            ola_buf_put_json_string(out, key, strlen(key)) != 0 || ola_buf_putc(out, ':'))
            return -1;
        first = false;
        /* a value of the event itself (its batch's arena) is no shared value:
         * the memo would keep its address past the batch */
        if ((json_is_object(v) || json_is_array(v)) && v->refcount > 1 &&
            !ola_arena_transient(v)) {
            const struct ola_memo_ent *t = ola_memo_get(&ola_memo, v);

            if (t == NULL || ola_buf_append(out, t->text, t->len) != 0)
                return -1;
        } else if (json_dump_callback(v, ola_json_dump_cb, out,
                                      JSON_COMPACT | JSON_REAL_PRECISION(17) |
                                          JSON_ENCODE_ANY) != 0) {
            return -1;
        }
    }
    return ola_buf_putc(out, '}');
}

/* Appends src (a JSON object's text, ending in '}') with ola spliced in. */
static int ola_json_splice(const char *src, size_t len, json_t *ola, struct ola_buf *out)
{
    size_t close, before;

    if (len < 2 || src[len - 1] != '}')
        return OLA_FORMAT_UNUSABLE;
    close = len - 1;
    if (ola == NULL || json_object_size(ola) == 0)
        return ola_buf_append(out, src, len);
    before = close;
    while (before > 0 && (src[before - 1] == ' ' || src[before - 1] == '\t' ||
                          src[before - 1] == '\n' || src[before - 1] == '\r'))
        before--;
    if (before == 0)
        return OLA_FORMAT_UNUSABLE;
    if (ola_buf_append(out, src, before) != 0)
        return -1;
    if (src[before - 1] != '{' && ola_buf_putc(out, ',') != 0)
        return -1;
    if (ola_buf_puts(out, "\"olagent\":") != 0 || ola_json_dump_ola(ola, out) != 0)
        return -1;
    return ola_buf_putc(out, '}');
}

static int ola_format_json_fn(const struct ola_event *e, const struct ola_format_opts *o,
                              struct ola_buf *out)
{
    struct ola_buf tmp = OLA_BUF_INIT;
    int rc = -1;

    (void)o;
    if (e->raw != NULL)
        return ola_json_splice(e->raw, e->raw_len, e->ola, out);
    if (e->ev == NULL || !json_is_object(e->ev))
        return OLA_FORMAT_UNUSABLE;
    if (ola_json_dump_into(e->ev, &tmp) != 0)
        goto fail;
    rc = ola_json_splice(tmp.data, tmp.len, e->ola, out);
fail:
    ola_buf_free(&tmp);
    return rc;
}

const struct ola_format_ops ola_format_json = {
    .name = "json",
    .format = ola_format_json_fn,
    .batch_done = ola_format_json_trim,
    .release = ola_format_json_release,
};
