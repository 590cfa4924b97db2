/*
 * secret.c - wiping secrets before they are freed; the non-dumpable flag.
 *
 * One helper frees every secret (config values from ${VAR} or *_file, the
 * OAuth token, the Kafka SASL password) so the wipe is not forgotten at one
 * call site: explicit_bzero over the string, then free. The process flag is
 * Linux's PR_SET_DUMPABLE; elsewhere the calls report ENOSYS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "agent/core/secret.h"

void ola_secret_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

void ola_secret_free(char *s)
{
    if (s == NULL)
        return;
    ola_secret_wipe(s, strlen(s));
    free(s);
}

int ola_secret_nodump(void)
{
#ifdef __linux__
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
#else
    errno = ENOSYS;
    return -1;
#endif
}

int ola_secret_dumpable(void)
{
#ifdef __linux__
    int r = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);

    return r < 0 ? -1 : r != 0;
#else
    return -1;
#endif
}
