/*
 * ola_file_writer.c - drives the file output from stdin, for crash tests.
 *
 * Reads NDJSON events from stdin, N per batch, writes each batch through
 * the file output, flushes (retrying after a short pause on RETRY, as the
 * pipeline would) and prints `acked <total>` on stdout after each flush
 * that answered OK. A test kills it at random and checks the files.
 * Options select the output's settings (the YAML loader is not on main yet,
 * so they come from the command line):
 *   ola_file_writer [-b batch] [-s rotate_bytes] [-a rotate_age_ms] [-l level]
 *                   [-k keep_files] [-n name] PATH
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/core/timeutil.h"
#include "outputs/file_sink.h"

static int ola_num(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno != 0 || end == s || *end != '\0' || *out < 0 ? -1 : 0;
}

/* Moves the lines of body into b: each event keeps its bytes. */
static int ola_fill(struct ola_batch *b, char *body, size_t len)
{
    size_t at = 0;

    b->body = body;
    b->body_len = len;
    while (at < len) {
        char *nl = memchr(body + at, '\n', len - at);
        size_t n = (nl != NULL ? (size_t)(nl - body) : len) - at;
        json_t *ev = json_loadb(body + at, n, 0, NULL);
        struct ola_event *e;
        json_t *id, *ca;

        if (ev == NULL)
            return -1;
        e = ola_batch_add(b, OLA_REC_EVENT, ev, body + at, n);
        if (e == NULL)
            return -1;
        id = json_object_get(ev, "id");
        ca = json_object_get(ev, "created_at");
        e->id = json_is_integer(id) ? json_integer_value(id) : 0;
        if (!json_is_string(ca) ||
            ola_time_parse_iso(json_string_value(ca), &e->created_ms))
            e->created_ms = 0;
        at += n + 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct ola_output out;
    struct ola_file_opts opts;
    struct ola_err err = {0, ""};
    struct ola_buf body = OLA_BUF_INIT;
    long long batch = 100, v;
    unsigned long long acked = 0;
    const char *name = "files";
    char *line = NULL;
    size_t cap = 0, in_batch = 0;
    ssize_t n;
    int c, rc = 1;
    bool more = true;

    memset(&out, 0, sizeof(out));
    ola_file_opts_default(&opts, NULL);
    while ((c = getopt(argc, argv, "b:s:a:l:k:n:")) != -1) {
        if (c == 'n') {
            name = optarg;
            continue;
        }
        if (ola_num(optarg, &v) != 0) {
            fprintf(stderr, "-%c: not a number: %s\n", c, optarg);
            return 2;
        }
        if (c == 'b' && v > 0)
            batch = v;
        else if (c == 's')
            opts.rotate_size = (uint64_t)v;
        else if (c == 'a')
            opts.rotate_age_ms = v;
        else if (c == 'l')
            opts.level = (int)v;
        else if (c == 'k')
            opts.keep_files = v;
        else
            return 2;
    }
    if (optind + 1 != argc) {
        fprintf(stderr,
                "usage: %s [-b batch] [-s bytes] [-a ms] [-l level] [-k files] "
                "PATH\n",
                argv[0]);
        return 2;
    }
    {
        int level = opts.level;
        uint64_t size = opts.rotate_size;
        int64_t age = opts.rotate_age_ms;
        long long keep = opts.keep_files;

        ola_file_opts_default(&opts, argv[optind]);
        opts.level = level;
        opts.rotate_size = size;
        opts.rotate_age_ms = age;
        opts.keep_files = keep;
    }
    out.fmt = &ola_format_json;
    snprintf(out.name, sizeof(out.name), "%s", name);
    snprintf(out.comp, sizeof(out.comp), "output:file:%s", name);
    if (ola_file_sink_open(&out, &opts, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        goto fail;
    }
    while (more) {
        struct ola_batch b;
        enum ola_rc r;
        char *data;
        size_t len;

        n = getline(&line, &cap, stdin);
        more = n > 0;
        if (more) {
            if (line[n - 1] == '\n')
                n--;
            if (n == 0)
                continue;
            if (ola_buf_append(&body, line, (size_t)n) != 0 || ola_buf_putc(&body, '\n'))
                goto fail;
            if (++in_batch < (size_t)batch)
                continue;
        }
        if (in_batch == 0)
            break;
        ola_batch_init(&b);
        len = body.len - 1;
        data = ola_buf_steal(&body, NULL);
        if (ola_fill(&b, data, len) != 0) {
            fprintf(stderr, "bad input line\n");
            ola_batch_free(&b);
            goto fail;
        }
        if (ola_file_sink_write(&out, &b) != OLA_OK) {
            fprintf(stderr, "write: %s\n", out.last_error);
            ola_batch_free(&b);
            goto fail;
        }
        ola_batch_free(&b);
        while ((r = ola_file_sink_flush(&out, 1000)) == OLA_RETRY) {
            struct timespec ts = {0, 10 * 1000 * 1000};

            nanosleep(&ts, NULL);
        }
        if (r != OLA_OK) {
            fprintf(stderr, "flush: %s\n", out.last_error);
            goto fail;
        }
        acked += in_batch;
        in_batch = 0;
        printf("acked %llu\n", acked);
        fflush(stdout);
    }
    rc = 0;
fail:
    ola_file_sink_close(&out);
    ola_buf_free(&body);
    free(line);
    return rc;
}
