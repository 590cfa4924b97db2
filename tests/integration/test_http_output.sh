#!/usr/bin/env bash
# test_http_output.sh - the http (webhook) output against tests/sim/http_sink.py.
#
# olsim's events go through `olagent run` to the fake receiver, which stores
# what it accepted and each request's Idempotency-Key. Scenarios: the happy
# path (gzip NDJSON with a secret header, and a JSON array), seeded faults
# (503 bursts, 429 with Retry-After, slow answers past the timeout, answers
# cut mid-header) with nothing lost and every duplicate carrying a repeated
# key, a 400 for two marked records (dead-lettered, the rest delivered), a 401
# (exit 1, one clear line, the secret never logged), TLS (the test CA, then a
# server the agent must not trust), and backlog + live tail with two kill -9.
# ctest-cost: 90
. "$(dirname "$0")/../lib/common.sh"

SINK="$OLA_SOURCE_DIR/tests/sim/http_sink.py"
export HOOK_KEY="hk-$RANDOM-s3cr3t-value"

# start_sink NAME [http_sink options...]: sets SINK_PORT; stores in $T_DIR/NAME.
start_sink() {
    local d="$T_DIR/$1"
    shift
    mkdir -p "$d"
    python3 "$SINK" --port-file "$d/port" --dir "$d" "$@" >"$d/out" 2>"$d/err" &
    T_PIDS+=("$!")
    WAIT_EVERY=0.05 wait_until 20 test -s "$d/port" ||
        fail "http_sink did not start: $(cat "$d/err")"
    SINK_PORT=$(cat "$d/port")
}

# http_block URL [extra keys, each line indented by 4]: one http output.
http_block() {
    printf '  - type: http\n    url: %s\n%s\n' "$1" "${2:-}"
}

# check_sink NAME: every truth id in NAME/accepted.ndjson; prints "dups keydups"
# (records accepted twice, and of those the ones whose request key repeated).
check_sink() {
    python3 - "$T_DIR/truth.ids" "$T_DIR/$1" "${2:-}" <<'PY'
import collections, json, sys
truth = [int(l) for l in open(sys.argv[1]) if l.strip()]
d, skip = sys.argv[2], set(int(x) for x in sys.argv[3].split(",") if x)
recs = [json.loads(l) for l in open(d + "/accepted.ndjson")]
ids = collections.Counter(r["id"] for r in recs)
missing = [i for i in truth if i not in ids and i not in skip]
if missing:
    sys.exit("%d events missing (first %s)" % (len(missing), missing[:3]))
if set(ids) - set(truth):
    sys.exit("events the simulator never had: %s" % sorted(set(ids) - set(truth))[:3])
if skip & set(ids):
    sys.exit("refused records were accepted: %s" % sorted(skip & set(ids)))
reqs = [json.loads(l) for l in open(d + "/requests.ndjson")]
if any(not r["key"] or len(r["key"]) != 32 for r in reqs):
    sys.exit("a request without a 32-hex Idempotency-Key")
keys = collections.Counter(r["key"] for r in reqs)
# the records a receiver deduping by key would drop: n per repeat of a key
keyed = {}
for r in reqs:
    keyed.setdefault(r["key"], r)
dup = sum(v - 1 for v in ids.values())
keydup = sum(r["n"] * (keys[k] - 1) for k, r in keyed.items())
print(dup, keydup, len(reqs))
PY
}

START=-4h
start_olsim --seed 5 --events 1500 --span 3h
truth_ids "$T_DIR/truth.ids"

