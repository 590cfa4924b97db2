/*
 * test_spool.c - the spool's segment format, on real files.
 *
 * A batch goes in and comes back as it was (original bytes, olagent object,
 * id, created_at, severity, kind, tenant); runs split at a change of tenant.
 * A torn tail (a record cut short, or bytes glued after the last whole one)
 * and a record whose CRC fails are cut when the spool opens, never read back.
 * A full spool refuses a whole batch (none of it goes in) and takes it again
 * once the reader moved on. The reader position survives a close (a crash:
 * nothing is kept in memory between opens): a run read but not advanced is
 * read again, an advanced one never; delivered segments are deleted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/core/log.h"
#include "outputs/spool.h"
#include "tests/lib/unit_files.h"

struct ola_t {
    char dir[64];
    struct ola_output o; /* only its index is read */
    struct ola_batch in, out;
    char raw[64][160];
};

static int ola_t_setup(void **state)
{
    struct ola_t *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    assert_int_equal(ola_test_tmpdir(t->dir, sizeof(t->dir), "spool"), 0);
    snprintf(t->o.name, sizeof(t->o.name), "t");
    ola_batch_init(&t->in);
    ola_batch_init(&t->out);
    ola_log_setup(OLA_LOG_ERR, OLA_LOG_TEXT, NULL);
    *state = t;
    return 0;
}

static int ola_t_teardown(void **state)
{
    struct ola_t *t = *state;

    ola_batch_free(&t->in);
    ola_batch_free(&t->out);
    ola_test_rmtree(t->dir);
    free(t);
    return 0;
}

/* t->in := n events with ids from first (odd ones with an olagent object), tenant. */
static void ola_t_batch(struct ola_t *t, int64_t first, size_t n, const char *tenant)
{
    size_t i;

    ola_batch_reset(&t->in);
    t->in.tenant = tenant;
    for (i = 0; i < n; i++) {
        int64_t id = first + (int64_t)i;
        int len =
            snprintf(t->raw[i], sizeof(t->raw[i]),
                     "{\"id\":%lld,\"created_at\":\"2026-01-01T00:00:00Z\",\"x\":1.50}",
                     (long long)id);
        struct ola_event *e = ola_batch_add(&t->in, OLA_REC_EVENT,
                                            json_loadb(t->raw[i], (size_t)len, 0, NULL),
                                            t->raw[i], (size_t)len);

        assert_non_null(e);
        e->id = id;
        e->created_ms = 1767225600000 + id;
        e->severity = (int)(id % 11);
        if (id % 2 == 1)
            e->ola = json_pack("{s:s,s:I}", "tenant", tenant, "n", (json_int_t)id);
    }
}

static struct ola_spool *ola_t_open(struct ola_t *t, uint64_t max)
{
    struct ola_err err = {0, ""};
    struct ola_spool *sp = ola_spool_open(t->dir, max, "t", &err);

    if (sp == NULL)
        fail_msg("%s", err.msg);
    return sp;
}

static void ola_t_append(struct ola_spool *sp, struct ola_t *t)
{
    struct ola_err err = {0, ""};

    if (ola_spool_append(sp, &t->o, &t->in, &err) != OLA_OK)
        fail_msg("append: %s", err.msg);
}

