/*
 * agent.h - the olagent commands: run, check, checkpoint, replay, verify.
 *
 * Each returns the process exit code: 0 ok, 1 runtime failure, 2 bad
 * configuration or usage. main.c only parses the command line.
 */
#ifndef OLA_AGENT_H
#define OLA_AGENT_H

#include <stdbool.h>

#define OLA_EXIT_OK      0
#define OLA_EXIT_RUNTIME 1
#define OLA_EXIT_CONFIG  2

/* Tails OneLogin until SIGTERM/SIGINT. */
int ola_cmd_run(const char *config_path);
/*
 * Validates the configuration (and rule files); prints it with secrets masked,
 * the catalog and rules in force, and the warnings (on stderr). strict: a
 * warning fails the check (OLA_EXIT_CONFIG).
 */
int ola_cmd_check_opts(const char *config_path, bool online, bool strict);
int ola_cmd_check(const char *config_path, bool online); /* not strict */
/*
 * The checkpoint commands act on one tenant (tenant: its name; NULL: the only
 * one). show and verify take every tenant when tenant is NULL and there are
 * several; set needs the name then.
 */
int ola_cmd_checkpoint_show(const char *config_path, const char *tenant);
/* Checks that the checkpoint loads and its alert state fits the rules in force. */
int ola_cmd_checkpoint_verify(const char *config_path, const char *tenant);
/* `olagent config example`: the settings' keys with defaults and help, from the tables.
 */
int ola_cmd_config_example(void);
/* Sets the watermark to `since` (ISO-8601, "now", or "-24h"), clearing the window. */
int ola_cmd_checkpoint_set(const char *config_path, const char *tenant,
                           const char *since);
/*
 * Runs saved NDJSON events (events_path, "-": stdin) through the pipeline
 * `run` builds (rules, outputs) with the replay source (replay.h); the
 * checkpoint is untouched. With enrich, events are enriched first (the API
 * is called). The events are those of the tenant called tenant (its API, its
 * name in the records); NULL: the first tenant.
 */
int ola_cmd_replay_opts(const char *config_path, const char *events_path, bool enrich,
                        const char *tenant);
/* Checks the manifests' hash chain in dir. */
int ola_cmd_verify(const char *dir);

#endif
