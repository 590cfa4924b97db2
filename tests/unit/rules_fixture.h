/*
 * rules_fixture.h - the fixture of the rule-set tests (test_rules.c,
 * test_alerts.c): a temporary directory for rule files, the config document
 * the rule set was built from, the rule set, one batch, the last error.
 *
 * It keeps the names those two files give their fixture (struct fx, setup,
 * teardown, as every cmocka test file here does), so a test reads the same
 * in either. Include it after filter_test.h.
 */
#ifndef OLA_RULES_FIXTURE_H
#define OLA_RULES_FIXTURE_H

#include "filter_test.h"

struct fx {
    char *dir;
    struct ola_cfg_doc *doc;
    struct ola_rules_settings s;
    struct ola_rules *r;
    struct ola_batch b;
    struct ola_err err;
    json_t *last; /* alerts: the last alert object raised (new reference) */
    int64_t now;  /* alerts: wall clock handed to apply; 0: live (= event time) */
};

/* cmocka setup: *state gets a zeroed fixture with its directory and an empty batch. */
static inline int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = ola_t_mkdtemp();
    assert_non_null(f->dir);
    ola_batch_init(&f->b);
    *state = f;
    return 0;
}

/* cmocka teardown: frees all the fixture holds and removes its directory. */
static inline int teardown(void **state)
{
    struct fx *f = *state;

    json_decref(f->last);
    ola_rules_destroy(f->r);
    ola_cfg_doc_destroy(f->doc);
    ola_batch_free(&f->b);
    ola_t_rmdir(f->dir);
    free(f);
    return 0;
}

#endif
