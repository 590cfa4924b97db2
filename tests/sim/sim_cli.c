/*
 * olsim command line: the options, their defaults and their checks.
 *
 * olsim_parse_args fills struct olsim_cfg from argv with getopt_long; every value is
 * range-checked here, so the rest of olsim trusts the config. --tenant-fault,
 * --tenant-fault-rate and --tenant-rate-limit take tK:VALUE and are checked against
 * --tenants once every option is read (the options may come in any order). A bad option
 * is reported on stderr.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static void olsim_usage(FILE *f)
{
    fprintf(
        f,
        "usage: olsim [options]\n"
        "  --listen ADDR:PORT       loopback address to bind (default 127.0.0.1:0)\n"
        "  --port-file FILE         write the bound port to FILE once listening\n"
        "  --seed N                 seed for everything generated (default 1)\n"
        "  --users N --roles N --apps N   tenant size (default 50, 10, 10)\n"
        "  --events N               events generated at start (default 1000)\n"
        "  --span DURATION          they spread over [now-span, now-1s] (default 24h)\n"
        "  --scenario NAME          add "
        "bruteforce|spray|mfa_fatigue|superuser|privilege\n"
        "  --rate R                 live events per second (default 0)\n"
        "  --late-fraction F        fraction of live events created late (default 0)\n"
        "  --late-max DURATION      maximum lateness (default 2m)\n"
        "  --page-max N             largest events page (default 50)\n"
        "  --rate-limit N           API calls per window (default 5000)\n"
        "  --rate-window DURATION   rate-limit window (default 1h)\n"
        "  --limit-style S          429 | 429html | 400 (default 429)\n"
        "  --client-id ID --client-secret S   credentials (olsim-client/olsim-secret)\n"
        "  --token-ttl DURATION     token lifetime (default 10h)\n"
        "  --fault KIND[:COUNT[:PATH_PREFIX]]  queue a fault (repeatable)\n"
        "  --fault-rate P           random transient fault probability per API call\n"
        "  --stall DURATION         how long a stall fault holds (default 30s)\n"
        "  --catalog FILE           event-type catalog JSON (default: built-in list)\n"
        "  --now ISO-8601           pin the clock used to pre-generate (reproducible)\n"
        "  --request-log FILE       append one JSON line per API request\n"
        "  --truth FILE             write every event (NDJSON) on exit (tK to FILE.tK)\n"
        "  --tenants N              serve N tenants t1..tN (default 1); tK's "
        "credentials\n"
        "                           are ID-tK / SECRET-tK when N > 1\n"
        "  --tenant-fault-rate tK:P    tenant K's own --fault-rate (repeatable)\n"
        "  --tenant-rate-limit tK:N    tenant K's own --rate-limit (repeatable)\n"
        "  --tenant-fault tK:KIND[:COUNT[:PATH_PREFIX]]  queue a fault on tenant K only\n"
        "  --help, --version\n"
        "Durations take ms, s, m, h or d suffixes.\n");
}

static int olsim_parse_listen(const char *s, struct olsim_cfg *c)
{
    const char *colon = strrchr(s, ':');
    struct in_addr a;
    long long port;
    size_t n;

    if (!colon)
        return -1;
    n = (size_t)(colon - s);
    if (n >= sizeof(c->listen_host))
        return -1;
    memcpy(c->listen_host, s, n);
    c->listen_host[n] = '\0';
    if (n == 0 || strcmp(c->listen_host, "localhost") == 0)
        snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    if (inet_pton(AF_INET, c->listen_host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
        return -1;
    if (olsim_parse_ll(colon + 1, 0, 65535, &port) < 0)
        return -1;
    c->listen_port = (unsigned)port;
    return 0;
}

static int olsim_size_arg(const char *s, size_t max, size_t *out)
{
    long long v;

    if (olsim_parse_ll(s, 0, (long long)max, &v) < 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Parses tK: at the start of s into *k; returns what follows, or NULL. */
static const char *olsim_tenant_prefix(const char *s, unsigned *k)
{
    const char *colon = strchr(s, ':');
    char num[16];
    long long v;
    size_t n;

    if (s[0] != 't' || !colon)
        return NULL;
    n = (size_t)(colon - s - 1);
    if (n == 0 || n >= sizeof(num))
        return NULL;
    memcpy(num, s + 1, n);
    num[n] = '\0';
    if (olsim_parse_ll(num, 1, OLSIM_MAX_TENANTS, &v) < 0)
        return NULL;
    *k = (unsigned)v;
    return colon + 1;
}

