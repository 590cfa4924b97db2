/*
 * rules_priv.h - the rule set's insides, for rules.c (which builds it) and
 * rules_apply.c (which runs it) only; neither calls the other.
 */
#ifndef OLA_RULES_PRIV_H
#define OLA_RULES_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "filters/rules/alerts.h"
#include "filters/rules/catalog.h"
#include "filters/rules/expr.h"
#include "filters/rules/filter.h"

struct ola_rule {
    char *name;
    struct ola_expr *match; /* NULL: every event */
    char **tags;
    json_t **tagv; /* the tags as shared JSON strings */
    size_t n_tags;
    int severity; /* -1: leaves severity alone */
    bool drop;
    bool has_route;
    uint32_t route; /* output bits */
};

/* What an alert rule adds to its records besides the alert object. */
struct ola_alert_extra {
    char **tags;
    json_t **tagv;
    size_t n_tags;
    bool has_route;
    uint32_t route;
    uint64_t raised; /* alerts this rule raised, for metrics */
};

struct ola_rules {
    struct ola_catalog *cat;
    struct ola_expr_env *env;
    struct ola_expr_ctx ctx;
    struct ola_rule *rules;
    size_t n_rules, cap_rules;
    struct ola_alerts *alerts;
    struct ola_alert_extra *extra; /* by alert rule index */
    size_t cap_extra;
    struct ola_alert_list raised;
    struct ola_expr *when[OLA_MAX_OUTPUTS]; /* NULL: everything */
    size_t n_outputs;
    uint32_t all_outputs;
    json_t *sev_num[11]; /* shared olagent.severity values */
    json_t *sev_name[11];
    json_t *alert_tag;
    bool *hits; /* ola_rules_trace: flag rules that matched (NULL: off) */
    struct ola_rules_stats stats;
};

#endif
