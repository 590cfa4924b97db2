/*
 * lists.c - named lists read from files, for the `in_list` operator (lists.h).
 *
 * A list file is read whole (at most OLA_LIST_MAX_BYTES), split into lines,
 * stripped of blank lines and `#` comments (a whole line, or from a `#`
 * after whitespace), and every entry checked: a bad entry is an error that
 * names the list file and its line. String lists are sorted (and
 * deduplicated) for bsearch; CIDR lists become [first, last] intervals per
 * address family, sorted and merged so that a lookup is one bisection.
 * Nothing here changes after loading, so a rule set shares its lists freely.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "filters/rules/expr.h"
#include "filters/rules/lists.h"

enum ola_list_type { OLA_LIST_STRING, OLA_LIST_CIDR };

struct ola_range {
    unsigned char lo[16], hi[16];
};

struct ola_list {
    char *name;
    char *where;
    enum ola_list_type type;
    bool icase;
    char **strs; /* sorted, unique */
    size_t n_strs, cap_strs;
    struct ola_range *v4, *v6; /* sorted by lo, merged */
    size_t n_v4, cap_v4, n_v6, cap_v6;
};

void ola_list_destroy(struct ola_list *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->n_strs; i++)
        free(l->strs[i]);
    free(l->strs);
    free(l->v4);
    free(l->v6);
    free(l->name);
    free(l->where);
    free(l);
}

const char *ola_list_name(const struct ola_list *l)
{
    return l->name;
}

const char *ola_list_where(const struct ola_list *l)
{
    return l->where;
}

size_t ola_list_size(const struct ola_list *l)
{
    return l->type == OLA_LIST_STRING ? l->n_strs : l->n_v4 + l->n_v6;
}

/* ---- CIDR ----------------------------------------------------------------- */

int ola_cidr_parse(const char *s, int *family, unsigned char lo[16], unsigned char hi[16],
                   char *why, size_t why_size)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    long prefix;
    int bits, i;

    memset(lo, 0, 16);
    memset(hi, 0, 16);
    if (alen == 0 || alen >= sizeof(addr)) {
        snprintf(why, why_size, "not an IP address");
        return -1;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, lo) == 1) {
        *family = 4;
        bits = 32;
    } else if (inet_pton(AF_INET6, addr, lo) == 1) {
        *family = 6;
        bits = 128;
    } else {
        snprintf(why, why_size, "not an IP address");
        return -1;
    }
    prefix = bits;
    if (slash != NULL) {
        char *end;

        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 ||
            prefix > bits) {
            snprintf(why, why_size, "prefix length must be 0..%d", bits);
            return -1;
        }
    }
    for (i = 0; i < bits / 8; i++) {
        int keep = (int)prefix - i * 8; /* bits of this byte in the prefix */
        unsigned char mask = keep >= 8   ? 0xff
                             : keep <= 0 ? 0
                                         : (unsigned char)(0xff << (8 - keep));

        if ((lo[i] & (unsigned char)~mask) != 0) {
            snprintf(why, why_size, "address bits set after the /%ld prefix", prefix);
            return -1;
        }
        hi[i] = (unsigned char)(lo[i] | (unsigned char)~mask);
    }
    return 0;
}

static int ola_range_cmp(const void *a, const void *b)
{
    return memcmp(((const struct ola_range *)a)->lo, ((const struct ola_range *)b)->lo,
                  16);
}

/* True when b starts at most one address after a ends. */
static bool ola_range_touches(const struct ola_range *a, const struct ola_range *b)
{
    unsigned char next[16];
    int i;

    if (memcmp(b->lo, a->hi, 16) <= 0)
        return true;
    memcpy(next, a->hi, 16);
    for (i = 15; i >= 0; i--)
        if (++next[i] != 0)
            break;
    return i >= 0 && memcmp(b->lo, next, 16) == 0;
}

/* Sorts and merges overlapping or adjacent ranges in place. */
static size_t ola_ranges_merge(struct ola_range *v, size_t n)
{
    size_t i, out = 0;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), ola_range_cmp);
    for (i = 1; i < n; i++) {
        if (ola_range_touches(&v[out], &v[i])) {
            if (memcmp(v[i].hi, v[out].hi, 16) > 0)
                memcpy(v[out].hi, v[i].hi, 16);
        } else {
            v[++out] = v[i];
        }
    }
    return out + 1;
}

