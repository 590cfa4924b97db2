/*
 * output_tenant.c - the {tenant} variable of the outputs' names.
 *
 * One process serves many tenants and a batch holds events of one of them
 * (its name in struct ola_batch). The file output's path and the syslog
 * output's app_name may hold "{tenant}", replaced by the batch's tenant when
 * the name is used; config checks substitute the longest name a tenant can
 * have (OLA_TENANT_NAME_MAX characters), so a name that passes them fits every
 * tenant. The Kafka templates have their own expander (kafka_template.c).
 */
#include <string.h>

#include "outputs/output.h"

#define OLA_TENANT_VAR "{tenant}"

bool ola_output_has_tenant(const char *tmpl)
{
    return tmpl != NULL && strstr(tmpl, OLA_TENANT_VAR) != NULL;
}

int ola_output_tenant_expand(const char *tmpl, const char *tenant, char *out, size_t n)
{
    const size_t vlen = strlen(OLA_TENANT_VAR);
    size_t tlen = strlen(tenant), len = 0;
    const char *p = tmpl, *v;

    for (;;) {
        size_t k;

        v = strstr(p, OLA_TENANT_VAR);
        k = v != NULL ? (size_t)(v - p) : strlen(p);
        if (len + k >= n)
            return -1;
        memcpy(out + len, p, k);
        len += k;
        if (v == NULL)
            break;
        if (len + tlen >= n)
            return -1;
        memcpy(out + len, tenant, tlen);
        len += tlen;
        p = v + vlen;
    }
    out[len] = '\0';
    return (int)len;
}

int ola_output_tenant_longest(const char *tmpl, char *out, size_t n)
{
    char longest[OLA_TENANT_NAME_MAX + 1];

    memset(longest, 'x', OLA_TENANT_NAME_MAX);
    longest[OLA_TENANT_NAME_MAX] = '\0';
    return ola_output_tenant_expand(tmpl, longest, out, n);
}

const char *ola_output_tenant(struct ola_output *o, const struct ola_batch *b)
{
    const char *t = ola_batch_tenant(b);
    int n;

    if (ola_tenant_name_valid(t))
        return t;
    n = snprintf(o->last_error, sizeof(o->last_error),
                 "tenant name '%.40s' is not 1..%d of [a-z0-9_-]: not put in a name", t,
                 OLA_TENANT_NAME_MAX);
    if (n < 0)
        o->last_error[0] = '\0';
    o->stats.errors++;
    return NULL;
}
