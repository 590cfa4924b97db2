/*
 * alerts_save.c - the alert rules' state as the checkpoint keeps it.
 *
 * The saved state (version 2) lists the rules that hold keys, each with its
 * name, its kind and its keys in touch order; a key is an array [key,
 * quiet_until, newest, touched, live, items] and an item [time, id], with a
 * distinct value as a third member or a sequence's closing event as a third
 * member 1. Version 1, which named the rule and every field in an object per
 * key, is still read: it was twice the bytes, and a backfill writes the
 * whole state after every page (10,000 keys, 1.9 MB a page after 100,000
 * events; a third of the backfill's CPU went into that checkpoint). It is
 * written two ways that give the same bytes: as a Jansson tree
 * (ola_alerts_save) and as text straight into a buffer
 * (ola_alerts_save_text, what every page's checkpoint writes). A restore
 * reads the tree back through the key store (alerts_state.c), skipping the
 * keys of rules no longer configured or of another kind, and refusing
 * anything malformed as a whole.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/buf.h"
#include "filters/rules/alerts.h"
#include "filters/rules/alerts_priv.h"

/* Key k as its saved array; a new reference or NULL. */
static json_t *ola_akey_json(const struct ola_akey *k)
{
    json_t *items = json_array();
    json_t *o = items != NULL
                    ? json_pack("[s,I,I,I,b,o]", k->key, (json_int_t)k->quiet_until,
                                (json_int_t)k->newest, (json_int_t)k->touched,
                                (int)k->live, items)
                    : NULL;
    size_t j;

    if (o == NULL)
        return NULL;
    for (j = 0; j < k->n; j++) {
        const struct ola_aitem *it = &k->items[j];
        char num[OLA_AVAL_NUM_MAX];
        const char *val = ola_aitem_val(it, num);
        json_t *t = val != NULL ? json_pack("[I,I,s]", (json_int_t)it->ts,
                                            (json_int_t)it->id, val)
                    : ola_aitem_then(it)
                        ? json_pack("[I,I,i]", (json_int_t)it->ts, (json_int_t)it->id, 1)
                        : json_pack("[I,I]", (json_int_t)it->ts, (json_int_t)it->id);

        if (t == NULL || json_array_append_new(items, t) != 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *ola_alerts_save(const struct ola_alerts *a)
{
    json_t *st = json_pack("{s:i, s:I, s:[]}", "version", 2, "clock",
                           (json_int_t)a->clock, "rules"),
           *rules = json_object_get(st, "rules");
    size_t i;

    if (st == NULL)
        return NULL;
    for (i = 0; i < a->n_rules; i++) {
        const struct ola_arule *r = &a->rules[i];
        const struct ola_akey *k;
        json_t *keys;

        if (r->head == NULL)
            continue;
        keys = json_array();
        if (keys == NULL ||
            json_array_append_new(rules,
                                  json_pack("{s:s, s:s, s:o}", "rule", r->name, "kind",
                                            ola_akind_names[r->kind], "keys", keys)) != 0)
            goto fail;
        for (k = r->head; k != NULL; k = k->next)
            if (json_array_append_new(keys, ola_akey_json(k)) != 0)
                goto fail;
    }
    return st;
fail:
    json_decref(st);
    return NULL;
}

/*
 * Appends s as Jansson's compact dump writes it, which the checkpoint's
 * checksum is over (its loader dumps the parsed file again to check it):
 * printable ASCII without quote or backslash as it is, anything else through
 * Jansson itself (its \u00XX escapes are upper case, and a string that is not
 * UTF-8 fails, as the tree form did). 0 / -1.
 */
static int ola_put_str(struct ola_buf *out, const char *s)
{
    size_t i, n = strlen(s), need;
    json_t *v;
    int rc = -1;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' ||
            s[i] == '\\')
            break;
    if (i == n)
        return ola_buf_putc(out, '"') != 0 || ola_buf_append(out, s, n) != 0 ||
                       ola_buf_putc(out, '"') != 0
                   ? -1
                   : 0;
    v = json_stringn(s, n);
    need = v != NULL ? json_dumpb(v, NULL, 0, JSON_ENCODE_ANY) : 0;
    if (need == 0 || ola_buf_reserve(out, need) != 0 ||
        json_dumpb(v, out->data + out->len, need, JSON_ENCODE_ANY) != need)
        goto fail;
    ola_buf_truncate(out, out->len + need);
    rc = 0;
fail:
    json_decref(v);
    return rc;
}

/*
 * Appends k as ola_akey_json's array, written straight into out: the same
 * members in the same order, compact. Building and dumping a tree per key
 * was a quarter of a backfill's CPU (every page's checkpoint saves the whole
 * state). Byte for byte the tree's compact dump (ola_put_str).
 */
static int ola_akey_text(const struct ola_akey *k, struct ola_buf *out)
{
    size_t j;

    if (ola_buf_putc(out, '[') != 0 || ola_put_str(out, k->key) != 0 ||
        ola_buf_putc(out, ',') != 0 || ola_buf_put_i64(out, k->quiet_until) != 0 ||
        ola_buf_putc(out, ',') != 0 || ola_buf_put_i64(out, k->newest) != 0 ||
        ola_buf_putc(out, ',') != 0 || ola_buf_put_i64(out, k->touched) != 0 ||
        ola_buf_puts(out, k->live ? ",true,[" : ",false,[") != 0)
        return -1;
    for (j = 0; j < k->n; j++) {
        const struct ola_aitem *it = &k->items[j];
        char num[OLA_AVAL_NUM_MAX];
        const char *val = ola_aitem_val(it, num);

        if ((j > 0 && ola_buf_putc(out, ',') != 0) || ola_buf_putc(out, '[') != 0 ||
            ola_buf_put_i64(out, it->ts) != 0 || ola_buf_putc(out, ',') != 0 ||
            ola_buf_put_i64(out, it->id) != 0)
            return -1;
        if (val != NULL ? ola_buf_putc(out, ',') != 0 || ola_put_str(out, val) != 0
            : ola_aitem_then(it) ? ola_buf_puts(out, ",1") != 0
                                 : 0)
            return -1;
        if (ola_buf_putc(out, ']') != 0)
            return -1;
    }
    return ola_buf_puts(out, "]]");
}

int ola_alerts_save_text(const struct ola_alerts *a, struct ola_buf *out)
{
    const char *rsep = "";
    size_t i;

    if (ola_buf_puts(out, "{\"version\":2,\"clock\":") != 0 ||
        ola_buf_put_i64(out, a->clock) != 0 || ola_buf_puts(out, ",\"rules\":[") != 0)
        return -1;
    for (i = 0; i < a->n_rules; i++) {
        const struct ola_arule *r = &a->rules[i];
        const struct ola_akey *k;

        if (r->head == NULL)
            continue;
        if (ola_buf_puts(out, rsep) != 0 || ola_buf_puts(out, "{\"rule\":") != 0 ||
            ola_put_str(out, r->name) != 0 || ola_buf_puts(out, ",\"kind\":") != 0 ||
            ola_put_str(out, ola_akind_names[r->kind]) != 0 ||
            ola_buf_puts(out, ",\"keys\":[") != 0)
            return -1;
        for (k = r->head; k != NULL; k = k->next)
            if ((k != r->head && ola_buf_putc(out, ',') != 0) ||
                ola_akey_text(k, out) != 0)
                return -1;
        if (ola_buf_puts(out, "]}") != 0)
            return -1;
        rsep = ",";
    }
    return ola_buf_puts(out, "]}");
}

static void ola_alerts_clear(struct ola_alerts *a)
{
    size_t i;

    for (i = 0; i < a->n_rules; i++)
        while (a->rules[i].head != NULL)
            ola_akey_remove(a, a->rules[i].head);
    a->clock = 0;
}

static bool ola_get_int(const json_t *o, const char *k, json_int_t *out)
{
    const json_t *v = json_object_get(o, k);

    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

static int ola_restore_items(struct ola_alerts *a, size_t ri, struct ola_akey *k,
                             const json_t *items, struct ola_err *err)
{
    size_t i, max = a->rules[ri].threshold + a->rules[ri].then_threshold - 1;
    const json_t *it;

    json_array_foreach(items, i, it)
    {
        const json_t *tsv = json_array_get(it, 0), *idv = json_array_get(it, 1);
        const json_t *vv = json_array_get(it, 2);
        size_t len = json_array_size(it);
        enum ola_akind kind = a->rules[ri].kind;
        bool then = len == 3 && json_is_integer(vv);

        if (!json_is_integer(tsv) || !json_is_integer(idv) || len < 2 || len > 3 ||
            (len == 3 && !json_is_string(vv) && !(then && json_integer_value(vv) == 1)))
            return ola_err_set(err, EINVAL, "alert state: bad item in rule '%s'",
                               a->rules[ri].name);
        /* distinct items carry their value, a sequence may hold closing events */
        if ((len == 3 && !then) != (kind == OLA_AK_DISTINCT) ||
            (then && kind != OLA_AK_SEQUENCE))
            return ola_err_set(err, EINVAL, "alert state: item does not fit rule '%s'",
                               a->rules[ri].name);
        if ((then ? ola_aitems_insert_then(a, k, json_integer_value(tsv),
                                           json_integer_value(idv))
                  : ola_aitems_insert(a, k, json_integer_value(tsv),
                                      json_integer_value(idv),
                                      len == 3 ? json_string_value(vv) : NULL)) != 0)
            return ola_err_set(err, ENOMEM, "out of memory");
        if (k->n > max) /* more than the rule keeps: never more than it holds */
            ola_aitems_prune(k, a->rules[ri].window, max);
    }
    ola_aitems_prune(k, a->rules[ri].window, max);
    return 0;
}

/* Rule ri's index by name and kind, or a->n_rules: gone or changed. */
static size_t ola_restore_rule(const struct ola_alerts *a, const char *rule,
                               const char *kind)
{
    size_t ri;

    for (ri = 0; ri < a->n_rules; ri++)
        if (strcmp(a->rules[ri].name, rule) == 0)
            break;
    if (ri < a->n_rules && strcmp(ola_akind_names[a->rules[ri].kind], kind) != 0)
        ri = a->n_rules;
    return ri;
}

/* One key of rule ri with its fields, read from either version. */
static int ola_restore_fields(struct ola_alerts *a, size_t ri, const char *key,
                              const json_int_t t[3], bool live, const json_t *items,
                              struct ola_err *err)
{
    uint64_t h = ola_akey_hash(ri, key);
    struct ola_akey *k;
    bool capped;

    if (strlen(key) >= OLA_ALERT_KEY_MAX)
        return ola_err_set(err, EINVAL, "alert state: key too long");
    if (ola_akey_find(a, ri, key, h) != NULL)
        return ola_err_set(err, EINVAL, "alert state: key '%s' of rule '%s' twice", key,
                           a->rules[ri].name);
    k = ola_akey_new(a, ri, key, h, INT64_MIN, &capped);
    if (k == NULL)
        return capped ? 0 : ola_err_set(err, ENOMEM, "out of memory");
    k->quiet_until = t[0];
    k->newest = t[1];
    k->touched = t[2];
    k->live = live;
    return ola_restore_items(a, ri, k, items, err);
}

/* A version 1 key: {rule, kind, key, quiet_until, newest, touched, live, items}. */
static int ola_restore_key1(struct ola_alerts *a, const json_t *o, struct ola_err *err)
{
    const char *rule = json_string_value(json_object_get(o, "rule"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *key = json_string_value(json_object_get(o, "key"));
    const json_t *items = json_object_get(o, "items");
    const json_t *live = json_object_get(o, "live");
    json_int_t t[3];
    size_t ri;

    if (rule == NULL || kind == NULL || key == NULL || !json_is_array(items) ||
        !json_is_boolean(live) || !ola_get_int(o, "quiet_until", &t[0]) ||
        !ola_get_int(o, "newest", &t[1]) || !ola_get_int(o, "touched", &t[2]))
        return ola_err_set(err, EINVAL,
                           "alert state: a key lacks rule, kind, key, "
                           "quiet_until, newest, touched, live or items");
    ri = ola_restore_rule(a, rule, kind);
    if (ri == a->n_rules)
        return 0; /* rule gone or changed: its state means nothing now */
    return ola_restore_fields(a, ri, key, t, json_is_true(live), items, err);
}

/* A version 2 rule: {rule, kind, keys: [[key, quiet_until, newest, touched, live,
 * items], ...]}. */
static int ola_restore_rule2(struct ola_alerts *a, const json_t *o, struct ola_err *err)
{
    const char *rule = json_string_value(json_object_get(o, "rule"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const json_t *keys = json_object_get(o, "keys"), *kv;
    size_t ri, i, j;

    if (rule == NULL || kind == NULL || !json_is_array(keys))
        return ola_err_set(err, EINVAL, "alert state: a rule lacks rule, kind or keys");
    ri = ola_restore_rule(a, rule, kind);
    json_array_foreach(keys, i, kv)
    {
        const json_t *live = json_array_get(kv, 4), *items = json_array_get(kv, 5);
        const char *key = json_string_value(json_array_get(kv, 0));
        bool times = true;
        json_int_t t[3];

        for (j = 0; j < 3; j++) {
            const json_t *tv = json_array_get(kv, j + 1);

            times = times && json_is_integer(tv);
            t[j] = json_integer_value(tv); /* 0 when it is none */
        }
        if (json_array_size(kv) != 6 || key == NULL || !times || !json_is_boolean(live) ||
            !json_is_array(items))
            return ola_err_set(err, EINVAL,
                               "alert state: a key of rule '%s' is not [key, "
                               "quiet_until, newest, touched, live, items]",
                               rule);
        if (ri == a->n_rules)
            continue; /* rule gone or changed: its state means nothing now */
        if (ola_restore_fields(a, ri, key, t, json_is_true(live), items, err) != 0)
            return -1;
    }
    return 0;
}

int ola_alerts_restore(struct ola_alerts *a, const json_t *state, struct ola_err *err)
{
    const json_t *list, *o;
    json_int_t version, clock;
    size_t i;

    ola_alerts_clear(a);
    if (!ola_get_int(state, "version", &version) || !ola_get_int(state, "clock", &clock))
        return ola_err_set(err, EINVAL, "alert state: expected {version, clock, ...}");
    if (version != 1 && version != 2)
        return ola_err_set(err, EINVAL, "alert state: unknown version %lld",
                           (long long)version);
    list = json_object_get(state, version == 1 ? "keys" : "rules");
    if (!json_is_array(list))
        return ola_err_set(err, EINVAL, "alert state: version %lld without its %s",
                           (long long)version, version == 1 ? "keys" : "rules");
    a->clock = clock;
    json_array_foreach(list, i, o)
    {
        if ((version == 1 ? ola_restore_key1(a, o, err) : ola_restore_rule2(a, o, err)) !=
            0) {
            ola_alerts_clear(a);
            return -1;
        }
    }
    return 0;
}
