/*
 * test_metrics.c - the Prometheus exposition, readiness rules and the HTTP
 * server.
 *
 * The render tests parse the text back: every sample belongs to a family
 * announced by HELP and TYPE lines, histograms are cumulative with +Inf equal
 * to _count, label values are escaped. The server tests start a real
 * libmicrohttpd daemon on 127.0.0.1 port 0 and fetch from it with libcurl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "agent/core/buf.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/metrics.h"

/* The figures a test publishes: the outputs and one tenant, "default". */
struct snap {
    struct ola_metrics_outputs o;
    struct ola_metrics_tenant t;
    struct ola_metrics_view v;
};

static void fill_snapshot(struct snap *sn)
{
    struct ola_metrics_outputs *s = &sn->o;
    struct ola_metrics_tenant *t = &sn->t;

    memset(sn, 0, sizeof(*sn));
    sn->v.outputs = s;
    sn->v.tenants = t;
    sn->v.n_tenants = 1;
    snprintf(t->name, sizeof(t->name), "default");
    t->stats = &ola_stats;
    t->poll_interval_ms = 10000;
    s->n_outputs = 2;
    snprintf(s->outputs[0].name, sizeof(s->outputs[0].name), "main");
    snprintf(s->outputs[0].type, sizeof(s->outputs[0].type), "kafka");
    s->outputs[0].emitted = 42;
    s->outputs[0].errors = 3;
    s->outputs[0].dead_letters = 2;
    s->outputs[0].ok = true;
    snprintf(s->outputs[1].name, sizeof(s->outputs[1].name), "we\"ird\\na\nme");
    snprintf(s->outputs[1].type, sizeof(s->outputs[1].type), "file");
    s->outputs[1].emitted = 7;
    s->outputs[1].dead_letters = 1;
    s->outputs[1].truncated = 5;
    s->outputs[1].ok = true;
    t->api_requests = 100;
    t->api_token_requests = 2;
    t->api_rate_limited = 4;
    t->api_retries = 6;
    t->api_paced_ms = 1500;
    t->api_by_endpoint[OLA_OL_EP_USERS][OLA_OL_SC_NONE] = 1;
    t->api_by_endpoint[OLA_OL_EP_EVENTS][OLA_OL_SC_2XX] = 90;
    t->api_by_endpoint[OLA_OL_EP_EVENTS][OLA_OL_SC_429] = 4;
    t->api_by_endpoint[OLA_OL_EP_TOKEN][OLA_OL_SC_5XX] = 5;
    t->rate_limit = 5000;
    t->rate_remaining = 4321;
    t->n_rules = 1;
    snprintf(t->rules[0].name, sizeof(t->rules[0].name), "brute_force");
    t->rules[0].alerts = 9;
    t->rules_state_capped = 1;
    t->rules_state_evicted = 4;
    t->seen_ids = 321;
    t->enrich_hits = 11;
}

/* The family a sample line belongs to: its name, minus a histogram suffix. */
static void family_of(const char *line, char *fam, size_t n, const char *types)
{
    size_t len = strcspn(line, "{ ");
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    size_t i;

    assert_true(len < n);
    memcpy(fam, line, len);
    fam[len] = '\0';
    for (i = 0; i < 3; i++) {
        size_t sl = strlen(sfx[i]);
        char probe[160];

        if (len <= sl || strcmp(fam + len - sl, sfx[i]) != 0)
            continue;
        snprintf(probe, sizeof(probe), "# TYPE %.*s histogram\n", (int)(len - sl), fam);
        if (strstr(types, probe) != NULL)
            fam[len - sl] = '\0';
    }
}

