/*
 * test_alerts_state.c - where the alert state lives and how it is written
 * out: the trim's compaction of the keys' slab changes nothing a rule sees
 * (between batches past a third dead, at rest past a chunk),
 * item arrays too big for the slab work, and the state written as text for
 * a checkpoint is byte for byte the compact dump of the saved tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/slab.h"
#include "alerts_fixture.h"
#include "filters/rules/alerts_priv.h"
#include "filters/rules/rules_priv.h"

/* Feeds one event like feed(), appending every alert it raised to into. */
static int feed_into(struct fx *f, json_t *into, long long type, const char *user,
                     const char *ip, int64_t id, int64_t t)
{
    int n = feed(f, type, user, ip, id, t);
    size_t i;

    for (i = 0; i < f->b.n; i++)
        if (f->b.ev[i].kind == OLA_REC_ALERT)
            assert_int_equal(
                json_array_append(into, json_object_get(f->b.ev[i].ola, "alert")), 0);
    return n;
}

/* The state saved, the rule set built anew from rules and the state restored. */
static void restart(struct fx *f, const char *rules)
{
    json_t *st = ola_rules_state_save(f->r);

    assert_non_null(st);
    ola_rules_destroy(f->r);
    f->r = build(f, rules, NULL);
    assert_non_null(f->r);
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), 0);
    json_decref(st);
}

static char *saved_text(struct fx *f)
{
    json_t *st = ola_rules_state_save(f->r);
    char *text;

    assert_non_null(st);
    text = json_dumps(st, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(text);
    json_decref(st);
    return text;
}

static const char *churn_rules = "rules:\n"
                                 "  - name: fails\n"
                                 "    alert:\n"
                                 "      kind: count\n"
                                 "      match: {event_type: [6]}\n"
                                 "      key: user_id\n"
                                 "      threshold: 3\n"
                                 "      window: 1m\n"
                                 "  - name: spray\n"
                                 "    alert:\n"
                                 "      kind: distinct\n"
                                 "      match: {event_type: [6]}\n"
                                 "      key: user_id\n"
                                 "      distinct: ipaddr\n"
                                 "      threshold: 3\n"
                                 "      window: 1m\n";

/*
 * 2,000 users fail (a count key and a distinct key each, with a value), every
 * tenth again 50 s later, then a batch moves event time past the others'
 * window: nine keys in ten expire, leaving every chunk mostly dead, and that
 * same batch moves the survivors to fresh chunks (the old ones gone). With
 * survivors_only, only the kept users' events are fed: the state is never
 * sparse, and must be the same, text for text (*text). Then the kept users
 * fail a third time (an alert from each rule, from keys found through the
 * hash), new users come and alert, and event time expires everything (the
 * touch lists walked). Returns the alerts raised after the expiring batch.
 */
static json_t *churn(struct fx *f, bool survivors_only, char **text)
{
    const struct ola_slab *slab;
    json_t *raised = json_array();
    char user[16], ip[32];
    size_t used, mapped;
    int i;

    assert_non_null(raised);
    f->r = build(f, churn_rules, NULL);
    assert_non_null(f->r);
    slab = &f->r->alerts->slab;
    for (i = 0; i < 2000; i++) {
        if (survivors_only && i % 10 != 0)
            continue;
        snprintf(user, sizeof(user), "%d", 1000 + i);
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 250, i % 250);
        assert_int_equal(feed(f, 6, user, ip, 1 + i, T0 + i), 0);
    }
    for (i = 0; i < 2000; i += 10) {
        snprintf(user, sizeof(user), "%d", 1000 + i);
        snprintf(ip, sizeof(ip), "10.%d.%d.2", i / 250, i % 250);
        assert_int_equal(feed(f, 6, user, ip, 10001 + i, T0 + 50 * SEC + i), 0);
    }
    assert_int_equal(saved_keys(f), survivors_only ? 400 : 4000);
    used = slab->used;
    mapped = ola_slab_mapped();
    assert_int_equal(feed(f, 5, "9", "x", 20001, T0 + MIN + 10 * SEC), 0);
    assert_int_equal(saved_keys(f), 400);
    assert_false(ola_slab_sparse(slab));
    if (!survivors_only) {
        /* moved in that batch: no dead bytes, a fraction of the chunks (without the
         * churn, the survivors' first arrays, outgrown by their second item, are
         * dead bytes too few to move for) */
        assert_int_equal(slab->used, slab->live);
        assert_true(slab->used < used / 4);
        /* the old chunks are gone: what is mapped holds the survivors, and
         * the current chunk (at most one more) */
        assert_true(ola_slab_mapped() < mapped / 3);
        assert_true(ola_slab_mapped() <=
                    (slab->used / OLA_SLAB_CHUNK + 2) * (size_t)OLA_SLAB_CHUNK);
    }
    *text = saved_text(f);
    used = slab->used;
    ola_rules_trim(f->r); /* at rest: not sparse, nothing moves */
    assert_int_equal(slab->used, used);
    for (i = 0; i < 2000; i += 10) {
        snprintf(user, sizeof(user), "%d", 1000 + i);
        snprintf(ip, sizeof(ip), "10.%d.%d.3", i / 250, i % 250);
        assert_int_equal(feed_into(f, raised, 6, user, ip, 30001 + i, T0 + 55 * SEC + i),
                         2);
    }
    for (i = 0; i < 300; i++) {
        snprintf(user, sizeof(user), "%d", 5000 + i / 3);
        snprintf(ip, sizeof(ip), "10.9.%d.%d", i / 3, i % 3);
        feed_into(f, raised, 6, user, ip, 40001 + i, T0 + 56 * SEC + i);
    }
    assert_int_equal(json_array_size(raised), 600);
    assert_int_equal(saved_keys(f), 600);
    assert_int_equal(feed(f, 5, "9", "x", 50001, T0 + 10 * MIN), 0);
    assert_int_equal(saved_keys(f), 0);
    assert_int_equal(ola_rules_stats(f->r)->alerts, 600);
    return raised;
}

