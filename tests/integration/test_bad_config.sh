#!/usr/bin/env bash
# Bad configurations exit 2 with "file:line: what is wrong".
. "$(dirname "$0")/../lib/common.sh"

OLSIM_URL=http://127.0.0.1:9
good="$T_DIR/good.yaml"
write_config "$good"
"$OLAGENT" check -c "$good" >"$T_DIR/check.out" 2>&1 || fail "good config rejected: $(cat "$T_DIR/check.out")"
! grep -q "$ONELOGIN_CLIENT_SECRET" "$T_DIR/check.out" || fail "check printed the secret"

expect_bad() {
    local name=$1 pattern=$2 file="$T_DIR/$1.yaml" rc
    "$OLAGENT" check -c "$file" >"$T_DIR/$name.out" 2>&1
    rc=$?
    [ "$rc" -eq 2 ] || fail "$name: exit $rc, want 2 ($(cat "$T_DIR/$name.out"))"
    grep -Eq "$pattern" "$T_DIR/$name.out" || fail "$name: message '$(cat "$T_DIR/$name.out")' does not match '$pattern'"
    "$OLAGENT" run -c "$file" >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 2 ] || fail "$name: run exit $rc, want 2"
}

sed 's/^  poll_interval:/  pol_interval:/' "$good" >"$T_DIR/unknown_key.yaml"
expect_bad unknown_key "unknown_key.yaml:[0-9]+: .*pol_interval"
sed 's/^  page_size: .*/  page_size: ten/' "$good" >"$T_DIR/wrong_type.yaml"
expect_bad wrong_type "wrong_type.yaml:[0-9]+: .*page_size"
sed 's/ONELOGIN_CLIENT_SECRET/OLA_TEST_UNSET_VAR/' "$good" >"$T_DIR/missing_env.yaml"
expect_bad missing_env "missing_env.yaml:[0-9]+: .*OLA_TEST_UNSET_VAR"
sed 's/^  overlap: .*/  overlap: 5 minutes/' "$good" >"$T_DIR/bad_duration.yaml"
expect_bad bad_duration "bad_duration.yaml:[0-9]+: .*overlap"
printf 'onelogin: [\n' >"$T_DIR/syntax.yaml"
expect_bad syntax "syntax.yaml:[0-9]+: "
cp "$good" "$T_DIR/unreadable.yaml"
chmod 000 "$T_DIR/unreadable.yaml"
if [ "$(id -u)" -ne 0 ]; then
    expect_bad unreadable "unreadable.yaml: "
else
    # root reads anything: a directory is the unreadable file then
    rm -f "$T_DIR/unreadable.yaml"
    mkdir "$T_DIR/unreadable.yaml"
    expect_bad unreadable "unreadable.yaml: "
fi
# a backreference passes glibc's regcomp and then crashes regexec (CVE-2019-9192:
# `replay` of one event died of SIGSEGV before the guard); refused at load now
printf 'rules:\n  - name: backref\n    match: {field: user_name, regex: "(|)(\\\\1\\\\1)*"}\n    tags: [x]\n' \
    >"$T_DIR/backref-rules.yaml"
write_config "$T_DIR/backref.yaml" "rules: [backref-rules.yaml]
outputs:
  - type: stdout"
expect_bad backref 'backref-rules.yaml:3: bad regex .*backreference \\1 at character 5'
echo '{"id":1,"created_at":"2026-11-23T10:00:00.000Z","event_type_id":5,"user_name":"a"}' |
    "$OLAGENT" replay -c "$T_DIR/backref.yaml" - >/dev/null 2>"$T_DIR/backref-replay.err"
rc=$?
[ "$rc" -eq 2 ] || fail "replay with a backreference: exit $rc, want 2 ($(tail -2 "$T_DIR/backref-replay.err"))"
"$OLAGENT" check -c "$T_DIR/does-not-exist.yaml" >"$T_DIR/missing.out" 2>&1
[ $? -eq 2 ] || fail "a missing file should exit 2"
"$OLAGENT" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown command should exit 2"
"$OLAGENT" --version | grep -q '^olagent ' || fail "--version"

# valid but unsafe: TLS checks of the Kafka brokers turned off draws a warning
start_olsim --events 1
write_config "$T_DIR/noverify.yaml" "outputs:
  - type: kafka
    brokers: 127.0.0.1:9
    topic: onelogin.events
    properties:
      security.protocol: ssl
      ssl.endpoint.identification.algorithm: none"
"$OLAGENT" check -c "$T_DIR/noverify.yaml" >"$T_DIR/noverify.out" 2>&1 ||
    fail "a config with verification off should still load: $(cat "$T_DIR/noverify.out")"
grep -q 'noverify.yaml:[0-9]*: properties.ssl.endpoint.identification.algorithm: none turns off' \
    "$T_DIR/noverify.out" || fail "no warning for TLS verification off: $(cat "$T_DIR/noverify.out")"
echo "bad configs: each exits 2 with file:line"
