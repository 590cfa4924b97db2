/*
 * fuzz_format.c - libFuzzer harness for every registered record format.
 *
 * The input is one event's JSON text. It is wrapped in a page and parsed by
 * the page parser (so raw bytes look as they do in the agent), classified and
 * tagged by the default rule pack, and any "olagent_fuzz" object in the
 * event is merged into its "olagent" object, so the fuzzer also controls
 * tags and names. When no event comes out, the input is tried as an alert
 * record (a tree without raw bytes). Each record, and a raw-less copy of
 * each event, then goes through every format in ola_format_list() with the
 * default options and with odd ones (LEEF '^' delimiter, a hostname full of
 * separators), so formats added later are fuzzed without touching this file.
 * Checks: a record is one line (no CR, LF or NUL: outputs frame records), and
 * the JSON formats (json, ocsf) produce one JSON object.
 */
#include <string.h>

#include "agent/core/arena.h"
#include "agent/onelogin/page.h"
#include "filters/rules/filter.h"
#include "fuzz.h"
#include "outputs/formats/format.h"

static struct ola_cfg_doc *ola_fz_doc;
static struct ola_rules *ola_fz_rules;
static json_t *ola_fz_state0; /* alert state at start: restored before each input */
static struct ola_format_opts ola_fz_opts[2];

static void ola_fz_cleanup(void)
{
    json_decref(ola_fz_state0);
    ola_rules_destroy(ola_fz_rules);
    ola_cfg_doc_destroy(ola_fz_doc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const outputs[] = {"siem"};
    char cfg[4600], catalog[4200];
    struct ola_rules_settings s;
    struct ola_err err;
    int n;

    (void)argc;
    (void)argv;
    ola_arena_install(); /* events parse as in the agent, poisoned under ASan */
    ola_fuzz_quiet_log();
    n = snprintf(cfg, sizeof(cfg), "rules:\n  - %s/config/rules/default.yaml\n",
                 ola_fuzz_source_dir());
    if (n < 0 || (size_t)n >= sizeof(cfg) ||
        ola_cfg_load_string("olagent.yaml", cfg, (size_t)n, &ola_fz_doc, &err) != 0)
        abort();
    n = snprintf(catalog, sizeof(catalog), "%s/config/event-types.json",
                 ola_fuzz_source_dir());
    if (n < 0 || (size_t)n >= sizeof(catalog))
        abort();
    memset(&s, 0, sizeof(s));
    s.rules = ola_cfg_get(ola_cfg_root(ola_fz_doc), "rules");
    ola_fz_rules = ola_rules_new(&s, catalog, outputs, 1, &err);
    if (ola_fz_rules == NULL) {
        fprintf(stderr, "fuzz_format: %s\n", err.msg);
        abort();
    }
    ola_fz_state0 = ola_rules_state_save(ola_fz_rules);
    if (ola_fz_state0 == NULL)
        abort();
    atexit(ola_fz_cleanup);
    if (ola_format_opts_load(NULL, &ola_fz_opts[0], &err) != 0 ||
        ola_format_opts_load(NULL, &ola_fz_opts[1], &err) != 0)
        abort();
    ola_fz_opts[1].leef_delim = '^';
    ola_fz_opts[1].hostname = "host|name=x\\y^z \"q\"";
    ola_fz_opts[1].vendor = "Vendor|With=Pipes\\";
    ola_fz_opts[1].product = "Prod\tuct";
    return 0;
}

/* Every format, every option set, over one record. */
static void ola_fz_format_all(const struct ola_event *e, struct ola_buf *out)
{
    const struct ola_format_ops *const *f;
    size_t o;

    for (f = ola_format_list(); *f != NULL; f++) {
        bool is_json = strcmp((*f)->name, "json") == 0 || strcmp((*f)->name, "ocsf") == 0;

        for (o = 0; o < 2; o++) {
            ola_buf_reset(out);
            if (ola_format_event(*f, e, &ola_fz_opts[o], out) != 0)
                continue; /* an unusable record is refused, not mangled */
            OLA_FUZZ_CHECK(out->len > 0);
            OLA_FUZZ_CHECK(memchr(out->data, '\n', out->len) == NULL);
            OLA_FUZZ_CHECK(memchr(out->data, '\r', out->len) == NULL);
            OLA_FUZZ_CHECK(memchr(out->data, '\0', out->len) == NULL);
            if (is_json) {
                json_t *back = json_loadb(out->data, out->len, 0, NULL);

                OLA_FUZZ_CHECK(json_is_object(back));
                json_decref(back);
            }
        }
    }
}

/* Merges the event's "olagent_fuzz" object into its olagent object. */
static void ola_fz_merge(struct ola_event *e)
{
    json_t *fz = json_object_get(e->ev, "olagent_fuzz"), *ola;

    if (!json_is_object(fz))
        return;
    ola = ola_event_ola(e);
    if (ola != NULL)
        json_object_update(ola, fz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "{\"data\":[", tail[] = "]}";
    struct ola_buf page = OLA_BUF_INIT, out = OLA_BUF_INIT;
    struct ola_batch b;
    struct ola_page pg;
    struct ola_err err;
    char *body;
    size_t len, i, n;

    ola_batch_init(&b);
    if (ola_buf_append(&page, head, sizeof(head) - 1) != 0 ||
        ola_buf_append(&page, data, size) != 0 ||
        ola_buf_append(&page, tail, sizeof(tail) - 1) != 0)
        goto out;
    body = ola_buf_steal(&page, &len);
    if (ola_page_parse(&b, body, len, &pg, &err) != 0 || b.n == 0) {
        json_t *ev = json_loadb((const char *)data, size, 0, NULL);

        ola_page_free(&pg);
        ola_batch_reset(&b);
        if (!json_is_object(ev)) {
            json_decref(ev);
            goto out;
        }
        if (ola_batch_add(&b, OLA_REC_ALERT, ev, NULL, 0) == NULL)
            goto out;
    }
    ola_page_free(&pg);
    /* the same start for every input: alert state does not leak between runs */
    if (ola_rules_state_restore(ola_fz_rules, ola_fz_state0, &err) != 0 ||
        ola_rules_apply(ola_fz_rules, &b, INT64_C(1706695300000)) != 0)
        goto out;
    n = b.n;
    for (i = 0; i < n; i++) {
        struct ola_event *e = &b.ev[i];

        if (e->dropped)
            continue;
        ola_fz_merge(e);
        ola_fz_format_all(e, &out);
        if (e->raw != NULL) {
            /* the same event without its bytes: the tree path of each format */
            struct ola_event copy = *e;

            copy.raw = NULL;
            copy.raw_len = 0;
            copy.kind = OLA_REC_ALERT;
            ola_fz_format_all(&copy, &out);
        }
    }
out:
    ola_buf_free(&page);
    ola_buf_free(&out);
    ola_batch_free(&b);
    return 0;
}
