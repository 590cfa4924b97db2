/*
 * test_enrich_record.c - the enricher's compact records (record.c, vals.c).
 *
 * A user answer goes through ola_enrich_user_facts into a record and back
 * into a tree: the tree must dump to the same bytes as the tree the
 * enricher used to keep (facts + roles [{id, name}], built here the old way)
 * for users with nulls, non-ASCII text, custom attributes of every JSON
 * type, many roles, unnamed and null-named roles. Codes name the string
 * table's strings by number (test_enrich_intern.c tests the table); the hot trees stay
 * within their bound, go at trim, and a cache eviction gives a record's strings back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/buf.h"
#include "filters/enrich/enrich_priv.h"
#include "filters/enrich/record.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);

    if (v == NULL)
        fail_msg("fixture: %s", jerr.text);
    return v;
}

/* Asserts a and b dump to the same text. */
static void assert_same_dump(json_t *a, json_t *b)
{
    char *da = json_dumps(a, DUMP_FLAGS), *db = json_dumps(b, DUMP_FLAGS);

    assert_non_null(da);
    assert_non_null(db);
    assert_string_equal(da, db);
    assert_true(json_equal(a, b));
    free(da);
    free(db);
}

/* v's tree while hot, else NULL. */
static json_t *tree_of(const struct ola_enricher *en, const struct ola_val *v)
{
    return v->hot != 0 ? en->hot[v->hot - 1].tree : NULL;
}

static void free_val(void *en, uint64_t key, void *v)
{
    (void)key;
    ola_en_val_unref(en, v);
}

/* An enricher with nothing but what values need: a cache, a string table. */
static struct ola_enricher *bare_enricher(void)
{
    struct ola_enricher *en = calloc(1, sizeof(*en));
    struct ola_cache_opts co = {.max_entries = 5000,
                                .ttl_ms = 1000,
                                .negative_ttl_ms = 0,
                                .free_val = free_val,
                                .ctx = en};

    assert_non_null(en);
    en->role_gen = 1;
    en->o.roles = 1;
    en->cache = ola_cache_new(&co);
    assert_non_null(en->cache);
    return en;
}

static void bare_free(struct ola_enricher *en)
{
    ola_en_hot_bound(en, 0);
    ola_cache_destroy(en->cache);
    ola_slab_release(&en->slab);
    ola_intern_free(&en->intern);
    ola_buf_free(&en->code);
    free(en);
}

/* ---- the byte code -------------------------------------------------------------- */

static const char *const users[] = {
    /* v2, everything set, non-ASCII, custom attributes of every type */
    "{\"id\":1001,\"username\":\"zo\\u00eb.angstr\\u00f6m\",\"email\":\"z@example.com\","
    "\"firstname\":\"Zo\\u00eb\",\"lastname\":\"\\u00c5ngstr\\u00f6m \\ud83d\\ude00\","
    "\"status\":1,\"state\":1,\"department\":\"R\\u0026D\",\"title\":\"Ing\\u00e9nieur\","
    "\"manager_user_id\":1000,\"locked_until\":null,\"last_login\":\"2026-01-02T03:04:"
    "05Z\","
    "\"role_ids\":[501,502],\"custom_attributes\":{\"employeenumber\":\"E00042\","
    "\"costcenter\":null,\"badge\":\"\",\"level\":3,\"ratio\":0.1,\"big\":1e300,"
    "\"neg\":-0.0,\"flag\":true,\"off\":false,\"tags\":[\"a\",1,[2,{\"k\":null}]],"
    "\"nested\":{\"x\":{\"y\":\"z\"}}}}",
    /* v2 with nulls and missing members */
    "{\"id\":1002,\"username\":null,\"email\":null,\"status\":null,\"state\":99}",
    /* v1 envelope, role_id null */
    "{\"status\":{\"error\":false},\"data\":[{\"id\":1003,\"username\":\"bob\","
    "\"status\":3,\"state\":0,\"department\":\"Sales\",\"title\":\"\","
    "\"custom_attributes\":{},\"role_id\":null}]}",
    /* odd types where strings are expected */
    "{\"id\":1004,\"username\":42,\"email\":[\"a\",\"b\"],\"firstname\":{\"x\":1},"
    "\"lastname\":true,\"department\":12.5,\"title\":[],\"custom_attributes\":\"text\","
    "\"role_ids\":[]}",
};

