/*
 * olsim tenant: the generated OneLogin tenant and its event store.
 *
 * Users, roles and apps are generated once from the seed. Events are stored as compact
 * structs (struct olsim_event, ~40 bytes) in a vector sorted by id (ids only grow, so
 * inserting is appending); their JSON is rendered on demand from those fields and the
 * per-event seed, so the same event always renders to the same bytes. Two helpers make
 * queries fast at a million events: per-1024-event blocks holding the created_at range
 * (id-ordered scans skip blocks outside the window), and a second index of positions
 * sorted by (created_at, id) for the created_at sorts. Not thread-safe: the server holds
 * its lock around every call.
 */
#include "sim.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define OLSIM_BLOCK_SHIFT    10
#define OLSIM_FLAG_SUPERUSER 1u

struct olsim_name {
    const char *display;
    const char *ascii;
};

/* Index 0 of each list makes user 0 "Zoë Ångström". */
static const struct olsim_name olsim_firsts[] = {
    {"Zoë", "zoe"},
    {"James", "james"},
    {"Mary", "mary"},
    {"Robert", "robert"},
    {"Patricia", "patricia"},
    {"John", "john"},
    {"Jennifer", "jennifer"},
    {"Michael", "michael"},
    {"Linda", "linda"},
    {"David", "david"},
    {"Elizabeth", "elizabeth"},
    {"William", "william"},
    {"Barbara", "barbara"},
    {"Richard", "richard"},
    {"Susan", "susan"},
    {"José", "jose"},
    {"Jessica", "jessica"},
    {"Thomas", "thomas"},
    {"Sarah", "sarah"},
    {"Siobhán", "siobhan"},
    {"Łukasz", "lukasz"},
    {"Renée", "renee"},
    {"Søren", "soren"},
    {"Chloé", "chloe"},
    {"Priya", "priya"},
    {"Wei", "wei"},
    {"Aisha", "aisha"},
    {"Kenji", "kenji"},
    {"Olga", "olga"},
    {"Mateo", "mateo"},
    {"Fatima", "fatima"},
    {"Noah", "noah"},
    {"Emma", "emma"},
    {"Liam", "liam"},
    {"Ava", "ava"},
    {"Lucas", "lucas"},
    {"Mia", "mia"},
    {"Karen", "karen"},
    {"Joseph", "joseph"},
    {"Charles", "charles"},
};

static const struct olsim_name olsim_lasts[] = {
    {"Ångström", "angstrom"},     {"Smith", "smith"},       {"Johnson", "johnson"},
    {"Williams", "williams"},     {"Brown", "brown"},       {"Jones", "jones"},
    {"Garcia", "garcia"},         {"Miller", "miller"},     {"Davis", "davis"},
    {"O'Brien", "obrien"},        {"Martinez", "martinez"}, {"Hernandez", "hernandez"},
    {"Lopez", "lopez"},           {"Müller", "mueller"},    {"Wilson", "wilson"},
    {"Anderson", "anderson"},     {"Thomas", "thomas"},     {"Taylor", "taylor"},
    {"Moore", "moore"},           {"Nguyen", "nguyen"},     {"Kowalski", "kowalski"},
    {"Østergaard", "ostergaard"}, {"Dubois", "dubois"},     {"Tanaka", "tanaka"},
    {"Patel", "patel"},           {"Kim", "kim"},           {"Rossi", "rossi"},
    {"Novák", "novak"},           {"Schmidt", "schmidt"},   {"Cohen", "cohen"},
    {"Ivanova", "ivanova"},       {"Silva", "silva"},       {"Okafor", "okafor"},
    {"Haddad", "haddad"},         {"Larsen", "larsen"},     {"Chen", "chen"},
    {"Jackson", "jackson"},       {"Martin", "martin"},     {"Lee", "lee"},
    {"Walker", "walker"},
};

#define OLSIM_NFIRST (sizeof(olsim_firsts) / sizeof(olsim_firsts[0]))
#define OLSIM_NLAST  (sizeof(olsim_lasts) / sizeof(olsim_lasts[0]))
#define OLSIM_NPAIRS (OLSIM_NFIRST * OLSIM_NLAST)

static const char *const olsim_depts[] = {
    "Engineering", "Sales",   "Marketing",  "Finance", "Human Resources",
    "Legal",       "Support", "Operations", "IT",      "Research & Development",
};
static const char *const olsim_titles[] = {
    "Engineer", "Senior Engineer", "Account Executive", "Manager",    "Director",
    "Analyst",  "Specialist",      "Administrator",     "Consultant", "VP",
};
static const char *const olsim_role_names[] = {
    "Employee", "Admin",       "Sales",    "Engineering", "Finance",
    "Support",  "Contractors", "Security", "Marketing",   "Executives",
    "HR",       "Legal",       "IT Ops",   "Read Only",   "Auditors",
};
static const char *const olsim_app_names[] = {
    "Salesforce",       "Slack",   "AWS Console", "GitHub", "Zoom",    "Workday",
    "Google Workspace", "Jira",    "Confluence",  "Box",    "Dropbox", "ServiceNow",
    "Zendesk",          "Tableau", "DocuSign",
};
static const char *const olsim_groups[] = {
    "Headquarters", "Remote", "EMEA", "APAC", "Contractors",
};
static const char *const olsim_policies[] = {
    "Default policy",
    "Admins MFA policy",
    "Contractors policy",
    "Engineering SSO",
};
static const char *const olsim_devices[] = {
    "OneLogin Protect", "Google Authenticator", "Yubico YubiKey", "SMS", "WebAuthn",
};
static const char *const olsim_login_errors[] = {
    "Incorrect password",
    "Invalid username or password",
    "MFA authentication failed",
    "User is locked",
    "Authentication rejected by risk policy",
};
static const char *const olsim_risk_reasons[] = {
    "Accessed from a new IP address",
    "Accessed from a new location",
    "Unusual time of day",
    "Accessed from a new browser",
    "IP address on a threat list",
};

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

static int olsim_catalog_load(struct olsim_tenant *t, const char *path, char *err,
                              size_t errsz)
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

static enum olsim_kind olsim_kind_of(const struct olsim_tenant *t, int type)
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

static int olsim_kind_is_self(enum olsim_kind k)
{
    return k == OLSIM_K_LOGIN || k == OLSIM_K_APP_LOGIN || k == OLSIM_K_FAIL ||
           k == OLSIM_K_APP_FAIL || k == OLSIM_K_LOGOUT || k == OLSIM_K_MFA ||
           k == OLSIM_K_PASSWORD || k == OLSIM_K_GENERIC;
}

/* ---- users, roles, apps ---- */

static const struct olsim_name *olsim_first(const struct olsim_user *u)
{
    return &olsim_firsts[u->name % OLSIM_NFIRST];
}

static const struct olsim_name *olsim_last(const struct olsim_user *u)
{
    return &olsim_lasts[(u->name / OLSIM_NFIRST + u->name) % OLSIM_NLAST];
}

