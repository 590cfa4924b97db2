/*
 * test_enrich_failures.c - lookups that fail, against the small OneLogin
 * tenant of enrich_fixture.h: a user whose lookup answers 503 marks its
 * events failed with the request and status, is tried again on the next page,
 * and a round where every lookup failed pauses them; a role that cannot be
 * fetched leaves its users' roles partly named, each of their events in the
 * page saying which lookup failed, until the next page names them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/event.h"
#include "filters/enrich/enrich.h"
#include "tests/unit/enrich_fixture.h"

static void test_failed_and_paused(void **state)
{
    struct te *t = *state;
    struct ola_enrich_stats st;
    const char *why;
    size_t mark;

    te_open(t);
    tn_user(&t->srv, 1002)->fail503 = 1;
    te_event(t, 5, 1001, 0, 0);
    te_event(t, 5, 1002, 0, 0);
    te_run(t, NULL);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1001, 1);
    assert_null(te_enrichment(&t->b.ev[0]));
    assert_null(te_ola(&t->b.ev[1], "user"));
    assert_string_equal(te_enrichment(&t->b.ev[1]), "failed");
    why = json_string_value(json_object_get(t->b.ev[1].ola, "enrichment_error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "GET /api/2/users/1002"));
    assert_non_null(strstr(why, "503"));
    /* a failure among successes is retried on the next page: no pause */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    assert_int_equal(tn_count(&t->srv, mark, "/api/2/users/1002"), 1);
    /* that round failed entirely: lookups pause for 5 s */
    mark = tn_mark(&t->srv);
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    te_event(t, 5, 1003, 0, 0);
    t->now += 4000;
    te_run(t, NULL);
    assert_int_equal(tn_mark(&t->srv), mark);
    assert_string_equal(te_enrichment(&t->b.ev[1]), "failed");
    why = json_string_value(json_object_get(t->b.ev[1].ola, "enrichment_error"));
    assert_non_null(strstr(why, "GET /api/2/users/1002"));
    /* after the pause, lookups go again */
    tn_user(&t->srv, 1002)->fail503 = 0;
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    te_event(t, 5, 1003, 0, 0);
    t->now += 1001;
    te_run(t, NULL);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1002, 2);
    te_check_user(te_ola(&t->b.ev[1], "user"), 1003, 1);
    ola_enricher_stats(t->en, &st);
    assert_int_equal(st.failed, 4); /* two answered 503, two skipped in the pause */
    assert_int_equal(st.events_failed, 4);
}

/*
 * A role that cannot be fetched: its users are attached with the roles named
 * that could be, and each of their events in the page says which lookup
 * failed; the next page names them all.
 */
static void test_role_failed(void **state)
{
    struct te *t = *state;
    const json_t *roles;
    const char *why;
    size_t i;

    te_open(t);
    t->srv.role_fail503[tn_role(&t->srv, 502)] = 1;
    te_event(t, 5, 1001, 0, 0); /* Employee */
    te_event(t, 5, 1002, 0, 0); /* Employee, Admin */
    te_event(t, 6, 1002, 0, 0);
    te_run(t, NULL);
    te_check_user(te_ola(&t->b.ev[0], "user"), 1001, 1);
    assert_null(te_enrichment(&t->b.ev[0]));
    for (i = 1; i < 3; i++) {
        assert_int_equal(
            json_integer_value(json_object_get(te_ola(&t->b.ev[i], "user"), "id")), 1002);
        roles = json_object_get(te_ola(&t->b.ev[i], "user"), "roles");
        assert_int_equal(json_array_size(roles), 2);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(roles, 0), "name")),
            "Employee");
        assert_null(json_object_get(json_array_get(roles, 1), "name"));
        assert_string_equal(te_enrichment(&t->b.ev[i]), "failed");
        why = json_string_value(json_object_get(t->b.ev[i].ola, "enrichment_error"));
        assert_non_null(why);
        assert_non_null(strstr(why, "/roles/502"));
        assert_non_null(strstr(why, "503"));
    }
    /* the role answers again: the next page names it */
    t->srv.role_fail503[tn_role(&t->srv, 502)] = 0;
    ola_batch_reset(&t->b);
    te_event(t, 5, 1002, 0, 0);
    t->now += 1000;
    te_run(t, NULL);
    roles = json_object_get(te_ola(&t->b.ev[0], "user"), "roles");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(roles, 1), "name")), "Admin");
    assert_null(te_enrichment(&t->b.ev[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_and_paused, te_setup, te_teardown),
        cmocka_unit_test_setup_teardown(test_role_failed, te_setup, te_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
