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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "agent/core/timeutil.h"
#include "outputs/formats/fmt_util.h"
#include "outputs/output.h"

enum ola_sl_transport { OLA_SL_UDP, OLA_SL_TCP, OLA_SL_TLS, OLA_SL_UNIX };
enum ola_sl_framing { OLA_SL_OCTET, OLA_SL_LF };
enum ola_sl_oversize { OLA_SL_TRUNCATE, OLA_SL_DEAD_LETTER };

#define OLA_SL_DEFAULT_SD_ID "olagent@32473"

struct ola_syslog {
    int transport, framing, oversize, rfc, facility;
    const char *host, *port, *sock_path;
    char app_name[49], hostname[256], sd_id[33];
    size_t max_size;
    int64_t connect_timeout_ms;
    const char *ca_file, *cert_file, *key_file, *server_name;
    bool verify;
    bool cert_requested; /* the server asked for a client certificate */
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    BIO_METHOD *bio_meth;
    int fd;
    bool dgram; /* the connected socket is a datagram socket */
    long pid;
    struct ola_buf pending; /* framed messages */
    size_t *ends;           /* end offset of each message in pending */
    size_t n_ends, cap_ends;
    size_t off;          /* bytes of pending written */
    size_t sent_msgs;    /* messages wholly written */
    struct ola_buf msg;  /* scratch: one message */
    struct ola_buf body; /* scratch: one formatted record */
};

static const char *const ola_syslog_keys[] = {
    "transport",       "host",     "port",     "socket",   "framing",  "rfc",
    "facility",        "app_name", "hostname", "max_size", "oversize", "tls",
    "connect_timeout", "sd_id",    NULL,
};

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

    if (s->n_ends == s->cap_ends) {
        size_t cap = s->cap_ends ? s->cap_ends * 2 : 256;
        size_t *p = realloc(s->ends, cap * sizeof(*p));

        if (p == NULL)
            return -1;
        s->ends = p;
        s->cap_ends = cap;
    }
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

/* ---- connection -------------------------------------------------------------- */

static int ola_sl_poll(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int64_t left = deadline - ola_mono_ms();
        int r;

        if (left < 0)
            left = 0;
        r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        return 0;
    }
}

/* A socket BIO that writes with MSG_NOSIGNAL, so a dead peer is EPIPE, not SIGPIPE. */
static int ola_sl_bio_write(BIO *b, const char *p, int n)
{
    ssize_t w = send((int)BIO_get_fd(b, NULL), p, (size_t)n, MSG_NOSIGNAL);

    BIO_clear_retry_flags(b);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)w;
}

static int ola_sl_bio_read(BIO *b, char *p, int n)
{
    ssize_t r = recv((int)BIO_get_fd(b, NULL), p, (size_t)n, 0);

    BIO_clear_retry_flags(b);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)r;
}

static int ola_sl_make_bio_method(struct ola_syslog *s)
{
    const BIO_METHOD *base = BIO_s_socket();

    s->bio_meth = BIO_meth_new(BIO_TYPE_SOCKET, "olagent syslog socket");
    if (s->bio_meth == NULL || BIO_meth_set_write(s->bio_meth, ola_sl_bio_write) != 1 ||
        BIO_meth_set_read(s->bio_meth, ola_sl_bio_read) != 1 ||
        BIO_meth_set_ctrl(s->bio_meth, BIO_meth_get_ctrl(base)) != 1 ||
        BIO_meth_set_create(s->bio_meth, BIO_meth_get_create(base)) != 1 ||
        BIO_meth_set_destroy(s->bio_meth, BIO_meth_get_destroy(base)) != 1 ||
        BIO_meth_set_puts(s->bio_meth, BIO_meth_get_puts(base)) != 1)
        return -1;
    return 0;
}

