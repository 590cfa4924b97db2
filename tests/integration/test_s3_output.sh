#!/usr/bin/env bash
# test_s3_output.sh - the s3 output against tests/sim/s3_fake.py.
#
# olsim's events go through `olagent run` to the fake object store, which
# verifies every request's SigV4 signature with the secret and its
# x-amz-content-sha256 against the body, and stores objects in a bucket
# directory (reading it is the test's "download"). Scenarios: seeded SlowDown
# bursts and 500s retried with nothing lost and nothing doubled; every object
# a valid gzip under a key of [A-Za-z0-9/._-] that sorts by time; `olagent
# verify` over the bucket plus the manifest directory, and a tampered object
# caught; a wrong secret (exit 1 with SignatureDoesNotMatch in one line, the
# secret never logged); backlog + live tail with two kill -9 (zero missing,
# duplicates printed and bounded by the unacknowledged batches, the chain
# still whole).
# ctest-cost: 60
. "$(dirname "$0")/../lib/common.sh"

FAKE="$OLA_SOURCE_DIR/tests/sim/s3_fake.py"
export AWS_ACCESS_KEY_ID="AKIAOLAGENTTEST$RANDOM"
export AWS_SECRET_ACCESS_KEY="s3cr3t/$RANDOM+wJalrXUtnFEMI/K7MDENG"
export S3_FAKE_SECRET="$AWS_SECRET_ACCESS_KEY"

# start_fake NAME [s3_fake options...]: sets FAKE_PORT; stores in $T_DIR/NAME.
start_fake() {
    local d="$T_DIR/$1"
    shift
    mkdir -p "$d"
    python3 "$FAKE" --port-file "$d/port" --dir "$d" --access-key "$AWS_ACCESS_KEY_ID" \
        "$@" >"$d/out" 2>"$d/err" &
    T_PIDS+=("$!")
    WAIT_EVERY=0.05 wait_until 20 test -s "$d/port" ||
        fail "s3_fake did not start: $(cat "$d/err")"
    FAKE_PORT=$(cat "$d/port")
}

# s3_config FILE NAME PORT [extra keys, each line indented by 4]: one s3 output,
# its state in $T_DIR/NAME-state, its manifests in $T_DIR/NAME-manifests.
s3_config() {
    write_config "$1" "outputs:
  - type: s3
    endpoint: http://127.0.0.1:$3
    bucket: audit
    region: eu-west-1
    prefix: onelogin/{tenant}/%Y/%m/%d/
    access_key_id: \${AWS_ACCESS_KEY_ID}
    secret_access_key: \${AWS_SECRET_ACCESS_KEY}
    manifest_dir: $T_DIR/$2-manifests
${4:-}"
    sed -i "s#state/checkpoint.json#$2-state/checkpoint.json#" "$1"
}

# check_bucket NAME: the objects of $T_DIR/NAME against truth.ids: every
# object a valid gzip under a good key; prints "dups objects orphans" (records
# stored twice; objects; objects without a manifest). Fails on a missing event.
check_bucket() {
    python3 - "$T_DIR/truth.ids" "$T_DIR/$1/bucket/audit" "$T_DIR/$1-manifests" <<'PY'
import collections, gzip, json, os, re, sys
truth = [int(l) for l in open(sys.argv[1]) if l.strip()]
root, mdir = sys.argv[2], sys.argv[3]
key_re = re.compile(r"^onelogin/default/\d{4}/\d{2}/\d{2}/"
                    r"(\d{8}T\d{6}\.\d{3}Z)_(\d+)-(\d+)_([0-9a-f]{16})\.ndjson\.gz$")
ids = collections.Counter()
objects = orphans = 0
for d, _, files in os.walk(root):
    for f in files:
        if ".part." in f:
            continue
        key = os.path.relpath(os.path.join(d, f), root)
        m = key_re.match(key)
        if not m:
            sys.exit("key %r: not PREFIX/TIME_FIRST-LAST_HASH.ndjson.gz of [A-Za-z0-9/._-]" % key)
        data = open(os.path.join(d, f), "rb").read()
        recs = [json.loads(l) for l in gzip.decompress(data).decode().splitlines() if l]
        evs = [r["id"] for r in recs if "id" in r]
        if evs and (int(m.group(2)), int(m.group(3))) != (evs[0], evs[-1]):
            sys.exit("key %r: ids %s-%s in the object" % (key, evs[0], evs[-1]))
        ids.update(evs)
        objects += 1
        if not os.path.exists(os.path.join(mdir, key + ".manifest.json")):
            orphans += 1
missing = [i for i in truth if i not in ids]
if missing:
    sys.exit("%d events missing (first %s)" % (len(missing), missing[:3]))
if set(ids) - set(truth):
    sys.exit("events the simulator never had: %s" % sorted(set(ids) - set(truth))[:3])
print(sum(v - 1 for v in ids.values()), objects, orphans)
PY
}

