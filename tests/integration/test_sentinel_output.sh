#!/usr/bin/env bash
# test_sentinel_output.sh - the sentinel output against tests/sim/azure_fake.py.
#
# olsim's events go through `olagent run` to the fake Entra ID token endpoint
# and Logs Ingestion API, which checks every row against docs/sentinel-dcr.json
# and stores what it accepted. Scenarios: tokens that expire every 4 s, a
# revocation mid-run (401, a new token), bodies over the fake's 413 limit
# (split and re-sent), 429/503 faults, all with nothing lost and no duplicate;
# a wrong client secret (exit 1, one clear line, the secret never logged);
# backlog + live tail with two kill -9 (zero missing, duplicates printed and
# bounded by the unacknowledged batches).
# ctest-cost: 90
. "$(dirname "$0")/../lib/common.sh"

FAKE="$OLA_SOURCE_DIR/tests/sim/azure_fake.py"
DCR_ID=dcr-0123456789abcdef0123456789abcdef
export AZ_TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
export AZ_CLIENT=6f1b7c1e-0000-4000-8000-00000000c11e
export AZ_SECRET="az-$RANDOM~s3cr3t&value"

# start_fake NAME [azure_fake options...]: sets FAKE_PORT; stores in $T_DIR/NAME.
start_fake() {
    local d="$T_DIR/$1"
    shift
    mkdir -p "$d"
    python3 "$FAKE" --port-file "$d/port" --dir "$d" --dcr "$OLA_SOURCE_DIR/docs/sentinel-dcr.json" \
        --dcr-id "$DCR_ID" --tenant "$AZ_TENANT" --client-id "$AZ_CLIENT" \
        --client-secret "$AZ_SECRET" "$@" >"$d/out" 2>"$d/err" &
    T_PIDS+=("$!")
    WAIT_EVERY=0.05 wait_until 20 test -s "$d/port" ||
        fail "azure_fake did not start: $(cat "$d/err")"
    FAKE_PORT=$(cat "$d/port")
}

# sentinel_block PORT [extra keys, each line indented by 4]: one sentinel output.
sentinel_block() {
    printf '  - type: sentinel
    endpoint: http://127.0.0.1:%s
    dcr_id: %s
    stream: Custom-OneLoginEvents_CL
    tenant_id: ${AZ_TENANT}
    client_id: ${AZ_CLIENT}
    client_secret: ${AZ_SECRET}
    authority: http://127.0.0.1:%s
%s\n' "$1" "$DCR_ID" "$1" "${2:-}"
}

# check_rows NAME: every truth id stored; prints "duplicates rows".
check_rows() {
    python3 - "$T_DIR/truth.ids" "$T_DIR/$1/rows.ndjson" <<'PY'
import collections, json, sys
truth = [int(l) for l in open(sys.argv[1]) if l.strip()]
rows = [json.loads(l) for l in open(sys.argv[2])]
ids = collections.Counter(r["id"] for r in rows if "id" in r)
missing = [i for i in truth if i not in ids]
if missing:
    sys.exit("%d events missing (first %s)" % (len(missing), missing[:3]))
if set(ids) - set(truth):
    sys.exit("events the simulator never had: %s" % sorted(set(ids) - set(truth))[:3])
for r in rows[:50]:
    assert r["TimeGenerated"] == r["created_at"], r
print(sum(v - 1 for v in ids.values()), len(rows))
PY
}

stats() { curl -s --max-time 5 "http://127.0.0.1:$1/_stats"; }

# no_secrets NAME: neither the client secret nor a token NAME's fake issued is in the log.
no_secrets() {
    grep -qF "$AZ_SECRET" "$T_DIR/agent.err" && fail "$1: the client secret is in the log"
    if [ -s "$T_DIR/$1/tokens.txt" ]; then
        grep -qFf "$T_DIR/$1/tokens.txt" "$T_DIR/agent.err" && fail "$1: a token is in the log"
    fi
    return 0
}

START=-4h
start_olsim --seed 11 --events 1500 --span 3h
truth_ids "$T_DIR/truth.ids"

