/*
 * format_ocsf_map.c - OneLogin event types to OCSF 1.8.0 classes and activities.
 *
 * A type named in the table below gets its row: account changes (3001),
 * authentication steps without a login category (3002), privilege and role
 * grants and revokes of a user (3005) and of a role or group (3006). Any
 * other type (and a type the catalog will add later) is classed by rules, in
 * order: login_success/login_failure -> Authentication Logon; lockout ->
 * Account Change Lock (Disable when the name says SUSPEND); LOGOUT or
 * LOGGED_OUT, OIDC_* -> Authentication Logoff / Other; else Entity
 * Management (3004) by the first verb word of the name (CREATED, DELETED,
 * UPDATED, VIEWED, ENABLED, ...), or Authentication Other (is_mfa) for an
 * mfa type with no verb, or Entity Management Other. The status is Failure
 * when the categories say login_failure or authz_denied or a word of the
 * name says FAIL, FAILED, FAILURE, REJECT, DENIED, ...; else Success. A
 * locked user is a successful Lock. docs/formats.md lists every catalog
 * type with what this file gives it; tests/integration/test_ocsf.sh checks
 * the two agree.
 */
#include <string.h>

#include "outputs/formats/fmt_util.h"
#include "outputs/formats/format_ocsf_map.h"

enum {
    OLA_M_FAIL = 1,    /* the status is Failure whatever the name says */
    OLA_M_UNKNOWN = 2, /* the outcome is not known */
    OLA_M_OAUTH = 4,   /* OAuth 2.0 */
    OLA_M_SWITCH = 8,  /* Account Switch: Impersonate */
    OLA_M_ROLE = 16,   /* 3006: the group is the role */
};

struct ola_ocsf_row {
    const char *name;
    short class_uid, activity_id;
    unsigned char flags;
};

