#!/usr/bin/env bash
# demo.sh - installs what is missing, builds, and tails a simulated tenant.
#
# Starts olsim (the OneLogin simulator) with a seeded tenant on a free
# loopback port, adding events every second, and runs olagent against it,
# printing events to stdout. Ctrl-C stops both. DEMO_TENANTS=2 plays two
# tenants (acme and globex) in one olagent; each record names its tenant.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" "$top/build" >&2
work=$(mktemp -d "${TMPDIR:-/tmp}/olagent-demo.XXXXXX")
export ONELOGIN_CLIENT_ID=demo-client ONELOGIN_CLIENT_SECRET=demo-secret
tenants=${DEMO_TENANTS:-1}
case $tenants in 1 | 2) ;; *) echo "DEMO_TENANTS: 1 or 2" >&2; exit 2 ;; esac
"$top/build/tests/olsim" --listen 127.0.0.1:0 --port-file "$work/port" --seed 42 \
    --tenants "$tenants" \
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
if [ "$tenants" = 1 ]; then
    account="  client_id: \${ONELOGIN_CLIENT_ID}
  client_secret: \${ONELOGIN_CLIENT_SECRET}"
    tenant_list=""
else
    # olsim's tenant tK answers to <client id>-tK / <client secret>-tK
    account=""
    tenant_list="tenants:
  - name: acme
    client_id: \${ONELOGIN_CLIENT_ID}-t1
    client_secret: \${ONELOGIN_CLIENT_SECRET}-t1
  - name: globex
    client_id: \${ONELOGIN_CLIENT_ID}-t2
    client_secret: \${ONELOGIN_CLIENT_SECRET}-t2"
fi
cat >"$work/olagent.yaml" <<YAML
onelogin:
  base_url: http://127.0.0.1:$port
$account
  poll_interval: 2s
  start: -2h
  overlap: 1m
  late_sweep: 10s
  settle: 2s
$tenant_list
checkpoint:
  path: $work/state/{tenant}.json
metrics: false
outputs:
  - type: stdout
YAML
echo "olsim on http://127.0.0.1:$port; olagent tailing it (Ctrl-C stops both)" >&2
"$top/build/olagent" run -c "$work/olagent.yaml" || true
