/*
 * checkpoint.c - the checkpoint file: versioned JSON, checksummed, atomic.
 *
 * The file is one compact JSON line: {"version":1,"watermark":ISO|null,
 * "start":ISO|null (absent in older files: no start),
 * "window":{"kind":"head"|"sweep","since":ISO,"until":ISO,"cursor":S|null}|null,
 * "last_sweep":ISO|null,"delivered":N,"updated_at":ISO,"seen":[[first,last,
 * max_created_ms],...],"alerts":{...}|null,"checksum":"sha256:<hex>"}.
 * `seen` holds runs of numerically consecutive ids; a loaded run gives every
 * id the run's newest created_ms, so a prune never drops an id too early.
 * The checksum is SHA-256 over json_dumps(object without "checksum",
 * JSON_COMPACT) with keys in insertion order; load verifies it the same way
 * (parse, remove "checksum", dump, hash). Save writes a fresh mkstemp file
 * PATH.tmp.XXXXXX (O_EXCL: a name nobody could plant a symlink at), fsyncs
 * it, renames it over PATH and fsyncs the directory; a bad file is an error.
 * The loader's bounds (ids in `seen`, file size) are the saver's: save trims
 * `seen` first and refuses an oversized file, so a saved checkpoint loads
 * (checkpoint_load.c reads it back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/core/arena.h"
#include "agent/core/buf.h"
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/timeutil.h"
#include "agent/state/checkpoint.h"
#include "agent/state/checkpoint_priv.h"

/* What the log last said about the `seen` bound (cp->bound_state). */
enum ola_cp_bound {
    OLA_CP_BOUND_OK = 0,  /* under max_seen */
    OLA_CP_BOUND_OUTSIDE, /* over it: ids older than the overlap dropped */
    OLA_CP_BOUND_INSIDE,  /* still over it: the oldest ids inside the overlap dropped */
};

/* The empty checkpoint's fields (no position yet). */
static void ola_cp_defaults(struct ola_checkpoint *cp)
{
    memset(cp, 0, sizeof(*cp));
    cp->max_seen = OLA_CHECKPOINT_MAX_SEEN;
    cp->max_bytes = OLA_CHECKPOINT_MAX_BYTES;
    cp->overlap_ms = -1;
}

int ola_checkpoint_init(struct ola_checkpoint *cp)
{
    ola_cp_defaults(cp);
    return ola_position_init(&cp->pos);
}

void ola_checkpoint_free(struct ola_checkpoint *cp)
{
    if (cp == NULL)
        return;
    ola_position_free(&cp->pos);
    json_decref(cp->alerts);
    ola_cp_defaults(cp);
}

/* ---- encoding ---------------------------------------------------------------- */

/* An ISO string, or null when ms is -1 and null_ok. New reference or NULL. */
static json_t *ola_cp_time(int64_t ms, bool null_ok)
{
    char buf[OLA_ISO_MAX];

    if (ms == -1 && null_ok)
        return json_null();
    if (ola_time_format_iso(ms, buf, sizeof(buf)) != 0)
        return NULL;
    return json_string(buf);
}

