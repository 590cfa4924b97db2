/*
 * ola_rules_bench.c - what the default rule pack costs per event.
 *
 * Generates N OneLogin-shaped events (a realistic mix: logins, failures,
 * MFA, privilege changes, a few bursts that raise alerts), then measures
 * in CPU time: (1) a plain Jansson parse of every event into batches of 50,
 * the floor of the per-event pipeline; (2) the same parse plus classification, the
 * default pack and routing through ola_rules_apply in batches of 50. Prints events/s for
 * both and the rules' cost as a share of the parse. Both loops run -k times, alternating,
 * and the fastest of each counts (the machine is shared: the minimum is the least
 * disturbed figure). Run from the source directory (default paths) or pass -c and -r.
 *   usage: ola_rules_bench [-n EVENTS] [-k ROUNDS] [-c CATALOG] [-r RULES.yaml]
 * With -o FILE it only writes the N generated events as NDJSON to FILE (the
 * input of tests/bench/run.sh's pipeline benchmarks) and exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/core/buf.h"
#include "agent/core/event.h"
#include "filters/rules/filter.h"
#include "tests/lib/tools.h"

static const long long ola_types[] = {5,  5,   5,   8,    8,   8,   8,  6,   9,  7,
                                      13, 14,  22,  1001, 528, 950, 19, 4,   72, 240,
                                      24, 179, 411, 3,    17,  11,  5,  515, 8,  1010};

/* One event as text, like OneLogin's (about 600 bytes). */
static int ola_gen(struct ola_buf *b, long long i, unsigned *seed)
{
    long long type = ola_types[(unsigned)rand_r(seed) % (sizeof(ola_types) / 8)];
    long long user = 1000 + rand_r(seed) % 5000;
    int risk = rand_r(seed) % 100;
    long long ms = 1700000000000LL + i * 20;

    if (i % 1000 < 12) { /* a burst: one user failing from one address */
        type = 6;
        user = 77;
    }
    return ola_buf_printf(
        b,
        "{\"id\":%lld,\"created_at\":\"2023-11-14T22:%02lld:%02lld.%03lldZ\","
        "\"account_id\":55555,\"event_type_id\":%lld,\"user_id\":%lld,"
        "\"user_name\":\"User %lld\",\"actor_user_id\":%lld,\"actor_user_name\":"
        "\"Admin One\",\"actor_system\":\"\",\"ipaddr\":\"10.%d.%d.%d\",\"notes\":null,"
        "\"custom_message\":null,\"role_id\":null,\"role_name\":null,\"app_id\":%d,"
        "\"app_name\":\"Salesforce\",\"group_id\":null,\"group_name\":null,"
        "\"otp_device_id\":null,\"otp_device_name\":null,\"policy_id\":null,"
        "\"policy_name\":null,\"resolution\":null,\"client_id\":null,"
        "\"directory_sync_run_id\":null,\"directory_id\":null,\"proxy_ip\":null,"
        "\"risk_score\":%d,\"risk_reasons\":\"New IP\\nNew device\","
        "\"risk_cookie_id\":null,\"browser_fingerprint\":\"fp%lld\","
        "\"error_description\":null,\"assuming_acting_user_id\":null}",
        i, (ms / 60000) % 60, (ms / 1000) % 60, ms % 1000, type, user, user, user % 7,
        (int)(user % 200), (int)(i % 250), (int)(user % 250), 300 + (int)(user % 40),
        risk, user);
}

/* Writes the generated events one per line. Returns an exit code. */
static int ola_write_ndjson(const char *path, const struct ola_buf *text,
                            const size_t *off, const size_t *len, long long n)
{
    FILE *f = fopen(path, "wb");
    long long i;

    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (fwrite(text->data + off[i], 1, len[i], f) != len[i] || fputc('\n', f) == EOF)
            break;
    }
    if (fclose(f) != 0 || i < n) {
        fprintf(stderr, "%s: write failed\n", path);
        return 1;
    }
    fprintf(stderr, "%lld events, %.0f bytes each on average, in %s\n", n,
            (double)text->len / (double)n, path);
    return 0;
}

/* (1) a plain parse of every event into batches of 50. */
static int ola_bench_parse(const struct ola_buf *text, const size_t *off,
                           const size_t *len, long long n, struct ola_batch *b,
                           double *secs, uint64_t *sink)
{
    double t0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
    long long i;

    for (i = 0; i < n; i++) {
        json_t *ev = json_loadb(text->data + off[i], len[i], 0, NULL);
        struct ola_event *e = ola_batch_add(b, OLA_REC_EVENT, ev, NULL, 0);

        if (ev == NULL || e == NULL)
            return -1;
        *sink += json_object_size(ev);
        if (b->n == 50 || i == n - 1)
            ola_batch_reset(b);
    }
    *secs = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - t0;
    return 0;
}

/* (2) the same parse, then ola_rules_apply on each batch of 50. */
static int ola_bench_rules(struct ola_rules *r, const struct ola_buf *text,
                           const size_t *off, const size_t *len, long long n,
                           struct ola_batch *b, double *secs, uint64_t *sink,
                           uint64_t *alerts)
{
    double t0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
    long long i;

    for (i = 0; i < n; i++) {
        json_t *ev = json_loadb(text->data + off[i], len[i], 0, NULL);
        struct ola_event *e = ola_batch_add(b, OLA_REC_EVENT, ev, NULL, 0);

        if (ev == NULL || e == NULL)
            return -1;
        e->id = i + 1;
        e->created_ms = 1700000000000LL + i * 20;
        if (b->n == 50 || i == n - 1) {
            size_t k;

            if (ola_rules_apply(r, b, e->created_ms) != 0)
                return -1;
            for (k = 0; k < b->n; k++) {
                if (alerts != NULL)
                    *alerts += b->ev[k].kind == OLA_REC_ALERT;
                *sink += b->ev[k].routes;
            }
            ola_batch_reset(b);
        }
    }
    *secs = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - t0;
    return 0;
}

