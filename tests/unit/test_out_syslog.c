/*
 * test_out_syslog.c - the syslog output against a listening socket in the test.
 *
 * A loopback TCP listener (and a UDP socket) stand in for the receiver; the
 * test reads what the output wrote and checks octet-counting and LF framing,
 * RFC 5424 header and structured data escaping, truncation at a UTF-8
 * boundary, oversized messages sent to the dead-letter file, that a closed
 * receiver is noticed and the data resent, that a message cut short by a
 * broken connection goes again whole on the next one, and configuration
 * errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/timeutil.h"
#include "outputs/output.h"

static int ola_listen(int type, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, type, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static struct ola_output *ola_make(struct ola_cfg_doc **doc, const char *yaml)
{
    struct ola_output_cfg oc;
    struct ola_err err = {0};
    struct ola_output *o;

    if (ola_cfg_load_string("test", yaml, strlen(yaml), doc, &err) != 0)
        fail_msg("%s", err.msg);
    oc.node = ola_cfg_root(*doc);
    oc.type = "syslog";
    oc.name = NULL;
    o = ola_output_new(&oc, 0, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    return o;
}

static void ola_add(struct ola_batch *b, const char *json, int severity)
{
    json_t *ev = json_loads(json, 0, NULL);
    struct ola_event *e;

    assert_non_null(ev);
    e = ola_batch_add(b, OLA_REC_EVENT, ev, json, strlen(json));
    assert_non_null(e);
    e->id = json_integer_value(json_object_get(ev, "id"));
    e->created_ms = 1659956400000LL;
    e->severity = severity;
    e->ola = json_pack("{s:{s:i,s:s,s:[s]},s:[s]}", "event_type", "id", 5, "name",
                       "USER_LOGGED_INTO_ONELOGIN", "categories", "login_success", "tags",
                       "a\"b]c\\d");
}

static size_t ola_read_all(int fd, char *buf, size_t cap, size_t want)
{
    size_t got = 0;

    while (got < want && got < cap) {
        ssize_t r = recv(fd, buf + got, cap - got, 0);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Complete messages at the start of buf: octet-counted frames, or lines. */
static int ola_count_msgs(const char *buf, size_t len, bool octet)
{
    size_t off = 0;
    int n = 0;

    while (off < len) {
        const char *p = buf + off;
        char *sp;
        unsigned long flen;

        if (!octet) {
            const char *nl = memchr(p, '\n', len - off);

            if (nl == NULL)
                break;
            off = (size_t)(nl - buf) + 1;
        } else {
            flen = strtoul(p, &sp, 10);
            if (sp == p || *sp != ' ' || (size_t)(sp + 1 - buf) + flen > len)
                break;
            off = (size_t)(sp + 1 - buf) + flen;
        }
        n++;
    }
    return n;
}

/*
 * Reads until n whole messages are in buf (NUL-terminated), then closes fd:
 * the receiver goes away after reading everything, as a real one does, so
 * the output's close does not linger waiting for it.
 */
static size_t ola_read_msgs(int fd, char *buf, size_t cap, int n, bool octet)
{
    size_t got = 0;

    while (got < cap - 1 && ola_count_msgs(buf, got, octet) < n) {
        ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fd);
    return got;
}

static void test_octet_framing_and_sd(void **state)
{
    static const char ev1[] = "{\"id\":1,\"notes\":\"x\\ny\"}";
    static const char ev2[] = "{\"id\":2,\"user_name\":\"Zo\\u00eb\"}";
    char yaml[256], buf[8192];
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int port, lfd = ola_listen(SOCK_STREAM, &port), cfd;
    size_t got, n1;
    char *sp;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "type: syslog\nport: %d\nhostname: h1\nfacility: auth\nformat: cef\n", port);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    ola_add(&b, ev1, 8);
    ola_add(&b, ev2, -1);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    assert_int_equal(o->stats.emitted, 2);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    got = ola_read_msgs(cfd, buf, sizeof(buf), 2, true);
    /* "LEN <msg>": LEN counts the message bytes exactly */
    n1 = strtoul(buf, &sp, 10);
    assert_int_equal(*sp, ' ');
    assert_true(n1 > 0 && (size_t)(sp + 1 - buf) + n1 < got);
    /* auth(4)*8 + err(3) = 35 for severity 8 */
    assert_memory_equal(sp + 1, "<35>1 2022-08-08T11:00:00.000Z h1 olagent ", 42);
    assert_non_null(strstr(sp + 1, " event [olagent@32473 eventId=\"1\" typeId=\"5\" "
                                   "typeName=\"USER_LOGGED_INTO_ONELOGIN\" "
                                   "categories=\"login_success\" "
                                   "tags=\"a\\\"b\\]c\\\\d\" severity=\"8\"] CEF:0|"));
    /* the second message: info (6) + auth = 38, no severity param */
    assert_non_null(strstr(sp + 1 + n1, "<38>1 "));
    close(lfd);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
}

