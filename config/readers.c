/*
 * readers.c - typed readers: scalars into values, with file:line errors.
 *
 * Each reader finds its key in a map, answers the default when the key is
 * absent or null, and otherwise parses the scalar (integers, numbers,
 * booleans, durations, sizes, percentages, enums, secrets from a value or a
 * *_file) and words its errors the same way. The trace hook (tests) hears
 * every answer. ola_cfg_check_keys refuses unknown keys and suggests the
 * closest known one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/core/buf.h"
#include "agent/core/fileio.h"
#include "agent/core/log.h"
#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "config/config.h"
#include "config/config_priv.h"

#define OLA_CFG_MAX_SECRET (64u << 10) /* a *_file secret */

/* ---- typed readers --------------------------------------------------------- */

const char *ola_cfg_shown(const struct ola_cfg *n, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const char *t;
    size_t j = 0;

    if (n == NULL)
        return "(not set)";
    if (n->secret)
        return "(value from the environment)";
    if (size < 10)
        return "(not shown)";
    t = n->type == OLA_CFG_SCALAR ? n->text : "";
    buf[j++] = '\'';
    for (; *t != '\0' && j + 9 <= size; t++) { /* room for \xHH, "...", "'" and NUL */
        unsigned char c = (unsigned char)*t;

        if (c >= 0x20 && c != 0x7f) {
            buf[j++] = (char)c;
            continue;
        }
        buf[j++] = '\\'; /* a control character, as \xHH */
        buf[j++] = 'x';
        buf[j++] = hex[c >> 4];
        buf[j++] = hex[c & 15];
    }
    if (*t != '\0') {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j++] = '\'';
    buf[j] = '\0';
    return buf;
}

/* The readers' trace hook (tests only; see config.h). */
static ola_cfg_trace_fn *ola_trace_fn;
static void *ola_trace_arg;

void ola_cfg_set_trace(ola_cfg_trace_fn *fn, void *arg)
{
    ola_trace_fn = fn;
    ola_trace_arg = arg;
}

/* Tells the hook what a reader answered for key: n is the node read, NULL
 * when the default was used. */
