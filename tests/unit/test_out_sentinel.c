/*
 * test_out_sentinel.c - the sentinel output (outputs/out_sentinel*.c): URLs,
 * the token cache and its expiry, the rows against docs/sentinel-dcr.json,
 * configuration errors with file:line, and the output end to end against the
 * in-process HTTP fake playing Entra ID's token endpoint and the Logs
 * Ingestion API: a token fetched once and reused, fetched again when it
 * expires and after a 401, a second 401 fatal, a refused client secret fatal
 * without the secret in the reason, and 413 answers split until every row is
 * stored exactly once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "agent/core/fileio.h"
#include "agent/core/timeutil.h"
#include "outputs/out_sentinel.h"
#include "tests/lib/http_fake.h"

#define SECRET "s3cr3t-~value&=+"
#define DCR    "dcr-0123456789abcdef0123456789abcdef"

/* ---- the fake Azure ---------------------------------------------------------------- */

struct az {
    pthread_mutex_t lock;
    int tokens;       /* issued */
    int expires_in;   /* of the next token */
    char current[64]; /* the token the ingestion takes */
    bool reject_all;  /* every token refused (401) */
    size_t max_body;  /* larger bodies: 413 */
    int n413, n401, n204;
    int seen[1000]; /* rows stored per id */
};

static struct az AZ;

static void az_reset(int expires_in, size_t max_body)
{
    pthread_mutex_lock(&AZ.lock);
    AZ.tokens = 0;
    AZ.expires_in = expires_in;
    AZ.current[0] = '\0';
    AZ.reject_all = false;
    AZ.max_body = max_body;
    AZ.n413 = AZ.n401 = AZ.n204 = 0;
    memset(AZ.seen, 0, sizeof(AZ.seen));
    pthread_mutex_unlock(&AZ.lock);
}

static void az_body(struct ola_fake_answer *a, int status, const char *body)
{
    a->status = status;
    a->body = strdup(body);
    a->len = strlen(body);
}

static int az_handler(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a)
{
    const char *auth = ola_fake_header(rq, "Authorization");
    char buf[256];

    (void)arg;
    pthread_mutex_lock(&AZ.lock);
    if (strcmp(rq->path, "/tid/oauth2/v2.0/token") == 0) {
        /* the form: the secret URL-encoded, the scope with its two slashes */
        if (rq->body == NULL ||
            strstr(rq->body, "client_secret=s3cr3t-~value%26%3D%2B") == NULL ||
            strstr(rq->body, "grant_type=client_credentials") == NULL ||
            strstr(rq->body, "client_id=cid") == NULL ||
            strstr(rq->body, "scope=https%3A%2F%2Fmonitor.azure.com%2F%2F.default") ==
                NULL) {
            az_body(
                a, 401,
                "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
                "Invalid client secret provided.\\r\\nTrace ID: 1\"}");
        } else {
            snprintf(AZ.current, sizeof(AZ.current), "tok-%d", ++AZ.tokens);
            snprintf(buf, sizeof(buf),
                     "{\"token_type\":\"Bearer\",\"expires_in\":%d,\"ext_expires_in\":%d,"
                     "\"access_token\":\"%s\"}",
                     AZ.expires_in, AZ.expires_in, AZ.current);
            az_body(a, 200, buf);
        }
    } else if (strcmp(rq->path, "/dataCollectionRules/" DCR "/streams/Custom-T_CL") ==
                   0 &&
               strcmp(ola_fake_query(rq, "api-version") ?: "", "2023-01-01") == 0) {
        snprintf(buf, sizeof(buf), "Bearer %s", AZ.current);
        if (AZ.reject_all || auth == NULL || strcmp(auth, buf) != 0) {
            AZ.n401++;
            az_body(a, 401, "{\"error\":{\"code\":\"InvalidToken\"}}");
        } else if (rq->body_len > AZ.max_body) {
            AZ.n413++;
            az_body(a, 413, "{\"error\":{\"code\":\"ContentLengthLimitExceeded\"}}");
        } else {
            json_t *rows = json_loadb(rq->body, rq->body_len, 0, NULL);
            size_t i;
            json_t *r;

            json_array_foreach(rows, i, r)
            {
                json_int_t id = json_integer_value(json_object_get(r, "id"));

                if (id > 0 && id < 1000)
                    AZ.seen[id]++;
            }
            json_decref(rows);
            AZ.n204++;
            a->status = 204;
        }
    } else {
        az_body(a, 404, "{}");
    }
    pthread_mutex_unlock(&AZ.lock);
    return 0;
}