static void test_trim_moves_state(void **state)
{
    struct fx *f = *state;
    size_t mapped = ola_slab_mapped();
    json_t *moved, *kept;
    char *a, *b, *moved_text, *kept_text;

    moved = churn(f, false, &moved_text);
    ola_rules_destroy(f->r);
    f->r = NULL;
    assert_int_equal(ola_slab_mapped(), mapped); /* every chunk went */
    kept = churn(f, true, &kept_text);
    ola_rules_destroy(f->r);
    f->r = NULL;
    assert_int_equal(ola_slab_mapped(), mapped);
    assert_string_equal(moved_text, kept_text);
    a = json_dumps(moved, JSON_SORT_KEYS | JSON_COMPACT);
    b = json_dumps(kept, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(moved_text);
    free(kept_text);
    json_decref(moved);
    json_decref(kept);
}

/*
 * At rest the state moves as soon as a chunk's worth of it is dead: two of
 * 3,000 users in three outgrow their keys' first item arrays (a ninth of the bytes, under
 * the third a batch waits for), the batches leave it, ola_rules_trim moves it
 * and a chunk at least goes back; the state written out is the same text
 * before and after.
 */
static void test_rest_moves_a_chunk(void **state)
{
    struct fx *f = *state;
    const struct ola_slab *slab;
    char user[16], ip[32], *before, *after;
    size_t used, mapped;
    int i;

    f->r = build(f, churn_rules, NULL);
    assert_non_null(f->r);
    slab = &f->r->alerts->slab;
    /* every user once, then two in three again: their keys' first item arrays
     * (one item) are outgrown, dead bytes strewn over every chunk */
    for (i = 0; i < 3000; i++) {
        snprintf(user, sizeof(user), "%d", 1000 + i);
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 250, i % 250);
        assert_int_equal(feed(f, 6, user, ip, 1 + i, T0 + i), 0);
    }
    for (i = 0; i < 3000; i++) {
        if (i % 3 == 0)
            continue;
        snprintf(user, sizeof(user), "%d", 1000 + i);
        assert_int_equal(feed(f, 6, user, "192.0.2.1", 10001 + i, T0 + 30 * SEC + i), 0);
    }
    assert_int_equal(saved_keys(f), 6000);
    assert_true(slab->used - slab->live >= OLA_SLAB_CHUNK);
    assert_false(ola_slab_sparse(slab)); /* the batches did not move it */
    used = slab->used;
    mapped = ola_slab_mapped();
    before = saved_text(f);
    ola_rules_trim(f->r);
    assert_int_equal(slab->used, slab->live);
    assert_true(slab->used < used);
    assert_true(ola_slab_mapped() + OLA_SLAB_CHUNK <= mapped);
    after = saved_text(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    ola_rules_destroy(f->r);
    f->r = NULL;
}

/* rule ri's key for user (user_id keys are the id's digits), or NULL */
static struct ola_akey *key_of(struct fx *f, size_t ri, const char *user)
{
    return ola_akey_find(f->r->alerts, ri, user, ola_akey_hash(ri, user));
}

/*
 * Item arrays fit what a key holds: one item in a first array of one, grown
 * by doubling up to what the rule keeps (threshold 3: 1, 2, 3); a key quiet
 * after its alert holds no array at all, and counts afresh from one when its
 * quiet time is over. The distinct rule's key shows it for values too.
 */
static void test_item_arrays_fit(void **state)
{
    struct fx *f = *state;
    struct ola_akey *k;
    size_t ri;

    f->r = build(f, churn_rules, NULL);
    assert_non_null(f->r);
    assert_int_equal(feed(f, 6, "7", "10.0.0.1", 1, T0), 0);
    for (ri = 0; ri < 2; ri++) {
        k = key_of(f, ri, "7");
        assert_non_null(k);
        assert_int_equal(k->n, 1);
        assert_int_equal(k->cap, 1);
    }
    assert_int_equal(feed(f, 6, "7", "10.0.0.2", 2, T0 + SEC), 0);
    k = key_of(f, 0, "7");
    assert_int_equal(k->n, 2);
    assert_int_equal(k->cap, 2);
    assert_int_equal(feed(f, 6, "7", "10.0.0.3", 3, T0 + 2 * SEC), 2); /* both rules */
    for (ri = 0; ri < 2; ri++) {
        k = key_of(f, ri, "7");
        assert_non_null(k);
        assert_int_equal(k->n, 0);
        assert_int_equal(k->cap, 0);
        assert_null(k->items);
    }
    /* quiet for the window: suppressed, still nothing held */
    assert_int_equal(feed(f, 6, "7", "10.0.0.4", 4, T0 + 30 * SEC), 0);
    assert_null(key_of(f, 0, "7")->items);
    /* after it, counting starts afresh in an array of one */
    assert_int_equal(feed(f, 6, "7", "10.0.0.5", 5, T0 + 2 * SEC + MIN + SEC), 0);
    k = key_of(f, 0, "7");
    assert_non_null(k);
    assert_int_equal(k->n, 1);
    assert_int_equal(k->cap, 1);
    assert_int_equal(feed(f, 6, "7", "10.0.0.6", 6, T0 + 2 * SEC + MIN + 2 * SEC), 0);
    assert_int_equal(feed(f, 6, "7", "10.0.0.7", 7, T0 + 2 * SEC + MIN + 3 * SEC), 2);
}

/*
 * Thresholds of a few hundred: the item arrays outgrow OLA_SLAB_BIG and go to
 * malloc (their distinct values stay in the slab); counting, alerting, a
 * restore and the trim work with them, and destroy frees each where it lives.
 */
static void test_big_item_arrays(void **state)
{
    struct fx *f = *state;
    const char *rules = "rules:\n"
                        "  - name: many\n"
                        "    alert:\n"
                        "      kind: count\n"
                        "      match: {event_type: [6]}\n"
                        "      key: user_id\n"
                        "      threshold: 300\n"
                        "      window: 1h\n"
                        "  - name: wide\n"
                        "    alert:\n"
                        "      kind: distinct\n"
                        "      match: {event_type: [6]}\n"
                        "      key: user_id\n"
                        "      distinct: ipaddr\n"
                        "      threshold: 200\n"
                        "      window: 1h\n";
    size_t mapped = ola_slab_mapped();
    const struct ola_akey *k;
    char ip[32];
    int i, total = 0;

    f->r = build(f, rules, NULL);
    assert_non_null(f->r);
    for (i = 0; i < 199; i++) {
        snprintf(ip, sizeof(ip), "192.0.2.%d", i);
        assert_int_equal(feed(f, 6, "1", ip, 1 + i, T0 + i * SEC), 0);
    }
    for (i = 0; i < 2; i++) {
        k = f->r->alerts->rules[i].head;
        assert_non_null(k);
        assert_int_equal(k->n, 199);
        assert_true(k->cap * sizeof(*k->items) > OLA_SLAB_BIG);
        assert_false(k->items_in_slab);
        assert_true(k->in_slab);
    }
    /* the addresses are text in the slab: neither numbers nor malloc'd */
    assert_int_equal(f->r->alerts->rules[1].head->items[0].val & (OLA_AVAL_HEAP | 1), 0);
    /* saved mid-way, restored into a fresh rule set: the arrays grow again */
    restart(f, rules);
    ola_rules_trim(f->r);
    snprintf(ip, sizeof(ip), "192.0.2.%d", 199);
    total += feed(f, 6, "1", ip, 200, T0 + 199 * SEC); /* the 200th distinct */
    assert_int_equal(total, 1);
    assert_string_equal(alert_str(f, "rule"), "wide");
    assert_int_equal(json_array_size(json_object_get(f->last, "values")), 200);
    for (i = 200; i < 300; i++)
        total += feed(f, 6, "1", "198.51.100.1", 1 + i, T0 + i * SEC);
    assert_int_equal(total, 2);
    assert_string_equal(alert_str(f, "rule"), "many");
    assert_int_equal(alert_int(f, "count"), 300);
    ola_rules_destroy(f->r);
    f->r = NULL;
    assert_int_equal(ola_slab_mapped(), mapped);
}

/*
 * A saved key with more items than a key can count (its counts are 16-bit):
 * the restore keeps what the rule holds, newest last, as it always pruned.
 */
static void test_restore_prunes_as_it_reads(void **state)
{
    struct fx *f = *state;
    json_t *st, *items = json_array();
    const struct ola_akey *k;
    int64_t i;

    assert_non_null(items);
    for (i = 0; i < 70000; i++)
        assert_int_equal(json_array_append_new(items, json_pack("[I,I]", T0 + i, 1 + i)),
                         0);
    st = json_pack("{s:i, s:I, s:[{s:s, s:s, s:s, s:i, s:I, s:I, s:b, s:o}]}", "version",
                   1, "clock", T0 + 70000, "keys", "rule", "fails", "kind", "count",
                   "key", "7", "quiet_until", 0, "newest", T0 + 69999, "touched",
                   T0 + 69999, "live", 0, "items", items);
    assert_non_null(st);
    f->r = build(f, churn_rules, NULL);
    assert_non_null(f->r);
    assert_int_equal(ola_rules_state_restore(f->r, st, &f->err), 0);
    json_decref(st);
    k = key_of(f, 0, "7");
    assert_non_null(k);
    assert_int_equal(k->n, 3); /* threshold 3: at most 3 held */
    assert_int_equal(k->items[2].id, 70000);
    assert_int_equal(k->items[0].id, 69998);
}

/*
 * A version 1 state (a checkpoint written before version 2) restores: its
 * keys and items come back, saved again as version 2 with the same content,
 * the keys of a rule no longer configured (or of another kind) skipped in
 * either version. A version 2 key that is not [key, quiet_until, newest,
 * touched, live, items], or an unknown version, refuses the whole state.
 */
static void test_state_versions(void **state)
{
    struct fx *f = *state;
    json_t *v1, *v2, *keys, *bad, *want;
    struct ola_akey *k;

    v1 = json_pack("{s:i, s:I, s:[{s:s, s:s, s:s, s:i, s:I, s:I, s:b, s:[[I,I]]},"
                   "{s:s, s:s, s:s, s:i, s:I, s:I, s:b, s:[[I,I,s],[I,I,s]]},"
                   "{s:s, s:s, s:s, s:i, s:I, s:I, s:b, s:[]}]}",
                   "version", 1, "clock", T0 + 5 * SEC, "keys",
                   /* fails: a count key */
                   "rule", "fails", "kind", "count", "key", "7", "quiet_until", 0,
                   "newest", T0, "touched", T0, "live", 1, "items", T0, (json_int_t)1,
                   /* spray: a distinct key with a number and a text value */
                   "rule", "spray", "kind", "distinct", "key", "7", "quiet_until", 0,
                   "newest", T0 + SEC, "touched", T0 + SEC, "live", 0, "items", T0,
                   (json_int_t)2, "10.0.0.1", T0 + SEC, (json_int_t)3, "42",
                   /* a rule gone */
                   "rule", "gone", "kind", "count", "key", "9", "quiet_until", 0,
                   "newest", T0, "touched", T0, "live", 0, "items");
    assert_non_null(v1);
    f->r = build(f, churn_rules, NULL);
    assert_non_null(f->r);
    assert_int_equal(ola_rules_state_restore(f->r, v1, &f->err), 0);
    json_decref(v1);
    k = key_of(f, 1, "7");
    assert_non_null(k);
    assert_int_equal(k->n, 2);
    assert_int_equal(k->items[1].val, 42 * 2 + 1); /* a number, no text */
    v2 = ola_rules_state_save(f->r);
    assert_non_null(v2);
    assert_int_equal(json_integer_value(json_object_get(v2, "version")), 2);
    assert_int_equal(json_integer_value(json_object_get(v2, "clock")), T0 + 5 * SEC);
    assert_int_equal(state_keys(v2), 2);
    keys = json_object_get(json_array_get(json_object_get(v2, "rules"), 1), "keys");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(v2, "rules"), 1), "rule")),
                        "spray");
    want = json_pack("[s,i,I,I,b,[[I,I,s],[I,I,s]]]", "7", 0, T0 + SEC, T0 + SEC, 0, T0,
                     (json_int_t)2, "10.0.0.1", T0 + SEC, (json_int_t)3, "42");
    assert_true(json_equal(json_array_get(keys, 0), want));
    json_decref(want);
    /* version 2 back in, a rule gone among them */
    assert_int_equal(
        json_array_append_new(json_object_get(v2, "rules"),
                              json_pack("{s:s, s:s, s:[[s,i,I,I,b,[]]]}", "rule", "gone",
                                        "kind", "count", "keys", "9", 0, T0, T0, 0)),
        0);
    ola_rules_destroy(f->r);
    f->r = build(f, churn_rules, NULL);
    assert_non_null(f->r);
    assert_int_equal(ola_rules_state_restore(f->r, v2, &f->err), 0);
    assert_int_equal(saved_keys(f), 2);
    /* a key of five members, another version: refused whole */
    bad = json_deep_copy(v2);
    assert_int_equal(
        json_array_remove(
            json_array_get(
                json_object_get(json_array_get(json_object_get(bad, "rules"), 0), "keys"),
                0),
            5),
        0);
    assert_int_equal(ola_rules_state_restore(f->r, bad, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "is not [key"));
    assert_int_equal(saved_keys(f), 0);
    json_decref(bad);
    assert_int_equal(json_object_set_new(v2, "version", json_integer(3)), 0);
    assert_int_equal(ola_rules_state_restore(f->r, v2, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "unknown version 3"));
    json_decref(v2);
}

