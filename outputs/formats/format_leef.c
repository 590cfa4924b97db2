/*
 * format_leef.c - IBM QRadar Log Event Extended Format, LEEF 2.0.
 *
 * LEEF:2.0|Vendor|Product|Version|EventID|DelimiterChar|key=value<delim>...
 * The delimiter is configurable (format_options.leef_delimiter, default tab)
 * and is written in the header as a character or, when not printable, as a
 * hex code ("x09"). Header fields escape '\' and '|'; attribute values escape
 * '\' and the delimiter with a backslash and write line breaks as \n, \r.
 * Predefined keys (devTime, cat, sev, usrName, src) come first, then the
 * OneLogin fields under camelCase names (table in docs/formats.md).
 */
#include <string.h>

#include "outputs/formats/fmt_util.h"
#include "outputs/formats/format.h"

/* OneLogin field -> LEEF attribute, in output order, after the predefined keys. */
static const char *const ola_leef_fields[][2] = {
    {"id", "eventId"},
    {"event_type_id", "eventTypeId"},
    {"account_id", "accountId"},
    {"actor_user_name", "actorUserName"},
    {"actor_user_id", "actorUserId"},
    {"assuming_acting_user_id", "assumingActingUserId"},
    {"actor_system", "actorSystem"},
    {"user_id", "userId"},
    {"app_name", "appName"},
    {"app_id", "appId"},
    {"role_name", "roleName"},
    {"role_id", "roleId"},
    {"group_name", "groupName"},
    {"group_id", "groupId"},
    {"policy_name", "policyName"},
    {"policy_id", "policyId"},
    {"otp_device_name", "otpDeviceName"},
    {"otp_device_id", "otpDeviceId"},
    {"directory_id", "directoryId"},
    {"operation_name", "operationName"},
    {"client_id", "clientId"},
    {"proxy_ip", "proxyIp"},
    {"risk_score", "riskScore"},
    {"risk_reasons", "riskReasons"},
    {"error_description", "errorDescription"},
    {"custom_message", "customMessage"},
    {"notes", "notes"},
};

static int ola_leef_header(struct ola_buf *out, const char *s, size_t n)
{
    size_t i;

    if (ola_buf_reserve(out, n + 8) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '\r' || c == '\n')
            c = ' ';
        else if ((c == '\\' || c == '|') && ola_buf_putc(out, '\\') != 0)
            return -1;
        if (ola_buf_putc(out, c) != 0)
            return -1;
    }
    return ola_buf_putc(out, '|');
}

static int ola_leef_value(struct ola_buf *out, char delim, const char *s, size_t n)
{
    size_t i, run = 0;

    if (ola_buf_reserve(out, n + 8) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        char c = s[i];
        char esc[3] = {'\\', c, '\0'};

        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c != '\\' && c != delim)
            continue;
        if (ola_buf_append(out, s + run, i - run) != 0 ||
            ola_buf_append(out, esc, 2) != 0)
            return -1;
        run = i + 1;
    }
    return ola_buf_append(out, s + run, n - run);
}

struct ola_leef {
    struct ola_buf *out;
    size_t start; /* where attributes begin */
    char delim;
};

static int ola_leef_kv(struct ola_leef *l, const char *key, const char *s, size_t n)
{
    if (s == NULL)
        return 0;
    if (l->out->len > l->start && ola_buf_putc(l->out, l->delim) != 0)
        return -1;
    if (ola_buf_puts(l->out, key) != 0 || ola_buf_putc(l->out, '=') != 0)
        return -1;
    return ola_leef_value(l->out, l->delim, s, n);
}

static int ola_leef_kvs(struct ola_leef *l, const char *key, const char *s)
{
    return ola_leef_kv(l, key, s, s != NULL ? strlen(s) : 0);
}

static int ola_leef_joined(struct ola_leef *l, const char *key, const json_t *arr)
{
    struct ola_buf tmp = OLA_BUF_INIT;
    int rc = -1;

    if (json_array_size(arr) == 0)
        return 0;
    if (ola_fmt_join(arr, ",", &tmp) == 0 &&
        (tmp.len == 0 || ola_leef_kv(l, key, tmp.data, tmp.len) == 0))
        rc = 0;
    ola_buf_free(&tmp);
    return rc;
}

static int ola_leef_common(struct ola_leef *l, const struct ola_event *e)
{
    int64_t ms = ola_fmt_record_ms(e);
    int sev = ola_fmt_severity(e);
    char ts[40], num[16];

    if (ms != 0 && ola_fmt_iso(ms, ts, sizeof(ts)) == 0 &&
        (ola_leef_kvs(l, "devTime", ts) != 0 ||
         ola_leef_kvs(l, "devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX") != 0))
        return -1;
    if (sev >= 0) {
        /* LEEF's sev is 1..10: level 0 (info) is written as 1 */
        snprintf(num, sizeof(num), "%d", sev < 1 ? 1 : sev);
        if (ola_leef_kvs(l, "sev", num) != 0)
            return -1;
    }
    return 0;
}

