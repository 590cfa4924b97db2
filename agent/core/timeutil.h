/*
 * timeutil.h - instants and durations as int64 milliseconds.
 *
 * OneLogin speaks ISO-8601 UTC with milliseconds ("2022-08-08T11:00:00.000Z");
 * HTTP speaks IMF-fixdate ("Mon, 23 Nov 2026 09:17:46 GMT"); operators write
 * durations ("10s", "5m", "1h30m", "500ms", "2d"). Everything inside the
 * agent is milliseconds since the Unix epoch (wall) or since boot (monotonic).
 */
#ifndef OLA_TIMEUTIL_H
#define OLA_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define OLA_ISO_MAX 32 /* "2022-08-08T11:00:00.000Z" plus room */

/* Wall clock, ms since the epoch. */
int64_t ola_now_ms(void);
/* Monotonic clock, ms. */
int64_t ola_mono_ms(void);

/*
 * Parses ISO-8601: "2022-08-08T11:00:00Z", "...00.123Z", "...00.123456Z",
 * "+00:00"/"+0200" offsets, a space instead of 'T'. Returns 0 / -1.
 */
int ola_time_parse_iso(const char *s, int64_t *ms);
/* Same on a counted string (not NUL-terminated). */
int ola_time_parse_iso_n(const char *s, size_t n, int64_t *ms);
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ". Returns 0 / -1 if buf is too small. */
int ola_time_format_iso(int64_t ms, char *buf, size_t n);
/* Parses an HTTP Date header (IMF-fixdate; RFC 850 and asctime accepted). */
int ola_time_parse_http(const char *s, int64_t *ms);

/* The longest duration accepted: 36,500 days (100 years). */
#define OLA_DURATION_MAX_MS (INT64_C(36500) * 86400000)

/*
 * "500ms", "10s", "5m", "1h", "2d", "1h30m", a bare number means seconds.
 * Returns 0, -1 (syntax, including a sign) or 1 (over OLA_DURATION_MAX_MS,
 * e.g. "9999999999999999h"); *ms is set only on 0.
 */
int ola_duration_parse(const char *s, int64_t *ms);
/* Writes the shortest exact form ("90s" -> "1m30s"); any int64_t, INT64_MIN too. */
int ola_duration_format(int64_t ms, char *buf, size_t n);

/*
 * A start instant: "now", "-24h" (relative to now_ms), or ISO-8601.
 * Returns 0 / -1 (also for a duration over OLA_DURATION_MAX_MS).
 */
int ola_time_parse_start(const char *s, int64_t now_ms, int64_t *ms);

#endif
