#!/usr/bin/env python3
"""es_fake.py - an Elasticsearch _bulk endpoint for the elasticsearch output's
tests (stdlib only).

It speaks the part of the Elasticsearch 7/8 (and OpenSearch) REST API an
ingest client uses, as the real one does:

  POST /_bulk, POST /<index>/_bulk   NDJSON (Content-Type application/x-ndjson
      or application/json, else 406), gzip when Content-Encoding says so, the
      body ending in a newline (else 400). Each action line is create or index
      with _index (or the path's index) and _id; create of an _id the index
      holds is a 409 version_conflict_engine_exception and stores nothing;
      index overwrites (version + 1). The answer is {"took","errors","items"}
      with one item per action, in order; filter_path (errors, items.*.status,
      items.*.error, ...) trims it as ES does.
  GET /<index>/_count                {"count": n}
  GET /                              the cluster's banner
Authentication: with --user/--password or --api-key, a request without the
right "Authorization: Basic ..." or "Authorization: ApiKey ..." gets 401 with
a security_exception (and WWW-Authenticate).

Documents are kept by (_index, _id); every stored one is appended to
DIR/docs.ndjson as {"_index","_id","version","doc"} (an overwrite appears
again with its new version).

Faults, drawn from a random generator seeded by --seed:
  --p429 P --retry-after S   a whole request answered 429 with Retry-After (a
                             request within it, but 0.2 s after, counts "early")
  --item429 P                each item, with probability P, answered 429
                             es_rejected_execution_exception (not stored)
  --p503 P                   a whole request answered 503
  --mapping-ids A,B          a document whose _id is one of these is refused
                             400 mapper_parsing_exception (never stored)
A second listener (--port2-file) serves the same cluster, like a second node.
GET /_fake/stats answers the counts (per listener too); POST /_fake/faults
with a JSON object sets p429, retry_after, item429, p503, mapping_ids, and
"down": [listener numbers] (those answer 503 to _bulk) or "stop": N (listener
N closes: connections are refused from then on, and requests on connections
kept alive from before are dropped unanswered).
"""

import argparse
import base64
import gzip
import json
import os
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Cluster:
    def __init__(self, a):
        self.lock = threading.Lock()
        self.rng = random.Random(a.seed)
        self.f = {"p429": a.p429, "retry_after": a.retry_after, "item429": a.item429,
                  "p503": a.p503, "down": [],
                  "mapping_ids": [x for x in a.mapping_ids.split(",") if x]}
        self.auth = None
        if a.user:
            self.auth = "Basic " + base64.b64encode(
                ("%s:%s" % (a.user, a.password)).encode()).decode()
        elif a.api_key:
            self.auth = "ApiKey " + a.api_key
        self.docs = {}  # (index, id) -> version
        self.stats = {"requests": 0, "bulk": 0, "items": 0, "created": 0,
                      "conflicts": 0, "item429": 0, "req429": 0, "req503": 0,
                      "mapping": 0, "401": 0, "early": 0, "gzip": 0, "bad": 0,
                      "by_listener": {"1": 0, "2": 0}}
        self.retry_from = self.retry_until = 0.0
        self.out = open(os.path.join(a.dir, "docs.ndjson"), "a", encoding="utf-8")
        self.servers = {}
        self.stopped = set()

    def draw(self, p):
        with self.lock:
            return self.rng.random() < p


