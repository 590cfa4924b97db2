/*
 * main.c - the olagent command line.
 *
 * Parses the command and its options and calls the command in agent.h; all
 * the work lives in the library so tests can call it too. Exit codes: 0 ok,
 * 1 runtime failure, 2 bad configuration or usage.
 */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "agent/agent.h"
#include "agent/core/arena.h"
#include "agent/core/secret.h"
#include "filters/rules/ruletest.h"
#include "filters/rules/sigma.h"

static void ola_usage(FILE *out)
{
    fputs("usage: olagent COMMAND [options]\n"
          "\n"
          "commands:\n"
          "  run -c FILE                         tail OneLogin and deliver events\n"
          "  check -c FILE [--online] [--strict] validate the configuration and rules;\n"
          "                                      print it with secrets masked; --online\n"
          "                                      also tests the credential and outputs;\n"
          "                                      --strict fails on warnings\n"
          "  config example                      print the settings' keys, defaults and\n"
          "                                      help, from the option tables\n"
          "  checkpoint show -c FILE [--tenant NAME]    print the saved position\n"
          "  checkpoint set -c FILE [--tenant NAME] --since T\n"
          "                                      resume from T (ISO-8601, now, -24h)\n"
          "  checkpoint verify -c FILE [--tenant NAME]  check that it loads and fits\n"
          "  replay -c FILE [--enrich] [--tenant NAME] EVENTS.ndjson\n"
          "                                      run saved events through rules and\n"
          "                                      outputs (the checkpoint is untouched);\n"
          "                                      --enrich looks users and roles up;\n"
          "                                      the events are NAME's (default: the\n"
          "                                      first tenant)\n"
          "  verify DIR                          check the file output's manifest chain\n"
          "  rules test FILE...                  run the test cases beside each rule\n"
          "  rules import-sigma [-o F] FILE...  convert Sigma rules for OneLogin (-o F:\n"
          "                                      write to F, lists beside it)\n"
          "  --version, --help\n"
          "\n"
          "exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage\n",
          out);
}

/* Finds "-c FILE" / "--config FILE" / "--config=FILE" in argv[from..]. */
static const char *ola_opt_value(int argc, char **argv, int from, const char *shortopt,
                                 const char *longopt)
{
    size_t ll = strlen(longopt);
    int i;

    for (i = from; i < argc; i++) {
        if ((shortopt != NULL && strcmp(argv[i], shortopt) == 0) ||
            strcmp(argv[i], longopt) == 0)
            return i + 1 < argc ? argv[i + 1] : NULL;
        if (strncmp(argv[i], longopt, ll) == 0 && argv[i][ll] == '=')
            return argv[i] + ll + 1;
    }
    return NULL;
}

static bool ola_has_flag(int argc, char **argv, int from, const char *flag)
{
    int i;

    for (i = from; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return true;
    return false;
}

/* The positional argument after the options of a command, or NULL. */
static const char *ola_positional(int argc, char **argv, int from)
{
    int i;

    for (i = from; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ||
            strcmp(argv[i], "--since") == 0 || strcmp(argv[i], "--tenant") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)
            return argv[i];
    }
    return NULL;
}

static int ola_need_config(const char *cmd, const char *cfg)
{
    if (cfg != NULL)
        return 0;
    fprintf(stderr, "olagent %s: missing -c FILE\n", cmd);
    return -1;
}

