/*
 * out_splunk.c - Splunk's HTTP Event Collector (HEC), with indexer
 * acknowledgment.
 *
 * write() formats each record with the output's format and wraps it in a HEC
 * event envelope ({"time": created_at in epoch seconds with ms, "host",
 * "source": "olagent", "sourcetype", "index"?, "event": the record as JSON,
 * or as a JSON string for a CEF or LEEF line}); the shared sender
 * (http_out.c) cuts the envelopes into requests to
 * /services/collector/event, each with "Authorization: Splunk <token>".
 * The answer's JSON "code" says what HEC did (the table below): a refused
 * token is fatal, a busy server a retry, an event HEC cannot read a refusal
 * narrowed down to the one record (dead letter), as http_out does.
 *
 * With `ack: true` every request carries the output's channel
 * (X-Splunk-Request-Channel, a random UUID per agent run) and HEC answers
 * with an ackId; a 200 then means "received", not "stored". flush() polls
 * /services/collector/ack {"acks": [...]} for the ackIds of the batch until
 * each reads true (HEC forgets an ackId once it reported it true, so a true
 * is noted at once); it answers OK only when every request of the batch was
 * acknowledged. A request whose ackId is not true within ack_timeout is sent
 * again (ola_ho_redo: the RETRY path), so events HEC lost before indexing
 * are re-sent, never lost. The token is copied once into its header line,
 * never logged, and wiped on close.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "agent/core/rng.h"
#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "agent/core/wait.h"
#include "outputs/http_out.h"

#define OLA_HEC_EVENT_PATH "/services/collector/event"
#define OLA_HEC_ACK_PATH   "/services/collector/ack"
/* Ack polls: the first this long after the batch is written, then twice as
 * long each time, up to the cap. */
#define OLA_HEC_POLL_FIRST_MS 100
#define OLA_HEC_POLL_MAX_MS   2000

/* The keys as read by ola_splunk_options (strings borrowed from the document). */
struct ola_splunk_conf {
    const char *url, *token, *index, *sourcetype;
    bool ack;
    int64_t ack_timeout_ms;
    struct ola_ho_conf http;
};

enum ola_hec_state { OLA_HEC_UNSENT = 0, OLA_HEC_WAIT, OLA_HEC_ACKED };

/* The acknowledgment of one request of the plan (by its index). */
struct ola_hec_ack {
    enum ola_hec_state state;
    int64_t id;       /* the ackId HEC gave it */
    int64_t since_ms; /* ola_mono_ms() when HEC answered with it */
};

struct ola_splunk {
    struct ola_ho *ho;
    bool ack;
    int64_t ack_timeout_ms;
    int compression;
    char *auth;          /* "Authorization: Splunk <token>" header line; wiped on close */
    char channel[40];    /* the request channel, a UUID */
    char *ack_url;       /* base + OLA_HEC_ACK_PATH */
    struct ola_buf meta; /* ,"host":..,"source":"olagent","sourcetype":..[,"index":..] */
    struct ola_buf scratch; /* one record, formatted */
    struct ola_buf env;     /* one record's envelope */
    struct ola_buf plain;   /* a body before compression; an ack poll's body */
    struct ola_hec_ack *acks;
    size_t n_acks, cap_acks;
    int64_t next_poll_ms;
    int64_t poll_every_ms;
};

/* ---- the keys ------------------------------------------------------------------ */

/* url: the HEC base (scheme, host, port, and a path prefix behind a gateway). */
static int ola_hec_url_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                            void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_splunk_conf *c = obj;
    const struct ola_cfg *n = ola_cfg_get(map, opt->name);
    const char *path;

    (void)ctx;
    if (ola_ho_url_check(n, c->url, err) != 0)
        return -1;
    if (strpbrk(c->url, "?#") != NULL)
        return ola_cfg_errf(err, n, "url: no query or fragment (olagent adds the path)");
    path = strstr(c->url, "/services/collector");
    if (path != NULL)
        return ola_cfg_errf(err, n,
                            "url: the HEC base URL, without /services/collector "
                            "(https://splunk.example.com:8088): olagent adds the path");
    return 0;
}

