/*
 * out_s3_key.c - the s3 output's object keys (out_s3.h).
 *
 * A key is the expanded prefix and a name made of the batch's first event
 * time, its first and last event id and a short hash of the object. Every
 * key is held to [A-Za-z0-9/._-] with no empty, "." or ".." component, at
 * config time (the prefix expanded with the longest tenant name at times
 * whose conversions give the widest values) and again for each object before
 * it is sent: such a key needs no URI escaping, so libcurl's SigV4 canonical
 * URI and every S3 implementation's agree, and it maps to a path under the
 * manifest directory that cannot leave it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "outputs/out_s3.h"
#include "outputs/output.h"

static bool ola_s3_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '/' || c == '.' || c == '_' || c == '-';
}

const char *ola_s3_key_bad(const char *s, bool prefix)
{
    const char *p, *comp = s;
    size_t n = strlen(s);

    if (n == 0)
        return prefix ? NULL : "empty";
    if (n > (prefix ? OLA_S3_PREFIX_MAX : OLA_S3_KEY_MAX))
        return "too long";
    if (s[0] == '/')
        return "starts with '/'";
    for (p = s;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - comp);

            /* a prefix may end in '/': its last component is the object's */
            if (len == 0 && !(*p == '\0' && prefix))
                return "has an empty path component ('//' or a trailing '/')";
            if ((len == 1 && comp[0] == '.') ||
                (len == 2 && comp[0] == '.' && comp[1] == '.'))
                return "has a '.' or '..' path component";
            if (*p == '\0')
                break;
            comp = p + 1;
        } else if (!ola_s3_char_ok(*p)) {
            return "has a character outside [A-Za-z0-9/._-]";
        }
    }
    return NULL;
}

int ola_s3_prefix_expand(const char *tmpl, const char *tenant, int64_t ms, char *out,
                         size_t n)
{
    char with[OLA_S3_KEY_MAX + 64];
    struct tm tm;
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    size_t len;

    if (ola_output_tenant_expand(tmpl, tenant, with, sizeof(with)) < 0)
        return -1;
    if (with[0] == '\0') {
        if (n == 0)
            return -1;
        out[0] = '\0';
        return 0;
    }
    if (gmtime_r(&t, &tm) == NULL)
        return -1;
        /* the prefix is the operator's strftime format, by design */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    len = strftime(out, n, with, &tm);
#pragma GCC diagnostic pop
    /* 0: did not fit, or expanded to nothing (then a conversion like %p in a
     * locale without it: refused as well) */
    return len == 0 ? -1 : (int)len;
}

const char *ola_s3_prefix_check(const char *tmpl, char *why, size_t n)
{
    /* times whose fields are widest and narrowest: two-digit days, months,
     * hours; a leap second's 60; the year 9999 and 1970 */
    static const int64_t at[] = {0, 253402300799000LL, 1735689599000LL, 1704067200000LL};
    char longest[OLA_TENANT_NAME_MAX + 1], out[OLA_S3_KEY_MAX + 64];
    const char *bad;
    size_t i;

    memset(longest, 'x', OLA_TENANT_NAME_MAX);
    longest[OLA_TENANT_NAME_MAX] = '\0';
    for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        if (ola_s3_prefix_expand(tmpl, longest, at[i], out, sizeof(out)) < 0 &&
            tmpl[0] != '\0') {
            snprintf(why, n, "prefix: expands to nothing or to more than %d bytes",
                     OLA_S3_PREFIX_MAX);
            return why;
        }
        bad = ola_s3_key_bad(out, true);
        if (bad != NULL) {
            snprintf(why, n,
                     "prefix: '%.120s' (as expanded) %s; keys may hold only "
                     "[A-Za-z0-9/._-] so the signature holds on every S3 "
                     "implementation",
                     out, bad);
            return why;
        }
    }
    return NULL;
}

int ola_s3_object_key(const char *prefix, int64_t first_ms, int64_t first_id,
                      int64_t last_id, const char *sha_hex, char *out, size_t n)
{
    time_t t = (time_t)(first_ms >= 0 ? first_ms / 1000 : (first_ms - 999) / 1000);
    int frac = (int)(first_ms - (int64_t)t * 1000);
    char when[32];
    struct tm tm;
    int w;

    if (strlen(sha_hex) < 16 || gmtime_r(&t, &tm) == NULL ||
        strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm) == 0)
        return -1;
    w = snprintf(out, n, "%s%s.%03dZ_%lld-%lld_%.16s%s", prefix, when, frac,
                 (long long)first_id, (long long)last_id, sha_hex, OLA_S3_SUFFIX);
    if (w < 0 || (size_t)w >= n)
        return -1;
    return ola_s3_key_bad(out, false) == NULL ? 0 : -1;
}
