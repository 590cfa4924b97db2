/*
 * fmt_util.c - record facts and text helpers shared by the SIEM formats.
 *
 * The formats and the syslog output all ask the same questions of a record
 * (which type, which categories, how severe, did it succeed) and all need
 * numbers as text without allocating; answering them here keeps the CEF,
 * LEEF, OCSF and syslog mappings consistent with each other.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/core/timeutil.h"
#include "outputs/formats/fmt_util.h"

static const json_t *ola_fmt_ola_get(const struct ola_event *e, const char *key)
{
    return e->ola != NULL ? json_object_get(e->ola, key) : NULL;
}

int ola_fmt_severity(const struct ola_event *e)
{
    const json_t *v;

    if (e->severity >= 0 && e->severity <= 10)
        return e->severity;
    v = ola_fmt_ola_get(e, "severity");
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 10)
        return (int)json_integer_value(v);
    v = json_object_get(ola_fmt_alert(e), "severity");
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 10)
        return (int)json_integer_value(v);
    return -1;
}

long long ola_fmt_type_id(const struct ola_event *e)
{
    const json_t *v = json_object_get(ola_fmt_ola_get(e, "event_type"), "id");

    if (!json_is_integer(v))
        v = json_object_get(e->ev, "event_type_id");
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

const char *ola_fmt_type_name(const struct ola_event *e)
{
    const char *s =
        json_string_value(json_object_get(ola_fmt_ola_get(e, "event_type"), "name"));

    return s != NULL && s[0] != '\0' ? s : NULL;
}

const json_t *ola_fmt_categories(const struct ola_event *e)
{
    const json_t *v = json_object_get(ola_fmt_ola_get(e, "event_type"), "categories");

    return json_is_array(v) ? v : NULL;
}

bool ola_fmt_has_category(const struct ola_event *e, const char *cat)
{
    const json_t *arr = ola_fmt_categories(e);
    size_t i;

    for (i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));

        if (s != NULL && strcmp(s, cat) == 0)
            return true;
    }
    return false;
}

const json_t *ola_fmt_tags(const struct ola_event *e)
{
    const json_t *v = ola_fmt_ola_get(e, "tags");

    return json_is_array(v) ? v : NULL;
}

const json_t *ola_fmt_alert(const struct ola_event *e)
{
    const json_t *v;

    if (e->kind != OLA_REC_ALERT)
        return NULL;
    v = ola_fmt_ola_get(e, "alert");
    return json_is_object(v) ? v : NULL;
}

const char *ola_fmt_outcome(const struct ola_event *e)
{
    if (ola_fmt_has_category(e, "login_failure") || ola_fmt_has_category(e, "lockout") ||
        ola_fmt_has_category(e, "authz_denied"))
        return "failure";
    if (ola_fmt_has_category(e, "login_success"))
        return "success";
    return NULL;
}

const char *ola_fmt_text(const json_t *j, struct ola_fmt_val *v)
{
    int n = -1;

    v->s = NULL;
    v->len = 0;
    if (json_is_string(j)) {
        v->s = json_string_value(j);
        v->len = json_string_length(j);
        if (v->len == 0)
            v->s = NULL;
        return v->s;
    }
    if (json_is_integer(j))
        n = snprintf(v->num, sizeof(v->num), "%lld", (long long)json_integer_value(j));
    else if (json_is_real(j))
        n = snprintf(v->num, sizeof(v->num), "%.17g", json_real_value(j));
    else if (json_is_boolean(j))
        n = snprintf(v->num, sizeof(v->num), "%s", json_is_true(j) ? "true" : "false");
    if (n > 0 && (size_t)n < sizeof(v->num)) {
        v->s = v->num;
        v->len = (size_t)n;
    }
    return v->s;
}

const char *ola_fmt_get(const json_t *obj, const char *key, struct ola_fmt_val *v)
{
    return ola_fmt_text(json_object_get(obj, key), v);
}

int ola_fmt_join(const json_t *arr, const char *sep, struct ola_buf *out)
{
    size_t i, n = 0;

    for (i = 0; i < json_array_size(arr); i++) {
        struct ola_fmt_val v;

        if (ola_fmt_text(json_array_get(arr, i), &v) == NULL)
            continue;
        if ((n++ > 0 && ola_buf_puts(out, sep) != 0) || ola_buf_append(out, v.s, v.len))
            return -1;
    }
    return 0;
}

bool ola_fmt_is_ip(const char *s, size_t len)
{
    char tmp[64];
    unsigned char addr[16];

    if (s == NULL || len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1;
}

int ola_fmt_time_ms(const json_t *v, int64_t *ms)
{
    if (json_is_integer(v)) {
        *ms = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v))
        return ola_time_parse_iso(json_string_value(v), ms);
    return -1;
}

int64_t ola_fmt_record_ms(const struct ola_event *e)
{
    int64_t ms;

    if (e->created_ms != 0)
        return e->created_ms;
    if (ola_fmt_time_ms(json_object_get(ola_fmt_alert(e), "last_seen"), &ms) == 0)
        return ms;
    return 0;
}

int ola_fmt_iso(int64_t ms, char *buf, size_t n)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)secs * 1000);
    struct tm tm;
    int w;

    if (gmtime_r(&secs, &tm) == NULL)
        return -1;
    w = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

size_t ola_utf8_cut(const char *s, size_t len, size_t max)
{
    size_t n;

    if (len <= max)
        return len;
    n = max;
    /* back up over continuation bytes (10xxxxxx) to the start of a sequence */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}
