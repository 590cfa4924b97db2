#!/usr/bin/env python3
"""syslog_check.py - checks what a real rsyslogd received from olagent's syslog output.

The log holds one JSON object per message, as rsyslog parsed it (tests/lib/rsyslog.sh):
ver, host, app, procid, msgid, sd, fac, sev, msg, raw. For every message this checks
 - that rsyslog parsed it as the chosen RFC (5424: version 1, the SD-ID, MSGID event or
   alert; 3164: the BSD header) with the expected HOSTNAME and APP-NAME, and that the raw
   bytes follow the RFC's grammar on their own (PRI, TIMESTAMP, SD-PARAM escaping), with
   the MSG part exactly what rsyslog calls msg;
 - the record inside, against what was sent: --expect (JSON lines {"id", "body"}: the
   body must arrive byte for byte, or as a UTF-8-whole prefix with --truncated) or
   --truth (olsim's NDJSON: the json format must carry the original bytes with "olagent"
   spliced in; cef/leef/ocsf must carry the id, user and notes through their escaping);
and then that every expected event arrived exactly once and nothing else did.
Exit status 0 when all holds; the summary goes to stdout, problems to stderr.
"""
import argparse
import collections
import json
import re
import sys

HDR5424 = re.compile(
    r"<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ([!-~]{1,255}) ([!-~]{1,48}) "
    r"(\d{1,128}) (event|alert) ", re.S)
HDR3164 = re.compile(
    r"<(\d{1,3})>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 1-3]\d) "
    r"([0-2]\d):([0-5]\d):([0-5]\d) ([!-~]+) ([!-~]{1,32})\[(\d+)\]: ", re.S)
SD_NAME = r'[!#-<>-\\^-~]{1,32}'  # PRINTUSASCII except '=', ']', '"', space


def parse_sd(s, pos):
    """One SD-ELEMENT at s[pos]: returns (id, {name: value}, end) or raises ValueError."""
    m = re.compile(r"\[(" + SD_NAME + ")").match(s, pos)
    if not m:
        raise ValueError("no SD-ELEMENT at %d" % pos)
    sd_id, pos, params = m.group(1), m.end(), {}
    while s[pos] == " ":
        m = re.compile("(" + SD_NAME + ')="').match(s, pos + 1)
        if not m:
            raise ValueError("bad SD-PARAM at %d" % (pos + 1))
        name, pos, val = m.group(1), m.end(), []
        while s[pos] != '"':
            if s[pos] == "\\" and s[pos + 1] in '"\\]':
                val.append(s[pos + 1])
                pos += 2
            elif s[pos] in '"]':
                raise ValueError("unescaped %r in SD-PARAM %s" % (s[pos], name))
            else:
                val.append(s[pos])
                pos += 1
        params[name] = "".join(val)
        pos += 1
    if s[pos] != "]":
        raise ValueError("SD-ELEMENT not closed at %d" % pos)
    return sd_id, params, pos + 1


def cef_unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), v)


def parse_cef(body):
    """CEF:0 header fields and the extension as a dict (values unescaped)."""
    fields, cur, i = [], [], 0
    while len(fields) < 7:
        c = body[i]
        if c == "\\" and body[i + 1] in "\\|":
            cur.append(body[i + 1])
            i += 2
            continue
        if c == "|":
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    ext, keys = body[i:], list(re.finditer(r"(?:^| )([A-Za-z0-9_]+)=", body[i:]))
    kv = {}
    for k, m in enumerate(keys):
        end = keys[k + 1].start() if k + 1 < len(keys) else len(ext)
        kv[m.group(1)] = cef_unescape(ext[m.end():end])
    if fields[0] != "CEF:0":
        raise ValueError("not CEF:0")
    return fields, kv


