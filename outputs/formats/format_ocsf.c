/*
 * format_ocsf.c - Open Cybersecurity Schema Framework 1.8.0 events as JSON.
 *
 * Each OneLogin event becomes one object of the OCSF class, activity and
 * status format_ocsf_map.c gives its type: Account Change (3001),
 * Authentication (3002), Entity Management (3004), User Access Management
 * (3005) or Group Management (3006); alerts become Detection Findings (2004).
 * Each class gets the subject the schema requires (user, group or entity);
 * a type whose event names no such subject falls back to Entity Management.
 * Fields with an OCSF home are mapped (user, actor, src_endpoint, service,
 * privileges, time, message, metadata.tenant_uid from olagent.tenant, ...);
 * every other non-null OneLogin field is kept under "unmapped". The mapping
 * is docs/formats.md; tests/integration/test_ocsf.sh validates the records
 * against data extracted from the schema. Built with Jansson, dumped compactly.
 */
#include <string.h>

#include "outputs/formats/fmt_util.h"
#include "outputs/formats/format.h"
#include "outputs/formats/format_ocsf_map.h"

/* 0..10 -> OCSF severity_id; the same buckets as the syslog mapping. */
static int ola_ocsf_severity(int s, const char **name)
{
    static const char *const names[] = {"Unknown", "Informational", "Low",
                                        "Medium",  "High",          "Critical"};
    int id = s >= 9 ? 5 : s >= 7 ? 4 : s >= 4 ? 3 : s >= 1 ? 2 : 1;

    *name = names[id];
    return id;
}

/* Sets obj[key] to the text of ev[field] when present. */
static int ola_ocsf_str(json_t *obj, const char *key, const json_t *ev, const char *field)
{
    struct ola_fmt_val v;

    if (ola_fmt_get(ev, field, &v) == NULL)
        return 0;
    return json_object_set_new(obj, key, json_stringn(v.s, v.len));
}

/* OneLogin fields a mapping used, so "unmapped" leaves them out. */
struct ola_ocsf_used {
    const char *key[24];
    size_t n;
};

static void ola_ocsf_use(struct ola_ocsf_used *u, const char *key)
{
    if (u->n < sizeof(u->key) / sizeof(u->key[0]))
        u->key[u->n++] = key;
}

static bool ola_ocsf_present(const json_t *ev, const char *field)
{
    struct ola_fmt_val v;

    return field != NULL && ola_fmt_get(ev, field, &v) != NULL;
}

/*
 * An object {name: ev[name], uid: ev[uid]} (either may be absent; type_id and
 * type added when type is not NULL), or NULL when the event has neither field.
 * The fields count as used.
 */
static json_t *ola_ocsf_named(const json_t *ev, const char *name, const char *uid,
                              int type_id, const char *type, struct ola_ocsf_used *used)
{
    json_t *o;

    if (!ola_ocsf_present(ev, name) && !ola_ocsf_present(ev, uid))
        return NULL;
    o = json_object();
    if (o == NULL || (name != NULL && ola_ocsf_str(o, "name", ev, name) != 0) ||
        ola_ocsf_str(o, "uid", ev, uid) != 0 ||
        (type != NULL && (json_object_set_new(o, "type_id", json_integer(type_id)) != 0 ||
                          json_object_set_new(o, "type", json_string(type)) != 0))) {
        json_decref(o);
        return NULL;
    }
    if (name != NULL)
        ola_ocsf_use(used, name);
    ola_ocsf_use(used, uid);
    return o;
}

/* The user an event is about: user_name/user_id, else its API client as a Service. */
static json_t *ola_ocsf_subject_user(const json_t *ev, struct ola_ocsf_used *used)
{
    json_t *u = ola_ocsf_named(ev, "user_name", "user_id", 0, NULL, used);

    return u != NULL ? u : ola_ocsf_named(ev, NULL, "client_id", 4, "Service", used);
}

/*
 * The managed entity of an Entity Management event: the first named object,
 * the user first when the type is about a user (UPDATED_USER, USER_...):
 * its role, group or app is only where the user sits.
 */