static void olsim_user_display(const struct olsim_user *u, char *out, size_t outsz)
{
    int n =
        snprintf(out, outsz, "%s %s", olsim_first(u)->display, olsim_last(u)->display);

    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0';
}

static void olsim_user_login(const struct olsim_user *u, char *out, size_t outsz)
{
    int n;

    if (u->suffix)
        n = snprintf(out, outsz, "%s.%s%u", olsim_first(u)->ascii, olsim_last(u)->ascii,
                     (unsigned)u->suffix);
    else
        n = snprintf(out, outsz, "%s.%s", olsim_first(u)->ascii, olsim_last(u)->ascii);
    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0';
}

const char *olsim_role_name(const struct olsim_tenant *t, uint32_t ri, char *tmp,
                            size_t tmpsz)
{
    size_t nn = sizeof(olsim_role_names) / sizeof(olsim_role_names[0]);
    int n;

    (void)t;
    if (ri < nn)
        return olsim_role_names[ri];
    n = snprintf(tmp, tmpsz, "Role %u", (unsigned)ri + 1);
    if (n < 0 || (size_t)n >= tmpsz)
        return "Role";
    return tmp;
}

static const char *olsim_app_name(size_t ai, char *tmp, size_t tmpsz)
{
    size_t nn = sizeof(olsim_app_names) / sizeof(olsim_app_names[0]);
    int n;

    if (ai < nn)
        return olsim_app_names[ai];
    n = snprintf(tmp, tmpsz, "Custom App %zu", ai + 1);
    if (n < 0 || (size_t)n >= tmpsz)
        return "App";
    return tmp;
}

static int olsim_user_has_role(const struct olsim_user *u, uint16_t r)
{
    uint8_t i;

    for (i = 0; i < u->nroles; i++)
        if (u->roles[i] == r)
            return 1;
    return 0;
}

static uint32_t olsim_random_ip(struct olsim_rng *rng)
{
    static const uint8_t firsts[] = {24,  45,  67,  73,  81,  98,
                                     104, 142, 176, 185, 203, 212};
    uint32_t a = firsts[olsim_rng_below(rng, sizeof(firsts))];

    return a << 24 | (olsim_rng_below(rng, 256) << 16) |
           (olsim_rng_below(rng, 256) << 8) | (1 + olsim_rng_below(rng, 254));
}

static int olsim_users_make(struct olsim_tenant *t, size_t n, int64_t now)
{
    struct olsim_rng *rng = &t->rng;
    int64_t id = 40000001;
    size_t off = olsim_rng_below(rng, OLSIM_NPAIRS);
    size_t ndel = 0;
    size_t i;

    t->users = calloc(n ? n : 1, sizeof(*t->users));
    t->admins = calloc(n ? n : 1, sizeof(*t->admins));
    if (!t->users || !t->admins)
        return -1;
    t->nusers = n;
    for (i = 0; i < n; i++) {
        struct olsim_user *u = &t->users[i];
        size_t k;
        uint8_t want;

        u->id = id;
        id += 1 + olsim_rng_below(rng, 7);
        if (i == 0)
            u->name = 0;
        else if (i < OLSIM_NPAIRS)
            u->name = (uint16_t)(1 + (i - 1 + off) % (OLSIM_NPAIRS - 1));
        else
            u->name = (uint16_t)((i + off) % OLSIM_NPAIRS);
        u->suffix = (uint16_t)(i / OLSIM_NPAIRS);
        u->seed = (uint32_t)olsim_rng_next(rng);
        u->dept =
            (uint8_t)olsim_rng_below(rng, sizeof(olsim_depts) / sizeof(olsim_depts[0]));
        u->title =
            (uint8_t)olsim_rng_below(rng, sizeof(olsim_titles) / sizeof(olsim_titles[0]));
        u->status = 1;
        u->state = 1;
        u->group = olsim_rng_below(rng, 4) == 0
                       ? 0xff
                       : (uint8_t)olsim_rng_below(rng, sizeof(olsim_groups) /
                                                           sizeof(olsim_groups[0]));
        u->ip = olsim_random_ip(rng);
        u->created_ms = now - (int64_t)(30 + olsim_rng_below(rng, 1500)) * 86400000LL -
                        olsim_rng_below(rng, 86400000);
        u->pw_changed_ms = now - (int64_t)olsim_rng_below(rng, 200) * 86400000LL -
                           olsim_rng_below(rng, 86400000);
        if (u->pw_changed_ms < u->created_ms)
            u->pw_changed_ms = u->created_ms + 3600000;
        u->updated_ms = u->pw_changed_ms + olsim_rng_below(rng, 86400000);
        if (u->updated_ms > now)
            u->updated_ms = now - 1000;
        u->last_login_ms = olsim_rng_below(rng, 10) == 0
                               ? 0
                               : now - (int64_t)olsim_rng_below(rng, 30 * 86400) * 1000;
        u->manager = (i > 0 && olsim_rng_below(rng, 5) != 0)
                         ? olsim_rng_below(rng, (uint32_t)i)
                         : OLSIM_NONE;
        want = (uint8_t)(1 + olsim_rng_below(rng, 3));
        if (t->nroles > 0) {
            u->roles[u->nroles++] = 0;
            for (k = 0; k < 8 && u->nroles < want && u->nroles < t->nroles; k++) {
                uint16_t r = (uint16_t)olsim_rng_below(rng, (uint32_t)t->nroles);

                if (!olsim_user_has_role(u, r))
                    u->roles[u->nroles++] = r;
            }
        }
        if (olsim_rng_below(rng, 50) == 0 && i > 0) {
            u->deleted = 1;
            ndel++;
        } else if (olsim_rng_below(rng, 40) == 0) {
            u->status = 3;
            u->locked_until_ms = now + olsim_rng_below(rng, 3600) * 1000LL;
            u->invalid_logins = 5;
        }
    }
    /* Small tenants still get one deleted user, so a 404 is always testable. */
    if (ndel == 0 && n >= 20)
        t->users[n - 1].deleted = 1;
    if (t->nroles > 1 && n > 0 && !olsim_user_has_role(&t->users[0], 1) &&
        t->users[0].nroles < 8)
        t->users[0].roles[t->users[0].nroles++] = 1;
    for (i = 0; i < n; i++)
        if (!t->users[i].deleted &&
            (t->nroles <= 1 || olsim_user_has_role(&t->users[i], 1)))
            t->admins[t->nadmins++] = (uint32_t)i;
    if (t->nadmins == 0 && n > 0)
        t->admins[t->nadmins++] = 0;
    return 0;
}

static int olsim_roles_apps_make(struct olsim_tenant *t, size_t nroles, size_t napps)
{
    int64_t id = 700001;
    size_t i;

    t->roles = calloc(nroles ? nroles : 1, sizeof(*t->roles));
    t->app_ids = calloc(napps ? napps : 1, sizeof(*t->app_ids));
    if (!t->roles || !t->app_ids)
        return -1;
    t->nroles = nroles;
    for (i = 0; i < nroles; i++) {
        t->roles[i].id = id;
        id += 1 + olsim_rng_below(&t->rng, 40);
    }
    t->napps = napps;
    id = 1200001;
    for (i = 0; i < napps; i++) {
        t->app_ids[i] = id;
        id += 3 + olsim_rng_below(&t->rng, 97);
    }
    return 0;
}