def parse_leef(body):
    parts = body.split("|", 6)
    if parts[0] != "LEEF:2.0" or len(parts) < 7:
        raise ValueError("not LEEF:2.0")
    d = parts[5]
    delim = chr(int(d[-2:], 16)) if re.fullmatch(r"(0x|x)[0-9A-Fa-f]{2}", d) else d
    kv, cur, esc = {}, [], {"n": "\n", "r": "\r"}
    attrs, i = parts[6] + delim, 0
    while i < len(attrs):
        c = attrs[i]
        if c == "\\" and i + 1 < len(attrs):
            cur.append(esc.get(attrs[i + 1], attrs[i + 1]))
            i += 2
            continue
        if c == delim:
            k, _, v = "".join(cur).partition("=")
            kv[k] = v
            cur = []
        else:
            cur.append(c)
        i += 1
    return parts, kv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--rfc", type=int, choices=(5424, 3164), default=5424)
    ap.add_argument("--app", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--sd-id", default="olagent@32473")
    ap.add_argument("--facility", type=int)
    ap.add_argument("--expect", help='JSON lines {"id", "body"}: exact bodies')
    ap.add_argument("--truncated", type=int, metavar="MAX_SIZE",
                    help="bodies may be cut so that the message fits MAX_SIZE bytes")
    ap.add_argument("--truth", help="olsim truth NDJSON")
    ap.add_argument("--format", default="json", choices=("json", "cef", "leef", "ocsf"))
    ap.add_argument("--min-alerts", type=int, default=0)
    a = ap.parse_args()

    want = {}
    if a.expect:
        for line in open(a.expect, encoding="utf-8"):
            r = json.loads(line)
            want[r["id"]] = r["body"]
    if a.truth:
        for line in open(a.truth, "rb"):
            line = line.rstrip(b"\n")
            if line:
                want[json.loads(line)["id"]] = line.decode("utf-8")
    seen, problems, alerts, cut = collections.Counter(), [], 0, 0
    name = a.log.rsplit("/", 1)[-1]

    def bad(n, why, rec):
        problems.append("%s message %d: %s: %.300r" % (name, n, why, rec.get("raw", rec)))

    for n, line in enumerate(open(a.log, encoding="utf-8"), 1):
        rec = json.loads(line)
        raw, msg = rec["raw"], rec["msg"]
        try:
            if a.rfc == 5424:
                m = HDR5424.match(raw)
                if not m:
                    raise ValueError("raw message does not follow the RFC 5424 header")
                pri, host, app, kind = int(m.group(1)), m.group(3), m.group(4), m.group(6)
                sd_id, params, end = parse_sd(raw, m.end())
                if sd_id != a.sd_id or raw[end] != " ":
                    raise ValueError("SD-ID %r, then %r" % (sd_id, raw[end]))
                body = raw[end + 1:]
                if (rec["ver"], rec["sd"], rec["msgid"], rec["procid"]) != (
                        "1", raw[m.end():end], kind, m.group(5)):
                    raise ValueError("rsyslog parsed it differently: ver %s sd %.80r" %
                                     (rec["ver"], rec["sd"]))
                if msg != body:
                    raise ValueError("MSG differs from what rsyslog parsed")
            else:
                m = HDR3164.match(raw)
                if not m:
                    raise ValueError("raw message does not follow the RFC 3164 header")
                pri, host, app, params = int(m.group(1)), m.group(7), m.group(8), {}
                body = raw[m.end():]
                if rec["ver"] != "0" or rec["procid"] != m.group(9) or msg != " " + body:
                    raise ValueError("rsyslog parsed it differently: ver %s procid %s" %
                                     (rec["ver"], rec["procid"]))
                kind = None
            if (host, app, rec["host"], rec["app"]) != (a.host, a.app, a.host, a.app):
                raise ValueError("hostname/app-name %s/%s, rsyslog %s/%s" %
                                 (host, app, rec["host"], rec["app"]))
            if (int(rec["fac"]), int(rec["sev"])) != divmod(pri, 8):
                raise ValueError("PRI %d vs facility %s severity %s" % (pri, rec["fac"], rec["sev"]))
            if a.facility is not None and pri // 8 != a.facility:
                raise ValueError("facility %d" % (pri // 8))
            eid, is_alert = record_id(body, a, params, kind)
            if is_alert:
                alerts += 1
                continue
            if eid not in want:
                raise ValueError("id %r was never sent" % eid)
            check_body(body, want[eid], a, raw)
            if a.truncated is not None and body != want[eid]:
                cut += 1
            seen[eid] += 1
        except (ValueError, KeyError, IndexError) as e:
            bad(n, e, rec)

    missing = [i for i in want if seen[i] == 0]
    dups = sorted(i for i, c in seen.items() if c > 1)
    print("%s: %d expected, %d received, %d missing, %d duplicated, %d alerts, "
          "%d truncated, %d bad" % (name, len(want), sum(seen.values()), len(missing),
                                   len(dups), alerts, cut, len(problems)))
    for p in problems[:5]:
        print(p, file=sys.stderr)
    if missing:
        print("missing ids (first 10): %s" % sorted(missing)[:10], file=sys.stderr)
    if dups:
        print("duplicated ids (first 10): %s" % dups[:10], file=sys.stderr)
    if alerts < a.min_alerts:
        print("expected at least %d alerts, got %d" % (a.min_alerts, alerts), file=sys.stderr)
    ok = not missing and not dups and not problems and alerts >= a.min_alerts
    sys.exit(0 if ok else 1)


def record_id(body, a, params, kind):
    """The OneLogin event id the record carries, and whether it is an alert."""
    if "eventId" in params and (a.truncated is not None or a.format == "json"):
        return int(params["eventId"]), False
    if kind == "alert":
        return None, True
    if a.format == "json":
        j = json.loads(body)
        if "alert" in (j.get("olagent") or {}):
            return None, True
        return j["id"], False
    if a.format == "cef":
        fields, kv = parse_cef(body)
        if fields[4].startswith("alert:"):
            return None, True
        return int(kv["externalId"]), False
    if a.format == "leef":
        parts, kv = parse_leef(body)
        if parts[4].startswith("alert:"):
            return None, True
        return int(kv["eventId"]), False
    j = json.loads(body)
    if j.get("class_uid") == 2004:
        return None, True
    return int(j["metadata"]["uid"]), False


def check_body(body, sent, a, raw):
    """The record against what was sent for it."""
    if a.expect:
        if body == sent:
            return
        if a.truncated is None:
            raise ValueError("body differs from what was sent")
        if len(raw.encode("utf-8")) > a.truncated or not sent.startswith(body):
            raise ValueError("cut body is not a prefix that fits %d bytes" % a.truncated)
        return
    ev = json.loads(sent)
    if a.format == "json":
        if not body.startswith(sent[:-1]):
            raise ValueError("the original bytes did not survive")
        j = json.loads(body)
        j.pop("olagent", None)
        if j != ev:
            raise ValueError("fields differ from the original")
    elif a.format == "cef":
        _, kv = parse_cef(body)
        for key, field in (("duser", "user_name"), ("suser", "actor_user_name"),
                           ("msg", "notes")):
            if isinstance(ev.get(field), str) and ev[field] and kv.get(key) != ev[field]:
                raise ValueError("CEF %s=%r, sent %r" % (key, kv.get(key), ev[field]))
    elif a.format == "leef":
        _, kv = parse_leef(body)
        for key, field in (("usrName", "user_name"), ("notes", "notes")):
            if isinstance(ev.get(field), str) and ev[field] and kv.get(key) != ev[field]:
                raise ValueError("LEEF %s=%r, sent %r" % (key, kv.get(key), ev[field]))
    else:
        j = json.loads(body)
        # OCSF 1.8 puts the event's user where its class has one: user (most
        # classes) or entity (Entity Management of a user); a class about a
        # role, group or app carries no user, and nothing to compare
        if "user" in j:
            name = j["user"].get("name")
        elif j.get("entity", {}).get("type") == "User":
            name = j["entity"].get("name")
        else:
            return
        if isinstance(ev.get("user_name"), str) and name != ev["user_name"]:
            raise ValueError("OCSF user name differs: %r" % (name,))

if __name__ == "__main__":
    main()
