/*
 * out_elasticsearch.h - the parts of the elasticsearch output that tests
 * reach without a server: the _bulk body (an action line and a document per
 * record) and the reading of a _bulk answer, item by item. The output
 * itself (out_elasticsearch.c) registers as ola_out_elasticsearch.
 */
#ifndef OLA_OUT_ELASTICSEARCH_H
#define OLA_OUT_ELASTICSEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/core/buf.h"

/* The answer's parts we read: each item's status and error, nothing else. */
#define OLA_ES_FILTER_PATH "filter_path=errors,items.*.status,items.*.error"
/* Longest document id we make ("<tenant>:<event id>", "alert-<32 hex>"). */
#define OLA_ES_ID_MAX 80

/*
 * The _id of a record: the OneLogin event id ("123"), "<tenant>:<id>" for a
 * tenant other than "default" (two OneLogin accounts may share ids), or for
 * an alert (id 0) "alert-" and the first 32 hex digits of SHA-256 over the
 * tenant and its bytes. Returns 0 / -1.
 */
int ola_es_doc_id(const char *tenant, int64_t id, const char *bytes, size_t len,
                  char out[OLA_ES_ID_MAX]);

/*
 * Appends one record of a _bulk body to out: the action line
 * {"create":{"_index":"<index>","_id":"<doc_id>"}}, a newline, the document
 * (one line of JSON) and a newline. index and doc_id hold no character that
 * JSON escapes (the config and ola_es_doc_id see to it). Returns 0 / -1.
 */
int ola_es_bulk_append(struct ola_buf *out, const char *index, const char *doc_id,
                       const char *doc, size_t len);

/* What one item of a _bulk answer says about its record. */
enum ola_es_item {
    OLA_ES_STORED = 0, /* 200, 201: stored now */
    OLA_ES_DUPLICATE,  /* 409: a document with this _id is stored already */
    OLA_ES_AGAIN,      /* 429, 5xx, no status: send this record again */
    OLA_ES_REFUSED,    /* another 4xx (mapping, parsing): never; dead-letter it */
    OLA_ES_FATAL,      /* 401, 403, 404: no record can go to this index */
};

/*
 * The items of a _bulk answer body (ans, len bytes) to a request of n
 * records: returns the items array (a new reference) when the answer is an
 * object with one item per record, else NULL with why (cap bytes) saying
 * what is wrong.
 */
json_t *ola_es_bulk_items(const char *ans, size_t len, size_t n, char *why, size_t cap);

/*
 * Reads one item ({"create": {"status": 201, "error": {...}}}): its outcome,
 * and for any but STORED the status and the error's type and reason in why
 * ("409 version_conflict_engine_exception: ...", cap bytes).
 */
enum ola_es_item ola_es_item_read(const json_t *item, char *why, size_t cap);

#endif
