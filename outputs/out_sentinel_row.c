/*
 * out_sentinel_row.c - the rows the sentinel output sends, and their columns.
 *
 * A Log Analytics table has typed columns, declared once in the data
 * collection rule's stream (docs/sentinel-dcr.json, which the unit test holds
 * to ola_az_columns). A row is built from the record as the json format
 * renders it: TimeGenerated first (the event's created_at as ISO-8601 UTC with
 * ms; an alert's last_seen, else the time it was built), then each OneLogin
 * field that is a column, in the table's order, when its value has the
 * column's JSON type; null values are left out (the column reads empty).
 * "olagent" (the enrichment, the rules' verdicts, the tenant) goes whole into
 * a dynamic column. Every other field, and a field whose value does not have
 * its column's type (OneLogin adding a field, or changing one's type), goes
 * into the dynamic "extra_fields" column under its own name, so the DCR never
 * drops a value silently.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/core/arena.h"
#include "agent/core/timeutil.h"
#include "outputs/out_sentinel.h"

const struct ola_az_col ola_az_columns[] = {
    {"TimeGenerated", "datetime"},
    {"id", "long"},
    {"created_at", "datetime"},
    {"account_id", "long"},
    {"event_type_id", "int"},
    {"user_id", "long"},
    {"user_name", "string"},
    {"actor_user_id", "long"},
    {"actor_user_name", "string"},
    {"assuming_acting_user_id", "long"},
    {"actor_system", "string"},
    {"ipaddr", "string"},
    {"notes", "string"},
    {"custom_message", "string"},
    {"role_id", "long"},
    {"role_name", "string"},
    {"app_id", "long"},
    {"app_name", "string"},
    {"group_id", "long"},
    {"group_name", "string"},
    {"otp_device_id", "long"},
    {"otp_device_name", "string"},
    {"policy_id", "long"},
    {"policy_name", "string"},
    {"operation_name", "string"},
    {"directory_sync_run_id", "long"},
    {"directory_id", "long"},
    {"resolution", "string"},
    {"client_id", "string"},
    {"resource_type_id", "long"},
    {"error_description", "string"},
    {"proxy_ip", "string"},
    {"risk_score", "int"},
    {"risk_reasons", "string"},
    {"risk_cookie_id", "string"},
    {"browser_fingerprint", "string"},
    {"olagent", "dynamic"},
    {"extra_fields", "dynamic"},
    {NULL, NULL},
};

/* The column called name (not TimeGenerated, olagent, extra_fields), or NULL. */
static const struct ola_az_col *ola_az_col_find(const char *name)
{
    const struct ola_az_col *c;

    for (c = &ola_az_columns[1]; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0 && strcmp(c->type, "dynamic") != 0)
            return c;
    return NULL;
}

/* True when v may go into a column of type t. */
static bool ola_az_fits(const char *t, const json_t *v)
{
    if (strcmp(t, "long") == 0)
        return json_is_integer(v);
    if (strcmp(t, "int") == 0)
        return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
               json_integer_value(v) <= INT32_MAX;
    if (strcmp(t, "datetime") == 0) {
        int64_t ms;

        return json_is_string(v) && ola_time_parse_iso(json_string_value(v), &ms) == 0;
    }
    return json_is_string(v); /* string */
}

/* TimeGenerated of e: created_at, an alert's last_seen, or now. */
static void ola_az_time(const struct ola_event *e, const json_t *rec, char *buf, size_t n)
{
    const json_t *alert = json_object_get(json_object_get(rec, "olagent"), "alert");
    const char *seen = json_string_value(json_object_get(alert, "last_seen"));
    int64_t ms = e->created_ms;

    if (ms <= 0 && (seen == NULL || ola_time_parse_iso(seen, &ms) != 0))
        ms = ola_now_ms();
    if (ola_time_format_iso(ms, buf, n) != 0)
        snprintf(buf, n, "1970-01-01T00:00:00.000Z");
}

int ola_az_row(const struct ola_event *e, const char *formatted, size_t len,
               struct ola_buf *out)
{
    json_t *rec = json_loadb(formatted, len, JSON_DISABLE_EOF_CHECK, NULL);
    json_t *row = NULL, *extra = NULL;
    const struct ola_az_col *c;
    const char *k;
    json_t *v;
    char when[40];
    char *text = NULL;
    int rc = -1;

    if (!json_is_object(rec)) {
        rc = 1; /* not one JSON object: the format is not json */
        goto fail;
    }
    row = json_object();
    extra = json_object();
    if (row == NULL || extra == NULL)
        goto fail;
    ola_az_time(e, rec, when, sizeof(when));
    if (json_object_set_new(row, "TimeGenerated", json_string(when)) != 0)
        goto fail;
    /* the columns in the table's order, then the rest into extra_fields */
    for (c = &ola_az_columns[1]; c->name != NULL; c++) {
        v = json_object_get(rec, c->name);
        if (v == NULL || json_is_null(v) || strcmp(c->type, "dynamic") == 0)
            continue;
        if (ola_az_fits(c->type, v) && json_object_set(row, c->name, v) != 0)
            goto fail;
    }
    json_object_foreach(rec, k, v)
    {
        c = ola_az_col_find(k);
        if (strcmp(k, "olagent") == 0) {
            if (json_object_set(row, "olagent", v) != 0)
                goto fail;
        } else if (json_is_null(v) && c != NULL) {
            continue;
        } else if ((c == NULL || !ola_az_fits(c->type, v)) &&
                   json_object_set(extra, k, v) != 0) {
            goto fail;
        }
    }
    if (json_object_size(extra) > 0 && json_object_set(row, "extra_fields", extra) != 0)
        goto fail;
    text = ola_json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL || ola_buf_puts(out, text) != 0)
        goto fail;
    rc = 0;
fail:
    free(text);
    json_decref(extra);
    json_decref(row);
    json_decref(rec);
    return rc;
}
