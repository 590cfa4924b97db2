/*
 * test_page.c - the events page parser on recorded bodies and on bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "page.h"

static char *read_fixture(const char *name, size_t *len)
{
    const char *dir = getenv("OLA_DATA_DIR");
    char path[1024];
    FILE *f;
    char *buf;
    long n;

    assert_non_null(dir);
    assert_true(snprintf(path, sizeof(path), "%s/onelogin/%s", dir, name) <
                (int)sizeof(path));
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
