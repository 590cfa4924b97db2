/*
 * test_security.c - the agent's security properties, checked on real parts.
 *
 * TLS: the unit tests' HTTP fake (tests/lib/http_fake.h) serving HTTPS on
 * loopback, with certificates the openssl CLI makes for the test. The HTTP
 * layer the OneLogin client uses must refuse a certificate it cannot verify
 * (unknown CA, another host name, TLS older than 1.2), accept the same server
 * once ca_file names its CA, and never follow a redirect. Plain http:// is
 * refused for base URLs off loopback, by the settings (with file:line) and by
 * the client itself. Config and secret files: a secret written in a file that
 * group or others can read draws a warning naming file, line and key but never
 * the secret; so does a secret file with loose modes, and a config file others
 * may write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "agent/core/buf.h"
#include "agent/core/log.h"
#include "agent/onelogin/client.h"
#include "agent/onelogin/http.h"
#include "agent/settings.h"
#include "config/config.h"
#include "tests/lib/http_fake.h"
#include "tests/lib/unit_files.h"

#define NOW_MS INT64_C(1700000000000)

static char tmpdir[256];

static const char *tmp_path(const char *name, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", tmpdir, name);

    assert_true(n > 0 && (size_t)n < cap);
    return buf;
}

/* Writes text to path with exactly `mode` (umask does not apply). */
static void write_mode(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t len = strlen(text);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

/* ---- a TLS server on loopback ------------------------------------------------ */

struct tls_srv {
    struct ola_fake *fake; /* its record: requests received (the client trusted us) */
    int port;
};

/* Makes NAME.crt / NAME.key in tmpdir: a self-signed P-256 certificate for san. */
static void make_cert(const char *name, const char *san)
{
    char cmd[2048];
    int n = snprintf(cmd, sizeof(cmd),
                     "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                     "-nodes -days 2 -subj /CN=olagent-test -addext "
                     "'subjectAltName=%s' -keyout '%s/%s.key' -out '%s/%s.crt' "
                     ">/dev/null 2>&1",
                     san, tmpdir, name, tmpdir, name);

    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    if (system(cmd) != 0)
        fail_msg("openssl req failed: %s", cmd);
}

/* GET /redirect: a 302 to plain http; anything else: {"ok":true}. */
static int tls_srv_answer(void *arg, const struct ola_fake_req *rq,
                          struct ola_fake_answer *a)
{
    static const char ok[] = "{\"ok\":true}";

    (void)arg;
    if (ola_fake_answer_header(a, "Connection", "close") != 0)
        return -1;
    if (strcmp(rq->method, "GET") == 0 && strcmp(rq->path, "/redirect") == 0) {
        a->status = 302;
        return ola_fake_answer_header(a, "Location", "http://127.0.0.1:9/elsewhere");
    }
    a->status = 200;
    a->body = strdup(ok);
    a->len = sizeof(ok) - 1;
    if (a->body == NULL)
        return -1;
    return ola_fake_answer_header(a, "Content-Type", "application/json");
}

/* Starts a server with NAME.crt/.key; old_tls: TLS 1.0-1.1 only. */
static void tls_srv_start(struct tls_srv *s, const char *name, bool old_tls)
{
    struct ola_fake_opts o = {0};
    struct ola_err err = {0};
    char crt[512], key[512], file[64];

    memset(s, 0, sizeof(*s));
    snprintf(file, sizeof(file), "%s.crt", name);
    tmp_path(file, crt, sizeof(crt));
    snprintf(file, sizeof(file), "%s.key", name);
    tmp_path(file, key, sizeof(key));
    o.handler = tls_srv_answer;
    o.tls_cert = crt;
    o.tls_key = key;
    if (old_tls)
        o.tls_prio = "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0";
    if (ola_fake_start(&o, &s->fake, &err) != 0)
        fail_msg("%s", err.msg);
    s->port = ola_fake_port(s->fake);
}

/* Requests the server received. */
static size_t tls_srv_served(struct tls_srv *s)
{
    return ola_fake_requests(s->fake);
}

static int connect_loopback(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void tls_srv_stop(struct tls_srv *s)
{
    ola_fake_stop(s->fake);
}

/* One GET through the agent's HTTP layer. Returns ola_http_do's result. */
static int http_get(int port, const char *path, const char *ca_file,
                    struct ola_http_resp *rs, struct ola_buf *body)
{
    struct ola_http_opts o;
    struct ola_http_req rq;
    struct ola_http *h = NULL;
    struct ola_err err;
    char url[256];
    int rc;

    memset(&o, 0, sizeof(o));
    o.timeout_ms = 10000;
    o.ca_file = ca_file;
    o.proxy = ""; /* no proxy from the environment in tests */
    assert_int_equal(ola_http_new(&o, &h, &err), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
    memset(&rq, 0, sizeof(rq));
    rq.method = "GET";
    rq.url = url;
    rq.bearer = "token-not-for-strangers";
    rc = ola_http_do(h, &rq, body, rs);
    ola_http_destroy(h);
    return rc;
}

static void test_tls_unknown_ca_refused(void **state)
{
    struct ola_http_resp rs;
    struct ola_buf body = OLA_BUF_INIT;
    struct tls_srv s;

    (void)state;
    tls_srv_start(&s, "good", false);
    /* the system store does not know the test's CA: refused, nothing sent */
    assert_int_equal(http_get(s.port, "/x", NULL, &rs, &body), -1);
    assert_int_equal(rs.fail, OLA_HTTP_TLS);
    assert_int_equal(rs.status, 0);
    assert_int_equal(body.len, 0);
    assert_int_equal(tls_srv_served(&s), 0);
    tls_srv_stop(&s);
    ola_buf_free(&body);
}

static void test_tls_ca_file_trusted_no_redirects(void **state)
{
    struct ola_http_resp rs;
    struct ola_buf body = OLA_BUF_INIT;
    struct tls_srv s;
    char ca[512];

    (void)state;
    tmp_path("good.crt", ca, sizeof(ca));
    tls_srv_start(&s, "good", false);
    /* the same server, its CA named: accepted, so the refusals above are about trust */
    assert_int_equal(http_get(s.port, "/x", ca, &rs, &body), 0);
    assert_int_equal(rs.status, 200);
    assert_string_equal(body.data, "{\"ok\":true}");
    /* a redirect (here to plain http) is reported, never followed */
    assert_int_equal(http_get(s.port, "/redirect", ca, &rs, &body), 0);
    assert_int_equal(rs.status, 302);
    assert_int_equal(body.len, 0);
    assert_int_equal(tls_srv_served(&s), 2);
    tls_srv_stop(&s);
    ola_buf_free(&body);
}

static void test_tls_wrong_host_refused(void **state)
{
    struct ola_http_resp rs;
    struct ola_buf body = OLA_BUF_INIT;
    struct tls_srv s;
    char ca[512];

    (void)state;
    /* a trusted certificate, but for another name: host verification refuses it */
    tmp_path("other.crt", ca, sizeof(ca));
    tls_srv_start(&s, "other", false);
    assert_int_equal(http_get(s.port, "/x", ca, &rs, &body), -1);
    assert_int_equal(rs.fail, OLA_HTTP_TLS);
    assert_int_equal(tls_srv_served(&s), 0);
    tls_srv_stop(&s);
    ola_buf_free(&body);
}

/* True when a plain OpenSSL client (TLS 1.1 allowed) completes a handshake. */
static bool old_tls_handshake_ok(int port)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    bool ok = false;
    int fd = connect_loopback(port);

    if (ctx == NULL || fd < 0)
        goto out;
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    ssl = SSL_new(ctx);
    if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1) {
        ok = true;
        SSL_write(ssl, "GET /probe HTTP/1.0\r\n\r\n", 23);
        SSL_shutdown(ssl);
    }
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    return ok;
}

static void test_tls_old_versions_refused(void **state)
{
    struct ola_http_resp rs;
    struct ola_buf body = OLA_BUF_INIT;
    struct tls_srv s;
    char ca[512];

    (void)state;
    tmp_path("good.crt", ca, sizeof(ca));
    tls_srv_start(&s, "good", true);
    if (!old_tls_handshake_ok(s.port)) {
        tls_srv_stop(&s);
        skip(); /* this OpenSSL cannot speak TLS 1.1 at all: nothing to show */
    }
    /* the probe's request is in the record (the server answers on its own threads) */
    assert_int_equal(ola_fake_wait_requests(s.fake, 1, 10000), 0);
    /* the server speaks TLS 1.1 to a client that allows it; the agent does not */
    assert_int_equal(http_get(s.port, "/x", ca, &rs, &body), -1);
    assert_int_equal(rs.fail, OLA_HTTP_TLS);
    assert_int_equal(tls_srv_served(&s), 1); /* the probe only */
    tls_srv_stop(&s);
    ola_buf_free(&body);
}

/* ---- plain http:// ----------------------------------------------------------- */

static void test_client_refuses_plain_http(void **state)
{
    static const char *const refused[] = {
        "http://acme.onelogin.com",   "http://10.0.0.1:8080",  "http://128.0.0.1",
        "http://localhost.evil.com",  "http://[::2]:80",       "http://127.0.0.1.nip.io",
        "http://[::ffff:127.0.0.1]",  "http://127.0.0.1:80#x", "ftp://127.0.0.1",
        "http://127.0.0.1@evil.com/", "file:///etc/passwd",    "gopher://localhost",
    };
    static const char *const allowed[] = {
        "http://127.0.0.1:8080", "http://127.9.9.9",          "http://localhost:1",
        "http://[::1]:8080",     "https://acme.onelogin.com",
    };
    struct ola_ol_opts o;
    struct ola_ol_client *c;
    struct ola_err err;
    size_t i;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.client_id = "id";
    o.client_secret = "secret";
    o.reserve = 0.2;
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        o.base_url = refused[i];
        c = NULL;
        if (ola_ol_client_new(&o, &c, &err) == 0) {
            ola_ol_client_destroy(c);
            fail_msg("the client accepted %s", refused[i]);
        }
        assert_null(strstr(err.msg, "secret"));
    }
    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        o.base_url = allowed[i];
        c = NULL;
        if (ola_ol_client_new(&o, &c, &err) != 0)
            fail_msg("the client refused %s: %s", allowed[i], err.msg);
        ola_ol_client_destroy(c);
    }
}

