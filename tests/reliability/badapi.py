#!/usr/bin/env python3
"""badapi.py - a OneLogin API that answers the events endpoint with bad input.

Used by test_bad_input.sh (standard library only). It plays the token and
rate-limit endpoints and serves GET /api/1/events from a fixed set of valid
events (ids 1..N, created a few minutes before start, filtered by since/until,
sorted by id, paged with after_cursor), and the current mode makes the
answers bad:

  good                every page as it should be
  malformed           the first 4 answers are broken bodies (truncated JSON,
                      an HTML page, binary garbage, a bad envelope), then good
  malformed_forever   every answer is a truncated body
  huge                ~50 MB pages: each event carries a big notes field
  nested              a data element nested 100,000 deep, and an envelope
                      member nested 100,000 deep
  utf8                an element with invalid UTF-8 in a string
  nul                 elements with a raw NUL byte and a \\u0000 escape
  types               elements with a wrong type in every field
  stall               the first answer stops after half its body, the second
                      trickles a byte every 0.4 s: both never end; then good
  endless             the first answer streams bytes without end; then good
  errmsg              the first 2 answers are 200 pages whose status says error
                      with a message holding CR LF, a forged log line and
                      terminal escapes, and a member with a raw NUL (so only
                      the page parser reads the status); then good
  oversize            every answer is one page of 160,000 small events (ids from
                      500001, inside the window), whatever the limit asked for:
                      none of them may be delivered
  big64               every answer streams a 64 MiB page (events with a big
                      notes field) without a Content-Length
  slow                every answer sends half its body, then a byte every 0.4 s
  users_big           events as in good; GET /api/2/users/:id streams a 64 MiB
                      body without a Content-Length

Control: POST /_mode/NAME switches mode (and restarts its request count);
GET /_expect says what a correct agent delivers ("deliver": ids) and what it
must put in its dead-letter file ("dead": markers, one per bad element: each
bad element carries its marker in its bytes). GET /_stats counts, for the
current mode, the events requests, the events answers sent to their end
("events_sent"), the answers begun in slow mode ("slow_started") and the user
lookups ("users"). The port goes to --port-file.
"""

import argparse
import datetime
import email.utils
import json
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

MODES = ("good", "malformed", "malformed_forever", "huge", "nested", "utf8", "nul",
         "types", "stall", "endless", "oversize", "big64", "slow", "users_big")
