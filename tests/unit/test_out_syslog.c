/*
 * test_out_syslog.c - the syslog output against a listening socket in the test.
 *
 * A loopback TCP listener (and a UDP socket) stand in for the receiver; the
 * test reads what the output wrote and checks octet-counting and LF framing,
 * RFC 5424 header and structured data escaping, truncation at a UTF-8
 * boundary, and that a closed receiver is noticed and the data resent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "output.h"

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
    got = ola_read_all(cfd, buf, sizeof(buf) - 1, 200);
    buf[got] = '\0';
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
    close(cfd);
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
    got = ola_read_all(cfd, buf, sizeof(buf), 502);
    assert_true(got >= 480 && got <= 502);
    assert_int_equal(buf[got - 1], '\n');
    assert_null(memchr(buf, '\n', got - 1));
    /* the cut fell on a character boundary: the last byte before LF ends a sequence */
    assert_true(((unsigned char)buf[got - 2] & 0xC0) == 0x80 &&
                ((unsigned char)buf[got - 3] & 0xE0) == 0xC0);
    close(cfd);
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
    got = ola_read_all(cfd, buf, sizeof(buf) - 1, 50);
    buf[got] = '\0';
    assert_non_null(strstr(buf, "eventId=\"4\""));
    assert_int_equal(o->stats.emitted, 2);
    close(cfd);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_octet_framing_and_sd),
        cmocka_unit_test(test_lf_framing_and_truncation),
        cmocka_unit_test(test_closed_receiver_is_noticed),
        cmocka_unit_test(test_udp_datagram),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
