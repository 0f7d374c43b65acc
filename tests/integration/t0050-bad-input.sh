#!/bin/sh
# Every bad input: one line on stderr naming the input, exit 2, no crash.
. "$TESTS_DIR/integration/lib.sh"

run check --sysfs-root /nonexistent/sys
expect_rc 2
expect_one_line_error "/nonexistent/sys"
ok "missing --sysfs-root"

run check --proc-root "$FIXTURES/empty.log"
expect_rc 2
expect_one_line_error "not a directory"
ok "--proc-root that is a file"

FLIGHTDECK_SYSFS_ROOT=/nonexistent/env run check
expect_rc 2
expect_one_line_error "/nonexistent/env"
ok "FLIGHTDECK_SYSFS_ROOT pointing nowhere"

# A malformed hardware fact is a finding, not a usage error (docs/architecture.md,
# Contracts): the check runs on to the end, the node's other findings are kept, exit 1.
malformed() { # FILE-PATTERN TEXT: one HW_FACT_MALFORMED failure naming the file and the text
	expect_rc 1
	expect_finding ".code == \"HW_FACT_MALFORMED\" and .status == \"fail\" and
		(.message | contains(\"$1\")) and (.message | contains(\"'$2'\"))" 1
	[ ! -s "$TMP/err" ] || fail "stderr is not empty: $(cat "$TMP/err")"
	jq -e '.verdict == "fail"' "$TMP/out" >/dev/null || fail "verdict is not fail"
}

check $(fx garbage-state)
malformed "mlx5_0/ports/1/state" garbage
expect_finding '.check == "gpu.pci" and .status == "pass"'
expect_finding '.check == "host.shm"'
ok "garbage in a sysfs state file: a finding, the other checks still judged"

check $(fx empty-rate)
malformed "mlx5_1/ports/1/rate" ""
expect_finding '.check == "gpu.pci" and .status == "pass"'
# the other IB checks that share the port scan say why they could not judge
expect_finding '.check == "ib.rate" and .status == "skip" and (.message | contains("HW_FACT_MALFORMED"))'
ok "an empty sysfs rate file: a finding, the other checks still judged"

cp -a "$FIXTURES/healthy-ndr8" "$TMP/n"
echo 'not a counter' >"$TMP/n/sys/devices/pci0000:00/0000:1a:00.0/infiniband/mlx5_0/ports/1/counters/symbol_error"
# (no GPU to run flightdeck-gpubench on: a CUDA build's real one would say so on stderr)
check --sysfs-root "$TMP/n/sys" --proc-root "$TMP/n/proc" --kmsg "$FIXTURES/empty.log" \
	--gpubench /nonexistent/flightdeck-gpubench
malformed "symbol_error" "not a counter"
expect_finding '.check == "ib.port" and .status == "pass"'
ok "a garbage counter"

echo 'zz' >"$TMP/n/sys/devices/pci0000:00/0000:18:00.0/vendor"
check --sysfs-root "$TMP/n/sys" --proc-root "$TMP/n/proc" --only gpu --kmsg "$FIXTURES/empty.log" \
	--gpubench /nonexistent/flightdeck-gpubench
malformed "0000:18:00.0/vendor" zz
expect_finding '.check == "gpu.xid"'
ok "a garbage PCI vendor id"

for bad in "--counter-window 10x" "--counter-window -1" "--shm-min lots" "--xid-window ''" \
	"--xid-fatal 48,x" "--expect-gpus -3" "--expect-ib-rate fast" "--memlock-min 1Q"; do
	eval "run check $bad"
	expect_rc 2
	opt=$(echo "$bad" | cut -d' ' -f1)
	expect_one_line_error "$opt: invalid value"
done
ok "malformed durations, sizes, counts and lists"

run check --frobnicate
expect_rc 2
expect_one_line_error "unknown option '--frobnicate'"
run check -z
expect_rc 2
expect_one_line_error "unknown option '-z'"
run check --level
expect_rc 2
expect_one_line_error "needs a value"
run check --level extreme
expect_rc 2
expect_one_line_error "unknown level 'extreme'"
run check --only gpu,toaster
expect_rc 2
expect_one_line_error "unknown area 'toaster'"
run check stray
expect_rc 2
expect_one_line_error "unexpected argument 'stray'"
ok "unknown flags, missing values, bad levels and areas, stray arguments"

printf 'shm-min = 1GiB\nthis line has no equals sign\n' >"$TMP/bad.conf"
run check --config "$TMP/bad.conf"
expect_rc 2
expect_one_line_error "bad.conf:2: expected 'key = value'"
printf '\n\nno-such-setting = 3\n' >"$TMP/bad2.conf"
run check --config "$TMP/bad2.conf"
expect_rc 2
expect_one_line_error "bad2.conf:3: unknown setting 'no-such-setting'"
printf 'xid-window = forever\n' >"$TMP/bad3.conf"
run check --config "$TMP/bad3.conf"
expect_rc 2
expect_one_line_error "bad3.conf:1: xid-window: invalid value 'forever'"
run check --config "$TMP/none.conf"
expect_rc 2
expect_one_line_error "none.conf"
ok "malformed, unknown-key, bad-value and missing config files name FILE:LINE"

run check $(fx healthy-ndr8) --kmsg /nonexistent/kmsg.log
expect_rc 2
expect_one_line_error "/nonexistent/kmsg.log"
ok "an unreadable --kmsg"

run check $(fx healthy-ndr8) --checkpoint-dir /nonexistent/ckpt
expect_rc 2
expect_one_line_error "/nonexistent/ckpt"
ok "a --checkpoint-dir that does not exist"

run check $(fx healthy-ndr8) --counter-window 0 --prom-file /nonexistent/dir/fd.prom
expect_rc 2
expect_one_line_error "/nonexistent/dir"
ok "a --prom-file in a directory that does not exist"
