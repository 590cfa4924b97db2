/*
 * alerts_priv.h - the alert rules and their state, for alerts.c and
 * alerts_state.c only.
 *
 * alerts_state.c keeps the keys (one hash table, a touch list per rule),
 * their items, expiry, and saving and restoring them, in the slab of struct
 * ola_alerts (agent/core/slab.h); alerts.c reads the rules and runs the
 * detectors on top of it. The calls go one way: alerts.c calls the key store
 * declared here, alerts_state.c calls nothing in alerts.c.
 */
#ifndef OLA_ALERTS_PRIV_H
#define OLA_ALERTS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/slab.h"
#include "filters/rules/alerts.h"
#include "filters/rules/expr.h"

#define OLA_ALERT_MAX_KEY_FIELDS 4
#define OLA_ALERT_KEY_MAX        512
#define OLA_SUPPRESS_WINDOW      (-1)

enum ola_akind {
    OLA_AK_COUNT = 0,
    OLA_AK_DISTINCT = 1,
    OLA_AK_SEQUENCE = 2,
};

/* Kind names, by enum ola_akind, NULL-terminated (ola_cfg_enum). */
extern const char *const ola_akind_names[];

struct ola_aitem {
    int64_t ts;
    int64_t id;
    char *val;        /* distinct value; NULL for other kinds */
    bool then;        /* sequence: a closing (then) event held for then_threshold */
    bool val_in_slab; /* val cut from the slab (strlen + 1 bytes), else malloc'd */
};

/*
 * A key of a rule: some 10,000 of them after a backfill, so its fields are
 * packed (72 bytes and the key's text; its hash is computed again when the
 * table moves it, not kept). Counts are 32-bit: a key holds at most
 * threshold + then_threshold items (20,000 by the settings' bounds), and a
 * restored state's extra items are pruned to that.
 */
struct ola_akey {
    struct ola_akey *hnext;       /* hash chain */
    struct ola_akey *prev, *next; /* the rule's touch list */
    int64_t quiet_until;          /* event time; 0: not quiet */
    int64_t newest;               /* newest event time seen for this key */
    int64_t touched;              /* wall clock of the last touch */
    struct ola_aitem *items;      /* sorted by ts, at most threshold */
    uint32_t rule;                /* index in the rules */
    uint32_t n, cap;              /* items held, room for */
    bool live;                    /* the last touch came within late_grace of its event */
    bool in_slab;                 /* k cut from the slab, else malloc'd */
    bool items_in_slab;           /* items cut from the slab (cap items), else malloc'd */
    char key[];
};

struct ola_arule {
    char *name;
    enum ola_akind kind;
    struct ola_expr *match, *then;
    int key_path[OLA_ALERT_MAX_KEY_FIELDS];
    size_t n_key;
    char *key_text; /* "user_id" or "user_id,ipaddr" */
    int distinct_path;
    char *distinct_text;
    size_t threshold;
    size_t then_threshold; /* sequence: closing events needed (1) */
    size_t max_keys;       /* this rule's keys; the oldest is evicted beyond it */
    size_t n_keys;
    int64_t window;
    int64_t suppress; /* ms, 0 none, OLA_SUPPRESS_WINDOW */
    int severity;
    struct ola_akey *head, *tail;
};

struct ola_alerts {
    struct ola_expr_env *env;
    struct ola_arule *rules;
    size_t n_rules, cap_rules;
    struct ola_akey **buckets;
    size_t n_buckets;               /* power of two */
    struct ola_alerts_settings set; /* as read; the three below come from it */
    size_t max_keys;
    int64_t suppress; /* default for rules */
    int64_t late_grace;
    int64_t clock; /* newest event time fed */
    bool capped_logged;
    struct ola_alerts_stats stats;
    struct ola_slab slab; /* the keys, their items and values (ola_alerts_trim) */
};

/* ---- the key store (alerts_state.c) ---------------------------------------- */

/* FNV-1a of the key text, seeded with the rule index. */
uint64_t ola_akey_hash(size_t rule, const char *s);
/* Frees k, its items and their values, wherever they live; NULL is a no-op. */
void ola_akey_free(struct ola_akey *k);
/* Forgets k's items (after an alert). */
void ola_akey_clear(struct ola_akey *k);
/* The key of (rule, key) with hash h, or NULL. */
struct ola_akey *ola_akey_find(const struct ola_alerts *a, size_t rule, const char *key,
                               uint64_t h);
/* Takes k out of its rule's touch list. */
void ola_akey_unlink(struct ola_arule *r, struct ola_akey *k);
/* Puts k at the tail (most recently touched) of its rule's touch list. */
void ola_akey_append(struct ola_arule *r, struct ola_akey *k);
/*
 * A new key, or NULL: ENOMEM (*capped false) or the cap (*capped true). At
 * the cap it first expires by now_ms (INT64_MIN: it does not).
 */
struct ola_akey *ola_akey_new(struct ola_alerts *a, size_t rule, const char *key,
                              uint64_t h, int64_t now_ms, bool *capped);
/* Forgets k's n oldest items. */
void ola_aitems_drop_front(struct ola_akey *k, size_t n);
/* Forgets k's item i. */
void ola_aitems_remove(struct ola_akey *k, size_t i);
/*
 * Inserts in ts order (stable: after equal ts). val: borrowed (NULL: none),
 * copied into a's slab with the items. Returns 0 / -1.
 */
int ola_aitems_insert(struct ola_alerts *a, struct ola_akey *k, int64_t ts, int64_t id,
                      const char *val);
/* The same for a sequence's closing event. Returns 0 / -1. */
int ola_aitems_insert_then(struct ola_alerts *a, struct ola_akey *k, int64_t ts,
                           int64_t id);
/* Whether k holds the event id (0: never). */
bool ola_aitems_has_id(const struct ola_akey *k, int64_t id);
/* Forgets items older than the window before the newest one, and beyond max. */
void ola_aitems_prune(struct ola_akey *k, int64_t window, size_t max);

#endif