/* Reads the next run and checks it holds ids first.. (n of them). Returns next. */
static struct ola_spool_pos ola_t_expect(struct ola_spool *sp, struct ola_t *t,
                                         int64_t first, size_t n, const char *tenant)
{
    struct ola_spool_pos next;
    struct ola_err err = {0, ""};
    char ten[OLA_TENANT_NAME_MAX + 1];
    int got = ola_spool_read(sp, &t->out, 3, ten, sizeof(ten), &next, &err);
    size_t i;

    if (got < 0)
        fail_msg("read: %s", err.msg);
    assert_int_equal(got, (int)n);
    if (n > 0)
        assert_string_equal(t->out.tenant, tenant);
    for (i = 0; i < n; i++) {
        const struct ola_event *e = &t->out.ev[i];
        char want[160];
        int64_t id = first + (int64_t)i;
        int len =
            snprintf(want, sizeof(want),
                     "{\"id\":%lld,\"created_at\":\"2026-01-01T00:00:00Z\",\"x\":1.50}",
                     (long long)id);

        assert_int_equal(e->id, id);
        assert_int_equal(e->kind, OLA_REC_EVENT);
        assert_int_equal(e->created_ms, 1767225600000 + id);
        assert_int_equal(e->severity, (int)(id % 11));
        assert_int_equal(e->routes, 1u << 3);
        /* the original bytes, byte for byte (1.50 is not what a dump writes) */
        assert_int_equal(e->raw_len, (size_t)len);
        assert_memory_equal(e->raw, want, (size_t)len);
        assert_int_equal(json_integer_value(json_object_get(e->ev, "id")), id);
        if (id % 2 == 1) {
            assert_non_null(e->ola);
            assert_int_equal(json_integer_value(json_object_get(e->ola, "n")), id);
        } else {
            assert_null(e->ola);
        }
    }
    return next;
}

static void ola_t_advance(struct ola_spool *sp, const struct ola_spool_pos *next)
{
    struct ola_err err = {0, ""};

    if (ola_spool_advance(sp, next, &err) != 0)
        fail_msg("advance: %s", err.msg);
}

/* The path of the only (or last) segment file. */
static void ola_t_last_seg(struct ola_t *t, char *path, size_t n, int *count)
{
    DIR *d = opendir(t->dir);
    struct dirent *de;
    char best[256] = "";

    assert_non_null(d);
    *count = 0;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".seg") != NULL) {
            (*count)++;
            if (strcmp(de->d_name, best) > 0)
                snprintf(best, sizeof(best), "%s", de->d_name);
        }
    closedir(d);
    assert_true(best[0] != '\0');
    snprintf(path, n, "%s/%s", t->dir, best);
}

static void test_round_trip(void **state)
{
    struct ola_t *t = *state;
    struct ola_spool *sp = ola_t_open(t, 4u << 20);
    struct ola_spool_figures f;
    struct ola_spool_pos next;
    struct ola_err err = {0, ""};
    char ten[OLA_TENANT_NAME_MAX + 1];
    struct ola_event *alert;

    ola_t_batch(t, 100, 10, "acme");
    ola_t_append(sp, t);
    ola_t_batch(t, 200, 5, "beta");
    /* an alert: no original bytes, its tree goes in dumped */
    alert =
        ola_batch_add(&t->in, OLA_REC_ALERT, json_pack("{s:s}", "rule", "r1"), NULL, 0);
    assert_non_null(alert);
    alert->severity = 9;
    t->in.ev[1].dropped = true; /* a dropped record is not the output's */
    ola_t_append(sp, t);
    ola_spool_figures(sp, &f);
    assert_true(f.bytes > 0);
    assert_true(f.oldest_ms > 0);
    assert_int_equal(f.appended_recs, 15);

    next = ola_t_expect(sp, t, 100, 10, "acme");
    ola_t_advance(sp, &next);
    assert_int_equal(ola_spool_read(sp, &t->out, 3, ten, sizeof(ten), &next, &err), 5);
    assert_string_equal(t->out.tenant, "beta");
    assert_int_equal(t->out.ev[0].id, 200);
    assert_int_equal(t->out.ev[1].id, 202); /* 201 was dropped */
    assert_int_equal(t->out.ev[4].kind, OLA_REC_ALERT);
    assert_null(t->out.ev[4].raw);
    assert_int_equal(t->out.ev[4].severity, 9);
    assert_string_equal(json_string_value(json_object_get(t->out.ev[4].ev, "rule")),
                        "r1");
    ola_t_advance(sp, &next);
    assert_int_equal(ola_spool_read(sp, &t->out, 3, ten, sizeof(ten), &next, &err), 0);
    ola_spool_figures(sp, &f);
    assert_int_equal(f.bytes, 0);
    assert_int_equal(f.oldest_ms, 0);
    ola_spool_close(sp);
}

