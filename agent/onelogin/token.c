/*
 * token.c - the OneLogin client's v2 access token: fetch, cache, expiry.
 *
 * POST /auth/oauth2/v2/token with HTTP Basic (client id and secret). The
 * token is kept until created_at + expires_in on the server's clock
 * (expires_in taken up to 24 h; no usable created_at: the answer's Date),
 * renewed a margin early: 60 s, or a tenth of a shorter lifetime. A failed
 * token request arms a backoff during which no token request is sent, so a
 * caller's loop cannot hammer the endpoint: the failure stands and says when
 * the next request may go. The wait is the agent's one backoff (backoff.h):
 * its ceiling as a floor plus its full-jitter draw, 2.5-5 s, then 5-10 s, ...
 * at most 5 min; a longer Retry-After wins. The token and the answer that
 * carried it are wiped from memory when dropped; neither reaches a reason or
 * a log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/core/backoff.h"
#include "agent/core/log.h"
#include "agent/core/secret.h"
#include "agent/core/stats.h"
#include "agent/core/timeutil.h"
#include "agent/onelogin/classify.h"
#include "agent/onelogin/client_priv.h"
#include "agent/onelogin/http.h"

#define OLA_OL_TOKEN_PATH        "/auth/oauth2/v2/token"
#define OLA_OL_TOKEN_MARGIN_MS   60000  /* expiring within this counts as expired */
#define OLA_OL_TOKEN_LIFE_MAX_S  86400  /* a longer expires_in counts as 24 h */
#define OLA_OL_TOKEN_BACKOFF_MS  5000   /* longest first wait after a failed request */
#define OLA_OL_TOKEN_BACKOFF_MAX 300000 /* longest wait; each >= half its bound */

void ola_ol_token_init(struct ola_ol_client *c, uint64_t seed)
{
    /* the floor is the backoff's ceiling, the draw adds up to as much again */
    ola_backoff_init(&c->token_bo, OLA_OL_TOKEN_BACKOFF_MS / 2,
                     OLA_OL_TOKEN_BACKOFF_MAX / 2, seed);
    c->token_next_ms = 0;
}

void ola_ol_drop_token(struct ola_ol_client *c)
{
    ola_secret_free(c->token);
    c->token = NULL;
    c->token_expiry_ms = 0;
    c->token_life_ms = 0;
    OLA_STAT_SET(token_ok, 0); /* /readyz: unready until a new token arrives */
}

void ola_ol_wipe_buf(struct ola_buf *b)
{
    if (b->data != NULL)
        ola_secret_wipe(b->data, b->cap);
    ola_buf_reset(b);
}

bool ola_ol_token_valid(const struct ola_ol_client *c)
{
    /* a 30 s token is renewed 3 s early, not fetched anew for every call */
    int64_t margin = c->token_life_ms / 10 < OLA_OL_TOKEN_MARGIN_MS
                         ? c->token_life_ms / 10
                         : OLA_OL_TOKEN_MARGIN_MS;

    return c->token != NULL && c->token_expiry_ms - margin > ola_ol_server_now_ms(c);
}

/* Reads a token answer (classified OK). Returns 0, or -1 with v set to RETRY. */
static int ola_ol_take_token(struct ola_ol_client *c, const struct ola_http_resp *rs,
                             struct ola_ol_verdict *v)
{
    json_t *root = json_loadb(c->token_body.data, c->token_body.len, 0, NULL);
    const char *tok = json_string_value(json_object_get(root, "access_token"));
    const char *created = json_string_value(json_object_get(root, "created_at"));
    json_t *exp = json_object_get(root, "expires_in");
    int64_t base, expires_s, date;
    int rc = -1;