static void test_lf_framing_and_truncation(void **state)
{
    char yaml[256], buf[8192], ev[2000];
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int port, lfd = ola_listen(SOCK_STREAM, &port), cfd;
    size_t got, i, len;

    (void)state;
    /* notes of 2-byte characters, so max_size falls inside one */
    len = (size_t)snprintf(ev, sizeof(ev), "{\"id\":3,\"notes\":\"");
    for (i = 0; i < 400; i++)
        len += (size_t)snprintf(ev + len, sizeof(ev) - len, "\xc3\xa9");
    snprintf(ev + len, sizeof(ev) - len, "\"}");
    snprintf(yaml, sizeof(yaml),
             "type: syslog\nport: %d\nframing: lf\nmax_size: 501\nhostname: h\n", port);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    ola_add(&b, ev, 2);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    assert_int_equal(o->stats.truncated, 1);
    assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    cfd = accept(lfd, NULL, NULL);
    got = ola_read_msgs(cfd, buf, sizeof(buf), 1, false);
    assert_true(got >= 480 && got <= 502);
    assert_int_equal(buf[got - 1], '\n');
    assert_null(memchr(buf, '\n', got - 1));
    /* the cut fell on a character boundary: the last byte before LF ends a sequence */
    assert_true(((unsigned char)buf[got - 2] & 0xC0) == 0x80 &&
                ((unsigned char)buf[got - 3] & 0xE0) == 0xC0);
    close(lfd);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
}

static void test_closed_receiver_is_noticed(void **state)
{
    static const char ev[] = "{\"id\":4}";
    char yaml[256], buf[4096];
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int port, lfd = ola_listen(SOCK_STREAM, &port), cfd;
    size_t got;

    (void)state;
    snprintf(yaml, sizeof(yaml), "type: syslog\nport: %d\nhostname: h\n", port);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    ola_add(&b, ev, 0);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    cfd = accept(lfd, NULL, NULL);
    assert_true(ola_read_all(cfd, buf, sizeof(buf), 50) > 0);
    close(cfd); /* the receiver goes away */
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    /* a new connection, not a write into the closed one */
    assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    assert_int_equal(o->stats.emitted, 2);
    got = ola_read_msgs(cfd, buf, sizeof(buf), 1, true);
    assert_true(got > 0);
    assert_non_null(strstr(buf, "eventId=\"4\""));
    close(lfd);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
}

static void test_udp_datagram(void **state)
{
    static const char ev[] = "{\"id\":5}";
    char yaml[256], buf[4096];
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int port, fd = ola_listen(SOCK_DGRAM, &port);
    ssize_t r;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "type: syslog\ntransport: udp\nport: %d\nhostname: h\nrfc: 3164\n", port);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    ola_add(&b, ev, 10);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    r = recv(fd, buf, sizeof(buf) - 1, 0);
    assert_true(r > 0);
    buf[r] = '\0';
    /* local0(16)*8 + crit(2) = 130; RFC 3164 header, the JSON record, no framing */
    assert_memory_equal(buf, "<130>", 5);
    assert_non_null(strstr(buf, " h olagent["));
    assert_non_null(strstr(buf, "]: {\"id\":5,\"olagent\":"));
    assert_int_equal(buf[r - 1], '}');
    close(fd);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
}

/* oversize: dead_letter: the message is refused; bury puts it in the file, whole, and
 * counts it. */
