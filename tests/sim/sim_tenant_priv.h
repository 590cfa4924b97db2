/*
 * olsim tenant internals: what the tenant's files share and nothing else includes.
 *
 * The tenant is split by concern: sim_tenant.c (event generation, the store, pre-
 * generation, scenarios), sim_catalog.c (event types and their kinds), sim_users.c
 * (users, roles, apps), sim_query.c (event queries) and sim_render.c (the JSON of events,
 * users and roles). Like the rest of the tenant, nothing here is thread-safe: the server
 * holds its lock around every call.
 */
#ifndef OLSIM_SIM_TENANT_PRIV_H
#define OLSIM_SIM_TENANT_PRIV_H

#include "sim.h"

#include <stddef.h>
#include <stdint.h>

#define OLSIM_BLOCK_SHIFT    10
#define OLSIM_FLAG_SUPERUSER 1u

struct olsim_name {
    const char *display;
    const char *ascii;
};

enum olsim_kind {
    OLSIM_K_GENERIC,
    OLSIM_K_LOGIN,
    OLSIM_K_APP_LOGIN,
    OLSIM_K_FAIL,
    OLSIM_K_APP_FAIL,
    OLSIM_K_LOGOUT,
    OLSIM_K_MFA,
    OLSIM_K_ROLE_ADD,
    OLSIM_K_ROLE_DEL,
    OLSIM_K_APP_ROLE,
    OLSIM_K_PRIV,
    OLSIM_K_ASSUME,
    OLSIM_K_LOCK,
    OLSIM_K_UNLOCK,
    OLSIM_K_SUSPEND,
    OLSIM_K_DELETE,
    OLSIM_K_PASSWORD,
    OLSIM_K_ADMIN,
    OLSIM_K_API
};

/* ---- sim_catalog.c ---- */

int olsim_catalog_load(struct olsim_tenant *t, const char *path, char *err, size_t errsz);
/* Fills t->mfa_types and t->other_types from the catalog. Returns 0 or -1. */
int olsim_type_lists(struct olsim_tenant *t);
enum olsim_kind olsim_kind_of(const struct olsim_tenant *t, int type);
int olsim_kind_is_self(enum olsim_kind k);

/* ---- sim_users.c ---- */

extern const char *const olsim_depts[];
extern const char *const olsim_titles[];
extern const char *const olsim_groups[];

const struct olsim_name *olsim_first(const struct olsim_user *u);
const struct olsim_name *olsim_last(const struct olsim_user *u);
void olsim_user_display(const struct olsim_user *u, char *out, size_t outsz);
void olsim_user_login(const struct olsim_user *u, char *out, size_t outsz);
const char *olsim_app_name(size_t ai, char *tmp, size_t tmpsz);
int olsim_user_has_role(const struct olsim_user *u, uint16_t r);
uint32_t olsim_random_ip(struct olsim_rng *rng);
int olsim_users_make(struct olsim_tenant *t, size_t n, int64_t now);
int olsim_roles_apps_make(struct olsim_tenant *t, size_t nroles, size_t napps);

#endif