static int ola_leef_event(struct ola_leef *l, const struct ola_event *e)
{
    const json_t *ev = e->ev;
    struct ola_fmt_val v;
    size_t i;

    if (ola_leef_joined(l, "cat", ola_fmt_categories(e)) != 0 ||
        ola_leef_common(l, e) != 0)
        return -1;
    ola_fmt_get(ev, "user_name", &v);
    if (ola_leef_kv(l, "usrName", v.s, v.len) != 0)
        return -1;
    ola_fmt_get(ev, "ipaddr", &v);
    if (ola_leef_kv(l, ola_fmt_is_ip(v.s, v.len) ? "src" : "ipaddr", v.s, v.len) != 0)
        return -1;
    if (ola_leef_kvs(l, "eventTypeName", ola_fmt_type_name(e)) != 0 ||
        ola_leef_kvs(l, "outcome", ola_fmt_outcome(e)) != 0)
        return -1;
    for (i = 0; i < sizeof(ola_leef_fields) / sizeof(ola_leef_fields[0]); i++) {
        ola_fmt_get(ev, ola_leef_fields[i][0], &v);
        if (ola_leef_kv(l, ola_leef_fields[i][1], v.s, v.len) != 0)
            return -1;
    }
    return ola_leef_joined(l, "tags", ola_fmt_tags(e));
}

static int ola_leef_alert(struct ola_leef *l, const struct ola_event *e, const json_t *a)
{
    static const char *const keys[][2] = {
        {"rule", "alertRule"},          {"key", "alertKey"},
        {"key_field", "alertKeyField"}, {"count", "alertCount"},
        {"window", "alertWindow"},      {"first_seen", "firstSeen"},
        {"last_seen", "lastSeen"},      {"distinct_field", "alertDistinctField"},
    };
    const char *field = json_string_value(json_object_get(a, "key_field"));
    struct ola_fmt_val v;
    size_t i;

    if (ola_leef_kvs(l, "cat", "alert") != 0 || ola_leef_common(l, e) != 0)
        return -1;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ola_fmt_get(a, keys[i][0], &v);
        if (ola_leef_kv(l, keys[i][1], v.s, v.len) != 0)
            return -1;
    }
    if (ola_leef_joined(l, "alertValues", json_object_get(a, "values")) != 0 ||
        ola_leef_joined(l, "eventIds", json_object_get(a, "event_ids")) != 0)
        return -1;
    /* the key in the predefined attribute it names, for correlation */
    ola_fmt_get(a, "key", &v);
    if (field != NULL && v.s != NULL &&
        ((strcmp(field, "ipaddr") == 0 && ola_fmt_is_ip(v.s, v.len) &&
          ola_leef_kv(l, "src", v.s, v.len) != 0) ||
         (strcmp(field, "user_name") == 0 && ola_leef_kv(l, "usrName", v.s, v.len) != 0)))
        return -1;
    return ola_leef_joined(l, "tags", ola_fmt_tags(e));
}

static int ola_format_leef_fn(const struct ola_event *e, const struct ola_format_opts *o,
                              struct ola_buf *out)
{
    const json_t *alert = ola_fmt_alert(e), *tenant;
    /* the settings refuse an unusable delimiter; a caller that sets one gets tab */
    struct ola_leef l = {out, 0,
                         ola_format_leef_delim_ok(o->leef_delim) ? o->leef_delim : '\t'};
    size_t mark = out->len;
    char id[96], dspec[8];
    const char *tn = ola_fmt_type_name(e);
    long long tid = ola_fmt_type_id(e);
    unsigned char dc = (unsigned char)l.delim;

    if (alert != NULL) {
        const char *rule = json_string_value(json_object_get(alert, "rule"));

        snprintf(id, sizeof(id), "alert:%s", rule ? rule : "unknown");
    } else if (e->ev != NULL && json_is_object(e->ev)) {
        if (tn != NULL)
            snprintf(id, sizeof(id), "%s", tn);
        else if (tid >= 0)
            snprintf(id, sizeof(id), "%lld", tid);
        else
            snprintf(id, sizeof(id), "unknown");
    } else
        return OLA_FORMAT_UNUSABLE;
    id[ola_utf8_cut(id, strlen(id), sizeof(id) - 1)] = '\0';
    if (dc > 0x20 && dc < 0x7f && dc != '|' && dc != '\\')
        snprintf(dspec, sizeof(dspec), "%c", dc);
    else
        snprintf(dspec, sizeof(dspec), "x%02X", dc);
    if (ola_buf_puts(out, "LEEF:2.0|") != 0 ||
        ola_leef_header(out, o->vendor, strlen(o->vendor)) != 0 ||
        ola_leef_header(out, o->product, strlen(o->product)) != 0 ||
        ola_leef_header(out, o->product_version, strlen(o->product_version)) != 0 ||
        ola_leef_header(out, id, strlen(id)) != 0 || ola_buf_puts(out, dspec) != 0 ||
        ola_buf_putc(out, '|') != 0)
        goto fail;
    l.start = out->len;
    if ((alert != NULL ? ola_leef_alert(&l, e, alert) : ola_leef_event(&l, e)) != 0)
        goto fail;
    if (o->hostname != NULL && ola_leef_kvs(&l, "devHostName", o->hostname) != 0)
        goto fail;
    /* the tenant: a custom attribute (LEEF has no predefined one) */
    tenant = e->ola != NULL ? json_object_get(e->ola, "tenant") : NULL;
    if (json_is_string(tenant) && ola_leef_kv(&l, "tenant", json_string_value(tenant),
                                              json_string_length(tenant)) != 0)
        goto fail;
    return 0;
fail:
    ola_buf_truncate(out, mark);
    return -1;
}

const struct ola_format_ops ola_format_leef = {
    .name = "leef",
    .format = ola_format_leef_fn,
};
