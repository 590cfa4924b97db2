/*
 * test_enrich.c - the enricher end to end against a small OneLogin tenant
 * over HTTP (enrich_fixture.h: the unit tests' HTTP fake playing the tenant,
 * recording every request and counting requests in flight and connections).
 *
 * The tests check what went over the wire: one lookup per distinct user and
 * role of a page, at most `concurrency` at once over reused connections,
 * nothing for a warm cache, a refetch after a user-changing event or the ttl,
 * deferral at the reserve without a single 429, a refused token, the v1
 * routes, event type names. Failed lookups are in test_enrich_failures.c;
 * the pure parts (eviction rules, user and role facts, the config section)
 * in test_enrich_facts.c.
 */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/arena.h"
#include "agent/core/event.h"
#include "agent/core/slab.h"
#include "agent/enrich_adapter.h"
#include "agent/onelogin/client.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "tests/unit/enrich_fixture.h"

/* ---- the enricher end to end ------------------------------------------------- */

static void test_page_dedupe_concurrency_warm(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    unsigned conns;
    size_t i, mark;

    te_open(t);
    /* 200 events over users 1001..1019, actors among them, role 503 on some */
    for (i = 0; i < 200; i++)
        te_event(t, 5, 1001 + (long long)(i % 19), 1001 + (long long)((i * 7) % 19),
                 i % 10 == 0 ? 503 : 0);
    te_run(t, NULL);
    /* one lookup per distinct user and role: 19 users, 503 + the users' 501, 502 */
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/"), 19);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/roles/"), 3);
    assert_int_equal(tn_mark(&t->srv), 22);
    assert_true(tn_stats(&t->srv).max_inflight <= 4);
    assert_true(tn_stats(&t->srv).max_inflight >= 2); /* they did overlap */
    /* four for lookups, one for the token (the client's own handle) */
    assert_true(tn_stats(&t->srv).connections <= 5);
    assert_int_equal(t->srv.token_requests, 1);
    for (i = 0; i < t->b.n; i++) {
        const struct ola_event *e = &t->b.ev[i];
        long long uid = 1001 + (long long)(i % 19),
                  aid = 1001 + (long long)((i * 7) % 19);

        te_check_user(te_ola(e, "user"), uid, uid % 3 == 0 ? 2 : 1);
        te_check_user(te_ola(e, "actor"), aid, aid % 3 == 0 ? 2 : 1);
        assert_null(te_enrichment(e));
        if (i % 10 == 0) {
            assert_string_equal(
                json_string_value(json_object_get(te_ola(e, "role"), "name")), "Sales");
        } else {
            assert_null(te_ola(e, "role"));
        }
    }
    /* the same users shared one object: no copy per event */
    assert_ptr_equal(te_ola(&t->b.ev[0], "user"), te_ola(&t->b.ev[19], "user"));
    /* 1001 and 1008 are both in Dept0 (the cache's records share the string:
       test_enrich_record.c; the trees events get are built per user) */
    assert_true(json_equal(json_object_get(te_ola(&t->b.ev[0], "user"), "department"),
                           json_object_get(te_ola(&t->b.ev[7], "user"), "department")));

    /* a second page with the same people: nothing goes over the wire */
    conns = tn_stats(&t->srv).connections;
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    for (i = 0; i < 100; i++)
        te_event(t, 8, 1001 + (long long)(i % 19), 0, 503);
    t->now += 60000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    te_check_user(te_ola(&t->b.ev[4], "user"), 1005, 2);
    assert_null(te_ola(&t->b.ev[4], "actor"));
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.misses, 22);
    assert_int_equal(st.hits, 19 + 1); /* the second page's distinct users and role */
    assert_int_equal(st.entries, 22);

    /* a new user later: one lookup, over a connection already open */
    ola_batch_reset(&t->b);
    te_event(t, 5, 1020, 0, 0);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1020"), 1);
    assert_int_equal(tn_mark(&t->srv), mark + 1);
    assert_int_equal(tn_stats(&t->srv).connections, conns);
}

