#!/usr/bin/env python3
"""hec_fake.py - a Splunk HTTP Event Collector for the splunk_hec output's tests
(stdlib only).

It speaks the parts of HEC olagent uses, as Splunk's docs describe them:

  POST /services/collector/event  "Authorization: Splunk <token>"; a body of
      JSON event envelopes one after the other (gzip when Content-Encoding
      says so); each must be an object with a non-blank "event". Answers
      {"text":"Success","code":0} and, when the token has indexer
      acknowledgment on (--ack), an "ackId" counted per channel; then the
      request must name its channel (X-Splunk-Request-Channel or ?channel=),
      a GUID.
  POST /services/collector/ack    {"acks":[ids]} on the same channel; answers
      {"acks":{"id":true|false}}. An ackId reads true once its events are
      indexed, and is forgotten after it was reported true (as HEC does).

Errors carry HEC's codes: 401 code 2 (no token), 401 code 3 (not "Splunk
<token>"), 403 code 4 (wrong token), 400 code 10/11 (channel missing or not a
GUID), 400 code 6 (invalid data format), 12/13 (event missing or blank), 400
code 14 (an ack request while acknowledgment is off), 503 code 9 (busy).

Indexing: what a request carries is "indexed" (appended to DIR/accepted.ndjson,
one envelope a line, in the order indexed) when its ack turns true; without
--ack at once. Faults, from a generator seeded by --seed, per request:

  --p503 P --burst N   a burst of N plain 503s (no HEC body: a load balancer)
  --pbusy P            503 {"text":"Server is busy","code":9}
  --plate P --late S   the request is indexed, and its ack turns true, S s late
  --pnever P           the ack never turns true and the events are DROPPED:
                       the client must send them again
  --reject-ids A,B     a request holding an event with one of these ids is
                       answered 400 code 6 with "invalid-event-number"
                       (nothing of it indexed)

DIR/requests.ndjson has a line per request taken (channel, ackId, events,
fate, encoding). GET /_stats answers the counts; POST /_faults sets any of
p503, burst, pbusy, plate, late, pnever, reject_ids, token, ack while running.
The port goes to --port-file.
"""

import argparse
import gzip
import json
import os
import random
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}$")


class State:
    def __init__(self, a):
        self.lock = threading.Lock()
        self.rng = random.Random(a.seed)
        self.f = {"p503": a.p503, "burst": a.burst, "pbusy": a.pbusy, "plate": a.plate,
                  "late": a.late, "pnever": a.pnever, "token": a.token, "ack": a.ack,
                  "reject_ids": [int(x) for x in a.reject_ids.split(",") if x]}
        self.burst_left = 0
        self.stats = {"requests": 0, "indexed_requests": 0, "events": 0, "503": 0,
                      "busy": 0, "late": 0, "never": 0, "dropped_events": 0,
                      "auth": 0, "400": 0, "gzip": 0, "ack_polls": 0, "acks_true": 0,
                      "channels": 0}
        self.channels = {}  # channel -> {"next": n, "acks": {id: (due, lines|None)}}
        self.acc = open(a.dir + "/accepted.ndjson", "a", encoding="utf-8")
        self.req = open(a.dir + "/requests.ndjson", "a", encoding="utf-8")

    def draw(self):
        """The request's fate: 503, busy, late, never or None."""
        with self.lock:
            f = self.f
            if self.burst_left > 0:
                self.burst_left -= 1
                return "503"
            r = self.rng.random()
            for k in ("p503", "pbusy", "plate", "pnever"):
                if r < f[k]:
                    if k == "p503":
                        self.burst_left = max(0, int(f["burst"]) - 1)
                    return k[1:]
                r -= f[k]
            return None

    def index(self, lines):
        """Indexes events (lock held)."""
        for l in lines:
            self.acc.write(l + "\n")
        self.acc.flush()
        self.stats["events"] += len(lines)
        self.stats["indexed_requests"] += 1

    def tick(self):
        """Indexes what is due (lock held): a late request's events."""
        now = time.time()
        for ch in self.channels.values():
            for i, (due, lines, done) in list(ch["acks"].items()):
                if not done and lines is not None and due <= now:
                    self.index(lines)
                    ch["acks"][i] = (due, lines, True)