static void test_round_trip_facts(void **state)
{
    struct ola_intern t = {0};
    struct ola_buf code = OLA_BUF_INIT;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        json_t *body = load(users[i]), *facts, *back;
        int64_t *ids;
        size_t n;
        bool known;

        facts = ola_enrich_user_facts(body, &ids, &n, &known);
        assert_non_null(facts);
        assert_int_equal(ola_urec_encode(&t, facts, &code), 0);
        back = ola_urec_decode(&t, (const unsigned char *)code.data, code.len);
        assert_non_null(back);
        assert_same_dump(back, facts);
        ola_urec_release(&t, (const unsigned char *)code.data, code.len);
        json_decref(back);
        json_decref(facts);
        json_decref(body);
        free(ids);
    }
    /* every reference went back: the sweep empties the table */
    ola_intern_sweep(&t);
    assert_int_equal(t.n, 0);
    ola_intern_free(&t);
    ola_buf_free(&code);
}

static void test_encode_refuses_other_shapes(void **state)
{
    struct ola_intern t = {0};
    struct ola_buf code = OLA_BUF_INIT;
    json_t *body = load(users[0]), *facts, *odd;
    int64_t *ids;
    size_t n;
    bool known;

    (void)state;
    facts = ola_enrich_user_facts(body, &ids, &n, &known);
    assert_non_null(facts);
    /* a member more, a member less, the same members in another order */
    odd = json_deep_copy(facts);
    json_object_set_new(odd, "extra", json_true());
    assert_int_equal(ola_urec_encode(&t, odd, &code), -1);
    json_decref(odd);
    odd = json_deep_copy(facts);
    json_object_del(odd, "title");
    assert_int_equal(ola_urec_encode(&t, odd, &code), -1);
    json_decref(odd);
    odd = json_object();
    json_object_set(odd, "username", json_object_get(facts, "username"));
    json_object_set(odd, "id", json_object_get(facts, "id"));
    json_object_update_missing(odd, facts);
    assert_int_equal(ola_urec_encode(&t, odd, &code), -1);
    json_decref(odd);
    assert_int_equal(ola_urec_encode(&t, json_null(), &code), -1);
    /* what the failed ones took is given back */
    ola_intern_sweep(&t);
    assert_int_equal(t.n, 0);
    ola_intern_free(&t);
    ola_buf_free(&code);
    json_decref(facts);
    json_decref(body);
    free(ids);
}

/* The code of users[0] with member key of its facts (or of its custom attributes,
   custom true) set to v (stolen), and key2 of its facts to v2 when key2 is not NULL;
   checks the round trip. Returns the code's length. */
static size_t code_len_with2(const char *key, json_t *v, bool custom, const char *key2,
                             json_t *v2)
{
    struct ola_intern t = {0};
    struct ola_buf code = OLA_BUF_INIT;
    json_t *body = load(users[0]), *facts, *back;
    int64_t *ids;
    size_t n, len;
    bool known;

    facts = ola_enrich_user_facts(body, &ids, &n, &known);
    assert_non_null(facts);
    assert_int_equal(
        json_object_set_new(custom ? json_object_get(facts, "custom_attributes") : facts,
                            key, v),
        0);
    if (key2 != NULL)
        assert_int_equal(json_object_set_new(facts, key2, v2), 0);
    assert_int_equal(ola_urec_encode(&t, facts, &code), 0);
    back = ola_urec_decode(&t, (const unsigned char *)code.data, code.len);
    assert_non_null(back);
    assert_same_dump(back, facts);
    len = code.len;
    ola_urec_release(&t, (const unsigned char *)code.data, code.len);
    ola_intern_sweep(&t);
    assert_int_equal(t.n, 0);
    ola_intern_free(&t);
    ola_buf_free(&code);
    json_decref(back);
    json_decref(facts);
    json_decref(body);
    free(ids);
    return len;
}

