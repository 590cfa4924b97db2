/*
 * tools.c - helpers of the benchmark and writer tools (tests/tools/).
 *
 * The tools link ola_testlib for these. Nothing here is timed or tuned: the
 * generated event is the one ola_file_bench and ola_kafka_bench always made
 * (the same text for the same seed), and an added line is parsed the lenient
 * way the tools always did (any JSON object; the agent's own admission,
 * ola_event_admit, also squeezes the bytes and refuses events without an id).
 */
#include "tests/lib/tools.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/core/timeutil.h"

double ola_tool_secs(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ola_tool_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int ola_tool_gen_event(struct ola_buf *b, struct ola_rng *rng, int64_t id, int64_t ms)
{
    static const char *const users[] = {"Alex Sample",     "Dana Ortiz",  "Kim Lee",
                                        "Priya Natarajan", "Olu Adeyemi", "Jo Schmidt"};
    static const int types[] = {5, 6, 8, 11, 13, 17, 24, 111, 112};
    uint64_t r = ola_rng_next(rng);
    const char *user = users[r % 6];
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char when[32];

    gmtime_r(&s, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    return ola_buf_printf(
        b,
        "{\"id\":%lld,\"created_at\":\"%s.%03dZ\",\"account_id\":55555,\"user_id\":%llu,"
        "\"event_type_id\":%d,\"notes\":null,\"ipaddr\":\"%u.%u.%u.%u\","
        "\"actor_user_id\":%llu,\"assuming_acting_user_id\":null,\"role_id\":null,"
        "\"app_id\":null,\"group_id\":null,\"otp_device_id\":null,\"policy_id\":null,"
        "\"actor_system\":\"\",\"custom_message\":null,\"role_name\":null,"
        "\"app_name\":null,\"group_name\":null,\"actor_user_name\":\"%s\","
        "\"user_name\":\"%s\",\"policy_name\":null,\"otp_device_name\":null,"
        "\"operation_name\":null,\"directory_sync_run_id\":null,\"directory_id\":null,"
        "\"resolution\":null,\"client_id\":null,\"resource_type_id\":null,"
        "\"error_description\":null,\"proxy_ip\":null,\"risk_score\":%u,"
        "\"risk_reasons\":null,\"risk_cookie_id\":\"%016llx\","
        "\"browser_fingerprint\":null}",
        (long long)id, when, (int)(ms % 1000), (unsigned long long)(80000000 + r % 5000),
        types[(r >> 8) % 9], (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255,
        (unsigned)(r >> 32) & 255, (unsigned)(r >> 40) & 255,
        (unsigned long long)(70000000 + (r >> 12) % 300), user, user, (unsigned)(r % 100),
        (unsigned long long)ola_rng_next(rng));
}

struct ola_event *ola_tool_add_line(struct ola_batch *b, const char *raw, size_t len,
                                    json_error_t *jerr)
{
    json_t *ev = json_loadb(raw, len, 0, jerr);
    struct ola_event *e;
    const char *created;

    if (ev == NULL || !json_is_object(ev)) {
        if (ev != NULL)
            snprintf(jerr->text, sizeof(jerr->text), "not a JSON object");
        json_decref(ev);
        return NULL;
    }
    e = ola_batch_add(b, OLA_REC_EVENT, ev, raw, len); /* frees ev when it fails */
    if (e == NULL) {
        snprintf(jerr->text, sizeof(jerr->text), "out of memory");
        return NULL;
    }
    e->id = json_integer_value(json_object_get(ev, "id"));
    created = json_string_value(json_object_get(ev, "created_at"));
    if (created == NULL || ola_time_parse_iso(created, &e->created_ms) != 0)
        e->created_ms = 0;
    return e;
}
