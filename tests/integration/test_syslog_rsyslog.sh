#!/usr/bin/env bash
# The syslog output against a real rsyslogd (foreground, loopback, its own config).
#
# Events are olsim's (real-shaped: 35 fields, multi-line notes, quotes, tabs,
# non-ASCII names). ola_syslog_writer drives the output the way the pipeline
# does (write, flush until OK with backoff); rsyslogd logs every message as it
# parsed it, and tests/lib/syslog_check.py asserts each event arrived exactly
# once, parsed as the chosen RFC, with its bytes intact. Scenarios: UDP (5424
# and 3164, and oversized events truncated at a UTF-8 boundary), TCP with
# octet counting carrying pretty-printed (multi-line) events of up to 10 KiB,
# TCP with LF framing, TLS with CA verification, TLS with a client
# certificate, a server the CA did not sign (refused, or accepted with a
# warning when verification is off), a missing client certificate, the unix
# socket, rsyslogd stopped
# (SIGSTOP) for 5 s mid-stream, rsyslogd restarted between two halves.
# ctest-cost: 35
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rsyslog.sh"

WRITER="${OLA_TOOLS_DIR:?}/ola_syslog_writer"
HOST=ola-test
rs_setup
rs_start
start_olsim --seed 5 --events 3000 --span 6h --users 200
sim GET /_sim/truth >"$T_DIR/truth.ndjson" || fail "cannot read olsim's truth"

# gen MODE N OUT: the first N truth events as writer input OUT.in and the exact
# bodies the receiver must get as OUT.expect. MODE: compact (as olsim served
# them), pretty (indented: line breaks inside each record; every third one
# carries 10 KiB more of notes with non-ASCII text), big (compact, the same
# long notes).
gen() {
    python3 - "$T_DIR/truth.ndjson" "$1" "$2" "$T_DIR/$3" <<'PY'
import json, sys
src, mode, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(out + ".in", "w", encoding="utf-8") as fin, \
     open(out + ".expect", "w", encoding="utf-8") as fexp:
    for i, line in enumerate(open(src, encoding="utf-8")):
        if i == n:
            break
        line = line.rstrip("\n")
        if mode == "compact":
            body = line
            fin.write(body + "\n")
        else:
            ev = json.loads(line)
            if i % 3 == 0:
                ev["notes"] = ((ev["notes"] or "") + "\n" +
                               ("10 KiB of notes: \u00e9\u4e2d\U0001F600 \"q\" \\ ] = | \t" * 300)[:10240])
            if mode == "pretty":
                body = json.dumps(ev, ensure_ascii=False, indent=1)
                fin.write(body + "\n\n")
            else:
                body = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
                fin.write(body + "\n")
        fexp.write(json.dumps({"id": json.loads(body)["id"], "body": body}) + "\n")
PY
}

# conf NAME YAML: an output config; NAME is also the app_name, so the
# scenario's messages land in rsyslog's <input>-NAME.log.
conf() {
    printf 'type: syslog\nname: %s\napp_name: %s\nhostname: %s\n%s\n' "$1" "$1" "$HOST" \
        "$2" >"$T_DIR/$1.yaml"
}

# run NAME INPUT [writer options]: pushes INPUT through the output NAME.
run() {
    local name=$1 input=$2
    shift 2
    "$WRITER" -c "$T_DIR/$name.yaml" "$@" <"$T_DIR/$input" >"$T_DIR/$name.out" \
        2>"$T_DIR/$name.err" || fail "$name: the writer failed: $(tail -3 "$T_DIR/$name.err")"
}

# check NAME LOG N [checker options]: waits for N messages, then checks them.
check() {
    local name=$1 log=$RS_DIR/$2 n=$3
    shift 3
    rs_wait "$log" "$n" 30 || true
    rs_check "$log" --app "$name" --host "$HOST" "$@" >"$T_DIR/$name.check" ||
        fail "$name: $(cat "$T_DIR/$name.check")"
    cat "$T_DIR/$name.check"
}

gen compact 300 small
gen pretty 300 pretty
gen big 300 big

t_log "UDP, RFC 5424 and 3164"
conf udp5424 "transport: udp
port: $RS_UDP
facility: auth"
run udp5424 small.in -b 25 -p 20
check udp5424 udp-udp5424.log 300 --expect "$T_DIR/small.expect" --facility 4
conf udp3164 "transport: udp
port: $RS_UDP
rfc: 3164"
run udp3164 small.in -b 25 -p 20
check udp3164 udp-udp3164.log 300 --rfc 3164 --expect "$T_DIR/small.expect" --facility 16

t_log "UDP, 10 KiB events: cut at a UTF-8 boundary to the 2048-byte default"
conf udpcut "transport: udp
port: $RS_UDP"
run udpcut big.in -b 25 -p 20
check udpcut udp-udpcut.log 300 --expect "$T_DIR/big.expect" --truncated 2048
cut=$(sed -n 's/.* truncated \([0-9]*\) .*/\1/p' "$T_DIR/udpcut.err")
[ "${cut:-0}" -ge 100 ] && grep -q " $cut truncated" "$T_DIR/udpcut.check" ||
    fail "udpcut: the writer counted ${cut:-no} truncated messages"

t_log "TCP, octet counting: multi-line events, 10 KiB events"
conf tcp "transport: tcp
port: $RS_TCP"
run tcp pretty.in -b 50 -m
check tcp tcp-tcp.log 300 --expect "$T_DIR/pretty.expect"

