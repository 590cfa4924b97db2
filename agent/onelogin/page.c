/*
 * page.c - parsing a page of OneLogin events without losing their bytes.
 *
 * The envelope {"status", "pagination", "data": [...]} is walked by a small
 * scanner that only finds where values start and end (strings with escapes,
 * nesting by counting, no recursion, so deep input cannot blow the stack).
 * Each element of `data` is parsed once by Jansson from its own byte range,
 * and keeps that range as its original bytes: outputs emit them as they
 * are, so field order and number spelling survive. Whitespace outside
 * strings is squeezed out of each element in place, so a pretty-printed page
 * still gives one record per line (one pass, cheaper than the parse). One bad element
 * does not sink the page: it is reported as malformed (for the dead-letter file) and the
 * rest goes on. A page is held to the limit it was asked with: past it the
 * elements are only counted, by the scanner, and the page is refused, so a
 * hostile page costs one linear pass, and a stop request is seen every few
 * hundred elements. In-page dedupe goes through a hash set (linear).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/seen.h"
#include "agent/core/timeutil.h"
#include "agent/core/vec.h"
#include "agent/core/wait.h"
#include "agent/onelogin/page.h"

struct ola_scan {
    const char *p;
    const char *end;
};

static void ola_scan_ws(struct ola_scan *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* s->p at '"': moves past the closing quote. */
static int ola_scan_string(struct ola_scan *s)
{
    s->p++;
    while (s->p < s->end) {
        const char *q = memchr(s->p, '"', (size_t)(s->end - s->p));
        const char *b;
        size_t backslashes = 0;

        if (q == NULL)
            return -1;
        for (b = q; b > s->p && b[-1] == '\\'; b--)
            backslashes++;
        s->p = q + 1;
        if (backslashes % 2 == 0)
            return 0;
    }
    return -1;
}

/* Moves past one value of any kind. */
static int ola_scan_value(struct ola_scan *s)
{
    size_t depth = 0;

    ola_scan_ws(s);
    if (s->p >= s->end)
        return -1;
    if (*s->p != '{' && *s->p != '[') {
        if (*s->p == '"')
            return ola_scan_string(s);
        while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' &&
               *s->p != ' ' && *s->p != '\n' && *s->p != '\r' && *s->p != '\t')
            s->p++;
        return 0;
    }
    while (s->p < s->end) {
        char c = *s->p;

        if (c == '"') {
            if (ola_scan_string(s) != 0)
                return -1;
            continue;
        }
        s->p++;
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return -1;
            if (--depth == 0)
                return 0;
        }
    }
    return -1;
}

/* Notes a malformed element (the first ones inline, the rest in pg->more). 0 / -1. */
static int ola_page_note_malformed(struct ola_page *pg, const char *raw, size_t len,
                                   const char *reason)
{
    struct ola_page_malformed *m;
    int n;

    if (pg->n_malformed < OLA_PAGE_MAX_MALFORMED) {
        m = &pg->malformed[pg->n_malformed];
    } else {
        size_t k = pg->n_malformed - OLA_PAGE_MAX_MALFORMED;

        if (OLA_VEC_GROW_FROM(pg->more, pg->more_cap, k + 1, 64) != 0)
            return -1;
        m = &pg->more[k];
    }
    n = snprintf(m->reason, sizeof(m->reason), "%s", reason);
    if (n < 0 || (size_t)n >= sizeof(m->reason))
        m->reason[sizeof(m->reason) - 1] = '\0';
    m->raw = raw;
    m->len = len;
    pg->n_malformed++;
    return 0;
}

const struct ola_page_malformed *ola_page_malformed_at(const struct ola_page *pg,
                                                       size_t i)
{
    return i < OLA_PAGE_MAX_MALFORMED ? &pg->malformed[i]
                                      : &pg->more[i - OLA_PAGE_MAX_MALFORMED];
}

/* Admits one element of data[] (event.c) or notes it as malformed. 0 / -1 (ENOMEM). */
static int ola_page_element(struct ola_batch *b, char *raw, size_t len,
                            struct ola_page *pg)
{
    char why[OLA_EVENT_WHY_MAX];
    int rc = ola_event_admit(b, raw, len, why, sizeof(why));

    if (rc == 0)
        return ola_page_note_malformed(pg, raw, len, why);
    if (rc < 0)
        return -1;
    pg->n_events++;
    return 0;
}

static int ola_page_data(struct ola_batch *b, struct ola_scan *s, size_t max_events,
                         struct ola_page *pg, struct ola_err *err)
{
    ola_scan_ws(s);
    if (s->p >= s->end || *s->p != '[')
        return ola_err_set(err, 0, "page: data is not an array");
    s->p++;
    ola_scan_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        const char *start;

