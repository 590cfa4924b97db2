/*
 * expr_priv.h - the compiled expression tree, for expr.c and expr_compile.c
 * only.
 *
 * expr_compile.c builds the tree from YAML; expr.c (the environment, paths
 * and evaluation) walks it. The calls go one way: expr_compile.c uses expr.c's
 * paths and number parsing, expr.c calls nothing in expr_compile.c.
 */
#ifndef OLA_EXPR_PRIV_H
#define OLA_EXPR_PRIV_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filters/rules/expr.h"
#include "filters/rules/lists.h"

enum ola_xop {
    OLA_X_ALL,
    OLA_X_ANY,
    OLA_X_NOT,
    OLA_X_EQ,
    OLA_X_IN,
    OLA_X_PREFIX,
    OLA_X_REGEX,
    OLA_X_GT,
    OLA_X_GTE,
    OLA_X_LT,
    OLA_X_LTE,
    OLA_X_EXISTS,
    OLA_X_MISSING,
    OLA_X_TAGS,
    OLA_X_CATS,
    OLA_X_SEV,
    OLA_X_FEQ,    /* equals_field: two fields of one event */
    OLA_X_FNE,    /* not_equals_field */
    OLA_X_INLIST, /* in_list: a list read from a file */
};

struct ola_xval {
    char *s;
    size_t len;
    bool is_num;
    bool is_int;
    double num;
    long long i;
};

struct ola_expr {
    enum ola_xop op;
    int path;
    bool icase;
    struct ola_expr **kids;
    size_t n_kids, cap_kids;
    struct ola_xval *vals;
    size_t n_vals;
    long long *ints; /* sorted integer operands of `in` */
    size_t n_ints;
    regex_t re;
    bool has_re;
    uint32_t mask; /* categories */
    enum ola_xop sev_op;
    int sev;
    int path2;                   /* equals_field / not_equals_field */
    const struct ola_list *list; /* in_list: borrowed from the environment */
};

struct ola_expr_env {
    const struct ola_catalog *cat;
    struct ola_xpath *paths;
    size_t n_paths, cap_paths;
    struct ola_list **lists; /* owned */
    size_t n_lists, cap_lists;
};

/* Parses all of s as a number. */
bool ola_expr_parse_num(const char *s, double *d, bool *is_int, long long *i);
/* True when dotted is a path the language reads: dotted segments, none
 * empty, without spaces, quotes, brackets, commas or operators ("a.b", not
 * "a[0]", "$.a", "a != b", "count(a)"). */
bool ola_expr_path_ok(const char *dotted);
/* qsort/bsearch order of long long. */
int ola_expr_ll_cmp(const void *a, const void *b);

#endif
