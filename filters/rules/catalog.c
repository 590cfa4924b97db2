/*
 * catalog.c - the event-type catalog: id -> name and categories.
 *
 * Two parts. The document's types (the compiled-in config/event-types.json,
 * or a `catalog:` file) are read once into a base: a sorted array of {id,
 * name, category bits} looked up by binary search (539 ids: at most ten
 * comparisons), immutable from then on and shared, reference-counted, by
 * every tenant's catalog made from it (the built-in one is made once per
 * process: 539 types and their names are 30 KB a tenant when copied).
 * Categories are bits over the document's category names, so rules test
 * "categories: [mfa]" with one AND; the names' order per type is kept to
 * build the JSON array from.
 *
 * Each catalog then keeps, sorted by id, only the types its tenant met: the
 * JSON array of a type's categories and its olagent.event_type object, built
 * on first use and shared (read-only, reference-counted) by every event of
 * that type, so classification allocates nothing after the first event of a
 * type; and the types learned from the API (GET /api/1/events/types), new
 * ones or new names of the document's, which are the tenant's own. When the
 * tenant goes idle (ola_catalog_trim) the values no event holds any more are
 * dropped, to be built again on the next use, and the entries holding
 * nothing else go: at rest a catalog holds no JSON, which would otherwise
 * sit among the pages a backfill freed and keep them resident. Categories
 * are the project's own and are never learned.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/arena.h"
#include "agent/core/fileio.h"
#include "agent/core/vec.h"
#include "filters/rules/builtin.h"
#include "filters/rules/catalog.h"

#define OLA_CAT_SEQ 8 /* categories of one type kept as bits in order */

/* A type as the document gives it. */
struct ola_cat_type {
    long long id;
    char *name;
    uint32_t mask;
    uint8_t seq[OLA_CAT_SEQ]; /* the categories' bits, in the document's order */
    uint8_t n_seq;
};

/* The document's types, shared read-only by the catalogs made from it. */
struct ola_cat_base {
    atomic_size_t refs;
    struct ola_cat_type *v; /* sorted by id */
    size_t n, cap;
    char *cat_names[OLA_CAT_MAX]; /* bit i: cat_names[i] */
    size_t n_cats;
};

/* A type this catalog met or learned. */
struct ola_cat_entry {
    long long id;
    const struct ola_cat_type *t; /* the document's; NULL: learned, not in it */
    char *name;                   /* learned (owned); NULL: t's */
    json_t *cats; /* array of strings, owned; built on first use (ola_cat_cats) */
    json_t *et;   /* {id, name, categories}, built on first use, shared read-only */
};

struct ola_catalog {
    struct ola_cat_base *base; /* a reference */
    struct ola_cat_entry *v;   /* sorted by id */
    size_t n, cap;
    size_t n_new; /* learned ids the document does not have */
};

