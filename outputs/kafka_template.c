/*
 * kafka_template.c - the Kafka output's topic and key templates.
 *
 * A template is text with {variables} taken from the record ({id},
 * {category}, {event_type_id}) or its batch ({tenant}); "{{" is a literal
 * '{'. write() expands the
 * key and, when the topic has variables, the topic of every record into the
 * output's chunk; init checks both templates once, so expansion can only
 * fail for want of memory. Pure functions: no producer, no broker.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "outputs/out_kafka.h"

/* ---- templates ------------------------------------------------------------ */

static const char *ola_kafka_category(const struct ola_event *e)
{
    const json_t *cats, *c;

    if (e->ola == NULL)
        return NULL;
    cats = json_object_get(json_object_get(e->ola, "event_type"), "categories");
    c = json_array_get(cats, 0);
    return json_is_string(c) && json_string_length(c) > 0 ? json_string_value(c) : NULL;
}

/* A JSON scalar member as text: strings as they are, integers in decimal. */
static int ola_kafka_put_member(struct ola_buf *out, const json_t *ev, const char *name)
{
    const json_t *v = json_object_get(ev, name);

    if (json_is_string(v))
        return ola_buf_append(out, json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        return ola_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return ola_buf_puts(out, "unknown");
}

static int ola_kafka_put_var(struct ola_buf *out, const char *var, size_t n,
                             const struct ola_event *e, const char *tenant)
{
    if (n == 6 && memcmp(var, "tenant", 6) == 0)
        return ola_buf_puts(out, tenant != NULL ? tenant : OLA_TENANT_DEFAULT);
    if (n == 2 && memcmp(var, "id", 2) == 0) {
        if (e->kind == OLA_REC_ALERT) {
            if (ola_kafka_put_member(out, e->ev, "rule") || ola_buf_putc(out, ':'))
                return -1;
            return ola_kafka_put_member(out, e->ev, "key");
        }
        return ola_buf_printf(out, "%" PRId64, e->id);
    }
    if (n == 8 && memcmp(var, "category", 8) == 0) {
        const char *c = ola_kafka_category(e);

        return ola_buf_puts(out, c != NULL ? c : "uncategorized");
    }
    if (n == 13 && memcmp(var, "event_type_id", 13) == 0) {
        const json_t *t = json_object_get(e->ev, "event_type_id");

        if (json_is_integer(t))
            return ola_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(t));
        return ola_buf_puts(out, "unknown");
    }
    return -1;
}

static bool ola_kafka_topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

int ola_kafka_expand(const char *tmpl, const struct ola_event *e, const char *tenant,
                     bool topic_safe, struct ola_buf *out)
{
    size_t start = out->len, i;
    const char *p = tmpl;

    while (*p != '\0') {
        const char *open = strchr(p, '{'), *close;

        if (open == NULL)
            open = p + strlen(p);
        if (ola_buf_append(out, p, (size_t)(open - p)) != 0)
            goto fail;
        if (*open == '\0')
            break;
        if (open[1] == '{') {
            if (ola_buf_putc(out, '{') != 0)
                goto fail;
            p = open + 2;
            continue;
        }
        close = strchr(open, '}');
        if (close == NULL ||
            ola_kafka_put_var(out, open + 1, (size_t)(close - open - 1), e, tenant) != 0)
            goto fail;
        p = close + 1;
    }
    if (topic_safe)
        for (i = start; i < out->len; i++)
            if (!ola_kafka_topic_char(out->data[i]))
                out->data[i] = '_';
    return 0;
fail:
    out->len = start;
    if (out->data != NULL)
        out->data[start] = '\0';
    return -1;
}

int ola_kafka_template_check(const char *tmpl, struct ola_err *err)
{
    static const char *const vars[] = {"id", "category", "event_type_id", "tenant", NULL};
    const char *p = tmpl;

    while ((p = strchr(p, '{')) != NULL) {
        const char *close;
        size_t n, i;

        if (p[1] == '{') {
            p += 2;
            continue;
        }
        close = strchr(p, '}');
        if (close == NULL)
            return ola_err_set(err, EINVAL, "unclosed '{' in '%s'", tmpl);
        n = (size_t)(close - p - 1);
        for (i = 0; vars[i] != NULL; i++)
            if (strlen(vars[i]) == n && memcmp(vars[i], p + 1, n) == 0)
                break;
        if (vars[i] == NULL)
            return ola_err_set(err, EINVAL,
                               "unknown variable '{%.*s}' (known: {id}, {category}, "
                               "{event_type_id}, {tenant})",
                               (int)n, p + 1);
        p = close + 1;
    }
    return 0;
}