/* --fault KIND[:COUNT[:PATH]] (every tenant) or --tenant-fault tK:KIND[:COUNT[:PATH]]. */
static int olsim_fault_arg(const char *s, int one_tenant, struct olsim_cfg *c)
{
    unsigned k = 0;

    if (c->nfaults >= sizeof(c->faults) / sizeof(c->faults[0]))
        return -1;
    if (one_tenant) {
        s = olsim_tenant_prefix(s, &k);
        if (!s)
            return -1;
    }
    if (olsim_fault_parse_spec(s, &c->faults[c->nfaults]) < 0)
        return -1;
    c->fault_tenant[c->nfaults++] = k;
    return 0;
}

/* Parses tK:VALUE (VALUE a fault rate or a rate limit) into an override. */
static int olsim_override_arg(const char *s, int is_rate_limit, struct olsim_cfg *c)
{
    struct olsim_override *o;
    const char *val;
    long long v;

    if (c->noverrides >= OLSIM_MAX_OVERRIDES)
        return -1;
    o = &c->overrides[c->noverrides];
    memset(o, 0, sizeof(*o));
    val = olsim_tenant_prefix(s, &o->tenant);
    if (!val)
        return -1;
    o->is_rate_limit = is_rate_limit;
    if (is_rate_limit) {
        if (olsim_parse_ll(val, 0, 1000000000, &v) < 0)
            return -1;
        o->rate_limit = (long)v;
    } else if (olsim_parse_double(val, 0, 1, &o->fault_rate) < 0) {
        return -1;
    }
    c->noverrides++;
    return 0;
}