static void test_oversize_dead_letter(void **state)
{
    char yaml[512], dl[] = "/tmp/ola-syslog-dl.XXXXXX", buf[16384], big[3000];
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int port, fd = ola_listen(SOCK_DGRAM, &port), dlfd = mkstemp(dl);
    ssize_t r;
    json_t *line;

    (void)state;
    assert_true(dlfd >= 0);
    close(dlfd);
    memset(big, 'x', sizeof(big));
    memcpy(big, "{\"id\":7,\"notes\":\"", 17);
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    snprintf(yaml, sizeof(yaml),
             "type: syslog\ntransport: udp\nport: %d\nhostname: h\n"
             "oversize: dead_letter\ndead_letter: %s\n",
             port, dl);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    ola_add(&b, big, 1);
    ola_add(&b, "{\"id\":8}", 1);
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    assert_int_equal(o->n_refused, 1);
    assert_int_equal(o->refused[0].rec, 0);
    assert_int_equal(ola_output_bury(o, &b, NULL), 0);
    assert_int_equal(o->stats.dead_letters, 1);
    assert_int_equal(o->stats.truncated, 0);
    assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    assert_int_equal(o->stats.emitted, 1);
    r = recv(fd, buf, sizeof(buf) - 1, 0);
    assert_true(r > 0);
    buf[r] = '\0';
    assert_non_null(strstr(buf, "eventId=\"8\""));
    /* the file holds one JSON line with the whole message */
    dlfd = open(dl, O_RDONLY);
    assert_true(dlfd >= 0);
    r = read(dlfd, buf, sizeof(buf) - 1);
    close(dlfd);
    assert_true(r > 0);
    line = json_loadb(buf, (size_t)r, 0, NULL);
    assert_non_null(line);
    assert_non_null(
        strstr(json_string_value(json_object_get(line, "reason")), "oversize"));
    assert_non_null(
        strstr(json_string_value(json_object_get(line, "record")), "eventId=\"7\""));
    assert_true(json_string_length(json_object_get(line, "record")) > sizeof(big));
    json_decref(line);
    unlink(dl);
    close(fd);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
}

/* Drains what is readable on fd into out without blocking. */
static void ola_drain(int fd, struct ola_buf *out)
{
    char buf[65536];

    for (;;) {
        ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (r <= 0)
            return;
        assert_int_equal(ola_buf_append(out, buf, (size_t)r), 0);
    }
}

/*
 * The receiver stops reading, so a message is left half written; then it
 * drops the connection. After reconnecting, the output must send that
 * message again from its first byte: the new stream is whole octet-counted
 * frames, the ids a contiguous run up to the last, each once.
 */
