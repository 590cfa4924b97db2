#!/usr/bin/env bash
# Insecure settings say so: a syslog output with tls.verify: false and a
# Kafka output with sasl.mechanism PLAIN over security.protocol sasl_plaintext
# load, but `check` prints one "warning: file:line: <setting> ..." line for
# each (and `check --strict` exits 2 on them), and `run` logs the same lines
# at startup. A clean config prints no warning and passes --strict, and its
# run stopped during a token request logs none either. An http:// base_url
# off loopback stays refused.
. "$(dirname "$0")/../lib/common.sh"

start_olsim --events 20 --span 1h

write_config "$T_DIR/noverify.yaml" "outputs:
  - type: stdout
  - type: syslog
    name: siem
    transport: tls
    host: 127.0.0.1
    port: 9
    tls:
      verify: false"
verify_line=$(grep -n '^      verify: false' "$T_DIR/noverify.yaml" | cut -d: -f1)

write_config "$T_DIR/plain.yaml" "outputs:
  - type: kafka
    brokers: 127.0.0.1:9
    topic: onelogin.events
    properties:
      security.protocol: SASL_PLAINTEXT
      sasl.mechanism: PLAIN
      sasl.username: olagent
      sasl.password: \${ONELOGIN_CLIENT_SECRET}"
plain_line=$(grep -n '^      sasl.mechanism: PLAIN' "$T_DIR/plain.yaml" | cut -d: -f1)

write_config "$T_DIR/clean.yaml"

# expect_warning NAME REGEX: check warns (exit 0), --strict fails (exit 2).
expect_warning() {
    local name=$1 want=$2 rc n
    "$OLAGENT" check -c "$T_DIR/$name.yaml" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$name: check exit $rc, want 0: $(cat "$T_DIR/$name.err")"
    grep -Eq "^warning: $want" "$T_DIR/$name.err" ||
        fail "$name: no warning matching '$want': $(cat "$T_DIR/$name.err")"
    n=$(grep -c '^warning: ' "$T_DIR/$name.err")
    [ "$n" -eq 1 ] || fail "$name: $n warnings, want 1: $(cat "$T_DIR/$name.err")"
    ! grep -q "$ONELOGIN_CLIENT_SECRET" "$T_DIR/$name.err" "$T_DIR/$name.out" ||
        fail "$name: check printed the secret"
    "$OLAGENT" check --strict -c "$T_DIR/$name.yaml" >"$T_DIR/$name.strict.out" \
        2>"$T_DIR/$name.strict.err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "$name: check --strict exit $rc, want 2"
    grep -Eq "$want" "$T_DIR/$name.strict.err" ||
        fail "$name: --strict does not say why: $(cat "$T_DIR/$name.strict.err")"
}

expect_warning noverify \
    "$T_DIR/noverify.yaml:$verify_line: outputs\\[1\\]\\.tls\\.verify is false: the syslog server is not authenticated"
expect_warning plain \
    "$T_DIR/plain.yaml:$plain_line: outputs\\[0\\]\\.properties\\.sasl\\.mechanism is PLAIN over security\\.protocol sasl_plaintext"

# a clean config: no warning, --strict passes
"$OLAGENT" check --strict -c "$T_DIR/clean.yaml" >"$T_DIR/clean.out" 2>"$T_DIR/clean.err" ||
    fail "clean config fails check --strict: $(cat "$T_DIR/clean.err")"
! grep -q 'warning' "$T_DIR/clean.err" || fail "clean config warns: $(cat "$T_DIR/clean.err")"

# http:// off loopback: still refused, not a warning
sed "s|base_url: .*|base_url: http://onelogin.example.com|" "$T_DIR/clean.yaml" >"$T_DIR/http.yaml"
"$OLAGENT" check -c "$T_DIR/http.yaml" >"$T_DIR/http.out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "http:// off loopback: exit $rc, want 2"
grep -q 'http.yaml:[0-9]*: onelogin.base_url: http:// is allowed only on loopback' "$T_DIR/http.out" ||
    fail "http:// off loopback: $(cat "$T_DIR/http.out")"

# run: the same warning at startup, once; none for the clean config
# wait_agent_log PATTERN SECONDS: waits for PATTERN in agent.err.
wait_agent_log() {
    local deadline=$(($(date +%s) + $2))
    while [ "$(date +%s)" -le "$deadline" ]; do
        grep -q "$1" "$T_DIR/agent.err" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
for name in noverify plain; do
    : >"$T_DIR/agent.err"
    start_agent "$T_DIR/$name.yaml" "$T_DIR/$name.run.out"
    wait_agent_log "tailing" 30 || fail "$name: agent did not start: $(cat "$T_DIR/agent.err")"
    stop_agent
    want=$(grep '^warning: ' "$T_DIR/$name.err" | sed 's/^warning: //')
    [ -n "$want" ] || fail "$name: check printed no warning line"
    grep -qF -- "$want" "$T_DIR/agent.err" ||
        fail "$name: run did not log the warning: $(cat "$T_DIR/agent.err")"
    n=$(grep -c 'is not authenticated\|crosses the network in clear text' "$T_DIR/agent.err")
    [ "$n" -eq 1 ] || fail "$name: run logged the warning $n times"
    ! grep -q "$ONELOGIN_CLIENT_SECRET" "$T_DIR/agent.err" || fail "$name: run logged the secret"
done
# The clean run is stopped while its first token request is held open by
# olsim (a stall): the request aborted by the stop is no failure to warn of.
token_requests() {
    sim GET /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["token"])'
}
token_held() { [ "$(token_requests)" -gt "$tokens_before" ]; }
: >"$T_DIR/agent.err"
tokens_before=$(token_requests)
sim POST /_sim/faults '{"kind":"stall","count":1,"path":"/auth/oauth2/v2/token"}' >/dev/null
start_agent "$T_DIR/clean.yaml" "$T_DIR/clean.run.out"
wait_agent_log "tailing" 30 || fail "clean: agent did not start: $(cat "$T_DIR/agent.err")"
wait_until 30 token_held || fail "clean: no token request reached olsim"
stop_agent || fail "clean: olagent exited $?"
! grep -qi 'warn' "$T_DIR/agent.err" || fail "clean config warns at run: $(cat "$T_DIR/agent.err")"
echo "insecure settings: one warning line each from check and run; --strict exits 2"
