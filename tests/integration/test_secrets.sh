#!/usr/bin/env bash
# Secret-leak test: a distinctive client secret (once from the environment,
# once from a *_file) and the access token OneLogin hands out must never
# appear in anything olagent writes: stdout and stderr of every command (at
# debug log level), /metrics, /healthz, /readyz, the output files, the
# checkpoint and the dead-letter file.
. "$(dirname "$0")/../lib/common.sh"

SECRET="Zq7-leak-canary-$(date +%s%N | sha256sum | cut -c1-24)"
export ONELOGIN_CLIENT_SECRET=$SECRET
start_olsim --seed 9 --events 400 --page-max 100 --fault garbage:1

OUT_DIR="$T_DIR/files"
FILE_OUT="outputs:
  - type: stdout
  - type: file
    path: $OUT_DIR/events-%Y%m%d-%H%M%S.ndjson.gz
    rotate: {size: 20KB}
rules: [$OLA_SOURCE_DIR/config/rules/default.yaml]
metrics:
  listen: 127.0.0.1:0"
LOGLEVEL=debug PAGE=100 write_config "$T_DIR/env.yaml" "$FILE_OUT"
sed -i 's/^metrics: false$//' "$T_DIR/env.yaml"
# the same with the secret in a file (mode 0600) instead of the environment
printf '%s\n' "$SECRET" >"$T_DIR/secret"
chmod 600 "$T_DIR/secret"
sed "s|client_secret: .*|client_secret_file: $T_DIR/secret|" "$T_DIR/env.yaml" >"$T_DIR/file.yaml"

n=0
# run_cmd ARGS...: runs one olagent command, keeps its stdout and stderr.
run_cmd() {
    n=$((n + 1))
    "$OLAGENT" "$@" >"$T_DIR/cmd$n.out" 2>"$T_DIR/cmd$n.err"
    echo "$* -> $?" >>"$T_DIR/commands"
}
for cfg in env file; do
    run_cmd check -c "$T_DIR/$cfg.yaml"
    run_cmd check --online -c "$T_DIR/$cfg.yaml"
    grep -q 'client_secret' "$T_DIR/cmd$((n - 1)).out" || fail "check printed no settings"
done
run_cmd --help
run_cmd --version

# a full pipeline run, scraped while it runs
: >"$T_DIR/run.ndjson"
start_agent "$T_DIR/file.yaml" "$T_DIR/run.ndjson"
metrics_port
port=$METRICS_PORT
wait_for_truth "$T_DIR/run.ndjson" 60 || fail "events missing"
for path in metrics healthz readyz; do
    curl -s "http://127.0.0.1:$port/$path" >"$T_DIR/scrape.$path"
done
grep -q olagent_events_delivered_total "$T_DIR/scrape.metrics" || fail "empty scrape"
stop_agent || fail "olagent exited $? after SIGTERM"

head -20 "$T_DIR/run.ndjson" >"$T_DIR/saved.ndjson"
run_cmd replay -c "$T_DIR/env.yaml" "$T_DIR/saved.ndjson"
run_cmd checkpoint show -c "$T_DIR/env.yaml"
run_cmd checkpoint set -c "$T_DIR/env.yaml" --since -1h
run_cmd verify "$OUT_DIR"
grep -q 'check -c .* -> 0' "$T_DIR/commands" || fail "check failed: $(cat "$T_DIR/commands")"

# the access token olsim issued during the run (the same one is handed out
# until it expires)
TOKEN=$(curl -s -u "$ONELOGIN_CLIENT_ID:$SECRET" -H 'Content-Type: application/json' \
    -d '{"grant_type":"client_credentials"}' "$OLSIM_URL/auth/oauth2/v2/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
[ "${#TOKEN}" -ge 32 ] || fail "could not read the access token from olsim"

ls "$OUT_DIR"/*.gz >/dev/null 2>&1 || fail "no output files"
# everything olagent wrote, decompressed where needed
{
    cat "$T_DIR"/cmd*.out "$T_DIR"/cmd*.err "$T_DIR/agent.err" "$T_DIR/run.ndjson"
    cat "$T_DIR"/scrape.*
    for f in "$OUT_DIR"/*; do
        case "$f" in
        *.gz) gzip -dc "$f" ;;
        *) cat "$f" ;;
        esac
    done
    cat "$T_DIR"/state/*
} >"$T_DIR/everything" 2>/dev/null
[ "$(wc -c <"$T_DIR/everything")" -gt 100000 ] || fail "too little output to prove anything"
grep -q debug "$T_DIR/agent.err" || fail "the run did not log at debug level"
grep -c -F "$SECRET" "$T_DIR/everything" >/dev/null && fail "the client secret leaked"
grep -c -F "$TOKEN" "$T_DIR/everything" >/dev/null && fail "the access token leaked"
cat "$T_DIR/commands" >&2
echo "secrets: 0 hits for the secret and the token in $(wc -c <"$T_DIR/everything") bytes from $n commands and a full run"