OVERSIZE_EVENTS = 160000
OVERSIZE_FIRST_ID = 500001
BIG_BYTES = 64 << 20
STATUS = {"error": False, "code": 200, "type": "success", "message": "Success"}


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class State:
    def __init__(self, n_events):
        self.lock = threading.Lock()
        self.mode = "good"
        self.requests = 0  # /api/1/events requests in this mode
        self.stats = {}  # more counts in this mode (GET /_stats)
        self.oversize = None  # the oversize page, made on first use
        self.t0 = time.time() - 600
        self.valid = [self.event(i, self.t0 + i) for i in range(1, n_events + 1)]

    @staticmethod
    def event(i, t, **extra):
        ev = {"id": i, "created_at": iso(t), "account_id": 77, "user_id": 1000 + i,
              "event_type_id": 5, "notes": "ok", "ipaddr": "10.0.0.%d" % (i % 250),
              "user_name": "user %d" % i, "risk_score": 10}
        ev.update(extra)
        return ev

    def extras(self):
        """Bad elements of the mode: (time used for filtering, raw bytes, marker|None).

        A marker means the element must go to the dead-letter file; None means
        it is a usable event that must be delivered (its id is in deliver)."""
        t = self.t0 + 30
        out = []
        if self.mode == "nested":
            deep = 100000
            out.append((t, b'{"id":2001,"created_at":"%s","marker":"nested-2001","x":%s1%s}'
                        % (iso(t).encode(), b"[" * deep, b"]" * deep), "nested-2001"))
        elif self.mode == "utf8":
            out.append((t, b'{"id":2002,"created_at":"%s","marker":"utf8-2002",'
                        b'"notes":"bad \xff\xfe \xc3( bytes"}' % iso(t).encode(), "utf8-2002"))
        elif self.mode == "nul":
            out.append((t, b'{"id":2003,"created_at":"%s","marker":"nul-2003",'
                        b'"notes":"a\x00b"}' % iso(t).encode(), "nul-2003"))
            out.append((t, b'{"id":2004,"created_at":"%s","marker":"nul-2004",'
                        b'"notes":"a\\u0000b"}' % iso(t).encode(), "nul-2004"))
        elif self.mode == "types":
            c = iso(t)
            dead = [
                ("types-id-string", {"id": "2010", "created_at": c}),
                ("types-id-float", {"id": 2011.5, "created_at": c}),
                ("types-id-negative", {"id": -2012, "created_at": c}),
                ("types-id-null", {"id": None, "created_at": c}),
                ("types-id-bool", {"id": True, "created_at": c}),
                ("types-id-object", {"id": {"n": 2015}, "created_at": c}),
                ("types-id-missing", {"created_at": c}),
                ("types-created-number", {"id": 2016, "created_at": 1706695200}),
                ("types-created-garbage", {"id": 2017, "created_at": "yesterday"}),
                ("types-created-null", {"id": 2018, "created_at": None}),
                ("types-created-array", {"id": 2019, "created_at": [c]}),
            ]
            for marker, v in dead:
                out.append((t, json.dumps(dict(v, marker=marker)).encode(), marker))
            # elements that are not objects at all (the marker is in their bytes)
            out.append((t, json.dumps([2020, c, "types-array"]).encode(), "types-array"))
            out.append((t, b'"types-string"', "types-string"))
            out.append((t, b"20229", "20229"))
            # usable events with a wrong type in every other field: delivered as sent
            wrong = {"account_id": "77", "user_id": {"id": 5}, "event_type_id": "5",
                     "notes": {"n": 1}, "ipaddr": True, "user_name": 12,
                     "risk_score": "high", "actor_user_id": [1], "app_id": -1.5,
                     "role_id": "", "group_id": False, "custom_message": [None]}
            for k, (field, value) in enumerate(sorted(wrong.items())):
                ev = self.event(2100 + k, t)
                ev[field] = value
                out.append((t, json.dumps(ev).encode(), None))
        return out

    def count(self, what):
        with self.lock:
            self.stats[what] = self.stats.get(what, 0) + 1

    def oversize_body(self):
        """One page of OVERSIZE_EVENTS small events, created inside the window."""
        with self.lock:
            if self.oversize is None:
                t = iso(self.t0 + 30).encode()
                items = [b'{"id":%d,"created_at":"%s"}' % (OVERSIZE_FIRST_ID + k, t)
                         for k in range(OVERSIZE_EVENTS)]
                self.oversize = (b'{"status":{"error":false,"code":200},'
                                 b'"pagination":{"after_cursor":null},"data":['
                                 + b",".join(items) + b"]}")
            return self.oversize

    def expect(self):
        deliver = [e["id"] for e in self.valid]
        dead = []
        for _, raw, marker in self.extras():
            if marker is None:
                deliver.append(json.loads(raw)["id"])
            else:
                dead.append(marker)
        return {"deliver": sorted(deliver), "dead": dead}


