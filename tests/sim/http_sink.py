#!/usr/bin/env python3
"""http_sink.py - a webhook receiver for the http output's tests (stdlib only).

It takes POST or PUT requests on any path over HTTP/1.1 with keep-alive (TLS
with --tls-cert/--tls-key), reads bodies framed as NDJSON or a JSON array
(by Content-Type), gzip-compressed when Content-Encoding says so, and stores
what it accepted:

  DIR/accepted.ndjson   every record of every accepted request, one a line,
                        in the order accepted (a re-sent request's records
                        appear again: the test counts duplicates)
  DIR/requests.ndjson   one line per accepted request: its Idempotency-Key,
                        method, content type, encoding, record count, first
                        and last id

Faults, drawn from a random generator seeded by --seed, per request:

  --p503 P --burst N    with probability P a burst of N answers 503 starts
  --p429 P --retry-after S   429 with "Retry-After: S"
  --pslow P --slow S    the answer comes S seconds late (stored first: a
                        client that gave up sends it again)
  --pclose P            stored, then the connection closes in the middle of
                        the answer's headers
  --reject-ids A,B      a request holding one of these ids is answered 400
                        with a JSON reason naming the id (nothing stored)
  --api-key K           requests without "X-Api-Key: K" are answered 401

GET /_stats answers the counts as JSON; POST /_faults with a JSON object
sets any of p503, burst, p429, retry_after, pslow, slow, pclose, reject_ids,
api_key while running. The port goes to --port-file.
"""

import argparse
import gzip
import json
import random
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, a):
        self.lock = threading.Lock()
        self.rng = random.Random(a.seed)
        self.f = {"p503": a.p503, "burst": a.burst, "p429": a.p429,
                  "retry_after": a.retry_after, "pslow": a.pslow, "slow": a.slow,
                  "pclose": a.pclose, "api_key": a.api_key,
                  "reject_ids": [int(x) for x in a.reject_ids.split(",") if x]}
        self.burst_left = 0
        self.stats = {"requests": 0, "accepted": 0, "records": 0, "503": 0, "429": 0,
                      "slow": 0, "closed": 0, "400": 0, "401": 0, "gzip": 0,
                      "bad_body": 0, "early": 0}
        self.retry_until = 0.0  # after a 429: a request before this is "early"
        self.acc = open(a.dir + "/accepted.ndjson", "a", encoding="utf-8")
        self.req = open(a.dir + "/requests.ndjson", "a", encoding="utf-8")

    def draw(self):
        """The fault for the next request: None, 503, 429, slow or close."""
        with self.lock:
            f = self.f
            if self.burst_left > 0:
                self.burst_left -= 1
                return "503"
            r = self.rng.random()
            if r < f["p503"]:
                self.burst_left = max(0, int(f["burst"]) - 1)
                return "503"
            r -= f["p503"]
            if r < f["p429"]:
                return "429"
            r -= f["p429"]
            if r < f["pslow"]:
                return "slow"
            r -= f["pslow"]
            if r < f["pclose"]:
                return "close"
            return None

    def count(self, k, n=1):
        with self.lock:
            self.stats[k] += n


def parse_records(body, ctype):
    text = body.decode("utf-8")
    if ctype.startswith("application/json"):
        recs = json.loads(text)
        if not isinstance(recs, list):
            raise ValueError("not a JSON array")
        return [json.dumps(r, separators=(",", ":")) for r in recs], recs
    lines = [l for l in text.split("\n") if l.strip()]
    if not text.endswith("\n"):
        raise ValueError("NDJSON body does not end in a newline")
    return lines, [json.loads(l) for l in lines]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body, extra=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.st
        if self.path == "/_stats":
            with st.lock:
                self.answer(200, dict(st.stats))
            return
        self.answer(404, {"error": "no such path"})

    def do_PUT(self):
        self.do_POST()

    def do_POST(self):
        st = self.server.st
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        if self.path == "/_faults":
            with st.lock:
                st.f.update(json.loads(body))
            self.answer(200, st.f)
            return
        st.count("requests")
        with st.lock:
            if time.time() < st.retry_until:
                st.stats["early"] += 1
            key = st.f["api_key"]
        if key and self.headers.get("X-Api-Key") != key:
            st.count("401")
            self.answer(401, {"error": "invalid api key"})
            return
        fault = st.draw()
        if fault == "503":
            st.count("503")
            self.answer(503, {"error": "busy"})
            return
        if fault == "429":
            st.count("429")
            ra = st.f["retry_after"]
            with st.lock:
                st.retry_until = max(st.retry_until, time.time() + ra - 0.05)
            self.answer(429, {"error": "slow down"}, [("Retry-After", str(ra))])
            return
        enc = self.headers.get("Content-Encoding", "")
        try:
            if enc == "gzip":
                body = gzip.decompress(body)
                st.count("gzip")
            lines, recs = parse_records(body, self.headers.get("Content-Type", ""))
        except (ValueError, OSError, EOFError) as e:
            st.count("bad_body")
            self.answer(400, {"error": "bad body: %s" % e})
            return
        ids = [r.get("id") for r in recs if isinstance(r, dict)]
        bad = [i for i in ids if i in st.f["reject_ids"]]
        if bad:
            st.count("400")
            self.answer(400, {"error": "record rejected", "id": bad[0]})
            return
        with st.lock:
            for l in lines:
                st.acc.write(l + "\n")
            st.acc.flush()
            st.req.write(json.dumps({
                "key": self.headers.get("Idempotency-Key"), "method": self.command,
                "type": self.headers.get("Content-Type"), "encoding": enc,
                "n": len(lines), "first": ids[0] if ids else None,
                "last": ids[-1] if ids else None}) + "\n")
            st.req.flush()
            st.stats["accepted"] += 1
            st.stats["records"] += len(lines)
        if fault == "slow":
            st.count("slow")
            time.sleep(st.f["slow"])
        if fault == "close":
            st.count("closed")
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Len")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.answer(200, {"accepted": len(lines)})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--p503", type=float, default=0.0)
    p.add_argument("--burst", type=int, default=3)
    p.add_argument("--p429", type=float, default=0.0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--pslow", type=float, default=0.0)
    p.add_argument("--slow", type=float, default=3.0)
    p.add_argument("--pclose", type=float, default=0.0)
    p.add_argument("--reject-ids", default="")
    p.add_argument("--api-key", default="")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    a = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.st = State(a)
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
