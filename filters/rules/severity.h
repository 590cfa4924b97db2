/*
 * severity.h - severity levels: a number 0..10, named info, low, medium,
 * high and critical.
 *
 * The bottom of filters/rules, beside catalog and regex_guard: rules' and
 * alert rules' `severity:` and the expressions' `severity: ">= high"` all
 * read levels here, and it calls nothing of theirs, so the calls between the
 * folder's files stay one-way (filter.h).
 */
#ifndef OLA_SEVERITY_H
#define OLA_SEVERITY_H

/* "info" 0, "low" 1-3, "medium" 4-6, "high" 7-8, "critical" 9-10 (a static string). */
const char *ola_severity_name(int sev);
/* "info"=0, "low"=3, "medium"=5, "high"=7, "critical"=9, or a number 0..10;
 * -1 if neither. */
int ola_severity_parse(const char *s);

#endif
