#!/usr/bin/env bash
# A quiet tenant does not rewrite its checkpoint (its whole alert state) at
# every poll: a poll without events is saved at most once a minute, and at
# stop. That loses and doubles nothing: a kill -9 while quiet restarts from the
# last save, reads the quiet seconds again and delivers exactly the events made
# meanwhile, a late one behind the saved watermark included; a SIGTERM saves
# the window the agent reached.
. "$(dirname "$0")/../lib/common.sh"

start_olsim --seed 37 --events 200 --span 30m
START=-1h write_config "$T_DIR/olagent.yaml"
cp="$T_DIR/state/checkpoint.json"
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$cp" "$1"; }
polls() { sim GET /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["events"])'; }

start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_truth "$T_DIR/out.ndjson" 60 || fail "backfill incomplete: $TRUTH_PROGRESS"
sleep 2 # the last batch's save is done
saved=$(field updated_at)
wm_saved=$(field watermark)
p0=$(polls)
sleep 5 # quiet: five 1 s polls and two 2 s sweeps, none with events
p1=$(polls)
[ "$p1" -ge $((p0 + 3)) ] || fail "only $((p1 - p0)) polls in 5 s"
[ "$(field updated_at)" = "$saved" ] ||
    fail "the checkpoint was rewritten by quiet polls ($saved, then $(field updated_at))"

# kill -9 while quiet: the polls since the last save were never saved
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
[ "$(field watermark)" = "$wm_saved" ] || fail "the checkpoint moved after the kill"
sim POST /_sim/events '{"count":5}' >/dev/null
sim POST /_sim/events '{"count":1,"late_ms":20000}' >/dev/null
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_truth "$T_DIR/out.ndjson" 30 || fail "events made while down: $TRUTH_PROGRESS"
sleep 2
saved=$(field updated_at)
wm_saved=$(field watermark)
sleep 3 # quiet again

# SIGTERM: the window reached by the quiet polls is saved on the way out
stop_agent || fail "olagent exited $? after SIGTERM"
[ "$(field updated_at)" != "$saved" ] || fail "the quiet window was not saved at stop"
[[ "$(field watermark)" > "$wm_saved" ]] ||
    fail "the watermark saved at stop ($(field watermark)) is not past $wm_saved"
"$OLAGENT" checkpoint verify -c "$T_DIR/olagent.yaml" >"$T_DIR/verify.out" 2>&1 ||
    fail "the checkpoint saved at stop does not verify: $(cat "$T_DIR/verify.out")"
assert_exact "$T_DIR/out.ndjson"
echo "quiet: $((p1 - p0)) quiet polls, no save; kill -9 and restart exact; the window saved at stop"
