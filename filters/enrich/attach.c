/*
 * attach.c - the enricher applies a page's facts to its events.
 *
 * Every event gets references to the shared, read-only olagent.user, actor
 * and role trees of the page's values (built from their records while hot,
 * vals.c); a deleted user or role gets {id, name, found: false}; an event
 * whose lookups were deferred or failed gets olagent.enrichment and the
 * first reason. A user's role names are looked up once and kept until a
 * role is fetched again.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "filters/enrich/enrich_priv.h"

/* ---- users' roles ------------------------------------------------------------- */

/*
 * Why u's roles lack a name: the first deferred or failed role of the page.
 * The failed role's lookup goes into u's page entry p (OK: its own lookup is
 * done with), for this page's events; u is named again on the next page.
 */
static void ola_note_role_gap(const struct ola_enricher *en, struct ola_pg_ent *p,
                              int64_t id)
{
    const struct ola_pg_ent *r = ola_en_pg_find(en, ola_key(id, OLA_K_ROLE));
    struct ola_val *u = p->val;

    if (r == NULL || u->roles_state == OLA_PG_FAILED)
        return;
    if (r->state == OLA_PG_FAILED) {
        u->roles_state = OLA_PG_FAILED;
        p->lookup = r->lookup;
    } else if (r->state == OLA_PG_DEFERRED) {
        u->roles_state = OLA_PG_DEFERRED;
    }
}

/*
 * Names u's roles: each role the page or the cache knows gets its name, the
 * rest their id alone. What is named now is what u's tree shows until a
 * role is fetched again (role_gen moves), so its tree is built anew.
 */
static void ola_build_user(struct ola_enricher *en, struct ola_pg_ent *p, int64_t now)
{
    struct ola_val *u = p->val;
    bool complete = u->roles_known;
    size_t k;

    u->roles_state = OLA_PG_OK;
    for (k = 0; k < u->n_roles; k++) {
        struct ola_urole *ur = &u->roles[k];
        const struct ola_val *r = NULL;
        struct ola_istr *name = NULL;
        bool gone = false;

        if (en->o.roles && ur->id > 0 && ur->id <= OLA_EN_ID_MAX)
            r = ola_en_role_of(en, ur->id, now, &gone);
        if (r != NULL) {
            name = r->name == OLA_NAME_NULL ? OLA_NAME_NULL : ola_istr_ref(r->name);
        } else if (en->o.roles && !gone) {
            /* no name: roles off, a 404, or not fetched (yet) */
            complete = false;
            ola_note_role_gap(en, p, ur->id);
        }
        if (ur->name != NULL && ur->name != OLA_NAME_NULL)
            ola_istr_unref(ur->name);
        ur->name = name;
    }
    ola_en_val_cool(en, u);
    u->built = complete ? en->role_gen : OLA_BUILT_PAGE | en->page;
}

/* ---- events ------------------------------------------------------------------ */

/* What enrichment of one event came to: the worst state met, and why. */
struct ola_mark {
    bool deferred;
    const char *failed; /* reason, or NULL */
    const char *path;
};

static void ola_mark_state(const struct ola_enricher *en, unsigned state, uint32_t lookup,
                           struct ola_mark *m)
{
    if (state == OLA_PG_DEFERRED) {
        m->deferred = true;
    } else if (state == OLA_PG_FAILED && m->failed == NULL) {
        if (lookup == OLA_PG_PAUSED) {
            m->failed = en->pause_reason;
            m->path = NULL;
        } else if (lookup < en->lk_n) {
            m->failed = en->lk[lookup].reason;
            m->path = en->lk_path[lookup];
        } else {
            m->failed = "lookup failed";
            m->path = NULL;
        }
    }
}

static void ola_mark_ent(const struct ola_enricher *en, const struct ola_pg_ent *p,
                         struct ola_mark *m)
{
    ola_mark_state(en, p->state, p->lookup, m);
}

/* What a deleted user or role gets: {id, name (the event's), found: false}. */
static json_t *ola_not_found(int64_t id, const char *name)
{
    return json_pack("{s:I, s:s?, s:b}", "id", (json_int_t)id, "name", name, "found", 0);
}

