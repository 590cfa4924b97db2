#!/usr/bin/env bash
# `olagent rules import-sigma` on Sigma's own OneLogin rules as published
# (tests/data/sigma/*.yml, source commit in each file's header): each converts
# whole (exit 0, nothing on stderr), and the converted rule, given the cases
# written from the Sigma rule's intent (tests/data/sigma/cases/), passes
# `olagent rules test`; a flipped case fails it. Then the command's edges:
# several files into one rule file, -o with a CIDR list written beside it,
# exit 1 with file:line for what cannot be converted, 2 for unreadable input.
. "$(dirname "$0")/../lib/common.sh"

DATA="$OLA_DATA_DIR/sigma"

# with_cases RULES CASES OUT: RULES with its one `tests: []` replaced by CASES.
with_cases() {
    awk -v cases="$2" '
        /^    tests: \[\]$/ { print "    tests:"; while ((getline l < cases) > 0) print l; next }
        { print }' "$1" >"$3"
}

for rule in "$DATA"/*.yml; do
    name=$(basename "$rule" .yml)
    out="$T_DIR/$name.yaml"
    "$OLAGENT" rules import-sigma "$rule" >"$out" 2>"$T_DIR/$name.err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$name: import exit $rc: $(cat "$T_DIR/$name.err")"
    [ ! -s "$T_DIR/$name.err" ] || fail "$name: import said: $(cat "$T_DIR/$name.err")"
    [ "$(grep -c '^  - name: ' "$out")" -eq 1 ] || fail "$name: not one rule: $(cat "$out")"
    grep -q "^  # From Sigma .*$name.yml" "$out" || fail "$name: no source comment"
    grep -q '^    severity: low$' "$out" || fail "$name: level low not carried: $(cat "$out")"
    cases="$DATA/cases/$name.yaml"
    [ -f "$cases" ] || fail "$name: no cases in $cases"
    with_cases "$out" "$cases" "$T_DIR/$name.test.yaml"
    "$OLAGENT" rules test "$T_DIR/$name.test.yaml" >"$T_DIR/$name.test.out" 2>&1
    rc=$?
    n=$(grep -c '^      - name: ' "$cases")
    [ "$rc" -eq 0 ] || fail "$name: rules test exit $rc: $(cat "$T_DIR/$name.test.out")"
    grep -q "^$n cases: $n passed, 0 failed$" "$T_DIR/$name.test.out" ||
        fail "$name: want $n cases passed: $(cat "$T_DIR/$name.test.out")"
    # the cases decide: one expectation flipped fails the run
    sed '0,/^        expect: true$/s//        expect: false/' "$T_DIR/$name.test.yaml" >"$T_DIR/$name.flip.yaml"
    "$OLAGENT" rules test "$T_DIR/$name.flip.yaml" >"$T_DIR/$name.flip.out" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || fail "$name: a flipped case did not fail (exit $rc)"
done

# what each published rule became
grep -q '^    match: {field: event_type_id, equals: 3}$' "$T_DIR/onelogin_assumed_another_user.yaml" ||
    fail "assumed: $(cat "$T_DIR/onelogin_assumed_another_user.yaml")"
for id in 532 553 551; do
    grep -q "^        - {field: event_type_id, equals: $id}$" "$T_DIR/onelogin_user_account_locked.yaml" ||
        fail "locked: no $id: $(cat "$T_DIR/onelogin_user_account_locked.yaml")"
done

# both into one file
"$OLAGENT" rules import-sigma -o "$T_DIR/both.yaml" "$DATA"/*.yml 2>"$T_DIR/both.err" ||
    fail "both: exit $?: $(cat "$T_DIR/both.err")"
[ "$(grep -c '^  - name: sigma_onelogin_' "$T_DIR/both.yaml")" -eq 2 ] || fail "both: $(cat "$T_DIR/both.yaml")"
"$OLAGENT" rules test "$T_DIR/both.yaml" >/dev/null 2>&1 || fail "both: the file does not load"

# a CIDR list is written beside -o's file and the rule file loads it
mkdir "$T_DIR/out"
cat >"$T_DIR/cidr.yml" <<'EOF'
title: Login from the lab
logsource: {product: onelogin}
detection:
    sel:
        event_type_id: 5
        ipaddr|cidr: [10.20.0.0/16, '2001:db8::/32']
    condition: sel
level: medium
EOF
"$OLAGENT" rules import-sigma -o "$T_DIR/out/lab.yaml" "$T_DIR/cidr.yml" 2>"$T_DIR/cidr.err" ||
    fail "cidr: exit $?: $(cat "$T_DIR/cidr.err")"
list="$T_DIR/out/sigma_login_from_the_lab_cidr1.txt"
grep -qx '10.20.0.0/16' "$list" || fail "cidr: list file: $(cat "$list" 2>&1)"
grep -q "wrote list file $list" "$T_DIR/cidr.err" || fail "cidr: not said: $(cat "$T_DIR/cidr.err")"
cat >"$T_DIR/cidr.cases" <<'EOF'
      - {name: from the lab, expect: true, event: {event_type_id: 5, ipaddr: "10.20.3.4"}}
      - {name: from v6 lab, expect: true, event: {event_type_id: 5, ipaddr: "2001:db8::9"}}
      - {name: from elsewhere, expect: false, event: {event_type_id: 5, ipaddr: "10.21.0.1"}}
EOF
with_cases "$T_DIR/out/lab.yaml" "$T_DIR/cidr.cases" "$T_DIR/out/lab.test.yaml"
"$OLAGENT" rules test "$T_DIR/out/lab.test.yaml" >"$T_DIR/cidr.out" 2>&1 ||
    fail "cidr: rules test: $(cat "$T_DIR/cidr.out")"

# exit 1: a rule skipped, named by file:line; the others still converted
cat >"$T_DIR/agg.yml" <<'EOF'
title: Many failures
logsource: {product: onelogin}
detection:
    sel: {event_type_id: 6}
    condition: sel | count() by ipaddr > 10
EOF
"$OLAGENT" rules import-sigma "$T_DIR/agg.yml" "$DATA/onelogin_assumed_another_user.yml" \
    >"$T_DIR/agg.yaml" 2>"$T_DIR/agg.err"
rc=$?
[ "$rc" -eq 1 ] || fail "agg: exit $rc, want 1"
grep -q "agg.yml:5: rule 'Many failures': skipped: aggregation '| count() by ipaddr > 10'" "$T_DIR/agg.err" ||
    fail "agg: message: $(cat "$T_DIR/agg.err")"
grep -q '^  - name: sigma_onelogin_user_assumed_another_user$' "$T_DIR/agg.yaml" || fail "agg: the good rule is missing"
! grep -q 'many_failures' "$T_DIR/agg.yaml" || fail "agg: the skipped rule was written"

# exit 2: unreadable input (and bad YAML), usage
"$OLAGENT" rules import-sigma "$T_DIR/nope.yml" "$DATA/onelogin_assumed_another_user.yml" \
    >"$T_DIR/nope.yaml" 2>"$T_DIR/nope.err"
rc=$?
[ "$rc" -eq 2 ] || fail "nope: exit $rc, want 2"
grep -q "nope.yml: cannot read" "$T_DIR/nope.err" || fail "nope: $(cat "$T_DIR/nope.err")"
grep -q '^  - name: sigma_onelogin_user_assumed_another_user$' "$T_DIR/nope.yaml" || fail "nope: the good rule is missing"
printf 'title: [\n' >"$T_DIR/syntax.yml"
"$OLAGENT" rules import-sigma "$T_DIR/syntax.yml" >/dev/null 2>"$T_DIR/syntax.err"
rc=$?
[ "$rc" -eq 2 ] || fail "syntax: exit $rc, want 2"
grep -q "syntax.yml:[0-9]*: YAML syntax error" "$T_DIR/syntax.err" || fail "syntax: $(cat "$T_DIR/syntax.err")"
"$OLAGENT" rules import-sigma >/dev/null 2>&1
[ $? -eq 2 ] || fail "no FILE: want exit 2"
exit 0
