/*
 * manifest.h - compliance evidence for closed output files.
 *
 * When the file output closes a file it writes `<file>.manifest.json` beside
 * it: event count, first/last event id and created_at, the file's SHA-256 and
 * the SHA-256 of the previous manifest's bytes, so the manifests of one
 * output (one "stream") form a hash chain ordered by "seq". The verifier walks
 * a directory tree, checks every file's hash and every link of every chain,
 * and reports the first break.
 */
#ifndef OLA_MANIFEST_H
#define OLA_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "agent/core/err.h"

#define OLA_MANIFEST_SUFFIX  ".manifest.json"
#define OLA_MANIFEST_VERSION 1
#define OLA_SHA256_HEX       65 /* 64 hex digits + NUL */
#define OLA_TIME_NONE        INT64_MIN
#define OLA_MANIFEST_STREAM                                                              \
    128 /* room for a stream's name: an output's, "/", a tenant's */

struct ola_manifest {
    char file[256];                   /* the data file's base name */
    char stream[OLA_MANIFEST_STREAM]; /* the chain's name (the output's, NAME/TENANT) */
    uint64_t seq;                     /* 1 for the first manifest of a stream, then +1 */
    uint64_t events;                  /* records in the file (alerts included) */
    uint64_t bytes;                   /* size of the file */
    int64_t first_id; /* first/last OneLogin event id; 0: none (alerts only) */
    int64_t last_id;
    int64_t first_created_ms; /* created_at of those events; OLA_TIME_NONE: none */
    int64_t last_created_ms;
    int64_t created_ms; /* when the file was opened (recovered: its mtime) */
    int64_t closed_ms;
    bool recovered; /* closed at startup after a crash */
    char sha256[OLA_SHA256_HEX];
    char prev_sha256[OLA_SHA256_HEX]; /* "" for the first of a stream */
};

/*
 * SHA-256 of the whole content of fd, read with pread from offset 0 (the file
 * offset is untouched). hex: 65 bytes. *bytes (may be NULL): bytes hashed.
 * Returns 0 / -1.
 */
int ola_sha256_fd(int fd, char *hex, uint64_t *bytes, struct ola_err *err);
/* Same for a path. */
int ola_sha256_path(const char *path, char *hex, struct ola_err *err);

/*
 * A running SHA-256 of the bytes a writer has made durable, so that closing
 * a file does not read it all back. Zeroed = idle; begin may fail (ENOMEM),
 * after which the writer falls back to ola_sha256_fd.
 */
struct ola_sha256_run {
    void *ctx; /* EVP_MD_CTX, NULL when idle or failed */
    uint64_t bytes;
};

int ola_sha256_run_begin(struct ola_sha256_run *h);
/* Adds n bytes; on failure the run stops (ctx NULL) and -1 is returned. */
int ola_sha256_run_add(struct ola_sha256_run *h, const void *p, size_t n);
/* Writes the hex digest (65 bytes) and stops the run. Returns 0 / -1. */
int ola_sha256_run_end(struct ola_sha256_run *h, char *hex);
/* Stops the run without a digest; a no-op when idle. */
void ola_sha256_run_drop(struct ola_sha256_run *h);

/*
 * Writes data_path + ".manifest.json" atomically (temporary file, fsync,
 * rename, directory fsync). manifest_sha (65 bytes): the SHA-256 of the bytes
 * written, for the next manifest's prev_manifest_sha256. Returns 0 / -1.
 */
int ola_manifest_write(const char *data_path, const struct ola_manifest *m,
                       char *manifest_sha, struct ola_err *err);

/*
 * Reads a manifest file into m and the SHA-256 of its bytes into
 * manifest_sha (may be NULL). Returns 0 / -1 (unreadable or malformed).
 */
int ola_manifest_read(const char *path, struct ola_manifest *m, char *manifest_sha,
                      struct ola_err *err);

/*
 * Calls cb for every regular file under root, at most max_depth directory
 * levels down (0: root itself only). Symbolic links are not followed. cb
 * returns 0 to go on, -1 to stop (its err is passed through). Returns 0 / -1.
 */
int ola_dir_walk(const char *root, int max_depth,
                 int (*cb)(const char *path, const struct stat *st, void *arg,
                           struct ola_err *err),
                 void *arg, struct ola_err *err);

/*
 * Parses a UTC ISO-8601 time ("2022-08-08T11:00:00.123Z", fraction optional,
 * "Z", "+00:00" or "+0000") into ms since the epoch. Returns 0 / -1.
 */
int ola_manifest_time_parse(const char *s, int64_t *ms);

/*
 * Checks every manifest under dir (recursively): the file it names exists
 * and has its SHA-256, and within each stream the manifests ordered by seq
 * are contiguous and each one's prev_manifest_sha256 is the SHA-256 of the
 * one before. The oldest manifest present may point to a manifest pruned by
 * `keep`. Writes one line per manifest to report (may be NULL). Returns 0
 * when everything holds, -1 with the first break in err otherwise.
 */
int ola_manifest_verify_dir(const char *dir, FILE *report, struct ola_err *err);

#endif