int olsim_parse_args(struct olsim_cfg *c, int argc, char **argv)
{
    enum {
        O_LISTEN = 256,
        O_PORTFILE,
        O_SEED,
        O_USERS,
        O_ROLES,
        O_APPS,
        O_EVENTS,
        O_SPAN,
        O_RATE,
        O_LATEF,
        O_LATEMAX,
        O_PAGEMAX,
        O_RL,
        O_RLWIN,
        O_STYLE,
        O_CID,
        O_CSEC,
        O_TTL,
        O_FAULT,
        O_FAULTRATE,
        O_STALL,
        O_REQLOG,
        O_TRUTH,
        O_SCEN,
        O_CATALOG,
        O_NOW,
        O_TENANTS,
        O_TFAULTRATE,
        O_TRATELIMIT,
        O_TFAULT,
        O_HELP,
        O_VERSION
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"port-file", required_argument, NULL, O_PORTFILE},
        {"seed", required_argument, NULL, O_SEED},
        {"users", required_argument, NULL, O_USERS},
        {"roles", required_argument, NULL, O_ROLES},
        {"apps", required_argument, NULL, O_APPS},
        {"events", required_argument, NULL, O_EVENTS},
        {"span", required_argument, NULL, O_SPAN},
        {"rate", required_argument, NULL, O_RATE},
        {"late-fraction", required_argument, NULL, O_LATEF},
        {"late-max", required_argument, NULL, O_LATEMAX},
        {"page-max", required_argument, NULL, O_PAGEMAX},
        {"rate-limit", required_argument, NULL, O_RL},
        {"rate-window", required_argument, NULL, O_RLWIN},
        {"limit-style", required_argument, NULL, O_STYLE},
        {"client-id", required_argument, NULL, O_CID},
        {"client-secret", required_argument, NULL, O_CSEC},
        {"token-ttl", required_argument, NULL, O_TTL},
        {"fault", required_argument, NULL, O_FAULT},
        {"fault-rate", required_argument, NULL, O_FAULTRATE},
        {"stall", required_argument, NULL, O_STALL},
        {"request-log", required_argument, NULL, O_REQLOG},
        {"truth", required_argument, NULL, O_TRUTH},
        {"scenario", required_argument, NULL, O_SCEN},
        {"catalog", required_argument, NULL, O_CATALOG},
        {"now", required_argument, NULL, O_NOW},
        {"tenants", required_argument, NULL, O_TENANTS},
        {"tenant-fault-rate", required_argument, NULL, O_TFAULTRATE},
        {"tenant-rate-limit", required_argument, NULL, O_TRATELIMIT},
        {"tenant-fault", required_argument, NULL, O_TFAULT},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    long long ll;
    size_t i;
    int ch;
    int bad = 0;

    snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    c->seed = 1;
    c->users = 50;
    c->roles = 10;
    c->apps = 10;
    c->events = 1000;
    c->span_ms = 86400000;
    c->late_max_ms = 120000;
    c->page_max = 50;
    c->rate_limit = 5000;
    c->rate_window_ms = 3600000;
    c->limit_style = OLSIM_F_429;
    c->client_id = "olsim-client";
    c->client_secret = "olsim-secret";
    c->token_ttl_ms = 36000000;
    c->stall_ms = 30000;
    c->tenants = 1;
    opterr = 0;
    while (!bad && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case O_LISTEN:
            bad = olsim_parse_listen(optarg, c) < 0;
            break;
        case O_PORTFILE:
            c->port_file = optarg;
            break;
        case O_SEED:
            bad = olsim_parse_ll(optarg, 0, INT64_MAX, &ll) < 0;
            c->seed = (uint64_t)ll;
            break;
        case O_USERS:
            bad = olsim_size_arg(optarg, 10000000, &c->users) < 0 || c->users == 0;
            break;
        case O_ROLES:
            bad = olsim_size_arg(optarg, 60000, &c->roles) < 0;
            break;
        case O_APPS:
            bad = olsim_size_arg(optarg, 60000, &c->apps) < 0;
            break;
        case O_EVENTS:
            bad = olsim_size_arg(optarg, 50000000, &c->events) < 0;
            break;
        case O_SPAN:
            bad = olsim_parse_duration(optarg, &c->span_ms) < 0 || c->span_ms < 1000;
            break;
        case O_RATE:
            bad = olsim_parse_double(optarg, 0, 1e7, &c->rate) < 0;
            break;
        case O_LATEF:
            bad = olsim_parse_double(optarg, 0, 1, &c->late_fraction) < 0;
            break;
        case O_LATEMAX:
            bad = olsim_parse_duration(optarg, &c->late_max_ms) < 0;
            break;
        case O_PAGEMAX:
            bad = olsim_size_arg(optarg, 100000, &c->page_max) < 0 || c->page_max == 0;
            break;
        case O_RL:
            bad = olsim_parse_ll(optarg, 0, 1000000000, &ll) < 0;
            c->rate_limit = (long)ll;
            break;
        case O_RLWIN:
            bad = olsim_parse_duration(optarg, &c->rate_window_ms) < 0 ||
                  c->rate_window_ms < 1;
            break;
        case O_STYLE:
            if (strcmp(optarg, "429") == 0)
                c->limit_style = OLSIM_F_429;
            else if (strcmp(optarg, "429html") == 0)
                c->limit_style = OLSIM_F_429HTML;
            else if (strcmp(optarg, "400") == 0)
                c->limit_style = OLSIM_F_RL400;
            else
                bad = 1;
            break;
        case O_CID:
            c->client_id = optarg;
            break;
        case O_CSEC:
            c->client_secret = optarg;
            break;
        case O_TTL:
            bad =
                olsim_parse_duration(optarg, &c->token_ttl_ms) < 0 || c->token_ttl_ms < 1;
            break;
        case O_FAULT:
        case O_TFAULT:
            bad = olsim_fault_arg(optarg, ch == O_TFAULT, c) < 0;
            break;
        case O_FAULTRATE:
            bad = olsim_parse_double(optarg, 0, 1, &c->fault_rate) < 0;
            break;
        case O_STALL:
            bad = olsim_parse_duration(optarg, &c->stall_ms) < 0;
            break;
        case O_REQLOG:
            c->request_log = optarg;
            break;
        case O_TRUTH:
            c->truth = optarg;
            break;
        case O_SCEN:
            bad = c->nscenarios >= sizeof(c->scenarios) / sizeof(c->scenarios[0]);
            if (!bad)
                c->scenarios[c->nscenarios++] = optarg;
            break;
        case O_CATALOG:
            c->catalog = optarg;
            break;
        case O_NOW:
            bad = olsim_parse_iso(optarg, &c->now_ms) < 0;
            break;
        case O_TENANTS:
            bad = olsim_size_arg(optarg, OLSIM_MAX_TENANTS, &c->tenants) < 0 ||
                  c->tenants == 0;
            break;
        case O_TFAULTRATE:
        case O_TRATELIMIT:
            bad = olsim_override_arg(optarg, ch == O_TRATELIMIT, c) < 0;
            break;
        case O_HELP:
            olsim_usage(stdout);
            return 1;
        case O_VERSION:
            printf("olsim %s\n", OLSIM_VERSION);
            return 1;
        default:
            fprintf(stderr, "olsim: unknown option or missing argument: %s\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (bad) {
        fprintf(stderr, "olsim: bad value for %s: %s\n",
                argv[optind - 2 >= 0 ? optind - 2 : 0], optarg ? optarg : "");
        return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "olsim: unexpected argument: %s\n", argv[optind]);
        return -1;
    }
    for (i = 0; i < c->nfaults; i++) {
        if (c->fault_tenant[i] > c->tenants) {
            fprintf(stderr,
                    "olsim: --tenant-fault names t%u, but there are %zu tenants\n",
                    c->fault_tenant[i], c->tenants);
            return -1;
        }
    }
    for (i = 0; i < c->noverrides; i++) {
        if (c->overrides[i].tenant > c->tenants) {
            fprintf(stderr, "olsim: %s names t%u, but there are %zu tenants\n",
                    c->overrides[i].is_rate_limit ? "--tenant-rate-limit"
                                                  : "--tenant-fault-rate",
                    c->overrides[i].tenant, c->tenants);
            return -1;
        }
    }
    return 0;
}
