#!/usr/bin/env python3
"""ocsf_schema_extract.py - validation data for olagent's OCSF output, from the schema.

usage: ocsf_schema_extract.py GIT_DIR REF OUT.json

Reads the public ocsf-schema repository (a git directory, e.g. the one the lead's
`fetch github:ocsf/ocsf-schema` returns) at REF (a release tag such as 1.8.0) with
`git show`, and writes OUT.json: for every event class olagent emits and every object
it emits inside them, each attribute's requirement, data type (resolved to its base
type, with the type's regex, range and max_len), whether it is an array, its enum
(value -> caption), its sibling, and whether it is deprecated; the class's
category_uid, class_uid, captions and constraints (at_least_one, just_one).

How the schema is compiled here (as the OCSF server does): an attribute starts from its
dictionary.json entry and is overlaid by every definition along the `extends` chain
(base first); enum tables are merged, a later key overriding an earlier one. Profile
attributes (`$include` of profiles/...) are left out: olagent declares no profile, so
they do not apply. Constraints come from the nearest definition that has any.

The validator (tests/tools/ocsf_validate.py) reads only OUT.json, so the tests need
neither the network nor the schema repository. Run again to move to a newer release.
"""
import json
import subprocess
import sys

# event classes (by schema name) and objects olagent emits
CLASSES = ["authentication", "account_change", "entity_management", "user_access",
           "group_management", "detection_finding"]
OBJECTS = ["metadata", "product", "logger", "device", "user", "actor", "network_endpoint",
           "service", "managed_entity", "group", "finding_info", "analytic",
           "related_event", "resource_details"]
KEEP = ("requirement", "type", "is_array", "sibling", "caption")


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True,
                          capture_output=True, text=True).stdout


def load(gitdir, ref, path):
    return json.loads(git(gitdir, "show", "%s:%s" % (ref, path)))


def index(gitdir, ref, folder):
    """name -> definition for every JSON file under folder."""
    out = {}
    for path in git(gitdir, "ls-tree", "-r", "--name-only", ref, folder).split():
        if path.endswith(".json"):
            d = load(gitdir, ref, path)
            out[d["name"]] = d
    return out


def chain(defs, name):
    """The definitions from the root of the extends chain down to name."""
    out = []
    while name is not None:
        d = defs[name]
        out.insert(0, d)
        name = d.get("extends")
    return out


def merge_attr(into, src):
    for key, val in src.items():
        if key == "enum":
            into.setdefault("enum", {}).update(
                {k: v.get("caption", k) for k, v in val.items()})
        elif key == "@deprecated":
            into["deprecated"] = True
        elif key in KEEP or key == "profile":
            into[key] = val


def resolve(defs, name, dictionary, types):
    attrs, constraints = {}, None
    for d in chain(defs, name):
        for key, val in d.get("attributes", {}).items():
            if key == "$include" or not isinstance(val, dict):
                continue
            if key not in attrs:
                attrs[key] = {}
                merge_attr(attrs[key], dictionary.get(key, {}))
            merge_attr(attrs[key], val)
        if d.get("constraints"):
            constraints = d["constraints"]
    for key, a in list(attrs.items()):
        if a.pop("profile", None) is not None:
            del attrs[key]  # belongs to a profile olagent does not declare
            continue
        t = a.get("type", "string_t")
        a["type"] = t
        if t in types:
            base, info = t, types[t]
            while types.get(base, {}).get("type"):
                base = types[base]["type"]
            a["base"] = base
            for k in ("regex", "range", "max_len", "values"):
                if k in info:
                    a[k] = info[k]
        else:
            a["base"] = "object"  # an object type (or "object": any object)
        a.setdefault("requirement", "optional")
        a.pop("caption", None)
    return attrs, constraints or {}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    gitdir, ref, out_path = sys.argv[1:]
    dictionary = load(gitdir, ref, "dictionary.json")
    dict_attrs = dictionary["attributes"]
    types = dictionary["types"]["attributes"]
    categories = load(gitdir, ref, "categories.json")["attributes"]
    events, objects = index(gitdir, ref, "events"), index(gitdir, ref, "objects")
    data = {
        "version": load(gitdir, ref, "version.json")["version"],
        "source": {"repository": "github.com/ocsf/ocsf-schema", "ref": ref,
                   "commit": git(gitdir, "rev-parse", ref + "^{commit}").strip()},
        "generated_by": "tests/tools/ocsf_schema_extract.py",
        "classes": {}, "objects": {},
    }
    for name in CLASSES:
        defs = chain(events, name)
        cat = next(d["category"] for d in reversed(defs) if d.get("category"))
        uid = next(d["uid"] for d in reversed(defs) if "uid" in d)
        attrs, cons = resolve(events, name, dict_attrs, types)
        cat_uid = categories[cat]["uid"]
        class_uid = cat_uid * 1000 + uid
        # as the schema compiles them: this class's ids, type_uid per activity
        attrs["category_uid"]["enum"] = {str(cat_uid): categories[cat]["caption"]}
        attrs["class_uid"]["enum"] = {str(class_uid): events[name]["caption"]}
        attrs["type_uid"]["enum"] = {
            str(class_uid * 100 + int(k)): "%s: %s" % (events[name]["caption"], v)
            for k, v in attrs["activity_id"]["enum"].items()}
        data["classes"][str(class_uid)] = {
            "name": name, "caption": events[name]["caption"],
            "category_uid": cat_uid, "category_name": categories[cat]["caption"],
            "attributes": attrs, "constraints": cons}
    for name in OBJECTS:
        attrs, cons = resolve(objects, name, dict_attrs, types)
        data["objects"][name] = {"caption": objects[name]["caption"],
                                 "attributes": attrs, "constraints": cons}
    with open(out_path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
