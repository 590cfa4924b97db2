/*
 * test_out_s3.c - the s3 output (outputs/out_s3*.c).
 *
 * Pure parts first: the key character set and path rules, prefix expansion
 * and its config-time check, object names (exact text, time order, the hash),
 * S3 error codes read from the XML answer, the configuration errors with
 * file:line. Then the manifest chain (continued across a new process, a head
 * whose manifest a crash never wrote, the same object recorded once) and the
 * output end to end against the in-process HTTP fake: one PUT per batch,
 * path-style, signed by libcurl with x-amz-content-sha256 among the signed
 * headers and no unsent header signed, a gzip body, the manifests verifying.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "outputs/out_s3.h"
#include "tests/lib/http_fake.h"
#include "tests/lib/unit_files.h"

/* 2024-01-02T03:04:05.678Z */
#define T0 1704164645678LL

/* ---- keys ---------------------------------------------------------------------- */

static void test_key_charset(void **state)
{
    static const char *const good[] = {"a", "onelogin/acme/2024/01/02/x.ndjson.gz",
                                       "A-Z_0.9/b", "a.b/..c/d..", NULL};
    static const char *const bad[] = {"a b",  "a+b",  "a%2F", "a~b",    "caf\xc3\xa9",
                                      "/abs", "a//b", "./a",  "a/../b", "a/",
                                      "a?b",  "a#b",  "a:b",  "a\\b",   NULL};
    char long_key[OLA_S3_KEY_MAX + 2];
    size_t i;

    (void)state;
    for (i = 0; good[i] != NULL; i++)
        if (ola_s3_key_bad(good[i], false) != NULL)
            fail_msg("'%s' refused: %s", good[i], ola_s3_key_bad(good[i], false));
    for (i = 0; bad[i] != NULL; i++)
        if (ola_s3_key_bad(bad[i], false) == NULL)
            fail_msg("'%s' taken", bad[i]);
    /* a prefix may be empty or end in '/'; a key may not */
    assert_null(ola_s3_key_bad("", true));
    assert_null(ola_s3_key_bad("logs/", true));
    assert_null(ola_s3_key_bad("logs-", true));
    assert_non_null(ola_s3_key_bad("", false));
    assert_non_null(ola_s3_key_bad("logs//", true));
    assert_non_null(ola_s3_key_bad("../", true));
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    assert_non_null(ola_s3_key_bad(long_key, false));
    long_key[OLA_S3_KEY_MAX] = '\0';
    assert_null(ola_s3_key_bad(long_key, false));
}

