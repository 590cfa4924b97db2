/*
 * out_sentinel_token.c - the sentinel output's OAuth 2.0 access token.
 *
 * Microsoft Entra ID's client-credentials grant: a POST to
 * {authority}/{tenant_id}/oauth2/v2.0/token with the form body
 * grant_type=client_credentials, client_id, client_secret and scope
 * https://monitor.azure.com//.default; the answer is JSON with access_token,
 * token_type "Bearer" and expires_in (seconds). The token is kept until a
 * margin before it expires (a fifth of its lifetime, at most 5 minutes: a
 * one-hour token is renewed 5 minutes early, a 10 s test token 2 s early),
 * and fetched again when the ingestion endpoint refused it (the output marks
 * it refused; out_sentinel.c). The fetch is one blocking libcurl request over
 * the output's TLS and proxy settings, bounded by its timeout: it happens
 * about once an hour, inside a flush. The secret (in the form body) and the
 * token (in the answer and in t->value) are wiped from memory when dropped
 * and never reach a log line or a reason: an error names the HTTP status and
 * Entra's error code and the first words of its description, which never
 * carry the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent/core/secret.h"
#include "agent/core/timeutil.h"
#include "outputs/out_sentinel.h"

#define OLA_AZ_MARGIN_MAX_MS (5 * 60 * 1000) /* renew at most this early */
#define OLA_AZ_LIFE_MAX_S    (24 * 3600)     /* a longer expires_in counts as 24 h */
#define OLA_AZ_ANSWER_MAX    (64u << 10)     /* a token answer is a few KiB */

int ola_az_token_url(const char *authority, const char *tenant, char **out)
{
    size_t a = strlen(authority), n = a + strlen(tenant) + sizeof("//oauth2/v2.0/token");
    char *u = malloc(n);
    int w;

    *out = NULL;
    if (u == NULL)
        return -1;
    while (a > 0 && authority[a - 1] == '/')
        a--;
    w = snprintf(u, n, "%.*s/%s/oauth2/v2.0/token", (int)a, authority, tenant);
    if (w < 0 || (size_t)w >= n) {
        free(u);
        return -1;
    }
    *out = u;
    return 0;
}

bool ola_az_token_valid(const struct ola_az_token *t, int64_t now_mono_ms)
{
    int64_t margin =
        t->life_ms / 5 < OLA_AZ_MARGIN_MAX_MS ? t->life_ms / 5 : OLA_AZ_MARGIN_MAX_MS;

    return t->value != NULL && !t->refused && t->expiry_mono_ms - margin > now_mono_ms;
}

static void ola_az_token_drop(struct ola_az_token *t)
{
    ola_secret_free(t->value);
    t->value = NULL;
    t->expiry_mono_ms = 0;
    t->life_ms = 0;
}

int ola_az_token_take(struct ola_az_token *t, const char *body, size_t len,
                      int64_t now_mono_ms, char *why, size_t cap)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *tok = json_string_value(json_object_get(root, "access_token"));
    const char *type = json_string_value(json_object_get(root, "token_type"));
    json_t *exp = json_object_get(root, "expires_in");
    long long secs = -1;
    char *copy = NULL;
    int rc = -1;

    /* Entra sends a number; some proxies and older endpoints a string */
    if (json_is_integer(exp)) {
        secs = json_integer_value(exp);
    } else if (json_is_string(exp)) {
        char *end;

        secs = strtoll(json_string_value(exp), &end, 10);
        if (end == json_string_value(exp) || *end != '\0')
            secs = -1;
    }
    if (!json_is_object(root)) {
        snprintf(why, cap, "the token answer is not a JSON object");
    } else if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n ") != NULL) {
        snprintf(why, cap, "the token answer has no usable access_token");
    } else if (type != NULL && strcasecmp(type, "Bearer") != 0) {
        snprintf(why, cap, "the token answer's token_type is not Bearer");
    } else if (secs <= 0) {
        snprintf(why, cap, "the token answer has no positive expires_in");
    } else if ((copy = strdup(tok)) == NULL) {
        snprintf(why, cap, "out of memory");
    } else {
        if (secs > OLA_AZ_LIFE_MAX_S)
            secs = OLA_AZ_LIFE_MAX_S;
        ola_az_token_drop(t);
        t->value = copy;
        t->life_ms = secs * 1000;
        t->expiry_mono_ms = now_mono_ms + t->life_ms;
        t->after_401 = t->refused; /* fetched because the last one was refused */
        t->refused = false;
        t->gen++;
        rc = 0;
    }
    if (root != NULL && tok != NULL) /* the tree's copy of the token */
        ola_secret_wipe((void *)(uintptr_t)tok, strlen(tok));
    json_decref(root);
    return rc;
}

static size_t ola_az_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
    struct ola_buf *b = arg;
    size_t n = size * nmemb;

    if (b->len + n > OLA_AZ_ANSWER_MAX)
        return 0; /* not a token answer: the transfer fails */
    return ola_buf_append(b, p, n) == 0 ? n : 0;
}

