/*
 * alerts_priv.h - the alert rules and their state, for alerts.c,
 * alerts_save.c and alerts_state.c only.
 *
 * alerts_state.c keeps the keys (one hash table, a touch list per rule),
 * their items and expiry, in the slab of struct ola_alerts
 * (agent/core/slab.h); alerts_save.c writes them out and reads them back
 * through it; alerts.c reads the rules and runs the detectors on top of it.
 * The calls go one way: alerts.c and alerts_save.c call the key store
 * declared here, alerts_state.c calls neither.
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

/*
 * An item: 24 bytes, most keys hold one. Its distinct value is one word
 * (ola_aitem_val reads it): 0 none; OLA_AVAL_THEN a sequence's closing
 * event (it has no value); odd, a number written as canonical decimal (a
 * user id, most of them) kept as 2n + 1 and no text at all; else the text's
 * address, cut from the slab (strlen + 1 bytes), with OLA_AVAL_HEAP set when
 * it came from malloc instead. Addresses are 8-aligned and never this low.
 */
#define OLA_AVAL_THEN ((uintptr_t)4)
#define OLA_AVAL_HEAP ((uintptr_t)2)
/* Room for a number's text (ola_aitem_val). */
#define OLA_AVAL_NUM_MAX 24

struct ola_aitem {
    int64_t ts;
    int64_t id;
    uintptr_t val; /* as above */
};

/*
 * A key of a rule: some 10,000 of them after a backfill, so its fields are
 * packed (64 bytes and the key's text; its hash is computed again when the
 * table moves it, not kept). Counts are 16-bit: a key holds at most
 * threshold + then_threshold items (20,000 by the settings' bounds), and a
 * restored state's extra items are pruned to that; rules are at most
 * OLA_ALERT_RULES_MAX.
 */
struct ola_akey {
    struct ola_akey *hnext;       /* hash chain */
    struct ola_akey *prev, *next; /* the rule's touch list */
    int64_t quiet_until;          /* event time; 0: not quiet */
    int64_t newest;               /* newest event time seen for this key */
    int64_t touched;              /* wall clock of the last touch */
    struct ola_aitem *items;      /* sorted by ts, at most threshold */
    uint16_t rule;                /* index in the rules */
    uint16_t n, cap;              /* items held, room for */
    bool live : 1;                /* the last touch came within late_grace of its event */
    bool in_slab : 1;             /* k cut from the slab, else malloc'd */
    bool items_in_slab : 1;       /* items cut from the slab (cap items), else malloc'd */
    char key[];
};

/* Alert rules a set may hold: a key names its rule in 16 bits. */
#define OLA_ALERT_RULES_MAX 65535

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
/* Takes k out of the table and its rule's list, and frees it. */
void ola_akey_remove(struct ola_alerts *a, struct ola_akey *k);
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
/*
 * Item it's distinct value as text: NULL when it has none; a number is
 * written into buf (OLA_AVAL_NUM_MAX bytes). The result lives as long as
 * the item, or buf.
 */
const char *ola_aitem_val(const struct ola_aitem *it, char *buf);
/* Whether it's distinct value is val (num: ola_aval_num(val)). */
bool ola_aitem_val_is(const struct ola_aitem *it, const char *val, uintptr_t num);
/* val's one-word form when it is a number in canonical decimal, else 0. */
uintptr_t ola_aval_num(const char *val);
/* Whether it is a sequence's closing event. */
bool ola_aitem_then(const struct ola_aitem *it);
/* Whether k holds the event id (0: never). */
bool ola_aitems_has_id(const struct ola_akey *k, int64_t id);
/* Forgets items older than the window before the newest one, and beyond max. */
void ola_aitems_prune(struct ola_akey *k, int64_t window, size_t max);

#endif
