#!/bin/sh
# ib.bw: RDMA write bandwidth in loopback per port, through perftest's ib_write_bw. No RDMA
# device exists here, so a stand-in (tests/helpers/fake-ib-write-bw.py: a real TCP exchange
# between its server and client, perftest's real output format) plays the tool at chosen rates,
# hangs, dies or prints garbage; Debian's real ib_write_bw is then run with the very same
# arguments up to its "no device" error, which proves it accepts them.
. "$TESTS_DIR/integration/lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (the stand-in is Python)"
SI="$TESTS_DIR/helpers/fake-ib-write-bw.py"
export FAKE_IBBW_LOG="$TMP/args.log"
bw() { # bw FIXTURE [ARGS...]: ib.bw's findings only
	fxn=$1
	shift
	check $(fx "$fxn") --only ib --ib-write-bw "$SI" "$@"
}

bw healthy-ndr8
expect_rc 0
expect_finding '.check == "ib.bw" and .status == "pass" and .value == "392.7 Gb/s" and
	(.message | test("loopback from host memory"))' 8
# a client may come before its server listens, and try again: one device per client line
[ "$(grep ' 127.0.0.1$' "$FAKE_IBBW_LOG" | cut -d' ' -f2 | sort -u | wc -l)" -eq 8 ] ||
	fail "expected clients on 8 devices: $(tr '\n' ';' <"$FAKE_IBBW_LOG")"
grep -q -- '-d mlx5_3 -i 1 -p [0-9]* -D 2 -s 1048576 --report_gbits -F$' "$FAKE_IBBW_LOG" ||
	fail "no server for mlx5_3 with the expected arguments: $(cat "$FAKE_IBBW_LOG")"
ok "8 healthy NDR ports: each tested in loopback (a server and a client), 392.7 Gb/s passes"

bw healthy-ndr8 --level quick
expect_no_finding '.check == "ib.bw"'
ok "level quick (the Prolog's, the health check's) does not move data"

FAKE_IBBW_GBPS="mlx5_5:176.02" bw healthy-ndr8
expect_rc 1
expect_finding '.code == "IB_BW_LOW" and .subject == "mlx5_5/1" and .value == "176.0 Gb/s" and
	.expected == ">= 360.0 Gb/s" and (.message | test("90 % of the port.s 400 Gb/s"))' 1
expect_finding '.check == "ib.bw" and .status == "fail"' 1
FAKE_IBBW_GBPS="mlx5_5:176.02" NCCL_IB_HCA=mlx5_5 bw healthy-ndr8 --ib-bw-min 40
expect_rc 0
ok "one port at 176 of 400 Gb/s: IB_BW_LOW names it, the others pass; --ib-bw-min 40 lets it"

FAKE_IBBW_GBPS="*:190" bw roce
expect_rc 0
expect_finding '.check == "ib.bw" and .status == "pass"' 2
ok "RoCE ports are judged against their own 200 Gb/s"

bw port-down
expect_finding '.check == "ib.bw" and .subject == "mlx5_3/1" and .status == "skip"' 1
expect_finding '.check == "ib.bw" and .status == "pass"' 7
NCCL_IB_HCA=mlx5_0 bw healthy-ndr8
expect_finding '.check == "ib.bw"' 1
ok "a down port is not tested (ib.port fails it); NCCL_IB_HCA limits the test to its ports"

t0=$(date +%s)
FAKE_IBBW_MODE="mlx5_1:hang mlx5_2:die mlx5_4:garbage mlx5_6:noserver mlx5_7:usage" \
	bw healthy-ndr8 --ib-bw-duration 1s --ib-bw-timeout 1s
took=$(($(date +%s) - t0))
expect_rc 1
expect_finding '.code == "IB_BW_FAILED" and .subject == "mlx5_1/1" and (.message | test("did not finish within 6000 ms: killed"))' 1
expect_finding '.code == "IB_BW_FAILED" and .subject == "mlx5_2/1" and (.message | test("signal 11"))' 1
expect_finding '.code == "IB_BW_FAILED" and .subject == "mlx5_4/1" and (.message | test("not perftest.s report"))' 1
expect_finding '.code == "IB_BW_FAILED" and .subject == "mlx5_6/1" and (.message | test("server exited without listening"))' 1
expect_finding '.code == "IB_BW_FAILED" and .subject == "mlx5_7/1" and (.message | test("refused flightdeck.s arguments"))' 1
expect_finding '.check == "ib.bw" and .status == "pass"' 3
[ "$took" -lt 30 ] || fail "took $took s: the hung port's deadline did not hold"
no_leftovers fake-ib-write-bw
ok "hung, crashed, garbage, a server that never listened, refused arguments: IB_BW_FAILED each, nothing left running (${took} s)"

