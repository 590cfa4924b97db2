/*
 * format_cef.c - ArcSight Common Event Format (CEF:0), one record per line.
 *
 * CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension
 * Header fields escape '\' and '|' and turn line breaks into spaces;
 * extension values escape '\' and '=' and write line breaks as \n and \r.
 * OneLogin fields map to the standard dictionary keys (suser, duser, src,
 * act, outcome, rt, ...) and the rest to cs1..cs6 / cn1..cn3 with their
 * labels; the table is docs/formats.md. Alerts get their own mapping. The
 * tenant (olagent.tenant) is the device's external id: the OneLogin instance
 * the record came from.
 */
#include <string.h>

#include "outputs/formats/fmt_util.h"
#include "outputs/formats/format.h"

static const char *const ola_cef_default_labels[OLA_CEF_LABELS] = {
    "App",        "Role",       "Group",
    "Policy",     "OTP Device", "Tags",
    "Risk Score", "Account ID", "Assuming Admin ID",
};

/* Header field: '\' and '|' escaped, CR/LF become spaces. */
static int ola_cef_header(struct ola_buf *out, const char *s, size_t n)
{
    size_t i, run = 0;

    if (ola_buf_reserve(out, n + 8) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c != '\\' && c != '|' && c != '\r' && c != '\n')
            continue;
        if (ola_buf_append(out, s + run, i - run) != 0)
            return -1;
        run = i + 1;
        if ((c == '\r' || c == '\n') ? ola_buf_putc(out, ' ')
                                     : (ola_buf_putc(out, '\\') || ola_buf_putc(out, c)))
            return -1;
    }
    if (ola_buf_append(out, s + run, n - run) != 0)
        return -1;
    return ola_buf_putc(out, '|');
}

/* Extension value: '\' and '=' escaped, CR/LF written as \r and \n. */
static int ola_cef_value(struct ola_buf *out, const char *s, size_t n)
{
    size_t i, run = 0;

    if (ola_buf_reserve(out, n + 8) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        const char *esc;

        switch (s[i]) {
        case '\\':
            esc = "\\\\";
            break;
        case '=':
            esc = "\\=";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            continue;
        }
        if (ola_buf_append(out, s + run, i - run) != 0 || ola_buf_puts(out, esc) != 0)
            return -1;
        run = i + 1;
    }
    return ola_buf_append(out, s + run, n - run);
}

/* Appends " key=value" (no leading space for the first pair); skips NULL values. */
static int ola_cef_kv(struct ola_buf *out, size_t ext_start, const char *key,
                      const char *s, size_t n)
{
    if (s == NULL)
        return 0;
    if (out->len > ext_start && ola_buf_putc(out, ' ') != 0)
        return -1;
    if (ola_buf_puts(out, key) != 0 || ola_buf_putc(out, '=') != 0)
        return -1;
    return ola_cef_value(out, s, n);
}

static int ola_cef_kvs(struct ola_buf *out, size_t ext_start, const char *key,
                       const char *s)
{
    return ola_cef_kv(out, ext_start, key, s, s != NULL ? strlen(s) : 0);
}

/* A custom field and its label: cs1=..., cs1Label=... */
static int ola_cef_custom(struct ola_buf *out, size_t ext_start,
                          const struct ola_format_opts *o, int slot, const char *key,
                          const char *s, size_t n)
{
    char label_key[16];
    const char *label =
        o->cef_label[slot] != NULL ? o->cef_label[slot] : ola_cef_default_labels[slot];
    int w;

    if (s == NULL)
        return 0;
    w = snprintf(label_key, sizeof(label_key), "%sLabel", key);
    if (w < 0 || (size_t)w >= sizeof(label_key))
        return -1;
    if (ola_cef_kv(out, ext_start, key, s, n) != 0)
        return -1;
    return ola_cef_kvs(out, ext_start, label_key, label);
}

static int ola_cef_field(struct ola_buf *out, size_t ext_start, const char *key,
                         const json_t *ev, const char *field)
{
    struct ola_fmt_val v;

    if (ola_fmt_get(ev, field, &v) == NULL)
        return 0;
    return ola_cef_kv(out, ext_start, key, v.s, v.len);
}

static int ola_cef_custom_field(struct ola_buf *out, size_t ext_start,
                                const struct ola_format_opts *o, int slot,
                                const char *key, const json_t *ev, const char *field)
{
    struct ola_fmt_val v;

    if (ola_fmt_get(ev, field, &v) == NULL)
        return 0;
    return ola_cef_custom(out, ext_start, o, slot, key, v.s, v.len);
}

static int ola_cef_joined(struct ola_buf *out, size_t ext_start, const char *key,
                          const json_t *arr, const char *label_key, const char *label)
{
    struct ola_buf tmp = OLA_BUF_INIT;
    int rc = -1;

    if (json_array_size(arr) == 0)
        return 0;
    if (ola_fmt_join(arr, ",", &tmp) != 0)
        goto fail;
    if (tmp.len > 0 &&
        (ola_cef_kv(out, ext_start, key, tmp.data, tmp.len) != 0 ||
         (label_key != NULL && ola_cef_kvs(out, ext_start, label_key, label) != 0)))
        goto fail;
    rc = 0;
fail:
    ola_buf_free(&tmp);
    return rc;
}

