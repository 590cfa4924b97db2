/*
 * test_page.c - the events page parser on recorded bodies and on bad input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/buf.h"
#include "agent/core/fileio.h"
#include "agent/core/wait.h"
#include "agent/onelogin/page.h"
#include "agent/core/seen.h"

static char *read_fixture(const char *name, size_t *len)
{
    const char *dir = getenv("OLA_DATA_DIR");
    char path[1024];
    char *buf = NULL;

    assert_non_null(dir);
    assert_true(snprintf(path, sizeof(path), "%s/onelogin/%s", dir, name) <
                (int)sizeof(path));
    assert_int_equal(ola_read_file(path, (size_t)64 << 20, &buf, len), 0);
    assert_true(*len > 0);
    return buf;
}

static char *dup_str(const char *s, size_t *len)
{
    char *p = strdup(s);

    assert_non_null(p);
    *len = strlen(s);
    return p;
}

static void test_recorded_page(void **state)
{
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t len, i;
    char *body = read_fixture("events-page-200.json", &len);

    (void)state;
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), 0);
    assert_int_equal(b.n, 4);
    assert_int_equal(pg.n_malformed, 0);
    assert_string_equal(pg.after_cursor, "aftercursor123");
    for (i = 0; i < b.n; i++) {
        const struct ola_event *e = &b.ev[i];
        json_t *again;

        assert_int_equal(e->id, (int64_t)i + 1);
        assert_int_equal(e->created_ms, INT64_C(1659956400000));
        /* one line, and the same document as the tree */
        assert_null(memchr(e->raw, '\n', e->raw_len));
        assert_int_equal(e->raw[0], '{');
        assert_int_equal(e->raw[e->raw_len - 1], '}');
        again = json_loadb(e->raw, e->raw_len, 0, NULL);
        assert_non_null(again);
        assert_true(json_equal(again, e->ev));
        json_decref(again);
    }
    /* the multi-line notes survive as an escaped \n inside the string */
    assert_non_null(strstr(b.ev[0].raw, "Login App.\\nTransitions"));
    ola_page_free(&pg);
    ola_batch_free(&b);
}

static void test_compact_bytes_kept(void **state)
{
    const char *page =
        "{\"status\":{\"error\":false,\"code\":200},\"pagination\":"
        "{\"after_cursor\":null,\"next_link\":null},\"data\":["
        "{\"id\":7,\"created_at\":\"2022-08-08T11:00:00.000Z\",\"risk_score\":1.50,"
        "\"name\":\"Zo\\u00eb \\\"q\\\" }]\",\"x\":[1,{\"y\":null}]},"
        "{\"id\":8,\"created_at\":\"2022-08-08T11:00:01.000Z\"}]}";
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t len;
    char *body = dup_str(page, &len);
    const char *first = strstr(page, "{\"id\":7");
    size_t first_len = (size_t)(strstr(page, ",{\"id\":8") - first);

    (void)state;
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), 0);
    assert_int_equal(b.n, 2);
    assert_null(pg.after_cursor);
    /* byte for byte: number spelling, escapes and key order */
    assert_int_equal(b.ev[0].raw_len, first_len);
    assert_memory_equal(b.ev[0].raw, first, first_len);
    ola_page_free(&pg);
    ola_batch_free(&b);
}

static void test_oas_null_strings(void **state)
{
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t len;
    char *body =
        dup_str("{\"pagination\":{\"after_cursor\":\"null\"},\"data\":[]}", &len);

    (void)state;
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), 0);
    assert_null(pg.after_cursor);
    assert_int_equal(b.n, 0);
    ola_page_free(&pg);
    ola_batch_free(&b);
}

static void test_bad_elements_are_reported(void **state)
{
    const char *page =
        "{\"data\":[{\"id\":1,\"created_at\":\"2022-08-08T11:00:00Z\"},"
        "{\"created_at\":\"2022-08-08T11:00:00Z\"},"
        "{\"id\":\"3\",\"created_at\":\"2022-08-08T11:00:00Z\"},"
        "{\"id\":4,\"created_at\":\"yesterday\"},"
        "[1,2],"
        "{\"id\":6,\"created_at\":\"2022-08-08T11:00:00Z\",\"n\":\"\xff\xfe\"},"
        "{\"id\":7,\"created_at\":\"2022-08-08T11:00:00Z\"}],"
        "\"pagination\":{\"after_cursor\":\"abc\"}}";
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t len;
    char *body = dup_str(page, &len);

    (void)state;
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), 0);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.ev[0].id, 1);
    assert_int_equal(b.ev[1].id, 7);
    assert_int_equal(pg.n_malformed, 5);
    assert_non_null(strstr(pg.malformed[0].reason, "id"));
    assert_non_null(strstr(pg.malformed[4].reason, "JSON"));
    assert_string_equal(pg.after_cursor, "abc");
    ola_page_free(&pg);
    ola_batch_free(&b);
}