/* Sets olagent.<slot> = v, creating the olagent object first. v: stolen. */
static int ola_attach_set(struct ola_event *e, json_t **ola, const char *slot, json_t *v)
{
    if (*ola == NULL)
        *ola = ola_event_ola(e);
    if (v == NULL || *ola == NULL) {
        json_decref(v);
        return -1;
    }
    return json_object_set_new(*ola, slot, v);
}

/* olagent.<slot> for the user id of member id_key; names from name_key on a 404. */
static int ola_attach_user(struct ola_enricher *en, struct ola_event *e, json_t **ola,
                           const char *slot, const char *id_key, const char *name_key,
                           struct ola_mark *m, int64_t now)
{
    int64_t id = ola_en_event_id_of(e, id_key);
    struct ola_pg_ent *p;
    json_t *v;

    if (id == 0)
        return 0;
    p = ola_en_pg_find(en, ola_key(id, OLA_K_USER));
    if (p == NULL)
        return 0;
    if (p->state == OLA_PG_OK) {
        struct ola_pg_ent *r = ola_en_pg_find(en, ola_key(id, OLA_K_USER_ROLES));

        if (r != NULL)
            ola_mark_ent(en, r, m);
        if (!ola_user_current(en, p->val) && !ola_user_tried(en, p->val))
            ola_build_user(en, p, now);
        if (!ola_user_current(en, p->val))
            ola_mark_state(en, p->val->roles_state, p->lookup, m);
        v = ola_en_val_json(en, p->val, now);
        if (v == NULL)
            return -1;
        v = json_incref(v);
    } else if (p->state == OLA_PG_NOT_FOUND) {
        /* deleted (or never seen by the API): the names the event carries */
        v = ola_not_found(id, ola_event_str(e, name_key));
    } else {
        ola_mark_ent(en, p, m);
        return 0;
    }
    return ola_attach_set(e, ola, slot, v);
}

static int ola_attach_role(struct ola_enricher *en, struct ola_event *e, json_t **ola,
                           struct ola_mark *m, int64_t now)
{
    int64_t id = ola_en_event_id_of(e, "role_id");
    struct ola_pg_ent *p;
    json_t *v;

    if (id == 0)
        return 0;
    p = ola_en_pg_find(en, ola_key(id, OLA_K_ROLE));
    if (p == NULL)
        return 0;
    if (p->state == OLA_PG_OK) {
        v = ola_en_val_json(en, p->val, now);
        if (v == NULL)
            return -1;
        v = json_incref(v);
    } else if (p->state == OLA_PG_NOT_FOUND) {
        v = ola_not_found(id, ola_event_str(e, "role_name"));
    } else {
        ola_mark_ent(en, p, m);
        return 0;
    }
    return ola_attach_set(e, ola, "role", v);
}

int ola_en_attach(struct ola_enricher *en, struct ola_event *e, int64_t now)
{
    struct ola_mark m = {false, NULL, NULL};
    json_t *ola = NULL;
    char why[400];

    if (en->o.users &&
        (ola_attach_user(en, e, &ola, "user", "user_id", "user_name", &m, now) != 0 ||
         ola_attach_user(en, e, &ola, "actor", "actor_user_id", "actor_user_name", &m,
                         now) != 0))
        return -1;
    if (en->o.roles && ola_attach_role(en, e, &ola, &m, now) != 0)
        return -1;
    if (m.failed == NULL && !m.deferred)
        return 0;
    if (ola == NULL)
        ola = ola_event_ola(e);
    if (ola == NULL)
        return -1;
    if (m.failed != NULL) {
        en->st.events_failed++;
        if (m.path != NULL)
            snprintf(why, sizeof(why), "GET %s: %s", m.path, m.failed);
        else
            snprintf(why, sizeof(why), "%s", m.failed);
        return json_object_set_new(ola, "enrichment", json_string("failed")) != 0 ||
                       json_object_set_new(ola, "enrichment_error", json_string(why)) != 0
                   ? -1
                   : 0;
    }
    en->st.events_deferred++;
    return json_object_set_new(ola, "enrichment", json_string("deferred"));
}
