# badapi.sh - the hostile API (tests/reliability/badapi.py) and an agent set up
# against it. Sourced after common.sh by the reliability scripts that use it.

BADAPI="$OLA_SOURCE_DIR/tests/reliability/badapi.py"

# start_badapi [badapi options...]: badapi.py on a free loopback port; sets API.
start_badapi() {
    local portfile="$T_DIR/badapi.port"
    command -v python3 >/dev/null || fail "python3 is needed"
    python3 "$BADAPI" --port-file "$portfile" "$@" \
        >"$T_DIR/badapi.out" 2>"$T_DIR/badapi.err" &
    T_PIDS+=("$!")
    WAIT_EVERY=0.05 wait_until 20 test -s "$portfile" ||
        fail "badapi did not start: $(cat "$T_DIR/badapi.err")"
    API="http://127.0.0.1:$(cat "$portfile")"
}

# api METHOD PATH: badapi's control endpoints.
api() { curl -sS -f -X "$1" "$API$2"; }

# badapi_conf DIR [ONELOGIN_LINES] [TOP_LINES]: a config for badapi with the
# state in DIR/state; ONELOGIN_LINES are added to the onelogin map (indented by
# two), TOP_LINES at the top level (e.g. "enrich: false"). The rule pack is
# off: the checks compare the output with the events badapi served.
badapi_conf() {
    cat >"$1/olagent.yaml" <<YAML
onelogin:
  base_url: $API
  client_id: \${ONELOGIN_CLIENT_ID}
  client_secret: \${ONELOGIN_CLIENT_SECRET}
  poll_interval: 1s
  page_size: 50
  start: -15m
  overlap: 1m
  late_sweep: 2s
  settle: 1s
  backoff_max: 1s
${2:-}
checkpoint:
  path: $1/state/checkpoint.json
metrics: false
shutdown_timeout: 5s
default_rules: false
${3:-}
outputs:
  - type: stdout
YAML
}

# run_agent DIR: olagent on DIR's config, stdout appended to DIR/out.ndjson.
run_agent() {
    "$OLAGENT" run -c "$1/olagent.yaml" >>"$1/out.ndjson" 2>>"$1/agent.err" &
    AGENT_PID=$!
    T_PIDS+=("$AGENT_PID")
}

# t_logged DIR REGEX: the agent's log matches (fails the test if it died).
t_logged() {
    grep -Eq "$2" "$1/agent.err" && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || fail "$1: the agent died: $(tail -5 "$1/agent.err")"
    return 1
}

# wait_log DIR REGEX SECONDS: until the agent's log matches; fails at the deadline.
wait_log() {
    wait_until "$3" t_logged "$1" "$2" ||
        fail "$1: no '$2' in the log within $3 s: $(grep -E 'warn|error' "$1/agent.err" | tail -3)"
}
