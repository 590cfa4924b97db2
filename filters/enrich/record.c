/*
 * record.c - compact user facts and the strings records share.
 *
 * A cached user is not kept as a Jansson tree (about 3 KB: an object, a
 * hash table, a node per member, a string per value) but as a byte code of
 * its facts, a few hundred bytes inside the user's one allocation
 * (enrich_priv.h, struct ola_val). The code is the facts' values in the
 * fixed order of ola_urec_keys (the keys themselves are not stored), each a
 * tag byte and its payload:
 *   null, true, false            the tag alone
 *   integer                      a zigzag varint (ids and codes: 1 to 5 bytes)
 *   real                         8 bytes (double, host order)
 *   string                       varint length, the bytes
 *   instant                      a string that is an instant in OneLogin's own
 *                                form ("2020-04-16T17:46:22.943Z", 24 bytes) and
 *                                reads back byte for byte: its milliseconds as
 *                                a zigzag varint (6 bytes)
 *   shared string                its number in the table (2 bytes), or when
 *                                the table had no room a struct ola_istr
 *                                pointer (8 bytes); one reference either way
 *   derived                      the tag alone: status_name and state_name
 *                                when they are what status and state give
 *                                (ola_user_status_name; null when unknown)
 *   email                        the email when it is the username (the tag
 *                                alone), the username, "@" and a domain (the
 *                                domain as a shared string: 3 bytes, not the
 *                                whole address), or another local part and
 *                                a shared domain (its length, its bytes, the
 *                                domain); only with the domain in the table
 *   array                        varint count, the items
 *   object                       varint count, each a key (string or shared
 *                                string) and a value
 * Numbers are kept as numbers and strings as their bytes, so the tree built
 * back dumps to the same text as the answer's. Strings many users share
 * (department, title, status and state names, the keys of custom
 * attributes, role names) are kept once per enricher: a small open-addressing
 * table of refcounted strings, bounded (OLA_INTERN_MAX); a string the table
 * has no room for is a string of its own, still refcounted. Unaligned
 * payloads are read and written with memcpy.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/core/buf.h"
#include "agent/core/slab.h"
#include "agent/core/timeutil.h"
#include "filters/enrich/enrich.h"
#include "filters/enrich/record.h"

/* ---- shared strings ----------------------------------------------------------- */

/* The table's bytes (8 KB): whole pages apart from the heap, since each sweep
 * makes a new one while a backfill's pages come and go (slab.h). */
#define OLA_INTERN_TABLE (OLA_INTERN_SLOTS * sizeof(struct ola_istr *))
_Static_assert(sizeof(struct ola_istr) + OLA_INTERN_LEN + 1 <= OLA_ISTR_PLACE &&
                   OLA_ISTR_PLACE % _Alignof(struct ola_istr) == 0,
               "a place holds the longest string the table keeps");

void ola_istr_unref(struct ola_istr *s)
{
    /* one of a table's goes only at a sweep: refs 0 frees its place */
    if (s != NULL && --s->refs == 0 && s->idx == 0)
        free(s);
}

/* Number num's place, or NULL when its page was never needed. */
static struct ola_istr *ola_intern_place(const struct ola_intern *t, size_t num)
{
    unsigned char *pg = t->page[num / OLA_ISTR_PER_PAGE];

    if (pg == NULL)
        return NULL;
    return (struct ola_istr *)(void *)(pg + num % OLA_ISTR_PER_PAGE * OLA_ISTR_PLACE);
}

struct ola_istr *ola_intern_num(const struct ola_intern *t, unsigned num)
{
    struct ola_istr *x;

    if (num < 1 || num > OLA_INTERN_MAX)
        return NULL;
    x = ola_intern_place(t, num);
    return x != NULL && x->refs != 0 ? x : NULL;
}

static struct ola_istr *ola_istr_new(const char *s, size_t len)
{
    struct ola_istr *x;

    if (len > UINT32_MAX - 1)
        return NULL;
    x = malloc(sizeof(*x) + len + 1);
    if (x == NULL)
        return NULL;
    x->refs = 1;
    x->len = (uint32_t)len;
    x->idx = 0;
    memcpy(x->s, s, len);
    x->s[len] = '\0';
    return x;
}

