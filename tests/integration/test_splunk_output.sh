#!/usr/bin/env bash
# test_splunk_output.sh - the splunk_hec output against tests/sim/hec_fake.py.
#
# olsim's events go through `olagent run` to the fake HEC, which checks the
# token and the channel, answers with ackIds, and "indexes" a request's
# events when its ack turns true (DIR/accepted.ndjson). Scenarios: gzip with
# indexer acknowledgment under 503 bursts, code 9 (busy) and late acks, beside
# a second output with ack: false (nothing lost, nothing doubled, the token
# never logged nor shown by `check`); acks that never turn true, whose events
# the fake dropped (re-sent after ack_timeout, then all there); a wrong token
# (exit 1, one clear line); and backlog + live tail with two kill -9 (zero
# missing, duplicates printed and bounded by the unacknowledged batches).
# ctest-cost: 120
. "$(dirname "$0")/../lib/common.sh"

HEC="$OLA_SOURCE_DIR/tests/sim/hec_fake.py"
export HEC_TOKEN="hec-$RANDOM-s3cr3t-t0ken"

# start_hec NAME [hec_fake options...]: sets HEC_PORT; stores in $T_DIR/NAME.
start_hec() {
    local d="$T_DIR/$1"
    shift
    mkdir -p "$d"
    python3 "$HEC" --port-file "$d/port" --dir "$d" "$@" >"$d/out" 2>"$d/err" &
    T_PIDS+=("$!")
    WAIT_EVERY=0.05 wait_until 20 test -s "$d/port" ||
        fail "hec_fake did not start: $(cat "$d/err")"
    HEC_PORT=$(cat "$d/port")
}

# hec_block URL [extra keys, each line indented by 4]: one splunk_hec output.
hec_block() {
    printf '  - type: splunk_hec\n    url: %s\n    token: ${HEC_TOKEN}\n%s\n' "$1" "${2:-}"
}

# check_hec NAME: every truth id indexed by NAME; prints "duplicates requests".
check_hec() {
    python3 - "$T_DIR/truth.ids" "$T_DIR/$1" <<'PY'
import collections, json, sys
truth = [int(l) for l in open(sys.argv[1]) if l.strip()]
d = sys.argv[2]
envs = [json.loads(l) for l in open(d + "/accepted.ndjson")]
for e in envs:
    if e.get("source") != "olagent" or not isinstance(e.get("time"), float):
        sys.exit("not an olagent envelope: %s" % e)
ids = collections.Counter(e["event"]["id"] for e in envs)
missing = [i for i in truth if i not in ids]
if missing:
    sys.exit("%d events missing (first %s)" % (len(missing), missing[:3]))
if set(ids) - set(truth):
    sys.exit("events the simulator never had: %s" % sorted(set(ids) - set(truth))[:3])
reqs = sum(1 for _ in open(d + "/requests.ndjson"))
print(sum(v - 1 for v in ids.values()), reqs)
PY
}

hec_stats() { curl -s "http://127.0.0.1:$1/_stats"; }

START=-4h
start_olsim --seed 5 --events 1500 --span 3h
truth_ids "$T_DIR/truth.ids"

# ---- 1. gzip + acks under 503 bursts, busy and late acks; a second, ack: false ----
start_hec ok --token "$HEC_TOKEN" --ack --seed 11 --p503 0.06 --burst 2 --pbusy 0.06 \
    --plate 0.15 --late 2