/* index: Splunk's index names, lower case letters, digits, _ and -, not first. */
static int ola_hec_index_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                              void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_splunk_conf *c = obj;
    const char *p = c->index;

    (void)ctx;
    if (p == NULL)
        return 0;
    if (*p == '\0' || *p == '_' || *p == '-' || strlen(p) > 80 ||
        strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(p))
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "index: a Splunk index name (lower case letters, digits, _ "
                            "and -, not first; at most 80)");
    return 0;
}

static int ola_hec_sourcetype_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                   void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_splunk_conf *c = obj;
    const char *p;

    (void)ctx;
    for (p = c->sourcetype; p != NULL && *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            break;
    if (c->sourcetype == NULL || *c->sourcetype == '\0' || *p != '\0' ||
        strlen(c->sourcetype) > 200)
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "sourcetype: 1 to 200 characters, no control characters");
    return 0;
}

#define OLA_HEC_OFF(f) offsetof(struct ola_splunk_conf, f)

static const struct ola_opt ola_splunk_options[] = {
    {.name = "url",
     .type = OLA_OPT_STR,
     .offset = OLA_HEC_OFF(url),
     .flags = OLA_OPT_REQUIRED,
     .hook = ola_hec_url_hook,
     .help = "HEC base URL; https, except on loopback"},
    {.name = "token",
     .type = OLA_OPT_SECRET,
     .offset = OLA_HEC_OFF(token),
     .flags = OLA_OPT_REQUIRED | OLA_OPT_NONEMPTY,
     .help = "the HEC token, or token_file (\"Authorization: Splunk <token>\")"},
    {.name = "index",
     .type = OLA_OPT_STR,
     .offset = OLA_HEC_OFF(index),
     .hook = ola_hec_index_hook,
     .help = "the index; default: the token's default index"},
    {.name = "sourcetype",
     .type = OLA_OPT_STR,
     .offset = OLA_HEC_OFF(sourcetype),
     .def_str = "onelogin:events",
     .hook = ola_hec_sourcetype_hook,
     .help = "the events' sourcetype"},
    {.name = "ack",
     .type = OLA_OPT_BOOL,
     .offset = OLA_HEC_OFF(ack),
     .def_int = 1,
     .help = "indexer acknowledgment: a batch counts once HEC says it is indexed"},
    {.name = "ack_timeout",
     .type = OLA_OPT_DURATION,
     .offset = OLA_HEC_OFF(ack_timeout_ms),
     .def_int = 60000,
     .min = 1000,
     .max = 3600000,
     .help = "a request whose ackId is not true by then is sent again"},
    OLA_HO_OPT_COMPRESSION(struct ola_splunk_conf, http),
    OLA_HO_OPTIONS(struct ola_splunk_conf, http),
    {.name = NULL},
};

/* ---- HEC's answers ---------------------------------------------------------------- */

/*
 * HEC's status codes (the JSON "code" of its answers), from Splunk's "Troubleshoot
 * HTTP Event Collector" (Getting Data In manual, table of possible error codes,
 * https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector):
 *   0 Success (200)            1 Token disabled (403)      2 Token is required (401)
 *   3 Invalid authorization (401)   4 Invalid token (403)  5 No data (400)
 *   6 Invalid data format (400)     7 Incorrect index (400)
 *   8 Internal server error (500)   9 Server is busy (503)
 *   10 Data channel is missing (400)   11 Invalid data channel (400)
 *   12 Event field is required (400)   13 Event field cannot be blank (400)
 *   14 ACK is disabled (400)   15 Error in handling indexed fields (400)
 *   16 Query string authorization is not enabled (400)   17 HEC is healthy (200)
 *   18, 19, 20 HEC is unhealthy: queues are full, the ack service is
 *   unavailable, or both (503)
 * What each means here: the token, the index and the channel are the
 * configuration's (the same for every event, so fatal); a server busy or
 * unhealthy is a retry; an event HEC cannot read is that record's refusal.
 */
