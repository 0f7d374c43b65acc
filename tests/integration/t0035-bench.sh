#!/bin/sh
# flightdeck bench: gpubench's measurements shown in full, judged as `check --only bw` does;
# with stand-ins, since no GPU exists here (the real kernels: tests/gpu/run-on-device.sh).
. "$TESTS_DIR/integration/lib.sh"

SI="$TESTS_DIR/helpers/gpubench-standin.sh"
export STANDIN_SLEEP="3602.$$"
SYS="$FIXTURES/no-rdma/sys"

STANDIN_MODE=good run bench --sysfs-root "$SYS" --gpubench "$SI"
expect_rc 0
[ "$(grep -c 'NVIDIA H100 80GB HBM3' "$TMP/out")" -eq 8 ] || fail "not one row per GPU"
grep -q '2950.4  *verified  *53.2  *52.9' "$TMP/out" || fail "HBM/H2D/D2H numbers not shown"
grep -q 'custom P2P allreduce over 8 GPU' "$TMP/out" || fail "no P2P section"
grep -q 'NCCL allreduce over 8 GPU' "$TMP/out" || fail "no NCCL section"
grep -q '365.2  *verified' "$TMP/out" || fail "NCCL busbw not shown"
grep -q 'PASS bw.nccl' "$TMP/out" || fail "no judgement"
ok "healthy stand-in: every measurement shown, judged, exit 0"

STANDIN_MODE=low-bus run bench --sysfs-root "$SYS" --gpubench "$SI"
expect_rc 1
grep -q 'ALLREDUCE_BW_LOW' "$TMP/out" || fail "low busbw not judged"
STANDIN_MODE=wrong run bench --sysfs-root "$SYS" --gpubench "$SI" --json
expect_rc 1
expect_finding '.code == "ALLREDUCE_WRONG"'
ok "a wrong sum or a low busbw: exit 1 (--json gives the findings document)"

STANDIN_MODE=hang run bench --sysfs-root "$SYS" --gpubench "$SI" --gpubench-timeout 1
expect_rc 1
grep -q 'GPU_BENCH_FAILED' "$TMP/out" || fail "a hung gpubench is not GPU_BENCH_FAILED"
pgrep -f "sleep $STANDIN_SLEEP" >/dev/null && fail "the hung gpubench's grandchild survived"
ok "a hung gpubench is killed at --gpubench-timeout: exit 1"

run bench --sysfs-root "$FIXTURES/no-rdma/sys" --gpubench /nonexistent/flightdeck-gpubench
expect_rc 3
grep -q 'nothing to measure: /nonexistent/flightdeck-gpubench' "$TMP/err" || fail "missing gpubench not said"
mkdir -p "$TMP/empty/bus/pci/devices"
run bench --sysfs-root "$TMP/empty"
expect_rc 3
grep -q 'no NVIDIA GPU on the PCI bus' "$TMP/err" || fail "no GPU not said"
run bench --gpubench-timeout soon
expect_rc 2
run bench --bogus
expect_rc 2
ok "nothing to measure: exit 3 with the reason; bad input: exit 2"

# a gpubench that prints a world document (as --mpi's rank 0 does): shown as the job's
STANDIN_MODE=world-doc run bench --sysfs-root "$SYS" --gpubench "$SI"
expect_rc 0
grep -q 'NCCL allreduce across the job: 16 rank(s) on 2 node(s)' "$TMP/out" || fail "the world document is not shown as the job's"
grep -q '335.5  *verified' "$TMP/out" || fail "the world busbw is not shown"
STANDIN_MODE=world-doc run bench --sysfs-root "$SYS" --gpubench "$SI" --json
expect_finding '.check == "bw.nccl" and .status == "pass" and (.message | test("across 2 node\\(s\\), 16 ranks"))' 1
ok "a world document: bench shows the job's ranks and nodes and its busbw"
