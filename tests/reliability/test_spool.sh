#!/usr/bin/env bash
# One output down never stops the others: a file output (direct) and the
# webhook output to tests/sim/http_sink.py with a spool (docs/outputs.md,
# "Spool"). Two scenarios, run side by side, each with its own olsim, sink and
# agent:
#
# outage: the sink is stopped (SIGSTOP: requests hang) for OUTAGE (60) s while
#   live events arrive. The file output keeps delivering, its lag behind the
#   newest event no worse than before the outage; the spool grows (metrics:
#   bytes, age); the agent is killed -9 during the outage and again while the
#   spool drains after the sink is continued. In the end both outputs hold
#   every event olsim has: zero missing; duplicates printed and bounded (a
#   kill re-delivers at most one drain run, OLA_SPOOL_BATCH_RECS = 500
#   records, plus one page).
# full: a 1 MiB spool, the sink stopped from the start, a 3,000-event backlog.
#   The spool fills, the agent logs "spool of output hook full, pausing"
#   once, the source pauses (checkpoint, olsim's events requests and the file
#   output all stand still); the sink continued, it resumes, and both outputs
#   hold every event, nothing dropped.
# ctest-cost: 150
if [ -z "${OLA_SCENARIO:-}" ]; then
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null' EXIT
    for s in outage full; do
        OLA_SCENARIO=$s bash "$0" > >(sed -u "s/^/[$s] /") 2>&1 &
        pids+=($!)
    done
    rc=0
    for p in "${pids[@]}"; do
        wait "$p" || rc=1
    done
    exit $rc
fi
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/outage.sh"

OUTAGE=${OUTAGE:-60}
SINK="$OLA_SOURCE_DIR/tests/sim/http_sink.py"
SPOOL_RUN=500 # OLA_SPOOL_BATCH_RECS: the most one drain run re-delivers
PAGE=50

start_sink() {
    mkdir -p "$T_DIR/sink"
    python3 "$SINK" --port-file "$T_DIR/sink/port" --dir "$T_DIR/sink" \
        >"$T_DIR/sink/out" 2>"$T_DIR/sink/err" &
    SINK_PID=$!
    T_PIDS+=("$SINK_PID")
    WAIT_EVERY=0.05 wait_until 20 test -s "$T_DIR/sink/port" ||
        fail "http_sink did not start: $(cat "$T_DIR/sink/err")"
    SINK_PORT=$(cat "$T_DIR/sink/port")
}

sink_faults() {
    curl -sS -f -X POST --data "$1" "http://127.0.0.1:$SINK_PORT/_faults" >/dev/null
}

# config MAX_SIZE
config() {
    write_config "$T_DIR/olagent.yaml" "outputs:
  - type: file
    path: $T_DIR/files/events.ndjson
    manifest: false
  - type: http
    name: hook
    url: http://127.0.0.1:$SINK_PORT/ingest
    timeout: 3s
    batch_max_events: 25
    spool: {dir: $T_DIR/spool, max_size: $1}"
    sed -i 's/^metrics: false$/metrics:\n  listen: 127.0.0.1:0/' "$T_DIR/olagent.yaml"
}

FILE_OUT="$T_DIR/files/events.ndjson"
sink_ids() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["id"])' "$T_DIR/sink/accepted.ndjson"; }

