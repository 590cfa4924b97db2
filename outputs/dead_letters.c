/*
 * dead_letters.c - an output's refusals, written to its dead-letter file.
 *
 * Outputs only note the records they refuse for good (ola_output_refuse in
 * output.c). After each write or flush the pipeline calls ola_output_bury,
 * which marks each refused record in the batch (so a retried write skips
 * it), writes it with the one dead-letter writer (agent/core/deadletter.h)
 * and counts it, so the checkpoint can move past it. A record that is an
 * alert has no original bytes: its tree is written instead.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/arena.h"
#include "agent/core/deadletter.h"
#include "outputs/output.h"

/* Writes one refusal of o for record e. Returns 0 / -1 with err. */
static int ola_deadletter_one(struct ola_output *o, const struct ola_refusal *r,
                              const struct ola_event *e, struct ola_err *err)
{
    const char *bytes = r->bytes;
    size_t len = r->len;
    char *dump = NULL;
    int rc;

    if (bytes == NULL && e->raw != NULL) {
        bytes = e->raw;
        len = e->raw_len;
    } else if (bytes == NULL) {
        /* an alert (no original bytes): its tree, as the agent made it */
        dump =
            e->ev != NULL ? ola_json_dumps(e->ev, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (dump == NULL)
            return ola_err_set(err, ENOMEM, "dead letter: out of memory");
        bytes = dump;
        len = strlen(dump);
    }
    rc = ola_deadletter_append(o->dead_letter, o->name, r->reason,
                               e->kind == OLA_REC_EVENT ? e->id : 0, bytes, len, err);
    free(dump);
    return rc;
}

int ola_output_bury(struct ola_output *o, struct ola_batch *b, struct ola_err *err)
{
    uint32_t bit = UINT32_C(1) << o->index;
    size_t i, done = 0, written = 0;
    int64_t first_id = 0;
    char first[sizeof(o->refused[0].reason)] = "";
    int rc = 0;

    /* first the marks: a write retried before the letters are out skips them */
    for (i = 0; i < o->n_refused; i++)
        if (o->refused[i].rec < b->n)
            b->ev[o->refused[i].rec].refused |= bit;
    for (i = 0; i < o->n_refused; i++) {
        struct ola_refusal *r = &o->refused[i];

        if (r->rec >= b->n) {
            /* not a record of this batch: a bug in the output */
            ola_plg_log(OLA_LOG_ERR, o, "refused record %zu of a batch of %zu: ignored",
                        r->rec, b->n);
        } else if (ola_deadletter_one(o, r, &b->ev[r->rec], err) != 0) {
            rc = -1;
            break;
        } else {
            if (written++ == 0) {
                first_id = b->ev[r->rec].id;
                memcpy(first, r->reason, sizeof(first));
            }
            o->stats.dead_letters++;
        }
        free(r->bytes);
        r->bytes = NULL;
        done++;
    }
    if (done > 0) {
        memmove(o->refused, o->refused + done,
                (o->n_refused - done) * sizeof(*o->refused));
        o->n_refused -= done;
    }
    if (written > 0)
        ola_plg_log(OLA_LOG_WARN, o,
                    "%zu record(s) refused for good, written to %s (first: id %lld, %s)",
                    written, o->dead_letter, (long long)first_id, first);
    return rc;
}
