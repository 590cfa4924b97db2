/*
 * http_out_metrics.c - the HTTP outputs' request figures as Prometheus text.
 *
 * agent/metrics.c renders every other family; these five it hands here with
 * its snapshot rows (a name and a struct ola_output_req_stats each, at a
 * fixed stride), so the request figures live with the sender that counts
 * them. Each family is written whole (HELP, TYPE, then its samples), with
 * samples only for the outputs that send requests. Durations are integer
 * milliseconds, printed as seconds with three decimals.
 */
#include <inttypes.h>
#include <stdio.h>

#include "outputs/http_out.h"

/* "{output="NAME"" with NAME escaped (backslash, quote, newline); no closing brace. */
static int ola_hm_label(struct ola_buf *b, const char *name)
{
    if (ola_buf_puts(b, "{output=\"") != 0)
        return -1;
    for (; *name != '\0'; name++) {
        const char *esc = *name == '\\' ? "\\\\" : *name == '"' ? "\\\"" : NULL;

        if (*name == '\n')
            esc = "\\n";
        if (esc != NULL ? ola_buf_puts(b, esc) != 0 : ola_buf_putc(b, *name) != 0)
            return -1;
    }
    return ola_buf_putc(b, '"');
}

static int ola_hm_family(struct ola_buf *b, const char *name, const char *type,
                         const char *help)
{
    return ola_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int ola_ho_metrics_render(struct ola_buf *b, const char *name0,
                          const struct ola_output_req_stats *req0, size_t stride,
                          size_t n)
{
    static const char *const sc[OLA_OUT_SC_MAX] = {"2xx", "3xx", "4xx", "5xx", "none"};
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"olagent_output_requests_total", "counter",
         "HTTP output requests by answer status class (none: no answer)."},
        {"olagent_output_request_bytes_total", "counter",
         "HTTP output request bytes sent (bodies as sent, compressed or not)."},
        {"olagent_output_request_retries_total", "counter",
         "HTTP output requests sent again after a retry answer or none."},
        {"olagent_output_batch_latency_seconds_total", "counter",
         "HTTP outputs: time from a batch written to all its requests answered, "
         "summed over batches."},
        {"olagent_output_batches_total", "counter",
         "HTTP outputs: batches whose requests were all answered."},
    };
    size_t f, i, c;
    int bad = 0;

    for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        bad |= ola_hm_family(b, fam[f].name, fam[f].type, fam[f].help);
        for (i = 0; i < n; i++) {
            const char *name = name0 + i * stride;
            const struct ola_output_req_stats *r =
                (const void *)((const char *)req0 + i * stride);
            uint64_t ms = r->batch_ms;

            if (!r->active)
                continue;
            for (c = 0; f == 0 && c < OLA_OUT_SC_MAX; c++) {
                bad |= ola_buf_puts(b, fam[f].name) | ola_hm_label(b, name);
                bad |= ola_buf_printf(b, ",status=\"%s\"} %" PRIu64 "\n", sc[c],
                                      r->requests[c]);
            }
            if (f == 1 || f == 2) {
                bad |= ola_buf_puts(b, fam[f].name) | ola_hm_label(b, name);
                bad |= ola_buf_printf(b, "} %" PRIu64 "\n",
                                      f == 1 ? r->bytes_sent : r->retries);
            }
            if (f == 3) {
                bad |= ola_buf_puts(b, fam[f].name) | ola_hm_label(b, name);
                bad |= ola_buf_printf(b, "} %" PRIu64 ".%03u\n", ms / 1000,
                                      (unsigned)(ms % 1000));
            }
            if (f == 4) {
                bad |= ola_buf_puts(b, fam[f].name) | ola_hm_label(b, name);
                bad |= ola_buf_printf(b, "} %" PRIu64 "\n", r->batches);
            }
        }
    }
    return bad ? -1 : 0;
}