static void ola_sl_disconnect(struct ola_syslog *s)
{
    if (s->ssl != NULL) {
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

static const char *ola_sl_ssl_error(char *buf, size_t n)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        snprintf(buf, n, "%s", errno ? strerror(errno) : "TLS error");
    else
        ERR_error_string_n(e, buf, n);
    ERR_clear_error();
    return buf;
}

/* Called when the server asks for a client certificate (and before one is sent). */
static int ola_sl_cert_cb(SSL *ssl, void *arg)
{
    struct ola_syslog *s = arg;

    (void)ssl;
    s->cert_requested = true;
    return 1;
}

/*
 * With TLS 1.3 the client's handshake ends before the server has checked the
 * client's certificate: a server that refuses it (or its absence) says so in
 * an alert after SSL_connect succeeded, and bytes written meanwhile would be
 * acknowledged and lost. So when the server asked for a certificate, wait
 * (up to OLA_SL_VERDICT_MS, within the connect deadline) for its first
 * record: session tickets mean accepted, an alert means refused. A server
 * that sends neither is taken as accepting once the wait is over.
 */
#define OLA_SL_VERDICT_MS 1000

static int ola_sl_tls_verdict(struct ola_syslog *s, int64_t deadline, struct ola_err *err)
{
    int64_t until = ola_mono_ms() + OLA_SL_VERDICT_MS;
    char buf[256], ebuf[200];
    int r, e;

    if (!s->cert_requested || SSL_version(s->ssl) < TLS1_3_VERSION)
        return 0;
    if (until > deadline)
        until = deadline;
    if (ola_sl_poll(s->fd, POLLIN, until) != 0)
        return errno == ETIMEDOUT ? 0
                                  : ola_err_set(err, errno, "TLS: %s", strerror(errno));
    r = SSL_read(s->ssl, buf, sizeof(buf));
    e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_NONE || e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN)
        return ola_err_set(err, 0,
                           "TLS: the server closed the connection after the "
                           "handshake (client certificate refused?)");
    return ola_err_set(err, 0, "TLS: the server refused the connection: %s",
                       ola_sl_ssl_error(ebuf, sizeof(ebuf)));
}

static int ola_sl_tls_handshake(struct ola_syslog *s, int64_t deadline,
                                struct ola_err *err)
{
    const char *name = s->server_name != NULL ? s->server_name : s->host;
    unsigned char addr[16];
    bool is_ip =
        inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    char ebuf[200];
    BIO *bio;

    s->ssl = SSL_new(s->ssl_ctx);
    if (s->ssl == NULL)
        return ola_err_set(err, 0, "SSL_new: %s", ola_sl_ssl_error(ebuf, sizeof(ebuf)));
    bio = BIO_new(s->bio_meth);
    if (bio == NULL)
        return ola_err_set(err, 0, "BIO_new: %s", ola_sl_ssl_error(ebuf, sizeof(ebuf)));
    BIO_set_fd(bio, s->fd, BIO_NOCLOSE);
    SSL_set_bio(s->ssl, bio, bio);
    if (!is_ip && SSL_set_tlsext_host_name(s->ssl, name) != 1)
        return ola_err_set(err, 0, "SNI: %s", ola_sl_ssl_error(ebuf, sizeof(ebuf)));
    if (s->verify) {
        if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), name) != 1
                  : SSL_set1_host(s->ssl, name) != 1)
            return ola_err_set(err, 0, "cannot set the name to verify: %s", name);
    }
    s->cert_requested = false;
    SSL_set_cert_cb(s->ssl, ola_sl_cert_cb, s);
    for (;;) {
        int r = SSL_connect(s->ssl), e;

        if (r == 1)
            return ola_sl_tls_verdict(s, deadline, err);
        e = SSL_get_error(s->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (ola_sl_poll(s->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                            deadline) != 0)
                return ola_err_set(err, errno, "TLS handshake: %s", strerror(errno));
            continue;
        }
        if (SSL_get_verify_result(s->ssl) != X509_V_OK)
            return ola_err_set(
                err, 0, "TLS handshake: certificate verification failed: %s",
                X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
        return ola_err_set(err, 0, "TLS handshake: %s",
                           ola_sl_ssl_error(ebuf, sizeof(ebuf)));
    }
}

/* The local socket is a datagram socket, like /dev/log (rsyslog's imuxsock). */
static int ola_sl_connect_unix(struct ola_syslog *s, struct ola_err *err)
{
    struct sockaddr_un sa;
    size_t n = strlen(s->sock_path);
    int e;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (n >= sizeof(sa.sun_path))
        return ola_err_set(err, ENAMETOOLONG, "socket path too long");
    memcpy(sa.sun_path, s->sock_path, n + 1);
    s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->fd < 0)
        return ola_err_set(err, errno, "socket: %s", strerror(errno));
    if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        e = errno;
        ola_sl_disconnect(s);
        return ola_err_set(err, e, "connect %s: %s", s->sock_path, strerror(e));
    }
    s->dgram = true;
    return 0;
}

