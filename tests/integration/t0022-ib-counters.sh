#!/bin/sh
# Error counters read twice across --counter-window: growth fails, stillness passes.
. "$TESTS_DIR/integration/lib.sh"

# A private copy, since the test writes a counter in the middle of the window.
cp -a "$FIXTURES/healthy-ndr8" "$TMP/node"
ctr="$TMP/node/sys/devices/pci0000:00/0000:9c:00.0/infiniband/mlx5_4/ports/1/counters"
args="--sysfs-root $TMP/node/sys --proc-root $TMP/node/proc --kmsg $FIXTURES/empty.log --only ib --ib-write-bw /nonexistent/ib_write_bw"

RC=0
"$FLIGHTDECK" check --json $args --counter-window 0.6s >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 0
expect_finding '.check == "ib.counters" and .status == "pass"' 8
ok "counters still across the window: pass"

# The first read happens within milliseconds of the start; the window is 3 s; the
# counters change 1.5 s in, well inside it even on a slow sanitizer build.
RC=0
"$FLIGHTDECK" check --json $args --counter-window 3s >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 1.5
echo 17 >"$ctr/symbol_error"
echo 2 >"$ctr/link_error_recovery"
wait $pid || RC=$?
expect_rc 1
expect_finding '.code == "IB_ERRORS_RISING" and .subject == "mlx5_4/1" and (.value | test("symbol_error\\+17")) and (.value | test("link_error_recovery\\+2"))' 1
expect_finding '.code == "IB_ERRORS_RISING"' 1
ok "symbol_error and link_error_recovery growing in the window: IB_ERRORS_RISING on mlx5_4/1"

RC=0
"$FLIGHTDECK" check --json $args --counter-window 0.5s >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 0
expect_finding '.check == "ib.counters" and .subject == "mlx5_4/1" and .status == "pass" and (.message | test("symbol_error=17"))' 1
ok "non-zero but still counters pass and are reported"

check $(fx healthy-ndr8) --only ib --counter-window 0
expect_finding '.check == "ib.counters" and .status == "skip"' 8
ok "--counter-window 0 reads once and says growth was not judged"