static int ola_cat_cmp(const void *a, const void *b)
{
    const struct ola_cat_type *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

/*
 * The place of id in v (n elements of stride bytes, each starting with its
 * long long id, sorted by it): its index, or where it would go (*found false).
 * The document's types and a catalog's entries are both searched with it.
 */
static size_t ola_id_pos(const void *v, size_t n, size_t stride, long long id,
                         bool *found)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        long long at;

        memcpy(&at, (const char *)v + mid * stride, sizeof(at));
        if (at == id) {
            *found = true;
            return mid;
        }
        if (at < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

_Static_assert(offsetof(struct ola_cat_type, id) == 0, "ola_id_pos reads the id first");
_Static_assert(offsetof(struct ola_cat_entry, id) == 0, "ola_id_pos reads the id first");

static const struct ola_cat_type *ola_base_find(const struct ola_cat_base *b,
                                                long long id)
{
    bool found;
    size_t pos = ola_id_pos(b->v, b->n, sizeof(*b->v), id, &found);

    return found ? &b->v[pos] : NULL;
}

/* The place of id among c's entries: its index, or where it would go (*found false). */
static size_t ola_cat_pos(const struct ola_catalog *c, long long id, bool *found)
{
    return ola_id_pos(c->v, c->n, sizeof(*c->v), id, found);
}

static struct ola_cat_entry *ola_cat_find(const struct ola_catalog *c, long long id)
{
    bool found;
    size_t pos;

    if (c == NULL)
        return NULL;
    pos = ola_cat_pos(c, id, &found);
    return found ? &c->v[pos] : NULL;
}

/*
 * c's entry for id, made when the document has the type (or learn is true);
 * NULL when neither c nor the document knows id, or on ENOMEM.
 */
static struct ola_cat_entry *ola_cat_entry(struct ola_catalog *c, long long id,
                                           bool learn)
{
    const struct ola_cat_type *t;
    struct ola_cat_entry *e;
    bool found;
    size_t pos;

    if (c == NULL)
        return NULL;
    pos = ola_cat_pos(c, id, &found);
    if (found)
        return &c->v[pos];
    t = ola_base_find(c->base, id);
    if (t == NULL && !learn)
        return NULL;
    if (OLA_VEC_GROW_FROM(c->v, c->cap, c->n + 1, 16) != 0)
        return NULL;
    memmove(&c->v[pos + 1], &c->v[pos], (c->n - pos) * sizeof(*c->v));
    e = &c->v[pos];
    memset(e, 0, sizeof(*e));
    e->id = id;
    e->t = t;
    c->n++;
    if (t == NULL)
        c->n_new++;
    return e;
}

static const char *ola_entry_name(const struct ola_cat_entry *e)
{
    return e->name != NULL ? e->name : e->t->name;
}

int ola_catalog_category_bit(const struct ola_catalog *c, const char *name)
{
    size_t i;

    if (c == NULL)
        return -1;
    for (i = 0; i < c->base->n_cats; i++)
        if (strcmp(c->base->cat_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Returns the bit of name, adding it; -1 when the table is full or ENOMEM. */
static int ola_cat_bit_add(struct ola_cat_base *b, const char *name)
{
    size_t i;

    for (i = 0; i < b->n_cats; i++)
        if (strcmp(b->cat_names[i], name) == 0)
            return (int)i;
    if (b->n_cats >= OLA_CAT_MAX)
        return -1;
    b->cat_names[b->n_cats] = strdup(name);
    if (b->cat_names[b->n_cats] == NULL)
        return -1;
    return (int)b->n_cats++;
}

/*
 * Fills b from root (a JSON array of {id, name, categories}); `what` names
 * the source in errors. Returns 0 / -1.
 */
static int ola_cat_fill(struct ola_cat_base *b, const json_t *root, const char *what,
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
        struct ola_cat_type *t;
        json_t *cat;
        size_t k;

        if (!json_is_integer(id) || !json_is_string(name) ||
            (cats != NULL && !json_is_array(cats)))
            return ola_err_set(err, EINVAL,
                               "%s: entry %zu: needs integer id, string name, "
                               "array categories",
                               what, i);
        if (OLA_VEC_GROW_FROM(b->v, b->cap, b->n + 1, 64) != 0)
            return ola_err_set(err, ENOMEM, "out of memory");
        t = &b->v[b->n];
        memset(t, 0, sizeof(*t));
        t->id = json_integer_value(id);
        t->name = strdup(json_string_value(name));
        if (t->name == NULL)
            return ola_err_set(err, ENOMEM, "out of memory");
        b->n++;
        json_array_foreach(cats, k, cat)
        {
            int bit;

            if (!json_is_string(cat))
                return ola_err_set(err, EINVAL,
                                   "%s: type %lld: categories must be strings", what,
                                   t->id);
            bit = ola_cat_bit_add(b, json_string_value(cat));
            if (bit < 0)
                return ola_err_set(err, EINVAL, "%s: more than %d categories", what,
                                   OLA_CAT_MAX);
            if ((t->mask & (UINT32_C(1) << bit)) != 0)
                continue;
            t->mask |= UINT32_C(1) << bit;
            if (t->n_seq == OLA_CAT_SEQ)
                return ola_err_set(err, EINVAL, "%s: type %lld: more than %d categories",
                                   what, t->id, OLA_CAT_SEQ);
            t->seq[t->n_seq++] = (uint8_t)bit;
        }
    }
    if (b->n > 1) /* an empty catalog has no array: qsort wants one */
        qsort(b->v, b->n, sizeof(*b->v), ola_cat_cmp);
    for (i = 1; i < b->n; i++)
        if (b->v[i].id == b->v[i - 1].id)
            return ola_err_set(err, EINVAL, "%s: duplicate event type id %lld", what,
                               b->v[i].id);
    return 0;
}

static void ola_base_unref(struct ola_cat_base *b)
{
    size_t i;

    if (b == NULL || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    for (i = 0; i < b->n; i++)
        free(b->v[i].name);
    for (i = 0; i < b->n_cats; i++)
        free(b->cat_names[i]);
    free(b->v);
    free(b);
}

/*
 * A base from a parsed document. root: stolen; NULL when the parse failed
 * (err already says why). Returns a new base (one reference) or NULL with err.
 */
static struct ola_cat_base *ola_base_from(json_t *root, const char *what,
                                          struct ola_err *err)
{
    struct ola_cat_base *b = NULL;

    if (root == NULL)
        goto fail;
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    atomic_init(&b->refs, 1);
    if (ola_cat_fill(b, root, what, err) != 0)
        goto fail;
    if (b->n > 0 && b->n < b->cap) { /* read-only from now on: no room for growth */
        struct ola_cat_type *fit = realloc(b->v, b->n * sizeof(*b->v));

        if (fit != NULL) {
            b->v = fit;
            b->cap = b->n;
        }
    }
    json_decref(root);
    return b;
fail:
    json_decref(root);
    ola_base_unref(b);
    return NULL;
}

/* A catalog over b. b: stolen (a reference), NULL when it failed (err says why). */
static struct ola_catalog *ola_cat_over(struct ola_cat_base *b, struct ola_err *err)
{
    struct ola_catalog *c;

    if (b == NULL)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        ola_err_set(err, ENOMEM, "out of memory");
        ola_base_unref(b);
        return NULL;
    }
    c->base = b;
    return c;
}

/* A document parsed outside any batch arena: its base outlives the batch. */
static json_t *ola_cat_parse(const char *data, size_t len, json_error_t *jerr)
{
    struct ola_arena *prev = ola_arena_enter(NULL);
    json_t *root = json_loadb(data, len, 0, jerr);

    ola_arena_leave(prev);
    return root;
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
        return NULL;
    }
    root = ola_cat_parse(data, len, &jerr);
    free(data);
    if (root == NULL)
        ola_err_set(err, EINVAL, "event-type catalog %s:%d: %s", path, jerr.line,
                    jerr.text);
    return ola_cat_over(ola_base_from(root, path, err), err);
}

/* The compiled-in document's base, made once per process, kept to the end. */
static pthread_once_t ola_builtin_once = PTHREAD_ONCE_INIT;
static struct ola_cat_base *ola_builtin_base;
static struct ola_err ola_builtin_err;

static void ola_builtin_make(void)
{
    json_error_t jerr;
    json_t *root =
        ola_cat_parse(ola_builtin_event_types, ola_builtin_event_types_len, &jerr);

    if (root == NULL)
        ola_err_set(&ola_builtin_err, EINVAL, "%s:%d: %s", OLA_BUILTIN_CATALOG_NAME,
                    jerr.line, jerr.text);
    ola_builtin_base = ola_base_from(root, OLA_BUILTIN_CATALOG_NAME, &ola_builtin_err);
}

struct ola_catalog *ola_catalog_builtin(struct ola_err *err)
{
    if (pthread_once(&ola_builtin_once, ola_builtin_make) != 0) {
        ola_err_set(err, EAGAIN, "%s: could not be read", OLA_BUILTIN_CATALOG_NAME);
        return NULL;
    }
    if (ola_builtin_base == NULL) {
        if (err != NULL)
            *err = ola_builtin_err;
        return NULL;
    }
    atomic_fetch_add(&ola_builtin_base->refs, 1);
    return ola_cat_over(ola_builtin_base, err);
}

static void ola_entry_clear(struct ola_cat_entry *e)
{
    free(e->name);
    json_decref(e->cats);
    json_decref(e->et);
}

void ola_catalog_destroy(struct ola_catalog *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++)
        ola_entry_clear(&c->v[i]);
    free(c->v);
    ola_base_unref(c->base);
    free(c);
}

const char *ola_catalog_name(const struct ola_catalog *c, long long id)
{
    const struct ola_cat_entry *e = ola_cat_find(c, id);
    const struct ola_cat_type *t;

    if (e != NULL)
        return ola_entry_name(e);
    t = c != NULL ? ola_base_find(c->base, id) : NULL;
    return t != NULL ? t->name : NULL;
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
    for (i = 0; a != NULL && e->t != NULL && i < e->t->n_seq; i++) {
        if (json_array_append_new(a, json_string(c->base->cat_names[e->t->seq[i]])) !=
            0) {
            json_decref(a);
            a = NULL;
        }
    }
    ola_arena_leave(prev);
    e->cats = a;
    return a;
}

const json_t *ola_catalog_categories(struct ola_catalog *c, long long id)
{
    struct ola_cat_entry *e = ola_cat_entry(c, id, false);

    return e ? ola_cat_cats(c, e) : NULL;
}

bool ola_catalog_lookup(struct ola_catalog *c, long long id, const char **name,
                        const json_t **cats, uint32_t *mask)
{
    struct ola_cat_entry *e = ola_cat_entry(c, id, false);

    if (e == NULL)
        return false;
    *name = ola_entry_name(e);
    *cats = ola_cat_cats(c, e);
    *mask = e->t != NULL ? e->t->mask : 0;
    return true;
}

bool ola_catalog_id(const struct ola_catalog *c, const char *name, long long *id)
{
    size_t i;

    if (c == NULL)
        return false;
    for (i = 0; i < c->base->n; i++) {
        const struct ola_cat_type *t = &c->base->v[i];
        const struct ola_cat_entry *e = ola_cat_find(c, t->id);

        if (strcmp(e != NULL ? ola_entry_name(e) : t->name, name) == 0) {
            *id = t->id;
            return true;
        }
    }
    for (i = 0; i < c->n; i++) { /* learned types the document lacks */
        if (c->v[i].t == NULL && strcmp(c->v[i].name, name) == 0) {
            *id = c->v[i].id;
            return true;
        }
    }
    return false;
}

size_t ola_catalog_size(const struct ola_catalog *c)
{
    return c ? c->base->n + c->n_new : 0;
}

int ola_catalog_learn(struct ola_catalog *c, long long id, const char *name)
{
    const char *now = ola_catalog_name(c, id);
    struct ola_cat_entry *e;
    char *copy;

    if (c == NULL || name == NULL)
        return -1;
    if (now != NULL && strcmp(now, name) == 0)
        return 0;
    copy = strdup(name);
    e = copy != NULL ? ola_cat_entry(c, id, true) : NULL;
    if (e == NULL) {
        free(copy);
        return -1;
    }
    /* a new type has no categories: learned types have none */
    free(e->name);
    e->name = copy;
    json_decref(e->et); /* events holding the old one keep it */
    e->et = NULL;
    return 0;
}

json_t *ola_catalog_event_type(struct ola_catalog *c, long long id, uint32_t *mask)
{
    struct ola_cat_entry *e = ola_cat_entry(c, id, false);

    if (e == NULL)
        return NULL;
    if (e->et == NULL && ola_cat_cats(c, e) != NULL) {
        struct ola_arena *prev = ola_arena_enter(NULL); /* kept past the batch */

        e->et = json_pack("{s:I, s:s, s:O}", "id", (json_int_t)e->id, "name",
                          ola_entry_name(e), "categories", e->cats);
        ola_arena_leave(prev);
    }
    *mask = e->t != NULL ? e->t->mask : 0;
    return e->et;
}

void ola_catalog_trim(struct ola_catalog *c)
{
    size_t i, kept = 0;

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
        if (e->name == NULL && e->et == NULL && e->cats == NULL)
            continue; /* nothing of its own: the document has the rest */
        c->v[kept++] = *e;
    }
    if (c == NULL)
        return;
    c->n = kept;
    if (kept == 0) {
        free(c->v);
        c->v = NULL;
        c->cap = 0;
    }
}
