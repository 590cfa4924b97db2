#!/usr/bin/env bash
# The metrics reference in docs/operations.md is what the agent serves: a
# running agent (a backfill with a fault, enrichment, two outputs) is scraped,
# and every family in the table must be served with its documented type and
# exactly its documented labels, and every served family must be in the table.
. "$(dirname "$0")/../lib/common.sh"

start_olsim --seed 11 --events 400 --page-max 50 --fault 500:1
write_config "$T_DIR/a.yaml" "outputs:
  - type: stdout
  - type: file
    path: $T_DIR/files/events.ndjson"
sed -i 's/^metrics: false$/metrics:\n  listen: 127.0.0.1:0/' "$T_DIR/a.yaml"
: >"$T_DIR/a.ndjson"
start_agent "$T_DIR/a.yaml" "$T_DIR/a.ndjson"

metrics_port
wait_for_truth "$T_DIR/a.ndjson" 60 || fail "backfill incomplete"
curl -s -f "http://127.0.0.1:$METRICS_PORT/metrics" >"$T_DIR/scrape.txt" || fail "no /metrics"
stop_agent || fail "olagent exited $? after SIGTERM"

python3 - "$OLA_SOURCE_DIR/docs/operations.md" "$T_DIR/scrape.txt" <<'PY' || fail "docs/operations.md and /metrics disagree"
import re, sys

doc, scrape = sys.argv[1], sys.argv[2]
# the table: | `name` | type | labels | meaning |; the labels are the
# backticked names before the first "=" (after it come the label's values)
documented = {}
in_table = False
for line in open(doc, encoding="utf-8"):
    if line.startswith("## "):
        in_table = line.strip() == "## Metrics reference"
        continue
    m = re.match(r"^\|\s*`(olagent_[a-z0-9_]+)`\s*\|\s*(\w+)\s*\|([^|]*)\|", line)
    if in_table and m:
        labels = set(re.findall(r"`([a-z_]+)`", m.group(3).split("=")[0]))
        documented[m.group(1)] = (m.group(2), labels)

types, labels = {}, {}
for line in open(scrape, encoding="utf-8"):
    m = re.match(r"^# TYPE (\S+) (\S+)", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    m = re.match(r"^([a-z_0-9]+)(\{([^}]*)\})? ", line)
    if m and not line.startswith("#"):
        name = m.group(1)
        fam = name if name in types else re.sub(r"_(bucket|sum|count)$", "", name)
        names = set(re.findall(r'([a-z_]+)="', m.group(3) or ""))
        labels.setdefault(fam, set()).update(names)

bad = []
for name, (typ, labs) in sorted(documented.items()):
    if name not in types:
        bad.append("%s: documented, not served" % name)
    elif types[name] != typ:
        bad.append("%s: documented as %s, served as %s" % (name, typ, types[name]))
    elif name in labels and labels[name] != labs:
        bad.append("%s: documented labels %s, served %s"
                   % (name, sorted(labs), sorted(labels[name])))
for name in sorted(types):
    if name not in documented:
        bad.append("%s: served, not documented" % name)
for b in bad:
    print("docs/operations.md: " + b)
print("metrics reference: %d documented, %d served, %d with samples checked for labels"
      % (len(documented), len(types), sum(1 for n in documented if n in labels)))
sys.exit(1 if bad else 0)
PY
echo "docs_metrics: the metrics reference matches what the agent serves"
