/*
 * checkpoint_load.c - reading a checkpoint file back (the format is in
 * checkpoint.c): bounded in size, parsed with duplicate keys refused, its
 * checksum verified the way the saver made it (the object without
 * "checksum", dumped compact, hashed), then decoded into a fresh position that
 * replaces the caller's only when all of it is good. A bad file is an error
 * that names it, says what is wrong and how to recover (OLA_CP_FIX).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/core/arena.h"
#include "agent/core/fileio.h"
#include "agent/core/timeutil.h"
#include "agent/state/checkpoint.h"
#include "agent/state/checkpoint_priv.h"

/* "checkpoint PATH: <what>; <how to fix>" into err. Returns -1. */
static int ola_cp_bad(struct ola_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ola_cp_bad(struct ola_err *err, const char *path, const char *fmt, ...)
{
    char what[OLA_ERR_MSG_MAX];
    size_t fixed = strlen("checkpoint : ") + strlen(path) + strlen(OLA_CP_FIX);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /* Shorten the diagnosis rather than lose the fix at the end of the message. */
    if (fixed + 8 < OLA_ERR_MSG_MAX && strlen(what) > OLA_ERR_MSG_MAX - 1 - fixed)
        memcpy(what + (OLA_ERR_MSG_MAX - 1 - fixed) - 3, "...", 4);
    return ola_err_set(err, EINVAL, "checkpoint %s: %s" OLA_CP_FIX, path, what);
}

/* An ISO time at key (or null -> -1 when nullable). Returns 0 / -1. */
static int ola_cp_get_time(const json_t *obj, const char *key, bool nullable, int64_t *ms)
{
    const json_t *v = json_object_get(obj, key);

    if (nullable && json_is_null(v)) {
        *ms = -1;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    return ola_time_parse_iso(json_string_value(v), ms);
}

/* Expands the `seen` runs into s, at most max ids. Returns 0, or -1 with why filled. */
static int ola_cp_decode_seen(const json_t *arr, struct ola_seen *s, size_t max,
                              char *why, size_t whylen)
{
    uint64_t total = 0;
    size_t i;

    if (!json_is_array(arr)) {
        snprintf(why, whylen, "'seen' is not an array");
        return -1;
    }
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *run = json_array_get(arr, i);
        int64_t first, last, created, id;

        if (!json_is_array(run) || json_array_size(run) != 3 ||
            !json_is_integer(json_array_get(run, 0)) ||
            !json_is_integer(json_array_get(run, 1)) ||
            !json_is_integer(json_array_get(run, 2))) {
            snprintf(why, whylen, "'seen' run %zu is not [first_id,last_id,created_ms]",
                     i);
            return -1;
        }
        first = json_integer_value(json_array_get(run, 0));
        last = json_integer_value(json_array_get(run, 1));
        created = json_integer_value(json_array_get(run, 2));
        if (last < first || (uint64_t)last - (uint64_t)first >= max) {
            snprintf(why, whylen, "'seen' run %zu [%lld,%lld] is corrupt", i,
                     (long long)first, (long long)last);
            return -1;
        }
        total += (uint64_t)last - (uint64_t)first + 1;
        if (total > max) {
            snprintf(why, whylen, "'seen' holds more than %zu ids", max);
            return -1;
        }
        for (id = first;; id++) {
            if (ola_seen_add(s, id, created) != 0) {
                snprintf(why, whylen, "out of memory for 'seen'");
                return -1;
            }
            if (id == last)
                break;
        }
    }
    return 0;
}

/* Fills cp (fresh) from the verified root. Returns 0, or -1 with why filled. */
static int ola_cp_decode(const json_t *root, struct ola_checkpoint *cp, char *why,
                         size_t whylen)
{
    json_t *window, *v;
    const char *bad = NULL;

    if (ola_cp_get_time(root, "watermark", true, &cp->pos.watermark_ms) != 0)
        bad = "'watermark' is not an ISO-8601 time or null";
    else if (json_object_get(root, "start") != NULL &&
             ola_cp_get_time(root, "start", true, &cp->pos.start_ms) != 0)
        bad = "'start' is not an ISO-8601 time or null";
    else if (ola_cp_get_time(root, "last_sweep", true, &cp->pos.last_sweep_ms) != 0)
        bad = "'last_sweep' is not an ISO-8601 time or null";
    else if (ola_cp_get_time(root, "updated_at", false, &cp->updated_ms) != 0)
        bad = "'updated_at' is not an ISO-8601 time";
    if (bad != NULL)
        goto fail;
    v = json_object_get(root, "delivered");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        bad = "'delivered' is not a non-negative integer";
        goto fail;
    }
    cp->pos.delivered = (uint64_t)json_integer_value(v);

    window = json_object_get(root, "window");
    if (json_is_object(window)) {
        const char *kind = json_string_value(json_object_get(window, "kind"));

        cp->pos.in_window = true;
        if (kind != NULL && strcmp(kind, "head") == 0)
            cp->pos.window_kind = OLA_WINDOW_HEAD;
        else if (kind != NULL && strcmp(kind, "sweep") == 0)
            cp->pos.window_kind = OLA_WINDOW_SWEEP;
        else
            bad = "'window.kind' is not \"head\" or \"sweep\"";
        if (bad == NULL &&
            ola_cp_get_time(window, "since", false, &cp->pos.window_since_ms) != 0)
            bad = "'window.since' is not an ISO-8601 time";
        if (bad == NULL &&
            ola_cp_get_time(window, "until", false, &cp->pos.window_until_ms) != 0)
            bad = "'window.until' is not an ISO-8601 time";
        v = json_object_get(window, "cursor");
        if (bad == NULL && !json_is_null(v) && !json_is_string(v))
            bad = "'window.cursor' is not a string or null";
        if (bad == NULL && json_is_string(v) &&
            ola_position_set_cursor(&cp->pos, json_string_value(v)) != 0)
            bad = "out of memory";
        if (bad != NULL)
            goto fail;
    } else if (!json_is_null(window)) {
        bad = "'window' is not an object or null";
        goto fail;
    }

    v = json_object_get(root, "alerts");
    if (json_is_object(v))
        cp->alerts = json_incref(v);
    else if (!json_is_null(v)) {
        bad = "'alerts' is not an object or null";
        goto fail;
    }
    return ola_cp_decode_seen(json_object_get(root, "seen"), cp->pos.seen, cp->max_seen,
                              why, whylen);
fail:
    snprintf(why, whylen, "%s", bad);
    return -1;
}

