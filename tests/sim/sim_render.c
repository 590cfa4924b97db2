/*
 * olsim rendering: the JSON of events, users and roles, exactly as OneLogin shapes it.
 *
 * An event is rendered from its stored fields and a generator seeded from its seed and
 * id, so the same event always gives the same bytes; the 35 event fields keep the order
 * of the real event-list-item set. Users render in the v2 (flat) and v1 shapes from
 * their current state; names come from the tables in sim_users.c.
 */
#include "sim.h"
#include "sim_tenant_priv.h"

#include <stdio.h>

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
