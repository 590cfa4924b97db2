/*
 * classify.h - what a OneLogin answer means (a pure function).
 *
 * Status line, content type and body in; client status, reason, and whether
 * the answer was a rate limit or a token rejection out. No I/O, no clock, no
 * client state: the client acts on the verdict (refresh the token, block the
 * governor) and tests check the table directly. Code: classify.c.
 */
#ifndef OLA_ONELOGIN_CLASSIFY_H
#define OLA_ONELOGIN_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/onelogin/client.h"
#include "agent/onelogin/http.h"

enum ola_ol_call {
    OLA_OL_CALL_RESOURCE = 0, /* GET with a bearer token */
    OLA_OL_CALL_TOKEN = 1,    /* POST /auth/oauth2/v2/token with HTTP Basic */
    OLA_OL_CALL_PAGE = 2,     /* GET /api/1/events: a 2xx body that is not JSON as a
                                 whole is still OK; the page parser judges each element */
};

struct ola_ol_verdict {
    enum ola_ol_status status;
    bool rate_limited;   /* 429 or rate_limit_exceeded */
    bool from_api;       /* ... in OneLogin's JSON, not a proxy's page */
    bool token_rejected; /* plain 401 on a resource call: refresh once, retry once */
    char reason[256];    /* never holds a credential: only status and server message */
};

/*
 * Classifies one complete answer. content_type may be NULL or "", body may
 * be NULL with len 0. body: borrowed, need not be NUL-terminated.
 */
void ola_ol_classify(long http_status, const char *content_type, const char *body,
                     size_t len, enum ola_ol_call call, struct ola_ol_verdict *v);

/* Classifies an answer that did not arrive whole (timeout, reset, too big, ...). */
void ola_ol_classify_fail(enum ola_http_fail fail, const char *fail_msg, long http_status,
                          struct ola_ol_verdict *v);

#endif
