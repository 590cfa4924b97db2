#!/usr/bin/env bash
# Slow clients cannot starve the metrics server: while 100 connections from
# another local address (127.0.0.2) sit idle or half-way through their request
# headers, /healthz, /readyz and /metrics from 127.0.0.1 still answer, each
# within 2 s. The per-address limit must not get in the way of ordinary
# scrapes: 40 scrapes in a row, and 8 at once, all answer.
. "$(dirname "$0")/../lib/common.sh"

command -v python3 >/dev/null || fail "python3 is needed"
start_olsim --seed 3 --events 50
write_config "$T_DIR/olagent.yaml" "outputs:
  - type: file
    path: $T_DIR/out.ndjson
    compression: none
metrics:
  listen: 127.0.0.1:0"
sed -i 's/^metrics: false$//' "$T_DIR/olagent.yaml"
start_agent "$T_DIR/olagent.yaml" /dev/null

deadline=$(($(date +%s) + 30))
port=
while [ "$(date +%s)" -lt "$deadline" ]; do
    port=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$T_DIR/agent.err" | tail -1)
    [ -n "$port" ] && break
    kill -0 "$AGENT_PID" 2>/dev/null || fail "olagent exited: $(tail -3 "$T_DIR/agent.err")"
    sleep 0.1
done
[ -n "$port" ] || fail "no metrics port logged: $(tail -3 "$T_DIR/agent.err")"
deadline=$(($(date +%s) + 30))
until curl -s -f -o /dev/null "http://127.0.0.1:$port/healthz"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "/healthz never answered, even unloaded"
    sleep 0.1
done

# 100 connections from 127.0.0.2: half are idle, half sent part of a request;
# "ready" once every connect returned (refused or reset ones count: the server
# may turn away what is over its limits), then they are held open
python3 - "$port" "$T_DIR/slow.ready" >"$T_DIR/slow.out" 2>&1 <<'PY' &
import socket, sys, time
port, ready = int(sys.argv[1]), sys.argv[2]
held, refused = [], 0
for i in range(100):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        if i % 2:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        held.append(s)
    except OSError:
        refused += 1
        s.close()
with open(ready + ".tmp", "w") as f:
    f.write("connected %d refused %d\n" % (len(held), refused))
import os
os.rename(ready + ".tmp", ready)
time.sleep(120)  # killed by the test
PY
SLOW_PID=$!
T_PIDS+=("$SLOW_PID")
deadline=$(($(date +%s) + 30))
until [ -s "$T_DIR/slow.ready" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the slow client did not connect: $(cat "$T_DIR/slow.out")"
    kill -0 "$SLOW_PID" 2>/dev/null || fail "the slow client died: $(cat "$T_DIR/slow.out")"
    sleep 0.1
done
t_log "slow client: $(cat "$T_DIR/slow.ready")"

# scrape PATH: one request from 127.0.0.1 that must answer within 2 s
scrape() {
    local t0 t1 code
    t0=$(date +%s%N)
    code=$(curl -s -o "$T_DIR/scrape.body" -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:$port$1")
    t1=$(date +%s%N)
    case "$1:$code" in
    *:200 | /readyz:503) ;; # readyz may say not ready: it answered
    *) fail "$1 with 100 slow connections open: HTTP '$code' after $(((t1 - t0) / 1000000)) ms" ;;
    esac
    echo $(((t1 - t0) / 1000000))
}
worst=0
for path in /healthz /readyz /metrics /healthz; do
    ms=$(scrape "$path") || exit 1
    [ "$ms" -gt "$worst" ] && worst=$ms
done
grep -q '^ok' "$T_DIR/scrape.body" || fail "/healthz body: $(cat "$T_DIR/scrape.body")"
kill -0 "$SLOW_PID" 2>/dev/null || fail "the slow client was gone before the scrapes ended"

# ordinary scrapes from one address: many in a row, then several at once
for i in $(seq 1 40); do
    curl -s -f -o /dev/null --max-time 5 "http://127.0.0.1:$port/metrics" ||
        fail "scrape $i in a row failed"
done
pids=()
for i in $(seq 1 8); do
    curl -s -f -o "$T_DIR/par.$i" --max-time 5 "http://127.0.0.1:$port/metrics" &
    pids+=("$!")
done
for p in "${pids[@]}"; do
    wait "$p" || fail "a parallel scrape failed"
done
stop_agent || fail "olagent exited $? after SIGTERM"
echo "metrics: /healthz, /readyz and /metrics answered in at most $worst ms with 100 slow connections open from 127.0.0.2"