static void test_partial_message_resent_whole(void **state)
{
    enum { N = 1500 };
    static char notes[4001];
    char yaml[256], *texts = malloc((size_t)N * 4100);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    struct ola_buf got = OLA_BUF_INIT;
    int port, lfd, cfd, small = 4096, i;
    int64_t end;
    long long first = -1, prev = -1;
    size_t off = 0, frames = 0;
    enum ola_rc rc;

    (void)state;
    lfd = ola_listen(SOCK_STREAM, &port);
    assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    memset(notes, 'n', sizeof(notes) - 1);
    snprintf(yaml, sizeof(yaml), "type: syslog\nport: %d\nhostname: h\n", port);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    assert_non_null(texts);
    for (i = 1; i <= N; i++) { /* the raw bytes must outlive the batch, like a page */
        char *ev = texts + (size_t)(i - 1) * 4100;

        snprintf(ev, 4100, "{\"id\":%d,\"notes\":\"%s\"}", i, notes);
        ola_add(&b, ev, -1);
    }
    if (ola_output_write(o, &b) != OLA_OK)
        fail_msg("write: %s", o->last_error);
    /* ~6 MB to a receiver that reads nothing: the flush runs out of time */
    assert_int_equal(ola_output_flush(o, 300), OLA_RETRY);
    assert_true(o->stats.emitted < N);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    close(cfd); /* unread data: the peer resets the connection */
    assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
    /* waits are deadlines on the monotonic clock, not counts of rounds */
    end = ola_mono_ms() + 10000;
    do {
        rc = ola_output_flush(o, 100);
        cfd = accept(lfd, NULL, NULL);
    } while (cfd < 0 && errno == EAGAIN && ola_mono_ms() < end);
    assert_true(cfd >= 0);
    end = ola_mono_ms() + 20000;
    while (rc != OLA_OK && ola_mono_ms() < end) {
        ola_drain(cfd, &got);
        rc = ola_output_flush(o, 20);
    }
    assert_int_equal(rc, OLA_OK);
    assert_int_equal(o->stats.emitted, N);
    close(lfd);
    /* read to the end: until the last message (id N) is whole */
    end = ola_mono_ms() + 5000;
    while (ola_mono_ms() < end) {
        const char *last = got.len > 0 ? strstr(got.data, "eventId=\"1500\"") : NULL;

        ola_drain(cfd, &got);
        if (last != NULL && got.len >= 3 && memcmp(got.data + got.len - 3, "]}}", 3) == 0)
            break;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    close(cfd);
    ola_output_destroy(o);
    while (off < got.len) {
        char *sp, *p;
        unsigned long n = strtoul(got.data + off, &sp, 10);
        long long id;

        assert_int_equal(*sp, ' ');
        assert_true(n > 0 && (size_t)(sp + 1 - got.data) + n <= got.len);
        p = strstr(sp + 1, "eventId=\"");
        assert_non_null(p);
        id = strtoll(p + 9, NULL, 10);
        /* whole: the 4000 bytes of notes, then the spliced olagent object closing */
        assert_non_null(strstr(sp + 1, notes));
        assert_memory_equal(sp + 1 + n - 3, "]}}", 3);
        if (first < 0)
            first = id;
        else
            assert_int_equal(id, prev + 1);
        prev = id;
        frames++;
        off = (size_t)(sp + 1 - got.data) + n;
    }
    assert_int_equal(prev, N);
    assert_int_equal(frames, (size_t)(N - first + 1));
    ola_buf_free(&got);
    ola_batch_free(&b);
    free(texts);
    ola_cfg_doc_destroy(doc);
}

/*
 * The receiver has sent something the output never read (as a TLS server's
 * late session ticket) and has not read the messages yet when the output is
 * closed. A plain close() would answer with a reset, and the reset makes
 * the receiver's kernel drop what it holds: every message must still be
 * readable after the output is gone.
 */
static void test_close_keeps_unread_messages(void **state)
{
    enum { N = 300 };
    char yaml[256], *texts = malloc((size_t)N * 1100);
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    struct ola_buf got = OLA_BUF_INIT;
    int port, lfd = ola_listen(SOCK_STREAM, &port), cfd, i;
    int64_t end;
    char pad[1001];

    (void)state;
    assert_non_null(texts);
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    snprintf(yaml, sizeof(yaml), "type: syslog\nport: %d\nhostname: h\n", port);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    for (i = 0; i < N; i++) {
        char *ev = texts + (size_t)i * 1100;

        snprintf(ev, 1100, "{\"id\":%d,\"notes\":\"%s\"}", i + 1, pad);
        ola_add(&b, ev, -1);
    }
    assert_int_equal(ola_output_write(o, &b), OLA_OK);
    assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    assert_int_equal(send(cfd, "x", 1, 0), 1);
    nanosleep(&(struct timespec){0, 50000000}, NULL);
    ola_output_destroy(o); /* lingers until the receiver closes, at most 2 s */
    ola_drain(cfd, &got);
    end = ola_mono_ms() + 5000; /* a deadline on the monotonic clock */
    while (ola_count_msgs(got.data, got.len, true) < N && ola_mono_ms() < end) {
        nanosleep(&(struct timespec){0, 10000000}, NULL);
        ola_drain(cfd, &got);
    }
    assert_int_equal(ola_count_msgs(got.data, got.len, true), N);
    close(cfd);
    close(lfd);
    ola_buf_free(&got);
    ola_batch_free(&b);
    free(texts);
    ola_cfg_doc_destroy(doc);
}

static void ola_bad_config(const char *yaml, const char *want)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_output_cfg oc;
    struct ola_err err = {0};
    struct ola_output *o;

    assert_int_equal(ola_cfg_load_string("o.yaml", yaml, strlen(yaml), &doc, &err), 0);
    oc.node = ola_cfg_root(doc);
    oc.type = "syslog";
    oc.name = NULL;
    o = ola_output_new(&oc, 0, &err);
    if (o != NULL || strstr(err.msg, want) == NULL)
        fail_msg("%s: got '%s', want '%s'", yaml, o ? "no error" : err.msg, want);
    ola_cfg_doc_destroy(doc);
}

