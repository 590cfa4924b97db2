/*
 * out_elasticsearch_bulk.c - the _bulk protocol of the elasticsearch output.
 *
 * A request is NDJSON: per record a `create` action naming the index and the
 * document's _id, then the document. `create` (not `index`) makes the _id a
 * guard: a second create of the same _id is refused with 409, so a record
 * sent again (a retry, a crash before the checkpoint moved) is never stored
 * twice, and 409 reads as "already stored". The _id is the OneLogin event id
 * (with the tenant when there are several), or for an alert a hash of its
 * bytes. The answer is read item by item, in the order of the records (the
 * order _bulk keeps); only each item's status and error are asked for
 * (filter_path), so an answer stays small.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "outputs/out_elasticsearch.h"

int ola_es_doc_id(const char *tenant, int64_t id, const char *bytes, size_t len,
                  char out[OLA_ES_ID_MAX])
{
    bool plain = tenant == NULL || *tenant == '\0' || strcmp(tenant, "default") == 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx;
    int n, ok;

    if (id > 0) {
        n = plain ? snprintf(out, OLA_ES_ID_MAX, "%lld", (long long)id)
                  : snprintf(out, OLA_ES_ID_MAX, "%s:%lld", tenant, (long long)id);
        return n > 0 && n < OLA_ES_ID_MAX ? 0 : -1;
    }
    ctx = EVP_MD_CTX_new();
    ok =
        ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, plain ? "" : tenant, plain ? 1 : strlen(tenant) + 1) == 1 &&
        EVP_DigestUpdate(ctx, bytes, len) == 1 &&
        EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    memcpy(out, "alert-", 6);
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 6 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int ola_es_bulk_append(struct ola_buf *out, const char *index, const char *doc_id,
                       const char *doc, size_t len)
{
    if (ola_buf_puts(out, "{\"create\":{\"_index\":\"") != 0 ||
        ola_buf_puts(out, index) != 0 || ola_buf_puts(out, "\",\"_id\":\"") != 0 ||
        ola_buf_puts(out, doc_id) != 0 || ola_buf_puts(out, "\"}}\n") != 0 ||
        ola_buf_append(out, doc, len) != 0)
        return -1;
    return ola_buf_putc(out, '\n');
}

json_t *ola_es_bulk_items(const char *ans, size_t len, size_t n, char *why, size_t cap)
{
    json_error_t je;
    json_t *root = json_loadb(ans, len, 0, &je), *items;

    if (root == NULL) {
        snprintf(why, cap, "the _bulk answer is not JSON (%s)", je.text);
        return NULL;
    }
    items = json_object_get(root, "items");
    if (!json_is_array(items) || json_array_size(items) != n) {
        snprintf(why, cap, "the _bulk answer has %zu items for %zu records",
                 json_is_array(items) ? json_array_size(items) : 0, n);
        json_decref(root);
        return NULL;
    }
    json_incref(items);
    json_decref(root);
    return items;
}

enum ola_es_item ola_es_item_read(const json_t *item, char *why, size_t cap)
{
    /* {"create": {...}}: the one member's value, whatever the action */
    const char *action;
    const json_t *v = NULL, *err, *st;
    const char *type = NULL, *reason = NULL;
    json_int_t s;

    if (json_is_object(item) && json_object_size(item) == 1) {
        json_object_foreach((json_t *)(uintptr_t)item, action, st) v = st;
    }
    st = json_object_get(v, "status");
    if (!json_is_integer(st)) {
        snprintf(why, cap, "an item without a status");
        return OLA_ES_AGAIN;
    }
    s = json_integer_value(st);
    if (s >= 200 && s < 300) {
        if (cap > 0)
            why[0] = '\0';
        return OLA_ES_STORED;
    }
    err = json_object_get(v, "error");
    if (json_is_object(err)) {
        type = json_string_value(json_object_get(err, "type"));
        reason = json_string_value(json_object_get(err, "reason"));
    } else {
        reason = json_string_value(err);
    }
    snprintf(why, cap, "%lld %s%s%.160s", (long long)s, type != NULL ? type : "",
             type != NULL && reason != NULL ? ": " : "", reason != NULL ? reason : "");
    if (s == 409)
        return OLA_ES_DUPLICATE;
    if (s == 429 || s == 408 || s >= 500)
        return OLA_ES_AGAIN;
    if (s == 401 || s == 403 || s == 404)
        return OLA_ES_FATAL;
    return OLA_ES_REFUSED;
}