static size_t code_len_with(const char *key, json_t *v, bool custom)
{
    return code_len_with2(key, v, custom, NULL, NULL);
}

/* Integers are varints and OneLogin's instants 6 bytes; every value reads back
   byte for byte, and anything that is not exactly an instant stays a string. */
static void test_numbers_and_instants_compact(void **state)
{
    static const char *const not_instants[] = {
        "2026-12-07 10:11:12.345Z", /* a space for the T: parsed, written back with T */
        "2026-12-07T10:11:12.345+00:00", /* an offset */
        "2026-12-07T10:11:12Z",          /* no milliseconds */
        "2026-12-07T10:11:12.3456Z",     /* more digits */
        "2026-02-30T10:11:12.345Z",      /* no such day */
        "2026-12-07T10:11:12.345z",      /* lower case */
        "2026-12-07T24:11:12.345Z",      /* no such hour */
        "+2026-12-07T10:11:12.345Z",     "",
    };
    static const char *const instants[] = {
        "2026-12-07T10:11:12.345Z", "1970-01-01T00:00:00.000Z",
        "1969-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z",
        "9999-12-31T23:59:59.999Z",
    };
    static const json_int_t ints[] = {
        0, 1, -1, 63, 64, -64, -65, 1000, INT32_MAX, INT64_MAX, INT64_MIN, INT64_MIN + 1,
    };
    size_t i, as_text, small, big;

    (void)state;
    for (i = 0; i < sizeof(not_instants) / sizeof(not_instants[0]); i++)
        code_len_with("last_login", json_string(not_instants[i]), false);
    for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        code_len_with("last_login", json_string(instants[i]), false);
        code_len_with("seen", json_string(instants[i]), true);
    }
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        code_len_with("manager_user_id", json_integer(ints[i]), false);
        code_len_with("n", json_integer(ints[i]), true);
    }
    /* the sizes: a 24-byte string is a tag, a length and its bytes (26); an instant
       a tag and 6 bytes of varint */
    as_text = code_len_with("last_login", json_string(not_instants[0]), false);
    assert_int_equal(
        as_text - code_len_with("last_login", json_string(instants[0]), false), 26 - 7);
    /* an integer is a tag and 1 byte (0..63), 2 (64..8191) ... up to 10 */
    small = code_len_with("manager_user_id", json_integer(63), false);
    assert_int_equal(code_len_with("manager_user_id", json_integer(64), false),
                     small + 1);
    big = code_len_with("manager_user_id", json_integer(INT64_MIN), false);
    assert_int_equal(big, small + 9);
    assert_int_equal(code_len_with("manager_user_id", json_null(), false), small - 1);
}

/* status_name and state_name, when status and state give them, are a tag alone;
   any other value is kept as it is. */
static void test_derived_names(void **state)
{
    size_t derived, kept;

    (void)state;
    /* users[0]: status 1 (a byte), "active", state 1, "approved" */
    derived = code_len_with("status_name", json_string("active"), false);
    kept = code_len_with("status_name", json_string("ACTIVE"), false);
    assert_int_equal(kept - derived, 2); /* a shared string: its number */
    assert_int_equal(code_len_with("status_name", json_null(), false), derived);
    /* "active" is not what status 3 (locked) gives: kept */
    assert_int_equal(code_len_with("status", json_integer(3), false), kept);
    assert_int_equal(code_len_with2("status", json_integer(3), false, "status_name",
                                    json_string("locked")),
                     derived);
    /* a status without a name, or no integer: null is derived, a name is kept */
    assert_int_equal(
        code_len_with2("status", json_integer(-1), false, "status_name", json_null()),
        derived);
    /* (null is the tag alone, 1 a tag and a byte) */
    assert_int_equal(
        code_len_with2("status", json_null(), false, "status_name", json_null()),
        derived - 1);
    assert_int_equal(code_len_with2("status", json_null(), false, "status_name",
                                    json_string("active")),
                     kept - 1);
    assert_int_equal(code_len_with("state_name", json_string("approved"), false),
                     derived);
    assert_int_equal(code_len_with("state_name", json_integer(7), false), derived + 1);
    code_len_with2("state", json_string("1"), false, "state_name", json_null());
}

