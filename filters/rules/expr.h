/*
 * expr.h - match expressions: compiled from YAML nodes, evaluated per event.
 *
 * Used by rules (match:, then:), alert rules and the outputs' `when:`. An
 * expression is a tree of conditions on dotted field paths ("risk_score",
 * "olagent.user.department") and combinators (all, any, not), plus the
 * shorthands tags / categories / severity / event_type. Paths are interned
 * in an environment so that one evaluation context can cache the lookup of
 * each path in the event once per event. Syntax and semantics: docs/rules.md.
 */
#ifndef OLA_EXPR_H
#define OLA_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/err.h"
#include "agent/core/event.h"
#include "config/config.h"
#include "filters/rules/catalog.h"

struct ola_expr;
struct ola_expr_env;

/*
 * Evaluation context: the event under test and a per-event cache of path
 * lookups in e->ev (which rules never change). Owned by its user, one per
 * thread. Set with ola_expr_ctx_set before each event.
 */
struct ola_expr_ctx {
    const struct ola_event *e;
    bool have_mask;    /* cat_mask is the event's category bits */
    uint32_t cat_mask; /* from the catalog (classification) */
    json_t **slots;    /* cached lookups, by path index */
    uint32_t *gen;     /* slot valid when gen[i] == cur */
    uint32_t cur;
    size_t n; /* number of slots */
};

/* cat: borrowed, may be NULL (categories then checked by name). Returns NULL on ENOMEM.
 */
struct ola_expr_env *ola_expr_env_new(const struct ola_catalog *cat);
void ola_expr_env_destroy(struct ola_expr_env *env);

/*
 * Interns a dotted path; returns its index or -1 (empty segment, ENOMEM).
 * "olagent.x.y" looks in e->ola (then, for events replayed from our own
 * output, in the event's own "olagent" member); anything else in e->ev.
 */
int ola_expr_path(struct ola_expr_env *env, const char *dotted);

/*
 * Adds a list (lists.h) that `in_list` can name; the environment takes l
 * (destroyed on failure too). A second list with the same name is an
 * error naming where the first one was declared. Returns 0 / -1.
 */
struct ola_list;
int ola_expr_env_add_list(struct ola_expr_env *env, struct ola_list *l,
                          const struct ola_cfg *where, struct ola_err *err);

/* Sizes ctx for every path interned so far. Returns 0 / -1. */
int ola_expr_ctx_init(struct ola_expr_ctx *ctx, const struct ola_expr_env *env);
void ola_expr_ctx_free(struct ola_expr_ctx *ctx);
/* e: borrowed until the next set. mask: category bits if have_mask. */
void ola_expr_ctx_set(struct ola_expr_ctx *ctx, const struct ola_event *e, bool have_mask,
                      uint32_t mask);
/* The value at path index p for the context's event: borrowed, or NULL. */
json_t *ola_expr_get(const struct ola_expr_env *env, struct ola_expr_ctx *ctx, int p);

/*
 * Compiles node (a map, or a sequence meaning all). Errors read
 * "file:line: ..." (unknown operator, bad regex, wrong value type).
 * Returns a new expression or NULL.
 */
struct ola_expr *ola_expr_compile(struct ola_expr_env *env, const struct ola_cfg *node,
                                  struct ola_err *err);
void ola_expr_destroy(struct ola_expr *x);
/* True when the context's event matches. x NULL matches everything. */
bool ola_expr_eval(const struct ola_expr_env *env, const struct ola_expr *x,
                   struct ola_expr_ctx *ctx);

/* Writes a value (string, number, bool) as text for keys. Returns length or -1. */
int ola_expr_text(const json_t *v, char *buf, size_t n);

#endif
