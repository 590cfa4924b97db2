#!/usr/bin/env bash
# Every Kafka broker down for 30 s while the agent backfills (with live
# traffic arriving) into Kafka and stdout. The mock cluster runs in its own
# process; `down all` closes every broker, so nothing can be acknowledged.
#
# While the brokers are down the agent waits and says why: the Kafka output
# logs one "broker down: <reason>" line and the pipeline one "holding the
# checkpoint and retrying" line for the whole outage (not one per retry);
# the checkpoint does not move, no batch is acknowledged (the stdout output
# beside it stops too) and olsim answers no further events request: the
# page in flight is all the agent holds. When the brokers are back the agent
# resumes by itself ("delivery resumed", "accepting data again", once each)
# and the topic ends up holding every event olsim has; stdout holds each
# exactly once.
#
# And the topic holds each exactly once too: by default librdkafka never gives
# up on a message (message_timeout 0), so nothing is produced a second time;
# the idempotent producer's retries after the reconnect, of messages the
# brokers may have stored before going down, are stored once. librdkafka's
# `msg` debug lines (the agent logs at debug level) would show a message
# timing out; none may. (With a finite message_timeout crossed by the outage,
# the batch in flight is produced again and can repeat: unit.out_kafka tests
# that path.)
# ctest-cost: 58
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/kafka.sh"
. "$(dirname "$0")/../lib/outage.sh"

OUTAGE=${OUTAGE:-30}
PAGE=50
start_mock onelogin.outage:6
start_olsim --seed 51 --events 4000 --span 2h --rate 20 --users 200
LOGLEVEL=debug write_config "$T_DIR/olagent.yaml" "$(kafka_outputs onelogin.outage)
    properties: {debug: msg}
  - type: stdout"
: >"$T_DIR/out.ndjson"
: >"$T_DIR/agent.err"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_count "$T_DIR/out.ndjson" 1000 60 || fail "the agent made no progress"

mark=$(log_mark)
mock down all
t_down=$(date +%s)
wait_log "$mark" 'output:kafka:siem.*holding the checkpoint and retrying' 20 ||
    fail "the agent never said it was waiting for Kafka: $(tail -3 "$T_DIR/agent.err")"
t_hold=$(date +%s)
hold_outage $(($(now_ms) + OUTAGE * 1000)) "$T_DIR/out.ndjson"
mock up all
t_up=$(date +%s)
t_log "brokers down $((t_up - t_down)) s; held at $HELD_LINES stdout lines," \
    "$HELD_DELIVERED delivered, $HELD_REQUESTS events requests for $((t_up - t_hold)) s"
[ "$HELD_DELIVERED" -lt 4000 ] || fail "the outage came after the backfill: nothing was in flight"

wait_log "$mark" 'output:kafka:siem.*accepting data again' 60 ||
    fail "the agent did not resume by itself: $(tail -3 "$T_DIR/agent.err")"
t_log "resumed $(($(date +%s) - t_up)) s after the brokers came back"
sim POST /_sim/pause_generation >/dev/null
wait_for_truth "$T_DIR/out.ndjson" 60 || fail "stdout: events missing after the outage"
wait_consumed onelogin.outage 30 || fail "kafka: events missing after the outage"
stop_agent || fail "olagent exited $? after SIGTERM"

# one line per change of state, not one per retry
for re in 'output:kafka:siem.*broker down: ' 'output:kafka:siem.*delivery resumed' \
    'output:kafka:siem.*holding the checkpoint and retrying' \
    'output:kafka:siem.*accepting data again'; do
    n=$(log_count "$mark" "$re")
    [ "$n" -eq 1 ] || fail "$n log lines matching '$re' for one outage: $(tail -n +"$((mark + 1))" "$T_DIR/agent.err" | grep -- "$re" | head -5)"
done
grep -- 'broker down: ' "$T_DIR/agent.err" | sed 's/^/  /' >&2
timed_out=$(grep -o 'timed out [0-9]*+[0-9]* message(s)' "$T_DIR/agent.err" |
    awk -F'[ +]' '{n += $3 + $4} END {print n + 0}')
[ "$timed_out" -eq 0 ] || fail "$timed_out messages timed out in librdkafka (message_timeout 0 never gives up)"
assert_exact "$T_DIR/out.ndjson"
[ ! -s "$T_DIR/dead.ndjson" ] || fail "dead letters: $(head -c 300 "$T_DIR/dead.ndjson")"
consume onelogin.outage "$T_DIR/consumed.tsv"
DUPS_MAX=0 check_records bounded "$T_DIR/consumed.tsv" || fail "kafka"
echo "kafka down ${OUTAGE} s: held, said why once, resumed by itself; every event in the topic once"
