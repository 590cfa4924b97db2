#!/usr/bin/env bash
# A value that came from ${VAR} is a secret, also when it is wrong: for each key
# the settings, the outputs or the formats check, an invalid value from the
# environment holding a marker must be refused by `olagent check` and `olagent
# run` (exit 2, an error naming the key), and the marker must appear nowhere in
# what they print. Literal values stay quoted in errors (checked once, so the
# test notices when the helper hides everything).
. "$(dirname "$0")/../lib/common.sh"

MARK="zq7_canary_$(date +%s%N | sha256sum | cut -c1-16)"
OLSIM_URL=http://127.0.0.1:1 # nothing gets as far as the API

# try NAME KEY_IN_ERROR VALUE FILE_TEXT: FILE_TEXT is a config whose bad key reads
# ${OLA_T_VALUE}; check and run must refuse it without printing the value.
n=0
try() {
    local name=$1 key=$2 cfg="$T_DIR/$1.yaml" cmd rc
    export OLA_T_VALUE=$3
    printf '%s\n' "$4" >"$cfg"
    cp "$OLA_SOURCE_DIR/config/event-types.json" "$T_DIR/"
    for cmd in check run; do
        n=$((n + 1))
        timeout 20 "$OLAGENT" "$cmd" -c "$cfg" >"$T_DIR/$name.$cmd.out" 2>"$T_DIR/$name.$cmd.err"
        rc=$?
        [ "$rc" -eq 2 ] || fail "$name: $cmd exited $rc, want 2: $(cat "$T_DIR/$name.$cmd.err")"
        grep -q "$cfg:[0-9]*: .*$key" "$T_DIR/$name.$cmd.err" ||
            fail "$name: $cmd: the error does not name $key at file:line: $(cat "$T_DIR/$name.$cmd.err")"
        if grep -q -F "$MARK" "$T_DIR/$name.$cmd.out" "$T_DIR/$name.$cmd.err"; then
            fail "$name: $cmd printed the environment's value: $(cat "$T_DIR/$name.$cmd.err")"
        fi
    done
    unset OLA_T_VALUE
}

# base VALUE_LINES...: the config of write_config with lines replaced (sed
# expressions), the bad one reading ${OLA_T_VALUE}
base() {
    local f="$T_DIR/base.yaml"
    write_config "$f" "outputs:
  - type: stdout"
    sed "$@" "$f"
}
V='${OLA_T_VALUE}'

try url-scheme base_url "ftp://$MARK" "$(base -e "s|base_url: .*|base_url: $V|")"
try url-port base_url "https://$MARK:99999" "$(base -e "s|base_url: .*|base_url: $V|")"
try url-port-text base_url "https://$MARK:12x" "$(base -e "s|base_url: .*|base_url: $V|")"
try url-ipv6 base_url "https://[$MARK" "$(base -e "s|base_url: .*|base_url: $V|")"
try url-host base_url "https://$MARK\\x" "$(base -e "s|base_url: .*|base_url: $V|")"
try region region "$MARK" "$(base -e "s|base_url: .*|region: $V|")"
try start start "$MARK" "$(base -e "s|start: .*|start: $V|")"
try page-size page_size "$MARK" "$(base -e "s|page_size: .*|page_size: $V|")"
try poll poll_interval "$MARK" "$(base -e "s|poll_interval: .*|poll_interval: $V|")"
try log-level log.level "$MARK" "$(base -e "s|level: .*|level: $V|")"
try log-format log.format "$MARK" "$(base -e "s|level: .*|level: info\n  format: $V|")"
try metrics-bool metrics "$MARK" "$(base -e "s|^metrics: .*|metrics: $V|")"
try metrics-listen metrics.listen "$MARK" "$(base -e "s|^metrics: .*|metrics:\n  listen: $V|")"
try shutdown shutdown_timeout "$MARK" "$(base -e "s|^shutdown_timeout: .*|shutdown_timeout: $V|")"
try out-type type "$MARK" "$(base -e "s|  - type: stdout|  - type: $V|")"
try out-name name "$MARK" "$(base -e "s|  - type: stdout|  - type: stdout\n    name: $V\n  - type: stdout\n    name: $V|")"
try out-format format "$MARK" "$(base -e "s|  - type: stdout|  - type: stdout\n    format: $V|")"
try leef-hex leef_delimiter "x$MARK" "$(base -e "s|  - type: stdout|  - type: stdout\n    format: leef\n    format_options:\n      leef_delimiter: $V|")"
try leef-text leef_delimiter "$MARK" "$(base -e "s|  - type: stdout|  - type: stdout\n    format: leef\n    format_options:\n      leef_delimiter: $V|")"
try enrich-reserve reserve "$MARK" "$(base -e "s|^metrics: .*|metrics: false\nenrich:\n  reserve: $V|")"

# the same value written in the file is no secret: the error quotes it
base -e "s|start: .*|start: literal-$MARK|" >"$T_DIR/literal.yaml"
"$OLAGENT" check -c "$T_DIR/literal.yaml" >/dev/null 2>"$T_DIR/literal.err"
grep -q -F "'literal-$MARK'" "$T_DIR/literal.err" ||
    fail "a literal bad value is not quoted: $(cat "$T_DIR/literal.err")"
echo "secret errors: $n commands refused env-sourced values without printing them"