/* Sets key to v (stolen); false if v is NULL or the set fails. */
static bool ola_cp_set(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

struct ola_cp_runs {
    struct ola_buf *text; /* the `seen` array's compact text, written as it goes */
    size_t n;             /* runs flushed */
    bool open;            /* a run is pending in first/last/max */
    bool failed;
    int64_t first, last, max_created;
};

static void ola_cp_run_flush(struct ola_cp_runs *r)
{
    if (!r->open || r->failed)
        return;
    r->open = false;
    if (ola_buf_puts(r->text, r->n++ > 0 ? ",[" : "[") != 0 ||
        ola_buf_put_i64(r->text, r->first) != 0 || ola_buf_putc(r->text, ',') != 0 ||
        ola_buf_put_i64(r->text, r->last) != 0 || ola_buf_putc(r->text, ',') != 0 ||
        ola_buf_put_i64(r->text, r->max_created) != 0 || ola_buf_putc(r->text, ']') != 0)
        r->failed = true;
}

static void ola_cp_run_add(int64_t id, int64_t created_ms, void *arg)
{
    struct ola_cp_runs *r = arg;

    if (r->open && r->last != INT64_MAX && id == r->last + 1) {
        r->last = id;
        if (created_ms > r->max_created)
            r->max_created = created_ms;
        return;
    }
    ola_cp_run_flush(r);
    r->open = true;
    r->first = r->last = id;
    r->max_created = created_ms;
}

/*
 * The `seen` ids as runs of consecutive ids, [[first,last,newest created_at
 * (ms)],...], compact JSON text appended to out (a save splices it in:
 * building and dumping it as a Jansson array was a twelfth of a backfill's
 * CPU). Returns 0 / -1 (ENOMEM).
 */
static int ola_cp_seen_text(const struct ola_seen *s, struct ola_buf *out)
{
    struct ola_cp_runs r = {0};

    r.text = out;
    if (ola_buf_putc(out, '[') != 0)
        return -1;
    ola_seen_foreach(s, ola_cp_run_add, &r);
    ola_cp_run_flush(&r);
    return r.failed ? -1 : ola_buf_putc(out, ']');
}

struct ola_cp_range {
    bool any;
    int64_t min, max;
};

static void ola_cp_range_add(int64_t id, int64_t created_ms, void *arg)
{
    struct ola_cp_range *r = arg;

    (void)created_ms;
    if (!r->any)
        r->min = id;
    r->max = id;
    r->any = true;
}

/* {"count","min_id","max_id"} for humans. New reference or NULL. */
static json_t *ola_cp_seen_summary(const struct ola_seen *s)
{
    struct ola_cp_range r = {0};

    ola_seen_foreach(s, ola_cp_range_add, &r);
    if (!r.any)
        return json_pack("{s:I,s:n,s:n}", "count", (json_int_t)0, "min_id", "max_id");
    return json_pack("{s:I,s:I,s:I}", "count", (json_int_t)ola_seen_count(s), "min_id",
                     (json_int_t)r.min, "max_id", (json_int_t)r.max);
}

/*
 * Everything but `seen` and `checksum`, in file order, then `seen` from
 * seen_value (stolen) and `alerts`; with seen_value NULL, neither of the two
 * (the saver splices both in as text). New reference or NULL.
 */
static json_t *ola_cp_encode(const struct ola_checkpoint *cp, int64_t updated_ms,
                             json_t *seen_value, bool copy_alerts)
{
    json_t *obj = json_object(), *window, *alerts;

    if (obj == NULL || cp->pos.delivered > (uint64_t)INT64_MAX)
        goto fail;
    if (!ola_cp_set(obj, "version", json_integer(OLA_CHECKPOINT_VERSION)) ||
        !ola_cp_set(obj, "watermark", ola_cp_time(cp->pos.watermark_ms, true)) ||
        !ola_cp_set(obj, "start", ola_cp_time(cp->pos.start_ms, true)))
        goto fail;
    if (cp->pos.in_window) {
        window = json_object();
        if (!ola_cp_set(obj, "window", window) ||
            !ola_cp_set(window, "kind",
                        json_string(cp->pos.window_kind == OLA_WINDOW_SWEEP ? "sweep"
                                                                            : "head")) ||
            !ola_cp_set(window, "since", ola_cp_time(cp->pos.window_since_ms, false)) ||
            !ola_cp_set(window, "until", ola_cp_time(cp->pos.window_until_ms, false)) ||
            !ola_cp_set(window, "cursor",
                        cp->pos.cursor ? json_string(cp->pos.cursor) : json_null()))
            goto fail;
    } else if (!ola_cp_set(obj, "window", json_null())) {
        goto fail;
    }
    if (!ola_cp_set(obj, "last_sweep", ola_cp_time(cp->pos.last_sweep_ms, true)) ||
        !ola_cp_set(obj, "delivered", json_integer((json_int_t)cp->pos.delivered)) ||
        !ola_cp_set(obj, "updated_at", ola_cp_time(updated_ms, false)))
        goto fail;
    if (seen_value == NULL)
        return obj; /* the saver splices `seen` and `alerts` in (ola_cp_serialize) */
    if (json_object_set_new(obj, "seen", seen_value) != 0) {
        seen_value = NULL;
        goto fail;
    }
    seen_value = NULL;
    if (cp->alerts == NULL)
        alerts = json_null();
    else if (copy_alerts)
        alerts = json_deep_copy(cp->alerts);
    else
        alerts = json_incref(cp->alerts);
    if (!ola_cp_set(obj, "alerts", alerts))
        goto fail;
    return obj;
fail:
    json_decref(seen_value);
    json_decref(obj);
    return NULL;
}

json_t *ola_checkpoint_to_json(const struct ola_checkpoint *cp)
{
    json_t *seen = ola_cp_seen_summary(cp->pos.seen);

    return seen != NULL ? ola_cp_encode(cp, cp->updated_ms, seen, true) : NULL;
}

/* Lowercase hex SHA-256 of data into hex[OLA_CP_SUM_HEX + 1]. Returns 0 / -1. */
/* hex (OLA_CP_SUM_HEX + 1 bytes) gets md, a SHA-256 digest, in lowercase hex. */
static void ola_cp_hex(const unsigned char *md, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned int i;

    for (i = 0; i < OLA_CP_SUM_HEX / 2; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[OLA_CP_SUM_HEX] = '\0';
}

int ola_cp_sha256(const char *data, size_t len, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen * 2 != OLA_CP_SUM_HEX)
        return -1;
    ola_cp_hex(md, hex);
    return 0;
}

/* ---- saving -------------------------------------------------------------------- */

/* The directory part of path ("." if none). Malloc'd or NULL. */
static char *ola_cp_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n;
    char *dir;

    if (slash == NULL)
        return strdup(".");
    n = slash == path ? 1 : (size_t)(slash - path);
    dir = malloc(n + 1);
    if (dir == NULL)
        return NULL;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return dir;
}

