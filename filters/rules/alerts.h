/*
 * alerts.h - windowed, keyed, stateful alert rules.
 *
 * rules.c owns one ola_alerts and feeds it every classified event (dropped
 * ones too: a drop keeps an event from the outputs, not from detection).
 * Windows run in event time (created_ms), so a backfill and a replay raise
 * the same alerts as the live run did. Kinds: count, distinct, sequence
 * (docs/rules.md). State is bounded (keys expire with their window; a hard
 * cap refuses new keys and counts the refusals) and can be saved to and
 * restored from a JSON object kept in the checkpoint.
 */
#ifndef OLA_ALERTS_H
#define OLA_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"
#include "agent/core/event.h"
#include "config/config.h"
#include "filters/rules/expr.h"
#include "filters/rules/settings.h"

struct ola_alerts;

/* An alert raised while feeding events. */
struct ola_alert_raised {
    size_t rule;   /* index returned by ola_alerts_add */
    json_t *alert; /* the "alert" object: owned by the list until taken */
    int severity;
    int64_t ts; /* event time of the event that raised it */
};

struct ola_alert_list {
    struct ola_alert_raised *v;
    size_t n, cap;
};

struct ola_alerts_stats {
    uint64_t raised;
    uint64_t suppressed;    /* matching events ignored during a quiet period */
    uint64_t state_capped;  /* new keys refused at max_keys */
    uint64_t state_evicted; /* oldest keys evicted at a rule's own max_keys */
    uint64_t expired;       /* keys expired */
    size_t keys;            /* keys held now */
};

/*
 * settings: the `alerts:` map (may be NULL), read with ola_alerts_options.
 * env: borrowed, must outlive the result. Returns a new set or NULL with err.
 */
struct ola_alerts *ola_alerts_new(struct ola_expr_env *env,
                                  const struct ola_cfg *settings, struct ola_err *err);
void ola_alerts_destroy(struct ola_alerts *a);

/*
 * Adds the rule `name` from its `alert:` map (kind, match, then, key,
 * distinct, threshold, window, severity, suppress). Returns its index (>= 0)
 * or -1 with "file:line: ..." in err.
 */
int ola_alerts_add(struct ola_alerts *a, const char *name, const struct ola_cfg *node,
                   struct ola_err *err);
size_t ola_alerts_count(const struct ola_alerts *a);
/* Name of rule i (borrowed) and its severity. */
const char *ola_alerts_rule_name(const struct ola_alerts *a, size_t i);

/*
 * Feeds one event (ctx is set to it). Alerts raised are appended to out.
 * now_ms: wall clock, for idle expiry. Returns 0 / -1 (ENOMEM).
 */
int ola_alerts_feed(struct ola_alerts *a, struct ola_expr_ctx *ctx, int64_t now_ms,
                    struct ola_alert_list *out);
/*
 * Expires keys whose window event time has passed, and idle live keys whose
 * window ended more than late_grace ago by the wall clock now_ms.
 */
void ola_alerts_expire(struct ola_alerts *a, int64_t now_ms);

/*
 * Between batches (rest false): when expiry left the chunks holding the keys
 * more than a third dead (agent/core/slab.h), moves every key, its items and
 * values to fresh chunks, so the old ones go back to the kernel; at rest
 * (rest true), as soon as a chunk's worth is dead. Otherwise does nothing (one
 * comparison). Nothing held outside a may point into the state (alerts.c
 * holds no key across calls). @locality the thread that feeds a.
 */
void ola_alerts_trim(struct ola_alerts *a, bool rest);

/*
 * Returns a new reference: {"version":1, "clock":ms, "keys":[...]}; each key
 * {rule, kind, key, quiet_until, newest, touched, live, items}, an item
 * [ts, id], [ts, id, "value"] (distinct) or [ts, id, 1] (a sequence's held
 * closing event). NULL on ENOMEM.
 */
json_t *ola_alerts_save(const struct ola_alerts *a);
/*
 * The same state as JSON text, appended to out: byte for byte
 * json_dumps(ola_alerts_save(a), JSON_COMPACT), built one key at a time, so
 * a save never holds the whole state as a tree (a checkpoint's checksum is
 * over that form). Returns 0 / -1 (ENOMEM; out then holds a part).
 */
int ola_alerts_save_text(const struct ola_alerts *a, struct ola_buf *out);
/*
 * Replaces the state with a saved one. Keys of rules no longer configured
 * (or whose kind changed) are skipped. state: borrowed. Returns 0 / -1.
 */
int ola_alerts_restore(struct ola_alerts *a, const json_t *state, struct ola_err *err);
const struct ola_alerts_stats *ola_alerts_stats(const struct ola_alerts *a);
/* The settings a was made with (borrowed from a, strings from the config). */
const struct ola_alerts_settings *ola_alerts_settings_of(const struct ola_alerts *a);

void ola_alert_list_clear(struct ola_alert_list *l);
void ola_alert_list_free(struct ola_alert_list *l);

#endif
