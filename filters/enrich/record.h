/*
 * record.h - the enricher's compact records: a cached user or role without
 * a Jansson tree, and the per-enricher table of strings they share.
 *
 * Not for use outside filters/enrich (and its unit tests): enrich.h is the
 * interface. @locality one thread: the enricher's.
 */
#ifndef OLA_ENRICH_RECORD_H
#define OLA_ENRICH_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---- shared strings ----------------------------------------------------------- */

/*
 * A refcounted string, NUL-terminated, possibly with NULs inside (len counts).
 * One of a table lives in the table's pages, at its number; one of its own
 * (idx 0) was malloc'd.
 */
struct ola_istr {
    uint32_t refs;
    uint32_t len;
    uint16_t idx; /* its number in its table (1..OLA_INTERN_MAX); 0: in none */
    char s[];
};

#define OLA_INTERN_SLOTS 1024 /* power of two */
#define OLA_INTERN_MAX   512  /* strings kept at once */
#define OLA_INTERN_LEN   64   /* longer strings are not kept in the table */
/* A table string's place (the longest kept), the places a page holds, the pages */
#define OLA_ISTR_PLACE    80
#define OLA_ISTR_PER_PAGE (4096 / OLA_ISTR_PLACE)
#define OLA_INTERN_PAGES  (OLA_INTERN_MAX / OLA_ISTR_PER_PAGE + 1)

/*
 * The table of strings one enricher shares: open addressing on the text, at
 * most OLA_INTERN_MAX strings, each holding one reference of its own and a
 * number that stays its own while it is in the table (a record's code names
 * it by that number: 2 bytes, not a pointer's 8). A string no record holds
 * any more (only the table's reference left) goes at the next sweep, and its
 * number is free again. The strings live in fixed places, number n at place
 * n of pages mapped apart from the heap (each when a number in it is first
 * used), lowest numbers first: they last for hours, and malloc'd one by one
 * among a backfill's pages each held a heap page that the pages' churn had
 * otherwise left free. Zeroed memory is an empty table.
 */
struct ola_intern {
    struct ola_istr **slot;                /* OLA_INTERN_SLOTS, on first use */
    unsigned char *page[OLA_INTERN_PAGES]; /* the places; [0][0] unused */
    size_t n;
    size_t sweeps; /* counted, for tests */
};

/* String number num of t, or NULL (no such number, or free). */
struct ola_istr *ola_intern_num(const struct ola_intern *t, unsigned num);

/*
 * A new reference to a string equal to s[0..len): the table's when it holds
 * one (or takes this one: short, and room left after a sweep), else a string
 * of its own. NULL on ENOMEM.
 */
struct ola_istr *ola_intern_get(struct ola_intern *t, const char *s, size_t len);
/* Drops the strings nobody but the table holds. */
void ola_intern_sweep(struct ola_intern *t);
/*
 * Drops the table's references and the table; after every code and value
 * holding its strings let them go. Should one still be held, the pages of
 * strings are left mapped (a leak, not a dangling pointer).
 */
void ola_intern_free(struct ola_intern *t);

static inline struct ola_istr *ola_istr_ref(struct ola_istr *s)
{
    s->refs++;
    return s;
}

/* NULL is a no-op. */
void ola_istr_unref(struct ola_istr *s);

/* ---- user facts ------------------------------------------------------------------ */

/*
 * The members of olagent.user before "roles", in their order: what
 * ola_enrich_user_facts builds.
 */
#define OLA_UREC_FIELDS 15
extern const char *const ola_urec_keys[OLA_UREC_FIELDS];

/*
 * Encodes facts (an object with exactly ola_urec_keys, in that order, each
 * value any JSON) into out: a byte code that gives back an equal tree (same
 * key order, same types, same numbers and bytes). status_name and state_name
 * that status and state give are a tag alone; department, title, other
 * names and the keys of nested objects go through t (one reference each,
 * named in the code by their number in t, or by a pointer when t is full).
 * out: cleared first, then appended to; on failure the references taken are
 * dropped again.
 * Returns 0, or -1 (facts of another shape, ENOMEM).
 */
struct ola_buf;
int ola_urec_encode(struct ola_intern *t, json_t *facts, struct ola_buf *out);

/* A new object from code[0..len) (ola_urec_encode's with t), or NULL on ENOMEM. */
json_t *ola_urec_decode(const struct ola_intern *t, const unsigned char *code,
                        size_t len);

/* Drops the string references in code[0..len) (encoded with t). */
void ola_urec_release(const struct ola_intern *t, const unsigned char *code, size_t len);

#endif
