#!/usr/bin/env bash
# olsim --tenants: three tenants on one port, each isolated. t2 has its own
# fault rate (every API call faulted), t3 its own rate-limit budget, t1 a
# fault queued at start for itself only (--tenant-fault); t1 is
# byte-identical to a single-tenant olsim of the same seed. Proves: each token
# is routed to (and sees) its own tenant only, a forged token is refused, a
# wrong secret is refused on one tenant while the others work, ids are
# disjoint, fault rate and rate limit touch only their tenant, and every
# control endpoint acts on the tenant ?tenant= names (events, faults, stalls,
# truth, truth/ids, stats, request log, rate limit, revoke), and --truth writes
# FILE and FILE.tK. JSON checks run in one python3 at the end.
. "$(dirname "$0")/../lib/common.sh"

NOW=2024-05-01T12:00:00Z
GEN=(--seed 9 --users 30 --events 300 --span 2h --now "$NOW")
start_olsim --tenants 3 "${GEN[@]}" --tenant-fault-rate t2:1 --tenant-rate-limit t3:6 \
    --tenant-fault t1:503:1:/api/1/roles/ --stall 60s --truth "$T_DIR/truth" --request-log "$T_DIR/requests.ndjson"
B=$OLSIM_URL
NCHECK=0

# req NAME CURL-ARGS...: body to $T_DIR/NAME.body, headers to NAME.hdr; prints status.
req() {
    local name=$1
    shift
    curl -s -m 20 -o "$T_DIR/$name.body" -D "$T_DIR/$name.hdr" -w '%{http_code}' "$@"
}
# check NAME EXPR LABEL: at the end EXPR must hold, d = NAME's body as JSON.
check() {
    NCHECK=$((NCHECK + 1))
    cp "$T_DIR/$1.body" "$T_DIR/check.$NCHECK"
    printf '%s\t%s\t%s\n' "$T_DIR/check.$NCHECK" "${2//$'\n'/ }" "$3" >>"$T_DIR/checks"
}
# token K [ID SECRET]: tenant tK's token (its own credentials unless given).
token() {
    local id secret
    read -r id secret < <(olsim_tenant_creds "$1")
    req "tok$1" -u "${2:-$id}:${3:-$secret}" -d '{"grant_type":"client_credentials"}' \
        "$B/auth/oauth2/v2/token" >/dev/null
    sed -n 's/.*"access_token":"\([0-9a-f]*\)".*/\1/p' "$T_DIR/tok$1.body"
}

# ---- tokens: one per tenant, a wrong secret refused on one tenant only ----
T1=$(token 1)
T2=$(token 2)
T3=$(token 3)
[ ${#T1} -eq 64 ] && [ ${#T2} -eq 64 ] && [ ${#T3} -eq 64 ] || fail "tokens: $T1 $T2 $T3"
[ "$T1" != "$T2" ] && [ "$T2" != "$T3" ] || fail "two tenants share a token"
read -r ID1 SECRET1 < <(olsim_tenant_creds 1)
read -r ID2 _ < <(olsim_tenant_creds 2)
s=$(req bad -u "$ID2:$SECRET1" -d '{"grant_type":"client_credentials"}' \
    "$B/auth/oauth2/v2/token")
[ "$s" = 401 ] || fail "t2 with t1's secret: $s"
check bad 'd == {"status": {"error": True, "code": 401, "type": "Unauthorized",
    "message": "Authentication Failure"}}' "wrong secret: the usual 401 body"
s=$(req bad2 -u "$ONELOGIN_CLIENT_ID:$ONELOGIN_CLIENT_SECRET" \
    -d '{"grant_type":"client_credentials"}' "$B/auth/oauth2/v2/token")
[ "$s" = 401 ] || fail "the unsuffixed credentials with 3 tenants: $s"
[ "$(token 1)" = "$T1" ] || fail "t1's token changed after a wrong secret on t2"
s=$(req ev1 -H "Authorization: Bearer $T1" "$B/api/1/events?limit=50")
[ "$s" = 200 ] || fail "t1 after a wrong secret on t2: $s"
s=$(req ev3 -H "Authorization: Bearer $T3" "$B/api/1/events?limit=50")
[ "$s" = 200 ] || fail "t3 after a wrong secret on t2: $s"

