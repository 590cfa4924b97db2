/*
 * page.h - parsing a page of OneLogin events without losing their bytes.
 */
#ifndef OLA_PAGE_H
#define OLA_PAGE_H

#include <stddef.h>

#include "agent/core/err.h"
#include "agent/core/event.h"

#define OLA_PAGE_MAX_MALFORMED 64

struct ola_page_malformed {
    const char *raw; /* the element's bytes, borrowed from the batch body */
    size_t len;
    char reason[128];
};

struct ola_page {
    char *after_cursor; /* owned; NULL on the last page */
    size_t n_elements;  /* elements of data, counted to the end (also past a limit) */
    size_t n_events;    /* events appended to the batch */
    size_t n_malformed; /* elements that are not usable events */
    struct ola_page_malformed malformed[OLA_PAGE_MAX_MALFORMED]; /* the first ones */
    struct ola_page_malformed *more; /* owned: the ones after the first
                                        OLA_PAGE_MAX_MALFORMED, so none is lost */
    size_t more_cap;
};

/*
 * Parses an events page. body: stolen (the batch owns it, also on failure;
 * it is modified in place: whitespace outside strings is removed from each
 * event so that every record is one line). Appends one event per usable
 * element of `data`, with raw pointing at its bytes in the body. An element
 * that is not an object with an integer `id` and an ISO-8601 `created_at` is
 * not appended but listed (ola_page_malformed_at). Returns 0, or -1 when the
 * envelope itself is unusable (not JSON, no data array, an error status),
 * with the reason in err. pg must be freed with ola_page_free (also on -1).
 */
int ola_page_parse(struct ola_batch *b, char *body, size_t len, struct ola_page *pg,
                   struct ola_err *err);
/*
 * ola_page_parse held to the `limit` the page was asked with: when data has
 * more than max_events elements (max_events > 0) the page is refused, -1
 * with err->code E2BIG and pg->n_elements the count; the elements past the
 * limit are only counted (a linear scan), never parsed. A stop request
 * (SIGTERM) seen meanwhile, checked every OLA_PAGE_STOP_EVERY elements, ends
 * the parse: -1 with err->code ECANCELED. Either way the batch holds events
 * that must not be delivered: the caller resets it.
 */
#define OLA_PAGE_STOP_EVERY 256
int ola_page_parse_max(struct ola_batch *b, char *body, size_t len, size_t max_events,
                       struct ola_page *pg, struct ola_err *err);
/*
 * Drops from b the events whose id is in delivered (borrowed; NULL: none) or
 * that repeat an id met earlier in the page, keeping the order of the rest.
 * Linear in b->n: the page's ids go through scratch (a caller-owned hash
 * set, emptied before and after use). Returns the number dropped, or -1 out
 * of memory (b untouched).
 */
struct ola_seen;
long ola_page_dedupe(struct ola_batch *b, const struct ola_seen *delivered,
                     struct ola_seen *scratch);
/*
 * The envelope of an events page without its data array: a new object with
 * the other top-level members (status, pagination, message, ...), each
 * parsed; the events themselves are only stepped over, not parsed. Returns
 * a new reference, or NULL when body is not one well-formed object. body:
 * borrowed. Lets the API client judge an answer's status without parsing
 * the page twice.
 */
json_t *ola_page_envelope(const char *body, size_t len);
void ola_page_free(struct ola_page *pg);
/* Malformed element i, 0 <= i < pg->n_malformed (borrowed from pg). */
const struct ola_page_malformed *ola_page_malformed_at(const struct ola_page *pg,
                                                       size_t i);

#endif
