#!/usr/bin/env bash
# Live tail while olsim keeps adding events, a fifth of them created late
# (up to 20 s in the past, inside the 1 min overlap): none lost, none twice.
. "$(dirname "$0")/../lib/common.sh"

start_olsim --seed 11 --events 300 --span 10m --rate 20 --late-fraction 0.2 --late-max 20s
START=-1h SWEEP=3s write_config "$T_DIR/olagent.yaml"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
sleep 15
sim POST /_sim/pause_generation >/dev/null || fail "cannot pause olsim"
# a late sweep plus a poll must find every late event
wait_for_truth "$T_DIR/out.ndjson" 30 || fail "late events missing after the sweep"
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/out.ndjson"
grep -q 'late' "$T_DIR/agent.err" || true
echo "live tail: $(wc -l <"$T_DIR/out.ndjson") events, late ones included, exactly once"
