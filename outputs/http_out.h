/*
 * http_out.h - the machinery every HTTP output shares (webhook, and on top of
 * it Splunk HEC, Elasticsearch, Sentinel, S3).
 *
 * An HTTP output keeps its records of the batch in flight here, formatted
 * (ola_ho_add), has them cut into requests by count and bytes (ola_ho_plan),
 * and lets ola_ho_flush send them: every request not yet answered for good
 * goes out on one libcurl multi handle (keep-alive, HTTP/2 when the server
 * offers it over TLS, HTTP/1.1 otherwise; at most OLA_HO_PARALLEL at once),
 * and flush waits up to its timeout; a request still in flight then stays in
 * flight for the next flush. Each answer is read by the output's `answer`
 * hook (default ola_ho_classify): accepted, retry (429, 5xx, 408, no answer;
 * Retry-After noted), refused (another 4xx: a request of several records is
 * split in two halves and both are sent, so only the record the server
 * refuses is dead-lettered, with the status and the answer's first bytes) or
 * fatal (401, 403, 407: credentials refused; a URL the server does not
 * serve). The output builds each request's method, URL, headers and body in
 * its `prepare` hook (ola_ho_frame and ola_ho_gzip help), so the Idempotency-
 * Key, an Authorization header or SigV4 are its business.
 */
#ifndef OLA_HTTP_OUT_H
#define OLA_HTTP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "outputs/output.h"

/* Requests in flight at once per output (over one or several connections). */
#define OLA_HO_PARALLEL 4
/* The answer bytes kept for the output's hook (and the dead letter's reason). */
#define OLA_HO_ANSWER_MAX (1u << 20)
/* Longest Retry-After honoured, ms: a larger one is cut to this. */
#define OLA_HO_RETRY_AFTER_MAX_MS (10 * 60 * 1000)

enum ola_ho_compression { OLA_HO_NONE = 0, OLA_HO_GZIP = 1 };
enum ola_ho_framing { OLA_HO_NDJSON = 0, OLA_HO_JSON_ARRAY = 1 };

/*
 * The keys every HTTP output has, as read by OLA_HO_OPTIONS (strings borrowed
 * from the config document). Each output's settings struct holds one.
 */
struct ola_ho_conf {
    const char *ca_file, *client_cert, *client_key, *proxy;
    bool verify;
    int64_t timeout_ms;
    long long batch_max_events;
    uint64_t batch_max_bytes;
    int compression; /* enum ola_ho_compression (outputs that take the key) */
};

/* Hooks behind OLA_HO_OPTIONS (http_out_conf.c). */
ola_opt_hook_fn ola_ho_verify_hook, ola_ho_tls_hook;
extern const char *const ola_ho_compressions[];

/*
 * Option-table entries for the shared keys, for the output's table: T its
 * settings struct, M the struct ola_ho_conf member in it. verify: false draws
 * one warning (ola_cfg_warn); client_cert and client_key go together.
 * OLA_HO_OPTIONS_BYTES: the same with batch_max_bytes defaulting to DEF and
 * capped at MAX (a destination that takes at most MAX bytes a request).
 */
#define OLA_HO_OPTIONS(T, M) OLA_HO_OPTIONS_BYTES(T, M, 5u << 20, 256u << 20)
/* The same, with the default and the largest batch_max_bytes given (sentinel: 1 MB). */
#define OLA_HO_OPTIONS_BYTES(T, M, DEF, MAX)                                             \
    OLA_HO_OPT_TIMEOUT(T, M), OLA_HO_OPT_BATCH(T, M, DEF, MAX), OLA_HO_OPT_TLS(T, M)
/*
 * The connection keys alone (timeout, proxy, TLS), for an output that sends
 * one request per batch (s3): its struct ola_ho_conf's batch limits are its
 * own business.
 */
#define OLA_HO_OPTIONS_CONN(T, M) OLA_HO_OPT_TIMEOUT(T, M), OLA_HO_OPT_TLS(T, M)