/*
 * The pipeline runs inside its batch's arena (agent/pipeline.c); the trees a
 * hot user's events share outlast the batch, so they are made in the
 * enricher's lasting arena, never the batch's: after the batch is reset (its
 * arena poisoned under ASan) the tree still reads whole, and the next page's
 * events get the same tree.
 */
static void test_trees_outlast_the_batch_arena(void **state)
{
    struct te *t = *state;
    struct ola_arena *prev;
    json_t *tree;
    char *text;
    size_t i;

    ola_arena_install(); /* as the agent does; idempotent */
    te_open(t);
    prev = ola_batch_enter(&t->b);
    for (i = 0; i < 40; i++)
        te_event(t, 5, 1001 + (long long)(i % 4), 0, i % 10 == 0 ? 503 : 0);
    te_run(t, NULL);
    ola_batch_leave(prev);
    assert_true(ola_arena_transient(t->b.ev[0].ev)); /* the events are the batch's */
    assert_true(ola_arena_transient(t->b.ev[0].ola));
    tree = json_object_get(t->b.ev[0].ola, "user");
    assert_non_null(tree);
    assert_false(ola_arena_transient(tree));
    assert_false(ola_arena_transient(json_object_get(tree, "roles")));
    assert_false(ola_arena_transient(te_ola(&t->b.ev[0], "role")));
    json_incref(tree);
    ola_batch_reset(&t->b);
    text = ola_json_dumps(tree, JSON_COMPACT);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"id\":1001"));
    free(text);

    prev = ola_batch_enter(&t->b);
    te_event(t, 8, 1001, 0, 0);
    te_run(t, NULL);
    ola_batch_leave(prev);
    assert_ptr_equal(te_ola(&t->b.ev[0], "user"), tree); /* still hot: shared */
    te_check_user(tree, 1001, 1);
    json_decref(tree);
    ola_batch_reset(&t->b);
}

/*
 * A change older than the cached facts does not evict: they were fetched
 * after it and show it already (a backfill looks each user up once). A
 * change newer than the fetch does.
 */
static void test_change_older_than_fetch_keeps_entry(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    struct ola_event *e;
    size_t mark;
    int64_t server_now;

    te_open(t);
    te_event(t, 5, 1004, 0, 0);
    te_event(t, 5, 1005, 0, 700001);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/"), 2);
    server_now = ola_ol_server_now_ms(t->client);

    /* a backfill meets changes an hour old: no lookup */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    e = te_event(t, 4, 1004, 1005, 0); /* USER_ASSIGNED_ROLE */
    e->created_ms = server_now - 3600000;
    e = te_event(t, 9052, 1005, 0, 700001); /* role renamed */
    e->created_ms = server_now - 3600000;
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.changes_seen, 2);
    assert_int_equal(st.change_evictions, 0);
    assert_int_equal(
        json_integer_value(json_object_get(te_ola(&t->b.ev[0], "user"), "id")), 1004);

    /* the same change happening now (tailing): evicted and fetched again */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    e = te_event(t, 4, 1004, 1005, 0);
    e->created_ms = server_now + 1000;
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1004"), 1);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.change_evictions, 1);
    assert_int_equal(st.changes_seen, 2);
}