    if (tok == NULL || tok[0] == '\0' || !json_is_integer(exp) ||
        json_integer_value(exp) <= 0) {
        v->status = OLA_OL_RETRY;
        ola_ol_reason(v->reason, sizeof(v->reason),
                      "token answer without access_token or expires_in (HTTP %ld)",
                      rs->status);
        goto fail;
    }
    expires_s = (int64_t)json_integer_value(exp);
    if (expires_s > OLA_OL_TOKEN_LIFE_MAX_S)
        expires_s = OLA_OL_TOKEN_LIFE_MAX_S; /* and base + expires_s * 1000 cannot wrap */
    if (created == NULL || ola_time_parse_iso(created, &base) != 0) {
        /* no usable created_at: count from receipt, on the server's clock */
        if (rs->date[0] != '\0' && ola_time_parse_http(rs->date, &date) == 0)
            base = date;
        else
            base = ola_ol_server_now_ms(c);
    }
    ola_ol_drop_token(c);
    c->token = strdup(tok);
    if (c->token == NULL) {
        v->status = OLA_OL_RETRY;
        ola_ol_reason(v->reason, sizeof(v->reason), "out of memory storing the token");
        goto fail;
    }
    c->token_life_ms = expires_s * 1000;
    c->token_expiry_ms = base + c->token_life_ms;
    OLA_STAT_SET(token_ok, 1);
    ola_log_debug("onelogin", "token fetched, valid for %llds more",
                  (long long)((c->token_expiry_ms - ola_ol_server_now_ms(c)) / 1000));
    rc = 0;
fail:
    json_decref(root); /* jansson frees the strings; the buffer is wiped below */
    return rc;
}

/*
 * Arms the token backoff after a failed token request: the backoff's ceiling
 * (a floor, so a caller's loop never meets a wait of 0) plus its full-jitter
 * draw; a longer Retry-After (a 429's reset, a 503's hint) wins.
 */
static void ola_ol_token_failed(struct ola_ol_client *c, const struct ola_ol_response *r)
{
    int64_t b = ola_backoff_ceiling(&c->token_bo);

    b += ola_backoff_next(&c->token_bo);
    if (r->retry_after_ms > b)
        b = r->retry_after_ms;
    c->token_next_ms = ola_mono_ms() + b;
    c->token_fail_http = r->http_status;
    snprintf(c->token_fail_reason, sizeof(c->token_fail_reason), "%s", r->reason);
}

/* Fetches a token into c. r: the answer when it fails. */
enum ola_ol_status ola_ol_fetch_token(struct ola_ol_client *c, struct ola_ol_response *r)
{
    static const char body[] = "{\"grant_type\":\"client_credentials\"}";
    struct ola_http_req rq = {0};
    struct ola_http_resp rs;
    struct ola_ol_verdict v;
    struct ola_buf url = OLA_BUF_INIT;
    int64_t now = ola_mono_ms();

    if (now < c->token_next_ms) {
        /* backoff: the previous failure stands, nothing is sent */
        r->http_status = c->token_fail_http;
        r->retry_after_ms = c->token_next_ms - now;
        ola_ol_reason(r->reason, sizeof(r->reason), "%s; next token request in %llds",
                      c->token_fail_reason,
                      (long long)((r->retry_after_ms + 999) / 1000));
        return c->token_fail_status;
    }
    if (ola_buf_printf(&url, "%s%s", c->base, OLA_OL_TOKEN_PATH) != 0) {
        snprintf(r->reason, sizeof(r->reason), "out of memory");
        return OLA_OL_RETRY;
    }
    rq.method = "POST";
    rq.url = url.data;
    rq.basic_user = c->client_id;
    rq.basic_pass = c->client_secret;
    rq.content_type = "application/json";
    rq.body = body;
    rq.body_len = sizeof(body) - 1;
    c->ctr.requests++;
    c->ctr.token_requests++;
    if (ola_http_do(c->http, &rq, &c->token_body, &rs) == 0)
        ola_ol_classify(rs.status, rs.content_type, c->token_body.data, c->token_body.len,
                        OLA_OL_CALL_TOKEN, &v);
    else
        ola_ol_classify_fail(rs.fail, rs.fail_msg, rs.status, &v);
    ola_ol_count(c, OLA_OL_TOKEN_PATH, rs.status);
    if (v.status == OLA_OL_OK)
        ola_ol_take_token(c, &rs, &v);
    ola_ol_wipe_buf(&c->token_body);
    ola_buf_free(&url);
    ola_ol_absorb(c, &rs, &v, r);
    if (v.status != OLA_OL_OK) {
        c->token_fail_status = v.status;
        ola_ol_token_failed(c, r);
        return v.status;
    }
    ola_backoff_reset(&c->token_bo);
    c->token_next_ms = 0;
    return OLA_OL_OK;
}