/* A record cut short, then bytes glued after a whole one: both cut at open. */
static void test_torn_tail_cut(void **state)
{
    struct ola_t *t = *state;
    struct ola_spool *sp = ola_t_open(t, 4u << 20);
    struct ola_spool_figures f;
    struct ola_spool_pos next;
    struct stat st;
    char path[512];
    int n, fd;

    ola_t_batch(t, 1, 3, "acme");
    ola_t_append(sp, t);
    ola_t_batch(t, 4, 1, "acme");
    ola_t_append(sp, t);
    ola_spool_close(sp);
    ola_t_last_seg(t, path, sizeof(path), &n);
    assert_int_equal(stat(path, &st), 0);
    /* the last record (id 4) loses its last 7 bytes, as a kill mid-write leaves it */
    assert_int_equal(truncate(path, st.st_size - 7), 0);
    sp = ola_t_open(t, 4u << 20);
    ola_spool_figures(sp, &f);
    assert_true(f.cut_bytes > 0);
    next = ola_t_expect(sp, t, 1, 3, "acme"); /* 1..3 only, 4 never */
    ola_t_advance(sp, &next);
    ola_t_expect(sp, t, 0, 0, "");
    /* appending goes on after the cut */
    ola_t_batch(t, 5, 2, "acme");
    ola_t_append(sp, t);
    ola_spool_close(sp);

    /* garbage after the last whole record (a length pointing past the end) */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x40\x00\x00\x00zzzz", 8), 8);
    close(fd);
    sp = ola_t_open(t, 4u << 20);
    next = ola_t_expect(sp, t, 5, 2, "acme");
    ola_t_advance(sp, &next);
    ola_t_expect(sp, t, 0, 0, "");
    ola_spool_close(sp);
}

/* A flipped byte inside a record: its CRC fails, it and what follows are cut. */
static void test_crc_mismatch(void **state)
{
    struct ola_t *t = *state;
    struct ola_spool *sp = ola_t_open(t, 4u << 20);
    struct ola_spool_figures f;
    struct stat st;
    char path[512], c;
    int n, fd;

    ola_t_batch(t, 10, 2, "acme");
    ola_t_append(sp, t);
    ola_spool_figures(sp, &f);
    ola_t_batch(t, 20, 2, "acme");
    ola_t_append(sp, t);
    ola_spool_close(sp);
    ola_t_last_seg(t, path, sizeof(path), &n);
    assert_int_equal(stat(path, &st), 0);
    /* a byte of the raw JSON of the last record (id 21): its length stays good */
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, st.st_size - 5), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, st.st_size - 5), 1);
    close(fd);
    sp = ola_t_open(t, 4u << 20);
    ola_spool_figures(sp, &f);
    assert_true(f.cut_bytes > 0);
    {
        struct ola_spool_pos next;
        struct ola_err err = {0, ""};
        char ten[OLA_TENANT_NAME_MAX + 1];

        /* 10, 11, 20: never the damaged 21 */
        assert_int_equal(ola_spool_read(sp, &t->out, 0, ten, sizeof(ten), &next, &err),
                         3);
        assert_int_equal(t->out.ev[0].id, 10);
        assert_int_equal(t->out.ev[1].id, 11);
        assert_int_equal(t->out.ev[2].id, 20);
    }
    ola_spool_close(sp);
}