def page_body(state, query):
    """The body of a correct answer to GET /api/1/events?query, as bytes."""
    since = parse_iso(query["since"][0]) if "since" in query else 0
    until = parse_iso(query["until"][0]) if "until" in query else 1e12
    limit = int(query.get("limit", ["50"])[0])
    offset = int(query.get("after_cursor", ["c0"])[0][1:])
    items = []
    pad = None
    if state.mode == "huge":
        pad = "x" * (50 * 1000 * 1000 // max(1, min(limit, len(state.valid))))
    for ev in state.valid:
        t = parse_iso(ev["created_at"])
        if since <= t < until:
            if pad is not None:
                ev = dict(ev, notes=pad)
            items.append((ev["id"], json.dumps(ev).encode()))
    for t, raw, marker in state.extras():
        if since <= t < until:
            items.append((2000 + len(items), raw))
    items.sort(key=lambda x: x[0])
    chunk = items[offset:offset + limit]
    cursor = "c%d" % (offset + limit) if offset + limit < len(items) else None
    head = {"status": STATUS,
            "pagination": {"before_cursor": None, "after_cursor": cursor,
                           "previous_link": None, "next_link": None}}
    body = json.dumps(head).encode()[:-1] + b',"data":['
    body += b",".join(raw for _, raw in chunk) + b"]"
    if state.mode == "nested":
        body += b',"debug":' + b'{"a":' * 100000 + b"1" + b"}" * 100000
    return body + b"}"


BROKEN = [
    b'{"status":{"error":false,"code":200},"pagination":{"after_cursor":null},"data":[{"id":1,"crea',
    b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    bytes(range(256)) * 4,
    b'{"status":{"error":false},"data":{"id":1}}',
]

# errmsg: a status error whose message would forge a log line and drive a terminal
ERRMSG = json.dumps({"status": {"error": True, "code": 500, "type": "internal",
                                "message": "quota\r\n2026-01-01T00:00:00.000Z error source: "
                                           "FORGED line\u001b]0;pwned\u0007\u001b[2J"},
                     "pagination": {"after_cursor": None}, "data": []}).encode()[:-1]
ERRMSG += b',"note":"a raw \x00 keeps Jansson from reading the whole body"}'
MODES += ("errmsg",)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        sys.stderr.write("badapi: %s %s\n" % (self.address_string(), fmt % args))

    def send_json(self, code, obj, extra=None):
        body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def rl_headers(self):
        return {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4900",
                "X-RateLimit-Reset": "1200"}

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        path = self.path
        if path == "/auth/oauth2/v2/token":
            self.send_json(200, {"access_token": "badapi-token", "created_at": iso(time.time()),
                                 "expires_in": 36000, "token_type": "bearer",
                                 "account_id": 77})
        elif path.startswith("/_mode/"):
            mode = path[len("/_mode/"):]
            if mode not in MODES:
                self.send_json(404, {"error": "no mode %s" % mode})
                return
            with self.state.lock:
                self.state.mode = mode
                self.state.requests = 0
                self.state.stats = {}
            self.send_json(200, {"mode": mode})
        else:
            self.send_json(404, {"status": {"error": True, "code": 404, "message": "no"}})

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/auth/rate_limit":
            self.send_json(200, {"status": STATUS, "data": {"X-RateLimit-Limit": 5000,
                                                            "X-RateLimit-Remaining": 4900,
                                                            "X-RateLimit-Reset": 1200}},
                           self.rl_headers())
        elif url.path == "/_expect":
            with self.state.lock:
                self.send_json(200, self.state.expect())
        elif url.path == "/_stats":
            with self.state.lock:
                st = dict(self.state.stats, mode=self.state.mode,
                          requests=self.state.requests)
            self.send_json(200, st)
        elif url.path.startswith("/api/2/users/") and self.state.mode == "users_big":
            self.state.count("users")
            self.stream_big(b'{"id":%s,"notes":"' % url.path.rsplit("/", 1)[1].encode(),
                            b'"}')
        elif url.path == "/api/1/events":
            if self.headers.get("Authorization") != "Bearer badapi-token":
                self.send_json(401, {"status": {"error": True, "code": 401,
                                                "message": "Unauthorized"}})
                return
            with self.state.lock:
                self.state.requests += 1
                n, mode = self.state.requests, self.state.mode
                body = page_body(self.state, query)
            self.events(mode, n, body)
        else:
            self.send_json(404, {"status": {"error": True, "code": 404, "message": "no"}})

    def events(self, mode, n, body):
        if mode == "errmsg" and n <= 2:
            return self.send_json(200, ERRMSG, self.rl_headers())
        if mode == "oversize":
            self.send_json(200, self.state.oversize_body(), self.rl_headers())
            self.state.count("events_sent")
        elif mode == "big64":
            t = iso(self.state.t0 + 30).encode()
            self.stream_big(b'{"status":{"error":false,"code":200},'
                            b'"pagination":{"after_cursor":null},"data":['
                            b'{"id":600001,"created_at":"%s","notes":"' % t, b'"}]}')
        elif mode == "slow":
            self.state.count("slow_started")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            it = iter(body[len(body) // 2:])
            self.hang(lambda: self.wfile.write(bytes([next(it, 32)])) or self.wfile.flush(),
                      0.4)
        elif mode == "malformed" and n <= len(BROKEN):
            self.send_json(200, BROKEN[n - 1], self.rl_headers())
        elif mode == "malformed_forever":
            self.send_json(200, body[: len(body) // 2], self.rl_headers())
        elif mode == "stall" and n == 1:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.hang(lambda: None)
        elif mode == "stall" and n == 2:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            it = iter(body)
            self.hang(lambda: self.wfile.write(bytes([next(it, 32)])) or self.wfile.flush(),
                      0.4)
        elif mode == "endless" and n == 1:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'{"data":[')
            block = b" " * (1 << 20)
            try:
                while True:  # until the client hangs up
                    self.wfile.write(block)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        else:
            self.send_json(200, body, self.rl_headers())
            self.state.count("events_sent")

    def stream_big(self, head, tail):
        """Streams head + padding + tail, BIG_BYTES in all, without a
        Content-Length (the connection closes at the end), until the client
        hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        block = b"x" * (1 << 20)
        left = BIG_BYTES - len(head) - len(tail)
        try:
            self.wfile.write(head)
            while left > 0:
                self.wfile.write(block[:left])
                left -= len(block)
            self.wfile.write(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def hang(self, tick, every=1.0):
        """Keeps the answer open (calling tick) until the client gives up."""
        end = time.monotonic() + 60  # wall-clock seconds, not a count of ticks
        try:
            while time.monotonic() < end:
                time.sleep(every)
                tick()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--events", type=int, default=20)
    args = ap.parse_args()
    Handler.state = State(args.events)
    srv = Server(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
