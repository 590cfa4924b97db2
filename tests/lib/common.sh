# common.sh - shared helpers for the integration and reliability suites.
#
# Sourced by tests/*/test_*.sh. ctest sets OLAGENT, OLSIM, OLA_TOOLS_DIR,
# OLA_SOURCE_DIR and OLA_DATA_DIR. Every process a test starts is recorded
# and killed on exit, and the scratch directory is removed unless the test
# failed (then its path is printed for a post-mortem).
set -u

: "${OLAGENT:?OLAGENT not set (run through ctest)}"
: "${OLA_SOURCE_DIR:?OLA_SOURCE_DIR not set (run through ctest)}"

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/olatest.XXXXXX")
T_PIDS=()
T_FAILED=0
export ONELOGIN_CLIENT_ID=olsim-client
export ONELOGIN_CLIENT_SECRET=olsim-secret

t_cleanup() {
    local pid
    for pid in "${T_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.2
    for pid in "${T_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$T_FAILED" -eq 0 ]; then
        rm -rf "$T_DIR"
    else
        echo "scratch kept in $T_DIR" >&2
    fi
}
trap t_cleanup EXIT

t_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

fail() {
    T_FAILED=1
    echo "FAIL: $*" >&2
    exit 1
}

# start_olsim [olsim options...]: sets OLSIM_PID, OLSIM_PORT, OLSIM_URL.
start_olsim() {
    local portfile="$T_DIR/olsim.port"
    rm -f "$portfile"
    "$OLSIM" --listen 127.0.0.1:0 --port-file "$portfile" \
        --catalog "$OLA_SOURCE_DIR/config/event-types.json" \
        --client-id "$ONELOGIN_CLIENT_ID" --client-secret "$ONELOGIN_CLIENT_SECRET" \
        "$@" >"$T_DIR/olsim.out" 2>"$T_DIR/olsim.err" &
    OLSIM_PID=$!
    T_PIDS+=("$OLSIM_PID")
    WAIT_EVERY=0.05 wait_until 15 t_olsim_up "$portfile" || fail "olsim did not start"
    OLSIM_PORT=$(cat "$portfile")
    OLSIM_URL="http://127.0.0.1:$OLSIM_PORT"
}

# olsim_tenant_creds K: prints "CLIENT_ID CLIENT_SECRET" of tenant tK of an olsim
# started with --tenants N > 1 (start_olsim passes ONELOGIN_CLIENT_ID/_SECRET; tenant
# tK's are those with -tK appended; with one tenant they are the plain ones).
olsim_tenant_creds() { echo "$ONELOGIN_CLIENT_ID-t$1 $ONELOGIN_CLIENT_SECRET-t$1"; }

# sim GET|POST|DELETE PATH [JSON]: talks to olsim's control endpoints.
sim() {
    local method=$1 path=$2 body=${3:-}
    if [ -n "$body" ]; then
        curl -sS -f -X "$method" -H 'Content-Type: application/json' --data "$body" \
            "$OLSIM_URL$path"
    else
        curl -sS -f -X "$method" "$OLSIM_URL$path"
    fi
}

# truth_ids FILE: every event id olsim holds, sorted.
truth_ids() { sim GET /_sim/truth/ids | sort -n >"$1"; }

# write_config FILE [extra YAML appended at the top level]: a config for olsim.
# Tunables through variables: POLL SETTLE OVERLAP SWEEP START PAGE BACKOFF.
# The built-in rule pack is off (DEFAULT_RULES=true turns it on): delivery
# tests compare records with olsim's events, and alert records are not events.
write_config() {
    local file=$1 extra=${2:-}
    cat >"$file" <<YAML
onelogin:
  base_url: $OLSIM_URL
  client_id: \${ONELOGIN_CLIENT_ID}
  client_secret: \${ONELOGIN_CLIENT_SECRET}
  poll_interval: ${POLL:-1s}
  page_size: ${PAGE:-50}
  start: ${START:--48h}
  overlap: ${OVERLAP:-1m}
  late_sweep: ${SWEEP:-2s}
  settle: ${SETTLE:-1s}
  timeout: ${TIMEOUT:-5s}
  backoff_max: ${BACKOFF:-2s}
checkpoint:
  path: $T_DIR/state/checkpoint.json
log:
  level: ${LOGLEVEL:-info}
metrics: false
shutdown_timeout: 5s
default_rules: ${DEFAULT_RULES:-false}
${extra:-outputs:
  - type: stdout}
YAML
    cp "$OLA_SOURCE_DIR/config/event-types.json" "$(dirname "$file")/event-types.json"
}

