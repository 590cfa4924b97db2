#!/usr/bin/env bash
# The output result codes through the live pipeline (olsim -> `olagent run`):
#   1. A record an output refuses for good does not stop the stream. Two syslog
#      outputs over TCP to a real rsyslogd with `oversize: dead_letter` and a
#      max_size the longest olsim events exceed: one names its `dead_letter:`
#      file, the other names none and gets the default file beside the
#      checkpoint. Each refused record is in its file with the reason and the
#      event id, olagent_output_dead_letters_total{output} counts it, every
#      other event reached rsyslogd exactly once, a stdout output got all of
#      them, and the checkpoint moved past the refused ones.
#   2. FATAL: a Kafka output whose fixed topic does not exist (the broker
#      answers UNKNOWN_TOPIC_OR_PART, as one with auto-creation off does):
#      `olagent run` exits 1 within a deadline with one line naming the
#      output, and no checkpoint covers the undelivered events.
#   3. FATAL: stdout whose reader went away (EPIPE): exit 1, not a wedge.
# ctest-cost: 55
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rsyslog.sh"
. "$(dirname "$0")/../lib/kafka.sh"

HOST=ola-results
MAX=2300

delivered_count() {
    "$OLAGENT" checkpoint show -c "$1" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])' 2>/dev/null
}

# ---- 1: refused records go to the dead-letter files; the stream goes on -----
t_log "1: oversize records dead-lettered, with and without a dead_letter file"
rs_setup
rs_start
start_olsim --seed 7 --events 300 --span 2h --users 50
sim GET /_sim/truth >"$T_DIR/truth.ndjson" || fail "cannot read olsim's truth"
write_config "$T_DIR/a.yaml" "outputs:
  - type: syslog
    name: siem
    transport: tcp
    port: $RS_TCP
    hostname: $HOST
    app_name: ola-dla
    max_size: $MAX
    oversize: dead_letter
    dead_letter: $T_DIR/dl/siem.ndjson
  - type: syslog
    name: siem_default
    transport: tcp
    port: $RS_TCP
    hostname: $HOST
    app_name: ola-dlb
    max_size: $MAX
    oversize: dead_letter
  - type: stdout"
sed -i 's/^metrics: false$//' "$T_DIR/a.yaml"
printf 'metrics:\n  listen: 127.0.0.1:0\n' >>"$T_DIR/a.yaml"
: >"$T_DIR/a.out"
start_agent "$T_DIR/a.yaml" "$T_DIR/a.out"
metrics_port
total=$(wc -l <"$T_DIR/truth.ndjson")
deadline=$(($(date +%s) + 120))
while [ "$(delivered_count "$T_DIR/a.yaml")" != "$total" ]; do
    kill -0 "$AGENT_PID" 2>/dev/null || fail "olagent exited: $(tail -3 "$T_DIR/agent.err")"
    [ "$(date +%s)" -lt "$deadline" ] ||
        fail "the checkpoint never covered all $total events (wedged?): $(delivered_count "$T_DIR/a.yaml") delivered; $(grep -m3 'fail\|refused' "$T_DIR/agent.err")"
    sleep 0.5
done
DL_A=$T_DIR/dl/siem.ndjson
DL_B=$T_DIR/state/dead-letter.siem_default.ndjson
[ -s "$DL_A" ] || fail "nothing in $DL_A: $(grep -m3 'refused\|dead' "$T_DIR/agent.err")"
[ -s "$DL_B" ] || fail "no default dead-letter file beside the checkpoint: $(ls "$T_DIR/state")"
n_a=$(wc -l <"$DL_A")
n_b=$(wc -l <"$DL_B")
[ "$(metric olagent_output_dead_letters_total 'output="siem"')" = "$n_a" ] ||
    fail "dead-letter metric for siem is not $n_a"
[ "$(metric olagent_output_dead_letters_total 'output="siem_default"')" = "$n_b" ] ||
    fail "dead-letter metric for siem_default is not $n_b"
# every letter: the output, an oversize reason, the event id, the whole message;
# the ids not dead-lettered are what rsyslogd must hold
for out in siem siem_default; do
    f=$DL_A
    [ "$out" = siem_default ] && f=$DL_B
    python3 - "$f" "$out" "$T_DIR/truth.ndjson" "$MAX" "$T_DIR/$out.truth" "$T_DIR/$out.dead" <<'PY' ||
import json, re, sys
path, out, truth, mx, keep, dead = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
ids = []
for line in open(path, encoding="utf-8"):
    d = json.loads(line)
    assert d["output"] == out, d["output"]
    m = re.match(r"oversize: (\d+) bytes > max_size (\d+)$", d["reason"])
    assert m and int(m.group(1)) > mx and int(m.group(2)) == mx, d["reason"]
    assert isinstance(d.get("id"), int), "no id: %r" % line[:200]
    assert len(d["record"].encode()) == int(m.group(1)), "not the whole message"
    assert '"id":%d,' % d["id"] in d["record"], "the record is not event %d" % d["id"]
    ids.append(d["id"])
