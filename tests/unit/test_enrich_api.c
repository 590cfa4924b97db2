/*
 * test_enrich_api.c - the enricher through the interfaces it declares, with
 * a scripted API in memory (no HTTP, no client): struct ola_enrich_api for
 * its lookups and struct ola_enrich_types for the type names it learns.
 *
 * What the HTTP tests (test_enrich.c) cannot reach cheaply: the pause after
 * wholly failed rounds doubles from 5 s up to 5 min and starts from 5 s again
 * once a lookup works; every GET of a round goes through get_many with
 * scratch room for each; type names come from the names interface and are
 * taught through it, fetched at most every 10 min, and ids the API does not
 * know either do not cause another fetch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/log.h"
#include "config/config.h"
#include "filters/enrich/enrich.h"

#define TA_SCRATCH 24 /* bytes of scratch asked for per GET */

/* The scripted API: users answer 503 while down, else a small user object. */
struct ta_api {
    int down;
    unsigned gets;       /* GETs answered (get and get_many) */
    unsigned types_gets; /* GET /api/1/events/types */
    unsigned setups;
};

static void ta_answer(struct ta_api *a, struct ola_enrich_get *g)
{
    long long id;
    int n;

    a->gets++;
    ola_buf_free(&g->body);
    g->retry_after_ms = 0;
    if (strcmp(g->path, "/api/1/events/types") == 0) {
        a->types_gets++;
        g->status = OLA_ENRICH_OK;
        g->http_status = 200;
        snprintf(g->reason, sizeof(g->reason), "HTTP 200");
        assert_int_equal(ola_buf_puts(&g->body, "{\"data\": [{\"id\": 7, \"name\": "
                                                "\"SEVEN\"}, {\"id\": 8, \"name\": "
                                                "\"EIGHT\"}]}"),
                         0);
        return;
    }
    assert_int_equal(sscanf(g->path, "/api/2/users/%lld%n", &id, &n), 1);
    assert_int_equal(g->path[n], '\0');
    if (a->down) {
        g->status = OLA_ENRICH_FAILED;
        g->http_status = 503;
        snprintf(g->reason, sizeof(g->reason), "HTTP 503");
        return;
    }
    g->status = OLA_ENRICH_OK;
    g->http_status = 200;
    snprintf(g->reason, sizeof(g->reason), "HTTP 200");
    assert_int_equal(ola_buf_printf(&g->body,
                                    "{\"id\": %lld, \"username\": \"user%lld\", "
                                    "\"status\": 1, \"role_ids\": []}",
                                    id, id),
                     0);
}

static int ta_setup(void *ctx, unsigned concurrency, int64_t timeout_ms, double reserve,
                    struct ola_err *err)
{
    struct ta_api *a = ctx;

    (void)err;
    assert_int_equal(concurrency, 4);
    assert_int_equal(timeout_ms, 5000);
    assert_true(reserve > 0.19 && reserve < 0.21);
    a->setups++;
    return 0;
}

static void ta_get(void *ctx, struct ola_enrich_get *g)
{
    ta_answer(ctx, g);
}

static void ta_get_many(void *ctx, struct ola_enrich_get *g, size_t n, void *scratch)
{
    size_t i;

    assert_non_null(scratch);
    memset(scratch, 0xa5, n * TA_SCRATCH); /* room for every GET (ASan checks) */
    for (i = 0; i < n; i++)
        ta_answer(ctx, &g[i]);
}

static int64_t ta_server_now(void *ctx)
{
    (void)ctx;
    return 1700000000000;
}

struct ta {
    struct ta_api api_state;
    struct ola_enricher *en;
    struct ola_batch b;
    int64_t now;
};

static int ta_fixture_setup(void **state)
{
    struct ta *t = calloc(1, sizeof(*t));
    struct ola_enrich_settings o;
    struct ola_enrich_api api;
    struct ola_err err = {0, ""};

    assert_non_null(t);
    memset(&o, 0, sizeof(o));
    o.users = true;
    o.roles = true;
    o.event_types = true;
    o.concurrency = 4;
    o.api_version = 2;
    o.timeout_ms = 5000;
    o.reserve = 0.2;
    o.cache_entries = 100;
    o.cache_ttl_ms = 15 * 60000;
    o.cache_negative_ms = 5 * 60000;
    memset(&api, 0, sizeof(api));
    api.ctx = &t->api_state;
    api.setup = ta_setup;
    api.get = ta_get;
    api.get_many = ta_get_many;
    api.scratch_size = TA_SCRATCH;
    api.server_now_ms = ta_server_now;
    if (ola_enricher_new(&o, &api, &t->en, &err) != 0)
        fail_msg("enricher: %s", err.msg);
    assert_int_equal(t->api_state.setups, 1);
    ola_batch_init(&t->b);
    t->now = 1000000;
    *state = t;
    return 0;
}

static int ta_fixture_teardown(void **state)
{
    struct ta *t = *state;

    ola_batch_free(&t->b);
    ola_enricher_destroy(t->en);
    free(t);
    return 0;
}

