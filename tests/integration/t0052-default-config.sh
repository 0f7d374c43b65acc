#!/bin/sh
# The default config file (/etc/flightdeck/flightdeck.conf; FLIGHTDECK_CONFIG names another):
# read by check and run when present, [check]/[run] sections, a flag beats it, --no-config skips
# it, --config replaces it; scripts/flightdeck.conf.example lists every key at its default.
. "$TESTS_DIR/integration/lib.sh"

conf="$TMP/flightdeck.conf"
printf '# site defaults\n[check]\nshm-min = 7G\n[run]\ngrace = 7s\n' >"$conf"
export FLIGHTDECK_CONFIG="$conf"

run check --show-config
expect_rc 0
grep -q '^shm-min = 7000000000$' "$TMP/out" || fail "check did not apply the default file: $(grep shm-min "$TMP/out")"
run run --show-config
expect_rc 0
grep -q '^grace = 7s$' "$TMP/out" || fail "run did not apply its [run] section: $(grep '^grace' "$TMP/out")"
ok "the default file applies, each command its own section"

run check --shm-min 5G --show-config
grep -q '^shm-min = 5000000000$' "$TMP/out" || fail "a flag did not beat the default file"
run check --no-config --show-config
expect_rc 0
grep -q '^shm-min = 1073741824$' "$TMP/out" || fail "--no-config still read the default file"
printf 'shm-min = 3G\n' >"$TMP/other.conf"
run check --config "$TMP/other.conf" --show-config
grep -q '^shm-min = 3000000000$' "$TMP/out" || fail "--config did not replace the default file"
ok "a flag beats it, --no-config skips it, --config replaces it"

FLIGHTDECK_CONFIG="$TMP/absent.conf" run check --show-config
expect_rc 0
run check --config "$TMP/absent.conf" --show-config
expect_rc 2
expect_one_line_error "absent.conf"
run check --config "$TMP" --show-config
expect_rc 2
expect_one_line_error "$TMP"
printf '[chek]\nshm-min = 3G\n' >"$TMP/typo.conf"
run check --config "$TMP/typo.conf" --show-config
expect_rc 2
expect_one_line_error "unknown section"
ok "a missing default is no error; a missing or unreadable --config and an unknown section are exit 2"

ex="$SRC_DIR/scripts/flightdeck.conf.example"
for cmd in check run; do
	run $cmd --config "$ex" --show-config
	expect_rc 0
	# every key uncommented at its default: the same values as no file at all
	sed 's/^# \([a-z-]* =.*\)$/\1/' "$ex" >"$TMP/all.conf"
	run $cmd --config "$TMP/all.conf" --show-config
	expect_rc 0
	sed 's/ *$//' "$TMP/out" >"$TMP/with"
	run $cmd --no-config --show-config
	sed 's/ *$//' "$TMP/out" >"$TMP/without"
	cmp -s "$TMP/with" "$TMP/without" || fail "$cmd: the example is not every key at its default: $(diff "$TMP/without" "$TMP/with")"
	n=$(grep -c '^[a-z-]* =' "$TMP/without")
	m=$(sed -n "/^\[$cmd\]/,/^\[/p" "$TMP/all.conf" | grep -c '^[a-z-]* =')
	[ "$n" -eq "$m" ] || fail "$cmd has $n keys, its section of the example $m"
done
ok "the example parses for check and run and lists every key at its default"
