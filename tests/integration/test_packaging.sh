#!/usr/bin/env bash
# Packaging: `cmake --install` lays out a coherent installation (the
# installed binary checks the installed example config with the installed
# rules and catalog), the systemd unit is valid and hardened, and the demo's
# compose file is valid.
. "$(dirname "$0")/../lib/common.sh"

: "${OLA_BUILD_DIR:?}"
STAGE="$T_DIR/stage"
DESTDIR="$STAGE" cmake --install "$OLA_BUILD_DIR" >"$T_DIR/install.log" ||
    fail "cmake --install failed: $(tail -3 "$T_DIR/install.log")"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$OLA_BUILD_DIR/CMakeCache.txt")
root="$STAGE$prefix"
bin="$root/bin/olagent"
etc=$(find "$STAGE" -type d -path '*etc/olagent' | head -1)
unit=$(find "$STAGE" -name olagent.service | head -1)
[ -x "$bin" ] || fail "no installed binary at $bin"
[ -n "$etc" ] || fail "no installed config directory"
for f in olagent.example.yaml event-types.json rules/default.yaml; do
    [ -s "$etc/$f" ] || fail "missing $etc/$f"
done
[ -n "$unit" ] || fail "no systemd unit installed"
"$bin" --version | grep -q olagent || fail "the installed binary does not run"

# the installed example validates as shipped (its rules/ path is relative to it)
cp "$etc/olagent.example.yaml" "$etc/olagent.yaml"
"$bin" check -c "$etc/olagent.yaml" >"$T_DIR/check.out" 2>&1 ||
    fail "the installed example config does not check: $(tail -3 "$T_DIR/check.out")"

# the unit names the installed paths, is valid, and is hardened
grep -q "^ExecStart=$prefix/bin/olagent run -c " "$unit" || fail "ExecStart does not follow the prefix"
for want in DynamicUser=yes StateDirectory=olagent ProtectSystem=strict NoNewPrivileges=yes \
    Restart=on-failure RestartPreventExitStatus=2; do
    grep -q "^$want" "$unit" || fail "unit lacks $want"
done
# RestartPreventExitStatus= applies to the main process's exit status only
# (systemd's service_shall_restart tests main_exec_status): a configuration
# check in ExecStartPre failing with 2 would be restarted every RestartSec, so
# "exit 2 does not restart" holds only when `run` itself is what exits 2
! grep -q '^ExecStartPre=.*olagent' "$unit" ||
    fail "unit checks the config in ExecStartPre: its exit 2 would be restarted"
grep -q "^ExecStart=$prefix/bin/olagent run " "$unit" || fail "ExecStart is not olagent run"
grep -A1 "^ExecReload=$prefix/bin/olagent check -c " "$unit" | grep -q '^ExecReload=.*kill -HUP' ||
    fail "reload does not check the configuration before SIGHUP"
if command -v systemd-analyze >/dev/null; then
    # verify checks that the commands exist: point them at the staged binary
    sed "s|$prefix/bin/olagent|$bin|g" "$unit" >"$T_DIR/olagent.service"
    systemd-analyze verify "$T_DIR/olagent.service" >"$T_DIR/verify.out" 2>&1 ||
        fail "systemd-analyze verify: $(cat "$T_DIR/verify.out")"
    exposure=$(systemd-analyze security --offline=true "$T_DIR/olagent.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for olagent.service: \([0-9.]*\).*/\1/p')
    [ -n "$exposure" ] || fail "systemd-analyze security printed no exposure level"
    python3 -c "import sys; sys.exit(0 if float('$exposure') <= 2.0 else 1)" ||
        fail "unit exposure level $exposure (want <= 2.0)"
    t_log "systemd unit: valid, exposure $exposure"
else
    fail "systemd-analyze missing (scripts/deps.sh installs systemd)"
fi

# compose: valid as a file, and it runs the whole demo
compose="$OLA_SOURCE_DIR/docker/compose.yaml"
if command -v docker-compose >/dev/null; then
    docker-compose -f "$compose" config >"$T_DIR/compose.out" 2>&1 ||
        fail "compose file invalid: $(cat "$T_DIR/compose.out")"
    services=$(docker-compose -f "$compose" config --services | sort | tr '\n' ' ')
else
    fail "docker-compose missing (scripts/deps.sh installs it)"
fi
for s in olagent olsim kafka rsyslog; do
    case " $services" in *" $s "*) ;; *) fail "compose lacks the $s service ($services)" ;; esac
done
dockerfile="$OLA_SOURCE_DIR/docker/Dockerfile"
grep -A2 '^HEALTHCHECK ' "$dockerfile" | grep -q '/healthz' || fail "Dockerfile: no HEALTHCHECK on /healthz"
grep -q '^USER ' "$dockerfile" || fail "Dockerfile: runs as root"
grep -q '^VOLUME ' "$dockerfile" || fail "Dockerfile: no state volume"
[ "$(grep -c '^FROM debian:12' "$dockerfile")" -ge 2 ] ||
    fail "Dockerfile: not a multi-stage Debian 12 build"
echo "packaging: install layout, unit (exposure $exposure), compose ($services) ok"