static json_t *ola_ocsf_entity(const struct ola_event *e, const struct ola_format_opts *o,
                               struct ola_ocsf_used *used)
{
    static const struct {
        const char *name, *uid, *type;
        int type_id;
    } kinds[] = {
        {"user_name", "user_id", "User", 2},
        {"role_name", "role_id", "Role", 99},
        {"app_name", "app_id", "App", 99},
        {"group_name", "group_id", "Group", 3},
        {"policy_name", "policy_id", "Policy", 5},
        {"otp_device_name", "otp_device_id", "OTP Device", 99},
        {"user_name", "user_id", "User", 2},
        {NULL, "directory_id", "Directory", 99},
        {NULL, "client_id", "API Client", 99},
        {NULL, "account_id", "Account", 99},
    };
    const char *tn =
        json_string_value(json_object_get(json_object_get(e->ola, "event_type"), "name"));
    size_t len = tn != NULL ? strlen(tn) : 0, i;
    bool about_user = tn != NULL && (strncmp(tn, "USER", 4) == 0 ||
                                     (len > 5 && strcmp(tn + len - 5, "_USER") == 0));

    for (i = about_user ? 0 : 1; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        json_t *ent = ola_ocsf_named(e->ev, kinds[i].name, kinds[i].uid, kinds[i].type_id,
                                     kinds[i].type, used);

        if (ent != NULL)
            return ent;
    }
    /* nothing named: the OneLogin account itself */
    return json_pack("{s:s,s:i,s:s}", "name", o->product, "type_id", 99, "type",
                     "Account");
}

static bool ola_ocsf_is_used(const char *key, const struct ola_ocsf_used *used)
{
    static const char *const mapped[] = {"id",    "created_at",        "event_type_id",
                                         "notes", "error_description", NULL};
    size_t i;

    for (i = 0; i < used->n; i++)
        if (strcmp(used->key[i], key) == 0)
            return true;
    for (i = 0; mapped[i] != NULL; i++)
        if (strcmp(mapped[i], key) == 0)
            return true;
    return false;
}

static json_t *ola_ocsf_unmapped(const struct ola_event *e,
                                 const struct ola_ocsf_used *used)
{
    json_t *u = json_object(), *v;
    const char *key;

    if (u == NULL)
        return NULL;
    json_object_foreach(e->ev, key, v)
    {
        if (json_is_null(v) || ola_ocsf_is_used(key, used))
            continue;
        if (json_object_set(u, key, v) != 0)
            goto fail;
    }
    if (ola_fmt_categories(e) != NULL &&
        json_object_set_new(u, "categories", json_deep_copy(ola_fmt_categories(e))) != 0)
        goto fail;
    return u;
fail:
    json_decref(u);
    return NULL;
}

/* The text of olagent.tenant (a string or a number) in v, or NULL when unset. */
static const char *ola_ocsf_tenant(const struct ola_event *e, struct ola_fmt_val *v)
{
    return e->ola != NULL ? ola_fmt_get(e->ola, "tenant", v) : NULL;
}

static json_t *ola_ocsf_metadata(const struct ola_event *e,
                                 const struct ola_format_opts *o)
{
    json_t *m =
        json_pack("{s:s,s:{s:s,s:s,s:s}}", "version", OLA_OCSF_VERSION, "product", "name",
                  o->product, "vendor_name", o->vendor, "version", o->product_version);
    const char *tn = ola_fmt_type_name(e);
    long long tid = ola_fmt_type_id(e);
    struct ola_fmt_val tenant;
    char num[32];

    if (m == NULL)
        return NULL;
    if (e->kind == OLA_REC_EVENT && ola_ocsf_str(m, "uid", e->ev, "id") != 0)
        goto fail;
    if (tid >= 0) {
        snprintf(num, sizeof(num), "%lld", tid);
        if (json_object_set_new(m, "event_code", json_string(num)) != 0)
            goto fail;
    }
    if (tn != NULL && json_object_set_new(m, "log_name", json_string(tn)) != 0)
        goto fail;
    if (ola_fmt_tags(e) != NULL &&
        json_object_set_new(m, "labels", json_deep_copy(ola_fmt_tags(e))) != 0)
        goto fail;
    if (ola_ocsf_tenant(e, &tenant) != NULL &&
        json_object_set_new(m, "tenant_uid", json_stringn(tenant.s, tenant.len)) != 0)
        goto fail;
    /* the logger is olagent on this host; the device's kind is not known */
    if (o->hostname != NULL &&
        json_object_set_new(m, "loggers",
                            json_pack("[{s:s,s:s,s:{s:s,s:i,s:s}}]", "name", "olagent",
                                      "version", o->product_version, "device", "hostname",
                                      o->hostname, "type_id", 0, "type", "Unknown")))
        goto fail;
    return m;
fail:
    json_decref(m);
    return NULL;
}

