/*
 * test_enrich_intern.c - the enricher's table of shared strings (record.c):
 * equal strings shared, the bound kept (the rest are strings of their own),
 * numbers given lowest first and kept across sweeps, a sweep letting go of
 * what only the table holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "filters/enrich/record.h"

static void test_intern_shares_and_is_bounded(void **state)
{
    struct ola_intern t = {0};
    struct ola_istr *held[OLA_INTERN_MAX + 100], *a, *b, *lng, *nb, *nc;
    char s[OLA_INTERN_LEN + 16];
    size_t i;

    (void)state;
    a = ola_intern_get(&t, "Sales", 5);
    b = ola_intern_get(&t, "Sales", 5);
    assert_ptr_equal(a, b); /* one copy */
    assert_int_equal(a->refs, 3);
    assert_int_equal(t.n, 1);
    /* NULs inside, and lengths, count */
    nb = ola_intern_get(&t, "a\0b", 3);
    nc = ola_intern_get(&t, "a\0c", 3);
    assert_ptr_not_equal(nb, nc);
    assert_int_equal(t.n, 3);
    /* the lowest numbers first: the strings share the first page */
    assert_int_equal(a->idx, 1);
    assert_int_equal(nb->idx, 2);
    assert_int_equal(nc->idx, 3);
    ola_istr_unref(nb); /* held by the table alone now */
    ola_istr_unref(nc);
    /* long strings are strings of their own */
    memset(s, 'x', sizeof(s));
    lng = ola_intern_get(&t, s, sizeof(s));
    assert_non_null(lng);
    assert_int_equal(lng->len, sizeof(s));
    assert_int_equal(t.n, 3);
    /* more distinct strings than the bound, all held: the table stays at the
       bound, the rest are their own and still right */
    for (i = 0; i < OLA_INTERN_MAX + 100; i++) {
        int k = snprintf(s, sizeof(s), "v-%zu", i);

        held[i] = ola_intern_get(&t, s, (size_t)k);
        assert_non_null(held[i]);
        assert_int_equal(held[i]->len, (size_t)k);
        assert_memory_equal(held[i]->s, s, (size_t)k + 1);
        assert_true(t.n <= OLA_INTERN_MAX);
    }
    assert_int_equal(t.n, OLA_INTERN_MAX);
    assert_true(t.sweeps >= 1); /* it tried to make room */
    /* each string in the table has a number of its own; the rest have none */
    for (i = 0; i < OLA_INTERN_MAX + 100; i++) {
        if (held[i]->idx != 0)
            assert_ptr_equal(ola_intern_num(&t, held[i]->idx), held[i]);
    }
    assert_true(a->idx >= 1 && a->idx <= OLA_INTERN_MAX);
    assert_ptr_equal(ola_intern_num(&t, a->idx), a);
    assert_int_equal(held[OLA_INTERN_MAX + 99]->idx, 0);
    /* let go of them: a sweep drops what only the table holds */
    for (i = 0; i < OLA_INTERN_MAX + 100; i++)
        ola_istr_unref(held[i]);
    ola_intern_sweep(&t);
    assert_int_equal(t.n, 1); /* "Sales", still held */
    assert_ptr_equal(ola_intern_get(&t, "Sales", 5), a);
    assert_ptr_equal(ola_intern_num(&t, a->idx), a); /* its number outlived the sweeps */
    nb = ola_intern_get(&t, "new", 3); /* a number freed by the sweep: the lowest */
    assert_int_equal(nb->idx, 2);
    assert_ptr_equal(ola_intern_num(&t, 2), nb);
    assert_null(ola_intern_num(&t, 3)); /* free */
    assert_null(ola_intern_num(&t, 0));
    assert_null(ola_intern_num(&t, OLA_INTERN_MAX + 1));
    ola_istr_unref(nb);
    ola_istr_unref(a);
    ola_istr_unref(a);
    ola_istr_unref(b);
    ola_istr_unref(lng);
    ola_intern_sweep(&t);
    assert_int_equal(t.n, 0);
    ola_intern_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intern_shares_and_is_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