int ola_checkpoint_load(const char *path, struct ola_checkpoint *cp, bool *found,
                        struct ola_err *err)
{
    struct ola_checkpoint fresh;
    char hex[OLA_CP_SUM_HEX + 1], why[160];
    char *data = NULL, *body = NULL, *sum = NULL;
    json_t *root = NULL, *v;
    json_error_t jerr;
    size_t len = 0;
    int fd, e, rc = -1;

    *found = false;
    if (ola_checkpoint_init(&fresh) != 0)
        return ola_err_set(err, ENOMEM, "checkpoint %s: out of memory", path);
    fresh.max_seen = cp->max_seen;
    fresh.max_bytes = cp->max_bytes;
    fresh.overlap_ms = cp->overlap_ms;
    fresh.bound_state = cp->bound_state;
    /* O_NOFOLLOW: a symlink here would be replaced, not written, by the next save */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        rc = 0;
        goto done;
    }
    if (fd < 0 && errno == ELOOP) {
        *found = true;
        ola_err_set(err, ELOOP,
                    "checkpoint %s: is a symbolic link; olagent does not follow links "
                    "for its state files: set checkpoint.path to the real file",
                    path);
        goto done;
    }
    if (fd >= 0) {
        /* a file of max_bytes or more is refused (EFBIG): the saver's bound */
        e = ola_read_fd_all(fd, cp->max_bytes > 0 ? cp->max_bytes - 1 : 0, &data, &len);
        if (e != 0)
            e = errno;
        close(fd);
        errno = e;
    }
    if (data == NULL) {
        e = errno;
        ola_err_set(err, e, "checkpoint %s: cannot read: %s", path, strerror(e));
        goto done;
    }
    *found = true;
    if (len == 0) {
        ola_cp_bad(err, path, "the file is empty");
        goto done;
    }
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        ola_cp_bad(err, path, "not valid JSON (truncated?): %s at byte %d", jerr.text,
                   jerr.position);
        goto done;
    }
    if (!json_is_object(root)) {
        ola_cp_bad(err, path, "not a JSON object");
        goto done;
    }
    v = json_object_get(root, "version");
    if (!json_is_integer(v)) {
        ola_cp_bad(err, path, "no integer 'version'");
        goto done;
    }
    if (json_integer_value(v) != OLA_CHECKPOINT_VERSION) {
        ola_cp_bad(err, path, "version %lld, but this olagent reads version %d",
                   (long long)json_integer_value(v), OLA_CHECKPOINT_VERSION);
        goto done;
    }
    v = json_object_get(root, "checksum");
    if (!json_is_string(v) ||
        strncmp(json_string_value(v), OLA_CP_SUM_PFX, strlen(OLA_CP_SUM_PFX)) != 0 ||
        strlen(json_string_value(v)) != strlen(OLA_CP_SUM_PFX) + OLA_CP_SUM_HEX) {
        ola_cp_bad(err, path, "no 'checksum' of the form \"sha256:<64 hex digits>\"");
        goto done;
    }
    sum = strdup(json_string_value(v) + strlen(OLA_CP_SUM_PFX));
    if (sum == NULL || json_object_del(root, "checksum") != 0) {
        ola_err_set(err, ENOMEM, "checkpoint %s: out of memory", path);
        goto done;
    }
    body = ola_json_dumps(root, JSON_COMPACT);
    if (body == NULL || ola_cp_sha256(body, strlen(body), hex) != 0) {
        ola_err_set(err, ENOMEM, "checkpoint %s: out of memory", path);
        goto done;
    }
    if (strcmp(hex, sum) != 0) {
        ola_cp_bad(err, path, "checksum mismatch: the file was changed or damaged");
        goto done;
    }
    if (ola_cp_decode(root, &fresh, why, sizeof(why)) != 0) {
        ola_cp_bad(err, path, "%s", why);
        goto done;
    }
    ola_checkpoint_free(cp);
    *cp = fresh;
    memset(&fresh, 0, sizeof(fresh));
    rc = 0;
done:
    ola_checkpoint_free(&fresh);
    json_decref(root);
    free(body);
    free(sum);
    free(data);
    return rc;
}
