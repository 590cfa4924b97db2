/*
 * out_syslog.c - records as syslog messages over UDP, TCP, TLS or a unix socket.
 *
 * write() formats each record (the output's format is the MSG part) into an
 * RFC 5424 or RFC 3164 message with the olagent structured data, applies the
 * size policy (truncate at a UTF-8 boundary, or refuse the record: the
 * pipeline writes it to the dead-letter file, as it does a record the format
 * cannot render) and frames it
 * (RFC 6587 octet counting or LF over streams, one datagram otherwise) into
 * a pending buffer that remembers where each message ends. flush() connects
 * when needed (non-blocking, bounded by the flush timeout), then writes; a
 * message counts as emitted once all its bytes went to a connected socket.
 * On a broken connection the fully written messages are dropped from the
 * buffer, the partly written one is sent again whole after reconnecting on a
 * later flush, and flush answers RETRY: the pipeline owns the backoff.
 * The transport (connect, TLS, liveness, close) is in syslog_net.c, the
 * settings map in syslog_conf.c (shared state: syslog_priv.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "outputs/formats/fmt_util.h"
#include "outputs/syslog_priv.h"

/* ---- message building ------------------------------------------------------ */

/* CEF-style 0..10 severity -> syslog severity (documented in docs/formats.md). */
static int ola_sl_severity(int s)
{
    if (s >= 9)
        return 2; /* crit */
    if (s >= 7)
        return 3; /* err */
    if (s >= 4)
        return 4; /* warning */
    if (s >= 1)
        return 5; /* notice */
    return 6;     /* info */
}

/* Appends an SD-PARAM value with '"', '\' and ']' escaped (RFC 5424 6.3.3). */
static int ola_sl_sd_value(struct ola_buf *out, const char *s, size_t n)
{
    size_t i;

    if (ola_buf_reserve(out, n + 2) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        if ((s[i] == '"' || s[i] == '\\' || s[i] == ']') && ola_buf_putc(out, '\\') != 0)
            return -1;
        if (ola_buf_putc(out, s[i]) != 0)
            return -1;
    }
    return 0;
}

static int ola_sl_sd_param(struct ola_buf *out, const char *name, const char *s, size_t n)
{
    if (s == NULL || n == 0)
        return 0;
    if (ola_buf_putc(out, ' ') != 0 || ola_buf_puts(out, name) != 0 ||
        ola_buf_append(out, "=\"", 2) != 0 || ola_sl_sd_value(out, s, n) != 0)
        return -1;
    return ola_buf_putc(out, '"');
}

/* name="a,b,c" from the strings and numbers of arr; nothing when there are none. */
static int ola_sl_sd_joined(struct ola_buf *out, const char *name, const json_t *arr)
{
    size_t i, n = 0;

    for (i = 0; i < json_array_size(arr); i++) {
        struct ola_fmt_val v;

        if (ola_fmt_text(json_array_get(arr, i), &v) == NULL)
            continue;
        if (n++ == 0 ? (ola_buf_putc(out, ' ') != 0 || ola_buf_puts(out, name) != 0 ||
                        ola_buf_append(out, "=\"", 2) != 0)
                     : ola_buf_putc(out, ',') != 0)
            return -1;
        if (ola_sl_sd_value(out, v.s, v.len) != 0)
            return -1;
    }
    return n > 0 ? ola_buf_putc(out, '"') : 0;
}

/* [olagent@32473 eventId=".." typeId=".." typeName=".." ...] */
static int ola_sl_sd(const struct ola_syslog *s, const struct ola_event *e,
                     struct ola_buf *out)
{
    const json_t *alert = ola_fmt_alert(e);
    const char *tn = ola_fmt_type_name(e);
    long long tid = ola_fmt_type_id(e);
    int sev = ola_fmt_severity(e);
    char num[32];