/* Every sample's family has HELP then TYPE before it; no family twice. */
static void check_exposition(const char *text)
{
    const char *p = text;
    char fam[128], cur[128] = "", probe[200];
    int families = 0;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        char line[512];
        size_t len;

        assert_non_null(nl); /* every line ends with \n */
        len = (size_t)(nl - p);
        assert_true(len < sizeof(line));
        memcpy(line, p, len);
        line[len] = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            size_t nlen = strcspn(line + 7, " ");

            memcpy(cur, line + 7, nlen);
            cur[nlen] = '\0';
            assert_true(strncmp(cur, "olagent_", 8) == 0);
            /* announced once */
            snprintf(probe, sizeof(probe), "# HELP %s ", cur);
            assert_ptr_equal(strstr(text, probe), p);
            /* TYPE follows at once */
            snprintf(probe, sizeof(probe), "# TYPE %s ", cur);
            assert_int_equal(strncmp(nl + 1, probe, strlen(probe)), 0);
            families++;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            snprintf(probe, sizeof(probe), "# TYPE %s ", cur);
            assert_int_equal(strncmp(line, probe, strlen(probe)), 0);
            assert_true(strstr(line, " counter") || strstr(line, " gauge") ||
                        strstr(line, " histogram"));
            if (strstr(line, " counter") != NULL)
                assert_non_null(strstr(cur, "_total"));
        } else {
            assert_true(line[0] != '#' && line[0] != '\0');
            family_of(line, fam, sizeof(fam), text);
            assert_string_equal(fam, cur);
        }
        p = nl + 1;
    }
    assert_true(families >= 40);
}

/* The value of the sample whose line starts with `series ` (exact). */
static const char *sample(const char *text, const char *series)
{
    char probe[256];
    const char *hit;

    snprintf(probe, sizeof(probe), "\n%s ", series);
    hit = strstr(text, probe);
    return hit ? hit + strlen(probe) : NULL;
}

static void assert_sample(const char *text, const char *series, const char *value)
{
    const char *v = sample(text, series);

    if (v == NULL)
        fail_msg("no sample %s", series);
    if (strncmp(v, value, strlen(value)) != 0 || v[strlen(value)] != '\n')
        fail_msg("%s: want %s, have %.20s", series, value, v);
}