mkdir -p "$TMP/state"
FAKE_IBBW_STATE="$TMP/state" FAKE_IBBW_MODE="mlx5_0:busy" NCCL_IB_HCA=mlx5_0 bw healthy-ndr8
expect_rc 0
expect_finding '.check == "ib.bw" and .status == "pass"' 1
[ -e "$TMP/state/busy-done" ] || fail "the stand-in never said its port was taken"
ok "a TCP port taken between the look and the bind: another port, and the test passes"

: >"$FAKE_IBBW_LOG"
FAKE_IBBW_CUDA=1 FAKE_IBBW_GBPS="gpu:300" NCCL_IB_HCA=mlx5_0,mlx5_4 bw healthy-ndr8
expect_rc 1
expect_finding '.check == "ib.bw" and .status == "pass" and (.message | test("host memory"))' 2
expect_finding '.code == "IB_BW_LOW" and (.subject | test("^mlx5_[04]/1 gpu$")) and (.message | test("GPU memory of GPU 0000:18:00.0: below 80 %"))' 2
grep -q -- '--use_cuda_bus_id=0000:18:00.0 127.0.0.1$' "$FAKE_IBBW_LOG" || fail "no GPU client: $(cat "$FAKE_IBBW_LOG")"
FAKE_IBBW_CUDA=1 FAKE_IBBW_GBPS="gpu:330" NCCL_IB_HCA=mlx5_0 bw healthy-ndr8
expect_rc 0
ok "perftest built with CUDA: each port again from GPU memory (--use_cuda_bus_id), judged at 80 %"

bw no-rdma
expect_finding '.check == "ib.bw" and .status == "skip" and (.message | test("no RDMA ports"))' 1
check $(fx healthy-ndr8) --only ib --ib-write-bw /nonexistent/ib_write_bw
expect_rc 0
expect_finding '.check == "ib.bw" and .status == "skip" and (.message | test("/nonexistent/ib_write_bw"))' 1
check $(fx healthy-ndr8) --only ib --ib-write-bw no-such-ib-write-bw
expect_finding '.check == "ib.bw" and .status == "skip" and (.message | test("^no-such-ib-write-bw is not installed .perftest"))' 1
ok "no RDMA ports, no ib_write_bw: skipped with the reason"

for bad in "--ib-bw-min 150" "--ib-bw-min -1" "--ib-bw-duration 0" "--ib-bw-timeout soon"; do
	# shellcheck disable=SC2086
	run check $(fx healthy-ndr8) --only ib $bad
	expect_rc 2
	expect_one_line_error "${bad%% *}"
done
ok "out-of-range thresholds and durations: exit 2 with one line naming the option"

# A SIGTERM while a port's test hangs: the test's children are killed, check exits 143.
FAKE_IBBW_MODE="*:hang" "$FLIGHTDECK" check --json --counter-window 0 $(fx healthy-ndr8) --only ib \
	--ib-write-bw "$SI" --ib-bw-timeout 60s >"$TMP/out" 2>"$TMP/err" &
pid=$!
i=0
until [ "$(grep -c ' 127.0.0.1$' "$FAKE_IBBW_LOG" 2>/dev/null)" -ge 1 ] || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
: >"$FAKE_IBBW_LOG"
sleep 0.5
kill -TERM "$pid"
RC=0
wait "$pid" || RC=$?
expect_rc 143
grep -q 'SIGTERM received' "$TMP/err" || fail "no line about the SIGTERM"
sleep 0.2
no_leftovers fake-ib-write-bw
ok "SIGTERM during a hung test: exit 143, its server and client killed"

# The real ib_write_bw (Debian's perftest) with flightdeck's arguments: it parses them and stops
# at the missing device. Where it is not installed, this part says so; the rest has run.
if command -v ib_write_bw >/dev/null 2>&1; then
	check $(fx healthy-ndr8) --only ib --ib-write-bw ib_write_bw
	expect_rc 1
	expect_finding '.code == "IB_BW_FAILED" and (.message | test("sees no RDMA device though sysfs lists mlx5_0"))' 1
	expect_no_finding '.message | test("refused flightdeck|not perftest")'
	ok "the real ib_write_bw $(ib_write_bw --version | sed 's/Version: //') takes the arguments and reports no device: IB_BW_FAILED"
else
	echo "skipped: the real ib_write_bw part (perftest is not installed; scripts/install-deps.sh installs it)"
fi
