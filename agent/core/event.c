/*
 * event.c - batches of events: ownership, ordering and the olagent object.
 *
 * The batch owns one reference to every parsed event and to every "olagent"
 * object; reset releases them and the page body in one place, so no filter
 * or output ever frees an event. Sorting is a stable merge sort by
 * (created_ms, id), because OneLogin's order inside a page is not trusted.
 * ola_event_admit is the one gate an event passes to enter a batch, whether
 * it came in a page or from a file being replayed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/arena.h"
#include "agent/core/event.h"
#include "agent/core/json_parse.h"
#include "agent/core/timeutil.h"
#include "agent/core/vec.h"

void ola_batch_init(struct ola_batch *b)
{
    memset(b, 0, sizeof(*b));
}

/*
 * Drops e's references. A tree parsed into b's arena is not walked: nothing
 * outside it holds a reference into it past the batch, and it holds nothing
 * from outside (an event's tree is read-only once admitted; what filters add
 * goes to e->ola), so the arena's reset takes it back whole. Walking it here
 * cost more than its parse's share of the frees: the batch's trees are cold
 * by the time it is reset. Anything else (trees made without an arena) is
 * released the usual way, and e->ola always is: made in the arena too, it
 * holds references to values that outlast the batch (the enricher's trees,
 * the catalog's event types, the rules' tags and severities).
 */
static void ola_event_release(const struct ola_batch *b, struct ola_event *e)
{
    if (!ola_arena_owns(b->arena, e->ev))
        json_decref(e->ev);
    json_decref(e->ola);
}

void ola_batch_reset(struct ola_batch *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        ola_event_release(b, &b->ev[i]);
    b->n = 0;
    json_decref(b->tenant_json); /* the arena's, like everything the batch made */
    b->tenant_json = NULL;
    ola_arena_reset(b->arena);
    /* kept while bodies fill it: a quiet poll's few bytes in a page-sized buffer
     * would hold that megabyte at rest */
    if (b->body_cap > b->spare_cap && b->body_len >= b->body_cap / 8) {
        free(b->spare);
        b->spare = b->body;
        b->spare_cap = b->body_cap;
    } else {
        free(b->body);
    }
    b->body = NULL;
    b->body_len = 0;
    b->body_cap = 0;
}

char *ola_batch_take_spare(struct ola_batch *b, size_t *cap)
{
    char *p = b->spare;

    *cap = b->spare_cap;
    b->spare = NULL;
    b->spare_cap = 0;
    return p;
}

void ola_batch_free(struct ola_batch *b)
{
    ola_batch_reset(b);
    free(b->spare);
    b->spare = NULL;
    b->spare_cap = 0;
    free(b->ev);
    b->ev = NULL;
    b->cap = 0;
    ola_arena_destroy(b->arena);
    b->arena = NULL;
}

void ola_batch_trim(struct ola_batch *b)
{
    if (b->n != 0)
        return;
    ola_arena_trim(b->arena);
    free(b->spare);
    b->spare = NULL;
    b->spare_cap = 0;
    /* a page's worth of slots (75 KB at 1,000 events): the next burst regrows it */
    free(b->ev);
    b->ev = NULL;
    b->cap = 0;
}

const char *ola_batch_tenant(const struct ola_batch *b)
{
    return b->tenant != NULL ? b->tenant : OLA_TENANT_DEFAULT;
}