static void test_render_families(void **state)
{
    struct snap s;
    struct ola_buf b = OLA_BUF_INIT;
    const int64_t now = 1700000000000LL;

    (void)state;
    ola_stats_reset();
    fill_snapshot(&s);
    OLA_STAT_SET(started_ms, now - 60000);
    OLA_STAT_ADD(events_received, 1000);
    OLA_STAT_ADD(events_delivered, 990);
    OLA_STAT_ADD(duplicates, 8);
    OLA_STAT_ADD(malformed, 2);
    OLA_STAT_ADD(dropped_rule, 12);
    OLA_STAT_ADD(retries, 3);
    OLA_STAT_ADD(backoff_ms, 7250);
    OLA_STAT_SET(watermark_ms, now - 3 * 3600 * 1000 - 500);
    OLA_STAT_SET(checkpoint_ms, now - 2000);
    OLA_STAT_SET(newest_event_ms, now - 90000);
    OLA_STAT_SET(token_ok, 1);
    assert_int_equal(ola_metrics_render(&s.v, now, &b), 0);
    check_exposition(b.data);

    assert_sample(b.data, "olagent_up", "1");
    assert_sample(b.data, "olagent_build_info{version=\"" OLA_VERSION "\"}", "1");
    assert_sample(b.data, "olagent_start_time_seconds", "1699999940");
    assert_sample(b.data, "olagent_events_received_total{tenant=\"default\"}", "1000");
    assert_sample(b.data, "olagent_events_delivered_total{tenant=\"default\"}", "990");
    assert_sample(b.data, "olagent_events_emitted_total{output=\"main\",type=\"kafka\"}",
                  "42");
    assert_sample(
        b.data, "olagent_events_dropped_total{reason=\"rule\",tenant=\"default\"}", "12");
    assert_sample(b.data, "olagent_events_dropped_total{reason=\"dead_letter\"}", "3");
    assert_sample(b.data,
                  "olagent_events_dropped_total{reason=\"malformed\",tenant=\"default\"}",
                  "2");
    assert_sample(b.data, "olagent_duplicates_skipped_total{tenant=\"default\"}", "8");
    assert_sample(b.data,
                  "olagent_api_requests_total{tenant=\"default\",endpoint=\"events\","
                  "status=\"2xx\"}",
                  "90");
    assert_sample(b.data,
                  "olagent_api_requests_total{tenant=\"default\",endpoint=\"users\","
                  "status=\"none\"}",
                  "1");
    assert_sample(b.data,
                  "olagent_api_requests_total{tenant=\"default\",endpoint=\"events\","
                  "status=\"429\"}",
                  "4");
    assert_sample(b.data,
                  "olagent_api_requests_total{tenant=\"default\",endpoint=\"token\","
                  "status=\"5xx\"}",
                  "5");
    assert_null(strstr(b.data, "endpoint=\"roles\""));
    assert_sample(b.data, "olagent_api_token_requests_total{tenant=\"default\"}", "2");
    assert_sample(b.data, "olagent_api_paced_seconds_total{tenant=\"default\"}", "1.5");
    assert_sample(b.data, "olagent_rate_limit_limit{tenant=\"default\"}", "5000");
    assert_sample(b.data, "olagent_rate_limit_remaining{tenant=\"default\"}", "4321");
    assert_sample(b.data, "olagent_retries_total{tenant=\"default\"}", "3");
    assert_sample(b.data, "olagent_backoff_seconds_total{tenant=\"default\"}", "7.25");
    assert_sample(b.data, "olagent_checkpoint_age_seconds{tenant=\"default\"}", "2");
    assert_sample(b.data, "olagent_watermark_lag_seconds{tenant=\"default\"}", "10800.5");
    assert_sample(b.data, "olagent_newest_event_age_seconds{tenant=\"default\"}", "90");
    assert_sample(b.data, "olagent_output_errors_total{output=\"main\"}", "3");
    assert_sample(b.data, "olagent_output_up{output=\"main\"}", "1");
    assert_sample(b.data, "olagent_alerts_total{tenant=\"default\",rule=\"brute_force\"}",
                  "9");
    assert_sample(b.data, "olagent_seen_ids{tenant=\"default\"}", "321");
    assert_sample(b.data, "olagent_alert_state_evicted_total{tenant=\"default\"}", "4");
    assert_sample(b.data, "olagent_enrich_cache_hits_total{tenant=\"default\"}", "11");
    assert_sample(b.data, "olagent_enrich_cache_misses_total{tenant=\"default\"}", "0");
    assert_sample(b.data, "olagent_enrich_deferred_total{tenant=\"default\"}", "0");
    assert_sample(b.data, "olagent_api_token_valid{tenant=\"default\"}", "1");
    /* Unknown figures have HELP/TYPE but no sample. */
    assert_null(sample(b.data, "olagent_last_poll_age_seconds{tenant=\"default\"}"));
    assert_non_null(strstr(b.data, "# TYPE olagent_last_poll_age_seconds gauge\n"));
    ola_buf_free(&b);
    ola_stats_reset();
}

static void test_render_escaping(void **state)
{
    struct snap s;
    struct ola_buf b = OLA_BUF_INIT;

    (void)state;
    ola_stats_reset();
    fill_snapshot(&s);
    assert_int_equal(ola_metrics_render(&s.v, 1700000000000LL, &b), 0);
    /* name: we"ird\na<newline>me */
    assert_sample(b.data,
                  "olagent_events_emitted_total{output=\"we\\\"ird\\\\na\\nme\","
                  "type=\"file\"}",
                  "7");
    assert_sample(b.data,
                  "olagent_output_truncated_total{output=\"we\\\"ird\\\\na\\nme\"}", "5");
    ola_buf_free(&b);
}

