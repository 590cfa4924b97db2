#!/usr/bin/env bash
# test_es_output.sh - the elasticsearch output against tests/sim/es_fake.py.
#
# olsim's events go through `olagent run` to the fake cluster, which keeps
# documents by _id with create semantics (a second create of an _id is a
# 409). Scenarios: basic auth, gzip and `format: ecs` (check masks the
# password, never logged); item-level 429s and whole-request 429s with
# Retry-After (honoured), mapping errors dead-lettered with ES's reason, an
# ApiKey refused (exit 1, one clear line); failover between two listeners
# when one stops; and backlog + live tail with two kill -9: zero missing and
# ZERO duplicates in the index (each OneLogin event in exactly one document),
# the re-sent ones answered 409.
# ctest-cost: 90
. "$(dirname "$0")/../lib/common.sh"

FAKE="$OLA_SOURCE_DIR/tests/sim/es_fake.py"
export ES_PASSWORD="pw-$RANDOM-s3cr3t-value"
export ES_API_KEY="ak-$RANDOM-wrong-key"

# start_es NAME [es_fake options...]: sets ES_PORT (and ES_PORT2 with two
# listeners); stores in $T_DIR/NAME.
start_es() {
    local d="$T_DIR/$1" two=()
    shift
    mkdir -p "$d"
    [ "${TWO:-}" = 1 ] && two=(--port2-file "$d/port2")
    python3 "$FAKE" --port-file "$d/port" "${two[@]}" --dir "$d" "$@" >"$d/out" 2>"$d/err" &
    T_PIDS+=("$!")
    WAIT_EVERY=0.05 wait_until 20 test -s "$d/port" ||
        fail "es_fake did not start: $(cat "$d/err")"
    ES_PORT=$(cat "$d/port")
    if [ "${TWO:-}" = 1 ]; then
        WAIT_EVERY=0.05 wait_until 20 test -s "$d/port2" || fail "no second listener"
        ES_PORT2=$(cat "$d/port2")
    fi
}

es_stats() { curl -sS "http://127.0.0.1:$1/_fake/stats"; }

# check_index NAME [skip ids] [ecs]: every truth id (but skip) in exactly one
# document of NAME/docs.ndjson; nothing else. Prints "docs".
check_index() {
    python3 - "$T_DIR/truth.ids" "$T_DIR/$1/docs.ndjson" "${2:-}" "${3:-}" <<'PY'
import collections, json, sys
truth = [int(l) for l in open(sys.argv[1]) if l.strip()]
skip = set(int(x) for x in sys.argv[3].split(",") if x)
docs = [json.loads(l) for l in open(sys.argv[2])]
def eid(d):
    doc = d["doc"]
    return int(doc["event"]["id"]) if sys.argv[4] else doc["id"]
ids = collections.Counter(eid(d) for d in docs)
if any(str(eid(d)) != d["_id"] for d in docs):
    sys.exit("a document whose _id is not its event id")
if any(d["version"] != 1 for d in docs):
    sys.exit("a document was overwritten (index instead of create)")
missing = [i for i in truth if i not in ids and i not in skip]
if missing:
    sys.exit("%d events missing (first %s)" % (len(missing), missing[:3]))
dups = [i for i, n in ids.items() if n > 1]
if dups:
    sys.exit("%d events stored twice (first %s)" % (len(dups), dups[:3]))
if set(ids) - set(truth):
    sys.exit("events the simulator never had: %s" % sorted(set(ids) - set(truth))[:3])
if skip & set(ids):
    sys.exit("refused records were stored: %s" % sorted(skip & set(ids)))
print(len(docs))
PY
}

es_block() {
    printf '  - type: elasticsearch\n    url: %s\n%s\n' "$1" "${2:-}"
}

START=-4h
start_olsim --seed 11 --events 1200 --span 3h
truth_ids "$T_DIR/truth.ids"

