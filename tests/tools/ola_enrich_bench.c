/*
 * ola_enrich_bench.c - what enrichment costs: API calls, and CPU per event.
 *
 * Starts olsim (a tenant of -u users and 50 roles, -n pre-generated events),
 * downloads its events and runs them through the real enricher against it:
 *  (1) cold cache, pages of 1000 and of 50: lookups per 1,000 events, with
 *      and without the refetches user-changing events cause;
 *  (2) warm cache (no lookups; user-changing events left out so nothing is
 *      evicted), in CPU time: the pipeline without enrichment (parse, rules
 *      with the default pack, json format) against the same with enrichment,
 *      stage by stage. Loops run -k times, alternating; the fastest of each
 *      counts (the machine is shared);
 *  (3) the heap the warm cache holds, per entry, before and after the
 *      enricher's trim (mallinfo2).
 * Run from the source directory (config files) with olsim's path:
 *   build/tests/ola_enrich_bench [-s build/tests/olsim] [-n EVENTS] [-u USERS] [-k
 * ROUNDS]
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent/core/buf.h"
#include "agent/core/event.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "agent/enrich_adapter.h"
#include "agent/onelogin/client.h"
#include "agent/settings.h"
#include "config/config.h"
#include "filters/enrich/enrich.h"
#include "filters/rules/filter.h"
#include "outputs/formats/format.h"
#include "tests/lib/tools.h"

extern char **environ;

struct bench {
    const char *olsim;
    long long n_events, n_users;
    int rounds;
    char dir[64];
    pid_t sim;
    unsigned port;
    struct ola_buf text;
    size_t *off, *len;
    long long *type;
    size_t n;
    struct ola_cfg_doc *doc;
    struct ola_settings s;
    char catalog[4096];
};

static size_t ola_curl_sink(char *p, size_t size, size_t nmemb, void *arg)
{
    return ola_buf_append(arg, p, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Starts olsim and waits for its port. Returns 0 / -1. */
static int bench_start_olsim(struct bench *b)
{
    char users[32], events[32], portfile[128];
    const char *args[] = {b->olsim,
                          "--listen",
                          "127.0.0.1:0",
                          "--port-file",
                          portfile,
                          "--seed",
                          "5",
                          "--users",
                          users,
                          "--roles",
                          "50",
                          "--events",
                          events,
                          "--span",
                          "6h",
                          "--page-max",
                          "1000",
                          "--rate-limit",
                          "10000000",
                          "--client-id",
                          "bench",
                          "--client-secret",
                          "bench-secret",
                          "--catalog",
                          b->catalog,
                          NULL};
    int64_t end;

    snprintf(users, sizeof(users), "%lld", b->n_users);
    snprintf(events, sizeof(events), "%lld", b->n_events);
    snprintf(portfile, sizeof(portfile), "%s/port", b->dir);
    if (posix_spawn(&b->sim, b->olsim, NULL, NULL, (char *const *)(uintptr_t)args,
                    environ) != 0) {
        fprintf(stderr, "cannot start %s: %s\n", b->olsim, strerror(errno));
        return -1;
    }
    end = ola_mono_ms() + 30000; /* a deadline on the monotonic clock, not a count */
    while (ola_mono_ms() < end) {
        FILE *f = fopen(portfile, "r");

        if (f != NULL) {
            int ok = fscanf(f, "%u", &b->port) == 1;

            fclose(f);
            if (ok)
                return 0;
        }
        usleep(50000);
    }
    fprintf(stderr, "olsim did not start\n");
    return -1;
}

