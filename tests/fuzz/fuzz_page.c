/*
 * fuzz_page.c - libFuzzer harness for the events page parser (agent/onelogin/page.c).
 *
 * The input is an HTTP body as GET /api/1/events would return it. It goes
 * through what the agent does with a body: the answer classifier
 * (client.c), then ola_page_parse on a private copy, then the batch sort
 * and the json format of every event. Besides "no crash, no leak, no UB",
 * the harness checks the parser against Jansson: when the whole body is
 * valid JSON (no duplicate keys) with a data array, the page must parse, its
 * events must be exactly the data elements that are usable events, equal and
 * in order, and every other element must be counted as malformed; the
 * envelope the classifier reads must be the whole body less its data. Every raw
 * range must lie inside the body and be one '{...}' object, and the json
 * record made from it must parse again.
 */
#include <string.h>

#include <jansson.h>

#include "agent/core/arena.h"
#include "agent/core/event.h"
#include "agent/core/timeutil.h"
#include "agent/onelogin/classify.h"
#include "agent/onelogin/page.h"
#include "fuzz.h"
#include "outputs/formats/format.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ola_arena_install(); /* events parse as in the agent, poisoned under ASan */
    return 0;
}

/* The page parser's definition of a usable event. */
static bool ola_fz_usable(const json_t *el, int64_t *created_ms)
{
    const json_t *id = json_object_get(el, "id");
    const char *created = json_string_value(json_object_get(el, "created_at"));

    return json_is_object(el) && json_is_integer(id) && json_integer_value(id) > 0 &&
           created != NULL && ola_time_parse_iso(created, created_ms) == 0;
}

/* The envelope the client judges must be the whole body less its data. */
static void ola_fz_envelope(const uint8_t *data, size_t size, json_t *whole)
{
    json_t *env = ola_page_envelope((const char *)data, size);
    json_t *rest = json_copy(whole);

    OLA_FUZZ_CHECK(env != NULL && rest != NULL);
    json_object_del(rest, "data");
    OLA_FUZZ_CHECK(json_equal(env, rest));
    json_decref(env);
    json_decref(rest);
}

/* Differential check against a whole-body Jansson parse (see the file comment). */
static void ola_fz_oracle(const uint8_t *data, size_t size, int rc,
                          const struct ola_batch *b, const struct ola_page *pg)
{
    json_t *whole = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    const json_t *arr, *st, *pag, *cur;
    size_t i, j = 0;

    if (!json_is_object(whole))
        goto out; /* not comparable: Jansson refuses it (or it is not an envelope) */
    if (memchr(data, '\0', size) != NULL)
        goto out; /* not comparable: Jansson 2.14 skips a NUL after a number */
    ola_fz_envelope(data, size, whole);
    arr = json_object_get(whole, "data");
    st = json_object_get(whole, "status");
    pag = json_object_get(whole, "pagination");
    cur = json_object_get(pag, "after_cursor");
    if (json_is_object(st) && json_is_true(json_object_get(st, "error"))) {
        OLA_FUZZ_CHECK(rc != 0); /* an error envelope is never a page */
        goto out;
    }
    if (!json_is_array(arr) ||
        (pag != NULL && !json_is_null(pag) && !json_is_object(pag)) ||
        (cur != NULL && !json_is_null(cur) && !json_is_string(cur))) {
        /* no data array, or a pagination the agent cannot follow: never a page */
        OLA_FUZZ_CHECK(rc != 0);
        goto out;
    }
    OLA_FUZZ_CHECK(rc == 0);
    OLA_FUZZ_CHECK(pg->n_events + pg->n_malformed == json_array_size(arr));
    OLA_FUZZ_CHECK(pg->n_events == b->n);
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *el = json_array_get(arr, i);
        int64_t created_ms;

        if (!ola_fz_usable(el, &created_ms))
            continue;
        OLA_FUZZ_CHECK(j < b->n);
        OLA_FUZZ_CHECK(json_equal(b->ev[j].ev, el));
        OLA_FUZZ_CHECK(b->ev[j].id == json_integer_value(json_object_get(el, "id")));
        OLA_FUZZ_CHECK(b->ev[j].created_ms == created_ms);
        j++;
    }
    OLA_FUZZ_CHECK(j == b->n);
    if (json_is_string(cur) && json_string_length(cur) > 0 &&
        strcmp(json_string_value(cur), "null") != 0 &&
        strcmp(json_string_value(cur), "\"\"") != 0)
        OLA_FUZZ_CHECK(pg->after_cursor != NULL &&
                       strcmp(pg->after_cursor, json_string_value(cur)) == 0);
    else
        OLA_FUZZ_CHECK(pg->after_cursor == NULL);
