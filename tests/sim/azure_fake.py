#!/usr/bin/env python3
"""azure_fake.py - Entra ID's token endpoint and the Azure Monitor Logs Ingestion
API, for the sentinel output's tests (stdlib only).

Token endpoint, POST /{tenant}/oauth2/v2.0/token (form body): checks
grant_type=client_credentials, the client id and secret and the scope
https://monitor.azure.com//.default, and answers as Entra does:
{"token_type":"Bearer","expires_in":S,"ext_expires_in":S,"access_token":...},
a random token that stops working S seconds later (--expires-in: short, so
tokens expire during a test). A wrong secret gets 401 invalid_client
(AADSTS7000215), an unknown tenant 400 invalid_request (AADSTS90002).

Ingestion, POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01:
checks the api-version (400), the DCR id and stream (404), "Authorization:
Bearer <token>" (401 when unknown, expired or revoked), the body size (413
over --max-bytes), "Content-Type: application/json", and that the body is a
JSON array of objects whose every key is a column of the stream declared in
--dcr (docs/sentinel-dcr.json) with a value of the column's type (400 naming
the first offence: stricter than Azure, which drops what does not fit, so a
drift between the output and the template fails the test). Accepted rows go
to DIR/rows.ndjson, one a line (a re-sent request's rows appear again), and
the answer is 204.

Faults from a generator seeded by --seed, per ingestion request: --p429 P
(with "Retry-After: --retry-after"), --p503 P. GET /_stats answers the
counts; POST /_faults sets p429, p503, retry_after, max_bytes while running,
and {"revoke": true} revokes every token issued so far (the next request with
one is answered 401). Every token issued is appended to DIR/tokens.txt so a
test can check none reaches a log. The port goes to --port-file.
"""

import argparse
import json
import os
import random
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCOPE = "https://monitor.azure.com//.default"
IN_FLIGHT = 0.25  # s: a request sent as a 429 went out is not "early"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?(Z|[+-]\d\d:\d\d)$")