static struct ola_fake *az_start(void)
{
    struct ola_fake_opts fo = {.handler = az_handler};
    struct ola_fake *f = NULL;
    struct ola_err err = {0, ""};

    if (ola_fake_start(&fo, &f, &err) != 0)
        fail_msg("%s", err.msg);
    return f;
}

/* ---- helpers ----------------------------------------------------------------------- */

static struct ola_output *make(struct ola_cfg_doc **doc, const char *yaml,
                               struct ola_err *err)
{
    struct ola_output_cfg oc;

    if (ola_cfg_load_string("o.yaml", yaml, strlen(yaml), doc, err) != 0)
        return NULL;
    oc.node = ola_cfg_root(*doc);
    oc.type = "sentinel";
    oc.name = NULL;
    return ola_output_new(&oc, 0, err);
}

static struct ola_output *make_for(struct ola_cfg_doc **doc, struct ola_fake *f,
                                   const char *secret)
{
    char yaml[1024];
    struct ola_err err = {0, ""};
    struct ola_output *o;

    snprintf(yaml, sizeof(yaml),
             "endpoint: %s/\ndcr_id: " DCR "\nstream: Custom-T_CL\ntenant_id: tid\n"
             "client_id: cid\nclient_secret: \"%s\"\nauthority: %s\ntimeout: 5s\n",
             ola_fake_url(f), secret, ola_fake_url(f));
    o = make(doc, yaml, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    return o;
}

/* n events with ids first.., each with a note of pad bytes. */
static void batch_of(struct ola_batch *b, int n, int first, size_t pad)
{
    static char raw[200][2200];

    assert_true(n <= 200 && pad < 2000);
    ola_batch_init(b);
    for (int i = 0; i < n; i++) {
        json_t *ev;
        struct ola_event *e;

        snprintf(raw[i], sizeof(raw[i]),
                 "{\"id\":%d,\"created_at\":\"2024-03-01T09:0%d:00.123Z\",\"user_id\":7,"
                 "\"notes\":\"%0*d\",\"new_field\":true}",
                 first + i, i % 10, (int)pad, 0);
        ev = json_loads(raw[i], 0, NULL);
        assert_non_null(ev);
        e = ola_batch_add(b, OLA_REC_EVENT, ev, raw[i], strlen(raw[i]));
        assert_non_null(e);
        e->id = first + i;
        assert_int_equal(ola_time_parse_iso("2024-03-01T09:00:00.123Z", &e->created_ms),
                         0);
    }
}

/* write, then flush until not RETRY within secs of wall-clock time. */
static enum ola_rc deliver(struct ola_output *o, struct ola_batch *b, int secs)
{
    int64_t end = ola_mono_ms() + secs * 1000;
    enum ola_rc rc = ola_output_write(o, b);

    assert_int_equal(rc, OLA_OK);
    do {
        rc = ola_output_flush(o, 1000);
    } while (rc == OLA_RETRY && ola_mono_ms() < end);
    return rc;
}

/* ---- pure parts ----------------------------------------------------------------------
 */

static void test_urls(void **state)
{
    char *u = NULL;

    (void)state;
    assert_int_equal(
        ola_az_ingest_url("https://my-dce.eastus-1.ingest.monitor.azure.com/", DCR,
                          "Custom-OneLoginEvents_CL", &u),
        0);
    assert_string_equal(u, "https://my-dce.eastus-1.ingest.monitor.azure.com/"
                           "dataCollectionRules/" DCR
                           "/streams/Custom-OneLoginEvents_CL?api-version=2023-01-01");
    free(u);
    assert_int_equal(
        ola_az_token_url("https://login.microsoftonline.com//", "contoso.com", &u), 0);
    assert_string_equal(
        u, "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token");
    free(u);
}

static void test_token_cache(void **state)
{
    struct ola_az_token t = {0};
    char why[200];
    const char *one =
        "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"A\"}";
    const char *ten =
        "{\"token_type\":\"Bearer\",\"expires_in\":\"10\",\"access_token\":\"B\"}";

    (void)state;
    assert_false(ola_az_token_valid(&t, 0));
    assert_int_equal(ola_az_token_take(&t, one, strlen(one), 1000, why, sizeof(why)), 0);
    assert_string_equal(t.value, "A");
    assert_int_equal(t.gen, 1);
    /* a one-hour token is renewed 5 minutes early */
    assert_true(ola_az_token_valid(&t, 1000 + 3599000 - 300000 - 1));
    assert_false(ola_az_token_valid(&t, 1000 + 3599000 - 300000));
    /* a 10 s token (expires_in as a string) 2 s early */
    assert_int_equal(ola_az_token_take(&t, ten, strlen(ten), 0, why, sizeof(why)), 0);
    assert_int_equal(t.gen, 2);
    assert_false(t.after_401);
    assert_true(ola_az_token_valid(&t, 7999));
    assert_false(ola_az_token_valid(&t, 8000));
    /* refused by the ingestion endpoint: invalid however young; the next one
     * is known to follow a refusal */
    t.refused = true;
    assert_false(ola_az_token_valid(&t, 0));
    assert_int_equal(ola_az_token_take(&t, one, strlen(one), 0, why, sizeof(why)), 0);
    assert_true(t.after_401);
    assert_false(t.refused);
    /* unusable answers leave the token as it was */
    assert_int_equal(ola_az_token_take(&t, "{\"expires_in\":5}", 16, 0, why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "access_token"));
    assert_int_equal(ola_az_token_take(&t, "{\"access_token\":\"x\",\"expires_in\":0}",
                                       35, 0, why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "expires_in"));
    assert_int_equal(ola_az_token_take(&t,
                                       "{\"access_token\":\"x\",\"token_type\":\"pop\","
                                       "\"expires_in\":9}",
                                       53, 0, why, sizeof(why)),
                     -1);
    assert_string_equal(t.value, "A");
    assert_int_equal(t.gen, 3);
    ola_az_token_free(&t);
}

/* The DCR's stream declares exactly the output's columns, and every row of the
 * formats' golden records fits them. */
static void test_dcr_columns(void **state)
{
    const char *src = getenv("OLA_SOURCE_DIR"), *data = getenv("OLA_DATA_DIR");
    char path[4096], *text = NULL, *line, *nl;
    size_t len = 0, i, rows = 0;
    json_t *dcr, *cols, *c;
    struct ola_buf out = OLA_BUF_INIT;
    bool extra_seen = false;

    (void)state;
    snprintf(path, sizeof(path), "%s/docs/sentinel-dcr.json", src ? src : ".");
    dcr = json_load_file(path, 0, NULL);
    assert_non_null(dcr);
    cols = json_object_get(
        json_object_get(
            json_object_get(json_object_get(dcr, "properties"), "streamDeclarations"),
            "Custom-OneLoginEvents_CL"),
        "columns");
    assert_true(json_is_array(cols));
    for (i = 0; ola_az_columns[i].name != NULL; i++) {
        c = json_array_get(cols, i);
        if (c == NULL ||
            strcmp(json_string_value(json_object_get(c, "name")) ?: "",
                   ola_az_columns[i].name) != 0 ||
            strcmp(json_string_value(json_object_get(c, "type")) ?: "",
                   ola_az_columns[i].type) != 0)
            fail_msg("column %zu: the output sends %s (%s), the DCR declares %s", i,
                     ola_az_columns[i].name, ola_az_columns[i].type,
                     c ? json_dumps(c, JSON_COMPACT) : "nothing");
    }
    assert_int_equal(json_array_size(cols), i);
    /* every row of the golden records: each key a column, each value its type */
    snprintf(path, sizeof(path), "%s/formats/expected.json.txt",
             data ? data : "tests/data");
    assert_int_equal(ola_read_file(path, (size_t)16 << 20, &text, &len), 0);
    for (line = text; line < text + len; line = nl + 1) {
        struct ola_event e = {0};
        json_t *row, *v;
        const char *k, *created;

        nl = memchr(line, '\n', (size_t)(text + len - line));
        if (nl == NULL)
            nl = text + len;
        if (nl == line)
            continue;
        row = json_loadb(line, (size_t)(nl - line), 0, NULL);
        created = json_string_value(json_object_get(row, "created_at"));
        if (created != NULL)
            assert_int_equal(ola_time_parse_iso(created, &e.created_ms), 0);
        json_decref(row);
        ola_buf_reset(&out);
        assert_int_equal(ola_az_row(&e, line, (size_t)(nl - line), &out), 0);
        row = json_loadb(out.data, out.len, 0, NULL);
        assert_non_null(row);
        json_object_foreach(row, k, v)
        {
            const char *type = NULL;
            bool ok;
            int64_t ms;

            json_array_foreach(cols, i, c)
            {
                if (strcmp(json_string_value(json_object_get(c, "name")), k) == 0)
                    type = json_string_value(json_object_get(c, "type"));
            }
            if (type == NULL)
                fail_msg("row %zu: %s is not a column of the DCR", rows, k);
            if (strcmp(type, "long") == 0 || strcmp(type, "int") == 0)
                ok = json_is_integer(v);
            else if (strcmp(type, "datetime") == 0)
                ok = json_is_string(v) &&
                     ola_time_parse_iso(json_string_value(v), &ms) == 0;
            else if (strcmp(type, "dynamic") == 0)
                ok = json_is_object(v) || json_is_array(v);
            else
                ok = json_is_string(v);
            if (!ok)
                fail_msg("row %zu: %s is not a %s", rows, k, type);
            extra_seen |= strcmp(k, "extra_fields") == 0;
        }
        /* TimeGenerated: created_at for events, last_seen for alerts */
        v = json_object_get(row, "created_at");
        if (v != NULL)
            assert_string_equal(json_string_value(json_object_get(row, "TimeGenerated")),
                                json_string_value(v));
        json_decref(row);
        rows++;
    }
    assert_true(rows >= 21);
    {
        /* a field OneLogin may add, one whose type changed, a null: nothing lost */
        static const char rec[] = "{\"id\":9,\"created_at\":\"2024-03-01T09:00:00Z\","
                                  "\"trusted_idp_id\":4,\"risk_score\":\"high\","
                                  "\"app_id\":null,\"olagent\":{\"tenant\":\"t1\"}}";
        struct ola_event e = {.created_ms = 1709283600000LL};

        ola_buf_reset(&out);
        assert_int_equal(ola_az_row(&e, rec, strlen(rec), &out), 0);
        assert_int_equal(ola_buf_putc(&out, '\0'), 0);
        assert_string_equal(
            out.data, "{\"TimeGenerated\":\"2024-03-01T09:00:00.000Z\",\"id\":9,"
                      "\"created_at\":\"2024-03-01T09:00:00Z\",\"olagent\":{\"tenant\":"
                      "\"t1\"},\"extra_fields\":{\"trusted_idp_id\":4,\"risk_score\":"
                      "\"high\"}}");
        extra_seen = true;
        /* not a JSON object: the format is not json */
        assert_int_equal(ola_az_row(&e, "<13>x", 5, &out), 1);
    }
    assert_true(extra_seen);
    free(text);
    ola_buf_free(&out);
    json_decref(dcr);
}

static void test_config_errors(void **state)
{
#define EP   "endpoint: https://e.example.com\n"
#define DC   "dcr_id: " DCR "\n"
#define ST   "stream: Custom-T_CL\n"
#define TE   "tenant_id: tid\n"
#define CRED "client_id: cid\nclient_secret: x\n"
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"endpoint: http://10.0.0.1\n" DC ST TE CRED,
         "o.yaml:1: endpoint: https is required"},
        {"endpoint: https://e.example.com/?x=1\n" DC ST TE CRED,
         "o.yaml:1: endpoint: a base URL"},
        {EP "dcr_id: dcr-12\n" ST TE CRED, "o.yaml:2: dcr_id: the DCR's immutable id"},
        {EP DC "stream: OneLogin\n" TE CRED, "o.yaml:3: stream: a stream of the DCR"},
        {EP DC ST "tenant_id: a/b\n" CRED, "o.yaml:4: tenant_id: the directory's id"},
        {EP DC ST TE CRED "authority: ftp://x\n", "o.yaml:7: authority: must start with"},
        {EP DC ST TE CRED "format: cef\n",
         "o.yaml:7: format: sentinel sends the json format's fields"},
        {EP DC ST TE CRED "batch_max_bytes: 2MiB\n", "o.yaml:7: batch_max_bytes"},
        {EP DC ST TE CRED "compression: gzip\n", "o.yaml:7: unknown key 'compression'"},
        {EP DC ST TE "client_id: cid\n",
         "client_secret or client_secret_file is required"},
        {DC ST TE CRED, "endpoint is required"},
    };
