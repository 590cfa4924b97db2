/*
 * filter.h - classification, rules, routing and stateful alerts.
 *
 * After dedupe (and enrichment), every batch goes through the rule set once:
 *  1. classify: olagent.event_type = {id, name, categories} from the catalog
 *     (catalog.c), and the categories become tags;
 *  2. rules (rules.c): match any event or enrichment field by dotted path and
 *     act: add tags, set severity, drop, route to named outputs;
 *  3. routing: each output's `when:` decides its bit in e->routes;
 *  4. alerts (alerts.c): windowed, keyed, stateful rules; an alert is a
 *     record of its own (OLA_REC_ALERT) appended to the batch and routed like
 *     events.
 * Alert state is saved with the checkpoint and restored at start, so a
 * restart neither forgets a half-counted window nor counts an event twice.
 *
 * Inside filters/rules calls go one way, down this list (a file calls only
 * files below it):
 *   rules.c (builds the set)   rules_apply.c (runs it on a batch)
 *   alerts.c (alert rules, the detectors)
 *   alerts_save.c (the saved state)
 *   alerts_state.c (keys, items, expiry)
 *   expr_compile.c (YAML -> expression tree)
 *   expr.c (paths, evaluation)
 *   lists.c (in_list's files; calls expr.c's ola_expr_text only)
 *   catalog.c   severity.c   regex_guard.c (call nothing in the folder)
 * ruletest.c (`olagent rules test`) sits beside rules.c and runs the set.
 * Each *_priv.h is shared by the two halves of one module only.
 */
#ifndef OLA_FILTER_H
#define OLA_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"
#include "agent/core/event.h"
#include "config/config.h"
#include "filters/rules/settings.h"

/* ---- catalog: catalog.h (included here for the agent and enrichment) ---- */
#include "filters/rules/catalog.h"

/* ---- the rule set ------------------------------------------------------- */
struct ola_rules;

struct ola_rules_stats {
    uint64_t dropped;       /* events dropped by a rule */
    uint64_t alerts;        /* alert records raised */
    uint64_t state_capped;  /* alert keys refused because the state cap was hit */
    uint64_t state_evicted; /* oldest alert keys evicted at a rule's max_keys */
};

/*
 * Builds the rule set from the settings: the catalog, rule files (s->rules),
 * alert settings, and the `when:` of every output. output_names[i] is the
 * name of the output with index i. Errors read "file:line: what is wrong"
 * (bad regex, unknown operator, unknown output in a route).
 * Returns a new rule set or NULL.
 */
struct ola_rules *ola_rules_new(const struct ola_rules_settings *s,
                                const char *catalog_path, const char *const *output_names,
                                size_t n_outputs, struct ola_err *err);
void ola_rules_destroy(struct ola_rules *r);

/*
 * Classifies, tags, drops, routes every event of b and appends alert
 * records. b: borrowed, mutated. now_ms: for alert window expiry. Returns 0 / -1.
 */
int ola_rules_apply(struct ola_rules *r, struct ola_batch *b, int64_t now_ms);

/* Alert state for the checkpoint: returns a new reference. */
json_t *ola_rules_state_save(const struct ola_rules *r);
/* The same as compact JSON text appended to out (ola_alerts_save_text). 0 / -1. */
int ola_rules_state_save_text(const struct ola_rules *r, struct ola_buf *out);
/*
 * At rest: moves the alert state to fresh chunks when expiry left its old
 * ones sparse (ola_alerts_trim), and drops the catalog's JSON values no
 * event holds (ola_catalog_trim). @locality the thread that applies r.
 */
void ola_rules_trim(struct ola_rules *r);
/* state: borrowed. Returns 0 / -1 (a state that does not fit is an error). */
int ola_rules_state_restore(struct ola_rules *r, const json_t *state,
                            struct ola_err *err);
const struct ola_rules_stats *ola_rules_stats(const struct ola_rules *r);
/* Alert rules, for metrics: how many, each one's name, alerts it raised so far. */
size_t ola_rules_alert_count(const struct ola_rules *r);
const char *ola_rules_alert_name(const struct ola_rules *r, size_t i);
uint64_t ola_rules_alerts_raised(const struct ola_rules *r, size_t i);
/* The `alerts:` settings in force (borrowed from r), for `olagent check`. */
const struct ola_alerts_settings *ola_rules_alerts_settings(const struct ola_rules *r);
/*
 * For `olagent rules test` (ruletest.c): the index of the flag rule or the
 * alert rule called name (*is_alert says which), or -1 when no enabled rule
 * has that name; and a trace: while hits is set (borrowed, one bool per flag
 * rule), ola_rules_apply sets hits[i] when flag rule i matches. NULL stops.
 */
int ola_rules_find(const struct ola_rules *r, const char *name, bool *is_alert);
size_t ola_rules_flag_count(const struct ola_rules *r);
void ola_rules_trace(struct ola_rules *r, bool *hits);
/* Borrowed catalog, for enrichment. */
struct ola_catalog *ola_rules_catalog(struct ola_rules *r);

#endif
