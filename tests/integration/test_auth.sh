#!/usr/bin/env bash
# A wrong secret stops the agent within 5 s with a clear message, after at
# most 2 token requests; the secret never shows in the output.
. "$(dirname "$0")/../lib/common.sh"

start_olsim --events 10
write_config "$T_DIR/olagent.yaml"
export ONELOGIN_CLIENT_SECRET=wrong-secret-d41d8cd98f
start=$(date +%s%N)
"$OLAGENT" run -c "$T_DIR/olagent.yaml" >"$T_DIR/out" 2>"$T_DIR/err" &
AGENT_PID=$!
T_PIDS+=("$AGENT_PID")
end=$(t_deadline 6)
while kill -0 "$AGENT_PID" 2>/dev/null && t_before "$end"; do
    sleep 0.1
done
kill -0 "$AGENT_PID" 2>/dev/null && fail "still running 6 s after a rejected credential"
wait "$AGENT_PID"
rc=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -ne 0 ] || fail "exit code 0 with a wrong secret"
[ "$elapsed" -le 5000 ] || fail "took $elapsed ms"
grep -qi 'client_id\|client_secret\|credential' "$T_DIR/err" || fail "no clear message: $(cat "$T_DIR/err")"
tokens=$(sim GET /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["token"])')
[ "$tokens" -le 2 ] || fail "$tokens token requests"
! grep -q 'wrong-secret-d41d8cd98f' "$T_DIR/out" "$T_DIR/err" || fail "the secret was printed"
echo "auth: exit $rc after $elapsed ms and $tokens token request(s): $(tail -1 "$T_DIR/err")"
