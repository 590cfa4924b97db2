/*
 * checkpoint_priv.h - what checkpoint.c (encoding, saving) and
 * checkpoint_load.c (reading back, checking) share: the file's checksum and
 * the wording of their messages. Not for use outside agent/state.
 */
#ifndef OLA_STATE_CHECKPOINT_PRIV_H
#define OLA_STATE_CHECKPOINT_PRIV_H

#include <stddef.h>

#define OLA_CP_COMP    "checkpoint"
#define OLA_CP_SUM_PFX "sha256:"
#define OLA_CP_SUM_HEX 64

#define OLA_CP_FIX                                                                       \
    "; inspect it with 'olagent checkpoint show -c CONFIG', or move it away and set a "  \
    "new start with 'olagent checkpoint set -c CONFIG --since TIME'"

/* hex (OLA_CP_SUM_HEX + 1 bytes) gets the SHA-256 of data[0..len) in lowercase
 * hex. Returns 0 / -1. */
int ola_cp_sha256(const char *data, size_t len, char *hex);

#endif
