/*
 * overlay.c - one map read as another's keys with a few of its own on top.
 *
 * Many tenants share the onelogin: block's keys and each overrides some of
 * them. Rather than teach the option walker about two maps, the settings
 * layer asks for an overlay: a new map node whose entries point at the
 * values of both maps (top's first, then base's that top leaves unset), so
 * the walker, the readers and their "file:line:" errors work unchanged and
 * every value still names the line it was written on. The overlay owns only
 * its entry array and path; the values belong to the tree, so the store
 * frees overlays apart from the tree (ola_store_free_overlays).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/core/vec.h"
#include "config/config.h"
#include "config/config_priv.h"

static bool ola_in_list(const char *const *list, const char *key)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* True when key belongs to a group of which top sets some key. */
static bool ola_group_taken(const struct ola_cfg *top, const char *const *const *groups,
                            const char *key)
{
    size_t g, k;

    for (g = 0; groups != NULL && groups[g] != NULL; g++) {
        if (!ola_in_list(groups[g], key))
            continue;
        for (k = 0; groups[g][k] != NULL; k++)
            if (ola_cfg_get(top, groups[g][k]) != NULL)
                return true;
    }
    return false;
}

static int ola_overlay_push(struct ola_cfg *m, const struct ola_cfg_entry *e)
{
    if (OLA_VEC_GROW(m->ents, m->cap, m->n + 1) != 0)
        return -1;
    m->ents[m->n++] = *e;
    return 0;
}

void ola_store_free_overlays(struct ola_cfg_store *st)
{
    size_t i;

    for (i = 0; i < st->n_overlays; i++) {
        free(st->overlays[i]->ents);
        free(st->overlays[i]->path);
        free(st->overlays[i]);
    }
    free(st->overlays);
    st->overlays = NULL;
    st->n_overlays = st->cap_overlays = 0;
}

const struct ola_cfg *ola_cfg_overlay(const struct ola_cfg_doc *doc,
                                      const struct ola_cfg *base,
                                      const struct ola_cfg *top, const char *const *skip,
                                      const char *const *const *groups,
                                      struct ola_err *err)
{
    struct ola_cfg_store *st = doc->store;
    struct ola_cfg *m = calloc(1, sizeof(*m));
    size_t i;

    if (m == NULL || (m->path = strdup(top->path)) == NULL)
        goto fail;
    m->type = OLA_CFG_MAP;
    m->line = top->line;
    m->store = top->store;
    for (i = 0; i < top->n; i++)
        if (!ola_in_list(skip, top->ents[i].key) && ola_overlay_push(m, &top->ents[i]))
            goto fail;
    for (i = 0; base != NULL && base->type == OLA_CFG_MAP && i < base->n; i++) {
        const char *key = base->ents[i].key;

        if (ola_cfg_get(top, key) != NULL || ola_group_taken(top, groups, key))
            continue;
        if (ola_overlay_push(m, &base->ents[i]) != 0)
            goto fail;
    }
    if (OLA_VEC_GROW(st->overlays, st->cap_overlays, st->n_overlays + 1) != 0)
        goto fail;
    st->overlays[st->n_overlays++] = m;
    return m;
fail:
    if (m != NULL) {
        free(m->ents);
        free(m->path);
        free(m);
    }
    ola_err_set(err, ENOMEM, "out of memory");
    return NULL;
}
