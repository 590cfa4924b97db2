#!/usr/bin/env python3
"""ocsf_validate.py - checks OCSF records against data extracted from the schema.

usage: ocsf_validate.py SCHEMA.json RECORDS.ndjson [--catalog EVENT-TYPES.json]
                        [--table FORMATS.md]

SCHEMA.json is what tests/tools/ocsf_schema_extract.py wrote (tests/data/ocsf/). Every
line of RECORDS.ndjson (an OCSF record, or a syslog line whose payload starts at the
first '{') must hold:
- a class_uid the data has; category_uid, category_name, class_name its class's;
  class_uid = category_uid * 1000 + class number; type_uid = class_uid * 100 +
  activity_id, one of the class's types, and type_name its caption;
- every required attribute, of the class and of every object inside it, present and
  not null; every at_least_one / just_one constraint met;
- no attribute the class or object does not define, and none deprecated;
- every value of its type (integers, booleans, strings, the regex and range of a
  typed string or number, arrays where the schema says is_array), objects recursively;
- every enum value allowed, and its sibling (activity_name, status, severity,
  auth_protocol, logon_type, ...) the enum's caption unless the id is 99 Other;
- metadata.version the schema's version.
With --catalog: every event type of the catalog occurs (metadata.event_code). With
--table: each record's class_uid, activity_id and status_id are those the table in
docs/formats.md gives its event type. Prints one line per problem (at most 50), exits 1
if there is any.
"""
import json
import re
import sys

problems = []


def bad(where, what):
    problems.append("%s: %s" % (where, what))


def check_value(schema, a, v, where):
    if a.get("is_array"):
        if not isinstance(v, list):
            return bad(where, "not an array")
        for i, x in enumerate(v):
            check_scalar(schema, a, x, "%s[%d]" % (where, i))
    else:
        check_scalar(schema, a, v, where)


def check_scalar(schema, a, v, where):
    base = a["base"]
    if v is None:
        return bad(where, "null")
    if base in ("integer_t", "long_t"):
        if not isinstance(v, int) or isinstance(v, bool):
            return bad(where, "not an integer: %r" % (v,))
        if base == "integer_t" and not -2**31 <= v < 2**31:
            bad(where, "out of the integer range")
    elif base == "float_t":
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return bad(where, "not a number")
    elif base == "boolean_t":
        if not isinstance(v, bool):
            return bad(where, "not a boolean")
    elif base == "string_t":
        if not isinstance(v, str):
            return bad(where, "not a string: %r" % (v,))
        if "regex" in a and not re.search(a["regex"], v):
            bad(where, "%r does not match the %s pattern" % (v, a["type"]))
        if "max_len" in a and len(v) > a["max_len"]:
            bad(where, "longer than %d" % a["max_len"])
    elif base == "json_t":
        pass
    elif base == "object":
        if not isinstance(v, dict):
            return bad(where, "not an object")
        if a["type"] != "object":
            check_object(schema, a["type"], v, where)
    if "range" in a and isinstance(v, int) and not a["range"][0] <= v <= a["range"][1]:
        bad(where, "outside %s" % a["range"])
    if "enum" in a and str(v) not in a["enum"]:
        bad(where, "%r is not one of %s" % (v, sorted(a["enum"], key=int)))


def check_attrs(schema, attrs, constraints, rec, where):
    for name, a in attrs.items():
        if a["requirement"] == "required" and rec.get(name) is None:
            bad(where, "required %s missing" % name)
    for name, v in rec.items():
        a = attrs.get(name)
        if a is None:
            bad(where, "%s is not an attribute here" % name)
            continue
        if a.get("deprecated"):
            bad(where, "%s is deprecated" % name)
        check_value(schema, a, v, "%s.%s" % (where, name))
        sib = a.get("sibling")
        other = str(v) == "99" and name != "type_uid"  # Other: the source's own name
        if "enum" in a and sib and sib in rec and str(v) in a["enum"] and not other:
            if rec[sib] != a["enum"][str(v)]:
                bad(where, "%s %r for %s %r, not the caption %r"
                    % (sib, rec[sib], name, v, a["enum"][str(v)]))
    for kind, names in constraints.items():
        n = sum(1 for k in names if rec.get(k) is not None)
        if kind == "at_least_one" and n < 1:
            bad(where, "needs at least one of %s" % names)
        if kind == "just_one" and n != 1:
            bad(where, "needs exactly one of %s" % names)


