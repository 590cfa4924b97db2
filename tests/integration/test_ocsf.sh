#!/usr/bin/env bash
# Every OCSF record olagent writes validates against the OCSF release it names.
# olsim renders one event of every type in the catalog (config/event-types.json);
# `olagent replay` turns them, with the default rule pack on (so alerts too), into
# OCSF records in a file; tests/tools/ocsf_validate.py checks each record against
# tests/data/ocsf/ocsf-<version>.json, data extracted from the schema itself
# (tests/tools/ocsf_schema_extract.py): required attributes of the class and of every
# object, constraints, types, enum values and their captions, type_uid and
# category_uid. It also checks that every catalog type came out, with the class,
# activity and status the table in docs/formats.md gives it. The format golden file
# (tests/data/formats/expected.ocsf.txt: null fields, unknown types, alerts) is
# validated too, as test_formats keeps it equal to what the code writes.
. "$(dirname "$0")/../lib/common.sh"

SCHEMA=$(ls "$OLA_DATA_DIR"/ocsf/ocsf-*.json)
[ "$(echo "$SCHEMA" | wc -l)" -eq 1 ] || fail "expected one schema data file: $SCHEMA"
CATALOG="$OLA_SOURCE_DIR/config/event-types.json"

start_olsim --events 0 --seed 21
python3 - "$OLSIM_URL" "$CATALOG" <<'PY' || fail "could not insert the catalog's events"
import json, sys, urllib.request
url, catalog = sys.argv[1], json.load(open(sys.argv[2]))
for t in catalog:
    body = json.dumps({"event_type_id": t["id"], "count": 2, "interval_ms": 1000}).encode()
    req = urllib.request.Request(url + "/_sim/events", data=body,
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()
PY
sim GET /_sim/truth >"$T_DIR/in.ndjson" || fail "no truth from olsim"
[ "$(wc -l <"$T_DIR/in.ndjson")" -ge "$(($(grep -c '"id"' "$CATALOG") * 2))" ] ||
    fail "olsim holds $(wc -l <"$T_DIR/in.ndjson") events"

# The same events again with every role and group field filled in where olsim left it
# null: the classes that need a role or a group (3006) get one, so each type comes out
# with the class the table gives it (as rendered, a type whose event names no subject
# its class needs falls back to Entity Management; that pass validates too).
python3 - "$T_DIR/in.ndjson" "$T_DIR/full.ndjson" <<'PY' || fail "could not fill the events"
import json, sys
fill = {"role_id": 700999, "role_name": "Auditors", "group_id": 880999,
        "group_name": "Contractors"}
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        ev = json.loads(line)
        for k, v in fill.items():
            if ev.get(k) is None:
                ev[k] = v
        out.write(json.dumps(ev, separators=(",", ":")) + "\n")
PY

# replay NAME INPUT: OCSF records of INPUT in $T_DIR/out/NAME.ndjson (default rules on)
replay() {
    DEFAULT_RULES=true write_config "$T_DIR/$1.yaml" "enrich: false
outputs:
  - type: file
    path: $T_DIR/out/$1.ndjson
    compression: none
    format: ocsf"
    "$OLAGENT" replay -c "$T_DIR/$1.yaml" "$2" >"$T_DIR/$1.out" 2>"$T_DIR/$1.err" ||
        fail "replay of $2 exited $?: $(tail -3 "$T_DIR/$1.err")"
    grep -q '"class_uid":2004' "$T_DIR/out/$1.ndjson" || fail "$1: the default pack raised no alert"
}

# validate NAME RECORDS [options]: every record valid, else the first problems
validate() {
    local name=$1 records=$2
    shift 2
    python3 "$OLA_SOURCE_DIR/tests/tools/ocsf_validate.py" "$SCHEMA" "$records" "$@" \
        >"$T_DIR/$name.check" || fail "$name: OCSF records do not validate:
$(head -30 "$T_DIR/$name.check")
$(grep ' x ' "$T_DIR/$name.check")"
    echo "$name: $(tail -1 "$T_DIR/$name.check")" >&2
}

replay rendered "$T_DIR/in.ndjson"
validate rendered "$T_DIR/out/rendered.ndjson" --catalog "$CATALOG"
replay full "$T_DIR/full.ndjson"
validate full "$T_DIR/out/full.ndjson" --catalog "$CATALOG" --table "$OLA_SOURCE_DIR/docs/formats.md"
validate golden "$OLA_DATA_DIR/formats/expected.ocsf.txt"
echo "PASS"
