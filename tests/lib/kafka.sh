# kafka.sh - a Kafka cluster for the tests, and an independent consumer.
#
# Sourced after common.sh (it uses T_DIR, T_PIDS, fail, sim and truth_ids).
# The cluster is librdkafka's mock brokers in their own process
# (tests/tools/ola_kafka_mock), so a test can kill the agent alone and take
# brokers down and up through the mock's command pipe; what reached the
# topics is read back with kcat, a client that shares no code with olagent.
#   start_mock TOPIC:PARTITIONS...   3 brokers, leaders on broker 1; BOOTSTRAP
#   mock CMD                         "down 1", "up 1", "down all", "rtt 1 150"
#   kafka_outputs TOPIC [with_stdout]  an outputs section for write_config
#   consume TOPIC FILE               every record: partition, offset, key, value
#   wait_consumed TOPIC SECONDS      until the topic holds every truth id
#   check_records MODE CONSUMED [WITNESS]  exact once, or crash-bounded duplicates
# A mock partition keeps only its newest 5 MiB: give a topic enough
# partitions for what a test reads back from the beginning.

: "${OLA_TOOLS_DIR:?OLA_TOOLS_DIR not set (run through ctest)}"
command -v kcat >/dev/null || fail "kcat not installed (Debian package kcat)"
command -v python3 >/dev/null || fail "python3 not installed"

# start_mock TOPIC:PARTITIONS...: sets MOCK_PID and BOOTSTRAP; fd 7 is the
# mock's command pipe.
start_mock() {
    local args=() t
    for t in "$@"; do args+=(--topic "$t"); done
    mkfifo "$T_DIR/mock.in"
    "$OLA_TOOLS_DIR/ola_kafka_mock" --brokers 3 "${args[@]}" \
        <"$T_DIR/mock.in" >"$T_DIR/mock.out" 2>"$T_DIR/mock.err" &
    MOCK_PID=$!
    T_PIDS+=("$MOCK_PID")
    exec 7>"$T_DIR/mock.in"
    wait_until 10 grep -q '^BOOTSTRAP ' "$T_DIR/mock.out" 2>/dev/null
    BOOTSTRAP=$(awk '/^BOOTSTRAP /{print $2}' "$T_DIR/mock.out")
    [ -n "$BOOTSTRAP" ] || fail "mock cluster did not start: $(cat "$T_DIR/mock.err")"
}

# mock CMD...: one command to the mock cluster, waiting until it was carried out.
mock() {
    local n0
    n0=$(grep -c 'ola_kafka_mock: ' "$T_DIR/mock.err")
    echo "$*" >&7
    WAIT_EVERY=0.05 wait_until 10 mock_answered "$n0"
    grep 'ola_kafka_mock: ' "$T_DIR/mock.err" | tail -n 1 | grep -q ' done$' ||
        fail "mock '$*': $(grep 'ola_kafka_mock: ' "$T_DIR/mock.err" | tail -n 1)"
}

# mock_answered N0: the mock has answered more than N0 commands.
mock_answered() { [ "$(grep -c 'ola_kafka_mock: ' "$T_DIR/mock.err")" -gt "$1" ]; }

# kafka_outputs TOPIC [with_stdout]: the outputs section of a config.
kafka_outputs() {
    cat <<YAML
outputs:
  - type: kafka
    name: siem
    brokers: $BOOTSTRAP
    topic: $1
    dead_letter: $T_DIR/dead.ndjson
YAML
    [ "${2:-}" = with_stdout ] && echo "  - type: stdout"
    return 0
}

# consume TOPIC FILE: every record of the topic, "partition TAB offset TAB key
# TAB value" per line (values are compact JSON: no tab, no newline).
consume() {
    timeout 60 kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q \
        -f '%p\t%o\t%k\t%s\n' >"$2" 2>"$T_DIR/kcat.err" ||
        fail "kcat failed: $(cat "$T_DIR/kcat.err")"
}

# wait_consumed TOPIC SECONDS: until the topic holds every truth id (read
# back into $T_DIR/consumed.tsv).
wait_consumed() {
    truth_ids "$T_DIR/truth.ids"
    WAIT_EVERY=1 wait_until "$2" topic_covers "$1"
}

# topic_covers TOPIC: the topic (read into $T_DIR/consumed.tsv) holds every
# id of $T_DIR/truth.ids.
topic_covers() {
    consume "$1" "$T_DIR/consumed.tsv"
    cut -f3 "$T_DIR/consumed.tsv" | sort -n -u >"$T_DIR/consumed.ids"
    [ -z "$(comm -23 "$T_DIR/truth.ids" "$T_DIR/consumed.ids")" ]
}

