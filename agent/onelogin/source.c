/*
 * source.c - tailing GET /api/1/events with checkpointed windows.
 *
 * A window is [since, until) on created_at, read page by page with
 * sort=+id and after_cursor (re-sending the same filters) until the cursor
 * is null. until = server time (from the Date header) - settle, so the
 * agent's own clock never matters. Two kinds of window share one budget:
 *  - head windows, every poll_interval: since = watermark - 1 s (a second of
 *    slack covers either reading of inclusive bounds; dedupe absorbs it);
 *  - sweep windows, every late_sweep: since = watermark - overlap, which
 *    re-reads the recent past to find events that were created earlier but
 *    published late.
 * No window reaches back before the start the checkpoint was made with
 * (config `start`, or `checkpoint set --since`), so an agent started with
 * `start: now` never delivers what happened before it.
 * While catching up, a window spans at most max_window (adapted to the event
 * rate so the per-window id set stays small) and the next one starts at
 * once. Every event is checked against the seen set (ids delivered inside
 * the overlap and the current window): a re-read event is skipped and
 * counted; a new event behind the watermark is counted as late, with how
 * late. The checkpoint records the window and its cursor after each page,
 * and the watermark when a window ends, so a crash resumes where the last
 * durable page left off. A page is held to what was asked: a body over
 * onelogin.max_response is cut off (http.c) and a page with more events than
 * its limit is refused whole; both are retried with backoff like any bad
 * answer. Repeats inside a page are found through a hash set, so a page
 * costs linear time, and a stop request abandons a page mid-parse (it is
 * read again after the restart). The position the source moves is a core
 * type (agent/core/position.h) that the agent saves in the checkpoint;
 * retries wait by the one backoff (agent/core/backoff.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/backoff.h"
#include "agent/core/deadletter.h"
#include "agent/core/log.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/onelogin/page.h"
#include "agent/onelogin/source.h"

#define OLA_SRC_COMP             "source"
#define OLA_WINDOW_TARGET_EVENTS 20000
#define OLA_WINDOW_MIN_EVENTS    5000
#define OLA_HEAD_SLACK_MS        1000
#define OLA_PRUNE_MARGIN_MS      60000
#define OLA_BACKOFF_BASE_MS      1000
#define OLA_ADVISED_JITTER_MS    100

struct ola_ol_source {
    struct ola_source base; /* first: the interface (agent/core/source.h) */
    const struct ola_ol_settings *s;
    struct ola_ol_client *client;
    struct ola_position *pos;
    struct ola_seen *page_ids; /* owned: in-page dedupe's scratch set */
    const char *dead_letter;
    int64_t prev_watermark_ms; /* watermark when the current window opened */
    char *pending_cursor;      /* after_cursor of the page handed out, not committed */
    bool pending_last;         /* the page handed out ended its window */
    bool have_pending;
    int64_t next_due_mono_ms; /* when the next head window may open */
    int64_t span_ms;          /* current catch-up window span */
    uint64_t window_events;   /* new events seen in the current window */
    bool catching_up;
    bool logged_catch_up;
    unsigned failures;   /* consecutive failed requests */
    char fail_class[64]; /* what the current failure streak is about */
    struct ola_backoff backoff;
};

static const struct ola_source_ops ola_ol_source_ops;

struct ola_source *ola_ol_source_new(const struct ola_ol_settings *s,
                                     struct ola_ol_client *client,
                                     struct ola_position *pos, const char *dead_letter,
                                     struct ola_err *err)
{
    struct ola_ol_source *src = calloc(1, sizeof(*src));

    if (src != NULL)
        src->page_ids = ola_seen_new();
    if (src == NULL || src->page_ids == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        free(src);
        return NULL;
    }
    src->base.ops = &ola_ol_source_ops;
    src->s = s;
    src->client = client;
    src->pos = pos;
    src->dead_letter = dead_letter;
    src->span_ms = s->max_window_ms;
    ola_backoff_init(&src->backoff, OLA_BACKOFF_BASE_MS, s->backoff_max_ms, 0);
    src->prev_watermark_ms = pos->watermark_ms;
    if (pos->in_window)
        ola_log_info(OLA_SRC_COMP, "resuming the %s window that was in progress%s",
                     pos->window_kind == OLA_WINDOW_SWEEP ? "sweep" : "head",
                     pos->cursor ? " at its cursor" : " from its start");
    return &src->base;
}

static void ola_ol_source_destroy(struct ola_source *base)
{
    struct ola_ol_source *src = (struct ola_ol_source *)base;

    free(src->pending_cursor);
    ola_seen_destroy(src->page_ids);
    free(src);
}

