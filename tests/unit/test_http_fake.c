/*
 * test_http_fake.c - the unit tests' HTTP fake (tests/lib/http_fake.c) itself.
 *
 * A plain libcurl client talks to a fake on loopback: routes take paths by
 * their longest key, a route's n-th request gets its n-th answer and the one
 * after the script gets 599, the handler answers what no route takes (or
 * drops the connection), the record keeps method, path, query, headers and
 * body, and a body cut short of its Content-Length fails the transfer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "tests/lib/http_fake.h"

struct hf_got {
    long status;
    CURLcode rc;
    char body[256];
    size_t len;
    char hdr[512];
    size_t hlen;
};

static size_t hf_body(char *p, size_t size, size_t n, void *arg)
{
    struct hf_got *g = arg;
    size_t k = size * n, room = sizeof(g->body) - 1 - g->len;

    memcpy(g->body + g->len, p, k < room ? k : room);
    g->len += k < room ? k : room;
    g->body[g->len] = '\0';
    return k;
}

static size_t hf_header(char *p, size_t size, size_t n, void *arg)
{
    struct hf_got *g = arg;
    size_t k = size * n, room = sizeof(g->hdr) - 1 - g->hlen;

    memcpy(g->hdr + g->hlen, p, k < room ? k : room);
    g->hlen += k < room ? k : room;
    g->hdr[g->hlen] = '\0';
    return k;
}

/* One request: path (with query) on f; post: a body to POST, or NULL (GET). */
static void hf_do(struct ola_fake *f, const char *path, const char *post,
                  struct hf_got *g)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "X-Test: Yes");
    char url[256];

    assert_non_null(c);
    assert_non_null(h);
    memset(g, 0, sizeof(*g));
    snprintf(url, sizeof(url), "%s%s", ola_fake_url(f), path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hf_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, g);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hf_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (post != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    g->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static char *hf_strdup(const char *s)
{
    char *p = strdup(s);

    assert_non_null(p);
    return p;
}

static int hf_handler(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a)
{
    (void)arg;
    if (strcmp(rq->path, "/drop") == 0)
        return -1;
    a->status = 202;
    a->body = hf_strdup(rq->path);
    a->len = strlen(a->body);
    return ola_fake_answer_header(a, "Retry-After", "7");
}

static void test_routes_and_sequence(void **state)
{
    struct ola_fake_opts o = {0};
    struct ola_fake_stats st;
    struct ola_fake *f = NULL;
    struct hf_got g;

    (void)state;
    assert_int_equal(ola_fake_start(&o, &f, NULL), 0);
    assert_non_null(ola_fake_push(f, "", 200, hf_strdup("any-1"), NULL));
    assert_non_null(
        ola_fake_push(f, "/a/", 201, hf_strdup("a-1"), "X-RateLimit-Limit", "100", NULL));
    assert_non_null(ola_fake_push(f, "/a/", 429, NULL, "Retry-After", "3", NULL));
    /* the longest key takes the path, answers go out in order */
    hf_do(f, "/a/x", NULL, &g);
    assert_int_equal(g.rc, CURLE_OK);
    assert_int_equal(g.status, 201);
    assert_string_equal(g.body, "a-1");
    assert_non_null(strstr(g.hdr, "X-RateLimit-Limit: 100\r\n"));
    assert_null(strstr(g.hdr, "Date:"));
    hf_do(f, "/b", NULL, &g);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, "any-1");
    hf_do(f, "/a/y", NULL, &g);
    assert_int_equal(g.status, 429);
    assert_int_equal(g.len, 0);
    assert_non_null(strstr(g.hdr, "Retry-After: 3\r\n"));
    /* past the script: 599, counted */
    hf_do(f, "/a/z", NULL, &g);
    assert_int_equal(g.status, 599);
    assert_string_equal(g.body, "unscripted request");
    ola_fake_stats(f, &st);
    assert_int_equal(st.requests, 4);
    assert_int_equal(st.unscripted, 1);
    assert_true(ola_fake_last(f, "/a/")->unscripted);
    assert_string_equal(ola_fake_last(f, "")->path, "/b");
    assert_null(ola_fake_last(f, "/c"));
    ola_fake_stop(f);
    ola_fake_stop(NULL);
}

