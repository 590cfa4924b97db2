/*
 * event_types.c - the enricher learns event-type names from the API.
 *
 * An event whose type id the catalog does not name (struct ola_enrich_types:
 * the agent routes it to the rules' catalog) is looked up in the list of
 * GET /api/1/events/types, fetched once and kept 24 h, fetched again (at
 * most every 10 min, a minute after a failure) when an id it did not cover
 * shows up; ids the fresh list does not know either are remembered so they
 * do not cause another fetch.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/log.h"
#include "agent/core/vec.h"
#include "filters/enrich/enrich_priv.h"

static const char *ola_type_find(const struct ola_enricher *en, long long id)
{
    size_t lo = 0, hi = en->n_types;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (en->types[mid].id == id)
            return en->types[mid].name;
        if (en->types[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int ola_type_cmp(const void *a, const void *b)
{
    const struct ola_type_name *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static int ola_ll_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

/* Replaces the type list with the `data` of a GET /api/1/events/types answer. */
static int ola_types_take(struct ola_enricher *en, const json_t *body, int64_t now)
{
    const json_t *data = json_object_get(body, "data"), *item;
    struct ola_type_name *v;
    size_t i, k = 0;

    if (!json_is_array(data))
        return -1;
    v = calloc(json_array_size(data) + 1, sizeof(*v));
    if (v == NULL)
        return -1;
    json_array_foreach(data, i, item)
    {
        const json_t *id = json_object_get(item, "id");
        const char *name = json_string_value(json_object_get(item, "name"));

        if (!json_is_integer(id) || name == NULL || name[0] == '\0')
            continue;
        v[k].id = json_integer_value(id);
        v[k].name = strdup(name);
        if (v[k].name == NULL)
            break;
        k++;
    }
    qsort(v, k, sizeof(*v), ola_type_cmp);
    for (i = 0; i < en->n_types; i++)
        free(en->types[i].name);
    free(en->types);
    en->types = v;
    en->n_types = k;
    en->types_ms = now;
    en->n_missing = 0;
    return 0;
}

static bool ola_missing_has(const struct ola_enricher *en, long long id)
{
    return en->n_missing > 0 && bsearch(&id, en->missing, en->n_missing,
                                        sizeof(*en->missing), ola_ll_cmp) != NULL;
}

static int ola_missing_add(struct ola_enricher *en, long long id)
{
    if (ola_missing_has(en, id))
        return 0;
    if (OLA_VEC_GROW_FROM(en->missing, en->missing_cap, en->n_missing + 1, 16) != 0)
        return -1;
    en->missing[en->n_missing++] = id;
    qsort(en->missing, en->n_missing, sizeof(*en->missing), ola_ll_cmp);
    return 0;
}

/*
 * Names the page's type ids the catalog lacks: from the list fetched last
 * (kept 24 h), fetching it again when an id it did not cover shows up.
 * Returns true when an id is still to be looked up.
 */
static bool ola_types_learn(struct ola_enricher *en, struct ola_batch *b,
                            const struct ola_enrich_types *types, int64_t now,
                            bool settle)
{
    bool fresh = en->types_ms >= 0 && now - en->types_ms < OLA_EN_TYPES_TTL_MS;
    bool need = false;
    long long last = -1;
    size_t i;

    for (i = 0; i < b->n; i++) {
        const char *name;
        long long id;

        if (b->ev[i].kind != OLA_REC_EVENT ||
            !ola_event_int(&b->ev[i], "event_type_id", &id) || id == last ||
            types->name(types->ctx, id) != NULL)
            continue;
        last = id;
        name = fresh ? ola_type_find(en, id) : NULL;
        if (name != NULL) {
            if (types->learn(types->ctx, id, name) == 0)
                en->st.types_learned++;
            continue;
        }
        if (fresh && ola_missing_has(en, id))
            continue;
        if (settle && fresh)
            (void)ola_missing_add(en, id); /* the API does not know it either */
        else
            need = true;
    }
    return need;
}

void ola_en_types(struct ola_enricher *en, struct ola_batch *b,
                  const struct ola_enrich_types *types, int64_t now)
{
    struct ola_enrich_get r;
    enum ola_enrich_status st;
    json_t *body;

    if (!ola_types_learn(en, b, types, now, false) || now < en->types_next_ms)
        return;
    memset(&r, 0, sizeof(r));
    r.path = "/api/1/events/types";
    en->api.get(en->api.ctx, &r);
    st = r.status;
    if (st != OLA_ENRICH_DEFERRED)
        en->st.type_fetches++;
    body = st == OLA_ENRICH_OK ? json_loadb(r.body.data, r.body.len, 0, NULL) : NULL;
    if (body != NULL && ola_types_take(en, body, now) == 0) {
        en->types_next_ms = now + OLA_EN_TYPES_GAP_MS;
        ola_log_debug(OLA_EN_COMP, "event types: %zu names from the API", en->n_types);
        (void)ola_types_learn(en, b, types, now, true);
    } else {
        en->types_next_ms =
            now + (r.retry_after_ms > OLA_EN_TYPES_WAIT_MS ? r.retry_after_ms
                                                           : OLA_EN_TYPES_WAIT_MS);
        if (st != OLA_ENRICH_DEFERRED)
            ola_log_warn(OLA_EN_COMP, "event types not fetched: %s",
                         st == OLA_ENRICH_OK ? "an answer without a data list"
                                             : r.reason);
    }
    json_decref(body);
    ola_buf_free(&r.body);
}