uint32_t olsim_tenant_user_index(const struct olsim_tenant *t, int64_t id)
{
    size_t lo = 0;
    size_t hi = t->nusers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->users[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->nusers && t->users[lo].id == id)
        return (uint32_t)lo;
    return OLSIM_NONE;
}

uint32_t olsim_tenant_role_index(const struct olsim_tenant *t, int64_t id)
{
    size_t i;

    for (i = 0; i < t->nroles; i++)
        if (t->roles[i].id == id)
            return (uint32_t)i;
    return OLSIM_NONE;
}

/* ---- event generation ---- */

static int olsim_random_type(const struct olsim_tenant *t, struct olsim_rng *rng)
{
    static const struct {
        int type;
        unsigned weight;
    } w[] = {
        {5, 380}, {8, 300}, {6, 50}, {9, 30}, {7, 40},  {-1, 45}, {11, 12},
        {10, 5},  {14, 15}, {13, 4}, {4, 6},  {148, 3}, {147, 2}, {72, 1},
        {73, 1},  {19, 4},  {12, 4}, {3, 2},  {-2, 92},
    };
    unsigned total = 0;
    unsigned x;
    size_t i;

    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        total += w[i].weight;
    x = olsim_rng_below(rng, total);
    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        if (x < w[i].weight)
            break;
        x -= w[i].weight;
    }
    if (i == sizeof(w) / sizeof(w[0]))
        i = 0;
    if (w[i].type == -1 && t->nmfa_types)
        return t->mfa_types[olsim_rng_below(rng, (uint32_t)t->nmfa_types)];
    if (w[i].type == -2 && t->nother_types)
        return t->other_types[olsim_rng_below(rng, (uint32_t)t->nother_types)];
    if (w[i].type < 0)
        return 5;
    return w[i].type;
}

static uint32_t olsim_random_user(const struct olsim_tenant *t, struct olsim_rng *rng,
                                  int live)
{
    uint32_t n = (uint32_t)t->nusers;
    uint32_t u = 0;
    int tries;

    for (tries = 0; tries < 16; tries++) {
        u = olsim_rng_below(rng, n);
        /* A fifth of the users make half of the traffic. */
        if (olsim_rng_below(rng, 2) == 0)
            u %= n / 5 + 1;
        if (!live || !t->users[u].deleted)
            break;
    }
    return u;
}

/* Fills e from spec (no id yet). */
static void olsim_event_make(const struct olsim_tenant *t, struct olsim_rng *rng,
                             const struct olsim_ev_spec *spec, int live,
                             struct olsim_event *e)
{
    enum olsim_kind k;
    const struct olsim_user *u;

    memset(e, 0, sizeof(*e));
    e->type = (uint16_t)(spec->type >= 0 ? spec->type : olsim_random_type(t, rng));
    e->user = spec->user != OLSIM_NONE ? spec->user : olsim_random_user(t, rng, live);
    e->created_ms = spec->created_ms;
    e->seed = (uint32_t)olsim_rng_next(rng);
    e->role = OLSIM_NONE16;
    e->app = OLSIM_NONE16;
    u = &t->users[e->user];
    k = olsim_kind_of(t, e->type);
    e->actor = olsim_kind_is_self(k)
                   ? e->user
                   : t->admins[olsim_rng_below(rng, (uint32_t)t->nadmins)];
    if (spec->has_ip)
        e->ip = spec->ip;
    else if (k == OLSIM_K_FAIL || k == OLSIM_K_APP_FAIL)
        e->ip = olsim_rng_below(rng, 2) ? u->ip : olsim_random_ip(rng);
    else if (olsim_kind_is_self(k))
        e->ip = olsim_rng_below(rng, 10) ? u->ip : olsim_random_ip(rng);
    else
        e->ip = t->users[e->actor].ip;
    if ((k == OLSIM_K_APP_LOGIN || k == OLSIM_K_APP_FAIL || k == OLSIM_K_APP_ROLE ||
         e->type == 29) &&
        t->napps)
        e->app = (uint16_t)olsim_rng_below(rng, (uint32_t)t->napps);
    if ((k == OLSIM_K_ROLE_ADD || k == OLSIM_K_APP_ROLE) && t->nroles) {
        uint16_t r = (uint16_t)olsim_rng_below(rng, (uint32_t)t->nroles);
        uint32_t i;

        for (i = 0; live && i < t->nroles && olsim_user_has_role(u, r); i++)
            r = (uint16_t)((r + 1) % t->nroles);
        e->role = r;
    }
    if (k == OLSIM_K_ROLE_DEL && t->nroles) {
        if (u->nroles)
            e->role = u->roles[olsim_rng_below(rng, u->nroles)];
        else
            e->role = (uint16_t)olsim_rng_below(rng, (uint32_t)t->nroles);
    }
}

static void olsim_user_apply(struct olsim_tenant *t, const struct olsim_event *e)
{
    struct olsim_user *u = &t->users[e->user];
    enum olsim_kind k = olsim_kind_of(t, e->type);
    uint8_t i;

    switch (k) {
    case OLSIM_K_LOGIN:
    case OLSIM_K_APP_LOGIN:
        u->last_login_ms = e->created_ms;
        u->invalid_logins = 0;
        return;
    case OLSIM_K_FAIL:
    case OLSIM_K_APP_FAIL:
        if (u->invalid_logins < 255)
            u->invalid_logins++;
        return;
    case OLSIM_K_ROLE_ADD:
        if (e->role != OLSIM_NONE16 && !olsim_user_has_role(u, e->role) && u->nroles < 8)
            u->roles[u->nroles++] = e->role;
        break;
    case OLSIM_K_ROLE_DEL:
        for (i = 0; i < u->nroles; i++) {
            if (u->roles[i] == e->role) {
                memmove(&u->roles[i], &u->roles[i + 1],
                        (size_t)(u->nroles - i - 1) * sizeof(u->roles[0]));
                u->nroles--;
                break;
            }
        }
        break;
    case OLSIM_K_LOCK:
        u->status = 3;
        u->locked_until_ms = e->created_ms + 30 * 60000;
        break;
    case OLSIM_K_UNLOCK:
        u->status = 1;
        u->locked_until_ms = 0;
        u->invalid_logins = 0;
        break;
    case OLSIM_K_SUSPEND:
        u->status = 2;
        break;
    case OLSIM_K_DELETE:
        u->deleted = 1;
        break;
    case OLSIM_K_PASSWORD:
        if (e->type == 11)
            u->pw_changed_ms = e->created_ms;
        break;
    case OLSIM_K_ADMIN:
        if (e->type == 15)
            u->status = 0;
        else if (e->type == 16)
            u->status = 1;
        break;
    default:
        return;
    }
    if (e->created_ms > u->updated_ms)
        u->updated_ms = e->created_ms;
}