# ---- each token sees its own tenant only ----
for k in 1 2 3; do
    sim GET "/_sim/truth/ids?tenant=t$k" >"$T_DIR/ids$k.body" || fail "truth/ids t$k"
    sim GET "/_sim/truth?tenant=t$k" >"$T_DIR/truth$k.body" || fail "truth t$k"
done
check ev1 '[e["id"] for e in d["data"]] == ids(1)[:50]' "t1's token reads t1's events"
check ev3 '[e["id"] for e in d["data"]] == ids(3)[:50]' "t3's token reads t3's events"
U2=$(sed -n '1s/.*"user_id":\([0-9]*\).*/\1/p' "$T_DIR/truth2.body")
s=$(req u2 -H "Authorization: Bearer $T1" "$B/api/2/users/$U2")
[ "$s" = 404 ] || fail "t1's token read t2's user $U2 ($s)"
s=$(req u2 -H "Authorization: Bearer $T2" "$B/auth/rate_limit")
[ "$s" = 200 ] || fail "t2's token on /auth/rate_limit: $s"
FORGED=${T1:0:60}0002
s=$(req forged -H "Authorization: Bearer $FORGED" "$B/api/1/events")
[ "$s" = 401 ] || fail "t1's token relabelled as t2's was accepted ($s)"

# ---- t1 is what a single-tenant olsim of the same seed is ----
"$OLSIM" --port-file "$T_DIR/one.port" --catalog "$OLA_SOURCE_DIR/config/event-types.json" \
    "${GEN[@]}" >/dev/null 2>"$T_DIR/one.err" &
ONE_PID=$!
T_PIDS+=("$ONE_PID")
wait_until 15 test -s "$T_DIR/one.port" || fail "the single-tenant olsim did not start"
curl -s -f "http://127.0.0.1:$(cat "$T_DIR/one.port")/_sim/truth" >"$T_DIR/one.truth" ||
    fail "single-tenant truth"
cmp -s "$T_DIR/one.truth" "$T_DIR/truth1.body" ||
    fail "t1's truth differs from a single-tenant olsim's"
kill -TERM "$ONE_PID"

# ---- the fault rate of t2 touches t2 only, the budget of t3 t3 only ----
for k in 1 2 3; do
    tok=T$k
    for i in 1 2 3 4; do
        curl -s -m 20 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer ${!tok}" \
            "$B/api/1/events?limit=5" >>"$T_DIR/codes$k"
    done
done
[ "$(grep -c '^200$' "$T_DIR/codes1")" = 4 ] || fail "t1 was faulted: $(tr '\n' ' ' <"$T_DIR/codes1")"
# t3: 6 calls in its budget, 1 (ev3) + 4 so far
[ "$(grep -c '^200$' "$T_DIR/codes3")" = 4 ] || fail "t3 refused in its budget: $(tr '\n' ' ' <"$T_DIR/codes3")"
s=$(req rl3 -H "Authorization: Bearer $T3" "$B/api/1/events?limit=5")
[ "$s" = 200 ] || fail "t3's 6th call: $s"
s=$(req rl3 -H "Authorization: Bearer $T3" "$B/api/1/events?limit=5")
[ "$s" = 429 ] || fail "t3 over its budget of 6: $s"
s=$(req rl1 -H "Authorization: Bearer $T1" "$B/api/1/events?limit=5")
[ "$s" = 200 ] || fail "t1 after t3 ran out: $s"
for k in 1 2 3; do
    sim GET "/_sim/stats?tenant=t$k" >"$T_DIR/stats$k.body" || fail "stats t$k"
    sim GET "/_sim/requests?tenant=t$k" >"$T_DIR/reqs$k.body" || fail "requests t$k"
