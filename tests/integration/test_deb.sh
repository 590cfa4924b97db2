#!/usr/bin/env bash
# The Debian package (scripts/package.sh: CPack, prefix /usr) holds the
# binary, the systemd unit, the example config, catalog and rules under
# /etc/olagent as conffiles, the man page made from --help and the operations
# guide; its dependencies come from the binary's libraries; its maintainer
# scripts add the olagent system user. lintian checks it where installed.
# The Docker image is built where a Docker or Podman daemon answers.
# ctest-cost: 100
. "$(dirname "$0")/../lib/common.sh"

deb=$("$OLA_SOURCE_DIR/scripts/package.sh" "$T_DIR/build-deb" 2>"$T_DIR/package.err") ||
    fail "scripts/package.sh failed: $(tail -5 "$T_DIR/package.err")"
[ -f "$deb" ] || fail "no package built ($deb)"

dpkg-deb --info "$deb" >"$T_DIR/info.txt" || fail "dpkg-deb --info failed"
grep -q '^ Package: olagent$' "$T_DIR/info.txt" || fail "package name: $(cat "$T_DIR/info.txt")"
grep -q '^ Section: admin$' "$T_DIR/info.txt" || fail "no section"
for lib in libcurl libjansson librdkafka libyaml libmicrohttpd zlib1g adduser; do
    grep '^ Depends:' "$T_DIR/info.txt" | grep -q "$lib" || fail "Depends lacks $lib"
done

dpkg-deb --contents "$deb" | awk '{print $NF}' >"$T_DIR/contents.txt"
for f in ./usr/bin/olagent ./usr/lib/systemd/system/olagent.service \
    ./etc/olagent/olagent.example.yaml ./etc/olagent/event-types.json \
    ./etc/olagent/rules/default.yaml ./usr/share/man/man1/olagent.1.gz \
    ./usr/share/doc/olagent/operations.md; do
    grep -qx "$f" "$T_DIR/contents.txt" || fail "package lacks $f"
done
! grep -q '^\./usr/local' "$T_DIR/contents.txt" || fail "package installs under /usr/local"

mkdir -p "$T_DIR/ctl" "$T_DIR/root"
dpkg-deb -e "$deb" "$T_DIR/ctl"
dpkg-deb -x "$deb" "$T_DIR/root"
for f in /etc/olagent/olagent.example.yaml /etc/olagent/event-types.json \
    /etc/olagent/rules/default.yaml; do
    grep -qx "$f" "$T_DIR/ctl/conffiles" || fail "$f is not a conffile"
done
for s in postinst postrm; do
    [ -x "$T_DIR/ctl/$s" ] || fail "no executable $s"
    sh -n "$T_DIR/ctl/$s" || fail "$s: syntax error"
done
grep -q 'adduser --system' "$T_DIR/ctl/postinst" || fail "postinst adds no system user"
grep -q '^ExecStart=/usr/bin/olagent run -c /etc/olagent/olagent.yaml$' \
    "$T_DIR/root/usr/lib/systemd/system/olagent.service" || fail "unit paths are not /usr, /etc"

# the packaged binary runs, and its man page is its --help
"$T_DIR/root/usr/bin/olagent" --version | grep -q olagent || fail "packaged binary does not run"
zcat "$T_DIR/root/usr/share/man/man1/olagent.1.gz" >"$T_DIR/olagent.1"
grep -q '^\.TH OLAGENT 1' "$T_DIR/olagent.1" || fail "man page has no .TH"
grep -q 'checkpoint set \\-c FILE \[\\-\\-tenant NAME\] \\-\\-since T' "$T_DIR/olagent.1" ||
    fail "man page lacks the --help text"
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww "$T_DIR/olagent.1" >/dev/null 2>"$T_DIR/groff.err"
    [ ! -s "$T_DIR/groff.err" ] || fail "groff warns: $(head -3 "$T_DIR/groff.err")"
fi

if command -v lintian >/dev/null; then
    lintian --fail-on error "$deb" >"$T_DIR/lintian.txt" 2>&1 ||
        fail "lintian: $(grep '^E:' "$T_DIR/lintian.txt" | head -5)"
    t_log "lintian: no error ($(grep -c '^W:' "$T_DIR/lintian.txt") warnings)"
else
    t_log "lintian not installed: skipped"
fi

engine=
for e in docker podman; do
    if command -v "$e" >/dev/null && timeout 10 "$e" info >/dev/null 2>&1; then
        engine=$e
        break
    fi
done
if [ -n "$engine" ]; then
    timeout 900 "$engine" build -q -f "$OLA_SOURCE_DIR/docker/Dockerfile" \
        -t olagent-test "$OLA_SOURCE_DIR" >"$T_DIR/image.txt" 2>&1 ||
        fail "$engine build: $(tail -5 "$T_DIR/image.txt")"
    "$engine" run --rm olagent-test --version | grep -q olagent || fail "the image does not run"
    t_log "image built with $engine"
else
    t_log "no Docker or Podman daemon answers: the image build is skipped"
fi
echo "deb: $(basename "$deb") holds the binary, unit, config, man page; image: ${engine:-skipped}"
