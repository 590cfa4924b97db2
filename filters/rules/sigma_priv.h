/*
 * sigma_priv.h - the converter's inside: a Sigma detection as a tree of
 * olagent expressions, shared by sigma.c (files, rules, output),
 * sigma_cond.c (selections and the condition) and sigma_value.c (one
 * field's values and modifiers, regexes, YAML quoting).
 *
 * A node is an all/any/not of nodes, a leaf (one olagent condition, kept as
 * the YAML flow map it is written as), a CIDR leaf (a field and the
 * addresses of a list file) or a BAD node: a part that has no olagent
 * equivalent, with the reason and the Sigma line. sigma_cond.c's prune
 * leaves a BAD part out where that can only make the rule match less, and
 * otherwise the whole rule is skipped.
 */
#ifndef OLA_SIGMA_PRIV_H
#define OLA_SIGMA_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agent/core/buf.h"
#include "config/config.h"

enum ola_sg_kind {
    OLA_SG_AND,
    OLA_SG_OR,
    OLA_SG_NOT,
    OLA_SG_LEAF,
    OLA_SG_CIDR,
    OLA_SG_BAD
};

struct ola_sg_node {
    enum ola_sg_kind kind;
    int line;    /* in the Sigma file */
    char *text;  /* LEAF: "{field: a, equals: 3}"; CIDR: the field; BAD: the reason */
    char **vals; /* CIDR: the addresses, each checked by ola_cidr_parse */
    size_t n_vals, cap_vals;
    struct ola_sg_node **kids; /* AND, OR: one or more; NOT: one */
    size_t n, cap;
};

/* A new node of kind (owned by the caller; NULL on ENOMEM). */
struct ola_sg_node *ola_sg_new(enum ola_sg_kind kind, int line);
/* A LEAF or BAD node with the formatted text; NULL on ENOMEM. */
struct ola_sg_node *ola_sg_newf(enum ola_sg_kind kind, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends kid (taken over, freed on failure) to parent. 0 / -1 (ENOMEM). */
int ola_sg_add(struct ola_sg_node *parent, struct ola_sg_node *kid);
void ola_sg_free(struct ola_sg_node *n);

/*
 * The expression for one entry `FIELD|MOD|...: VALUE(S)` of a selection map:
 * key and val borrowed, line the key's line. Returns a new node (BAD for what
 * cannot be converted), NULL on ENOMEM.
 */
struct ola_sg_node *ola_sg_field(const char *key, const struct ola_cfg *val, int line);

/*
 * The detection (a map, borrowed) as one tree: its selections combined as
 * its `condition` says. Returns a new tree (with BAD parts that prune may
 * leave out), or NULL with a reason in why (a condition that cannot be
 * converted as a whole: an aggregation, `near`, a syntax error, an unknown
 * selection) and *why_line; *why empty on ENOMEM.
 */
struct ola_sg_node *ola_sg_detection(const struct ola_cfg *detection, char *why,
                                     size_t why_size, int *why_line);

/*
 * Leaves out what can be left out without the rule matching more than the
 * Sigma rule (a BAD kid of an `any` in a positive place, of an `all` under
 * an odd number of `not`s), flattens nested all/all and any/any and unwraps
 * single kids. Every part left out is reported through report (left_out
 * true). Returns the tree, or NULL when it stays BAD (the caller then
 * reports the reasons it took from ola_sg_report_bad before pruning). On
 * ENOMEM while tidying, *nomem is set and the tree is still whole.
 */
typedef void ola_sg_report_fn(void *arg, const struct ola_sg_node *bad, bool left_out);
struct ola_sg_node *ola_sg_prune(struct ola_sg_node *n, ola_sg_report_fn *report,
                                 void *arg, bool *nomem);
/* Calls report for every BAD part under n (left_out false). */
void ola_sg_report_bad(const struct ola_sg_node *n, ola_sg_report_fn *report, void *arg);

/* s as a YAML double-quoted scalar that olagent's loader reads back as s
 * ("$" doubled: the loader expands ${VAR}). 0 / -1 (ENOMEM). */
int ola_sg_yaml_str(struct ola_buf *b, const char *s);
/*
 * Translates a Sigma regex (the PCRE subset of the specification: . ^ $
 * * + ? {m,n} [...] () (?:) |, and escaped characters; \d \w \s
 * outside brackets) into POSIX ERE as olagent compiles it. dotall: `.` may match a
 * newline (re|s); otherwise it is written [^\n] as in PCRE. Appends to out.
 * Returns 0, or -1 with why (unsupported construct) or ENOMEM (why "").
 */
int ola_sg_regex(const char *re, bool dotall, struct ola_buf *out, char *why, size_t n);

#endif
