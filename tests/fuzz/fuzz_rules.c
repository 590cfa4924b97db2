/*
 * fuzz_rules.c - libFuzzer harness for the rule loader (filters/).
 *
 * The input is a rule file. It is written to a temporary file that a fixed
 * config lists under `rules:`, and ola_rules_new builds the rule set with the
 * shipped catalog and three outputs (siem, archive, pager), as the agent
 * does (with a small catalog cut from the shipped one: it is loaded for every
 * input). A rule set that loads is then applied to a page of events chosen to
 * reach every category and alert kind of the default pack (a burst of failed
 * logins for one user and one IP, MFA rejections, a lockout, a success),
 * twice with the clock moving on, and its alert state is saved and restored.
 * Checks: a refused file says where ("file:line: ..."); severities stay in
 * 0..10 or unset; routes only name configured outputs; alert records have no
 * raw bytes and format as JSON.
 */
#include <string.h>
#include <unistd.h>

#include "agent/core/arena.h"
#include "agent/onelogin/page.h"
#include "agent/settings.h"
#include "config/config.h"
#include "filters/rules/filter.h"
#include "fuzz.h"
#include "outputs/formats/format.h"

static char ola_fz_dir[64];
static char ola_fz_path[128];
static char ola_fz_catalog[4096];
static char *ola_fz_page;
static size_t ola_fz_page_len;
static struct ola_cfg_doc *ola_fz_doc;
static struct ola_rules_settings ola_fz_s;
static const char *const ola_fz_outputs[] = {"siem", "archive", "pager"};

static void ola_fz_cleanup(void)
{
    if (ola_fz_path[0] != '\0')
        unlink(ola_fz_path);
    if (ola_fz_catalog[0] != '\0')
        unlink(ola_fz_catalog);
    if (ola_fz_dir[0] != '\0')
        rmdir(ola_fz_dir);
    ola_cfg_doc_destroy(ola_fz_doc);
    free(ola_fz_page);
}

/* One event of the test page. */
static int ola_fz_event(struct ola_buf *b, int id, int sec, int type, int user,
                        const char *ip, int risk)
{
    return ola_buf_printf(b,
                          "%s{\"id\":%d,\"created_at\":\"2024-01-31T10:%02d:%02d.000Z\","
                          "\"account_id\":77,\"user_id\":%d,\"actor_user_id\":%d,"
                          "\"event_type_id\":%d,\"ipaddr\":\"%s\",\"risk_score\":%d,"
                          "\"user_name\":\"user %d\",\"notes\":\"a|b=c\\\\d\\n\"}",
                          id > 1 ? "," : "", id, sec / 60, sec % 60, user, user + 1, type,
                          ip, risk, user);
}

/* A page that reaches every category and alert of the default pack. */
static int ola_fz_build_page(void)
{
    struct ola_buf b = OLA_BUF_INIT;
    int id = 1, i;

    if (ola_buf_puts(&b, "{\"status\":{\"error\":false},\"data\":[") != 0)
        return -1;
    for (i = 0; i < 25; i++) /* failed logins: one user, then many users, one IP */
        if (ola_fz_event(&b, id++, i, 6, i < 12 ? 1001 : 1000 + i, "10.0.0.9", 20) != 0)
            return -1;
    for (i = 0; i < 6; i++) /* MFA push rejections */
        if (ola_fz_event(&b, id++, 30 + i, 950, 2001, "10.0.0.8", 0) != 0)
            return -1;
    for (i = 0; i < 6; i++) /* lockouts, distinct users; deletions by one actor */
        if (ola_fz_event(&b, id++, 40 + i, i % 2 ? 19 : 17, 3000 + i, "10.0.0.7", 90) !=
            0)
            return -1;
    if (ola_fz_event(&b, id++, 50, 5, 1001, "10.0.0.9", 60) != 0 || /* success */
        ola_fz_event(&b, id++, 51, 72, 1001, "10.0.0.9", 0) != 0 ||
        ola_fz_event(&b, id++, 52, 999999, 1001, "::1", 0) != 0 || /* unknown type */
        ola_buf_puts(&b, "]}") != 0)
        return -1;
    ola_fz_page = ola_buf_steal(&b, &ola_fz_page_len);
    return 0;
}

/*
 * Writes a small catalog (the rule set loads it for every input): the types
 * the default pack and the test page name, and the first few of each
 * category, so names, ids and categories all resolve as with the full one.
 */
