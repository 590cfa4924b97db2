#!/usr/bin/env bash
# What an operator relies on, end to end:
#  1. /metrics scraped during and after a backfill agrees with olsim's own
#     counts (events, pages answered, 5xx answers, token requests, rate-limit
#     budget, late events);
#  2. /readyz turns unready when OneLogin rejects the token (and the token
#     endpoint is slow to answer), and ready again after, by itself;
#  3. SIGTERM during a backfill: exit 0 within the shutdown bound, the
#     checkpoint at the last delivered event, and a restart finishes the
#     backfill with no loss and no duplicate;
#  4. SIGHUP with a broken rule file keeps the old rules; a fixed file is
#     picked up by the next SIGHUP.
# ctest-cost: 40
. "$(dirname "$0")/../lib/common.sh"


# expect_metric NAME FILTER WANT
expect_metric() {
    local got
    got=$(metric "$1" "$2") || fail "metric $1 missing"
    [ "$got" = "$3" ] || fail "metric $1{$2} = $got, olsim says $3"
}

stat_of() { sim GET /_sim/stats | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

METRICS_ON="metrics:
  listen: 127.0.0.1:0"

# ---- 1: metrics against olsim's ground truth ------------------------------
t_log "metrics during a backfill"
start_olsim --seed 4 --events 6000 --page-max 100 --fault 500:2 --stall 3s
PAGE=100 write_config "$T_DIR/a.yaml"
sed -i 's/^metrics: false$//' "$T_DIR/a.yaml"
echo "$METRICS_ON" >>"$T_DIR/a.yaml"
: >"$T_DIR/a.ndjson"
start_agent "$T_DIR/a.yaml" "$T_DIR/a.ndjson"
metrics_port
mid=$(metric olagent_events_delivered_total) || fail "no metrics during the run"
wait_for_truth "$T_DIR/a.ndjson" 60 || fail "backfill incomplete"
[ "$mid" -lt 6000 ] || t_log "(the backfill was done before the first scrape)"

# one late event: inside the overlap, behind the watermark
sim POST /_sim/events '{"count":1,"late_ms":20000}' >/dev/null
wait_for_truth "$T_DIR/a.ndjson" 30 || fail "the late event was not delivered"
sleep 1.5 # one more loop: the counters are published at the top of each loop
truth=$(wc -l <"$T_DIR/truth.ids")
expect_metric olagent_events_delivered_total "" "$truth"
expect_metric olagent_events_emitted_total 'output="stdout"' "$truth"
expect_metric olagent_late_events_total "" 1
before=$(stat_of 'd["requests"]["events"], d["rate_limit"]["remaining"]')
m_events=$(metric olagent_api_requests_total 'endpoint="events"')
m_remaining=$(metric olagent_rate_limit_remaining)
after=$(stat_of 'd["requests"]["events"], d["rate_limit"]["remaining"]')
# olsim counts a request when it arrives, the agent when the answer is in
[ "$m_events" -ge $((${before% *} - 1)) ] && [ "$m_events" -le "${after% *}" ] ||
    fail "events requests: agent $m_events, olsim ${before% *}..${after% *}"
[ "$m_remaining" -ge "${after#* }" ] && [ "$m_remaining" -le $((${before#* } + 1)) ] ||
    fail "rate-limit remaining: agent $m_remaining, olsim ${after#* }..${before#* }"
expect_metric olagent_api_requests_total 'status="5xx"' 2
expect_metric olagent_api_token_requests_total "" "$(stat_of 'd["requests"]["token"]')"
expect_metric olagent_output_up 'output="stdout"' 1
expect_metric olagent_api_token_valid "" 1
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/healthz")
[ "$code" = 200 ] || fail "/healthz answered $code"

# ---- 2: /readyz follows the token ------------------------------------------
t_log "/readyz while OneLogin rejects the token"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz")
[ "$code" = 200 ] || fail "/readyz answered $code before the fault"
# the next events call gets a 401 (token revoked); the fresh token request then
# stalls 3 s: the agent is without a valid token and without a recent poll
sim POST /_sim/faults '[{"kind":"stall","count":1,"path":"/auth/oauth2/v2/token"},
                        {"kind":"401","count":1,"path":"/api/1/events"}]' >/dev/null
seen_unready=0
end=$(t_deadline 10)
while t_before "$end"; do
    body=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz")
    case "$body" in
    *" 503") seen_unready=1 ;;
    *" 200") [ "$seen_unready" = 1 ] && break ;;
    esac
    sleep 0.1
done
[ "$seen_unready" = 1 ] || fail "/readyz never turned unready during the token outage"
[ "${body##* }" = 200 ] || fail "/readyz did not turn ready again: $body"
kill -0 "$AGENT_PID" || fail "the agent stopped on a single token rejection"
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/a.ndjson"
kill -TERM "$OLSIM_PID"
wait "$OLSIM_PID" 2>/dev/null

# ---- 3: SIGTERM during a backfill ------------------------------------------
t_log "SIGTERM during a backfill"
rm -rf "$T_DIR/state"
start_olsim --seed 6 --events 20000 --page-max 50 --span 12h
write_config "$T_DIR/b.yaml"
: >"$T_DIR/b.ndjson"
start_agent "$T_DIR/b.yaml" "$T_DIR/b.ndjson"
wait_for_count "$T_DIR/b.ndjson" 2000 60 || fail "the backfill did not start"
t0=$(date +%s%N)
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 0 ] || fail "exit $rc after SIGTERM"
# shutdown_timeout is 5 s in write_config; allow start-up noise on a busy machine
[ "$ms" -le 7000 ] || fail "SIGTERM took $ms ms (bound 5 s)"
lines=$(wc -l <"$T_DIR/b.ndjson")
[ "$lines" -lt 20000 ] || fail "the backfill was over before SIGTERM; nothing proven"
delivered=$("$OLAGENT" checkpoint show -c "$T_DIR/b.yaml" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])')
[ "$delivered" -eq "$lines" ] || fail "checkpoint says $delivered delivered, stdout has $lines"
t_log "stopped in $ms ms after $lines events; restarting"
start_agent "$T_DIR/b.yaml" "$T_DIR/b.ndjson"
wait_for_truth "$T_DIR/b.ndjson" 120 || fail "the restart did not finish the backfill"
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/b.ndjson"
kill -TERM "$OLSIM_PID"
wait "$OLSIM_PID" 2>/dev/null