static const struct ola_ocsf_row ola_ocsf_rows[] = {
    /* Authentication, beyond what the login categories say */
    {"USER_ASSUMED_USER", 3002, 7, OLA_M_SWITCH},
    {"EXTERNAL_ASSUME_USER", 3002, 7, OLA_M_SWITCH},
    {"FORCE_LOGOUT_USER", 3002, 2, 0},
    {"OIDC_CLIENT_CREDENTIALS_SUCCESS", 3002, 1, 0},
    {"OIDC_REVOKE_TOKEN_SUCCESS", 3002, 2, 0},
    {"OIDC_REVOKE_TOKEN_FAILED", 3002, 2, 0},
    {"API_AUTH_ISSUE_TOKEN", 3002, 1, OLA_M_OAUTH},
    {"API_AUTH_ISSUE_TOKEN_FAILED", 3002, 1, OLA_M_OAUTH},
    {"APP_COULD_NOT_AUTHENTICATE", 3002, 1, OLA_M_FAIL},
    {"USER_UNDETERMINED_BY_RADIUS", 3002, 1, OLA_M_UNKNOWN},
    {"USER_NTHASH_REQUESTED_BY_RADIUS", 3002, 99, 0},
    /* Entity Management: a directory connector's state */
    {"AD_CONNECTOR_STARTED", 3004, 10, 0},
    {"LDAP_CONNECTOR_STARTED", 3004, 10, 0},
    {"AD_CONNECTOR_STOPPED", 3004, 11, 0},
    {"LDAP_CONNECTOR_STOPPED", 3004, 11, 0},
    /* Account Change: Create */
    {"CREATED_USER", 3001, 1, 0},
    {"CREATE_USER_FAILED", 3001, 1, 0},
    {"API_CREATE_USER", 3001, 1, 0},
    {"API_CREATE_USER_FAILED", 3001, 1, 0},
    {"IMPORTED_USER", 3001, 1, 0},
    {"IMPORT_USER_FAILED", 3001, 1, 0},
    {"USER_CREATED_BY_TIDP", 3001, 1, 0},
    {"USER_CREATED_IN_DIRECTORY", 3001, 1, 0},
    {"USER_CREATED_IN_APP", 3001, 1, 0},
    {"USER_FAILED_CREATING_IN_APP", 3001, 1, 0},
    /* Enable */
    {"ACTIVATED_USER", 3001, 2, 0},
    {"REACTIVATED_USER", 3001, 2, 0},
    {"REACTIVATED_USER_VIA_API", 3001, 2, 0},
    {"USER_REACTIVATED_IN_APP", 3001, 2, 0},
    {"USER_REACTIVATED_IN_DIRECTORY", 3001, 2, 0},
    {"USER_FAILED_REACTIVATING_IN_APP", 3001, 2, 0},
    /* Password Change, Password Reset */
    {"USER_CHANGED_PASSWORD", 3001, 3, 0},
    {"USER_CHANGE_PASSWORD_FAILED", 3001, 3, 0},
    {"ADMIN_CHANGED_USER_PASSWORD", 3001, 3, 0},
    {"USER_SMART_PASSWORD_UPDATED", 3001, 3, 0},
    {"USER_SMART_PASSWORD_UPDATE_FAILED", 3001, 3, 0},
    {"PROFILE_CHANGE_PASSWORD", 3001, 3, 0},
    {"API_SET_PWD_SALT", 3001, 3, 0},
    {"API_SET_PWD_SALT_FAILED", 3001, 3, 0},
    {"API_SET_PWD_CLEAR_TEXT", 3001, 3, 0},
    {"API_SET_PWD_CLEAR_TEXT_FAILED", 3001, 3, 0},
    {"USER_REQUESTED_NEW_PASSWORD", 3001, 4, 0},
    {"ADMIN_APPROVED_PASSWORD_REQUEST", 3001, 4, 0},
    {"USER_REDIRECTED_FOR_PASSWORD_CHANGE", 3001, 99, 0},
    /* Disable, Delete */
    {"DEACTIVATED_USER", 3001, 5, 0},
    {"USER_FAILED_SUSPENDING_IN_APP", 3001, 5, 0},
    {"DELETED_USER", 3001, 6, 0},
    {"DELETE_USER_FAILED", 3001, 6, 0},
    {"API_DESTROY_USER", 3001, 6, 0},
    {"API_DESTROY_USER_FAILED", 3001, 6, 0},
    {"USER_DELETED_IN_APP", 3001, 6, 0},
    {"USER_DELETED_IN_DIRECTORY", 3001, 6, 0},
    {"USER_FAILED_DELETING_IN_APP", 3001, 6, 0},
    /* Lock (lockout types come by the rule), Unlock */
    {"API_LOCK_USER_FAILED", 3001, 9, 0},
    {"UNLOCKED_USER", 3001, 12, 0},
    {"UNLOCKED_USER_IN_DIRECTORY", 3001, 12, 0},
    {"UNLOCKED_USER_VIA_API", 3001, 12, 0},
    /* MFA Factor Enable, Disable */
    {"USER_ADDED_OTP_DEVICE", 3001, 10, 0},
    {"API_ADDED_OTP_DEVICE", 3001, 10, 0},
    {"USER_VERIFIED_OTP_DEVICE", 3001, 10, 0},
    {"USER_UNLOCKED_OTP_DEVICE", 3001, 10, 0},
    {"USER_ADDED_PHONE_NUMBER", 3001, 10, 0},
    {"TEMP_OTP_TOKEN_GENERATED", 3001, 10, 0},
    {"USER_REMOVED_OTP_DEVICE", 3001, 11, 0},
    {"USER_LOST_OTP_DEVICE", 3001, 11, 0},
    {"PROFILE_DEVICES_DELETE_DEVICE", 3001, 11, 0},
    {"TEMP_OTP_TOKEN_REVOKED", 3001, 11, 0},
    /* User Access Management: a user's privileges */
    {"USER_ASSIGNED_ROLE", 3005, 1, 0},
    {"USER_MANUALLY_ADDED_TO_ROLE", 3005, 1, 0},
    {"USER_MANUALLY_ADDED_TO_ROLE_FAILED", 3005, 1, 0},
    {"USER_AUTO_ADDED_TO_ROLE", 3005, 1, 0},
    {"API_ADD_ROLES", 3005, 1, 0},
    {"API_ADD_ROLES_FAILED", 3005, 1, 0},
    {"PRIVILEGE_GRANTED_TO_USER", 3005, 1, 0},
    {"PRIVILEGE_GRANTED_TO_ACCOUNT", 3005, 1, 0},
    {"USER_ROLE_MANAGEMENT_GRANTED", 3005, 1, 0},
    {"USER_ROLE_MANAGEMENT_GRANTED_FAILED", 3005, 1, 0},
    {"DELEGATED_PRIVILEGE_ASSIGNED_TO_USER_VIA_API", 3005, 1, 0},
    {"DELEGATED_PRIVILEGE_ASSIGNED_TO_USER_BY_USER", 3005, 1, 0},
    {"USER_MANUALLY_REMOVED_FROM_ROLE", 3005, 2, 0},
    {"USER_MANUALLY_REMOVED_FROM_ROLE_FAILED", 3005, 2, 0},
    {"USER_AUTO_REMOVED_FROM_ROLE", 3005, 2, 0},
    {"API_REMOVE_ROLES", 3005, 2, 0},
    {"API_REMOVE_ROLES_FAILED", 3005, 2, 0},
    {"PRIVILEGE_REVOKED_FROM_USER", 3005, 2, 0},
    {"PRIVILEGE_REVOKED_FROM_ACCOUNT", 3005, 2, 0},
    {"USER_ROLE_MANAGEMENT_REVOKED", 3005, 2, 0},
    {"USER_ROLE_MANAGEMENT_REVOKED_FAILED", 3005, 2, 0},
    {"DELEGATED_PRIVILEGE_REMOVED_FROM_USER_VIA_API", 3005, 2, 0},
    {"DELEGATED_PRIVILEGE_REMOVED_FROM_USER_BY_USER", 3005, 2, 0},
    /* Group Management: a role (OneLogin's group of privileges) or a group */
    {"APP_ADDED_TO_ROLE", 3006, 1, OLA_M_ROLE},
    {"APP_ADDED_TO_ROLE_FAILED", 3006, 1, OLA_M_ROLE},
    {"DELEGATED_PRIVILEGE_ASSIGNED_TO_ROLE_VIA_API", 3006, 1, OLA_M_ROLE},
    {"DELEGATED_PRIVILEGE_ASSIGNED_TO_ROLE_BY_USER", 3006, 1, OLA_M_ROLE},
    {"APP_REMOVED_FROM_ROLE", 3006, 2, OLA_M_ROLE},
    {"APP_REMOVED_FROM_ROLE_FAILED", 3006, 2, OLA_M_ROLE},
    {"DELEGATED_PRIVILEGE_REMOVED_FROM_ROLE_VIA_API", 3006, 2, OLA_M_ROLE},
    {"DELEGATED_PRIVILEGE_REMOVED_FROM_ROLE_BY_USER", 3006, 2, OLA_M_ROLE},
    {"ROLE_CREATED", 3006, 6, OLA_M_ROLE},
    {"ROLE_CREATE_FAILED", 3006, 6, OLA_M_ROLE},
    {"ROLE_DELETED", 3006, 5, OLA_M_ROLE},
    {"ROLE_DELETE_FAILED", 3006, 5, OLA_M_ROLE},
    {"ROLE_UPDATE_SUCCESS", 3006, 99, OLA_M_ROLE},
    {"ROLE_UPDATE_FAILED", 3006, 99, OLA_M_ROLE},
    {"GROUP_CREATED", 3006, 6, 0},
    {"GROUP_DESTROYED", 3006, 5, 0},
    {"GROUP_UPDATED", 3006, 99, 0},
};