static enum ola_ho_verdict ola_hec_code_verdict(long code, const char **why)
{
    switch (code) {
    case 1:
    case 2:
    case 3:
    case 4:
        *why = "the token is refused";
        return OLA_HO_FATAL;
    case 7:
        *why = "the index is not allowed for this token";
        return OLA_HO_FATAL;
    case 10:
        *why = "HEC wants a request channel: indexer acknowledgment is on for this "
               "token (set ack: true)";
        return OLA_HO_FATAL;
    case 11:
    case 16:
        *why = "the server refuses olagent's request channel or authorization";
        return OLA_HO_FATAL;
    case 14:
        *why = "ack: true, but indexer acknowledgment is off for this token (turn it "
               "on, or set ack: false)";
        return OLA_HO_FATAL;
    case 8:
    case 9:
    case 18:
    case 19:
    case 20:
        *why = "the server is busy";
        return OLA_HO_RETRY;
    case 5:
    case 6:
    case 12:
    case 13:
    case 15:
        *why = "HEC cannot read an event";
        return OLA_HO_REFUSED;
    default:
        *why = NULL;
        return OLA_HO_ACCEPTED; /* not a code of the table: the HTTP status decides */
    }
}

/* The answer's "code" (-1 when none), "text" (into text) and "ackId" (-1). */
static long ola_hec_read(const struct ola_ho_req *rq, char *text, size_t cap,
                         int64_t *ack_id)
{
    json_t *j =
        json_loadb(rq->answer.data ? rq->answer.data : "", rq->answer.len, 0, NULL);
    json_t *code = json_object_get(j, "code"), *id = json_object_get(j, "ackId");
    const char *t = json_string_value(json_object_get(j, "text"));
    long c = json_is_integer(code) ? (long)json_integer_value(code) : -1;
    size_t i;

    *ack_id =
        json_is_integer(id) && json_integer_value(id) >= 0 ? json_integer_value(id) : -1;
    snprintf(text, cap, "%s", t != NULL ? t : "");
    for (i = 0; text[i] != '\0'; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            text[i] = ' ';
    json_decref(j);
    return c;
}

/* The ack slot of request i, made (zeroed) on first use; NULL out of memory. */
static struct ola_hec_ack *ola_hec_slot(struct ola_splunk *s, size_t i)
{
    if (i >= s->n_acks) {
        if (OLA_VEC_GROW(s->acks, s->cap_acks, i + 1) != 0)
            return NULL;
        memset(&s->acks[s->n_acks], 0, (i + 1 - s->n_acks) * sizeof(*s->acks));
        s->n_acks = i + 1;
    }
    return &s->acks[i];
}

static enum ola_ho_verdict ola_hec_answer(struct ola_output *o, struct ola_ho *ho,
                                          struct ola_ho_req *rq)
{
    struct ola_splunk *s = o->ctx;
    size_t n;
    const struct ola_ho_req *reqs = ola_ho_reqs(ho, &n);
    struct ola_hec_ack *a;
    char text[120];
    const char *why = NULL;
    int64_t ack_id;
    long code = ola_hec_read(rq, text, sizeof(text), &ack_id);
    enum ola_ho_verdict v = ola_hec_code_verdict(code, &why);

    if (rq->status >= 200 && rq->status < 300 && why == NULL) {
        if (!s->ack)
            return OLA_HO_ACCEPTED;
        if (ack_id < 0) {
            snprintf(o->last_error, sizeof(o->last_error),
                     "ack: true, but HEC answered without an ackId: indexer "
                     "acknowledgment is off for this token (turn it on, or set ack: "
                     "false)");
            return OLA_HO_FATAL;
        }
        a = ola_hec_slot(s, (size_t)(rq - reqs));
        if (a == NULL) {
            snprintf(o->last_error, sizeof(o->last_error), "out of memory");
            return OLA_HO_RETRY;
        }
        a->state = OLA_HEC_WAIT;
        a->id = ack_id;
        a->since_ms = ola_mono_ms();
        return OLA_HO_ACCEPTED;
    }
    if (why == NULL) /* no HEC code we know: the HTTP status decides */
        return ola_ho_classify(o, rq);
    snprintf(o->last_error, sizeof(o->last_error), "HTTP %ld, HEC code %ld (%s): %s",
             rq->status, code, text, why);
    return v;
}

/* ---- requests -------------------------------------------------------------------- */

/* The header lines every request carries: Authorization, and the channel. */
static int ola_hec_headers(const struct ola_splunk *s, struct ola_buf *lines)
{
    if (ola_buf_append(lines, s->auth, strlen(s->auth) + 1) != 0)
        return -1;
    return s->ack ? ola_ho_header(lines, "X-Splunk-Request-Channel", s->channel) : 0;
}

static int ola_hec_prepare(struct ola_output *o, struct ola_ho *ho, struct ola_ho_req *rq)
{
    struct ola_splunk *s = o->ctx;
    size_t n;
    struct ola_hec_ack *a = ola_hec_slot(s, (size_t)(rq - ola_ho_reqs(ho, &n)));

    if (a == NULL)
        return -1;
    a->state = OLA_HEC_UNSENT; /* a new send: its ackId comes with the answer */
    ola_buf_reset(&s->plain);
    if (ola_ho_frame(ho, rq, OLA_HO_NDJSON, &s->plain) != 0)
        return -1;
    if (s->compression == OLA_HO_GZIP) {
        if (ola_ho_gzip(s->plain.data, s->plain.len, &rq->body) != 0 ||
            ola_ho_header(&rq->headers, "Content-Encoding", "gzip") != 0)
            return -1;
    } else if (ola_buf_append(&rq->body, s->plain.data, s->plain.len) != 0) {
        return -1;
    }
    if (ola_ho_header(&rq->headers, "Content-Type", "application/json") != 0)
        return -1;
    return ola_hec_headers(s, &rq->headers);
}

static const struct ola_ho_ops ola_hec_ops = {.prepare = ola_hec_prepare,
                                              .answer = ola_hec_answer};

/*
 * One poll of /services/collector/ack for the ackIds waiting: a true one is
 * acknowledged. Returns OLA_OK (answered), OLA_RETRY (no usable answer:
 * o->last_error says why) or OLA_FATAL (the token or the ack service refused).
 */
static enum ola_rc ola_hec_poll(struct ola_output *o, struct ola_splunk *s,
                                int timeout_ms)
{
    struct ola_ho_req rq;
    json_t *j = NULL, *acks;
    enum ola_rc rc = OLA_RETRY;
    size_t i, n = 0;

    memset(&rq, 0, sizeof(rq));
    ola_buf_reset(&s->plain);
    if (ola_buf_puts(&s->plain, "{\"acks\":[") != 0)
        goto nomem;
    for (i = 0; i < s->n_acks; i++)
        if (s->acks[i].state == OLA_HEC_WAIT &&
            ola_buf_printf(&s->plain, "%s%lld", n++ > 0 ? "," : "",
                           (long long)s->acks[i].id) != 0)
            goto nomem;
    if (ola_buf_puts(&s->plain, "]}") != 0 || (rq.url = strdup(s->ack_url)) == NULL ||
        ola_buf_append(&rq.body, s->plain.data, s->plain.len) != 0 ||
        ola_ho_header(&rq.headers, "Content-Type", "application/json") != 0 ||
        ola_hec_headers(s, &rq.headers) != 0 || ola_ho_call(s->ho, &rq, timeout_ms) != 0)
        goto nomem;
    if (rq.status >= 200 && rq.status < 300) {
        j = json_loadb(rq.answer.data ? rq.answer.data : "", rq.answer.len, 0, NULL);
        acks = json_object_get(j, "acks");
        if (!json_is_object(acks)) {
            snprintf(o->last_error, sizeof(o->last_error),
                     "ack poll: HTTP %ld without an \"acks\" object", rq.status);
            goto done;
        }
        for (i = 0; i < s->n_acks; i++) {
            char key[32];

            snprintf(key, sizeof(key), "%lld", (long long)s->acks[i].id);
            if (s->acks[i].state == OLA_HEC_WAIT &&
                json_is_true(json_object_get(acks, key)))
                s->acks[i].state = OLA_HEC_ACKED;
        }
        rc = OLA_OK;
    } else {
        const char *why = NULL;
        char text[120];
        int64_t unused;
        long code = ola_hec_read(&rq, text, sizeof(text), &unused);
        enum ola_ho_verdict v = ola_hec_code_verdict(code, &why);

        if (why == NULL)
            v = ola_ho_classify(o, &rq);
        else
            snprintf(o->last_error, sizeof(o->last_error),
                     "ack poll: HTTP %ld, HEC code %ld (%s): %s", rq.status, code, text,
                     why);
        rc = v == OLA_HO_FATAL ? OLA_FATAL : OLA_RETRY;
    }
    goto done;
nomem:
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
done:
    json_decref(j);
    ola_ho_req_clear(&rq);
    return rc;
}

/* Requests whose ackId is older than ack_timeout go out again. Returns how many. */
static size_t ola_hec_expire(struct ola_output *o, struct ola_splunk *s)
{
    size_t i, n, redone = 0, recs = 0;
    const struct ola_ho_req *reqs = ola_ho_reqs(s->ho, &n);
    int64_t now = ola_mono_ms();

    for (i = 0; i < s->n_acks && i < n; i++) {
        if (s->acks[i].state != OLA_HEC_WAIT ||
            now - s->acks[i].since_ms < s->ack_timeout_ms)
            continue;
        ola_ho_redo(s->ho, i);
        s->acks[i].state = OLA_HEC_UNSENT;
        redone++;
        recs += reqs[i].n;
    }
    if (redone > 0)
        ola_plg_log(OLA_LOG_WARN, o,
                    "%zu requests (%zu records) not acknowledged within ack_timeout "
                    "(%lld ms): sending them again",
                    redone, recs, (long long)s->ack_timeout_ms);
    return redone;
}

/* ---- the output -------------------------------------------------------------------- */

/* Appends e's envelope to out: time, the constant metadata, and the record. */
static int ola_hec_envelope(const struct ola_splunk *s, const struct ola_event *e,
                            const struct ola_buf *rec, struct ola_buf *out)
{
    int64_t ms = e->created_ms;
    bool object = rec->len >= 2 && rec->data[0] == '{' && rec->data[rec->len - 1] == '}';

    /* epoch seconds with ms; a time before 1970 is not an audit event's */
    if (ms < 0)
        ms = 0;
    if (ola_buf_printf(out, "{\"time\":%lld.%03lld", (long long)(ms / 1000),
                       (long long)(ms % 1000)) != 0 ||
        ola_buf_append(out, s->meta.data, s->meta.len) != 0 ||
        ola_buf_puts(out, ",\"event\":") != 0)
        return -1;
    /* JSON formats (json, ocsf) nest as objects; a CEF or LEEF line as a string */
    if (object ? ola_buf_append(out, rec->data, rec->len) != 0
               : ola_buf_put_json_string(out, rec->data, rec->len) != 0)
        return -1;
    return ola_buf_putc(out, '}');
}

static enum ola_rc ola_splunk_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_splunk *s = o->ctx;
    size_t i;

    ola_ho_begin(s->ho);
    s->n_acks = 0;
    s->poll_every_ms = OLA_HEC_POLL_FIRST_MS;
    s->next_poll_ms = 0;
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        int rc;

        if (!ola_output_takes(o, e))
            continue;
        ola_buf_reset(&s->scratch);
        rc = ola_output_format(o, e, &s->scratch);
        if (rc == OLA_FORMAT_UNUSABLE) {
            if (ola_output_refuse_unusable(o, i) != 0)
                goto nomem;
            continue;
        }
        ola_buf_reset(&s->env);
        if (rc != 0 || ola_hec_envelope(s, e, &s->scratch, &s->env) != 0 ||
            ola_ho_add(s->ho, i, e->kind == OLA_REC_EVENT ? e->id : 0, s->env.data,
                       s->env.len) != 0)
            goto nomem;
    }
    if (ola_ho_plan(s->ho, 1, 0) != 0)
        goto nomem;
    return OLA_OK;