/* Connects (and handshakes) within timeout_ms. Returns 0 / -1 with err. */
static int ola_sl_connect(struct ola_syslog *s, int64_t timeout_ms, struct ola_err *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    int64_t deadline = ola_mono_ms() + timeout_ms;
    int rc, last = 0;

    if (s->transport == OLA_SL_UNIX)
        return ola_sl_connect_unix(s, err);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = s->transport == OLA_SL_UDP ? SOCK_DGRAM : SOCK_STREAM;
    rc = getaddrinfo(s->host, s->port, &hints, &res);
    if (rc != 0)
        return ola_err_set(err, 0, "resolve %s: %s", s->host, gai_strerror(rc));
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        socklen_t len = sizeof(last);

        s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                       ai->ai_protocol);
        if (s->fd < 0) {
            last = errno;
            continue;
        }
        if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        last = errno;
        if (last == EINPROGRESS && ola_sl_poll(s->fd, POLLOUT, deadline) == 0 &&
            getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &last, &len) == 0 && last == 0)
            break;
        if (last == EINPROGRESS)
            last = errno;
        ola_sl_disconnect(s);
    }
    freeaddrinfo(res);
    if (s->fd < 0)
        return ola_err_set(err, last, "connect %s:%s: %s", s->host, s->port,
                           strerror(last));
    s->dgram = s->transport == OLA_SL_UDP;
    if (s->transport == OLA_SL_TLS && ola_sl_tls_handshake(s, deadline, err) != 0) {
        ola_sl_disconnect(s);
        return -1;
    }
    return 0;
}

/*
 * A syslog receiver never talks back, so a readable stream socket means the
 * peer closed or failed: writing to it would be accepted once and lost.
 * Returns true when the connection is still usable.
 */
static bool ola_sl_alive(struct ola_syslog *s)
{
    char buf[512];
    int i;

    for (i = 0; i < 16; i++) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};

        if (poll(&p, 1, 0) <= 0)
            return true;
        if (p.revents & (POLLERR | POLLNVAL))
            return false;
        if (s->ssl != NULL) {
            int r = SSL_read(s->ssl, buf, sizeof(buf));
            int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);

            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return true;
            if (e != SSL_ERROR_NONE) {
                ERR_clear_error();
                return false;
            }
        } else {
            ssize_t r = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return true;
            if (r <= 0)
                return false;
        }
    }
    return true;
}

/* ---- plugin ---------------------------------------------------------------- */

static int ola_sl_facility(const char *name, int *out)
{
    static const char *const names[] = {
        "kern",    "user",         "mail",   "daemon",   "auth",   "syslog", "lpr",
        "news",    "uucp",         "cron",   "authpriv", "ftp",    "ntp",    "security",
        "console", "solaris-cron", "local0", "local1",   "local2", "local3", "local4",
        "local5",  "local6",       "local7", NULL};
    char *end;
    long v;
    int i;

    for (i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0) {
            *out = i;
            return 0;
        }
    v = strtol(name, &end, 10);
    if (end == name || *end != '\0' || v < 0 || v > 23)
        return -1;
    *out = (int)v;
    return 0;
}

/* Copies a value whose length was checked (ola_sl_token_ok) into a field that fits it. */
static void ola_sl_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* PRINTUSASCII without spaces, 1..max chars (RFC 5424 HOSTNAME, APP-NAME, SD-ID). */
static bool ola_sl_token_ok(const char *v, size_t max)
{
    size_t i, n = strlen(v);

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++)
        if (v[i] < 33 || v[i] > 126)
            return false;
    return true;
}

