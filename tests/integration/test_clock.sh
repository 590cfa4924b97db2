#!/usr/bin/env bash
# A lying clock cannot move the window. For a few seconds olsim answers with a
# Date two hours ahead while events keep arriving: the agent ignores those
# Dates (one warning when it starts, one line when it ends, each answer counted
# in olagent_server_clock_rejected_total), and every event is delivered exactly
# once. Taken at its word, one such Date carried the window end and the
# watermark two hours ahead, and every event created meanwhile was never asked
# for again.
# ctest-cost: 40
. "$(dirname "$0")/../lib/common.sh"

start_olsim --seed 21 --events 300 --span 10m --rate 10
START=-1h write_config "$T_DIR/olagent.yaml"
sed -i 's/^metrics: false$//' "$T_DIR/olagent.yaml"
printf 'metrics:\n  listen: 127.0.0.1:0\n' >>"$T_DIR/olagent.yaml"
: >"$T_DIR/out.ndjson"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
metrics_port
wait_for_truth_now "$T_DIR/out.ndjson" 30 || fail "the backfill did not finish"

t_log "olsim's Date runs two hours ahead for 4 s; events keep coming"
sim POST /_sim/clock '{"skew_ms":7200000,"for_ms":4000}' >/dev/null ||
    fail "cannot skew olsim's clock"
sleep 7
sim POST /_sim/pause_generation >/dev/null || fail "cannot pause olsim"
wait_for_truth "$T_DIR/out.ndjson" 30 ||
    fail "events created while the Date lied were never delivered ($(comm -23 "$T_DIR/truth.ids" "$T_DIR/got.ids" | wc -l) missing)"
rejected=$(metric olagent_server_clock_rejected_total) ||
    fail "olagent_server_clock_rejected_total missing"
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/out.ndjson"

[ "$rejected" -ge 1 ] || fail "no answer counted as rejected ($rejected)"
n=$(grep -c "ignoring the server's Date" "$T_DIR/agent.err")
[ "$n" -eq 1 ] || fail "the rejection was logged $n times, not once: $(grep Date "$T_DIR/agent.err")"
grep -q "agrees with the estimate again" "$T_DIR/agent.err" ||
    fail "the end of the rejection was not logged"
if grep -q "the server's clock moved" "$T_DIR/agent.err"; then
    fail "four seconds of lies were followed"
fi
echo "clock: $rejected answers with a Date 2 h ahead ignored; $(wc -l <"$T_DIR/out.ndjson") events exactly once"
