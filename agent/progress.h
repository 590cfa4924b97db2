/*
 * progress.h - progress lines during a backfill or catch-up.
 *
 * While the watermark is far behind now, the agent loop's ola_progress_tick()
 * prints at most one line every few seconds, like
 *   progress: 123456 events, 2500/s, lag 3h12m, eta 1h17m
 * with rates measured over a sliding window, and one "caught up" line when
 * the lag falls below the threshold. The arithmetic is a pure step function
 * (ola_progress_step) so tests drive it with made-up clocks.
 */
#ifndef OLA_PROGRESS_H
#define OLA_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OLA_PROGRESS_SAMPLES      32
#define OLA_PROGRESS_INTERVAL_MS  5000  /* between lines */
#define OLA_PROGRESS_WINDOW_MS    30000 /* rates are measured over this much wall time */
#define OLA_PROGRESS_CAUGHT_UP_MS 60000 /* lag under which nothing is printed */
#define OLA_PROGRESS_LINE_MAX     160

/* What one line says. */
struct ola_progress_figures {
    uint64_t events; /* delivered so far */
    double rate;     /* events per wall second over the window; < 0 unknown */
    int64_t lag_ms;  /* now - watermark; < 0 unknown */
    int64_t eta_ms;  /* until lag is gone at the current pace; < 0 unknown/never */
    bool caught_up;  /* the line that says the catch-up ended */
};

struct ola_progress_sample {
    int64_t mono_ms;
    uint64_t events;
    int64_t watermark_ms; /* -1 unknown */
};

/* The reporter's state; plain data, owned by the caller. */
struct ola_progress {
    int64_t interval_ms;
    int64_t window_ms;
    int64_t caught_up_ms;
    int64_t last_line_mono_ms; /* -1 before the first step */
    bool behind;               /* a line was printed and the catch-up is not over */
    size_t head, n;            /* ring of samples, at least 1 s apart */
    struct ola_progress_sample s[OLA_PROGRESS_SAMPLES];
};

/*
 * Writes the line's text after "progress: " ("123456 events, 2500/s, lag 3h12m,
 * eta 1h17m") into buf. Returns 0 / -1 when buf is too small.
 */
int ola_progress_format(const struct ola_progress_figures *f, char *buf, size_t n);
/* "3h12m", "2d3h", "45s": the two largest units, seconds truncated. */
int ola_progress_duration(int64_t ms, char *buf, size_t n);

/* interval_ms, caught_up_ms <= 0 take the defaults above. */
void ola_progress_init(struct ola_progress *p, int64_t interval_ms, int64_t caught_up_ms);
/*
 * Feeds one observation (monotonic and wall clocks, events delivered so far,
 * the watermark or -1). Returns true and fills f when a line is due. Pure: no
 * clock, no I/O.
 */
bool ola_progress_step(struct ola_progress *p, int64_t mono_ms, int64_t wall_ms,
                       uint64_t events, int64_t watermark_ms,
                       struct ola_progress_figures *f);

/*
 * The process-wide reporter. Lines are on when `requested` (log.progress) or
 * stderr is a terminal. @locality the agent thread, at startup.
 */
void ola_progress_setup(bool requested, int64_t interval_ms, int64_t caught_up_ms);
bool ola_progress_enabled(void);
/*
 * Reads ola_stats (events_delivered, watermark_ms) and the wall clock, and
 * logs a line (component "progress", whatever the log level) when one is due.
 * @locality the agent thread, after each batch.
 */
void ola_progress_tick(int64_t now_mono_ms);

#endif