static size_t ola_intern_slot(struct ola_istr *const *tab, const char *s, size_t len)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    size_t i, k;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    k = (size_t)h & (OLA_INTERN_SLOTS - 1);
    while (tab[k] != NULL && (tab[k]->len != len || memcmp(tab[k]->s, s, len) != 0))
        k = (k + 1) & (OLA_INTERN_SLOTS - 1);
    return k;
}

void ola_intern_sweep(struct ola_intern *t)
{
    struct ola_istr **nt;
    size_t i;

    if (t->slot == NULL)
        return;
    nt = ola_pages_alloc(OLA_INTERN_TABLE);
    if (nt == NULL)
        return;
    t->sweeps++;
    for (i = 0; i < OLA_INTERN_SLOTS; i++) {
        struct ola_istr *x = t->slot[i];

        if (x == NULL)
            continue;
        if (x->refs == 1) {
            ola_istr_unref(x); /* its place and number are free again */
            t->n--;
            continue;
        }
        nt[ola_intern_slot(nt, x->s, x->len)] = x;
    }
    ola_pages_free(t->slot, OLA_INTERN_TABLE);
    t->slot = nt;
}

struct ola_istr *ola_intern_get(struct ola_intern *t, const char *s, size_t len)
{
    unsigned char **pg;
    struct ola_istr *x;
    size_t k, num;

    if (len > OLA_INTERN_LEN)
        return ola_istr_new(s, len);
    if (t->slot == NULL && (t->slot = ola_pages_alloc(OLA_INTERN_TABLE)) == NULL)
        return ola_istr_new(s, len);
    k = ola_intern_slot(t->slot, s, len);
    if (t->slot[k] != NULL)
        return ola_istr_ref(t->slot[k]);
    if (t->n >= OLA_INTERN_MAX) {
        ola_intern_sweep(t);
        if (t->n >= OLA_INTERN_MAX)
            return ola_istr_new(s, len); /* many distinct values: not worth sharing */
        k = ola_intern_slot(t->slot, s, len);
    }
    /* at most OLA_INTERN_MAX in the table: a number is free; the lowest keeps
     * the strings on the fewest pages */
    for (num = 1; num < OLA_INTERN_MAX; num++)
        if ((x = ola_intern_place(t, num)) == NULL || x->refs == 0)
            break;
    pg = &t->page[num / OLA_ISTR_PER_PAGE];
    if (*pg == NULL && (*pg = ola_pages_alloc(4096)) == NULL)
        return ola_istr_new(s, len);
    x = ola_intern_place(t, num);
    x->refs = 1;
    x->len = (uint32_t)len;
    x->idx = (uint16_t)num;
    memcpy(x->s, s, len);
    x->s[len] = '\0';
    t->slot[k] = ola_istr_ref(x);
    t->n++;
    return x;
}

void ola_intern_free(struct ola_intern *t)
{
    bool held = false;
    size_t i;

    for (i = 0; t->slot != NULL && i < OLA_INTERN_SLOTS; i++) {
        held = held || (t->slot[i] != NULL && t->slot[i]->refs > 1);
        ola_istr_unref(t->slot[i]);
    }
    ola_pages_free(t->slot, OLA_INTERN_TABLE);
    for (i = 0; i < OLA_INTERN_PAGES; i++) {
        if (!held)
            ola_pages_free(t->page[i], 4096);
        t->page[i] = NULL;
    }
    t->slot = NULL;
    t->n = 0;
}

/* ---- the byte code ------------------------------------------------------------ */

enum ola_urec_tag {
    OLA_T_NULL = 0,
    OLA_T_TRUE,
    OLA_T_FALSE,
    OLA_T_INT,
    OLA_T_REAL,
    OLA_T_STR,
    OLA_T_ISTR,
    OLA_T_ARR,
    OLA_T_OBJ,
    OLA_T_TIME,
    OLA_T_DERIVED,
    OLA_T_INUM,       /* a shared string by its number */
    OLA_T_EMAIL_SAME, /* the email is the username */
    OLA_T_EMAIL_USER, /* the username, "@", a shared domain */
    OLA_T_EMAIL,      /* a local part, "@", a shared domain */
};

/* The email's field (it follows the username's, which its short forms read),
 * and the longest address kept in one (RFC 5321's path is 256 bytes). */
#define OLA_UREC_EMAIL     2
#define OLA_UREC_EMAIL_MAX 320

#define OLA_UREC_ISO_LEN 24 /* "2020-04-16T17:46:22.943Z" */

