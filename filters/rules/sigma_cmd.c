/*
 * sigma_cmd.c - the command line of `olagent rules import-sigma [-o FILE]
 * FILE...` (sigma.h): reads every file (a file that cannot be read is
 * reported and the others still converted), writes the rule file to stdout
 * or FILE and the CIDR list files it refers to beside it (the current
 * directory for stdout: the rule file names them relative to its own
 * directory, so keep them together), and exits with the worst outcome:
 * 2 unreadable input, 1 something not converted, 0 all converted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/fileio.h"
#include "filters/rules/sigma.h"

#define OLA_SIGMA_MAX_FILE (1024 * 1024) /* a Sigma rule is a few KiB */

static int ola_sigma_usage(FILE *errs, const char *why)
{
    fprintf(errs,
            "olagent rules import-sigma: %s\nusage: olagent rules import-sigma [-o FILE] "
            "SIGMA.yml...\n",
            why);
    return OLA_SIGMA_UNREADABLE;
}

/* Writes text to path (replacing it). 0 / -1 with the reason on errs. */
static int ola_sigma_write(const char *path, const char *text, size_t len, FILE *errs)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        int e = errno;

        fprintf(errs, "olagent rules import-sigma: %s: cannot write: %s\n", path,
                strerror(e));
        return -1;
    }
    return 0;
}

/* The list files beside out_path (or in the current directory). */
static int ola_sigma_write_lists(const struct ola_sigma_conv *cv, const char *out_path,
                                 FILE *errs)
{
    size_t i, dir_len = 0;
    const char *slash = out_path != NULL ? strrchr(out_path, '/') : NULL;
    char path[4096];

    if (slash != NULL)
        dir_len = (size_t)(slash - out_path) + 1;
    for (i = 0; i < ola_sigma_list_count(cv); i++) {
        const char *content, *file = ola_sigma_list_file(cv, i, &content);
        int n = snprintf(path, sizeof(path), "%.*s%s", (int)dir_len,
                         dir_len > 0 ? out_path : "", file);

        if (n < 0 || (size_t)n >= sizeof(path)) {
            fprintf(errs, "olagent rules import-sigma: %s: path too long\n", file);
            return -1;
        }
        if (ola_sigma_write(path, content, strlen(content), errs) != 0)
            return -1;
        fprintf(errs,
                "olagent rules import-sigma: wrote list file %s (keep it beside the "
                "rule file)\n",
                path);
    }
    return 0;
}

int ola_sigma_import_main(int argc, char *const *args, FILE *out, FILE *errs)
{
    struct ola_sigma_conv *cv = ola_sigma_conv_new();
    struct ola_buf text = OLA_BUF_INIT;
    const char *out_path = NULL;
    size_t n_files = 0;
    int i, worst = OLA_SIGMA_OK, rc;

    if (cv == NULL)
        goto nomem;
    for (i = 0; i < argc; i++) {
        char *data = NULL;
        size_t len = 0;

        if (strcmp(args[i], "-o") == 0 || strcmp(args[i], "--output") == 0) {
            if (i + 1 >= argc || out_path != NULL) {
                ola_sigma_conv_destroy(cv);
                return ola_sigma_usage(errs, "-o takes one FILE");
            }
            out_path = args[++i];
            continue;
        }
        if (args[i][0] == '-') {
            ola_sigma_conv_destroy(cv);
            return ola_sigma_usage(errs, "unknown option");
        }
        n_files++;
        if (ola_read_file(args[i], OLA_SIGMA_MAX_FILE, &data, &len) != 0) {
            fprintf(errs, "%s: cannot read: %s\n", args[i], strerror(errno));
            worst = OLA_SIGMA_UNREADABLE;
            continue;
        }
        rc = ola_sigma_convert(cv, args[i], data, len, errs);
        free(data);
        if (rc < 0)
            goto nomem;
        if (rc > worst)
            worst = rc;
    }
    if (n_files == 0) {
        ola_sigma_conv_destroy(cv);
        return ola_sigma_usage(errs, "missing FILE");
    }
    if (ola_sigma_render(cv, &text) != 0)
        goto nomem;
    if (out_path != NULL
            ? ola_sigma_write(out_path, text.data, text.len, errs) != 0
            : (fwrite(text.data, 1, text.len, out) != text.len || fflush(out) != 0))
        worst = OLA_SIGMA_UNREADABLE;
    else if (ola_sigma_write_lists(cv, out_path, errs) != 0)
        worst = OLA_SIGMA_UNREADABLE;
    ola_buf_free(&text);
    ola_sigma_conv_destroy(cv);
    return worst;
nomem:
    fprintf(errs, "olagent rules import-sigma: out of memory\n");
    ola_buf_free(&text);
    ola_sigma_conv_destroy(cv);
    return OLA_SIGMA_UNREADABLE;
}
