/*
 * lookups.c - the enricher's requests: sending a page's lookups together and
 * reading each answer into the page table and the cache.
 *
 * ola_en_fetch sends the pending lookups through the API's get_many (the
 * OneLogin client's: concurrent, admitted one by one by its governor) unless
 * the agent is stopping or lookups are paused, then reads every answer: a
 * user, a role or a user's role list, a 404 (remembered as a negative entry),
 * a deferral or a failure. Deferral and failure spells are logged once at
 * their start and end; a round where nothing worked pauses lookups (5 s
 * doubling to 5 min).
 * Users and roles go into the cache as compact records (vals.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/log.h"
#include "agent/core/wait.h"
#include "filters/enrich/enrich_priv.h"

/* ---- answers ----------------------------------------------------------------- */

/* A user answer: parsed, cached, in the page. Returns 0, or -1 when unusable. */
static int ola_take_user(struct ola_enricher *en, struct ola_pg_ent *p,
                         const json_t *body, int64_t now)
{
    struct ola_val *v = NULL;
    json_t *facts;
    int64_t *ids;
    size_t n;
    bool known;

    facts = ola_enrich_user_facts(body, &ids, &n, &known);
    if (facts != NULL &&
        json_integer_value(json_object_get(facts, "id")) == ola_key_id(p->key))
        v = ola_en_user_new(en, facts, ids, n, known);
    json_decref(facts);
    free(ids);
    if (v == NULL)
        return -1;
    p->val = v;
    p->state = OLA_PG_OK;
    (void)ola_cache_put(en->cache, p->key, ola_en_val_ref(v), now);
    return 0;
}

static int ola_take_role(struct ola_enricher *en, struct ola_pg_ent *p,
                         const json_t *body, int64_t now)
{
    json_t *facts = ola_enrich_role_facts(body);
    struct ola_val *v = NULL;

    if (facts != NULL &&
        json_integer_value(json_object_get(facts, "id")) == ola_key_id(p->key))
        v = ola_en_role_new(en, ola_key_id(p->key), json_object_get(facts, "name"));
    json_decref(facts);
    if (v == NULL)
        return -1;
    p->val = v;
    p->state = OLA_PG_OK;
    en->role_gen++; /* users named with older names are named again on use */
    (void)ola_cache_put(en->cache, p->key, ola_en_val_ref(v), now);
    return 0;
}

static int ola_take_user_roles(struct ola_pg_ent *p, const json_t *body)
{
    struct ola_val *u = p->val;
    int64_t *ids;
    size_t n;
    int rc;

    if (ola_enrich_role_ids(body, &ids, &n) != 0)
        return -1;
    rc = ola_en_user_set_roles(u, ids, n);
    free(ids);
    if (rc != 0)
        return -1;
    u->roles_known = true;
    u->built = 0;
    p->state = OLA_PG_OK;
    return 0;
}

/* Reads one answered lookup into its page slot. Returns what it was. */
static enum ola_pg_state ola_take(struct ola_enricher *en, size_t i, int64_t now)
{
    struct ola_enrich_get *l = &en->lk[i];
    struct ola_pg_ent *p = &en->pg[en->lk_slot[i]];
    unsigned kind = ola_key_kind(p->key);
    json_t *body;
    int rc;

    switch (l->status) {
    case OLA_ENRICH_OK:
        break;
    case OLA_ENRICH_NOT_FOUND:
        en->st.not_found++;
        if (kind == OLA_K_USER_ROLES) {
            p->val->roles_known = true; /* none to tell */
            p->val->built = 0;
            p->state = OLA_PG_OK;
            return OLA_PG_OK;
        }
        (void)ola_cache_put_negative(en->cache, p->key, now);
        p->state = OLA_PG_NOT_FOUND;
        return OLA_PG_NOT_FOUND;
    case OLA_ENRICH_DEFERRED:
        en->st.deferred++;
        p->state = OLA_PG_DEFERRED;
        return OLA_PG_DEFERRED;
    default:
        en->st.failed++;
        p->state = OLA_PG_FAILED;
        return OLA_PG_FAILED;
    }
    body = json_loadb(l->body.data, l->body.len, 0, NULL);
    if (kind == OLA_K_USER)
        rc = ola_take_user(en, p, body, now);
    else if (kind == OLA_K_ROLE)
        rc = ola_take_role(en, p, body, now);
    else
        rc = ola_take_user_roles(p, body);
    if (rc != 0 && kind != OLA_K_USER_ROLES &&
        json_array_size(json_object_get(body, "data")) > 1)
        snprintf(l->reason, sizeof(l->reason),
                 "HTTP %ld with %zu objects in data where one was asked for",
                 l->http_status, json_array_size(json_object_get(body, "data")));
    else if (rc != 0)
        snprintf(l->reason, sizeof(l->reason), "HTTP %ld with an answer of another shape",
                 l->http_status);
    json_decref(body);
    if (rc != 0) {
        en->st.failed++;
        p->state = OLA_PG_FAILED;
        return OLA_PG_FAILED;
    }
    return OLA_PG_OK;
}

