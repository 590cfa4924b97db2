#!/usr/bin/env bash
# The file output's disk fills up in the middle of a backfill: the agent says
# why (one line), keeps the checkpoint where the last acknowledged batch left
# it, keeps polling nothing new, and when space comes back it carries on by
# itself; in the end the file output holds every event once, in whole lines,
# its manifests verify, and the stdout output beside it lost nothing either.
#
# The disk is a 1.5 MB tmpfs the test mounts (as root, or inside a user and
# mount namespace when unprivileged user namespaces are allowed).
if [ -z "${OLA_IN_NS:-}" ] && [ "$(id -u)" -ne 0 ]; then
    OLA_IN_NS=1 exec unshare -rm bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/common.sh"

DISK="$T_DIR/disk"
mkdir -p "$DISK"
mount -t tmpfs -o size=1536k tmpfs "$DISK" || fail "cannot mount a tmpfs (need root or user namespaces)"
cleanup_mount() { umount "$DISK" 2>/dev/null; t_cleanup; }
trap cleanup_mount EXIT
# leave about 500 KB free
dd if=/dev/zero of="$DISK/filler" bs=1k count=1000 status=none

start_olsim --seed 41 --events 1000 --span 2h
# records without enrichment (about 1 KB each): the disk is sized for them
write_config "$T_DIR/olagent.yaml" "enrich: false
outputs:
  - type: stdout
  - type: file
    path: $DISK/events-%H%M%S.ndjson
    compression: none
    rotate: {size: 400KB}"
: >"$T_DIR/out.ndjson"
start_agent "$T_DIR/olagent.yaml" "$T_DIR/out.ndjson"
wait_until 30 grep -qi 'no space' "$T_DIR/agent.err"
grep -qi 'no space' "$T_DIR/agent.err" || fail "the agent never said the disk was full: $(tail -3 "$T_DIR/agent.err")"
sleep 3 # several retry rounds
kill -0 "$AGENT_PID" || fail "the agent died on a full disk"
n_lines=$(grep -ci 'no space' "$T_DIR/agent.err")
[ "$n_lines" -le 2 ] || fail "$n_lines log lines about the full disk (one per change of state)"
delivered=$("$OLAGENT" checkpoint show -c "$T_DIR/olagent.yaml" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])')
[ "$delivered" -lt 1000 ] || fail "the checkpoint moved past batches the disk never took"
t_log "disk full after $delivered events; freeing space"
rm -f "$DISK/filler"
wait_for_truth "$T_DIR/out.ndjson" 60 || fail "the agent did not recover by itself"
sleep 1.5
stop_agent || fail "olagent exited $? after SIGTERM"
grep -q 'accepting data again' "$T_DIR/agent.err" || fail "no log line when the output recovered"

# each manifest's hash covers the bytes that became durable, not the ones a
# failed write left behind and the truncate took back
n_manifests=$(find "$DISK" -name '*.manifest.json' | wc -l)
[ "$n_manifests" -ge 2 ] || fail "only $n_manifests manifests: rotation did not happen"
"$OLAGENT" verify "$DISK" >"$T_DIR/verify.out" 2>&1 || fail "verify: $(cat "$T_DIR/verify.out")"
cat "$DISK"/events-*.ndjson >"$T_DIR/file.ndjson"
truth_ids "$T_DIR/truth.ids"
for which in out file; do
    ids_of "$T_DIR/$which.ndjson" | sort -n >"$T_DIR/$which.all" || fail "$which: a torn line"
    sort -n -u "$T_DIR/$which.all" >"$T_DIR/$which.ids"
    [ -z "$(comm -23 "$T_DIR/truth.ids" "$T_DIR/$which.ids")" ] || fail "$which: events lost"
    [ -z "$(comm -13 "$T_DIR/truth.ids" "$T_DIR/$which.ids")" ] || fail "$which: events olsim never had"
    dups=$(($(wc -l <"$T_DIR/$which.all") - $(wc -l <"$T_DIR/$which.ids")))
    [ "$dups" -eq 0 ] || fail "$which: $dups duplicates"
done
echo "disk full: blocked at $delivered events, recovered, every event once in both outputs"
