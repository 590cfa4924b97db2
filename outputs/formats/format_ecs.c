/*
 * format_ecs.c - Elastic Common Schema (ECS 8.11) documents as JSON.
 *
 * Each OneLogin event becomes one ECS document: @timestamp, event.* (kind,
 * id, action, code, category, type, outcome, provider, dataset, severity,
 * reason, risk_score), user.* for who acted and user.target.* for whom it
 * was done to when they differ, source.ip, related.user/ip, observer.*,
 * organization.* (the OneLogin account and the olagent tenant), labels,
 * tags, message; every other non-null OneLogin field goes under onelogin.*,
 * and the olagent object as is under olagent. event.category and event.type
 * take only values ECS allows for the category, derived from the same
 * classification the OCSF format uses (format_ocsf_map.c). Alerts are
 * event.kind "alert" with rule.*. The mapping is docs/formats.md, field by
 * field. Built with Jansson, dumped compactly (one line).
 */
#include <string.h>

#include "outputs/formats/fmt_util.h"
#include "outputs/formats/format.h"
#include "outputs/formats/format_ocsf_map.h"

#define OLA_ECS_VERSION "8.11.0"

/* OneLogin fields with an ECS home: not repeated under onelogin.* */
static const char *const ola_ecs_mapped[] = {"id",
                                             "created_at",
                                             "event_type_id",
                                             "notes",
                                             "error_description",
                                             "user_id",
                                             "user_name",
                                             "actor_user_id",
                                             "actor_user_name",
                                             "ipaddr",
                                             "account_id",
                                             "risk_score",
                                             "user_agent",
                                             NULL};

static bool ola_ecs_is_mapped(const char *k)
{
    size_t i;

    for (i = 0; ola_ecs_mapped[i] != NULL; i++)
        if (strcmp(ola_ecs_mapped[i], k) == 0)
            return true;
    return false;
}

/* Sets obj[key] to the text of ev[field] when present. */
static int ola_ecs_str(json_t *obj, const char *key, const json_t *ev, const char *field)
{
    struct ola_fmt_val v;

    if (ola_fmt_get(ev, field, &v) == NULL)
        return 0;
    return json_object_set_new(obj, key, json_stringn(v.s, v.len));
}

/* Appends s to the array arr unless it holds it already (related.*). */
static int ola_ecs_add_unique(json_t *arr, const char *s, size_t len)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (json_string_length(v) == len && memcmp(json_string_value(v), s, len) == 0)
            return 0;
    }
    return json_array_append_new(arr, json_stringn(s, len));
}

/* Sets parent[key] to obj when obj has members; always takes obj. */
static int ola_ecs_set_nonempty(json_t *parent, const char *key, json_t *obj)
{
    if (obj == NULL)
        return -1;
    if (json_object_size(obj) == 0 && !json_is_array(obj)) {
        json_decref(obj);
        return 0;
    }
    if (json_is_array(obj) && json_array_size(obj) == 0) {
        json_decref(obj);
        return 0;
    }
    return json_object_set_new(parent, key, obj);
}

/*
 * event.category and event.type from the event's OCSF class and activity,
 * kept to the pairs ECS expects: authentication {start, end, info}, iam
 * {user, group, creation, deletion, change, info}, configuration {access,
 * creation, deletion, change, info}.
 */