static void test_unusable_envelopes(void **state)
{
    static const char *const bad[] = {
        "",
        "<html><body><h1>503</h1></body></html>",
        "{\"data\":[{\"id\":1,\"created_at\":\"2022-08-08T11:00:00Z\"},{\"id\":2,\"crea",
        "{\"status\":{\"error\":true,\"code\":400,\"message\":\"rate_limit_exceeded\"}}",
        "{\"status\":{\"error\":true,\"code\":401,\"message\":\"x\"},\"data\":[]}",
        "{\"data\":{}}",
        "{\"pagination\":{}}",
        "{\"data\":[]} trailing",
        "{\"data\":[]",
        "[]",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ola_batch b;
        struct ola_page pg;
        struct ola_err err = {0, ""};
        size_t len;
        char *body = dup_str(bad[i], &len);

        ola_batch_init(&b);
        assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), -1);
        assert_true(strncmp(err.msg, "page: ", 6) == 0);
        ola_page_free(&pg);
        ola_batch_free(&b);
    }
}

static void test_deep_nesting(void **state)
{
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t depth = 100000, len, i;
    char *body = malloc(depth * 2 + 128);
    char *p = body;

    (void)state;
    assert_non_null(body);
    p += snprintf(p, 64,
                  "{\"data\":[{\"id\":1,\"created_at\":\"2022-08-08T11:00:00Z\",\"x\":");
    for (i = 0; i < depth; i++)
        *p++ = '[';
    for (i = 0; i < depth; i++)
        *p++ = ']';
    p += snprintf(p, 16, "}]}");
    len = (size_t)(p - body);
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), 0);
    assert_int_equal(b.n, 0);
    assert_int_equal(pg.n_malformed, 1);
    ola_page_free(&pg);
    ola_batch_free(&b);
}

/* Parses text; returns ola_page_parse's result, batch and page filled. */
static int parse_text(const char *text, struct ola_batch *b, struct ola_page *pg,
                      struct ola_err *err)
{
    size_t len;
    char *body = dup_str(text, &len);

    ola_batch_init(b);
    return ola_page_parse(b, body, len, pg, err);
}

static void done(struct ola_batch *b, struct ola_page *pg)
{
    ola_page_free(pg);
    ola_batch_free(b);
}

/* Found by fuzz_page: whitespace was squeezed before parsing, so `1 2` became 12. */
static void test_malformed_not_repaired(void **state)
{
    static const char *const bodies[] = {
        "{\"data\":[{\"id\":1 2,\"created_at\":\"2024-01-31T10:00:00Z\"}]}",
        "{\"data\":[{\"id\":1,\"created_at\":\"2024-01-31T10:00:00Z\",\"ok\":tr ue}]}",
    };
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(parse_text(bodies[i], &b, &pg, &err), 0);
        assert_int_equal(b.n, 0);
        assert_int_equal(pg.n_malformed, 1);
        /* the dead letter gets the bytes as sent */
        assert_non_null(memchr(pg.malformed[0].raw, ' ', pg.malformed[0].len));
        done(&b, &pg);
    }
}

/* Found by fuzz_format: Jansson reads `5\0,` as 5, so the NUL reached the outputs. */
static void test_nul_byte_refused(void **state)
{
    static const char text[] = "{\"data\":[{\"id\":1,\"created_at\":"
                               "\"2024-01-31T10:00:00Z\",\"user_id\":5\0,\"x\":1}]}";
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    char *body = malloc(sizeof(text));

    (void)state;
    assert_non_null(body);
    memcpy(body, text, sizeof(text));
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, sizeof(text) - 1, &pg, &err), 0);
    assert_int_equal(b.n, 0);
    assert_int_equal(pg.n_malformed, 1);
    assert_string_equal(pg.malformed[0].reason, "contains a NUL byte");
    done(&b, &pg);
}

