/*
 * http_out_body.c - what the HTTP outputs' sender does with bytes alone:
 * header lines, gzip bodies, Retry-After, and the default reading of an answer.
 *
 * Pure functions of their arguments (no sender state), so each output's own
 * answer hook can call ola_ho_classify for what it does not read itself.
 * ola_ho_classify maps a status to a verdict: 2xx accepted; 408, 425, 429,
 * 5xx and no answer retried; 401, 403, 407 fatal (credentials refused); 404,
 * 405, 410 and 3xx fatal (a wrong URL would dead-letter every record); any
 * other 4xx refuses the request's records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <zlib.h>

#include "agent/core/timeutil.h"
#include "outputs/http_out.h"

int ola_ho_header(struct ola_buf *lines, const char *name, const char *value)
{
    if (ola_buf_puts(lines, name) != 0 || ola_buf_append(lines, ": ", 2) != 0 ||
        ola_buf_puts(lines, value) != 0)
        return -1;
    return ola_buf_append(lines, "", 1); /* the line's NUL */
}

int ola_ho_gzip(const char *in, size_t len, struct ola_buf *out)
{
    z_stream z;
    int rc;

    memset(&z, 0, sizeof(z));
    ola_buf_reset(out);
    /* 15 + 16: a gzip header and trailer (Content-Encoding: gzip) */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    if (ola_buf_reserve(out, deflateBound(&z, (uLong)len)) != 0) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data;
    z.avail_out = (uInt)(out->cap - out->len);
    rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END)
        out->len = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

/* ---- reading answers ---------------------------------------------------------- */

int64_t ola_ho_retry_after_ms(const char *v, int64_t now_ms)
{
    char *end;
    long long s;
    int64_t ms;
    time_t t;

    if (v == NULL || *v == '\0')
        return -1;
    errno = 0;
    s = strtoll(v, &end, 10);
    if (end != v && *end == '\0' && errno == 0) {
        if (s < 0)
            return -1;
        ms = s > OLA_HO_RETRY_AFTER_MAX_MS / 1000 ? OLA_HO_RETRY_AFTER_MAX_MS : s * 1000;
        return ms;
    }
    t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    ms = (int64_t)t * 1000 - now_ms;
    if (ms < 0)
        return 0;
    return ms > OLA_HO_RETRY_AFTER_MAX_MS ? OLA_HO_RETRY_AFTER_MAX_MS : ms;
}

const char *ola_ho_answer_head(const struct ola_ho_req *rq, char *buf, size_t cap)
{
    size_t i, n = rq->answer.len < cap - 1 ? rq->answer.len : cap - 1;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rq->answer.data[i];

        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    buf[n] = '\0';
    return buf;
}

enum ola_ho_verdict ola_ho_classify(struct ola_output *o, const struct ola_ho_req *rq)
{
    long s = rq->status;
    char head[100];

    if (s >= 200 && s < 300)
        return OLA_HO_ACCEPTED;
    ola_ho_answer_head(rq, head, sizeof(head));
    if (s == 0) {
        snprintf(o->last_error, sizeof(o->last_error), "no answer: %s", rq->fail);
        return OLA_HO_RETRY;
    }
    if (s == 408 || s == 425 || s == 429 || s >= 500) {
        snprintf(o->last_error, sizeof(o->last_error), "HTTP %ld%s%s%s: %s", s,
                 rq->retry_after[0] ? " (Retry-After: " : "", rq->retry_after,
                 rq->retry_after[0] ? ")" : "", head);
        return OLA_HO_RETRY;
    }
    if (s == 401 || s == 403 || s == 407) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "HTTP %ld: the server refused the credentials: %s", s, head);
        return OLA_HO_FATAL;
    }
    if (s == 404 || s == 405 || s == 410 || (s >= 300 && s < 400) || s < 200) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "HTTP %ld: the server does not take data at this URL%s: %s", s,
                 s >= 300 && s < 400 ? " (redirects are not followed)" : "", head);
        return OLA_HO_FATAL;
    }
    snprintf(o->last_error, sizeof(o->last_error), "HTTP %ld: %s", s, head);
    return OLA_HO_REFUSED;
}

/* ---- transfers ------------------------------------------------------------------ */
