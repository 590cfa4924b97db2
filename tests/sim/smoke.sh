#!/bin/bash
# Smoke test for olsim: starts it on port 0, exercises the token, a full paging through a
# window with a small page size (with a late insert in the middle), the rate limit, every
# fault kind and a user 404, then stops it and checks the truth file. HTTP goes through
# curl; JSON checks are collected and run by a single python3 at the end (python3 starts
# slowly on a busy machine). Usage: smoke.sh path/to/olsim. Exits 0 on success, else 1
# after listing what failed.
set -u

OLSIM=${1:?usage: smoke.sh path/to/olsim}
HERE=$(cd "$(dirname "$0")" && pwd)
CATALOG=$HERE/../../config/event-types.json
TMP=$(mktemp -d)
PID=
FAILED=0

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    FAILED=$((FAILED + 1))
}
ok() {
    echo "ok: $*"
}

# jcheck NAME EXPR LABEL: keeps a copy of NAME's body; at the end EXPR must hold, with
# d = that body parsed as JSON (None if it does not parse) and raw = its bytes.
NCHECK=0
jcheck() {
    NCHECK=$((NCHECK + 1))
    cp "$TMP/$1.body" "$TMP/check.$NCHECK"
    printf '%s\t%s\t%s\n' "$TMP/check.$NCHECK" "${2//$'\n'/ }" "$3" >>"$TMP/checks"
}
# jstr NAME KEY: the first "KEY":"string" or "KEY":number in NAME's body.
jstr() {
    grep -o "\"$2\":\(\"[^\"]*\"\|[0-9-]*\)" "$TMP/$1.body" | head -1 | cut -d: -f2- |
        tr -d '"'
}
# req NAME CURL-ARGS...: body to $TMP/NAME.body, headers to $TMP/NAME.hdr; prints status.
req() {
    local name=$1
    shift
    curl -s -m 20 -o "$TMP/$name.body" -D "$TMP/$name.hdr" -w '%{http_code}' "$@"
}
# hdr NAME HEADER: a response header's value.
hdr() {
    grep -i "^$2:" "$TMP/$1.hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'
}
token() {
    req tok -u olsim-client:olsim-secret -H 'Content-Type: application/json' \
        -d '{"grant_type":"client_credentials"}' "$B/auth/oauth2/v2/token" >/dev/null
    jstr tok access_token
}
ms() {
    echo $(($(date +%s%N) / 1000000))
}

T0=$(ms)
"$OLSIM" --port-file "$TMP/port" --seed 7 --users 40 --events 600 --span 1h \
    --page-max 7 --catalog "$CATALOG" --stall 1s --truth "$TMP/truth.ndjson" \
    --request-log "$TMP/requests.ndjson" --scenario bruteforce --scenario spray \
    --scenario mfa_fatigue --scenario superuser --scenario privilege \
    >"$TMP/stdout" 2>"$TMP/stderr" &
PID=$!
END=$(($(ms) + 10000)) # a deadline in wall-clock time, not a count of rounds
until [ -s "$TMP/port" ] || [ "$(ms)" -gt "$END" ]; do
    sleep 0.1
done
PORT=$(cat "$TMP/port" 2>/dev/null)
if [ -z "$PORT" ]; then
    echo "FAIL: olsim did not write its port file"
    cat "$TMP/stderr"
    exit 1
fi
B=http://127.0.0.1:$PORT
grep -q "^olsim listening on http://127.0.0.1:$PORT$" "$TMP/stdout" || fail "listening line"

# ---- token ----
TOK=$(token)
[ ${#TOK} -eq 64 ] || fail "token: access_token is not 64 hex"
jcheck tok 'list(d) == ["access_token", "created_at", "expires_in", "refresh_token",
    "token_type", "account_id"] and d["token_type"] == "bearer" and d["expires_in"] == 36000' \
    "token: body shape"
[ -z "$(hdr tok X-RateLimit-Limit)" ] || fail "token: carries rate-limit headers"
[ -n "$(hdr tok Date)" ] || fail "token: no Date header"
[ "$(token)" = "$TOK" ] || fail "token: a second call did not return the same token"
s=$(req bad -u olsim-client:wrong -d '{"grant_type":"client_credentials"}' \
    "$B/auth/oauth2/v2/token")
[ "$s" = 401 ] || fail "token: bad secret gave $s"
jcheck bad 'd == {"status": {"error": True, "code": 401, "type": "Unauthorized",
    "message": "Authentication Failure"}}' "token: 401 body"
