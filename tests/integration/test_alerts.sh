#!/usr/bin/env bash
# Stateful alerts end to end, with the default rule pack:
#  1. a backfill of an olsim tenant seeded with a brute-force burst, a spray
#     from one IP, an MFA-fatigue burst and a super-user grant (plus ordinary
#     background traffic) gives exactly brute_force_user, password_spray and
#     mfa_fatigue, once each, each over events that really share its key,
#     and the grant tagged privilege_grant (the pack's other alerts, e.g.
#     high_risk_failure_then_success, also fire on the background traffic:
#     the exact set is over the login-attack rules below, every alert names
#     delivered events);
#  2. the same bursts inserted live in two halves with a kill -9 of the agent
#     between them: the half-counted windows survive in the checkpoint, the
#     re-read overlap is not counted twice, and each alert fires exactly once.
# ctest-cost: 30
. "$(dirname "$0")/../lib/common.sh"

# check_alerts OUT EXPECTED...: EXPECTED are "rule=key" (key "*" = any);
# exactly these alerts of the login-attack rules (keyfield), once each,
# consistent with the events delivered; any alert names delivered events.
check_alerts() {
    python3 - "$@" <<'PY' || fail "alerts differ from the expected set"
import json, sys
out, expected = sys.argv[1], sys.argv[2:]
events, alerts = {}, []
for line in open(out, encoding="utf-8"):
    rec = json.loads(line)
    a = rec.get("olagent", {}).get("alert")
    if a is not None:
        alerts.append(a)
    else:
        events[rec["id"]] = rec
keyfield = {"brute_force_user": "user_id", "brute_force_ip": "ipaddr",
            "password_spray": "ipaddr", "mfa_fatigue": "user_id",
            "login_after_failures": "user_id"}
for a in alerts:
    for i in a["event_ids"]:
        if i not in events:
            sys.exit("alert %s names event %s that was not delivered" % (a["rule"], i))
alerts = [a for a in alerts if a["rule"] in keyfield]
got = sorted((a["rule"], str(a["key"])) for a in alerts)
want = sorted(tuple(e.split("=", 1)) for e in expected)
ok = len(got) == len(want) and all(
    g[0] == w[0] and (w[1] == "*" or g[1] == w[1]) for g, w in zip(got, want))
if not ok:
    sys.exit("alerts: got %s, want %s" % (got, want))
for a in alerts:
    ids = a["event_ids"]
    if a["count"] < a["threshold"] or len(ids) != len(set(ids)):
        sys.exit("alert %s: count %d over %d ids (%d distinct)" %
                 (a["rule"], a["count"], len(ids), len(set(ids))))
    for i in ids:
        ev = events.get(i)
        if ev is None:
            sys.exit("alert %s names event %s that was not delivered" % (a["rule"], i))
        if str(ev[keyfield[a["rule"]]]) != str(a["key"]):
            sys.exit("alert %s key %s but event %s has %s" %
                     (a["rule"], a["key"], i, ev[keyfield[a["rule"]]]))
    if a["rule"] == "password_spray":
        users = {events[i]["user_id"] for i in ids}
        if len(users) != len(ids):
            sys.exit("spray alert over repeated users")
print("alerts ok: " + ", ".join("%s=%s" % g for g in got))
PY
}

# delivered_count CONFIG: the checkpoint's count of delivered events.
delivered_count() {
    "$OLAGENT" checkpoint show -c "$1" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])'
}

RULES="rules: [$OLA_SOURCE_DIR/config/rules/default.yaml]
outputs:
  - type: stdout"

# ---- 1: scenario bursts in the history --------------------------------------
t_log "backfill of a tenant with four attack scenarios"
start_olsim --seed 11 --events 1500 --users 200 --span 24h --page-max 100 \
    --scenario bruteforce --scenario spray --scenario mfa_fatigue --scenario superuser
PAGE=100 write_config "$T_DIR/a.yaml" "$RULES"
: >"$T_DIR/a.ndjson"
start_agent "$T_DIR/a.yaml" "$T_DIR/a.ndjson"
wait_for_truth "$T_DIR/a.ndjson" 60 || fail "backfill incomplete"
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/a.ndjson"
check_alerts "$T_DIR/a.ndjson" brute_force_user='*' password_spray='*' mfa_fatigue='*'
python3 - "$T_DIR/a.ndjson" <<'PY' || fail "the super-user grant was not flagged"
import json, sys
grants = [json.loads(l) for l in open(sys.argv[1]) if '"event_type_id":72' in l]
assert grants and all("privilege_grant" in g["olagent"]["tags"] for g in grants), grants
PY
kill -TERM "$OLSIM_PID"
wait "$OLSIM_PID" 2>/dev/null

# ---- 2: live bursts cut by a kill -9 ----------------------------------------
t_log "live bursts with a kill -9 in the middle"
rm -rf "$T_DIR/state"
start_olsim --seed 12 --events 300 --users 60 --span 2h
write_config "$T_DIR/b.yaml" "$RULES"
: >"$T_DIR/b.ndjson"
start_agent "$T_DIR/b.yaml" "$T_DIR/b.ndjson"
wait_for_truth "$T_DIR/b.ndjson" 60 || fail "background backfill incomplete"

# users that exist (deleted ones answer 404)
users=()
for id in $(seq 40000001 40000400); do
    curl -s -f -o /dev/null "$OLSIM_URL/_sim/user/$id" && users+=("$id")
    [ "${#users[@]}" -ge 14 ] && break
done
[ "${#users[@]}" -ge 14 ] || fail "olsim has too few users"
victim=${users[0]}
fatigued=${users[1]}

# half_bursts FIRST: brute force (6 failures), spray (2 users), fatigue (3 rejections)
half_bursts() {
    local first=$1 k
    sim POST /_sim/events "{\"count\":6,\"event_type_id\":6,\"user_id\":$victim,\"ipaddr\":\"198.51.100.7\",\"interval_ms\":500}" >/dev/null
    for k in 0 1; do
        sim POST /_sim/events "{\"event_type_id\":6,\"user_id\":${users[$((first + k))]},\"ipaddr\":\"203.0.113.9\"}" >/dev/null
    done
    sim POST /_sim/events "{\"count\":3,\"event_type_id\":950,\"user_id\":$fatigued,\"ipaddr\":\"192.0.2.44\",\"interval_ms\":300}" >/dev/null
}

half_bursts 2
wait_for_truth "$T_DIR/b.ndjson" 30 || fail "first halves not delivered"
want=$(wc -l <"$T_DIR/truth.ids")
end=$(t_deadline 10)
until [ "$(delivered_count "$T_DIR/b.yaml")" -ge "$want" ] || ! t_before "$end"; do
    sleep 0.1
done
[ "$(delivered_count "$T_DIR/b.yaml")" -ge "$want" ] || fail "checkpoint did not reach the first halves"
grep '"alert"' "$T_DIR/b.ndjson" | grep -qE '"rule":"(brute_force_user|password_spray|mfa_fatigue)"' &&
    fail "an alert fired before any threshold was reached"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null

half_bursts 8
start_agent "$T_DIR/b.yaml" "$T_DIR/b.ndjson"
wait_for_truth "$T_DIR/b.ndjson" 30 || fail "second halves not delivered after the restart"
# the alert records ride in the batch that completes each burst
sleep 2
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/b.ndjson"
check_alerts "$T_DIR/b.ndjson" brute_force_user="$victim" password_spray=203.0.113.9 \
    mfa_fatigue="$fatigued"
echo "alerts: expected set exactly once, also across a kill -9 mid-burst"