# check_records MODE CONSUMED [WITNESS]: checks what kcat read against olsim's
# truth (each record's key must be its event id, every truth id present,
# nothing olsim never had). MODE:
#   exact: each once, value == olsim's bytes (the olagent object removed), and
#          per partition in the order of WITNESS (a stdout output of the same
#          agent: it gets the same batches in the same order).
#   crash: duplicates allowed, at most KILLS * PAGE in all and, per partition,
#          in runs that a batch in flight at each kill can leave behind: one
#          run of at most PAGE records per kill (runs of consecutive kills
#          may touch: a run of n stands for ceil(n / PAGE) kills).
#   bounded: duplicates allowed up to DUPS_MAX (the test says why), printed.
check_records() {
    sim GET /_sim/truth >"$T_DIR/truth.ndjson"
    python3 - "$1" "$T_DIR/truth.ndjson" "$2" "${3:-}" "${KILLS:-0}" "${PAGE:-50}" \
        "${DUPS_MAX:-0}" <<'PY'
import json, sys
mode, truth_path, got_path, witness_path = sys.argv[1:5]
kills, page, dups_max = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

truth = {}
for line in open(truth_path, "rb"):
    line = line.rstrip(b"\n")
    if line:
        truth[json.loads(line)["id"]] = line
recs = []  # (partition, offset, key, value) in consumption order
for line in open(got_path, "rb"):
    p, o, k, v = line.rstrip(b"\n").split(b"\t", 3)
    recs.append((int(p), int(o), k.decode(), v))
ids = []
for p, o, k, v in recs:
    ev = json.loads(v)
    if k != str(ev["id"]):
        fail("partition %d offset %d: key %r is not the id %d" % (p, o, k, ev["id"]))
    ids.append(ev["id"])
missing = set(truth) - set(ids)
extra = set(ids) - set(truth)
if missing:
    fail("%d events lost (first %s)" % (len(missing), sorted(missing)[:3]))
if extra:
    fail("%d records olsim never had (first %s)" % (len(extra), sorted(extra)[:3]))
dups = len(ids) - len(set(ids))

if mode == "exact":
    if dups:
        fail("%d records consumed more than once" % dups)
    for p, o, k, v in recs:
        cut = v.rfind(b',"olagent":')
        body = v[:cut] + b"}" if cut >= 0 else v
        if body != truth[int(k)]:
            fail("record %s differs from olsim's bytes:\n%s\n%s" % (k, v[:200], truth[int(k)][:200]))
    witness = []
    for line in open(witness_path, "rb"):
        if line.strip():
            witness.append(json.loads(line)["id"])
    if sorted(witness) != sorted(truth):
        fail("the stdout witness is not the truth either")
    part = {}
    for (p, o, k, v), i in zip(recs, ids):
        part.setdefault(p, []).append((o, i))
    for p, seq in part.items():
        seq.sort()
        got = [i for _, i in seq]
        members = set(got)
        want = [i for i in witness if i in members]
        if got != want:
            at = next(n for n in range(len(got)) if got[n] != want[n])
            fail("partition %d: order differs from acknowledgement at #%d: %s vs %s"
                 % (p, at, got[at:at + 3], want[at:at + 3]))
    print("%d records in %d partitions, exactly once, in order of acknowledgement, "
          "bytes as olsim served them" % (len(ids), len(part)))
    sys.exit(0)

if mode == "bounded":
    print("%d records, %d distinct, %d duplicates (bound %d)"
          % (len(ids), len(set(ids)), dups, dups_max))
    if dups > dups_max:
        fail("%d duplicates, more than %d" % (dups, dups_max))
    sys.exit(0)

# crash: a kill leaves behind at most the batch it interrupted: records that
# reached Kafka but not the checkpoint, read again after restart. A batch
# goes to each partition in order, so in every partition the first copies of
# the duplicated ids sit together: at most one run of at most one page per
# kill and partition, and at most one page of duplicates per kill overall.
# A restart killed again before its first checkpoint sends the same page
# once more: its run may touch the previous one (ceil(n / page) kills).
part, home = {}, {}
for (p, o, k, v), i in zip(recs, ids):
    part.setdefault(p, []).append((o, i))
    if home.setdefault(i, p) != p:
        fail("id %d in partitions %d and %d: the key does not pin it" % (i, home[i], p))
count = {}
for i in ids:
    count[i] = count.get(i, 0) + 1
runs = {}
for p, seq in sorted(part.items()):
    seq.sort()
    seen, cur, runs[p] = set(), 0, []
    for _, i in seq:
        first_dup = count[i] > 1 and i not in seen
        seen.add(i)
        if first_dup:
            cur += 1
        elif cur:
            runs[p].append(cur)
            cur = 0
    if cur:
        runs[p].append(cur)
print("%d records, %d distinct, %d duplicates, runs per partition %s (bound: %d kills x %d)"
      % (len(ids), len(set(ids)), dups, runs, kills, page))
if dups > kills * page:
    fail("%d duplicates, more than one page per kill" % dups)
if any(sum(-(-n // page) for n in r) > kills for r in runs.values()):
    fail("duplicates are not confined to one batch per kill: runs %s" % runs)
PY
}
