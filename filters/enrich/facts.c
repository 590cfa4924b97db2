/*
 * facts.c - the enricher's pure parts: which event types change a user or a
 * role, and the facts read out of Get User, Get Role and user-roles answers.
 *
 * No state and no I/O: each function maps an API answer (v1 envelope or v2
 * object) or a number to what the enricher attaches, so tests call them
 * directly (enrich.h, "the pure parts").
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "filters/enrich/enrich.h"

/* Event types that change their user_id's user (docs/enrichment.md lists them). */
static const long long ola_user_changes[] = {
    4,    /* USER_ASSIGNED_ROLE */
    11,   /* USER_CHANGED_PASSWORD */
    12,   /* UNLOCKED_USER */
    14,   /* UPDATED_USER */
    17,   /* DELETED_USER */
    19,   /* USER_LOCKED */
    21,   /* SUSPENDED_USER */
    28,   /* USER_RECENTLY_REMOVED */
    72,   /* PRIVILEGE_GRANTED_TO_USER */
    73,   /* PRIVILEGE_REVOKED_FROM_USER */
    80,   /* USER_CREATED_IN_DIRECTORY */
    81,   /* USER_UPDATED_IN_DIRECTORY */
    82,   /* USER_SUSPENDED_IN_DIRECTORY */
    83,   /* USER_REACTIVATED_IN_DIRECTORY */
    84,   /* USER_DELETED_IN_DIRECTORY */
    115,  /* USER_INVITED */
    120,  /* UNLOCKED_USER_IN_DIRECTORY */
    145,  /* USER_SMART_PASSWORD_UPDATED */
    147,  /* USER_MANUALLY_ADDED_TO_ROLE */
    148,  /* USER_MANUALLY_REMOVED_FROM_ROLE */
    149,  /* USER_AUTO_ADDED_TO_ROLE */
    150,  /* USER_AUTO_REMOVED_FROM_ROLE */
    151,  /* USER_ROLE_MANAGEMENT_GRANTED */
    152,  /* USER_ROLE_MANAGEMENT_REVOKED */
    211,  /* ADMIN_CHANGED_USER_PASSWORD */
    223,  /* USER_UNLICENSED */
    224,  /* USER_LICENSED_MANUALLY */
    225,  /* USER_UNLICENSED_MANUALLY */
    226,  /* USER_UNLICENSED_AUTOMATICALLY */
    291,  /* USER_CREATED_BY_TIDP */
    332,  /* USER_DIRECTORY_EXTERNAL_ID_UPDATED */
    333,  /* USER_DIRECTORY_EXTERNAL_ID_DELETED */
    513,  /* API_ADD_ROLES */
    514,  /* API_REMOVE_ROLES */
    529,  /* API_UPDATE_USER */
    530,  /* API_DESTROY_USER */
    531,  /* API_LOCK_USER */
    533,  /* API_CREATE_USER */
    551,  /* SUSPENDED_USER_VIA_API */
    552,  /* REACTIVATED_USER_VIA_API */
    553,  /* USER_LOCKED_VIA_API */
    554,  /* UNLOCKED_USER_VIA_API */
    1608, /* PROFILE_CHANGE_PASSWORD */
    2106, /* DELEGATED_PRIVILEGE_ASSIGNED_TO_USER_VIA_API */
    2107, /* DELEGATED_PRIVILEGE_ASSIGNED_TO_USER_BY_USER */
    2108, /* DELEGATED_PRIVILEGE_REMOVED_FROM_USER_VIA_API */
    2109, /* DELEGATED_PRIVILEGE_REMOVED_FROM_USER_BY_USER */
};

/* Event types that change their role_id's role (its name, or its existence). */
static const long long ola_role_changes[] = {
    1802, /* ROLE_DELETED */
    9052, /* ROLE_UPDATE_SUCCESS */
};

static bool ola_in(const long long *v, size_t n, long long id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid] == id)
            return true;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

unsigned ola_enrich_changes(long long event_type_id)
{
    unsigned bits = 0;

    if (ola_in(ola_user_changes, sizeof(ola_user_changes) / sizeof(ola_user_changes[0]),
               event_type_id))
        bits |= OLA_ENRICH_CHANGES_USER;
    if (ola_in(ola_role_changes, sizeof(ola_role_changes) / sizeof(ola_role_changes[0]),
               event_type_id))
        bits |= OLA_ENRICH_CHANGES_ROLE;
    return bits;
}

const char *ola_user_status_name(long long status)
{
    static const char *const names[] = {
        "unactivated", "active",           "suspended",
        "locked",      "password_expired", "awaiting_password_reset",
        NULL,          "password_pending", "security_questions_required",
    };

    if (status < 0 || status >= (long long)(sizeof(names) / sizeof(names[0])))
        return NULL;
    return names[status];
}