/*
 * The file, in parts written one after the other (the alert state's text,
 * about 1 MB in a backfill, is written from where it is, not copied into
 * one buffer with the rest: that copy and the fresh megabyte it faulted in
 * were a tenth of a backfill's CPU).
 */
struct ola_cp_file {
    char *body; /* owned: the compact dump of the checkpoint without "seen", "alerts" */
    const char *part[6];
    size_t len[6];
    size_t total;
    char tail[sizeof(",\"checksum\":\"" OLA_CP_SUM_PFX) + OLA_CP_SUM_HEX + 4];
};

/*
 * f's parts: the compact dump of obj without its closing brace, then
 * ,"seen":<seen>,"alerts":<alerts> (the texts of the values obj lacks, last
 * in file order), then ,"checksum":"sha256:<hex>"} and "\n", where the hash
 * is over the parts before it and a closing brace. Equal to dumping obj after
 * adding "seen", "alerts" and then "checksum". Returns 0 / -1 (ENOMEM); free
 * f->body either way.
 */
static int ola_cp_serialize(const json_t *obj, const struct ola_buf *seen,
                            const char *alerts, size_t alerts_len, struct ola_cp_file *f)
{
    static const char key[] = ",\"checksum\":\"" OLA_CP_SUM_PFX;
    static const char skey[] = ",\"seen\":";
    static const char akey[] = ",\"alerts\":";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[OLA_CP_SUM_HEX + 1];
    EVP_MD_CTX *ctx = NULL;
    size_t n, k;
    int rc = -1;

    memset(f, 0, sizeof(*f));
    f->body = ola_json_dumps(obj, JSON_COMPACT);
    if (f->body == NULL)
        return -1;
    n = strlen(f->body);
    if (n < 2 || f->body[n - 1] != '}')
        return -1;
    f->part[0] = f->body;
    f->len[0] = n - 1;
    f->part[1] = skey;
    f->len[1] = sizeof(skey) - 1;
    f->part[2] = seen->data;
    f->len[2] = seen->len;
    f->part[3] = akey;
    f->len[3] = sizeof(akey) - 1;
    f->part[4] = alerts;
    f->len[4] = alerts_len;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto fail;
    for (k = 0; k < 5; k++)
        if (EVP_DigestUpdate(ctx, f->part[k], f->len[k]) != 1)
            goto fail;
    if (EVP_DigestUpdate(ctx, "}", 1) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
        mdlen * 2 != OLA_CP_SUM_HEX)
        goto fail;
    ola_cp_hex(md, hex);
    memcpy(f->tail, key, sizeof(key) - 1);
    memcpy(f->tail + sizeof(key) - 1, hex, OLA_CP_SUM_HEX);
    memcpy(f->tail + sizeof(key) - 1 + OLA_CP_SUM_HEX, "\"}\n", 4);
    f->part[5] = f->tail;
    f->len[5] = sizeof(key) - 1 + OLA_CP_SUM_HEX + 3;
    for (k = 0; k < 6; k++)
        f->total += f->len[k];
    rc = 0;
fail:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/*
 * Writes f's parts to a fresh temp file beside path (*tmp gets its name, for
 * the caller to free), makes it durable and renames it over path, then fsyncs
 * dir. On failure *step and *what say which step failed on which file, errno
 * is kept, and the temp file is gone. Returns 0 / -1.
 */
static int ola_cp_install(const char *path, const char *dir, const struct ola_cp_file *f,
                          char **tmp, const char **step, const char **what)
{
    bool renamed = false;
    int fd = -1, dfd = -1, e;
    size_t k;

    *step = "cannot create directory";
    *what = dir;
    if (ola_mkdirs(dir) != 0)
        goto fail;
    *step = "cannot create a temp file in";
    fd = ola_tmpfile_beside(path, tmp);
    if (fd < 0)
        goto fail;
    *what = *tmp;
    *step = "cannot write";
    for (k = 0; k < 6; k++)
        if (ola_write_all(fd, f->part[k], f->len[k]) != 0)
            goto fail;
    *step = "cannot fsync";
    if (fsync(fd) != 0)
        goto fail;
    *step = "cannot close";
    e = close(fd);
    fd = -1;
    if (e != 0)
        goto fail;
    *step = "cannot rename into place";
    if (rename(*tmp, path) != 0)
        goto fail;
    renamed = true;
    /* The new file is in place; its directory entry is durable after this. */
    *step = "cannot open directory";
    *what = dir;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        goto fail;
    *step = "cannot fsync directory";
    if (fsync(dfd) != 0)
        goto fail;
    close(dfd);
    return 0;
fail:
    e = errno;
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (!renamed && *tmp != NULL)
        unlink(*tmp);
    errno = e;
    return -1;
}

/* Where the overlap begins: ids created before it are read by no window again. */
static int64_t ola_cp_overlap_start(const struct ola_checkpoint *cp)
{
    int64_t t = cp->pos.watermark_ms - cp->overlap_ms; /* both >= 0: no overflow */

    if (cp->pos.in_window && cp->pos.window_since_ms < t)
        t = cp->pos.window_since_ms;
    return t;
}

/*
 * Holds cp->pos.seen to cp->max_seen, the loader's bound, before a save. First
 * the ids created before the overlap go: no window reads them again, so
 * nothing is lost (the source prunes them after each window anyway, with a
 * margin). If the ids inside the overlap are still too many, the oldest of
 * them go too, with a warning. That is the least bad of the choices: refusing
 * to save would stop delivery until an operator steps in; saving anyway would
 * write a file the next start refuses; an unbounded loader would have no
 * memory bound. Dropping an id only matters if a later window reads its event
 * again: then dedupe lets it through once more (it is counted as a late
 * event, behind the watermark). The oldest ids are the first to leave the
 * overlap, so they are the least likely to be read again. The log says so
 * once per change of state, not at each save. Returns 0 / -1 (ENOMEM).
 */
static int ola_cp_bound_seen(const char *path, struct ola_checkpoint *cp,
                             struct ola_err *err)
{
    size_t n = ola_seen_count(cp->pos.seen), outside = 0, inside = 0;
    enum ola_cp_bound state = OLA_CP_BOUND_OK;

    if (n > cp->max_seen) {
        state = OLA_CP_BOUND_OUTSIDE;
        if (cp->overlap_ms >= 0 && cp->pos.watermark_ms >= 0)
            outside = ola_seen_prune(cp->pos.seen, ola_cp_overlap_start(cp));
        if (ola_seen_count(cp->pos.seen) > cp->max_seen) {
            state = OLA_CP_BOUND_INSIDE;
            if (ola_seen_trim(cp->pos.seen, cp->max_seen, false, 0, &inside) != 0) {
                cp->trimmed_outside += outside;
                return ola_err_set(err, ENOMEM,
                                   "checkpoint %s: out of memory trimming %zu seen ids "
                                   "to the bound of %zu",
                                   path, n, cp->max_seen);
            }
        }
    }
    cp->trimmed_outside += outside;
    cp->trimmed_inside += inside;
    if ((int)state == cp->bound_state)
        return 0;
    if (state == OLA_CP_BOUND_OUTSIDE)
        ola_log_warn(OLA_CP_COMP,
                     "checkpoint %s: %zu seen ids, over the bound of %zu: dropped the "
                     "%zu created before the overlap (no window reads them again)",
                     path, n, cp->max_seen, outside);
    else if (state == OLA_CP_BOUND_INSIDE)
        ola_log_warn(OLA_CP_COMP,
                     "checkpoint %s: %zu seen ids, over the bound of %zu even without "
                     "those older than the overlap (%zu dropped): dropped the %zu oldest "
                     "inside the overlap; an event among them that a late sweep reads "
                     "again is delivered a second time (counted as late)",
                     path, n, cp->max_seen, outside, inside);
    else {
        ola_log_info(OLA_CP_COMP,
                     "checkpoint %s: the seen ids are back under the bound of %zu; "
                     "%llu were dropped while over it (%llu inside the overlap)",
                     path, cp->max_seen,
                     (unsigned long long)(cp->trimmed_outside + cp->trimmed_inside),
                     (unsigned long long)cp->trimmed_inside);
        cp->trimmed_outside = cp->trimmed_inside = 0;
    }
    cp->bound_state = (int)state;
    return 0;
}

int ola_checkpoint_save(const char *path, struct ola_checkpoint *cp, struct ola_err *err)
{
    int64_t now = ola_now_ms();
    json_t *obj;
    struct ola_cp_file f = {0};
    struct ola_buf seen = OLA_BUF_INIT;
    char *tmp = NULL, *dir = NULL, *adump = NULL;
    const char *step = "", *what = "", *alerts = cp->alerts_text;
    size_t alerts_len = cp->alerts_len;
    int rc = -1, made = -1;

    if (ola_cp_bound_seen(path, cp, err) != 0)
        return -1;
    if (alerts == NULL) { /* a tree (or none): dumped as the file holds it */
        adump = cp->alerts != NULL
                    ? ola_json_dumps(cp->alerts, JSON_COMPACT | JSON_ENCODE_ANY)
                    : strdup("null");
        alerts = adump;
        alerts_len = adump != NULL ? strlen(adump) : 0;
    }
    obj = ola_cp_encode(cp, now, NULL, false);
    if (obj != NULL && alerts != NULL && ola_cp_seen_text(cp->pos.seen, &seen) == 0)
        made = ola_cp_serialize(obj, &seen, alerts, alerts_len, &f);
    json_decref(obj);
    dir = ola_cp_dirname(path);
    if (made != 0 || dir == NULL) {
        ola_err_set(
            err, ENOMEM,
            "checkpoint %s: cannot encode (a time out of range, or out of memory)", path);
        goto fail;
    }
    if (f.total >= cp->max_bytes) {
        ola_err_set(err, EFBIG,
                    "checkpoint %s: %zu bytes, over the %zu a checkpoint may have (the "
                    "alert state is too big?); not written, the last one stays",
                    path, f.total, cp->max_bytes);
        goto fail;
    }
    if (ola_cp_install(path, dir, &f, &tmp, &step, &what) != 0) {
        int e = errno;

        ola_err_set(err, e, "checkpoint %s: %s %s: %s", path, step, what, strerror(e));
        goto fail;
    }
    cp->updated_ms = now;
    rc = 0;
fail:
    free(f.body);
    ola_buf_free(&seen);
    free(adump);
    free(tmp);
    free(dir);
    return rc;
}

size_t ola_checkpoint_remove_temps(const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    char *dir = ola_cp_dirname(path), name[4096];
    size_t blen = strlen(base), slen = strlen(OLA_TMP_SUFFIX), removed = 0;
    struct dirent *de;
    DIR *d;

    if (dir == NULL)
        return 0;
    d = opendir(dir);
    while (d != NULL) {
        int n;

        de = readdir(d);
        if (de == NULL)
            break;
        /* exactly base + ".tmp." + the six characters mkstemp chose */
        if (strlen(de->d_name) != blen + slen + 6 ||
            strncmp(de->d_name, base, blen) != 0 ||
            strncmp(de->d_name + blen, OLA_TMP_SUFFIX, slen) != 0)
            continue;
        n = snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
        if (n > 0 && (size_t)n < sizeof(name) && unlink(name) == 0)
            removed++;
    }
    if (d != NULL)
        closedir(d);
    free(dir);
    return removed;
}