    if (ola_buf_printf(out, "[%s", s->sd_id) != 0)
        return -1;
    if (e->kind == OLA_REC_EVENT && e->id != 0) {
        snprintf(num, sizeof(num), "%lld", (long long)e->id);
        if (ola_sl_sd_param(out, "eventId", num, strlen(num)) != 0)
            return -1;
    }
    if (alert == NULL && tid >= 0) {
        snprintf(num, sizeof(num), "%lld", tid);
        if (ola_sl_sd_param(out, "typeId", num, strlen(num)) != 0)
            return -1;
    }
    if (tn != NULL && ola_sl_sd_param(out, "typeName", tn, strlen(tn)) != 0)
        return -1;
    if (alert != NULL) {
        const char *rule = json_string_value(json_object_get(alert, "rule"));

        if (rule != NULL && ola_sl_sd_param(out, "alertRule", rule, strlen(rule)) != 0)
            return -1;
    }
    if (ola_sl_sd_joined(out, "categories", ola_fmt_categories(e)) != 0 ||
        ola_sl_sd_joined(out, "tags", ola_fmt_tags(e)) != 0)
        return -1;
    if (sev >= 0) {
        snprintf(num, sizeof(num), "%d", sev);
        if (ola_sl_sd_param(out, "severity", num, strlen(num)) != 0)
            return -1;
    }
    return ola_buf_putc(out, ']');
}

/* Header (+ SD for 5424) of e into out, up to and including the space before MSG. */
static int ola_sl_header(const struct ola_syslog *s, const struct ola_event *e,
                         struct ola_buf *out)
{
    int pri = s->facility * 8 + ola_sl_severity(ola_fmt_severity(e));
    int64_t ms = ola_fmt_record_ms(e);
    char ts[40];

    if (ms == 0)
        ms = ola_now_ms();
    if (s->rfc == 5424) {
        if (ola_fmt_iso(ms, ts, sizeof(ts)) != 0)
            return -1;
        if (ola_buf_printf(out, "<%d>1 %s %s %s %ld %s ", pri, ts, s->hostname,
                           s->app_name, s->pid,
                           e->kind == OLA_REC_ALERT ? "alert" : "event") != 0 ||
            ola_sl_sd(s, e, out) != 0)
            return -1;
        return ola_buf_putc(out, ' ');
    } else {
        static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;

        if (localtime_r(&secs, &tm) == NULL)
            return -1;
        return ola_buf_printf(out, "<%d>%s %2d %02d:%02d:%02d %s %s[%ld]: ", pri,
                              mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, s->hostname, s->app_name, s->pid);
    }
}

static bool ola_sl_stream(const struct ola_syslog *s)
{
    return s->transport == OLA_SL_TCP || s->transport == OLA_SL_TLS;
}

/* Appends one framed message and records where it ends. */
static int ola_sl_frame(struct ola_syslog *s, const char *m, size_t n)
{
    size_t i;

    if (OLA_VEC_GROW_FROM(s->ends, s->cap_ends, s->n_ends + 1, 256) != 0)
        return -1;
    if (ola_sl_stream(s) && s->framing == OLA_SL_OCTET) {
        if (ola_buf_printf(&s->pending, "%zu ", n) != 0 ||
            ola_buf_append(&s->pending, m, n) != 0)
            return -1;
    } else if (ola_sl_stream(s)) {
        size_t start = s->pending.len;

        if (ola_buf_append(&s->pending, m, n) != 0 || ola_buf_putc(&s->pending, '\n'))
            return -1;
        /* LF framing: a line break inside the message would split it */
        for (i = start; i + 1 < s->pending.len; i++)
            if (s->pending.data[i] == '\n')
                s->pending.data[i] = ' ';
    } else if (ola_buf_append(&s->pending, m, n) != 0)
        return -1;
    s->ends[s->n_ends++] = s->pending.len;
    return 0;
}

/*
 * Formats e into s->msg as one complete syslog message. Returns 0, -1 (out of
 * memory) or OLA_FORMAT_UNUSABLE.
 */
static int ola_sl_build(struct ola_output *o, struct ola_syslog *s,
                        const struct ola_event *e)
{
    int rc;

    ola_buf_reset(&s->msg);
    ola_buf_reset(&s->body);
    if (ola_sl_header(s, e, &s->msg) != 0)
        return -1;
    rc = ola_output_format(o, e, &s->body);
    if (rc != 0)
        return rc;
    return ola_buf_append(&s->msg, s->body.data, s->body.len);
}

/* Forgets the messages framed since mark: write() takes a batch whole or not at all. */
static void ola_sl_rollback(struct ola_syslog *s, size_t mark, size_t mark_ends)
{
    ola_buf_truncate(&s->pending, mark);
    s->n_ends = mark_ends;
}

static enum ola_rc ola_syslog_write(struct ola_output *o, const struct ola_batch *b)
{
    struct ola_syslog *s = o->ctx;
    size_t mark = s->pending.len, mark_ends = s->n_ends, i;
    uint64_t truncated = 0;
    const char *tenant;

