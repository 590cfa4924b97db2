/*
 * syslog_net.c - the syslog output's transport: UDP, TCP, TLS, unix socket.
 *
 * Connects without blocking past a deadline (getaddrinfo, a non-blocking
 * connect, poll), shakes hands over TLS with a socket BIO that writes with
 * MSG_NOSIGNAL (a dead peer is EPIPE, not SIGPIPE) and waits for a TLS 1.3
 * server's verdict on the client certificate, tells a stream the peer
 * closed (a syslog receiver never talks back) and closes a healthy stream
 * so that nothing already written is lost. Writing the framed messages is
 * the output's (out_syslog.c); the settings are read in syslog_conf.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "agent/core/timeutil.h"
#include "outputs/syslog_priv.h"

/* ---- connection -------------------------------------------------------------- */

int ola_sl_poll(int fd, short events, int64_t deadline)
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

void ola_sl_disconnect(struct ola_syslog *s)
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

const char *ola_sl_ssl_error(char *buf, size_t n)
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
int ola_sl_connect(struct ola_syslog *s, int64_t timeout_ms, struct ola_err *err)
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
bool ola_sl_alive(struct ola_syslog *s)
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

int ola_sl_tls_init(struct ola_syslog *s, struct ola_err *err)
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

void ola_sl_close_stream(struct ola_syslog *s)
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
