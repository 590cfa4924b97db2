#!/usr/bin/env bash
# tenants.sh - what a tenant costs: RSS and CPU of an idle olagent serving 1,
# 10 and 50 tenants, each with its users cached, against the library floor;
# and each tenant's API calls per hour in steady tail.
#
#   tests/bench/tenants.sh BUILD_DIR [--counts "1 10 50"] [--users N]
#                          [--events N] [--idle SECONDS] [--plain]
#
# For each count N: olsim --tenants N (each tenant USERS users and EVENTS
# pre-generated events, so nearly every user is looked up and cached), one
# olagent with N tenants to stdout (/dev/null); once every event is delivered
# and the agent has idled, RSS (VmRSS, VmHWM, RssAnon) is sampled, and CPU
# (utime + stime) and each tenant's API requests (olsim's counters) are
# measured over IDLE seconds of steady tail. The floor is ola_lib_floor
# (the same libraries, linked and initialised, no work), measured in the
# same run. The agent runs with the environment docker/olagent.service gives
# it (its GLIBC_TUNABLES line; the Docker image sets the same), as deployed;
# --plain runs it without. Prints a markdown section on stdout; progress on
# stderr.
# Figures, not pass/fail: not part of the test suite.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--counts LIST] [--users N] [--events N] [--idle S] [--plain]" >&2; exit 2; }
bdir=$(cd "$1" && pwd)
shift
counts="1 10 50" users=2000 events=8000 idle=60 plain=0
while [ $# -gt 0 ]; do
    case "$1" in
    --counts) counts=$2; shift ;;
    --users) users=$2; shift ;;
    --events) events=$2; shift ;;
    --idle) idle=$2; shift ;;
    --plain) plain=1 ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
top=$(cd "$(dirname "$0")/../.." && pwd)
OLAGENT="$bdir/olagent" OLSIM="$bdir/tests/olsim" TOOLS="$bdir/tests"
tunables=
[ "$plain" = 1 ] ||
    tunables=$(sed -n 's/^Environment=GLIBC_TUNABLES=//p' "$top/docker/olagent.service")
