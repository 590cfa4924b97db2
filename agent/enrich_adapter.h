/*
 * enrich_adapter.h - what enrichment reaches through the agent: the OneLogin
 * client for its lookups, the rules' catalog for the type names it learns.
 *
 * filters/enrich declares what it needs (struct ola_enrich_api in enrich.h)
 * and includes nothing beside it; the agent, which knows every stage, joins
 * it to the stage that provides it here.
 */
#ifndef OLA_ENRICH_ADAPTER_H
#define OLA_ENRICH_ADAPTER_H

#include "agent/onelogin/client.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"

/*
 * Fills api with lookups through client: GETs at lookup priority through its
 * shared rate-limit governor, its concurrent lookups and its server clock.
 * client: borrowed, must outlive the enricher api is given to. Returns api.
 */
const struct ola_enrich_api *ola_enrich_onelogin_api(struct ola_ol_client *client,
                                                     struct ola_enrich_api *api);

/*
 * Fills types so that the enricher reads and teaches cat's type names
 * (ola_catalog_name, ola_catalog_learn). cat: borrowed for the batch types
 * is given to. Returns types, or NULL when cat is NULL (nothing to teach).
 */
const struct ola_enrich_types *ola_enrich_catalog_types(struct ola_catalog *cat,
                                                        struct ola_enrich_types *types);

#endif