/* Appends s percent-encoded (RFC 3986 unreserved kept). */
static int ola_url_escape(struct ola_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            if (ola_buf_putc(b, (char)c) != 0)
                return -1;
        } else if (ola_buf_putc(b, '%') || ola_buf_putc(b, hex[c >> 4]) ||
                   ola_buf_putc(b, hex[c & 15])) {
            return -1;
        }
    }
    return 0;
}

static int ola_source_query(const struct ola_ol_source *src, struct ola_buf *q)
{
    const struct ola_position *pos = src->pos;
    char since[OLA_ISO_MAX], until[OLA_ISO_MAX];

    if (ola_time_format_iso(pos->window_since_ms, since, sizeof(since)) ||
        ola_time_format_iso(pos->window_until_ms, until, sizeof(until)))
        return -1;
    if (ola_buf_puts(q, "/api/1/events?since=") || ola_url_escape(q, since) ||
        ola_buf_puts(q, "&until=") || ola_url_escape(q, until) ||
        ola_buf_printf(q, "&sort=%%2Bid&limit=%lld", src->s->page_size))
        return -1;
    if (pos->cursor != NULL &&
        (ola_buf_puts(q, "&after_cursor=") || ola_url_escape(q, pos->cursor)))
        return -1;
    return 0;
}

/*
 * The wait before retrying: the one backoff (exponential, full jitter,
 * capped at onelogin.backoff_max). An advised wait (the governor's block
 * until a rate-limit reset, which carries its own jitter when it had no
 * hint, or a Retry-After) replaces it, plus at most 100 ms: the reset is the
 * moment to resume, not a second after it.
 */
static int64_t ola_source_backoff(struct ola_ol_source *src, int64_t advised_ms)
{
    int64_t wait = ola_backoff_next(&src->backoff);

    if (advised_ms > 0)
        wait =
            advised_ms + (int64_t)ola_rng_upto(&src->backoff.rng, OLA_ADVISED_JITTER_MS);
    return wait;
}

/*
 * A failed request: the wait before the next attempt, counted as a retry,
 * with one log line when a failure streak starts or changes kind, not one per
 * attempt. A request aborted because the agent is stopping is none of that:
 * no wait, no retry, no line.
 */
static int64_t ola_source_failed(struct ola_ol_source *src,
                                 const struct ola_ol_response *r)
{
    const char *cls = r->rate_limited ? "rate limit" : r->reason;
    int64_t wait_ms;

    if (r->stopped)
        return 0;
    wait_ms = ola_source_backoff(src, r->retry_after_ms);
    src->failures++;
    OLA_STAT_ADD(retries, 1);
    OLA_STAT_ADD(backoff_ms, (uint64_t)wait_ms);
    if (src->failures == 1 ||
        strncmp(src->fail_class, cls, sizeof(src->fail_class) - 1)) {
        if (r->rate_limited)
            ola_log_warn(OLA_SRC_COMP,
                         "rate limit reached; waiting %lld ms for the reset, window kept",
                         (long long)wait_ms);
        else
            ola_log_warn(OLA_SRC_COMP,
                         "OneLogin events request failed: %s; retrying with backoff, "
                         "window kept",
                         r->reason);
        if (snprintf(src->fail_class, sizeof(src->fail_class), "%.63s", cls) < 0)
            src->fail_class[0] = '\0';
    }
    return wait_ms;
}

static void ola_source_recovered(struct ola_ol_source *src)
{
    if (src->failures > 0)
        ola_log_info(OLA_SRC_COMP,
                     "OneLogin API answering again after %u failed attempts",
                     src->failures);
    src->failures = 0;
    src->fail_class[0] = '\0';
    ola_backoff_reset(&src->backoff);
}

/* Learns the server's clock before the first window (GET /auth/rate_limit). */
static enum ola_src_rc ola_source_probe(struct ola_ol_source *src, int64_t *wait_ms,
                                        struct ola_err *err)
{
    struct ola_ol_response r;
    enum ola_ol_status st;
    enum ola_src_rc rc = OLA_SRC_IDLE;

    ola_ol_response_init(&r);
    st = ola_ol_get(src->client, "/auth/rate_limit", OLA_OL_PRIO_POLL, &r);
    if (st == OLA_OL_AUTH) {
        ola_err_set(err, (int)r.http_status, "%s", r.reason);
        rc = OLA_SRC_FATAL;
    } else if (!ola_ol_has_server_time(src->client)) {
        *wait_ms = ola_source_failed(src, &r);
        rc = OLA_SRC_RETRY;
    } else {
        *wait_ms = 0;
    }
    ola_ol_response_free(&r);
    return rc;
}

