# rsyslog.sh - a real rsyslogd for the syslog tests and the syslog benchmark.
#
# Sourced after common.sh (it uses T_DIR, T_PIDS and fail). rs_setup makes a
# test CA, a server certificate for localhost/127.0.0.1, a client certificate
# and an unrelated CA, and writes an rsyslog.conf that listens on free
# loopback ports:
#   RS_UDP   imudp                          -> $RS_DIR/udp-<app-name>.log
#   RS_TCP   imtcp                          -> $RS_DIR/tcp-<app-name>.log
#   RS_TLS   imtcp, ossl, no client auth    -> $RS_DIR/tls-<app-name>.log
#   RS_MTLS  imtcp, ossl, client certificate required (x509/certvalid)
#                                           -> $RS_DIR/mtls-<app-name>.log
#   RS_SOCK  imuxsock on a datagram socket  -> $RS_DIR/unix-<app-name>.log
# Each log line is one message as rsyslog parsed it, as JSON: protocol
# version, hostname, app-name, procid, msgid, structured data, facility,
# severity, msg and the raw message (control characters are not escaped on
# reception, so line breaks inside a message stay in it). Every scenario uses
# its own app_name, so it gets its own file. RS_DISCARD=1 makes rsyslogd parse
# every message and write its raw bytes to /dev/null (for the benchmark: the
# receiver's disk is not what is measured).

command -v rsyslogd >/dev/null || fail "rsyslogd not installed (Debian package rsyslog)"
command -v openssl >/dev/null || fail "openssl not installed"
[ -n "$(find /usr/lib /usr/lib64 -name lmnsd_ossl.so 2>/dev/null | head -1)" ] ||
    fail "rsyslog's ossl driver missing (Debian package rsyslog-openssl)"

RS_DIR="$T_DIR/rsyslog"
RS_PID=""

# rs_free_port: a free loopback port below the kernel's ephemeral range, so
# that no outgoing connection takes it while rsyslogd is down and the port
# is still free when a test starts rsyslogd again on it.
rs_free_port() {
    python3 - <<'PY'
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    port = random.randrange(10000, max(lo, 10001))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # imudp takes the number too
    try:
        d.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        d.close()
    print(port)
    break
else:
    raise SystemExit("no free port below %d" % lo)
PY
}

# rs_issue NAME SUBJECT EXTENSION WHAT: a key NAME.key and a certificate
# NAME.pem for SUBJECT with one X.509v3 EXTENSION line, signed by the test CA.
rs_issue() {
    local d=$RS_DIR
    openssl req -newkey rsa:2048 -nodes -subj "$2" \
        -keyout "$d/$1.key" -out "$d/$1.csr" 2>/dev/null || fail "openssl: $4 key"
    printf '%s\n' "$3" >"$d/$1.ext"
    openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -days 2 -extfile "$d/$1.ext" -out "$d/$1.pem" 2>/dev/null ||
        fail "openssl: $4 certificate"
}

rs_certs() {
    local d=$RS_DIR
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=olagent test CA" \
        -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || fail "openssl: CA"
    rs_issue srv "/CN=localhost" 'subjectAltName=DNS:localhost,IP:127.0.0.1' server
    rs_issue cli "/CN=olagent-client" 'extendedKeyUsage=clientAuth' client
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unrelated CA" \
        -keyout "$d/other.key" -out "$d/other.pem" 2>/dev/null || fail "openssl: other CA"
}

