#!/usr/bin/env bash
# demo.sh - installs what is missing, builds, and tails a simulated tenant.
#
# Starts olsim (the OneLogin simulator) with a seeded tenant on a free
# loopback port, adding events every second, and runs olagent against it,
# printing events to stdout. Ctrl-C stops both.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" "$top/build" >&2
work=$(mktemp -d "${TMPDIR:-/tmp}/olagent-demo.XXXXXX")
export ONELOGIN_CLIENT_ID=demo-client ONELOGIN_CLIENT_SECRET=demo-secret
"$top/build/tests/olsim" --listen 127.0.0.1:0 --port-file "$work/port" --seed 42 \
    --events 200 --span 1h --rate 2 --late-fraction 0.05 --late-max 30s \
    --scenario bruteforce --scenario superuser \
    --catalog "$top/config/event-types.json" \
    --client-id "$ONELOGIN_CLIENT_ID" --client-secret "$ONELOGIN_CLIENT_SECRET" \
    >"$work/olsim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$work"' EXIT
deadline=$((SECONDS + 10))
while [ ! -s "$work/port" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
[ -s "$work/port" ] || { echo "olsim did not start: $(cat "$work/olsim.log")" >&2; exit 1; }
port=$(cat "$work/port")
cp "$top/config/event-types.json" "$work/"
cat >"$work/olagent.yaml" <<YAML
onelogin:
  base_url: http://127.0.0.1:$port
  client_id: \${ONELOGIN_CLIENT_ID}
  client_secret: \${ONELOGIN_CLIENT_SECRET}
  poll_interval: 2s
  start: -2h
  overlap: 1m
  late_sweep: 10s
  settle: 2s
checkpoint:
  path: $work/state/checkpoint.json
metrics: false
outputs:
  - type: stdout
YAML
echo "olsim on http://127.0.0.1:$port; olagent tailing it (Ctrl-C stops both)" >&2
"$top/build/olagent" run -c "$work/olagent.yaml" || true