/* Found by fuzz_page (a leak): a second pagination; and data twice is ambiguous. */
static void test_envelope_keys_once(void **state)
{
    static const char *const bodies[] = {
        "{\"pagination\":{\"after_cursor\":\"a\"},\"data\":[],\"pagination\":{}}",
        "{\"data\":[],\"data\":[]}",
        "{\"status\":{},\"data\":[],\"st\\u0061tus\":{}}",
    };
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(parse_text(bodies[i], &b, &pg, &err), -1);
        assert_non_null(strstr(err.msg, "appears twice"));
        done(&b, &pg);
    }
    /* escaped keys are the keys they spell */
    assert_int_equal(parse_text("{\"d\\u0061ta\":[{\"id\":1,\"created_at\":"
                                "\"2024-01-31T10:00:00Z\"}],\"p\\u0061gination\":"
                                "{\"after_cursor\":\"c\"}}",
                                &b, &pg, &err),
                     0);
    assert_int_equal(b.n, 1);
    assert_string_equal(pg.after_cursor, "c");
    done(&b, &pg);
}

/* A cursor the agent cannot follow must not end the window early. */
static void test_pagination_types(void **state)
{
    static const char *const refused[] = {
        "{\"pagination\":\"x\",\"data\":[]}",
        "{\"pagination\":[],\"data\":[]}",
        "{\"pagination\":{\"after_cursor\":5},\"data\":[]}",
        "{\"pagination\":{\"after_cursor\":{\"c\":1}},\"data\":[]}",
    };
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(parse_text(refused[i], &b, &pg, &err), -1);
        assert_non_null(strstr(err.msg, "pagination"));
        done(&b, &pg);
    }
    /* null pagination or cursor: the last page */
    assert_int_equal(parse_text("{\"pagination\":null,\"data\":[]}", &b, &pg, &err), 0);
    assert_null(pg.after_cursor);
    done(&b, &pg);
    assert_int_equal(
        parse_text("{\"pagination\":{\"after_cursor\":null},\"data\":[]}", &b, &pg, &err),
        0);
    assert_null(pg.after_cursor);
    done(&b, &pg);
}

/* Every malformed element is listed, not only the first OLA_PAGE_MAX_MALFORMED. */
static void test_many_malformed(void **state)
{
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    size_t cap = 1000 * 40 + 64, i;
    char *text = malloc(cap), *p = text;

    (void)state;
    assert_non_null(text);
    p += snprintf(p, cap, "{\"data\":[");
    for (i = 0; i < 1000; i++)
        p += snprintf(p, cap - (size_t)(p - text), "%s{\"id\":%zu,\"created_at\":%zu}",
                      i ? "," : "", i + 1, i);
    snprintf(p, cap - (size_t)(p - text), "]}");
    assert_int_equal(parse_text(text, &b, &pg, &err), 0);
    assert_int_equal(b.n, 0);
    assert_int_equal(pg.n_malformed, 1000);
    for (i = 0; i < 1000; i++) {
        const struct ola_page_malformed *m = ola_page_malformed_at(&pg, i);
        char want[32];

        snprintf(want, sizeof(want), "{\"id\":%zu,", i + 1);
        assert_int_equal(strncmp(m->raw, want, strlen(want)), 0);
        assert_non_null(strstr(m->reason, "created_at"));
    }
    done(&b, &pg);
    free(text);
}

static json_t *env_of(const char *text)
{
    return ola_page_envelope(text, strlen(text));
}

/* The envelope alone, for the client's status check: data is stepped over. */
static void test_envelope_without_data(void **state)
{
    size_t len;
    char *body = read_fixture("events-page-200.json", &len);
    json_t *env = ola_page_envelope(body, len), *full = json_loadb(body, len, 0, NULL);
    const char *k;
    json_t *v;

    (void)state;
    assert_non_null(env);
    assert_non_null(full);
    assert_null(json_object_get(env, "data"));
    assert_int_equal(json_object_size(env), json_object_size(full) - 1);
    json_object_foreach(full, k, v)
    {
        if (strcmp(k, "data") != 0)
            assert_true(json_equal(json_object_get(env, k), v));
    }
    json_decref(env);
    json_decref(full);
    free(body);
    /* events that Jansson would refuse do not spoil the envelope */
    env = env_of(
        "{\"data\":[{\"id\":1,\"n\":\"\xff\"},[[[[1]]]]],\"status\":{\"error\":true,"
        "\"code\":400,\"message\":\"rate_limit_exceeded\"}}");
    assert_non_null(env);
    assert_true(json_is_true(json_object_get(json_object_get(env, "status"), "error")));
    json_decref(env);
    /* escaped keys are decoded: "st\u0061tus" is status, "d\u0061ta" is data */
    env = env_of("{\"d\\u0061ta\":[1],\"st\\u0061tus\":{\"code\":200}}");
    assert_non_null(env);
    assert_null(json_object_get(env, "data"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(env, "status"), "code")), 200);
    json_decref(env);
    /* not one well-formed object: NULL */
    assert_null(env_of("{\"data\":[1]} x"));
    assert_null(env_of("{\"data\":[1"));
    assert_null(env_of("[1]"));
    assert_null(env_of("{\"status\":{\"error\":tru}}"));
    assert_null(env_of(""));
}

