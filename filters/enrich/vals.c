/*
 * vals.c - the enricher's cache values: users and roles as compact records,
 * and the trees built from them while they are hot.
 *
 * A value is one allocation: a user is the byte code of its facts
 * (record.c) followed by its roles ({id, name}, the names shared strings),
 * a role its id and name. Events need Jansson trees (olagent.user, actor,
 * role), and the json format dumps a tree once and copies its text for the
 * next events that hold the same tree (format_json.c, a memo keyed by the
 * tree's address). So a value's tree is built on first use and kept while
 * hot: on a list, most recently used first, holding a reference to the
 * value. After each page the list is cut to OLA_EN_HOT_MAX trees; the
 * enricher's trim (the agent going idle) empties it, so at rest only the
 * records remain. A user whose roles are named again (a role was fetched)
 * loses its tree: the next use builds the new one, at a new address.
 */
#include <stdlib.h>
#include <string.h>

#include "filters/enrich/enrich_priv.h"

struct ola_istr ola_en_null_name;

static bool ola_is_name(const struct ola_istr *s)
{
    return s != NULL && s != OLA_NAME_NULL;
}

/* Where a user's inline roles start: after the code, aligned. */
static size_t ola_roles_at(size_t code_len)
{
    size_t a = _Alignof(struct ola_urole);

    return offsetof(struct ola_val, code) + (code_len + a - 1) / a * a;
}

struct ola_val *ola_en_user_new(struct ola_enricher *en, json_t *facts,
                                const int64_t *role_ids, size_t n, bool roles_known)
{
    struct ola_val *v;
    size_t at, i;

    if (n > UINT32_MAX || ola_urec_encode(&en->intern, facts, &en->code) != 0)
        return NULL;
    if (en->code.len > UINT32_MAX)
        goto fail;
    at = ola_roles_at(en->code.len);
    v = calloc(1, at + n * sizeof(struct ola_urole));
    if (v == NULL)
        goto fail;
    v->refs = 1;
    v->kind = OLA_K_USER;
    v->roles_known = roles_known;
    v->code_len = (uint32_t)en->code.len;
    memcpy(v->code, en->code.data, en->code.len);
    v->n_roles = (uint32_t)n;
    v->roles = n > 0 ? (struct ola_urole *)(void *)((char *)v + at) : NULL;
    for (i = 0; i < n; i++)
        v->roles[i].id = role_ids[i];
    ola_buf_reset(&en->code);
    return v;
fail:
    ola_urec_release((const unsigned char *)en->code.data, en->code.len);
    ola_buf_reset(&en->code);
    return NULL;
}

struct ola_val *ola_en_role_new(struct ola_enricher *en, int64_t id, const json_t *name)
{
    struct ola_val *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return NULL;
    v->refs = 1;
    v->kind = OLA_K_ROLE;
    v->id = id;
    v->name = json_is_string(name) ? ola_intern_get(&en->intern, json_string_value(name),
                                                    json_string_length(name))
                                   : OLA_NAME_NULL;
    if (v->name == NULL) {
        free(v);
        return NULL;
    }
    return v;
}

static void ola_roles_release(struct ola_val *u)
{
    size_t i;

    for (i = 0; i < u->n_roles; i++)
        if (ola_is_name(u->roles[i].name))
            ola_istr_unref(u->roles[i].name);
    if (u->roles_own)
        free(u->roles);
    u->roles = NULL;
    u->n_roles = 0;
    u->roles_own = false;
}

int ola_en_user_set_roles(struct ola_val *u, const int64_t *ids, size_t n)
{
    struct ola_urole *r = NULL;
    size_t i;

    if (n > UINT32_MAX || (n > 0 && (r = calloc(n, sizeof(*r))) == NULL))
        return -1;
    for (i = 0; i < n; i++)
        r[i].id = ids[i];
    ola_roles_release(u);
    u->roles = r;
    u->n_roles = (uint32_t)n;
    u->roles_own = n > 0;
    return 0;
}

