/*
 * classify.c - what a OneLogin answer means (classify.h): a pure function.
 *
 * Status line, content type and body in; a verdict out. A 2xx is OK unless
 * its JSON carries an error envelope (v1 {status: {error, code, message}});
 * an events page whose envelope is not one JSON object is still OK, page.c
 * judges it element by element. Errors map by code: 429 or
 * rate_limit_exceeded is a rate limit, 401 is a refused token (or a refused
 * credential on the token call, or a too-small scope), 404 not found, 408 and
 * 5xx transient, other 4xx a bad request. The server's message goes into the
 * reason cleaned to printable ASCII and bounded; nothing else reaches it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "agent/onelogin/classify.h"
#include "agent/onelogin/client_priv.h"
#include "agent/onelogin/page.h"

#define OLA_OL_MSG_MAX 160 /* server message share of a reason */

/* Copies a server message into dst: printable ASCII only, bounded. */
static void ola_ol_clean(char *dst, size_t cap, const char *s)
{
    size_t n = 0;

    for (; *s != '\0' && n + 1 < cap; s++) {
        unsigned char ch = (unsigned char)*s;

        dst[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
    }
    dst[n] = '\0';
}

/* The error message of a v1 envelope or a v2 error body; "" if none. */
static void ola_ol_message(const json_t *root, char *dst, size_t cap)
{
    const json_t *st = json_object_get(root, "status");
    const json_t *m = json_is_object(st) ? json_object_get(st, "message") : NULL;

    dst[0] = '\0';
    if (m == NULL)
        m = json_object_get(root, "message"); /* v2 {statusCode, name, message} */
    if (json_is_string(m)) {
        ola_ol_clean(dst, cap, json_string_value(m));
    } else if (json_is_object(m)) {
        /* v1 {attribute, description} */
        const char *d = json_string_value(json_object_get(m, "description"));
        const char *a = json_string_value(json_object_get(m, "attribute"));
        char tmp[OLA_OL_MSG_MAX];
        int n;

        if (d == NULL)
            d = "invalid attribute";
        if (a != NULL)
            n = snprintf(tmp, sizeof(tmp), "%s (attribute %s)", d, a);
        else
            n = snprintf(tmp, sizeof(tmp), "%s", d);
        if (n < 0)
            tmp[0] = '\0';
        ola_ol_clean(dst, cap, tmp);
    }
}

void ola_ol_reason(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0)
        dst[0] = '\0';
    else if ((size_t)n >= cap && cap > 4)
        memcpy(dst + cap - 4, "...", 4);
}

/* Classifies an error answer (code is the HTTP status or the envelope's code). */
static void ola_ol_classify_error(long code, const char *what, const char *msg,
                                  enum ola_ol_call call, struct ola_ol_verdict *v)
{
    const char *sep = msg[0] ? ": " : "";

    if (code == 429 ||
        (code >= 400 && code < 500 && strcasecmp(msg, "rate_limit_exceeded") == 0)) {
        v->status = OLA_OL_RETRY;
        v->rate_limited = true;
        ola_ol_reason(v->reason, sizeof(v->reason), "%s %ld: rate limited%s%s", what,
                      code, code == 429 ? "" : " (",
                      code == 429 ? "" : "rate_limit_exceeded)");
    } else if (code == 401 && strcasecmp(msg, "Insufficient Permission") == 0) {
        v->status = OLA_OL_AUTH;
        ola_ol_reason(v->reason, sizeof(v->reason),
                      "%s 401 Insufficient Permission: the API credential's scope is too "
                      "small; it needs \"Read All\" (or \"Manage All\")",
                      what);
    } else if (code == 401 && call == OLA_OL_CALL_TOKEN) {
        v->status = OLA_OL_AUTH;
        ola_ol_reason(v->reason, sizeof(v->reason),
                      "token request rejected: check onelogin.client_id and "
                      "onelogin.client_secret (%s 401%s%s)",
                      what, sep, msg);
    } else if (code == 401) {
        v->status = OLA_OL_AUTH;
        v->token_rejected = true;
        ola_ol_reason(v->reason, sizeof(v->reason), "%s 401%s%s", what, sep, msg);
    } else if (code == 404) {
        v->status = OLA_OL_NOT_FOUND;
        ola_ol_reason(v->reason, sizeof(v->reason), "%s 404%s%s", what, sep, msg);
    } else if (code == 408 || (code >= 500 && code < 600)) {
        v->status = OLA_OL_RETRY;
        ola_ol_reason(v->reason, sizeof(v->reason), "%s %ld%s%s", what, code, sep, msg);
    } else if (code >= 400 && code < 500) {
        v->status = OLA_OL_BAD_REQUEST;
        ola_ol_reason(v->reason, sizeof(v->reason), "%s %ld%s%s", what, code, sep, msg);
    } else {
        v->status = OLA_OL_BAD_REQUEST;
        ola_ol_reason(v->reason, sizeof(v->reason), "unexpected %s %ld%s%s", what, code,
                      sep, msg);
    }
}