/* Full: a batch is refused whole; after the reader moves on, it goes in. */
static void test_full(void **state)
{
    struct ola_t *t = *state;
    struct ola_spool *sp = ola_t_open(t, 1u << 20); /* the smallest */
    struct ola_err err = {0, ""};
    struct ola_spool_figures f;
    struct ola_spool_pos next;
    char ten[OLA_TENANT_NAME_MAX + 1];
    enum ola_rc rc = OLA_OK;
    int64_t id = 1, got = 0;
    int appended = 0, n;

    while (appended < 100000) {
        ola_t_batch(t, id, 50, "acme");
        rc = ola_spool_append(sp, &t->o, &t->in, &err);
        if (rc != OLA_OK)
            break;
        id += 50;
        appended++;
    }
    assert_int_equal(rc, OLA_RETRY);
    assert_string_equal(err.msg, "spool full");
    ola_spool_figures(sp, &f);
    assert_true(f.disk_bytes <= (1u << 20));
    assert_true(f.disk_bytes > (1u << 20) - 64 * 1024);
    /* the reader moves on: once it left its first segment (an eighth of the
     * spool), the refused batch goes in, before the spool is empty */
    got = 0;
    do {
        n = ola_spool_read(sp, &t->out, 0, ten, sizeof(ten), &next, &err);
        assert_true(n > 0);
        for (int i = 0; i < n; i++)
            assert_int_equal(t->out.ev[i].id, got + 1 + i);
        got += n;
        ola_t_advance(sp, &next);
        rc = ola_spool_append(sp, &t->o, &t->in, &err);
    } while (rc == OLA_RETRY);
    assert_int_equal(rc, OLA_OK);
    assert_true(got < id - 1);
    id += 50;
    /* nothing of the refused try was left behind: the ids come back once, in order */
    while ((n = ola_spool_read(sp, &t->out, 0, ten, sizeof(ten), &next, &err)) > 0) {
        for (int i = 0; i < n; i++)
            assert_int_equal(t->out.ev[i].id, got + 1 + i);
        got += n;
        ola_t_advance(sp, &next);
    }
    assert_true(n == 0);
    assert_int_equal(got, id - 1);
    ola_spool_figures(sp, &f);
    assert_int_equal(f.bytes, 0);
    ola_spool_close(sp);
}

/* The reader position across a crash, and delivered segments deleted. */
static void test_position_after_crash(void **state)
{
    struct ola_t *t = *state;
    struct ola_spool *sp = ola_t_open(t, 1u << 20);
    struct ola_spool_pos next, pos;
    char path[512];
    int64_t id;
    int n;

    ola_t_batch(t, 1, 4, "acme");
    ola_t_append(sp, t);
    ola_t_batch(t, 5, 4, "beta");
    ola_t_append(sp, t);
    next = ola_t_expect(sp, t, 1, 4, "acme");
    ola_t_advance(sp, &next);
    /* read, delivered maybe, but not advanced: the crash comes now */
    ola_t_expect(sp, t, 5, 4, "beta");
    ola_spool_close(sp);

    sp = ola_t_open(t, 1u << 20);
    ola_spool_position(sp, &pos);
    assert_true(pos.seg == next.seg && pos.off == next.off);
    next = ola_t_expect(sp, t, 5, 4, "beta"); /* again: at least once */
    ola_t_advance(sp, &next);
    ola_spool_close(sp);
    sp = ola_t_open(t, 1u << 20);
    ola_t_expect(sp, t, 0, 0, ""); /* never again once advanced */

    /* many segments (128 KiB each at this size), all delivered: one file is left */
    for (id = 100; id < 100 + 50 * 100; id += 50) {
        ola_t_batch(t, id, 50, "acme");
        ola_t_append(sp, t);
    }
    ola_t_last_seg(t, path, sizeof(path), &n);
    assert_true(n > 2);
    id = 100;
    for (;;) {
        struct ola_err err = {0, ""};
        char ten[OLA_TENANT_NAME_MAX + 1];
        int got = ola_spool_read(sp, &t->out, 0, ten, sizeof(ten), &next, &err);

        assert_true(got >= 0);
        if (got == 0)
            break;
        assert_int_equal(t->out.ev[0].id, id);
        id += got;
        ola_t_advance(sp, &next);
    }
    assert_int_equal(id, 100 + 50 * 100);
    ola_t_last_seg(t, path, sizeof(path), &n);
    assert_int_equal(n, 1);
    ola_spool_close(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_cut, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_crc_mismatch, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_full, ola_t_setup, ola_t_teardown),
        cmocka_unit_test_setup_teardown(test_position_after_crash, ola_t_setup,
                                        ola_t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