s=$(req bad -H 'Authorization: client_id:olsim-client, client_secret:olsim-secret' \
    -d '{"grant_type":"password"}' "$B/auth/oauth2/v2/token")
[ "$s" = 400 ] || fail "token: bad grant_type gave $s"
s=$(req bad "$B/api/1/events")
[ "$s" = 401 ] && [ -z "$(hdr bad X-RateLimit-Limit)" ] || fail "events without a token: $s"
AUTH="Authorization: Bearer $TOK"
s=$(req bad -H "$AUTH" "$B/api/1/events?after_cursor=bm9wZQ")
[ "$s" = 400 ] || fail "invalid cursor gave $s"
ok "token"

# ---- paging: a window to its end, with a late insert in the middle ----
curl -s "$B/_sim/truth/ids" >"$TMP/truth_ids_before"
SINCE=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
UNTIL=$(date -u -d '+5 minutes' +%Y-%m-%dT%H:%M:%S.000Z)
URL="$B/api/1/events?since=$SINCE&until=$UNTIL&sort=%2Bid&limit=50"
pages=0
LATE_ID=
while [ -n "$URL" ]; do
    s=$(req page -H "$AUTH" "$URL")
    if [ "$s" != 200 ]; then
        fail "paging: status $s"
        break
    fi
    pages=$((pages + 1))
    [ "$(hdr page X-RateLimit-Remaining)" -gt 0 ] || fail "paging: no rate-limit headers"
    cp "$TMP/page.body" "$TMP/pages.$pages"
    URL=$(jstr page next_link)
    if [ "$pages" = 3 ]; then
        curl -s -XPOST "$B/_sim/events" -d '{"count":1,"late_ms":60000}' >"$TMP/late.body"
        LATE_ID=$(grep -o '[0-9][0-9]*' "$TMP/late.body")
    fi
done
[ "$pages" -gt 80 ] || fail "paging: only $pages pages"
ok "paging: $pages pages (ids checked at the end), late insert $LATE_ID"

# ---- other routes and sorts ----
s=$(req p2 -H "$AUTH" "$B/api/1/events?sort=-created_at&limit=5")
[ "$s" = 200 ] || fail "sort=-created_at gave $s"
jcheck p2 'len(d["data"]) == 5 and [e["created_at"] for e in d["data"]] ==
    sorted((e["created_at"] for e in d["data"]), reverse=True)' "sort=-created_at"
s=$(req types -H "$AUTH" "$B/api/1/events/types")
[ "$s" = 200 ] || fail "event types gave $s"
jcheck types 'len(d["data"]) == 539 and d["data"][4] == {"id": 5,
    "name": "USER_LOGGED_INTO_ONELOGIN", "description": "%user% logged into OneLogin"}' \
    "event types"
UID1=$(jstr p2 user_id)
n=0
for p in "api/2/users/$UID1" "api/1/users/$UID1" "api/1/users/$UID1/roles" \
    "api/2/roles/700001" "api/1/roles/700001" "auth/rate_limit"; do
    n=$((n + 1))
    s=$(req look$n -H "$AUTH" "$B/$p")
    [ "$s" = 200 ] || [ "$s" = 404 ] || fail "$p gave $s"
done
jcheck look3 'd["status"]["code"] in (200, 404) and (d["status"]["code"] == 404 or
    isinstance(d["data"][0], list))' "user roles nested"
jcheck look4 'list(d) == ["id", "name", "admins", "apps", "users"] and d["name"] == "Employee"' \
    "role v2"
ok "lookups"

# ---- user 404 ----
s=$(req u -H "$AUTH" "$B/api/2/users/1")
[ "$s" = 404 ] || fail "v2 404 gave $s"
jcheck u 'd["statusCode"] == 404 and d["name"] == "NotFoundError"' "v2 404 body"
curl -s "$B/_sim/truth" >"$TMP/truth_now"
VICTIM=$(grep -m1 '"event_type_id":5,' "$TMP/truth_now" | grep -o '"user_id":[0-9]*' | cut -d: -f2)
s=$(req u -H "$AUTH" "$B/api/2/users/$VICTIM")
if [ "$s" = 200 ]; then
    curl -s -XPOST "$B/_sim/events" -d "{\"event_type_id\":17,\"user_id\":$VICTIM}" >/dev/null
    s=$(req u -H "$AUTH" "$B/api/2/users/$VICTIM")
    [ "$s" = 404 ] || fail "deleted user v2 gave $s"
    s=$(req u1 -H "$AUTH" "$B/api/1/users/$VICTIM")
    [ "$s" = 404 ] || fail "deleted user v1 gave $s"
    jcheck u1 'd["status"]["type"] == "not found" and d["status"]["code"] == 404' \
        "v1 404 body"
