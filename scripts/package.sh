#!/usr/bin/env bash
# package.sh [BUILD_DIR] - builds the Debian package (CPack) into BUILD_DIR
# (default build-deb), configured with prefix /usr; prints the .deb's path.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-deb}
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DOLA_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" --target olagent olagent_manpage >/dev/null
(cd "$dir" && cpack -G DEB >cpack.log) || { cat "$dir/cpack.log" >&2; exit 1; }
ls "$dir"/olagent_*.deb
