#!/usr/bin/env bash
# The agent marks itself non-dumpable (prctl PR_SET_DUMPABLE 0) early in main,
# so no core file or ptrace attach exposes its secrets. Observed from outside:
# Linux makes the /proc/PID files of a non-dumpable process owned by root
# (task_dump_owner), where a dumpable one's belong to its own uid. The agent
# therefore runs here as an unprivileged uid (setpriv), and its
# /proc/PID/status must be owned by root while its Uid line says 65534.
. "$(dirname "$0")/../lib/common.sh"

command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to switch to an unprivileged uid"; exit 0; }
[ "$(uname -s)" = Linux ] || { echo "SKIP: Linux only"; exit 0; }
UID_RUN=65534

start_olsim --events 10 --span 1h
# the unprivileged agent reads its config and writes its checkpoint in W
W="$T_DIR/w"
mkdir -p "$W"
chmod 711 "$T_DIR"
chmod 777 "$W"
cat >"$W/olagent.yaml" <<YAML
onelogin:
  base_url: $OLSIM_URL
  client_id: \${ONELOGIN_CLIENT_ID}
  client_secret: \${ONELOGIN_CLIENT_SECRET}
checkpoint:
  path: $W/state/checkpoint.json
metrics: false
outputs: [{type: stdout}]
YAML
chmod 644 "$W/olagent.yaml"

# a control: the same uid without olagent is dumpable, so the check can tell
setpriv --reuid=$UID_RUN --regid=$UID_RUN --clear-groups sleep 30 &
CTRL=$!
T_PIDS+=("$CTRL")
deadline=$(($(date +%s) + 10))
until grep -q "^Uid:[[:space:]]*$UID_RUN" "/proc/$CTRL/status" 2>/dev/null; do
    [ "$(date +%s)" -le "$deadline" ] || fail "control process did not switch uid"
    sleep 0.05
done
[ "$(stat -c %u "/proc/$CTRL/status")" -eq "$UID_RUN" ] ||
    fail "a dumpable process's /proc files are not owned by its uid here: the check cannot work"
kill "$CTRL"

setpriv --reuid=$UID_RUN --regid=$UID_RUN --clear-groups \
    "$OLAGENT" run -c "$W/olagent.yaml" >"$T_DIR/out.ndjson" 2>"$T_DIR/agent.err" &
AGENT_PID=$!
T_PIDS+=("$AGENT_PID")
wait_for_count "$T_DIR/out.ndjson" 10 60 || fail "agent delivered nothing: $(cat "$T_DIR/agent.err")"
grep -q "^Uid:[[:space:]]*$UID_RUN" "/proc/$AGENT_PID/status" ||
    fail "the agent does not run as uid $UID_RUN: $(grep Uid "/proc/$AGENT_PID/status")"
owner=$(stat -c %u "/proc/$AGENT_PID/status")
[ "$owner" -eq 0 ] || fail "/proc/$AGENT_PID/status is owned by uid $owner: the agent is dumpable"
stop_agent || fail "olagent exited $? after SIGTERM: $(cat "$T_DIR/agent.err")"
echo "non-dumpable: the agent's /proc files belong to root while it runs as uid $UID_RUN"