static void test_render_histograms(void **state)
{
    struct snap s;
    struct ola_buf b = OLA_BUF_INIT;
    const char *p;
    uint64_t prev = 0;
    int buckets = 0;

    (void)state;
    ola_stats_reset();
    ola_hist_observe(&ola_stats.batch_latency, 5);     /* <= 0.01 */
    ola_hist_observe(&ola_stats.batch_latency, 10);    /* <= 0.01 (bounds inclusive) */
    ola_hist_observe(&ola_stats.batch_latency, 1200);  /* <= 1.5 */
    ola_hist_observe(&ola_stats.batch_latency, 99999); /* +Inf */
    ola_hist_observe(&ola_stats.late, 45000);          /* <= 60 */
    fill_snapshot(&s);
    s.v.outputs = NULL;
    s.t.rate_limit = s.t.rate_remaining = -1;
    assert_int_equal(ola_metrics_render(&s.v, 1700000000000LL, &b), 0);
    check_exposition(b.data);
    assert_non_null(strstr(b.data, "# TYPE olagent_batch_latency_seconds histogram\n"));
    assert_sample(b.data,
                  "olagent_batch_latency_seconds_bucket{tenant=\"default\",le=\"0.01\"}",
                  "2");
    assert_sample(b.data,
                  "olagent_batch_latency_seconds_bucket{tenant=\"default\",le=\"0.025\"}",
                  "2");
    assert_sample(
        b.data, "olagent_batch_latency_seconds_bucket{tenant=\"default\",le=\"1\"}", "2");
    assert_sample(b.data,
                  "olagent_batch_latency_seconds_bucket{tenant=\"default\",le=\"1.5\"}",
                  "3");
    assert_sample(b.data,
                  "olagent_batch_latency_seconds_bucket{tenant=\"default\",le=\"30\"}",
                  "3");
    assert_sample(b.data,
                  "olagent_batch_latency_seconds_bucket{tenant=\"default\",le=\"+Inf\"}",
                  "4");
    assert_sample(b.data, "olagent_batch_latency_seconds_count{tenant=\"default\"}", "4");
    assert_sample(b.data, "olagent_batch_latency_seconds_sum{tenant=\"default\"}",
                  "101.214");
    assert_sample(b.data,
                  "olagent_event_lateness_seconds_bucket{tenant=\"default\",le=\"30\"}",
                  "0");
    assert_sample(b.data,
                  "olagent_event_lateness_seconds_bucket{tenant=\"default\",le=\"60\"}",
                  "1");
    assert_sample(
        b.data, "olagent_event_lateness_seconds_bucket{tenant=\"default\",le=\"86400\"}",
        "1");
    assert_sample(b.data, "olagent_event_lateness_seconds_sum{tenant=\"default\"}", "45");
    /* Cumulative: never decreasing, 13 buckets. */
    p = b.data;
    while ((p = strstr(p, "\nolagent_batch_latency_seconds_bucket{")) != NULL) {
        uint64_t v;
        char *end;

        p = strchr(p, ' ') + 1;
        v = strtoull(p, &end, 10);
        assert_true(*end == '\n');
        assert_true(v >= prev);
        prev = v;
        buckets++;
    }
    assert_int_equal(buckets, 13);
    /* Without the outputs' figures: no per-output samples; rate limit unknown. */
    assert_null(sample(b.data, "olagent_rate_limit_remaining{tenant=\"default\"}"));
    assert_null(strstr(b.data, "olagent_output_up{"));
    ola_buf_free(&b);
    ola_stats_reset();
}

static void test_ready_rules(void **state)
{
    struct snap s;
    struct ola_buf why = OLA_BUF_INIT;
    const int64_t now = 1700000000000LL;

    (void)state;
    ola_stats_reset();
    fill_snapshot(&s);
    assert_false(ola_metrics_ready(&s.v, now, &why));
    assert_non_null(strstr(why.data, "tenant default: the API token"));
    ola_buf_reset(&why);
    OLA_STAT_SET(token_ok, 1);
    assert_false(ola_metrics_ready(&s.v, now, &why));
    assert_non_null(strstr(why.data, "no successful poll"));
    ola_buf_reset(&why);
    OLA_STAT_SET(last_poll_ok_ms, now - 31000);
    assert_false(ola_metrics_ready(&s.v, now, &why));
    assert_non_null(strstr(why.data, "3 poll intervals"));
    ola_buf_reset(&why);
    OLA_STAT_SET(last_poll_ok_ms, now - 30000);
    assert_true(ola_metrics_ready(&s.v, now, &why));
    assert_string_equal(why.data, "tenant default: up\n");
    ola_buf_reset(&why);
    s.v.outputs = NULL;
    assert_false(ola_metrics_ready(&s.v, now, &why));
    assert_non_null(strstr(why.data, "published"));
    ola_buf_reset(&why);
    s.v.outputs = &s.o;
    s.o.outputs[1].ok = false;
    assert_false(ola_metrics_ready(&s.v, now, &why));
    assert_non_null(strstr(why.data, "output"));
    s.o.outputs[1].ok = true;
    s.t.down = true;
    assert_false(ola_metrics_ready(&s.v, now, NULL));
    s.t.down = false;
    OLA_STAT_SET(token_ok, 0);
    assert_false(ola_metrics_ready(&s.v, now, NULL));
    ola_buf_free(&why);
    ola_stats_reset();
}