static void test_user_changing_event_evicts(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    size_t mark, i;

    te_open(t);
    for (i = 0; i < 19; i++)
        te_event(t, 5, 1001 + (long long)i, 0, 0);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/"), 19);

    /* the tenant changes: 1004 gets Sales, 1005's department moves */
    tn_user(&t->srv, 1004)->roles[1] = 503;
    tn_user(&t->srv, 1004)->n_roles = 2;
    snprintf(tn_user(&t->srv, 1005)->department, 32, "Moved");
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1004, 0, 0);      /* before the change in the page: fresh facts too */
    te_event(t, 4, 1004, 1001, 503); /* USER_ASSIGNED_ROLE to 1004 by 1001 */
    te_event(t, 5, 1005, 0, 0);      /* 1005 changed without an event: still cached */
    te_event(t, 8, 1006, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    /* 1004 again, role 503 for the event's role_id; nothing else */
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1004"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/roles/503"), 1);
    for (i = 0; i < 2; i++) {
        const json_t *roles = json_object_get(te_ola(&t->b.ev[i], "user"), "roles");

        assert_int_equal(json_array_size(roles), 2);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(roles, 1), "name")),
            "Sales");
    }
    /* the actor of a user-changing event is not evicted */
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1001"), 0);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[2], "user"), "department")),
        "Dept4");
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.change_evictions, 1);
    assert_int_equal(st.evictions, 1);

    /* deleted, locked, role removed, password: each one lookup, once per page */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 17, 1007, 0, 0);  /* DELETED_USER */
    te_event(t, 19, 1008, 0, 0);  /* USER_LOCKED */
    te_event(t, 148, 1009, 0, 0); /* USER_MANUALLY_REMOVED_FROM_ROLE */
    te_event(t, 11, 1010, 0, 0);  /* USER_CHANGED_PASSWORD */
    te_event(t, 11, 1010, 0, 0);  /* twice in a page: one eviction, one lookup */
    te_event(t, 6, 1011, 0, 0);   /* a failed login changes nothing */
    tn_user(&t->srv, 1007)->deleted = 1;
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/"), 4);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1011"), 0);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.change_evictions, 5);
    /* the deleted user: the event's own name, found false; remembered */
    {
        const json_t *u = te_ola(&t->b.ev[0], "user");

        assert_int_equal(json_integer_value(json_object_get(u, "id")), 1007);
        assert_string_equal(json_string_value(json_object_get(u, "name")), "Event Name");
        assert_true(json_is_false(json_object_get(u, "found")));
        assert_null(te_enrichment(&t->b.ev[0]));
    }
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1007, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    assert_true(json_is_false(json_object_get(te_ola(&t->b.ev[0], "user"), "found")));
    /* ... until the negative ttl (5 min) is up */
    ola_batch_reset(&t->b);
    te_event(t, 5, 1007, 0, 0);
    t->now += 5 * 60000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1007"), 1);

    /* a role renamed: evicted by ROLE_UPDATE_SUCCESS, users show the new name */
    snprintf(t->srv.role_names[0], 32, "Staff");
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 9052, 1001, 0, 501);
    te_event(t, 5, 1002, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/roles/501"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/"), 0);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[0], "role"), "name")), "Staff");
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(te_ola(&t->b.ev[1], "user"), "roles"), 0),
            "name")),
        "Staff");
}

static void test_shared_strings_bounded(void **state)
{
    struct te *t = *state;
    const json_t *u;
    char want[32];
    int i;

    te_open(t);
    /* a user updated over and over, a new department each time: more distinct
       strings than the enricher shares at once; old ones must go, new ones stay
       right */
    for (i = 0; i < 700; i++) {
        pthread_mutex_lock(&t->srv.mu);
        snprintf(tn_user(&t->srv, 1001)->department, 32, "Dept-%d", i);
        pthread_mutex_unlock(&t->srv.mu);
        ola_batch_reset(&t->b);
        te_event(t, 14, 1001, 0, 0); /* UPDATED_USER: evicts 1001 first */
        te_event(t, 5, 1002 + i % 18, 0, 0);
        t->now += 10;
        te_run(t, NULL);
        u = te_ola(&t->b.ev[0], "user");
        snprintf(want, sizeof(want), "Dept-%d", i);
        assert_string_equal(json_string_value(json_object_get(u, "department")), want);
        te_check_user(te_ola(&t->b.ev[1], "user"), 1002 + i % 18,
                      (1002 + i % 18) % 3 == 0 ? 2 : 1);
    }
}

