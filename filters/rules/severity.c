/*
 * severity.c - severity levels and their names (severity.h).
 *
 * A level is a number 0..10; each name stands for one level of its band
 * (info 0, low 3, medium 5, high 7, critical 9) when read, and every level
 * has the name of its band when written. Info is 0 so that it falls in the
 * bottom bucket of every output mapping (docs/rules.md, "Severity").
 * Pure functions: no state, thread-safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filters/rules/severity.h"

const char *ola_severity_name(int sev)
{
    if (sev <= 0)
        return "info";
    if (sev <= 3)
        return "low";
    if (sev <= 6)
        return "medium";
    if (sev <= 8)
        return "high";
    return "critical";
}

int ola_severity_parse(const char *s)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"info", 0}, {"low", 3}, {"medium", 5}, {"high", 7}, {"critical", 9}};
    char *end;
    long v;
    size_t i;

    if (s == NULL || *s == '\0')
        return -1;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].level;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 10)
        return -1;
    return (int)v;
}