/*
 * An email is the username (the tag alone), the username at a domain or
 * another local part at a domain (the domain by its number in the table);
 * anything else stays a string. Each reads back byte for byte and gives its
 * domain back (code_len_with2 checks both).
 */
static void test_email_forms(void **state)
{
    char longer[400];
    size_t plain;

    (void)state;
    /* two "@": a string (a tag, its length, 15 bytes) */
    plain = code_len_with2("username", json_string("zo"), false, "email",
                           json_string("zo@@example.com"));
    /* the username at a domain: a tag and the domain's number */
    assert_int_equal(code_len_with2("username", json_string("zo"), false, "email",
                                    json_string("zo@example.com")),
                     plain - 14);
    /* another local part: a tag, its length and bytes, the domain's number */
    assert_int_equal(code_len_with2("username", json_string("zo"), false, "email",
                                    json_string("za@example.com")),
                     plain - 11);
    assert_int_equal(code_len_with2("username", json_null(), false, "email",
                                    json_string("zo@example.com")),
                     plain - 11 - 3);
    /* the username itself (12 bytes longer than "zo"): the tag alone */
    assert_int_equal(code_len_with2("username", json_string("zo@example.com"), false,
                                    "email", json_string("zo@example.com")),
                     plain - 16 + 12);
    /* no local part, no domain, not a string, too long: kept as they are */
    assert_int_equal(code_len_with2("username", json_string("zo"), false, "email",
                                    json_string("@example.com")),
                     plain - 3);
    assert_int_equal(
        code_len_with2("username", json_string("zo"), false, "email", json_string("zo@")),
        plain - 12);
    code_len_with2("username", json_string("zo"), false, "email", json_integer(42));
    code_len_with2("username", json_string("zo"), false, "email", json_null());
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer + sizeof(longer) - 13, "@example.com", 12);
    assert_true(code_len_with2("username", json_string("zo"), false, "email",
                               json_string(longer)) > sizeof(longer));
}

/* ---- the string table ------------------------------------------------------------ */

/*
 * A code names the strings of the table by number and the others by pointer:
 * with the table full, a user's new department is a pointer; both codes read
 * back the same after sweeps that free and reuse other numbers, and give
 * every reference back.
 */
static void test_codes_name_strings_by_number(void **state)
{
    struct ola_intern t = {0};
    struct ola_buf c1 = OLA_BUF_INIT, c2 = OLA_BUF_INIT;
    struct ola_istr *held[OLA_INTERN_MAX], *sales;
    json_t *body1 = load(users[0]), *body2 = load(users[2]), *f1, *f2, *back;
    char s[32];
    int64_t *ids;
    size_t n, i;
    bool known;

    (void)state;
    f1 = ola_enrich_user_facts(body1, &ids, &n, &known);
    free(ids);
    f2 = ola_enrich_user_facts(body2, &ids, &n, &known);
    free(ids);
    assert_int_equal(ola_urec_encode(&t, f1, &c1), 0);
    /* fill the table: f2's department ("Sales") finds no room */
    for (i = 0; t.n < OLA_INTERN_MAX; i++) {
        int k = snprintf(s, sizeof(s), "filler-%zu", i);

        held[i] = ola_intern_get(&t, s, (size_t)k);
    }
    assert_int_equal(ola_urec_encode(&t, f2, &c2), 0);
    sales = ola_intern_get(&t, "Sales", 5);
    assert_int_equal(sales->idx, 0); /* not in the table: a pointer in c2 */
    ola_istr_unref(sales);
    /* the fillers go; new strings take their numbers */
    while (i-- > 0)
        ola_istr_unref(held[i]);
    ola_intern_sweep(&t);
    for (i = 0; i < 50; i++) {
        int k = snprintf(s, sizeof(s), "later-%zu", i);

        held[i] = ola_intern_get(&t, s, (size_t)k);
    }
    back = ola_urec_decode(&t, (const unsigned char *)c1.data, c1.len);
    assert_same_dump(back, f1);
    json_decref(back);
    back = ola_urec_decode(&t, (const unsigned char *)c2.data, c2.len);
    assert_same_dump(back, f2);
    json_decref(back);
    while (i-- > 0)
        ola_istr_unref(held[i]);
    ola_urec_release(&t, (const unsigned char *)c1.data, c1.len);
    ola_urec_release(&t, (const unsigned char *)c2.data, c2.len);
    ola_intern_sweep(&t);
    assert_int_equal(t.n, 0);
    ola_intern_free(&t);
    ola_buf_free(&c1);
    ola_buf_free(&c2);
    json_decref(f1);
    json_decref(f2);
    json_decref(body1);
    json_decref(body2);
}