out:
    json_decref(whole);
}

/*
 * Structural checks on what the parser handed out, then the json record of
 * each event. data: the original body. Squeezing works inside an element, so
 * an event starts at the same offset in data as in the body; the value that
 * Jansson reads there from the original bytes must be the event.
 */
static void ola_fz_events(const uint8_t *data, struct ola_batch *b,
                          const struct ola_page *pg)
{
    const char *lo = b->body, *hi = b->body + b->body_len;
    struct ola_buf out = OLA_BUF_INIT;
    size_t i;

    for (i = 0; i < pg->n_malformed; i++) {
        const struct ola_page_malformed *m = ola_page_malformed_at(pg, i);

        OLA_FUZZ_CHECK(m->len == 0 || (m->raw >= lo && m->raw + m->len <= hi));
        OLA_FUZZ_CHECK(memchr(m->reason, '\0', sizeof(m->reason)) != NULL);
    }
    for (i = 0; i < b->n; i++) {
        struct ola_event *e = &b->ev[i];
        json_t *back;

        OLA_FUZZ_CHECK(e->kind == OLA_REC_EVENT && json_is_object(e->ev));
        OLA_FUZZ_CHECK(e->raw >= lo && e->raw + e->raw_len <= hi);
        OLA_FUZZ_CHECK(e->raw_len >= 2 && e->raw[0] == '{' &&
                       e->raw[e->raw_len - 1] == '}');
        OLA_FUZZ_CHECK(e->id > 0);
        /* one record per line: no whitespace is left outside strings */
        OLA_FUZZ_CHECK(memchr(e->raw, '\n', e->raw_len) == NULL);
        OLA_FUZZ_CHECK(memchr(e->raw, '\0', e->raw_len) == NULL);
        back =
            json_loadb((const char *)data + (e->raw - lo),
                       b->body_len - (size_t)(e->raw - lo), JSON_DISABLE_EOF_CHECK, NULL);
        OLA_FUZZ_CHECK(back != NULL && json_equal(back, e->ev));
        json_decref(back);
        if (i % 2 == 0 && ola_event_add_tag(e, "fuzz") != 0)
            continue;
        ola_buf_reset(&out);
        if (ola_format_event(&ola_format_json, e, NULL, &out) != 0)
            continue; /* only ENOMEM may fail here */
        back = json_loadb(out.data, out.len, 0, NULL);
        OLA_FUZZ_CHECK(json_is_object(back));
        OLA_FUZZ_CHECK(json_integer_value(json_object_get(back, "id")) == e->id);
        json_decref(back);
    }
    ola_buf_free(&out);
    ola_batch_sort(b);
    for (i = 1; i < b->n; i++)
        OLA_FUZZ_CHECK(b->ev[i - 1].created_ms < b->ev[i].created_ms ||
                       (b->ev[i - 1].created_ms == b->ev[i].created_ms &&
                        b->ev[i - 1].id <= b->ev[i].id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ola_ol_verdict v;
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    char *body;
    int rc;

    /* what the client does with a 200 first */
    ola_ol_classify(200, "application/json", (const char *)data, size,
                    OLA_OL_CALL_RESOURCE, &v);
    OLA_FUZZ_CHECK(memchr(v.reason, '\0', sizeof(v.reason)) != NULL);

    body = malloc(size + 1); /* bodies come from ola_buf: NUL-terminated */
    if (body == NULL)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    ola_batch_init(&b);
    rc = ola_page_parse(&b, body, size, &pg, &err); /* body: stolen */
    if (rc != 0)
        OLA_FUZZ_CHECK(err.msg[0] != '\0');
    ola_fz_oracle(data, size, rc, &b, &pg);
    if (rc == 0)
        ola_fz_events(data, &b, &pg);
    ola_page_free(&pg);
    ola_batch_free(&b);
    return 0;
}