# file_all: every file the file output wrote (a restart opens a new one), in order.
file_all() { cat $(ls -tr "$T_DIR"/files/*.ndjson 2>/dev/null) </dev/null >"$T_DIR/file.cat"; }

# both_hold_truth: file and sink each hold every id of $T_DIR/truth.ids.
both_hold_truth() {
    file_all
    t_truth_covered "$T_DIR/file.cat" kept || return 1
    sink_ids | sort -n -u >"$T_DIR/sink.ids"
    [ "$(comm -23 "$T_DIR/truth.ids" "$T_DIR/sink.ids" | wc -l)" -eq 0 ]
}

# lag_ms: now minus the created_at of the newest event in the file output.
lag_ms() {
    tail -n 200 "$(ls -t "$T_DIR"/files/*.ndjson | head -1)" | python3 -c '
import datetime, json, sys, time
newest = 0
for l in sys.stdin:
    try:
        c = json.loads(l)["created_at"].replace("Z", "+00:00")
    except ValueError:
        continue
    newest = max(newest, datetime.datetime.fromisoformat(c).timestamp())
print(int((time.time() - newest) * 1000))'
}

# lags SECONDS: "MEDIAN MAX" of lag_ms sampled over SECONDS (twice a second).
lags() {
    local end
    end=$(t_deadline "$1")
    : >"$T_DIR/lags"
    while t_before "$end"; do
        lag_ms >>"$T_DIR/lags"
        sleep 0.5
    done
    sort -n "$T_DIR/lags" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }'
}

# report NAME IDS_FILE BOUND: missing (must be 0) and duplicates (<= BOUND), printed.
report() {
    local missing dups
    sort -n "$2" >"$T_DIR/$1.all"
    sort -n -u "$2" >"$T_DIR/$1.uniq"
    missing=$(comm -23 "$T_DIR/truth.ids" "$T_DIR/$1.uniq" | wc -l)
    dups=$(($(wc -l <"$T_DIR/$1.all") - $(wc -l <"$T_DIR/$1.uniq")))
    [ "$missing" -eq 0 ] || fail "$1: $missing events missing"
    [ "$(comm -13 "$T_DIR/truth.ids" "$T_DIR/$1.uniq" | wc -l)" -eq 0 ] ||
        fail "$1: events olsim never had"
    [ "$dups" -le "$3" ] || fail "$1: $dups duplicates, more than the bound $3"
    t_log "$1: $(wc -l <"$T_DIR/$1.uniq") events, 0 missing, $dups duplicates (bound $3)"
}

restart_agent() {
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null
    start_agent "$T_DIR/olagent.yaml" "$T_DIR/stdout"
}

: >"$T_DIR/agent.err"
: >"$T_DIR/stdout"
start_sink
if [ "$OLA_SCENARIO" = outage ]; then
    start_olsim --seed 71 --events 1500 --span 2h --rate 5
    config 256MiB
    start_agent "$T_DIR/olagent.yaml" "$T_DIR/stdout"
    truth_ids "$T_DIR/truth.ids"
    WAIT_EVERY=1 wait_until 90 both_hold_truth || fail "backfill incomplete: $TRUTH_PROGRESS"
    metrics_port
    read -r before before_max < <(lags 15)
    t_log "backfill done; the file output's lag before the outage: median $before ms, max $before_max ms"

    mark=$(log_mark)
    kill -STOP "$SINK_PID"
    t_down=$(now_ms)
    file_all
    lines0=$(wc -l <"$T_DIR/file.cat")
    wait_log "$mark" 'output:http:hook.*its spool keeps the records' 30 ||
        fail "the agent never said the hook is failing"
    read -r during during_max < <(lags 15)
    # the lag moves with the poll interval and the settle time (1 s each)
    [ "$during" -le $((before + 1500)) ] ||
        fail "the file output's median lag grew from $before to $during ms while the hook was down"
    file_all
    [ "$(wc -l <"$T_DIR/file.cat")" -gt "$lines0" ] || fail "the file output stalled with the hook"
    bytes=$(metric olagent_output_spool_bytes 'output="hook"') || fail "no spool bytes metric"
    age=$(metric olagent_output_spool_age_seconds 'output="hook"') || fail "no spool age metric"
    [ "$bytes" -gt 0 ] && [ "$age" -ge 5 ] ||
        fail "spool metrics during the outage: $bytes bytes, age $age s"
    t_log "hook down: the file output's lag median $during ms, max $during_max ms; spool $bytes bytes, age $age s"
    [ "$(log_count "$mark" 'holding the checkpoint')" -eq 0 ] ||
        fail "the checkpoint was held for the spooled output"

    # kill -9 during the outage
    restart_agent
    kills=1
    left=$((t_down + OUTAGE * 1000 - $(now_ms)))
    [ "$left" -gt 0 ] && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
    n_before=$(wc -l <"$T_DIR/sink/accepted.ndjson")
    # the drain is slowed so that a kill lands inside it
    kill -CONT "$SINK_PID"
    sink_faults '{"pslow": 1.0, "slow": 0.5}'
    WAIT_EVERY=0.1 wait_until 30 eval \
        '[ "$(wc -l <"$T_DIR/sink/accepted.ndjson")" -gt "$n_before" ]' ||
        fail "the spool never drained to the sink"
    restart_agent # kill -9 during the drain
    kills=2
    sink_faults '{"pslow": 0.0}'
    t_log "hook up after $((($(now_ms) - t_down) / 1000)) s; 2 kills (outage, drain)"

    sim POST /_sim/pause_generation >/dev/null
    truth_ids "$T_DIR/truth.ids"
    WAIT_EVERY=1 wait_until 120 both_hold_truth || fail "recovery incomplete: $TRUTH_PROGRESS"
    metrics_port
    WAIT_EVERY=0.5 wait_until 30 eval \
        '[ "$(metric olagent_output_spool_bytes output=\"hook\")" = 0 ]' ||
        fail "the spool did not empty"
    stop_agent || fail "olagent exited $? after SIGTERM"
    file_all
    ids_of "$T_DIR/file.cat" >"$T_DIR/file.order"
    sink_ids >"$T_DIR/sink.order"
    report file "$T_DIR/file.order" $((kills * PAGE))
    report hook "$T_DIR/sink.order" $((kills * (SPOOL_RUN + PAGE)))
    echo "outage: the hook down ${OUTAGE} s, the file output's median lag $before -> $during ms;" \
        "2 kills; nothing lost"
else
    start_olsim --seed 72 --events 3000 --span 3h
    kill -STOP "$SINK_PID"
    config 1MiB
    mark=$(log_mark)
    start_agent "$T_DIR/olagent.yaml" "$T_DIR/stdout"
    wait_log "$mark" 'spool of output hook full, pausing' 90 || fail "the spool never filled"
    sleep 2 # the pipeline's backoff is in its stride
    hold_outage $(($(now_ms) + 5000)) "$FILE_OUT"
    [ "$(log_count "$mark" 'spool of output hook full')" -eq 1 ] ||
        fail "the full spool was logged more than once"
    metrics_port
    bytes=$(metric olagent_output_spool_bytes 'output="hook"')
    [ "$bytes" -le $((1024 * 1024)) ] || fail "the spool holds $bytes bytes, over 1 MiB"
    t_log "paused at $HELD_LINES file records, spool $bytes bytes; continuing the sink"
    kill -CONT "$SINK_PID"
    wait_log "$mark" 'spool of output hook has room again, resuming' 60 ||
        fail "the source never resumed"
    truth_ids "$T_DIR/truth.ids"
    WAIT_EVERY=1 wait_until 120 both_hold_truth || fail "not everything arrived: $TRUTH_PROGRESS"
    stop_agent || fail "olagent exited $? after SIGTERM"
    [ ! -s "$T_DIR/state/dead-letter.hook.ndjson" ] || fail "dead letters"
    ids_of "$FILE_OUT" >"$T_DIR/file.order"
    sink_ids >"$T_DIR/sink.order"
    report file "$T_DIR/file.order" 0
    # a request the stopped sink read late may have been sent again: at most one run
    report hook "$T_DIR/sink.order" "$SPOOL_RUN"
    echo "full: paused with $bytes bytes spooled, resumed; nothing dropped"
fi
