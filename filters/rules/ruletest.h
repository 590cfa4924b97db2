/*
 * ruletest.h - `olagent rules test FILE...`: the test cases written beside
 * each rule in a rule file, run against that file's rules.
 *
 * A rule may carry `tests:`, a list of cases {name, expect, event | events}
 * (docs/rules.md): events in, and whether the rule matches (a flag rule) or
 * raises its alert (an alert rule). The normal loader ignores `tests:`.
 */
#ifndef OLA_RULETEST_H
#define OLA_RULETEST_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes of ola_rules_test_run, as olagent's. */
#define OLA_RULETEST_PASS   0
#define OLA_RULETEST_FAILED 1
#define OLA_RULETEST_ERROR  2

/*
 * Loads each file alone (no default pack, the built-in catalog; the names
 * in route: lists stand for outputs), runs every case of every rule and
 * prints one line per case to out ("PASS ..." / "FAIL file:line: ...") and a
 * summary. Load errors ("file:line: ...") go to errs. Returns
 * OLA_RULETEST_PASS when every case passed, _FAILED when one failed, _ERROR
 * when a file or a case could not be read.
 */
int ola_rules_test_run(const char *const *files, size_t n, FILE *out, FILE *errs);

#endif