static bool ola_ranges_has(const struct ola_range *v, size_t n, const unsigned char *a)
{
    size_t lo = 0, hi = n;

    /* the last range whose start is <= a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (memcmp(v[mid].lo, a, 16) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && memcmp(a, v[lo - 1].hi, 16) <= 0;
}

/* ---- strings -------------------------------------------------------------- */

static int ola_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ola_str_casecmp(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

bool ola_list_has(const struct ola_list *l, const json_t *v)
{
    char buf[OLA_LIST_ENTRY_MAX];
    unsigned char a[16];
    const char *key = buf;

    if (v == NULL)
        return false;
    if (l->type == OLA_LIST_STRING) {
        if (json_is_string(v))
            key = json_string_value(v);
        else if (ola_expr_text(v, buf, sizeof(buf)) < 0)
            return false;
        return bsearch(&key, l->strs, l->n_strs, sizeof(*l->strs),
                       l->icase ? ola_str_casecmp : ola_str_cmp) != NULL;
    }
    if (!json_is_string(v) || json_string_length(v) >= 64)
        return false;
    memset(a, 0, sizeof(a));
    if (inet_pton(AF_INET, json_string_value(v), a) == 1)
        return ola_ranges_has(l->v4, l->n_v4, a);
    if (inet_pton(AF_INET6, json_string_value(v), a) != 1)
        return false;
    if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        memmove(a, a + 12, 4); /* ::ffff:a.b.c.d is a.b.c.d */
        memset(a + 4, 0, 12);
        return ola_ranges_has(l->v4, l->n_v4, a);
    }
    return ola_ranges_has(l->v6, l->n_v6, a);
}

/* ---- loading -------------------------------------------------------------- */

/* One entry of the list file at line; why filled on error. Returns 0 / -1. */
static int ola_list_add(struct ola_list *l, const char *s, char *why, size_t why_size)
{
    struct ola_range r;
    char reason[64];
    int family;

    if (strlen(s) >= OLA_LIST_ENTRY_MAX) {
        snprintf(why, why_size, "entry longer than %d bytes", OLA_LIST_ENTRY_MAX - 1);
        return -1;
    }
    if (ola_list_size(l) >= OLA_LIST_MAX_ENTRIES) {
        snprintf(why, why_size, "more than %zu entries", OLA_LIST_MAX_ENTRIES);
        return -1;
    }
    if (l->type == OLA_LIST_STRING) {
        if (OLA_VEC_GROW(l->strs, l->cap_strs, l->n_strs + 1) != 0 ||
            (l->strs[l->n_strs] = strdup(s)) == NULL) {
            snprintf(why, why_size, "out of memory");
            return -1;
        }
        l->n_strs++;
        return 0;
    }
    if (ola_cidr_parse(s, &family, r.lo, r.hi, reason, sizeof(reason)) != 0) {
        if (snprintf(why, why_size, "bad CIDR '%.64s': %.60s", s, reason) < 0)
            why[0] = '\0';
        return -1;
    }
    if (family == 4 ? OLA_VEC_GROW(l->v4, l->cap_v4, l->n_v4 + 1) != 0
                    : OLA_VEC_GROW(l->v6, l->cap_v6, l->n_v6 + 1) != 0) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    if (family == 4)
        l->v4[l->n_v4++] = r;
    else
        l->v6[l->n_v6++] = r;
    return 0;
}

/* Splits text into entries; errors name path:line. Returns 0 / -1. */
static int ola_list_parse(struct ola_list *l, const char *path, char *text,
                          struct ola_err *err)
{
    char *line = text, *next;
    int lineno = 0;

    for (; line != NULL; line = next) {
        char *end, *hash, why[160];

        lineno++;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
            if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
                *hash = '\0';
                break;
            }
        while (*line == ' ' || *line == '\t')
            line++;
        end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        if (*line == '\0')
            continue;
        if (ola_list_add(l, line, why, sizeof(why)) != 0)
            return ola_err_set(err, EINVAL, "%s:%d: list '%s': %s", path, lineno, l->name,
                               why);
    }
    return 0;
}