#undef EP
#undef DC
#undef ST
#undef TE
#undef CRED

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ola_cfg_doc *doc = NULL;
        struct ola_err err = {0, ""};
        struct ola_output *o = make(&doc, cases[i].yaml, &err);

        if (o != NULL || strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want, err.msg);
        ola_output_destroy(o);
        ola_cfg_doc_destroy(doc);
    }
}

/* ---- end to end ----------------------------------------------------------------------
 */

/* One token for several batches; 413 split until every row is stored once. */
static void test_split_and_cache(void **state)
{
    struct ola_fake *f = az_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o = make_for(&doc, f, SECRET);
    struct ola_batch b;

    (void)state;
    az_reset(3599, 8000); /* rows of ~1.2 KB: at most 6 fit */
    batch_of(&b, 40, 1, 1000);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    ola_batch_free(&b);
    batch_of(&b, 40, 101, 1000);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    pthread_mutex_lock(&AZ.lock);
    assert_int_equal(AZ.tokens, 1); /* cached */
    assert_true(AZ.n413 > 0);
    for (int id = 1; id <= 140; id++)
        if (AZ.seen[id] != (id <= 40 || id > 100 ? 1 : 0))
            fail_msg("id %d stored %d times", id, AZ.seen[id]);
    pthread_mutex_unlock(&AZ.lock);
    assert_int_equal(o->stats.emitted, 80);
    assert_int_equal(o->stats.dead_letters, 0);
    assert_int_equal(o->n_refused, 0);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* A token expires (by its expires_in), a token is revoked (401): both fetched anew. */
static void test_expiry_and_401(void **state)
{
    struct ola_fake *f = az_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o = make_for(&doc, f, SECRET);
    struct ola_batch b;
    int64_t until;

    (void)state;
    az_reset(1, 1 << 20); /* a 1 s token, renewed 200 ms early */
    batch_of(&b, 5, 1, 10);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    ola_batch_free(&b);
    until = ola_mono_ms() + 900;
    while (ola_mono_ms() < until) /* the token's lifetime passes (wall clock) */
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    batch_of(&b, 5, 11, 10);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    ola_batch_free(&b);
    pthread_mutex_lock(&AZ.lock);
    assert_int_equal(AZ.tokens, 2);
    assert_int_equal(AZ.n401, 0); /* renewed before it expired */
    /* revoked: the ingestion answers 401 for the token the output holds */
    AZ.expires_in = 3599;
    snprintf(AZ.current, sizeof(AZ.current), "revoked");
    pthread_mutex_unlock(&AZ.lock);
    batch_of(&b, 5, 21, 10);
    assert_int_equal(deliver(o, &b, 30), OLA_OK);
    pthread_mutex_lock(&AZ.lock);
    assert_int_equal(AZ.n401, 1);
    assert_int_equal(AZ.tokens, 3);
    for (int id = 21; id <= 25; id++)
        assert_int_equal(AZ.seen[id], 1);
    /* every token refused: one new token, then fatal */
    AZ.reject_all = true;
    pthread_mutex_unlock(&AZ.lock);
    ola_batch_free(&b);
    batch_of(&b, 5, 31, 10);
    assert_int_equal(deliver(o, &b, 30), OLA_FATAL);
    assert_non_null(strstr(o->last_error,
                           "HTTP 401: the ingestion endpoint refused a token "
                           "fetched just now"));
    pthread_mutex_lock(&AZ.lock);
    assert_int_equal(AZ.tokens, 4);
    assert_int_equal(AZ.n401, 3);
    pthread_mutex_unlock(&AZ.lock);
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

/* A refused client secret: fatal at once, the reason without the secret. */
static void test_wrong_secret(void **state)
{
    struct ola_fake *f = az_start();
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o = make_for(&doc, f, "not-the-secret");
    struct ola_batch b;

    (void)state;
    az_reset(3599, 1 << 20);
    batch_of(&b, 3, 1, 10);
    assert_int_equal(deliver(o, &b, 30), OLA_FATAL);
    assert_non_null(strstr(o->last_error,
                           "token: the authority refused the client "
                           "credentials (tenant_id, client_id, client_secret): "
                           "HTTP 401 invalid_client: AADSTS7000215: Invalid "
                           "client secret provided."));
    assert_null(strstr(o->last_error, "not-the-secret"));
    assert_null(strstr(o->last_error, "Trace")); /* the description's first line only */
    ola_output_destroy(o);
    ola_batch_free(&b);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_token_cache),
        cmocka_unit_test(test_dcr_columns),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_split_and_cache),
        cmocka_unit_test(test_expiry_and_401),
        cmocka_unit_test(test_wrong_secret),
    };

    pthread_mutex_init(&AZ.lock, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