const char *ola_user_state_name(long long state)
{
    static const char *const names[] = {"unapproved", "approved", "rejected",
                                        "unlicensed"};

    if (state < 0 || state >= (long long)(sizeof(names) / sizeof(names[0])))
        return NULL;
    return names[state];
}

/*
 * The one object of a v1 envelope ({status, data: [obj]}), or body itself.
 * NULL when data holds more than the one object a lookup by id asks for:
 * which of them would be the one is anyone's guess.
 */
static const json_t *ola_unwrap(const json_t *body)
{
    const json_t *data = json_object_get(body, "data");

    if (json_is_array(data))
        return json_array_size(data) == 1 ? json_array_get(data, 0) : NULL;
    if (json_is_object(data))
        return data;
    return body;
}

/* Integer ids of an array into *out (malloc'd; NULL when empty). Returns 0 / -1. */
static int ola_ids_of(const json_t *arr, int64_t **out, size_t *n)
{
    size_t i, k = 0, len = json_array_size(arr);
    int64_t *v;
    json_t *x;

    *out = NULL;
    *n = 0;
    if (len == 0)
        return 0;
    v = malloc(len * sizeof(*v));
    if (v == NULL)
        return -1;
    json_array_foreach(arr, i, x)
    {
        if (!json_is_integer(x)) {
            free(v);
            return -1;
        }
        v[k++] = (int64_t)json_integer_value(x);
    }
    *out = v;
    *n = k;
    return 0;
}

/* Sets key of dst to src's value (borrowed, shared) or null. Returns 0 / -1. */
static int ola_copy_field(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);

    return v != NULL ? json_object_set(dst, key, v)
                     : json_object_set_new(dst, key, json_null());
}

/* Sets key to a name string or null. */
static int ola_set_name(json_t *dst, const char *key, const char *name)
{
    return json_object_set_new(dst, key, name ? json_string(name) : json_null());
}

json_t *ola_enrich_user_facts(const json_t *body, int64_t **role_ids, size_t *n_roles,
                              bool *roles_known)
{
    static const char *const head[] = {"id", "username", "email", "firstname",
                                       "lastname"};
    static const char *const tail[] = {"department",   "title",      "manager_user_id",
                                       "locked_until", "last_login", "custom_attributes"};
    const json_t *u = ola_unwrap(body), *roles;
    json_t *f = NULL, *status, *state;
    size_t i;

    *role_ids = NULL;
    *n_roles = 0;
    *roles_known = false;
    if (!json_is_object(u) || !json_is_integer(json_object_get(u, "id")))
        return NULL;
    f = json_object();
    if (f == NULL)
        return NULL;
    for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        if (ola_copy_field(f, u, head[i]) != 0)
            goto fail;
    status = json_object_get(u, "status");
    state = json_object_get(u, "state");
    if (ola_copy_field(f, u, "status") != 0 ||
        ola_set_name(f, "status_name",
                     json_is_integer(status)
                         ? ola_user_status_name(json_integer_value(status))
                         : NULL) != 0 ||
        ola_copy_field(f, u, "state") != 0 ||
        ola_set_name(f, "state_name",
                     json_is_integer(state)
                         ? ola_user_state_name(json_integer_value(state))
                         : NULL) != 0)
        goto fail;
    for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
        if (ola_copy_field(f, u, tail[i]) != 0)
            goto fail;
    roles = json_object_get(u, "role_ids"); /* v2 */
    if (roles == NULL)
        roles = json_object_get(u, "role_id"); /* v1: an array, or null for none */
    if (json_is_array(roles)) {
        if (ola_ids_of(roles, role_ids, n_roles) != 0)
            goto fail;
        *roles_known = true;
    } else if (json_is_null(roles)) {
        *roles_known = true;
    }
    return f;
fail:
    json_decref(f);
    free(*role_ids);
    *role_ids = NULL;
    *n_roles = 0;
    *roles_known = false;
    return NULL;
}

int ola_enrich_role_ids(const json_t *body, int64_t **ids, size_t *n)
{
    const json_t *data = json_object_get(body, "data"), *first;

    *ids = NULL;
    *n = 0;
    if (!json_is_array(data))
        return -1;
    first = json_array_get(data, 0);
    if (first == NULL)
        return 0; /* [] */
    if (json_is_array(first)) {
        /* the documented shape: [[77777, 111111]], one inner list */
        if (json_array_size(data) != 1)
            return -1;
        return ola_ids_of(first, ids, n);
    }
    return ola_ids_of(data, ids, n); /* the spec's flat [77777, 111111] */
}

json_t *ola_enrich_role_facts(const json_t *body)
{
    const json_t *r = ola_unwrap(body);
    json_t *id = json_object_get(r, "id"), *name = json_object_get(r, "name");

    if (!json_is_integer(id) || !(json_is_string(name) || json_is_null(name)))
        return NULL;
    return json_pack("{s:O, s:O}", "id", id, "name", name);
}