done
check reqs2 'api(d) and all(r["fault"] is not None for r in api(d))' "t2: every API call faulted"
check reqs1 'api(d) and all(r["fault"] is None for r in d)' "t1: no fault"
check reqs3 'api(d) and all(r["fault"] is None for r in d)' "t3: no fault"
check reqs1 'all(r["tenant"] == "t1" for r in d)' "t1's request log is t1's"
check reqs2 'all(r["tenant"] == "t2" for r in d)' "t2's request log is t2's"
check stats3 'd["rate_limit"]["limit"] == 6 and d["rate_limit"]["remaining"] == 0 and
    d["status"]["429"] == 1' "t3's meter"
check stats1 'd["rate_limit"]["limit"] == 5000 and d["rate_limit"]["remaining"] == 4993 and
    "429" not in d["status"] and d["status"]["404"] == 1' "t1's meter"

# ---- control endpoints per tenant ----
sim GET "/_sim/faults?tenant=t1" >"$T_DIR/fq1a.body" || fail "faults t1"
sim GET "/_sim/faults?tenant=t3" >"$T_DIR/fq3a.body" || fail "faults t3"
check fq1a 'd == [{"kind": "503", "count": 1, "path": "/api/1/roles/"}]' "--tenant-fault t1"
check fq3a 'd == []' "--tenant-fault t1 left t3 alone"
s=$(req ro1 -H "Authorization: Bearer $T1" "$B/api/1/roles/700001")
[ "$s" = 503 ] || fail "t1's fault from --tenant-fault: $s"
sim POST "/_sim/events?tenant=t3" '{"count":2}' >"$T_DIR/ins3.body" || fail "insert t3"
check ins3 'len(d["ids"]) == 2 and min(d["ids"]) > max(ids(3)) and
    2000000000 < min(d["ids"]) < 3000000000' "events inserted into t3"
sim GET "/_sim/stats?tenant=t3" >"$T_DIR/stats3b.body"
sim GET "/_sim/stats?tenant=t1" >"$T_DIR/stats1b.body"
check stats3b 'd["events"] == len(ids(3)) + 2' "t3 has the 2 new events"
check stats1b 'd["events"] == len(ids(1))' "t1 does not"
sim POST "/_sim/rate_limit?tenant=t3" '{"limit":100,"window_ms":60000}' >/dev/null ||
    fail "rate_limit t3"
s=$(req rl3b -H "Authorization: Bearer $T3" "$B/api/1/events?limit=5")
[ "$s" = 200 ] && grep -qi '^X-RateLimit-Limit: 100' "$T_DIR/rl3b.hdr" ||
    fail "t3 after its rate limit was reset: $s"
grep -qi '^X-RateLimit-Limit: 5000' "$T_DIR/rl1.hdr" || fail "t1's limit moved"
sim POST "/_sim/faults?tenant=t1" '{"kind":"503","count":1}' >/dev/null || fail "queue t1"
sim GET "/_sim/faults?tenant=t1" >"$T_DIR/fq1.body"
sim GET "/_sim/faults?tenant=t3" >"$T_DIR/fq3.body"
check fq1 'len(d) == 1 and d[0]["kind"] == "503"' "t1's fault queue"
check fq3 'd == []' "t3's fault queue"
s=$(req f3 -H "Authorization: Bearer $T3" "$B/api/1/events?limit=5")
[ "$s" = 200 ] || fail "t1's queued fault hit t3: $s"
s=$(req f1 -H "Authorization: Bearer $T1" "$B/api/1/events?limit=5")
[ "$s" = 503 ] || fail "t1's queued fault: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' "$B/_sim/stats?tenant=t4")
[ "$s" = 404 ] || fail "?tenant=t4 of 3: $s"