# ---- 1. basic auth, gzip, format: ecs; the password never shown ------------------
start_es ok --user olagent --password "$ES_PASSWORD"
write_config "$T_DIR/ok.yaml" "outputs:
$(es_block "http://127.0.0.1:$ES_PORT/" "    index: onelogin-{tenant}
    username: olagent
    password: \${ES_PASSWORD}
    compression: gzip
    format: ecs
    batch_max_events: 40")"
"$OLAGENT" check -c "$T_DIR/ok.yaml" >"$T_DIR/check.txt" 2>&1 || fail "check: $(cat "$T_DIR/check.txt")"
grep -q "outputs\[0\].password: \*\*\*\*" "$T_DIR/check.txt" || fail "check does not mask the password: $(grep password "$T_DIR/check.txt")"
grep -qF "$ES_PASSWORD" "$T_DIR/check.txt" && fail "check printed the password"
start_agent "$T_DIR/ok.yaml" "$T_DIR/ok.out"
t_ok_done() { check_index ok "" ecs >/dev/null 2>&1; }
wait_until 120 t_ok_done || fail "happy path: $(check_index ok "" ecs 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
n=$(check_index ok "" ecs) || fail "happy path"
[ "$(curl -sS -u "olagent:$ES_PASSWORD" "http://127.0.0.1:$ES_PORT/onelogin-default/_count")" = '{"count":1200}' ] ||
    fail "the index onelogin-default does not hold the 1200 events"
python3 - "$T_DIR/ok/docs.ndjson" <<'PY' || fail "ecs documents"
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)["doc"]
    assert d["@timestamp"].endswith("Z") and d["event"]["kind"] == "event", d
    assert d["event"]["provider"] == "onelogin" and d["ecs"]["version"], d
PY
s=$(es_stats "$ES_PORT")
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["gzip"]>0 and s["401"]==0 and s["conflicts"]==0, s' "$s" ||
    fail "happy path: $s"
grep -qF "$ES_PASSWORD" "$T_DIR/agent.err" && fail "the password is in the log"
t_log "happy path: $n ECS documents, gzip, basic auth; $s"

# ---- 2. item 429s, whole 429s with Retry-After, mapping errors dead-lettered -----
bad1=$(sed -n 50p "$T_DIR/truth.ids")
bad2=$(sed -n 900p "$T_DIR/truth.ids")
start_es faults --seed 4 --item429 0.05 --p429 0.05 --retry-after 2 --mapping-ids "$bad1,$bad2"
write_config "$T_DIR/faults.yaml" "outputs:
$(es_block "http://127.0.0.1:$ES_PORT" "    index: events
    batch_max_events: 100
    dead_letter: $T_DIR/faults.dead.ndjson")"
sed -i "s#state/checkpoint.json#faults-state/checkpoint.json#" "$T_DIR/faults.yaml"
start_agent "$T_DIR/faults.yaml" "$T_DIR/faults.out"
t_faults_done() { check_index faults "$bad1,$bad2" >/dev/null 2>&1 && t_has_lines "$T_DIR/faults.dead.ndjson" 2; }
wait_until 240 t_faults_done || fail "faults: $(check_index faults "$bad1,$bad2" 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
s=$(es_stats "$ES_PORT")
python3 - "$s" <<'PY' || fail "faults: no fault of some kind, or a request before Retry-After: $s"
import json, sys
s = json.loads(sys.argv[1])
assert s["item429"] > 0 and s["req429"] > 0 and s["mapping"] >= 2, s
assert s["early"] == 0, s
PY
python3 - "$T_DIR/faults.dead.ndjson" "$bad1" "$bad2" <<'PY' || fail "faults: dead letters"
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(l["id"] for l in ls) == sorted(int(x) for x in sys.argv[2:]), ls
for l in ls:
    assert l["reason"].startswith("Elasticsearch 400 document_parsing_exception: "), l
PY
grep -q "sent again alone" "$T_DIR/agent.err" || fail "faults: item 429s not logged"
n=$(check_index faults "$bad1,$bad2") || fail "faults"
t_log "faults: $n documents once each, ids $bad1 $bad2 dead-lettered; $s"

# ---- 3. an API key refused: exit 1 with one clear line, the key never logged -----
start_es auth --api-key "the-right-key"
write_config "$T_DIR/auth.yaml" "outputs:
$(es_block "http://127.0.0.1:$ES_PORT" "    api_key: \${ES_API_KEY}")"
sed -i "s#state/checkpoint.json#auth-state/checkpoint.json#" "$T_DIR/auth.yaml"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/auth.yaml" "$T_DIR/auth.out"
t_exited() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
wait_until 60 t_exited || fail "401: the agent still runs after 60 s"
wait "$AGENT_PID"
rc=$?
[ "$rc" -eq 1 ] || fail "401: exit $rc, want 1"
grep -q "output elasticsearch (elasticsearch) can never deliver, stopping: HTTP 401: the server refused the credentials" \
    "$T_DIR/agent.err" || fail "401: no clear line: $(tail -3 "$T_DIR/agent.err")"
grep -qF "$ES_API_KEY" "$T_DIR/agent.err" && fail "401: the key is in the log"
t_log "401: exit 1"

# ---- 4. failover: listener 1 stops mid-run (live tail), listener 2 takes over -----
kill -TERM "$OLSIM_PID"
start_olsim --seed 17 --events 600 --span 3h --rate 20
TWO=1 start_es fo
write_config "$T_DIR/fo.yaml" "outputs:
$(es_block "[http://127.0.0.1:$ES_PORT, http://localhost:$ES_PORT2]" "    batch_max_events: 20")"
sed -i "s#state/checkpoint.json#fo-state/checkpoint.json#" "$T_DIR/fo.yaml"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/fo.yaml" "$T_DIR/fo.out"
t_some() { python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s["by_listener"]["1"]>0 and s["by_listener"]["2"]>0 and s["created"]>=200 else 1)' "$(es_stats "$ES_PORT2")"; }
wait_until 60 t_some || fail "failover: both listeners not used: $(es_stats "$ES_PORT2")"
curl -sS -X POST --data '{"stop": 1}' "http://127.0.0.1:$ES_PORT2/_fake/faults" >/dev/null
# live events keep coming while listener 1 is gone
before=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["created"])' "$(es_stats "$ES_PORT2")")
t_more() { [ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["created"])' "$(es_stats "$ES_PORT2")")" -ge $((before + 40)) ]; }
wait_until 60 t_more || fail "failover: nothing stored after listener 1 stopped"
sim POST /_sim/pause_generation >/dev/null
truth_ids "$T_DIR/truth.ids"
t_fo_done() { check_index fo >/dev/null 2>&1; }
wait_until 120 t_fo_done || fail "failover: $(check_index fo 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
grep -q "127.0.0.1:$ES_PORT/_bulk: no answer; skipped for 30 s" "$T_DIR/agent.err" ||
    fail "failover: the stopped listener was not skipped: $(tail -3 "$T_DIR/agent.err")"
t_log "failover: all delivered once; $(es_stats "$ES_PORT2")"

# ---- 5. backlog + live tail with two kill -9: zero missing, ZERO duplicates ------
kill -TERM "$OLSIM_PID"
start_olsim --seed 31 --events 3000 --span 3h --rate 20
start_es crash --seed 9 --item429 0.02
write_config "$T_DIR/crash.yaml" "outputs:
$(es_block "http://127.0.0.1:$ES_PORT" "    compression: gzip
    batch_max_events: 25")"
sed -i "s#state/checkpoint.json#crash-state/checkpoint.json#" "$T_DIR/crash.yaml"
RANDOM=2020
crash_agent 2 "$T_DIR/crash.yaml" "$T_DIR/crash.out" '1.$((RANDOM % 9 + 1))'
sim POST /_sim/pause_generation >/dev/null
truth_ids "$T_DIR/truth.ids"
start_agent "$T_DIR/crash.yaml" "$T_DIR/crash.out"
t_crash_done() { check_index crash >/dev/null 2>&1; }
wait_until 180 t_crash_done || fail "crash: $(check_index crash 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
n=$(check_index crash) || fail "crash"
s=$(es_stats "$ES_PORT")
conflicts=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["conflicts"])' "$s")
echo "elasticsearch crash: 2 kills, $(wc -l <"$T_DIR/truth.ids") events, 0 missing, 0 duplicates in the index ($n documents); $conflicts re-sent records answered 409"