static int ola_fz_write_catalog(void)
{
    static const long long keep[] = {
        3,   5,   6,   17,  19,   24,   72,   73,   172,  179,  240,  410,  411,  412,
        527, 538, 555, 950, 1002, 1100, 2106, 2107, 2108, 2109, 2110, 2111, 2112, 2113};
    char full[4096];
    json_t *all, *out = json_array(), *t;
    json_t *seen = json_object();
    size_t i, k;
    int rc = -1, n;

    n = snprintf(full, sizeof(full), "%s/config/event-types.json", ola_fuzz_source_dir());
    all = n > 0 && (size_t)n < sizeof(full) ? json_load_file(full, 0, NULL) : NULL;
    if (!json_is_array(all) || out == NULL || seen == NULL)
        goto out;
    json_array_foreach(all, i, t)
    {
        long long id = json_integer_value(json_object_get(t, "id"));
        const json_t *cats = json_object_get(t, "categories"), *c;
        bool take = false;

        for (k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
            take = take || keep[k] == id;
        json_array_foreach(cats, k, c)
        {
            const char *name = json_string_value(c);
            json_int_t have = json_integer_value(json_object_get(seen, name ? name : ""));

            if (name != NULL && have < 3) {
                take = true;
                json_object_set_new(seen, name, json_integer(have + 1));
            }
        }
        if (take)
            json_array_append(out, t);
    }
    rc = json_dump_file(out, ola_fz_catalog, 0);
out:
    json_decref(all);
    json_decref(out);
    json_decref(seen);
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char cfg[512];
    struct ola_err err;
    int n;

    (void)argc;
    (void)argv;
    ola_arena_install(); /* events parse as in the agent, poisoned under ASan */
    ola_fuzz_quiet_log();
    ola_fuzz_tmpdir(ola_fz_dir, sizeof(ola_fz_dir), "rules");
    snprintf(ola_fz_path, sizeof(ola_fz_path), "%s/rules.yaml", ola_fz_dir);
    atexit(ola_fz_cleanup);
    n = snprintf(ola_fz_catalog, sizeof(ola_fz_catalog), "%s/event-types.json",
                 ola_fz_dir);
    if (n < 0 || (size_t)n >= sizeof(ola_fz_catalog) || ola_fz_write_catalog() != 0)
        abort();
    n = snprintf(cfg, sizeof(cfg),
                 "rules:\n  - %s\nalerts:\n  max_keys: 1000\n"
                 "outputs:\n  - {type: stdout, name: siem}\n"
                 "  - {type: stdout, name: archive}\n  - {type: stdout, name: pager}\n",
                 ola_fz_path);
    if (n < 0 || (size_t)n >= sizeof(cfg) ||
        ola_cfg_load_string("olagent.yaml", cfg, (size_t)n, &ola_fz_doc, &err) != 0 ||
        ola_fz_build_page() != 0)
        abort();
    ola_fz_s.rules = ola_cfg_get(ola_cfg_root(ola_fz_doc), "rules");
    ola_fz_s.alerts = ola_cfg_get(ola_cfg_root(ola_fz_doc), "alerts");
    return 0;
}

/* Applies r to a fresh copy of the page at now_ms and checks every record. */
static void ola_fz_apply(struct ola_rules *r, int64_t now_ms)
{
    struct ola_format_opts fo;
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    char *body = malloc(ola_fz_page_len + 1);
    size_t i;

    if (body == NULL)
        return;
    memcpy(body, ola_fz_page, ola_fz_page_len + 1);
    ola_batch_init(&b);
    OLA_FUZZ_CHECK(ola_page_parse(&b, body, ola_fz_page_len, &pg, &err) == 0);
    ola_page_free(&pg);
    if (ola_rules_apply(r, &b, now_ms) != 0)
        goto out; /* ENOMEM only */
    OLA_FUZZ_CHECK(ola_format_opts_load(NULL, &fo, &err) == 0);
    for (i = 0; i < b.n; i++) {
        const struct ola_event *e = &b.ev[i];
        json_t *back;

        OLA_FUZZ_CHECK(e->severity == OLA_SEVERITY_UNSET ||
                       (e->severity >= 0 && e->severity <= 10));
        OLA_FUZZ_CHECK((e->routes & ~UINT32_C(7)) == 0 || e->dropped);
        if (e->kind == OLA_REC_ALERT)
            OLA_FUZZ_CHECK(e->raw == NULL && json_is_object(e->ev));
        if (e->dropped)
            continue;
        ola_buf_reset(&out);
        if (ola_format_event(&ola_format_json, e, &fo, &out) != 0)
            continue;
        back = json_loadb(out.data, out.len, 0, NULL);
        OLA_FUZZ_CHECK(json_is_object(back));
        json_decref(back);
    }
out:
    ola_buf_free(&out);
    ola_batch_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ola_rules *r;
    struct ola_err err;
    json_t *state;
    size_t plen = strlen(ola_fz_path);

    if (ola_fuzz_write_file(ola_fz_path, data, size, 0600) != 0)
        abort();
    r = ola_rules_new(&ola_fz_s, ola_fz_catalog, ola_fz_outputs, 3, &err);
    if (r == NULL) {
        OLA_FUZZ_CHECK(err.msg[0] != '\0');
        /* a refused rule file names itself */
        OLA_FUZZ_CHECK(strncmp(err.msg, ola_fz_path, plen) == 0 ||
                       strstr(err.msg, "out of memory") != NULL);
        return 0;
    }
    ola_fz_apply(r, INT64_C(1706695300000));
    state = ola_rules_state_save(r);
    if (state != NULL) {
        OLA_FUZZ_CHECK(ola_rules_state_restore(r, state, &err) == 0);
        json_decref(state);
    }
    ola_fz_apply(r, INT64_C(1706695300000) + 3600 * 1000);
    ola_rules_destroy(r);
    return 0;
}