    /* app_name with {tenant}: this batch's (a batch is one tenant's); fits by config */
    if (s->app_tmpl[0] != '\0') {
        tenant = ola_output_tenant(o, b);
        if (tenant == NULL)
            return OLA_FATAL;
        if (ola_output_tenant_expand(s->app_tmpl, tenant, s->app_name,
                                     sizeof(s->app_name)) < 0) {
            snprintf(o->last_error, sizeof(o->last_error),
                     "app_name: too long for tenant %s", tenant);
            return OLA_FATAL;
        }
    }
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];
        size_t len;
        int rc;

        if (!ola_output_takes(o, e))
            continue;
        rc = ola_sl_build(o, s, e);
        if (rc == OLA_FORMAT_UNUSABLE) {
            if (ola_output_refuse_unusable(o, i) != 0)
                goto nomem;
            continue;
        }
        if (rc != 0)
            goto nomem;
        len = s->msg.len;
        if (len > s->max_size && s->oversize == OLA_SL_DEAD_LETTER) {
            /* the whole message, as it would have gone out */
            if (ola_output_refuse(o, i, s->msg.data, len,
                                  "oversize: %zu bytes > max_size %zu", len,
                                  s->max_size) != 0)
                goto nomem;
            continue;
        }
        if (len > s->max_size) {
            len = ola_utf8_cut(s->msg.data, len, s->max_size);
            truncated++;
        }
        if (ola_sl_frame(s, s->msg.data, len) != 0)
            goto nomem;
    }
    o->stats.truncated += truncated;
    return OLA_OK;
nomem:
    snprintf(o->last_error, sizeof(o->last_error), "out of memory");
    ola_sl_rollback(s, mark, mark_ends);
    o->stats.errors++;
    return OLA_RETRY;
}

/* Drops the wholly written messages from the buffer and counts them. */
static void ola_sl_commit(struct ola_output *o, struct ola_syslog *s)
{
    size_t bytes, i;

    if (s->sent_msgs == 0)
        return;
    bytes = s->ends[s->sent_msgs - 1];
    ola_buf_consume(&s->pending, bytes);
    for (i = s->sent_msgs; i < s->n_ends; i++)
        s->ends[i - s->sent_msgs] = s->ends[i] - bytes;
    s->n_ends -= s->sent_msgs;
    o->stats.emitted += s->sent_msgs;
    s->off -= bytes;
    s->sent_msgs = 0;
}

static enum ola_rc ola_sl_broken(struct ola_output *o, struct ola_syslog *s,
                                 const char *what, int e)
{
    snprintf(o->last_error, sizeof(o->last_error), "%s: %s", what, strerror(e));
    ola_sl_disconnect(s);
    ola_sl_commit(o, s);
    s->off = 0; /* the partly written message goes again, whole */
    o->stats.errors++;
    return OLA_RETRY;
}

static enum ola_rc ola_sl_timeout(struct ola_output *o, struct ola_syslog *s)
{
    snprintf(o->last_error, sizeof(o->last_error), "write timed out: peer not reading");
    ola_sl_commit(o, s);
    o->stats.errors++;
    return OLA_RETRY;
}