/* Downloads every event (GET /_sim/truth, NDJSON) and indexes the lines. */
static int bench_load_events(struct bench *b)
{
    char url[128];
    CURL *c = curl_easy_init();
    size_t pos = 0, cap = 0;
    CURLcode rc;

    if (c == NULL)
        return -1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/_sim/truth", b->port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ola_curl_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b->text);
    rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "GET %s: %s\n", url, curl_easy_strerror(rc));
        return -1;
    }
    while (pos < b->text.len) {
        char *nl = memchr(b->text.data + pos, '\n', b->text.len - pos);
        size_t end = nl ? (size_t)(nl - b->text.data) : b->text.len;
        const char *t;

        if (end > pos) {
            if (b->n == cap) {
                cap = cap ? cap * 2 : 1024;
                b->off = realloc(b->off, cap * sizeof(*b->off));
                b->len = realloc(b->len, cap * sizeof(*b->len));
                b->type = realloc(b->type, cap * sizeof(*b->type));
                if (b->off == NULL || b->len == NULL || b->type == NULL)
                    return -1;
            }
            b->off[b->n] = pos;
            b->len[b->n] = end - pos;
            t = strstr(b->text.data + pos, "\"event_type_id\":");
            b->type[b->n] =
                t != NULL && t < b->text.data + end ? strtoll(t + 16, NULL, 10) : 0;
            b->n++;
        }
        pos = end + 1;
    }
    return 0;
}

/* Parses events [i, j) into bt, as the page parser would (raw bytes kept). */
static int bench_parse(const struct bench *b, const size_t *idx, size_t i, size_t j,
                       struct ola_batch *bt)
{
    for (; i < j; i++) {
        size_t k = idx[i];
        const char *raw = b->text.data + b->off[k];
        json_t *ev = json_loadb(raw, b->len[k], 0, NULL);
        struct ola_event *e = ola_batch_add(bt, OLA_REC_EVENT, ev, raw, b->len[k]);
        long long id;

        if (ev == NULL || e == NULL)
            return -1;
        if (ola_event_int(e, "id", &id))
            e->id = id;
        if (ola_event_str(e, "created_at") != NULL)
            (void)ola_time_parse_iso(ola_event_str(e, "created_at"), &e->created_ms);
    }
    return 0;
}

static int bench_client(const struct bench *b, struct ola_ol_client **c,
                        struct ola_enricher **en, struct ola_err *err)
{
    struct ola_enrich_api api;
    struct ola_ol_opts o;

    memset(&o, 0, sizeof(o));
    o.base_url = b->s.onelogin.base_url;
    o.client_id = b->s.onelogin.client_id;
    o.client_secret = b->s.onelogin.client_secret;
    o.timeout_ms = 10000;
    o.reserve = b->s.enrich_opts.reserve;
    if (ola_ol_client_new(&o, c, err) != 0)
        return -1;
    return ola_enricher_new(&b->s.enrich_opts, ola_enrich_onelogin_api(*c, &api), en,
                            err);
}

/* (1) a cold pass in pages of `page`: lookups and change evictions. */
static int bench_cold(const struct bench *b, const size_t *all, size_t page,
                      struct ola_err *err)
{
    struct ola_ol_client *c = NULL;
    struct ola_enricher *en = NULL;
    struct ola_enrich_stats st;
    struct ola_batch bt;
    size_t i;
    int rc = -1;

    ola_batch_init(&bt);
    if (bench_client(b, &c, &en, err) != 0)
        goto out;
    for (i = 0; i < b->n; i += page) {
        size_t j = i + page < b->n ? i + page : b->n;

        ola_batch_reset(&bt);
        if (bench_parse(b, all, i, j, &bt) != 0 ||
            ola_enrich_batch(en, &bt, NULL, ola_mono_ms()) != 0)
            goto out;
    }
    ola_enricher_stats(en, &st);
    printf("cold, pages of %4zu: %llu lookups for %zu events = %.1f per 1,000 events "
           "(%.1f without the %llu refetches after user-changing events); %llu 404s\n",
           page, (unsigned long long)st.misses, b->n,
           1000.0 * (double)st.misses / (double)b->n,
           1000.0 * (double)(st.misses - st.change_evictions) / (double)b->n,
           (unsigned long long)st.change_evictions, (unsigned long long)st.not_found);
    rc = 0;
out:
    ola_batch_free(&bt);
    ola_enricher_destroy(en);
    ola_ol_client_destroy(c);
    return rc;
}