# A stall on t1 holds t1's answer while t3 and t1's control routes answer.
sim POST "/_sim/faults?tenant=t1" '{"kind":"stall","count":1}' >/dev/null || fail "stall t1"
curl -s -m 120 -o /dev/null -H "Authorization: Bearer $T1" "$B/api/1/events?limit=5" &
STALLED=$!
T_PIDS+=("$STALLED")
t_stall_taken() { sim GET "/_sim/faults?tenant=t1" | grep -q '^\[\]$'; }
wait_until 20 t_stall_taken || fail "the stall was never taken"
s=$(req st3 -H "Authorization: Bearer $T3" "$B/api/1/events?limit=5")
[ "$s" = 200 ] || fail "t3 during t1's stall: $s"
sim GET "/_sim/stats?tenant=t1" >/dev/null || fail "t1's control routes during its stall"
kill -0 "$STALLED" 2>/dev/null || fail "t1's stalled answer ended before its 60 s"
kill "$STALLED"

# Revoking t1's token leaves t3's.
sim POST "/_sim/token/revoke?tenant=t1" >/dev/null || fail "revoke t1"
s=$(req rv1 -H "Authorization: Bearer $T1" "$B/auth/rate_limit")
[ "$s" = 401 ] || fail "t1's revoked token: $s"
s=$(req rv3 -H "Authorization: Bearer $T3" "$B/auth/rate_limit")
[ "$s" = 200 ] || fail "t3's token after t1's revoke: $s"

# ---- stop: --truth FILE and FILE.tK, the request log file ----
for k in 1 2 3; do
    sim GET "/_sim/truth/ids?tenant=t$k" >"$T_DIR/end$k.ids"
    sim GET "/_sim/requests?tenant=t$k" >"$T_DIR/endreqs$k.body"
done
kill -TERM "$OLSIM_PID"
wait "$OLSIM_PID" || fail "olsim exited $? on SIGTERM"
[ ! -s "$T_DIR/olsim.err" ] || fail "olsim stderr: $(cat "$T_DIR/olsim.err")"

python3 - "$T_DIR" <<'EOF' || fail "JSON checks (above)"
import json, sys
T = sys.argv[1]
bad = 0

def ids(k):
    return [int(x) for x in open("%s/ids%d.body" % (T, k)).read().split()]

def api(reqs):  # the authorized API calls (a 401 draws no fault)
    return [r for r in reqs if r["path"].startswith("/api/") and r["status"] != 401]

def report(cond, label):
    global bad
    if not cond:
        bad += 1
        print("FAIL:", label)

for line in open(T + "/checks"):
    path, expr, label = line.rstrip("\n").split("\t")
    try:
        d = json.load(open(path))
        cond = eval(expr)
    except Exception as e:
        cond = False
        label += " (%r)" % e
    report(cond, label)

# Disjoint ids: each tenant in its own billion (events, users).
for k in (1, 2, 3):
    lo = (k - 1) * 10**9
    report(all(lo + 10**8 < i < lo + 10**9 for i in ids(k)), "t%d's event ids" % k)
    users = {json.loads(l)["user_id"] for l in open("%s/truth%d.body" % (T, k))}
    report(all(lo + 4 * 10**7 < u < lo + 10**8 for u in users), "t%d's user ids" % k)
report(not (set(ids(1)) & set(ids(2)) or set(ids(2)) & set(ids(3))), "ids overlap")

# --truth FILE (t1) and FILE.t2, FILE.t3 hold what truth/ids said at the end.
for k, name in ((1, "truth"), (2, "truth.t2"), (3, "truth.t3")):
    got = [json.loads(l)["id"] for l in open("%s/%s" % (T, name))]
    want = [int(x) for x in open("%s/end%d.ids" % (T, k)).read().split()]
    report(got == want, "--truth file %s" % name)

# --request-log: one file, each line tagged with its tenant, as many as each ring.
lines = [json.loads(l) for l in open(T + "/requests.ndjson")]
for k in (1, 2, 3):
    ring = json.load(open("%s/endreqs%d.body" % (T, k)))
    mine = [l for l in lines if l["tenant"] == "t%d" % k]
    report(len(mine) == len(ring) > 0, "t%d: %d log lines, %d in its ring"
           % (k, len(mine), len(ring)))
sys.exit(1 if bad else 0)
EOF
echo "tenants: $NCHECK checks and the id, truth and log checks passed"