/* Logs the start and the end of deferral and failure spells, once each. */
static void ola_note_round(struct ola_enricher *en, size_t ok, size_t deferred,
                           size_t failed, const struct ola_enrich_get *first_defer,
                           const struct ola_enrich_get *first_fail,
                           const char *first_fail_path, int64_t now)
{
    if (deferred > 0 && !en->deferring) {
        /* why: the reserve, pacing, or a rate-limit block (the governor's words) */
        ola_log_info(OLA_EN_COMP,
                     "%zu lookups deferred (%s; %.0f%% of the limit is kept for "
                     "polling); events go out with olagent.enrichment=\"deferred\" until "
                     "the budget allows",
                     deferred, first_defer->reason, en->o.reserve * 100.0);
        en->deferring = true;
    } else if (deferred == 0 && ok > 0 && en->deferring) {
        ola_log_info(OLA_EN_COMP, "lookups go out again");
        en->deferring = false;
    }
    if (failed > 0 && ok == 0) {
        /*
         * nothing worked: the API looks down or refuses; stop spending time
         * on it. The pause is the backoff's ceiling, not a jittered wait: one
         * agent's pause, no herd to spread.
         */
        int64_t pause_ms = ola_backoff_ceiling(&en->pause);

        (void)ola_backoff_next(&en->pause); /* counts the round: the next pause doubles */
        en->pause_until_ms = now + pause_ms;
        snprintf(en->pause_reason, sizeof(en->pause_reason), "GET %s: %s",
                 first_fail_path, first_fail->reason);
        ola_log_warn(OLA_EN_COMP,
                     "%zu lookups failed (%s); no lookups for %llds, events go out with "
                     "olagent.enrichment=\"failed\"",
                     failed, en->pause_reason, (long long)(pause_ms / 1000));
    } else if (ok > 0 && en->pause.attempts > 0) {
        ola_log_info(OLA_EN_COMP, "lookups work again");
        ola_backoff_reset(&en->pause);
        en->pause_until_ms = 0;
    }
}

/* Sends lookups [from, lk_n) and reads the answers. */
void ola_en_fetch(struct ola_enricher *en, size_t from, int64_t now)
{
    size_t i, ok = 0, deferred = 0, failed = 0, first_fail = SIZE_MAX;
    size_t first_defer = SIZE_MAX;

    if (from >= en->lk_n)
        return;
    if (ola_stopping()) {
        /* stopping: the batch goes out (or is read again) without waiting on the API */
        for (i = from; i < en->lk_n; i++) {
            en->pg[en->lk_slot[i]].state = OLA_PG_DEFERRED;
            en->st.deferred++;
        }
        return;
    }
    if (now < en->pause_until_ms) {
        for (i = from; i < en->lk_n; i++) {
            en->pg[en->lk_slot[i]].state = OLA_PG_FAILED;
            en->pg[en->lk_slot[i]].lookup = OLA_PG_PAUSED;
            en->st.failed++;
        }
        return;
    }
    for (i = from; i < en->lk_n; i++)
        en->lk[i].path = en->lk_path[i];
    en->api.get_many(en->api.ctx, &en->lk[from], en->lk_n - from, en->lk_scratch);
    for (i = from; i < en->lk_n; i++) {
        enum ola_pg_state st;

        if (en->lk[i].status != OLA_ENRICH_DEFERRED)
            en->st.misses++;
        st = ola_take(en, i, now);
        ola_buf_free(&en->lk[i].body); /* read: no need to keep page-sized buffers */
        if (st == OLA_PG_OK || st == OLA_PG_NOT_FOUND) {
            ok++;
        } else if (st == OLA_PG_DEFERRED) {
            deferred++;
            if (first_defer == SIZE_MAX)
                first_defer = i;
        } else {
            failed++;
            if (first_fail == SIZE_MAX)
                first_fail = i;
        }
    }
    ola_note_round(en, ok, deferred, failed,
                   first_defer != SIZE_MAX ? &en->lk[first_defer] : NULL,
                   first_fail != SIZE_MAX ? &en->lk[first_fail] : NULL,
                   first_fail != SIZE_MAX ? en->lk_path[first_fail] : "", now);
}
