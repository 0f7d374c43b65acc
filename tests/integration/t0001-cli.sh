#!/bin/sh
# The command table, --help, version and explain.
. "$TESTS_DIR/integration/lib.sh"

run --help
expect_rc 0
grep -q 'exit codes' "$TMP/out" || fail "--help does not document exit codes"
grep -q 'check' "$TMP/out" || fail "--help does not list check"
ok "--help"

run
expect_rc 2
ok "no command: exit 2"

run frobnicate
expect_rc 2
expect_one_line_error "unknown command 'frobnicate'"
ok "unknown command"

run version
expect_rc 0
grep -q '^flightdeck [0-9]' "$TMP/out" || fail "version line"
ok "version"

run check --help
expect_rc 0
for opt in --level --only --json --prom-file --config --sysfs-root --proc-root --kmsg \
	--expect-ib-rate --counter-window --xid-window --xid-fatal --shm-min; do
	grep -q -- "$opt" "$TMP/out" || fail "check --help does not describe $opt"
done
ok "check --help describes every option"

run explain
expect_rc 0
for code in IB_PORT_DOWN IB_PHYS_DOWN IB_RATE_LOW IB_ERRORS_RISING IB_LINK_FLAP \
	GPU_DRIVER_NOT_LOADED GPU_COUNT GPU_XID_FATAL GPU_XID_APP GPU_ECC_UNCORRECTABLE \
	GPU_ROW_REMAP_PENDING GPU_ROW_REMAP_FAILED GPU_THERMAL GPU_CLOCKS_THROTTLED \
	GPU_PCIE_DEGRADED GPU_NVLINK_DOWN GPU_BUSY HBM_BW_LOW ALLREDUCE_BW_LOW ALLREDUCE_WRONG \
	SHM_TOO_SMALL MEMLOCK_LIMITED DISK_LOW CKPT_DIR_UNWRITABLE NCCL_IFNAME_MISSING MEMFIT_OOM; do
	grep -q "^$code " "$TMP/out" || fail "explain does not list $code"
done
ok "explain lists every code the contract requires (docs/architecture.md, \"Contracts\")"

run explain gpu_driver_not_loaded
expect_rc 0
grep -q 'dkms' "$TMP/out" || fail "GPU_DRIVER_NOT_LOADED remedy does not mention DKMS"
grep -q 'What to do' "$TMP/out" || fail "explain has no remedy section"
ok "explain CODE (case-insensitive)"

run explain NOT_A_CODE
expect_rc 2
expect_one_line_error "unknown reason code 'NOT_A_CODE'"
ok "explain of an unknown code"

run check --list
expect_rc 0
grep -q '^ib.port ' "$TMP/out" || fail "--list lacks ib.port"
ok "check --list"
