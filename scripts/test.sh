#!/usr/bin/env bash
# test.sh - installs what is missing, builds, and runs the whole test suite.
#
# Three parts, each run even when one before it failed: the format check, the
# default build with -Werror and every test (unit, integration, reliability),
# and an ASan+UBSan build that runs the suite again. A build that fails is that
# part's failure; the other parts still run. The end prints one verdict line
# per part, e.g. "test.sh: format-check ok / default build FAILED (2 of 53) /
# asan ok"; the exit status is non-zero when any part failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" || { echo "test.sh: scripts/deps.sh failed" >&2; exit 1; }
# Most tests wait on olsim, brokers and backoff rather than compute, and every
# wait is a wall-clock deadline, so ctest runs twice as many as there are cores
# (OLA_TEST_JOBS overrides).
jobs=${OLA_TEST_JOBS:-$(($(nproc) * 2))}
verdicts=()
failed=0

# verdict TEXT OK: records one part's verdict (OK: 0 when it passed).
verdict() {
    verdicts+=("$1")
    [ "$2" -eq 0 ] || failed=1
}

# run_ctest NAME BUILD-DIR [ctest options...]: runs ctest there and records
# "NAME ok" or "NAME FAILED (F of N)".
run_ctest() {
    local name=$1 dir=$2 log rc counts
    shift 2
    log="$dir/test.sh-ctest.log"
    (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 900 "$@") 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -eq 0 ]; then
        verdict "$name ok" 0
        return
    fi
    counts=$(sed -n 's/.* \([0-9][0-9]*\) tests\{0,1\} failed out of \([0-9][0-9]*\).*/\1 of \2/p' \
        "$log" | tail -n 1)
    verdict "$name FAILED (${counts:-ctest exited $rc})" 1
}

echo "== default build" >&2
if "$top/scripts/build.sh" "$top/build"; then
    build_ok=1
else
    build_ok=0
fi

echo "== format check" >&2
if [ -f "$top/build/CMakeCache.txt" ] && cmake --build "$top/build" --target format-check; then
    verdict "format-check ok" 0
else
    verdict "format-check FAILED" 1
fi

echo "== tests (default build)" >&2
if [ "$build_ok" -eq 1 ]; then
    run_ctest "default build" "$top/build"
else
    verdict "default build FAILED (build)" 1
fi

echo "== tests (ASan+UBSan build)" >&2
if "$top/scripts/build.sh" "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug \
    -DOLA_SANITIZE=address,undefined; then
    ASAN_OPTIONS=detect_leaks=1 run_ctest asan "$top/build-asan" \
        -L "${OLA_ASAN_LABELS:-unit|integration}"
else
    verdict "asan FAILED (build)" 1
fi

line="test.sh:"
for v in "${verdicts[@]}"; do
    [ "$line" = "test.sh:" ] && line="$line $v" || line="$line / $v"
done
echo "$line"
exit "$failed"
