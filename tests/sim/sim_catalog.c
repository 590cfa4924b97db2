/*
 * olsim catalog: the event types a tenant knows and what kind of event each one is.
 *
 * The catalog is --catalog FILE (config/event-types.json) or a built-in list of the most
 * common types, kept sorted by id for a binary search. Descriptions come from the file,
 * from real payloads for types 1-6, or are made from the name. olsim_kind_of() maps a
 * type to the kind that decides which fields its events carry and how they change users.
 */
#include "sim.h"
#include "sim_tenant_priv.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct olsim_builtin_type {
    int id;
    const char *name;
    int cats;
};

/* Used when no --catalog is given: the most common types of the real catalog. */
static const struct olsim_builtin_type olsim_builtin_types[] = {
    {1, "APP_ADDED_TO_ROLE", OLSIM_CAT_PRIVILEGE},
    {2, "APP_REMOVED_FROM_ROLE", OLSIM_CAT_PRIVILEGE},
    {3, "USER_ASSUMED_USER", OLSIM_CAT_PRIVILEGE},
    {4, "USER_ASSIGNED_ROLE", OLSIM_CAT_PRIVILEGE},
    {5, "USER_LOGGED_INTO_ONELOGIN", OLSIM_CAT_LOGIN_OK},
    {6, "USER_FAILED_ONELOGIN_LOGIN", OLSIM_CAT_LOGIN_FAIL},
    {7, "USER_LOGGED_OUT_OF_ONELOGIN", 0},
    {8, "USER_LOGGED_INTO_APP", OLSIM_CAT_LOGIN_OK},
    {9, "USER_FAILED_APP_LOGIN", OLSIM_CAT_LOGIN_FAIL},
    {10, "USER_REQUESTED_NEW_PASSWORD", 0},
    {11, "USER_CHANGED_PASSWORD", 0},
    {12, "UNLOCKED_USER", 0},
    {13, "CREATED_USER", 0},
    {14, "UPDATED_USER", 0},
    {15, "DEACTIVATED_USER", 0},
    {16, "ACTIVATED_USER", 0},
    {17, "DELETED_USER", 0},
    {18, "ADMIN_APPROVED_PASSWORD_REQUEST", 0},
    {19, "USER_LOCKED", OLSIM_CAT_LOCKOUT},
    {20, "REACHED_USERS_LIMIT", 0},
    {21, "SUSPENDED_USER", OLSIM_CAT_LOCKOUT},
    {22, "USER_ADDED_OTP_DEVICE", OLSIM_CAT_MFA},
    {23, "USER_BULK_OPERATION", 0},
    {24, "USER_REMOVED_OTP_DEVICE", OLSIM_CAT_MFA},
    {25, "PROVISIONING_EXCEPTION", 0},
    {26, "PROVISIONING_EVENT", 0},
    {27, "USER_DOWNLOADED_CERT", 0},
    {28, "USER_RECENTLY_REMOVED", 0},
    {29, "USER_LOGGED_OUT_OF_APP", 0},
    {30, "UPDATED_PAYMENT_INFO", 0},
    {35, "USER_LOCKED_OUT_OF_APP", OLSIM_CAT_LOCKOUT},
    {36, "USER_LOST_OTP_DEVICE", OLSIM_CAT_MFA},
    {40, "USER_UNLOCKED_OTP_DEVICE", OLSIM_CAT_MFA},
    {69, "USER_REJECTED_BY_RADIUS", OLSIM_CAT_LOGIN_FAIL},
    {70, "PRIVILEGE_GRANTED_TO_ACCOUNT", OLSIM_CAT_PRIVILEGE},
    {71, "PRIVILEGE_REVOKED_FROM_ACCOUNT", OLSIM_CAT_PRIVILEGE},
    {72, "PRIVILEGE_GRANTED_TO_USER", OLSIM_CAT_PRIVILEGE},
    {73, "PRIVILEGE_REVOKED_FROM_USER", OLSIM_CAT_PRIVILEGE},
    {123, "USER_REJECTED_BY_API", OLSIM_CAT_LOGIN_FAIL},
    {147, "USER_MANUALLY_ADDED_TO_ROLE", OLSIM_CAT_PRIVILEGE},
    {148, "USER_MANUALLY_REMOVED_FROM_ROLE", OLSIM_CAT_PRIVILEGE},
    {149, "USER_AUTO_ADDED_TO_ROLE", OLSIM_CAT_PRIVILEGE},
    {150, "USER_AUTO_REMOVED_FROM_ROLE", OLSIM_CAT_PRIVILEGE},
    {240, "USER_REVEALED_PASSWORD", OLSIM_CAT_PRIVILEGE},
    {513, "API_ADD_ROLES", OLSIM_CAT_PRIVILEGE},
    {514, "API_REMOVE_ROLES", OLSIM_CAT_PRIVILEGE},
    {531, "API_LOCK_USER", OLSIM_CAT_LOCKOUT},
    {553, "USER_LOCKED_VIA_API", OLSIM_CAT_LOCKOUT},
    {554, "UNLOCKED_USER_VIA_API", 0},
    {555, "EXTERNAL_ASSUME_USER", OLSIM_CAT_PRIVILEGE},
    {950, "OL_OTP_PUSH_REJECT", OLSIM_CAT_LOGIN_FAIL | OLSIM_CAT_MFA},
    {1100, "TEMP_OTP_TOKEN_GENERATED", OLSIM_CAT_MFA},
    {1400, "USER_VERIFIED_OTP_DEVICE", OLSIM_CAT_MFA},
};

