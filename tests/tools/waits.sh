#!/usr/bin/env bash
# waits.sh - fails when a wait in the test suite is bounded by a count of loop
# rounds instead of wall-clock seconds.
#
# "for i in $(seq 1 60); do check && break; sleep 1; done" waits far more
# than 60 s on a loaded machine (each round runs the check too), so the test
# gives up late or, worse, a test tuned on a fast machine runs out of rounds
# on a slow one. Waits use a deadline instead (wait_until / t_deadline /
# t_before in tests/lib/common.sh, clock_gettime in C).
#
# A loop is an iteration-counted wait when it is bounded by a count and sleeps
# and can stop early (the condition it waits for):
#   shell:  for v in $(seq ..) / for v in {a..b} / for v in 1 2 3 / for ((..)),
#           or a while/until whose test reads a variable the body increments;
#           with a sleep and a break or return of its own (not of a loop
#           nested in it);
#   python: for v in range(..), or a while on a variable the body increments;
#           with a sleep and a break or return of its own, or sitting directly
#           in a try (it runs "until the peer gives up" or the count ends).
# Loops that count work (N kills with a random pause between them) never stop
# early, so they are not waits. Python is read from .py files and from the
# heredocs and python3 -c '...' strings of shell scripts.
#
# Usage: waits.sh [DIR|FILE...]   (default: the tests/ directory it lives in)
# A self-test on known good and bad loops runs first, so the check cannot
# silently stop finding anything.
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$(dirname "$here")"

exec python3 - "$@" <<'PY'
import ast, os, re, sys, tempfile

CMDPOS = r"(?:^|;|&&|\|\||\||\(|\{|\bthen\b|\bdo\b|\belse\b|!)\s*"
KW = re.compile(CMDPOS + r"(for|while|until|done|break|return|sleep)\b")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1")
PYC = re.compile(r"python3?\s+-c\s+'([^']*)$")
INCR = re.compile(r"\b(\w+)=\$\(\(\s*\1\s*[+-]|\(\(\s*(\w+)\s*(?:\+\+|--|[+-]=)|"
                  r"\(\(\s*(?:\+\+|--)(\w+)|\blet\s+\"?(\w+)\s*(?:\+\+|--|[+-]=)")


def strip_comment(line):
    """The line without a trailing # comment (outside quotes, roughly)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t;"):
            return line[:i]
    return line


def split_shell(lines):
    """Shell lines with heredoc bodies and python3 -c strings blanked; and the
    python snippets found there, as (first line number, text)."""
    out, snippets, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        m = PYC.search(line)
        if m:  # python3 -c '... (closed on a later line)
            body, start = [m.group(1)], i + 1
            out.append(line[:m.start()])
            i += 1
            while i < len(lines) and "'" not in lines[i]:
                body.append(lines[i])
                out.append("")
                i += 1
            if i < len(lines):
                body.append(lines[i].split("'", 1)[0])
                out.append(lines[i].split("'", 1)[1])
                i += 1
            snippets.append((start, "\n".join(body)))
            continue
        code = strip_comment(line)
        out.append(code)
        i += 1
        for q, delim in HEREDOC.findall(code):
            body, start = [], i + 1
            while i < len(lines) and lines[i].strip() != delim:
                body.append(lines[i])
                out.append("")
                i += 1
            if i < len(lines):
                out.append("")
                i += 1
            if "python" in code:
                snippets.append((start, "\n".join(body)))
    return out, snippets


def shell_counted(header):
    """Is a for header (the text after "for") bounded by a count?"""
    h = header.strip()
    return bool(h.startswith("((") or re.match(r"\w+\s+in\s+\$\(\s*seq\b", h)
                or re.match(r"\w+\s+in\s+\{-?\d+\.\.", h)
                or re.match(r"\w+\s+in(\s+\d+)+\s*(;|$|do\b)", h))


def scan_shell(path, lines):
    found = []
    code, snippets = split_shell(lines)
    stack = []  # loops: dict(kind, line, counted, header vars, sleeps, exits, incr)
    for n, line in enumerate(code, 1):
        for m in KW.finditer(line):
            kw = m.group(1)
            rest = line[m.end():]
            if kw in ("for", "while", "until"):
                hdr = re.split(r";\s*do\b|\bdo\b", rest, 1)[0]
                stack.append({"kind": kw, "line": n, "hdr": hdr,
                              "counted": kw == "for" and shell_counted(hdr),
                              "sleeps": False, "exits": False, "incr": set()})
            elif not stack:
                continue
            elif kw == "done":
                loop = stack.pop()
                if loop["kind"] != "for":
                    hv = set(re.findall(r"\$\{?(\w+)|\(\(\s*(\w+)", loop["hdr"]))
                    hv = {a or b for a, b in hv}
                    loop["counted"] = bool(hv & loop["incr"])
                if loop["counted"] and loop["sleeps"] and loop["exits"]:
                    found.append((loop["line"], "a counted %s loop that sleeps until a "
                                  "condition holds" % loop["kind"]))
            elif kw == "sleep":
                stack[-1]["sleeps"] = True
            else:  # break, return
                stack[-1]["exits"] = True
        if stack:
            for g in INCR.findall(line):
                stack[-1]["incr"].update(x for x in g if x)
    for start, text in snippets:
        found += [(start + ln - 1, why) for ln, why in scan_python(path, text, start)]
    return found


def is_sleep(node):
    f = node.func if isinstance(node, ast.Call) else None
    return (isinstance(f, ast.Attribute) and f.attr == "sleep") or \
        (isinstance(f, ast.Name) and f.id == "sleep")


def own_nodes(loop):
    """The nodes of a loop's body, not descending into nested loops or defs."""
    todo = list(loop.body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.For, ast.While, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(node))