fi
ok "user 404"

# ---- faults ----
fault() { # fault KIND: queue one fault of KIND on /api/1/events
    curl -s -XPOST "$B/_sim/faults" -d "{\"kind\":\"$1\",\"count\":1}" >/dev/null
}
EV="$B/api/1/events?limit=6"
fault 429
s=$(req f429 -H "$AUTH" "$EV")
[ "$s" = 429 ] && [ "$(hdr f429 X-RateLimit-Remaining)" = 0 ] || fail "fault 429 gave $s"
fault 429html
s=$(req fhtml -H "$AUTH" "$EV")
[ "$s" = 429 ] && [ "$(wc -c <"$TMP/fhtml.body")" = 117 ] &&
    [ -z "$(hdr fhtml X-RateLimit-Limit)" ] && hdr fhtml Content-Type | grep -q text/html ||
    fail "fault 429html"
fault ratelimit400
s=$(req f400 -H "$AUTH" "$EV")
[ "$s" = 400 ] || fail "fault ratelimit400 gave $s"
jcheck f400 'd["status"]["message"] == "rate_limit_exceeded"' "fault ratelimit400 body"
for k in 500 502 503; do
    fault $k
    s=$(req f -H "$AUTH" "$EV")
    [ "$s" = $k ] || fail "fault $k gave $s"
done
fault truncate
s=$(req ftrunc -H "$AUTH" "$EV")
[ "$s" = 200 ] && [ "$(hdr ftrunc Content-Length)" = "$(wc -c <"$TMP/ftrunc.body")" ] ||
    fail "fault truncate: $s"
jcheck ftrunc 'd is None and raw.startswith(b"{\"status\"")' "fault truncate body"
fault garbage
s=$(req fgarb -H "$AUTH" "$EV")
[ "$s" = 200 ] || fail "fault garbage gave $s"
jcheck fgarb 'd is None' "fault garbage body"
req plain -H "$AUTH" "$EV" >/dev/null
fault unsorted
s=$(req funs -H "$AUTH" "$EV")
[ "$s" = 200 ] || fail "fault unsorted gave $s"
cp "$TMP/plain.body" "$TMP/unsorted.plain"
jcheck funs 'sorted(e["id"] for e in d["data"]) == sorted(e["id"] for e in
    json.load(open(TMP + "/unsorted.plain"))["data"])' "fault unsorted: other events"
fault short
s=$(req fshort -H "$AUTH" "$EV")
[ "$s" = 200 ] || fail "fault short gave $s"
jcheck fshort 'len(d["data"]) < 6 and d["pagination"]["after_cursor"] is not None' "fault short"
fault reset
curl -s -m 10 -o /dev/null -H "$AUTH" "$EV"
rc=$?
[ "$rc" = 52 ] || [ "$rc" = 56 ] || fail "fault reset: curl exit $rc"
fault stall
start=$(ms)
req stall -H "$AUTH" "$EV" >"$TMP/stall.code" &
STALLER=$!
sleep 0.2
s=$(req f -H "$AUTH" "$EV")
mid=$(ms)
wait $STALLER
end=$(ms)
[ "$s" = 200 ] && [ $((mid - start)) -lt 900 ] || fail "a stall blocked another request"
[ "$(cat "$TMP/stall.code")" = 200 ] && [ $((end - start)) -ge 950 ] ||
    fail "fault stall did not hold the response"
fault 401
s=$(req f -H "$AUTH" "$EV")
[ "$s" = 401 ] || fail "fault 401 gave $s"
s=$(req f -H "$AUTH" "$EV")
[ "$s" = 401 ] || fail "revoked token still accepted ($s)"
TOK2=$(token)
[ -n "$TOK2" ] && [ "$TOK2" != "$TOK" ] || fail "no new token after a 401 fault"
AUTH="Authorization: Bearer $TOK2"
s=$(req f -H "$AUTH" "$EV")
[ "$s" = 200 ] || fail "new token refused ($s)"
curl -s -XPOST "$B/_sim/faults" -d '[{"kind":"500","count":2,"path":"/api/2/"}]' >/dev/null
s=$(req f -H "$AUTH" "$EV")
[ "$s" = 200 ] || fail "a /api/2/ fault hit /api/1/events"
s=$(req f -H "$AUTH" "$B/api/2/users/$UID1")
[ "$s" = 500 ] || fail "a /api/2/ fault missed /api/2/users ($s)"
curl -s -XDELETE "$B/_sim/faults" >/dev/null
ok "faults"

