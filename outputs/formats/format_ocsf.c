/*
 * format_ocsf.c - Open Cybersecurity Schema Framework 1.1 events as JSON.
 *
 * Each OneLogin event becomes one object of an OCSF class chosen from its
 * categories and, failing those, from the verbs of its type name:
 * Authentication (3002), Account Change (3001) or Entity Management (3004);
 * alerts become Detection Findings (2004). Fields with an OCSF home are
 * mapped (user, actor, src_endpoint, time, message, ...); every other
 * non-null OneLogin field is kept under "unmapped". The mapping table is
 * docs/formats.md. The object is built with Jansson and dumped compactly.
 */
#include <string.h>

#include "outputs/formats/fmt_util.h"
#include "outputs/formats/format.h"

#define OLA_OCSF_VERSION "1.1.0"

struct ola_ocsf_class {
    int class_uid;
    int activity_id;
    const char *activity_name;
    bool is_mfa;
};

static bool ola_has(const char *name, const char *word)
{
    return name != NULL && strstr(name, word) != NULL;
}

static bool ola_has_any(const char *name, const char *const *words)
{
    size_t i;

    for (i = 0; words[i] != NULL; i++)
        if (ola_has(name, words[i]))
            return true;
    return false;
}

static const char *const ola_w_create[] = {"CREATED", "ADDED", "REGISTERED", "ENROLL",
                                           NULL};
static const char *const ola_w_delete[] = {"DELETED", "REMOVED", "DESTROYED", "LOST",
                                           NULL};
static const char *const ola_w_update[] = {"UPDATED",      "MODIFIED", "CHANGED",
                                           "ASSIGNED",     "GRANTED",  "REVOKED",
                                           "MADE_DEFAULT", "SET",      NULL};
static const char *const ola_w_read[] = {"VIEWED", "RETRIEVED", "EXPORTED", "READ", NULL};
static const char *const ola_w_fail[] = {"FAIL",         "REJECT",  "DENIED",
                                         "UNAUTHORIZED", "INVALID", NULL};

static void ola_ocsf_entity_mgmt(const char *n, struct ola_ocsf_class *c)
{
    c->class_uid = 3004;
    if (ola_has_any(n, ola_w_create))
        c->activity_id = 1, c->activity_name = "Create";
    else if (ola_has_any(n, ola_w_delete))
        c->activity_id = 4, c->activity_name = "Delete";
    else if (ola_has_any(n, ola_w_update))
        c->activity_id = 3, c->activity_name = "Update";
    else if (ola_has_any(n, ola_w_read))
        c->activity_id = 2, c->activity_name = "Read";
    else
        c->activity_id = 99, c->activity_name = "Other";
}

/* USER_CHANGED_PASSWORD, CREATED_USER: about a user account, not an app, role or group.
 */
static bool ola_ocsf_about_user(const char *n)
{
    size_t len = n != NULL ? strlen(n) : 0;

    if (len < 5 || (strncmp(n, "USER_", 5) != 0 && strcmp(n + len - 5, "_USER") != 0))
        return false;
    return !ola_has(n, "_APP") && !ola_has(n, "ROLE") && !ola_has(n, "GROUP");
}

static void ola_ocsf_classify(const struct ola_event *e, struct ola_ocsf_class *c)
{
    const char *n = ola_fmt_type_name(e);

    memset(c, 0, sizeof(*c));
    if (ola_fmt_has_category(e, "login_success") ||
        ola_fmt_has_category(e, "login_failure")) {
        c->class_uid = 3002;
        c->activity_id = 1, c->activity_name = "Logon";
    } else if (ola_fmt_has_category(e, "lockout")) {
        c->class_uid = 3001;
        if (ola_has(n, "SUSPEND"))
            c->activity_id = 5, c->activity_name = "Disable";
        else
            c->activity_id = 9, c->activity_name = "Lock";
    } else if (ola_fmt_has_category(e, "mfa")) {
        c->class_uid = 3001;
        if (ola_has_any(n, ola_w_create))
            c->activity_id = 10, c->activity_name = "MFA Factor Enable";
        else if (ola_has_any(n, ola_w_delete) || ola_has(n, "DEACTIVAT"))
            c->activity_id = 11, c->activity_name = "MFA Factor Disable";
        else {
            c->class_uid = 3002;
            c->activity_id = 99, c->activity_name = "Other";
            c->is_mfa = true;
        }
    } else if (ola_has(n, "LOGGED_OUT") || ola_has(n, "LOGOUT")) {
        c->class_uid = 3002;
        c->activity_id = 2, c->activity_name = "Logoff";
    } else if (!ola_fmt_has_category(e, "privilege") &&
               !ola_fmt_has_category(e, "authz_denied") && ola_ocsf_about_user(n)) {
        /* changes to a user's own account */
        c->class_uid = 3001;
        if (ola_has(n, "PASSWORD") && ola_has(n, "RESET"))
            c->activity_id = 4, c->activity_name = "Password Reset";
        else if (ola_has(n, "PASSWORD"))
            c->activity_id = 3, c->activity_name = "Password Change";
        else if (ola_has_any(n, ola_w_create))
            c->activity_id = 1, c->activity_name = "Create";
        else if (ola_has(n, "DELETED"))
            c->activity_id = 6, c->activity_name = "Delete";
        else if (ola_has(n, "UNLOCKED") || ola_has(n, "ACTIVATED") ||
                 ola_has(n, "REACTIVATED"))
            c->activity_id = 2, c->activity_name = "Enable";
        else
            ola_ocsf_entity_mgmt(n, c);
    } else
        ola_ocsf_entity_mgmt(n, c);
}