static int ola_ecs_categorize(const struct ola_event *e, json_t *event, bool *failure,
                              bool *success)
{
    struct ola_ocsf_class c;
    const char *cat, *t1 = NULL, *t2;
    static const char *const objects[] = {
        "role_id",       "app_id",       "group_id",  "policy_id",
        "otp_device_id", "directory_id", "client_id", NULL};
    struct ola_fmt_val v;
    size_t i;
    json_t *types;

    memset(&c, 0, sizeof(c));
    ola_ocsf_classify(e, ola_fmt_type_name(e), &c);
    *failure = c.status_id == 2;
    *success = c.status_id == 1;
    switch (c.class_uid) {
    case 3002:
        cat = "authentication";
        t2 = c.activity_id == 1 || c.activity_id == 7 ? "start"
             : c.activity_id == 2                     ? "end"
                                                      : "info";
        break;
    case 3001:
    case 3005:
        cat = "iam";
        t1 = "user";
        t2 = c.class_uid == 3001 && c.activity_id == 1   ? "creation"
             : c.class_uid == 3001 && c.activity_id == 6 ? "deletion"
                                                         : "change";
        break;
    case 3006:
        cat = "iam";
        t1 = "group";
        t2 = c.activity_id == 6 ? "creation" : c.activity_id == 5 ? "deletion" : "change";
        break;
    default: {
        bool object = false;

        for (i = 0; objects[i] != NULL && !object; i++)
            object = ola_fmt_get(e->ev, objects[i], &v) != NULL;
        t2 = c.activity_id == 1                                               ? "creation"
             : c.activity_id == 4                                             ? "deletion"
             : c.activity_id == 3 || c.activity_id == 8 || c.activity_id == 9 ? "change"
             : c.activity_id == 2 && object                                   ? "access"
                                                                              : "info";
        if (!object && ola_fmt_get(e->ev, "user_id", &v) != NULL) {
            cat = "iam";
            t1 = "user";
        } else {
            cat = "configuration";
        }
    }
    }
    types = t1 != NULL ? json_pack("[ss]", t1, t2) : json_pack("[s]", t2);
    return json_object_set_new(event, "category", json_pack("[s]", cat)) ||
           json_object_set_new(event, "type", types);
}

/* event.*: what happened. */
static json_t *ola_ecs_event(const struct ola_event *e, const json_t *alert,
                             const char **outcome)
{
    json_t *ev = json_object();
    const char *tn = ola_fmt_type_name(e);
    long long tid = ola_fmt_type_id(e);
    int sev = ola_fmt_severity(e);
    bool failure = false, success = false;
    char num[32];

    if (ev == NULL)
        return NULL;
    if (json_object_set_new(ev, "kind", json_string(alert ? "alert" : "event")) ||
        json_object_set_new(ev, "provider", json_string("onelogin")) ||
        json_object_set_new(ev, "dataset", json_string("onelogin.events")))
        goto fail;
    if (alert == NULL) {
        if (ola_ecs_str(ev, "id", e->ev, "id") != 0 ||
            (tn != NULL && json_object_set_new(ev, "action", json_string(tn)) != 0) ||
            ola_ecs_str(ev, "reason", e->ev, "error_description") != 0 ||
            ola_ecs_categorize(e, ev, &failure, &success) != 0)
            goto fail;
        if (tid >= 0) {
            snprintf(num, sizeof(num), "%lld", tid);
            if (json_object_set_new(ev, "code", json_string(num)) != 0)
                goto fail;
        }
        if (json_is_number(json_object_get(e->ev, "risk_score")) &&
            json_object_set_new(
                ev, "risk_score",
                json_real(json_number_value(json_object_get(e->ev, "risk_score")))) != 0)
            goto fail;
        *outcome = failure ? "failure" : success ? "success" : "unknown";
    } else {
        int64_t ms;
        char iso[32];
        const char *rule = json_string_value(json_object_get(alert, "rule"));
        const char *key = json_string_value(json_object_get(alert, "key"));
        int64_t first = 0;
        char uid[512];

        (void)ola_fmt_time_ms(json_object_get(alert, "first_seen"), &first);
        snprintf(uid, sizeof(uid), "%s:%s:%lld", rule ? rule : "unknown", key ? key : "",
                 (long long)first);
        if (json_object_set_new(ev, "id", json_string(uid)) ||
            json_object_set_new(ev, "action", json_string(rule ? rule : "alert")) ||
            json_object_set_new(ev, "category", json_pack("[s]", "iam")) ||
            json_object_set_new(ev, "type", json_pack("[s]", "info")))
            goto fail;
        if (first > 0 && ola_fmt_iso(first, iso, sizeof(iso)) == 0 &&
            json_object_set_new(ev, "start", json_string(iso)) != 0)
            goto fail;
        if (ola_fmt_time_ms(json_object_get(alert, "last_seen"), &ms) == 0 &&
            ola_fmt_iso(ms, iso, sizeof(iso)) == 0 &&
            json_object_set_new(ev, "end", json_string(iso)) != 0)
            goto fail;
        *outcome = NULL;
    }
    if (*outcome != NULL && json_object_set_new(ev, "outcome", json_string(*outcome)))
        goto fail;
    if (sev >= 0 && json_object_set_new(ev, "severity", json_integer(sev)) != 0)
        goto fail;
    return ev;
fail:
    json_decref(ev);
    return NULL;
}