/* ---- store ---- */

static int olsim_store_reserve(struct olsim_tenant *t, size_t n)
{
    void *p;
    size_t cap;
    size_t nb = (n >> OLSIM_BLOCK_SHIFT) + 1;

    if (n > t->ev_cap) {
        cap = t->ev_cap ? t->ev_cap + t->ev_cap / 2 : 1024;
        if (cap < n)
            cap = n;
        p = realloc(t->ev, cap * sizeof(*t->ev));
        if (!p)
            return -1;
        t->ev = p;
        t->ev_cap = cap;
    }
    if (n > t->tix_cap) {
        cap = t->tix_cap ? t->tix_cap + t->tix_cap / 2 : 1024;
        if (cap < n)
            cap = n;
        p = realloc(t->tix, cap * sizeof(*t->tix));
        if (!p)
            return -1;
        t->tix = p;
        t->tix_cap = cap;
    }
    if (nb > t->blk_cap) {
        cap = t->blk_cap ? t->blk_cap * 2 : 64;
        if (cap < nb)
            cap = nb;
        p = realloc(t->blk, cap * sizeof(*t->blk));
        if (!p)
            return -1;
        t->blk = p;
        t->blk_cap = cap;
    }
    return 0;
}

static void olsim_block_note(struct olsim_tenant *t, size_t pos)
{
    size_t b = pos >> OLSIM_BLOCK_SHIFT;
    int64_t c = t->ev[pos].created_ms;

    if (b >= t->nblk) {
        t->blk[b].min_ms = c;
        t->blk[b].max_ms = c;
        t->nblk = b + 1;
        return;
    }
    if (c < t->blk[b].min_ms)
        t->blk[b].min_ms = c;
    if (c > t->blk[b].max_ms)
        t->blk[b].max_ms = c;
}

int64_t olsim_tenant_insert(struct olsim_tenant *t, struct olsim_rng *rng,
                            const struct olsim_ev_spec *spec, int mutate, int64_t now_ms)
{
    struct olsim_event e;
    size_t lo = 0;
    size_t hi;

    (void)now_ms;
    if (t->nusers == 0 || olsim_store_reserve(t, t->nev + 1) < 0)
        return -1;
    olsim_event_make(t, rng, spec, 1, &e);
    t->last_id += 1 + olsim_rng_below(rng, 3);
    e.id = t->last_id;
    t->ev[t->nev] = e;
    olsim_block_note(t, t->nev);
    /* Upper bound on created_at: the new id is the largest, so ties go after. */
    hi = t->nev;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->ev[t->tix[mid]].created_ms <= e.created_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&t->tix[lo + 1], &t->tix[lo], (t->nev - lo) * sizeof(*t->tix));
    t->tix[lo] = (uint32_t)t->nev;
    t->nev++;
    if (mutate)
        olsim_user_apply(t, &e);
    return e.id;
}

static int olsim_event_time_cmp(const void *a, const void *b)
{
    const struct olsim_event *x = a;
    const struct olsim_event *y = b;

    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    if (x->seed != y->seed)
        return x->seed < y->seed ? -1 : 1;
    return (x->user > y->user) - (x->user < y->user);
}

/* Appends one pre-generated event (no id, no index yet). */
static void olsim_pregen_push(struct olsim_tenant *t, struct olsim_rng *rng, int type,
                              uint32_t user, int has_ip, uint32_t ip, int64_t created)
{
    struct olsim_ev_spec spec;

    spec.type = type;
    spec.user = user;
    spec.has_ip = has_ip;
    spec.ip = ip;
    spec.created_ms = created;
    olsim_event_make(t, rng, &spec, 0, &t->ev[t->nev]);
    t->nev++;
}

static uint32_t olsim_live_user(struct olsim_tenant *t)
{
    return olsim_random_user(t, &t->rng, 1);
}

static int64_t olsim_scenario_start(struct olsim_tenant *t, int64_t now, int64_t span,
                                    int64_t need)
{
    int64_t room = span - need - 1000;

    if (room <= 0)
        return now - span;
    return now - span + (int64_t)(olsim_rng_unit(&t->rng) * (double)room);
}

static size_t olsim_scenario_size(const char *name)
{
    if (strcmp(name, "bruteforce") == 0)
        return 12;
    if (strcmp(name, "spray") == 0)
        return 15;
    if (strcmp(name, "mfa_fatigue") == 0)
        return 8;
    if (strcmp(name, "superuser") == 0)
        return 1;
    if (strcmp(name, "privilege") == 0)
        return 2;
    return 0;
}

static void olsim_scenario_run(struct olsim_tenant *t, const char *name, int64_t now,
                               int64_t span)
{
    struct olsim_rng *rng = &t->rng;
    uint32_t ip = olsim_random_ip(rng);
    uint32_t u = olsim_live_user(t);
    int64_t t0;
    size_t i;

    if (strcmp(name, "bruteforce") == 0) {
        t0 = olsim_scenario_start(t, now, span, 120000);
        for (i = 0; i < 12; i++) {
            olsim_pregen_push(t, rng, 6, u, 1, ip, t0);
            t0 += 1000 + olsim_rng_below(rng, 9000);
        }
    } else if (strcmp(name, "spray") == 0) {
        uint32_t start = olsim_rng_below(rng, (uint32_t)t->nusers);

        t0 = olsim_scenario_start(t, now, span, 300000);
        for (i = 0; i < 15; i++) {
            uint32_t v = (uint32_t)((start + i) % t->nusers);

            olsim_pregen_push(t, rng, 6, v, 1, ip, t0);
            t0 += 1000 + olsim_rng_below(rng, 19000);
        }
    } else if (strcmp(name, "mfa_fatigue") == 0) {
        t0 = olsim_scenario_start(t, now, span, 180000);
        for (i = 0; i < 8; i++) {
            olsim_pregen_push(t, rng, 950, u, 1, ip, t0);
            t0 += 1000 + olsim_rng_below(rng, 19000);
        }
    } else if (strcmp(name, "superuser") == 0) {
        t0 = olsim_scenario_start(t, now, span, 1000);
        olsim_pregen_push(t, rng, 72, u, 0, 0, t0);
        t->ev[t->nev - 1].flags |= OLSIM_FLAG_SUPERUSER;
    } else if (strcmp(name, "privilege") == 0) {
        t0 = olsim_scenario_start(t, now, span, 600000);
        olsim_pregen_push(t, rng, 4, u, 0, 0, t0);
        if (t->nroles > 1)
            t->ev[t->nev - 1].role = 1;
        olsim_pregen_push(t, rng, 148, u, 0, 0,
                          t0 + 60000 + olsim_rng_below(rng, 500000));
        if (t->nroles > 1)
            t->ev[t->nev - 1].role = 1;
    }
}