const char *const ola_urec_keys[OLA_UREC_FIELDS] = {
    "id",     "username",        "email",        "firstname",  "lastname",
    "status", "status_name",     "state",        "state_name", "department",
    "title",  "manager_user_id", "locked_until", "last_login", "custom_attributes",
};

/* The fields whose strings are shared: few distinct values across users. */
static bool ola_urec_shared_field(size_t i)
{
    const char *k = ola_urec_keys[i];

    return strcmp(k, "status_name") == 0 || strcmp(k, "state_name") == 0 ||
           strcmp(k, "department") == 0 || strcmp(k, "title") == 0;
}

static int ola_put_tag(struct ola_buf *b, enum ola_urec_tag tag)
{
    return ola_buf_putc(b, (char)tag);
}

static int ola_put_varint(struct ola_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;

    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            tmp[n] |= 0x80;
        n++;
    } while (v != 0);
    return ola_buf_append(b, tmp, n);
}

static int ola_put_zigzag(struct ola_buf *b, int64_t v)
{
    return ola_put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* s[0..len) as OneLogin writes instants, read back to the same bytes: *ms. */
static bool ola_is_instant(const char *s, size_t len, int64_t *ms)
{
    char back[OLA_ISO_MAX];

    return len == OLA_UREC_ISO_LEN && s[len - 1] == 'Z' &&
           ola_time_parse_iso_n(s, len, ms) == 0 &&
           ola_time_format_iso(*ms, back, sizeof(back)) == 0 &&
           memcmp(back, s, len) == 0 && back[len] == '\0';
}

/* A table string's number (2 bytes, low first), as a code names it. */
static int ola_put_num(struct ola_buf *b, const struct ola_istr *x)
{
    unsigned char num[2] = {(unsigned char)(x->idx & 0xff), (unsigned char)(x->idx >> 8)};

    return ola_buf_append(b, num, 2);
}

/* A string: shared through t when shared, else inline. Returns 0 / -1. */
static int ola_put_str(struct ola_intern *t, struct ola_buf *b, const char *s, size_t len,
                       bool shared)
{
    struct ola_istr *x;
    int64_t ms;

    if (shared) {
        x = ola_intern_get(t, s, len);
        if (x == NULL)
            return -1;
        if (x->idx != 0) {
            if (ola_put_tag(b, OLA_T_INUM) != 0 || ola_put_num(b, x) != 0) {
                ola_istr_unref(x);
                return -1;
            }
            return 0;
        }
        if (ola_put_tag(b, OLA_T_ISTR) != 0 || ola_buf_append(b, &x, sizeof(x)) != 0) {
            ola_istr_unref(x);
            return -1;
        }
        return 0;
    }
    if (ola_is_instant(s, len, &ms))
        return ola_put_tag(b, OLA_T_TIME) != 0 || ola_put_zigzag(b, ms) != 0 ? -1 : 0;
    if (ola_put_tag(b, OLA_T_STR) != 0 || ola_put_varint(b, len) != 0 ||
        ola_buf_append(b, s, len) != 0)
        return -1;
    return 0;
}

static int ola_put_value(struct ola_intern *t, struct ola_buf *b, json_t *v, bool shared)
{
    const char *key;
    size_t key_len, i;
    json_t *x;
    json_int_t n;
    double d;

    switch (json_typeof(v)) {
    case JSON_NULL:
        return ola_put_tag(b, OLA_T_NULL);
    case JSON_TRUE:
        return ola_put_tag(b, OLA_T_TRUE);
    case JSON_FALSE:
        return ola_put_tag(b, OLA_T_FALSE);
    case JSON_INTEGER:
        n = json_integer_value(v);
        return ola_put_tag(b, OLA_T_INT) != 0 || ola_put_zigzag(b, n) != 0 ? -1 : 0;
    case JSON_REAL:
        d = json_real_value(v);
        return ola_put_tag(b, OLA_T_REAL) != 0 || ola_buf_append(b, &d, sizeof(d)) != 0
                   ? -1
                   : 0;
    case JSON_STRING:
        return ola_put_str(t, b, json_string_value(v), json_string_length(v), shared);
    case JSON_ARRAY:
        if (ola_put_tag(b, OLA_T_ARR) != 0 || ola_put_varint(b, json_array_size(v)) != 0)
            return -1;
        json_array_foreach(v, i, x)
        {
            if (ola_put_value(t, b, x, false) != 0)
                return -1;
        }
        return 0;
    case JSON_OBJECT:
        if (ola_put_tag(b, OLA_T_OBJ) != 0 || ola_put_varint(b, json_object_size(v)) != 0)
            return -1;
        json_object_keylen_foreach(v, key, key_len, x)
        {
            /* keys repeat from user to user: shared */
            if (ola_put_str(t, b, key, key_len, true) != 0 ||
                ola_put_value(t, b, x, false) != 0)
                return -1;
        }
        return 0;
    }
    return -1;
}

/*
 * The email v in one of its short forms after the username u, when one
 * fits (an "@" with a local part before it and a domain after it that the
 * table numbers): 0 written, 1 none fits, -1 ENOMEM.
 */
static int ola_put_email(struct ola_intern *t, struct ola_buf *b, const json_t *u,
                         const json_t *v)
{
    const char *e = json_string_value(v), *at, *un = json_string_value(u);
    size_t len = json_string_length(v), ulen = json_string_length(u), local;
    struct ola_istr *x;
    bool user;

    if (e == NULL || len > OLA_UREC_EMAIL_MAX)
        return 1;
    if (un != NULL && ulen == len && memcmp(un, e, len) == 0)
        return ola_put_tag(b, OLA_T_EMAIL_SAME);
    at = memchr(e, '@', len);
    if (at == NULL || at == e || (size_t)(at - e) + 1 == len ||
        memchr(at + 1, '@', len - (size_t)(at - e) - 1) != NULL)
        return 1;
    local = (size_t)(at - e);
    x = ola_intern_get(t, at + 1, len - local - 1);
    if (x == NULL)
        return -1;
    if (x->idx == 0) { /* a string of its own costs more than the bytes */
        ola_istr_unref(x);
        return 1;
    }
    user = un != NULL && ulen == local && memcmp(un, e, local) == 0;
    if (ola_put_tag(b, user ? OLA_T_EMAIL_USER : OLA_T_EMAIL) != 0 ||
        (!user && (ola_put_varint(b, local) != 0 || ola_buf_append(b, e, local) != 0)) ||
        ola_put_num(b, x) != 0) {
        ola_istr_unref(x);
        return -1;
    }
    return 0;
}

/*
 * The name field i holds when it is derived from field i - 1 (status_name
 * from status, state_name from state): the name, or NULL (null in the facts)
 * when that is no integer or a value without a name. false: not derived.
 */
static bool ola_urec_derived(size_t i, const json_t *from, const char **name)
{
    const char *k = ola_urec_keys[i];
    bool status = strcmp(k, "status_name") == 0;

    if (!status && strcmp(k, "state_name") != 0)
        return false;
    *name = NULL;
    if (json_is_integer(from))
        *name = status ? ola_user_status_name(json_integer_value(from))
                       : ola_user_state_name(json_integer_value(from));
    return true;
}

/* True when v, the value of field i after prev, is the name that field derives. */
static bool ola_urec_is_derived(size_t i, const json_t *prev, const json_t *v)
{
    const char *name;

    if (!ola_urec_derived(i, prev, &name))
        return false;
    return name == NULL ? json_is_null(v)
                        : json_is_string(v) && strcmp(json_string_value(v), name) == 0;
}

int ola_urec_encode(struct ola_intern *t, json_t *facts, struct ola_buf *out)
{
    const char *key;
    json_t *v, *prev = NULL;
    size_t i = 0;
    int rc;

    ola_buf_reset(out);
    if (!json_is_object(facts) || json_object_size(facts) != OLA_UREC_FIELDS)
        return -1;
    json_object_foreach(facts, key, v)
    {
        if (strcmp(key, ola_urec_keys[i]) != 0)
            goto fail;
        if (i > 0 && ola_urec_is_derived(i, prev, v))
            rc = ola_put_tag(out, OLA_T_DERIVED);
        else if (i == OLA_UREC_EMAIL && (rc = ola_put_email(t, out, prev, v)) <= 0)
            ; /* in a short form (or ENOMEM) */
        else
            rc = ola_put_value(t, out, v, ola_urec_shared_field(i));
        if (rc != 0)
            goto fail;
        prev = v;
        i++;
    }
    return 0;
fail:
    ola_urec_release(t, (const unsigned char *)out->data, out->len);
    ola_buf_reset(out);
    return -1;
}

/* ---- reading it back ------------------------------------------------------------ */

struct ola_rd {
    const struct ola_intern *t;
    const unsigned char *p, *end;
};

/*
 * The shared string after a tag (OLA_T_INUM: its number in the table;
 * OLA_T_ISTR: its pointer), r advanced past it; NULL when truncated or the
 * number names none.
 */
static struct ola_istr *ola_get_shared(struct ola_rd *r, unsigned char tag)
{
    struct ola_istr *x;
    unsigned num;

    if (tag == OLA_T_ISTR) {
        if ((size_t)(r->end - r->p) < sizeof(x))
            return NULL;
        memcpy(&x, r->p, sizeof(x));
        r->p += sizeof(x);
        return x;
    }
    if (r->end - r->p < 2)
        return NULL;
    num = (unsigned)r->p[0] | (unsigned)r->p[1] << 8;
    r->p += 2;
    return ola_intern_num(r->t, num);
}

static int ola_get_varint(struct ola_rd *r, uint64_t *v)
{
    unsigned shift = 0;

    *v = 0;
    while (r->p < r->end && shift < 64) {
        unsigned char c = *r->p++;

        *v |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0)
            return 0;
        shift += 7;
    }
    return -1;
}