# ---- 1. tokens expiring, a revocation, 413 splits, 429 and 503: all once ---------
start_fake ok --expires-in 4 --max-bytes 24000 --p429 0.04 --retry-after 1 --p503 0.04 --seed 5
P=$FAKE_PORT
write_config "$T_DIR/ok.yaml" "outputs:
$(sentinel_block "$P")"
"$OLAGENT" check -c "$T_DIR/ok.yaml" >"$T_DIR/check.txt" 2>&1 || fail "check: $(cat "$T_DIR/check.txt")"
grep -q "outputs\[0\].client_secret: \*\*\*\*" "$T_DIR/check.txt" || fail "check does not mask client_secret: $(grep client_secret "$T_DIR/check.txt")"
grep -q "outputs\[0\].batch_max_bytes: 1MiB" "$T_DIR/check.txt" || fail "check: batch_max_bytes is not 1MiB by default"
grep -qF "$AZ_SECRET" "$T_DIR/check.txt" && fail "check printed the client secret"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/ok.yaml" "$T_DIR/ok.out"
t_half() { [ "$(wc -l <"$T_DIR/ok/rows.ndjson" 2>/dev/null || echo 0)" -ge 600 ]; }
wait_until 120 t_half || fail "ok: $(wc -l <"$T_DIR/ok/rows.ndjson") rows after 120 s"
curl -s --max-time 5 -X POST -d '{"revoke": true}' "http://127.0.0.1:$P/_faults" >/dev/null ||
    fail "ok: cannot revoke"
t_ok_done() { check_rows ok >/dev/null 2>&1; }
wait_until 180 t_ok_done || fail "ok: $(check_rows ok 2>&1 | tail -1) after 180 s"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup nrows < <(check_rows ok) || fail "ok"
[ "$dup" -eq 0 ] || fail "ok: $dup duplicates (a 413, 429, 503 or 401 stores nothing)"
s=$(stats "$P")
python3 - "$s" <<'PY' || fail "ok: the fake did not see every fault, or a request came early: $s"
import json, sys
s = json.loads(sys.argv[1])
assert s["tokens"] >= 3, s          # expired at least once, and revoked
assert s["401_revoked"] >= 1, s     # the revocation was noticed...
assert s["413"] > 0 and s["429"] > 0 and s["503"] > 0, s
assert s["max_body"] <= 24000, s
assert s["400"] == 0 and s["404"] == 0 and s["token_refused"] == 0, s
assert s["early"] == 0, s
PY
no_secrets ok
t_log "ok: 1500 events once each in $nrows rows; fake $s"

# ---- 2. a wrong client secret: exit 1 with one clear line -------------------------
start_fake wrong
write_config "$T_DIR/wrong.yaml" "outputs:
$(sentinel_block "$FAKE_PORT")"
sed -i -e "s#state/checkpoint.json#wrong-state/checkpoint.json#" \
    -e 's#${AZ_SECRET}#${AZ_WRONG}#' "$T_DIR/wrong.yaml"
export AZ_WRONG="not-the-secret-$RANDOM"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/wrong.yaml" "$T_DIR/wrong.out"
t_exited() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
wait_until 60 t_exited || fail "wrong secret: the agent still runs after 60 s"
wait "$AGENT_PID"
rc=$?
[ "$rc" -eq 1 ] || fail "wrong secret: exit $rc, want 1"
line="output sentinel (sentinel) can never deliver, stopping: token: the authority refused the client credentials (tenant_id, client_id, client_secret): HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
grep -qF "$line" "$T_DIR/agent.err" || fail "wrong secret: no clear line: $(tail -3 "$T_DIR/agent.err")"
grep -q "not-the-secret" "$T_DIR/agent.err" && fail "wrong secret: the secret is in the log"
[ ! -s "$T_DIR/wrong/rows.ndjson" ] || fail "wrong secret: rows were stored"
t_log "wrong secret: exit 1, '$(grep -o 'token: the authority[^.]*' "$T_DIR/agent.err" | head -1)'"

# ---- 3. backlog + live tail with two kill -9 ----------------------------------------
kill -TERM "$OLSIM_PID"
start_olsim --seed 31 --events 3000 --span 3h --rate 20
start_fake crash --expires-in 5 --p503 0.05 --p429 0.03 --seed 9
write_config "$T_DIR/crash.yaml" "outputs:
$(sentinel_block "$FAKE_PORT")"
sed -i "s#state/checkpoint.json#crash-state/checkpoint.json#" "$T_DIR/crash.yaml"
: >"$T_DIR/agent.err"
RANDOM=2020
crash_agent 2 "$T_DIR/crash.yaml" "$T_DIR/crash.out" '1.$((RANDOM % 9 + 1))'
sim POST /_sim/pause_generation >/dev/null
truth_ids "$T_DIR/truth.ids"
start_agent "$T_DIR/crash.yaml" "$T_DIR/crash.out"
t_crash_done() { check_rows crash >/dev/null 2>&1; }
wait_until 180 t_crash_done || fail "crash: $(check_rows crash 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup nrows < <(check_rows crash) || fail "crash"
no_secrets crash
# at most the batch in flight (a page of 50) per kill
[ "$dup" -le 100 ] || fail "crash: $dup duplicates, more than the 2 unacknowledged batches (100)"
echo "sentinel crash: 2 kills, $(wc -l <"$T_DIR/truth.ids") events, 0 missing, $dup duplicates (bound 100); fake $(stats "$FAKE_PORT")"
