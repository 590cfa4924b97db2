#!/usr/bin/env bash
# test_kafka.sh - the real agent ships to Kafka: olsim -> `olagent run` -> a
# mock cluster in its own process (ola_kafka_mock, so the agent can be killed
# alone) -> kcat, an independent consumer.
#
# 1. Backfill: every olsim event exactly once, byte for byte, key = id, and in
#    each partition in the order the agent acknowledged (its stdout output is
#    the witness: both outputs get the same batches in the same order).
# 2. The partition leader down for 10 s mid-stream: no batch is acknowledged,
#    the checkpoint stays, polling pauses; the agent resumes by itself and
#    nothing is lost or doubled.
# 3. kill -9 at 10 random instants: the consumed set equals olsim's truth; the
#    only duplicates come from the batch in flight at each kill (at most one
#    page per kill, and in each partition at most one run per kill).
# 4. A SASL password in `properties:` (${VAR}, *_file or literal) never shows in
#    `olagent check`, its --online report, or the agent's logs at debug level.
. "$(dirname "$0")/../lib/common.sh"

: "${OLA_TOOLS_DIR:?}"
command -v kcat >/dev/null || fail "kcat not installed"
command -v python3 >/dev/null || fail "python3 not installed"
KILLS=${KILLS:-10}
PAGE=50

# ---- helpers -------------------------------------------------------------------

# start_mock: 3 brokers, topics with leaders on broker 1; sets BOOTSTRAP, fd 7
# is its command pipe ("down 1", "up 1").
start_mock() {
    mkfifo "$T_DIR/mock.in"
    "$OLA_TOOLS_DIR/ola_kafka_mock" --brokers 3 --topic onelogin.events:3 \
        --topic onelogin.down:3 --topic onelogin.crash:3 --topic onelogin.sasl:1 \
        <"$T_DIR/mock.in" >"$T_DIR/mock.out" 2>"$T_DIR/mock.err" &
    MOCK_PID=$!
    T_PIDS+=("$MOCK_PID")
    exec 7>"$T_DIR/mock.in"
    for _ in $(seq 1 100); do
        grep -q '^BOOTSTRAP ' "$T_DIR/mock.out" 2>/dev/null && break
        sleep 0.1
    done
    BOOTSTRAP=$(awk '/^BOOTSTRAP /{print $2}' "$T_DIR/mock.out")
    [ -n "$BOOTSTRAP" ] || fail "mock cluster did not start: $(cat "$T_DIR/mock.err")"
}

mock() { echo "$*" >&7; }

# kafka_outputs TOPIC [with_stdout]: the outputs section of a config.
kafka_outputs() {
    cat <<YAML
outputs:
  - type: kafka
    name: siem
    brokers: $BOOTSTRAP
    topic: $1
    dead_letter: $T_DIR/dead.ndjson
YAML
    [ "${2:-}" = with_stdout ] && echo "  - type: stdout"
    return 0
}

# consume TOPIC FILE: every record of the topic, "partition TAB offset TAB key
# TAB value" per line (values are compact JSON: no tab, no newline).
consume() {
    timeout 60 kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q \
        -f '%p\t%o\t%k\t%s\n' >"$2" 2>"$T_DIR/kcat.err" ||
        fail "kcat failed: $(cat "$T_DIR/kcat.err")"
}

# wait_consumed TOPIC SECONDS: until the topic holds every truth id.
wait_consumed() {
    local i
    truth_ids "$T_DIR/truth.ids"
    for i in $(seq 1 "$2"); do
        consume "$1" "$T_DIR/consumed.tsv"
        cut -f3 "$T_DIR/consumed.tsv" | sort -n -u >"$T_DIR/consumed.ids"
        [ -z "$(comm -23 "$T_DIR/truth.ids" "$T_DIR/consumed.ids")" ] && return 0
        sleep 1
    done
    return 1
}