#define OLA_HO_OPT_TIMEOUT(T, M)                                                         \
    {                                                                                    \
        .name = "timeout", .type = OLA_OPT_DURATION,                                     \
        .offset = offsetof(T, M.timeout_ms), .def_int = 30000, .min = 100,               \
        .max = 600000, .help = "one request, connect to last byte of the answer"         \
    }

#define OLA_HO_OPT_BATCH(T, M, DEF, MAX)                                                 \
    {.name = "batch_max_events",                                                         \
     .type = OLA_OPT_INT,                                                                \
     .offset = offsetof(T, M.batch_max_events),                                          \
     .def_int = 500,                                                                     \
     .min = 1,                                                                           \
     .max = 100000,                                                                      \
     .help = "records in one request"},                                                  \
    {                                                                                    \
        .name = "batch_max_bytes", .type = OLA_OPT_SIZE,                                 \
        .offset = offsetof(T, M.batch_max_bytes), .def_size = (DEF), .size_min = 1024,   \
        .size_max = (MAX), .help = "body of one request before compression"              \
    }

#define OLA_HO_OPT_TLS(T, M)                                                             \
    {.name = "proxy",                                                                    \
     .type = OLA_OPT_STR,                                                                \
     .offset = offsetof(T, M.proxy),                                                     \
     .help = "http://host:port; default: none (the environment's is ignored)"},          \
        {.name = "ca_file",                                                              \
         .type = OLA_OPT_STR,                                                            \
         .offset = offsetof(T, M.ca_file),                                               \
         .help = "CA certificates (PEM); default: the system store"},                    \
        {.name = "client_cert",                                                          \
         .type = OLA_OPT_STR,                                                            \
         .offset = offsetof(T, M.client_cert),                                           \
         .help = "client certificate (PEM), if the server requires one"},                \
        {.name = "client_key",                                                           \
         .type = OLA_OPT_STR,                                                            \
         .offset = offsetof(T, M.client_key),                                            \
         .hook = ola_ho_tls_hook,                                                        \
         .help = "the client certificate's key (PEM)"},                                  \
    {                                                                                    \
        .name = "verify", .type = OLA_OPT_BOOL, .offset = offsetof(T, M.verify),         \
        .def_int = 1, .hook = ola_ho_verify_hook,                                        \
        .help = "check the server's certificate and name; never off in production"       \
    }

/* The compression key, for the outputs that take it. */
#define OLA_HO_OPT_COMPRESSION(T, M)                                                     \
    {                                                                                    \
        .name = "compression", .type = OLA_OPT_ENUM,                                     \
        .offset = offsetof(T, M.compression), .names = ola_ho_compressions,              \
        .def_int = OLA_HO_NONE, .help = "none or gzip (Content-Encoding of the body)"    \
    }

/*
 * Checks a destination URL from the config: http or https, a host, no
 * userinfo (credentials go in their own keys), and https unless the host is
 * loopback (127.0.0.0/8, ::1, localhost). node: the value's node, for
 * file:line. Returns 0 / -1 with err.
 */
int ola_ho_url_check(const struct ola_cfg *node, const char *url, struct ola_err *err);

/* One formatted record of the batch in flight. */
struct ola_ho_rec {
    size_t rec;      /* its index in the batch (for ola_output_refuse) */
    int64_t id;      /* the OneLogin event id; 0 for an alert */
    size_t off, len; /* its bytes in the module's record buffer */
};

enum ola_ho_verdict {
    OLA_HO_ACCEPTED = 0, /* stored: the request is done */
    OLA_HO_RETRY,        /* send it again later */
    OLA_HO_REFUSED,      /* never for these records: split, or dead-letter one */
    OLA_HO_FATAL,        /* never for anything: the agent stops */
    /* the answer hook settled the records one by one (a per-record answer, as
     * Elasticsearch's _bulk): it counted the stored ones in o->stats.emitted,
     * refused some (ola_output_refuse), sent others again (ola_ho_requeue);
     * the request itself is done */
    OLA_HO_SETTLED,
};