t_log "TCP, LF framing, RFC 3164"
conf tcplf "transport: tcp
port: $RS_TCP
framing: lf
rfc: 3164"
run tcplf big.in -b 50
check tcplf tcp-tcplf.log 300 --rfc 3164 --expect "$T_DIR/big.expect"

t_log "TLS (ossl), CA verification: multi-line events, 10 KiB events"
conf tls "transport: tls
port: $RS_TLS
tls:
  ca_file: $RS_DIR/ca.pem
  server_name: localhost"
run tls pretty.in -b 50 -m
check tls tls-tls.log 300 --expect "$T_DIR/pretty.expect"

t_log "TLS with a client certificate (x509/certvalid), to 127.0.0.1 by address"
conf mtls "transport: tls
host: 127.0.0.1
port: $RS_MTLS
tls:
  ca_file: $RS_DIR/ca.pem
  cert_file: $RS_DIR/cli.pem
  key_file: $RS_DIR/cli.key"
run mtls pretty.in -b 50 -m
check mtls mtls-mtls.log 300 --expect "$T_DIR/pretty.expect"

t_log "TLS: a server the CA did not sign (refused; accepted with a warning when verify is off); no client certificate"
conf badca "transport: tls
port: $RS_TLS
connect_timeout: 2s
tls:
  ca_file: $RS_DIR/other.pem"
if timeout 3 "$WRITER" -c "$T_DIR/badca.yaml" <"$T_DIR/small.in" >"$T_DIR/badca.out" \
    2>"$T_DIR/badca.err"; then
    fail "badca: an unverified server was accepted"
fi
grep -q "certificate verification failed" "$T_DIR/badca.err" ||
    fail "badca: expected a verification error: $(head -3 "$T_DIR/badca.err")"
conf noverify "transport: tls
port: $RS_TLS
tls:
  verify: false"
run noverify small.in -b 50
check noverify tls-noverify.log 300 --expect "$T_DIR/small.expect"
grep -q "without checking the server's certificate" "$T_DIR/noverify.err" ||
    fail "noverify: no warning about tls.verify: false"
conf nocert "transport: tls
port: $RS_MTLS
connect_timeout: 2s
tls:
  ca_file: $RS_DIR/ca.pem
  server_name: localhost"
if timeout 3 "$WRITER" -c "$T_DIR/nocert.yaml" <"$T_DIR/small.in" >"$T_DIR/nocert.out" \
    2>"$T_DIR/nocert.err"; then
    fail "nocert: a server that wants a client certificate took messages without one"
fi
grep -q "acked [1-9]" "$T_DIR/nocert.out" && fail "nocert: messages acknowledged"
grep -q "refused the connection" "$T_DIR/nocert.err" ||
    fail "nocert: expected the server's refusal: $(head -3 "$T_DIR/nocert.err")"
[ "$(rs_lines "$RS_DIR/mtls-nocert.log")" -eq 0 ] || fail "nocert: messages arrived"

t_log "unix datagram socket"
conf unix "transport: unix
socket: $RS_SOCK
max_size: 64KiB"
run unix big.in -b 50
check unix unix-unix.log 300 --expect "$T_DIR/big.expect"

t_log "TCP, rsyslogd stopped for 5 s mid-stream"
gen pretty 3000 stop
conf stop "transport: tcp
port: $RS_TCP"
"$WRITER" -c "$T_DIR/stop.yaml" -b 50 -p 10 -m <"$T_DIR/stop.in" >"$T_DIR/stop.out" \
    2>"$T_DIR/stop.err" &
W=$!
rs_wait "$RS_DIR/tcp-stop.log" 100 30 || fail "stop: nothing arrived"
rs_pause
t_log "rsyslogd stopped at $(rs_lines "$RS_DIR/tcp-stop.log") messages"
sleep 5
blocked=0
kill -0 "$W" 2>/dev/null && blocked=1
rs_resume
wait "$W" || fail "stop: the writer failed: $(tail -3 "$T_DIR/stop.err")"
check stop tcp-stop.log 3000 --expect "$T_DIR/stop.expect"
# still running after 5 s: the stopped receiver held it up, so its flushes
# (1 s each) must have answered RETRY before it delivered the rest
if [ "$blocked" = 1 ]; then
    grep -q "flush: RETRY" "$T_DIR/stop.err" || fail "stop: blocked, yet no RETRY"
else
    t_log "note: the ~13 MB fit in the socket buffers; the writer was never held up"
fi

t_log "TCP, rsyslogd restarted between two halves: reconnect, nothing lost"
gen compact 400 rs
head -n 200 "$T_DIR/rs.in" >"$T_DIR/rs1"
tail -n 200 "$T_DIR/rs.in" >"$T_DIR/rs2"
conf restart "transport: tcp
port: $RS_TCP"
mkfifo "$T_DIR/fifo"
"$WRITER" -c "$T_DIR/restart.yaml" -b 50 <"$T_DIR/fifo" >"$T_DIR/restart.out" \
    2>"$T_DIR/restart.err" &
W=$!
exec 3>"$T_DIR/fifo"
cat "$T_DIR/rs1" >&3
rs_wait "$RS_DIR/tcp-restart.log" 200 30 || fail "restart: the first half did not arrive"
rs_stop
rs_start
cat "$T_DIR/rs2" >&3
exec 3>&-
wait "$W" || fail "restart: the writer failed: $(tail -3 "$T_DIR/restart.err")"
grep -q "closed by the peer" "$T_DIR/restart.err" ||
    fail "restart: the closed connection went unnoticed"
check restart tcp-restart.log 400 --expect "$T_DIR/rs.expect"

rs_stop
echo "syslog against rsyslogd: all scenarios passed"