struct bench_run {
    double total_s;  /* parse + [enrich] + rules + format */
    double parse_s;  /* the page's events parsed */
    double enrich_s; /* the enrichment step alone */
    double rules_s;  /* ola_rules_apply */
    double format_s; /* the json format */
    uint64_t bytes;  /* formatted */
};

/* (2) one timed pass over idx[0..n) in pages of 1000; en NULL: no enrichment. */
static int bench_pass(const struct bench *b, const size_t *idx, size_t n,
                      struct ola_enricher *en, struct bench_run *run, struct ola_err *err)
{
    const char *const outs[] = {"stdout"};
    struct ola_format_opts fo;
    struct ola_buf out = OLA_BUF_INIT;
    struct ola_rules_settings rs;
    struct ola_rules *r;
    struct ola_enrich_types types;
    struct ola_batch bt;
    double t0, e0;
    size_t i, k;
    int rc = -1;

    memset(run, 0, sizeof(*run));
    memset(&fo, 0, sizeof(fo));
    ola_batch_init(&bt);
    ola_settings_rules(&b->s, &rs);
    r = ola_rules_new(&rs, b->catalog, outs, 1, err);
    if (r == NULL)
        goto out;
    t0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
    for (i = 0; i < n; i += 1000) {
        size_t j = i + 1000 < n ? i + 1000 : n;

        ola_batch_reset(&bt);
        e0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
        if (bench_parse(b, idx, i, j, &bt) != 0)
            goto out;
        run->parse_s += ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - e0;
        if (en != NULL) {
            e0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
            if (ola_enrich_batch(en, &bt,
                                 ola_enrich_catalog_types(ola_rules_catalog(r), &types),
                                 ola_mono_ms()) != 0)
                goto out;
            run->enrich_s += ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - e0;
        }
        e0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
        if (ola_rules_apply(r, &bt, bt.ev[bt.n - 1].created_ms) != 0)
            goto out;
        run->rules_s += ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - e0;
        e0 = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID);
        for (k = 0; k < bt.n; k++) {
            ola_buf_reset(&out);
            if (ola_format_event(&ola_format_json, &bt.ev[k], &fo, &out) != 0)
                goto out;
            run->bytes += out.len;
        }
        run->format_s += ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - e0;
    }
    run->total_s = ola_tool_secs(CLOCK_PROCESS_CPUTIME_ID) - t0;
    rc = 0;
out:
    ola_batch_free(&bt);
    ola_rules_destroy(r);
    ola_buf_free(&out);
    return rc;
}

static void bench_best(struct bench_run *best, const struct bench_run *r, int round)
{
    if (round == 0 || r->total_s < best->total_s)
        *best = *r;
}

static void bench_line(const char *what, const struct bench_run *r, size_t n)
{
    printf("%-29s %6.2f us/event (%6.0f events per CPU-second): parse %.2f, enrichment "
           "%.2f, rules %.2f, json format %.2f us; %.0f bytes/record\n",
           what, r->total_s * 1e6 / (double)n, (double)n / r->total_s,
           r->parse_s * 1e6 / (double)n, r->enrich_s * 1e6 / (double)n,
           r->rules_s * 1e6 / (double)n, r->format_s * 1e6 / (double)n,
           (double)r->bytes / (double)n);
}

/* Heap bytes in use, as malloc counts them. */
static size_t bench_heap(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks;
}

/*
 * (3) what the warm cache holds: the heap with the enricher before and after
 * its trim (what an idle agent keeps), against the heap once it is gone.
 * Destroys *en.
 */