/* ---- users and roles ------------------------------------------------------------ */

/* The tree the enricher used to keep: facts + roles [role facts or {id}]. */
static json_t *old_tree(json_t *facts, const int64_t *ids, size_t n, bool known,
                        json_t *const *role_facts)
{
    json_t *out = json_object(), *roles = json_array();
    size_t k;

    json_object_update(out, facts);
    for (k = 0; k < n; k++)
        json_array_append_new(roles, role_facts[k] != NULL
                                         ? json_incref(role_facts[k])
                                         : json_pack("{s:I}", "id", (json_int_t)ids[k]));
    json_object_set_new(out, "roles", known ? roles : json_null());
    if (!known)
        json_decref(roles);
    return out;
}

static void test_user_tree_like_the_old_one(void **state)
{
    struct ola_enricher *en = bare_enricher();
    static const char many[] =
        "{\"id\":77,\"username\":\"m\",\"department\":\"Ops\",\"title\":\"Lead\","
        "\"status\":1,\"state\":1,\"role_ids\":[1,2,3,4,5,6,7,8,9,10,11,12,-4,0]}";
    const char *const bodies[] = {users[0], users[1], users[2], users[3], many};
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *body = load(bodies[i]), *facts, *want, *got, *rf[16] = {NULL};
        struct ola_val *u, *r[16] = {NULL};
        int64_t *ids;
        size_t n;
        bool known;

        facts = ola_enrich_user_facts(body, &ids, &n, &known);
        assert_non_null(facts);
        assert_true(n <= 16);
        u = ola_en_user_new(en, facts, ids, n, known);
        assert_non_null(u);
        /* roles named, one null-named, every third left without a name */
        for (k = 0; k < n; k++) {
            char name[32];
            json_t *jn;

            if (k % 3 == 2)
                continue;
            snprintf(name, sizeof(name), "R\u00f4le %zu", k % 4);
            jn = k == 1 ? json_null() : json_string(name);
            rf[k] = json_pack("{s:I, s:O}", "id", (json_int_t)ids[k], "name", jn);
            r[k] = ola_en_role_new(en, ids[k], jn);
            assert_non_null(r[k]);
            if (ids[k] > 0 && k % 4 != 3) /* some in the cache, some not */
                assert_int_equal(ola_cache_put(en->cache, ola_key(ids[k], OLA_K_ROLE),
                                               ola_en_val_ref(r[k]), 0),
                                 0);
            json_decref(jn);
            u->roles[k].name =
                r[k]->name == OLA_NAME_NULL ? OLA_NAME_NULL : ola_istr_ref(r[k]->name);
        }
        want = old_tree(facts, ids, n, known, rf);
        got = ola_en_val_json(en, u, 0);
        assert_non_null(got);
        assert_same_dump(got, want);
        /* the same tree while hot */
        assert_ptr_equal(ola_en_val_json(en, u, 0), got);
        for (k = 0; k < n; k++) {
            json_t *item = json_array_get(json_object_get(got, "roles"), k);

            if (r[k] == NULL)
                continue;
            assert_same_dump(ola_en_val_json(en, r[k], 0), rf[k]);
            /* a cached role with the name u was built with: its own tree */
            if (ids[k] > 0 && k % 4 != 3)
                assert_ptr_equal(item, ola_en_val_json(en, r[k], 0));
            else
                assert_ptr_not_equal(item, ola_en_val_json(en, r[k], 0));
            ola_en_val_unref(en, r[k]);
            json_decref(rf[k]);
        }
        ola_en_val_unref(en, u); /* the hot list still holds it */
        assert_ptr_equal(ola_en_val_json(en, u, 0), got);
        json_decref(want);
        json_decref(facts);
        json_decref(body);
        free(ids);
    }
    ola_en_hot_bound(en, 0);
    assert_int_equal(en->hot_n, 0);
    ola_cache_destroy(en->cache);
    en->cache = NULL;
    ola_intern_sweep(&en->intern);
    assert_int_equal(en->intern.n, 0); /* every value gave its strings back */
    bare_free(en);
}

