/*
 * catalog.c - the event-type catalog: id -> name and categories.
 *
 * A sorted array of entries, looked up by binary search (539 ids: at most
 * ten comparisons). Categories are kept twice: as the JSON array that goes
 * into olagent.event_type, and as a bit mask over the catalog's category
 * names, so rules test "categories: [mfa]" with one AND. The JSON array and
 * the olagent.event_type object of a type are built on its first use (the
 * category bits are kept in the catalog's order to build the array from) and
 * then shared (read-only, reference-counted) by every event of that type:
 * classification allocates nothing after the first event of a type, and a
 * catalog holds JSON only for the types its tenant has seen (every tenant
 * has its own catalog: 539 types as JSON arrays cost about 200 KB each).
 * When the tenant goes idle (ola_catalog_trim) the values no event holds
 * any more are dropped, to be built again on the next use: at rest a
 * catalog holds no JSON, which would otherwise sit among the pages a
 * backfill freed and keep them resident. Learning a type
 * from the API inserts it in order or renames it; categories are the
 * project's own and are never learned. The catalog compiled in (builtin.h,
 * from config/event-types.json) is the default; a `catalog:` file replaces it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/arena.h"
#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "filters/rules/builtin.h"
#include "filters/rules/catalog.h"

#define OLA_CAT_SEQ 8 /* categories of one type kept as bits in order */

struct ola_cat_entry {
    long long id;
    char *name;
    json_t *cats; /* array of strings, owned; built on first use (ola_cat_cats) */
    json_t *et;   /* {id, name, categories}, built on first use, shared read-only */
    uint32_t mask;
    uint8_t seq[OLA_CAT_SEQ]; /* the categories' bits, in the catalog's order */
    uint8_t n_seq;
};

struct ola_catalog {
    struct ola_cat_entry *v; /* sorted by id */
    size_t n, cap;
    char *cat_names[OLA_CAT_MAX]; /* bit i: cat_names[i] */
    size_t n_cats;
};