/* True when word is one of the '_'-separated words of name. */
static bool ola_word(const char *name, const char *word)
{
    size_t n = strlen(word);
    const char *p = name;

    while (name != NULL && (p = strstr(p, word)) != NULL) {
        if ((p == name || p[-1] == '_') && (p[n] == '\0' || p[n] == '_'))
            return true;
        p++;
    }
    return false;
}

static bool ola_any_word(const char *name, const char *const *words)
{
    size_t i;

    for (i = 0; words[i] != NULL; i++)
        if (ola_word(name, words[i]))
            return true;
    return false;
}

static const char *const ola_w_fail[] = {"FAIL",      "FAILED", "FAILURE",      "REJECT",
                                         "REJECTED",  "DENIED", "UNAUTHORIZED", "INVALID",
                                         "EXCEPTION", "ERROR",  "COULD_NOT",    NULL};

/* Entity Management activities by verb word, in the order they are tried. */
static const struct {
    int activity_id;
    const char *const words[16];
} ola_verbs[] = {
    {1,
     {"CREATED", "CREATE", "CREATION", "ADDED", "REGISTERED", "GENERATED", "UPLOADED",
      "CLONED", "IMPORTED", NULL}},
    {4, {"DELETED", "DELETE", "DESTROYED", "DESTROY", "REMOVED", "UNBIND", NULL}},
    {3,
     {"UPDATED", "UPDATE", "UPDATING", "MODIFIED", "CHANGED", "EDITED", "SET", "RENAME",
      "MADE_DEFAULT", "UNSET_DEFAULT", "REAPPLIED", "RELOAD", NULL}},
    {2,
     {"VIEWED", "RETRIEVED", "REVEALED", "EXPORTED", "READ", "LIST", "GET", "SHOW",
      "INDEX", "DOWNLOADED", NULL}},
    {8, {"ENABLED", NULL}},
    {9, {"DISABLED", NULL}},
};