/*
 * A user's tree makes its cached roles hot first, each taking a slot in the
 * hot array: the user's own slot must be made room for after them. With 254
 * trees hot (the array's first 256 slots), a user with two cached roles
 * fills them and needs a 257th.
 */
static void test_hot_room_after_roles(void **state)
{
    struct ola_enricher *en = bare_enricher();
    struct ola_val *u[254], *r[2], *user;
    json_t *body, *facts, *name, *tree;
    char text[256];
    int64_t *ids;
    size_t i, n;
    bool known;

    (void)state;
    for (i = 0; i < 254; i++) {
        snprintf(text, sizeof(text), "{\"id\":%zu,\"username\":\"u%zu\",\"role_ids\":[]}",
                 i + 1, i);
        body = load(text);
        facts = ola_enrich_user_facts(body, &ids, &n, &known);
        u[i] = ola_en_user_new(en, facts, ids, n, known);
        assert_non_null(u[i]);
        assert_non_null(ola_en_val_json(en, u[i], 0));
        json_decref(facts);
        json_decref(body);
        free(ids);
    }
    assert_int_equal(en->hot_n, 254);
    body = load("{\"id\":999,\"username\":\"boss\",\"role_ids\":[701,702]}");
    facts = ola_enrich_user_facts(body, &ids, &n, &known);
    user = ola_en_user_new(en, facts, ids, n, known);
    assert_non_null(user);
    assert_int_equal(n, 2);
    for (i = 0; i < 2; i++) {
        name = json_string(i == 0 ? "Admin" : "Auditor");
        r[i] = ola_en_role_new(en, ids[i], name);
        assert_non_null(r[i]);
        assert_int_equal(ola_cache_put(en->cache, ola_key(ids[i], OLA_K_ROLE),
                                       ola_en_val_ref(r[i]), 0),
                         0);
        user->roles[i].name = ola_istr_ref(r[i]->name);
        json_decref(name);
    }
    tree = ola_en_val_json(en, user, 0);
    assert_non_null(tree);
    assert_int_equal(json_array_size(json_object_get(tree, "roles")), 2);
    assert_int_equal(en->hot_n, 257);
    assert_true(en->hot_n <= en->hot_cap);
    for (i = 0; i < en->hot_n; i++)
        assert_int_equal(en->hot[i].val->hot, i + 1);
    assert_ptr_equal(en->hot[256].val, user);
    assert_ptr_equal(en->hot[256].tree, tree);
    ola_en_hot_bound(en, 0);
    assert_int_equal(en->hot_n, 0);
    for (i = 0; i < 254; i++)
        ola_en_val_unref(en, u[i]);
    for (i = 0; i < 2; i++)
        ola_en_val_unref(en, r[i]);
    ola_en_val_unref(en, user);
    json_decref(facts);
    json_decref(body);
    free(ids);
    bare_free(en);
}

