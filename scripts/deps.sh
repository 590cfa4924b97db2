#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages olagent needs to build and test.
#
# Only what is missing is installed; run as root or with sudo available.
# --fuzz adds clang and its libFuzzer runtime (scripts/fuzz.sh asks for it);
# --bench adds what tests/bench/run.sh uses.
set -eu

pkgs=(
    build-essential cmake pkg-config clang-format curl ca-certificates python3
    libcurl4-openssl-dev libjansson-dev librdkafka-dev zlib1g-dev libyaml-dev
    libmicrohttpd-dev libcmocka-dev libssl-dev
    kcat rsyslog rsyslog-openssl openssl
    docker-compose systemd
)
for opt in "$@"; do
    case "$opt" in
    --fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
    --bench) pkgs+=(time linux-perf) ;;
    *) echo "usage: deps.sh [--fuzz] [--bench]" >&2; exit 2 ;;
    esac
done
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
