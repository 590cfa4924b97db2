#!/usr/bin/env bash
# ola_syslog_bench.sh - runs ola_format_bench against a real rsyslogd.
#
# Starts olsim for real-shaped events (its /_sim/truth) and an rsyslogd on
# loopback (tests/lib/rsyslog.sh) that parses every message and discards it
# (RS_DISCARD=1: the receiver's disk is not what is measured; RS_DISCARD=0
# logs every message as JSON instead), then runs ola_format_bench over the
# events: each format, then the syslog output over TCP (octet counting), TLS
# and UDP with the cef and json formats. A benchmark, not a test.
#   usage: tests/tools/ola_syslog_bench.sh BUILD_DIR [EVENTS] [ROUNDS]
set -u
BUILD=$(cd "${1:?usage: $0 BUILD_DIR [EVENTS] [ROUNDS]}" && pwd)
N=${2:-200000}
ROUNDS=${3:-3}
OLA_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
export OLA_SOURCE_DIR OLAGENT="$BUILD/olagent" OLSIM="$BUILD/tests/olsim"
. "$OLA_SOURCE_DIR/tests/lib/common.sh"
RS_DISCARD=${RS_DISCARD:-1}
. "$OLA_SOURCE_DIR/tests/lib/rsyslog.sh"

rs_setup
rs_start
start_olsim --seed 9 --events 20000 --span 24h --users 500 --now 2024-03-01T12:00:00Z \
    --scenario bruteforce --scenario spray --scenario mfa_fatigue
sim GET /_sim/truth >"$T_DIR/events.ndjson" || fail "cannot read olsim's truth"

out() { # out NAME YAML
    printf 'type: syslog\nname: %s\napp_name: %s\nhostname: bench-host\n%s\n' "$1" "$1" \
        "$2" >"$T_DIR/$1.yaml"
    echo "-s $T_DIR/$1.yaml"
}
S=$(
    out tcp-cef "transport: tcp
port: $RS_TCP
format: cef"
    out tcp-json "transport: tcp
port: $RS_TCP"
    out tls-cef "transport: tls
port: $RS_TLS
format: cef
tls: {ca_file: $RS_DIR/ca.pem, server_name: localhost}"
    out tls-json "transport: tls
port: $RS_TLS
tls: {ca_file: $RS_DIR/ca.pem, server_name: localhost}"
    out udp-cef "transport: udp
port: $RS_UDP
format: cef"
)
echo "rsyslogd $(rsyslogd -v | head -1 | cut -d, -f1 | awk '{print $2}'), $(nproc) CPUs," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
(cd "$OLA_SOURCE_DIR" && "$BUILD/tests/ola_format_bench" -i "$T_DIR/events.ndjson" \
    -n "$N" -k "$ROUNDS" $S)
