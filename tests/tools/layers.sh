#!/usr/bin/env bash
# layers.sh - fails when an #include points up or sideways, or when includes
# form a cycle (docs/architecture.md, "The layer rule").
#
# Every source folder is a stage. Includes name headers from the top of the
# tree ("agent/core/buf.h"), so the stage an include reaches into is read off
# its path. A stage may include itself and the stages it stands on:
#
#   agent/core                 nothing but itself
#   config                     core
#   agent/onelogin agent/state filters/enrich filters/rules outputs/formats
#                              core, config (siblings never include each other)
#   outputs                    core, config, outputs/formats
#   agent (the top)            everything
#
# Tests may include anything. It also fails on an include of a header the
# tree does not have (outside the tree, use <...>), on a cycle between files
# or between stages, and on a .c file of more than 800 lines anywhere in the
# tree, tests and olsim included (a file that grew past that is split along
# its concerns). A self-test on a small tree
# with one upward include, one sideways include, one cycle and one long file
# runs first, so the check cannot silently stop finding anything.
#
# Usage: layers.sh [TOP]   (default: the repository this script lives in)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${1:-$(cd "$here/../.." && pwd)}

exec python3 - "$top" <<'PY'
import os, re, sys, tempfile

ALLOWED = {
    "agent/core": set(),
    "config": {"agent/core"},
    "agent/onelogin": {"agent/core", "config"},
    "agent/state": {"agent/core", "config"},
    "filters/enrich": {"agent/core", "config"},
    "filters/rules": {"agent/core", "config"},
    "outputs/formats": {"agent/core", "config"},
    "outputs": {"agent/core", "config", "outputs/formats"},
}
TOP = "agent"  # may include every stage
ROOTS = ("agent", "config", "filters", "outputs")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
MAX_LINES = 800


def stage(path):
    """The stage a file belongs to: its folder, or None for a stray file."""
    d = os.path.dirname(path)
    if d in ALLOWED or d == TOP:
        return d
    return None


def check(top):
    """Returns the list of problems found in the tree at top."""
    problems, files = [], {}
    for root in ROOTS:
        for dirpath, _, names in os.walk(os.path.join(top, root)):
            for n in names:
                if n.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(dirpath, n), top)
                    with open(os.path.join(top, rel), encoding="utf-8") as f:
                        text = f.read()
                    files[rel] = INCLUDE.findall(text)
                    lines = text.count("\n")
                    if rel.endswith(".c") and lines > MAX_LINES:
                        problems.append(f"{rel}: {lines} lines, more than {MAX_LINES}: "
                                        "split it along its concerns")
    for dirpath, _, names in os.walk(os.path.join(top, "tests")):
        for n in names:
            if n.endswith(".c"):
                rel = os.path.relpath(os.path.join(dirpath, n), top)
                with open(os.path.join(top, rel), encoding="utf-8") as f:
                    lines = f.read().count("\n")
                if lines > MAX_LINES:
                    problems.append(f"{rel}: {lines} lines, more than {MAX_LINES}: "
                                    "split it along its concerns")
    file_edges, stage_edges = {}, {}
    for rel, incs in sorted(files.items()):
        me = stage(rel)
        if me is None:
            problems.append(f"{rel}: lives in a folder that is not a stage")
            continue
        for inc in incs:
            if inc not in files:
                problems.append(f"{rel}: includes \"{inc}\", which the tree does not have"
                                " (name headers from the top: \"agent/core/buf.h\")")
                continue
            them = stage(inc)
            if them is None:
                continue
            file_edges.setdefault(rel, set()).add(inc)
            if them != me:
                stage_edges.setdefault(me, set()).add(them)
            if me == TOP or them == me or them in ALLOWED[me]:
                continue
            way = "up" if them == TOP or me in ALLOWED.get(them, ()) else "sideways"
            problems.append(f"{rel}: includes {inc}: {me} may not include {them} "
                            f"(points {way})")
    for what, edges in (("files", file_edges), ("stages", stage_edges)):
        cyc = find_cycle(edges)
        if cyc:
            problems.append(f"include cycle between {what}: " + " -> ".join(cyc))
    return problems


def find_cycle(edges):
    """One cycle of the graph as a list of nodes (first repeated last), or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def self_test():
    tree = {
        "agent/core/buf.h": '#include "agent/core/err.h"\n',
        "agent/core/err.h": "",
        "agent/core/bad.c": '#include "outputs/output.h"\n',            # up
        "outputs/output.h": '#include "agent/core/buf.h"\n',
        "outputs/formats/json.c": '#include "outputs/formats/json.h"\n',
        "outputs/formats/json.h": "",
        "filters/rules/rules.c": '#include "filters/enrich/enrich.h"\n',  # sideways
        "filters/enrich/enrich.h": "",
        "config/a.h": '#include "config/b.h"\n',                        # cycle
        "config/b.h": '#include "config/a.h"\n',
        "agent/agent.c": '#include "outputs/output.h"\n#include "config/a.h"\n',
        "agent/long.c": "\n" * 801,
        "tests/unit/test_long.c": "\n" * 801,
    }
    with tempfile.TemporaryDirectory() as d:
        for rel, text in tree.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        got = check(d)
    want = ["agent/long.c: 801 lines, more than 800: split it along its concerns",
            "tests/unit/test_long.c: 801 lines, more than 800: split it along its concerns",
            "agent/core/bad.c: includes outputs/output.h: agent/core may not include "
            "outputs (points up)",
            "filters/rules/rules.c: includes filters/enrich/enrich.h: filters/rules may "
            "not include filters/enrich (points sideways)",
            "include cycle between files: config/a.h -> config/b.h -> config/a.h",
            "include cycle between stages: outputs -> agent/core -> outputs"]
    for w in want:
        if w not in got:
            sys.exit(f"layers.sh self-test: missed \"{w}\"; found: {got}")
    if len(got) != len(want):
        sys.exit(f"layers.sh self-test: expected {len(want)} problems, found: {got}")


self_test()
found = check(sys.argv[1])
for p in found:
    print(p)
if found:
    print(f"layers: {len(found)} problem(s); the rule is in docs/architecture.md")
    sys.exit(1)
print("layers: every include points down")
PY