# start_agent CONFIG OUTFILE: runs olagent in the background, stdout appended to OUTFILE.
start_agent() {
    # where this agent's log starts: t_metrics_logged reads no earlier run's port
    AGENT_ERR_FROM=$(stat -c %s "$T_DIR/agent.err" 2>/dev/null || echo 0)
    "$OLAGENT" run -c "$1" >>"$2" 2>>"$T_DIR/agent.err" &
    AGENT_PID=$!
    T_PIDS+=("$AGENT_PID")
}

# stop_agent: SIGTERM and wait; returns the agent's exit code.
stop_agent() {
    kill -TERM "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID"
}

# crash_agent N CONFIG OUTFILE PAUSE: N times, start_agent CONFIG OUTFILE, let
# it run PAUSE seconds and kill -9 it. PAUSE is text with $RANDOM in it, in
# single quotes ('0.$((RANDOM % 9 + 1))'), expanded afresh before each kill in
# this shell (not a subshell), so the test's RANDOM=seed fixes every instant.
crash_agent() {
    local n=$1 config=$2 out=$3 pause=$4 secs
    for _ in $(seq 1 "$n"); do
        start_agent "$config" "$out"
        eval "secs=\"$pause\""
        sleep "$secs"
        kill -KILL "$AGENT_PID"
        wait "$AGENT_PID" 2>/dev/null
    done
}

# ids_of FILE: the event ids in an NDJSON file, one per line, in file order.
ids_of() {
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="strict"):
    line = line.strip()
    if line:
        ev = json.loads(line)
        if "id" in ev:
            print(ev["id"])
' "$1"
}

# ids_of_lenient FILE: like ids_of, but a line that is not JSON is skipped and
# counted in $T_DIR/torn.count (stdout after a kill -9 may hold one torn
# fragment per kill, on a line of its own; the record is delivered again).
ids_of_lenient() {
    python3 -c '
import json, sys
torn = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip()
    if not line:
        continue
    try:
        ev = json.loads(line)
    except ValueError:
        torn += 1
        continue
    if "id" in ev:
        print(ev["id"])
open(sys.argv[2], "w").write("%d\n" % torn)
' "$1" "$T_DIR/torn.count"
}

# Every wait is a deadline in wall-clock seconds, never a count of loop
# rounds: on a slow or loaded machine each round takes longer, so "N rounds
# of sleep 1" is far more than N seconds (tests/tools/waits.sh checks this).
# t_deadline SECS: the wall-clock deadline SECS seconds from now (epoch ms;
# SECS may have a fraction, e.g. 0.5).
t_deadline() {
    local ms
    ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')
    echo $(($(date +%s%3N) + ms))
}

# t_before DEADLINE: true while DEADLINE (from t_deadline) has not passed.
t_before() { [ "$(date +%s%3N)" -lt "$1" ]; }

# wait_until SECS CMD...: runs CMD every WAIT_EVERY seconds (default 0.1)
# until it succeeds (returns 0) or SECS wall-clock seconds have passed
# (returns 1; CMD ran once more after the last sleep).
wait_until() {
    local end
    end=$(t_deadline "$1")
    shift
    while :; do
        "$@" && return 0
        t_before "$end" || return 1
        sleep "${WAIT_EVERY:-0.1}"
    done
}

