#!/bin/bash
# syslog output against a real rsyslogd (started here, foreground, loopback).
#
# One rsyslogd listens on free loopback ports: imudp, imtcp (plain) and imtcp
# with the ossl driver (certificate made here). Each input writes what it
# receives, parsed as RFC 5424, to its own file. ola_syslog_writer pushes
# NDJSON events through the syslog output; a checker asserts every event
# arrived exactly once, parsed as RFC 5424, with the JSON body intact.
# Scenarios: UDP small events; TCP octet counting with multi-line notes and
# 10 KiB events; LF framing; TLS with CA verification; rsyslogd stopped
# (SIGSTOP) for 5 s mid-stream; rsyslogd restarted between two halves.
set -euo pipefail

WRITER="${OLA_TOOLS_DIR:?}/ola_syslog_writer"
command -v rsyslogd >/dev/null || { echo "rsyslogd not installed"; exit 1; }
T=$(mktemp -d /tmp/ola-rsyslog.XXXXXX)
RS_PID=""
cleanup() {
    if [ -n "$RS_PID" ]; then kill -CONT "$RS_PID" 2>/dev/null || true; kill "$RS_PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
UDP_PORT=$(free_port); TCP_PORT=$(free_port); TLS_PORT=$(free_port)

# --- certificates: a CA and a server certificate for 127.0.0.1 / localhost ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=olagent test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/san.ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/san.ext" -out "$T/srv.pem" 2>/dev/null

mkdir -p "$T/work"
cat >"$T/rsyslog.conf" <<CONF
global(workDirectory="$T/work" maxMessageSize="256k"
       defaultNetstreamDriverCAFile="$T/ca.pem"
       defaultNetstreamDriverCertFile="$T/srv.pem"
       defaultNetstreamDriverKeyFile="$T/srv.key")
template(name="parsed" type="string"
         string="%protocol-version%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
module(load="imudp")
module(load="imtcp" maxSessions="50")
ruleset(name="udp") { action(type="omfile" file="$T/udp.log" template="parsed") }
ruleset(name="tcp") { action(type="omfile" file="$T/tcp.log" template="parsed") }
ruleset(name="tls") { action(type="omfile" file="$T/tls.log" template="parsed") }
input(type="imudp" address="127.0.0.1" port="$UDP_PORT" ruleset="udp" rcvbufSize="4m")
input(type="imtcp" address="127.0.0.1" port="$TCP_PORT" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$TLS_PORT" ruleset="tls"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
CONF

start_rsyslogd() {
    rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" 2>>"$T/rsyslogd.err" 3>&- &
    RS_PID=$!
    for _ in $(seq 100); do
        if python3 - "$TCP_PORT" "$TLS_PORT" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
for p in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(p)), 0.2).close()
PY
        sleep 0.1
    done
    echo "rsyslogd did not start"; cat "$T/rsyslogd.err"; exit 1
}
stop_rsyslogd() {
    kill "$RS_PID"; wait "$RS_PID" 2>/dev/null || true; RS_PID=""
}

# --- events: real-shaped, from the fixtures, with new ids --------------------
# gen N KIND: small | big (multi-line notes, some 10 KiB with unicode)
gen() {
    python3 - "$OLA_DATA_DIR/onelogin/events-page-200.json" "$1" "$2" "$3" <<'PY'
import json, sys
tmpl = json.load(open(sys.argv[1]))["data"]
n, kind, first = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
for i in range(n):
    ev = dict(tmpl[i % len(tmpl)])
    ev["id"] = first + i
    if kind == "big":
        ev["notes"] = "line one\nline two \u00e9\u4e2d\U0001F600 \"q\" \\ ] = |\nend %d" % i
        if i % 3 == 0:
            ev["notes"] += "\n" + ("10KiB payload \u00fc " * 700)[:10240]
    print(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
PY
}

# check FILE EVENTS: every event exactly once, RFC 5424, JSON body identical
check() {
    python3 - "$1" "$2" <<'PY'
import json, sys, collections
sent = {}
for line in open(sys.argv[2], encoding="utf-8"):
    ev = json.loads(line); sent[ev["id"]] = ev
seen = collections.Counter(); bad = 0
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    ver, app, pid, msgid, sd, msg = line.split("|", 5)
    body = json.loads(msg.lstrip(" "))
    ok = (ver == "1" and app == "olagent" and msgid == "event" and
          sd.startswith("[olagent@32473 eventId=\"%d\" typeId=" % body["id"]) and
          body == sent.get(body["id"]))
    if not ok:
        bad += 1
        if bad < 3: print("bad message:", line[:300])
    seen[body["id"]] += 1
missing = [i for i in sent if seen[i] == 0]
dups = [i for i, c in seen.items() if c > 1]
print("%s: %d sent, %d received, %d missing, %d duplicated, %d bad" %
      (sys.argv[1].rsplit("/", 1)[-1], len(sent), sum(seen.values()), len(missing), len(dups), bad))
sys.exit(0 if not missing and not dups and not bad else 1)
PY
}

# wait_lines FILE N: until FILE has N lines (rsyslogd writes asynchronously)
wait_lines() {
    for _ in $(seq 300); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 0
}

conf() { # conf NAME YAML-BODY
    printf 'outputs:\n  - type: syslog\n    name: %s\n%s\n' "$1" "$2" >"$T/$1.yaml"
}

start_rsyslogd
fail=0

echo "== UDP, small events"
conf udp "    transport: udp
    host: 127.0.0.1
    port: $UDP_PORT"
gen 200 small 1000 >"$T/udp.ndjson"
# UDP has no flow control: pace batches so the test measures the output, not drops
"$WRITER" -c "$T/udp.yaml" -b 20 -p 20 <"$T/udp.ndjson"
wait_lines "$T/udp.log" 200
check "$T/udp.log" "$T/udp.ndjson" || fail=1

echo "== TCP octet counting, multi-line notes and 10 KiB events"
conf tcp "    transport: tcp
    host: 127.0.0.1
    port: $TCP_PORT
    framing: octet"
gen 300 big 2000 >"$T/tcp.ndjson"
"$WRITER" -c "$T/tcp.yaml" -b 50 <"$T/tcp.ndjson"
wait_lines "$T/tcp.log" 300
check "$T/tcp.log" "$T/tcp.ndjson" || fail=1

echo "== TLS (ossl), CA verification, multi-line and 10 KiB events"
conf tls "    transport: tls
    host: 127.0.0.1
    port: $TLS_PORT
    tls:
      ca_file: $T/ca.pem
      server_name: localhost"
gen 300 big 3000 >"$T/tls.ndjson"
"$WRITER" -c "$T/tls.yaml" -b 50 <"$T/tls.ndjson"
wait_lines "$T/tls.log" 300
check "$T/tls.log" "$T/tls.ndjson" || fail=1

echo "== TLS with a CA that did not sign the server: refused, nothing acked"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
    -keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null
conf tlsbad "    transport: tls
    host: 127.0.0.1
    port: $TLS_PORT
    connect_timeout: 2s
    tls:
      ca_file: $T/other.pem"
if timeout 3 "$WRITER" -c "$T/tlsbad.yaml" <"$T/udp.ndjson" 2>"$T/tlsbad.err"; then
    echo "FAIL: unverified server accepted"; fail=1
elif ! grep -q "certificate verif" "$T/tlsbad.err"; then
    echo "FAIL: expected a verification error"; head -3 "$T/tlsbad.err"; fail=1
else
    echo "refused: $(grep -m1 -o 'certificate verif.*' "$T/tlsbad.err")"
fi

echo "== TCP, rsyslogd stopped for 5 s mid-stream"
rm -f "$T/tcp.log"; kill -HUP "$RS_PID"; sleep 0.5
gen 3000 big 10000 >"$T/stop.ndjson"
"$WRITER" -c "$T/tcp.yaml" -b 50 <"$T/stop.ndjson" >"$T/stop.out" 2>"$T/stop.err" &
W=$!
wait_lines "$T/tcp.log" 300
kill -STOP "$RS_PID"
echo "rsyslogd stopped at $(wc -l <"$T/tcp.log") messages"
sleep 5
kill -CONT "$RS_PID"
wait "$W" || { echo "writer failed"; cat "$T/stop.err"; fail=1; }
wait_lines "$T/tcp.log" 3000
check "$T/tcp.log" "$T/stop.ndjson" || fail=1

echo "== TCP, rsyslogd restarted between two halves: reconnect, nothing lost"
rm -f "$T/tcp.log"; kill -HUP "$RS_PID"; sleep 0.5
gen 400 big 20000 >"$T/rs.ndjson"
head -n 200 "$T/rs.ndjson" >"$T/rs1"; tail -n 200 "$T/rs.ndjson" >"$T/rs2"
mkfifo "$T/fifo"
"$WRITER" -c "$T/tcp.yaml" -b 50 <"$T/fifo" >"$T/rs.out" 2>"$T/rs.err" &
W=$!
exec 3>"$T/fifo"
cat "$T/rs1" >&3
wait_lines "$T/tcp.log" 200
stop_rsyslogd
sleep 1
start_rsyslogd
cat "$T/rs2" >&3
exec 3>&-
wait "$W" || { echo "writer failed"; cat "$T/rs.err"; fail=1; }
if ! grep -q "closed by the peer" "$T/rs.err"; then
    echo "FAIL: the writer did not notice the closed connection"; fail=1
fi
wait_lines "$T/tcp.log" 400
check "$T/tcp.log" "$T/rs.ndjson" || fail=1

stop_rsyslogd
exit $fail