/* Sets the fields every class shares, in OCSF's usual order. */
static int ola_ocsf_base(json_t *j, int class_uid, int activity_id,
                         const char *activity_name, const struct ola_event *e)
{
    const char *cls = ola_ocsf_class_name(class_uid);
    const char *sev_name;
    int sev_id = ola_ocsf_severity(ola_fmt_severity(e), &sev_name);
    int cat = class_uid / 1000;
    char type_name[96];

    /* type_name is the schema's caption of type_uid: "Other" for activity 99 */
    snprintf(type_name, sizeof(type_name), "%s: %s", cls,
             ola_ocsf_activity_name(class_uid, activity_id));
    return json_object_set_new(j, "activity_id", json_integer(activity_id)) ||
           json_object_set_new(j, "activity_name", json_string(activity_name)) ||
           json_object_set_new(j, "category_uid", json_integer(cat)) ||
           json_object_set_new(
               j, "category_name",
               json_string(cat == 2 ? "Findings" : "Identity & Access Management")) ||
           json_object_set_new(j, "class_uid", json_integer(class_uid)) ||
           json_object_set_new(j, "class_name", json_string(cls)) ||
           json_object_set_new(j, "type_uid",
                               json_integer((json_int_t)class_uid * 100 + activity_id)) ||
           json_object_set_new(j, "type_name", json_string(type_name)) ||
           json_object_set_new(j, "time", json_integer(ola_fmt_record_ms(e))) ||
           json_object_set_new(j, "severity_id", json_integer(sev_id)) ||
           json_object_set_new(j, "severity", json_string(sev_name));
}

/* Sets key_id and key (its caption) when id is not 0. */
static int ola_ocsf_enum(json_t *j, const char *key, int id, const char *caption)
{
    char idkey[64];

    if (id == 0 || caption == NULL)
        return 0;
    snprintf(idkey, sizeof(idkey), "%s_id", key);
    return json_object_set_new(j, idkey, json_integer(id)) ||
           json_object_set_new(j, key, json_string(caption));
}

/* Authentication: the service (app, else OneLogin itself), protocol, logon type, MFA. */
static int ola_ocsf_auth(json_t *j, const struct ola_event *e,
                         const struct ola_format_opts *o, const struct ola_ocsf_class *c,
                         struct ola_ocsf_used *used)
{
    json_t *svc = ola_ocsf_named(e->ev, "app_name", "app_id", 0, NULL, used);
    bool mfa = c->is_mfa || ola_ocsf_present(e->ev, "otp_device_id") ||
               ola_ocsf_present(e->ev, "otp_device_name");

    if (svc == NULL)
        svc = json_pack("{s:s}", "name", o->product);
    if (json_object_set_new(j, "service", svc) != 0 ||
        ola_ocsf_enum(j, "auth_protocol", c->auth_protocol_id,
                      ola_ocsf_auth_protocol_name(c->auth_protocol_id)) != 0 ||
        ola_ocsf_enum(j, "logon_type", c->logon_type_id,
                      ola_ocsf_logon_type_name(c->logon_type_id)) != 0 ||
        ola_ocsf_enum(j, "account_switch_type", c->switch_type_id,
                      c->switch_type_id == 2 ? "Impersonate" : NULL) != 0)
        return -1;
    return mfa ? json_object_set_new(j, "is_mfa", json_true()) : 0;
}

/* privileges: what the event names as granted, else "Unknown" (the field is required). */
static json_t *ola_ocsf_privileges(const json_t *ev, const char *const *fields,
                                   struct ola_ocsf_used *used)
{
    struct ola_fmt_val v;
    size_t i;

    for (i = 0; fields[i] != NULL; i++)
        if (ola_fmt_get(ev, fields[i], &v) != NULL) {
            ola_ocsf_use(used, fields[i]);
            return json_pack("[s%]", v.s, v.len);
        }
    return json_pack("[s]", "Unknown");
}

/*
 * The class's subject: user (3001, 3002, 3005), group (3006, the role or the
 * group) or entity (3004). Returns 1 when the event names no subject the
 * class needs (the caller falls back to Entity Management), 0, or -1.
 */
