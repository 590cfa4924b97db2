#!/usr/bin/env bash
# First run without copying files around: a minimal config (base_url,
# client_id, client_secret, one stdout output; metrics off only because a
# test may not hold the fixed default port) in a directory with no
# event-types.json and no rule file:
#  1. `check` says the built-in catalog and the built-in rule pack are in force;
#  2. `run` against an olsim tenant seeded with attack bursts delivers every
#     event classified from the built-in catalog, and the default alerts fire
#     (brute_force_user, password_spray, mfa_fatigue; the grant is tagged);
#  3. `replay` of those events shows what the keys do: `default_rules: false`
#     gives no alert and no rule tag, a listed rule named like a built-in one
#     replaces it (enabled: false turns it off), and a `catalog:` file is used
#     instead of the built-in catalog.
# ctest-cost: 25
. "$(dirname "$0")/../lib/common.sh"

D="$T_DIR/first"
mkdir -p "$D"
start_olsim --seed 11 --events 1500 --users 200 --span 6h --page-max 100 \
    --scenario bruteforce --scenario spray --scenario mfa_fatigue --scenario superuser

cat >"$D/olagent.yaml" <<YAML
onelogin:
  base_url: $OLSIM_URL
  client_id: \${ONELOGIN_CLIENT_ID}
  client_secret: \${ONELOGIN_CLIENT_SECRET}
outputs: [{type: stdout}]
metrics: false
YAML
[ ! -e "$D/event-types.json" ] || fail "the test directory already has a catalog"

# ---- 1: check names the built-ins --------------------------------------------
(cd "$D" && "$OLAGENT" check -c olagent.yaml) >"$T_DIR/check.out" 2>"$T_DIR/check.err" ||
    fail "check of the minimal config failed: $(cat "$T_DIR/check.err")"
grep -qx 'catalog: built-in' "$T_DIR/check.out" ||
    fail "check does not say the built-in catalog is in force: $(tail -3 "$T_DIR/check.out")"
grep -qx 'rules: built-in default pack' "$T_DIR/check.out" ||
    fail "check does not say the built-in rules are in force: $(tail -3 "$T_DIR/check.out")"

# ---- 2: run end to end ---------------------------------------------------------
t_log "minimal config against olsim"
: >"$T_DIR/out.ndjson"
cd "$D" || fail "cd $D"
start_agent olagent.yaml "$T_DIR/out.ndjson"
cd - >/dev/null || fail "cd back"
wait_for_truth "$T_DIR/out.ndjson" 90 || fail "backfill incomplete: $(tail -5 "$T_DIR/agent.err")"
# the alert records ride in the batch that completes each burst
sleep 2
stop_agent || fail "olagent exited $? after SIGTERM: $(tail -5 "$T_DIR/agent.err")"
assert_exact "$T_DIR/out.ndjson"
[ -s "$D/state/checkpoint.json" ] || fail "no checkpoint at the default path"

# rules present and alerts as in test_alerts.sh, from the compiled-in pack
python3 - "$T_DIR/out.ndjson" <<'PY' || fail "built-in catalog or rules not applied"
import json, sys
events, alerts = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    rec = json.loads(line)
    a = rec.get("olagent", {}).get("alert")
    (alerts if a is not None else events).append(a if a is not None else rec)
# the login-attack rules (the pack's other alerts also fire on the background)
attack = {"brute_force_user", "brute_force_ip", "password_spray", "mfa_fatigue",
          "login_after_failures"}
got = sorted(a["rule"] for a in alerts if a["rule"] in attack)
want = ["brute_force_user", "mfa_fatigue", "password_spray"]
assert got == want, "alerts: got %s, want %s" % (got, want)
named = [e for e in events if e["olagent"].get("event_type", {}).get("name")]
assert len(named) == len(events), "%d of %d events unnamed" % (len(events) - len(named), len(events))
for e in events:
    if e["event_type_id"] == 6:
        et = e["olagent"]["event_type"]
        assert et["name"] == "USER_FAILED_ONELOGIN_LOGIN", et
        assert "login_failure" in et["categories"], et