static void ola_traced(const struct ola_cfg *map, const char *key,
                       const struct ola_cfg *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ola_traced(const struct ola_cfg *map, const char *key,
                       const struct ola_cfg *n, const char *fmt, ...)
{
    char value[256];
    va_list ap;

    if (ola_trace_fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n != NULL && n->secret)
        snprintf(value, sizeof(value), "(secret)");
    ola_trace_fn(ola_trace_arg, ola_cfg_path(map), key, n != NULL ? n->line : 0, value);
}

/*
 * Finds key in map. Returns 1 with *node set for a scalar, 0 when absent or
 * null, -1 (error set) when the value is a map or a list.
 */
static int ola_reader(const struct ola_cfg *map, const char *key, const char *expected,
                      const struct ola_cfg **node, struct ola_err *err)
{
    const struct ola_cfg *n = ola_cfg_get(map, key);

    *node = NULL;
    if (n == NULL || n->type == OLA_CFG_NULL)
        return 0;
    if (n->type != OLA_CFG_SCALAR)
        return ola_cfg_errf(err, n, "%s: expected %s, got %s", n->path, expected,
                            ola_type_name(n));
    *node = n;
    return 1;
}

int ola_cfg_str(const struct ola_cfg *map, const char *key, const char *def,
                const char **out, struct ola_err *err)
{
    const struct ola_cfg *n;
    int r = ola_reader(map, key, "a string", &n, err);

    if (r < 0)
        return -1;
    *out = r ? n->text : def;
    ola_traced(map, key, n, "%s", *out != NULL ? *out : "(none)");
    return 0;
}

static int ola_parse_ll(const char *s, long long *v)
{
    char *end;

    if (s[0] == '\0' || isspace((unsigned char)s[0]))
        return -1;
    errno = 0;
    *v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -1;
    if (errno == ERANGE)
        return 1;
    return 0;
}

int ola_cfg_int(const struct ola_cfg *map, const char *key, long long def, long long min,
                long long max, long long *out, struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    long long v;
    int r = ola_reader(map, key, "an integer", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%lld", def);
        }
        return r;
    }
    r = ola_parse_ll(n->text, &v);
    if (r < 0)
        return ola_cfg_errf(err, n, "%s: expected an integer, got %s", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    if (r > 0 || v < min || v > max)
        return ola_cfg_errf(err, n, "%s: must be between %lld and %lld, got %s", n->path,
                            min, max, ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%lld", v);
    return 0;
}

/*
 * Parses text as a whole finite number, optionally followed by the single
 * character suffix (when not '\0'; *had_suffix says whether it was there).
 * No leading space, nothing after. Returns true on success.
 */
static bool ola_parse_finite(const char *text, char suffix, double *v, bool *had_suffix)
{
    char *end;

    if (text[0] == '\0' || isspace((unsigned char)text[0]))
        return false;
    errno = 0;
    *v = strtod(text, &end);
    if (had_suffix != NULL)
        *had_suffix = suffix != '\0' && *end == suffix;
    if (suffix != '\0' && *end == suffix)
        end++;
    return *end == '\0' && errno != ERANGE && isfinite(*v);
}

int ola_cfg_double(const struct ola_cfg *map, const char *key, double def, double *out,
                   struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    double v;
    int r = ola_reader(map, key, "a number", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%g", def);
        }
        return r;
    }
    if (!ola_parse_finite(n->text, '\0', &v, NULL))
        return ola_cfg_errf(err, n, "%s: expected a number, got %s", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%g", v);
    return 0;
}

int ola_cfg_bool(const struct ola_cfg *map, const char *key, bool def, bool *out,
                 struct ola_err *err)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    const struct ola_cfg *n;
    char shown[96];
    size_t i;
    int r = ola_reader(map, key, "true or false", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%s", def ? "true" : "false");
        }
        return r;
    }
    for (i = 0; yes[i] != NULL; i++) {
        if (strcasecmp(n->text, yes[i]) == 0 || strcasecmp(n->text, no[i]) == 0) {
            *out = strcasecmp(n->text, yes[i]) == 0;
            ola_traced(map, key, n, "%s", *out ? "true" : "false");
            return 0;
        }
    }
    return ola_cfg_errf(err, n, "%s: expected true or false, got %s", n->path,
                        ola_cfg_shown(n, shown, sizeof(shown)));
}

static const char *ola_dur_str(int64_t ms, char *buf, size_t size)
{
    if (ola_duration_format(ms, buf, size) != 0)
        snprintf(buf, size, "%" PRId64 "ms", ms);
    return buf;
}

int ola_cfg_duration(const struct ola_cfg *map, const char *key, int64_t def, int64_t min,
                     int64_t max, int64_t *out, struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96], a[48], b[48];
    int64_t v;
    int r = ola_reader(map, key, "a duration", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%" PRId64 "ms", def);
        }
        return r;
    }
    r = ola_duration_parse(n->text, &v);
    if (r > 0)
        return ola_cfg_errf(err, n, "%s: duration %s is too large (at most 36500d)",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    if (r != 0)
        return ola_cfg_errf(err, n, "%s: bad duration %s (use ms, s, m, h, d)", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    if (v < min || v > max) {
        if (max == INT64_MAX)
            return ola_cfg_errf(err, n, "%s: must be at least %s, got %s", n->path,
                                ola_dur_str(min, a, sizeof(a)),
                                ola_cfg_shown(n, shown, sizeof(shown)));
        return ola_cfg_errf(err, n, "%s: must be between %s and %s, got %s", n->path,
                            ola_dur_str(min, a, sizeof(a)),
                            ola_dur_str(max, b, sizeof(b)),
                            ola_cfg_shown(n, shown, sizeof(shown)));
    }
    *out = v;
    ola_traced(map, key, n, "%" PRId64 "ms", v);
    return 0;
}

/* "2048", "64KiB", "10 MB", "1gib". Returns 0, or -1 (syntax), 1 (overflow). */
static int ola_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"kb", UINT64_C(1000)},
        {"mb", UINT64_C(1000) * 1000},
        {"gb", UINT64_C(1000) * 1000 * 1000},
        {"tb", UINT64_C(1000) * 1000 * 1000 * 1000},
        {"kib", UINT64_C(1) << 10},
        {"mib", UINT64_C(1) << 20},
        {"gib", UINT64_C(1) << 30},
        {"tib", UINT64_C(1) << 40},
    };
    char *end;
    unsigned long long v;
    size_t i;

    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return 1;
    while (*end == ' ')
        end++;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].mult)
                return 1;
            *out = (uint64_t)v * units[i].mult;
            return 0;
        }
    }
    return -1;
}

