#!/usr/bin/env python3
"""s3_fake.py - an S3-compatible object store for the s3 output's tests (stdlib only).

It takes path-style PUT /BUCKET/KEY over HTTP/1.1 (keep-alive, Expect:
100-continue) and checks each request as S3 does before storing anything:

  - Authorization: AWS4-HMAC-SHA256 with Credential=ID/DATE/REGION/s3/aws4_request,
    SignedHeaders and Signature. The fake rebuilds the canonical request
    (method, URI-encoded path, canonical query, the signed headers lower-cased
    with trimmed values, the signed header list, the payload hash), the string
    to sign (algorithm, X-Amz-Date, scope, SHA-256 of the canonical request)
    and the signing key (HMAC-SHA256 chain from "AWS4" + secret over the date,
    region, "s3", "aws4_request") from the AWS Signature Version 4
    specification, and compares signatures: 403 SignatureDoesNotMatch. An
    unknown access key id: 403 InvalidAccessKeyId; another region: 400
    AuthorizationHeaderMalformed; X-Amz-Date more than 15 minutes off: 403
    RequestTimeTooSkewed; host, x-amz-date, x-amz-content-sha256 or any x-amz-*
    header sent but not signed: 403 AccessDenied.
  - x-amz-content-sha256 is required (400 InvalidRequest) and must be the
    body's SHA-256 (400 XAmzContentSHA256Mismatch).
  - a bucket other than --bucket: 404 NoSuchBucket.

Accepted objects are stored at DIR/bucket/BUCKET/KEY (written to a temporary
file and renamed, so the test reads whole objects only: the "download"), and
one line per stored object goes to DIR/puts.ndjson (key, size, sha256).

Faults, from a generator seeded by --seed, drawn per signed request:
  --pslowdown P --burst N  a burst of N answers 503 SlowDown starts
  --p500 P                 500 InternalError
GET /_stats answers the counts; POST /_faults sets pslowdown, burst, p500.
The port goes to --port-file.
"""