bool ola_tenant_name_valid(const char *name)
{
    size_t i;

    for (i = 0; name[i] != '\0'; i++)
        if (i >= OLA_TENANT_NAME_MAX ||
            !((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_' || name[i] == '-'))
            return false;
    return i > 0;
}

struct ola_arena *ola_batch_enter(struct ola_batch *b)
{
    if (b->arena == NULL)
        b->arena = ola_arena_new(); /* NULL (no memory): parse with malloc */
    return ola_arena_enter(b->arena);
}

void ola_batch_leave(struct ola_arena *prev)
{
    ola_arena_leave(prev);
}

struct ola_event *ola_batch_add(struct ola_batch *b, enum ola_record_kind kind,
                                json_t *ev, const char *raw, size_t raw_len)
{
    struct ola_event *e;

    if (OLA_VEC_GROW_FROM(b->ev, b->cap, b->n + 1, 64) != 0) {
        json_decref(ev);
        return NULL;
    }
    e = &b->ev[b->n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->ev = ev;
    e->raw = raw;
    e->raw_len = raw_len;
    e->routes = UINT32_MAX;
    e->severity = OLA_SEVERITY_UNSET;
    /* an alert raised by the rules carries its batch's tenant, like its events */
    if (kind == OLA_REC_ALERT && b->tenant_json != NULL &&
        (ola_event_ola(e) == NULL ||
         json_object_set(e->ola, "tenant", b->tenant_json) != 0)) {
        json_decref(e->ev);
        json_decref(e->ola);
        b->n--;
        return NULL;
    }
    return e;
}

int ola_batch_stamp_tenant(struct ola_batch *b)
{
    size_t i;
    int rc = 0;

    json_decref(b->tenant_json);
    b->tenant_json = json_string(ola_batch_tenant(b));
    if (b->tenant_json == NULL)
        return -1;
    for (i = 0; i < b->n; i++)
        if (ola_event_ola(&b->ev[i]) == NULL ||
            json_object_set(b->ev[i].ola, "tenant", b->tenant_json) != 0)
            rc = -1;
    return rc;
}

/* Removes whitespace outside strings from [p, p+len) in place; returns the new length. */
static size_t ola_squeeze(char *p, size_t len)
{
    size_t i, j = 0;
    bool in_str = false, esc = false;

    for (i = 0; i < len; i++) {
        char c = p[i];

        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_str = true;
        }
        p[j++] = c;
    }
    return j;
}

static int ola_event_refuse(char *why, size_t why_size, const char *what,
                            const char *detail)
{
    int n = snprintf(why, why_size, "%s%.100s", what, detail);

    if (n < 0 && why_size > 0)
        why[0] = '\0';
    return 0;
}

int ola_event_admit(struct ola_batch *b, char *raw, size_t len, char *why,
                    size_t why_size)
{
    json_error_t jerr;
    json_t *ev, *idv;
    struct ola_arena *prev;
    const char *created, *no = NULL;
    struct ola_event *e;
    int64_t created_ms;
    char size[64];

    if (len > OLA_EVENT_MAX_BYTES) {
        if (snprintf(size, sizeof(size), "%zu bytes", OLA_EVENT_MAX_BYTES) < 0)
            size[0] = '\0';
        return ola_event_refuse(why, why_size, "larger than ", size);
    }
    /* A NUL byte is never valid JSON (Jansson 2.14 skips one after a number,
     * `5\0,` reads as 5; ola_json_parse refuses it): said here in words. */
    if (memchr(raw, '\0', len) != NULL)
        return ola_event_refuse(why, why_size, "contains a NUL byte", "");
    /* Parse the bytes as sent, squeeze only what parsed: squeezing first would
     * turn a malformed `1 2` into a valid 12. Refused ones keep their bytes.
     * The parse is ola_json_parse: Jansson's verdict and tree (duplicate keys
     * refused) at a fifth of json_loadb's cost. */
    prev = ola_batch_enter(b);
    ev = ola_json_parse(raw, len, &jerr);
    ola_batch_leave(prev);
    if (ev == NULL)
        return ola_event_refuse(why, why_size, "not valid JSON: ", jerr.text);
    idv = json_object_get(ev, "id");
    created = json_string_value(json_object_get(ev, "created_at"));
    if (!json_is_object(ev))
        no = "not an object";
    else if (!json_is_integer(idv) || json_integer_value(idv) <= 0)
        no = "no positive integer id";
    else if (created == NULL || ola_time_parse_iso(created, &created_ms) != 0)
        no = "created_at missing or not ISO-8601";
    if (no != NULL) {
        json_decref(ev);
        return ola_event_refuse(why, why_size, no, "");
    }
    len = ola_squeeze(raw, len);
    e = ola_batch_add(b, OLA_REC_EVENT, ev, raw, len);
    if (e == NULL)
        return -1;
    e->id = json_integer_value(idv);
    e->created_ms = created_ms;
    return 1;
}

void ola_batch_compact(struct ola_batch *b, const bool *keep)
{
    size_t i, j = 0;

    for (i = 0; i < b->n; i++) {
        if (keep[i]) {
            if (i != j)
                b->ev[j] = b->ev[i];
            j++;
        } else {
            ola_event_release(b, &b->ev[i]);
        }
    }
    b->n = j;
}

static int ola_event_cmp(const struct ola_event *a, const struct ola_event *b)
{
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return 0;
}

static void ola_merge_sort(struct ola_event *v, struct ola_event *tmp, size_t n)
{
    size_t mid, i, j, k;

    if (n < 2)
        return;
    mid = n / 2;
    ola_merge_sort(v, tmp, mid);
    ola_merge_sort(v + mid, tmp, n - mid);
    if (ola_event_cmp(&v[mid - 1], &v[mid]) <= 0)
        return;
    memcpy(tmp, v, n * sizeof(*v));
    for (i = 0, j = mid, k = 0; i < mid && j < n; k++)
        v[k] = ola_event_cmp(&tmp[j], &tmp[i]) < 0 ? tmp[j++] : tmp[i++];
    while (i < mid)
        v[k++] = tmp[i++];
    while (j < n)
        v[k++] = tmp[j++];
}

void ola_batch_sort(struct ola_batch *b)
{
    struct ola_event *tmp;
    size_t i;

    for (i = 1; i < b->n; i++)
        if (ola_event_cmp(&b->ev[i - 1], &b->ev[i]) > 0)
            break;
    if (i >= b->n)
        return; /* already ordered: the common case */
    tmp = malloc(b->n * sizeof(*tmp));
    if (tmp == NULL) {
        /* insertion sort needs no memory; pages are small */
        for (i = 1; i < b->n; i++) {
            struct ola_event x = b->ev[i];
            size_t j = i;

            while (j > 0 && ola_event_cmp(&b->ev[j - 1], &x) > 0) {
                b->ev[j] = b->ev[j - 1];
                j--;
            }
            b->ev[j] = x;
        }
        return;
    }
    ola_merge_sort(b->ev, tmp, b->n);
    free(tmp);
}

json_t *ola_event_ola(struct ola_event *e)
{
    if (e->ola == NULL)
        e->ola = json_object();
    return e->ola;
}

/*
 * Adds t to olagent.tags once: shared, when given, is a JSON string of t
 * appended with a new reference (one string for every event), else a fresh
 * string is made.
 */
static int ola_event_tag(struct ola_event *e, const char *t, json_t *shared)
{
    json_t *ola = ola_event_ola(e);
    json_t *tags, *v;
    size_t i;

    if (ola == NULL)
        return -1;
    tags = json_object_get(ola, "tags");
    if (tags == NULL) {
        tags = json_array();
        if (tags == NULL || json_object_set_new(ola, "tags", tags) != 0)
            return -1;
    }
    json_array_foreach(tags, i, v)
    {
        if (v == shared || (json_is_string(v) && strcmp(json_string_value(v), t) == 0))
            return 0;
    }
    if (shared != NULL)
        return json_array_append(tags, shared);
    return json_array_append_new(tags, json_string(t));
}

int ola_event_add_tag(struct ola_event *e, const char *tag)
{
    return ola_event_tag(e, tag, NULL);
}

int ola_event_add_tag_json(struct ola_event *e, json_t *tag)
{
    const char *t = json_string_value(tag);

    if (t == NULL)
        return -1;
    return ola_event_tag(e, t, tag);
}

const char *ola_event_str(const struct ola_event *e, const char *key)
{
    return json_string_value(json_object_get(e->ev, key));
}

bool ola_event_int(const struct ola_event *e, const char *key, long long *out)
{
    json_t *v = json_object_get(e->ev, key);

    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}