/* Descriptions known from real payloads; the rest are made from the name. */
static const struct {
    int id;
    const char *desc;
} olsim_known_desc[] = {
    {1, "App %app% added to role %role%"}, {2, "App %app% removed from role %role%"},
    {3, "%actor_user% assumed %user%"},    {4, "Assigned %role% to user %user%"},
    {5, "%user% logged into OneLogin"},    {6, "%user% failed authentication"},
};

/* ---- catalog ---- */

static int olsim_type_cmp(const void *a, const void *b)
{
    const struct olsim_type *x = a;
    const struct olsim_type *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

const struct olsim_type *olsim_tenant_type(const struct olsim_tenant *t, int id)
{
    size_t lo = 0;
    size_t hi = t->ntypes;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->types[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->ntypes && t->types[lo].id == id)
        return &t->types[lo];
    return NULL;
}

/* Returns a new string: the description for a type name (USER -> %user% etc.). */
static char *olsim_make_desc(int id, const char *name)
{
    struct olsim_buf b = {0};
    const char *p = name;
    size_t i;

    for (i = 0; i < sizeof(olsim_known_desc) / sizeof(olsim_known_desc[0]); i++)
        if (olsim_known_desc[i].id == id)
            return strdup(olsim_known_desc[i].desc);
    while (*p) {
        const char *end = strchr(p, '_');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (b.len)
            olsim_buf_add(&b, " ", 1);
        if (n == 4 && strncmp(p, "USER", 4) == 0) {
            olsim_buf_str(&b, "%user%");
        } else if (n == 4 && strncmp(p, "ROLE", 4) == 0) {
            olsim_buf_str(&b, "%role%");
        } else if (n == 3 && strncmp(p, "APP", 3) == 0) {
            olsim_buf_str(&b, "%app%");
        } else {
            size_t k;

            for (k = 0; k < n; k++) {
                char c = p[k];

                if (c >= 'A' && c <= 'Z')
                    c = (char)(c - 'A' + 'a');
                olsim_buf_add(&b, &c, 1);
            }
        }
        p += n;
        if (*p == '_')
            p++;
    }
    if (b.oom || !b.p) {
        olsim_buf_free(&b);
        return strdup("");
    }
    return b.p;
}

static int olsim_cats_parse(json_t *arr)
{
    static const char *const names[] = {"privilege", "login_success", "login_failure",
                                        "mfa",       "lockout",       "authz_denied"};
    size_t i;
    size_t k;
    json_t *v;
    int cats = 0;

    json_array_foreach(arr, i, v)
    {
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (json_is_string(v) && strcmp(json_string_value(v), names[k]) == 0)
                cats |= 1 << k;
    }
    return cats;
}

int olsim_catalog_load(struct olsim_tenant *t, const char *path, char *err, size_t errsz)
{
    json_error_t jerr;
    json_t *root = NULL;
    json_t *it;
    size_t i;
    size_t n;

    if (!path) {
        n = sizeof(olsim_builtin_types) / sizeof(olsim_builtin_types[0]);
        t->types = calloc(n, sizeof(*t->types));
        if (!t->types)
            goto oom;
        for (i = 0; i < n; i++) {
            t->types[i].id = (uint16_t)olsim_builtin_types[i].id;
            t->types[i].cats = (uint8_t)olsim_builtin_types[i].cats;
            t->types[i].name = strdup(olsim_builtin_types[i].name);
            t->types[i].desc =
                olsim_make_desc(olsim_builtin_types[i].id, olsim_builtin_types[i].name);
            t->ntypes++;
            if (!t->types[i].name || !t->types[i].desc)
                goto oom;
        }
        return 0;
    }
    root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(err, errsz, "catalog %s: %s (line %d)", path, jerr.text, jerr.line);
        goto fail;
    }
    if (!json_is_array(root) || json_array_size(root) == 0) {
        snprintf(err, errsz, "catalog %s: not a non-empty array", path);
        goto fail;
    }
    n = json_array_size(root);
    t->types = calloc(n, sizeof(*t->types));
    if (!t->types)
        goto oom;
    json_array_foreach(root, i, it)
    {
        json_int_t id = json_integer_value(json_object_get(it, "id"));
        const char *name = json_string_value(json_object_get(it, "name"));
        const char *desc = json_string_value(json_object_get(it, "description"));
        struct olsim_type *ty = &t->types[t->ntypes];

        if (id <= 0 || id > 65535 || !name) {
            snprintf(err, errsz, "catalog %s: entry %zu lacks a valid id or name", path,
                     i);
            goto fail;
        }
        ty->id = (uint16_t)id;
        ty->cats = (uint8_t)olsim_cats_parse(json_object_get(it, "categories"));
        ty->name = strdup(name);
        ty->desc = desc ? strdup(desc) : olsim_make_desc((int)id, name);
        t->ntypes++;
        if (!ty->name || !ty->desc)
            goto oom;
    }
    qsort(t->types, t->ntypes, sizeof(*t->types), olsim_type_cmp);
    json_decref(root);
    return 0;
oom:
    snprintf(err, errsz, "out of memory loading the catalog");
fail:
    json_decref(root);
    return -1;
}

