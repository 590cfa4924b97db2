#!/usr/bin/env python3
"""docs_links.py - every link in the README and docs/ resolves inside the repository.

Users get the repository, nothing beside it, so a link that leaves it (or names
a file the repository does not have) is a broken promise. Checked, in every
Markdown file outside build folders:

  - [text](target) links: a target that is not a URL must name a file or
    folder inside the repository; `#anchor` must match a heading of the
    target (GitHub's slugs);
  - `path` in backticks that starts with ../ and so leaves the repository
    from where it stands, or names a repository folder (docs/, agent/, ...)
    with a file that does not exist.

usage: docs_links.py [REPO_ROOT]; prints one line per broken link and exits 1
when there is one.
"""
import os
import re
import sys

ROOT = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else
                        os.path.join(os.path.dirname(__file__), "..", ".."))
REPO_DIRS = ("agent/", "outputs/", "filters/", "config/", "tests/", "docs/",
             "docker/", "scripts/", "cmake/")
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
TICK = re.compile(r"`([^`\s]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files():
    for f in sorted(os.listdir(ROOT)):
        if f.endswith(".md"):
            yield os.path.join(ROOT, f)
    for top, dirs, files in os.walk(os.path.join(ROOT, "docs")):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".md"):
                yield os.path.join(top, f)


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    out, fenced = set(), False
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if FENCE.match(line):
                fenced = not fenced
                continue
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and not fenced:
                base, n = slug(m.group(1)), 0
                s = base
                while s in out:
                    n += 1
                    s = "%s-%d" % (base, n)
                out.add(s)
    return out


def inside(path):
    real = os.path.realpath(path)
    return real == ROOT or real.startswith(ROOT + os.sep)


def check_file(md):
    bad = []
    rel = os.path.relpath(md, ROOT)
    here = os.path.dirname(md)
    fenced = False
    with open(md, encoding="utf-8") as fh:
        lines = fh.readlines()
    for no, line in enumerate(lines, 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # http:, https:, mailto:
            path, _, frag = target.partition("#")
            dest = os.path.join(here, path) if path else md
            if not inside(dest):
                bad.append("%s:%d: link leaves the repository: %s" % (rel, no, target))
            elif not os.path.exists(dest):
                bad.append("%s:%d: link to a missing file: %s" % (rel, no, target))
            elif frag and dest.endswith(".md") and frag not in anchors(dest):
                bad.append("%s:%d: no heading #%s in %s" % (rel, no, frag, path or rel))
        for p in TICK.findall(line):
            if p.startswith("../") and not inside(os.path.join(here, p)):
                bad.append("%s:%d: path leaves the repository: %s" % (rel, no, p))
            elif (p.startswith(REPO_DIRS) and re.search(r"\.[a-z]{1,7}$", p)
                  and "*" not in p and "{" not in p and "<" not in p
                  and not os.path.exists(os.path.join(ROOT, p))
                  and not os.path.exists(os.path.join(here, p))):
                bad.append("%s:%d: names a file the repository does not have: %s"
                           % (rel, no, p))
    return bad


def main():
    bad, n = [], 0
    for md in markdown_files():
        n += 1
        bad.extend(check_file(md))
    for b in bad:
        print(b)
    print("docs_links: %d Markdown files, %d broken links" % (n, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