nomem:
    ola_ho_rollback(s->ho);
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    o->stats.errors++;
    return OLA_RETRY;
}

/* The ackIds waiting, and the age of the oldest in *oldest_ms. */
static size_t ola_hec_waiting(const struct ola_splunk *s, int64_t *oldest_ms)
{
    size_t i, n = 0;
    int64_t now = ola_mono_ms();

    *oldest_ms = 0;
    for (i = 0; i < s->n_acks; i++)
        if (s->acks[i].state == OLA_HEC_WAIT) {
            n++;
            if (now - s->acks[i].since_ms > *oldest_ms)
                *oldest_ms = now - s->acks[i].since_ms;
        }
    return n;
}

static enum ola_rc ola_splunk_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_splunk *s = o->ctx;
    int64_t deadline = ola_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0), oldest, now;
    enum ola_rc rc = ola_ho_flush(s->ho, timeout_ms);
    bool counted = rc != OLA_OK; /* the sender counted its own error */
    size_t waiting, redone = 0;

    if (rc == OLA_FATAL || !s->ack)
        return rc;
    /* the acknowledgments: poll while some wait, until the flush's time is up */
    while ((waiting = ola_hec_waiting(s, &oldest)) > 0) {
        now = ola_mono_ms();
        if (now >= s->next_poll_ms) {
            /* an answer within the flush's time, yet never less than a second */
            int left = (int)(deadline - now > 1000 ? deadline - now : 1000);
            enum ola_rc prc = ola_hec_poll(o, s, left);

            if (prc == OLA_FATAL) {
                o->stats.errors++;
                return OLA_FATAL;
            }
            if (prc != OLA_OK && rc == OLA_OK)
                rc = OLA_RETRY; /* o->last_error says why */
            now = ola_mono_ms();
            s->next_poll_ms = now + s->poll_every_ms;
            if (s->poll_every_ms < OLA_HEC_POLL_MAX_MS)
                s->poll_every_ms *= 2;
            redone += ola_hec_expire(o, s);
            continue;
        }
        if (now >= deadline ||
            ola_wait(s->next_poll_ms < deadline ? s->next_poll_ms - now : deadline - now))
            break; /* time is up, or a signal: the pipeline decides */
    }
    if (rc == OLA_OK && redone > 0) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "%zu requests not acknowledged within ack_timeout: sending them again",
                 redone);
        rc = OLA_RETRY;
    } else if (rc == OLA_OK && waiting > 0) {
        snprintf(o->last_error, sizeof(o->last_error),
                 "waiting for %zu indexer acknowledgments (the oldest for %lld ms)",
                 waiting, (long long)oldest);
        rc = OLA_RETRY;
    }
    if (rc != OLA_OK && !counted)
        o->stats.errors++;
    return rc;
}