assert len(ids) == len(set(ids)), "a record dead-lettered twice"
with open(keep, "w") as k, open(dead, "w") as dd:
    for line in open(truth, encoding="utf-8"):
        i = json.loads(line)["id"]
        (dd if i in ids else k).write(line if i not in ids else "%d\n" % i)
left = set(ids) - {json.loads(l)["id"] for l in open(truth, encoding="utf-8")}
assert not left, "dead letters of events olsim never had: %r" % left
print("%s: %d dead letters" % (out, len(ids)))
PY
        fail "$out: bad dead letters in $f"
done
[ "$n_a" -lt "$total" ] || fail "every event was oversize: nothing proven"
# rsyslogd: every event not refused, exactly once (nothing else)
rs_wait "$RS_DIR/tcp-ola-dla.log" $((total - n_a)) 30 || true
rs_wait "$RS_DIR/tcp-ola-dlb.log" $((total - n_b)) 30 || true
rs_check "$RS_DIR/tcp-ola-dla.log" --app ola-dla --host "$HOST" --truth "$T_DIR/siem.truth" ||
    fail "siem: rsyslogd did not get every other event exactly once"
rs_check "$RS_DIR/tcp-ola-dlb.log" --app ola-dlb --host "$HOST" \
    --truth "$T_DIR/siem_default.truth" ||
    fail "siem_default: rsyslogd did not get every other event exactly once"
# the stdout output was not held back by the syslog refusals: all, once
assert_exact "$T_DIR/a.out"
# the checkpoint moved past the refused records: its watermark is beyond them
python3 - "$T_DIR/truth.ndjson" "$T_DIR/siem.dead" \
    "$("$OLAGENT" checkpoint show -c "$T_DIR/a.yaml")" <<'PY' || fail "the checkpoint did not move past the dead letters"
import json, sys
dead = {int(l) for l in open(sys.argv[2])}
cp = json.loads(sys.argv[3])
last = max(json.loads(l)["created_at"] for l in open(sys.argv[1]) if json.loads(l)["id"] in dead)
assert cp["watermark"] > last, (cp["watermark"], last)
PY
stop_agent || fail "olagent exited $? after SIGTERM"
rs_stop
kill -TERM "$OLSIM_PID"
wait "$OLSIM_PID" 2>/dev/null
t_log "1: $n_a + $n_b dead letters, every other event delivered, checkpoint past them"

# ---- 2: FATAL: a Kafka topic that does not exist --------------------------
t_log "2: Kafka output, fixed topic that does not exist: exit 1"
start_olsim --seed 8 --events 120 --span 1h --users 20
start_mock t.events:1 t.missing:1
mock topic_error t.missing 3
rm -rf "$T_DIR/state"
write_config "$T_DIR/k.yaml" "outputs:
  - type: kafka
    name: siem
    brokers: $BOOTSTRAP
    topic: t.missing
    properties:
      topic.metadata.propagation.max.ms: \"1000\"
  - type: stdout"
: >"$T_DIR/agent.err"
start=$(date +%s)
timeout 60 "$OLAGENT" run -c "$T_DIR/k.yaml" >"$T_DIR/k.out" 2>"$T_DIR/k.err"
rc=$?
took=$(($(date +%s) - start))
[ "$rc" -ne 124 ] || fail "olagent still running after 60 s: a wedge, not a stop ($(tail -2 "$T_DIR/k.err"))"
[ "$rc" -eq 1 ] || fail "exit $rc, want 1: $(tail -3 "$T_DIR/k.err")"
n=$(grep -c 'output siem (kafka) can never deliver, stopping: kafka: .*t\.missing' "$T_DIR/k.err")
[ "$n" = 1 ] || fail "want one line naming the output and the topic: $(tail -3 "$T_DIR/k.err")"
if [ -e "$T_DIR/state/checkpoint.json" ]; then
    d=$(delivered_count "$T_DIR/k.yaml")
    [ "${d:-0}" = 0 ] || fail "the checkpoint covers $d events the topic never got"
fi
t_log "2: exit 1 after $took s: $(grep 'can never deliver' "$T_DIR/k.err" | sed 's/^.*pipeline: //')"

# ---- 3: FATAL: stdout's reader went away ----------------------------------
t_log "3: stdout into a pipe whose reader left: exit 1"
rm -rf "$T_DIR/state"
write_config "$T_DIR/p.yaml"
timeout 60 bash -c '"$1" run -c "$2" 2>"$3" | head -c 1 >/dev/null; exit "${PIPESTATUS[0]}"' _ \
    "$OLAGENT" "$T_DIR/p.yaml" "$T_DIR/p.err"
rc=$?
[ "$rc" -ne 124 ] || fail "olagent still running 60 s after its reader left"
[ "$rc" -eq 1 ] || fail "exit $rc, want 1: $(tail -3 "$T_DIR/p.err")"
grep -q 'output stdout (stdout) can never deliver, stopping: write: Broken pipe' "$T_DIR/p.err" ||
    fail "no reason line: $(tail -3 "$T_DIR/p.err")"
echo "results: refusals dead-lettered and counted, the stream went on; FATAL exits 1"