grants = [e for e in events if e["event_type_id"] == 72]
assert grants and all("privilege_grant" in g["olagent"]["tags"] for g in grants), grants
print("first run: %d events named from the built-in catalog, alerts %s" % (len(events), got))
PY

# ---- 3: the keys, through replay of the delivered events ---------------------
grep -v '"alert"' "$T_DIR/out.ndjson" | python3 -c '
import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    ev.pop("olagent", None)
    print(json.dumps(ev))
' >"$T_DIR/events.ndjson"

# replay_with NAME EXTRA_YAML: replays the events with the minimal config plus EXTRA.
replay_with() {
    local name=$1 extra=$2
    { cat "$D/olagent.yaml"; printf '%s\n' "$extra"; } >"$D/$name.yaml"
    "$OLAGENT" replay -c "$D/$name.yaml" "$T_DIR/events.ndjson" >"$T_DIR/$name.out" \
        2>"$T_DIR/$name.err" || fail "replay $name failed: $(cat "$T_DIR/$name.err")"
}

# alerts_of FILE [all]: the rules of the alert records, sorted, comma-separated;
# those of the login-attack rules only, unless "all".
alerts_of() {
    python3 -c '
import json, sys
attack = {"brute_force_user", "brute_force_ip", "password_spray", "mfa_fatigue",
          "login_after_failures"}
rules = [json.loads(l)["olagent"]["alert"]["rule"]
         for l in open(sys.argv[1]) if "\"alert\"" in l]
print(",".join(sorted(r for r in rules if len(sys.argv) > 2 or r in attack)))' "$@"
}

replay_with builtin ""
[ "$(alerts_of "$T_DIR/builtin.out")" = "brute_force_user,mfa_fatigue,password_spray" ] ||
    fail "replay with the built-in pack: alerts '$(alerts_of "$T_DIR/builtin.out")'"

replay_with off "default_rules: false"
[ -z "$(alerts_of "$T_DIR/off.out" all)" ] || fail "default_rules: false still alerts"
! grep -q '"privilege_grant"' "$T_DIR/off.out" || fail "default_rules: false still tags"
grep -q '"USER_FAILED_ONELOGIN_LOGIN"' "$T_DIR/off.out" ||
    fail "default_rules: false lost the built-in catalog"

cat >"$D/my-rules.yaml" <<'YAML'
rules:
  - name: brute_force_user
    enabled: false
  - name: mfa_fatigue
    tags: [mfa_fatigue_mine]
    alert:
      kind: count
      match: {event_type: [950]}
      key: user_id
      threshold: 3
      window: 5m
YAML
replay_with mine "rules: [my-rules.yaml]"
[ "$(alerts_of "$T_DIR/mine.out")" = "mfa_fatigue,password_spray" ] ||
    fail "a listed rule should replace the built-in one: alerts '$(alerts_of "$T_DIR/mine.out")'"
grep -q '"mfa_fatigue_mine"' "$T_DIR/mine.out" || fail "the replacing rule did not run"
! grep -q '"tags":\[[^]]*"mfa_fatigue"' "$T_DIR/mine.out" ||
    fail "the replaced built-in rule still ran"

# a catalog file replaces the built-in one: the shipped list with id 6 renamed
python3 - "$OLA_SOURCE_DIR/config/event-types.json" "$D/types.json" <<'PY'
import json, sys
types = json.load(open(sys.argv[1]))
for t in types:
    if t["id"] == 6:
        t["name"] = "RENAMED_FAILED_LOGIN"
        t["categories"].append("watched")
json.dump(types, open(sys.argv[2], "w"))
PY
replay_with cat "catalog: types.json"
grep -q '"RENAMED_FAILED_LOGIN"' "$T_DIR/cat.out" || fail "the catalog file did not rename id 6"
grep -q '"watched"' "$T_DIR/cat.out" || fail "the catalog file's categories were not applied"
! grep -q '"USER_FAILED_ONELOGIN_LOGIN"' "$T_DIR/cat.out" || fail "the built-in catalog was used"
"$OLAGENT" check -c "$D/cat.yaml" 2>/dev/null | grep -qx "catalog: $D/types.json" ||
    fail "check does not name the catalog file"

echo "first run: built-in catalog and rules, no files copied; the keys add and override"