static void test_settings_refuse_plain_http(void **state)
{
    static const char *const refused[] = {
        "http://acme.onelogin.com",
        "http://192.168.1.10:8080",
        "http://localhost.evil.com",
        "http://[::ffff:127.0.0.1]:80",
    };
    char path[512], text[512], want[600];
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    struct ola_err err;
    size_t i;

    (void)state;
    tmp_path("http.yaml", path, sizeof(path));
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(text, sizeof(text),
                 "# a comment\nonelogin:\n  base_url: %s\n  client_id: id\n"
                 "  client_secret: ${OLA_T_SEC}\noutputs:\n  - type: stdout\n",
                 refused[i]);
        write_mode(path, text, 0600);
        assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
        assert_int_equal(ola_settings_load(doc, NOW_MS, &s, &err), -1);
        snprintf(want, sizeof(want),
                 "%s:3: onelogin.base_url: http:// is allowed only on "
                 "loopback",
                 path);
        if (strncmp(err.msg, want, strlen(want)) != 0)
            fail_msg("%s: got '%s', want '%s...'", refused[i], err.msg, want);
        ola_cfg_doc_destroy(doc);
        doc = NULL;
    }
    /* loopback is fine, and marked as plain http */
    snprintf(text, sizeof(text),
             "onelogin:\n  base_url: http://127.0.0.1:8080\n  client_id: id\n"
             "  client_secret: ${OLA_T_SEC}\noutputs:\n  - type: stdout\n");
    write_mode(path, text, 0600);
    assert_int_equal(ola_cfg_load_file(path, &doc, &err), 0);
    assert_int_equal(ola_settings_load(doc, NOW_MS, &s, &err), 0);
    assert_true(s.onelogin.allow_insecure_http);
    ola_cfg_doc_destroy(doc);
}

