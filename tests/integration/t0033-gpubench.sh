#!/bin/sh
# The bw area: flightdeck-gpubench as a supervised child. Stand-ins that hang, crash or print
# garbage test the deadline and the JSON contract; good and bad numbers test the judges.
. "$TESTS_DIR/integration/lib.sh"

SI="$TESTS_DIR/helpers/gpubench-standin.sh"
# the hanging stand-in's grandchild sleeps this long: a value no other test uses
export STANDIN_SLEEP="3601.$$"
bench() { # bench MODE [ARGS...]
	mode=$1
	shift
	STANDIN_MODE=$mode check $(fx no-rdma) --only bw --gpubench "$SI" "$@"
}

bench good
expect_rc 0
expect_finding '.check == "bw.hbm" and .status == "pass" and .expected == ">= 2500 GB/s"' 8
expect_finding '.check == "bw.hbm" and .value == "2949 GB/s"' 7
expect_finding '.check == "bw.nccl" and .status == "pass" and .value == "365.2 GB/s" and .expected == ">= 340 GB/s" and (.message | test("1074 MB"))' 1
expect_finding '.check == "bw.p2p" and .status == "pass" and .value == "223.7 GB/s"' 1
ok "healthy 8x H100: HBM and NCCL busbw (largest message) against the H100 table, P2P reported"

bench p2p-wrong
expect_rc 1
expect_finding '.check == "bw.p2p" and .code == "ALLREDUCE_WRONG"' 1
ok "the custom P2P allreduce summing wrong fails"

bench slow-hbm
expect_rc 1
expect_finding '.code == "HBM_BW_LOW" and .subject == "0000:ab:00.0" and .value == "1800 GB/s"' 1
ok "one slow GPU: HBM_BW_LOW on it"

bench good --expect-hbm-bw 3000
expect_finding '.code == "HBM_BW_LOW"' 8
ok "--expect-hbm-bw overrides the table"

bench low-bus
expect_rc 1
expect_finding '.code == "ALLREDUCE_BW_LOW" and .value == "200.0 GB/s"' 1
bench wrong
expect_rc 1
expect_finding '.code == "ALLREDUCE_WRONG"' 1
ok "low busbw and a wrong sum"

bench nonccl
expect_rc 0
expect_finding '.check == "bw.nccl" and .status == "skip" and (.message | test("built without NCCL"))' 1
ok "NCCL not run: skipped with gpubench's reason"

start=$(date +%s)
bench hang --gpubench-timeout 1s
end=$(date +%s)
expect_rc 1
expect_finding '.code == "GPU_BENCH_FAILED" and (.message | test("did not finish within 1000 ms"))' 1
[ $((end - start)) -lt 10 ] || fail "the hung stand-in held flightdeck for $((end - start)) s"
sleep 0.2
pgrep -f "sleep $STANDIN_SLEEP" >/dev/null && fail "the stand-in's grandchild survived the kill"
ok "a hang is killed at the deadline with its whole process group"

# `flightdeck run` starts check in a process group of its own and, when check overruns,
# kills that group: gpubench and what it started must be in it and die with it.
if command -v setsid >/dev/null 2>&1; then
	export STANDIN_SLEEP="3603.$$"
	STANDIN_MODE=hang setsid "$FLIGHTDECK" check --json --counter-window 0 $(fx no-rdma) \
		--only bw --gpubench "$SI" --gpubench-timeout 60s >/dev/null 2>&1 &
	i=0
	while ! sleeper=$(pgrep -f "sleep $STANDIN_SLEEP") && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -n "$sleeper" ] || fail "the hanging stand-in did not start"
	set -- $(ps -o pgid=,sid= -p "$sleeper")
	[ "$1" = "$2" ] || fail "gpubench's child is in group $1, not in check's ($2)"
	[ "$1" != "$(ps -o pgid= -p $$ | tr -d ' ')" ] || fail "setsid gave check no group of its own"
	kill -s KILL -- "-$1"
	sleep 0.2
	pgrep -f "sleep $STANDIN_SLEEP" >/dev/null && fail "gpubench's child survived the kill of check's group"
	ok "gpubench runs in check's process group: a kill of that group takes it and its children"
fi

bench crash
expect_rc 1
expect_finding '.code == "GPU_BENCH_FAILED" and (.message | test("signal 11"))' 1
bench garbage
expect_rc 1
expect_finding '.code == "GPU_BENCH_FAILED" and (.message | test("not a gpubench version 1 document"))' 1
bench exit3
expect_rc 1
expect_finding '.code == "GPU_BENCH_FAILED" and (.message | test("status 3"))' 1
ok "crash, garbage and a non-zero exit are failures that say what happened"

check $(fx no-rdma) --only bw --gpubench /nonexistent/flightdeck-gpubench
expect_rc 0
expect_finding '.check == "bw.gpubench" and .status == "skip" and (.message | test("CUDA toolkit"))' 1
check $(fx roce) --only bw --gpubench "$SI"
expect_finding '.check == "bw.gpubench" and .status == "skip" and (.message | test("no NVIDIA GPU"))' 1
ok "no gpubench, or no GPU: skipped with the reason"
