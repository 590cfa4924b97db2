/*
 * out_sentinel.h - the parts of the sentinel output (Azure Monitor Logs
 * Ingestion API) that its files share and its tests call: the rows it sends
 * (out_sentinel_row.c), the OAuth token it sends them with
 * (out_sentinel_token.c) and the URLs (out_sentinel.c).
 */
#ifndef OLA_OUT_SENTINEL_H
#define OLA_OUT_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "outputs/http_out.h"

/* The Logs Ingestion API's version this output speaks. */
#define OLA_AZ_API_VERSION "2023-01-01"
/* The most one request may carry (the API refuses larger calls with 413). */
#define OLA_AZ_BODY_MAX (1u << 20)
/* The scope of a token for the Logs Ingestion API (two slashes: the resource
 * "https://monitor.azure.com/" and "/.default"). */
#define OLA_AZ_SCOPE "https://monitor.azure.com//.default"

/* ---- rows (out_sentinel_row.c) ---------------------------------------------------- */

/* One column of the DCR's stream declaration: its name and its DCR type. */
struct ola_az_col {
    const char *name;
    const char *type; /* "datetime", "long", "int", "string", "dynamic" */
};

/* Every column a row may have, in the order rows carry them; ends with NULL. */
extern const struct ola_az_col ola_az_columns[];

/*
 * Appends the row of record e to out: a JSON object with TimeGenerated (the
 * event's created_at, ISO-8601 UTC with ms; an alert's last_seen), the
 * event's fields that are columns (when their value has the column's type),
 * "olagent" and "extra_fields" (every other field, so none is lost).
 * formatted: the record as the json format renders it (len bytes). Returns
 * 0, -1 out of memory, or 1 when formatted is not a JSON object.
 */
int ola_az_row(const struct ola_event *e, const char *formatted, size_t len,
               struct ola_buf *out);

/* ---- the token (out_sentinel_token.c) ---------------------------------------------- */

/* The access token in use, and what fetching one needs. */
struct ola_az_token {
    char *value;            /* the access token (wiped when dropped); NULL: none */
    int64_t expiry_mono_ms; /* when it expires, by ola_mono_ms() */
    int64_t life_ms;        /* its lifetime as granted (expires_in) */
    uint64_t gen;           /* tokens fetched so far: the current one's number */
    bool refused;           /* the ingestion endpoint refused it (401) */
    bool after_401;         /* it was fetched because the one before was refused */
    char *url;              /* {authority}/{tenant_id}/oauth2/v2.0/token */
};

/* The token URL for authority (a trailing '/' dropped) and tenant into *out (malloc'd).
 * Returns 0 / -1 out of memory. */
int ola_az_token_url(const char *authority, const char *tenant, char **out);
/*
 * True when t holds a token that is not refused and does not expire within
 * the margin (a fifth of its lifetime, at most 5 minutes) of now_mono_ms.
 */
bool ola_az_token_valid(const struct ola_az_token *t, int64_t now_mono_ms);
/*
 * Reads a token answer's JSON body (access_token, token_type Bearer,
 * expires_in) into t as a new token received at now_mono_ms. Returns 0, or
 * -1 with why (cap bytes) saying what is missing; the body is not quoted.
 */
int ola_az_token_take(struct ola_az_token *t, const char *body, size_t len,
                      int64_t now_mono_ms, char *why, size_t cap);
/*
 * Fetches a new token (client credentials, form body, over c's TLS and proxy
 * settings, within c->timeout_ms). OLA_OK with t's token replaced, OLA_RETRY
 * (no answer, 408, 429, 5xx, an unreadable answer) or OLA_FATAL (the
 * authority refused the client: a 4xx), both with why. secret: borrowed,
 * never logged nor copied into why.
 */
enum ola_rc ola_az_token_fetch(struct ola_az_token *t, const struct ola_ho_conf *c,
                               const char *client_id, const char *secret, char *why,
                               size_t cap);
/* Forgets the token (wiped) and the URL; t stays usable after a new url. */
void ola_az_token_free(struct ola_az_token *t);

/* ---- URLs (out_sentinel.c) --------------------------------------------------------- */

/* {endpoint}/dataCollectionRules/{dcr_id}/streams/{stream}?api-version=...
 * into *out (malloc'd); a trailing '/' of endpoint dropped. 0 / -1 out of memory. */
int ola_az_ingest_url(const char *endpoint, const char *dcr_id, const char *stream,
                      char **out);

#endif
