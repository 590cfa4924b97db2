/*
 * ruletest.c - `olagent rules test FILE...`: runs the test cases embedded
 * beside each rule (ruletest.h), in the manner of Panther's rule unit tests.
 *
 * Each file is loaded alone into a rule set of its own, exactly as the agent
 * loads rule files (the built-in catalog, lists beside the file), with the
 * output names of its route: lists standing in for outputs. For every case
 * the alert state is emptied, the case's events become one batch (an id
 * and a created_at are supplied when absent: ids 1001, 1002, ..., one
 * second apart from 2024-01-01T00:00:00Z), the batch goes through
 * ola_rules_apply, and the outcome is read back: a flag rule's hit (traced
 * by ola_rules_trace), or an alert record of the rule in the batch.
 * Events are written as YAML maps (a scalar that reads as an integer, a
 * number, true/false or null becomes one; quote nothing expecting it to stay
 * text) or as a JSON string, which is taken as it is.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/event.h"
#include "agent/core/timeutil.h"
#include "config/config.h"
#include "filters/rules/expr.h"
#include "filters/rules/filter.h"
#include "filters/rules/ruletest.h"

#define OLA_RT_BASE_MS INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */

struct ola_rt_counts {
    size_t pass, fail;
};

/* ---- events from YAML ------------------------------------------------------ */

static json_t *ola_rt_scalar(const char *s)
{
    char *end;
    double d;
    long long i;

    if (strcmp(s, "true") == 0)
        return json_true();
    if (strcmp(s, "false") == 0)
        return json_false();
    if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0)
        return json_null();
    if (*s == '\0' || *s == ' ')
        return json_string(s);
    errno = 0;
    i = strtoll(s, &end, 10);
    if (errno == 0 && *end == '\0')
        return json_integer((json_int_t)i);
    errno = 0;
    d = strtod(s, &end);
    if (errno == 0 && *end == '\0' && isfinite(d))
        return json_real(d);
    return json_string(s);
}