        if (pg->n_elements % OLA_PAGE_STOP_EVERY == 0 && ola_stopping())
            return ola_err_set(err, ECANCELED, "page: parsing stopped (stop requested)");
        ola_scan_ws(s);
        start = s->p;
        if (ola_scan_value(s) != 0)
            return ola_err_set(err, 0, "page: truncated or malformed data array");
        pg->n_elements++;
        /* past the limit: only counted, the page is refused at its end */
        if ((max_events == 0 || pg->n_elements <= max_events) &&
            ola_page_element(b, (char *)(uintptr_t)start, (size_t)(s->p - start), pg) !=
                0)
            return ola_err_set(err, ENOMEM, "page: out of memory");
        ola_scan_ws(s);
        if (s->p >= s->end)
            return ola_err_set(err, 0, "page: truncated data array");
        if (*s->p == ']') {
            s->p++;
            if (max_events > 0 && pg->n_elements > max_events)
                return ola_err_set(err, E2BIG,
                                   "page: %zu events in data, more than the limit of %zu "
                                   "asked for; none delivered",
                                   pg->n_elements, max_events);
            return 0;
        }
        if (*s->p != ',')
            return ola_err_set(err, 0, "page: malformed data array");
        s->p++;
    }
}

/*
 * Reads pagination.after_cursor. A pagination or cursor of another type than
 * expected makes the page unusable: taking it for the last page would end the
 * window early and skip the rest of it.
 */
static int ola_page_cursor(const char *raw, size_t len, struct ola_page *pg,
                           struct ola_err *err)
{
    json_t *pag = json_loadb(raw, len, JSON_DECODE_ANY, NULL), *cv;
    const char *c;
    int rc = -1;

    if (pag == NULL) {
        ola_err_set(err, 0, "page: pagination is not valid JSON");
        goto fail;
    }
    if (!json_is_object(pag) && !json_is_null(pag)) {
        ola_err_set(err, 0, "page: pagination is not an object");
        goto fail;
    }
    cv = json_object_get(pag, "after_cursor");
    if (cv != NULL && !json_is_null(cv) && !json_is_string(cv)) {
        ola_err_set(err, 0, "page: pagination.after_cursor is neither a string nor null");
        goto fail;
    }
    c = json_string_value(cv);
    /* The OpenAPI examples spell null as "null" and "\"\"": treat both as the end. */
    if (c != NULL && *c != '\0' && strcmp(c, "null") != 0 && strcmp(c, "\"\"") != 0) {
        pg->after_cursor = strdup(c);
        if (pg->after_cursor == NULL) {
            ola_err_set(err, ENOMEM, "page: out of memory");
            goto fail;
        }
    }
    rc = 0;
fail:
    json_decref(pag);
    return rc;
}

/* An envelope status with error true makes the whole page an error. */
static int ola_page_status(const char *raw, size_t len, struct ola_err *err)
{
    json_t *st = json_loadb(raw, len, 0, NULL);
    int rc = 0;

    if (st != NULL && json_is_true(json_object_get(st, "error"))) {
        json_t *msg = json_object_get(st, "message");

        rc = ola_err_set(err, (int)json_integer_value(json_object_get(st, "code")),
                         "page: status error: %s",
                         json_is_string(msg) ? json_string_value(msg) : "(no message)");
    }
    json_decref(st);
    return rc;
}

/*
 * Which envelope member a key is: 1 data, 2 pagination, 3 status, 0 another.
 * A key with escapes is decoded first, so "d\u0061ta" is data, as for any
 * JSON reader.
 */
