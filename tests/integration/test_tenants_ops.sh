#!/usr/bin/env bash
# Tenants that come, go and fail: one tenant with a wrong secret is marked
# down (one log line, /readyz 503 naming it, olagent_tenant_up 0) while the
# others deliver; SIGHUP adds a tenant (it starts), removes one (it stops,
# its checkpoint kept) and leaves the unchanged one undisturbed (no new
# token, no new user lookups: its connections and cache survive). A config
# with one tenant whose secret is wrong still exits 1, as before tenants.
. "$(dirname "$0")/../lib/common.sh"

start_olsim --seed 62 --tenants 3 --events 400 --span 1h --users 30
# tenants_config FILE ENTRY...: ENTRY is "tK" or "tK:wrong" (a wrong secret).
tenants_config() {
    local file=$1 e k id secret
    shift
    {
        cat <<YAML
onelogin:
  base_url: $OLSIM_URL
  poll_interval: 1s
  start: -48h
  late_sweep: 2s
  settle: 1s
  timeout: 5s
  backoff_max: 2s
tenants:
YAML
        for e in "$@"; do
            k=${e%%:*}
            read -r id secret <<<"$(olsim_tenant_creds "${k#t}")"
            [ "$e" = "$k:wrong" ] && secret=not-the-secret
            printf '  - name: %s\n    client_id: %s\n    client_secret: %s\n' \
                "$k" "$id" "$secret"
        done
        cat <<YAML
checkpoint:
  path: $T_DIR/state/{tenant}.json
metrics:
  listen: 127.0.0.1:0
shutdown_timeout: 5s
default_rules: false
outputs:
  - type: stdout
YAML
    } >"$file"
    cp "$OLA_SOURCE_DIR/config/event-types.json" "$(dirname "$file")/event-types.json"
}

# t_tenant_covered K: the output covers tenant tK's truth of now.
t_tenant_covered() {
    sim GET "/_sim/truth/ids?tenant=t$1" | sort -n >"$T_DIR/truth.t$1"
    ids_of_lenient "$T_DIR/out.ndjson" | sort -n -u >"$T_DIR/got.ids"
    [ -z "$(comm -23 "$T_DIR/truth.t$1" "$T_DIR/got.ids")" ]
}
t_logged() { grep -q "$1" "$T_DIR/agent.err"; }
readyz() { curl -s -w ' %{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz"; }
tokens_of() { sim GET "/_sim/stats?tenant=t$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["token"])'; }
lookups_of() {
    sim GET "/_sim/requests?tenant=t$1" | python3 -c '
import json, sys
data = sys.stdin.read()
try:
    reqs = json.loads(data)
except ValueError:
    reqs = [json.loads(l) for l in data.splitlines() if l.strip()]
if isinstance(reqs, dict):
    reqs = reqs.get("requests", [])
print(sum(1 for r in reqs if "/users/" in r.get("path", "")))'
}

t_log "one tenant with a wrong secret among three"
tenants_config "$T_DIR/olagent.yaml" t1 t2 t3:wrong
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
metrics_port "$T_DIR/agent.err"
for k in 1 2; do
    WAIT_EVERY=0.5 wait_until 60 t_tenant_covered "$k" || fail "t$k did not deliver"
done
wait_until 20 t_logged 'agent\[t3\]: tenant down: ' || fail "t3 not logged down"
[ "$(grep -c 'tenant down' "$T_DIR/agent.err")" = 1 ] ||
    fail "the down tenant was logged more than once"
kill -0 "$AGENT_PID" || fail "the agent stopped for one tenant's wrong secret"
r=$(readyz)
[ "${r##* }" = 503 ] || fail "/readyz answered ${r##* } with a tenant down"
grep -q "^tenant t3: down: " <<<"$r" || fail "/readyz does not name t3: $r"
grep -q "^tenant t1: up$" <<<"$r" || fail "/readyz does not list t1 up: $r"
[ "$(metric olagent_tenant_up 'tenant="t3"')" = 0 ] || fail "olagent_tenant_up{t3} is not 0"
[ "$(metric olagent_tenant_up 'tenant="t1"')" = 1 ] || fail "olagent_tenant_up{t1} is not 1"

t_log "SIGHUP: t3 fixed, t2 removed, t1 unchanged"
tokens1=$(tokens_of 1)
lookups1=$(lookups_of 1)
tenants_config "$T_DIR/olagent.yaml" t1 t3
kill -HUP "$AGENT_PID"
wait_until 20 t_logged 'tenant t2 stopped' || fail "t2 was not stopped"
wait_until 20 t_logged 'tenant t3 stopped' || fail "the changed t3 was not restarted"
WAIT_EVERY=0.5 wait_until 60 t_tenant_covered 3 || fail "t3 did not deliver after SIGHUP"
sim POST "/_sim/events?tenant=t1" '{"count":3}' >/dev/null
sim POST "/_sim/events?tenant=t2" '{"count":3}' >/dev/null
sim GET "/_sim/truth/ids?tenant=t2" | sort -n | tail -3 >"$T_DIR/t2.new"
WAIT_EVERY=0.5 wait_until 30 t_tenant_covered 1 || fail "t1 stopped delivering after SIGHUP"
sleep 3 # a removed tenant would have polled its new events by now
ids_of_lenient "$T_DIR/out.ndjson" | sort -n -u >"$T_DIR/got.ids"
[ -z "$(comm -12 "$T_DIR/t2.new" "$T_DIR/got.ids")" ] || fail "the removed t2 still delivers"
[ "$(tokens_of 1)" = "$tokens1" ] || fail "the unchanged t1 fetched a new token"
[ "$(lookups_of 1)" -le "$((lookups1 + 3))" ] ||
    fail "the unchanged t1 looked its users up again: its cache did not survive"
[ -s "$T_DIR/state/t2.json" ] || fail "the removed tenant's checkpoint is gone"
r=$(readyz)
[ "${r##* }" = 200 ] || fail "/readyz answered ${r##* } after the fix: $r"
grep -q "tenant t2" <<<"$r" && fail "/readyz still lists the removed t2"

t_log "SIGHUP adding a tenant whose checkpoint another process holds: one line, no retry"
flock "$T_DIR/state/t2.json.lock" sleep 30 &
holder=$!
T_PIDS+=("$holder")
wait_until 10 test -e "$T_DIR/state/t2.json.lock" || fail "no lock file for t2"
sleep 0.5 # flock(1) takes the lock right after creating the file
tenants_config "$T_DIR/olagent.yaml" t1 t2 t3
kill -HUP "$AGENT_PID"
wait_until 20 t_logged 'tenant t2 not started' || fail "t2's held lock was not logged"
sleep 3 # the main thread looks at its tenants every second
[ "$(grep -c 'tenant t2 not started' "$T_DIR/agent.err")" = 1 ] ||
    fail "a tenant that cannot start was logged more than once"
kill "$holder" 2>/dev/null
tenants_config "$T_DIR/olagent.yaml" t1 t3 # what the checkpoint commands below read
stop_agent || fail "olagent exited $? after SIGTERM"

t_log "checkpoint show, verify and set take --tenant"
"$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" --tenant t1 >"$T_DIR/show.t1" ||
    fail "checkpoint show --tenant t1 failed"
grep -q '"watermark"' "$T_DIR/show.t1" || fail "show --tenant t1: $(cat "$T_DIR/show.t1")"
"$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" >"$T_DIR/show.all" ||
    fail "checkpoint show (every tenant) failed"
grep -q '^tenant t3: ' "$T_DIR/show.all" || fail "show without --tenant does not list t3"
"$OLAGENT" checkpoint verify -c "$T_DIR/olagent.yaml" >"$T_DIR/verify.out" ||
    fail "checkpoint verify failed: $(cat "$T_DIR/verify.out")"
[ "$(grep -c 'is sound' "$T_DIR/verify.out")" = 2 ] || fail "verify: $(cat "$T_DIR/verify.out")"
echo '{"version":1,' >"$T_DIR/state/t3.json"
"$OLAGENT" checkpoint verify -c "$T_DIR/olagent.yaml" --tenant t3 2>"$T_DIR/verify.err"
[ $? = 1 ] || fail "verify of a damaged checkpoint did not exit 1"
"$OLAGENT" checkpoint set -c "$T_DIR/olagent.yaml" --since now 2>"$T_DIR/set.err"
[ $? = 2 ] || fail "set without --tenant among several tenants did not exit 2"
grep -q -- "--tenant" "$T_DIR/set.err" || fail "set without --tenant: $(cat "$T_DIR/set.err")"
"$OLAGENT" checkpoint set -c "$T_DIR/olagent.yaml" --tenant t3 --since now >/dev/null \
    2>&1 || fail "checkpoint set --tenant t3 failed"
"$OLAGENT" checkpoint verify -c "$T_DIR/olagent.yaml" --tenant t3 >/dev/null ||
    fail "verify after set failed"
"$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" --tenant nope 2>/dev/null
[ $? = 2 ] || fail "an unknown tenant did not exit 2"

t_log "a lone tenant with a wrong secret still stops the process"
tenants_config "$T_DIR/lone.yaml" t1:wrong
start_agent "$T_DIR/lone.yaml" "$T_DIR/lone.out"
wait "$AGENT_PID"
rc=$?
[ "$rc" = 1 ] || fail "a lone tenant with a wrong secret exited $rc, not 1"
echo "tenants_ops: wrong secret isolated and logged once, SIGHUP added/removed/kept tenants"