# rs_setup: certificates, ports, config. Call once per test.
rs_setup() {
    local action
    mkdir -p "$RS_DIR/work"
    rs_certs
    RS_UDP=$(rs_free_port)
    RS_TCP=$(rs_free_port)
    RS_TLS=$(rs_free_port)
    RS_MTLS=$(rs_free_port)
    RS_SOCK="$RS_DIR/log.sock"
    if [ "${RS_DISCARD:-0}" = 1 ]; then
        action='action(type="omfile" file="/dev/null" template="rawline")'
    else
        action='action(type="omfile" dynaFile="f_%s" template="parsed")'
    fi
    cat >"$RS_DIR/rsyslog.conf" <<CONF
global(workDirectory="$RS_DIR/work" maxMessageSize="1m"
       parser.escapeControlCharactersOnReceive="off"
       defaultNetstreamDriverCAFile="$RS_DIR/ca.pem"
       defaultNetstreamDriverCertFile="$RS_DIR/srv.pem"
       defaultNetstreamDriverKeyFile="$RS_DIR/srv.key")
template(name="parsed" type="list" option.jsonf="on") {
    property(outname="ver" name="protocol-version" format="jsonf")
    property(outname="host" name="hostname" format="jsonf")
    property(outname="app" name="app-name" format="jsonf")
    property(outname="procid" name="procid" format="jsonf")
    property(outname="msgid" name="msgid" format="jsonf")
    property(outname="sd" name="structured-data" format="jsonf")
    property(outname="fac" name="syslogfacility" format="jsonf")
    property(outname="sev" name="syslogseverity" format="jsonf")
    property(outname="msg" name="msg" format="jsonf")
    property(outname="raw" name="rawmsg" format="jsonf")
}
template(name="rawline" type="string" string="%rawmsg%\n")
template(name="f_udp" type="string" string="$RS_DIR/udp-%app-name%.log")
template(name="f_tcp" type="string" string="$RS_DIR/tcp-%app-name%.log")
template(name="f_tls" type="string" string="$RS_DIR/tls-%app-name%.log")
template(name="f_mtls" type="string" string="$RS_DIR/mtls-%app-name%.log")
template(name="f_unix" type="string" string="$RS_DIR/unix-%app-name%.log")
module(load="imudp")
module(load="imtcp" maxSessions="200")
module(load="imuxsock" SysSock.Use="off")
ruleset(name="udp") { $(printf "$action" udp) }
ruleset(name="tcp") { $(printf "$action" tcp) }
ruleset(name="tls") { $(printf "$action" tls) }
ruleset(name="mtls") { $(printf "$action" mtls) }
ruleset(name="unix") { $(printf "$action" unix) }
input(type="imudp" address="127.0.0.1" port="$RS_UDP" ruleset="udp" rcvbufSize="8m")
input(type="imtcp" address="127.0.0.1" port="$RS_TCP" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$RS_TLS" ruleset="tls"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="$RS_MTLS" ruleset="mtls"
      streamDriver.name="ossl" streamDriver.mode="1"
      streamDriver.authMode="x509/certvalid")
input(type="imuxsock" socket="$RS_SOCK" ruleset="unix" useSpecialParser="off"
      parseHostname="on" rateLimit.interval="0")
CONF
    rsyslogd -N1 -f "$RS_DIR/rsyslog.conf" >"$RS_DIR/check.out" 2>&1 ||
        fail "rsyslog.conf rejected: $(cat "$RS_DIR/check.out")"
}

# rs_start: rsyslogd in the foreground (as a child), ready when its ports accept.
# It does not inherit fd 3, which tests use to feed a fifo (the reader must see EOF).
rs_start() {
    rsyslogd -n -f "$RS_DIR/rsyslog.conf" -i "$RS_DIR/rsyslogd.pid" \
        2>>"$RS_DIR/rsyslogd.err" 3>&- &
    RS_PID=$!
    T_PIDS+=("$RS_PID")
    wait_until 10 rs_ready || fail "rsyslogd did not start: $(cat "$RS_DIR/rsyslogd.err")"
}

# rs_ready: rsyslogd's ports accept and its unix socket exists (fails the
# test if rsyslogd exited).
rs_ready() {
    if python3 - "$RS_TCP" "$RS_TLS" "$RS_MTLS" 2>/dev/null <<'PY'; then
import socket, sys
for p in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(p)), 0.2).close()
PY
        [ -S "$RS_SOCK" ] && return 0
    fi
    kill -0 "$RS_PID" 2>/dev/null || fail "rsyslogd exited: $(cat "$RS_DIR/rsyslogd.err")"
    return 1
}

# rs_stop: SIGTERM and wait (rsyslogd writes what it has queued first).
rs_stop() {
    [ -n "$RS_PID" ] || return 0
    kill -CONT "$RS_PID" 2>/dev/null
    kill -TERM "$RS_PID" 2>/dev/null
    wait "$RS_PID" 2>/dev/null
    RS_PID=""
}

# rs_kill: kill -9, as a crash: the kernel closes rsyslogd's sockets (a
# connection with unread bytes gets a reset) and its ports refuse
# connections until rs_start runs it again on the same ports.
rs_kill() {
    [ -n "$RS_PID" ] || return 0
    kill -KILL "$RS_PID" 2>/dev/null
    wait "$RS_PID" 2>/dev/null
    RS_PID=""
}

rs_pause() { kill -STOP "$RS_PID"; }
rs_resume() { kill -CONT "$RS_PID"; }

# rs_lines FILE: messages in a log so far (one JSON line each).
rs_lines() {
    if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# rs_wait FILE N SECONDS: until FILE holds at least N messages (rsyslogd writes
# asynchronously); returns 1 on timeout.
rs_wait() { wait_until "$3" rs_has "$1" "$2"; }

# rs_has FILE N: FILE holds at least N messages.
rs_has() { [ "$(rs_lines "$1")" -ge "$2" ]; }

# rs_check ARGS...: tests/lib/syslog_check.py (see there).
rs_check() {
    python3 "$OLA_SOURCE_DIR/tests/lib/syslog_check.py" "$@"
}