def scan_python(path, text, start=1):
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        sys.stderr.write("waits.sh: %s:%d: python not checked (%s)\n"
                         % (path, start + (e.lineno or 1) - 1, e.msg))
        return []
    in_try = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and node.handlers:
            in_try.update(id(s) for s in node.body)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.For):
            counted = isinstance(node.iter, ast.Call) and \
                isinstance(node.iter.func, ast.Name) and node.iter.func.id == "range"
        elif isinstance(node, ast.While):
            names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
            counted = any(isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)
                          and n.target.id in names for n in own_nodes(node))
        else:
            continue
        if not counted:
            continue
        body = list(own_nodes(node))
        sleeps = any(is_sleep(n) for n in body)
        exits = id(node) in in_try or any(isinstance(n, (ast.Break, ast.Return)) for n in body)
        if sleeps and exits:
            found.append((node.lineno, "a counted python loop that sleeps until a "
                          "condition holds"))
    return found


def scan_file(path):
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError as e:
        sys.exit("waits.sh: %s: %s" % (path, e))
    if path.endswith(".py"):
        return scan_python(path, text)
    return scan_shell(path, text.split("\n"))


def files(args):
    for a in args:
        if os.path.isdir(a):
            for d, dirs, names in os.walk(a):
                dirs.sort()
                for name in sorted(names):
                    if name.endswith((".sh", ".py")):
                        yield os.path.join(d, name)
        else:
            yield a


# --- self-test: loops it must flag, and loops it must leave alone ----------
BAD = {
    # tests/lib/common.sh before waits became deadlines
    "wait_for_truth.sh": '''wait_for_truth() {
    local out=$1 secs=$2 i
    for i in $(seq 1 "$secs"); do
        truth_ids "$T_DIR/truth.ids"
        ids_of_lenient "$out" | sort -n -u >"$T_DIR/got.ids"
        if [ -z "$(comm -23 "$T_DIR/truth.ids" "$T_DIR/got.ids")" ]; then
            return 0
        fi
        sleep 1
    done
    return 1
}
''',
    "oneline.sh": 'for _ in $(seq 100); do [ -s "$w/port" ] && break; sleep 0.1; done\n',
    "cstyle.sh": 'for ((i = 0; i < 50; i++)); do\n    grep -q ok f && break\n    sleep 0.1\ndone\n',
    "brace.sh": 'for i in {1..30}\ndo\n    [ -e f ] && break # ready\n    sleep 1\ndone\n',
    "counter.sh": 'i=0\nwhile [ "$i" -lt 100 ]; do\n    kill -0 "$p" || break\n'
                  '    i=$((i + 1))\n    sleep 0.1\ndone\n',
    "heredoc.sh": "python3 - <<'PY'\nimport time\nfor _ in range(50):\n"
                  "    if ready():\n        break\n    time.sleep(0.1)\nPY\n",
    "pyc.sh": "python3 -c '\nimport time\nfor _ in range(9):\n    time.sleep(1)\n"
              "    if done(): break\n' \"$x\"\n",
    # tests/reliability/badapi.py's hang() before
    "hang.py": "import time\ndef hang(tick, every=1.0):\n    try:\n"
               "        for _ in range(int(60 / every)):\n            time.sleep(every)\n"
               "            tick()\n    except BrokenPipeError:\n        pass\n",
}
GOOD = {
    # counting work: N kills, a random pause before each
    "kills.sh": 'for k in $(seq 1 "$KILLS"); do\n    start_agent c o\n'
                '    sleep "0.$((RANDOM % 9 + 1))"\n    kill -KILL "$AGENT_PID"\ndone\n',
    "deadline.sh": 'end=$(t_deadline 10)\nwhile ! grep -q ok f && t_before "$end"; do\n'
                   '    sleep 0.1\ndone\nwait_until 30 grep -q ok f\n',
    # rounds of work, each with a deadline wait inside
    "rounds.sh": 'for round in 1 2 3; do\n    end=$(($(date +%s) + 30))\n'
                 '    until grep -q acked f || [ "$(date +%s)" -gt "$end" ]; do\n'
                 '        sleep 0.1\n    done\n    sleep 0.3\n    kill -9 "$pid"\ndone\n',
    "yaml.sh": "cat >f <<YAML\nfor x in $(seq 1 3); do break; sleep 1; done\nYAML\n",
    "comment.sh": "# for i in $(seq 1 9); do break; sleep 1; done\n",
    "gen.py": "import time\nfor i in range(100):\n    send(i)\n    time.sleep(0.01)\n"
              "end = time.monotonic() + 60\nwhile time.monotonic() < end:\n"
              "    if ready():\n        break\n    time.sleep(1)\n",
}


def self_test():
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        for name, text in list(BAD.items()) + list(GOOD.items()):
            p = os.path.join(d, name)
            open(p, "w").write(text)
            hits = scan_file(p)
            if (name in BAD) != bool(hits):
                bad += 1
                sys.stderr.write("waits.sh: self-test: %s: %s\n" % (
                    name, "not flagged" if name in BAD else "flagged: %r" % hits))
    if bad:
        sys.exit("waits.sh: self-test failed (%d samples)" % bad)


self_test()
n_files, problems = 0, []
for path in files(sys.argv[1:]):
    n_files += 1
    problems += [(path, ln, why) for ln, why in scan_file(path)]
for path, ln, why in sorted(problems):
    print("%s:%d: iteration-counted wait: %s; bound it by wall-clock seconds "
          "(wait_until / t_deadline in tests/lib/common.sh)" % (path, ln, why))
if problems:
    sys.exit("waits.sh: %d iteration-counted waits in %d files" % (len(problems), n_files))
print("waits.sh: %d files, every wait bounded by wall-clock seconds" % n_files)
PY
