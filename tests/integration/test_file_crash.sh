#!/usr/bin/env bash
# test_file_crash.sh - kill -9 the file output at random instants.
#
# ola_file_writer feeds NDJSON through the file output (gzip, small size
# rotation, fsync per flush) and prints `acked N` after each flush; we kill
# it with SIGKILL at random moments, several times, resuming each run after
# the last acknowledged record (as the checkpoint would). After every kill:
# every closed file passes `gzip -t`, the open one decompresses (complete
# members) to whole JSON lines, and every acknowledged record is on disk.
# At the end `olagent verify` checks the manifests, and a flipped byte is caught by name.
# ctest-cost: 22
set -euo pipefail

TOOLS=${OLA_TOOLS_DIR:?}
WRITER=$TOOLS/ola_file_writer
OLAGENT=${OLAGENT:?}
TMP=$(mktemp -d /tmp/ola_file_crash.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

OUT=$TMP/out
mkdir -p "$OUT"
PATTERN="$OUT/%Y/%m/events-%H%M%S.ndjson.gz"
TOTAL=300000
python3 - "$TMP/input.ndjson" "$TOTAL" <<'PY'
import json, random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    for i in range(1, int(sys.argv[2]) + 1):
        f.write(json.dumps({"id": i, "created_at": "2024-05-01T10:00:%02d.000Z" % (i % 60),
                            "event_type_id": random.choice([5, 6, 13, 111]),
                            "user_name": "user%d" % random.randrange(500),
                            "ipaddr": "10.%d.%d.%d" % tuple(random.randrange(256) for _ in range(3)),
                            "risk_cookie_id": "%032x" % random.getrandbits(128)},
                           separators=(",", ":")) + "\n")
PY

# Checks the tree: closed files pass gzip -t, the open one holds whole lines
# in complete members, and ids 1..$1 are all present.
check_tree() {
    local acked=$1
    local f
    while IFS= read -r f; do
        if [ -e "$f.manifest.json" ]; then
            gzip -t "$f" || fail "closed file $f does not pass gzip -t"
        fi
    done < <(find "$OUT" -name '*.ndjson.gz' | sort)
    python3 - "$OUT" "$acked" <<'PY' || fail "content check"
import json, os, sys, zlib
root, acked = sys.argv[1], int(sys.argv[2])
seen = set()
open_files = 0
for d, _, names in os.walk(root):
    for n in names:
        if not n.endswith(".ndjson.gz"):
            continue
        p = os.path.join(d, n)
        data = open(p, "rb").read()
        closed = os.path.exists(p + ".manifest.json")
        open_files += not closed
        text, pos = b"", 0
        while pos < len(data):
            z = zlib.decompressobj(31)
            try:
                chunk = z.decompress(data[pos:])
            except zlib.error:
                break
            if not z.eof:
                break                     # a member cut by the kill
            text += chunk
            pos = len(data) - len(z.unused_data)
        if closed and pos != len(data):
            sys.exit("closed %s has %d bytes after its last member" % (p, len(data) - pos))
        if text and not text.endswith(b"\n"):
            sys.exit("%s does not end in a whole line" % p)
        for line in text.splitlines():
            seen.add(json.loads(line)["id"])
missing = [i for i in range(1, acked + 1) if i not in seen]
if missing:
    sys.exit("%d acknowledged records missing, first %d" % (len(missing), missing[0]))
if open_files > 1:
    sys.exit("%d files without manifest" % open_files)
print("ok: %d acked records on disk, %d distinct ids" % (acked, len(seen)))
PY
}

acked=0
for round in 1 2 3 4 5 6; do
    tail -n +$((acked + 1)) "$TMP/input.ndjson" |
        "$WRITER" -b 50 -s 40000 "$PATTERN" > "$TMP/acked.$round" 2> "$TMP/writer.$round" &
    pid=$!
    # Let it get going (slow under sanitizers), then kill at a random instant.
    end=$(($(date +%s) + 30)) # wall-clock seconds, not a count of rounds
    until grep -q acked "$TMP/acked.$round" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null ||
        [ "$(date +%s)" -gt "$end" ]; do
        sleep 0.1
    done
    sleep "0.$((RANDOM % 6))$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    last=$(tail -n 1 "$TMP/acked.$round" | awk '$1 == "acked" { print $2 }')
    acked=$((acked + ${last:-0}))
    echo "round $round: killed after ${last:-0} acked (total $acked)"
    check_tree "$acked"
done
[ "$acked" -gt 0 ] || fail "nothing was acknowledged"
[ "$acked" -lt "$TOTAL" ] || fail "the writer finished before it was killed"

# A clean run closes the crashed file and the rest.
sed -n "$((acked + 1)),$((acked + 1000))p" "$TMP/input.ndjson" |
    "$WRITER" -b 50 -s 40000 "$PATTERN" > "$TMP/acked.final" 2> "$TMP/writer.final"
acked=$((acked + 1000))
grep -q "left open by a previous run" "$TMP"/writer.* || fail "no crashed file was recovered"
check_tree "$acked"
while IFS= read -r f; do
    [ -e "$f.manifest.json" ] || fail "$f has no manifest after a clean close"
    gzip -t "$f" || fail "$f does not pass gzip -t"
done < <(find "$OUT" -name '*.ndjson.gz')
"$OLAGENT" verify "$OUT" > "$TMP/verify.out" || { cat "$TMP/verify.out"; fail "verify failed"; }
tail -n 1 "$TMP/verify.out"

# Tamper one byte of a closed file: verify fails and names it.
victim=$(find "$OUT" -name '*.ndjson.gz' | sort | sed -n 2p)
python3 - "$victim" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x20
open(p, "wb").write(b)
PY
if "$OLAGENT" verify "$OUT" > "$TMP/verify2.out" 2> "$TMP/verify2.err"; then
    fail "verify passed on a tampered file"
fi
grep -qF "$victim" "$TMP/verify2.err" || { cat "$TMP/verify2.err"; fail "verify did not name $victim"; }
echo "tampered file caught: $(cat "$TMP/verify2.err")"
echo PASS