static int ola_cat_cmp(const void *a, const void *b)
{
    const struct ola_cat_entry *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static struct ola_cat_entry *ola_cat_find(const struct ola_catalog *c, long long id)
{
    size_t lo = 0, hi;

    if (c == NULL)
        return NULL;
    hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->v[mid].id == id)
            return &c->v[mid];
        if (c->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int ola_catalog_category_bit(const struct ola_catalog *c, const char *name)
{
    size_t i;

    if (c == NULL)
        return -1;
    for (i = 0; i < c->n_cats; i++)
        if (strcmp(c->cat_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Returns the bit of name, adding it; -1 when the table is full or ENOMEM. */
static int ola_cat_bit_add(struct ola_catalog *c, const char *name)
{
    int bit = ola_catalog_category_bit(c, name);

    if (bit >= 0)
        return bit;
    if (c->n_cats >= OLA_CAT_MAX)
        return -1;
    c->cat_names[c->n_cats] = strdup(name);
    if (c->cat_names[c->n_cats] == NULL)
        return -1;
    return (int)c->n_cats++;
}

/*
 * Fills c from root (a JSON array of {id, name, categories}); `what` names
 * the source in errors. Returns 0 / -1.
 */
static int ola_cat_fill(struct ola_catalog *c, const json_t *root, const char *what,
                        struct ola_err *err)
{
    json_t *item;
    size_t i;

    if (!json_is_array(root))
        return ola_err_set(err, EINVAL, "%s: expected an array of event types", what);
    json_array_foreach(root, i, item)
    {
        json_t *id = json_object_get(item, "id");
        json_t *name = json_object_get(item, "name");
        json_t *cats = json_object_get(item, "categories");
        struct ola_cat_entry *e;
        json_t *cat;
        size_t k;

        if (!json_is_integer(id) || !json_is_string(name) ||
            (cats != NULL && !json_is_array(cats)))
            return ola_err_set(err, EINVAL,
                               "%s: entry %zu: needs integer id, string name, "
                               "array categories",
                               what, i);
        if (OLA_VEC_GROW_FROM(c->v, c->cap, c->n + 1, 64) != 0)
            return ola_err_set(err, ENOMEM, "out of memory");
        e = &c->v[c->n];
        memset(e, 0, sizeof(*e));
        e->id = json_integer_value(id);
        e->name = strdup(json_string_value(name));
        if (e->name == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
        c->n++;
        json_array_foreach(cats, k, cat)
        {
            int bit;

            if (!json_is_string(cat))
                return ola_err_set(err, EINVAL,
                                   "%s: type %lld: categories must be strings", what,
                                   e->id);
            bit = ola_cat_bit_add(c, json_string_value(cat));
            if (bit < 0)
                return ola_err_set(err, EINVAL, "%s: more than %d categories", what,
                                   OLA_CAT_MAX);
            if ((e->mask & (UINT32_C(1) << bit)) != 0)
                continue;
            e->mask |= UINT32_C(1) << bit;
            if (e->n_seq == OLA_CAT_SEQ)
                return ola_err_set(err, EINVAL, "%s: type %lld: more than %d categories",
                                   what, e->id, OLA_CAT_SEQ);
            e->seq[e->n_seq++] = (uint8_t)bit;
        }
    }
    if (c->n > 1) /* an empty catalog has no array: qsort wants one */
        qsort(c->v, c->n, sizeof(*c->v), ola_cat_cmp);
    for (i = 1; i < c->n; i++)
        if (c->v[i].id == c->v[i - 1].id)
            return ola_err_set(err, EINVAL, "%s: duplicate event type id %lld", what,
                               c->v[i].id);
    return 0;
}

/*
 * A catalog from a parsed document. root: stolen; NULL when the parse failed
 * (err already says why). Returns a new catalog or NULL with err.
 */
static struct ola_catalog *ola_cat_from(json_t *root, const char *what,
                                        struct ola_err *err)
{
    struct ola_catalog *c = NULL;

    if (root == NULL)
        goto fail;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (ola_cat_fill(c, root, what, err) != 0)
        goto fail;
    if (c->n > 0 && c->n < c->cap) { /* every tenant has one: no room kept for growth */
        struct ola_cat_entry *fit = realloc(c->v, c->n * sizeof(*c->v));

        if (fit != NULL) {
            c->v = fit;
            c->cap = c->n;
        }
    }
    json_decref(root);
    return c;
fail:
    json_decref(root);
    ola_catalog_destroy(c);
    return NULL;
}

struct ola_catalog *ola_catalog_load(const char *path, struct ola_err *err)
{
    json_error_t jerr;
    json_t *root = NULL;
    char *data = NULL;
    size_t len;

    if (ola_read_file(path, OLA_CATALOG_MAX_BYTES, &data, &len) != 0) {
        if (errno == EFBIG)
            ola_err_set(err, EFBIG, "event-type catalog %s: larger than %zu bytes", path,
                        OLA_CATALOG_MAX_BYTES);
        else /* in the words of Jansson's own file loader, used here before */
            ola_err_set(err, EINVAL,
                        "event-type catalog: unable to open %s: %s "
                        "(set catalog: in the config)",
                        path, strerror(errno));
        return ola_cat_from(NULL, path, err);
    }
    root = json_loadb(data, len, 0, &jerr);
    free(data);
    if (root == NULL)
        ola_err_set(err, EINVAL, "event-type catalog %s:%d: %s", path, jerr.line,
                    jerr.text);
    return ola_cat_from(root, path, err);
}

struct ola_catalog *ola_catalog_builtin(struct ola_err *err)
{
    json_error_t jerr;
    json_t *root =
        json_loadb(ola_builtin_event_types, ola_builtin_event_types_len, 0, &jerr);

    if (root == NULL)
        ola_err_set(err, EINVAL, "%s:%d: %s", OLA_BUILTIN_CATALOG_NAME, jerr.line,
                    jerr.text);
    return ola_cat_from(root, OLA_BUILTIN_CATALOG_NAME, err);
}

void ola_catalog_destroy(struct ola_catalog *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++) {
        free(c->v[i].name);
        json_decref(c->v[i].cats);
        json_decref(c->v[i].et);
    }
    for (i = 0; i < c->n_cats; i++)
        free(c->cat_names[i]);
    free(c->v);
    free(c);
}

const char *ola_catalog_name(const struct ola_catalog *c, long long id)
{
    const struct ola_cat_entry *e = ola_cat_find(c, id);

    return e ? e->name : NULL;
}

/* e's categories as a JSON array, built on first use; NULL on ENOMEM. */
static json_t *ola_cat_cats(const struct ola_catalog *c, struct ola_cat_entry *e)
{
    struct ola_arena *prev;
    json_t *a;
    size_t i;

    if (e->cats != NULL)
        return e->cats;
    prev = ola_arena_enter(NULL); /* kept past the batch: malloc's memory */
    a = json_array();
    for (i = 0; a != NULL && i < e->n_seq; i++) {
        if (json_array_append_new(a, json_string(c->cat_names[e->seq[i]])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    ola_arena_leave(prev);
    e->cats = a;
    return a;
}

const json_t *ola_catalog_categories(const struct ola_catalog *c, long long id)
{
    struct ola_cat_entry *e = ola_cat_find(c, id);

    return e ? ola_cat_cats(c, e) : NULL;
}

bool ola_catalog_lookup(const struct ola_catalog *c, long long id, const char **name,
                        const json_t **cats, uint32_t *mask)
{
    struct ola_cat_entry *e = ola_cat_find(c, id);

    if (e == NULL)
        return false;
    *name = e->name;
    *cats = ola_cat_cats(c, e);
    *mask = e->mask;
    return true;
}

bool ola_catalog_id(const struct ola_catalog *c, const char *name, long long *id)
{
    size_t i;

    if (c == NULL)
        return false;
    for (i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].name, name) == 0) {
            *id = c->v[i].id;
            return true;
        }
    }
    return false;
}

size_t ola_catalog_size(const struct ola_catalog *c)
{
    return c ? c->n : 0;
}

int ola_catalog_learn(struct ola_catalog *c, long long id, const char *name)
{
    struct ola_cat_entry *e = ola_cat_find(c, id);
    char *copy;
    size_t pos;

    if (c == NULL || name == NULL)
        return -1;
    if (e != NULL && strcmp(e->name, name) == 0)
        return 0;
    copy = strdup(name);
    if (copy == NULL)
        return -1;
    if (e != NULL) {
        free(e->name);
        e->name = copy;
        json_decref(e->et); /* events holding the old one keep it */
        e->et = NULL;
        return 0;
    }
    if (OLA_VEC_GROW_FROM(c->v, c->cap, c->n + 1, 64) != 0) {
        free(copy);
        return -1;
    }
    for (pos = c->n; pos > 0 && c->v[pos - 1].id > id; pos--)
        ;
    memmove(&c->v[pos + 1], &c->v[pos], (c->n - pos) * sizeof(*c->v));
    memset(&c->v[pos], 0, sizeof(c->v[pos])); /* no categories: learned types have none */
    c->v[pos].id = id;
    c->v[pos].name = copy;
    c->n++;
    return 0;
}

json_t *ola_catalog_event_type(struct ola_catalog *c, long long id, uint32_t *mask)
{
    struct ola_cat_entry *e = ola_cat_find(c, id);

    if (e == NULL)
        return NULL;
    if (e->et == NULL && ola_cat_cats(c, e) != NULL) {
        struct ola_arena *prev = ola_arena_enter(NULL); /* kept past the batch */

        e->et = json_pack("{s:I, s:s, s:O}", "id", (json_int_t)e->id, "name", e->name,
                          "categories", e->cats);
        ola_arena_leave(prev);
    }
    *mask = e->mask;
    return e->et;
}

void ola_catalog_trim(struct ola_catalog *c)
{
    size_t i;

    for (i = 0; c != NULL && i < c->n; i++) {
        struct ola_cat_entry *e = &c->v[i];

        /* a count of 1 can only fall: nobody else can reach the value to take one */
        if (e->et != NULL && e->et->refcount == 1) {
            json_decref(e->et);
            e->et = NULL;
        }
        if (e->cats != NULL && e->cats->refcount == 1) {
            json_decref(e->cats);
            e->cats = NULL;
        }
    }
}
