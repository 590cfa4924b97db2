#!/usr/bin/env bash
# build.sh [BUILD_DIR [cmake options...]] - configures and builds olagent.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
shift || true
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOLA_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
