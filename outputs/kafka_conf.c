/*
 * kafka_conf.c - the Kafka output's settings: its YAML map, read once.
 *
 * ola_kafka_init reads the output's map (brokers, topic, key, compression,
 * acks, idempotence, timeouts, queue limits and the `properties:` passed to
 * librdkafka, with *_file secrets) into struct ola_kafka_settings, checks
 * what can be checked with a file:line, warns about settings that weaken
 * TLS or send passwords in clear, and hands the result to ola_kafka_open
 * (out_kafka.c). The librdkafka properties olagent sets from its own keys
 * are refused in `properties:`.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "outputs/kafka_priv.h"

static const char *const ola_kafka_compressions[] = {
    "none", "gzip", "snappy", "lz4", "zstd", NULL,
};
static const char *const ola_kafka_acks[] = {"all", "-1", "1", "0", NULL};

/*
 * The librdkafka properties that olagent sets from its own keys: overriding
 * them in `properties:` could void the delivery guarantee (acks 0) or say
 * one thing in two places, so they are refused. Returns the key to use.
 */
const char *ola_kafka_own_key(const char *prop)
{
    static const char *const map[][2] = {
        {"bootstrap.servers", "brokers"},
        {"metadata.broker.list", "brokers"},
        {"acks", "acks"},
        {"request.required.acks", "acks"},
        {"enable.idempotence", "idempotence"},
        {"compression.codec", "compression"},
        {"compression.type", "compression"},
        {"message.timeout.ms", "message_timeout"},
        {"delivery.timeout.ms", "message_timeout"},
        {"queue.buffering.max.messages", "queue_max_messages"},
        {"queue.buffering.max.kbytes", "queue_max_size"},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(prop, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

/* True when a librdkafka property turns TLS certificate or host name checks off. */
static bool ola_kafka_verify_off(const char *name, const char *value)
{
    if (strcmp(name, "enable.ssl.certificate.verification") == 0)
        return strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
               strcasecmp(value, "no") == 0 || strcasecmp(value, "off") == 0;
    if (strcmp(name, "ssl.endpoint.identification.algorithm") == 0)
        return strcasecmp(value, "none") == 0 || value[0] == '\0';
    return false;
}

/*
 * sasl.mechanism PLAIN over security.protocol sasl_plaintext sends the
 * password in clear text: a config warning on the mechanism's node.
 */
static void ola_kafka_warn_plain(const char *const *names, const char *const *values,
                                 const struct ola_cfg *const *nodes, size_t n)
{
    const struct ola_cfg *mech = NULL;
    bool clear = false;
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(names[i], "security.protocol") == 0)
            clear = strcasecmp(values[i], "sasl_plaintext") == 0;
        else if ((strcmp(names[i], "sasl.mechanism") == 0 ||
                  strcmp(names[i], "sasl.mechanisms") == 0) &&
                 strcasecmp(values[i], "PLAIN") == 0)
            mech = nodes[i];
        else if (strcmp(names[i], "sasl.mechanism") == 0 ||
                 strcmp(names[i], "sasl.mechanisms") == 0)
            mech = NULL;
    }
    if (clear && mech != NULL)
        ola_cfg_warn(mech,
                     "%s is PLAIN over security.protocol sasl_plaintext: the SASL "
                     "password crosses the network in clear text (use sasl_ssl)",
                     ola_cfg_path(mech));
}

/* Puts the property's file:line (or "properties.") before the message in err. */
void ola_kafka_prop_error(struct ola_err *err, const struct ola_kafka_settings *ks,
                          size_t i)
{
    char msg[OLA_ERR_MSG_MAX];

    if (ks->prop_nodes != NULL && ks->prop_nodes[i] != NULL) {
        snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
        ola_cfg_errf(err, ks->prop_nodes[i], "properties.%s", msg);
    } else {
        ola_err_prefix(err, "properties");
    }
}

/* ---- the keys ---------------------------------------------------------------- */

#define OLA_KC_OFF(f) offsetof(struct ola_kafka_conf, f)

/* brokers: "host:port,host:port" or a list of host:port. */
static int ola_kafka_brokers_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                  void *obj, void *ctx, struct ola_err *err)
{
    struct ola_kafka_conf *c = obj;
    const struct ola_cfg *brokers = ola_cfg_get(map, opt->name);
    size_t i;

    (void)ctx;
    if (ola_cfg_type(brokers) == OLA_CFG_SEQ) {
        for (i = 0; i < ola_cfg_len(brokers); i++) {
            const char *b = ola_cfg_scalar(ola_cfg_at(brokers, i));

            if (b == NULL)
                return ola_cfg_errf(err, ola_cfg_at(brokers, i),
                                    "brokers: not a host:port");
            if ((i > 0 && ola_buf_putc(&c->brokers, ',')) || ola_buf_puts(&c->brokers, b))
                return ola_err_set(err, ENOMEM, "out of memory");
        }
        c->ks.brokers = c->brokers.data;
    } else if (ola_cfg_str(map, opt->name, NULL, &c->ks.brokers, err) != 0) {
        return -1;
    }
    if (c->ks.brokers == NULL || c->ks.brokers[0] == '\0')
        return ola_cfg_errf(err, brokers != NULL ? brokers : map,
                            "outputs: kafka: brokers: required (host:port, ...)");
    return 0;
}