/* The tenant (olagent.tenant) as deviceExternalId, then dvchost: the device fields. */
static int ola_cef_device(const struct ola_event *e, const struct ola_format_opts *o,
                          struct ola_buf *out, size_t x)
{
    const json_t *t = e->ola != NULL ? json_object_get(e->ola, "tenant") : NULL;

    if (json_is_string(t) && ola_cef_kv(out, x, "deviceExternalId", json_string_value(t),
                                        json_string_length(t)) != 0)
        return -1;
    return ola_cef_kvs(out, x, "dvchost", o->hostname);
}

static int ola_cef_event_ext(const struct ola_event *e, const struct ola_format_opts *o,
                             struct ola_buf *out, size_t x)
{
    const json_t *ev = e->ev;
    struct ola_fmt_val ip;
    int64_t ms = ola_fmt_record_ms(e);
    char num[32];
    const char *tags_label =
        o->cef_label[5] ? o->cef_label[5] : ola_cef_default_labels[5];

    if (ms != 0) {
        snprintf(num, sizeof(num), "%lld", (long long)ms);
        if (ola_cef_kvs(out, x, "rt", num) != 0)
            return -1;
    }
    ola_fmt_get(ev, "ipaddr", &ip);
    if (ola_cef_field(out, x, "externalId", ev, "id") != 0 ||
        ola_cef_joined(out, x, "cat", ola_fmt_categories(e), NULL, NULL) != 0 ||
        ola_cef_kvs(out, x, "act", ola_fmt_type_name(e)) != 0 ||
        ola_cef_kvs(out, x, "outcome", ola_fmt_outcome(e)) != 0 ||
        ola_cef_field(out, x, "suser", ev, "actor_user_name") != 0 ||
        ola_cef_field(out, x, "suid", ev, "actor_user_id") != 0 ||
        ola_cef_field(out, x, "duser", ev, "user_name") != 0 ||
        ola_cef_field(out, x, "duid", ev, "user_id") != 0)
        return -1;
    if (ip.s != NULL && ola_fmt_is_ip(ip.s, ip.len)
            ? ola_cef_kv(out, x, "src", ip.s, ip.len) != 0
            : (ola_cef_kv(out, x, "flexString1", ip.s, ip.len) != 0 ||
               (ip.s != NULL && ola_cef_kvs(out, x, "flexString1Label", "ipaddr") != 0)))
        return -1;
    if (ola_cef_field(out, x, "msg", ev, "notes") != 0 ||
        ola_cef_field(out, x, "reason", ev, "error_description") != 0 ||
        ola_cef_field(out, x, "requestClientApplication", ev, "client_id") != 0 ||
        ola_cef_custom_field(out, x, o, 0, "cs1", ev, "app_name") != 0 ||
        ola_cef_custom_field(out, x, o, 1, "cs2", ev, "role_name") != 0 ||
        ola_cef_custom_field(out, x, o, 2, "cs3", ev, "group_name") != 0 ||
        ola_cef_custom_field(out, x, o, 3, "cs4", ev, "policy_name") != 0 ||
        ola_cef_custom_field(out, x, o, 4, "cs5", ev, "otp_device_name") != 0 ||
        ola_cef_joined(out, x, "cs6", ola_fmt_tags(e), "cs6Label", tags_label) != 0 ||
        ola_cef_custom_field(out, x, o, 6, "cn1", ev, "risk_score") != 0 ||
        ola_cef_custom_field(out, x, o, 7, "cn2", ev, "account_id") != 0 ||
        ola_cef_custom_field(out, x, o, 8, "cn3", ev, "assuming_acting_user_id") != 0 ||
        ola_cef_field(out, x, "flexString2", ev, "risk_reasons") != 0)
        return -1;
    if (json_is_string(json_object_get(ev, "risk_reasons")) &&
        json_string_length(json_object_get(ev, "risk_reasons")) > 0 &&
        ola_cef_kvs(out, x, "flexString2Label", "Risk Reasons") != 0)
        return -1;
    return ola_cef_device(e, o, out, x);
}

/* The alert's key in the standard field it names (src, duser, duid), for correlation. */
static int ola_cef_alert_key(struct ola_buf *out, size_t x, const json_t *a)
{
    static const char *const map[][2] = {
        {"ipaddr", "src"},
        {"user_name", "duser"},
        {"user_id", "duid"},
    };
    const char *field = json_string_value(json_object_get(a, "key_field"));
    struct ola_fmt_val key;
    size_t i;

    if (field == NULL || ola_fmt_get(a, "key", &key) == NULL)
        return 0;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(field, map[i][0]) != 0)
            continue;
        if (i == 0 && !ola_fmt_is_ip(key.s, key.len))
            return 0;
        return ola_cef_kv(out, x, map[i][1], key.s, key.len);
    }
    return 0;
}