int ola_cfg_size(const struct ola_cfg *map, const char *key, uint64_t def, uint64_t *out,
                 struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    uint64_t v;
    int r = ola_reader(map, key, "a size", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%" PRIu64 " bytes", def);
        }
        return r;
    }
    r = ola_parse_size(n->text, &v);
    if (r < 0)
        return ola_cfg_errf(err, n,
                            "%s: bad size %s (use bytes, KB, MB, GB, KiB, MiB, GiB)",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    if (r > 0)
        return ola_cfg_errf(err, n, "%s: size %s is too large", n->path,
                            ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%" PRIu64 " bytes", v);
    return 0;
}

int ola_cfg_percent(const struct ola_cfg *map, const char *key, double def, double *out,
                    struct ola_err *err)
{
    const struct ola_cfg *n;
    char shown[96];
    double v;
    bool pct;
    int r = ola_reader(map, key, "a percentage", &n, err);

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%g", def);
        }
        return r;
    }
    if (!ola_parse_finite(n->text, '%', &v, &pct))
        return ola_cfg_errf(err, n, "%s: expected a percentage like 20%% or 0.2, got %s",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    if (pct)
        v /= 100.0;
    if (v < 0.0 || v > 1.0)
        return ola_cfg_errf(err, n, "%s: must be between 0%% and 100%% (0 and 1), got %s",
                            n->path, ola_cfg_shown(n, shown, sizeof(shown)));
    *out = v;
    ola_traced(map, key, n, "%g", v);
    return 0;
}

/* Levenshtein distance, or a large number for long strings. */
static size_t ola_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t row[65];

    if (la > 64 || lb > 64)
        return SIZE_MAX;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest of names[] within edit distance 2, or NULL. */