/* One request: records [first, first + n) of the plan, and its last answer. */
struct ola_ho_req {
    size_t first, n;
    bool done;
    unsigned attempts; /* times sent */
    /* the output's prepare fills these; the module frees them after the answer */
    const char *method;     /* "POST", "PUT"; borrowed, static */
    char *url;              /* NULL: the output's base url (ola_ho_new) */
    struct ola_buf body;    /* as sent (compressed when the output compressed) */
    struct ola_buf headers; /* "Name: value" lines, each NUL-terminated */
    uint64_t tag;           /* the output's own note on this send (e.g. which
                               credential it carried), for its answer hook */
    /* the last answer */
    long status;           /* 0: none (fail says why) */
    char fail[200];        /* transport failure, when status is 0 */
    char retry_after[64];  /* the Retry-After header, as sent */
    struct ola_buf answer; /* its first OLA_HO_ANSWER_MAX bytes */
    int64_t started_mono_ms;
    void *xfer; /* the module's transfer state; NULL when not in flight */
};

struct ola_ho;

struct ola_ho_ops {
    /* Fills rq's method, url (optional), headers (ola_ho_header) and body for
     * the records it carries (ola_ho_recs). Called before each send, so a
     * re-sent request is rebuilt the same way. Returns 0, -1 out of memory. */
    int (*prepare)(struct ola_output *o, struct ola_ho *h, struct ola_ho_req *rq);
    /* Reads rq's answer; may set o->last_error and refuse records itself.
     * NULL: ola_ho_classify. */
    enum ola_ho_verdict (*answer)(struct ola_output *o, struct ola_ho *h,
                                  struct ola_ho_req *rq);
    /* Optional: sets more libcurl options on the easy handle (a CURL *) that
     * sends rq, after the module's own (CURLOPT_AWS_SIGV4 and credentials).
     * Returns 0 / -1. */
    int (*easy)(struct ola_output *o, struct ola_ho *h, struct ola_ho_req *rq,
                void *curl);
    /* true: the module adds no empty "Expect:" line (which turns libcurl's
     * 100-continue off): libcurl 7.88 signs every header line it is given
     * under SigV4, the empty one too, but does not send it. */
    bool allow_expect;
};

/*
 * Creates the sender of output o (which owns it: o->stats counts its
 * requests) for base_url, with the shared settings c (copied). ops: static.
 * Returns 0 / -1 with err.
 */
int ola_ho_new(struct ola_output *o, const struct ola_ho_conf *c, const char *base_url,
               const struct ola_ho_ops *ops, struct ola_ho **out, struct ola_err *err);
/* Frees everything, aborting transfers in flight; NULL is a no-op. */
void ola_ho_destroy(struct ola_ho *h);

/* A new batch: forgets the records and requests of the last one (all done). */
void ola_ho_begin(struct ola_ho *h);
/* Appends one formatted record (bytes copied). Returns 0 / -1 out of memory. */
int ola_ho_add(struct ola_ho *h, size_t rec, int64_t id, const char *bytes, size_t len);
/* Forgets the records added since the last begin (a write that failed half-way). */
void ola_ho_rollback(struct ola_ho *h);
/*
 * Cuts the records into requests of at most batch_max_events records and
 * batch_max_bytes bytes (a record larger than that goes alone). per_record,
 * per_request: bytes of framing (NDJSON: 1, 0; a JSON array: 1, 2).
 * Returns 0 / -1 out of memory.
 */
int ola_ho_plan(struct ola_ho *h, size_t per_record, size_t per_request);
/* True when a request of the plan is not done. */
bool ola_ho_pending(const struct ola_ho *h);

/*
 * Sends every request not done and waits up to timeout_ms for answers (not
 * sleeping for backoff: before a Retry-After time it answers RETRY at once).
 * OK when all are done (records refused for good were noted with
 * ola_output_refuse), RETRY when some are not (o->last_error says why), FATAL
 * when the server refused for good (o->last_error says why).
 * @locality the agent thread.
 */