/* The HTTP outputs' request figures: samples only for outputs that send requests. */
static void test_render_requests(void **state)
{
    struct snap s;
    struct ola_buf b = OLA_BUF_INIT;
    struct ola_output_req_stats *r;

    (void)state;
    fill_snapshot(&s);
    snprintf(s.o.outputs[0].name, sizeof(s.o.outputs[0].name), "hook\"1");
    r = &s.o.outputs[0].req;
    r->active = true;
    r->requests[OLA_OUT_SC_2XX] = 7;
    r->requests[OLA_OUT_SC_NONE] = 2;
    r->bytes_sent = 1234;
    r->retries = 3;
    r->batches = 2;
    r->batch_ms = 1500;
    assert_int_equal(ola_metrics_render(&s.v, 1700000000000LL, &b), 0);
    check_exposition(b.data);
    assert_sample(b.data,
                  "olagent_output_requests_total{output=\"hook\\\"1\",status=\"2xx\"}",
                  "7");
    assert_sample(b.data,
                  "olagent_output_requests_total{output=\"hook\\\"1\",status=\"none\"}",
                  "2");
    assert_sample(b.data, "olagent_output_request_bytes_total{output=\"hook\\\"1\"}",
                  "1234");
    assert_sample(b.data, "olagent_output_request_retries_total{output=\"hook\\\"1\"}",
                  "3");
    assert_sample(b.data,
                  "olagent_output_batch_latency_seconds_total{output=\"hook\\\"1\"}",
                  "1.5");
    assert_sample(b.data, "olagent_output_batches_total{output=\"hook\\\"1\"}", "2");
    /* the other output sends no requests: no samples for it */
    assert_null(strstr(b.data, "olagent_output_requests_total{output=\"we"));
    ola_buf_free(&b);
}

/* Two tenants: each its own samples, readiness lists both, one down makes it 503. */
static void test_tenants(void **state)
{
    struct snap s;
    struct ola_metrics_tenant two[2];
    struct ola_stats st[2];
    struct ola_buf b = OLA_BUF_INIT, why = OLA_BUF_INIT;
    const int64_t now = 1700000000000LL;
    int i;

    (void)state;
    fill_snapshot(&s);
    for (i = 0; i < 2; i++) {
        ola_stats_init(&st[i]);
        two[i] = s.t;
        two[i].stats = &st[i];
        atomic_store(&st[i].token_ok, 1);
        atomic_store(&st[i].last_poll_ok_ms, now - 1000);
        atomic_store(&st[i].events_delivered, (uint64_t)(10 + i));
        atomic_store(&st[i].loop_alive_ms, now);
    }
    snprintf(two[0].name, sizeof(two[0].name), "acme");
    snprintf(two[1].name, sizeof(two[1].name), "globex");
    two[1].down = true;
    snprintf(two[1].down_reason, sizeof(two[1].down_reason), "down: 401 Unauthorized");
    ola_hist_observe(&st[1].batch_latency, 20);
    s.v.tenants = two;
    s.v.n_tenants = 2;
    assert_int_equal(ola_metrics_render(&s.v, now, &b), 0);
    check_exposition(b.data);
    assert_sample(b.data, "olagent_events_delivered_total{tenant=\"acme\"}", "10");
    assert_sample(b.data, "olagent_events_delivered_total{tenant=\"globex\"}", "11");
    assert_sample(b.data, "olagent_tenant_up{tenant=\"acme\"}", "1");
    assert_sample(b.data, "olagent_tenant_up{tenant=\"globex\"}", "0");
    assert_sample(b.data, "olagent_batch_latency_seconds_count{tenant=\"acme\"}", "0");
    assert_sample(b.data, "olagent_batch_latency_seconds_count{tenant=\"globex\"}", "1");
    assert_false(ola_metrics_ready(&s.v, now, &why));
    assert_non_null(strstr(why.data, "tenant acme: up\n"));
    assert_non_null(strstr(why.data, "tenant globex: down: 401 Unauthorized\n"));
    two[1].down = false;
    ola_buf_reset(&why);
    assert_true(ola_metrics_ready(&s.v, now, &why));
    assert_string_equal(why.data, "tenant acme: up\ntenant globex: up\n");
    /* liveness: each tenant's heartbeat counts */
    atomic_store(&ola_stats.loop_alive_ms, now);
    assert_true(ola_metrics_alive(&s.v, 60000, now, NULL));
    atomic_store(&st[1].loop_alive_ms, now - 61000);
    ola_buf_reset(&why);
    assert_false(ola_metrics_alive(&s.v, 60000, now, &why));
    assert_non_null(strstr(why.data, "tenant globex: its loop's last heartbeat"));
    ola_buf_free(&b);
    ola_buf_free(&why);
    ola_stats_reset();
}