P1=$HEC_PORT
start_hec noack --token "$HEC_TOKEN" --seed 12 --pbusy 0.05
write_config "$T_DIR/ok.yaml" "outputs:
$(hec_block "http://127.0.0.1:$P1" "    compression: gzip
    index: onelogin
    ack_timeout: 20s
    batch_max_events: 20")
$(hec_block "http://localhost:$HEC_PORT/" "    name: noack
    ack: false")"
"$OLAGENT" check -c "$T_DIR/ok.yaml" >"$T_DIR/check.txt" 2>&1 || fail "check: $(cat "$T_DIR/check.txt")"
grep -q "outputs\[0\].ack_timeout: 20s" "$T_DIR/check.txt" || fail "check does not show the splunk_hec keys"
grep -qF "$HEC_TOKEN" "$T_DIR/check.txt" && fail "check printed the token"
grep -q "outputs\[0\].token: \*\*\*\*" "$T_DIR/check.txt" || fail "check does not mask the token: $(grep token "$T_DIR/check.txt")"
start_agent "$T_DIR/ok.yaml" "$T_DIR/ok.out"
t_ok_done() { check_hec ok >/dev/null 2>&1 && check_hec noack >/dev/null 2>&1; }
wait_until 180 t_ok_done || fail "happy path: $(check_hec ok 2>&1 | tail -1); $(check_hec noack 2>&1 | tail -1) after 180 s"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup nreq < <(check_hec ok) || fail "happy path (ack)"
[ "$dup" -eq 0 ] || fail "happy path: $dup duplicates without a lost ack"
read -r dup2 nreq2 < <(check_hec noack) || fail "happy path (ack: false)"
[ "$dup2" -eq 0 ] || fail "happy path (ack: false): $dup2 duplicates"
stats=$(hec_stats "$P1")
python3 - "$stats" "$(hec_stats "$HEC_PORT")" <<'PY' || fail "happy path: a fault never happened: $stats"
import json, sys
s, n = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert s["503"] > 0 and s["busy"] > 0 and s["late"] > 0 and s["gzip"] > 0, s
assert s["channels"] == 1 and s["ack_polls"] > 0 and s["auth"] == 0, s
assert n["busy"] > 0 and n["ack_polls"] == 0 and n["channels"] == 0, n
PY
grep -q '"index":"onelogin"' "$T_DIR/ok/accepted.ndjson" || fail "no index in the envelopes"
grep -qF "$HEC_TOKEN" "$T_DIR/agent.err" && fail "the token is in the log"
t_log "acks: 1500 events once each ($nreq requests; $dup2 dups with ack: false); hec $stats"

# ---- 2. acks that never turn true: the fake dropped the events, olagent re-sends ----
start_hec never --token "$HEC_TOKEN" --ack --seed 4 --pnever 0.2
write_config "$T_DIR/never.yaml" "outputs:
$(hec_block "http://127.0.0.1:$HEC_PORT" "    ack_timeout: 2s")"
sed -i "s#state/checkpoint.json#never-state/checkpoint.json#" "$T_DIR/never.yaml"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/never.yaml" "$T_DIR/never.out"
t_never_done() { check_hec never >/dev/null 2>&1; }
wait_until 240 t_never_done || fail "never: $(check_hec never 2>&1 | tail -1) after 240 s"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup nreq < <(check_hec never) || fail "never"
[ "$dup" -eq 0 ] || fail "never: $dup duplicates (the fake dropped what it never acknowledged)"
stats=$(hec_stats "$HEC_PORT")
dropped=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["dropped_events"])' "$stats")
[ "$dropped" -gt 0 ] || fail "never: the fake dropped nothing: $stats"
grep -q "not acknowledged within ack_timeout (2000 ms): sending them again" "$T_DIR/agent.err" ||
    fail "never: no re-send logged: $(tail -3 "$T_DIR/agent.err")"
t_log "never: $dropped events dropped with their acks, re-sent after ack_timeout: all 1500 there once"

# ---- 3. a wrong token: exit 1 with one clear line ------------------------------------
start_hec auth --token "the-right-token" --ack
write_config "$T_DIR/auth.yaml" "outputs:
$(hec_block "http://127.0.0.1:$HEC_PORT")"
sed -i "s#state/checkpoint.json#auth-state/checkpoint.json#" "$T_DIR/auth.yaml"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/auth.yaml" "$T_DIR/auth.out"
t_exited() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
wait_until 60 t_exited || fail "wrong token: the agent still runs after 60 s"
wait "$AGENT_PID"
rc=$?
[ "$rc" -eq 1 ] || fail "wrong token: exit $rc, want 1"
grep -q "output splunk_hec (splunk_hec) can never deliver, stopping: HTTP 403, HEC code 4 (Invalid token): the token is refused" \
    "$T_DIR/agent.err" || fail "wrong token: no clear line: $(tail -3 "$T_DIR/agent.err")"
grep -qF "$HEC_TOKEN" "$T_DIR/agent.err" && fail "wrong token: the token is in the log"
t_log "wrong token: exit 1, '$(grep -o 'HTTP 403.*' "$T_DIR/agent.err" | head -1)'"

# ---- 4. backlog + live tail with two kill -9 ------------------------------------------
kill -TERM "$OLSIM_PID"
start_olsim --seed 29 --events 4000 --span 3h --rate 20
start_hec crash --token "$HEC_TOKEN" --ack --seed 3 --p503 0.05 --burst 2 --plate 0.1 \
    --late 1 --pnever 0.03
write_config "$T_DIR/crash.yaml" "outputs:
$(hec_block "http://127.0.0.1:$HEC_PORT" "    compression: gzip
    ack_timeout: 3s")"
sed -i "s#state/checkpoint.json#crash-state/checkpoint.json#" "$T_DIR/crash.yaml"
RANDOM=2020
crash_agent 2 "$T_DIR/crash.yaml" "$T_DIR/crash.out" '1.$((RANDOM % 9 + 1))'
sim POST /_sim/pause_generation >/dev/null
truth_ids "$T_DIR/truth.ids"
start_agent "$T_DIR/crash.yaml" "$T_DIR/crash.out"
t_crash_done() { check_hec crash >/dev/null 2>&1; }
wait_until 240 t_crash_done || fail "crash: $(check_hec crash 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup nreq < <(check_hec crash) || fail "crash"
# the batch in flight (a page of 50) unacknowledged at each kill, at most
[ "$dup" -le 100 ] || fail "crash: $dup duplicates, more than the 2 unacknowledged batches (100)"
echo "splunk_hec crash: 2 kills, $(wc -l <"$T_DIR/truth.ids") events, 0 missing, $dup duplicates (bound 100); hec $(hec_stats "$HEC_PORT")"