static void test_hot_bound_and_trim(void **state)
{
    struct ola_enricher *en = bare_enricher();
    struct ola_val *u[10];
    json_t *kept, *body, *facts;
    char text[256];
    int64_t *ids;
    size_t i, n;
    bool known;

    (void)state;
    for (i = 0; i < 10; i++) {
        snprintf(text, sizeof(text),
                 "{\"id\":%zu,\"username\":\"u%zu\",\"department\":\"D%zu\","
                 "\"role_ids\":[]}",
                 i + 1, i, i % 2);
        body = load(text);
        facts = ola_enrich_user_facts(body, &ids, &n, &known);
        u[i] = ola_en_user_new(en, facts, ids, n, known);
        assert_non_null(u[i]);
        en->page = i + 1; /* user i last used on page i + 1 */
        assert_non_null(ola_en_val_json(en, u[i], 0));
        json_decref(facts);
        json_decref(body);
        free(ids);
    }
    assert_int_equal(en->hot_n, 10);
    kept = json_incref(tree_of(en, u[0])); /* an event that still holds u[0]'s tree */
    en->page = 11;
    assert_ptr_equal(ola_en_val_json(en, u[0], 0), kept); /* used again: the newest */
    ola_en_hot_bound(en, 10);                             /* within the bound */
    assert_int_equal(en->hot_n, 10);
    ola_en_hot_bound(en, 4); /* over it: the oldest go, three quarters stay */
    assert_int_equal(en->hot_n, 3);
    assert_ptr_equal(tree_of(en, u[0]), kept);
    assert_non_null(tree_of(en, u[9]));
    assert_non_null(tree_of(en, u[8]));
    for (i = 1; i < 8; i++)
        assert_null(tree_of(en, u[i]));
    for (i = 0; i < en->hot_n; i++) /* each knows its place */
        assert_int_equal(en->hot[i].val->hot, i + 1);
    ola_en_hot_bound(en, 0); /* the trim: no trees at rest */
    assert_int_equal(en->hot_n, 0);
    for (i = 0; i < 10; i++)
        assert_null(tree_of(en, u[i]));
    /* the event's reference is still good, and equal to a new build */
    assert_same_dump(kept, ola_en_val_json(en, u[0], 0));
    assert_ptr_not_equal(kept, tree_of(en, u[0]));
    json_decref(kept);
    for (i = 0; i < 10; i++)
        ola_en_val_unref(en, u[i]);
    bare_free(en);
}

static void test_eviction_gives_strings_back(void **state)
{
    struct ola_enricher *en = bare_enricher();
    struct ola_cache_opts co = {.max_entries = 4,
                                .ttl_ms = 1000,
                                .negative_ttl_ms = 0,
                                .free_val = free_val,
                                .ctx = en};
    struct ola_cache *c = ola_cache_new(&co);
    char text[256];
    size_t i;

    (void)state;
    assert_non_null(c);
    for (i = 0; i < 12; i++) {
        json_t *body, *facts;
        struct ola_val *u;
        int64_t *ids;
        size_t n;
        bool known;

        snprintf(text, sizeof(text),
                 "{\"id\":%zu,\"username\":\"u\",\"department\":\"Dept-%zu\","
                 "\"title\":\"T\",\"role_ids\":[1]}",
                 i + 1, i);
        body = load(text);
        facts = ola_enrich_user_facts(body, &ids, &n, &known);
        u = ola_en_user_new(en, facts, ids, n, known);
        assert_non_null(u);
        assert_int_equal(ola_cache_put(c, ola_key((int64_t)i + 1, OLA_K_USER), u, 0), 0);
        json_decref(facts);
        json_decref(body);
        free(ids);
    }
    assert_int_equal(ola_cache_stats(c)->evicted, 8);
    /* only the four users left hold strings: their departments and "T" */
    ola_intern_sweep(&en->intern);
    assert_int_equal(en->intern.n, 4 + 1);
    ola_cache_destroy(c);
    ola_intern_sweep(&en->intern);
    assert_int_equal(en->intern.n, 0);
    bare_free(en);
}

