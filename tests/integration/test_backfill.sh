#!/usr/bin/env bash
# Backfill of 20,000 events: the ids printed equal olsim's ground truth, each
# exactly once, every line is the event's bytes as olsim served them, and a
# SIGTERM afterwards exits 0 with the checkpoint at the head.
. "$(dirname "$0")/../lib/common.sh"

start_olsim --seed 7 --events 20000 --span 6h --users 300
write_config "$T_DIR/olagent.yaml"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_count "$T_DIR/out.ndjson" 20000 180 || fail "only $(wc -l <"$T_DIR/out.ndjson") of 20000 events after 180 s"
sleep 2
stop_agent || fail "olagent exited $? after SIGTERM"
assert_exact "$T_DIR/out.ndjson"

# fidelity: each line is byte for byte the event as olsim serves it (no olagent
# object without enrichment or rules)
sim GET /_sim/truth >"$T_DIR/truth.ndjson"
python3 - "$T_DIR/truth.ndjson" "$T_DIR/out.ndjson" <<'PY' || fail "records differ from olsim's bytes"
import json, sys
truth = {}
for line in open(sys.argv[1], "rb"):
    line = line.rstrip(b"\n")
    if line:
        truth[json.loads(line)["id"]] = line
bad = 0
for line in open(sys.argv[2], "rb"):
    line = line.rstrip(b"\n")
    ev = json.loads(line)
    expect = truth[ev["id"]]
    if b'"olagent":' in line:
        # rules may splice an olagent object in before the closing brace
        cut = line.rfind(b',"olagent":')
        line = line[:cut] + b"}"
    if line != expect:
        bad += 1
        if bad < 3:
            print("differs:", line[:200], expect[:200], file=sys.stderr)
sys.exit(1 if bad else 0)
PY
"$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" >"$T_DIR/cp.json" || fail "checkpoint show failed"
grep -q '"watermark"' "$T_DIR/cp.json" || fail "checkpoint has no watermark: $(cat "$T_DIR/cp.json")"
echo "backfill: 20000 events exactly once"