static void ola_splunk_trim(struct ola_output *o)
{
    struct ola_splunk *s = o->ctx;

    if (ola_ho_pending(s->ho))
        return;
    ola_buf_free(&s->scratch);
    ola_buf_free(&s->env);
    ola_buf_free(&s->plain);
}

static void ola_splunk_close(struct ola_output *o)
{
    struct ola_splunk *s = o->ctx;

    if (s == NULL)
        return;
    ola_ho_destroy(s->ho);
    if (s->auth != NULL)
        explicit_bzero(s->auth, strlen(s->auth));
    free(s->auth);
    free(s->ack_url);
    ola_buf_free(&s->meta);
    ola_buf_free(&s->scratch);
    ola_buf_free(&s->env);
    ola_buf_free(&s->plain);
    free(s->acks);
    free(s);
    o->ctx = NULL;
}

/* A version 4 UUID from the kernel's random source (the clock-seeded generator
 * when there is none): one request channel per agent run. */
static void ola_hec_channel(char *out, size_t cap)
{
    unsigned char u[16];
    size_t i, k = 0;

    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
        struct ola_rng r;

        ola_rng_seed(&r, 0);
        for (i = 0; i < sizeof(u); i++)
            u[i] = (unsigned char)ola_rng_next(&r);
    }
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    for (i = 0; i < sizeof(u) && k + 3 < cap; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        snprintf(out + k, cap - k, "%02x", u[i]);
        k += 2;
    }
    out[k] = '\0';
}