/* topic and key: templates whose variables exist. */
static int ola_kafka_template_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                   void *obj, void *ctx, struct ola_err *err)
{
    const char *tmpl =
        *(const char *const *)(const void *)((const char *)obj + opt->offset);
    char msg[OLA_ERR_MSG_MAX];

    (void)ctx;
    if (ola_kafka_template_check(tmpl, err) == 0)
        return 0;
    snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
    return ola_cfg_errf(err, ola_cfg_get(map, opt->name), "%s: %s", opt->name, msg);
}

static int ola_kafka_acks_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                               void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_kafka_conf *c = obj;

    (void)ctx;
    if (strcmp(ola_kafka_acks[c->acks], "0") == 0)
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "acks: 0 gives no delivery report; use all or 1");
    return 0;
}

static int ola_kafka_timeout_hook(const struct ola_cfg *map, const struct ola_opt *opt,
                                  void *obj, void *ctx, struct ola_err *err)
{
    const struct ola_kafka_conf *c = obj;

    (void)ctx;
    if (c->ks.message_timeout_ms > 0 && c->ks.message_timeout_ms < 1000)
        return ola_cfg_errf(err, ola_cfg_get(map, opt->name),
                            "message_timeout: 0 (never give up) or at least 1s");
    return 0;
}

const struct ola_opt ola_kafka_options[] = {
    {.name = "brokers",
     .type = OLA_OPT_STR,
     .offset = OLA_KC_OFF(ks.brokers),
     .hook = ola_kafka_brokers_hook,
     .flags = OLA_OPT_MANUAL,
     .help = "host:port,... or a list (required)"},
    {.name = "topic",
     .type = OLA_OPT_STR,
     .offset = OLA_KC_OFF(ks.topic),
     .def_str = "onelogin.events",
     .hook = ola_kafka_template_hook,
     .help = "template: {category}, {event_type_id}, {id}"},
    {.name = "key",
     .type = OLA_OPT_STR,
     .offset = OLA_KC_OFF(ks.key),
     .def_str = "{id}",
     .hook = ola_kafka_template_hook,
     .help = "template like topic; \"\" for no key"},
    {.name = "compression",
     .type = OLA_OPT_ENUM,
     .offset = OLA_KC_OFF(compression),
     .names = ola_kafka_compressions,
     .help = "none, gzip, snappy, lz4, zstd"},
    {.name = "acks",
     .type = OLA_OPT_ENUM,
     .offset = OLA_KC_OFF(acks),
     .names = ola_kafka_acks,
     .hook = ola_kafka_acks_hook,
     .help = "all or 1 (1 needs idempotence: false)"},
    {.name = "idempotence",
     .type = OLA_OPT_BOOL,
     .offset = OLA_KC_OFF(ks.idempotence),
     .def_int = 1,
     .help = "the idempotent producer (needs acks: all)"},
    {.name = "message_timeout",
     .type = OLA_OPT_DURATION,
     .offset = OLA_KC_OFF(ks.message_timeout_ms),
     .def_int = 0, /* never give up: no re-produce, no duplicate */
     .min = 0,
     .max = INT32_MAX,
     .hook = ola_kafka_timeout_hook,
     .help = "0: never give up (no re-produce); or at least 1s"},
    {.name = "queue_max_messages",
     .type = OLA_OPT_INT,
     .offset = OLA_KC_OFF(ks.queue_max_messages),
     .def_int = 100000,
     .min = 1,
     .max = 10000000,
     .help = "librdkafka's queue limit in messages"},
    {.name = "queue_max_size",
     .type = OLA_OPT_SIZE,
     .offset = OLA_KC_OFF(ks.queue_max_bytes),
     .def_size = 64u * 1024 * 1024,
     .help = "librdkafka's queue limit in bytes"},
    {.name = "properties",
     .type = OLA_OPT_OTHER,
     .flags = OLA_OPT_MANUAL, /* read by ola_kafka_init */
     .help = "librdkafka properties: TLS, SASL, tuning"},
    {.name = NULL},
};