static int ola_ocsf_subject(json_t *j, const struct ola_event *e,
                            const struct ola_format_opts *o,
                            const struct ola_ocsf_class *c, struct ola_ocsf_used *used)
{
    static const char *const user_privs[] = {"privilege_name", "role_name",
                                             "privilege_id", "role_id", NULL};
    static const char *const group_privs[] = {"app_name", "privilege_name", NULL};
    bool role = c->subject != NULL && strcmp(c->subject, "role") == 0;
    json_t *s;

    switch (c->class_uid) {
    case 3004:
        return json_object_set_new(j, "entity", ola_ocsf_entity(e, o, used)) != 0 ? -1
                                                                                  : 0;
    case 3006:
        s = role ? ola_ocsf_named(e->ev, "role_name", "role_id", 0, NULL, used)
                 : ola_ocsf_named(e->ev, "group_name", "group_id", 0, NULL, used);
        if (s == NULL)
            return 1;
        if (role && json_object_set_new(s, "type", json_string("Role")) != 0)
            goto fail;
        if (json_object_set_new(j, "group", s) != 0)
            return -1;
        if ((c->activity_id == 1 || c->activity_id == 2) &&
            (ola_ocsf_present(e->ev, "app_name") ||
             ola_ocsf_present(e->ev, "privilege_name")) &&
            json_object_set_new(j, "privileges",
                                ola_ocsf_privileges(e->ev, group_privs, used)) != 0)
            return -1;
        return 0;
    default:
        s = ola_ocsf_subject_user(e->ev, used);
        if (s == NULL)
            return 1;
        if (json_object_set_new(j, "user", s) != 0)
            return -1;
        if (c->class_uid == 3005 &&
            json_object_set_new(j, "privileges",
                                ola_ocsf_privileges(e->ev, user_privs, used)) != 0)
            return -1;
        return c->class_uid == 3002 ? ola_ocsf_auth(j, e, o, c, used) : 0;
    }
fail:
    json_decref(s);
    return -1;
}

static json_t *ola_ocsf_event(const struct ola_event *e, const struct ola_format_opts *o)
{
    const json_t *ev = e->ev;
    const char *n = ola_fmt_type_name(e);
    struct ola_ocsf_class c;
    struct ola_ocsf_used used = {{NULL}, 0};
    struct ola_fmt_val ip, proxy;
    json_t *j = NULL, *u;
    int rc;

    ola_ocsf_classify(e, n, &c);
    /* at most twice: Entity Management always has its subject (the account at least) */
    for (;;) {
        j = json_object();
        if (j == NULL)
            return NULL;
        used.n = 0;
        rc = ola_ocsf_subject(j, e, o, &c, &used);
        if (rc < 0)
            goto fail;
        if (rc == 0)
            break;
        json_decref(j); /* no user or group to name: Entity Management */
        ola_ocsf_entity_class(n, &c);
    }
    if (ola_ocsf_base(j, c.class_uid, c.activity_id,
                      c.activity_id == 99 && n != NULL
                          ? n
                          : ola_ocsf_activity_name(c.class_uid, c.activity_id),
                      e) != 0 ||
        json_object_set_new(j, "status_id", json_integer(c.status_id)) ||
        json_object_set_new(j, "status",
                            json_string(ola_ocsf_status_name(c.status_id))) ||
        ola_ocsf_str(j, "status_detail", ev, "error_description") != 0 ||
        ola_ocsf_str(j, "message", ev, "notes") != 0 ||
        json_object_set_new(j, "metadata", ola_ocsf_metadata(e, o)) != 0)
        goto fail;
    u = ola_ocsf_named(ev, "actor_user_name", "actor_user_id", 0, NULL, &used);
    if (u != NULL && json_object_set_new(j, "actor", json_pack("{s:o}", "user", u)) != 0)
        goto fail;
    /* src_endpoint: ipaddr, and proxy_ip as the hop it came through */
    ola_fmt_get(ev, "ipaddr", &ip);
    ola_fmt_get(ev, "proxy_ip", &proxy);
    if (ip.s != NULL && ola_fmt_is_ip(ip.s, ip.len)) {
        json_t *src = json_pack("{s:s%}", "ip", ip.s, ip.len);

        if (json_object_set_new(j, "src_endpoint", src) != 0)
            goto fail;
        ola_ocsf_use(&used, "ipaddr");
        if (proxy.s != NULL && ola_fmt_is_ip(proxy.s, proxy.len)) {
            if (json_object_set_new(src, "intermediate_ips",
                                    json_pack("[s%]", proxy.s, proxy.len)) != 0)
                goto fail;
            ola_ocsf_use(&used, "proxy_ip");
        }
    }
    if (json_object_set_new(j, "unmapped", ola_ocsf_unmapped(e, &used)) != 0)
        goto fail;
    return j;
fail:
    json_decref(j);
    return NULL;
}