/* Builds a page of n events (ids from ids[], or 1..n), each created a second apart. */
static char *page_of(size_t n, const int64_t *ids, const char *extra, size_t *len)
{
    struct ola_buf b = OLA_BUF_INIT;
    size_t i;

    assert_int_equal(ola_buf_puts(&b, "{\"status\":{\"error\":false,\"code\":200},"
                                      "\"pagination\":{\"after_cursor\":null},"
                                      "\"data\":["),
                     0);
    for (i = 0; i < n; i++)
        assert_int_equal(ola_buf_printf(&b,
                                        "%s{\"id\":%lld,\"created_at\":"
                                        "\"2024-01-31T10:%02zu:%02zu.000Z\"}",
                                        i ? "," : "",
                                        (long long)(ids ? ids[i] : (int64_t)i + 1),
                                        i / 60 % 60, i % 60),
                         0);
    if (extra != NULL)
        assert_int_equal(ola_buf_puts(&b, extra), 0);
    assert_int_equal(ola_buf_puts(&b, "]}"), 0);
    return ola_buf_steal(&b, len);
}

/* A page is held to the limit it was asked with; past it nothing is parsed. */
static void test_limit_held(void **state)
{
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err = {0, ""};
    size_t len;
    char *body;

    (void)state;
    /* exactly the limit: fine */
    ola_batch_init(&b);
    body = page_of(50, NULL, NULL, &len);
    assert_int_equal(ola_page_parse_max(&b, body, len, 50, &pg, &err), 0);
    assert_int_equal(b.n, 50);
    assert_int_equal(pg.n_elements, 50);
    done(&b, &pg);

    /* one more: refused with both counts */
    ola_batch_init(&b);
    body = page_of(51, NULL, NULL, &len);
    assert_int_equal(ola_page_parse_max(&b, body, len, 50, &pg, &err), -1);
    assert_int_equal(err.code, E2BIG);
    assert_int_equal(pg.n_elements, 51);
    assert_non_null(strstr(err.msg, "51 events in data, more than the limit of 50"));
    done(&b, &pg);

    /* a malformed element counts as an element; those past the limit are only
     * counted (not parsed, not listed) */
    ola_batch_init(&b);
    body = page_of(3, NULL, ",{\"id\":\"x\"},{\"id\":", &len);
    assert_int_equal(ola_page_parse_max(&b, body, len, 2, &pg, &err), -1);
    assert_int_equal(err.code, 0); /* the truncated element sinks the page first */
    done(&b, &pg);
    ola_batch_init(&b);
    body = page_of(3, NULL, ",{\"id\":\"x\"},7", &len);
    assert_int_equal(ola_page_parse_max(&b, body, len, 2, &pg, &err), -1);
    assert_int_equal(err.code, E2BIG);
    assert_int_equal(pg.n_elements, 5);
    assert_true(b.n <= 2);
    assert_int_equal(pg.n_malformed, 0);
    done(&b, &pg);
    ola_batch_init(&b);
    body = page_of(3, NULL, ",{\"id\":\"x\"}", &len);
    assert_int_equal(ola_page_parse_max(&b, body, len, 4, &pg, &err), 0);
    assert_int_equal(pg.n_elements, 4);
    assert_int_equal(b.n, 3);
    assert_int_equal(pg.n_malformed, 1);
    done(&b, &pg);

    /* 160,000 events asked with limit 1000: refused after parsing at most 1001 */
    ola_batch_init(&b);
    body = page_of(160000, NULL, NULL, &len);
    assert_int_equal(ola_page_parse_max(&b, body, len, 1000, &pg, &err), -1);
    assert_int_equal(err.code, E2BIG);
    assert_int_equal(pg.n_elements, 160000);
    assert_true(b.n <= 1000);
    done(&b, &pg);

    /* no limit (0): everything is parsed */
    ola_batch_init(&b);
    body = page_of(1001, NULL, NULL, &len);
    assert_int_equal(ola_page_parse_max(&b, body, len, 0, &pg, &err), 0);
    assert_int_equal(b.n, 1001);
    done(&b, &pg);
}