/*
 * Schedules the next head poll one poll_interval from now_mono, plus the
 * delay that makes its answer tighten the server-time estimate while that is
 * still loose (a few polls after start). Returns the wait in ms.
 */
static int64_t ola_source_next_poll(struct ola_ol_source *src, int64_t now_mono)
{
    int64_t interval = src->s->poll_interval_ms;
    int64_t wait =
        interval + ola_ol_clock_probe_delay(src->client, ola_now_ms() + interval);

    src->next_due_mono_ms = now_mono + wait;
    return wait;
}

/* Opens the next window if one is due. Returns IDLE with *wait_ms if not. */
static enum ola_src_rc ola_source_open(struct ola_ol_source *src, int64_t *wait_ms,
                                       struct ola_err *err)
{
    const struct ola_ol_settings *s = src->s;
    struct ola_position *pos = src->pos;
    int64_t now_mono = ola_mono_ms(), server_now, head, wm, since, until;
    bool sweep;
    enum ola_src_rc rc;

    if (!src->catching_up && now_mono < src->next_due_mono_ms) {
        *wait_ms = src->next_due_mono_ms - now_mono;
        return OLA_SRC_IDLE;
    }
    if (!ola_ol_has_server_time(src->client)) {
        rc = ola_source_probe(src, wait_ms, err);
        if (rc != OLA_SRC_IDLE)
            return rc;
    }
    server_now = ola_ol_server_now_ms(src->client);
    head = server_now - s->settle_ms;
    wm = pos->watermark_ms >= 0 ? pos->watermark_ms : pos->start_ms;
    sweep =
        pos->watermark_ms >= 0 &&
        (pos->last_sweep_ms < 0 || server_now - pos->last_sweep_ms >= s->late_sweep_ms);
    since = sweep ? wm - s->overlap_ms : wm - OLA_HEAD_SLACK_MS;
    /* `start: now` means now: no window reaches back before it */
    if (pos->start_ms >= 0 && since < pos->start_ms)
        since = pos->start_ms;
    until = head;
    if (until - since > src->span_ms)
        until = since + src->span_ms;
    if (until <= wm && !sweep) {
        src->catching_up = false;
        *wait_ms = ola_source_next_poll(src, now_mono);
        return OLA_SRC_IDLE;
    }
    if (until <= since) {
        *wait_ms = s->poll_interval_ms;
        return OLA_SRC_IDLE;
    }
    pos->in_window = true;
    pos->window_kind = sweep ? OLA_WINDOW_SWEEP : OLA_WINDOW_HEAD;
    pos->window_since_ms = since;
    pos->window_until_ms = until;
    ola_position_set_cursor(pos, NULL);
    src->prev_watermark_ms = pos->watermark_ms;
    src->window_events = 0;
    src->catching_up = until < head;
    if (src->catching_up && !src->logged_catch_up) {
        ola_log_info(OLA_SRC_COMP, "catching up: the watermark is %lld s behind the head",
                     (long long)((head - wm) / 1000));
        src->logged_catch_up = true;
    } else if (!src->catching_up && src->logged_catch_up) {
        ola_log_info(OLA_SRC_COMP, "caught up with the head of the audit log");
        src->logged_catch_up = false;
    }
    if (OLA_LOG_DEBUG <= ola_log_level) {
        char a[OLA_ISO_MAX], b[OLA_ISO_MAX];

        ola_time_format_iso(since, a, sizeof(a));
        ola_time_format_iso(until, b, sizeof(b));
        ola_log_debug(OLA_SRC_COMP, "%s window [%s, %s)", sweep ? "sweep" : "head", a, b);
    }
    return OLA_SRC_BATCH;
}

/*
 * Writes every malformed element of the page to the dead-letter file. Returns
 * -1 when one could not be written: the page is then not delivered but read
 * again later, so a full disk loses nothing (the file may get a line twice).
 */
static int ola_source_dead_letter(struct ola_ol_source *src, const struct ola_page *pg)
{
    size_t i;

    ola_log_warn(OLA_SRC_COMP, "%zu malformed event(s) in a page%s%s; first: %s",
                 pg->n_malformed, src->dead_letter ? ", written to " : " (not kept)",
                 src->dead_letter ? src->dead_letter : "", pg->malformed[0].reason);
    for (i = 0; src->dead_letter != NULL && i < pg->n_malformed; i++) {
        const struct ola_page_malformed *m = ola_page_malformed_at(pg, i);
        struct ola_err err;

        if (ola_deadletter_write(src->dead_letter, "source", m->reason, m->raw, m->len,
                                 &err) != 0) {
            ola_log_err(OLA_SRC_COMP, "%s; the page will be read again", err.msg);
            return -1;
        }
    }
    return 0;
}