import argparse
import datetime
import hashlib
import hmac
import json
import os
import random
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def hmac256(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = hmac256(("AWS4" + secret).encode("utf-8"), date)
    k = hmac256(k, region)
    k = hmac256(k, service)
    return hmac256(k, "aws4_request")


def uri_encode(s, slash_ok):
    """RFC 3986 unreserved characters stay; S3 encodes the path once."""
    safe = "-_.~" + ("/" if slash_ok else "")
    return urllib.parse.quote(s, safe=safe)


def canonical_query(q):
    pairs = urllib.parse.parse_qsl(q, keep_blank_values=True)
    enc = sorted((uri_encode(k, False), uri_encode(v, False)) for k, v in pairs)
    return "&".join("%s=%s" % kv for kv in enc)


def parse_auth(v):
    """{'cred': [...], 'signed': [...], 'sig': str} or None."""
    alg = "AWS4-HMAC-SHA256 "
    if not v or not v.startswith(alg):
        return None
    parts = {}
    for p in v[len(alg):].split(","):
        k, _, val = p.strip().partition("=")
        parts[k] = val
    try:
        return {"cred": parts["Credential"].split("/"),
                "signed": parts["SignedHeaders"].split(";"),
                "sig": parts["Signature"]}
    except KeyError:
        return None


class State:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.rng = random.Random(a.seed)
        self.f = {"pslowdown": a.pslowdown, "burst": a.burst, "p500": a.p500}
        self.burst_left = 0
        self.stats = {"requests": 0, "stored": 0, "SlowDown": 0, "InternalError": 0,
                      "SignatureDoesNotMatch": 0, "InvalidAccessKeyId": 0,
                      "AccessDenied": 0, "XAmzContentSHA256Mismatch": 0,
                      "InvalidRequest": 0, "NoSuchBucket": 0, "RequestTimeTooSkewed": 0,
                      "AuthorizationHeaderMalformed": 0, "overwrites": 0,
                      "expect_100": 0}
        self.root = os.path.join(a.dir, "bucket")
        os.makedirs(os.path.join(self.root, a.bucket), exist_ok=True)
        self.puts = open(os.path.join(a.dir, "puts.ndjson"), "a", encoding="utf-8")

    def draw(self):
        with self.lock:
            if self.burst_left > 0:
                self.burst_left -= 1
                return "SlowDown"
            r = self.rng.random()
            if r < self.f["pslowdown"]:
                self.burst_left = max(0, int(self.f["burst"]) - 1)
                return "SlowDown"
            if r - self.f["pslowdown"] < self.f["p500"]:
                return "InternalError"
            return None

    def count(self, k):
        with self.lock:
            self.stats[k] = self.stats.get(k, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_expect_100(self):
        self.server.st.count("expect_100")
        return super().handle_expect_100()

    def error(self, status, code, message):
        st = self.server.st
        st.count(code)
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                "<Message>%s</Message><Resource>%s</Resource><RequestId>fake</RequestId>"
                "</Error>" % (code, message, self.path)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def json_answer(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.st
        if self.path == "/_stats":
            with st.lock:
                self.json_answer(dict(st.stats))
            return
        self.error(405, "MethodNotAllowed", "this fake stores objects only")

    def do_POST(self):
        st = self.server.st
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        if self.path == "/_faults":
            with st.lock:
                st.f.update(json.loads(body))
                self.json_answer(st.f)
            return
        self.error(405, "MethodNotAllowed", "this fake stores objects only")

    def check_signature(self, body):
        """None when the request is signed right, else (status, code, message)."""
        a = self.server.st.a
        auth = parse_auth(self.headers.get("Authorization"))
        if auth is None:
            return 403, "AccessDenied", "no AWS4-HMAC-SHA256 Authorization header"
        cred = auth["cred"]
        if len(cred) != 5 or cred[3] != "s3" or cred[4] != "aws4_request":
            return 400, "AuthorizationHeaderMalformed", "bad credential scope"
        if cred[0] != a.access_key:
            return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist"
        if cred[2] != a.region:
            return 400, "AuthorizationHeaderMalformed", "the region '%s' is wrong; expecting '%s'" % (cred[2], a.region)
        amzdate = self.headers.get("X-Amz-Date", "")
        try:
            t = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return 403, "AccessDenied", "no valid X-Amz-Date"
        now = datetime.datetime.now(datetime.timezone.utc)
        if abs((now - t).total_seconds()) > 15 * 60:
            return 403, "RequestTimeTooSkewed", "the difference between the request time and the current time is too large"
        if cred[1] != amzdate[:8]:
            return 403, "SignatureDoesNotMatch", "credential date is not the X-Amz-Date's"
        signed = auth["signed"]
        if signed != sorted(signed):
            return 403, "SignatureDoesNotMatch", "SignedHeaders not sorted"
        sent = {k.lower() for k in self.headers.keys()}
        for h in ["host", "x-amz-date", "x-amz-content-sha256"]:
            if h not in signed:
                return 403, "AccessDenied", "%s is not signed" % h
        for h in sent:
            if h.startswith("x-amz-") and h not in signed:
                return 403, "AccessDenied", "%s is sent but not signed" % h
        for h in signed:
            if h not in sent:
                return 403, "SignatureDoesNotMatch", "signed header %s was not sent" % h
        payload = self.headers.get("x-amz-content-sha256")
        path, _, query = self.path.partition("?")
        canon_headers = ""
        for h in signed:
            vals = self.headers.get_all(h) or []
            v = ",".join(" ".join(x.split()) for x in vals)
            canon_headers += "%s:%s\n" % (h, v)
        creq = "\n".join([self.command, uri_encode(urllib.parse.unquote(path), True),
                          canonical_query(query), canon_headers, ";".join(signed),
                          payload])
        scope = "/".join(cred[1:])
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(creq.encode("utf-8")).hexdigest()])
        key = signing_key(a.secret, cred[1], cred[2], cred[3])
        want = hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, auth["sig"]):
            return 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        return None

    def do_PUT(self):
        st = self.server.st
        a = st.a
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        st.count("requests")
        payload = self.headers.get("x-amz-content-sha256")
        if payload is None:
            self.error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
            return
        bad = self.check_signature(body)
        if bad is not None:
            self.error(*bad)
            return
        if payload != hashlib.sha256(body).hexdigest():
            self.error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
            return
        path = urllib.parse.unquote(self.path.partition("?")[0])
        bucket, _, key = path.lstrip("/").partition("/")
        if bucket != a.bucket:
            self.error(404, "NoSuchBucket", "The specified bucket does not exist")
            return
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts):
            self.error(400, "InvalidArgument", "a key this fake cannot store")
            return
        fault = st.draw()
        if fault == "SlowDown":
            self.error(503, "SlowDown", "Please reduce your request rate.")
            return
        if fault == "InternalError":
            self.error(500, "InternalError", "We encountered an internal error. Please try again.")
            return
        dest = os.path.join(st.root, bucket, *parts)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        tmp = "%s.part.%d" % (dest, threading.get_ident())
        with open(tmp, "wb") as f:
            f.write(body)
        with st.lock:
            if os.path.exists(dest):
                st.stats["overwrites"] += 1
            os.rename(tmp, dest)
            st.stats["stored"] += 1
            st.puts.write(json.dumps({"key": key, "size": len(body), "sha256": payload,
                                      "type": self.headers.get("Content-Type")}) + "\n")
            st.puts.flush()
        self.send_response(200)
        self.send_header("ETag", "\"%s\"" % hashlib.md5(body).hexdigest())
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--bucket", default="audit")
    p.add_argument("--region", default="eu-west-1")
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-env", default="S3_FAKE_SECRET",
                   help="the environment variable holding the secret (not argv: ps shows it)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pslowdown", type=float, default=0.0)
    p.add_argument("--burst", type=int, default=3)
    p.add_argument("--p500", type=float, default=0.0)
    a = p.parse_args()
    a.secret = os.environ.get(a.secret_env, "")
    if not a.secret:
        sys.exit("s3_fake: no secret in $%s" % a.secret_env)
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
    sys.exit(0)


if __name__ == "__main__":
    main()
