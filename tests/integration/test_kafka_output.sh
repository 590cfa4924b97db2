#!/usr/bin/env bash
# test_kafka_output.sh - the Kafka output against librdkafka's mock cluster,
# read back by kcat as an independent consumer.
#
# 1. 2,000 events through ola_kafka_writer: every event exactly once, in the
#    order they were acknowledged, key = event id, payload = the event's bytes.
# 2. The same with the partition leader (broker 1) down for 10 s in the
#    middle: the writer sees RETRY, resumes by itself, nothing lost or doubled.
# 3. One event larger than message.max.bytes: it lands in the dead-letter file
#    with the reason, the rest are delivered.
# ctest-cost: 20
set -euo pipefail

: "${OLA_TOOLS_DIR:?}"
MOCK="$OLA_TOOLS_DIR/ola_kafka_mock"
WRITER="$OLA_TOOLS_DIR/ola_kafka_writer"
command -v kcat >/dev/null || { echo "kcat not installed"; exit 1; }

WORK=$(mktemp -d)
MOCK_PID=""
WRITER_PID=""
cleanup() {
    exec 7>&- 2>/dev/null || true
    exec 8>&- 2>/dev/null || true
    [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null || true
    [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK"/*.err; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
    done
    exit 1
}

# Events as OneLogin sends them (compact, one per line), ids 1001..(1000+n).
make_events() {
    local n=$1 i
    for ((i = 1; i <= n; i++)); do
        printf '{"id":%d,"created_at":"2022-08-08T11:%02d:%02d.000Z","account_id":1234,"user_id":%d,"event_type_id":%d,"notes":"event %d","user_name":"User %d","ipaddr":"10.0.%d.%d"}\n' \
            $((1000 + i)) $(((i / 60) % 60)) $((i % 60)) $((i % 97)) $((5 + i % 3)) "$i" "$i" $((i / 250)) $((i % 250))
    done
}

# Starts the mock cluster; sets BOOTSTRAP and keeps fd 7 as its command pipe.
start_mock() {
    local end
    rm -f "$WORK/mock.in"
    mkfifo "$WORK/mock.in"
    "$MOCK" --brokers 3 "$@" <"$WORK/mock.in" >"$WORK/mock.out" 2>"$WORK/mock.err" &
    MOCK_PID=$!
    exec 7>"$WORK/mock.in"
    end=$(($(date +%s) + 10)) # a deadline in wall-clock seconds, not a count of rounds
    until grep -q '^BOOTSTRAP ' "$WORK/mock.out" 2>/dev/null || [ "$(date +%s)" -gt "$end" ]; do
        sleep 0.1
    done
    BOOTSTRAP=$(awk '/^BOOTSTRAP /{print $2}' "$WORK/mock.out")
    [ -n "$BOOTSTRAP" ] || fail "mock cluster did not start"
}

# mock_cmd CMD ARG: sends a command and waits (a wall-clock deadline) until the
# mock says it is done: writing to the pipe returns before the mock reads it,
# and a batch sent in between would still reach the broker.
mock_cmd() {
    local end
    echo "$1 $2" >&7
    end=$(($(date +%s) + 10))
    until grep -q "^ola_kafka_mock: $1 $2 done" "$WORK/mock.err" 2>/dev/null ||
        [ "$(date +%s)" -gt "$end" ]; do
        sleep 0.1
    done
    grep -q "^ola_kafka_mock: $1 $2 done" "$WORK/mock.err" || fail "mock did not do '$1 $2'"
}

stop_mock() {
    echo quit >&7 || true
    exec 7>&-
    wait "$MOCK_PID" || true
    MOCK_PID=""
}

write_config() { # topic [extra yaml lines]
    {
        echo "type: kafka"
        echo "brokers: $BOOTSTRAP"
        echo "topic: $1"
        echo "dead_letter: $WORK/dead.ndjson"
        shift
        for l in "$@"; do echo "$l"; done
    } >"$WORK/out.yaml"
}

consume() { # topic -> $WORK/got.tsv (key TAB value), one partition
    timeout 60 kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q \
        -f '%k\t%s\n' >"$WORK/got.tsv" 2>"$WORK/kcat.err" || fail "kcat failed"
}

# Every input line exactly once, in order, keyed by its id.
check_exact() { # events-file
    awk -F'"id":' '{split($2, a, ","); printf "%s\t%s\n", a[1], $0}' "$1" >"$WORK/want.tsv"
    if ! cmp -s "$WORK/want.tsv" "$WORK/got.tsv"; then
        echo "want $(wc -l <"$WORK/want.tsv") records, got $(wc -l <"$WORK/got.tsv")" >&2
        echo "duplicates: $(cut -f1 "$WORK/got.tsv" | sort | uniq -d | wc -l)" >&2
        diff <(cut -f1 "$WORK/want.tsv") <(cut -f1 "$WORK/got.tsv") | head -5 >&2 || true
        fail "records read back differ from the events written"
    fi
}

# ---- 1. plain delivery -------------------------------------------------------
make_events 2000 >"$WORK/events.ndjson"
start_mock --topic onelogin.events:1
write_config onelogin.events
"$WRITER" -c "$WORK/out.yaml" -n 100 <"$WORK/events.ndjson" >"$WORK/w1.out" 2>"$WORK/w1.err" ||
    fail "writer failed"
[ "$(tail -1 "$WORK/w1.out")" = "acked 2000" ] || fail "writer did not ack 2000"
consume onelogin.events
check_exact "$WORK/events.ndjson"
echo "ok 1 - 2000 events delivered exactly once, in order, key = id"

# ---- 2. the leader down for 10 s in the middle --------------------------------
stop_mock
start_mock --topic onelogin.events:1
write_config onelogin.events
rm -f "$WORK/w.in"
mkfifo "$WORK/w.in"
"$WRITER" -c "$WORK/out.yaml" -n 100 -f 500 -r 200 <"$WORK/w.in" >"$WORK/w2.out" \
    2>"$WORK/w2.err" &
WRITER_PID=$!
exec 8>"$WORK/w.in"
head -n 1000 "$WORK/events.ndjson" >&8
end=$(($(date +%s) + 30))
until [ "$(tail -1 "$WORK/w2.out" 2>/dev/null)" = "acked 1000" ] || [ "$(date +%s)" -gt "$end" ]; do
    sleep 0.1
done
[ "$(tail -1 "$WORK/w2.out")" = "acked 1000" ] || fail "first half not acknowledged"
mock_cmd down 1
# The writer stops reading while it retries: feed the rest from the background.
tail -n +1001 "$WORK/events.ndjson" >&8 &
FEED_PID=$!
sleep 10
[ "$(tail -1 "$WORK/w2.out")" = "acked 1000" ] ||
    fail "a batch was acknowledged while the leader was down: $(tail -1 "$WORK/w2.out")"
grep -q 'retry' "$WORK/w2.err" || fail "the output never answered RETRY while down"
mock_cmd up 1
wait "$FEED_PID"
exec 8>&-
wait "$WRITER_PID" || fail "writer failed after the broker came back"
WRITER_PID=""
[ "$(tail -1 "$WORK/w2.out")" = "acked 2000" ] || fail "writer did not ack 2000"
grep -q 'broker down' "$WORK/w2.err" || fail "no 'broker down' log line"
grep -q 'delivery resumed' "$WORK/w2.err" || fail "no 'delivery resumed' log line"
[ "$(grep -c 'broker down' "$WORK/w2.err")" -le 2 ] || fail "'broker down' logged per retry"
consume onelogin.events
check_exact "$WORK/events.ndjson"
echo "ok 2 - leader down 10 s mid-stream: RETRY, resumed, every event exactly once"

# ---- 3. a record too large for the broker ----------------------------------
stop_mock
start_mock --topic onelogin.big:1
write_config onelogin.big "properties:" "  message.max.bytes: 2000"
make_events 300 >"$WORK/small.ndjson"
big=$(printf '{"id":999999,"created_at":"2022-08-08T11:00:00.000Z","event_type_id":5,"notes":"%s"}' \
    "$(head -c 5000 /dev/zero | tr '\0' 'x')")
{
    head -n 150 "$WORK/small.ndjson"
    echo "$big"
    tail -n +151 "$WORK/small.ndjson"
} >"$WORK/mixed.ndjson"
"$WRITER" -c "$WORK/out.yaml" -n 50 <"$WORK/mixed.ndjson" >"$WORK/w3.out" 2>"$WORK/w3.err" ||
    fail "writer failed with a too-large record"
[ "$(tail -1 "$WORK/w3.out")" = "acked 301" ] || fail "writer did not ack all 301 records"
grep -q 'dead letters 1' "$WORK/w3.err" || fail "dead letter not counted"
[ "$(wc -l <"$WORK/dead.ndjson")" = 1 ] || fail "dead-letter file should hold 1 line"
grep -q '"reason":"kafka: Broker: Message size too large' "$WORK/dead.ndjson" ||
    fail "dead letter has no reason: $(head -c 300 "$WORK/dead.ndjson")"
grep -q '999999' "$WORK/dead.ndjson" || fail "dead letter lacks the record"
consume onelogin.big
check_exact "$WORK/small.ndjson"
echo "ok 3 - a too-large record went to the dead-letter file, the rest delivered"
stop_mock