/* A stop request ends a parse: the page is abandoned, not half delivered. */
static void test_stop_ends_parse(void **state)
{
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err = {0, ""};
    size_t len;
    char *body;

    (void)state;
    ola_batch_init(&b);
    body = page_of(10, NULL, NULL, &len);
    ola_stop_requested = 1;
    assert_int_equal(ola_page_parse_max(&b, body, len, 50, &pg, &err), -1);
    ola_stop_requested = 0;
    assert_int_equal(err.code, ECANCELED);
    done(&b, &pg);
}

/* Dedupe: ids delivered before and repeats inside the page go; order stays. */
static void test_dedupe(void **state)
{
    static const int64_t ids[] = {5, 3, 5, 9, 3, 4, 7, 9, 1};
    static const int64_t want[] = {3, 9, 4, 1};
    struct ola_seen *seen = ola_seen_new(), *scratch = ola_seen_new();
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err = {0, ""};
    size_t len, i;
    char *body = page_of(sizeof(ids) / sizeof(ids[0]), ids, NULL, &len);

    (void)state;
    assert_non_null(seen);
    assert_non_null(scratch);
    assert_int_equal(ola_seen_add(seen, 5, 0), 0);
    assert_int_equal(ola_seen_add(seen, 7, 0), 0);
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), 0);
    assert_int_equal(ola_page_dedupe(&b, seen, scratch), 5);
    assert_int_equal(b.n, sizeof(want) / sizeof(want[0]));
    for (i = 0; i < b.n; i++)
        assert_int_equal(b.ev[i].id, want[i]);
    assert_int_equal(ola_seen_count(scratch), 0); /* emptied after use */
    assert_int_equal(ola_seen_count(seen), 2);    /* only read */
    /* again: nothing repeats any more, and no delivered set */
    assert_int_equal(ola_page_dedupe(&b, NULL, scratch), 0);
    assert_int_equal(b.n, 4);
    done(&b, &pg);
    ola_seen_destroy(seen);
    ola_seen_destroy(scratch);
}

/* A big page with every id twice (the second copies in reverse order). */
static void test_dedupe_big_page(void **state)
{
    const size_t half = 100000;
    struct ola_seen *scratch = ola_seen_new();
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err = {0, ""};
    int64_t *ids = malloc(2 * half * sizeof(*ids));
    size_t len, i;
    char *body;

    (void)state;
    assert_non_null(scratch);
    assert_non_null(ids);
    for (i = 0; i < half; i++) {
        ids[i] = (int64_t)i + 1;
        ids[2 * half - 1 - i] = (int64_t)i + 1;
    }
    body = page_of(2 * half, ids, NULL, &len);
    ola_batch_init(&b);
    assert_int_equal(ola_page_parse(&b, body, len, &pg, &err), 0);
    assert_int_equal(ola_page_dedupe(&b, NULL, scratch), (long)half);
    assert_int_equal(b.n, half);
    for (i = 0; i < half; i++)
        assert_int_equal(b.ev[i].id, (int64_t)i + 1);
    done(&b, &pg);
    free(ids);
    ola_seen_destroy(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_page),
        cmocka_unit_test(test_compact_bytes_kept),
        cmocka_unit_test(test_oas_null_strings),
        cmocka_unit_test(test_bad_elements_are_reported),
        cmocka_unit_test(test_unusable_envelopes),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_malformed_not_repaired),
        cmocka_unit_test(test_nul_byte_refused),
        cmocka_unit_test(test_envelope_keys_once),
        cmocka_unit_test(test_pagination_types),
        cmocka_unit_test(test_many_malformed),
        cmocka_unit_test(test_envelope_without_data),
        cmocka_unit_test(test_limit_held),
        cmocka_unit_test(test_stop_ends_parse),
        cmocka_unit_test(test_dedupe),
        cmocka_unit_test(test_dedupe_big_page),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