static int olsim_pregenerate(struct olsim_tenant *t, const struct olsim_tenant_opts *o,
                             char *err, size_t errsz)
{
    struct olsim_rng *rng = &t->rng;
    int64_t lo = o->now_ms - o->span_ms;
    int64_t width = o->span_ms - 1000;
    size_t total = o->events;
    size_t i;

    for (i = 0; i < o->nscenarios; i++) {
        size_t n = olsim_scenario_size(o->scenarios[i]);

        if (n == 0) {
            snprintf(err, errsz, "unknown scenario '%s'", o->scenarios[i]);
            return -1;
        }
        total += n;
    }
    if (width < 1)
        width = 1;
    if (olsim_store_reserve(t, total ? total : 1) < 0)
        goto oom;
    while (t->nev < o->events) {
        int64_t c = lo + (int64_t)(olsim_rng_unit(rng) * (double)width);
        uint32_t u = olsim_random_user(t, rng, 0);
        size_t burst = 0;

        olsim_pregen_push(t, rng, -1, u, 0, 0, c);
        /* Some activity comes in bursts: a login followed by app logins. */
        if (olsim_rng_below(rng, 30) == 0)
            burst = 2 + olsim_rng_below(rng, 6);
        while (burst-- > 0 && t->nev < o->events) {
            c += 200 + olsim_rng_below(rng, 20000);
            if (c > o->now_ms - 1000)
                c = o->now_ms - 1000;
            olsim_pregen_push(t, rng, olsim_rng_below(rng, 3) ? 8 : 5, u, 0, 0, c);
        }
    }
    for (i = 0; i < o->nscenarios; i++)
        olsim_scenario_run(t, o->scenarios[i], o->now_ms, o->span_ms);
    qsort(t->ev, t->nev, sizeof(*t->ev), olsim_event_time_cmp);
    t->last_id = 100000000;
    for (i = 0; i < t->nev; i++) {
        t->last_id += 1 + olsim_rng_below(rng, 3);
        t->ev[i].id = t->last_id;
        t->tix[i] = (uint32_t)i;
        olsim_block_note(t, i);
    }
    return 0;
oom:
    snprintf(err, errsz, "out of memory for %zu events", total);
    return -1;
}

static int olsim_type_lists(struct olsim_tenant *t)
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

struct olsim_tenant *olsim_tenant_new(const struct olsim_tenant_opts *o, char *err,
                                      size_t errsz)
{
    struct olsim_tenant *t = calloc(1, sizeof(*t));
    uint64_t cid;

    if (!t) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    olsim_rng_seed(&t->rng, o->seed);
    t->account_id = 100000 + (int64_t)olsim_rng_below(&t->rng, 900000);
    cid = olsim_rng_next(&t->rng);
    snprintf(t->client_id, sizeof(t->client_id), "%016llx%016llx",
             (unsigned long long)cid, (unsigned long long)olsim_mix(cid));
    if (o->users == 0) {
        snprintf(err, errsz, "a tenant needs at least one user");
        goto fail;
    }
    if (olsim_catalog_load(t, o->catalog, err, errsz) < 0)
        goto fail;
    if (olsim_type_lists(t) < 0 || olsim_roles_apps_make(t, o->roles, o->apps) < 0 ||
        olsim_users_make(t, o->users, o->now_ms) < 0) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if (olsim_pregenerate(t, o, err, errsz) < 0)
        goto fail;
    return t;
fail:
    olsim_tenant_free(t);
    return NULL;
}

void olsim_tenant_free(struct olsim_tenant *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->ntypes; i++) {
        free(t->types[i].name);
        free(t->types[i].desc);
    }
    free(t->types);
    free(t->users);
    free(t->admins);
    free(t->roles);
    free(t->app_ids);
    free(t->mfa_types);
    free(t->other_types);
    free(t->ev);
    free(t->tix);
    free(t->blk);
    free(t);
}

/* ---- queries ---- */

static int olsim_match(const struct olsim_event *e, const struct olsim_query *q,
                       uint32_t uidx)
{
    size_t i;

    if (e->created_ms < q->since_ms || e->created_ms >= q->until_ms)
        return 0;
    if (q->user_id && e->user != uidx)
        return 0;
    if (q->id && e->id != q->id)
        return 0;
    if (q->ntypes) {
        for (i = 0; i < q->ntypes; i++)
            if (q->types[i] == e->type)
                return 1;
        return 0;
    }
    return 1;
}

/* First position whose id is >= id. */
static size_t olsim_id_lower(const struct olsim_tenant *t, int64_t id)
{
    size_t lo = 0;
    size_t hi = t->nev;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->ev[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index in tix whose (created, id) is >= (ms, id) (after = 0) or > it (after = 1).
 */
static size_t olsim_time_bound(const struct olsim_tenant *t, int64_t ms, int64_t id,
                               int after)
{
    size_t lo = 0;
    size_t hi = t->nev;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct olsim_event *e = &t->ev[t->tix[mid]];
        int less = e->created_ms < ms || (e->created_ms == ms && e->id < id);

        if (less || (after && e->created_ms == ms && e->id == id))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int olsim_block_hit(const struct olsim_tenant *t, size_t b,
                           const struct olsim_query *q)
{
    return t->blk[b].max_ms >= q->since_ms && t->blk[b].min_ms < q->until_ms;
}

/* Collects position p; returns 1 once the page is full and one more match was seen. */
static int olsim_collect(uint32_t *pos, size_t *n, const struct olsim_query *q, size_t p,
                         int *more)
{
    if (*n < q->limit) {
        pos[(*n)++] = (uint32_t)p;
        return 0;
    }
    *more = 1;
    return 1;
}

size_t olsim_tenant_query(const struct olsim_tenant *t, const struct olsim_query *q,
                          uint32_t *pos, int *more)
{
    uint32_t uidx = q->user_id ? olsim_tenant_user_index(t, q->user_id) : OLSIM_NONE;
    size_t n = 0;
    size_t i;
    size_t k;

    *more = 0;
    if (q->user_id && uidx == OLSIM_NONE)
        return 0;
    switch (q->sort) {
    case OLSIM_SORT_ID_ASC:
        i = q->has_cursor ? olsim_id_lower(t, q->cur_id + 1) : 0;
        if (q->id && olsim_id_lower(t, q->id) > i)
            i = olsim_id_lower(t, q->id);
        while (i < t->nev) {
            if (!olsim_block_hit(t, i >> OLSIM_BLOCK_SHIFT, q)) {
                i = ((i >> OLSIM_BLOCK_SHIFT) + 1) << OLSIM_BLOCK_SHIFT;
                continue;
            }
            if (q->id && t->ev[i].id > q->id)
                break;
            if (olsim_match(&t->ev[i], q, uidx) && olsim_collect(pos, &n, q, i, more))
                break;
            i++;
        }
        break;
    case OLSIM_SORT_ID_DESC:
        i = q->has_cursor ? olsim_id_lower(t, q->cur_id) : t->nev;
        while (i > 0) {
            size_t b = (i - 1) >> OLSIM_BLOCK_SHIFT;

            if (!olsim_block_hit(t, b, q)) {
                i = b << OLSIM_BLOCK_SHIFT;
                continue;
            }
            i--;
            if (q->id && t->ev[i].id < q->id)
                break;
            if (olsim_match(&t->ev[i], q, uidx) && olsim_collect(pos, &n, q, i, more))
                break;
        }
        break;
    case OLSIM_SORT_TIME_ASC:
        k = q->since_ms == INT64_MIN ? 0 : olsim_time_bound(t, q->since_ms, INT64_MIN, 0);
        if (q->has_cursor) {
            size_t c = olsim_time_bound(t, q->cur_ms, q->cur_id, 1);

            if (c > k)
                k = c;
        }
        for (; k < t->nev; k++) {
            const struct olsim_event *e = &t->ev[t->tix[k]];

            if (e->created_ms >= q->until_ms)
                break;
            if (olsim_match(e, q, uidx) && olsim_collect(pos, &n, q, t->tix[k], more))
                break;
        }
        break;
    case OLSIM_SORT_TIME_DESC:
        k = q->until_ms == INT64_MAX ? t->nev
                                     : olsim_time_bound(t, q->until_ms, INT64_MIN, 0);
        if (q->has_cursor) {
            size_t c = olsim_time_bound(t, q->cur_ms, q->cur_id, 0);

            if (c < k)
                k = c;
        }
        while (k > 0) {
            const struct olsim_event *e = &t->ev[t->tix[--k]];

            if (e->created_ms < q->since_ms)
                break;
            if (olsim_match(e, q, uidx) && olsim_collect(pos, &n, q, t->tix[k], more))
                break;
        }
        break;
    }
    return n;
}

/* ---- rendering ---- */

static void olsim_key(struct olsim_buf *b, const char *k)
{
    olsim_buf_printf(b, ",\"%s\":", k);
}

static void olsim_ip_str(uint32_t ip, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255,
                     ip & 255);

    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0';
}

static void olsim_hex(struct olsim_rng *r, char *out, size_t nhex)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < nhex; i++)
        out[i] = hex[olsim_rng_below(r, 16)];
    out[nhex] = '\0';
}