static void test_trim_between_pages(void **state)
{
    struct te *t = *state;
    size_t i, mark;

    te_open(t);
    ola_enricher_trim(t->en); /* before any page: nothing to give back */
    for (i = 0; i < 300; i++)
        te_event(t, 5, 1001 + (long long)(i % 19), 1001 + (long long)((i * 3) % 19), 0);
    te_run(t, NULL);
    /* a quiet poll after the burst: tables go, the cache stays */
    ola_batch_reset(&t->b);
    ola_enricher_trim(t->en);
    mark = tn_mark(&t->srv);
    for (i = 0; i < 40; i++)
        te_event(t, 8, 1001 + (long long)(i % 19), 0, i % 4 == 0 ? 501 : 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark); /* all from the cache */
    for (i = 0; i < t->b.n; i++) {
        long long uid = 1001 + (long long)(i % 19);

        te_check_user(te_ola(&t->b.ev[i], "user"), uid, uid % 3 == 0 ? 2 : 1);
        assert_null(te_enrichment(&t->b.ev[i]));
    }
    /* and again, with a lookup to make after the trim */
    ola_batch_reset(&t->b);
    ola_enricher_trim(t->en);
    te_event(t, 5, 1020, 1019, 503);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1020"), 1);
    assert_true(json_is_false(json_object_get(te_ola(&t->b.ev[0], "user"), "found")));
    te_check_user(te_ola(&t->b.ev[0], "actor"), 1019, 1);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[0], "role"), "name")), "Sales");
}

/*
 * An idle agent keeps its cached users as compact records, not trees: the
 * heap the warm cache holds after the trim, per entry, is well under the
 * 3 KB a user's Jansson tree took (3078 bytes per entry here before).
 */
static void test_idle_cache_is_compact(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    size_t rest, none, i;

    if (mallinfo2().uordblks == 0)
        skip(); /* a sanitizer's allocator: no figures */
    for (i = 0; i < 40; i++)
        tn_add_user(&t->srv, 2001 + (int64_t)i, 2, (int64_t)501, (int64_t)503);
    te_open(t);
    for (i = 0; i < 60; i++)
        te_event(t, 5, i < 20 ? 1001 + (long long)(i % 19) : 2001 + (long long)(i - 20),
                 0, 0);
    te_run(t, NULL);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.entries, 59 + 3); /* 19 + 40 users, 3 roles */
    ola_batch_reset(&t->b);
    ola_batch_trim(&t->b);
    ola_enricher_trim(t->en);
    rest = mallinfo2().uordblks + ola_slab_mapped(); /* the records are mapped apart */
    ola_enricher_destroy(t->en);
    t->en = NULL;
    none = mallinfo2().uordblks + ola_slab_mapped();
    print_message("warm cache at rest: %zu bytes per entry\n",
                  (rest - none) / st.entries);
    /* plus the slab chunk the records are cut from (64 KB, agent/core/slab.h) */
    assert_true(rest - none < 1024 * st.entries + 64 * 1024);
}

static void test_ttl_refetch(void **state)
{
    struct te *t = *state;
    size_t mark;

    t->o.cache_ttl_ms = 60000;
    te_open(t);
    te_event(t, 5, 1001, 0, 0);
    te_run(t, NULL);
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1001, 0, 0);
    t->now += 59999;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1001, 0, 0);
    t->now += 1;
    te_run(t, NULL);
    /* the user and its role expired together (fetched in the same page) */
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1001"), 1);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/roles/501"), 1);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1001, 1);
}