# t_running: the agent still runs (fails the test at once when it stopped).
t_running() {
    kill -0 "$AGENT_PID" 2>/dev/null || fail "olagent stopped: $(tail -2 "$T_DIR/agent.err")"
}

# gzip_all NAME: `gzip -t` of every object.
gzip_all() {
    local f n=0
    while IFS= read -r -d '' f; do
        gzip -t "$f" || fail "$f: not a valid gzip"
        n=$((n + 1))
    done < <(find "$T_DIR/$1/bucket/audit" -type f -name '*.ndjson.gz' -print0)
    [ "$n" -gt 0 ] || fail "$1: no objects"
    echo "$n"
}

# verify_bucket NAME: a download of the bucket with the manifests laid over it.
verify_bucket() {
    rm -rf "$T_DIR/$1-verify"
    cp -r "$T_DIR/$1/bucket/audit" "$T_DIR/$1-verify"
    cp -r "$T_DIR/$1-manifests/." "$T_DIR/$1-verify/"
    "$OLAGENT" verify "$T_DIR/$1-verify" >"$T_DIR/$1-verify.txt" 2>&1
}

START=-4h
start_olsim --seed 5 --events 1500 --span 3h
truth_ids "$T_DIR/truth.ids"

# ---- 1. SlowDown bursts and 500s retried; gzip objects; verify ------------------
start_fake flaky --seed 11 --pslowdown 0.15 --burst 3 --p500 0.08
s3_config "$T_DIR/flaky.yaml" flaky "$FAKE_PORT"
"$OLAGENT" check -c "$T_DIR/flaky.yaml" >"$T_DIR/check.txt" 2>&1 || fail "check: $(cat "$T_DIR/check.txt")"
grep -q "outputs\[0\].bucket: audit" "$T_DIR/check.txt" || fail "check does not show the s3 keys: $(cat "$T_DIR/check.txt")"
grep -q "outputs\[0\].secret_access_key: \*\*\*\*" "$T_DIR/check.txt" || fail "check does not mask the secret"
grep -qF "$AWS_SECRET_ACCESS_KEY" "$T_DIR/check.txt" && fail "check printed the secret"
start_agent "$T_DIR/flaky.yaml" "$T_DIR/flaky.out"
t_flaky_done() { t_running && check_bucket flaky >/dev/null 2>&1; }
wait_until 180 t_flaky_done || fail "faults: $(check_bucket flaky 2>&1 | tail -1) after 180 s"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup objects orphans < <(check_bucket flaky) || fail "faults"
stats=$(curl -s "http://127.0.0.1:$FAKE_PORT/_stats")
python3 - "$stats" <<'PY' || fail "faults: the fake saw no SlowDown or 500, or a bad request: $stats"
import json, sys
s = json.loads(sys.argv[1])
assert s["SlowDown"] > 0 and s["InternalError"] > 0, s
for k in ("SignatureDoesNotMatch", "XAmzContentSHA256Mismatch", "AccessDenied",
          "InvalidRequest", "InvalidAccessKeyId", "NoSuchBucket"):
    assert s[k] == 0, (k, s)
