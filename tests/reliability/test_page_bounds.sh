#!/usr/bin/env bash
# A hostile page cannot stall the agent: everything an answer can make it do
# is bounded. Against badapi.py (Python 3, standard library):
#  - a page of 160,000 events when 50 were asked for is refused quickly, with
#    both counts in the log, and none of its events is delivered; once the API
#    behaves, the real events are delivered exactly once;
#  - SIGTERM while such a page is being handled: exit 0 within 2 s;
#  - SIGTERM in the middle of a slow transfer: exit 0 within 2 s;
#  - a 64 MiB body is cut at onelogin.max_response as soon as it crosses it:
#    the log gives the cap and the size, and the agent's peak RSS (VmHWM)
#    grows by well under 64 MiB;
#  - user lookups answered with 64 MiB bodies: enrichment degrades (events
#    go out marked "failed") without holding the events back, memory bounded.
# Every wait is a deadline in wall-clock seconds.
# ctest-cost: 80
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/badapi.sh"
# Peak RSS growth allowed over an agent that has started and is mid-transfer
# (BASE_HWM_KB, from case term_slow): well under the 64 MiB of a hostile body.
# A growth, not an absolute figure, so that a sanitizer build's larger base
# passes or fails on the same grounds; its quarantine (which keeps freed
# buffers resident) is turned off for these runs.
RSS_GROWTH_MAX_KB=$((24 * 1024))
BASE_HWM_KB=
STOP_MAX_S=2
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"

start_badapi --events 20

# stat NAME: a count from badapi's /_stats (0 when absent).
bstat() { api GET /_stats | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }

# wait_stat NAME MIN SECONDS: until badapi's count NAME reaches MIN.
wait_stat() {
    local deadline=$(($(date +%s) + $3))
    until [ "$(bstat "$1")" -ge "$2" ]; do
        kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died"
        [ "$(date +%s)" -lt "$deadline" ] || fail "badapi: $1 < $2 after $3 s"
        sleep 0.1
    done
}

# stop_within DIR SECONDS: SIGTERM; the agent must exit 0 within SECONDS
# (wall clock, whole seconds rounded up by the 0.1 s polling) and report no
# sanitizer error.
stop_within() {
    local t0 t1 rc deadline
    kill -0 "$AGENT_PID" 2>/dev/null || fail "$1: the agent died: $(tail -5 "$1/agent.err")"
    t0=$(date +%s.%N)
    kill -TERM "$AGENT_PID"
    deadline=$(($(date +%s) + $2 + 1))
    while kill -0 "$AGENT_PID" 2>/dev/null; do
        if [ "$(date +%s)" -gt "$deadline" ]; then
            kill -KILL "$AGENT_PID" 2>/dev/null
            fail "$1: still running more than $2 s after SIGTERM"
        fi
        sleep 0.05
    done
    t1=$(date +%s.%N)
    wait "$AGENT_PID"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$1: exit $rc after SIGTERM: $(tail -5 "$1/agent.err")"
    python3 -c "import sys; d = $t1 - $t0; print('stopped in %.2f s' % d); sys.exit(d > $2)" ||
        fail "$1: took more than $2 s to stop"
    if grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$1/agent.err"; then
        fail "$1: sanitizer report: $(grep -E -m3 "Sanitizer|runtime error" "$1/agent.err")"
    fi
}

# vmhwm_kb: the agent's peak resident set so far.
vmhwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$AGENT_PID/status"; }

# check_ids DIR progress|final: the delivered ids against badapi's /_expect:
# nothing from a hostile page (ids >= 500001), everything expected, once.
cat >"$T_DIR/check.py" <<'PY'
import collections, json, sys
d, phase = sys.argv[1], sys.argv[2]
want = set(json.load(open(d + "/expect.json"))["deliver"])
ids = []
with open(d + "/out.ndjson", "rb") as f:
    for l in f:
        if l.strip():
            ids.append(json.loads(l)["id"])
hostile = [i for i in ids if i >= 500001]
if hostile:
    print("delivered %d events of a hostile page, e.g. %s" % (len(hostile), hostile[:3]))
    sys.exit(2)
if phase == "progress":
    sys.exit(0 if want <= set(ids) else 1)
dups = [i for i, n in collections.Counter(ids).items() if n > 1]
missing = sorted(want - set(ids))
if dups or missing or set(ids) - want:
    print("dups %s missing %s extra %s" % (dups[:5], missing[:5], sorted(set(ids) - want)[:5]))
    sys.exit(1)
print("%d events delivered once" % len(ids))
PY

# wait_delivered DIR SECONDS: until every expected event is out (none hostile).
wait_delivered() {
    local deadline=$(($(date +%s) + $2)) rc
    api GET /_expect >"$1/expect.json" || fail "badapi /_expect"
    while :; do
        python3 "$T_DIR/check.py" "$1" progress >"$1/check.out" 2>&1
        rc=$?
        [ "$rc" -eq 0 ] && return 0
        [ "$rc" -eq 2 ] && fail "$1: $(cat "$1/check.out")"
        kill -0 "$AGENT_PID" 2>/dev/null || fail "$1: the agent died: $(tail -5 "$1/agent.err")"
        [ "$(date +%s)" -lt "$deadline" ] || fail "$1: not everything delivered within $2 s"
        sleep 0.2
    done
}