static void test_deferred_before_the_reserve(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    size_t i, deferred = 0, enriched = 0;

    /*
     * 100 calls a window, 40 left. Lookups never touch the last 20% (kept for
     * polling), and once what they may use falls under 10% of the limit the
     * governor paces them over the time to the reset: here, they stop at 30.
     */
    t->srv.rl_limit = 100;
    t->srv.rl_remaining = 40;
    te_open(t);
    /* the budget is learned from the first answers (1001 and its role: 38 left) */
    te_event(t, 5, 1001, 0, 0);
    te_run(t, NULL);
    ola_batch_reset(&t->b);
    for (i = 0; i < 18; i++)
        te_event(t, 5, 1002 + (long long)i, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(t->srv.n429, 0);
    assert_int_equal(t->srv.rl_remaining, 29);
    /*
     * 1002..1010 were looked up; 1011..1019 deferred. The role Admin (502) of
     * 1002, 1005 and 1008 was deferred too: they show it without a name.
     */
    for (i = 0; i < t->b.n; i++) {
        const struct ola_event *e = &t->b.ev[i];
        const json_t *u = te_ola(e, "user");
        long long uid = 1002 + (long long)i;

        if (u != NULL) {
            enriched++;
            assert_true(uid <= 1010);
            if (uid % 3 == 0) {
                const json_t *admin = json_array_get(json_object_get(u, "roles"), 1);

                assert_int_equal(json_integer_value(json_object_get(admin, "id")), 502);
                assert_null(json_object_get(admin, "name"));
                assert_string_equal(te_enrichment(e), "deferred");
                deferred++;
            } else {
                te_check_user(u, uid, 1);
                assert_null(te_enrichment(e));
            }
        } else {
            deferred++;
            assert_string_equal(te_enrichment(e), "deferred");
            assert_null(json_object_get(e->ola, "enrichment_error"));
        }
    }
    assert_int_equal(enriched, 9);
    assert_int_equal(deferred, 12);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.deferred, 10); /* 9 users and a role */
    assert_int_equal(st.events_deferred, 12);
    /* polling still has its calls */
    {
        struct ola_ol_response r;

        ola_ol_response_init(&r);
        assert_int_equal(ola_ol_get(t->client, "/api/2/users/1001", OLA_OL_PRIO_POLL, &r),
                         OLA_OL_OK);
        ola_ol_response_free(&r);
    }
    /* a deferred user is not remembered as anything: a later page asks again */
    t->srv.rl_remaining = 100;
    ola_batch_reset(&t->b);
    te_event(t, 5, 1019, 0, 0);
    t->now += 1000;
    /* the governor learns the new window from the next answer: let one through */
    {
        struct ola_ol_response r;

        ola_ol_response_init(&r);
        assert_int_equal(
            ola_ol_get(t->client, "/api/1/events/types", OLA_OL_PRIO_POLL, &r),
            OLA_OL_OK);
        ola_ol_response_free(&r);
    }
    te_run(t, NULL);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1019, 1);
    assert_int_equal(t->srv.n429, 0);
}

static void test_token_refused_once(void **state)
{
    struct te *t = *state;

    te_open(t);
    te_event(t, 5, 1001, 0, 0);
    te_run(t, NULL);
    assert_int_equal(t->srv.token_requests, 1);
    /* the token is revoked: the next lookups get 401, one refresh, one retry */
    pthread_mutex_lock(&t->srv.mu);
    t->srv.refuse_next = 2;
    pthread_mutex_unlock(&t->srv.mu);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    te_event(t, 5, 1004, 0, 0);
    te_run(t, NULL);
    assert_int_equal(t->srv.token_requests, 2);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1002, 2);
    te_check_user(te_ola(&t->b.ev[1], "user"), 1004, 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/1002"), 2);
}

static void test_v1_api_and_roles_of_user(void **state)
{
    struct te *t = *state;

    t->o.api_version = 1;
    te_open(t);
    te_event(t, 5, 1003, 0, 502);
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/users/1003"), 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/roles/"), 2);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/"), 0);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1003, 1);
    assert_string_equal(
        json_string_value(json_object_get(te_ola(&t->b.ev[0], "role"), "name")), "Admin");
}

static void test_v2_without_role_ids(void **state)
{
    struct te *t = *state;

    tn_user(&t->srv, 1005)->no_roles_key = 1;
    te_open(t);
    te_event(t, 5, 1005, 0, 0);
    te_run(t, NULL);
    /* the user, its roles through the v1 route (nested shape), their names */
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/users/1005"), 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/users/1005/roles"), 1);
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/roles/"), 2);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1005, 2);
}

static void test_cache_smaller_than_a_page(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    size_t i;

    t->o.cache_entries = 5;
    te_open(t);
    for (i = 0; i < 57; i++)
        te_event(t, 5, 1001 + (long long)(i % 19), 0, 0);
    te_run(t, NULL);
    for (i = 0; i < t->b.n; i++) {
        long long uid = 1001 + (long long)(i % 19);

        te_check_user(te_ola(&t->b.ev[i], "user"), uid, uid % 3 == 0 ? 2 : 1);
    }
    ola_enricher_stats(t->en, &st);
    assert_true(st.entries <= 5);
    assert_int_equal(st.peak_entries, 5);
    assert_int_equal(st.max_entries, 5);
    assert_true(st.evictions >= 21 - 5);
}