struct ola_val *ola_en_val_ref(struct ola_val *v)
{
    v->refs++;
    return v;
}

void ola_en_val_unref(struct ola_val *v)
{
    if (v == NULL || --v->refs > 0)
        return;
    /* not hot: the hot list holds a reference */
    json_decref(v->hot);
    if (v->kind == OLA_K_USER) {
        ola_urec_release(v->code, v->code_len);
        ola_roles_release(v);
    } else if (ola_is_name(v->name)) {
        ola_istr_unref(v->name);
    }
    free(v);
}

/* ---- trees --------------------------------------------------------------------- */

static json_t *ola_name_json(const struct ola_istr *name)
{
    return name == OLA_NAME_NULL ? json_null() : json_stringn_nocheck(name->s, name->len);
}

/* olagent.user: the facts, then roles [{id, name}] (null when unknown). */
static json_t *ola_user_tree(const struct ola_val *u)
{
    json_t *o = ola_urec_decode(u->code, u->code_len), *roles = NULL, *item;
    size_t i;

    if (o == NULL)
        return NULL;
    if (!u->roles_known) {
        if (json_object_set_new_nocheck(o, "roles", json_null()) != 0)
            goto fail;
        return o;
    }
    roles = json_array();
    if (roles == NULL)
        goto fail;
    for (i = 0; i < u->n_roles; i++) {
        item = json_object();
        if (item == NULL || json_array_append_new(roles, item) != 0 ||
            json_object_set_new_nocheck(item, "id", json_integer(u->roles[i].id)) != 0 ||
            (u->roles[i].name != NULL &&
             json_object_set_new_nocheck(item, "name", ola_name_json(u->roles[i].name)) !=
                 0))
            goto fail;
    }
    if (json_object_set_new_nocheck(o, "roles", roles) != 0) {
        roles = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(roles);
    json_decref(o);
    return NULL;
}

/* olagent.role: {id, name}. */
static json_t *ola_role_tree(const struct ola_val *r)
{
    json_t *o = json_object();

    if (o == NULL || json_object_set_new_nocheck(o, "id", json_integer(r->id)) != 0 ||
        json_object_set_new_nocheck(o, "name", ola_name_json(r->name)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void ola_hot_unlink(struct ola_enricher *en, struct ola_val *v)
{
    if (v->hot_prev != NULL)
        v->hot_prev->hot_next = v->hot_next;
    else
        en->hot_first = v->hot_next;
    if (v->hot_next != NULL)
        v->hot_next->hot_prev = v->hot_prev;
    else
        en->hot_last = v->hot_prev;
    v->hot_prev = v->hot_next = NULL;
}

static void ola_hot_push(struct ola_enricher *en, struct ola_val *v)
{
    v->hot_prev = NULL;
    v->hot_next = en->hot_first;
    if (en->hot_first != NULL)
        en->hot_first->hot_prev = v;
    en->hot_first = v;
    if (en->hot_last == NULL)
        en->hot_last = v;
}

json_t *ola_en_val_json(struct ola_enricher *en, struct ola_val *v)
{
    if (v->hot != NULL) {
        if (v != en->hot_first) {
            ola_hot_unlink(en, v);
            ola_hot_push(en, v);
        }
        return v->hot;
    }
    v->hot = v->kind == OLA_K_USER ? ola_user_tree(v) : ola_role_tree(v);
    if (v->hot == NULL)
        return NULL;
    ola_hot_push(en, ola_en_val_ref(v));
    en->hot_n++;
    return v->hot;
}

void ola_en_val_cool(struct ola_enricher *en, struct ola_val *v)
{
    if (v->hot == NULL)
        return;
    json_decref(v->hot); /* events that hold it keep their references */
    v->hot = NULL;
    ola_hot_unlink(en, v);
    en->hot_n--;
    ola_en_val_unref(v);
}

void ola_en_hot_bound(struct ola_enricher *en, size_t keep)
{
    while (en->hot_n > keep && en->hot_last != NULL)
        ola_en_val_cool(en, en->hot_last);
}