/* One batch of one event (type, user) at t->now; returns the event. */
static struct ola_event *ta_run1(struct ta *t, long long type, long long user,
                                 const struct ola_enrich_types *types)
{
    json_t *ev = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)1, "event_type_id",
                           (json_int_t)type, "user_id", (json_int_t)user);

    assert_non_null(ev);
    ola_batch_reset(&t->b);
    assert_non_null(ola_batch_add(&t->b, OLA_REC_EVENT, ev, NULL, 0));
    assert_int_equal(ola_enrich_batch(t->en, &t->b, types, t->now), 0);
    return &t->b.ev[0];
}

static const char *ta_enrichment(const struct ola_event *e)
{
    return json_string_value(json_object_get(e->ola, "enrichment"));
}

/*
 * Checks that a wholly failed round at t->now pauses lookups for pause_ms:
 * one ms before its end a lookup is skipped, at its end it goes out (and
 * fails again while the API is down). user: a fresh id for each probe.
 */
static void ta_expect_pause(struct ta *t, int64_t pause_ms, long long *user)
{
    unsigned gets = t->api_state.gets;
    int64_t start = t->now;

    t->now = start + pause_ms - 1;
    assert_string_equal(ta_enrichment(ta_run1(t, 5, (*user)++, NULL)), "failed");
    assert_int_equal(t->api_state.gets, gets); /* paused: nothing sent */
    t->now = start + pause_ms;
    (void)ta_run1(t, 5, (*user)++, NULL);
    assert_int_equal(t->api_state.gets, gets + 1);
}

static void test_pause_doubles_and_resets(void **state)
{
    struct ta *t = *state;
    static const int64_t pauses[] = {5000,   10000,  20000,  40000, 80000,
                                     160000, 300000, 300000, 300000};
    long long user = 1001;
    size_t i;

    ola_log_setup(OLA_LOG_ERR, OLA_LOG_TEXT, NULL); /* the pauses' warnings */
    t->api_state.down = 1;
    assert_string_equal(ta_enrichment(ta_run1(t, 5, user++, NULL)), "failed");
    assert_int_equal(t->api_state.gets, 1);
    for (i = 0; i < sizeof(pauses) / sizeof(pauses[0]); i++)
        ta_expect_pause(t, pauses[i], &user);
    /* the API answers again once the last pause is over: the next pause is 5 s */
    t->api_state.down = 0;
    t->now += 300000;
    assert_null(ta_enrichment(ta_run1(t, 5, user++, NULL)));
    t->api_state.down = 1;
    t->now += 1;
    assert_string_equal(ta_enrichment(ta_run1(t, 5, user++, NULL)), "failed");
    ta_expect_pause(t, 5000, &user);
    ta_expect_pause(t, 10000, &user);
}

/* A names table: ids 1..15, and what was taught. */
struct ta_names {
    const char *name[16];
    unsigned learned;
};

static const char *ta_name(void *ctx, long long id)
{
    struct ta_names *n = ctx;

    return id > 0 && id < 16 ? n->name[id] : NULL;
}

static int ta_learn(void *ctx, long long id, const char *name)
{
    struct ta_names *n = ctx;

    if (id <= 0 || id >= 16)
        return -1;
    n->name[id] = strcmp(name, "SEVEN") == 0 ? "SEVEN" : "OTHER";
    n->learned++;
    return 0;
}

static void test_type_names_through_the_interface(void **state)
{
    struct ta *t = *state;
    struct ta_names names;
    struct ola_enrich_types types = {&names, ta_name, ta_learn};
    struct ola_enrich_stats st;

    memset(&names, 0, sizeof(names));
    names.name[5] = "KNOWN";
    /* without the interface no names are looked for */
    (void)ta_run1(t, 7, 1001, NULL);
    assert_int_equal(t->api_state.types_gets, 0);
    /* a known id: no fetch */
    (void)ta_run1(t, 5, 1001, &types);
    assert_int_equal(t->api_state.types_gets, 0);
    /* an unknown id: one fetch, taught through learn */
    (void)ta_run1(t, 7, 1001, &types);
    assert_int_equal(t->api_state.types_gets, 1);
    assert_string_equal(names.name[7], "SEVEN");
    assert_int_equal(names.learned, 1);
    /* an id the fresh list names: taught from it, no fetch */
    t->now += 1000;
    (void)ta_run1(t, 8, 1001, &types);
    assert_int_equal(t->api_state.types_gets, 1);
    assert_string_equal(names.name[8], "OTHER");
    /* an id the list lacks: fetched again, but not within 10 min of the last */
    (void)ta_run1(t, 9, 1001, &types);
    assert_int_equal(t->api_state.types_gets, 1);
    t->now += 10 * 60000;
    (void)ta_run1(t, 9, 1001, &types);
    assert_int_equal(t->api_state.types_gets, 2);
    assert_null(names.name[9]);
    /* the API does not know it either: no more fetches for it */
    t->now += 10 * 60000 + 1;
    (void)ta_run1(t, 9, 1001, &types);
    assert_int_equal(t->api_state.types_gets, 2);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.type_fetches, 2);
    assert_int_equal(st.types_learned, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pause_doubles_and_resets, ta_fixture_setup,
                                        ta_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_type_names_through_the_interface,
                                        ta_fixture_setup, ta_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
