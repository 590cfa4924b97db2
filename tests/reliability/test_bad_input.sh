#!/usr/bin/env bash
# Bad input from the API: for each way an events answer can be broken, the
# agent says what is wrong, does not crash (exit 0 on SIGTERM, no sanitizer
# report), loses nothing and delivers nothing twice: every valid event around
# the bad input reaches the output exactly once, every malformed element is in
# the dead-letter file (each line valid JSON), and a page that stays broken
# never lets the checkpoint move past it. The API is badapi.py (Python 3,
# standard library), which knows what a correct agent must deliver (/_expect).
# ctest-cost: 60
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/badapi.sh"

start_badapi --events 20

# check.py MODE DIR final|progress: compares the output and the dead-letter file
# with what badapi expects. progress: exit 0 once everything is there.
cat >"$T_DIR/check.py" <<'PY'
import base64, collections, json, sys
mode, d, phase = sys.argv[1], sys.argv[2], sys.argv[3]
expect = json.load(open(d + "/expect.json"))
def lines(path):
    try:
        with open(path, "rb") as f:
            return [l for l in f.read().split(b"\n") if l.strip()]
    except FileNotFoundError:
        return []
ids = []
for l in lines(d + "/out.ndjson"):
    ev = json.loads(l.decode("utf-8"))  # strict: every record valid UTF-8 JSON
    ids.append(ev["id"])
dead = []
for l in lines(d + "/state/dead-letter.ndjson"):
    rec = json.loads(l.decode("utf-8"))
    assert rec["output"] == "source" and rec["reason"], rec
    raw = rec["record"].encode("utf-8") if "record" in rec else base64.b64decode(
        rec["record_base64"])
    dead.append(raw)
want = set(expect["deliver"])
have_all = want <= set(ids) and all(any(m.encode() in r for r in dead)
                                    for m in expect["dead"])
if phase == "progress":
    sys.exit(0 if have_all else 1)
if mode == "huge":  # the events went out whole: about 50 MB of them
    size = sum(len(l) for l in lines(d + "/out.ndjson"))
    if size < 50 * 1000 * 1000:
        print("huge: only %d bytes delivered" % size)
        sys.exit(1)
dups = [i for i, n in collections.Counter(ids).items() if n > 1]
missing = sorted(want - set(ids))
extra = sorted(set(ids) - want)
lost = [m for m in expect["dead"] if not any(m.encode() in r for r in dead)]
problems = []
if missing: problems.append("lost %d events: %s" % (len(missing), missing[:5]))
if extra: problems.append("delivered what is not an event: %s" % extra[:5])
if dups: problems.append("delivered twice: %s" % dups[:5])
if lost: problems.append("malformed elements not in the dead-letter file: %s" % lost)
if len(dead) < len(expect["dead"]):
    problems.append("%d dead letters, want %d" % (len(dead), len(expect["dead"])))
if problems:
    print("%s: %s" % (mode, "; ".join(problems)))
    sys.exit(1)
print("%s: %d events delivered once, %d dead letters" % (mode, len(ids), len(dead)))
PY

# agent_conf DIR: a config for badapi with the state in DIR/state (TIMEOUT:
# one request's timeout, 3s by default; the huge case's pages are ~50 MB).
agent_conf() {
    badapi_conf "$1" "  timeout: ${TIMEOUT:-3s}
  max_response: 64MiB"
}

# stop_checked DIR: SIGTERM; the agent must exit 0 with no sanitizer report.
stop_checked() {
    local rc
    kill -0 "$AGENT_PID" 2>/dev/null || fail "$1: the agent died: $(tail -5 "$1/agent.err")"
    kill -TERM "$AGENT_PID"
    wait "$AGENT_PID"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$1: exit $rc after SIGTERM: $(tail -5 "$1/agent.err")"
    if grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$1/agent.err"; then
        fail "$1: sanitizer report: $(grep -E -m3 "Sanitizer|runtime error" "$1/agent.err")"
    fi
}