static int ola_splunk_init(struct ola_output *o, const struct ola_cfg *node,
                           struct ola_err *err)
{
    const struct ola_splunk_conf *c = o->settings;
    struct ola_splunk *s = calloc(1, sizeof(*s));
    struct ola_buf url = {0};
    char host[256];
    int rc = -1;
    size_t len;

    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    o->ctx = s;
    s->ack = c->ack;
    s->ack_timeout_ms = c->ack_timeout_ms;
    s->compression = c->http.compression;
    /* the value is never shown: it comes from ${VAR} or token_file */
    if (strpbrk(c->token, "\r\n") != NULL) {
        ola_cfg_errf(err, ola_cfg_get(node, "token"), "token: no line breaks");
        goto fail;
    }
    len = strlen("Authorization: Splunk ") + strlen(c->token) + 1;
    if ((s->auth = malloc(len)) == NULL)
        goto nomem;
    snprintf(s->auth, len, "Authorization: Splunk %s", c->token);
    ola_hec_channel(s->channel, sizeof(s->channel));
    if (gethostname(host, sizeof(host)) != 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
    if ((host[0] != '\0' &&
         (ola_buf_puts(&s->meta, ",\"host\":") != 0 ||
          ola_buf_put_json_string(&s->meta, host, strlen(host)) != 0)) ||
        ola_buf_puts(&s->meta, ",\"source\":\"olagent\",\"sourcetype\":") != 0 ||
        ola_buf_put_json_string(&s->meta, c->sourcetype, strlen(c->sourcetype)) != 0 ||
        (c->index != NULL &&
         (ola_buf_puts(&s->meta, ",\"index\":") != 0 ||
          ola_buf_put_json_string(&s->meta, c->index, strlen(c->index)) != 0)))
        goto nomem;
    /* the base without its trailing slashes, then each endpoint's path */
    len = strlen(c->url);
    while (len > 0 && c->url[len - 1] == '/')
        len--;
    if (ola_buf_append(&url, c->url, len) != 0 ||
        ola_buf_puts(&url, OLA_HEC_ACK_PATH) != 0 ||
        (s->ack_url = strdup(url.data)) == NULL)
        goto nomem;
    ola_buf_truncate(&url, len);
    if (ola_buf_puts(&url, OLA_HEC_EVENT_PATH) != 0)
        goto nomem;
    rc = ola_ho_new(o, &c->http, url.data, &ola_hec_ops, &s->ho, err);
    goto fail;
nomem:
    ola_err_set(err, ENOMEM, "out of memory");
fail:
    ola_buf_free(&url);
    return rc;
}

const struct ola_output_ops ola_out_splunk = {
    .name = "splunk_hec",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_splunk_options,
    .settings_size = sizeof(struct ola_splunk_conf),
    .init = ola_splunk_init,
    .write = ola_splunk_write,
    .flush = ola_splunk_flush,
    .close = ola_splunk_close,
    .trim = ola_splunk_trim,
};