/* Writes the notes field for e (value only). */
static void olsim_render_notes(const struct olsim_tenant *t, const struct olsim_event *e,
                               enum olsim_kind k, struct olsim_rng *r,
                               struct olsim_buf *b)
{
    char corr[40];
    char tmp[256];
    char rn[32];
    int n = -1;

    olsim_hex(r, corr, 32);
    switch (k) {
    case OLSIM_K_LOGIN:
    case OLSIM_K_FAIL:
        n = snprintf(tmp, sizeof(tmp),
                     "Authentication method: %s.\nTransitions: username -> password%s\n"
                     "Correlation_id: %s",
                     olsim_rng_below(r, 4) ? "Login App" : "Browser Extension",
                     olsim_rng_below(r, 3) ? " -> mfa" : "", corr);
        break;
    case OLSIM_K_APP_LOGIN:
        if (olsim_rng_below(r, 3) == 0)
            break;
        n = snprintf(tmp, sizeof(tmp), "SAML 2.0 assertion issued.\nCorrelation_id: %s",
                     corr);
        break;
    case OLSIM_K_MFA:
        n = snprintf(tmp, sizeof(tmp), "Factor: %s\nCorrelation_id: %s",
                     olsim_devices[e->seed % 5], corr);
        break;
    case OLSIM_K_ROLE_ADD:
    case OLSIM_K_ROLE_DEL:
    case OLSIM_K_APP_ROLE:
        n = snprintf(tmp, sizeof(tmp), "Role \"%s\" %s via %s",
                     e->role != OLSIM_NONE16 ? olsim_role_name(t, e->role, rn, sizeof(rn))
                                             : "?",
                     k == OLSIM_K_ROLE_DEL ? "removed" : "assigned",
                     olsim_rng_below(r, 2) ? "Admin UI" : "API");
        break;
    case OLSIM_K_PRIV:
        n = snprintf(tmp, sizeof(tmp),
                     "Privilege: %s\nScope:\tall users\nTicket: \"CHG-%05u\"",
                     (e->flags & OLSIM_FLAG_SUPERUSER) ? "Super User" : "Manage Users",
                     olsim_rng_below(r, 100000));
        break;
    case OLSIM_K_ADMIN:
        n = snprintf(tmp, sizeof(tmp), "Updated fields: title, department\nSource: %s",
                     olsim_rng_below(r, 2) ? "Admin UI" : "Directory sync — AD");
        break;
    case OLSIM_K_LOCK:
        n = snprintf(tmp, sizeof(tmp), "Locked after %u failed attempts",
                     3 + olsim_rng_below(r, 5));
        break;
    default:
        break;
    }
    if (n < 0 || (size_t)n >= sizeof(tmp))
        olsim_buf_add(b, "null", 4);
    else
        olsim_buf_json_str(b, tmp);
}

void olsim_render_event(const struct olsim_tenant *t, const struct olsim_event *e,
                        struct olsim_buf *b)
{
    const struct olsim_user *u = &t->users[e->user];
    const struct olsim_user *a = &t->users[e->actor];
    enum olsim_kind k = olsim_kind_of(t, e->type);
    struct olsim_rng r;
    char tmp[256];
    char name[128];
    int with_policy = k == OLSIM_K_LOGIN || k == OLSIM_K_FAIL || k == OLSIM_K_MFA ||
                      k == OLSIM_K_APP_LOGIN;
    int with_risk = (k == OLSIM_K_LOGIN || k == OLSIM_K_FAIL || k == OLSIM_K_APP_LOGIN ||
                     k == OLSIM_K_APP_FAIL);
    int fail = k == OLSIM_K_FAIL || k == OLSIM_K_APP_FAIL ||
               (k == OLSIM_K_MFA && olsim_tenant_type(t, e->type) &&
                (olsim_tenant_type(t, e->type)->cats & OLSIM_CAT_LOGIN_FAIL));
    int api = k == OLSIM_K_API || (e->type >= 500 && e->type < 600);
    unsigned policy = u->seed % 4;
    unsigned device = u->seed % 5;
    unsigned risk = 0;