/*
 * finding_info of an alert: uid "<rule>:<key>:<first seen ms>" (unique per
 * alert and the same on every output and after a replay), the rule as the
 * analytic, the events that made it as related_events.
 */
static json_t *ola_ocsf_finding(const json_t *a)
{
    const char *rule = json_string_value(json_object_get(a, "rule"));
    const char *key = json_string_value(json_object_get(a, "key"));
    const json_t *ids = json_object_get(a, "event_ids"), *id;
    json_t *fi, *rel = NULL;
    int64_t first = 0, last;
    char uid[512];
    size_t i;
    int w;

    if (rule == NULL)
        rule = "unknown";
    if (ola_fmt_time_ms(json_object_get(a, "first_seen"), &first) != 0)
        first = 0;
    w = snprintf(uid, sizeof(uid), "%s:%s:%lld", rule, key ? key : "", (long long)first);
    if (w < 0)
        return NULL;
    uid[ola_utf8_cut(uid, strlen(uid), sizeof(uid) - 1)] = '\0';
    fi = json_pack("{s:s,s:s,s:{s:s,s:s,s:i,s:s}}", "uid", uid, "title", rule, "analytic",
                   "uid", rule, "name", rule, "type_id", 1, "type", "Rule");
    if (fi == NULL)
        return NULL;
    if (first != 0 &&
        json_object_set_new(fi, "first_seen_time", json_integer(first)) != 0)
        goto fail;
    if (ola_fmt_time_ms(json_object_get(a, "last_seen"), &last) == 0 &&
        json_object_set_new(fi, "last_seen_time", json_integer(last)) != 0)
        goto fail;
    if (json_array_size(ids) > 0) {
        rel = json_array();
        if (rel == NULL || json_object_set_new(fi, "related_events", rel) != 0)
            goto fail;
        json_array_foreach(ids, i, id)
        {
            struct ola_fmt_val v;

            if (ola_fmt_text(id, &v) != NULL &&
                json_array_append_new(rel, json_pack("{s:s%}", "uid", v.s, v.len)) != 0)
                goto fail;
        }
    }
    return fi;
fail:
    json_decref(fi);
    return NULL;
}

static json_t *ola_ocsf_alert(const struct ola_event *e, const struct ola_format_opts *o,
                              const json_t *a)
{
    json_t *j = json_object(), *fi, *m;

    if (j == NULL)
        return NULL;
    if (ola_ocsf_base(j, 2004, 1, "Create", e) != 0 ||
        json_object_set_new(j, "status_id", json_integer(1)) ||
        json_object_set_new(j, "status", json_string("New")))
        goto fail;
    fi = ola_ocsf_finding(a);
    m = ola_ocsf_metadata(e, o);
    if (json_object_set_new(j, "metadata", m) != 0 ||
        json_object_set_new(j, "finding_info", fi) != 0 ||
        json_object_set(m, "uid", json_object_get(fi, "uid")) != 0)
        goto fail;
    if (json_is_integer(json_object_get(a, "count")) &&
        json_object_set(j, "count", json_object_get(a, "count")) != 0)
        goto fail;
    if (json_object_set_new(j, "unmapped", json_deep_copy(a)) != 0)
        goto fail;
    return j;
fail:
    json_decref(j);
    return NULL;
}

static int ola_ocsf_dump_cb(const char *p, size_t n, void *arg)
{
    return ola_buf_append(arg, p, n);
}

static int ola_format_ocsf_fn(const struct ola_event *e, const struct ola_format_opts *o,
                              struct ola_buf *out)
{
    const json_t *alert = ola_fmt_alert(e);
    size_t mark = out->len;
    json_t *j;
    int rc;

    if (alert != NULL)
        j = ola_ocsf_alert(e, o, alert);
    else if (e->ev != NULL && json_is_object(e->ev))
        j = ola_ocsf_event(e, o);
    else
        return OLA_FORMAT_UNUSABLE;
    if (j == NULL)
        return -1;
    rc = json_dump_callback(j, ola_ocsf_dump_cb, out,
                            JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (rc != 0)
        ola_buf_truncate(out, mark);
    return rc;
}

const struct ola_format_ops ola_format_ocsf = {
    .name = "ocsf",
    .format = ola_format_ocsf_fn,
};
