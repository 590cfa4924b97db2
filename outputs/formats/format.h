/*
 * format.h - record formats: pure functions from an event to bytes.
 *
 * A format appends one record to a buffer without framing (no trailing
 * newline: the output frames). Formats never do I/O, so tests need no socket.
 * The registry (format.c) lists the formats compiled in; any output can use
 * any format, chosen by the output's `format:` key (default json).
 */
#ifndef OLA_FORMAT_H
#define OLA_FORMAT_H

#include "agent/core/buf.h"
#include "agent/core/err.h"
#include "agent/core/event.h"
#include "config/config.h"
#include "config/options.h"

#define OLA_CEF_LABELS 9 /* cs1..cs6, cn1..cn3 */

/* A format's answer for an event it can never render (the output refuses it). */
#define OLA_FORMAT_UNUSABLE 1

struct ola_format_opts {
    const char *leef_delimiter;  /* as written (NULL: tab), read into leef_delim */
    char leef_delim;             /* LEEF 2.0 attribute delimiter, default '\t' */
    const char *vendor;          /* "OneLogin" */
    const char *product;         /* "OneLogin" */
    const char *product_version; /* OLA_VERSION */
    const char *hostname;        /* for formats that carry one */
    /* CEF custom-field labels (cef_labels: {cs1: ..}): cs1..cs6, cn1..cn3; NULL: default
     */
    const char *cef_label[OLA_CEF_LABELS];
};

struct ola_format_ops {
    const char *name; /* "json", "cef", "leef", "ocsf" */
    /* e: borrowed. Appends to out. Returns 0, -1 (ENOMEM) or OLA_FORMAT_UNUSABLE
     * (this event can never be rendered in this format; out is left as it was). */
    int (*format)(const struct ola_event *e, const struct ola_format_opts *o,
                  struct ola_buf *out);
    /* Optional (NULL: the format keeps nothing between records). A batch went
     * out: drops what the calling thread's state keeps for values nothing
     * else holds any more, so an idle agent does not keep what its last burst
     * evicted. */
    void (*batch_done)(void);
    /* Optional. The agent went quiet: drops all the calling thread's state
     * that is kept only for reuse; the next batch builds it again. */
    void (*release)(void);
};

/* NULL when no such format is compiled in. */
const struct ola_format_ops *ola_format_find(const char *name);
/* The NULL-terminated list, for --help and errors. */
const struct ola_format_ops *const *ola_format_list(void);
/* True when c can delimit LEEF attributes: a tab, or a printable character other than
 * space, '=' (it separates key from value) and '\' (the escape). CR and LF would
 * break the record. */
bool ola_format_leef_delim_ok(int c);
/* The keys of an output's `format_options:` map, on struct ola_format_opts. */
extern const struct ola_opt ola_format_options[];
/*
 * Fills opts with defaults, then reads the optional `format_options` map of
 * output_node with ola_format_options. Returns 0 / -1 with "file:line: ..." in err.
 */
int ola_format_opts_load(const struct ola_cfg *output_node, struct ola_format_opts *opts,
                         struct ola_err *err);

static inline int ola_format_event(const struct ola_format_ops *f,
                                   const struct ola_event *e,
                                   const struct ola_format_opts *o, struct ola_buf *out)
{
    return f->format(e, o, out);
}

/* Calls the batch_done hook of every format compiled in (after each batch). */
void ola_format_batch_done_all(void);
/* Calls the release hook of every format compiled in (a quiet poll). */
void ola_format_release_all(void);

/* The json format: original bytes with "olagent" spliced in (format_json.c). */
extern const struct ola_format_ops ola_format_json;

#endif
