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
    local portfile="$T_DIR/olsim.port" i
    rm -f "$portfile"
    "$OLSIM" --listen 127.0.0.1:0 --port-file "$portfile" \
        --catalog "$OLA_SOURCE_DIR/config/event-types.json" \
        --client-id "$ONELOGIN_CLIENT_ID" --client-secret "$ONELOGIN_CLIENT_SECRET" \
        "$@" >"$T_DIR/olsim.out" 2>"$T_DIR/olsim.err" &
    OLSIM_PID=$!
    T_PIDS+=("$OLSIM_PID")
    for i in $(seq 1 300); do
        [ -s "$portfile" ] && break
        kill -0 "$OLSIM_PID" 2>/dev/null || fail "olsim exited: $(cat "$T_DIR/olsim.err")"
        sleep 0.05
    done
    [ -s "$portfile" ] || fail "olsim did not start"
    OLSIM_PORT=$(cat "$portfile")
    OLSIM_URL="http://127.0.0.1:$OLSIM_PORT"
}

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
${extra:-outputs:
  - type: stdout}
YAML
    cp "$OLA_SOURCE_DIR/config/event-types.json" "$(dirname "$file")/event-types.json"
}

# start_agent CONFIG OUTFILE: runs olagent in the background, stdout appended to OUTFILE.
start_agent() {
    "$OLAGENT" run -c "$1" >>"$2" 2>>"$T_DIR/agent.err" &
    AGENT_PID=$!
    T_PIDS+=("$AGENT_PID")
}

# stop_agent: SIGTERM and wait; returns the agent's exit code.
stop_agent() {
    kill -TERM "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID"
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

# wait_for_count FILE N SECONDS: waits until FILE has at least N lines.
wait_for_count() {
    local file=$1 want=$2 secs=$3 i have
    for i in $(seq 1 $((secs * 10))); do
        have=$(wc -l <"$file" 2>/dev/null || echo 0)
        [ "$have" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_for_truth OUTFILE SECONDS: waits until the delivered id set covers olsim's truth.
wait_for_truth() {
    local out=$1 secs=$2 i
    for i in $(seq 1 "$secs"); do
        truth_ids "$T_DIR/truth.ids"
        ids_of_lenient "$out" | sort -n -u >"$T_DIR/got.ids"
        if [ -z "$(comm -23 "$T_DIR/truth.ids" "$T_DIR/got.ids")" ]; then
            return 0
        fi
        sleep 1
    done
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
