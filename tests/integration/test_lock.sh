#!/usr/bin/env bash
# One agent per checkpoint, and no state file written through a planted symlink.
#
# A second agent on the same checkpoint exits 1 at once with one line naming
# the checkpoint and the first agent's pid, and the first goes on delivering
# every event exactly once; `checkpoint set` is refused while it runs, `show`
# is not. A lock file left by an agent killed with SIGKILL does not block the
# next one. Then a symlink planted in the state folder, at the checkpoint's
# old temp name, at the checkpoint itself, at the dead-letter file, at a file
# output's path and at its manifest's temp name: the agent never writes
# through it (the target stays byte for byte) and, where it would have
# written, says so clearly.
# ctest-cost: 60
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/badapi.sh"

CFG="$T_DIR/olagent.yaml"
CP="$T_DIR/state/checkpoint.json"

# other OLAGENT_ARGS...: runs olagent in the foreground (10 s at most); sets
# RC and ELAPSED_MS, output in $T_DIR/other.out and other.err.
other() {
    local t0
    t0=$(date +%s%3N)
    timeout 10 "$OLAGENT" "$@" >"$T_DIR/other.out" 2>"$T_DIR/other.err"
    RC=$?
    ELAPSED_MS=$(($(date +%s%3N) - t0))
}

