#!/usr/bin/env bash
# 50 kill -9 at random instants while the agent backfills into a gzip file
# output (small rotation) and stdout at once, with live traffic arriving.
# After each restart the file output repairs the file it had open; at the end
# every file passes `gzip -t`, the manifest chain verifies, and for each
# output the union of what it holds equals olsim's ground truth, with
# duplicates bounded by the batch in flight at each kill (one page).
. "$(dirname "$0")/../lib/common.sh"

KILLS=${KILLS:-50}
PAGE=50
start_olsim --seed 31 --events 12000 --span 3h --rate 5
OUT="$T_DIR/files"
write_config "$T_DIR/olagent.yaml" "outputs:
  - type: stdout
  - type: file
    path: $OUT/%Y%m%d/events-%H%M%S.ndjson.gz
    level: 1
    rotate: {size: 300KB}"
RANDOM=5150
for k in $(seq 1 "$KILLS"); do
    start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
    sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null
done
t_log "$KILLS kills done; finishing"
sim POST /_sim/pause_generation >/dev/null
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_truth "$T_DIR/out.ndjson" 180 || fail "stdout: events missing after $KILLS kills"
sleep 2 # the file output acknowledged the same batches as stdout
stop_agent || fail "olagent exited $? after SIGTERM"

files=$(find "$OUT" -name '*.ndjson.gz' | sort)
[ "$(echo "$files" | wc -l)" -ge 5 ] || fail "too few files to prove rotation: $files"
for f in $files; do
    gzip -t "$f" || fail "gzip -t failed on $f"
done
"$OLAGENT" verify "$OUT" >"$T_DIR/verify.out" 2>&1 || fail "verify: $(cat "$T_DIR/verify.out")"
for f in $files; do gzip -dc "$f"; done >"$T_DIR/file.ndjson"

bound=$((KILLS * PAGE))
for which in out file; do
    truth_ids "$T_DIR/truth.ids"
    ids_of_lenient "$T_DIR/$which.ndjson" | sort -n >"$T_DIR/$which.all"
    torn=$(cat "$T_DIR/torn.count")
    # stdout may keep one torn fragment per kill; the file output repairs its files
    [ "$which" = out ] && [ "$torn" -le "$KILLS" ] || [ "$torn" -eq 0 ] ||
        fail "$which: $torn torn lines"
    sort -n -u "$T_DIR/$which.all" >"$T_DIR/$which.ids"
    lost=$(comm -23 "$T_DIR/truth.ids" "$T_DIR/$which.ids" | wc -l)
    extra=$(comm -13 "$T_DIR/truth.ids" "$T_DIR/$which.ids" | wc -l)
    dups=$(($(wc -l <"$T_DIR/$which.all") - $(wc -l <"$T_DIR/$which.ids")))
    [ "$lost" -eq 0 ] || fail "$which: $lost events lost"
    [ "$extra" -eq 0 ] || fail "$which: $extra events olsim never had"
    [ "$dups" -le "$bound" ] || fail "$which: $dups duplicates, more than a page per kill ($bound)"
    t_log "$which: $(wc -l <"$T_DIR/$which.ids") events, $dups duplicates (bound $bound)"
done
echo "crash with outputs: $KILLS kills, $(echo "$files" | wc -l) files, all whole and verified"