/* Appends "name=value" (value URL-encoded) to form, '&' first unless empty. */
static int ola_az_form(CURL *c, struct ola_buf *form, const char *name, const char *value)
{
    char *esc = curl_easy_escape(c, value, 0);
    int rc = -1;

    if (esc == NULL)
        return -1;
    if ((form->len == 0 || ola_buf_putc(form, '&') == 0) &&
        ola_buf_puts(form, name) == 0 && ola_buf_putc(form, '=') == 0 &&
        ola_buf_puts(form, esc) == 0)
        rc = 0;
    ola_secret_wipe(esc, strlen(esc));
    curl_free(esc);
    return rc;
}

/* The printable first bytes of s (n) into buf, for a reason. */
static const char *ola_az_head(const char *s, size_t n, char *buf, size_t cap)
{
    size_t i;

    if (n > cap - 1)
        n = cap - 1;
    for (i = 0; i < n; i++)
        buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : ' ';
    buf[n] = '\0';
    return buf;
}

/* A refusal: "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret ...". */
static void ola_az_refusal(long status, const struct ola_buf *ans, char *why, size_t cap)
{
    json_t *root = json_loadb(ans->data ? ans->data : "", ans->len, 0, NULL);
    const char *code = json_string_value(json_object_get(root, "error"));
    const char *desc = json_string_value(json_object_get(root, "error_description"));
    char head[120];

    if (code != NULL)
        snprintf(why, cap, "HTTP %ld %.40s: %s", status, code,
                 ola_az_head(desc ? desc : "", desc ? strcspn(desc, "\r\n") : 0, head,
                             sizeof(head)));
    else
        snprintf(why, cap, "HTTP %ld: %s", status,
                 ola_az_head(ans->data ? ans->data : "", ans->len, head, sizeof(head)));
    json_decref(root);
}

enum ola_rc ola_az_token_fetch(struct ola_az_token *t, const struct ola_ho_conf *c,
                               const char *client_id, const char *secret, char *why,
                               size_t cap)
{
    CURL *e = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct ola_buf form = {0}, ans = {0};
    char errbuf[CURL_ERROR_SIZE] = "", detail[200];
    enum ola_rc rc = OLA_RETRY;
    long status = 0;
    CURLcode cc;
    int bad = 0;

    if (e == NULL || ola_az_form(e, &form, "grant_type", "client_credentials") != 0 ||
        ola_az_form(e, &form, "client_id", client_id) != 0 ||
        ola_az_form(e, &form, "client_secret", secret) != 0 ||
        ola_az_form(e, &form, "scope", OLA_AZ_SCOPE) != 0 ||
        (hdrs = curl_slist_append(
             NULL, "Content-Type: application/x-www-form-urlencoded")) == NULL) {
        snprintf(why, cap, "token: out of memory");
        goto fail;
    }
    bad |= curl_easy_setopt(e, CURLOPT_URL, t->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "olagent/" OLA_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, c->proxy ? c->proxy : "") != CURLE_OK;
    if (c->ca_file != NULL)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
    if (c->client_cert != NULL)
        bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert) != CURLE_OK;
    if (c->client_key != NULL)
        bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form.len) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, form.data) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ola_az_write_cb) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &ans) != CURLE_OK;
    if (bad) {
        snprintf(why, cap, "token: cannot set up the request");
        goto fail;
    }
    cc = curl_easy_perform(e);
    if (cc == CURLE_OK)
        (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status == 0) {
        snprintf(why, cap, "token: no answer from the authority: %.150s",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
    } else if (status >= 200 && status < 300) {
        if (ola_az_token_take(t, ans.data ? ans.data : "", ans.len, ola_mono_ms(), detail,
                              sizeof(detail)) == 0)
            rc = OLA_OK;
        else
            snprintf(why, cap, "token: %s", detail);
    } else if (status == 408 || status == 429 || status >= 500) {
        ola_az_refusal(status, &ans, detail, sizeof(detail));
        snprintf(why, cap, "token: the authority is unavailable: %s", detail);
    } else {
        ola_az_refusal(status, &ans, detail, sizeof(detail));
        snprintf(why, cap,
                 "token: the authority refused the client credentials (tenant_id, "
                 "client_id, client_secret): %s",
                 detail);
        rc = OLA_FATAL;
    }
fail:
    if (form.data != NULL)
        ola_secret_wipe(form.data, form.cap);
    if (ans.data != NULL)
        ola_secret_wipe(ans.data, ans.cap);
    ola_buf_free(&form);
    ola_buf_free(&ans);
    curl_slist_free_all(hdrs);
    if (e != NULL)
        curl_easy_cleanup(e);
    return rc;
}

void ola_az_token_free(struct ola_az_token *t)
{
    ola_az_token_drop(t);
    free(t->url);
    t->url = NULL;
}