/* ---- the server ----------------------------------------------------------- */

struct reply {
    long status;
    char ctype[128];
    struct ola_buf body;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;

    return ola_buf_append(&r->body, p, size * n) == 0 ? size * n : 0;
}

static void fetch(const char *host, int port, const char *path, const char *method,
                  struct reply *r)
{
    CURL *c = curl_easy_init();
    char url[256];
    char *ct = NULL;

    assert_non_null(c);
    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "http://%s:%d%s", host, port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (method != NULL)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (method != NULL && strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
    if (method != NULL && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
        snprintf(r->ctype, sizeof(r->ctype), "%s", ct);
    if (r->body.data == NULL)
        assert_int_equal(ola_buf_puts(&r->body, ""), 0);
    curl_easy_cleanup(c);
}

static void test_server(void **state)
{
    struct ola_metrics_cfg cfg = {"127.0.0.1:0", 10000, 60000};
    struct ola_metrics *m = NULL;
    struct snap s;
    struct ola_err err = {0, ""};
    struct reply r;
    int port;

    (void)state;
    ola_stats_reset();
    assert_int_equal(ola_metrics_start(&cfg, &m, &err), 0);
    port = ola_metrics_port(m);
    assert_true(port > 0 && port < 65536);

    /* Nothing published, loop not started. */
    fetch("127.0.0.1", port, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
    check_exposition(r.body.data);
    assert_non_null(strstr(r.body.data, "\nolagent_up 1\n"));
    ola_buf_free(&r.body);
    fetch("127.0.0.1", port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body.data, "has not started"));
    ola_buf_free(&r.body);
    fetch("127.0.0.1", port, "/readyz", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body.data, "not ready:\nno tenant has started yet\n"));
    ola_buf_free(&r.body);

    /* Stale heartbeat, then a fresh one. */
    OLA_STAT_SET(loop_alive_ms, ola_now_ms() - 61000);
    fetch("127.0.0.1", port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body.data, "heartbeat"));
    ola_buf_free(&r.body);
    OLA_STAT_SET(loop_alive_ms, ola_now_ms());
    fetch("127.0.0.1", port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "ok\n");
    ola_buf_free(&r.body);