# check_records MODE CONSUMED [STDOUT]: the python checks below.
#   exact: truth == consumed, each once, key == id, value == olsim's bytes (the
#          olagent object removed), and per partition the order of STDOUT.
#   crash: truth == consumed set; duplicates counted and bounded.
check_records() {
    sim GET /_sim/truth >"$T_DIR/truth.ndjson"
    python3 - "$1" "$T_DIR/truth.ndjson" "$2" "${3:-}" "$KILLS" "$PAGE" <<'PY'
import json, sys
mode, truth_path, got_path, witness_path = sys.argv[1:5]
kills, page = int(sys.argv[5]), int(sys.argv[6])

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

truth = {}
for line in open(truth_path, "rb"):
    line = line.rstrip(b"\n")
    if line:
        truth[json.loads(line)["id"]] = line
recs = []  # (partition, offset, key, value) in consumption order
for line in open(got_path, "rb"):
    p, o, k, v = line.rstrip(b"\n").split(b"\t", 3)
    recs.append((int(p), int(o), k.decode(), v))
ids = []
for p, o, k, v in recs:
    ev = json.loads(v)
    if k != str(ev["id"]):
        fail("partition %d offset %d: key %r is not the id %d" % (p, o, k, ev["id"]))
    ids.append(ev["id"])
missing = set(truth) - set(ids)
extra = set(ids) - set(truth)
if missing:
    fail("%d events lost (first %s)" % (len(missing), sorted(missing)[:3]))
if extra:
    fail("%d records olsim never had (first %s)" % (len(extra), sorted(extra)[:3]))
dups = len(ids) - len(set(ids))

if mode == "exact":
    if dups:
        fail("%d records consumed more than once" % dups)
    for p, o, k, v in recs:
        cut = v.rfind(b',"olagent":')
        body = v[:cut] + b"}" if cut >= 0 else v
        if body != truth[int(k)]:
            fail("record %s differs from olsim's bytes:\n%s\n%s" % (k, v[:200], truth[int(k)][:200]))
    witness = []
    for line in open(witness_path, "rb"):
        if line.strip():
            witness.append(json.loads(line)["id"])
    if sorted(witness) != sorted(truth):
        fail("the stdout witness is not the truth either")
    part = {}
    for (p, o, k, v), i in zip(recs, ids):
        part.setdefault(p, []).append((o, i))
    for p, seq in part.items():
        seq.sort()
        got = [i for _, i in seq]
        members = set(got)
        want = [i for i in witness if i in members]
        if got != want:
            at = next(n for n in range(len(got)) if got[n] != want[n])
            fail("partition %d: order differs from acknowledgement at #%d: %s vs %s"
                 % (p, at, got[at:at + 3], want[at:at + 3]))
    print("%d records in %d partitions, exactly once, in order of acknowledgement, "
          "bytes as olsim served them" % (len(ids), len(part)))
    sys.exit(0)

# crash: a kill leaves behind at most the batch it interrupted: records that
# reached Kafka but not the checkpoint, read again after restart. A batch
# goes to each partition in order, so in every partition the first copies of
# the duplicated ids sit together: at most one run of at most one page per
# kill and partition, and at most one page of duplicates per kill overall.
part, home = {}, {}
for (p, o, k, v), i in zip(recs, ids):
    part.setdefault(p, []).append((o, i))
    if home.setdefault(i, p) != p:
        fail("id %d in partitions %d and %d: the key does not pin it" % (i, home[i], p))
count = {}
for i in ids:
    count[i] = count.get(i, 0) + 1
runs = {}
for p, seq in sorted(part.items()):
    seq.sort()
    seen, cur, runs[p] = set(), 0, []
    for _, i in seq:
        first_dup = count[i] > 1 and i not in seen
        seen.add(i)
        if first_dup:
            cur += 1
        elif cur:
            runs[p].append(cur)
            cur = 0
    if cur:
        runs[p].append(cur)
print("%d records, %d distinct, %d duplicates, runs per partition %s (bound: %d kills x %d)"
      % (len(ids), len(set(ids)), dups, runs, kills, page))
if dups > kills * page:
    fail("%d duplicates, more than one page per kill" % dups)
if any(len(r) > kills or any(n > page for n in r) for r in runs.values()):
    fail("duplicates are not confined to one batch per kill: runs %s" % runs)
PY
}

