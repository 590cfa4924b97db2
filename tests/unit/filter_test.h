/*
 * filter_test.h - helpers shared by the filter tests (catalog, expr, rules,
 * alerts): real files in a temporary directory, config documents loaded
 * with the real loader, events built the way the page parser builds them.
 */
#ifndef OLA_FILTER_TEST_H
#define OLA_FILTER_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/core/event.h"
#include "config/config.h"
#include "filters/rules/filter.h"
#include "tests/lib/unit_files.h"

/* The catalog shipped in config/. */
static inline const char *ola_t_catalog_path(void)
{
    static char path[4096];
    const char *src = getenv("OLA_SOURCE_DIR");

    snprintf(path, sizeof(path), "%s/config/event-types.json", src ? src : ".");
    return path;
}

static inline const char *ola_t_default_pack(void)
{
    static char path[4096];
    const char *src = getenv("OLA_SOURCE_DIR");

    snprintf(path, sizeof(path), "%s/config/rules/default.yaml", src ? src : ".");
    return path;
}

/* Writes text to dir/name; returns the path in a static buffer (one at a time). */
static inline const char *ola_t_write(const char *dir, const char *name, const char *text)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return ola_test_write_text(path, text) == 0 ? path : NULL;
}

/* A fresh temporary directory (removed by ola_t_rmdir). */
static inline char *ola_t_mkdtemp(void)
{
    char d[64];

    return ola_test_tmpdir(d, sizeof(d), "filter") == 0 ? strdup(d) : NULL;
}

static inline void ola_t_rmdir(char *dir)
{
    if (dir == NULL)
        return;
    if (ola_test_rmtree(dir) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(dir);
}

/*
 * Appends an event to b from JSON text. id, created_ms are given so the
 * tests need not care about timestamps' text.
 */
static inline struct ola_event *ola_t_add(struct ola_batch *b, int64_t id,
                                          int64_t created_ms, const char *json)
{
    json_error_t jerr;
    json_t *ev = json_loads(json, 0, &jerr);
    struct ola_event *e;

    if (ev == NULL) {
        fprintf(stderr, "bad test json: %s: %s\n", json, jerr.text);
        return NULL;
    }
    if (json_object_get(ev, "id") == NULL)
        json_object_set_new(ev, "id", json_integer(id));
    e = ola_batch_add(b, OLA_REC_EVENT, ev, NULL, 0);
    if (e != NULL) {
        e->id = id;
        e->created_ms = created_ms;
    }
    return e;
}

/* True when the event's olagent.tags has tag. */
static inline int ola_t_has_tag(const struct ola_event *e, const char *tag)
{
    json_t *tags = json_object_get(e->ola, "tags"), *v;
    size_t i;

    json_array_foreach(tags, i, v)
    {
        if (strcmp(json_string_value(v), tag) == 0)
            return 1;
    }
    return 0;
}

#endif