    /* Token and poll fine, an output down: 503 naming it. */
    OLA_STAT_SET(token_ok, 1);
    OLA_STAT_SET(last_poll_ok_ms, ola_now_ms());
    fill_snapshot(&s);
    s.o.outputs[0].ok = false;
    assert_int_equal(ola_metrics_publish_tenant(m, &s.t), 0);
    ola_metrics_publish_outputs(m, &s.o);
    fetch("127.0.0.1", port, "/readyz", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body.data, "not ready:\ntenant default: up\n"));
    assert_non_null(strstr(r.body.data, "output main (kafka): not accepting data\n"));
    ola_buf_free(&r.body);
    s.o.outputs[0].ok = true;
    ola_metrics_publish_outputs(m, &s.o);
    fetch("127.0.0.1", port, "/readyz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "ready\ntenant default: up\n");
    ola_buf_free(&r.body);

    /* The published snapshot shows in /metrics. */
    fetch("127.0.0.1", port, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_sample(r.body.data,
                  "olagent_events_emitted_total{output=\"main\",type=\"kafka\"}", "42");
    ola_buf_free(&r.body);
    /* A tenant removed is gone from /metrics and /readyz. */
    ola_metrics_remove_tenant(m, "default");
    fetch("127.0.0.1", port, "/readyz", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_null(strstr(r.body.data, "tenant default"));
    ola_buf_free(&r.body);

    /* Elsewhere: 404; other methods: 405; HEAD is a GET without a body. */
    fetch("127.0.0.1", port, "/", NULL, &r);
    assert_int_equal(r.status, 404);
    ola_buf_free(&r.body);
    fetch("127.0.0.1", port, "/metrics/x", NULL, &r);
    assert_int_equal(r.status, 404);
    ola_buf_free(&r.body);
    fetch("127.0.0.1", port, "/metrics", "POST", &r);
    assert_int_equal(r.status, 405);
    ola_buf_free(&r.body);
    fetch("127.0.0.1", port, "/healthz", "DELETE", &r);
    assert_int_equal(r.status, 405);
    ola_buf_free(&r.body);
    fetch("127.0.0.1", port, "/healthz", "HEAD", &r);
    assert_int_equal(r.status, 200);
    ola_buf_free(&r.body);

    ola_metrics_stop(m);
    ola_metrics_stop(NULL);
    ola_stats_reset();
}

static void test_server_ipv6(void **state)
{
    struct ola_metrics_cfg cfg = {"[::1]:0", 10000, 0};
    struct ola_metrics *m = NULL;
    struct ola_err err = {0, ""};
    struct reply r;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa;

    (void)state;
    if (fd < 0)
        skip();
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        skip(); /* no IPv6 loopback on this machine */
    }
    close(fd);
    assert_int_equal(ola_metrics_start(&cfg, &m, &err), 0);
    fetch("[::1]", ola_metrics_port(m), "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    ola_buf_free(&r.body);
    ola_metrics_stop(m);
}

static void test_listen_errors(void **state)
{
    static const char *const bad[] = {"",
                                      "9464",
                                      "127.0.0.1",
                                      ":9464",
                                      "127.0.0.1:",
                                      "127.0.0.1:x",
                                      "1.2.3.4:70000",
                                      "::1:9464",
                                      "[::1]9464",
                                      "[::1:9464",
                                      "no.such.host.invalid:1"};
    struct ola_metrics_cfg cfg = {"127.0.0.1:0", 10000, 0};
    struct ola_metrics *m = NULL, *m2 = NULL;
    struct ola_err err = {0, ""};
    char spec[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.listen = bad[i];
        err.msg[0] = '\0';
        assert_int_equal(ola_metrics_start(&cfg, &m, &err), -1);
        assert_null(m);
        assert_non_null(strstr(err.msg, "metrics.listen: "));
    }
    /* A port in use. */
    cfg.listen = "127.0.0.1:0";
    assert_int_equal(ola_metrics_start(&cfg, &m, &err), 0);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ola_metrics_port(m));
    cfg.listen = spec;
    assert_int_equal(ola_metrics_start(&cfg, &m2, &err), -1);
    assert_non_null(strstr(err.msg, "cannot listen on 127.0.0.1:"));
    assert_non_null(strstr(err.msg, "in use"));
    ola_metrics_stop(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_families),
        cmocka_unit_test(test_render_escaping),
        cmocka_unit_test(test_render_histograms),
        cmocka_unit_test(test_ready_rules),
        cmocka_unit_test(test_tenants),
        cmocka_unit_test(test_render_requests),
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_server_ipv6),
        cmocka_unit_test(test_listen_errors),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
