#!/usr/bin/env bash
# test.sh - installs what is missing, builds, and runs the whole test suite.
#
# Two builds: the default one with -Werror (every test: unit, integration,
# reliability), and an ASan+UBSan one that runs the suite again. The format
# check runs too. Exit status is ctest's.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
jobs=$(nproc)

echo "== format check" >&2
"$top/scripts/build.sh" "$top/build"
cmake --build "$top/build" --target format-check

echo "== tests (default build)" >&2
(cd "$top/build" && ctest --output-on-failure -j"$jobs" --timeout 900)

echo "== tests (ASan+UBSan build)" >&2
"$top/scripts/build.sh" "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug \
    -DOLA_SANITIZE=address,undefined
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1 \
    ctest --output-on-failure -j"$jobs" --timeout 900 -L "${OLA_ASAN_LABELS:-unit|integration}")