enum olsim_kind olsim_kind_of(const struct olsim_tenant *t, int type)
{
    const struct olsim_type *ty;

    switch (type) {
    case 5:
        return OLSIM_K_LOGIN;
    case 8:
        return OLSIM_K_APP_LOGIN;
    case 6:
    case 69:
    case 123:
        return OLSIM_K_FAIL;
    case 9:
    case 35:
        return OLSIM_K_APP_FAIL;
    case 7:
    case 29:
        return OLSIM_K_LOGOUT;
    case 4:
    case 147:
    case 149:
    case 513:
        return OLSIM_K_ROLE_ADD;
    case 148:
    case 150:
    case 514:
        return OLSIM_K_ROLE_DEL;
    case 1:
    case 2:
        return OLSIM_K_APP_ROLE;
    case 70:
    case 71:
    case 72:
    case 73:
    case 240:
        return OLSIM_K_PRIV;
    case 3:
    case 555:
        return OLSIM_K_ASSUME;
    case 19:
    case 531:
    case 553:
        return OLSIM_K_LOCK;
    case 12:
    case 554:
        return OLSIM_K_UNLOCK;
    case 21:
        return OLSIM_K_SUSPEND;
    case 17:
        return OLSIM_K_DELETE;
    case 10:
    case 11:
    case 18:
        return OLSIM_K_PASSWORD;
    case 13:
    case 14:
    case 15:
    case 16:
        return OLSIM_K_ADMIN;
    default:
        break;
    }
    ty = olsim_tenant_type(t, type);
    if (!ty)
        return OLSIM_K_GENERIC;
    if (ty->cats & OLSIM_CAT_MFA)
        return OLSIM_K_MFA;
    if (ty->cats & OLSIM_CAT_LOGIN_FAIL)
        return OLSIM_K_FAIL;
    if (ty->cats & OLSIM_CAT_LOGIN_OK)
        return OLSIM_K_LOGIN;
    if (ty->cats & OLSIM_CAT_PRIVILEGE)
        return OLSIM_K_PRIV;
    if (type >= 500 && type < 600)
        return OLSIM_K_API;
    return OLSIM_K_GENERIC;
}

int olsim_kind_is_self(enum olsim_kind k)
{
    return k == OLSIM_K_LOGIN || k == OLSIM_K_APP_LOGIN || k == OLSIM_K_FAIL ||
           k == OLSIM_K_APP_FAIL || k == OLSIM_K_LOGOUT || k == OLSIM_K_MFA ||
           k == OLSIM_K_PASSWORD || k == OLSIM_K_GENERIC;
}

int olsim_type_lists(struct olsim_tenant *t)
{
    size_t i;

    t->mfa_types = calloc(t->ntypes, sizeof(*t->mfa_types));
    t->other_types = calloc(t->ntypes, sizeof(*t->other_types));
    if (!t->mfa_types || !t->other_types)
        return -1;
    for (i = 0; i < t->ntypes; i++) {
        enum olsim_kind k = olsim_kind_of(t, t->types[i].id);

        if (k == OLSIM_K_MFA && !(t->types[i].cats & OLSIM_CAT_LOGIN_FAIL))
            t->mfa_types[t->nmfa_types++] = t->types[i].id;
        else if (k == OLSIM_K_GENERIC || k == OLSIM_K_API || k == OLSIM_K_APP_ROLE)
            t->other_types[t->nother_types++] = t->types[i].id;
    }
    return 0;
}
