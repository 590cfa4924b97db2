/*
 * olsim events routes: GET /api/1/events (a page), /api/1/events/:id and
 * /api/1/events/types.
 *
 * The query string becomes a struct olsim_query (since/until, sort, limit clamped to
 * --page-max, type and user filters, the cursor); the tenant fills a page of positions,
 * and the answer carries the v1 pagination envelope with a base64url cursor "continue
 * after this position in this order" and a next_link repeating the original query. The
 * short and unsorted faults are applied here. Called from olsim_api_handle with
 * tn->lock held.
 */
#include "sim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char olsim_sort_codes[] = "adtu"; /* +id, -id, +created_at, -created_at */

static int olsim_sort_parse(const char *s, enum olsim_sort *out)
{
    int desc = s[0] == '-';
    const char *f = (s[0] == '+' || s[0] == '-' || s[0] == ' ') ? s + 1 : s;

    if (strcmp(f, "id") == 0)
        *out = desc ? OLSIM_SORT_ID_DESC : OLSIM_SORT_ID_ASC;
    else if (strcmp(f, "created_at") == 0)
        *out = desc ? OLSIM_SORT_TIME_DESC : OLSIM_SORT_TIME_ASC;
    else
        return -1;
    return 0;
}

static void olsim_cursor_make(enum olsim_sort sort, const struct olsim_event *e,
                              char *out, size_t outsz)
{
    char raw[80];
    int n = snprintf(raw, sizeof(raw), "%c.%lld.%lld", olsim_sort_codes[sort],
                     (long long)e->created_ms, (long long)e->id);

    if (n < 0 || (size_t)n >= sizeof(raw) ||
        olsim_b64url_encode(raw, (size_t)n, out, outsz) < 0)
        out[0] = '\0';
}

static int olsim_cursor_parse(const char *s, struct olsim_query *q)
{
    unsigned char raw[96];
    size_t n = 0;
    char *dot;
    char *dot2;
    long long ms;
    long long id;

    if (olsim_b64_decode(s, strlen(s), raw, sizeof(raw) - 1, &n) < 0 || n < 5)
        return -1;
    raw[n] = '\0';
    if ((char)raw[0] != olsim_sort_codes[q->sort] || raw[1] != '.')
        return -1;
    dot = strchr((char *)raw + 2, '.');
    if (!dot)
        return -1;
    *dot = '\0';
    dot2 = dot + 1;
    if (olsim_parse_ll((char *)raw + 2, INT64_MIN / 2, INT64_MAX / 2, &ms) < 0 ||
        olsim_parse_ll(dot2, 0, INT64_MAX / 2, &id) < 0)
        return -1;
    q->has_cursor = 1;
    q->cur_ms = ms;
    q->cur_id = id;
    return 0;
}

