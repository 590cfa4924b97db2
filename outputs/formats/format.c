/*
 * format.c - the registry of record formats and their shared options.
 *
 * The list is NULL-terminated and built at compile time from what exists
 * (CMake defines OLA_HAVE_FORMAT_<NAME> for each outputs/format_<name>.c).
 * Formats that keep state between records (the json format's memo) say so
 * with their batch_done and release hooks, which the pipeline reaches only
 * through ola_format_batch_done_all and ola_format_release_all. The
 * options an output gives its format (`format_options:`) are one option
 * table, ola_format_options, read by the walker (config/options.h).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/formats/format.h"

#ifdef OLA_HAVE_FORMAT_CEF
extern const struct ola_format_ops ola_format_cef;
#endif
#ifdef OLA_HAVE_FORMAT_LEEF
extern const struct ola_format_ops ola_format_leef;
#endif
#ifdef OLA_HAVE_FORMAT_OCSF
extern const struct ola_format_ops ola_format_ocsf;
#endif
#ifdef OLA_HAVE_FORMAT_ECS
extern const struct ola_format_ops ola_format_ecs;
#endif

static const struct ola_format_ops *const ola_formats[] = {
    &ola_format_json,
#ifdef OLA_HAVE_FORMAT_CEF
    &ola_format_cef,
#endif
#ifdef OLA_HAVE_FORMAT_LEEF
    &ola_format_leef,
#endif
#ifdef OLA_HAVE_FORMAT_OCSF
    &ola_format_ocsf,
#endif
#ifdef OLA_HAVE_FORMAT_ECS
    &ola_format_ecs,
#endif
    NULL,
};

const struct ola_format_ops *ola_format_find(const char *name)
{
    size_t i;

    for (i = 0; ola_formats[i] != NULL; i++)
        if (strcmp(ola_formats[i]->name, name) == 0)
            return ola_formats[i];
    return NULL;
}

const struct ola_format_ops *const *ola_format_list(void)
{
    return ola_formats;
}

void ola_format_batch_done_all(void)
{
    size_t i;

    for (i = 0; ola_formats[i] != NULL; i++)
        if (ola_formats[i]->batch_done != NULL)
            ola_formats[i]->batch_done();
}

void ola_format_release_all(void)
{
    size_t i;

    for (i = 0; ola_formats[i] != NULL; i++)
        if (ola_formats[i]->release != NULL)
            ola_formats[i]->release();
}

bool ola_format_leef_delim_ok(int c)
{
    return c == '\t' || (c > ' ' && c < 0x7f && c != '=' && c != '\\');
}

/* The delimiter a leef_delimiter text names: "tab" or "\t", one character, or a hex
 * code of one or two digits (x5E, 0x5E, \x5E, as LEEF 2.0 writes it). '\0' when the
 * text names none, or a character that cannot delimit (ola_format_leef_delim_ok). */
static char ola_leef_delim_parse(const char *t)
{
    const char *h;
    int v = 0;

    if (strcmp(t, "tab") == 0 || strcmp(t, "\\t") == 0)
        return '\t';
    if (t[0] != '\0' && t[1] == '\0') {
        v = (unsigned char)t[0];
    } else {
        if (t[0] == 'x')
            h = t + 1;
        else if ((t[0] == '0' || t[0] == '\\') && t[1] == 'x')
            h = t + 2;
        else
            return '\0';
        if (!isxdigit((unsigned char)h[0]) ||
            (h[1] != '\0' && (!isxdigit((unsigned char)h[1]) || h[2] != '\0')))
            return '\0';
        for (; *h != '\0'; h++)
            v = v * 16 + (isdigit((unsigned char)*h) ? *h - '0' : (*h | 0x20) - 'a' + 10);
    }
    return ola_format_leef_delim_ok(v) ? (char)v : '\0';
}

/* leef_delimiter: the text names the delimiter (ola_leef_delim_parse). */
static int ola_leef_delim_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                               void *obj, void *ctx, struct ola_err *err)
{
    struct ola_format_opts *opts = obj;
    const struct ola_cfg *n = ola_cfg_get(map, "leef_delimiter");
    char shown[OLA_CFG_SHOWN_MAX];

    (void)opt;
    (void)ctx;
    if (opts->leef_delimiter == NULL)
        return 0;
    opts->leef_delim = ola_leef_delim_parse(opts->leef_delimiter);
    if (opts->leef_delim == '\0')
        return ola_cfg_errf(err, n,
                            "leef_delimiter: %s cannot delimit LEEF attributes: use one "
                            "printable character other than '=' and '\\', tab, or a "
                            "hex code like x5E or \\x5E",
                            ola_cfg_shown(n, shown, sizeof(shown)));
    return 0;
}

#define OLA_FO_OFF(f) offsetof(struct ola_format_opts, f)
#define OLA_FO_LABEL(i, n)                                                               \
    {                                                                                    \
        .name = (n), .type = OLA_OPT_STR, .offset = OLA_FO_OFF(cef_label[i])             \
    }

static const struct ola_opt ola_cef_label_options[] = {
    OLA_FO_LABEL(0, "cs1"), OLA_FO_LABEL(1, "cs2"), OLA_FO_LABEL(2, "cs3"),
    OLA_FO_LABEL(3, "cs4"), OLA_FO_LABEL(4, "cs5"), OLA_FO_LABEL(5, "cs6"),
    OLA_FO_LABEL(6, "cn1"), OLA_FO_LABEL(7, "cn2"), OLA_FO_LABEL(8, "cn3"),
    {.name = NULL},
};

const struct ola_opt ola_format_options[] = {
    {.name = "hostname",
     .type = OLA_OPT_STR,
     .offset = OLA_FO_OFF(hostname),
     .help = "CEF dvchost / LEEF devHostName / OCSF logger"},
    {.name = "leef_delimiter",
     .type = OLA_OPT_STR,
     .offset = OLA_FO_OFF(leef_delimiter),
     .hook = ola_leef_delim_hook,
     .help = "LEEF attribute delimiter (default tab)"},
    {.name = "cef_labels",
     .type = OLA_OPT_MAP,
     .sub = ola_cef_label_options,
     .help = "rename CEF custom-field labels"},
    {.name = "vendor",
     .type = OLA_OPT_STR,
     .offset = OLA_FO_OFF(vendor),
     .def_str = "OneLogin",
     .help = "CEF/LEEF vendor"},
    {.name = "product",
     .type = OLA_OPT_STR,
     .offset = OLA_FO_OFF(product),
     .def_str = "OneLogin",
     .help = "CEF/LEEF product"},
    {.name = NULL},
};

int ola_format_opts_load(const struct ola_cfg *output_node, struct ola_format_opts *opts,
                         struct ola_err *err)
{
    const struct ola_cfg *fo = ola_cfg_get(output_node, "format_options");

    memset(opts, 0, sizeof(*opts));
    ola_opts_defaults(ola_format_options, opts);
    opts->leef_delim = '\t';
    opts->product_version = OLA_VERSION;
    if (fo == NULL)
        return 0;
    if (ola_cfg_type(fo) != OLA_CFG_MAP)
        return ola_cfg_errf(err, fo, "format_options: expected a map");
    return ola_opts_read(fo, "format_options", ola_format_options, opts, NULL, err);
}
