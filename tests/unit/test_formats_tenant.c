/*
 * test_formats_tenant.c - where each format carries the record's tenant.
 *
 * The pipeline stamps olagent.tenant on every record of a batch (alerts
 * too: ola_batch_stamp_tenant). json splices it with the rest of the
 * olagent object; CEF writes it as deviceExternalId, LEEF as the custom
 * attribute tenant; a record without one (formats called on their own)
 * writes neither. Events and alerts, whole lines compared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outputs/formats/format.h"

static const struct ola_format_opts ola_opts = {.leef_delim = '^',
                                                .vendor = "V",
                                                .product = "P",
                                                .product_version = "1",
                                                .hostname = "collector-1"};

/* A batch of tenant with one event (raw bytes) and one alert, stamped. */
static void ola_batch_two(struct ola_batch *b, const char *tenant)
{
    static char raw[] = "{\"id\":7,\"event_type_id\":5,\"user_name\":\"alice\"}";
    struct ola_event *e;

    ola_batch_init(b);
    b->tenant = tenant;
    e = ola_batch_add(b, OLA_REC_EVENT, json_loads(raw, 0, NULL), raw, strlen(raw));
    assert_non_null(e);
    e->id = 7;
    e->created_ms = 1659956400000LL;
    assert_int_equal(ola_batch_stamp_tenant(b), 0);
    /* the alert comes after the stamp, as the rules raise it */
    e = ola_batch_add(b, OLA_REC_ALERT, json_pack("{s:s}", "x", "y"), NULL, 0);
    assert_non_null(e);
    e->created_ms = 1659956400000LL;
    assert_int_equal(
        json_object_set_new(ola_event_ola(e), "alert",
                            json_pack("{s:s,s:s,s:s,s:i}", "rule", "brute_force", "key",
                                      "alice", "key_field", "user_name", "count", 5)),
        0);
}

static void ola_expect(const char *format, const struct ola_event *e, const char *want)
{
    struct ola_buf out = OLA_BUF_INIT;

    assert_int_equal(ola_format_event(ola_format_find(format), e, &ola_opts, &out), 0);
    if (strcmp(out.data, want) != 0)
        fail_msg("%s:\n got %s\nwant %s", format, out.data, want);
    ola_buf_free(&out);
}

static void test_tenant_in_each_format(void **state)
{
    struct ola_batch b;

    (void)state;
    ola_batch_two(&b, "acme");
    ola_expect("json", &b.ev[0],
               "{\"id\":7,\"event_type_id\":5,\"user_name\":\"alice\","
               "\"olagent\":{\"tenant\":\"acme\"}}");
    ola_expect("cef", &b.ev[0],
               "CEF:0|V|P|1|5|event type 5|0|rt=1659956400000 externalId=7 "
               "duser=alice deviceExternalId=acme dvchost=collector-1");
    ola_expect("leef", &b.ev[0],
               "LEEF:2.0|V|P|1|5|^|devTime=2022-08-08T11:00:00.000Z^"
               "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX^usrName=alice^eventId=7^"
               "eventTypeId=5^devHostName=collector-1^tenant=acme");
    /* the alert the batch raised carries it too */
    ola_expect(
        "cef", &b.ev[1],
        "CEF:0|V|P|1|alert:brute_force|brute_force|0|rt=1659956400000 cat=alert "
        "act=brute_force cnt=5 cs1=alice cs1Label=Alert Key cs5=user_name "
        "cs5Label=Key Field duser=alice deviceExternalId=acme dvchost=collector-1");
    ola_expect(
        "leef", &b.ev[1],
        "LEEF:2.0|V|P|1|alert:brute_force|^|cat=alert^"
        "devTime=2022-08-08T11:00:00.000Z^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX^"
        "alertRule=brute_force^alertKey=alice^alertKeyField=user_name^"
        "alertCount=5^usrName=alice^devHostName=collector-1^tenant=acme");
    ola_batch_free(&b);
}

/* No tenant set: the batch's records say "default"; none stamped: no field. */
static void test_default_and_none(void **state)
{
    struct ola_batch b;
    struct ola_buf out = OLA_BUF_INIT;

    (void)state;
    ola_batch_two(&b, NULL);
    ola_expect("cef", &b.ev[0],
               "CEF:0|V|P|1|5|event type 5|0|rt=1659956400000 externalId=7 "
               "duser=alice deviceExternalId=default dvchost=collector-1");
    json_decref(b.ev[0].ola);
    b.ev[0].ola = NULL;
    assert_int_equal(ola_format_event(ola_format_find("cef"), &b.ev[0], &ola_opts, &out),
                     0);
    assert_null(strstr(out.data, "deviceExternalId"));
    ola_buf_reset(&out);
    assert_int_equal(ola_format_event(ola_format_find("leef"), &b.ev[0], &ola_opts, &out),
                     0);
    assert_null(strstr(out.data, "tenant="));
    ola_buf_free(&out);
    ola_batch_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_in_each_format),
        cmocka_unit_test(test_default_and_none),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
