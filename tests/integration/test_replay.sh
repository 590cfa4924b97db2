#!/usr/bin/env bash
# `olagent replay` reads saved NDJSON through the same pipeline as `run`
# (rules, formats, outputs). Its reader takes large blocks and cuts batches of
# 1,000 lines, so this checks the edges of that: batches that end inside a
# block, a line longer than a block (100 KB), CRLF endings, blank and non-JSON
# lines (counted, not shipped), a last line without a newline, and input on
# stdin. Every event comes out once, in order, with its original bytes.
. "$(dirname "$0")/../lib/common.sh"

OLSIM_URL=http://127.0.0.1:1 # replay makes no API call
write_config "$T_DIR/olagent.yaml" "enrich: false
outputs:
  - type: file
    path: $T_DIR/out/events.ndjson
    compression: none"

python3 - "$T_DIR/in.ndjson" "$T_DIR/expect.ndjson" <<'PY'
import json, sys
inp, exp = open(sys.argv[1], "w", newline=""), open(sys.argv[2], "w")
for i in range(1, 3502):
    ev = {"id": i, "created_at": "2026-11-23T10:%02d:%02d.%03dZ" % (i // 3600 % 60, i // 60 % 60, i % 1000),
          "event_type_id": 5, "user_id": 40000000 + i % 97, "ipaddr": "10.0.%d.%d" % (i % 250, i % 7)}
    if i == 1500:
        ev["notes"] = "x" * 100000          # longer than a read block
    line = json.dumps(ev, separators=(",", ":"))
    exp.write(line + "\n")
    end = "\r\n" if i % 7 == 0 else "\n"
    if i == 3501:
        end = ""                            # the last line has no newline
    inp.write(line + end)
    if i % 500 == 0:
        inp.write("\n")                     # blank: skipped silently
    if i % 1000 == 0:
        inp.write("not json\n")             # counted as not an object
PY

# checks OUT against the expectation: ids in order, each record starts with
# the original bytes of its event (the olagent object is spliced in at the end)
check() {
    python3 - "$1" "$T_DIR/expect.ndjson" <<'PY' || fail "$2: records differ from the input"
import json, sys
out = [l.rstrip("\n") for l in open(sys.argv[1]) if '"id"' in l]
exp = [l.rstrip("\n") for l in open(sys.argv[2])]
events = [l for l in out if '"kind":"alert"' not in l]
assert len(events) == len(exp), (len(events), len(exp))
for got, want in zip(events, exp):
    assert got.startswith(want[:-1]), (got[:80], want[:80])
    assert json.loads(got)["id"] == json.loads(want)["id"]
PY
}

"$OLAGENT" replay -c "$T_DIR/olagent.yaml" "$T_DIR/in.ndjson" >"$T_DIR/replay.out" 2>"$T_DIR/replay.err" ||
    fail "replay exited $?: $(tail -3 "$T_DIR/replay.err")"
grep -q "replayed 35[0-9][0-9] records (3 lines refused, written to $T_DIR/state/dead-letter.ndjson; first: line 1003, not valid JSON" "$T_DIR/replay.err" ||
    fail "unexpected summary: $(grep replayed "$T_DIR/replay.err")"
check "$T_DIR/out/events.ndjson" file

# the same from stdin
rm -rf "$T_DIR/out"
"$OLAGENT" replay -c "$T_DIR/olagent.yaml" - <"$T_DIR/in.ndjson" >/dev/null 2>"$T_DIR/replay2.err" ||
    fail "replay from stdin exited $?: $(tail -3 "$T_DIR/replay2.err")"
check "$T_DIR/out/events.ndjson" stdin

# an empty input is no error and writes nothing
rm -rf "$T_DIR/out"
"$OLAGENT" replay -c "$T_DIR/olagent.yaml" /dev/null 2>"$T_DIR/replay3.err" ||
    fail "replay of nothing exited $?"
grep -q "replayed 0 records" "$T_DIR/replay3.err" || fail "empty input: $(cat "$T_DIR/replay3.err")"

# replay refuses what the live source refuses, through the same check, and
# dead-letters it as the source does: a raw NUL, an event over 8 MiB (a line
# of 9 MB, read without holding it all), a non-object, no id; an event with
# spaces is squeezed to one record as a page's would be
rm -rf "$T_DIR/out" "$T_DIR/state"
python3 - "$T_DIR/bad.ndjson" <<'PY'
import sys
c = '"created_at":"2026-11-23T10:00:00.000Z"'
with open(sys.argv[1], "wb") as f:
    f.write(b'{"id":1,%s}\n' % c.encode())
    f.write(b'{"id":2,%s,"notes":"a\x00b","mark":"nul-2"}\n' % c.encode())
    f.write(b'{"id":3,%s,"mark":"big-3","notes":"%s"}\n' % (c.encode(), b"x" * 9000000))
    f.write(b'[4,"not-object-4"]\n')
    f.write(b'{"created_at":"2026-11-23T10:00:00.000Z","mark":"no-id-5"}\n')
    f.write(b'  { "id" : 6 ,\t%s, "notes": "a b" }  \r\n' % c.encode())
    f.write(b'{"id":7,"user_id":5\x00,%s,"mark":"nul-7"}\n' % c.encode())
    f.write(b'{"id":8,%s}' % c.encode())
PY
"$OLAGENT" replay -c "$T_DIR/olagent.yaml" "$T_DIR/bad.ndjson" 2>"$T_DIR/replay4.err" ||
    fail "replay of refused lines exited $?: $(tail -3 "$T_DIR/replay4.err")"
grep -q "replayed 3 records (5 lines refused, written to $T_DIR/state/dead-letter.ndjson; first: line 2, contains a NUL byte)" \
    "$T_DIR/replay4.err" || fail "refused lines: $(cat "$T_DIR/replay4.err")"
python3 - "$T_DIR/out/events.ndjson" "$T_DIR/state/dead-letter.ndjson" <<'PY' || fail "refused lines: output or dead letters wrong"
import json, sys
out = [json.loads(l) for l in open(sys.argv[1], "rb")]
assert [e["id"] for e in out] == [1, 6, 8], [e["id"] for e in out]
six = [l for l in open(sys.argv[1]) if '"id":6' in l][0]
assert six.startswith('{"id":6,"created_at":"2026-11-23T10:00:00.000Z","notes":"a b"'), six[:80]
dead = [json.loads(l) for l in open(sys.argv[2], "rb")]
got = [(d["output"], d["reason"]) for d in dead]
want = [("replay", "contains a NUL byte"), ("replay", "larger than 8388608 bytes"),
        ("replay", "not an object"), ("replay", "no positive integer id"),
        ("replay", "contains a NUL byte")]
assert got == want, got
for d, mark in zip(dead, ["nul-2", "big-3", "not-object-4", "no-id-5", "nul-7"]):
    assert mark in d.get("record", ""), (mark, d.get("record", "")[:80])
assert len(dead[1]["record"]) == 8 * 1024 * 1024 + 1, len(dead[1]["record"])
PY
echo "replay: 3,501 events across block and batch edges, in order, bytes kept; refused lines dead-lettered as the source does"
