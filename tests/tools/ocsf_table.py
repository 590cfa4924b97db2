#!/usr/bin/env python3
"""ocsf_table.py - the per-type OCSF table of docs/formats.md, from olagent's output.

usage: ocsf_table.py EVENT-TYPES.json OCSF.ndjson

OCSF.ndjson is what `olagent replay` wrote with `format: ocsf` for events of every
catalog type (tests/integration/test_ocsf.sh makes one; its scratch directory is kept
with OLA_KEEP=1 or on failure). Prints one markdown row per catalog type: id, name,
class, activity, status and the Authentication details (auth_protocol, logon_type,
is_mfa, account_switch_type). Paste it into docs/formats.md after reviewing the diff;
the integration test fails when the table and the output disagree.
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    catalog = json.load(open(sys.argv[1]))
    by_type = {}
    for line in open(sys.argv[2]):
        rec = json.loads(line)
        code = (rec.get("metadata") or {}).get("event_code")
        if code is not None and rec.get("class_uid") != 2004:
            by_type.setdefault(int(code), rec)
    print("| id | type | class | activity | status | details |")
    print("|---|---|---|---|---|---|")
    for t in catalog:
        r = by_type.get(t["id"])
        if r is None:
            sys.exit("no record of type %d" % t["id"])
        act = r["activity_name"] if r["activity_id"] != 99 else "Other"
        details = []
        for key in ("auth_protocol", "logon_type", "account_switch_type"):
            if key in r:
                details.append("%s %d %s" % (key, r[key + "_id"], r[key]))
        if r.get("is_mfa"):
            details.append("is_mfa")
        print("| %d | %s | %d %s | %d %s | %d %s | %s |" % (
            t["id"], t["name"], r["class_uid"], r["class_name"], r["activity_id"], act,
            r["status_id"], r["status"], ", ".join(details)))


if __name__ == "__main__":
    main()
