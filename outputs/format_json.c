/*
 * format_json.c - the json format: OneLogin's own bytes plus "olagent".
 *
 * An event goes out as OneLogin sent it: the original bytes of the object
 * (the page parser already removed insignificant whitespace, so a record is
 * one line), with the "olagent" object spliced in before the closing brace.
 * Field order, number formatting and unknown fields survive byte for byte,
 * and the event tree is never dumped: only the small olagent object is.
 * Records without original bytes (alerts) are dumped from their tree, with
 * "olagent" spliced the same way.
 */
#include <string.h>

#include "format.h"

static int ola_json_dump_cb(const char *p, size_t n, void *arg)
{
    return ola_buf_append(arg, p, n);
}

/* Appends obj (compact, key order kept) to out. */
static int ola_json_dump_into(const json_t *obj, struct ola_buf *out)
{
    return json_dump_callback(obj, ola_json_dump_cb, out,
                              JSON_COMPACT | JSON_REAL_PRECISION(17));
}

/* Appends src (a JSON object's text, ending in '}') with ola spliced in. */
static int ola_json_splice(const char *src, size_t len, const json_t *ola,
                           struct ola_buf *out)
{
    size_t close, before;

    if (len < 2 || src[len - 1] != '}')
        return -1;
    close = len - 1;
    if (ola == NULL || json_object_size(ola) == 0)
        return ola_buf_append(out, src, len);
    before = close;
    while (before > 0 && (src[before - 1] == ' ' || src[before - 1] == '\t' ||
                          src[before - 1] == '\n' || src[before - 1] == '\r'))
        before--;
    if (before == 0)
        return -1;
    if (ola_buf_append(out, src, before) != 0)
        return -1;
    if (src[before - 1] != '{' && ola_buf_putc(out, ',') != 0)
        return -1;
    if (ola_buf_puts(out, "\"olagent\":") != 0 || ola_json_dump_into(ola, out) != 0)
        return -1;
    return ola_buf_putc(out, '}');
}

static int ola_format_json_fn(const struct ola_event *e, const struct ola_format_opts *o,
                              struct ola_buf *out)
{
    struct ola_buf tmp = OLA_BUF_INIT;
    int rc = -1;

    (void)o;
    if (e->raw != NULL)
        return ola_json_splice(e->raw, e->raw_len, e->ola, out);
    if (e->ev == NULL || !json_is_object(e->ev))
        return -1;
    if (ola_json_dump_into(e->ev, &tmp) != 0)
        goto fail;
    rc = ola_json_splice(tmp.data, tmp.len, e->ola, out);
fail:
    ola_buf_free(&tmp);
    return rc;
}

const struct ola_format_ops ola_format_json = {
    .name = "json",
    .format = ola_format_json_fn,
};