# ---- rate limit ----
curl -s -XPOST "$B/_sim/rate_limit" -d '{"limit":3,"window_ms":60000}' >/dev/null
for i in 1 2 3; do
    s=$(req rl -H "$AUTH" "$EV")
    [ "$s" = 200 ] && [ "$(hdr rl X-RateLimit-Remaining)" = $((3 - i)) ] &&
        [ "$(hdr rl X-RateLimit-Limit)" = 3 ] || fail "rate limit call $i: $s"
done
s=$(req rl -H "$AUTH" "$B/api/2/users/$UID1")
[ "$s" = 429 ] && [ "$(hdr rl X-RateLimit-Remaining)" = 0 ] &&
    [ -n "$(hdr rl X-RateLimit-Reset)" ] || fail "over the limit gave $s"
s=$(req rlb -H "$AUTH" "$B/auth/rate_limit")
[ "$s" = 200 ] || fail "/auth/rate_limit gave $s"
jcheck rlb 'd["data"]["X-RateLimit-Remaining"] == 0 and d["data"]["X-RateLimit-Limit"] == 3' \
    "/auth/rate_limit body"
curl -s -XPOST "$B/_sim/rate_limit" -d '{"limit":5000,"window_ms":3600000}' >/dev/null
ok "rate limit"

# ---- stats, request log ----
req stats "$B/_sim/stats" >/dev/null
jcheck stats 'd["requests"]["events"] > 80 and d["status"]["429"] >= 3' "stats"
req reqs "$B/_sim/requests" >/dev/null
jcheck reqs 'all(r["path"].startswith(("/api", "/auth")) for r in d) and len(d) > 90' \
    "request log"

# ---- stop: exit 0 and the truth file ----
curl -s "$B/_sim/truth/ids" >"$TMP/truth_ids"
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
[ "$rc" = 0 ] || fail "olsim exited $rc on SIGTERM"
[ "$(wc -l <"$TMP/requests.ndjson")" -gt 90 ] || fail "request log file"
if [ -s "$TMP/stderr" ]; then
    echo "olsim stderr:"
    cat "$TMP/stderr"
    fail "olsim wrote to stderr"
fi

# ---- every JSON check, in one python3 ----
python3 - "$TMP" "$pages" "$LATE_ID" <<'EOF' || FAILED=$((FAILED + 1))
import json, sys
TMP, pages, late = sys.argv[1], int(sys.argv[2]), int(sys.argv[3] or 0)
bad = 0

def report(cond, label):
    global bad
    if not cond:
        bad += 1
        print("FAIL:", label)

for line in open(TMP + "/checks"):
    path, expr, label = line.rstrip("\n").split("\t")
    raw = open(path, "rb").read()
    try:
        d = json.loads(raw)
    except ValueError:
        d = None
    try:
        cond = eval(expr)
    except Exception as e:
        cond = False
        label += " (%r)" % e
    report(cond, label)

# Paging: every truth id exactly once, plus the late insert; pages well formed.
truth = [int(x) for x in open(TMP + "/truth_ids_before").read().split()]
seen = []
for i in range(1, pages + 1):
    d = json.load(open("%s/pages.%d" % (TMP, i)))
    ids = [e["id"] for e in d["data"]]
    report(len(ids) <= 7, "paging: page %d larger than --page-max" % i)
    report(ids == sorted(ids), "paging: page %d not in id order" % i)
    p = d["pagination"]
    report((p["after_cursor"] is None) == (p["next_link"] is None), "paging: cursor/link")
    report(list(d) == ["status", "pagination", "data"], "paging: envelope keys")
    seen += ids
report(len(seen) == len(set(seen)), "paging: an id was served twice")
report(sorted(seen) == sorted(truth + [late]), "paging: missing or extra ids")
e = json.load(open(TMP + "/pages.1"))["data"][0]
report(list(e)[:5] == ["id", "created_at", "account_id", "user_id", "event_type_id"]
       and len(e) == 35, "event field set")

# The truth file written on SIGTERM matches /_sim/truth/ids just before.
ids = [json.loads(l)["id"] for l in open(TMP + "/truth.ndjson")]
report(ids == [int(x) for x in open(TMP + "/truth_ids").read().split()], "truth file")
sys.exit(1 if bad else 0)
EOF

echo "smoke: $(($(ms) - T0)) ms"
if [ "$FAILED" -gt 0 ]; then
    echo "smoke: $FAILED check(s) failed"
    exit 1
fi
echo "smoke: all checks passed"
exit 0