void ola_kafka_conf_free(struct ola_kafka_conf *c)
{
    if (c == NULL)
        return;
    ola_buf_free(&c->brokers);
    c->ks.brokers = NULL;
}

/* The defaults are the table's: one place says them. */
void ola_kafka_settings_defaults(struct ola_kafka_settings *ks)
{
    struct ola_kafka_conf c;

    memset(&c, 0, sizeof(c));
    ola_opts_defaults(ola_kafka_options, &c);
    *ks = c.ks;
    ks->compression = ola_kafka_compressions[c.compression];
    ks->acks = ola_kafka_acks[c.acks];
}

/* Reads the properties, checks what spans keys, then opens. */
int ola_kafka_init(struct ola_output *o, const struct ola_cfg *node, struct ola_err *err)
{
    const struct ola_kafka_conf *c = o->settings;
    struct ola_kafka_settings ks = c->ks;
    const struct ola_cfg *props = ola_cfg_get(node, "properties");
    const struct ola_cfg *bad = NULL;
    const char **names = NULL, **values = NULL;
    const struct ola_cfg **nodes = NULL;
    char **bases = NULL; /* names of *_file entries without the suffix */
    bool *secret = NULL;
    int rc = -1;
    size_t i, n = 0;

    ks.compression = ola_kafka_compressions[c->compression];
    ks.acks = ola_kafka_acks[c->acks];
    if (strcmp(ks.acks, "1") == 0 && ks.idempotence) {
        ola_cfg_errf(err, ola_cfg_get(node, "acks"),
                     "acks: idempotence needs acks: all (or set idempotence: false)");
        goto fail;
    }
    if (props != NULL && ola_cfg_type(props) != OLA_CFG_MAP &&
        ola_cfg_type(props) != OLA_CFG_NULL) {
        ola_cfg_errf(err, props, "properties: must be a map of librdkafka properties");
        goto fail;
    }
    n = ola_cfg_type(props) == OLA_CFG_MAP ? ola_cfg_len(props) : 0;
    if (n > 0) {
        names = calloc(n, sizeof(*names));
        values = calloc(n, sizeof(*values));
        nodes = calloc(n, sizeof(*nodes));
        bases = calloc(n, sizeof(*bases));
        secret = calloc(n, sizeof(*secret));
        if (names == NULL || values == NULL || nodes == NULL || bases == NULL ||
            secret == NULL) {
            ola_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        for (i = 0; i < n; i++) {
            const char *key = ola_cfg_key_at(props, i);
            size_t kl = strlen(key);

            names[i] = key;
            nodes[i] = ola_cfg_at(props, i);
            values[i] = ola_cfg_scalar(nodes[i]);
            if (values[i] == NULL) {
                bad = nodes[i];
                break;
            }
            secret[i] = ola_cfg_is_secret(nodes[i]);
            if (kl > 5 && strcmp(key + kl - 5, "_file") == 0) {
                /* sasl.password_file: /run/secrets/kafka -> sasl.password */
                bases[i] = strndup(key, kl - 5);
                if (bases[i] == NULL) {
                    ola_err_set(err, ENOMEM, "out of memory");
                    goto fail;
                }
                if (ola_cfg_secret(props, bases[i], &values[i], err) != 0)
                    goto fail;
                names[i] = bases[i];
                secret[i] = true;
            }
        }
        if (bad != NULL) {
            ola_cfg_errf(err, bad, "properties.%s: must be a scalar", names[i]);
            goto fail;
        }
        for (i = 0; i < n; i++)
            if (ola_kafka_verify_off(names[i], values[i]))
                ola_cfg_warn(nodes[i],
                             "properties.%s: %s turns off the check of the brokers' "
                             "certificates: anyone on the path can read and change the "
                             "audit trail",
                             names[i], values[i]);
        ola_kafka_warn_plain(names, values, nodes, n);
    }
    ks.n_props = n;
    ks.prop_names = names;
    ks.prop_values = values;
    ks.prop_nodes = nodes;
    ks.prop_secret = secret;
    if (ola_kafka_open(o, &ks, err) != 0) {
        /* Errors from open that carry no file:line yet get the output's. */
        const char *file = ola_cfg_file(node);

        if (err != NULL && file != NULL && strncmp(err->msg, file, strlen(file)) != 0) {
            char msg[OLA_ERR_MSG_MAX];

            snprintf(msg, sizeof(msg), "%s", err->msg);
            ola_cfg_errf(err, node, "outputs: kafka: %s", msg);
        }
        goto fail;
    }
    rc = 0;
fail:
    for (i = 0; bases != NULL && i < n; i++)
        free(bases[i]);
    free(bases);
    free(secret);
    free(names);
    free(values);
    free(nodes);
    return rc;
}