/* {id, name} of the given OneLogin fields, or an empty object. */
static json_t *ola_ecs_user(const json_t *ev, const char *id, const char *name)
{
    json_t *u = json_object();

    if (u == NULL || ola_ecs_str(u, "id", ev, id) != 0 ||
        ola_ecs_str(u, "name", ev, name) != 0) {
        json_decref(u);
        return NULL;
    }
    return u;
}

/* user.*: the actor when it differs from the subject (then user.target), else the user.
 */
static int ola_ecs_users(const struct ola_event *e, json_t *j, json_t *related_user)
{
    const json_t *ev = e->ev;
    struct ola_fmt_val a, s, v;
    bool actor = ola_fmt_get(ev, "actor_user_id", &a) != NULL ||
                 ola_fmt_get(ev, "actor_user_name", &a) != NULL;
    bool subject = ola_fmt_get(ev, "user_id", &s) != NULL ||
                   ola_fmt_get(ev, "user_name", &s) != NULL;
    bool same = false;
    const json_t *enriched = e->ola != NULL ? json_object_get(e->ola, "user") : NULL;
    json_t *user, *target = NULL;
    static const char *const names[] = {"user_name", "actor_user_name", "user_id",
                                        "actor_user_id", NULL};
    size_t i;

    if (actor && subject) {
        struct ola_fmt_val x, y;

        same = ola_fmt_get(ev, "actor_user_id", &x) != NULL &&
               ola_fmt_get(ev, "user_id", &y) != NULL && x.len == y.len &&
               memcmp(x.s, y.s, x.len) == 0;
    }
    if (actor && subject && !same) {
        user = ola_ecs_user(ev, "actor_user_id", "actor_user_name");
        target = ola_ecs_user(ev, "user_id", "user_name");
        if (target == NULL ||
            (ola_fmt_get(enriched, "email", &v) != NULL &&
             json_object_set_new(target, "email", json_stringn(v.s, v.len)) != 0)) {
            json_decref(user);
            json_decref(target);
            return -1;
        }
    } else {
        user = subject ? ola_ecs_user(ev, "user_id", "user_name")
                       : ola_ecs_user(ev, "actor_user_id", "actor_user_name");
        if (user != NULL && subject && ola_fmt_get(enriched, "email", &v) != NULL &&
            json_object_set_new(user, "email", json_stringn(v.s, v.len)) != 0) {
            json_decref(user);
            return -1;
        }
    }
    if (user == NULL || (target != NULL && json_object_set_new(user, "target", target))) {
        json_decref(user);
        return -1;
    }
    for (i = 0; names[i] != NULL; i++)
        if (ola_fmt_get(ev, names[i], &v) != NULL &&
            ola_ecs_add_unique(related_user, v.s, v.len) != 0) {
            json_decref(user);
            return -1;
        }
    return ola_ecs_set_nonempty(j, "user", user);
}

/* source.ip and related.ip: ipaddr and proxy_ip, when they are addresses. */
static int ola_ecs_ips(const json_t *ev, json_t *j, json_t *related_ip)
{
    struct ola_fmt_val v;

    if (ola_fmt_get(ev, "ipaddr", &v) != NULL && ola_fmt_is_ip(v.s, v.len)) {
        if (json_object_set_new(j, "source", json_pack("{s:s%}", "ip", v.s, v.len)) !=
                0 ||
            ola_ecs_add_unique(related_ip, v.s, v.len) != 0)
            return -1;
    }
    if (ola_fmt_get(ev, "proxy_ip", &v) != NULL && ola_fmt_is_ip(v.s, v.len) &&
        ola_ecs_add_unique(related_ip, v.s, v.len) != 0)
        return -1;
    return 0;
}

/* onelogin.*: every non-null OneLogin field without an ECS home. */
static json_t *ola_ecs_rest(const json_t *ev)
{
    json_t *r = json_object(), *v;
    const char *k;

    if (r == NULL)
        return NULL;
    json_object_foreach((json_t *)(uintptr_t)ev, k, v)
    {
        if (json_is_null(v) || ola_ecs_is_mapped(k))
            continue;
        if (json_object_set(r, k, v) != 0) {
            json_decref(r);
            return NULL;
        }
    }
    return r;
}