def filtered(obj, paths):
    """ES's filter_path: keep what one of the dotted paths (with *) names."""
    def keep(o, parts):
        if not parts:
            return o
        if isinstance(o, list):
            # positions kept (merged path by path), as the items' order matters
            return [{} if x is None else x for x in (keep(y, parts) for y in o)]
        if not isinstance(o, dict):
            return None
        r = {}
        for k, v in o.items():
            if parts[0] == "*" or parts[0] == k:
                x = keep(v, parts[1:])
                if x is not None:
                    r[k] = x if k not in r else merge(r[k], x)
        return r or None

    def merge(a, b):
        if isinstance(a, dict) and isinstance(b, dict):
            m = dict(a)
            for k, v in b.items():
                m[k] = merge(m[k], v) if k in m else v
            return m
        if isinstance(a, list) and isinstance(b, list):
            return [merge(x, y) for x, y in zip(a, b)]
        return b

    out = None
    for p in paths:
        x = keep(obj, p.split("."))
        if x is not None:
            out = x if out is None else merge(out, x)
    return out or {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body, extra=()):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, etype, reason, extra=()):
        self.answer(code, {"error": {"root_cause": [{"type": etype, "reason": reason}],
                                     "type": etype, "reason": reason},
                           "status": code}, extra)

    def authorized(self):
        cl = self.server.cl
        if cl.auth is None or self.headers.get("Authorization") == cl.auth:
            return True
        with cl.lock:
            cl.stats["401"] += 1
        self.error(401, "security_exception",
                   "unable to authenticate user for REST request [%s]" % self.path,
                   [("WWW-Authenticate", 'Basic realm="security" charset="UTF-8"'),
                    ("WWW-Authenticate", "ApiKey")])
        return False

    def do_GET(self):
        cl = self.server.cl
        url = urlsplit(self.path)
        if url.path == "/_fake/stats":
            with cl.lock:
                s = json.loads(json.dumps(cl.stats))
                s["docs"] = len(cl.docs)
            self.answer(200, s)
            return
        if not self.authorized():
            return
        if url.path == "/":
            self.answer(200, {"name": "fake", "cluster_name": "olagent-test",
                              "version": {"number": "8.13.0"},
                              "tagline": "You Know, for Search"})
            return
        parts = url.path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "_count":
            with cl.lock:
                n = sum(1 for (i, _) in cl.docs if i == parts[0])
            self.answer(200, {"count": n})
            return
        self.error(404, "index_not_found_exception", "no such index [%s]" % parts[0])

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n > 0 else b""

    def do_POST(self):
        cl = self.server.cl
        url = urlsplit(self.path)
        body = self.read_body()
        if self.server.num in cl.stopped:
            # a dead node: connections kept alive from before die unanswered
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if url.path == "/_fake/faults":
            req = json.loads(body)
            stop = req.pop("stop", None)
            with cl.lock:
                cl.f.update(req)
                f = dict(cl.f)
            self.answer(200, f)
            if stop is not None:
                cl.stopped.add(int(stop))
                srv = cl.servers.get(int(stop))
                if srv is not None:
                    threading.Thread(target=lambda: (srv.shutdown(),
                                                     srv.server_close())).start()
            return
        with cl.lock:
            cl.stats["requests"] += 1
            cl.stats["by_listener"][str(self.server.num)] += 1
            # requests already on their way when the 429 went out are not early
            early = cl.retry_from < time.time() < cl.retry_until
            if early:
                cl.stats["early"] += 1
            down = self.server.num in cl.f["down"]
        parts = url.path.strip("/").split("/")
        if parts[-1] != "_bulk" or len(parts) > 2:
            self.error(405, "illegal_argument_exception", "not a _bulk path")
            return
        if not self.authorized():
            return
        if down or cl.draw(cl.f["p503"]):
            with cl.lock:
                cl.stats["req503"] += 1
            self.error(503, "cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE]")
            return
        if cl.draw(cl.f["p429"]):
            ra = cl.f["retry_after"]
            with cl.lock:
                cl.stats["req429"] += 1
                cl.retry_from = time.time() + 0.2
                cl.retry_until = max(cl.retry_until, time.time() + ra - 0.05)
            self.error(429, "es_rejected_execution_exception",
                       "rejected execution of coordinating operation",
                       [("Retry-After", str(ra))])
            return
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype not in ("application/x-ndjson", "application/json"):
            self.error(406, "illegal_argument_exception",
                       "Content-Type header [%s] is not supported" % ctype)
            return
        try:
            if self.headers.get("Content-Encoding", "") == "gzip":
                body = gzip.decompress(body)
                with cl.lock:
                    cl.stats["gzip"] += 1
            text = body.decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as e:
            self.error(400, "parse_exception", "bad body: %s" % e)
            return
        if not text.endswith("\n"):
            with cl.lock:
                cl.stats["bad"] += 1
            self.error(400, "illegal_argument_exception",
                       "The bulk request must be terminated by a newline [\\n]")
            return
        lines = text.split("\n")[:-1]
        if len(lines) % 2 != 0:
            self.error(400, "illegal_argument_exception", "an action without a document")
            return
        items, errors, t0 = [], False, time.time()
        for k in range(0, len(lines), 2):
            try:
                act = json.loads(lines[k])
                doc = json.loads(lines[k + 1])
                (op, meta), = act.items()
            except (ValueError, TypeError):
                self.error(400, "x_content_parse_exception", "line %d: bad action" % (k + 1))
                return
            index = meta.get("_index") or (parts[0] if len(parts) == 2 else None)
            _id = meta.get("_id")
            it = {"_index": index, "_id": _id}
            with cl.lock:
                cl.stats["items"] += 1
                if op not in ("create", "index") or not index or not isinstance(doc, dict):
                    it.update(status=400, error={"type": "action_request_validation_exception",
                                                 "reason": "bad action"})
                elif cl.rng.random() < cl.f["item429"]:
                    cl.stats["item429"] += 1
                    it.update(status=429, error={
                        "type": "es_rejected_execution_exception",
                        "reason": "rejected execution of primary operation"})
                elif str(_id) in cl.f["mapping_ids"]:
                    cl.stats["mapping"] += 1
                    it.update(status=400, error={
                        "type": "document_parsing_exception",
                        "reason": "[1:42] failed to parse field [id] of type [keyword]",
                        "caused_by": {"type": "illegal_argument_exception",
                                      "reason": "mapping conflict"}})
                elif op == "create" and (index, _id) in cl.docs:
                    cl.stats["conflicts"] += 1
                    it.update(status=409, error={
                        "type": "version_conflict_engine_exception",
                        "reason": "[%s]: version conflict, document already exists "
                                  "(current version [%d])" % (_id, cl.docs[(index, _id)]),
                        "index": index})
                else:
                    if _id is None:
                        _id = "auto-%d" % len(cl.docs)
                        it["_id"] = _id
                    v = cl.docs.get((index, _id), 0) + 1
                    cl.docs[(index, _id)] = v
                    cl.stats["created"] += 1
                    cl.out.write(json.dumps({"_index": index, "_id": _id, "version": v,
                                             "doc": doc}) + "\n")
                    it.update(_version=v, result="created" if v == 1 else "updated",
                              status=201 if v == 1 else 200)
            errors = errors or it["status"] >= 300
            items.append({op: it})
        with cl.lock:
            cl.out.flush()
            cl.stats["bulk"] += 1
        res = {"took": int((time.time() - t0) * 1000), "errors": errors, "items": items}
        fp = parse_qs(url.query).get("filter_path")
        if fp:
            res = filtered(res, ",".join(fp).split(","))
        self.answer(200, res)


def serve(cl, num, port_file):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.cl = cl
    srv.num = num
    cl.servers[num] = srv
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(port_file + ".tmp", port_file)
    return srv


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--port2-file")
    p.add_argument("--dir", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--p429", type=float, default=0.0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--item429", type=float, default=0.0)
    p.add_argument("--p503", type=float, default=0.0)
    p.add_argument("--mapping-ids", default="")
    p.add_argument("--user")
    p.add_argument("--password", default="")
    p.add_argument("--api-key")
    a = p.parse_args()
    cl = Cluster(a)
    srv = serve(cl, 1, a.port_file)
    if a.port2_file:
        s2 = serve(cl, 2, a.port2_file)
        threading.Thread(target=s2.serve_forever, daemon=True).start()
    try:
        srv.serve_forever()
        while True:  # listener 1 stopped: listener 2 goes on
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