# t_metrics_logged [ERRFILE]: the agent logged its metrics port (sets
# METRICS_PORT); ERRFILE defaults to $T_DIR/agent.err. In $T_DIR/agent.err
# only the last start_agent's lines count: an earlier run's port, logged
# before a restart, is not this agent's.
t_metrics_logged() {
    local file=${1:-$T_DIR/agent.err} from=0
    [ "$file" = "$T_DIR/agent.err" ] && from=${AGENT_ERR_FROM:-0}
    METRICS_PORT=$(tail -c +$((from + 1)) "$file" 2>/dev/null |
        sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' | tail -1)
    [ -n "$METRICS_PORT" ]
}

# metrics_port [ERRFILE]: waits up to 10 s for the port the agent logged (it
# binds port 0) into METRICS_PORT; fails the test without one.
metrics_port() {
    wait_until 10 t_metrics_logged "$@" || fail "the agent never logged its metrics port"
}

# metric NAME [LABEL-FILTER]: the sum of the samples of NAME on METRICS_PORT
# whose labels contain LABEL-FILTER (e.g. 'endpoint="events"'); fails (1)
# when NAME has no sample.
metric() {
    curl -s -f "http://127.0.0.1:$METRICS_PORT/metrics" |
        awk -v n="$1" -v f="${2:-}" '
            $1 == n || index($1, n "{") == 1 { if (f == "" || index($1, f)) s += $2; hit = 1 }
            END { if (!hit) exit 1; printf "%.0f\n", s }'
}

# t_olsim_up PORTFILE: olsim wrote its port (fails the test if olsim exited).
t_olsim_up() {
    [ -s "$1" ] && return 0
    kill -0 "$OLSIM_PID" 2>/dev/null || fail "olsim exited: $(cat "$T_DIR/olsim.err")"
    return 1
}

# t_has_lines FILE N: FILE has at least N lines.
t_has_lines() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# wait_for_count FILE N SECONDS: waits until FILE has at least N lines.
wait_for_count() { wait_until "$3" t_has_lines "$1" "$2"; }

# t_truth_covered OUTFILE [kept]: the delivered ids in OUTFILE cover olsim's
# truth (with "kept", the truth read before: events olsim made since do not
# count); TRUTH_PROGRESS says "X of Y events delivered".
t_truth_covered() {
    local want got
    [ "${2:-}" = kept ] || truth_ids "$T_DIR/truth.ids"
    ids_of_lenient "$1" | sort -n -u >"$T_DIR/got.ids"
    want=$(wc -l <"$T_DIR/truth.ids")
    got=$(comm -12 "$T_DIR/truth.ids" "$T_DIR/got.ids" | wc -l)
    TRUTH_PROGRESS="$got of $want events delivered"
    [ "$got" -eq "$want" ]
}

# wait_for_truth OUTFILE SECONDS: waits until the delivered id set covers
# olsim's truth; on timeout says how far it got (also in TRUTH_PROGRESS).
wait_for_truth() {
    WAIT_EVERY=1 wait_until "$2" t_truth_covered "$1" && return 0
    TRUTH_PROGRESS="$TRUTH_PROGRESS after $2 s"
    echo "wait_for_truth: $TRUTH_PROGRESS" >&2
    return 1
}

# wait_for_truth_now OUTFILE SECONDS: waits until every event olsim holds now
# is delivered (for an olsim that keeps making events: the agent settles a
# second or more behind, so the growing truth is never covered at once).
wait_for_truth_now() {
    truth_ids "$T_DIR/truth.ids"
    WAIT_EVERY=1 wait_until "$2" t_truth_covered "$1" kept && return 0
    TRUTH_PROGRESS="$TRUTH_PROGRESS after $2 s"
    echo "wait_for_truth_now: $TRUTH_PROGRESS" >&2
    return 1
}

# assert_exact OUTFILE: every truth id delivered exactly once, nothing else.
assert_exact() {
    local out=$1 dups missing extra
    truth_ids "$T_DIR/truth.ids"
    ids_of "$out" | sort -n >"$T_DIR/got.all"
    dups=$(uniq -d "$T_DIR/got.all" | wc -l)
    sort -n -u "$T_DIR/got.all" >"$T_DIR/got.ids"
    missing=$(comm -23 "$T_DIR/truth.ids" "$T_DIR/got.ids" | wc -l)
    extra=$(comm -13 "$T_DIR/truth.ids" "$T_DIR/got.ids" | wc -l)
    [ "$missing" -eq 0 ] || fail "$missing events lost (first: $(comm -23 "$T_DIR/truth.ids" "$T_DIR/got.ids" | head -3 | tr '\n' ' '))"
    [ "$extra" -eq 0 ] || fail "$extra events that olsim never had"
    [ "$dups" -eq 0 ] || fail "$dups events delivered more than once"
}
