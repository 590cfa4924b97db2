#!/usr/bin/env bash
# 50 kill -9 at random instants while the agent backfills, with live traffic
# arriving, into three outputs at once: stdout, a gzip file output (small
# rotation) and Kafka (librdkafka's mock cluster in its own process, so only
# the agent dies; kcat reads the topic back). After each restart the file
# output repairs the file it had open; at the end every file passes
# `gzip -t`, the manifest chain verifies, and for each output the union of
# what it holds equals olsim's ground truth.
#
# Duplicates: a kill can only leave behind the batch in flight, records some
# output took (stdout wrote them, the file fsynced them, Kafka stored them)
# before the checkpoint covered them; the restart reads that page again. A
# batch is one page, so each output holds at most KILLS x PAGE duplicates,
# and, in the order the output received them, each kill adds at most one run
# of at most PAGE repeated records (runs of consecutive kills can touch: a
# restart killed again before its first checkpoint repeats the same page
# right after the last copy; a run of n records then stands for ceil(n/PAGE)
# kills). In Kafka the same holds per partition, since a partition keeps the
# order of its records and the key pins an id to one partition.
# ctest-cost: 45
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/kafka.sh"

KILLS=${KILLS:-50}
PAGE=50
# ~12,000 records of ~1.4 KB: 12 partitions keep each well under the mock's 5 MiB
start_mock onelogin.crash:12
start_olsim --seed 31 --events 12000 --span 3h --rate 5
OUT="$T_DIR/files"
# Kafka last: in each round the pipeline calls the outputs in this order, so
# once the topic holds every event, the other two have acknowledged them too.
write_config "$T_DIR/olagent.yaml" "outputs:
  - type: stdout
  - type: file
    path: $OUT/%Y%m%d/events-%H%M%S.ndjson.gz
    level: 1
    rotate: {size: 300KB}
  - type: kafka
    name: siem
    brokers: $BOOTSTRAP
    topic: onelogin.crash
    dead_letter: $T_DIR/dead.ndjson"
RANDOM=5150
crash_agent "$KILLS" "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson" \
    '0.$((RANDOM % 9 + 1))$((RANDOM % 10))'
t_log "$KILLS kills done at $(wc -l <"$T_DIR/out.ndjson") stdout lines; finishing"
sim POST /_sim/pause_generation >/dev/null
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_truth "$T_DIR/out.ndjson" 180 || fail "stdout: events missing after $KILLS kills"
wait_consumed onelogin.crash 60 || fail "kafka: events missing after $KILLS kills"
stop_agent || fail "olagent exited $? after SIGTERM"
[ ! -s "$T_DIR/dead.ndjson" ] || fail "kafka: dead letters: $(head -c 300 "$T_DIR/dead.ndjson")"

# the files in the order they were written: by the manifest chain's seq
files=$(python3 - "$OUT" <<'PY'
import json, pathlib, sys
suffix = ".manifest.json"
ms = [(json.loads(p.read_text())["seq"], str(p)[:-len(suffix)])
      for p in pathlib.Path(sys.argv[1]).rglob("*" + suffix)]
print("\n".join(path for _, path in sorted(ms)))
PY
)
[ "$(echo "$files" | wc -l)" -eq "$(find "$OUT" -name '*.ndjson.gz' | wc -l)" ] ||
    fail "files without a manifest: $(find "$OUT" -name '*.ndjson.gz' | sort)"
[ "$(echo "$files" | wc -l)" -ge 5 ] || fail "too few files to prove rotation: $files"
for f in $files; do
    gzip -t "$f" || fail "gzip -t failed on $f"
done
"$OLAGENT" verify "$OUT" >"$T_DIR/verify.out" 2>&1 || fail "verify: $(cat "$T_DIR/verify.out")"
for f in $files; do gzip -dc "$f"; done >"$T_DIR/file.ndjson"

# dup_runs IDS: ids in the order an output received them; prints the number
# of duplicates, of runs of repeated ids, the longest run, and the kills the
# runs stand for at least (a run of n: ceil(n / PAGE)).
dup_runs() {
    python3 -c '
import sys
page = int(sys.argv[2])
seen, runs, cur = set(), [], 0
for line in open(sys.argv[1]):
    i = line.strip()
    if i in seen:
        cur += 1
    else:
        seen.add(i)
        if cur:
            runs.append(cur)
        cur = 0
if cur:
    runs.append(cur)
print(sum(runs), len(runs), max(runs, default=0), sum(-(-n // page) for n in runs))
' "$1" "$PAGE"
}

truth_ids "$T_DIR/truth.ids"
for which in out file; do
    ids_of_lenient "$T_DIR/$which.ndjson" >"$T_DIR/$which.order"
    torn=$(cat "$T_DIR/torn.count")
    # stdout may keep one torn fragment per kill; the file output repairs its files
    [ "$which" = out ] && [ "$torn" -le "$KILLS" ] || [ "$torn" -eq 0 ] ||
        fail "$which: $torn torn lines"
    sort -n -u "$T_DIR/$which.order" >"$T_DIR/$which.ids"
    lost=$(comm -23 "$T_DIR/truth.ids" "$T_DIR/$which.ids" | wc -l)
    extra=$(comm -13 "$T_DIR/truth.ids" "$T_DIR/$which.ids" | wc -l)
    read -r dups runs longest kills < <(dup_runs "$T_DIR/$which.order")
    [ "$lost" -eq 0 ] || fail "$which: $lost events lost"
    [ "$extra" -eq 0 ] || fail "$which: $extra events olsim never had"
    [ "$dups" -le $((KILLS * PAGE)) ] ||
        fail "$which: $dups duplicates, more than a page per kill ($((KILLS * PAGE)))"
    [ "$kills" -le "$KILLS" ] ||
        fail "$which: duplicates in $runs runs (the longest $longest) need $kills kills of one page, not $KILLS"
    t_log "$which: $(wc -l <"$T_DIR/$which.ids") events, $dups duplicates in $runs runs" \
        "(longest $longest, as many as $kills one-page kills; bound $KILLS x $PAGE), $torn torn lines"
done
consume onelogin.crash "$T_DIR/kafka.tsv"
check_records crash "$T_DIR/kafka.tsv" || fail "kafka"
echo "crash with outputs: $KILLS kills, $(echo "$files" | wc -l) files, all whole and verified;" \
    "stdout, file and Kafka each hold every event, duplicates within one batch per kill"