/*
 * Churn leaves dead records in the slab's chunks; the trim's compaction
 * moves the live ones to fresh chunks (the old ones go) and they read the same,
 * their roles inline or set again (an allocation of their own, which stays).
 */
static void test_compaction_moves_records(void **state)
{
    struct ola_enricher *en = bare_enricher();
    char text[512], *before[100];
    size_t i, used;

    (void)state;
    for (i = 0; i < 2000; i++) {
        json_t *body, *facts;
        struct ola_val *u;
        int64_t *ids;
        size_t n;
        bool known;

        snprintf(text, sizeof(text),
                 "{\"id\":%zu,\"username\":\"user-%zu-with-a-longer-name\","
                 "\"email\":\"user%zu@example.com\",\"department\":\"D%zu\","
                 "\"custom_attributes\":{\"n\":\"E%05zu\"},\"role_ids\":[1,2,%zu]}",
                 i + 1, i, i, i % 5, i, i + 3);
        body = load(text);
        facts = ola_enrich_user_facts(body, &ids, &n, &known);
        u = ola_en_user_new(en, facts, ids, n, known);
        assert_non_null(u);
        assert_true(u->in_slab);
        /* the cache keeps 100: the rest are evicted, dead bytes in the chunks */
        assert_int_equal(
            ola_cache_put(en->cache, ola_key((int64_t)i + 1, OLA_K_USER), u, 0), 0);
        json_decref(facts);
        json_decref(body);
        free(ids);
    }
    /* one in 20 stays: dead bytes in every chunk */
    for (i = 0; i < 2000; i++)
        if (i % 20 != 0)
            assert_true(ola_cache_remove(en->cache, ola_key((int64_t)i + 1, OLA_K_USER)));
    for (i = 0; i < 100; i++) {
        void *v = NULL;

        assert_int_equal(
            ola_cache_peek(en->cache, ola_key(20 * (int64_t)i + 1, OLA_K_USER), 0, &v),
            OLA_CACHE_HIT);
        if (i % 2 == 0) { /* roles set again: their own allocation, not inline */
            const int64_t again[] = {7, 8, 9, (int64_t)i + 10};

            assert_int_equal(ola_en_user_set_roles(v, again, 4), 0);
        }
        before[i] = json_dumps(ola_en_val_json(en, v, 0), DUMP_FLAGS);
    }
    ola_en_hot_bound(en, 0);
    used = en->slab.used;
    assert_true(ola_slab_sparse(&en->slab));
    ola_en_compact(en);
    assert_true(en->slab.used < used / 4); /* the old chunks went */
    assert_int_equal(en->slab.used, en->slab.live);
    for (i = 0; i < 100; i++) {
        void *v = NULL;
        char *after;

        assert_int_equal(
            ola_cache_peek(en->cache, ola_key(20 * (int64_t)i + 1, OLA_K_USER), 0, &v),
            OLA_CACHE_HIT);
        after = json_dumps(ola_en_val_json(en, v, 0), DUMP_FLAGS);
        assert_string_equal(after, before[i]);
        free(after);
        free(before[i]);
    }
    bare_free(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_facts),
        cmocka_unit_test(test_encode_refuses_other_shapes),
        cmocka_unit_test(test_numbers_and_instants_compact),
        cmocka_unit_test(test_derived_names),
        cmocka_unit_test(test_email_forms),
        cmocka_unit_test(test_codes_name_strings_by_number),
        cmocka_unit_test(test_user_tree_like_the_old_one),
        cmocka_unit_test(test_hot_room_after_roles),
        cmocka_unit_test(test_hot_bound_and_trim),
        cmocka_unit_test(test_eviction_gives_strings_back),
        cmocka_unit_test(test_compaction_moves_records),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
