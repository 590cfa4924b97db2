/*
 * http_fake.h - the one in-process HTTP(S) server of the unit tests.
 *
 * A test starts a fake on a free 127.0.0.1 port, says how it answers (scripted
 * answers per route, a handler callback, or both), points the code under test
 * at ola_fake_url() and afterwards reads what went over the wire from the
 * fake's record of every request. See http_fake.c for how it works.
 */
#ifndef OLA_TEST_HTTP_FAKE_H
#define OLA_TEST_HTTP_FAKE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/err.h"

#define OLA_FAKE_MAX_HEADERS 8

/* How an answer's body goes out. */
enum ola_fake_mode {
    OLA_FAKE_WHOLE = 0, /* body, Content-Length exact */
    OLA_FAKE_CUT,       /* announces len + 100 bytes, sends body, drops the connection */
    OLA_FAKE_HUGE,      /* announces `size` bytes and sends 'x' until the client quits */
    OLA_FAKE_STREAM,    /* unknown length (chunked): `size` bytes of 'x' */
};

/* One answer. Every pointer in it is owned by the answer. */
struct ola_fake_answer {
    int status;
    enum ola_fake_mode mode;
    char *body; /* malloc'd or NULL; WHOLE and CUT send its len bytes */
    size_t len;
    uint64_t size;     /* HUGE and STREAM: see the modes */
    unsigned delay_ms; /* held this long before answering (cut short by stop) */
    char *hname[OLA_FAKE_MAX_HEADERS], *hval[OLA_FAKE_MAX_HEADERS];
    size_t nh;
};

struct ola_fake_kv {
    char *name, *value;
};

/*
 * One request as the fake received it (and keeps it). Decoded path without
 * the query; headers and query arguments in arrival order; the body as sent
 * (NUL-terminated for convenience, body_len without the NUL).
 */
struct ola_fake_req {
    char *method, *path;
    char *route;     /* key of the route that took it, NULL if none did */
    bool unscripted; /* no route, no handler, or the route's answers were used up */
    char *body;
    size_t body_len;
    struct ola_fake_kv *headers, *args;
    size_t n_headers, n_args;
};

struct ola_fake_opts {
    /*
     * How to answer a request no route takes (called on a server thread,
     * without the fake's lock): fill a (zeroed) and return 0, or return -1 to
     * drop the connection. rq: borrowed, valid until ola_fake_stop.
     */
    int (*handler)(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a);
    void *handler_arg;
    bool send_date;       /* add a Date header to every answer (default: none) */
    const char *tls_cert; /* PEM file: serve HTTPS with it and tls_key */
    const char *tls_key;  /* PEM file */
    const char *tls_prio; /* GnuTLS priorities, NULL: "NORMAL" */
};

struct ola_fake_stats {
    size_t requests;     /* recorded (complete requests received) */
    unsigned unscripted; /* answered 599 "unscripted request" */
    unsigned connections;
    unsigned max_inflight; /* requests being answered at once, at most */
};

struct ola_fake;

/*
 * Starts a fake on 127.0.0.1, a free port. o: borrowed for the call (the
 * handler and its arg must outlive the fake). Returns 0 with *out (owned by
 * the caller: ola_fake_stop), or -1 and fills err.
 */
int ola_fake_start(const struct ola_fake_opts *o, struct ola_fake **out,
                   struct ola_err *err);
/* Stops the server (holds end at once, threads joined) and frees everything,
 * records and answers included. NULL: no-op. */
void ola_fake_stop(struct ola_fake *f);

unsigned short ola_fake_port(const struct ola_fake *f);
/* "http://127.0.0.1:PORT" (https with TLS), no slash; owned by the fake. */
const char *ola_fake_url(const struct ola_fake *f);

/*
 * Scripts the next answer of route `key`: a request whose path starts with
 * key is taken by the route with the longest such key ("" takes every path);
 * its n-th request gets the n-th answer pushed, and once they are used up
 * "599 unscripted request". body: owned by the fake from now on (may be
 * NULL). Then header name, value pairs (copied), ending with NULL. Returns the
 * answer (owned by the fake) to set mode, size or delay_ms before the request
 * that takes it is sent; NULL when out of memory or headers.
 */
struct ola_fake_answer *ola_fake_push(struct ola_fake *f, const char *key, int status,
                                      char *body, ...);
struct ola_fake_answer *ola_fake_vpush(struct ola_fake *f, const char *key, int status,
                                       char *body, va_list ap);
/* Adds a header (copied) to an answer; for handlers. 0, or -1 when full / OOM. */
int ola_fake_answer_header(struct ola_fake_answer *a, const char *name,
                           const char *value);

/* A request's header (name: any case) or query argument; NULL when absent.
 * Borrowed from rq. */
const char *ola_fake_header(const struct ola_fake_req *rq, const char *name);
const char *ola_fake_query(const struct ola_fake_req *rq, const char *name);

/* ---- the record (all thread-safe; returned requests are borrowed from the
 * fake, unchanging and valid until ola_fake_stop) ---- */
void ola_fake_stats(struct ola_fake *f, struct ola_fake_stats *out);
/* Requests so far: also the mark to count from. */
size_t ola_fake_requests(struct ola_fake *f);
/* Requests from the mark `from` on whose path starts with prefix (NULL: all). */
unsigned ola_fake_count(struct ola_fake *f, size_t from, const char *prefix);
/* The i-th request (from 0), or NULL. */
const struct ola_fake_req *ola_fake_seen(struct ola_fake *f, size_t i);
/* The last request route `key` took (NULL: the last of all), or NULL. */
const struct ola_fake_req *ola_fake_last(struct ola_fake *f, const char *key);
/* Waits until n requests are recorded, at most timeout_ms of wall-clock time.
 * Returns 0, or -1 when the time ran out. */
int ola_fake_wait_requests(struct ola_fake *f, size_t n, int timeout_ms);

#endif