static const char *ola_ocsf_class_name(int uid)
{
    switch (uid) {
    case 3001:
        return "Account Change";
    case 3002:
        return "Authentication";
    case 3004:
        return "Entity Management";
    default:
        return "Detection Finding";
    }
}

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

/* A User object from name/uid fields, or NULL when both are absent. */
static json_t *ola_ocsf_user(const json_t *ev, const char *name, const char *uid)
{
    json_t *u;

    if (ola_fmt_text(json_object_get(ev, name), &(struct ola_fmt_val){0}) == NULL &&
        ola_fmt_text(json_object_get(ev, uid), &(struct ola_fmt_val){0}) == NULL)
        return NULL;
    u = json_object();
    if (u == NULL || ola_ocsf_str(u, "name", ev, name) != 0 ||
        ola_ocsf_str(u, "uid", ev, uid) != 0) {
        json_decref(u);
        return NULL;
    }
    return u;
}

/* OneLogin fields a class-specific mapping used, so "unmapped" leaves them out. */
struct ola_ocsf_used {
    const char *key[6];
    size_t n;
};

static void ola_ocsf_use(struct ola_ocsf_used *u, const char *key)
{
    if (u->n < sizeof(u->key) / sizeof(u->key[0]))
        u->key[u->n++] = key;
}

/* The managed entity of an Entity Management event: the first named object. */
static json_t *ola_ocsf_entity(const json_t *ev, struct ola_ocsf_used *used)
{
    static const char *const kinds[][3] = {
        {"role_name", "role_id", "Role"},
        {"app_name", "app_id", "App"},
        {"group_name", "group_id", "Group"},
        {"policy_name", "policy_id", "Policy"},
        {"otp_device_name", "otp_device_id", "OTP Device"},
        {"user_name", "user_id", "User"},
    };
    struct ola_fmt_val v;
    size_t i;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        json_t *ent;

        if (ola_fmt_get(ev, kinds[i][0], &v) == NULL &&
            ola_fmt_get(ev, kinds[i][1], &v) == NULL)
            continue;
        ent = json_object();
        if (ent == NULL || ola_ocsf_str(ent, "name", ev, kinds[i][0]) != 0 ||
            ola_ocsf_str(ent, "uid", ev, kinds[i][1]) != 0 ||
            json_object_set_new(ent, "type", json_string(kinds[i][2])) != 0) {
            json_decref(ent);
            return NULL;
        }
        ola_ocsf_use(used, kinds[i][0]);
        ola_ocsf_use(used, kinds[i][1]);
        return ent;
    }
    return json_pack("{s:s}", "type", "Other");
}