# wait_lock_pid PID SECONDS: waits until the lock file names PID.
wait_lock_pid() {
    local deadline=$(($(date +%s) + $2))
    while [ "$(date +%s)" -le "$deadline" ]; do
        [ "$(cat "$CP.lock" 2>/dev/null)" = "$1" ] && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# wait_grep PATTERN FILE SECONDS: waits until FILE has a line matching PATTERN.
wait_grep() {
    local deadline=$(($(date +%s) + $3))
    while [ "$(date +%s)" -le "$deadline" ]; do
        grep -q -- "$1" "$2" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# ---- one agent per checkpoint -----------------------------------------------
start_olsim --seed 21 --events 300 --span 1h
write_config "$CFG"
: >"$T_DIR/out.ndjson"
start_agent "$CFG" "$T_DIR/out.ndjson"
FIRST=$AGENT_PID
wait_for_truth "$T_DIR/out.ndjson" 60 || fail "the first agent did not deliver the history"
wait_lock_pid "$FIRST" 5 || fail "the lock file does not name the first agent ($FIRST)"

t_log "a second agent on the same checkpoint"
other run -c "$CFG"
[ "$RC" -eq 1 ] || fail "the second agent exited $RC, want 1: $(cat "$T_DIR/other.err")"
[ "$ELAPSED_MS" -le 5000 ] || fail "the second agent took ${ELAPSED_MS} ms to give up"
[ "$(wc -l <"$T_DIR/other.err")" -eq 1 ] ||
    fail "not one line: $(cat "$T_DIR/other.err")"
grep -qF "checkpoint $CP is in use by another olagent (pid $FIRST " "$T_DIR/other.err" ||
    fail "the message does not name the checkpoint and pid $FIRST: $(cat "$T_DIR/other.err")"
[ ! -s "$T_DIR/other.out" ] || fail "the second agent delivered something"
t_log "second agent: exit 1 after ${ELAPSED_MS} ms: $(cat "$T_DIR/other.err")"

before=$(sha256sum <"$CP")
other checkpoint set -c "$CFG" --since -1h
[ "$RC" -eq 1 ] || fail "checkpoint set while an agent runs exited $RC, want 1"
grep -qF "pid $FIRST " "$T_DIR/other.err" ||
    fail "checkpoint set: no holder pid: $(cat "$T_DIR/other.err")"
other checkpoint show -c "$CFG"
[ "$RC" -eq 0 ] || fail "checkpoint show needs no lock, but exited $RC"

kill -0 "$FIRST" 2>/dev/null || fail "the first agent died: $(tail -3 "$T_DIR/agent.err")"
sim POST /_sim/events '{"count":30}' >/dev/null
wait_for_truth "$T_DIR/out.ndjson" 60 || fail "the first agent stopped delivering"
stop_agent || fail "the first agent exited $? after SIGTERM"
assert_exact "$T_DIR/out.ndjson"
[ "$(sha256sum <"$CP")" != "$before" ] || fail "the checkpoint did not move meanwhile"

t_log "a lock file left by kill -9 does not block"
start_agent "$CFG" "$T_DIR/out.ndjson"
wait_lock_pid "$AGENT_PID" 10 || fail "the restarted agent did not take the lock"
KILLED=$AGENT_PID
kill -KILL "$KILLED"
wait "$KILLED" 2>/dev/null
[ "$(cat "$CP.lock")" = "$KILLED" ] || fail "the lock file does not hold the dead pid"
start_agent "$CFG" "$T_DIR/out.ndjson"
wait_lock_pid "$AGENT_PID" 5 || fail "a stale lock file blocked the next agent: $(tail -2 "$T_DIR/agent.err")"
sim POST /_sim/events '{"count":10}' >/dev/null
wait_for_truth "$T_DIR/out.ndjson" 60 || fail "the agent after kill -9 does not deliver"
stop_agent || fail "exit $? after SIGTERM"
other checkpoint set -c "$CFG" --since -1h
[ "$RC" -eq 0 ] || fail "checkpoint set with no agent running: exit $RC: $(cat "$T_DIR/other.err")"

# ---- symlinks planted in the state folder ----------------------------------
# case_dir NAME [extra YAML]: a config of its own with its state in $T_DIR/NAME/state
# and a target file $T_DIR/NAME/precious; sets D.
case_dir() {
    D="$T_DIR/$1"
    mkdir -p "$D/state"
    write_config "$D/olagent.yaml" "${2:-}"
    sed -i "s#$T_DIR/state/#$D/state/#" "$D/olagent.yaml"
    printf 'precious\n' >"$D/precious"
}

# untouched: the target still holds exactly "precious\n".
untouched() {
    [ "$(cat "$D/precious")" = "precious" ] && [ "$(wc -c <"$D/precious")" -eq 9 ] ||
        fail "$1: written through the symlink: $(head -c 200 "$D/precious")"
}

# run_case OUT: starts the agent of $D, output to OUT, log to $D/agent.err.
run_case() {
    "$OLAGENT" run -c "$D/olagent.yaml" >>"$1" 2>>"$D/agent.err" &
    AGENT_PID=$!
    T_PIDS+=("$AGENT_PID")
}

t_log "symlink at the checkpoint's old temp name"
case_dir tmp
ln -s "$D/precious" "$D/state/checkpoint.json.tmp"
run_case "$D/out.ndjson"
wait_for_truth "$D/out.ndjson" 60 || fail "tmp: no delivery: $(tail -3 "$D/agent.err")"
stop_agent || fail "tmp: exit $? after SIGTERM"
untouched tmp
[ -f "$D/state/checkpoint.json" ] && [ ! -L "$D/state/checkpoint.json" ] ||
    fail "tmp: the checkpoint is not a regular file"

t_log "symlink at the checkpoint"
case_dir target
ln -s "$D/precious" "$D/state/checkpoint.json"
other run -c "$D/olagent.yaml"
[ "$RC" -eq 1 ] || fail "target: exit $RC, want 1: $(cat "$T_DIR/other.err")"
grep -qF "checkpoint $D/state/checkpoint.json: is a symbolic link" "$T_DIR/other.err" ||
    fail "target: no clear error: $(cat "$T_DIR/other.err")"
untouched target
[ -L "$D/state/checkpoint.json" ] || fail "target: the symlink was replaced"

t_log "symlink at the dead-letter file"
start_badapi --events 20
api POST /_mode/utf8 >/dev/null ||
    fail "badapi refused mode utf8"
case_dir deadletter
sed -i "s#base_url: .*#base_url: $API#; s#start: .*#start: -15m#" \
    "$D/olagent.yaml"
ln -s "$D/precious" "$D/state/dead-letter.ndjson"
run_case "$D/out.ndjson"
wait_grep "dead letter $D/state/dead-letter.ndjson: is a symbolic link" "$D/agent.err" 30 ||
    fail "deadletter: no clear error: $(grep -E 'warn|error' "$D/agent.err" | tail -3)"
stop_agent || fail "deadletter: exit $? after SIGTERM"
untouched deadletter

t_log "symlink at a file output's path"
case_dir fileout "outputs:
  - type: file
    path: $T_DIR/fileout/files/events.ndjson
    compression: none"
mkdir -p "$D/files"
ln -s "$D/precious" "$D/files/events.ndjson"
run_case /dev/null
wait_grep "files/events.ndjson: is a symbolic link; not written through" "$D/agent.err" 30 ||
    fail "fileout: no clear error: $(grep -E 'warn|error' "$D/agent.err" | tail -3)"
stop_agent || fail "fileout: exit $? after SIGTERM"
untouched fileout
[ -z "$(ls "$D/files" | grep -v '^events.ndjson$')" ] ||
    fail "fileout: wrote elsewhere instead: $(ls "$D/files")"

t_log "symlink at a file output's manifest temp name"
case_dir manifest "outputs:
  - type: file
    path: $T_DIR/manifest/files/events.ndjson
    compression: none"
mkdir -p "$D/files"
ln -s "$D/precious" "$D/files/events.ndjson.manifest.json.tmp"
run_case /dev/null
wait_for_count "$D/files/events.ndjson" 300 60 2>/dev/null || fail "manifest: no delivery"
stop_agent || fail "manifest: exit $? after SIGTERM"
grep -qF "events.ndjson.manifest.json.tmp: is a symbolic link; not written through" \
    "$D/agent.err" || fail "manifest: no clear error: $(grep -E 'warn|error' "$D/agent.err" | tail -3)"
untouched manifest
echo "one agent per checkpoint; no write through a planted symlink"