def fits(typ, v):
    if typ in ("long", "int"):
        return isinstance(v, int) and not isinstance(v, bool) and (
            typ == "long" or -2**31 <= v < 2**31)
    if typ == "datetime":
        return isinstance(v, str) and ISO.match(v) is not None
    if typ == "dynamic":
        return isinstance(v, (dict, list))
    if typ == "string":
        return isinstance(v, str)
    if typ == "boolean":
        return isinstance(v, bool)
    if typ == "real":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return False


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.rng = random.Random(a.seed)
        self.f = {"p429": a.p429, "p503": a.p503, "retry_after": a.retry_after,
                  "max_bytes": a.max_bytes}
        self.tokens = {}  # token -> expiry (time.time())
        self.stats = {"tokens": 0, "token_refused": 0, "requests": 0, "accepted": 0,
                      "rows": 0, "401": 0, "401_expired": 0, "401_revoked": 0,
                      "413": 0, "429": 0, "503": 0, "400": 0, "404": 0, "early": 0,
                      "max_body": 0}
        self.retry_until = 0.0
        self.said_429 = 0.0
        dcr = json.load(open(a.dcr))
        decl = dcr["properties"]["streamDeclarations"]
        if a.stream not in decl:
            sys.exit("stream %s not declared in %s" % (a.stream, a.dcr))
        self.columns = {c["name"]: c["type"] for c in decl[a.stream]["columns"]}
        self.rows = open(os.path.join(a.dir, "rows.ndjson"), "a", encoding="utf-8")
        self.toklog = open(os.path.join(a.dir, "tokens.txt"), "a", encoding="utf-8")

    def count(self, k, n=1):
        with self.lock:
            self.stats[k] += n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=None, extra=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def azure_error(self, code, err, msg, extra=()):
        self.answer(code, {"error": {"code": err, "message": msg}}, extra)

    def do_GET(self):
        st = self.server.st
        if self.path == "/_stats":
            with st.lock:
                self.answer(200, dict(st.stats))
            return
        self.answer(404, {"error": "no such path"})

    def do_POST(self):
        st = self.server.st
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if url.path == "/_faults":
            req = json.loads(body)
            with st.lock:
                if req.pop("revoke", False):
                    for t in st.tokens:
                        st.tokens[t] = -1.0
                st.f.update(req)
            self.answer(200, st.f)
        elif len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            self.token(st, parts[0], body)
        elif len(parts) == 4 and parts[0] == "dataCollectionRules" and parts[2] == "streams":
            self.ingest(st, parts[1], parts[3], url.query, body)
        else:
            self.azure_error(404, "NotFound", "no such path")

    def token(self, st, tenant, body):
        a = st.a
        form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        get = lambda k: (form.get(k) or [""])[0]
        if self.headers.get("Content-Type", "").split(";")[0] != \
                "application/x-www-form-urlencoded" or get("grant_type") != "client_credentials":
            st.count("token_refused")
            self.answer(400, {"error": "unsupported_grant_type",
                              "error_description": "AADSTS70003: grant_type must be client_credentials"})
            return
        if tenant != a.tenant:
            st.count("token_refused")
            self.answer(400, {"error": "invalid_request",
                              "error_description": "AADSTS90002: Tenant '%s' not found." % tenant})
            return
        if get("scope") != SCOPE:
            st.count("token_refused")
            self.answer(400, {"error": "invalid_scope",
                              "error_description": "AADSTS1002012: The provided value for scope %s is not valid." % get("scope")})
            return
        if get("client_id") != a.client_id:
            st.count("token_refused")
            self.answer(400, {"error": "unauthorized_client",
                              "error_description": "AADSTS700016: Application with identifier '%s' was not found in the directory." % get("client_id")})
            return
        if get("client_secret") != a.client_secret:
            st.count("token_refused")
            self.answer(401, {"error": "invalid_client",
                              "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."})
            return
        tok = "eyJ0eXAi." + secrets.token_urlsafe(48)
        with st.lock:
            st.tokens[tok] = time.time() + a.expires_in
            st.stats["tokens"] += 1
            st.toklog.write(tok + "\n")
            st.toklog.flush()
        self.answer(200, {"token_type": "Bearer", "expires_in": a.expires_in,
                          "ext_expires_in": a.expires_in, "access_token": tok})

    def ingest(self, st, dcr, stream, query, body):
        a = st.a
        st.count("requests")
        q = urllib.parse.parse_qs(query)
        if q.get("api-version") != ["2023-01-01"]:
            st.count("400")
            self.azure_error(400, "InvalidApiVersion", "api-version must be 2023-01-01")
            return
        if dcr != a.dcr_id or stream != a.stream:
            st.count("404")
            self.azure_error(404, "NotFound", "no DCR %s with stream %s" % (dcr, stream))
            return
        auth = self.headers.get("Authorization", "")
        tok = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with st.lock:
            exp = st.tokens.get(tok)
            now = time.time()
            # after a 429, a request the client sent before it read the answer
            # may still arrive: only one later than IN_FLIGHT counts as early
            if st.said_429 + IN_FLIGHT < now < st.retry_until:
                st.stats["early"] += 1
        if exp is None or exp < now:
            st.count("401")
            if exp is not None:
                st.count("401_revoked" if exp < 0 else "401_expired")
            self.azure_error(401, "InvalidToken", "The access token is invalid or expired.")
            return
        with st.lock:
            r = st.rng.random()
            f = dict(st.f)
        if len(body) > f["max_bytes"]:
            st.count("413")
            self.azure_error(413, "ContentLengthLimitExceeded",
                             "The request body of %d bytes is over %d." % (len(body), f["max_bytes"]))
            return
        if r < f["p429"]:
            st.count("429")
            with st.lock:
                st.said_429 = time.time()
                st.retry_until = max(st.retry_until, st.said_429 + f["retry_after"] - 0.05)
            self.azure_error(429, "TooManyRequests", "slow down",
                             [("Retry-After", str(f["retry_after"]))])
            return
        if r < f["p429"] + f["p503"]:
            st.count("503")
            self.azure_error(503, "ServiceUnavailable", "try again")
            return
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            st.count("400")
            self.azure_error(400, "InvalidContentType", "application/json expected")
            return
        try:
            rows = json.loads(body.decode("utf-8"))
            if not isinstance(rows, list) or not rows:
                raise ValueError("the body is not a non-empty JSON array")
            for i, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise ValueError("row %d is not an object" % i)
                if "TimeGenerated" not in row:
                    raise ValueError("row %d has no TimeGenerated" % i)
                for k, v in row.items():
                    t = st.columns.get(k)
                    if t is None:
                        raise ValueError("row %d: %s is not a column of %s" % (i, k, a.stream))
                    if not fits(t, v):
                        raise ValueError("row %d: %s is not a %s: %r" % (i, k, t, v))
        except ValueError as e:
            st.count("400")
            self.azure_error(400, "InvalidContent", str(e))
            return
        with st.lock:
            for row in rows:
                st.rows.write(json.dumps(row, separators=(",", ":")) + "\n")
            st.rows.flush()
            st.stats["accepted"] += 1
            st.stats["rows"] += len(rows)
            st.stats["max_body"] = max(st.stats["max_body"], len(body))
        self.answer(204)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--dcr", required=True, help="the DCR template (docs/sentinel-dcr.json)")
    p.add_argument("--dcr-id", default="dcr-00000000000000000000000000000000")
    p.add_argument("--stream", default="Custom-OneLoginEvents_CL")
    p.add_argument("--tenant", default="72f988bf-0000-0000-0000-000000000047")
    p.add_argument("--client-id", default="11111111-2222-3333-4444-555555555555")
    p.add_argument("--client-secret", required=True)
    p.add_argument("--expires-in", type=int, default=3599)
    p.add_argument("--max-bytes", type=int, default=1 << 20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--p429", type=float, default=0.0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--p503", type=float, default=0.0)
    a = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.st = State(a)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