/* ---- secrets in files --------------------------------------------------------- */

static FILE *log_fp;

static int log_setup(void **state)
{
    char path[512];

    (void)state;
    log_fp = fopen(tmp_path("security.log", path, sizeof(path)), "w+");
    assert_non_null(log_fp);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, log_fp);
    return 0;
}

static int log_teardown(void **state)
{
    (void)state;
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    fclose(log_fp);
    log_fp = NULL;
    return 0;
}

/* What was logged since the last call. */
static const char *log_take(void)
{
    static char text[8192];
    size_t n;

    assert_int_equal(fflush(log_fp), 0);
    rewind(log_fp);
    n = fread(text, 1, sizeof(text) - 1, log_fp);
    text[n] = '\0';
    assert_int_equal(ftruncate(fileno(log_fp), 0), 0);
    rewind(log_fp);
    return text;
}

/* Loads path as a config with settings; returns what was logged. */
static const char *load_logged(const char *path)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    struct ola_err err;

    if (ola_cfg_load_file(path, &doc, &err) != 0)
        fail_msg("load %s: %s", path, err.msg);
    if (ola_settings_load(doc, NOW_MS, &s, &err) != 0)
        fail_msg("settings %s: %s", path, err.msg);
    ola_cfg_doc_destroy(doc);
    return log_take();
}