static int ola_verb(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(ola_verbs) / sizeof(ola_verbs[0]); i++)
        if (ola_any_word(name, ola_verbs[i].words))
            return ola_verbs[i].activity_id;
    return 0;
}

void ola_ocsf_entity_class(const char *name, struct ola_ocsf_class *c)
{
    int verb = ola_verb(name);

    c->class_uid = 3004;
    c->activity_id = verb != 0 ? verb : 99;
    c->auth_protocol_id = c->logon_type_id = c->switch_type_id = 0;
    c->is_mfa = false;
    c->subject = NULL;
}

/* What an authentication type's name says of its protocol and logon type. */
static void ola_ocsf_auth_detail(const char *n, unsigned flags, struct ola_ocsf_class *c)
{
    if (flags & OLA_M_OAUTH)
        c->auth_protocol_id = 6;
    else if (ola_word(n, "OIDC"))
        c->auth_protocol_id = 4;
    else if (ola_word(n, "SAML"))
        c->auth_protocol_id = 5;
    else if (ola_word(n, "RADIUS"))
        c->auth_protocol_id = 10;
    else if (ola_word(n, "VLDAP") || ola_word(n, "LDAP"))
        c->auth_protocol_id = 12;
    /* a login at a Mac, or through OneLogin Desktop, is at the device's console */
    if (ola_word(n, "DESKTOP") || ola_word(n, "MAC_LOGIN"))
        c->logon_type_id = 2;
    if (flags & OLA_M_SWITCH)
        c->switch_type_id = 2;
}

void ola_ocsf_classify(const struct ola_event *e, const char *n, struct ola_ocsf_class *c)
{
    const struct ola_ocsf_row *row = NULL;
    bool mfa = ola_fmt_has_category(e, "mfa");
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; n != NULL && i < sizeof(ola_ocsf_rows) / sizeof(ola_ocsf_rows[0]); i++)
        if (strcmp(ola_ocsf_rows[i].name, n) == 0)
            row = &ola_ocsf_rows[i];
    if (row != NULL) {
        c->class_uid = row->class_uid;
        c->activity_id = row->activity_id;
    } else if (ola_fmt_has_category(e, "login_success") ||
               ola_fmt_has_category(e, "login_failure")) {
        c->class_uid = 3002;
        c->activity_id = 1;
    } else if (ola_fmt_has_category(e, "lockout")) {
        c->class_uid = 3001;
        c->activity_id = n != NULL && strstr(n, "SUSPEND") != NULL ? 5 : 9;
    } else if (ola_word(n, "LOGOUT") || ola_word(n, "LOGGED_OUT")) {
        c->class_uid = 3002;
        c->activity_id = 2;
    } else if (n != NULL && strncmp(n, "OIDC_", 5) == 0) {
        c->class_uid = 3002;
        c->activity_id = 99;
    } else {
        ola_ocsf_entity_class(n, c);
        if (c->activity_id == 99 && mfa)
            c->class_uid = 3002; /* an MFA step: challenge, verify, push */
    }
    if (row != NULL && (row->flags & OLA_M_FAIL))
        c->status_id = 2;
    else if (row != NULL && (row->flags & OLA_M_UNKNOWN))
        c->status_id = 0;
    else if (ola_fmt_has_category(e, "login_failure") ||
             ola_fmt_has_category(e, "authz_denied") || ola_any_word(n, ola_w_fail))
        c->status_id = 2;
    else
        c->status_id = 1;
    if (c->class_uid == 3002) {
        c->is_mfa = mfa;
        ola_ocsf_auth_detail(n, row != NULL ? row->flags : 0, c);
    }
    if (c->class_uid == 3006)
        c->subject = row != NULL && (row->flags & OLA_M_ROLE) ? "role" : "group";
}