    olsim_rng_seed(&r, (uint64_t)e->seed << 32 ^ (uint64_t)e->id);
    olsim_fmt_iso(e->created_ms, tmp, sizeof(tmp));
    olsim_buf_printf(b, "{\"id\":%lld,\"created_at\":\"%s\",\"account_id\":%lld",
                     (long long)e->id, tmp, (long long)t->account_id);
    olsim_buf_printf(b, ",\"user_id\":%lld,\"event_type_id\":%u", (long long)u->id,
                     (unsigned)e->type);
    olsim_key(b, "notes");
    olsim_render_notes(t, e, k, &r, b);
    olsim_buf_printf(b, ",\"actor_user_id\":%lld", (long long)a->id);
    olsim_key(b, "assuming_acting_user_id");
    olsim_buf_json_int(b, t->users[t->admins[e->seed % t->nadmins]].id,
                       k != OLSIM_K_ASSUME);
    olsim_key(b, "role_id");
    olsim_buf_json_int(b, e->role != OLSIM_NONE16 ? t->roles[e->role].id : 0,
                       e->role == OLSIM_NONE16);
    olsim_key(b, "app_id");
    olsim_buf_json_int(b, e->app != OLSIM_NONE16 ? t->app_ids[e->app] : 0,
                       e->app == OLSIM_NONE16);
    olsim_key(b, "group_id");
    olsim_buf_json_int(b, 880001 + u->group * 7, k != OLSIM_K_ADMIN || u->group == 0xff);
    olsim_key(b, "otp_device_id");
    olsim_buf_json_int(b, (u->id % 1000000) * 8 + device, k != OLSIM_K_MFA);
    olsim_key(b, "policy_id");
    olsim_buf_json_int(b, 301001 + policy * 13, !with_policy);
    olsim_key(b, "actor_system");
    olsim_buf_json_str(b, api ? "API" : "");
    olsim_key(b, "custom_message");
    if ((k == OLSIM_K_PRIV || k == OLSIM_K_ADMIN) && olsim_rng_below(&r, 2))
        olsim_buf_json_str(b,
                           "Approved by \"Security\" — see C:\\ops\\approvals\\2024.txt");
    else
        olsim_buf_add(b, "null", 4);
    olsim_key(b, "role_name");
    olsim_buf_json_str(b, e->role != OLSIM_NONE16
                              ? olsim_role_name(t, e->role, tmp, sizeof(tmp))
                              : NULL);
    olsim_key(b, "app_name");
    olsim_buf_json_str(
        b, e->app != OLSIM_NONE16 ? olsim_app_name(e->app, tmp, sizeof(tmp)) : NULL);
    olsim_key(b, "group_name");
    olsim_buf_json_str(
        b, (k == OLSIM_K_ADMIN && u->group != 0xff) ? olsim_groups[u->group] : NULL);
    olsim_key(b, "actor_user_name");
    olsim_user_display(a, name, sizeof(name));
    olsim_buf_json_str(b, name);
    olsim_key(b, "user_name");
    olsim_user_display(u, name, sizeof(name));
    olsim_buf_json_str(b, name);
    olsim_key(b, "policy_name");
    olsim_buf_json_str(b, with_policy ? olsim_policies[policy] : NULL);
    olsim_key(b, "otp_device_name");
    olsim_buf_json_str(b, k == OLSIM_K_MFA ? olsim_devices[device] : NULL);
    olsim_key(b, "operation_name");
    olsim_buf_json_str(b, e->type == 23 ? "bulk_update_users" : NULL);
    olsim_key(b, "directory_sync_run_id");
    olsim_buf_json_int(b, 9100000 + (e->seed % 100000), e->type != 25 && e->type != 26);
    olsim_key(b, "directory_id");
    olsim_buf_json_int(b, 45001, e->type != 25 && e->type != 26);
    olsim_key(b, "resolution");
    olsim_buf_add(b, "null", 4);
    olsim_key(b, "client_id");
    olsim_buf_json_str(b, api ? t->client_id : NULL);
    olsim_key(b, "resource_type_id");
    olsim_buf_add(b, "null", 4);
    olsim_key(b, "error_description");
    if (e->type == 950)
        olsim_buf_json_str(b, "Push notification rejected by user");
    else
        olsim_buf_json_str(b, fail ? olsim_login_errors[olsim_rng_below(&r, 5)] : NULL);
    olsim_key(b, "proxy_ip");
    if (olsim_kind_is_self(k) && olsim_rng_below(&r, 10) == 0)
        olsim_buf_json_str(b, olsim_rng_below(&r, 2) ? "" : "10.20.30.40");
    else
        olsim_buf_add(b, "null", 4);
    olsim_key(b, "ipaddr");
    olsim_ip_str(e->ip, tmp, sizeof(tmp));
    olsim_buf_json_str(b, tmp);
    with_risk = with_risk && olsim_rng_below(&r, 5) < 3;
    if (with_risk)
        risk = fail ? 30 + olsim_rng_below(&r, 71) : olsim_rng_below(&r, 40);
    olsim_key(b, "risk_score");
    olsim_buf_json_int(b, risk, !with_risk);
    olsim_key(b, "risk_reasons");
    if (with_risk && risk >= 30) {
        char ip[24];
        int n;

        olsim_ip_str(e->ip, ip, sizeof(ip));
        n = snprintf(tmp, sizeof(tmp), "%s (%s)\n%s", olsim_risk_reasons[risk % 2], ip,
                     olsim_risk_reasons[2 + risk % 3]);
        olsim_buf_json_str(b, n < 0 || (size_t)n >= sizeof(tmp) ? NULL : tmp);
    } else {
        olsim_buf_add(b, "null", 4);
    }
    olsim_key(b, "risk_cookie_id");
    olsim_hex(&r, tmp, 32);
    olsim_buf_json_str(b, with_risk ? tmp : NULL);
    olsim_key(b, "browser_fingerprint");
    olsim_hex(&r, tmp, 40);
    olsim_buf_json_str(b, with_risk ? tmp : NULL);
    olsim_buf_add(b, "}", 1);
}

static void olsim_render_custom_attrs(const struct olsim_user *u, struct olsim_buf *b)
{
    olsim_buf_printf(b, "{\"employeenumber\":\"E%05u\"", u->seed % 100000);
    olsim_buf_str(b, ",\"costcenter\":");
    olsim_buf_json_str(b, u->seed % 3 ? "CC-4100" : NULL);
    olsim_buf_str(b, ",\"badge\":");
    olsim_buf_json_str(b, u->seed % 5 == 0 ? "" : NULL);
    olsim_buf_add(b, "}", 1);
}

static void olsim_render_role_ids(const struct olsim_tenant *t,
                                  const struct olsim_user *u, struct olsim_buf *b)
{
    uint8_t i;

    olsim_buf_add(b, "[", 1);
    for (i = 0; i < u->nroles; i++)
        olsim_buf_printf(b, "%s%lld", i ? "," : "", (long long)t->roles[u->roles[i]].id);
    olsim_buf_add(b, "]", 1);
}

