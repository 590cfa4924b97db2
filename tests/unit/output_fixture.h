/*
 * output_fixture.h - building one output from YAML and a batch of plain
 * events, for the tests of the HTTP outputs (test_http_out.c, test_out_es.c,
 * test_out_splunk.c).
 *
 * Define OLA_FX_OUTPUT_TYPE (the output's type, "http") before including it.
 * It keeps the names those files gave their helpers: make (an output, or
 * NULL with err), make_ok (one that must build: the YAML from a format) and
 * batch_of (n events with ids from first_id, their raw bytes kept in static
 * storage for the batch's life; OLA_FX_OWN_BATCH_OF: the file has its own).
 */
#ifndef OLA_OUTPUT_FIXTURE_H
#define OLA_OUTPUT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/core/event.h"
#include "config/config.h"
#include "outputs/output.h"

#ifndef OLA_FX_OUTPUT_TYPE
#error "define OLA_FX_OUTPUT_TYPE before including output_fixture.h"
#endif

static struct ola_output *make(struct ola_cfg_doc **doc, const char *yaml,
                               struct ola_err *err)
{
    struct ola_output_cfg oc;

    if (ola_cfg_load_string("o.yaml", yaml, strlen(yaml), doc, err) != 0)
        return NULL;
    oc.node = ola_cfg_root(*doc);
    oc.type = OLA_FX_OUTPUT_TYPE;
    oc.name = NULL;
    return ola_output_new(&oc, 0, err);
}

static struct ola_output *make_ok(struct ola_cfg_doc **doc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct ola_output *make_ok(struct ola_cfg_doc **doc, const char *fmt, ...)
{
    char yaml[2048];
    struct ola_err err = {0, ""};
    struct ola_output *o;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(yaml, sizeof(yaml), fmt, ap);
    va_end(ap);
    o = make(doc, yaml, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    return o;
}

#ifndef OLA_FX_OWN_BATCH_OF
static void batch_of(struct ola_batch *b, int n, int64_t first_id)
{
    static char raw[64][128];

    ola_batch_init(b);
    for (int i = 0; i < n; i++) {
        json_t *ev;
        struct ola_event *e;

        snprintf(raw[i], sizeof(raw[i]), "{\"id\":%lld,\"created_at\":\"x\"}",
                 (long long)(first_id + i));
        ev = json_loads(raw[i], 0, NULL);
        assert_non_null(ev);
        e = ola_batch_add(b, OLA_REC_EVENT, ev, raw[i], strlen(raw[i]));
        assert_non_null(e);
        e->id = first_id + i;
    }
}
#endif

#endif
