/*
 * enrich_adapter.c - enrichment's lookups through the OneLogin client, and
 * the event-type names it learns into the rules' catalog.
 *
 * Each call of struct ola_enrich_api maps to one client call at lookup
 * priority (ola_ol_lookups_setup, ola_ol_get, ola_ol_get_many,
 * ola_ol_server_now_ms); the answers move into the enricher's gets: the
 * status folds into OK / NOT_FOUND / DEFERRED / FAILED (a retry, a bad
 * request or a refused credential are all failed lookups to enrichment), the
 * body buffer moves, the reason is copied. ola_ol_get_many takes an array of
 * struct ola_ol_lookup: the enricher keeps it for us as its scratch, so a
 * page's lookups allocate nothing here. Type names: struct ola_enrich_types
 * calls straight into the catalog.
 */
#include <string.h>

#include "agent/enrich_adapter.h"

_Static_assert(OLA_ENRICH_MAX_CONCURRENCY == OLA_OL_MAX_CONCURRENCY,
               "enrichment's bound on concurrent lookups is the client's");
_Static_assert(sizeof(((struct ola_enrich_get *)0)->reason) ==
                   sizeof(((struct ola_ol_response *)0)->reason),
               "a reason is copied whole");

static enum ola_enrich_status ola_ea_status(enum ola_ol_status st)
{
    switch (st) {
    case OLA_OL_OK:
        return OLA_ENRICH_OK;
    case OLA_OL_NOT_FOUND:
        return OLA_ENRICH_NOT_FOUND;
    case OLA_OL_DEFERRED:
        return OLA_ENRICH_DEFERRED;
    default:
        return OLA_ENRICH_FAILED;
    }
}

/* Moves the answer r (left empty) into g. */
static void ola_ea_take(struct ola_enrich_get *g, enum ola_ol_status st,
                        struct ola_ol_response *r)
{
    g->status = ola_ea_status(st);
    g->http_status = r->http_status;
    g->retry_after_ms = r->retry_after_ms;
    memcpy(g->reason, r->reason, sizeof(g->reason));
    ola_buf_free(&g->body);
    g->body = r->body;
    memset(&r->body, 0, sizeof(r->body));
    ola_ol_response_free(r);
}

static int ola_ea_setup(void *ctx, unsigned concurrency, int64_t timeout_ms,
                        double reserve, struct ola_err *err)
{
    return ola_ol_lookups_setup(ctx, concurrency, timeout_ms, reserve, err);
}

static void ola_ea_get(void *ctx, struct ola_enrich_get *g)
{
    struct ola_ol_response r;
    enum ola_ol_status st;

    ola_ol_response_init(&r);
    st = ola_ol_get(ctx, g->path, OLA_OL_PRIO_LOOKUP, &r);
    ola_ea_take(g, st, &r);
}

static void ola_ea_get_many(void *ctx, struct ola_enrich_get *g, size_t n, void *scratch)
{
    struct ola_ol_lookup *l = scratch;
    size_t i;

    for (i = 0; i < n; i++) {
        memset(&l[i], 0, sizeof(l[i]));
        ola_ol_response_init(&l[i].r);
        l[i].path = g[i].path;
    }
    ola_ol_get_many(ctx, l, n, OLA_OL_PRIO_LOOKUP);
    for (i = 0; i < n; i++)
        ola_ea_take(&g[i], l[i].status, &l[i].r);
}

static int64_t ola_ea_server_now_ms(void *ctx)
{
    return ola_ol_server_now_ms(ctx);
}

const struct ola_enrich_api *ola_enrich_onelogin_api(struct ola_ol_client *client,
                                                     struct ola_enrich_api *api)
{
    memset(api, 0, sizeof(*api));
    api->ctx = client;
    api->setup = ola_ea_setup;
    api->get = ola_ea_get;
    api->get_many = ola_ea_get_many;
    api->scratch_size = sizeof(struct ola_ol_lookup);
    api->server_now_ms = ola_ea_server_now_ms;
    return api;
}

static const char *ola_ea_type_name(void *ctx, long long id)
{
    return ola_catalog_name(ctx, id);
}

static int ola_ea_type_learn(void *ctx, long long id, const char *name)
{
    return ola_catalog_learn(ctx, id, name);
}

const struct ola_enrich_types *ola_enrich_catalog_types(struct ola_catalog *cat,
                                                        struct ola_enrich_types *types)
{
    if (cat == NULL)
        return NULL;
    types->ctx = cat;
    types->name = ola_ea_type_name;
    types->learn = ola_ea_type_learn;
    return types;
}