enum ola_rc ola_ho_flush(struct ola_ho *h, int timeout_ms);

/*
 * From the answer hook: records [first, first + n) of the plan go again, in a
 * request of their own, on the next flush (as a retry: the pipeline backs off
 * first; this flush answers RETRY). The plan may grow: a struct ola_ho_req
 * pointer the hook holds is stale after the call. Returns 0 / -1 nomem.
 */
int ola_ho_requeue(struct ola_ho *h, size_t first, size_t n);
/*
 * For outputs whose destination confirms a stored request later (Splunk HEC's
 * indexer acknowledgment). ola_ho_reqs: the requests of the plan, halves of
 * refused ones appended (n in *n), so an output can keep its own state per
 * request by index (rq - ola_ho_reqs(h, &n)). ola_ho_redo: request i,
 * answered accepted, was not confirmed after all: it is no longer done, its
 * records no longer count as emitted, and the next flush rebuilds (prepare)
 * and sends it; a request not done, or in flight, is left alone.
 */
const struct ola_ho_req *ola_ho_reqs(const struct ola_ho *h, size_t *n);
void ola_ho_redo(struct ola_ho *h, size_t i);
/*
 * One request outside the plan (a status poll, a token fetch) over the
 * sender's TLS, proxy and user agent, on a connection of its own (kept
 * alive), waiting up to timeout_ms (at most the `timeout` key) for the
 * answer: it blocks. rq: the caller's, zeroed, with url (required), method
 * (NULL: POST), headers and body set as prepare sets them; on return status
 * (0: no answer, fail says why), retry_after and answer are filled. Counted
 * in the request metrics. Returns 0, -1 out of memory. Free rq with
 * ola_ho_req_clear (which wipes the header lines first).
 * @locality the thread that flushes.
 */
int ola_ho_call(struct ola_ho *h, struct ola_ho_req *rq, int timeout_ms);
void ola_ho_req_clear(struct ola_ho_req *rq);

/* The records of the plan (n in *n), for prepare and answer. */
const struct ola_ho_rec *ola_ho_recs(const struct ola_ho *h, size_t *n);
/* The bytes of record r. */
const char *ola_ho_rec_bytes(const struct ola_ho *h, const struct ola_ho_rec *r);
/* Adds a header line "name: value" (NUL-terminated) to lines, e.g. &rq->headers.
 * Returns 0 / -1. */
int ola_ho_header(struct ola_buf *lines, const char *name, const char *value);
/*
 * Appends the records of rq to out, framed: NDJSON (each record and "\n") or
 * a JSON array ("[" records joined by "," "]"). Returns 0 / -1.
 */
int ola_ho_frame(const struct ola_ho *h, const struct ola_ho_req *rq,
                 enum ola_ho_framing framing, struct ola_buf *out);
/* gzip (RFC 1952) of in[0..len) into out (reset first). Returns 0 / -1. */
int ola_ho_gzip(const char *in, size_t len, struct ola_buf *out);

/* The first bytes of rq's answer, made printable, into buf (cap bytes); returns buf. */
const char *ola_ho_answer_head(const struct ola_ho_req *rq, char *buf, size_t cap);
/*
 * The default reading of an answer: 2xx accepted; 408, 425, 429, 5xx and no
 * answer retry; 401, 403, 407 fatal (credentials refused), 404, 405 and 410
 * fatal (the URL is wrong), 3xx fatal (redirects are not followed); any
 * other 4xx refused. Sets o->last_error for all but accepted.
 */
enum ola_ho_verdict ola_ho_classify(struct ola_output *o, const struct ola_ho_req *rq);
/*
 * A Retry-After value (delta-seconds or an HTTP date) as ms from now_ms
 * (epoch ms), capped at OLA_HO_RETRY_AFTER_MAX_MS; -1 when unreadable.
 */
int64_t ola_ho_retry_after_ms(const char *v, int64_t now_ms);

#endif
