/*
 * syslog_priv.h - the syslog output's state, shared by its own files only.
 *
 * out_syslog.c (message building, framing and the ops), syslog_net.c (the
 * transport: UDP, TCP, TLS and unix sockets) and syslog_conf.c (the output's
 * settings map) work on one struct ola_syslog. Nothing outside these files
 * includes it.
 */
#ifndef OLA_SYSLOG_PRIV_H
#define OLA_SYSLOG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "outputs/output.h"

enum ola_sl_transport { OLA_SL_UDP, OLA_SL_TCP, OLA_SL_TLS, OLA_SL_UNIX };
enum ola_sl_framing { OLA_SL_OCTET, OLA_SL_LF };
enum ola_sl_oversize { OLA_SL_TRUNCATE, OLA_SL_DEAD_LETTER };

#define OLA_SL_DEFAULT_SD_ID "olagent@32473"

struct ola_syslog {
    int transport, framing, oversize, rfc, facility;
    const char *host, *port, *sock_path;
    char app_name[49], hostname[256], sd_id[33];
    char app_tmpl[49]; /* app_name as configured, when it holds {tenant}; else "" */
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

/* ---- syslog_conf.c: the settings ------------------------------------------ */

/* The output's keys as read by ola_syslog_options (strings borrowed from the document).
 */
struct ola_syslog_conf {
    int transport, framing, oversize;
    long long rfc;
    int facility; /* from facility_name */
    const char *host, *port, *sock_path, *facility_name, *app_name, *hostname, *sd_id;
    uint64_t max_size;
    int64_t connect_timeout_ms;
    const char *ca_file, *cert_file, *key_file, *server_name;
    bool verify;
};

/* The output's keys (config/options.h), read by the registry into o->settings. */
extern const struct ola_opt ola_syslog_options[];
/* Sets up a new struct ola_syslog in o->ctx from o->settings (ops.init). 0 / -1. */
int ola_syslog_init(struct ola_output *o, const struct ola_cfg *node,
                    struct ola_err *err);

/* ---- syslog_net.c: the transport ------------------------------------------ */

/* Waits until fd is ready for events or the monotonic deadline; 0 / -1 (errno). */
int ola_sl_poll(int fd, short events, int64_t deadline);
/* Drops the connection (TLS state and socket); harmless when there is none. */
void ola_sl_disconnect(struct ola_syslog *s);
/* The pending OpenSSL error (else errno's text) into buf; returns buf. */
const char *ola_sl_ssl_error(char *buf, size_t n);
/* Connects (and handshakes) within timeout_ms. Returns 0 / -1 with err. */
int ola_sl_connect(struct ola_syslog *s, int64_t timeout_ms, struct ola_err *err);
/* False when the peer closed or failed a stream connection. */
bool ola_sl_alive(struct ola_syslog *s);
/* The TLS context from the tls settings; 0 / -1 with err. */
int ola_sl_tls_init(struct ola_syslog *s, struct ola_err *err);
/* Closes the connection without losing what was written (bounded wait). */
void ola_sl_close_stream(struct ola_syslog *s);

#endif