static void test_recording_and_handler(void **state)
{
    struct ola_fake_opts o = {0};
    const struct ola_fake_req *rq;
    struct ola_fake *f = NULL;
    struct hf_got g;
    size_t mark;

    (void)state;
    o.handler = hf_handler;
    o.send_date = true;
    assert_int_equal(ola_fake_start(&o, &f, NULL), 0);
    hf_do(f, "/api/1/events?limit=50&x=a%20b", "{\"k\":1}", &g);
    assert_int_equal(g.status, 202);
    assert_string_equal(g.body, "/api/1/events");
    assert_non_null(strstr(g.hdr, "Retry-After: 7\r\n"));
    assert_non_null(strstr(g.hdr, "Date:"));
    rq = ola_fake_seen(f, 0);
    assert_non_null(rq);
    assert_string_equal(rq->method, "POST");
    assert_string_equal(rq->path, "/api/1/events");
    assert_null(rq->route);
    assert_false(rq->unscripted);
    assert_string_equal(ola_fake_query(rq, "limit"), "50");
    assert_string_equal(ola_fake_query(rq, "x"), "a b");
    assert_null(ola_fake_query(rq, "y"));
    assert_string_equal(ola_fake_header(rq, "x-test"), "Yes");
    assert_null(ola_fake_header(rq, "X-None"));
    assert_int_equal(rq->body_len, 7);
    assert_string_equal(rq->body, "{\"k\":1}");
    mark = ola_fake_requests(f);
    hf_do(f, "/api/2/users/1", NULL, &g);
    hf_do(f, "/auth/token", NULL, &g);
    assert_int_equal(ola_fake_count(f, 0, "/api/"), 2);
    assert_int_equal(ola_fake_count(f, mark, "/api/"), 1);
    assert_int_equal(ola_fake_count(f, mark, NULL), 2);
    assert_string_equal(ola_fake_last(f, NULL)->path, "/auth/token");
    assert_int_equal(ola_fake_wait_requests(f, 3, 1000), 0);
    assert_int_equal(ola_fake_wait_requests(f, 4, 50), -1);
    /* the handler may drop the connection: the client gets no answer */
    hf_do(f, "/drop", NULL, &g);
    assert_int_not_equal(g.rc, CURLE_OK);
    assert_int_equal(ola_fake_requests(f), 4);
    ola_fake_stop(f);
}

static void test_faults(void **state)
{
    struct ola_fake_opts o = {0};
    struct ola_fake_answer *a;
    struct ola_fake *f = NULL;
    struct hf_got g;

    (void)state;
    assert_int_equal(ola_fake_start(&o, &f, NULL), 0);
    /* a body cut short of its Content-Length: the transfer fails */
    a = ola_fake_push(f, "", 200, hf_strdup("{\"data\":[1,2,3]}"), NULL);
    assert_non_null(a);
    a->mode = OLA_FAKE_CUT;
    hf_do(f, "/x", NULL, &g);
    assert_int_equal(g.rc, CURLE_PARTIAL_FILE);
    assert_string_equal(g.body, "{\"data\":[1,2,3]}");
    /* a chunked body of `size` bytes */
    a = ola_fake_push(f, "", 200, NULL, NULL);
    assert_non_null(a);
    a->mode = OLA_FAKE_STREAM;
    a->size = 100;
    hf_do(f, "/x", NULL, &g);
    assert_int_equal(g.rc, CURLE_OK);
    assert_int_equal(g.len, 100);
    assert_non_null(strstr(g.hdr, "chunked"));
    ola_fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_and_sequence),
        cmocka_unit_test(test_recording_and_handler),
        cmocka_unit_test(test_faults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