static void bench_memory(struct ola_enricher **en)
{
    struct ola_enrich_stats st;
    size_t busy, rest, none;

    ola_format_release_all(); /* the json format's memo holds trees too */
    busy = bench_heap();
    ola_enricher_trim(*en);
    rest = bench_heap();
    ola_enricher_stats(*en, &st);
    ola_enricher_destroy(*en);
    *en = NULL;
    none = bench_heap();
    if (st.entries == 0 || rest < none || busy < none)
        return;
    printf(
        "cache at rest (trimmed): %zu entries (users, roles, 404s) in %zu bytes of heap "
        "= %.0f bytes per entry; %.0f per entry before the trim\n",
        st.entries, rest - none, (double)(rest - none) / (double)st.entries,
        (double)(busy - none) / (double)st.entries);
}

static int bench_warm(const struct bench *b, struct ola_err *err)
{
    struct ola_ol_client *c = NULL;
    struct ola_enricher *en = NULL;
    struct ola_enrich_stats st;
    struct bench_run plain, with, best_plain, best_with;
    size_t *idx = calloc(b->n, sizeof(*idx)), n = 0, i;
    double added;
    uint64_t lookups;
    int round, rc = -1;

    memset(&best_plain, 0, sizeof(best_plain));
    memset(&best_with, 0, sizeof(best_with));
    if (idx == NULL)
        goto out;
    for (i = 0; i < b->n; i++)
        if (ola_enrich_changes(b->type[i]) == 0)
            idx[n++] = i;
    if (bench_client(b, &c, &en, err) != 0)
        goto out;
    /* warm the cache: one pass that looks everyone up */
    if (bench_pass(b, idx, n, en, &with, err) != 0)
        goto out;
    ola_enricher_stats(en, &st);
    lookups = st.misses;
    for (round = 0; round < b->rounds; round++) {
        if (bench_pass(b, idx, n, NULL, &plain, err) != 0 ||
            bench_pass(b, idx, n, en, &with, err) != 0)
            goto out;
        printf(
            "round %d: pipeline %.3f s, with enrichment %.3f s (the step %.3f s) CPU\n",
            round + 1, plain.total_s, with.total_s, with.enrich_s);
        bench_best(&best_plain, &plain, round);
        bench_best(&best_with, &with, round);
    }
    ola_enricher_stats(en, &st);
    printf("warm cache: %zu events (%zu user-changing ones left out), %llu lookups while "
           "timed (%llu to warm up)\n",
           n, b->n - n, (unsigned long long)(st.misses - lookups),
           (unsigned long long)lookups);
    bench_line("pipeline without enrichment:", &best_plain, n);
    bench_line("pipeline with enrichment:", &best_with, n);
    printf("enrichment step (warm):       %.2f us/event = %.1f%% of the pipeline without "
           "it\n",
           best_with.enrich_s * 1e6 / (double)n,
           100.0 * best_with.enrich_s / best_plain.total_s);
    /* the stages enrichment changes: itself, rules, the format of bigger records */
    added = best_with.enrich_s + (best_with.rules_s - best_plain.rules_s) +
            (best_with.format_s - best_plain.format_s);
    printf(
        "added by enrichment:          %.2f us/event = %+.1f%% (the step, plus rules and "
        "json format on enriched records; parse excluded: it does not change)\n",
        added * 1e6 / (double)n, 100.0 * added / best_plain.total_s);
    printf(
        "whole difference:             %.2f us/event = %+.1f%% (includes the machine's "
        "noise)\n",
        (best_with.total_s - best_plain.total_s) * 1e6 / (double)n,
        100.0 * (best_with.total_s - best_plain.total_s) / best_plain.total_s);
    bench_memory(&en);
    rc = 0;
out:
    free(idx);
    ola_enricher_destroy(en);
    ola_ol_client_destroy(c);
    return rc;
}

static int bench_paths(struct bench *b, struct ola_err *err)
{
    const char *src = getenv("OLA_SOURCE_DIR");
    int n;

    n = snprintf(b->catalog, sizeof(b->catalog), "%s/config/event-types.json",
                 src ? src : ".");
    if (n < 0 || (size_t)n >= sizeof(b->catalog))
        return ola_err_set(err, EINVAL, "path too long");
    if (access(b->catalog, R_OK) != 0)
        return ola_err_set(err, errno,
                           "%s: %s (run from the source directory or set "
                           "OLA_SOURCE_DIR)",
                           b->catalog, strerror(errno));
    return 0;
}