static void test_prefix_expand(void **state)
{
    char out[256];

    (void)state;
    assert_int_equal(
        ola_s3_prefix_expand("onelogin/{tenant}/%Y/%m/%d/", "acme", T0, out, sizeof(out)),
        strlen("onelogin/acme/2024/01/02/"));
    assert_string_equal(out, "onelogin/acme/2024/01/02/");
    assert_int_equal(ola_s3_prefix_expand("", "acme", T0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(ola_s3_prefix_expand("h=%H/", "t", T0, out, sizeof(out)), 5);
    assert_string_equal(out, "h=03/");
    assert_int_equal(ola_s3_prefix_expand("%Y/%Y/%Y", "t", T0, out, 8), -1);
}

static void test_prefix_check(void **state)
{
    static const struct {
        const char *tmpl, *want; /* want NULL: fine */
    } cases[] = {
        {"", NULL},
        {"onelogin/{tenant}/%Y/%m/%d/", NULL},
        {"audit-", NULL},
        {"%Y%m%dT%H/", NULL},
        {"logs/%c/", "outside [A-Za-z0-9/._-]"}, /* "Tue Jan  2 ..." */
        {"logs/%b %d/", "outside [A-Za-z0-9/._-]"},
        {"logs+{tenant}/", "outside [A-Za-z0-9/._-]"},
        {"/logs/", "starts with '/'"},
        {"logs//x/", "empty path component"},
        {"../up/", "'..' path component"},
        {"%Y/./", "'.' or '..'"},
    };
    char why[400];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *r = ola_s3_prefix_check(cases[i].tmpl, why, sizeof(why));

        if (cases[i].want == NULL && r != NULL)
            fail_msg("'%s' refused: %s", cases[i].tmpl, r);
        if (cases[i].want != NULL && (r == NULL || strstr(r, cases[i].want) == NULL))
            fail_msg("'%s': want '%s', got '%s'", cases[i].tmpl, cases[i].want,
                     r ? r : "(taken)");
    }
}

static void test_object_key(void **state)
{
    static const char sha1[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const char sha2[] =
        "fedcba98765432100123456789abcdef0123456789abcdef0123456789abcdef";
    char k1[OLA_S3_KEY_MAX + 1], k2[OLA_S3_KEY_MAX + 1], k3[OLA_S3_KEY_MAX + 1];

    (void)state;
    assert_int_equal(ola_s3_object_key("onelogin/acme/2024/01/02/", T0, 100, 149, sha1,
                                       k1, sizeof(k1)),
                     0);
    assert_string_equal(k1, "onelogin/acme/2024/01/02/"
                            "20240102T030405.678Z_100-149_0123456789abcdef.ndjson.gz");
    /* the same batch, other bytes: another key; a later batch sorts after */
    assert_int_equal(ola_s3_object_key("onelogin/acme/2024/01/02/", T0, 100, 149, sha2,
                                       k2, sizeof(k2)),
                     0);
    assert_string_not_equal(k1, k2);
    assert_int_equal(ola_s3_object_key("onelogin/acme/2024/01/02/", T0 + 1, 99999, 100000,
                                       sha1, k3, sizeof(k3)),
                     0);
    assert_true(strcmp(k1, k3) < 0 && strcmp(k2, k3) < 0);
    assert_int_equal(ola_s3_object_key("", 0, 0, 0, sha1, k3, sizeof(k3)), 0);
    assert_string_equal(k3, "19700101T000000.000Z_0-0_0123456789abcdef.ndjson.gz");
    /* too small a buffer, a prefix that makes the key invalid */
    assert_int_equal(ola_s3_object_key("p/", T0, 1, 2, sha1, k3, 20), -1);
    assert_int_equal(ola_s3_object_key("a b/", T0, 1, 2, sha1, k3, sizeof(k3)), -1);
}

/* ---- S3 answers ------------------------------------------------------------------ */

static enum ola_ho_verdict classify(struct ola_output *o, long status, const char *code)
{
    struct ola_ho_req rq;
    char xml[400];
    enum ola_ho_verdict v;

    memset(&rq, 0, sizeof(rq));
    rq.status = status;
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
             "<Message>msg of %s</Message><RequestId>r</RequestId></Error>",
             code, code);
    assert_int_equal(ola_buf_puts(&rq.answer, xml), 0);
    o->last_error[0] = '\0';
    v = ola_s3_classify(o, &rq);
    ola_buf_free(&rq.answer);
    return v;
}

static void test_classify(void **state)
{
    struct ola_output o;

    (void)state;
    memset(&o, 0, sizeof(o));
    assert_int_equal(classify(&o, 200, ""), OLA_HO_ACCEPTED);
    assert_int_equal(classify(&o, 503, "SlowDown"), OLA_HO_RETRY);
    assert_string_equal(o.last_error, "S3 HTTP 503 SlowDown: msg of SlowDown");
    assert_int_equal(classify(&o, 500, "InternalError"), OLA_HO_RETRY);
    assert_int_equal(classify(&o, 400, "RequestTimeout"), OLA_HO_RETRY);
    assert_int_equal(classify(&o, 403, "RequestTimeTooSkewed"), OLA_HO_RETRY);
    assert_int_equal(classify(&o, 400, "XAmzContentSHA256Mismatch"), OLA_HO_RETRY);
    assert_int_equal(classify(&o, 503, "SomethingNew"), OLA_HO_RETRY);
    assert_int_equal(classify(&o, 403, "InvalidAccessKeyId"), OLA_HO_FATAL);
    assert_int_equal(classify(&o, 403, "SignatureDoesNotMatch"), OLA_HO_FATAL);
    assert_string_equal(
        o.last_error, "S3 HTTP 403 SignatureDoesNotMatch: msg of SignatureDoesNotMatch");
    assert_int_equal(classify(&o, 403, "AccessDenied"), OLA_HO_FATAL);
    assert_int_equal(classify(&o, 404, "NoSuchBucket"), OLA_HO_FATAL);
    assert_int_equal(classify(&o, 400, "InvalidArgument"), OLA_HO_FATAL);
    /* no XML at all */
    {
        struct ola_ho_req rq;

        memset(&rq, 0, sizeof(rq));
        rq.status = 502;
        assert_int_equal(ola_s3_classify(&o, &rq), OLA_HO_RETRY);
        assert_string_equal(o.last_error, "S3 HTTP 502 (no error code)");
    }
}

/* ---- configuration ------------------------------------------------------------ */

static struct ola_output *make(struct ola_cfg_doc **doc, const char *yaml,
                               struct ola_err *err)
{
    struct ola_output_cfg oc;

    if (ola_cfg_load_string("o.yaml", yaml, strlen(yaml), doc, err) != 0)
        return NULL;
    oc.node = ola_cfg_root(*doc);
    oc.type = "s3";
    oc.name = NULL;
    return ola_output_new(&oc, 0, err);
}

#define S3_BASE                                                                          \
    "endpoint: https://s3.eu-west-1.amazonaws.com\nbucket: audit\nregion: eu-west-1\n"   \
    "access_key_id: AKIAEXAMPLE\nsecret_access_key: wJalr/K7MDENG+bPxRfiCY\n"

static void test_config_errors(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {S3_BASE "prefix: \"logs/%c/\"\n", "o.yaml:6: prefix: 'logs/"},
        {S3_BASE "prefix: \"logs/%c/\"\n", "outside [A-Za-z0-9/._-]"},
        {S3_BASE "prefix: ../x/\n", "o.yaml:6:"},
        {S3_BASE "prefix: /x/\n", "starts with '/'"},
        {"endpoint: http://s3.example.com\nbucket: b\naccess_key_id: A\n"
         "secret_access_key: s\n",
         "o.yaml:1:"},
        {"endpoint: http://s3.example.com\nbucket: b\naccess_key_id: A\n"
         "secret_access_key: s\n",
         "https is required"},
        {"endpoint: https://s3.example.com/?x=1\nbucket: b\naccess_key_id: A\n"
         "secret_access_key: s\n",
         "no query"},
        {"endpoint: https://s3.example.com\nbucket: \"a b\"\naccess_key_id: A\n"
         "secret_access_key: s\n",
         "o.yaml:2: bucket: "},
        {"endpoint: https://s3.example.com\nbucket: b\nregion: \"eu:west\"\n"
         "access_key_id: A\nsecret_access_key: s\n",
         "o.yaml:3: region: "},
        {"endpoint: https://s3.example.com\nbucket: b\nregion: r\nprefix: \"\"\n"
         "access_key_id: \"A:B\"\nsecret_access_key: s\n",
         "o.yaml:5: access_key_id: "},
        {"endpoint: https://s3.example.com\nbucket: b\nregion: r\nprefix: \"\"\n"
         "access_key_id: A\n",
         "secret_access_key"},
        {"endpoint: https://s3.example.com\nbucket: b\nregion: r\naccess_key_id: A\n"
         "secret_access_key: s\n",
         "prefix"},
        {"endpoint: https://s3.example.com\nbucket: b\nprefix: \"\"\naccess_key_id: A\n"
         "secret_access_key: s\n",
         "region"},
        {"endpoint: https://s3.example.com\naccess_key_id: A\nsecret_access_key: s\n",
         "bucket"},
        {S3_BASE "prefix: x/\nbatch_max_events: 10\n", "batch_max_events"},
        {S3_BASE "prefix: x/\ncompression: gzip\n", "compression"},
        {S3_BASE "prefix: x/\nclient_cert: /c.pem\n", "go together"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ola_cfg_doc *doc = NULL;
        struct ola_err err = {0, ""};
        struct ola_output *o = make(&doc, cases[i].yaml, &err);

        if (o != NULL || strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want,
                     o != NULL ? "(taken)" : err.msg);
        /* the secret never shows in an error */
        assert_null(strstr(err.msg, "K7MDENG"));
        ola_cfg_doc_destroy(doc);
    }
}

/* ---- the manifest chain --------------------------------------------------------- */

/* Writes DIR/KEY with text and appends it to the chain in c as stream. */
static int put(struct ola_s3_chains *c, const char *dir, const char *key,
               const char *text, const char *stream, struct ola_manifest *m)
{
    char path[512], sub[512];
    struct ola_err err = {0, ""};
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    snprintf(sub, sizeof(sub), "%s", path);
    *strrchr(sub, '/') = '\0';
    assert_int_equal(ola_mkdirs(sub), 0);
    assert_int_equal(ola_test_write_text(path, text), 0);
    memset(m, 0, sizeof(*m));
    snprintf(m->file, sizeof(m->file), "%s", strrchr(key, '/') + 1);
    snprintf(m->stream, sizeof(m->stream), "%s", stream);
    m->events = 1;
    m->bytes = strlen(text);
    m->first_created_ms = m->last_created_ms = m->created_ms = m->closed_ms = T0;
    assert_int_equal(ola_sha256_path(path, m->sha256, &err), 0);
    rc = ola_s3_chain_append(c, key, m, &err);
    if (rc != 0)
        print_message("append %s: %s\n", key, err.msg);
    return rc;
}

static void test_chain(void **state)
{
    char dir[256], path[512];
    struct ola_s3_chains *c;
    struct ola_manifest m;
    struct ola_err err = {0, ""};

    (void)state;
    assert_int_equal(ola_test_tmpdir(dir, sizeof(dir), "s3chain"), 0);
    c = ola_s3_chains_new(dir);
    assert_non_null(c);
    assert_int_equal(put(c, dir, "p/t1/a.ndjson.gz", "A", "s3/t1", &m), 0);
    assert_int_equal(m.seq, 1);
    assert_string_equal(m.prev_sha256, "");
    assert_int_equal(put(c, dir, "p/t2/a.ndjson.gz", "X", "s3/t2", &m), 0);
    assert_int_equal(m.seq, 1); /* another tenant: another chain */
    assert_int_equal(put(c, dir, "p/t1/b.ndjson.gz", "B", "s3/t1", &m), 0);
    assert_int_equal(m.seq, 2);
    /* the same object again (sent again after a crash): recorded once */
    assert_int_equal(put(c, dir, "p/t1/b.ndjson.gz", "B", "s3/t1", &m), 0);
    assert_int_equal(m.seq, 2);
    /* the same key with other bytes: never overwritten */
    assert_int_equal(put(c, dir, "p/t1/b.ndjson.gz", "C", "s3/t1", &m), -1);
    assert_int_equal(put(c, dir, "p/t1/b.ndjson.gz", "B", "s3/t1", &m), 0);
    ola_s3_chains_destroy(c);

    /* a new process goes on from the head */
    c = ola_s3_chains_new(dir);
    assert_int_equal(put(c, dir, "p/t1/c.ndjson.gz", "C", "s3/t1", &m), 0);
    assert_int_equal(m.seq, 3);
    ola_s3_chains_destroy(c);
    /* a crash between the head and its manifest: the head names c, c's
     * manifest is gone; the next process writes seq 3 again, after b */
    snprintf(path, sizeof(path), "%s/p/t1/c.ndjson.gz" OLA_MANIFEST_SUFFIX, dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/p/t1/c.ndjson.gz", dir);
    assert_int_equal(unlink(path), 0);
    c = ola_s3_chains_new(dir);
    assert_int_equal(put(c, dir, "p/t1/d.ndjson.gz", "D", "s3/t1", &m), 0);
    assert_int_equal(m.seq, 3);
    assert_int_equal(put(c, dir, "p/t1/e.ndjson.gz", "E", "s3/t1", &m), 0);
    assert_int_equal(m.seq, 4);
    ola_s3_chains_destroy(c);
    if (ola_manifest_verify_dir(dir, NULL, &err) != 0)
        fail_msg("verify: %s", err.msg);
    ola_test_rmtree(dir);
}

/* ---- end to end against the HTTP fake ------------------------------------------ */

static void batch_of(struct ola_batch *b, int n, int64_t first_id)
{
    static char raw[64][128];

    ola_batch_init(b);
    for (int i = 0; i < n; i++) {
        json_t *ev;
        struct ola_event *e;

        snprintf(raw[i], sizeof(raw[i]),
                 "{\"id\":%lld,\"created_at\":\"2024-01-02T03:04:05.678Z\"}",
                 (long long)(first_id + i));
        ev = json_loads(raw[i], 0, NULL);
        assert_non_null(ev);
        e = ola_batch_add(b, OLA_REC_EVENT, ev, raw[i], strlen(raw[i]));
        assert_non_null(e);
        e->id = first_id + i;
        e->created_ms = T0 + i;
    }
}

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

static int answer_put(void *arg, const struct ola_fake_req *rq, struct ola_fake_answer *a)
{
    (void)arg;
    (void)rq;
    a->status = 200;
    a->body = strdup("");
    a->len = 0;
    return 0;
}

static void sha256_hex(const void *p, size_t n, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
    for (unsigned i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void test_put_signed(void **state)
{
    struct ola_fake_opts fo = {.handler = answer_put};
    struct ola_fake *f = NULL;
    struct ola_err err = {0, ""};
    struct ola_cfg_doc *doc = NULL;
    struct ola_output *o;
    struct ola_batch b;
    const struct ola_fake_req *rq;
    char dir[256], yaml[1024], sha[65], path[1024], inflated[4096];
    const char *auth;

    (void)state;
    assert_int_equal(ola_test_tmpdir(dir, sizeof(dir), "s3put"), 0);
    if (ola_fake_start(&fo, &f, &err) != 0)
        fail_msg("%s", err.msg);
    snprintf(yaml, sizeof(yaml),
             "endpoint: %s/\nbucket: audit\nregion: eu-west-1\nprefix: "
             "onelogin/{tenant}/%%Y/%%m/%%d/\naccess_key_id: AKIDTEST\n"
             "secret_access_key: sekrit/K7MDENG\nmanifest_dir: %s/m\n",
             ola_fake_url(f), dir);
    o = make(&doc, yaml, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    batch_of(&b, 3, 100);
    assert_int_equal(deliver(o, &b, 20), OLA_OK);
    assert_int_equal(ola_fake_requests(f), 1); /* one object per batch */
    rq = ola_fake_seen(f, 0);
    assert_string_equal(rq->method, "PUT");
    assert_string_equal(ola_fake_header(rq, "Content-Type"), "application/gzip");
    assert_null(ola_fake_header(rq, "Content-Encoding"));
    sha256_hex(rq->body, rq->body_len, sha);
    assert_string_equal(ola_fake_header(rq, "x-amz-content-sha256"), sha);
    snprintf(
        path, sizeof(path),
        "/audit/onelogin/default/2024/01/02/20240102T030405.678Z_100-102_%.16s.ndjson.gz",
        sha);
    assert_string_equal(rq->path, path);
    auth = ola_fake_header(rq, "Authorization");
    assert_non_null(auth);
    assert_non_null(strstr(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
    assert_non_null(strstr(auth, "/eu-west-1/s3/aws4_request"));
    assert_non_null(strstr(auth, "x-amz-content-sha256"));
    /* libcurl signs every header line it is given: none it does not send */
    assert_null(strstr(auth, "expect"));
    assert_null(strstr(auth, "sekrit"));
    {
        z_stream z;

        memset(&z, 0, sizeof(z));
        assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
        z.next_in = (Bytef *)rq->body;
        z.avail_in = (uInt)rq->body_len;
        z.next_out = (Bytef *)inflated;
        z.avail_out = sizeof(inflated) - 1;
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        inflated[z.total_out] = '\0';
        inflateEnd(&z);
    }
    assert_non_null(strstr(inflated, "{\"id\":100,"));
    assert_non_null(strstr(inflated, "{\"id\":102,"));
    assert_int_equal(inflated[strlen(inflated) - 1], '\n');
    /* the manifest beside where the object would be in a download */
    snprintf(path, sizeof(path), "%s/m/onelogin/default/2024/01/02/", dir);
    {
        char mpath[1200];
        struct ola_manifest m;

        snprintf(mpath, sizeof(mpath),
                 "%s20240102T030405.678Z_100-102_%.16s.ndjson.gz" OLA_MANIFEST_SUFFIX,
                 path, sha);
        assert_int_equal(ola_manifest_read(mpath, &m, NULL, &err), 0);
        assert_string_equal(m.sha256, sha);
        assert_string_equal(m.stream, "s3/default");
        assert_int_equal(m.seq, 1);
        assert_int_equal(m.events, 3);
        assert_int_equal(m.first_id, 100);
        assert_int_equal(m.last_id, 102);
        assert_int_equal(m.bytes, rq->body_len);
    }
    ola_batch_free(&b);
    ola_output_destroy(o);
    ola_cfg_doc_destroy(doc);
    ola_fake_stop(f);
    ola_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_charset),  cmocka_unit_test(test_prefix_expand),
        cmocka_unit_test(test_prefix_check), cmocka_unit_test(test_object_key),
        cmocka_unit_test(test_classify),     cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_chain),        cmocka_unit_test(test_put_signed),
    };

    ola_log_level = OLA_LOG_ERR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