static int ola_cef_alert_ext(const struct ola_event *e, const struct ola_format_opts *o,
                             const json_t *a, struct ola_buf *out, size_t x)
{
    struct ola_fmt_val v;
    int64_t ms;
    char num[32];

    ms = ola_fmt_record_ms(e);
    if (ms != 0) {
        snprintf(num, sizeof(num), "%lld", (long long)ms);
        if (ola_cef_kvs(out, x, "rt", num) != 0)
            return -1;
    }
    if (ola_cef_kvs(out, x, "cat", "alert") != 0 ||
        ola_cef_field(out, x, "act", a, "rule") != 0 ||
        ola_cef_field(out, x, "cnt", a, "count") != 0)
        return -1;
    if (ola_fmt_time_ms(json_object_get(a, "first_seen"), &ms) == 0) {
        snprintf(num, sizeof(num), "%lld", (long long)ms);
        if (ola_cef_kvs(out, x, "start", num) != 0)
            return -1;
    }
    if (ola_fmt_time_ms(json_object_get(a, "last_seen"), &ms) == 0) {
        snprintf(num, sizeof(num), "%lld", (long long)ms);
        if (ola_cef_kvs(out, x, "end", num) != 0)
            return -1;
    }
    if (ola_fmt_get(a, "key", &v) != NULL &&
        (ola_cef_kv(out, x, "cs1", v.s, v.len) != 0 ||
         ola_cef_kvs(out, x, "cs1Label", "Alert Key") != 0))
        return -1;
    if (ola_fmt_get(a, "window", &v) != NULL &&
        (ola_cef_kv(out, x, "cs2", v.s, v.len) != 0 ||
         ola_cef_kvs(out, x, "cs2Label", "Window") != 0))
        return -1;
    if (ola_cef_joined(out, x, "cs3", json_object_get(a, "event_ids"), "cs3Label",
                       "Event IDs") != 0 ||
        ola_cef_joined(out, x, "cs4", json_object_get(a, "values"), "cs4Label",
                       "Distinct Values") != 0)
        return -1;
    if (ola_fmt_get(a, "key_field", &v) != NULL &&
        (ola_cef_kv(out, x, "cs5", v.s, v.len) != 0 ||
         ola_cef_kvs(out, x, "cs5Label", "Key Field") != 0))
        return -1;
    if (ola_cef_joined(out, x, "cs6", ola_fmt_tags(e), "cs6Label", "Tags") != 0 ||
        ola_cef_alert_key(out, x, a) != 0)
        return -1;
    return ola_cef_device(e, o, out, x);
}

static int ola_format_cef_fn(const struct ola_event *e, const struct ola_format_opts *o,
                             struct ola_buf *out)
{
    const json_t *alert = ola_fmt_alert(e);
    size_t mark = out->len, ext;
    char sig[96], name[160], sev[16];
    const char *tn = ola_fmt_type_name(e);
    long long tid = ola_fmt_type_id(e);
    int s = ola_fmt_severity(e), w1, w2;

    if (alert != NULL) {
        const char *rule = json_string_value(json_object_get(alert, "rule"));

        w1 = snprintf(sig, sizeof(sig), "alert:%s", rule ? rule : "unknown");
        w2 = snprintf(name, sizeof(name), "%s", rule ? rule : "alert");
    } else if (e->ev != NULL && json_is_object(e->ev)) {
        w1 = tid >= 0 ? snprintf(sig, sizeof(sig), "%lld", tid)
                      : snprintf(sig, sizeof(sig), "unknown");
        w2 = tn != NULL ? snprintf(name, sizeof(name), "%s", tn)
             : tid >= 0 ? snprintf(name, sizeof(name), "event type %lld", tid)
                        : snprintf(name, sizeof(name), "OneLogin event");
    } else
        return OLA_FORMAT_UNUSABLE;
    if (w1 < 0 || w2 < 0)
        return -1;
    /* snprintf cut long rule names: acceptable in a header field, but keep UTF-8 whole */
    sig[ola_utf8_cut(sig, strlen(sig), sizeof(sig) - 1)] = '\0';
    name[ola_utf8_cut(name, strlen(name), sizeof(name) - 1)] = '\0';
    snprintf(sev, sizeof(sev), "%d", s < 0 ? 0 : s);
    if (ola_buf_puts(out, "CEF:0|") != 0 ||
        ola_cef_header(out, o->vendor, strlen(o->vendor)) != 0 ||
        ola_cef_header(out, o->product, strlen(o->product)) != 0 ||
        ola_cef_header(out, o->product_version, strlen(o->product_version)) != 0 ||
        ola_cef_header(out, sig, strlen(sig)) != 0 ||
        ola_cef_header(out, name, strlen(name)) != 0 ||
        ola_cef_header(out, sev, strlen(sev)) != 0)
        goto fail;
    ext = out->len;
    if ((alert != NULL ? ola_cef_alert_ext(e, o, alert, out, ext)
                       : ola_cef_event_ext(e, o, out, ext)) != 0)
        goto fail;
    return 0;
fail:
    ola_buf_truncate(out, mark);
    return -1;
}

const struct ola_format_ops ola_format_cef = {
    .name = "cef",
    .format = ola_format_cef_fn,
};
