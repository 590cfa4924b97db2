#!/usr/bin/env bash
# fuzz.sh NAME MINUTES [libFuzzer options...] - fuzzes one harness for MINUTES.
#
# NAME is page, config, rules, format or json (tests/fuzz/fuzz_NAME.c). Builds the
# libFuzzer binaries once in $OLA_FUZZ_BUILD (default build-fuzz: clang,
# -DOLA_FUZZ=ON, ASan+UBSan), then runs fuzz_NAME on a working corpus
# (build-fuzz/corpus/NAME, seeded from tests/fuzz/corpus/NAME, which is only
# read). Crashes, leaks and timeouts land in build-fuzz/crashes/NAME/; a
# finding is fixed in the code and its input added to tests/fuzz/corpus/NAME
# so that ctest (fuzz.NAME) replays it in every build. Prints libFuzzer's
# final stats (number of executed units, peak RSS). Exit status: 0 when
# nothing was found.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: fuzz.sh NAME MINUTES [libFuzzer options...]}
minutes=${2:?usage: fuzz.sh NAME MINUTES [libFuzzer options...]}
shift 2
build=${OLA_FUZZ_BUILD:-$top/build-fuzz}
src="$top/tests/fuzz/fuzz_$name.c"
[ -f "$src" ] || { echo "fuzz.sh: no harness $src" >&2; exit 2; }
case $minutes in '' | *[!0-9]*) echo "fuzz.sh: MINUTES must be a number" >&2; exit 2 ;; esac

"$top/scripts/deps.sh" --fuzz
if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=${CC:-clang} cmake -S "$top" -B "$build" -DOLA_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target "fuzz_$name" -j"${OLA_FUZZ_JOBS:-2}" >/dev/null

dict=
case $name in
    page | format | json) dict="$top/tests/fuzz/json.dict" ;;
    config | rules) dict="$top/tests/fuzz/yaml.dict" ;;
esac
mkdir -p "$build/corpus/$name" "$build/crashes/$name"
export OLA_SOURCE_DIR="$top"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$build/tests/fuzz_$name" \
    -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$name/" \
    ${dict:+-dict="$dict"} "$@" \
    "$build/corpus/$name" "$top/tests/fuzz/corpus/$name"