static int olsim_types_parse(const char *s, struct olsim_query *q)
{
    char tmp[512];
    char *p = tmp;
    char *comma;
    long long v;
    int n = snprintf(tmp, sizeof(tmp), "%s", s);

    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -1;
    while (*p) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (olsim_parse_ll(p, 0, 65535, &v) < 0 ||
            q->ntypes >= sizeof(q->types) / sizeof(q->types[0]))
            return -1;
        q->types[q->ntypes++] = (uint16_t)v;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* Parses the events query. Returns NULL or an error message for a 400. */
static const char *olsim_events_query(const struct olsim_ten *tn, const char *query,
                                      struct olsim_query *q)
{
    char v[512];
    long long n;

    memset(q, 0, sizeof(*q));
    q->since_ms = INT64_MIN;
    q->until_ms = INT64_MAX;
    q->sort = OLSIM_SORT_ID_ASC;
    q->limit = 50;
    if (olsim_query_get(query, "sort", v, sizeof(v)) != 0 &&
        olsim_sort_parse(v, &q->sort) < 0)
        return "sort is invalid";
    if (olsim_query_get(query, "since", v, sizeof(v)) != 0 &&
        olsim_parse_iso(v, &q->since_ms) < 0)
        return "since is not a valid ISO-8601 time";
    if (olsim_query_get(query, "until", v, sizeof(v)) != 0 &&
        olsim_parse_iso(v, &q->until_ms) < 0)
        return "until is not a valid ISO-8601 time";
    if (olsim_query_get(query, "limit", v, sizeof(v)) != 0) {
        if (olsim_parse_ll(v, 1, 1000000, &n) < 0)
            return "limit is invalid";
        q->limit = (size_t)n;
    }
    if (q->limit > tn->srv->cfg.page_max)
        q->limit = tn->srv->cfg.page_max;
    if (olsim_query_get(query, "user_id", v, sizeof(v)) != 0) {
        if (olsim_parse_ll(v, 1, INT64_MAX, &n) < 0)
            return "user_id is invalid";
        q->user_id = n;
    }
    if (olsim_query_get(query, "id", v, sizeof(v)) != 0) {
        if (olsim_parse_ll(v, 1, INT64_MAX, &n) < 0)
            return "id is invalid";
        q->id = n;
    }
    if (olsim_query_get(query, "event_type_id", v, sizeof(v)) != 0 &&
        olsim_types_parse(v, q) < 0)
        return "event_type_id is invalid";
    switch (olsim_query_get(query, "after_cursor", v, sizeof(v))) {
    case 0:
        break;
    case 1:
        if (v[0] == '\0')
            break;
        if (olsim_cursor_parse(v, q) < 0)
            return "after_cursor is invalid";
        break;
    default:
        return "after_cursor is invalid";
    }
    return NULL;
}

void olsim_route_events(struct olsim_ten *tn, const struct olsim_req *rq,
                        struct olsim_resp *rs, enum olsim_fault_kind fault)
{
    struct olsim_tenant *t = tn->t;
    struct olsim_query q;
    const char *err;
    uint32_t *pos = NULL;
    size_t *order = NULL;
    size_t n;
    size_t i;
    int more = 0;
    char cursor[160];

    err = olsim_events_query(tn, rq->query, &q);
    if (err) {
        olsim_json_error_v1(rs, 400, "bad request", err);
        goto fail;
    }
    pos = calloc(q.limit, sizeof(*pos));
    order = calloc(q.limit, sizeof(*order));
    if (!pos || !order) {
        olsim_json_error_v1(rs, 500, "internal server error", "out of memory");
        goto fail;
    }
    n = olsim_tenant_query(t, &q, pos, &more);
    if (fault == OLSIM_F_SHORT && n > 1) {
        n /= 2;
        more = 1;
    }
    for (i = 0; i < n; i++)
        order[i] = i;
    if (fault == OLSIM_F_UNSORTED) {
        for (i = n; i > 1; i--) {
            size_t j = olsim_rng_below(&tn->fault_rng, (uint32_t)i);
            size_t tmp = order[i - 1];

            order[i - 1] = order[j];
            order[j] = tmp;
        }
    }
    cursor[0] = '\0';
    if (more && n > 0)
        olsim_cursor_make(q.sort, &t->ev[pos[n - 1]], cursor, sizeof(cursor));
    rs->status = 200;
    olsim_buf_str(&rs->body, "{\"status\":" OLSIM_STATUS_OK
                             ",\"pagination\":{\"before_cursor\":null,\"after_cursor\":");
    if (cursor[0]) {
        olsim_buf_printf(&rs->body,
                         "\"%s\",\"previous_link\":null,\"next_link\":\"http://", cursor);
        if (rq->host && rq->host[0] && !strpbrk(rq->host, "\"\\ \t\r\n"))
            olsim_buf_str(&rs->body, rq->host);
        else
            olsim_buf_printf(&rs->body, "127.0.0.1:%u", tn->srv->port);
        olsim_buf_str(&rs->body, "/api/1/events?");
        i = rs->body.len;
        olsim_query_copy_without(&rs->body, rq->query, "after_cursor");
        /* The raw query is URL-encoded, but keep the JSON string safe regardless. */
        for (; i < rs->body.len; i++)
            if (rs->body.p[i] == '"' || rs->body.p[i] == '\\' ||
                (unsigned char)rs->body.p[i] < 0x20)
                rs->body.p[i] = '_';
        if (rs->body.p[rs->body.len - 1] != '?')
            olsim_buf_add(&rs->body, "&", 1);
        olsim_buf_printf(&rs->body, "after_cursor=%s\"},\"data\":[", cursor);
    } else {
        olsim_buf_str(&rs->body,
                      "null,\"previous_link\":null,\"next_link\":null},\"data\":[");
    }
    for (i = 0; i < n; i++) {
        if (i)
            olsim_buf_add(&rs->body, ",", 1);
        olsim_render_event(t, &t->ev[pos[order[i]]], &rs->body);
    }
    olsim_buf_str(&rs->body, "]}");
fail:
    free(pos);
    free(order);
}

void olsim_route_event_by_id(struct olsim_ten *tn, struct olsim_resp *rs, int64_t id)
{
    struct olsim_query q;
    uint32_t pos;
    int more;

    memset(&q, 0, sizeof(q));
    q.since_ms = INT64_MIN;
    q.until_ms = INT64_MAX;
    q.id = id;
    q.limit = 1;
    if (olsim_tenant_query(tn->t, &q, &pos, &more) != 1) {
        olsim_json_error_v1(rs, 404, "not found", "Event not found");
        return;
    }
    rs->status = 200;
    olsim_buf_str(&rs->body, "{\"status\":" OLSIM_STATUS_OK ",\"data\":[");
    olsim_render_event(tn->t, &tn->t->ev[pos], &rs->body);
    olsim_buf_str(&rs->body, "]}");
}

void olsim_route_event_types(struct olsim_ten *tn, struct olsim_resp *rs)
{
    const struct olsim_tenant *t = tn->t;
    size_t i;

    rs->status = 200;
    olsim_buf_str(&rs->body, "{\"status\":" OLSIM_STATUS_OK ",\"data\":[");
    for (i = 0; i < t->ntypes; i++) {
        olsim_buf_printf(&rs->body, "%s{\"id\":%u,\"name\":", i ? "," : "",
                         (unsigned)t->types[i].id);
        olsim_buf_json_str(&rs->body, t->types[i].name);
        olsim_buf_str(&rs->body, ",\"description\":");
        olsim_buf_json_str(&rs->body, t->types[i].desc);
        olsim_buf_add(&rs->body, "}", 1);
    }
    olsim_buf_str(&rs->body, "]}");
}