# ---- 4: SIGHUP with a broken rule file -------------------------------------
t_log "SIGHUP with a broken rule file"
rm -rf "$T_DIR/state"
start_olsim --seed 8 --events 20 --span 1h
cat >"$T_DIR/rules.yaml" <<'YAML'
rules:
  - name: canary
    match: {field: id, exists: true}
    tags: [canary_v1]
YAML
write_config "$T_DIR/c.yaml" "rules: [$T_DIR/rules.yaml]
outputs:
  - type: stdout"
: >"$T_DIR/c.ndjson"
start_agent "$T_DIR/c.yaml" "$T_DIR/c.ndjson"
wait_for_truth "$T_DIR/c.ndjson" 30 || fail "events missing"
cat >"$T_DIR/rules.yaml" <<'YAML'
rules:
  - name: canary
    match: {field: ipaddr, regex: "(unclosed"}
    tags: [canary_v2]
YAML
kill -HUP "$AGENT_PID"
wait_until 10 grep -q 'rules not reloaded' "$T_DIR/agent.err"
grep 'rules not reloaded' "$T_DIR/agent.err" | grep -q 'rules.yaml:3: bad regex' ||
    fail "no file:line rejection logged: $(tail -2 "$T_DIR/agent.err")"
sim POST /_sim/events '{"count":3}' >/dev/null
wait_for_truth "$T_DIR/c.ndjson" 30 || fail "events after the bad reload missing"
kill -0 "$AGENT_PID" || fail "the agent died on a bad rule file"
sed -i 's/(unclosed/^[0-9]/; s/canary_v2/canary_v3/' "$T_DIR/rules.yaml"
kill -HUP "$AGENT_PID"
wait_until 10 grep -q 'rules reloaded' "$T_DIR/agent.err"
grep -q 'rules reloaded' "$T_DIR/agent.err" || fail "the fixed rule file was not loaded"
sim POST /_sim/events '{"count":3}' >/dev/null
wait_for_truth "$T_DIR/c.ndjson" 30 || fail "events after the good reload missing"
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/c.ndjson"
python3 - "$T_DIR/c.ndjson" <<'PY' || fail "tags do not follow the reloads"
import json, sys
tags = [json.loads(l)["olagent"].get("tags", []) for l in open(sys.argv[1])]
v = ["canary_v1" in t and 1 or "canary_v3" in t and 3 or 0 for t in tags]
assert v[:-3] == [1] * (len(v) - 3), v   # the old rules stayed through the bad file
assert v[-3:] == [3, 3, 3], v            # the fixed file took over
PY
echo "ops: metrics match olsim, readyz follows the token, SIGTERM bounded, SIGHUP safe"