static int ola_page_key(const char *key, size_t klen)
{
    static const char *const names[] = {"data", "pagination", "status"};
    const char *k = key;
    json_t *dec = NULL;
    size_t i;
    int which = 0;

    if (memchr(key, '\\', klen) != NULL) {
        dec = json_loadb(key - 1, klen + 2, JSON_DECODE_ANY, NULL);
        if (!json_is_string(dec))
            goto out;
        k = json_string_value(dec);
        klen = json_string_length(dec);
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (klen == strlen(names[i]) && memcmp(k, names[i], klen) == 0)
            which = (int)i + 1;
out:
    json_decref(dec);
    return which;
}

/*
 * At the next member of an object (or its closing brace): *key and *klen get
 * the member's name (raw bytes between the quotes) and s is left at its
 * value. Returns 1, 0 at the closing brace (s past it), or -1 with *why.
 */
static int ola_scan_member(struct ola_scan *s, const char **key, size_t *klen,
                           const char **why)
{
    ola_scan_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    *why = "truncated or malformed envelope";
    if (s->p >= s->end || *s->p != '"')
        return -1;
    *key = s->p + 1;
    *why = "truncated envelope";
    if (ola_scan_string(s) != 0)
        return -1;
    *klen = (size_t)(s->p - *key - 1);
    ola_scan_ws(s);
    *why = "malformed envelope";
    if (s->p >= s->end || *s->p++ != ':')
        return -1;
    ola_scan_ws(s);
    return 1;
}

/* After a member's value: 1 past a ',', 0 past the closing '}', -1 otherwise. */
static int ola_scan_after_member(struct ola_scan *s)
{
    ola_scan_ws(s);
    if (s->p < s->end && (*s->p == ',' || *s->p == '}'))
        return *s->p++ == ',' ? 1 : 0;
    return -1;
}

/* Adds key (raw bytes between the quotes, escapes allowed) = v to o. v: stolen. */
static int ola_envelope_set(json_t *o, const char *key, size_t klen, json_t *v)
{
    json_t *dec = NULL;
    int rc = -1;

    if (memchr(key, '\\', klen) != NULL) {
        dec = json_loadb(key - 1, klen + 2, JSON_DECODE_ANY, NULL);
        if (!json_is_string(dec)) {
            json_decref(v);
            goto out;
        }
        key = json_string_value(dec);
        klen = json_string_length(dec);
    }
    rc = json_object_setn_new(o, key, klen, v);
out:
    json_decref(dec);
    return rc;
}

json_t *ola_page_envelope(const char *body, size_t len)
{
    struct ola_scan s = {body, body + len};
    json_t *env = json_object();
    const char *key, *vstart, *why;
    size_t klen;
    int more;

    ola_scan_ws(&s);
    if (env == NULL || s.p >= s.end || *s.p != '{')
        goto fail;
    s.p++;
    while ((more = ola_scan_member(&s, &key, &klen, &why)) == 1) {
        vstart = s.p;
        if (ola_scan_value(&s) != 0)
            goto fail;
        if (ola_page_key(key, klen) != 1) {
            json_t *v = json_loadb(vstart, (size_t)(s.p - vstart), JSON_DECODE_ANY, NULL);

            if (v == NULL || ola_envelope_set(env, key, klen, v) != 0)
                goto fail;
        }
        if ((more = ola_scan_after_member(&s)) != 1)
            break;
    }
    ola_scan_ws(&s);
    if (more == 0 && s.p == s.end)
        return env;
fail:
    json_decref(env);
    return NULL;
}

int ola_page_parse(struct ola_batch *b, char *body, size_t len, struct ola_page *pg,
                   struct ola_err *err)
{
    return ola_page_parse_max(b, body, len, 0, pg, err);
}

int ola_page_parse_max(struct ola_batch *b, char *body, size_t len, size_t max_events,
                       struct ola_page *pg, struct ola_err *err)
{
    static const char *const names[] = {"", "data", "pagination", "status"};
    struct ola_scan s = {body, body + len};
    bool have_data = false, seen[4] = {false, false, false, false};
    const char *key, *why = "";
    size_t klen;
    int more;

    memset(pg, 0, sizeof(*pg));
    free(b->body);
    b->body = body;
    b->body_len = len;
    ola_scan_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return ola_err_set(err, 0, "page: body is not a JSON object");
    s.p++;
    while ((more = ola_scan_member(&s, &key, &klen, &why)) == 1) {
        const char *vstart = s.p;
        int which = ola_page_key(key, klen);

        if (which != 0 && seen[which]) /* which one counts is anyone's guess */
            return ola_err_set(err, 0, "page: \"%s\" appears twice in the envelope",
                               names[which]);
        seen[which] = true;
        if (which == 1) {
            if (ola_page_data(b, &s, max_events, pg, err) != 0)
                return -1;
            have_data = true;
        } else {
            if (ola_scan_value(&s) != 0)
                return ola_err_set(err, 0, "page: truncated envelope");
            if (which == 2 &&
                ola_page_cursor(vstart, (size_t)(s.p - vstart), pg, err) != 0)
                return -1;
            if (which == 3 && ola_page_status(vstart, (size_t)(s.p - vstart), err) != 0)
                return -1;
        }
        if ((more = ola_scan_after_member(&s)) != 1) {
            why = "truncated or malformed envelope";
            break;
        }
    }
    if (more < 0)
        return ola_err_set(err, 0, "page: %s", why);
    ola_scan_ws(&s);
    if (s.p != s.end)
        return ola_err_set(err, 0, "page: trailing bytes after the envelope");
    if (!have_data)
        return ola_err_set(err, 0, "page: no data array");
    return 0;
}

void ola_page_free(struct ola_page *pg)
{
    free(pg->after_cursor);
    pg->after_cursor = NULL;
    free(pg->more);
    pg->more = NULL;
    pg->more_cap = 0;
}

long ola_page_dedupe(struct ola_batch *b, const struct ola_seen *delivered,
                     struct ola_seen *scratch)
{
    bool *keep = NULL;
    size_t i;
    long dups = 0, rc = -1;

    if (b->n == 0)
        return 0;
    keep = malloc(b->n * sizeof(*keep));
    if (keep == NULL)
        goto fail;
    ola_seen_clear(scratch);
    for (i = 0; i < b->n; i++) {
        const struct ola_event *e = &b->ev[i];

        keep[i] = e->kind != OLA_REC_EVENT ||
                  ((delivered == NULL || !ola_seen_has(delivered, e->id)) &&
                   !ola_seen_has(scratch, e->id));
        if (!keep[i])
            dups++;
        else if (e->kind == OLA_REC_EVENT && ola_seen_add(scratch, e->id, 0) != 0)
            goto fail;
    }
    if (dups > 0)
        ola_batch_compact(b, keep);
    rc = dups;
fail:
    ola_seen_clear(scratch);
    free(keep);
    return rc;
}