PY
[ "$dup" -eq 0 ] || fail "faults: $dup duplicates (a retried PUT rewrites the same key)"
[ "$orphans" -eq 0 ] || fail "faults: $orphans objects without a manifest"
n=$(gzip_all flaky)
grep -q '"type": "application/gzip"' "$T_DIR/flaky/puts.ndjson" || fail "objects not sent as application/gzip"
verify_bucket flaky || fail "verify over the bucket: $(tail -3 "$T_DIR/flaky-verify.txt")"
grep -q "$objects manifests, 1 streams, 0 breaks" "$T_DIR/flaky-verify.txt" ||
    fail "verify: $(tail -1 "$T_DIR/flaky-verify.txt"), want $objects manifests in 1 stream"
# the check bites: one byte of one object changed
victim=$(find "$T_DIR/flaky-verify" -name '*.ndjson.gz' | sort | sed -n 2p)
printf 'x' | dd of="$victim" bs=1 seek=20 conv=notrunc 2>/dev/null
"$OLAGENT" verify "$T_DIR/flaky-verify" >"$T_DIR/tampered.txt" 2>&1 && fail "verify passed a changed object"
grep -q "BREAK .*sha256" "$T_DIR/tampered.txt" || fail "verify: $(tail -2 "$T_DIR/tampered.txt")"
grep -qF "$AWS_SECRET_ACCESS_KEY" "$T_DIR/agent.err" && fail "the secret is in the log"
t_log "faults: 1500 events once each in $objects objects ($n gzip -t ok), verify holds over the bucket; fake $stats"

# ---- 2. a wrong secret: exit 1 with one clear line --------------------------------
start_fake auth
s3_config "$T_DIR/auth.yaml" auth "$FAKE_PORT"
: >"$T_DIR/agent.err"
AWS_SECRET_ACCESS_KEY="not-the-secret-$RANDOM" start_agent "$T_DIR/auth.yaml" "$T_DIR/auth.out"
t_exited() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
wait_until 60 t_exited || fail "wrong secret: the agent still runs after 60 s"
wait "$AGENT_PID"
rc=$?
[ "$rc" -eq 1 ] || fail "wrong secret: exit $rc, want 1"
grep -q "output s3 (s3) can never deliver, stopping: S3 HTTP 403 SignatureDoesNotMatch" \
    "$T_DIR/agent.err" || fail "wrong secret: no clear line: $(tail -3 "$T_DIR/agent.err")"
grep -q "not-the-secret" "$T_DIR/agent.err" && fail "wrong secret: the secret is in the log"
[ -z "$(find "$T_DIR/auth/bucket/audit" -type f)" ] || fail "wrong secret: an object was stored"
t_log "wrong secret: exit 1, '$(grep -o 'S3 HTTP 403[^.]*' "$T_DIR/agent.err" | head -1)'"

# ---- 3. backlog + live tail with two kill -9 ---------------------------------------
kill -TERM "$OLSIM_PID"
start_olsim --seed 29 --events 4000 --span 3h --rate 20
start_fake crash --seed 3 --pslowdown 0.05 --burst 2
s3_config "$T_DIR/crash.yaml" crash "$FAKE_PORT"
RANDOM=2020
crash_agent 2 "$T_DIR/crash.yaml" "$T_DIR/crash.out" '1.$((RANDOM % 9 + 1))'
sim POST /_sim/pause_generation >/dev/null
truth_ids "$T_DIR/truth.ids"
start_agent "$T_DIR/crash.yaml" "$T_DIR/crash.out"
t_crash_done() { t_running && check_bucket crash >/dev/null 2>&1; }
wait_until 180 t_crash_done || fail "crash: $(check_bucket crash 2>&1 | tail -1)"
stop_agent || fail "olagent exited $? after SIGTERM"
read -r dup objects orphans < <(check_bucket crash) || fail "crash"
# one unacknowledged batch (a page of 50) per kill at most
[ "$dup" -le 100 ] || fail "crash: $dup duplicates, more than the 2 unacknowledged batches (100)"
gzip_all crash >/dev/null
verify_bucket crash || fail "crash: verify over the bucket: $(grep BREAK "$T_DIR/crash-verify.txt" | head -3)"
echo "s3 crash: 2 kills, $(wc -l <"$T_DIR/truth.ids") events, 0 missing, $dup duplicates (bound 100), $objects objects ($orphans stored but never acknowledged: no manifest), verify holds"
