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
# 3. kill -9 at 3 random instants: the consumed set equals olsim's truth; the
#    only duplicates come from the batch in flight at each kill (at most one
#    page per kill, and in each partition at most one run per kill).
# 4. A SASL password in `properties:` (${VAR}, *_file or literal) never shows in
#    `olagent check`, its --online report, or the agent's logs at debug level;
#    the SASL the mock brokers refuse is fatal: exit 1, the output named.
# ctest-cost: 85
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/kafka.sh"
. "$(dirname "$0")/../lib/outage.sh"

# 3 kills check the Kafka output's own crash path (the batch in flight, slow
# acknowledgements); tests/reliability/test_crash_outputs.sh kills the agent
# 50 times with Kafka beside the file and stdout outputs.
KILLS=${KILLS:-3}
PAGE=50

stop_olsim() {
    kill -TERM "$OLSIM_PID" 2>/dev/null
    wait "$OLSIM_PID" 2>/dev/null
    rm -rf "$T_DIR/state"
}

start_mock onelogin.events:3 onelogin.down:3 onelogin.crash:3 onelogin.sasl:1

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
crash_agent "$KILLS" "$T_DIR/olagent.yaml" /dev/null \
    '$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))'
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
# SASL the brokers refuse is fatal (docs/outputs.md): the agent stops by itself, exit 1
deadline=$(($(date +%s) + 60))
while kill -0 "$AGENT_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
done
stop_agent
rc=$?
[ "$rc" -eq 1 ] || fail "olagent exited $rc, want 1: rejected SASL is fatal"
grep -q 'can never deliver, stopping: kafka: Local: Authentication failure' "$T_DIR/agent.err" ||
    fail "no line naming the output: $(tail -2 "$T_DIR/agent.err")"
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
