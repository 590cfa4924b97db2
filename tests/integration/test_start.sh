#!/usr/bin/env bash
# `start: now` means now: the agent delivers what is created after it started,
# and no late sweep reaches back into the history before it, however wide the
# overlap. The start is kept in the checkpoint, so a restart keeps it (and
# catches up on what happened while it was down); `checkpoint set --since T`
# moves it to T.
# ctest-cost: 25
. "$(dirname "$0")/../lib/common.sh"

# five minutes of history, then five live events a second; an overlap of ten
# minutes would sweep the whole history on the first late sweep
start_olsim --seed 11 --events 400 --span 5m --rate 5 --page-max 50
START=now OVERLAP=10m SWEEP=1s write_config "$T_DIR/olagent.yaml"
: >"$T_DIR/out.ndjson"
# live events (records with an event type: no alert) in FILE: at least N
t_live_events() {
    local n
    n=$(grep -c '"event_type_id"' "$1" 2>/dev/null)
    [ "${n:-0}" -ge "$2" ]
}
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
sleep 5
# each run delivers some live events before it stops, however slow the machine
wait_until 60 t_live_events "$T_DIR/out.ndjson" 8 ||
    fail "no 8 live events delivered in the first run"
stop_agent || fail "olagent exited $? after SIGTERM"
sleep 1 # events created while it is down come after the restart
first=$(grep -c '"event_type_id"' "$T_DIR/out.ndjson")
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
sleep 4
wait_until 60 t_live_events "$T_DIR/out.ndjson" $((first + 8)) ||
    fail "no 8 more live events delivered in the second run"
stop_agent || fail "olagent exited $? after SIGTERM (second run)"
stopped_ms=$(date +%s%3N)
sim GET /_sim/truth >"$T_DIR/truth.ndjson"
"$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" >"$T_DIR/show.json" ||
    fail "checkpoint show failed"

python3 - "$T_DIR" <<'PY' || fail "start: now was not kept"
import datetime, json, re, sys

d = sys.argv[1]

def ms(iso):
    t = datetime.datetime.strptime(iso.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(t.timestamp() * 1000)

log = open(d + "/agent.err").read()
m = re.search(r"starting from (\S+) \(now\)", log)
if not m:
    sys.exit("no 'starting from' line in the first run's log")
start = ms(m.group(1))
truth = [json.loads(l) for l in open(d + "/truth.ndjson") if l.strip()]
got = [json.loads(l) for l in open(d + "/out.ndjson") if l.strip()]
ids = [e["id"] for e in got]
early = [e["id"] for e in got if ms(e["created_at"]) < start]
if early:
    sys.exit("%d events created before the start were delivered (first: %s)"
             % (len(early), early[:3]))
if len(ids) != len(set(ids)):
    sys.exit("duplicates across the restart")
# everything created from the start up to the saved watermark went out, across
# the restart (the watermark, not the stop time: a slow machine lags more)
shown = json.load(open(d + "/show.json"))
wm = ms(shown.get("watermark") or "1970-01-01T00:00:00.000Z")
want = {e["id"] for e in truth if start <= ms(e["created_at"]) <= wm}
missing = want - set(ids)
if len(want) < 10 or missing:
    sys.exit("live events up to the watermark %s: %d expected, %d missing"
             % (shown.get("watermark"), len(want), len(missing)))
if ms(shown.get("start") or "1970-01-01T00:00:00.000Z") != start:
    sys.exit("the checkpoint does not hold the start: %r" % shown.get("start"))
history = sum(1 for e in truth if ms(e["created_at"]) < start)
print("start kept: %d live events, none of the %d before the start" % (len(ids), history))
PY

# checkpoint set --since moves the start: a run from there reads nothing before
# it (its first window is a sweep, `overlap` wide, over history never delivered;
# what was delivered after it is skipped as seen)
since_ms=$((stopped_ms - 4000))
since=$(python3 -c 'import datetime, sys
t = datetime.datetime.fromtimestamp(int(sys.argv[1]) / 1000, datetime.timezone.utc)
print(t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000))' "$since_ms")
"$OLAGENT" checkpoint set -c "$T_DIR/olagent.yaml" --since "$since" >/dev/null ||
    fail "checkpoint set failed"
: >"$T_DIR/out2.ndjson"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out2.ndjson"
wait_for_count "$T_DIR/out2.ndjson" 5 60 || fail "nothing delivered after checkpoint set"
stop_agent || fail "olagent exited $? after SIGTERM (third run)"
python3 - "$T_DIR" "$since_ms" <<'PY' || fail "checkpoint set --since did not move the start"
import datetime, json, sys

d, since = sys.argv[1], int(sys.argv[2])

def ms(iso):
    t = datetime.datetime.strptime(iso.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(t.timestamp() * 1000)

got = [json.loads(l) for l in open(d + "/out2.ndjson") if l.strip()]
early = [e["id"] for e in got if ms(e["created_at"]) < since]
if early:
    sys.exit("%d events before --since delivered" % len(early))
if not got:
    sys.exit("nothing delivered after checkpoint set")
print("checkpoint set --since: %d events, none before it" % len(got))
PY
echo "start: now kept across a restart and moved by checkpoint set"