def parse_envelopes(text):
    """The JSON objects of a HEC body, one after the other."""
    dec = json.JSONDecoder()
    out, i, n = [], 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return out
        obj, j = dec.raw_decode(text, i)
        out.append((obj, text[i:j]))
        i = j


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body, raw=False):
        data = body if raw else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if raw else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def hec(self, status, code, text, **more):
        d = {"text": text, "code": code}
        d.update(more)
        self.answer(status, d)

    def do_GET(self):
        st = self.server.st
        if self.path == "/_stats":
            with st.lock:
                st.tick()
                self.answer(200, dict(st.stats))
            return
        self.answer(404, {"text": "The requested URL was not found on this server.",
                          "code": 404})

    def authorized(self):
        """Checks the token; answers and returns False when refused."""
        st = self.server.st
        h = self.headers.get("Authorization")
        if h is None:
            st.stats["auth"] += 1
            self.hec(401, 2, "Token is required")
            return False
        if not h.startswith("Splunk "):
            st.stats["auth"] += 1
            self.hec(401, 3, "Invalid authorization")
            return False
        if h[len("Splunk "):] != st.f["token"]:
            st.stats["auth"] += 1
            self.hec(403, 4, "Invalid token")
            return False
        return True

    def channel(self, url):
        ch = self.headers.get("X-Splunk-Request-Channel")
        if ch is None:
            ch = parse_qs(url.query).get("channel", [None])[0]
        return ch

    def do_POST(self):
        st = self.server.st
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        url = urlparse(self.path)
        if url.path == "/_faults":
            with st.lock:
                st.f.update(json.loads(body))
            self.answer(200, st.f)
            return
        if url.path not in ("/services/collector/event", "/services/collector/ack"):
            self.answer(404, {"text": "The requested URL was not found on this server.",
                              "code": 404})
            return
        with st.lock:
            st.stats["requests"] += 1
            st.tick()
            if not self.authorized():
                return
            ack = st.f["ack"]
        ch = self.channel(url)
        if url.path == "/services/collector/ack":
            self.ack(body, ch, ack)
            return
        if ack and ch is None:
            with st.lock:
                st.stats["400"] += 1
            self.hec(400, 10, "Data channel is missing")
            return
        if ch is not None and not GUID.match(ch):
            with st.lock:
                st.stats["400"] += 1
            self.hec(400, 11, "Invalid data channel")
            return
        fate = st.draw()
        if fate == "503":
            with st.lock:
                st.stats["503"] += 1
            self.answer(503, b"<html><body>503 Service Unavailable</body></html>", raw=True)
            return
        if fate == "busy":
            with st.lock:
                st.stats["busy"] += 1
            self.hec(503, 9, "Server is busy")
            return
        enc = self.headers.get("Content-Encoding", "")
        try:
            if enc == "gzip":
                body = gzip.decompress(body)
            envs = parse_envelopes(body.decode("utf-8"))
        except (ValueError, OSError, EOFError):
            with st.lock:
                st.stats["400"] += 1
            self.hec(400, 6, "Invalid data format", **{"invalid-event-number": 0})
            return
        if not envs:
            self.hec(400, 5, "No data")
            return
        for k, (e, _) in enumerate(envs):
            bad = None
            if not isinstance(e, dict):
                bad = (6, "Invalid data format")
            elif "event" not in e:
                bad = (12, "Event field is required")
            elif e["event"] in ("", None, {}):
                bad = (13, "Event field cannot be blank")
            elif isinstance(e["event"], dict) and e["event"].get("id") in st.f["reject_ids"]:
                bad = (6, "Invalid data format")
            if bad:
                with st.lock:
                    st.stats["400"] += 1
                self.hec(400, bad[0], bad[1], **{"invalid-event-number": k})
                return
        lines = [raw for _, raw in envs]
        with st.lock:
            if enc == "gzip":
                st.stats["gzip"] += 1
            ack_id = None
            if ack:
                c = st.channels.get(ch)
                if c is None:
                    c = st.channels[ch] = {"next": 0, "acks": {}}
                    st.stats["channels"] += 1
                ack_id = c["next"]
                c["next"] += 1
                if fate == "never":
                    st.stats["never"] += 1
                    st.stats["dropped_events"] += len(lines)
                    c["acks"][ack_id] = (float("inf"), None, False)
                elif fate == "late":
                    st.stats["late"] += 1
                    c["acks"][ack_id] = (time.time() + st.f["late"], lines, False)
                else:
                    st.index(lines)
                    c["acks"][ack_id] = (0.0, lines, True)
            else:
                st.index(lines)
            st.req.write(json.dumps({
                "channel": ch, "ackId": ack_id, "n": len(lines), "fate": fate,
                "encoding": enc}) + "\n")
            st.req.flush()
        if ack_id is None:
            self.hec(200, 0, "Success")
        else:
            self.hec(200, 0, "Success", ackId=ack_id)

    def ack(self, body, ch, ack):
        st = self.server.st
        if not ack:
            with st.lock:
                st.stats["400"] += 1
            self.hec(400, 14, "ACK is disabled")
            return
        if ch is None:
            self.hec(400, 10, "Data channel is missing")
            return
        try:
            ids = json.loads(body)["acks"]
            ids = [int(i) for i in ids]
        except (ValueError, KeyError, TypeError):
            self.hec(400, 6, "Invalid data format")
            return
        out = {}
        with st.lock:
            st.stats["ack_polls"] += 1
            c = st.channels.get(ch, {"acks": {}})
            for i in ids:
                a = c["acks"].get(i)
                ok = a is not None and a[2]
                out[str(i)] = ok
                if ok:
                    # reported true: HEC forgets it
                    del c["acks"][i]
                    st.stats["acks_true"] += 1
        self.answer(200, {"acks": out})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--ack", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--p503", type=float, default=0.0)
    p.add_argument("--burst", type=int, default=3)
    p.add_argument("--pbusy", type=float, default=0.0)
    p.add_argument("--plate", type=float, default=0.0)
    p.add_argument("--late", type=float, default=2.0)
    p.add_argument("--pnever", type=float, default=0.0)
    p.add_argument("--reject-ids", default="")
    a = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.st = State(a)

    def ticker():
        while True:
            time.sleep(0.1)
            with srv.st.lock:
                srv.st.tick()

    threading.Thread(target=ticker, daemon=True).start()
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