/*
 * Drops events already delivered (or repeated inside the page), counts late
 * ones. Returns 0, or -1 out of memory (the page is then read again: passing
 * it on undeduplicated could deliver an event twice).
 */
static int ola_source_dedupe(struct ola_ol_source *src, struct ola_batch *b)
{
    long dups = ola_page_dedupe(b, src->pos->seen, src->page_ids);
    size_t i;

    if (dups < 0)
        return -1;
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];

        if (src->prev_watermark_ms >= 0 && e->created_ms < src->prev_watermark_ms) {
            OLA_STAT_ADD(late_events, 1);
            ola_hist_observe(&ola_stats_here->late,
                             src->prev_watermark_ms - e->created_ms);
        }
    }
    OLA_STAT_ADD(duplicates, (uint64_t)dups);
    return 0;
}

/*
 * next: fetches the next page of the current window (opening a window when
 * one is due) into b (reset first). Events already delivered are skipped,
 * the rest are ordered by (created_at, id). Never sleeps: on IDLE/RETRY
 * *wait_ms says how long to wait.
 */
static enum ola_src_rc ola_ol_source_next(struct ola_source *base, struct ola_batch *b,
                                          int64_t *wait_ms, struct ola_err *err)
{
    struct ola_ol_source *src = (struct ola_ol_source *)base;
    struct ola_position *pos = src->pos;
    struct ola_ol_response r;
    struct ola_buf q = OLA_BUF_INIT;
    struct ola_page pg;
    struct ola_err perr;
    enum ola_ol_status st;
    enum ola_src_rc rc;
    char *body;
    size_t len, cap;
    int prc;

    *wait_ms = 0;
    ola_batch_reset(b);
    memset(&pg, 0, sizeof(pg));
    ola_ol_response_init(&r);
    /* the answer goes into the last page's memory, faulted in already */
    r.body.data = ola_batch_take_spare(b, &r.body.cap);
    if (!pos->in_window) {
        rc = ola_source_open(src, wait_ms, err);
        if (rc != OLA_SRC_BATCH)
            goto out;
    }
    if (ola_source_query(src, &q) != 0) {
        ola_err_set(err, ENOMEM, "out of memory");
        rc = OLA_SRC_FATAL;
        goto out;
    }
    st = ola_ol_get(src->client, q.data, OLA_OL_PRIO_POLL, &r);
    if (st == OLA_OL_AUTH) {
        ola_err_set(err, (int)r.http_status, "%s", r.reason);
        rc = OLA_SRC_FATAL;
        goto out;
    }
    if (st == OLA_OL_BAD_REQUEST && r.http_status == 400 && pos->cursor != NULL) {
        /* cursors belong to one query and may expire: re-read the window */
        ola_log_warn(OLA_SRC_COMP,
                     "the server refused the saved cursor (%s); re-reading the window "
                     "from its start",
                     r.reason);
        ola_position_set_cursor(pos, NULL);
        rc = OLA_SRC_RETRY;
        goto out;
    }
    if (st != OLA_OL_OK) {
        /* transient, or a refused query: retried with backoff, window kept */
        *wait_ms = ola_source_failed(src, &r);
        rc = OLA_SRC_RETRY;
        goto out;
    }
    cap = r.body.cap;
    body = ola_buf_steal(&r.body, &len);
    /* held to the limit asked for: a bigger page is refused whole */
    prc = ola_page_parse_max(b, body, len, (size_t)src->s->page_size, &pg, &perr);
    b->body_cap = cap; /* b owns body now; its reset keeps the memory for the next */
    if (prc != 0) {
        ola_batch_reset(b);
        if (perr.code == ECANCELED) {
            rc = OLA_SRC_RETRY; /* stopping: the page is read again after the restart */
            goto out;
        }
        if (snprintf(r.reason, sizeof(r.reason), "%.200s (HTTP %ld, %zu bytes)", perr.msg,
                     r.http_status, len) < 0)
            r.reason[0] = '\0';
        r.retry_after_ms = 0; /* the backoff's own wait (an OK answer advises none) */
        *wait_ms = ola_source_failed(src, &r);
        rc = OLA_SRC_RETRY;
        goto out;
    }
    if (pg.n_malformed > 0 && ola_source_dead_letter(src, &pg) != 0) {
        ola_batch_reset(b);
        *wait_ms = ola_source_backoff(src, 0);
        src->failures++;
        rc = OLA_SRC_RETRY;
        goto out;
    }
    OLA_STAT_ADD(malformed, pg.n_malformed);
    ola_source_recovered(src);
    OLA_STAT_ADD(pages, 1);
    OLA_STAT_SET(last_poll_ok_ms, ola_now_ms());
    OLA_STAT_ADD(events_received, b->n);
    if (ola_source_dedupe(src, b) != 0) {
        ola_batch_reset(b);
        ola_log_warn(OLA_SRC_COMP, "out of memory deduplicating a page; it will be "
                                   "read again");
        *wait_ms = ola_source_backoff(src, 0);
        src->failures++;
        rc = OLA_SRC_RETRY;
        goto out;
    }
    ola_batch_sort(b);
    b->fetched_mono_ms = ola_mono_ms();
    free(src->pending_cursor);
    src->pending_cursor = pg.after_cursor;
    pg.after_cursor = NULL;
    src->pending_last = src->pending_cursor == NULL;
    src->have_pending = true;
    rc = OLA_SRC_BATCH;
out:
    ola_page_free(&pg);
    ola_buf_free(&q);
    ola_ol_response_free(&r);
    return rc;
}