stop_olsim() {
    kill -TERM "$OLSIM_PID" 2>/dev/null
    wait "$OLSIM_PID" 2>/dev/null
    rm -rf "$T_DIR/state"
}

events_requests() { sim GET /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["events"])'; }

start_mock

# ---- 1. exactly once, in order ---------------------------------------------------
t_log "1: backfill to Kafka"
start_olsim --seed 11 --events 4000 --span 2h --users 200
write_config "$T_DIR/olagent.yaml" "$(kafka_outputs onelogin.events with_stdout)"
: >"$T_DIR/out1.ndjson"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out1.ndjson"
wait_consumed onelogin.events 120 || fail "events missing in Kafka after 120 s"
sleep 1
stop_agent || fail "olagent exited $? after SIGTERM"
consume onelogin.events "$T_DIR/consumed1.tsv"
check_records exact "$T_DIR/consumed1.tsv" "$T_DIR/out1.ndjson" || fail "part 1"
[ ! -s "$T_DIR/dead.ndjson" ] || fail "dead letters in a clean run: $(head -c 300 "$T_DIR/dead.ndjson")"
stop_olsim

# ---- 2. the leader down for 10 s ------------------------------------------------
t_log "2: leader down 10 s while tailing"
start_olsim --seed 12 --events 1500 --span 1h --rate 20 --users 200
write_config "$T_DIR/olagent.yaml" "$(kafka_outputs onelogin.down with_stdout)"
: >"$T_DIR/out2.ndjson"
errs0=$(wc -l <"$T_DIR/agent.err")
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out2.ndjson"
wait_for_count "$T_DIR/out2.ndjson" 1600 120 || fail "the agent did not catch up"
sleep 2
mock down 1
sleep 3 # the batch in flight finds the leader gone
n1=$(wc -l <"$T_DIR/out2.ndjson")
r1=$(events_requests)
"$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" >"$T_DIR/cp1.json" || fail "checkpoint show"
sleep 7
n2=$(wc -l <"$T_DIR/out2.ndjson")
r2=$(events_requests)
"$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" >"$T_DIR/cp2.json" || fail "checkpoint show"
mock up 1
kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died while the broker was down"
[ "$n1" = "$n2" ] || fail "batches acknowledged while the leader was down ($n1 -> $n2 lines)"
[ "$r1" = "$r2" ] || fail "polling went on while Kafka refused data ($r1 -> $r2 requests)"
cmp -s "$T_DIR/cp1.json" "$T_DIR/cp2.json" || fail "the checkpoint moved while the leader was down"
tail -n +"$((errs0 + 1))" "$T_DIR/agent.err" >"$T_DIR/agent2.err"
grep -q 'output:kafka:siem.*holding the checkpoint and retrying' "$T_DIR/agent2.err" ||
    fail "no retry logged: $(tail -5 "$T_DIR/agent2.err")"
sleep 5
sim POST /_sim/pause_generation >/dev/null
wait_consumed onelogin.down 90 || fail "events missing in Kafka after the leader came back"
sleep 1
stop_agent || fail "olagent exited $? after SIGTERM"
tail -n +"$((errs0 + 1))" "$T_DIR/agent.err" >"$T_DIR/agent2.err"
grep -q 'output:kafka:siem.*broker down' "$T_DIR/agent2.err" || fail "no 'broker down' line"
grep -q 'output:kafka:siem.*delivery resumed' "$T_DIR/agent2.err" || fail "no 'delivery resumed' line"
grep -q 'output:kafka:siem.*accepting data again' "$T_DIR/agent2.err" || fail "no recovery line"
consume onelogin.down "$T_DIR/consumed2.tsv"
check_records exact "$T_DIR/consumed2.tsv" "$T_DIR/out2.ndjson" || fail "part 2"
t_log "2: held at $n1 lines and $r1 event requests for 7 s; resumed by itself"
stop_olsim