/* Reads the file of def (relative to the declaring file's directory, else cwd). */
static int ola_list_read(const struct ola_cfg *fn, const char *s, char *path,
                         size_t path_size, char **data, size_t *len, struct ola_err *err)
{
    const char *from = ola_cfg_file(fn);
    int w;

    if (s[0] != '/' && from != NULL && strchr(from, '/') != NULL) {
        char dir[4096];

        w = snprintf(dir, sizeof(dir), "%s", from);
        if (w < 0 || (size_t)w >= sizeof(dir))
            return ola_cfg_errf(err, fn, "file: path too long");
        w = snprintf(path, path_size, "%s/%s", dirname(dir), s);
        if (w < 0 || (size_t)w >= path_size)
            return ola_cfg_errf(err, fn, "file: path too long");
        if (ola_read_file(path, OLA_LIST_MAX_BYTES, data, len) == 0)
            return 0;
        if (errno != ENOENT)
            return ola_cfg_errf(err, fn, "file: cannot read %s: %s", path,
                                errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
    }
    w = snprintf(path, path_size, "%s", s);
    if (w < 0 || (size_t)w >= path_size)
        return ola_cfg_errf(err, fn, "file: path too long");
    if (ola_read_file(path, OLA_LIST_MAX_BYTES, data, len) != 0)
        return ola_cfg_errf(err, fn, "file: cannot read %s: %s", s,
                            errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
    return 0;
}

struct ola_list *ola_list_load(const char *name, const struct ola_cfg *def,
                               struct ola_err *err)
{
    static const char *const keys[] = {"file", "type", "ignore_case", NULL};
    static const char *const types[] = {"string", "cidr", NULL};
    struct ola_list *l = calloc(1, sizeof(*l));
    const struct ola_cfg *fn = ola_cfg_get(def, "file");
    const char *file = ola_cfg_scalar(fn);
    char path[4096], where[300], *data = NULL;
    size_t len = 0, i, out;
    int type;

    if (l == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    if (ola_cfg_type(def) != OLA_CFG_MAP) {
        ola_cfg_errf(err, def, "lists: '%s': expected {file: PATH, type: string|cidr}",
                     name);
        goto fail;
    }
    if (ola_cfg_check_keys(def, keys, err) != 0 ||
        ola_cfg_enum(def, "type", types, OLA_LIST_STRING, &type, err) != 0 ||
        ola_cfg_bool(def, "ignore_case", false, &l->icase, err) != 0)
        goto fail;
    l->type = (enum ola_list_type)type;
    if (file == NULL || *file == '\0') {
        ola_cfg_errf(err, fn ? fn : def, "lists: '%s': file is required", name);
        goto fail;
    }
    if (l->type == OLA_LIST_CIDR && l->icase) {
        ola_cfg_errf(err, ola_cfg_get(def, "ignore_case"),
                     "ignore_case: only for type string");
        goto fail;
    }
    snprintf(where, sizeof(where), "%s:%d", ola_cfg_file(def), ola_cfg_line(def));
    l->name = strdup(name);
    l->where = strdup(where);
    if (l->name == NULL || l->where == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (ola_list_read(fn, file, path, sizeof(path), &data, &len, err) != 0)
        goto fail;
    if (memchr(data, '\0', len) != NULL) {
        ola_err_set(err, EINVAL, "%s:%d: list '%s': a NUL byte (not a text file)", path,
                    1, name);
        goto fail;
    }
    if (ola_list_parse(l, path, data, err) != 0)
        goto fail;
    if (l->type == OLA_LIST_STRING && l->n_strs > 0) {
        qsort(l->strs, l->n_strs, sizeof(*l->strs),
              l->icase ? ola_str_casecmp : ola_str_cmp);
        for (i = 1, out = 0; i < l->n_strs; i++) {
            if ((l->icase ? ola_str_casecmp : ola_str_cmp)(&l->strs[out], &l->strs[i]) ==
                0)
                free(l->strs[i]);
            else
                l->strs[++out] = l->strs[i];
        }
        l->n_strs = out + 1;
    }
    l->n_v4 = ola_ranges_merge(l->v4, l->n_v4);
    l->n_v6 = ola_ranges_merge(l->v6, l->n_v6);
    free(data);
    return l;
fail:
    free(data);
    ola_list_destroy(l);
    return NULL;
}