static void test_literal_secret_modes(void **state)
{
    static const struct {
        mode_t mode;
        bool warn;
    } cases[] = {
        {0600, false}, {0400, false}, {0640, true},
        {0604, true},  {0644, true},  {0660, true},
    };
    static const char yaml[] =
        "onelogin:\n  region: us\n  client_id: id\n"
        "  client_secret: Lit3ral-S3cret\noutputs:\n  - type: stdout\n";
    char path[512], want[600];
    size_t i;

    (void)state;
    tmp_path("literal.yaml", path, sizeof(path));
    snprintf(want, sizeof(want), "%s:4: onelogin.client_secret holds a literal secret",
             path);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *text;

        write_mode(path, yaml, cases[i].mode);
        text = load_logged(path);
        if (cases[i].warn && strstr(text, want) == NULL)
            fail_msg("mode %o: no warning, log: '%s'", (unsigned)cases[i].mode, text);
        if (!cases[i].warn && text[0] != '\0')
            fail_msg("mode %o: unexpected log '%s'", (unsigned)cases[i].mode, text);
        assert_null(strstr(text, "Lit3ral-S3cret"));
    }
    /* the same secret from the environment: nothing to warn about */
    assert_int_equal(setenv("OLA_T_SEC", "Env-S3cret", 1), 0);
    write_mode(path,
               "onelogin:\n  region: us\n  client_id: id\n  client_secret: ${OLA_T_SEC}\n"
               "outputs:\n  - type: stdout\n",
               0644);
    assert_string_equal(load_logged(path), "");
}

static void test_secret_file_modes(void **state)
{
    static const struct {
        mode_t mode;
        const char *want; /* NULL: no log line */
    } cases[] = {
        {0600, NULL},
        {0400, NULL},
        {0640, "is readable by group or others"},
        {0604, "is readable by group or others"},
        {0602, "is writable by others"},
    };
    char cfg[512], sec[512], text[1024], want[1200];
    size_t i;

    (void)state;
    tmp_path("sec.yaml", cfg, sizeof(cfg));
    tmp_path("client-secret", sec, sizeof(sec));
    snprintf(text, sizeof(text),
             "onelogin:\n  region: eu\n  client_id: id\n  client_secret_file: %s\n"
             "outputs:\n  - type: stdout\n",
             sec);
    write_mode(cfg, text, 0600);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *logged;

        write_mode(sec, "F1le-S3cret\n", cases[i].mode);
        logged = load_logged(cfg);
        assert_null(strstr(logged, "F1le-S3cret"));
        if (cases[i].want == NULL) {
            if (logged[0] != '\0')
                fail_msg("mode %o: unexpected log '%s'", (unsigned)cases[i].mode, logged);
            continue;
        }
        snprintf(want, sizeof(want),
                 "%s:4: onelogin.client_secret_file: secret file '%s' %s", cfg, sec,
                 cases[i].want);
        if (strstr(logged, want) == NULL)
            fail_msg("mode %o: want '%s', log: '%s'", (unsigned)cases[i].mode, want,
                     logged);
    }
}

static void test_config_writable_by_others(void **state)
{
    char path[512], want[600];
    const char *logged;

    (void)state;
    assert_int_equal(setenv("OLA_T_SEC", "Env-S3cret", 1), 0);
    tmp_path("open.yaml", path, sizeof(path));
    write_mode(path,
               "onelogin:\n  region: us\n  client_id: id\n  client_secret: ${OLA_T_SEC}\n"
               "outputs:\n  - type: stdout\n",
               0666);
    logged = load_logged(path);
    snprintf(want, sizeof(want), "%s: the file is writable by others", path);
    if (strstr(logged, want) == NULL)
        fail_msg("want '%s', log: '%s'", want, logged);
    assert_null(strstr(logged, "Env-S3cret"));
    /* group-writable is a deployment choice, not a warning */
    write_mode(path,
               "onelogin:\n  region: us\n  client_id: id\n  client_secret: ${OLA_T_SEC}\n"
               "outputs:\n  - type: stdout\n",
               0664);
    assert_string_equal(load_logged(path), "");
}

static int group_setup(void **state)
{
    (void)state;
    /* the test server writes to clients that hung up, as any server does */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || setenv("OLA_T_SEC", "Env-S3cret", 1) != 0)
        return -1;
    if (ola_test_tmpdir(tmpdir, sizeof(tmpdir), "security") != 0)
        return -1;
    make_cert("good", "IP:127.0.0.1,DNS:localhost");
    make_cert("other", "DNS:other.example");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return ola_test_rmtree(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_unknown_ca_refused),
        cmocka_unit_test(test_tls_ca_file_trusted_no_redirects),
        cmocka_unit_test(test_tls_wrong_host_refused),
        cmocka_unit_test(test_tls_old_versions_refused),
        cmocka_unit_test(test_client_refuses_plain_http),
        cmocka_unit_test(test_settings_refuse_plain_http),
        cmocka_unit_test_setup_teardown(test_literal_secret_modes, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_modes, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(test_config_writable_by_others, log_setup,
                                        log_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