int main(int argc, char **argv)
{
    const char *cmd, *cfg;

    if (argc < 2) {
        ola_usage(stderr);
        return OLA_EXIT_CONFIG;
    }
#ifdef __linux__
    /* before any secret is read: no core file, no ptrace or /proc/PID/mem
     * reads by other users (docs/security.md) */
    if (ola_secret_nodump() != 0)
        perror("olagent: prctl(PR_SET_DUMPABLE)");
#endif
    ola_arena_install(); /* before any thread uses Jansson */
#ifdef __GLIBC__
    /* Many tenants, one thread each: glibc would give each thread its own heap
     * (up to 8 per core), each keeping its own free pages; two heaps hold the
     * same data in less (BENCHMARKS.md, "Tenants"). A fixed mmap threshold keeps
     * big page buffers out of the heaps, so they go back to the kernel when freed
     * instead of raising the threshold and fragmenting a heap. */
    mallopt(M_ARENA_MAX, 2);
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        ola_usage(stdout);
        return OLA_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("olagent %s\n", OLA_VERSION);
        return OLA_EXIT_OK;
    }
    if (strcmp(cmd, "config") == 0 && argc == 3 && strcmp(argv[2], "example") == 0)
        return ola_cmd_config_example();
    if (strcmp(cmd, "rules") == 0 && argc >= 3 && strcmp(argv[2], "test") == 0)
        return ola_rules_test_run((const char *const *)argv + 3, (size_t)(argc - 3),
                                  stdout, stderr);
    if (strcmp(cmd, "rules") == 0 && argc >= 3 && strcmp(argv[2], "import-sigma") == 0)
        return ola_sigma_import_main(argc - 3, argv + 3, stdout, stderr);
    cfg = ola_opt_value(argc, argv, 2, "-c", "--config");
    if (strcmp(cmd, "run") == 0) {
        if (ola_need_config(cmd, cfg) != 0)
            return OLA_EXIT_CONFIG;
        return ola_cmd_run(cfg);
    }
    if (strcmp(cmd, "check") == 0) {
        if (ola_need_config(cmd, cfg) != 0)
            return OLA_EXIT_CONFIG;
        return ola_cmd_check_opts(cfg, ola_has_flag(argc, argv, 2, "--online"),
                                  ola_has_flag(argc, argv, 2, "--strict"));
    }
    if (strcmp(cmd, "checkpoint") == 0 && argc >= 3) {
        const char *tenant = ola_opt_value(argc, argv, 3, NULL, "--tenant");

        if (ola_need_config("checkpoint", cfg) != 0)
            return OLA_EXIT_CONFIG;
        if (tenant == NULL && ola_has_flag(argc, argv, 3, "--tenant")) {
            fprintf(stderr, "olagent checkpoint: --tenant needs a NAME\n");
            return OLA_EXIT_CONFIG;
        }
        if (strcmp(argv[2], "show") == 0)
            return ola_cmd_checkpoint_show(cfg, tenant);
        if (strcmp(argv[2], "verify") == 0)
            return ola_cmd_checkpoint_verify(cfg, tenant);
        if (strcmp(argv[2], "set") == 0) {
            const char *since = ola_opt_value(argc, argv, 3, NULL, "--since");

            if (since == NULL) {
                fprintf(stderr, "olagent checkpoint set: missing --since TIME\n");
                return OLA_EXIT_CONFIG;
            }
            return ola_cmd_checkpoint_set(cfg, tenant, since);
        }
    }
    if (strcmp(cmd, "replay") == 0) {
        const char *events = ola_positional(argc, argv, 2);

        if (ola_need_config(cmd, cfg) != 0)
            return OLA_EXIT_CONFIG;
        if (events == NULL) {
            fprintf(stderr, "olagent replay: missing EVENTS.ndjson\n");
            return OLA_EXIT_CONFIG;
        }
        return ola_cmd_replay_opts(cfg, events, ola_has_flag(argc, argv, 2, "--enrich"),
                                   ola_opt_value(argc, argv, 2, NULL, "--tenant"));
    }
    if (strcmp(cmd, "verify") == 0) {
        const char *dir = ola_positional(argc, argv, 2);

        if (dir == NULL) {
            fprintf(stderr, "olagent verify: missing DIR\n");
            return OLA_EXIT_CONFIG;
        }
        return ola_cmd_verify(dir);
    }
    fprintf(stderr, "olagent: unknown command '%s'\n\n", cmd);
    ola_usage(stderr);
    return OLA_EXIT_CONFIG;
}