static void test_event_type_names(void **state)
{
    struct te *t = *state;
    struct ola_err err = {0, ""};
    struct ola_catalog *cat;
    char dir[] = "/tmp/ola_enrich_XXXXXX", path[256];
    FILE *f;

    t->o.users = false;
    t->o.roles = false;
    te_open(t);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/types.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("[{\"id\":5,\"name\":\"USER_LOGGED_INTO_ONELOGIN\",\"categories\":"
          "[\"login_success\"]}]",
          f);
    fclose(f);
    cat = ola_catalog_load(path, &err);
    assert_non_null(cat);
    /* known ids: no call */
    te_event(t, 5, 1001, 0, 0);
    te_run(t, cat);
    assert_int_equal(tn_mark(&t->srv), 0);
    /* 6 is unknown: one fetch names it, 3 too (they arrive in the same page) */
    ola_batch_reset(&t->b);
    te_event(t, 6, 1001, 0, 0);
    te_event(t, 3, 1001, 0, 0);
    te_event(t, 424242, 1001, 0, 0); /* the API does not know it either */
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 1);
    assert_string_equal(ola_catalog_name(cat, 6), "USER_FAILED_ONELOGIN_LOGIN");
    assert_string_equal(ola_catalog_name(cat, 3), "USER_ASSUMED_USER");
    assert_null(ola_catalog_name(cat, 424242));
    /* no users or roles asked for, so none looked up */
    assert_int_equal(tn_count(&t->srv, 0, "/api/2/"), 0);
    assert_null(t->b.ev[0].ola);
    /* an id the API did not know is not asked about again within 24 h */
    ola_batch_reset(&t->b);
    te_event(t, 424242, 1001, 0, 0);
    t->now += 3600000;
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 1);
    /* a catalog loaded again (SIGHUP) is taught from the kept list, no call */
    ola_catalog_destroy(cat);
    cat = ola_catalog_load(path, &err);
    assert_non_null(cat);
    ola_batch_reset(&t->b);
    te_event(t, 6, 1001, 0, 0);
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 1);
    assert_string_equal(ola_catalog_name(cat, 6), "USER_FAILED_ONELOGIN_LOGIN");
    /* a day later the list is stale: an unknown id fetches it again */
    ola_batch_reset(&t->b);
    te_event(t, 424242, 1001, 0, 0);
    t->now += 24 * 3600000;
    te_run(t, cat);
    assert_int_equal(tn_count(&t->srv, 0, "/api/1/events/types"), 2);
    ola_catalog_destroy(cat);
    unlink(path);
    rmdir(dir);
}

static void test_settings_checked(void **state)
{
    struct te *t = *state;
    struct ola_err err = {0, ""};
    struct ola_enricher *en = NULL;
    struct ola_enrich_api api;

    te_open(t);
    ola_enrich_onelogin_api(t->client, &api);
    t->o.concurrency = 0;
    assert_int_equal(ola_enricher_new(&t->o, &api, &en, &err), -1);
    assert_null(en);
    te_settings(&t->o);
    t->o.api_version = 3;
    assert_int_equal(ola_enricher_new(&t->o, &api, &en, &err), -1);
    ola_enricher_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trim_between_pages, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_shared_strings_bounded, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_page_dedupe_concurrency_warm, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_change_older_than_fetch_keeps_entry,
                                        te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_user_changing_event_evicts, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_ttl_refetch, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_idle_cache_is_compact, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_deferred_before_the_reserve, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_token_refused_once, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_v1_api_and_roles_of_user, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_v2_without_role_ids, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_cache_smaller_than_a_page, te_setup,
                                        te_teardown),
        cmocka_unit_test_setup_teardown(test_event_type_names, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_settings_checked, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_trees_outlast_the_batch_arena, te_setup,
                                        te_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
