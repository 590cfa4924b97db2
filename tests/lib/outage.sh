# outage.sh - what the output-outage tests check while an output is down.
#
# Sourced after common.sh, by tests that run the agent with the config
# $T_DIR/olagent.yaml. The pipeline delivers one batch at a time and asks the
# source for the next page only once every output acknowledged the current
# one (agent/agent.c, agent/pipeline.c). So from the moment an output answers
# "retry" (the pipeline logs "holding the checkpoint and retrying" once)
# until it takes data again: no batch is acknowledged, the checkpoint file
# does not change, and olsim answers no further events request: the page in
# flight is all the agent holds.

# events_requests: GET /api/1/events calls olsim has answered so far.
events_requests() {
    sim GET /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["events"])'
}

# delivered_events: the checkpoint's count of delivered events.
delivered_events() {
    "$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])'
}

# log_mark: the agent log's current length in lines (a mark for log_count).
log_mark() { wc -l <"$T_DIR/agent.err"; }

# log_count MARK REGEX: lines matching REGEX logged after MARK.
log_count() { tail -n +"$(($1 + 1))" "$T_DIR/agent.err" | grep -c -- "$2"; }

# wait_log MARK REGEX SECONDS: until a line matching REGEX was logged after MARK.
wait_log() { wait_until "$3" logged_alive "$1" "$2"; }

# logged_alive MARK REGEX: a line matching REGEX was logged after MARK (fails
# the test if the agent died).
logged_alive() {
    [ "$(log_count "$1" "$2")" -gt 0 ] && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died: $(tail -3 "$T_DIR/agent.err")"
    return 1
}

# now_ms: the wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# hold_outage END_MS WITNESS: the output is down and the agent has said it
# is holding. Until END_MS (now_ms time), checked every second: the agent is
# alive, the checkpoint file is unchanged, olsim answered no events request,
# and WITNESS (a file another output of the agent appends to, or "" for
# none) did not grow (no batch was acknowledged). Sets HELD_REQUESTS,
# HELD_LINES and HELD_DELIVERED.
hold_outage() {
    local end=$1 witness=$2 left r n
    cp "$T_DIR/state/checkpoint.json" "$T_DIR/cp.held" || fail "no checkpoint to hold"
    HELD_REQUESTS=$(events_requests)
    HELD_LINES=0
    [ -n "$witness" ] && HELD_LINES=$(wc -l <"$witness")
    HELD_DELIVERED=$(delivered_events)
    while :; do
        left=$((end - $(now_ms)))
        [ "$left" -gt 0 ] || break
        if [ "$left" -lt 1000 ]; then sleep "$(printf '0.%03d' "$left")"; else sleep 1; fi
        kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died while the output was down"
        cmp -s "$T_DIR/state/checkpoint.json" "$T_DIR/cp.held" ||
            fail "the checkpoint moved while the output took nothing"
        r=$(events_requests)
        [ "$r" = "$HELD_REQUESTS" ] ||
            fail "polling went on while the output was down ($HELD_REQUESTS -> $r events requests)"
        if [ -n "$witness" ]; then
            n=$(wc -l <"$witness")
            [ "$n" = "$HELD_LINES" ] ||
                fail "batches acknowledged while the output was down ($HELD_LINES -> $n lines)"
        fi
    done
}
