#!/usr/bin/env bash
# Stdout appended to a file (`>> file`, opened write-only) that a killed run
# left ending in a torn record: the agent's first bytes are a newline, so the
# fragment stays a line of its own and every record after it is a whole line.
# A file that ends cleanly gets no empty line. (A kill -9 can cut a write(2)
# at a page boundary; crash_outputs once found a record glued to such a
# fragment, lost to every line reader, because the last byte was read with
# pread on the write-only descriptor, which fails.)
# ctest-cost: 10
. "$(dirname "$0")/../lib/common.sh"

start_olsim --seed 8 --events 120 --span 1h
write_config "$T_DIR/olagent.yaml"

# lines: every line of FILE is a JSON object except the first N; prints the count
check_lines() {
    python3 - "$1" "$2" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
skip = int(sys.argv[2])
if lines[-1] != "":
    sys.exit("the file does not end with a newline")
for i, l in enumerate(lines[:-1]):
    if i < skip:
        continue
    if not l:
        sys.exit("line %d is empty" % (i + 1))
    try:
        json.loads(l)
    except ValueError:
        sys.exit("line %d is not JSON: %.80s" % (i + 1, l))
print(len(lines) - 1)
PY
}

# a torn fragment, no newline: it must stay alone on line 1
printf '{"id":100000001,"created_at":"2026-01-01T00:00:00.000Z","notes":"cut her' >"$T_DIR/out.ndjson"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_truth "$T_DIR/out.ndjson" 30 || fail "events missing"
stop_agent || fail "olagent exited $? after SIGTERM"
[ "$(head -n 1 "$T_DIR/out.ndjson")" = '{"id":100000001,"created_at":"2026-01-01T00:00:00.000Z","notes":"cut her' ] ||
    fail "the torn fragment is not a line of its own: $(head -c 160 "$T_DIR/out.ndjson")"
n=$(check_lines "$T_DIR/out.ndjson" 1) || fail "after a torn fragment"
[ "$n" -eq 121 ] || fail "$n lines, expected the fragment and 120 records"

# a clean end: the next run adds records, not an empty line
cp "$T_DIR/out.ndjson" "$T_DIR/before.ndjson"
sim POST /_sim/events '{"count": 5}' >/dev/null || fail "olsim did not add events"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_truth "$T_DIR/out.ndjson" 30 || fail "new events missing"
stop_agent || fail "olagent exited $? after SIGTERM (second run)"
n=$(check_lines "$T_DIR/out.ndjson" 1) || fail "after a clean end"
[ "$n" -eq 126 ] || fail "$n lines, expected 126"
echo "stdout appended: a torn fragment stays alone, a clean end gets no empty line"