static enum ola_rc ola_sl_flush_stream(struct ola_output *o, struct ola_syslog *s,
                                       int64_t deadline)
{
    while (s->off < s->pending.len) {
        const char *p = s->pending.data + s->off;
        size_t n = s->pending.len - s->off;
        short wait = POLLOUT;
        ssize_t w;

        if (s->ssl != NULL) {
            int r = SSL_write(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n), e;

            w = r;
            if (r <= 0) {
                e = SSL_get_error(s->ssl, r);
                if (e == SSL_ERROR_WANT_READ)
                    wait = POLLIN;
                else if (e != SSL_ERROR_WANT_WRITE) {
                    char ebuf[200];

                    ola_sl_ssl_error(ebuf, sizeof(ebuf));
                    snprintf(o->last_error, sizeof(o->last_error), "TLS write: %s", ebuf);
                    ola_sl_disconnect(s);
                    ola_sl_commit(o, s);
                    s->off = 0;
                    o->stats.errors++;
                    return OLA_RETRY;
                }
            }
        } else {
            w = send(s->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return ola_sl_broken(o, s, "send", errno);
        }
        if (w > 0) {
            s->off += (size_t)w;
            while (s->sent_msgs < s->n_ends && s->ends[s->sent_msgs] <= s->off)
                s->sent_msgs++;
            continue;
        }
        if (ola_sl_poll(s->fd, wait, deadline) != 0)
            return errno == ETIMEDOUT ? ola_sl_timeout(o, s)
                                      : ola_sl_broken(o, s, "poll", errno);
    }
    return OLA_OK;
}

static enum ola_rc ola_sl_flush_dgram(struct ola_output *o, struct ola_syslog *s,
                                      int64_t deadline)
{
    bool refused_once = false;

    while (s->sent_msgs < s->n_ends) {
        size_t start = s->sent_msgs ? s->ends[s->sent_msgs - 1] : 0;
        ssize_t w = send(s->fd, s->pending.data + start, s->ends[s->sent_msgs] - start,
                         MSG_NOSIGNAL);

        if (w >= 0) {
            s->sent_msgs++;
            s->off = s->ends[s->sent_msgs - 1];
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECONNREFUSED && s->transport == OLA_SL_UDP && !refused_once) {
            /* an ICMP error left by an earlier datagram: this one was not sent */
            refused_once = true;
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            if (ola_sl_poll(s->fd, POLLOUT, deadline) != 0)
                return errno == ETIMEDOUT ? ola_sl_timeout(o, s)
                                          : ola_sl_broken(o, s, "poll", errno);
            continue;
        }
        return ola_sl_broken(o, s, "send", errno);
    }
    return OLA_OK;
}

static enum ola_rc ola_syslog_flush(struct ola_output *o, int timeout_ms)
{
    struct ola_syslog *s = o->ctx;
    int64_t deadline = ola_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    enum ola_rc rc;
    struct ola_err err;

    if (s->n_ends == 0)
        return OLA_OK;
    if (s->fd >= 0 && !s->dgram && !ola_sl_alive(s)) {
        ola_plg_log(OLA_LOG_WARN, o, "connection closed by the peer; reconnecting");
        ola_sl_disconnect(s);
        s->off = 0;
    }
    if (s->fd < 0) {
        int64_t t = s->connect_timeout_ms;

        if (timeout_ms >= 0 && t > timeout_ms)
            t = timeout_ms;
        if (ola_sl_connect(s, t, &err) != 0) {
            snprintf(o->last_error, sizeof(o->last_error), "%s", err.msg);
            o->stats.errors++;
            return OLA_RETRY;
        }
        if (s->transport == OLA_SL_TLS && !s->verify)
            ola_plg_log(OLA_LOG_WARN, o,
                        "connected without checking the server's certificate "
                        "(tls.verify: false): anyone on the path can read and alter "
                        "the messages");
        else
            ola_plg_log(OLA_LOG_INFO, o, "connected");
    }
    rc = s->dgram ? ola_sl_flush_dgram(o, s, deadline)
                  : ola_sl_flush_stream(o, s, deadline);
    if (rc != OLA_OK)
        return rc;
    ola_sl_commit(o, s);
    ola_buf_reset(&s->pending);
    s->n_ends = 0;
    s->off = 0;
    o->last_error[0] = '\0';
    return OLA_OK;
}

static int ola_syslog_check(struct ola_output *o, struct ola_err *err)
{
    struct ola_syslog *s = o->ctx;

    if (s->fd >= 0)
        return 0;
    return ola_sl_connect(s, s->connect_timeout_ms, err);
}

/* A quiet poll: the framing buffers go, unless messages still wait in them. */
static void ola_syslog_trim(struct ola_output *o)
{
    struct ola_syslog *s = o->ctx;

    if (s->pending.len > 0)
        return;
    ola_buf_free(&s->pending);
    ola_buf_free(&s->msg);
    ola_buf_free(&s->body);
}

static void ola_syslog_close(struct ola_output *o)
{
    struct ola_syslog *s = o->ctx;

    if (s == NULL)
        return;
    ola_sl_close_stream(s);
    SSL_CTX_free(s->ssl_ctx);
    BIO_meth_free(s->bio_meth);
    ola_buf_free(&s->pending);
    ola_buf_free(&s->msg);
    ola_buf_free(&s->body);
    free(s->ends);
    free(s);
    o->ctx = NULL;
}

const struct ola_output_ops ola_out_syslog = {
    .name = "syslog",
    .abi = OLA_OUTPUT_ABI,
    .opts = ola_syslog_options,
    .settings_size = sizeof(struct ola_syslog_conf),
    .init = ola_syslog_init,
    .write = ola_syslog_write,
    .flush = ola_syslog_flush,
    .check = ola_syslog_check,
    .close = ola_syslog_close,
    .trim = ola_syslog_trim,
};
