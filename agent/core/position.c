/*
 * position.c - the empty position and its owned parts (cursor, seen set).
 *
 * Only construction and ownership live here: the OneLogin source decides
 * how a position moves, the checkpoint how it is written down.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/core/position.h"

/* The empty position's fields, without a seen set. */
static void ola_position_clear(struct ola_position *pos)
{
    memset(pos, 0, sizeof(*pos));
    pos->watermark_ms = -1;
    pos->start_ms = -1;
    pos->last_sweep_ms = -1;
}

int ola_position_init(struct ola_position *pos)
{
    ola_position_clear(pos);
    pos->seen = ola_seen_new();
    return pos->seen == NULL ? -1 : 0;
}

void ola_position_free(struct ola_position *pos)
{
    if (pos == NULL)
        return;
    free(pos->cursor);
    ola_seen_destroy(pos->seen);
    ola_position_clear(pos);
}

int ola_position_set_cursor(struct ola_position *pos, const char *cursor)
{
    char *copy = NULL;

    if (cursor != NULL) {
        copy = strdup(cursor);
        if (copy == NULL)
            return -1;
    }
    free(pos->cursor);
    pos->cursor = copy;
    return 0;
}
