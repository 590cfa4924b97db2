/*
 * config_priv.h - the tree's insides and helpers shared inside config/ only.
 *
 * The node and document structs, so that config.c (the loader), tree.c,
 * readers.c, dump.c and options.c share one definition, and the few helpers
 * they call across files. Nothing outside config/ includes this header.
 */
#ifndef OLA_CONFIG_PRIV_H
#define OLA_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define OLA_CFG_COMP "config"

/* What every node of a document shares: the name and the extra allocations. */
struct ola_cfg_store {
    char *name;
    struct ola_cfg_blob *blobs;
    char **warnings; /* "file:line: what", in the order found (ola_cfg_warn) */
    size_t n_warnings;
    struct ola_cfg **overlays; /* maps made by ola_cfg_overlay: borrowed entries */
    size_t n_overlays, cap_overlays;
};

struct ola_cfg_entry {
    char *key; /* maps only; NULL in sequences */
    int key_line;
    struct ola_cfg *val;
};

struct ola_cfg {
    enum ola_cfg_type type;
    int line;
    bool secret; /* text came from ${VAR} */
    bool quoted; /* scalar was written in quotes */
    char *text;  /* scalars: after substitution */
    char *path;  /* "onelogin.poll_interval", "outputs[0]"; "" for the root */
    struct ola_cfg_store *store;
    struct ola_cfg_entry *ents; /* maps and sequences */
    size_t n, cap;
};

struct ola_cfg_doc {
    struct ola_cfg *root;
    struct ola_cfg_store *store;
};

/* ---- shared by config.c, tree.c, readers.c and dump.c ---------------------- */

/* A NUL-terminated copy of s[0..n) owned by the store; NULL on ENOMEM. */
char *ola_store_strndup(struct ola_cfg_store *st, const char *s, size_t n);
/* Frees the overlay maps of st (their entries belong to the tree). */
void ola_store_free_overlays(struct ola_cfg_store *st);
/* The path for messages: "onelogin.page_size", or "top level". */
const char *ola_node_what(const struct ola_cfg *n);
/* "a map", "a list", "a value", "nothing". */
const char *ola_type_name(const struct ola_cfg *n);
/* Formats "name:line: " + message into err; returns -1. */
int ola_errf_line(struct ola_err *err, const struct ola_cfg_store *st, int line,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Whether a key's value is a secret by its name (client_secret, password, ...). */
bool ola_key_looks_secret(const char *key);
/* text with the user information of a URL masked into out (1), or 0: none. */
int ola_mask_userinfo(const char *text, char *out, size_t n);
/* The first value under a secret-looking key that is written out literally. */
const struct ola_cfg *ola_find_literal_secret(const struct ola_cfg *n, int *line);

#endif