# case MODE LOG_REGEX [SECONDS]: one agent run against a mode until everything
# expected arrived; the log must say what was wrong (LOG_REGEX).
case_mode() {
    local mode=$1 pattern=$2 secs=${3:-40} d="$T_DIR/$1" end ok=0
    mkdir -p "$d"
    api POST "/_mode/$mode" >/dev/null || fail "badapi refused mode $mode"
    api GET /_expect >"$d/expect.json" || fail "badapi /_expect"
    agent_conf "$d"
    t_log "$mode"
    run_agent "$d"
    end=$(t_deadline "$secs")
    while :; do
        if python3 "$T_DIR/check.py" "$mode" "$d" progress 2>/dev/null; then
            ok=1
            break
        fi
        kill -0 "$AGENT_PID" 2>/dev/null || break
        t_before "$end" || break
        sleep 0.2
    done
    stop_checked "$d"
    python3 "$T_DIR/check.py" "$mode" "$d" final || {
        T_FAILED=1
        fail "$mode: see $d"
    }
    [ "$ok" -eq 1 ] || fail "$mode: not everything arrived within ${secs}s"
    grep -Eq "$pattern" "$d/agent.err" ||
        fail "$mode: the log does not say '$pattern': $(grep -E 'warn|error' "$d/agent.err" | head -3)"
}

case_mode good "tailing"
case_mode malformed "events request failed: page: truncated or malformed data array \(HTTP 200, 93 bytes\); retrying with backoff, window kept"
# ~50 MB pages: Python serves them slowly on a loaded machine, so the request
# timeout is long enough for one whole page (the 3 s of the other cases made
# the agent give up on every try until the machine was quiet enough)
TIMEOUT=60s case_mode huge "tailing" 180
case_mode nested "1 malformed event\(s\) in a page.*maximum parsing depth"
case_mode utf8 "1 malformed event\(s\) in a page, written to .*dead-letter.ndjson; first: not valid JSON"
case_mode nul "2 malformed event\(s\) in a page"
case_mode types "14 malformed event\(s\) in a page"
case_mode stall "events request failed: HTTP 200, timeout after 3s; retrying with backoff, window kept"
# 64 MiB before the cap: the same slow Python, so the same long request timeout
# (with 3 s a loaded machine timed out first and the log named the timeout)
TIMEOUT=60s case_mode endless "events request failed: HTTP 200, body over the cap of 67108864 bytes" 180
# a status error whose message holds CR LF, a forged log line and terminal
# escapes: the log line keeps it on one line, escaped
case_mode errmsg 'page: status error: quota\\r\\n2026-01-01T00:00:00.000Z error source: FORGED line\\x1b\]0;pwned\\x07'
if grep -q "^2026-01-01T00:00:00.000Z error source: FORGED" "$T_DIR/errmsg/agent.err"; then
    fail "errmsg: the API's message forged a log line"
fi
if LC_ALL=C grep -q "$(printf '[\033\007\r]')" "$T_DIR/errmsg/agent.err"; then
    fail "errmsg: a control character from the API reached the log"
fi

# A page that stays broken: nothing is delivered and the checkpoint never moves
# past it; once the API is fixed, a restart delivers everything once.
d="$T_DIR/forever"
mkdir -p "$d"
api POST /_mode/malformed_forever >/dev/null
api GET /_expect >"$d/expect.json"
agent_conf "$d"
t_log "malformed_forever"
run_agent "$d"
sleep 6
stop_checked "$d"
[ ! -s "$d/out.ndjson" ] || fail "forever: delivered from a broken page: $(head -c 200 "$d/out.ndjson")"
grep -q "page: .*truncated" "$d/agent.err" || fail "forever: no clear error in the log"
python3 - "$d/state/checkpoint.json" "$d/expect.json" <<'PY' || fail "forever: the checkpoint moved past undelivered events"
import json, os, sys
path = sys.argv[1]
if not os.path.exists(path):
    sys.exit(0)  # nothing committed at all
cp = json.load(open(path))
assert cp.get("watermark") is None, "watermark set: %s" % cp.get("watermark")
w = cp.get("window")
assert w is None or w.get("cursor") is None, "cursor moved: %s" % w
PY
api POST /_mode/good >/dev/null
api GET /_expect >"$d/expect.json"
run_agent "$d"
WAIT_EVERY=0.2 wait_until 30 python3 "$T_DIR/check.py" forever "$d" progress 2>/dev/null
stop_checked "$d"
python3 "$T_DIR/check.py" forever "$d" final || fail "forever: after the fix"
echo "bad input: every case reported, nothing lost, nothing twice, no crash"
