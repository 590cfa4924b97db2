/*
 * progress.c - progress lines while the agent catches up with the audit trail.
 *
 * Each step records a sample (monotonic time, events delivered, watermark)
 * in a small ring, at most one a second. A line is due every interval while
 * the lag (wall now - watermark) is above the threshold: the event rate and
 * the watermark's pace (event-time ms per wall ms) are measured against the
 * oldest sample inside the window. The head of the trail moves at one second
 * per second, so the lag shrinks at (pace - 1) and the ETA is
 * lag / (pace - 1); at a pace of 1 or less the agent is not gaining and the
 * ETA is unknown. Lines go through the logger (one write, text or JSON).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/core/log.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/progress.h"

#define OLA_PROGRESS_SAMPLE_GAP_MS 1000

int ola_progress_duration(int64_t ms, char *buf, size_t n)
{
    long long s = ms < 0 ? 0 : (long long)(ms / 1000);
    long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
    int w;

    if (d > 0)
        w = h ? snprintf(buf, n, "%lldd%lldh", d, h) : snprintf(buf, n, "%lldd", d);
    else if (h > 0)
        w = m ? snprintf(buf, n, "%lldh%lldm", h, m) : snprintf(buf, n, "%lldh", h);
    else if (m > 0)
        w = sec ? snprintf(buf, n, "%lldm%llds", m, sec) : snprintf(buf, n, "%lldm", m);
    else
        w = snprintf(buf, n, "%llds", sec);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

int ola_progress_format(const struct ola_progress_figures *f, char *buf, size_t n)
{
    char rate[32], lag[32] = "?", eta[40] = "eta ?";
    int w;

    if (f->rate < 0)
        w = snprintf(rate, sizeof(rate), "?/s");
    else if (f->rate < 10)
        w = snprintf(rate, sizeof(rate), "%.1f/s", f->rate);
    else
        w = snprintf(rate, sizeof(rate), "%.0f/s", f->rate);
    if (w < 0 || (size_t)w >= sizeof(rate))
        return -1;
    if (f->lag_ms >= 0 && ola_progress_duration(f->lag_ms, lag, sizeof(lag)) != 0)
        return -1;
    if (f->caught_up) {
        w = snprintf(eta, sizeof(eta), "caught up");
    } else if (f->eta_ms >= 0) {
        memcpy(eta, "eta ", 4);
        if (ola_progress_duration(f->eta_ms, eta + 4, sizeof(eta) - 4) != 0)
            return -1;
        w = 0;
    }
    if (w < 0)
        return -1;
    w = snprintf(buf, n, "%llu events, %s, lag %s, %s", (unsigned long long)f->events,
                 rate, lag, eta);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

void ola_progress_init(struct ola_progress *p, int64_t interval_ms, int64_t caught_up_ms)
{
    memset(p, 0, sizeof(*p));
    p->interval_ms = interval_ms > 0 ? interval_ms : OLA_PROGRESS_INTERVAL_MS;
    p->window_ms = OLA_PROGRESS_WINDOW_MS;
    p->caught_up_ms = caught_up_ms > 0 ? caught_up_ms : OLA_PROGRESS_CAUGHT_UP_MS;
    p->last_line_mono_ms = -1;
}

static const struct ola_progress_sample *ola_progress_at(const struct ola_progress *p,
                                                         size_t age)
{
    /* age 0: the newest sample. */
    return &p->s[(p->head + OLA_PROGRESS_SAMPLES - 1 - age) % OLA_PROGRESS_SAMPLES];
}

/* The oldest sample inside the window and before now; NULL if there is none. */
static const struct ola_progress_sample *ola_progress_base(const struct ola_progress *p,
                                                           int64_t mono_ms)
{
    const struct ola_progress_sample *best = NULL;
    size_t age;

    for (age = 0; age < p->n; age++) {
        const struct ola_progress_sample *s = ola_progress_at(p, age);

        if (s->mono_ms >= mono_ms)
            continue;
        if (best != NULL && s->mono_ms < mono_ms - p->window_ms)
            break;
        best = s;
    }
    return best;
}

static void ola_progress_record(struct ola_progress *p, int64_t mono_ms, uint64_t events,
                                int64_t watermark_ms)
{
    struct ola_progress_sample *s;

    if (p->n > 0 && mono_ms - ola_progress_at(p, 0)->mono_ms < OLA_PROGRESS_SAMPLE_GAP_MS)
        return;
    s = &p->s[p->head];
    s->mono_ms = mono_ms;
    s->events = events;
    s->watermark_ms = watermark_ms;
    p->head = (p->head + 1) % OLA_PROGRESS_SAMPLES;
    if (p->n < OLA_PROGRESS_SAMPLES)
        p->n++;
}

bool ola_progress_step(struct ola_progress *p, int64_t mono_ms, int64_t wall_ms,
                       uint64_t events, int64_t watermark_ms,
                       struct ola_progress_figures *f)
{
    const struct ola_progress_sample *base;
    bool due;

    if (p->last_line_mono_ms < 0)
        p->last_line_mono_ms = mono_ms;
    due = mono_ms - p->last_line_mono_ms >= p->interval_ms;
    memset(f, 0, sizeof(*f));
    f->events = events;
    f->rate = -1;
    f->lag_ms = watermark_ms >= 0 ? wall_ms - watermark_ms : -1;
    f->eta_ms = -1;
    if (f->lag_ms < 0 && watermark_ms >= 0)
        f->lag_ms = 0;
    base = due ? ola_progress_base(p, mono_ms) : NULL;
    if (base != NULL) {
        double dt = (double)(mono_ms - base->mono_ms);

        f->rate =
            events >= base->events ? (double)(events - base->events) * 1000.0 / dt : 0.0;
        if (watermark_ms >= 0 && base->watermark_ms >= 0 && f->lag_ms >= 0) {
            double pace = (double)(watermark_ms - base->watermark_ms) / dt;

            if (pace > 1.0)
                f->eta_ms = (int64_t)((double)f->lag_ms / (pace - 1.0));
        }
    }
    ola_progress_record(p, mono_ms, events, watermark_ms);
    if (!due)
        return false;
    p->last_line_mono_ms = mono_ms;
    if (f->lag_ms >= 0 && f->lag_ms < p->caught_up_ms) {
        if (!p->behind)
            return false;
        p->behind = false;
        f->caught_up = true;
        f->eta_ms = 0;
        return true;
    }
    p->behind = true;
    return true;
}

static struct ola_progress ola_progress_global;
static bool ola_progress_on;

void ola_progress_setup(bool requested, int64_t interval_ms, int64_t caught_up_ms)
{
    ola_progress_init(&ola_progress_global, interval_ms, caught_up_ms);
    ola_progress_on = requested || isatty(STDERR_FILENO);
}

bool ola_progress_enabled(void)
{
    return ola_progress_on;
}

void ola_progress_tick(int64_t now_mono_ms)
{
    struct ola_progress_figures f;
    char line[OLA_PROGRESS_LINE_MAX];

    if (!ola_progress_on)
        return;
    if (!ola_progress_step(&ola_progress_global, now_mono_ms, ola_now_ms(),
                           OLA_STAT_GET(events_delivered), OLA_STAT_GET(watermark_ms),
                           &f))
        return;
    if (ola_progress_format(&f, line, sizeof(line)) == 0)
        ola_log_write(OLA_LOG_INFO, "progress", 0, "%s", line);
}