static bool ola_ocsf_is_mapped(const char *key, const struct ola_ocsf_used *used)
{
    static const char *const mapped[] = {"id",
                                         "created_at",
                                         "event_type_id",
                                         "user_name",
                                         "user_id",
                                         "actor_user_name",
                                         "actor_user_id",
                                         "notes",
                                         "error_description",
                                         NULL};
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
        if (json_is_null(v) || ola_ocsf_is_mapped(key, used))
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

static json_t *ola_ocsf_metadata(const struct ola_event *e,
                                 const struct ola_format_opts *o)
{
    json_t *m =
        json_pack("{s:s,s:{s:s,s:s,s:s}}", "version", OLA_OCSF_VERSION, "product", "name",
                  o->product, "vendor_name", o->vendor, "version", o->product_version);
    const char *tn = ola_fmt_type_name(e);
    long long tid = ola_fmt_type_id(e);
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
    if (o->hostname != NULL &&
        json_object_set_new(m, "loggers",
                            json_pack("[{s:{s:s}}]", "device", "hostname", o->hostname)))
        goto fail;
    return m;
fail:
    json_decref(m);
    return NULL;
}

/* Sets the fields every class shares, in OCSF's usual order. */
static int ola_ocsf_base(json_t *j, int class_uid, int category_uid,
                         const char *category_name, int activity_id,
                         const char *activity_name, const struct ola_event *e)
{
    char type_name[96];
    const char *sev_name;
    int sev_id = ola_ocsf_severity(ola_fmt_severity(e), &sev_name);

    snprintf(type_name, sizeof(type_name), "%s: %s", ola_ocsf_class_name(class_uid),
             activity_name);
    return json_object_set_new(j, "activity_id", json_integer(activity_id)) ||
           json_object_set_new(j, "activity_name", json_string(activity_name)) ||
           json_object_set_new(j, "category_uid", json_integer(category_uid)) ||
           json_object_set_new(j, "category_name", json_string(category_name)) ||
           json_object_set_new(j, "class_uid", json_integer(class_uid)) ||
           json_object_set_new(j, "class_name",
                               json_string(ola_ocsf_class_name(class_uid))) ||
           json_object_set_new(j, "type_uid",
                               json_integer((json_int_t)class_uid * 100 + activity_id)) ||
           json_object_set_new(j, "type_name", json_string(type_name)) ||
           json_object_set_new(j, "time", json_integer(ola_fmt_record_ms(e))) ||
           json_object_set_new(j, "severity_id", json_integer(sev_id)) ||
           json_object_set_new(j, "severity", json_string(sev_name));
}

static json_t *ola_ocsf_event(const struct ola_event *e, const struct ola_format_opts *o)
{
    const json_t *ev = e->ev;
    struct ola_ocsf_class c;
    struct ola_ocsf_used used = {{NULL}, 0};
    struct ola_fmt_val ip, proxy;
    json_t *j = json_object(), *u;
    const char *outcome = ola_fmt_outcome(e);
    bool failed;

    if (j == NULL)
        return NULL;
    ola_ocsf_classify(e, &c);
    failed = (outcome != NULL && strcmp(outcome, "failure") == 0) ||
             ola_has_any(ola_fmt_type_name(e), ola_w_fail);
    if (ola_ocsf_base(j, c.class_uid, 3, "Identity & Access Management", c.activity_id,
                      c.activity_name, e) != 0 ||
        json_object_set_new(j, "status_id", json_integer(failed ? 2 : 1)) ||
        json_object_set_new(j, "status", json_string(failed ? "Failure" : "Success")) ||
        ola_ocsf_str(j, "status_detail", ev, "error_description") != 0 ||
        ola_ocsf_str(j, "message", ev, "notes") != 0 ||
        json_object_set_new(j, "metadata", ola_ocsf_metadata(e, o)) != 0)
        goto fail;
    u = ola_ocsf_user(ev, "actor_user_name", "actor_user_id");
    if (u != NULL && json_object_set_new(j, "actor", json_pack("{s:o}", "user", u)) != 0)
        goto fail;
    u = ola_ocsf_user(ev, "user_name", "user_id");
    if (u != NULL && json_object_set_new(j, "user", u) != 0)
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
    if (c.class_uid == 3002) {
        if (json_object_set_new(j, "is_mfa",
                                json_boolean(c.is_mfa || ola_fmt_has_category(e, "mfa"))))
            goto fail;
        if (json_is_string(json_object_get(ev, "app_name"))) {
            json_t *svc = json_object();

            if (svc == NULL || json_object_set_new(j, "service", svc) != 0 ||
                ola_ocsf_str(svc, "name", ev, "app_name") != 0 ||
                ola_ocsf_str(svc, "uid", ev, "app_id") != 0)
                goto fail;
            ola_ocsf_use(&used, "app_name");
            ola_ocsf_use(&used, "app_id");
        }
    }
    if (c.class_uid == 3004 &&
        json_object_set_new(j, "entity", ola_ocsf_entity(ev, &used)) != 0)
        goto fail;
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
    if (ola_ocsf_base(j, 2004, 2, "Findings", 1, "Create", e) != 0 ||
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
