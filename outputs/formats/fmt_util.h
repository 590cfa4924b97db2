/*
 * fmt_util.h - helpers shared by the SIEM formats (cef, leef, ocsf) and the
 * syslog output: what the record is (type id, name, categories, severity),
 * field text for scalars, times and UTF-8 boundaries. All are pure functions
 * of the record; nothing here allocates except into a caller's ola_buf.
 */
#ifndef OLA_FMT_UTIL_H
#define OLA_FMT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "agent/core/event.h"

/* Text of a scalar member: holds digits for numbers, points into the event for strings.
 */
struct ola_fmt_val {
    const char *s; /* NULL when absent, null, empty or not a scalar */
    size_t len;
    char num[32];
};

/*
 * The record's severity on the 0..10 scale: e->severity, else
 * olagent.severity, else olagent.alert.severity; -1 when none is set.
 */
int ola_fmt_severity(const struct ola_event *e);
/* olagent.event_type.id, else the event's event_type_id; -1 when unknown. */
long long ola_fmt_type_id(const struct ola_event *e);
/* olagent.event_type.name or NULL. Borrowed from the event. */
const char *ola_fmt_type_name(const struct ola_event *e);
/* olagent.event_type.categories (an array) or NULL. Borrowed. */
const json_t *ola_fmt_categories(const struct ola_event *e);
bool ola_fmt_has_category(const struct ola_event *e, const char *cat);
/* olagent.tags (an array) or NULL. Borrowed. */
const json_t *ola_fmt_tags(const struct ola_event *e);
/* olagent.alert for OLA_REC_ALERT records, else NULL. Borrowed. */
const json_t *ola_fmt_alert(const struct ola_event *e);
/* "success", "failure" or NULL, from the categories. */
const char *ola_fmt_outcome(const struct ola_event *e);

/* Fills v with the text of obj[key] (string, integer, real, boolean). Returns v->s. */
const char *ola_fmt_get(const json_t *obj, const char *key, struct ola_fmt_val *v);
/* Same for a value. */
const char *ola_fmt_text(const json_t *j, struct ola_fmt_val *v);
/* Appends the strings of arr joined by sep. Returns 0 / -1. */
int ola_fmt_join(const json_t *arr, const char *sep, struct ola_buf *out);
/* True when s is an IPv4 or IPv6 literal. */
bool ola_fmt_is_ip(const char *s, size_t len);
/*
 * A time member as ms since the epoch: an integer (ms) or an ISO-8601
 * string. Returns 0 / -1.
 */
int ola_fmt_time_ms(const json_t *v, int64_t *ms);
/* The record's time: created_ms, else alert.last_seen; 0 when unknown. */
int64_t ola_fmt_record_ms(const struct ola_event *e);
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (n >= 25). Returns 0 / -1. */
int ola_fmt_iso(int64_t ms, char *buf, size_t n);
/* Largest n <= max at which s can be cut without splitting a UTF-8 sequence. */
size_t ola_utf8_cut(const char *s, size_t len, size_t max);

#endif