const char *ola_ocsf_class_name(int class_uid)
{
    switch (class_uid) {
    case 3001:
        return "Account Change";
    case 3002:
        return "Authentication";
    case 3004:
        return "Entity Management";
    case 3005:
        return "User Access Management";
    case 3006:
        return "Group Management";
    case 2004:
        return "Detection Finding";
    default:
        return NULL;
    }
}

/* Captions of activity ids 1..n of each class (0 Unknown and 99 Other are common). */
static const char *const ola_act_3001[] = {"Create",
                                           "Enable",
                                           "Password Change",
                                           "Password Reset",
                                           "Disable",
                                           "Delete",
                                           "Attach Policy",
                                           "Detach Policy",
                                           "Lock",
                                           "MFA Factor Enable",
                                           "MFA Factor Disable",
                                           "Unlock"};
static const char *const ola_act_3002[] = {"Logon",
                                           "Logoff",
                                           "Authentication Ticket",
                                           "Service Ticket Request",
                                           "Service Ticket Renew",
                                           "Preauth",
                                           "Account Switch"};
static const char *const ola_act_3004[] = {
    "Create", "Read",    "Update",   "Delete",     "Move",    "Enroll", "Unenroll",
    "Enable", "Disable", "Activate", "Deactivate", "Suspend", "Resume"};
static const char *const ola_act_3005[] = {"Assign Privileges", "Revoke Privileges"};
static const char *const ola_act_3006[] = {"Assign Privileges",
                                           "Revoke Privileges",
                                           "Add User",
                                           "Remove User",
                                           "Delete",
                                           "Create",
                                           "Add Subgroup",
                                           "Remove Subgroup"};
static const char *const ola_act_2004[] = {"Create", "Update", "Close"};

#define OLA_ACT(a) a, sizeof(a) / sizeof(a[0])

const char *ola_ocsf_activity_name(int class_uid, int activity_id)
{
    static const struct {
        int class_uid;
        const char *const *names;
        size_t n;
    } acts[] = {{3001, OLA_ACT(ola_act_3001)}, {3002, OLA_ACT(ola_act_3002)},
                {3004, OLA_ACT(ola_act_3004)}, {3005, OLA_ACT(ola_act_3005)},
                {3006, OLA_ACT(ola_act_3006)}, {2004, OLA_ACT(ola_act_2004)}};
    size_t i;

    if (activity_id == 0)
        return "Unknown";
    if (activity_id == 99)
        return "Other";
    for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
        if (acts[i].class_uid == class_uid && activity_id >= 1 &&
            (size_t)activity_id <= acts[i].n)
            return acts[i].names[activity_id - 1];
    return NULL;
}

const char *ola_ocsf_status_name(int status_id)
{
    return status_id == 1 ? "Success" : status_id == 2 ? "Failure" : "Unknown";
}

const char *ola_ocsf_auth_protocol_name(int id)
{
    static const char *const names[] = {
        "Unknown",   "NTLM", "Kerberos", "Digest", "OpenID", "SAML",
        "OAUTH 2.0", "PAP",  "CHAP",     "EAP",    "RADIUS", "Basic Authentication",
        "LDAP"};

    return id >= 0 && (size_t)id < sizeof(names) / sizeof(names[0]) ? names[id] : NULL;
}

const char *ola_ocsf_logon_type_name(int id)
{
    return id == 2 ? "Interactive" : id == 3 ? "Network" : NULL;
}