/*
 * A distinct value that is a number in canonical decimal is kept as one word,
 * no text (a user id: most values are); any other text is kept as it came.
 * Either reads back byte for byte in the alert, the saved state and after a
 * restore; "7" and 7 are one value (the text is what counts, as before),
 * "07" and 7 are two.
 */
static void test_number_values(void **state)
{
    static const char *const users[] = {
        "0", "7", "\"07\"", "123456789012345678", "1234567890123456789", "-5", "\"x\"",
    };
    static const char *const want[] = {
        "0", "07", "123456789012345678", "1234567890123456789", "-5", "x", "7", "9",
    };
    static const char *const rules = "rules:\n"
                                     "  - name: spray\n"
                                     "    alert:\n"
                                     "      kind: distinct\n"
                                     "      match: {event_type: [6]}\n"
                                     "      key: ipaddr\n"
                                     "      distinct: user_id\n"
                                     "      threshold: 8\n"
                                     "      window: 1h\n";
    struct fx *f = *state;
    const struct ola_akey *k;
    json_t *vals;
    size_t i, numbers = 0;
    char *text, *again;

    f->r = build(f, rules, NULL);
    assert_non_null(f->r);
    for (i = 0; i < 7; i++)
        assert_int_equal(
            feed(f, 6, users[i], "10.0.0.1", 1 + (int64_t)i, T0 + (int64_t)i * SEC), 0);
    /* 7 again, as a string: the same value, moved to its newest time */
    assert_int_equal(feed(f, 6, "\"7\"", "10.0.0.1", 8, T0 + 7 * SEC), 0);
    k = f->r->alerts->rules[0].head;
    assert_non_null(k);
    assert_int_equal(k->n, 7);
    for (i = 0; i < k->n; i++)
        numbers += k->items[i].val & 1;
    assert_int_equal(numbers, 3); /* 0, 123456789012345678, 7 */
    text = saved_text(f);
    restart(f, rules);
    again = saved_text(f);
    assert_string_equal(again, text);
    free(again);
    free(text);
    assert_int_equal(feed(f, 6, "9", "10.0.0.1", 9, T0 + 8 * SEC), 1);
    vals = json_object_get(f->last, "values");
    assert_int_equal(json_array_size(vals), 8);
    for (i = 0; i < 8; i++)
        assert_string_equal(json_string_value(json_array_get(vals, i)), want[i]);
}