int main(int argc, char **argv)
{
    const char *catalog = "config/event-types.json",
               *rules_path = "config/rules/default.yaml";
    long long n = 1000000, i;
    int rounds = 3, round;
    long k;
    struct ola_buf text = OLA_BUF_INIT;
    size_t *off = NULL, *len = NULL;
    struct ola_cfg_doc *doc = NULL;
    struct ola_rules_settings s;
    struct ola_err err = {0, ""};
    struct ola_rules *r = NULL;
    struct ola_batch b;
    const char *const outs[] = {"siem", "archive"};
    char cfg[4200];
    unsigned seed = 42;
    double parse_s = 0, rules_s = 0;
    uint64_t alerts = 0, sink = 0;
    const char *gen_out = NULL;
    int opt, rc = 1;

    while ((opt = getopt(argc, argv, "n:c:r:k:o:")) != -1) {
        char *end;

        switch (opt) {
        case 'n':
            errno = 0;
            n = strtoll(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n <= 0) {
                fprintf(stderr, "bad -n\n");
                return 2;
            }
            break;
        case 'k':
            if (ola_tool_long(optarg, 1, 100, &k) != 0) {
                fprintf(stderr, "bad -k\n");
                return 2;
            }
            rounds = (int)k;
            break;
        case 'c':
            catalog = optarg;
            break;
        case 'r':
            rules_path = optarg;
            break;
        case 'o':
            gen_out = optarg;
            break;
        default:
            fprintf(
                stderr,
                "usage: %s [-n EVENTS] [-k ROUNDS] [-c CATALOG] [-r RULES] [-o FILE]\n",
                argv[0]);
            return 2;
        }
    }
    ola_batch_init(&b);
    off = calloc((size_t)n, sizeof(*off));
    len = calloc((size_t)n, sizeof(*len));
    if (off == NULL || len == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        off[i] = text.len;
        if (ola_gen(&text, i, &seed) != 0)
            goto out;
        len[i] = text.len - off[i];
    }
    if (gen_out != NULL) {
        rc = ola_write_ndjson(gen_out, &text, off, len, n);
        goto out;
    }
    if (snprintf(cfg, sizeof(cfg),
                 "rules: [\"%s\"]\noutputs:\n  - {type: stdout, name: siem, when: "
                 "{severity: \">= 6\"}}\n  - {type: stdout, name: archive}\n",
                 rules_path) >= (int)sizeof(cfg))
        goto out;
    if (ola_cfg_load_string("bench.yaml", cfg, strlen(cfg), &doc, &err) != 0)
        goto fail;
    memset(&s, 0, sizeof(s));
    s.rules = ola_cfg_get(ola_cfg_root(doc), "rules");
    s.n_outputs = 2;
    s.outputs[0].name = "siem";
    s.outputs[0].node = ola_cfg_at(ola_cfg_get(ola_cfg_root(doc), "outputs"), 0);
    s.outputs[1].name = "archive";
    s.outputs[1].node = ola_cfg_at(ola_cfg_get(ola_cfg_root(doc), "outputs"), 1);

    for (round = 0; round < rounds; round++) {
        double p, q;

        /* a fresh rule set each round: the same events, the same alert work */
        ola_rules_destroy(r);
        r = ola_rules_new(&s, catalog, outs, 2, &err);
        if (r == NULL)
            goto fail;
        if (ola_bench_parse(&text, off, len, n, &b, &p, &sink) != 0 ||
            ola_bench_rules(r, &text, off, len, n, &b, &q, &sink,
                            round == 0 ? &alerts : NULL) != 0)
            goto out;
        printf("round %d:           parse %.3f s, parse + rules %.3f s CPU\n", round + 1,
               p, q);
        if (round == 0 || p < parse_s)
            parse_s = p;
        if (round == 0 || q < rules_s)
            rules_s = q;
    }
    printf("events:            %lld (%.0f bytes each on average)\n", n,
           (double)text.len / (double)n);
    printf("parse only (best):  %.3f s CPU, %.0f events/s\n", parse_s,
           (double)n / parse_s);
    printf("parse + rules (best): %.3f s CPU, %.0f events/s\n", rules_s,
           (double)n / rules_s);
    printf("rules per event:   %.2f us\n", (rules_s - parse_s) * 1e6 / (double)n);
    printf("rule cost:         %.1f%% of the parse (%.1f%% of parse + rules)\n",
           100.0 * (rules_s - parse_s) / parse_s, 100.0 * (rules_s - parse_s) / rules_s);
    printf("alerts raised:     %llu, dropped: %llu, state capped: %llu (sink %llu)\n",
           (unsigned long long)alerts, (unsigned long long)ola_rules_stats(r)->dropped,
           (unsigned long long)ola_rules_stats(r)->state_capped,
           (unsigned long long)sink);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "ola_rules_bench: %s\n", err.msg);
out:
    ola_batch_free(&b);
    ola_rules_destroy(r);
    ola_cfg_doc_destroy(doc);
    ola_buf_free(&text);
    free(off);
    free(len);
    return rc;
}