void olsim_render_user_v2(const struct olsim_tenant *t, uint32_t ui, struct olsim_buf *b)
{
    const struct olsim_user *u = &t->users[ui];
    char login[128];

    olsim_user_login(u, login, sizeof(login));
    olsim_buf_str(b, "{\"activated_at\":");
    olsim_buf_json_time(b, u->created_ms + 3600000);
    olsim_buf_str(b, ",\"distinguished_name\":null,\"external_id\":null,\"firstname\":");
    olsim_buf_json_str(b, olsim_first(u)->display);
    olsim_buf_str(b, ",\"last_login\":");
    olsim_buf_json_time(b, u->last_login_ms);
    olsim_buf_str(b, ",\"lastname\":");
    olsim_buf_json_str(b, olsim_last(u)->display);
    olsim_buf_str(b, ",\"company\":");
    olsim_buf_json_str(b, u->seed % 7 ? "Acme Corp" : "Acme Europe GmbH");
    olsim_buf_str(b, ",\"directory_id\":");
    olsim_buf_json_int(b, 45001, u->seed % 4 != 0);
    olsim_buf_str(b, ",\"invitation_sent_at\":null,\"member_of\":null,\"updated_at\":");
    olsim_buf_json_time(b, u->updated_ms);
    olsim_buf_str(b, ",\"preferred_locale_code\":null,\"created_at\":");
    olsim_buf_json_time(b, u->created_ms);
    olsim_buf_str(b,
                  ",\"userprincipalname\":null,\"trusted_idp_id\":null,\"comment\":\"\","
                  "\"title\":");
    olsim_buf_json_str(b, olsim_titles[u->title]);
    olsim_buf_str(b, ",\"role_ids\":");
    olsim_render_role_ids(t, u, b);
    olsim_buf_str(b, ",\"department\":");
    olsim_buf_json_str(b, olsim_depts[u->dept]);
    olsim_buf_printf(b, ",\"id\":%lld,\"custom_attributes\":", (long long)u->id);
    olsim_render_custom_attrs(u, b);
    olsim_buf_printf(b, ",\"invalid_login_attempts\":%u,\"manager_user_id\":",
                     (unsigned)u->invalid_logins);
    olsim_buf_json_int(b, u->manager != OLSIM_NONE ? t->users[u->manager].id : 0,
                       u->manager == OLSIM_NONE);
    olsim_buf_str(b, ",\"locked_until\":");
    olsim_buf_json_time(b, u->locked_until_ms);
    olsim_buf_str(b, ",\"username\":");
    olsim_buf_json_str(b, login);
    olsim_buf_printf(
        b, ",\"manager_ad_id\":null,\"email\":\"%s@example.com\",\"phone\":", login);
    olsim_buf_printf(b, "\"+1555555%04u\"", u->seed % 10000);
    olsim_buf_printf(b, ",\"state\":%u,\"group_id\":", (unsigned)u->state);
    olsim_buf_json_int(b, 880001 + u->group * 7, u->group == 0xff);
    olsim_buf_str(b, ",\"password_changed_at\":");
    olsim_buf_json_time(b, u->pw_changed_ms);
    olsim_buf_printf(b, ",\"status\":%u,\"samaccountname\":null}", (unsigned)u->status);
}

void olsim_render_user_v1(const struct olsim_tenant *t, uint32_t ui, struct olsim_buf *b)
{
    const struct olsim_user *u = &t->users[ui];
    char login[128];

    olsim_user_login(u, login, sizeof(login));
    olsim_buf_str(b, "{\"last_login\":");
    olsim_buf_json_time(b, u->last_login_ms);
    olsim_buf_printf(b,
                     ",\"trusted_idp_id\":null,\"distinguished_name\":null,"
                     "\"invalid_login_attempts\":%u,\"invitation_sent_at\":null,"
                     "\"userprincipalname\":null,\"title\":",
                     (unsigned)u->invalid_logins);
    olsim_buf_json_str(b, olsim_titles[u->title]);
    olsim_buf_str(b, ",\"manager_ad_id\":null,\"updated_at\":");
    olsim_buf_json_time(b, u->updated_ms);
    olsim_buf_str(b, ",\"preferred_locale_code\":null,\"directory_id\":");
    olsim_buf_json_int(b, 45001, u->seed % 4 != 0);
    olsim_buf_str(b, ",\"custom_attributes\":");
    olsim_render_custom_attrs(u, b);
    olsim_buf_str(b, ",\"comment\":\"\",\"locale_code\":null,\"activated_at\":");
    olsim_buf_json_time(b, u->created_ms + 3600000);
    olsim_buf_str(b, ",\"manager_user_id\":");
    olsim_buf_json_int(b, u->manager != OLSIM_NONE ? t->users[u->manager].id : 0,
                       u->manager == OLSIM_NONE);
    olsim_buf_str(b, ",\"firstname\":");
    olsim_buf_json_str(b, olsim_first(u)->display);
    olsim_buf_printf(b, ",\"phone\":\"+1555555%04u\",\"member_of\":null,\"department\":",
                     u->seed % 10000);
    olsim_buf_json_str(b, olsim_depts[u->dept]);
    olsim_buf_str(b, ",\"password_changed_at\":");
    olsim_buf_json_time(b, u->pw_changed_ms);
    olsim_buf_str(b, ",\"openid_name\":");
    olsim_buf_json_str(b, login);
    olsim_buf_str(b, ",\"external_id\":null,\"group_id\":");
    olsim_buf_json_int(b, 880001 + u->group * 7, u->group == 0xff);
    olsim_buf_str(b, ",\"company\":");
    olsim_buf_json_str(b, u->seed % 7 ? "Acme Corp" : "Acme Europe GmbH");
    olsim_buf_str(b, ",\"username\":");
    olsim_buf_json_str(b, login);
    olsim_buf_str(b, ",\"created_at\":");
    olsim_buf_json_time(b, u->created_ms);
    olsim_buf_printf(
        b, ",\"samaccountname\":null,\"email\":\"%s@example.com\",\"role_id\":", login);
    if (u->nroles)
        olsim_render_role_ids(t, u, b);
    else
        olsim_buf_add(b, "null", 4);
    olsim_buf_printf(b,
                     ",\"status\":%u,\"id\":%lld,\"locked_until\":", (unsigned)u->status,
                     (long long)u->id);
    olsim_buf_json_time(b, u->locked_until_ms);
    olsim_buf_printf(b, ",\"state\":%u,\"lastname\":", (unsigned)u->state);
    olsim_buf_json_str(b, olsim_last(u)->display);
    olsim_buf_add(b, "}", 1);
}

void olsim_render_role_v2(const struct olsim_tenant *t, uint32_t ri, struct olsim_buf *b)
{
    char tmp[32];
    size_t i;
    int first = 1;

    olsim_buf_printf(b, "{\"id\":%lld,\"name\":", (long long)t->roles[ri].id);
    olsim_buf_json_str(b, olsim_role_name(t, ri, tmp, sizeof(tmp)));
    olsim_buf_str(b, ",\"admins\":[],\"apps\":[");
    for (i = 0; i < t->napps; i++) {
        if ((i + ri) % 4 != 0)
            continue;
        olsim_buf_printf(b, "%s%lld", first ? "" : ",", (long long)t->app_ids[i]);
        first = 0;
    }
    olsim_buf_str(b, "],\"users\":[");
    first = 1;
    for (i = 0; i < t->nusers; i++) {
        if (t->users[i].deleted || !olsim_user_has_role(&t->users[i], (uint16_t)ri))
            continue;
        olsim_buf_printf(b, "%s%lld", first ? "" : ",", (long long)t->users[i].id);
        first = 0;
    }
    olsim_buf_str(b, "]}");
}