static int ola_get_zigzag(struct ola_rd *r, int64_t *v)
{
    uint64_t u;

    if (ola_get_varint(r, &u) != 0)
        return -1;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

/* A string at r: its bytes (not NUL-terminated) and length; NULL when truncated. */
static const char *ola_get_str(struct ola_rd *r, size_t *len)
{
    struct ola_istr *x;
    unsigned char tag;
    uint64_t n;
    const char *s;

    if (r->p >= r->end)
        return NULL;
    tag = *r->p++;
    switch (tag) {
    case OLA_T_INUM:
    case OLA_T_ISTR:
        x = ola_get_shared(r, tag);
        if (x == NULL)
            return NULL;
        *len = x->len;
        return x->s;
    case OLA_T_STR:
        if (ola_get_varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
            return NULL;
        s = (const char *)r->p;
        r->p += n;
        *len = (size_t)n;
        return s;
    default:
        return NULL;
    }
}

/* The value at r as a new tree; NULL on ENOMEM (or a truncated code). */
static json_t *ola_get_value(struct ola_rd *r)
{
    json_t *v = NULL, *x;
    char iso[OLA_ISO_MAX];
    uint64_t count, i;
    const char *s;
    int64_t n, ms;
    size_t len;
    double d;

    if (r->p >= r->end)
        return NULL;
    switch (*r->p) {
    case OLA_T_NULL:
        r->p++;
        return json_null();
    case OLA_T_TRUE:
        r->p++;
        return json_true();
    case OLA_T_FALSE:
        r->p++;
        return json_false();
    case OLA_T_INT:
        r->p++;
        if (ola_get_zigzag(r, &n) != 0)
            return NULL;
        return json_integer(n);
    case OLA_T_TIME:
        r->p++;
        if (ola_get_zigzag(r, &ms) != 0 || ola_time_format_iso(ms, iso, sizeof(iso)) != 0)
            return NULL;
        return json_string_nocheck(iso);
    case OLA_T_REAL:
        if ((size_t)(r->end - r->p) < 1 + sizeof(d))
            return NULL;
        memcpy(&d, r->p + 1, sizeof(d));
        r->p += 1 + sizeof(d);
        return json_real(d);
    case OLA_T_STR:
    case OLA_T_ISTR:
    case OLA_T_INUM:
        s = ola_get_str(r, &len);
        /* the bytes came out of a Jansson string: valid UTF-8 */
        return s != NULL ? json_stringn_nocheck(s, len) : NULL;
    case OLA_T_ARR:
        r->p++;
        if (ola_get_varint(r, &count) != 0 || (v = json_array()) == NULL)
            return NULL;
        for (i = 0; i < count; i++)
            if (json_array_append_new(v, ola_get_value(r)) != 0)
                goto fail;
        return v;
    case OLA_T_OBJ:
        r->p++;
        if (ola_get_varint(r, &count) != 0 || (v = json_object()) == NULL)
            return NULL;
        for (i = 0; i < count; i++) {
            s = ola_get_str(r, &len);
            x = s != NULL ? ola_get_value(r) : NULL;
            if (x == NULL || json_object_setn_new_nocheck(v, s, len, x) != 0)
                goto fail;
        }
        return v;
    default:
        return NULL;
    }
fail:
    json_decref(v);
    return NULL;
}

/* The email at r in a short form after the username u; NULL when truncated. */
static json_t *ola_get_email(struct ola_rd *r, const json_t *u)
{
    unsigned char tag = *r->p++;
    char addr[OLA_UREC_EMAIL_MAX];
    const char *local = json_string_value(u);
    size_t llen = json_string_length(u);
    struct ola_istr *d;
    uint64_t n;

    if (tag == OLA_T_EMAIL_SAME)
        return local != NULL ? json_stringn_nocheck(local, llen) : NULL;
    if (tag == OLA_T_EMAIL) {
        if (ola_get_varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
            return NULL;
        local = (const char *)r->p;
        llen = (size_t)n;
        r->p += n;
    }
    d = ola_get_shared(r, OLA_T_INUM);
    if (local == NULL || d == NULL || llen + 1 + d->len > sizeof(addr))
        return NULL;
    memcpy(addr, local, llen);
    addr[llen] = '@';
    memcpy(addr + llen + 1, d->s, d->len);
    return json_stringn_nocheck(addr, llen + 1 + d->len);
}

json_t *ola_urec_decode(const struct ola_intern *t, const unsigned char *code, size_t len)
{
    struct ola_rd r = {t, code, code + len};
    json_t *o = json_object(), *v, *prev = NULL;
    size_t i;

    if (o == NULL)
        return NULL;
    for (i = 0; i < OLA_UREC_FIELDS; i++) {
        const char *name;

        if (i > 0 && r.p < r.end && *r.p == OLA_T_DERIVED &&
            ola_urec_derived(i, prev, &name)) {
            r.p++;
            v = name != NULL ? json_string_nocheck(name) : json_null();
        } else if (i == OLA_UREC_EMAIL && r.p < r.end &&
                   (*r.p == OLA_T_EMAIL_SAME || *r.p == OLA_T_EMAIL_USER ||
                    *r.p == OLA_T_EMAIL)) {
            v = ola_get_email(&r, prev);
        } else {
            v = ola_get_value(&r);
        }
        if (v == NULL || json_object_set_new_nocheck(o, ola_urec_keys[i], v) != 0)
            goto fail;
        prev = v;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* Skips the value at r, dropping the string references in it. Returns 0 / -1. */
static int ola_skip_value(struct ola_rd *r)
{
    struct ola_istr *x;
    uint64_t count, i, n;
    unsigned char tag;

    if (r->p >= r->end)
        return -1;
    tag = *r->p++;
    switch (tag) {
    case OLA_T_NULL:
    case OLA_T_TRUE:
    case OLA_T_FALSE:
    case OLA_T_DERIVED:
    case OLA_T_EMAIL_SAME:
        return 0;
    case OLA_T_EMAIL:
    case OLA_T_EMAIL_USER:
        if (tag == OLA_T_EMAIL &&
            (ola_get_varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p)))
            return -1;
        if (tag == OLA_T_EMAIL)
            r->p += n; /* the local part; then the domain */
        x = ola_get_shared(r, OLA_T_INUM);
        if (x == NULL)
            return -1;
        ola_istr_unref(x);
        return 0;
    case OLA_T_INT:
    case OLA_T_TIME:
        return ola_get_varint(r, &n);
    case OLA_T_REAL:
        if ((size_t)(r->end - r->p) < 8)
            return -1;
        r->p += 8;
        return 0;
    case OLA_T_STR:
        if (ola_get_varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
            return -1;
        r->p += n;
        return 0;
    case OLA_T_ISTR:
    case OLA_T_INUM:
        x = ola_get_shared(r, tag);
        if (x == NULL)
            return -1;
        ola_istr_unref(x);
        return 0;
    case OLA_T_ARR:
    case OLA_T_OBJ:
        if (ola_get_varint(r, &count) != 0)
            return -1;
        if (tag == OLA_T_OBJ)
            count *= 2; /* a key and a value each */
        for (i = 0; i < count; i++)
            if (ola_skip_value(r) != 0)
                return -1;
        return 0;
    default:
        return -1;
    }
}

void ola_urec_release(const struct ola_intern *t, const unsigned char *code, size_t len)
{
    struct ola_rd r = {t, code, code + len};

    while (r.p < r.end && ola_skip_value(&r) == 0)
        ;
}
