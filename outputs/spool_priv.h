/*
 * spool_priv.h - what the parts of the spool share (spool.c: the format, open,
 * the writer; spool_read.c: the reader). Not for use outside outputs/spool*.c.
 */
#ifndef OLA_SPOOL_PRIV_H
#define OLA_SPOOL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/core/buf.h"
#include "agent/core/err.h"
#include "outputs/spool.h"

#define OLA_SEG_MAGIC      "OLASPL1\n"
#define OLA_SEG_HDR        8  /* the magic's length */
#define OLA_REC_HDR        8  /* length, CRC */
#define OLA_REC_FIXED      32 /* version .. ola length */
#define OLA_REC_VERSION    1
#define OLA_SPOOL_POS_FILE "reader.pos"
#define OLA_SPOOL_POS_TAG  "olaspool-pos 1"

struct ola_spool_seg {
    uint64_t id;
    uint64_t size; /* durable bytes (the writer's: what it fsynced) */
};

struct ola_spool {
    char *dir;
    char name[64]; /* the output's */
    char comp[80]; /* "spool:<name>", the log component */
    uint64_t max_size, seg_max;
    pthread_mutex_t mu;
    /* guarded by mu: segments in order, the last one the writer's; the reader */
    struct ola_spool_seg *segs;
    size_t n_segs, cap_segs;
    struct ola_spool_pos rpos;
    int64_t oldest_ms;
    uint64_t cut_bytes, appended;
    /* the writer's */
    int wfd; /* on segs[n_segs - 1] */
    bool full_logged;
    struct ola_buf enc;
    /* the reader's */
    int rfd;
    uint64_t rfd_seg;
    struct ola_buf rec;
};

/* ---- little-endian fields ---------------------------------------------------- */

static inline void ola_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void ola_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t ola_get_u32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t ola_get_u64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The zlib CRC-32 of n bytes. */
uint32_t ola_spool_crc(const void *p, size_t n);
/* dir/<id>.seg into out. Returns 0 / -1 (too long). */
int ola_spool_seg_path(const struct ola_spool *sp, uint64_t id, char *out, size_t n);
/*
 * Reads the record at off of fd (file size size) into rec: its payload.
 * Returns 1 (whole, CRC good; *len the payload's length), 0 (torn or bad:
 * a length out of bounds, short, or a CRC mismatch), -1 (I/O, ENOMEM).
 */
int ola_spool_rec_at(int fd, uint64_t off, uint64_t size, struct ola_buf *rec,
                     size_t *len);
/* Writes pos to reader.pos atomically and durably. Returns 0 / -1 with err. */
int ola_spool_pos_save(struct ola_spool *sp, const struct ola_spool_pos *pos,
                       struct ola_err *err);
/* Deletes the segments before seg (never the writer's). Takes mu. */
void ola_spool_drop_before(struct ola_spool *sp, uint64_t seg);
/* Undelivered bytes and all bytes. Called with mu held. */
void ola_spool_sizes(const struct ola_spool *sp, uint64_t *undelivered, uint64_t *disk);

#endif