/*
 * The save as text (a checkpoint's) is byte for byte the compact dump of the
 * saved tree, with keys and values that need escaping, and an empty state.
 */
static void test_save_text(void **state)
{
    struct fx *f = *state;
    struct ola_buf text = OLA_BUF_INIT;
    json_t *st, *back;
    char *want;

    f->r = build(f,
                 "rules:\n"
                 "  - name: spray\n"
                 "    alert:\n"
                 "      kind: distinct\n"
                 "      match: {categories: [login_failure]}\n"
                 "      key: ipaddr\n"
                 "      distinct: user_id\n"
                 "      threshold: 5\n"
                 "      window: 1h\n",
                 NULL);
    assert_non_null(f->r);
    assert_int_equal(ola_rules_state_save_text(f->r, &text), 0); /* empty */
    st = ola_rules_state_save(f->r);
    want = json_dumps(st, JSON_COMPACT);
    assert_int_equal(text.len, strlen(want));
    assert_memory_equal(text.data, want, text.len);
    free(want);
    json_decref(st);
    ola_buf_reset(&text);
    assert_int_equal(feed(f, 6, "\"a\\\"b\\u00e9\\n\"", "q\\\"1", 1, T0), 0);
    assert_int_equal(feed(f, 6, "\"\\u2028/\"", "q\\\"1", 2, T0 + SEC), 0);
    assert_int_equal(feed(f, 6, "7", "10.0.0.1", 3, T0 + 2 * SEC), 0);
    assert_int_equal(ola_rules_state_save_text(f->r, &text), 0);
    st = ola_rules_state_save(f->r);
    assert_int_equal(state_keys(st), 2);
    want = json_dumps(st, JSON_COMPACT);
    assert_int_equal(text.len, strlen(want));
    assert_memory_equal(text.data, want, text.len);
    assert_non_null(strstr(want, "q\\\"1")); /* the escaped key is in it */
    free(want);
    json_decref(st);
    /* an ESC: \u001B, as Jansson writes it (a checkpoint's loader dumps the
     * parsed state again to check the checksum: any other form fails it) */
    assert_int_equal(feed(f, 6, "\"c\\u001bd\"", "q\\\"1", 4, T0 + 3 * SEC), 0);
    ola_buf_reset(&text);
    assert_int_equal(ola_rules_state_save_text(f->r, &text), 0);
    assert_non_null(strstr(text.data, "c\\u001Bd"));
    st = ola_rules_state_save(f->r);
    want = json_dumps(st, JSON_COMPACT);
    assert_int_equal(text.len, strlen(want));
    assert_memory_equal(text.data, want, text.len);
    free(want);
    back = json_loadb(text.data, text.len, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, st));
    json_decref(back);
    json_decref(st);
    ola_buf_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trim_moves_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rest_moves_a_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_arrays_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_item_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_prunes_as_it_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_text, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