mode() { api POST "/_mode/$1" >/dev/null || fail "badapi refused mode $1"; }

# 1. 160,000 events for limit=50: refused quickly with the counts, nothing of
#    it delivered; then the real pages, exactly once.
case_oversize() {
    local d="$T_DIR/oversize" t0
    mkdir -p "$d"
    t_log "oversize page"
    mode oversize
    badapi_conf "$d" "" "enrich: false"
    t0=$(date +%s)
    run_agent "$d"
    wait_log "$d" "events request failed: page: 160000 events in data, more than the limit of 50 asked for; none delivered \(HTTP 200, [0-9]+ bytes\); retrying with backoff" 30
    t_log "refused after $(($(date +%s) - t0)) s"
    wait_stat requests 2 30 # refused and asked again: retried, not stuck
    [ ! -s "$d/out.ndjson" ] || fail "oversize: delivered from the oversize page: $(head -c 200 "$d/out.ndjson")"
    mode good
    wait_delivered "$d" 40
    stop_within "$d" "$STOP_MAX_S"
    python3 "$T_DIR/check.py" "$d" final || fail "oversize: see $d"
}

# 2. SIGTERM while a huge page is being handled (just after it was sent).
case_term_huge() {
    local d="$T_DIR/term-huge"
    mkdir -p "$d"
    t_log "SIGTERM mid-page"
    mode oversize
    badapi_conf "$d" "" "enrich: false"
    run_agent "$d"
    wait_stat events_sent 1 30
    sleep 0.3
    stop_within "$d" "$STOP_MAX_S"
    [ ! -s "$d/out.ndjson" ] || fail "term-huge: delivered from the oversize page"
}

# 3. SIGTERM in the middle of a slow transfer (the timeout is far away).
case_term_slow() {
    local d="$T_DIR/term-slow"
    mkdir -p "$d"
    t_log "SIGTERM mid-transfer"
    mode slow
    badapi_conf "$d" "  timeout: 60s" "enrich: true"
    run_agent "$d"
    wait_stat slow_started 1 30
    sleep 1
    BASE_HWM_KB=$(vmhwm_kb)
    t_log "peak RSS ${BASE_HWM_KB} kB (started, mid-transfer)"
    stop_within "$d" "$STOP_MAX_S"
}

# check_growth WHAT: the agent's peak RSS grew by less than RSS_GROWTH_MAX_KB.
check_growth() {
    local hwm
    hwm=$(vmhwm_kb)
    t_log "$1: peak RSS ${hwm} kB, $((hwm - BASE_HWM_KB)) kB over the base"
    [ $((hwm - BASE_HWM_KB)) -lt "$RSS_GROWTH_MAX_KB" ] ||
        fail "$1: peak RSS ${hwm} kB, more than ${RSS_GROWTH_MAX_KB} kB over the base ${BASE_HWM_KB} kB"
}

# 4. A 64 MiB body: cut at the cap, memory bounded, retried; then good pages.
case_big64() {
    local d="$T_DIR/big64"
    [ -n "$BASE_HWM_KB" ] || case_term_slow
    mkdir -p "$d"
    t_log "64 MiB body"
    mode big64
    badapi_conf "$d" "  max_response: 4MiB" "enrich: false"
    run_agent "$d"
    wait_log "$d" "events request failed: HTTP 200, body over the cap of 4194304 bytes \(aborted at [0-9]+ bytes\); retrying with backoff" 30
    wait_stat requests 3 30 # retried with backoff, each cut at the cap
    check_growth "big64 after $(bstat requests) answers of 64 MiB"
    mode good
    wait_delivered "$d" 40
    stop_within "$d" "$STOP_MAX_S"
    python3 "$T_DIR/check.py" "$d" final || fail "big64: see $d"
}

# 5. User lookups answered with 64 MiB bodies: events go out on time, marked.
case_users_big() {
    local d="$T_DIR/users-big"
    [ -n "$BASE_HWM_KB" ] || case_term_slow
    mkdir -p "$d"
    t_log "64 MiB user answers"
    mode users_big
    badapi_conf "$d" "  max_response: 1MiB" "enrich: true"
    run_agent "$d"
    wait_delivered "$d" 40
    wait_stat users 1 5
    wait_log "$d" "lookups failed \(GET /api/2/users/[0-9]+: HTTP 200, body over the cap of 1048576 bytes" 10
    check_growth "users-big after $(bstat users) user answers of 64 MiB"
    stop_within "$d" "$STOP_MAX_S"
    python3 "$T_DIR/check.py" "$d" final || fail "users-big: see $d"
    python3 - "$d/out.ndjson" <<'PY' || fail "users-big: events not marked as failed enrichment"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
marked = [e for e in evs if e.get("olagent", {}).get("enrichment") == "failed"]
assert marked, "no event with olagent.enrichment=failed"
PY
}

# PAGE_BOUNDS_CASES: a subset to run (names as above), when looking into one.
for c in ${PAGE_BOUNDS_CASES:-oversize term_huge term_slow big64 users_big}; do
    "case_$c"
done
echo "page bounds: oversize pages refused, big bodies cut, SIGTERM obeyed within ${STOP_MAX_S} s"
