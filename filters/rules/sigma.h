/*
 * sigma.h - `olagent rules import-sigma FILE...`: Sigma rules for OneLogin
 * (logsource.product: onelogin) converted into olagent's rule YAML.
 *
 * One olagent rule per Sigma rule: named from its title, severity from its
 * level, mitre from its attack.tNNNN tags, the match from its detection.
 * What has no olagent equivalent is named on the message stream as
 * "file:line: ..." and the rule skipped, or converted partly where leaving
 * the part out can only make the rule match less (docs/rules.md, "Importing
 * Sigma rules").
 */
#ifndef OLA_SIGMA_H
#define OLA_SIGMA_H

#include <stddef.h>
#include <stdio.h>

#include "agent/core/buf.h"

/* Results of ola_sigma_convert and exit codes of the command. */
#define OLA_SIGMA_OK         0 /* every rule converted whole */
#define OLA_SIGMA_INCOMPLETE 1 /* a rule skipped or converted partly */
#define OLA_SIGMA_UNREADABLE 2 /* not readable or not YAML */

struct ola_sigma_conv; /* one run: the rules and list files converted so far */

/* A new, empty run (NULL on ENOMEM). */
struct ola_sigma_conv *ola_sigma_conv_new(void);
void ola_sigma_conv_destroy(struct ola_sigma_conv *cv);

/*
 * Converts the Sigma rule in text[0..len) (read from the file `name`, used in
 * messages and comments) and adds it to cv. Messages go to msgs, one line
 * each. Returns OLA_SIGMA_OK, _INCOMPLETE, _UNREADABLE, or -1 on ENOMEM.
 */
int ola_sigma_convert(struct ola_sigma_conv *cv, const char *name, const char *text,
                      size_t len, FILE *msgs);

/* Appends the olagent rule file (lists:, then rules:) to out. 0 / -1 (ENOMEM). */
int ola_sigma_render(const struct ola_sigma_conv *cv, struct ola_buf *out);

/* The list files the rule file refers to (CIDR lists), by a path relative to
 * its directory: file i's name and *content (borrowed from cv). */
size_t ola_sigma_list_count(const struct ola_sigma_conv *cv);
const char *ola_sigma_list_file(const struct ola_sigma_conv *cv, size_t i,
                                const char **content);

/*
 * The command: args are what follows `rules import-sigma` ([-o FILE] FILE...).
 * Writes the rule file to out (or FILE), the list files beside it, messages
 * to errs. Returns an OLA_SIGMA_* exit code.
 */
int ola_sigma_import_main(int argc, char *const *args, FILE *out, FILE *errs);

#endif