def check_object(schema, name, v, where):
    obj = schema["objects"].get(name)
    if obj is None:
        return bad(where, "object type %s is not in the extracted data" % name)
    check_attrs(schema, obj["attributes"], obj["constraints"], v, where)


def check_record(schema, rec, where):
    cls = schema["classes"].get(str(rec.get("class_uid")))
    if cls is None:
        return bad(where, "class_uid %r is not one olagent emits" % rec.get("class_uid"))
    check_attrs(schema, cls["attributes"], cls["constraints"], rec, where)
    cuid, act = rec.get("class_uid"), rec.get("activity_id")
    if rec.get("category_uid") != cls["category_uid"] or cuid // 1000 != cls["category_uid"]:
        bad(where, "category_uid %r does not fit class %r" % (rec.get("category_uid"), cuid))
    if rec.get("category_name") != cls["category_name"]:
        bad(where, "category_name %r" % rec.get("category_name"))
    if rec.get("class_name") != cls["caption"]:
        bad(where, "class_name %r, not %r" % (rec.get("class_name"), cls["caption"]))
    if isinstance(act, int) and rec.get("type_uid") != cuid * 100 + act:
        bad(where, "type_uid %r is not class_uid*100+activity_id" % rec.get("type_uid"))
    if (rec.get("metadata") or {}).get("version") != schema["version"]:
        bad(where, "metadata.version is not %s" % schema["version"])


def read_table(path):
    """event type id -> (class_uid, activity_id, status_id) from the OCSF type table."""
    rows = {}
    row = re.compile(r"^\| (\d+) \| [A-Z0-9_]+ \| (\d+) [^|]*\| (\d+) [^|]*\| (\d+) ")
    with open(path) as f:
        for line in f:
            m = row.match(line)
            if m:
                rows[int(m.group(1))] = tuple(int(m.group(i)) for i in (2, 3, 4))
    return rows


def main():
    args = sys.argv[1:]
    opts = {}
    while len(args) > 2 and args[-2].startswith("--"):
        opts[args[-2]] = args[-1]
        args = args[:-2]
    if len(args) != 2:
        sys.exit(__doc__)
    with open(args[0]) as f:
        schema = json.load(f)
    table = read_table(opts["--table"]) if "--table" in opts else None
    seen, n = set(), 0
    with open(args[1]) as f:
        for lineno, line in enumerate(f, 1):
            if "{" not in line:
                continue
            where = "%s:%d" % (args[1], lineno)
            rec = json.loads(line[line.index("{"):])
            n += 1
            check_record(schema, rec, where)
            code = (rec.get("metadata") or {}).get("event_code")
            if code is None:
                continue
            seen.add(int(code))
            if table is not None and rec.get("class_uid") != 2004:
                want = table.get(int(code))
                got = (rec.get("class_uid"), rec.get("activity_id"), rec.get("status_id"))
                if want is None:
                    bad(where, "event type %s is not in the table" % code)
                elif want != got:
                    bad(where, "type %s is %s, the table says %s" % (code, got, want))
    if "--catalog" in opts:
        with open(opts["--catalog"]) as f:
            for t in json.load(f):
                if t["id"] not in seen:
                    bad(opts["--catalog"], "no record of type %d %s" % (t["id"], t["name"]))
                if table is not None and t["id"] not in table:
                    bad(opts["--table"], "type %d %s has no row" % (t["id"], t["name"]))
    for p in problems[:50]:
        print(p)
    if len(problems) > 50:
        print("... and %d more" % (len(problems) - 50))
    kinds = {}
    for p in problems:  # the same problem on many records: counted once per kind
        k = re.sub(r"^\S+?:\d+", "", p)
        kinds[k] = kinds.get(k, 0) + 1
    for k, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:25]:
        print("%6d x %s" % (count, k))
    print("ocsf_validate: %d records, %d problems (OCSF %s)" % (n, len(problems),
                                                               schema["version"]))
    sys.exit(1 if problems or n == 0 else 0)


if __name__ == "__main__":
    main()
