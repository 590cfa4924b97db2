#!/usr/bin/env bash
# kill -9 at 20 random instants during a backfill with live traffic, restarting
# each time: the union of the output equals olsim's ground truth, and the only
# duplicates are the batch in flight at each kill (at most one page each).
. "$(dirname "$0")/../lib/common.sh"

KILLS=${KILLS:-20}
start_olsim --seed 23 --events 15000 --span 3h --rate 10
write_config "$T_DIR/olagent.yaml"
RANDOM=4242
crash_agent "$KILLS" "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson" '0.$((RANDOM % 9 + 1))'
sim POST /_sim/pause_generation >/dev/null
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_for_truth "$T_DIR/out.ndjson" 120 || fail "events missing after $KILLS kills"
sleep 2
stop_agent || fail "olagent exited $? after SIGTERM"

truth_ids "$T_DIR/truth.ids"
ids_of_lenient "$T_DIR/out.ndjson" | sort -n >"$T_DIR/got.all"
torn=$(cat "$T_DIR/torn.count")
sort -n -u "$T_DIR/got.all" >"$T_DIR/got.ids"
[ -z "$(comm -23 "$T_DIR/truth.ids" "$T_DIR/got.ids")" ] || fail "events lost"
[ -z "$(comm -13 "$T_DIR/truth.ids" "$T_DIR/got.ids")" ] || fail "events olsim never had"
dups=$(( $(wc -l <"$T_DIR/got.all") - $(wc -l <"$T_DIR/got.ids") ))
bound=$((KILLS * 50))
[ "$dups" -le "$bound" ] || fail "$dups duplicates, more than one page per kill ($bound)"
# a kill can cut stdout in the middle of a write: at most one torn fragment per
# kill, on its own line (the next run starts with a newline), never a record lost
[ "$torn" -le "$KILLS" ] || fail "$torn torn lines for $KILLS kills"
echo "crash: $KILLS kills, $(wc -l <"$T_DIR/got.ids") events, $dups duplicates (bound $bound), $torn torn stdout fragments"