/* app_name with {tenant}: each batch's messages name their tenant (default: "default").
 */
static void test_app_name_tenant(void **state)
{
    char yaml[256], buf[8192];
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    int port, lfd = ola_listen(SOCK_STREAM, &port), cfd;
    const char *tenants[] = {"acme", "globex", NULL};
    char *m2, *m3;
    int i;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "type: syslog\nport: %d\nhostname: h1\nframing: lf\n"
             "app_name: \"ola-{tenant}\"\n",
             port);
    o = ola_make(&doc, yaml);
    ola_batch_init(&b);
    for (i = 0; i < 3; i++) {
        ola_batch_reset(&b);
        b.tenant = tenants[i];
        ola_add(&b, "{\"id\":1}", -1);
        assert_int_equal(ola_output_write(o, &b), OLA_OK);
        assert_int_equal(ola_output_flush(o, 5000), OLA_OK);
    }
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    ola_read_msgs(cfd, buf, sizeof(buf), 3, false);
    m2 = strchr(buf, '\n');
    assert_non_null(m2);
    m3 = strchr(m2 + 1, '\n');
    assert_non_null(m3);
    assert_memory_equal(buf, "<134>1 2022-08-08T11:00:00.000Z h1 ola-acme ", 44);
    assert_memory_equal(m2 + 1, "<134>1 2022-08-08T11:00:00.000Z h1 ola-globex ", 46);
    assert_memory_equal(m3 + 1, "<134>1 2022-08-08T11:00:00.000Z h1 ola-default ", 47);
    /* a name that is no tenant's is never written into a header */
    ola_batch_reset(&b);
    b.tenant = "two words";
    ola_add(&b, "{\"id\":2}", -1);
    assert_int_equal(ola_output_write(o, &b), OLA_FATAL);
    close(lfd);
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    /* 16 characters and the longest tenant's 32: RFC 5424's 48 exactly */
    o = ola_make(&doc, "type: syslog\napp_name: \"olagent-collect-{tenant}\"\n");
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    ola_batch_free(&b);
}

static void test_config_errors(void **state)
{
    (void)state;
    ola_bad_config("transport: sctp\n", "transport");
    ola_bad_config("rfc: 5425\n", "rfc");
    ola_bad_config("transport: unix\n", "needs 'socket'");
    ola_bad_config("transport: tcp\ntls: {ca_file: x}\n", "only with transport tls");
    ola_bad_config("transport: tls\ntls: {ca_file: /nonexistent/ca.pem}\n", "ca_file");
    ola_bad_config("transport: tls\ntls: {cert_file: /x.pem}\n", "go together");
    ola_bad_config("transport: tls\ntls: {verfy: false}\n", "verfy");
    ola_bad_config("sd_id: olagent\n", "sd_id");
    ola_bad_config("sd_id: \"a b@1\"\n", "sd_id");
    ola_bad_config("app_name: \"two words\"\n", "app_name");
    /* {tenant} counts as the longest name, 32 characters: 18 + 32 > 48 */
    ola_bad_config("app_name: \"olagent-collector-{tenant}\"\n", "longest tenant name");
    ola_bad_config("rfc: 3164\napp_name: \"olagent-{tenant}\"\n", "app_name: 1..32");
    ola_bad_config("facility: local9\n", "facility");
    ola_bad_config("max_size: 100\n", "max_size");
    ola_bad_config("transport: udp\nmax_size: 70000\n", "max_size");
    ola_bad_config("framing: crlf\n", "framing");
    ola_bad_config("portt: 514\n", "portt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_octet_framing_and_sd),
        cmocka_unit_test(test_lf_framing_and_truncation),
        cmocka_unit_test(test_closed_receiver_is_noticed),
        cmocka_unit_test(test_udp_datagram),
        cmocka_unit_test(test_oversize_dead_letter),
        cmocka_unit_test(test_partial_message_resent_whole),
        cmocka_unit_test(test_close_keeps_unread_messages),
        cmocka_unit_test(test_app_name_tenant),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
