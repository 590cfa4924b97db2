/*
 * http.h - one reused libcurl easy handle: requests with captured answers.
 *
 * The handle keeps its connection alive between requests; every request gets
 * the same settings (timeouts, TLS verification on, CA file, proxy, no
 * redirects, no signals). The answer is the HTTP status, the headers the
 * OneLogin client needs (as strings), the body (capped) and, when no complete
 * answer arrived, a failure class. Nothing is logged above debug level, and
 * credentials never appear in a log line or message.
 * @locality one thread per handle.
 */
#ifndef OLA_HTTP_H
#define OLA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"

#define OLA_HTTP_MAX_BODY_DEFAULT ((size_t)64 << 20) /* 64 MiB */
#define OLA_HTTP_TIMEOUT_DEFAULT  30000
#define OLA_HTTP_CONNECT_MAX_MS   10000 /* connect timeout: min(this, timeout) */

struct ola_http;

struct ola_http_opts {
    int64_t timeout_ms;  /* whole request, connect included; <= 0: 30 s */
    const char *ca_file; /* NULL: system store */
    const char *proxy;   /* NULL: libcurl's environment handling */
    size_t max_body;     /* 0: OLA_HTTP_MAX_BODY_DEFAULT */
};

/* Why no complete answer arrived. */
enum ola_http_fail {
    OLA_HTTP_OK = 0,    /* a complete response (any status) */
    OLA_HTTP_TIMEOUT,   /* connect or total timeout */
    OLA_HTTP_REFUSED,   /* connection refused / could not connect */
    OLA_HTTP_RESET,     /* reset, send/recv error, empty reply */
    OLA_HTTP_TLS,       /* handshake or certificate verification */
    OLA_HTTP_RESOLVE,   /* host or proxy name did not resolve */
    OLA_HTTP_TRUNCATED, /* fewer body bytes than announced */
    OLA_HTTP_TOO_BIG,   /* body over max_body: aborted */
    OLA_HTTP_NOMEM,     /* out of memory */
    OLA_HTTP_STOPPED,   /* aborted by a stop request (SIGTERM): not the server's fault */
    OLA_HTTP_OTHER,     /* anything else libcurl reports */
};

struct ola_http_req {
    const char *method;     /* "GET" or "POST" */
    const char *url;        /* full URL */
    const char *bearer;     /* secret: "Authorization: Bearer", NULL none */
    const char *basic_user; /* secret pair: HTTP Basic, NULL none */
    const char *basic_pass;
    const char *content_type; /* of body; NULL: none */
    const char *body;         /* POST body, NULL: empty */
    size_t body_len;
};

/* Header values as the server sent them (blanks trimmed); "" when absent. */
struct ola_http_resp {
    long status;             /* 0 when no response line arrived */
    enum ola_http_fail fail; /* OLA_HTTP_OK when the answer is complete */
    char fail_msg[300];      /* one line about the failure, "" when OK */
    char date[64];
    char rl_limit[32];
    char rl_remaining[32];
    char rl_reset[32];
    char retry_after[64];
    char content_type[128];
    int64_t elapsed_ms;
    int64_t sent_ms; /* wall clock when the transfer began (the answer is later) */
};

/* Returns 0 and a new handle in *out, or -1 with err. */
int ola_http_new(const struct ola_http_opts *opts, struct ola_http **out,
                 struct ola_err *err);
void ola_http_destroy(struct ola_http *h);

/*
 * Sends rq and fills rs and body (reset first; body is caller-owned).
 * Returns 0 when a complete answer arrived (rs->status says which), -1 when
 * none did (rs->fail and rs->fail_msg say why; rs->status may still be set;
 * body is empty and its memory freed). A body over max_body is refused as
 * soon as it crosses it (or at once from its Content-Length): OLA_HTTP_TOO_BIG.
 */
int ola_http_do(struct ola_http *h, const struct ola_http_req *rq, struct ola_buf *body,
                struct ola_http_resp *rs);

/* A short name for a failure class: "timeout", "connection refused", ... */
const char *ola_http_fail_name(enum ola_http_fail f);

/*
 * Several transfers at once: a libcurl multi handle with a fixed number of
 * slots (easy handles, set up like ola_http's). Connections stay in the
 * multi handle's cache between runs, so a later run reuses them; there are
 * never more connections than slots.
 */
struct ola_http_multi;

/* One transfer of a run. The feeder owns it; the run fills rs and rc. */
struct ola_http_xfer {
    struct ola_http_req rq;  /* set by the feeder before handing it out */
    struct ola_buf *body;    /* where the body goes (caller-owned, reset first) */
    struct ola_http_resp rs; /* the answer, set when done */
    int rc;                  /* 0: a complete answer; -1: none (rs.fail says why) */
    size_t tag;              /* the feeder's */
};

struct ola_http_feed {
    /* The next transfer to start, or NULL when none should start now. Asked
       again whenever a slot frees up. */
    struct ola_http_xfer *(*next)(void *arg);
    /* A transfer ended (rc and rs set); x may be handed out again from now. */
    void (*done)(void *arg, struct ola_http_xfer *x);
};

/* Returns 0 and a new multi handle with `slots` slots in *out, or -1 with err. */
int ola_http_multi_new(const struct ola_http_opts *opts, unsigned slots,
                       struct ola_http_multi **out, struct ola_err *err);
void ola_http_multi_destroy(struct ola_http_multi *m);
unsigned ola_http_multi_slots(const struct ola_http_multi *m);

/*
 * Runs transfers, one per free slot, until the feeder has nothing more and
 * none is in flight; every transfer handed out gets exactly one done call.
 * Returns 0, or -1 when libcurl's multi interface itself failed (the
 * transfers in flight then end as failed). A stop request aborts transfers
 * in flight as in ola_http_do. @locality one thread.
 */
int ola_http_multi_run(struct ola_http_multi *m, const struct ola_http_feed *f,
                       void *arg);

#endif