void ola_ol_classify(long http_status, const char *content_type, const char *body,
                     size_t len, enum ola_ol_call call, struct ola_ol_verdict *v)
{
    char msg[OLA_OL_MSG_MAX], ct[64];
    json_t *root = NULL;
    json_error_t jerr;
    size_t i = 0;

    memset(v, 0, sizeof(*v));
    msg[0] = '\0';
    while (i < len &&
           (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (call == OLA_OL_CALL_PAGE && http_status >= 200 && http_status < 300 && i < len &&
        body[i] == '{')
        root = ola_page_envelope(body, len); /* the events are page.c's to parse */
    else if (body != NULL && len > 0)
        root = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (json_is_object(root))
        ola_ol_message(root, msg, sizeof(msg));
    if (http_status >= 200 && http_status < 300) {
        const json_t *st = json_object_get(root, "status");

        if (root == NULL && call == OLA_OL_CALL_PAGE && i < len && body[i] == '{') {
            /* One bad event (invalid UTF-8, too deep, a NUL) must not hold back a
             * whole page forever: page.c parses each element on its own, sends the
             * bad ones to the dead-letter file, and refuses a broken envelope. */
            v->status = OLA_OL_OK;
            ola_ol_reason(
                v->reason, sizeof(v->reason),
                "HTTP %ld, an envelope that is not one JSON object (%zu bytes): "
                "checked element by element",
                http_status, len);
            goto done;
        }
        if (root == NULL) {
            v->status = OLA_OL_RETRY;
            ola_ol_clean(ct, sizeof(ct), content_type ? content_type : "");
            if (len == 0)
                ola_ol_reason(v->reason, sizeof(v->reason), "HTTP %ld with an empty body",
                              http_status);
            else if (i < len && (body[i] == '{' || body[i] == '['))
                ola_ol_reason(v->reason, sizeof(v->reason),
                              "HTTP %ld with truncated or malformed JSON (%zu bytes, "
                              "error at byte %d)",
                              http_status, len, jerr.position);
            else
                ola_ol_reason(v->reason, sizeof(v->reason),
                              "HTTP %ld with a non-JSON body (%zu bytes, content-type "
                              "\"%s\")",
                              http_status, len, ct);
            goto done;
        }
        if (json_is_object(st) && json_is_true(json_object_get(st, "error"))) {
            json_int_t code = json_integer_value(json_object_get(st, "code"));
            char what[32];

            snprintf(what, sizeof(what), "HTTP %ld, error", http_status);
            if (code < 400 || code > 599)
                code = 400; /* an error without a usable code */
            ola_ol_classify_error((long)code, what, msg, call, v);
            goto done;
        }
        v->status = OLA_OL_OK;
        ola_ol_reason(v->reason, sizeof(v->reason), "HTTP %ld%s", http_status,
                      call == OLA_OL_CALL_PAGE ? ", events checked element by element"
                                               : "");
        goto done;
    }
    ola_ol_classify_error(http_status, "HTTP", msg, call, v);
done:
    v->from_api = v->rate_limited && root != NULL;
    json_decref(root);
}

void ola_ol_classify_fail(enum ola_http_fail fail, const char *fail_msg, long http_status,
                          struct ola_ol_verdict *v)
{
    memset(v, 0, sizeof(*v));
    /* a body over the cap is no passing fault: retrying fetches it again */
    v->status = fail == OLA_HTTP_TOO_BIG ? OLA_OL_BAD_REQUEST : OLA_OL_RETRY;
    if (http_status > 0)
        ola_ol_reason(v->reason, sizeof(v->reason), "HTTP %ld, %s", http_status,
                      fail_msg && *fail_msg ? fail_msg : ola_http_fail_name(fail));
    else
        ola_ol_reason(v->reason, sizeof(v->reason), "%s",
                      fail_msg && *fail_msg ? fail_msg : ola_http_fail_name(fail));
}