static const char *ola_suggest(const char *word, const char *const *names)
{
    const char *best = NULL;
    size_t best_d = 3, i;

    for (i = 0; names != NULL && names[i] != NULL; i++) {
        size_t d = ola_edit_distance(word, names[i]);

        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

int ola_cfg_enum(const struct ola_cfg *map, const char *key, const char *const *names,
                 int def, int *out, struct ola_err *err)
{
    const struct ola_cfg *n;
    struct ola_buf list = OLA_BUF_INIT;
    const char *hint;
    char shown[96];
    int r = ola_reader(map, key, "a name", &n, err), i;

    if (r <= 0) {
        if (r == 0) {
            *out = def;
            ola_traced(map, key, NULL, "%s", names[def]);
        }
        return r;
    }
    for (i = 0; names[i] != NULL; i++) {
        if (strcmp(n->text, names[i]) == 0) {
            *out = i;
            ola_traced(map, key, n, "%s", names[i]);
            return 0;
        }
    }
    for (i = 0; names[i] != NULL; i++)
        if (ola_buf_printf(&list, "%s%s", i ? ", " : "", names[i]) != 0)
            break;
    hint = n->secret ? NULL : ola_suggest(n->text, names);
    if (hint != NULL)
        ola_cfg_errf(err, n, "%s: unknown value %s; did you mean '%s'? (one of %s)",
                     n->path, ola_cfg_shown(n, shown, sizeof(shown)), hint,
                     list.data ? list.data : "");
    else
        ola_cfg_errf(err, n, "%s: unknown value %s (one of %s)", n->path,
                     ola_cfg_shown(n, shown, sizeof(shown)), list.data ? list.data : "");
    ola_buf_free(&list);
    return -1;
}

int ola_cfg_check_keys(const struct ola_cfg *map, const char *const *allowed,
                       struct ola_err *err)
{
    size_t i, j;

    if (map == NULL || map->type == OLA_CFG_NULL)
        return 0;
    if (map->type != OLA_CFG_MAP)
        return ola_cfg_errf(err, map, "%s: expected a map, got %s", ola_node_what(map),
                            ola_type_name(map));
    for (i = 0; i < map->n; i++) {
        const char *key = map->ents[i].key, *hint;
        bool ok = false;

        for (j = 0; allowed != NULL && allowed[j] != NULL && !ok; j++)
            ok = strcmp(allowed[j], key) == 0;
        if (ok)
            continue;
        hint = ola_suggest(key, allowed);
        if (hint != NULL)
            return ola_errf_line(err, map->store, map->ents[i].key_line,
                                 "unknown key '%s%s%s'; did you mean '%s'?", map->path,
                                 map->path[0] ? "." : "", key, hint);
        return ola_errf_line(err, map->store, map->ents[i].key_line,
                             "unknown key '%s%s%s'", map->path, map->path[0] ? "." : "",
                             key);
    }
    return 0;
}

/* ---- secrets ---------------------------------------------------------------- */

static int ola_read_secret_file(const struct ola_cfg *fnode, const char **out,
                                struct ola_err *err)
{
    const char *path = fnode->text, *shown;
    char *data = NULL, *copy, buf[OLA_CFG_SHOWN_MAX];
    size_t len = 0;
    struct stat st;
    int fd;

    shown = ola_cfg_shown(fnode, buf, sizeof(buf)); /* the path may come from ${VAR} */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ola_cfg_errf(err, fnode, "%s: cannot read %s: %s", fnode->path, shown,
                            strerror(errno));
    if (fstat(fd, &st) != 0 ||
        ola_read_fd_all(fd, OLA_CFG_MAX_SECRET, &data, &len) != 0) {
        int e = errno;

        close(fd);
        return ola_cfg_errf(err, fnode, "%s: cannot read %s: %s", fnode->path, shown,
                            strerror(e));
    }
    close(fd);
    if (memchr(data, '\0', len) != NULL) {
        free(data);
        return ola_cfg_errf(err, fnode, "%s: %s contains a NUL byte", fnode->path, shown);
    }
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 0) {
        free(data);
        return ola_cfg_errf(err, fnode, "%s: %s is empty", fnode->path, shown);
    }
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        ola_log_warn(OLA_CFG_COMP,
                     "%s:%d: %s: secret file %s is readable by group or others "
                     "(chmod 600 it)",
                     fnode->store->name, fnode->line, fnode->path, shown);
    if ((st.st_mode & S_IWOTH) != 0)
        ola_log_warn(OLA_CFG_COMP,
                     "%s:%d: %s: secret file %s is writable by others (chmod 600 it)",
                     fnode->store->name, fnode->line, fnode->path, shown);
    copy = ola_store_strndup(fnode->store, data, len);
    /* Do not leave the secret lying around in freed memory. */
    ola_secret_wipe(data, len);
    free(data);
    if (copy == NULL)
        return ola_err_set(err, ENOMEM, "out of memory");
    *out = copy;
    return 0;
}

int ola_cfg_secret(const struct ola_cfg *map, const char *key, const char **out,
                   struct ola_err *err)
{
    char fkey[128];
    const struct ola_cfg *v, *f;
    int r;

    *out = NULL;
    r = snprintf(fkey, sizeof(fkey), "%s_file", key);
    if (r < 0 || (size_t)r >= sizeof(fkey))
        return ola_err_set(err, EINVAL, "secret key name too long: %s", key);
    if (ola_reader(map, key, "a string", &v, err) < 0 ||
        ola_reader(map, fkey, "a file name", &f, err) < 0)
        return -1;
    if (v != NULL && f != NULL)
        return ola_cfg_errf(err, f, "%s: set %s or %s, not both", ola_node_what(map), key,
                            fkey);
    if (v != NULL) {
        *out = v->text;
        return 0;
    }
    if (f == NULL)
        return 0;
    if (f->text[0] == '\0')
        return ola_cfg_errf(err, f, "%s: empty file name", f->path);
    return ola_read_secret_file(f, out, err);
}
