/*
 * ola_lib_floor.c - the library floor: what olagent's process holds before any work.
 *
 * Linked like olagent: it references main.c's command entry points, so the
 * linker takes the same objects of ola_core and, with the toolchain's
 * --as-needed, the same shared libraries (libcurl and its TLS and auth
 * libraries, libmicrohttpd and GnuTLS, librdkafka, OpenSSL, Jansson,
 * libyaml, zlib). It then does the process-wide set-up `olagent run` does
 * before its first request (Jansson's hash seed, libcurl's global init, which
 * initialises OpenSSL, logging, the signal handlers), prints "ready" and
 * sleeps until SIGTERM or SIGINT. tests/bench/run.sh reads its RSS in the
 * same run as the agent's: the agent's own share is its RSS minus this floor.
 *   usage: ola_lib_floor        (no options)
 */
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent/agent.h"
#include "agent/core/log.h"
#include "agent/core/wait.h"

/* main.c's commands: what makes the link the same as olagent's (never called). */
static int (*volatile const ola_floor_run)(const char *) = ola_cmd_run;
static int (*volatile const ola_floor_check)(const char *, bool) = ola_cmd_check;
static int (*volatile const ola_floor_show)(const char *,
                                            const char *) = ola_cmd_checkpoint_show;
static int (*volatile const ola_floor_set)(const char *, const char *,
                                           const char *) = ola_cmd_checkpoint_set;
static int (*volatile const ola_floor_replay)(const char *, const char *, bool,
                                              const char *) = ola_cmd_replay_opts;
static int (*volatile const ola_floor_verify)(const char *) = ola_cmd_verify;

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1 || ola_floor_run == NULL || ola_floor_check == NULL ||
        ola_floor_show == NULL || ola_floor_set == NULL || ola_floor_replay == NULL ||
        ola_floor_verify == NULL) {
        fputs("usage: ola_lib_floor\n", stderr);
        return 2;
    }
    /* what `olagent run` does process-wide before its first request */
    json_object_seed(0);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        ola_wait_install_signals() != 0) {
        fputs("ola_lib_floor: set-up failed\n", stderr);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (!ola_stop_requested)
        ola_wait(1000);
    curl_global_cleanup();
    return 0;
}