/* Adapts the catch-up span to the event rate: about 20,000 events a window. */
static void ola_source_adapt_span(struct ola_ol_source *src)
{
    int64_t min_span = 2 * src->s->overlap_ms;

    if (min_span < 60000)
        min_span = 60000;
    if (src->window_events > OLA_WINDOW_TARGET_EVENTS && src->span_ms / 2 >= min_span)
        src->span_ms /= 2;
    else if (src->window_events < OLA_WINDOW_MIN_EVENTS &&
             src->span_ms < src->s->max_window_ms)
        src->span_ms = src->span_ms * 2 > src->s->max_window_ms ? src->s->max_window_ms
                                                                : src->span_ms * 2;
}

/*
 * commit: the batch last returned was durably delivered: records its ids as
 * seen and moves the window (cursor, or watermark when the window is
 * finished) in the position. The agent then saves the checkpoint.
 */
static int ola_ol_source_commit(struct ola_source *base, const struct ola_batch *b)
{
    struct ola_ol_source *src = (struct ola_ol_source *)base;
    struct ola_position *pos = src->pos;
    size_t i;
    uint64_t events = 0;
    int64_t wm, head;

    if (!src->have_pending)
        return 0;
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];

        if (e->kind != OLA_REC_EVENT)
            continue;
        if (ola_seen_add(pos->seen, e->id, e->created_ms) != 0)
            return -1;
        if (e->created_ms > OLA_STAT_GET(newest_event_ms))
            OLA_STAT_SET(newest_event_ms, e->created_ms);
        events++;
    }
    pos->delivered += events;
    src->window_events += events;
    OLA_STAT_ADD(events_delivered, events);
    src->have_pending = false;
    if (!src->pending_last) {
        if (ola_position_set_cursor(pos, src->pending_cursor) != 0)
            return -1;
        return 0;
    }
    /* the window is complete: everything created before `until` is delivered;
     * but the watermark never passes the server time estimated now minus settle
     * (a window opened under another estimate, or resumed from the checkpoint
     * of one, is re-read above that: dedupe skips what it delivered) */
    head = ola_ol_server_now_ms(src->client) - src->s->settle_ms;
    wm = pos->window_until_ms < head ? pos->window_until_ms : head;
    if (wm > pos->watermark_ms)
        pos->watermark_ms = wm;
    if (pos->window_kind == OLA_WINDOW_SWEEP) {
        pos->last_sweep_ms = ola_ol_server_now_ms(src->client);
        OLA_STAT_ADD(sweeps, 1);
    }
    pos->in_window = false;
    ola_position_set_cursor(pos, NULL);
    ola_seen_prune(pos->seen,
                   pos->watermark_ms - src->s->overlap_ms - OLA_PRUNE_MARGIN_MS);
    OLA_STAT_ADD(windows, 1);
    OLA_STAT_SET(watermark_ms, pos->watermark_ms);
    ola_source_adapt_span(src);
    if (!src->catching_up)
        ola_source_next_poll(src, ola_mono_ms());
    return 0;
}

static const struct ola_source_ops ola_ol_source_ops = {
    .name = "onelogin",
    .next = ola_ol_source_next,
    .commit = ola_ol_source_commit,
    .finish = NULL,
    .destroy = ola_ol_source_destroy,
};