static json_t *ola_ecs_doc(const struct ola_event *e, const struct ola_format_opts *o)
{
    const json_t *alert = ola_fmt_alert(e);
    json_t *j = json_object(), *related = json_pack("{s:[],s:[]}", "user", "ip");
    json_t *org = json_object(), *labels = json_object(), *obs;
    const char *outcome = NULL;
    struct ola_fmt_val v, tenant;
    char iso[32];

    if (j == NULL || related == NULL || org == NULL || labels == NULL ||
        ola_fmt_iso(ola_fmt_record_ms(e), iso, sizeof(iso)) != 0)
        goto fail;
    obs = json_pack("{s:s,s:s,s:s}", "vendor", o->vendor, "product", o->product, "type",
                    "iam");
    if (obs != NULL && o->hostname != NULL &&
        json_object_set_new(obs, "hostname", json_string(o->hostname)) != 0) {
        json_decref(obs);
        goto fail;
    }
    /* each set_new takes its value, also when it fails */
    if (json_object_set_new(j, "@timestamp", json_string(iso)) != 0 ||
        json_object_set_new(j, "ecs", json_pack("{s:s}", "version", OLA_ECS_VERSION)) !=
            0 ||
        json_object_set_new(j, "event", ola_ecs_event(e, alert, &outcome)) != 0 ||
        json_object_set_new(j, "observer", obs) != 0)
        goto fail;
    if (alert != NULL) {
        const char *rule = json_string_value(json_object_get(alert, "rule"));

        if (rule != NULL &&
            json_object_set_new(j, "rule",
                                json_pack("{s:s,s:s}", "id", rule, "name", rule)) != 0)
            goto fail;
    } else if (json_is_object(e->ev)) {
        if (ola_ecs_str(j, "message", e->ev, "notes") != 0 ||
            ola_ecs_users(e, j, json_object_get(related, "user")) != 0 ||
            ola_ecs_ips(e->ev, j, json_object_get(related, "ip")) != 0 ||
            ola_ecs_str(org, "id", e->ev, "account_id") != 0 ||
            (ola_fmt_get(e->ev, "user_agent", &v) != NULL &&
             json_object_set_new(j, "user_agent",
                                 json_pack("{s:s%}", "original", v.s, v.len)) != 0) ||
            ola_ecs_set_nonempty(j, "onelogin", ola_ecs_rest(e->ev)) != 0)
            goto fail;
    }
    if (e->ola != NULL && ola_fmt_get(e->ola, "tenant", &tenant) != NULL &&
        (json_object_set_new(org, "name", json_stringn(tenant.s, tenant.len)) != 0 ||
         json_object_set_new(labels, "tenant", json_stringn(tenant.s, tenant.len)) != 0))
        goto fail;
    if (ola_ecs_set_nonempty(j, "organization", org) != 0) {
        org = NULL;
        goto fail;
    }
    org = NULL;
    if (ola_ecs_set_nonempty(j, "labels", labels) != 0) {
        labels = NULL;
        goto fail;
    }
    labels = NULL;
    if (json_array_size(json_object_get(related, "user")) == 0)
        json_object_del(related, "user");
    if (json_array_size(json_object_get(related, "ip")) == 0)
        json_object_del(related, "ip");
    if (ola_ecs_set_nonempty(j, "related", related) != 0) {
        related = NULL;
        goto fail;
    }
    related = NULL;
    if (ola_fmt_tags(e) != NULL &&
        json_object_set_new(j, "tags", json_deep_copy(ola_fmt_tags(e))) != 0)
        goto fail;
    if (e->ola != NULL && json_object_size(e->ola) > 0 &&
        json_object_set_new(j, "olagent", json_deep_copy(e->ola)) != 0)
        goto fail;
    return j;
fail:
    json_decref(related);
    json_decref(org);
    json_decref(labels);
    json_decref(j);
    return NULL;
}

static int ola_ecs_dump_cb(const char *p, size_t n, void *arg)
{
    return ola_buf_append(arg, p, n);
}

static int ola_format_ecs_fn(const struct ola_event *e, const struct ola_format_opts *o,
                             struct ola_buf *out)
{
    size_t mark = out->len;
    json_t *j;
    int rc;

    if (e->kind == OLA_REC_EVENT && !json_is_object(e->ev))
        return OLA_FORMAT_UNUSABLE;
    j = ola_ecs_doc(e, o);
    if (j == NULL)
        return -1;
    rc = json_dump_callback(j, ola_ecs_dump_cb, out,
                            JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (rc != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

const struct ola_format_ops ola_format_ecs = {
    .name = "ecs",
    .format = ola_format_ecs_fn,
};