/* A YAML node as JSON (new reference), or NULL on ENOMEM / too deep. */
static json_t *ola_rt_json(const struct ola_cfg *n, int depth)
{
    json_t *v = NULL;
    size_t i;

    if (depth > 32)
        return NULL;
    switch (ola_cfg_type(n)) {
    case OLA_CFG_SCALAR:
        return ola_rt_scalar(ola_cfg_scalar(n));
    case OLA_CFG_MAP:
        v = json_object();
        for (i = 0; v != NULL && i < ola_cfg_len(n); i++) {
            json_t *item = ola_rt_json(ola_cfg_at(n, i), depth + 1);

            if (item == NULL || json_object_set_new(v, ola_cfg_key_at(n, i), item) != 0) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    case OLA_CFG_SEQ:
        v = json_array();
        for (i = 0; v != NULL && i < ola_cfg_len(n); i++) {
            if (json_array_append_new(v, ola_rt_json(ola_cfg_at(n, i), depth + 1)) != 0) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    default:
        return json_null();
    }
}

/* One event of a case: a map, or a JSON object as a string. */
static json_t *ola_rt_event(const struct ola_cfg *n, struct ola_err *err)
{
    json_error_t jerr;
    json_t *ev;

    if (ola_cfg_type(n) == OLA_CFG_SCALAR) {
        ev = json_loads(ola_cfg_scalar(n), JSON_REJECT_DUPLICATES, &jerr);
        if (ev == NULL) {
            ola_cfg_errf(err, n, "event: bad JSON: %s", jerr.text);
            return NULL;
        }
    } else if (ola_cfg_type(n) == OLA_CFG_MAP) {
        ev = ola_rt_json(n, 0);
        if (ev == NULL) {
            ola_cfg_errf(err, n, "event: nested too deeply");
            return NULL;
        }
    } else {
        ola_cfg_errf(err, n, "event: expected a map or a JSON object");
        return NULL;
    }
    if (!json_is_object(ev)) {
        json_decref(ev);
        ola_cfg_errf(err, n, "event: expected an object");
        return NULL;
    }
    return ev;
}

/* Adds the case's events to b (ids and times supplied when absent). */
static int ola_rt_batch(const struct ola_cfg *tc, struct ola_batch *b, int64_t *last_ms,
                        struct ola_err *err)
{
    const struct ola_cfg *one = ola_cfg_get(tc, "event"),
                         *many = ola_cfg_get(tc, "events");
    size_t i, count;

    if ((one == NULL) == (many == NULL))
        return ola_cfg_errf(err, tc, "test: give event: or events:, one of them");
    if (many != NULL && (ola_cfg_type(many) != OLA_CFG_SEQ || ola_cfg_len(many) == 0))
        return ola_cfg_errf(err, many, "events: expected a list of events");
    count = many ? ola_cfg_len(many) : 1;
    for (i = 0; i < count; i++) {
        const struct ola_cfg *n = many ? ola_cfg_at(many, i) : one;
        json_t *ev = ola_rt_event(n, err), *idv, *cav;
        struct ola_event *e;
        int64_t ms = OLA_RT_BASE_MS + (int64_t)i * 1000;
        char iso[OLA_ISO_MAX];

        if (ev == NULL)
            return -1;
        idv = json_object_get(ev, "id");
        cav = json_object_get(ev, "created_at");
        if (idv == NULL &&
            json_object_set_new(ev, "id", json_integer(1001 + (int)i)) != 0)
            goto nomem;
        if (cav == NULL) {
            if (ola_time_format_iso(ms, iso, sizeof(iso)) != 0 ||
                json_object_set_new(ev, "created_at", json_string(iso)) != 0)
                goto nomem;
        } else if (!json_is_string(cav) ||
                   ola_time_parse_iso(json_string_value(cav), &ms) != 0) {
            json_decref(ev);
            return ola_cfg_errf(err, n, "created_at: expected an ISO-8601 time");
        }
        idv = json_object_get(ev, "id");
        if (!json_is_integer(idv) || json_integer_value(idv) <= 0) {
            json_decref(ev);
            return ola_cfg_errf(err, n, "id: expected a positive integer");
        }
        e = ola_batch_add(b, OLA_REC_EVENT, ev, NULL, 0);
        if (e == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
        e->id = (int64_t)json_integer_value(idv);
        e->created_ms = ms;
        *last_ms = ms;
        continue;
    nomem:
        json_decref(ev);
        return ola_err_set(err, ENOMEM, "out of memory");
    }
    return 0;
}

/* ---- running --------------------------------------------------------------- */

/* Whether b holds an alert record of the rule `name`. */
static bool ola_rt_alerted(const struct ola_batch *b, const char *name)
{
    size_t i;

    for (i = 0; i < b->n; i++) {
        const char *rule;

        if (b->ev[i].kind != OLA_REC_ALERT)
            continue;
        rule = json_string_value(
            json_object_get(json_object_get(b->ev[i].ola, "alert"), "rule"));
        if (rule != NULL && strcmp(rule, name) == 0)
            return true;
    }
    return false;
}

/* One case; 0 ran (counted), -1 could not run (err). */
static int ola_rt_case(struct ola_rules *r, const char *rule, const struct ola_cfg *tc,
                       json_t *empty, struct ola_rt_counts *c, FILE *out,
                       struct ola_err *err)
{
    static const char *const keys[] = {"name",  "description", "expect",
                                       "event", "events",      NULL};
    struct ola_batch b;
    bool expect, is_alert, got, *hits = NULL;
    const char *name;
    int64_t last = 0;
    int idx, rc = -1;

    ola_batch_init(&b);
    if (ola_cfg_type(tc) != OLA_CFG_MAP)
        return ola_cfg_errf(err, tc, "tests: expected a map per case");
    if (ola_cfg_check_keys(tc, keys, err) != 0 ||
        ola_cfg_str(tc, "name", NULL, &name, err) != 0 ||
        ola_cfg_bool(tc, "expect", false, &expect, err) != 0)
        goto done;
    if (name == NULL || ola_cfg_get(tc, "expect") == NULL) {
        ola_cfg_errf(err, tc, "test of rule '%s': name and expect are required", rule);
        goto done;
    }
    idx = ola_rules_find(r, rule, &is_alert);
    if (idx < 0) {
        fprintf(out, "SKIP %s: %s (rule disabled)\n", rule, name);
        rc = 0;
        goto done;
    }
    if (ola_rt_batch(tc, &b, &last, err) != 0)
        goto done;
    if (ola_rules_state_restore(r, empty, err) != 0)
        goto done;
    hits = calloc(ola_rules_flag_count(r) + 1, sizeof(*hits));
    if (hits == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto done;
    }
    ola_rules_trace(r, hits);
    if (ola_rules_apply(r, &b, last) != 0) {
        ola_rules_trace(r, NULL);
        ola_err_set(err, ENOMEM, "%s: %s: the rules failed to run", rule, name);
        goto done;
    }
    ola_rules_trace(r, NULL);
    got = is_alert ? ola_rt_alerted(&b, rule) : hits[idx];
    if (got == expect) {
        c->pass++;
        fprintf(out, "PASS %s: %s\n", rule, name);
    } else {
        c->fail++;
        fprintf(out, "FAIL %s:%d: %s: %s: expected %s, got %s\n", ola_cfg_file(tc),
                ola_cfg_line(tc), rule, name,
                expect ? (is_alert ? "an alert" : "a match")
                       : (is_alert ? "no alert" : "no match"),
                got ? (is_alert ? "an alert" : "a match")
                    : (is_alert ? "no alert" : "no match"));
    }
    rc = 0;
done:
    free(hits);
    ola_batch_free(&b);
    return rc;
}

/* The names in the route: lists of the file's rules (they stand for outputs). */
static size_t ola_rt_outputs(const struct ola_cfg *list, const char **names, size_t max)
{
    size_t i, j, k, n = 0;

    for (i = 0; i < ola_cfg_len(list); i++) {
        const struct ola_cfg *route = ola_cfg_get(ola_cfg_at(list, i), "route");
        size_t count = ola_cfg_type(route) == OLA_CFG_SEQ ? ola_cfg_len(route) : 1;

        for (j = 0; route != NULL && j < count; j++) {
            const char *s = ola_cfg_scalar(
                ola_cfg_type(route) == OLA_CFG_SEQ ? ola_cfg_at(route, j) : route);

            for (k = 0; s != NULL && k < n; k++)
                if (strcmp(names[k], s) == 0)
                    break;
            if (s != NULL && k == n && n < max)
                names[n++] = s;
        }
    }
    return n;
}

/* The rule set of one file, built like the agent builds it. */
static struct ola_rules *ola_rt_build(const char *file, const struct ola_cfg_doc *doc,
                                      struct ola_cfg_doc **listing, struct ola_err *err)
{
    const struct ola_cfg *root = ola_cfg_root(doc), *list = root;
    const char *outs[OLA_MAX_OUTPUTS];
    struct ola_rules_settings s;
    char text[4200];
    size_t i, n = 0, used = 0;

    if (ola_cfg_type(root) == OLA_CFG_MAP)
        list = ola_cfg_get(root, "rules");
    /* the file as a one-item `rules:` list, single-quoted for YAML */
    text[used++] = '[';
    text[used++] = '\'';
    for (i = 0; file[i] != '\0' && used + 4 < sizeof(text); i++) {
        if (file[i] == '\'')
            text[used++] = '\'';
        text[used++] = file[i];
    }
    if (file[i] != '\0') {
        ola_err_set(err, ENAMETOOLONG, "%s: path too long", file);
        return NULL;
    }
    text[used++] = '\'';
    text[used++] = ']';
    text[used] = '\0';
    if (ola_cfg_load_string("rules test", text, used, listing, err) != 0)
        return NULL;
    memset(&s, 0, sizeof(s));
    s.rules = ola_cfg_root(*listing);
    s.catalog_builtin = true;
    n = ola_rt_outputs(list, outs, OLA_MAX_OUTPUTS);
    for (i = 0; i < n; i++) {
        s.outputs[i].type = "stdout";
        s.outputs[i].name = outs[i];
    }
    s.n_outputs = n;
    return ola_rules_new(&s, NULL, outs, n, err);
}

/* Every case of one file. Returns 0 (counted) or -1 (err). */
static int ola_rt_file(const char *file, struct ola_rt_counts *c, FILE *out,
                       struct ola_err *err)
{
    struct ola_cfg_doc *doc = NULL, *listing = NULL;
    struct ola_rules *r = NULL;
    const struct ola_cfg *root, *list;
    json_t *empty = json_pack("{s:i, s:i, s:[]}", "version", 1, "clock", 0, "keys");
    size_t i, k, before = c->pass + c->fail;
    int rc = -1;

    if (empty == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto done;
    }
    if (ola_cfg_load_file(file, &doc, err) != 0)
        goto done;
    r = ola_rt_build(file, doc, &listing, err);
    if (r == NULL)
        goto done;
    root = ola_cfg_root(doc);
    list = ola_cfg_type(root) == OLA_CFG_MAP ? ola_cfg_get(root, "rules") : root;
    for (i = 0; i < ola_cfg_len(list); i++) {
        const struct ola_cfg *entry = ola_cfg_at(list, i);
        const struct ola_cfg *tests = ola_cfg_get(entry, "tests");
        const char *name = ola_cfg_scalar(ola_cfg_get(entry, "name"));

        if (tests == NULL)
            continue;
        if (ola_cfg_type(tests) != OLA_CFG_SEQ) {
            ola_cfg_errf(err, tests, "tests: expected a list of cases");
            goto done;
        }
        for (k = 0; k < ola_cfg_len(tests); k++)
            if (ola_rt_case(r, name, ola_cfg_at(tests, k), empty, c, out, err) != 0)
                goto done;
    }
    if (c->pass + c->fail == before)
        fprintf(out, "%s: no test cases\n", file);
    rc = 0;
done:
    json_decref(empty);
    ola_rules_destroy(r);
    ola_cfg_doc_destroy(listing);
    ola_cfg_doc_destroy(doc);
    return rc;
}

int ola_rules_test_run(const char *const *files, size_t n, FILE *out, FILE *errs)
{
    struct ola_rt_counts c = {0, 0};
    struct ola_err err = {0, ""};
    size_t i;

    if (n == 0) {
        fprintf(errs, "olagent rules test: missing FILE\n");
        return OLA_RULETEST_ERROR;
    }
    for (i = 0; i < n; i++) {
        if (ola_rt_file(files[i], &c, out, &err) != 0) {
            fprintf(errs, "olagent rules test: %s\n", err.msg);
            return OLA_RULETEST_ERROR;
        }
    }
    fprintf(out, "%zu cases: %zu passed, %zu failed\n", c.pass + c.fail, c.pass, c.fail);
    if (fflush(out) != 0)
        return OLA_RULETEST_ERROR;
    return c.fail > 0 ? OLA_RULETEST_FAILED : OLA_RULETEST_PASS;
}