/* Settings as `run` reads them: olsim's address, the default rule pack. */
static int bench_settings(struct bench *b, struct ola_err *err)
{
    char cfg[9000];
    const char *src = getenv("OLA_SOURCE_DIR");
    int n;

    n = snprintf(cfg, sizeof(cfg),
                 "onelogin:\n  base_url: http://127.0.0.1:%u\n  client_id: bench\n"
                 "  client_secret: bench-secret\n"
                 "rules: [\"%s/config/rules/default.yaml\"]\n"
                 "outputs:\n  - type: stdout\n",
                 b->port, src ? src : ".");
    if (n < 0 || (size_t)n >= sizeof(cfg))
        return ola_err_set(err, EINVAL, "path too long");
    if (ola_cfg_load_string("bench.yaml", cfg, (size_t)n, &b->doc, err) != 0 ||
        ola_settings_load(b->doc, ola_now_ms(), &b->s, err) != 0)
        return -1;
    return 0;
}

static int bench_arg(const char *s, long long min, long long max, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno != 0 || *end != '\0' || *out < min || *out > max ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct bench b;
    struct ola_err err = {0, ""};
    long long k = 3;
    size_t *all = NULL, i;
    int opt, rc = 1, st;

    memset(&b, 0, sizeof(b));
    b.olsim = getenv("OLSIM") ? getenv("OLSIM") : "build/tests/olsim";
    b.n_events = 100000;
    b.n_users = 2000;
    while ((opt = getopt(argc, argv, "s:n:u:k:")) != -1) {
        if (opt == 's') {
            b.olsim = optarg;
        } else if (opt == 'n' && bench_arg(optarg, 1000, 10000000, &b.n_events) == 0) {
        } else if (opt == 'u' && bench_arg(optarg, 1, 1000000, &b.n_users) == 0) {
        } else if (opt == 'k' && bench_arg(optarg, 1, 100, &k) == 0) {
        } else {
            fprintf(stderr, "usage: %s [-s OLSIM] [-n EVENTS] [-u USERS] [-k ROUNDS]\n",
                    argv[0]);
            return 2;
        }
    }
    b.rounds = (int)k;
    ola_log_setup(OLA_LOG_WARN, OLA_LOG_TEXT, NULL);
    json_object_seed(0);
    snprintf(b.dir, sizeof(b.dir), "/tmp/ola_enrich_bench.XXXXXX");
    if (mkdtemp(b.dir) == NULL || bench_paths(&b, &err) != 0 ||
        bench_start_olsim(&b) != 0 || bench_settings(&b, &err) != 0 ||
        bench_load_events(&b) != 0)
        goto fail;
    printf("tenant: %lld users, 50 roles; %zu events (%.0f bytes each on average)\n",
           b.n_users, b.n, (double)b.text.len / (double)b.n);
    all = calloc(b.n, sizeof(*all));
    if (all == NULL)
        goto fail;
    for (i = 0; i < b.n; i++)
        all[i] = i;
    if (bench_cold(&b, all, 1000, &err) != 0 || bench_cold(&b, all, 50, &err) != 0 ||
        bench_warm(&b, &err) != 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "ola_enrich_bench: %s\n", err.msg[0] ? err.msg : "failed");
out:
    if (b.sim > 0) {
        kill(b.sim, SIGTERM);
        waitpid(b.sim, &st, 0);
    }
    if (b.dir[0] != '\0') {
        char p[128];

        snprintf(p, sizeof(p), "%s/port", b.dir);
        unlink(p);
        rmdir(b.dir);
    }
    free(all);
    free(b.off);
    free(b.len);
    free(b.type);
    ola_buf_free(&b.text);
    ola_cfg_doc_destroy(b.doc);
    return rc;
}
