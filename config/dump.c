/*
 * dump.c - the document written back as YAML, secrets masked.
 *
 * For `olagent check`: libyaml's emitter writes the tree with values that
 * came from ${VAR} or a *_file, values under keys that look secret and the
 * user information of URLs replaced by "****". ola_find_literal_secret finds
 * a secret written out literally (the loader warns about it).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "agent/core/buf.h"
#include "agent/core/log.h"
#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "config/config.h"
#include "config/config_priv.h"

bool ola_key_looks_secret(const char *key)
{
    static const char *const exact[] = {"client_secret",
                                        "secret",
                                        "password",
                                        "token",
                                        "sasl.password",
                                        "ssl.key.password",
                                        "ssl.key.pem",
                                        "sasl.oauthbearer.config",
                                        NULL};
    static const char *const suffix[] = {"_secret",   "_password", "_token",
                                         ".password", ".secret",   NULL};
    size_t i, kl = strlen(key);

    for (i = 0; exact[i] != NULL; i++)
        if (strcmp(key, exact[i]) == 0)
            return true;
    for (i = 0; suffix[i] != NULL; i++) {
        size_t sl = strlen(suffix[i]);

        if (kl > sl && strcmp(key + kl - sl, suffix[i]) == 0)
            return true;
    }
    return false;
}

/* The first value under a secret-looking key that is written out literally. */
const struct ola_cfg *ola_find_literal_secret(const struct ola_cfg *n, int *line)
{
    size_t i;

    if (n == NULL || (n->type != OLA_CFG_MAP && n->type != OLA_CFG_SEQ))
        return NULL;
    for (i = 0; i < n->n; i++) {
        const struct ola_cfg *v = n->ents[i].val, *hit;

        if (n->type == OLA_CFG_MAP && ola_key_looks_secret(n->ents[i].key) &&
            v->type == OLA_CFG_SCALAR && !v->secret && v->text[0] != '\0') {
            *line = n->ents[i].key_line;
            return v;
        }
        hit = ola_find_literal_secret(v, line);
        if (hit != NULL)
            return hit;
    }
    return NULL;
}

/* ---- dump --------------------------------------------------------------------- */

static int ola_emit_scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;

    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s,
                                      (int)strlen(s), 1, 1, style))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

/*
 * A URL with credentials (scheme://user:password@host...) is printed with
 * the user information masked: proxies and brokers are often written so.
 * Returns 1 when out holds the masked text, 0 when there is nothing to mask.
 */
int ola_mask_userinfo(const char *text, char *out, size_t n)
{
    const char *sep = strstr(text, "://"), *host, *at;
    int w;

    if (sep == NULL)
        return 0;
    host = sep + 3;
    at = strchr(host, '@');
    if (at == NULL || memchr(host, '/', (size_t)(at - host)) != NULL)
        return 0;
    w = snprintf(out, n, "%.*s****%s", (int)(host - text), text, at);
    return w > 0 && (size_t)w < n;
}

static int ola_emit_node(yaml_emitter_t *em, const struct ola_cfg *n, bool mask)
{
    char masked[1024];
    yaml_event_t ev;
    size_t i;

    if (mask && n->type != OLA_CFG_NULL)
        return ola_emit_scalar(em, "****", YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    switch (n->type) {
    case OLA_CFG_NULL:
        return ola_emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
    case OLA_CFG_SCALAR:
        if (n->secret)
            return ola_emit_scalar(em, "****", YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        if (ola_mask_userinfo(n->text, masked, sizeof(masked)))
            return ola_emit_scalar(em, masked, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return ola_emit_scalar(em, n->text,
                               n->quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                         : YAML_ANY_SCALAR_STYLE);
    case OLA_CFG_SEQ:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                  YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        for (i = 0; i < n->n; i++)
            if (ola_emit_node(em, n->ents[i].val, false) != 0)
                return -1;
        if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
            return -1;
        return 0;
    case OLA_CFG_MAP:
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                 YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        for (i = 0; i < n->n; i++) {
            if (ola_emit_scalar(em, n->ents[i].key, YAML_ANY_SCALAR_STYLE) != 0 ||
                ola_emit_node(em, n->ents[i].val, ola_key_looks_secret(n->ents[i].key)) !=
                    0)
                return -1;
        }
        if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
            return -1;
        return 0;
    }
    return -1;
}

void ola_cfg_dump(const struct ola_cfg_doc *doc, FILE *out)
{
    yaml_emitter_t em;
    yaml_event_t ev;

    if (doc == NULL || out == NULL || !yaml_emitter_initialize(&em))
        return;
    yaml_emitter_set_output_file(&em, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
        !yaml_emitter_emit(&em, &ev) ||
        !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
        !yaml_emitter_emit(&em, &ev) || ola_emit_node(&em, doc->root, false) != 0 ||
        !yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev) ||
        !yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev))
        fprintf(out, "# dump failed: %s\n", em.problem ? em.problem : "emitter error");
    yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
}