# ---- 3. kill -9 at random instants -------------------------------------------------
t_log "3: kill -9 x $KILLS"
start_olsim --seed 13 --events 5000 --span 3h --rate 10 --users 200
write_config "$T_DIR/olagent.yaml" "$(kafka_outputs onelogin.crash)"
# Slow acknowledgements (150 ms per produce request) so that most kills land
# while a batch is in flight.
mock rtt 1 150
RANDOM=5151
for k in $(seq 1 "$KILLS"); do
    start_agent "$T_DIR/olagent.yaml" /dev/null
    sleep "$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))"
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null
done
sim POST /_sim/pause_generation >/dev/null
mock rtt 1 0
start_agent "$T_DIR/olagent.yaml" /dev/null
wait_consumed onelogin.crash 120 || fail "events missing in Kafka after $KILLS kills"
sleep 1
stop_agent || fail "olagent exited $? after SIGTERM"
consume onelogin.crash "$T_DIR/consumed3.tsv"
check_records crash "$T_DIR/consumed3.tsv" || fail "part 3"
stop_olsim

# ---- 4. secrets ----------------------------------------------------------------------
t_log "4: SASL secrets stay out of check output and logs"
export OLA_KAFKA_PASSWORD=Hunter2FromEnv
printf 'Hunter2FromFile\n' >"$T_DIR/kafka.pw"
chmod 600 "$T_DIR/kafka.pw"
chmod 600 "$T_DIR/olagent.yaml" 2>/dev/null || true
start_olsim --seed 14 --events 200 --span 1h
LOGLEVEL=debug write_config "$T_DIR/olagent.yaml" "outputs:
  - type: kafka
    name: env
    brokers: $BOOTSTRAP
    topic: onelogin.sasl
    properties:
      security.protocol: sasl_plaintext
      sasl.mechanism: PLAIN
      sasl.username: olagent
      sasl.password: \${OLA_KAFKA_PASSWORD}
      debug: conf,security,broker
  - type: kafka
    name: file
    brokers: $BOOTSTRAP
    topic: onelogin.sasl
    properties:
      security.protocol: sasl_plaintext
      sasl.mechanism: SCRAM-SHA-256
      sasl.username: olagent
      sasl.password_file: $T_DIR/kafka.pw
  - type: kafka
    name: literal
    brokers: $BOOTSTRAP
    topic: onelogin.sasl
    properties:
      security.protocol: sasl_plaintext
      sasl.mechanism: PLAIN
      sasl.username: olagent
      sasl.password: Hunter2Literal"
chmod 600 "$T_DIR/olagent.yaml"
"$OLAGENT" check -c "$T_DIR/olagent.yaml" >"$T_DIR/check.out" 2>"$T_DIR/check.err" ||
    fail "check failed: $(cat "$T_DIR/check.err")"
grep -q 'sasl.password: "\*\*\*\*"' "$T_DIR/check.out" || fail "check shows no masked password"
"$OLAGENT" check -c "$T_DIR/olagent.yaml" --online >"$T_DIR/online.out" 2>"$T_DIR/online.err" &&
    fail "--online passed against brokers that cannot do SASL"
grep -q 'output env: FAILED' "$T_DIR/online.out" || fail "no output report: $(cat "$T_DIR/online.out")"
start_agent "$T_DIR/olagent.yaml" /dev/null
sleep 4
stop_agent || fail "olagent exited $? after SIGTERM (outputs undelivered is still exit 0)"
grep -q 'librdkafka CONF' "$T_DIR/agent.err" || fail "no librdkafka debug lines in the log"
grep -q 'librdkafka .*SASL\|sasl' "$T_DIR/agent.err" || fail "no SASL activity logged"
for f in "$T_DIR"/check.out "$T_DIR"/check.err "$T_DIR"/online.out "$T_DIR"/online.err \
    "$T_DIR"/agent.err; do
    if grep -n 'Hunter2' "$f" >&2; then
        fail "a Kafka secret appears in $(basename "$f")"
    fi
done
stop_olsim
echo "kafka: exactly once in order; leader down 10 s recovered; $KILLS kills bounded; secrets hidden"