work=$(mktemp -d "${TMPDIR:-/tmp}/olatenants.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# until_true SECONDS CMD...: polls CMD every 0.5 s until it succeeds or the deadline.
until_true() {
    local end=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.5
    done
}

mem_of() { # PID: "rss_kb hwm_kb anon_kb"
    awk '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } /^RssAnon/ { a = $2 }
         END { print r + 0, h + 0, a + 0 }' "/proc/$1/status"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

lib_floor() { # sets FLOOR_RSS FLOOR_ANON (kB)
    local pid m
    "$TOOLS/ola_lib_floor" >"$work/floor.out" 2>&1 &
    pid=$!
    pids+=("$pid")
    until_true 10 grep -q ready "$work/floor.out"
    sleep 1
    m=$(mem_of "$pid")
    set -- $m
    FLOOR_RSS=$1 FLOOR_ANON=$3
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
}

metric_sum() { # NAME: the sum of NAME's samples on the agent's endpoint
    curl -s "http://127.0.0.1:$mport/metrics" |
        awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }'
}
all_delivered() { [ "$(metric_sum olagent_events_delivered_total)" -ge "$1" ]; }
api_requests() { # the agent's API requests to every tenant, from olsim's counters
    local k n=0 r
    for k in $(seq 1 "$1"); do
        r=$(curl -s "http://127.0.0.1:$sport/_sim/stats?tenant=t$k" |
            python3 -c 'import json,sys; d=json.load(sys.stdin)["requests"]; print(sum(v for v in d.values() if isinstance(v,int)))')
        n=$((n + r))
    done
    echo "$n"
}

hz=$(getconf CLK_TCK)
rows=()
for n in $counts; do
    log "tenants: $n tenants, $users users and $events events each"
    lib_floor
    rm -f "$work/port"
    "$OLSIM" --listen 127.0.0.1:0 --port-file "$work/port" --seed 7 --tenants "$n" \
        --users "$users" --events "$events" --span 6h --page-max 1000 --rate-limit 1000000 \
        --catalog "$top/config/event-types.json" --client-id bench --client-secret bench \
        >"$work/olsim.log" 2>&1 &
    spid=$!
    pids+=("$spid")
    until_true 60 test -s "$work/port"
    sport=$(cat "$work/port")
    {
        cat <<YAML
onelogin:
  base_url: http://127.0.0.1:$sport
  poll_interval: 10s
  page_size: 1000
  start: -7h
  late_sweep: 1m
tenants:
YAML
        for k in $(seq 1 "$n"); do
            if [ "$n" = 1 ]; then id=bench secret=bench; else id=bench-t$k secret=bench-t$k; fi
            printf '  - name: t%s\n    client_id: %s\n    client_secret: %s\n' "$k" "$id" "$secret"
        done
        cat <<YAML
checkpoint:
  path: $work/state$n/{tenant}.json
metrics:
  listen: 127.0.0.1:0
log:
  level: warn
enrich:
  cache: {entries: $((users * 2)), ttl: 2h}
outputs:
  - type: stdout
YAML
    } >"$work/t$n.yaml"
    : >"$work/agent$n.err"
    GLIBC_TUNABLES=$tunables "$OLAGENT" run -c "$work/t$n.yaml" >/dev/null 2>"$work/agent$n.err" &
    apid=$!
    pids+=("$apid")
    # the port is logged at info, which warn hides: ask the kernel
    until_true 30 sh -c "ss -ltnp 2>/dev/null | grep -q 'pid=$apid,'"
    mport=$(ss -ltnp 2>/dev/null | awk -v p="pid=$apid," 'index($0, p) { split($4, a, ":"); print a[length(a)]; exit }')
    t0=$(date +%s)
    until_true 1800 all_delivered $((n * events)) || { log "not all delivered: $(metric_sum olagent_events_delivered_total)"; exit 1; }
    fill=$(($(date +%s) - t0))
    cached=$(metric_sum olagent_enrich_cache_misses_total)
    sleep 30 # the idle trim after the backfill, and its last windows and sweep done
    req0=$(api_requests "$n")
    c0=$(cpu_ticks "$apid")
    sleep "$idle"
    c1=$(cpu_ticks "$apid")
    req1=$(api_requests "$n")
    m=$(mem_of "$apid")
    set -- $m
    rss=$1 hwm=$2 anon=$3
    cpu_ms=$(((c1 - c0) * 1000 / hz))
    per_hour=$(python3 -c "print(round(($req1 - $req0) / $n * 3600 / $idle))")
    rows+=("| $n | $((cached / n)) | ${fill}s | $rss | $anon | $FLOOR_RSS | $((rss - FLOOR_RSS)) | $(((rss - FLOOR_RSS) / n)) | $hwm | $(python3 -c "print('%.2f' % ($cpu_ms / $idle / 10))")% | $per_hour |")
    log "  rss $rss kB (floor $FLOOR_RSS), cpu ${cpu_ms} ms in ${idle}s, $per_hour calls/tenant/h"
    kill -TERM "$apid"
    wait "$apid" 2>/dev/null || true
    kill -TERM "$spid"
    wait "$spid" 2>/dev/null || true
done

if [ -n "$tunables" ]; then
    env_note="The agent runs as docker/olagent.service and the Docker image run it: \`GLIBC_TUNABLES=$tunables\`."
else
    env_note="The agent runs without the \`GLIBC_TUNABLES\` that docker/olagent.service sets (\`--plain\`)."
fi
cat <<EOF
## 4. Tenants: what each one costs

\`tests/bench/tenants.sh\`: one olagent with 1, 10 and 50 tenants (olsim \`--tenants\`), each with
$users users and $events events (nearly every user looked up and cached), delivered to stdout;
then ${idle} s of steady tail (10 s polls, 1 min late sweeps). RSS in kB, sampled after the
idle period; the floor is \`ola_lib_floor\` (the same libraries, linked and initialised, no
work) measured in the same run. CPU is the agent's user + system time over the idle period.
API calls are olsim's count of the agent's requests per tenant, scaled to an hour.
$env_note

| tenants | users cached per tenant | backfill | RSS | anon | floor RSS | over the floor | over the floor per tenant | peak RSS | CPU idle | API calls per tenant per hour |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
printf '%s\n' "${rows[@]}"
