/*
 * out_s3.h - the s3 output's parts (out_s3.c, out_s3_key.c, out_s3_chain.c),
 * declared for each other and for tests/unit/test_out_s3.c.
 *
 * Object keys: PREFIX + FIRST_TIME + "_" + FIRST_ID + "-" + LAST_ID + "_" +
 * HASH + ".ndjson.gz", where PREFIX is the `prefix:` template ({tenant} and
 * strftime conversions, UTC, on the batch's first event time), FIRST_TIME
 * that time in compact ISO 8601 ("20240102T030405.123Z", so the keys of one
 * prefix sort by time), the ids the batch's first and last OneLogin event ids
 * (0 for alerts only) and HASH the first 16 hex digits of the object's
 * SHA-256 (two batches never share a key unless they share their bytes). Keys hold only
 * [A-Za-z0-9/._-]: every S3 implementation signs and stores such a key the same way, and
 * the local manifest tree mirrors it without escaping.
 */
#ifndef OLA_OUT_S3_H
#define OLA_OUT_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/core/err.h"
#include "outputs/http_out.h"
#include "outputs/manifest.h"

/* S3's limit on a key's length; prefixes leave room for the object's name. */
#define OLA_S3_KEY_MAX    1024
#define OLA_S3_PREFIX_MAX 900
#define OLA_S3_SUFFIX     ".ndjson.gz"

/*
 * NULL when s is a valid key (prefix: a valid prefix, which may be "" or end
 * in '/'), else a static reason: a character outside [A-Za-z0-9/._-], a
 * leading '/', an empty, "." or ".." path component, or too long.
 */
const char *ola_s3_key_bad(const char *s, bool prefix);

/*
 * The prefix template tmpl expanded for tenant at time ms (UTC) into out (n
 * bytes): {tenant} first, then strftime. Returns the length, or -1 when it
 * does not fit (or strftime fails).
 */
int ola_s3_prefix_expand(const char *tmpl, const char *tenant, int64_t ms, char *out,
                         size_t n);

/*
 * Checks a prefix template at config time: expanded with the longest tenant
 * name at a few times, it must be a valid prefix of at most OLA_S3_PREFIX_MAX
 * bytes. NULL when fine, else a reason in why (n bytes) and why is returned.
 */
const char *ola_s3_prefix_check(const char *tmpl, char *why, size_t n);

/*
 * The object key for an expanded prefix, the first event time (ms), the first
 * and last event id and the object's SHA-256 (hex), into out (n bytes).
 * Returns 0, -1 when it does not fit or the key is not valid.
 */
int ola_s3_object_key(const char *prefix, int64_t first_ms, int64_t first_id,
                      int64_t last_id, const char *sha_hex, char *out, size_t n);

/*
 * Reads an S3 answer (its XML error's Code and Message go to o->last_error):
 * 2xx accepted; SlowDown, InternalError, ServiceUnavailable, RequestTimeout,
 * BadDigest, IncompleteBody, XAmzContentSHA256Mismatch, OperationAborted,
 * RequestTimeTooSkewed, 408, 429, 5xx and no answer retry; anything else
 * (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, NoSuchBucket,
 * ...) fatal: S3 never refuses one record of an object.
 */
enum ola_ho_verdict ola_s3_classify(struct ola_output *o, const struct ola_ho_req *rq);

/*
 * The manifest chains of one output: one per stream (the output's name, or
 * NAME/TENANT when the prefix has {tenant}), each manifest at
 * DIR/KEY.manifest.json in the file output's format, and per stream a head
 * file DIR/chain.STREAM.json naming the newest manifest. Not thread-safe: one
 * output's calls come one at a time.
 */
struct ola_s3_chains;

/* dir: the manifest directory (copied; created on first use). NULL on ENOMEM. */
struct ola_s3_chains *ola_s3_chains_new(const char *dir);
/* NULL is a no-op. */
void ola_s3_chains_destroy(struct ola_s3_chains *c);
/*
 * Records the object key (stored, with m's counts and sha256) in m->stream's
 * chain: m->seq and m->prev_sha256 are filled. A manifest for key that holds
 * the same sha256 already is kept as it is (the object was sent again after a
 * crash); one with another sha256 is an error (evidence is never
 * overwritten). Returns 0 / -1 with err.
 */
int ola_s3_chain_append(struct ola_s3_chains *c, const char *key, struct ola_manifest *m,
                        struct ola_err *err);

#endif
