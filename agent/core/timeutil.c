/*
 * timeutil.c - parsing and formatting instants and durations.
 *
 * Civil dates convert to epoch days with Howard Hinnant's days-from-civil
 * arithmetic (no timegm, no TZ environment), so parsing is pure and
 * thread-safe. ISO-8601 accepts any number of fraction digits (truncated to
 * ms), 'Z' or a numeric offset; HTTP dates accept the three RFC 7231 forms.
 * Durations are summed with overflow checks and capped at OLA_DURATION_MAX_MS,
 * so no operator's typo wraps into a negative or tiny interval.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/core/timeutil.h"

int64_t ola_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ola_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ola_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void ola_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

static unsigned ola_days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28 + (unsigned)leap : dim[m - 1];
}

/* Reads exactly n digits at *p. */
static int ola_digits(const char **p, const char *end, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int ola_time_parse_iso_n(const char *s, size_t n, int64_t *ms)
{
    const char *p = s, *end = s + n;
    int y, mo, d, h, mi, sec, frac = 0, fdigits = 0, oh = 0, om = 0, sign = 0;
    int64_t days, total;

    if (ola_digits(&p, end, 4, &y) || p >= end || *p++ != '-' ||
        ola_digits(&p, end, 2, &mo) || p >= end || *p++ != '-' ||
        ola_digits(&p, end, 2, &d))
        return -1;
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (ola_digits(&p, end, 2, &h) || p >= end || *p++ != ':' ||
        ola_digits(&p, end, 2, &mi) || p >= end || *p++ != ':' ||
        ola_digits(&p, end, 2, &sec))
        return -1;
    if (p < end && (*p == '.' || *p == ',')) {
        p++;
        if (p >= end || !isdigit((unsigned char)*p))
            return -1;
        while (p < end && isdigit((unsigned char)*p)) {
            if (fdigits < 3) {
                frac = frac * 10 + (*p - '0');
                fdigits++;
            }
            p++;
        }
        while (fdigits < 3) {
            frac *= 10;
            fdigits++;
        }
    }
    if (p >= end)
        return -1; /* a zone is required: a bare local time is ambiguous */
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (ola_digits(&p, end, 2, &oh))
            return -1;
        if (p < end && *p == ':')
            p++;
        if (p < end && ola_digits(&p, end, 2, &om))
            return -1;
        if (oh > 23 || om > 59)
            return -1;
    } else {
        return -1;
    }
    if (p != end)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > ola_days_in_month(y, (unsigned)mo) ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    days = ola_days_from_civil(y, (unsigned)mo, (unsigned)d);
    total = ((days * 24 + h) * 60 + mi) * 60 + sec;
    total -= (int64_t)sign * (oh * 3600 + om * 60);
    *ms = total * 1000 + frac;
    return 0;
}

int ola_time_parse_iso(const char *s, int64_t *ms)
{
    if (s == NULL)
        return -1;
    return ola_time_parse_iso_n(s, strlen(s), ms);
}

int ola_time_format_iso(int64_t ms, char *buf, size_t n)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400, y;
    unsigned m, d;
    int w;

    ola_civil_from_days(days, &y, &m, &d);
    w = snprintf(buf, n, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
                 (int)(ms - secs * 1000));
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

static int ola_month_index(const char *p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int i;

    for (i = 0; i < 12; i++)
        if (strncmp(p, names + i * 3, 3) == 0)
            return i + 1;
    return -1;
}

int ola_time_parse_http(const char *s, int64_t *ms)
{
    char mon[4] = {0};
    int d, y, h, mi, sec, m;
    const char *comma;

    if (s == NULL)
        return -1;
    while (*s == ' ')
        s++;
    comma = strchr(s, ',');
    if (comma != NULL) {
        const char *p = comma + 1;

        /* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" or RFC 850 "Sunday, 06-Nov-94 ..."
         */
        if (sscanf(p, " %2d %3s %4d %2d:%2d:%2d GMT", &d, mon, &y, &h, &mi, &sec) != 6 &&
            sscanf(p, " %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT", &d, mon, &y, &h, &mi,
                   &sec) != 6)
            return -1;
        if (y < 100)
            y += y < 70 ? 2000 : 1900;
    } else {
        char wd[4];

        /* asctime "Sun Nov  6 08:49:37 1994" */
        if (sscanf(s, "%3s %3s %d %2d:%2d:%2d %4d", wd, mon, &d, &h, &mi, &sec, &y) != 7)
            return -1;
    }
    m = ola_month_index(mon);
    if (m < 0 || d < 1 || (unsigned)d > ola_days_in_month(y, (unsigned)m) || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    *ms =
        ((ola_days_from_civil(y, (unsigned)m, (unsigned)d) * 24 + h) * 60 + mi) * 60000 +
        (int64_t)sec * 1000;
    return 0;
}

int ola_duration_parse(const char *s, int64_t *ms)
{
    const char *p = s;
    int64_t total = 0;
    int parts = 0;

    if (s == NULL || *s == '\0')
        return -1;
    while (*p != '\0') {
        char *end;
        long long v;
        int64_t unit, part;

        if (!isdigit((unsigned char)*p))
            return -1;
        errno = 0;
        v = strtoll(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else if (*p == 'm') {
            unit = 60000;
            p++;
        } else if (*p == 'h') {
            unit = 3600000;
            p++;
        } else if (*p == 'd') {
            unit = 86400000;
            p++;
        } else if (*p == '\0' && parts == 0) {
            unit = 1000; /* a bare number means seconds */
        } else {
            return -1;
        }
        /* the syntax is sound: now only the size can be wrong */
        if (errno == ERANGE || __builtin_mul_overflow((int64_t)v, unit, &part) ||
            __builtin_add_overflow(total, part, &total) || total > OLA_DURATION_MAX_MS)
            return 1;
        parts++;
    }
    *ms = total;
    return 0;
}

int ola_duration_format(int64_t ms, char *buf, size_t n)
{
    static const struct {
        int64_t ms;
        const char *suffix;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    size_t used = 0, i;
    uint64_t left;

    if (n == 0)
        return -1;
    buf[0] = '\0';
    if (ms == 0) {
        int w = snprintf(buf, n, "0s");
        return (w < 0 || (size_t)w >= n) ? -1 : 0;
    }
    if (ms < 0) {
        if (n < 2)
            return -1;
        buf[used++] = '-';
        buf[used] = '\0';
    }
    /* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
    left = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t q = left / (uint64_t)units[i].ms;
        int w;

        if (q == 0)
            continue;
        left -= q * (uint64_t)units[i].ms;
        w = snprintf(buf + used, n - used, "%llu%s", (unsigned long long)q,
                     units[i].suffix);
        if (w < 0 || (size_t)w >= n - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

int ola_time_parse_start(const char *s, int64_t now_ms, int64_t *ms)
{
    int64_t d;

    if (s == NULL)
        return -1;
    if (strcmp(s, "now") == 0) {
        *ms = now_ms;
        return 0;
    }
    if (s[0] == '-') {
        if (ola_duration_parse(s + 1, &d) != 0 || __builtin_sub_overflow(now_ms, d, ms))
            return -1;
        return 0;
    }
    return ola_time_parse_iso(s, ms);
}