# ---- 1. happy path: gzip NDJSON with a secret header; a JSON array ----------------
start_sink ok --api-key "$HOOK_KEY"
P1=$SINK_PORT
start_sink arr
write_config "$T_DIR/ok.yaml" "outputs:
$(http_block "http://127.0.0.1:$P1/ingest" "    compression: gzip
    batch_max_events: 20
    headers: {X-Api-Key: \"\${HOOK_KEY}\", X-Source: olagent}")
$(http_block "http://localhost:$SINK_PORT/put" "    name: arr
    method: PUT
    framing: json_array
    batch_max_bytes: 8KiB")"
"$OLAGENT" check -c "$T_DIR/ok.yaml" >"$T_DIR/check.txt" 2>&1 || fail "check: $(cat "$T_DIR/check.txt")"
grep -q "outputs\[0\].compression: gzip" "$T_DIR/check.txt" || fail "check does not show the http keys"
grep -qF "$HOOK_KEY" "$T_DIR/check.txt" && fail "check printed the header secret"
: >"$T_DIR/ok.out"
start_agent "$T_DIR/ok.yaml" "$T_DIR/ok.out"
wait_until 120 eval '[ "$(wc -l <"$T_DIR/ok/accepted.ndjson")" -ge 1500 ] && [ "$(wc -l <"$T_DIR/arr/accepted.ndjson")" -ge 1500 ]' ||
    fail "happy path: $(wc -l <"$T_DIR/ok/accepted.ndjson") and $(wc -l <"$T_DIR/arr/accepted.ndjson") of 1500 within 120 s"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup _ nreq < <(check_sink ok) || fail "happy path (gzip)"
[ "$dup" -eq 0 ] || fail "happy path: $dup duplicates without a fault"
read -r dup _ nreq2 < <(check_sink arr) || fail "happy path (array)"
[ "$dup" -eq 0 ] || fail "happy path (array): $dup duplicates"
grep -q '"encoding": "gzip"' "$T_DIR/ok/requests.ndjson" || fail "no gzip body"
grep -q '"method": "PUT", "type": "application/json"' "$T_DIR/arr/requests.ndjson" ||
    fail "no PUT of a JSON array"
[ "$(python3 -c 'import json,sys; print(max(json.loads(l)["n"] for l in open(sys.argv[1])))' "$T_DIR/ok/requests.ndjson")" -le 20 ] ||
    fail "a request over batch_max_events"
grep -qF "$HOOK_KEY" "$T_DIR/agent.err" && fail "the header secret is in the log"
t_log "happy path: 1500 events once each to both, $nreq gzip requests, $nreq2 array requests"

# ---- 2. faults retried: nothing lost, duplicates only with repeated keys ----------
start_sink flaky --seed 7 --p503 0.08 --burst 3 --p429 0.05 --retry-after 2 \
    --pslow 0.03 --slow 3 --pclose 0.03
write_config "$T_DIR/flaky.yaml" "outputs:
$(http_block "http://127.0.0.1:$SINK_PORT/ingest" "    timeout: 2s
    batch_max_events: 100")"
sed -i "s#state/checkpoint.json#flaky-state/checkpoint.json#" "$T_DIR/flaky.yaml"
start_agent "$T_DIR/flaky.yaml" "$T_DIR/flaky.out"
t_flaky_done() { check_sink flaky >/dev/null 2>&1; }
wait_until 240 t_flaky_done || fail "faults: $(check_sink flaky 2>&1 | tail -1) after 240 s"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup keydup nreq < <(check_sink flaky) || fail "faults"
stats=$(curl -s "http://127.0.0.1:$SINK_PORT/_stats")
python3 - "$stats" <<'PY' || fail "faults: the sink saw no fault of some kind or a request before Retry-After: $stats"
import json, sys
s = json.loads(sys.argv[1])
assert s["503"] > 0 and s["429"] > 0 and s["slow"] > 0 and s["closed"] > 0, s
assert s["early"] == 0, s
PY
[ "$dup" -eq "$keydup" ] || fail "faults: $dup duplicates, $keydup of them under a repeated key"
t_log "faults: nothing lost; $dup duplicates, all under repeated Idempotency-Keys; sink $stats"

# ---- 3. a 400 for two marked records: dead-lettered, the rest delivered ----------
bad1=$(sed -n 100p "$T_DIR/truth.ids")
bad2=$(sed -n 777p "$T_DIR/truth.ids")
start_sink reject --reject-ids "$bad1,$bad2"
write_config "$T_DIR/rej.yaml" "outputs:
$(http_block "http://127.0.0.1:$SINK_PORT/ingest" "    dead_letter: $T_DIR/rej.dead.ndjson")"
sed -i "s#state/checkpoint.json#rej-state/checkpoint.json#" "$T_DIR/rej.yaml"
start_agent "$T_DIR/rej.yaml" "$T_DIR/rej.out"
t_rej_done() { check_sink reject "$bad1,$bad2" >/dev/null 2>&1 && t_has_lines "$T_DIR/rej.dead.ndjson" 2; }
wait_until 120 t_rej_done || fail "400: $(check_sink reject "$bad1,$bad2" 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
python3 - "$T_DIR/rej.dead.ndjson" "$bad1" "$bad2" <<'PY' || fail "400: dead letters"
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(l["id"] for l in ls) == sorted(int(x) for x in sys.argv[2:]), ls
for l in ls:
    assert l["reason"].startswith("HTTP 400: ") and "record rejected" in l["reason"], l
PY
t_log "400: ids $bad1 and $bad2 dead-lettered with the answer, the rest delivered"

# ---- 4. 401: exit 1 with one clear line, the secret never logged -----------------
start_sink auth --api-key "the-right-key"
write_config "$T_DIR/auth.yaml" "outputs:
$(http_block "http://127.0.0.1:$SINK_PORT/ingest" "    headers: {X-Api-Key: \"\${HOOK_KEY}\"}")"
sed -i "s#state/checkpoint.json#auth-state/checkpoint.json#" "$T_DIR/auth.yaml"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/auth.yaml" "$T_DIR/auth.out"
t_exited() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
wait_until 60 t_exited || fail "401: the agent still runs after 60 s"
wait "$AGENT_PID"
rc=$?
[ "$rc" -eq 1 ] || fail "401: exit $rc, want 1"
grep -q "output http (http) can never deliver, stopping: HTTP 401: the server refused the credentials" \
    "$T_DIR/agent.err" || fail "401: no clear line: $(tail -3 "$T_DIR/agent.err")"
grep -qF "$HOOK_KEY" "$T_DIR/agent.err" && fail "401: the secret is in the log"
t_log "401: exit 1, '$(grep -o 'HTTP 401[^{]*' "$T_DIR/agent.err" | head -1)'"

# ---- 5. TLS: the test CA verifies; another server is not trusted -----------------
. "$OLA_SOURCE_DIR/tests/lib/rsyslog.sh"
mkdir -p "$RS_DIR"
rs_certs
start_sink tls --tls-cert "$RS_DIR/srv.pem" --tls-key "$RS_DIR/srv.key"
write_config "$T_DIR/tls.yaml" "outputs:
$(http_block "https://localhost:$SINK_PORT/ingest" "    ca_file: $RS_DIR/ca.pem")"
sed -i "s#state/checkpoint.json#tls-state/checkpoint.json#" "$T_DIR/tls.yaml"
start_agent "$T_DIR/tls.yaml" "$T_DIR/tls.out"
t_tls_done() { check_sink tls >/dev/null 2>&1; }
wait_until 120 t_tls_done || fail "tls: $(check_sink tls 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
write_config "$T_DIR/untrusted.yaml" "outputs:
$(http_block "https://localhost:$SINK_PORT/ingest" "    ca_file: $RS_DIR/other.pem")"
sed -i "s#state/checkpoint.json#untrusted-state/checkpoint.json#" "$T_DIR/untrusted.yaml"
: >"$T_DIR/agent.err"
before=$(wc -l <"$T_DIR/tls/accepted.ndjson")
start_agent "$T_DIR/untrusted.yaml" "$T_DIR/untrusted.out"
t_refused() { grep -q "delivery failed: no answer: .*certificate" "$T_DIR/agent.err"; }
wait_until 60 t_refused || fail "untrusted: no certificate failure logged: $(tail -3 "$T_DIR/agent.err")"
stop_agent
[ "$(wc -l <"$T_DIR/tls/accepted.ndjson")" -eq "$before" ] || fail "untrusted: data went to a server signed by another CA"
write_config "$T_DIR/plain.yaml" "outputs:
$(http_block "http://hooks.example.com/ingest")"
"$OLAGENT" check -c "$T_DIR/plain.yaml" >"$T_DIR/plain.txt" 2>&1 && fail "http:// off loopback accepted"
grep -q "https is required except on loopback" "$T_DIR/plain.txt" || fail "plain: $(cat "$T_DIR/plain.txt")"
t_log "tls: delivered with the test CA; refused under another CA; http:// off loopback refused"

# ---- 6. backlog + live tail with two kill -9 ---------------------------------------
kill -TERM "$OLSIM_PID"
start_olsim --seed 29 --events 4000 --span 3h --rate 20
start_sink crash --seed 3 --p503 0.05 --burst 2
write_config "$T_DIR/crash.yaml" "outputs:
$(http_block "http://127.0.0.1:$SINK_PORT/ingest" "    compression: gzip")"
sed -i "s#state/checkpoint.json#crash-state/checkpoint.json#" "$T_DIR/crash.yaml"
RANDOM=2020
crash_agent 2 "$T_DIR/crash.yaml" "$T_DIR/crash.out" '1.$((RANDOM % 9 + 1))'
sim POST /_sim/pause_generation >/dev/null
truth_ids "$T_DIR/truth.ids"
start_agent "$T_DIR/crash.yaml" "$T_DIR/crash.out"
t_crash_done() { check_sink crash >/dev/null 2>&1; }
wait_until 180 t_crash_done || fail "crash: $(check_sink crash 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup keydup nreq < <(check_sink crash) || fail "crash"
# one unacknowledged batch (a page of 50) per kill at most
[ "$dup" -le 100 ] || fail "crash: $dup duplicates, more than the 2 unacknowledged batches (100)"
echo "http crash: 2 kills, $(wc -l <"$T_DIR/truth.ids") events, 0 missing, $dup duplicates (bound 100, $keydup under a repeated Idempotency-Key)"