static int ola_sl_tls_init(struct ola_syslog *s, struct ola_err *err)
{
    char ebuf[200];

    s->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (s->ssl_ctx == NULL)
        return ola_err_set(err, 0, "tls: %s", ola_sl_ssl_error(ebuf, sizeof(ebuf)));
    SSL_CTX_set_min_proto_version(s->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(s->ssl_ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (s->verify) {
        SSL_CTX_set_verify(s->ssl_ctx, SSL_VERIFY_PEER, NULL);
        if ((s->ca_file != NULL
                 ? SSL_CTX_load_verify_locations(s->ssl_ctx, s->ca_file, NULL)
                 : SSL_CTX_set_default_verify_paths(s->ssl_ctx)) != 1)
            return ola_err_set(err, 0, "tls.ca_file %s: %s",
                               s->ca_file ? s->ca_file : "(system)",
                               ola_sl_ssl_error(ebuf, sizeof(ebuf)));
    } else
        SSL_CTX_set_verify(s->ssl_ctx, SSL_VERIFY_NONE, NULL);
    if ((s->cert_file == NULL) != (s->key_file == NULL))
        return ola_err_set(err, 0, "tls: cert_file and key_file go together");
    if (s->cert_file != NULL &&
        (SSL_CTX_use_certificate_chain_file(s->ssl_ctx, s->cert_file) != 1 ||
         SSL_CTX_use_PrivateKey_file(s->ssl_ctx, s->key_file, SSL_FILETYPE_PEM) != 1 ||
         SSL_CTX_check_private_key(s->ssl_ctx) != 1))
        return ola_err_set(err, 0, "tls client certificate: %s",
                           ola_sl_ssl_error(ebuf, sizeof(ebuf)));
    return ola_sl_make_bio_method(s);
}

static int ola_syslog_init(struct ola_output *o, const struct ola_cfg *node,
                           struct ola_err *err)
{
    static const char *const transports[] = {"udp", "tcp", "tls", "unix", NULL};
    static const char *const framings[] = {"octet", "lf", NULL};
    static const char *const oversizes[] = {"truncate", "dead_letter", NULL};
    static const char *const tls_keys[] = {"ca_file",     "cert_file", "key_file",
                                           "server_name", "verify",    NULL};
    struct ola_syslog *s = calloc(1, sizeof(*s));
    const struct ola_cfg *tls = ola_cfg_get(node, "tls");
    const char *fac = NULL, *app = NULL, *host = NULL, *sd = NULL;
    long long rfc;
    uint64_t max_size, def_max;

    if (s == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    s->fd = -1;
    s->pid = (long)getpid();
    o->ctx = s;
    if (ola_cfg_enum(node, "transport", transports, OLA_SL_TCP, &s->transport, err) ||
        ola_cfg_enum(node, "framing", framings, OLA_SL_OCTET, &s->framing, err) ||
        ola_cfg_enum(node, "oversize", oversizes, OLA_SL_TRUNCATE, &s->oversize, err) ||
        ola_cfg_int(node, "rfc", 5424, 3164, 5424, &rfc, err) ||
        ola_cfg_str(node, "host", "127.0.0.1", &s->host, err) ||
        ola_cfg_str(node, "port", s->transport == OLA_SL_TLS ? "6514" : "514", &s->port,
                    err) ||
        ola_cfg_str(node, "socket", NULL, &s->sock_path, err) ||
        ola_cfg_str(node, "facility", "local0", &fac, err) ||
        ola_cfg_str(node, "app_name", "olagent", &app, err) ||
        ola_cfg_str(node, "hostname", NULL, &host, err) ||
        ola_cfg_str(node, "sd_id", OLA_SL_DEFAULT_SD_ID, &sd, err) ||
        ola_cfg_duration(node, "connect_timeout", 5000, 1, 600000, &s->connect_timeout_ms,
                         err))
        return -1;
    if (rfc != 5424 && rfc != 3164)
        return ola_cfg_errf(err, ola_cfg_get(node, "rfc"), "rfc: 5424 or 3164");
    s->rfc = (int)rfc;
    if (ola_sl_facility(fac, &s->facility) != 0)
        return ola_cfg_errf(err, ola_cfg_get(node, "facility"),
                            "facility: a name (local0, auth, ...) or 0..23");
    if (!ola_sl_token_ok(app, s->rfc == 3164 ? 32 : 48))
        return ola_cfg_errf(err, ola_cfg_get(node, "app_name"),
                            "app_name: 1..%d printable ASCII characters, no spaces",
                            s->rfc == 3164 ? 32 : 48);
    ola_sl_copy(s->app_name, sizeof(s->app_name), app);
    if (!ola_sl_token_ok(sd, 32) || strchr(sd, '@') == NULL ||
        strpbrk(sd, "=]\"") != NULL)
        return ola_cfg_errf(err, ola_cfg_get(node, "sd_id"),
                            "sd_id: name@PEN, at most 32 characters, no '=', ']', '\"'");
    ola_sl_copy(s->sd_id, sizeof(s->sd_id), sd);
    if (host == NULL) {
        if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0 ||
            !ola_sl_token_ok(s->hostname, 255))
            ola_sl_copy(s->hostname, sizeof(s->hostname), "-");
    } else {
        if (!ola_sl_token_ok(host, 255))
            return ola_cfg_errf(err, ola_cfg_get(node, "hostname"),
                                "hostname: 1..255 printable ASCII characters, no spaces");
        ola_sl_copy(s->hostname, sizeof(s->hostname), host);
    }
    if (s->transport == OLA_SL_UNIX && s->sock_path == NULL)
        return ola_cfg_errf(err, node, "syslog: transport unix needs 'socket'");
    def_max = s->transport == OLA_SL_UDP    ? 2048
              : s->transport == OLA_SL_UNIX ? 8192
                                            : 65536;
    if (ola_cfg_size(node, "max_size", def_max, &max_size, err) != 0)
        return -1;
    if (max_size < 480 || max_size > (s->transport == OLA_SL_UDP ? 65507u : 16777216u))
        return ola_cfg_errf(err, ola_cfg_get(node, "max_size"), "max_size: 480 .. %s",
                            s->transport == OLA_SL_UDP ? "65507 for udp" : "16MiB");
    s->max_size = (size_t)max_size;
    if (tls != NULL && s->transport != OLA_SL_TLS)
        return ola_cfg_errf(err, tls, "tls: only with transport tls");
    if (tls != NULL && ola_cfg_type(tls) != OLA_CFG_MAP)
        return ola_cfg_errf(err, tls, "tls: expected a map");
    if (ola_cfg_check_keys(tls, tls_keys, err) != 0 ||
        ola_cfg_str(tls, "ca_file", NULL, &s->ca_file, err) != 0 ||
        ola_cfg_str(tls, "cert_file", NULL, &s->cert_file, err) != 0 ||
        ola_cfg_str(tls, "key_file", NULL, &s->key_file, err) != 0 ||
        ola_cfg_str(tls, "server_name", NULL, &s->server_name, err) != 0 ||
        ola_cfg_bool(tls, "verify", true, &s->verify, err) != 0)
        return -1;
    if (s->transport == OLA_SL_TLS && !s->verify)
        ola_cfg_warn(ola_cfg_get(tls, "verify"),
                     "%s is false: the syslog server is not authenticated (anyone on "
                     "the path can read and alter the messages)",
                     ola_cfg_path(ola_cfg_get(tls, "verify")));
    if (s->transport == OLA_SL_TLS && ola_sl_tls_init(s, err) != 0)
        return -1;
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

/*
 * Closes a healthy stream so that nothing already written is lost: closing a
 * socket that still has unread bytes (a TLS server's late session ticket)
 * makes the kernel send a reset, and a reset makes the receiver's kernel drop
 * what its application has not read yet. So: close_notify (TLS), FIN after
 * the queued bytes (shutdown), then read and discard until the receiver,
 * having read everything up to the FIN, closes too (bounded by
 * OLA_SL_LINGER_MS); only then close.
 */
#define OLA_SL_LINGER_MS 2000

static void ola_sl_close_stream(struct ola_syslog *s)
{
    int64_t deadline = ola_mono_ms() + OLA_SL_LINGER_MS;
    char buf[4096];

    if (s->fd < 0 || s->dgram) {
        ola_sl_disconnect(s);
        return;
    }
    if (s->ssl != NULL) {
        SSL_shutdown(s->ssl);
        ERR_clear_error();
    }
    if (shutdown(s->fd, SHUT_WR) == 0) {
        while (ola_sl_poll(s->fd, POLLIN, deadline) == 0) {
            ssize_t r = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

            if (r == 0 ||
                (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                break;
        }
    }
    ola_sl_disconnect(s);
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
    .keys = ola_syslog_keys,
    .init = ola_syslog_init,
    .write = ola_syslog_write,
    .flush = ola_syslog_flush,
    .check = ola_syslog_check,
    .close = ola_syslog_close,
    .trim = ola_syslog_trim,
};
