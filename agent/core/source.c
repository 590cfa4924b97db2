/*
 * source.c - the thin wrappers of the source interface (source.h).
 *
 * They only dispatch through the source's ops, so the agent's loop reads the
 * same whatever it drives; optional slots (finish) may be NULL.
 */
#include <stddef.h>

#include "agent/core/source.h"

enum ola_src_rc ola_source_next(struct ola_source *src, struct ola_batch *b,
                                int64_t *wait_ms, struct ola_err *err)
{
    *wait_ms = 0;
    return src->ops->next(src, b, wait_ms, err);
}

int ola_source_commit(struct ola_source *src, const struct ola_batch *b)
{
    return src->ops->commit(src, b);
}

void ola_source_finish(struct ola_source *src)
{
    if (src != NULL && src->ops->finish != NULL)
        src->ops->finish(src);
}

void ola_source_destroy(struct ola_source *src)
{
    if (src != NULL)
        src->ops->destroy(src);
}

const char *ola_source_name(const struct ola_source *src)
{
    return src->ops->name;
}
