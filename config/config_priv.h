/*
 * config_priv.h - helpers shared by config.c and settings.c only.
 *
 * Strings derived while reading settings (a base_url without its trailing
 * slash, rule paths resolved against the config directory, the content of a
 * *_file secret) must live as long as the document, so the document keeps a
 * list of extra allocations that ola_cfg_doc_destroy() frees.
 */
#ifndef OLA_CONFIG_PRIV_H
#define OLA_CONFIG_PRIV_H

#include <stddef.h>

#include "config/config.h"

/* Zeroed memory owned by doc (freed with it); NULL on ENOMEM. */
void *ola_cfg_doc_alloc(const struct ola_cfg_doc *doc, size_t size);
/* A NUL-terminated copy of s[0..n) owned by doc; NULL on ENOMEM. */
char *ola_cfg_doc_strndup(const struct ola_cfg_doc *doc, const char *s, size_t n);
/* Same, for a node's document. */
char *ola_cfg_node_strndup(const struct ola_cfg *n, const char *s, size_t len);

#endif
