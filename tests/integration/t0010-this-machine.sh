#!/bin/sh
# flightdeck check on the machine the tests run on, with its real /sys, /proc and kernel log.
# On these CI machines there is no GPU and no RDMA: it must say so and exit 0.
. "$TESTS_DIR/integration/lib.sh"
unset FLIGHTDECK_NVML_LIB FAKE_NVML_FIXTURE # the real machine: the real (absent) NVML

run check --json
[ -d /sys/class/infiniband ] && [ -n "$(ls /sys/class/infiniband 2>/dev/null)" ] &&
	skip "this machine has RDMA devices; the test is for a machine without"
if grep -qs 0x10de /sys/bus/pci/devices/*/vendor; then
	skip "this machine has NVIDIA PCI devices; the test is for a machine without"
fi
expect_rc 0
expect_finding '.check == "ib.port" and .status == "skip" and (.message | test("no RDMA devices"))' 1
expect_finding '.check == "gpu.pci" and .status == "skip" and (.message | test("no NVIDIA GPU"))' 1
expect_finding '.check == "gpu.nvml" and .status == "skip"' 1
expect_no_finding '.status == "fail"'
jq -e '.verdict == "pass" or .verdict == "warn"' "$TMP/out" >/dev/null || fail "verdict"
ok "no GPU and no RDMA: said plainly, exit 0"

run check
expect_rc 0
grep -q 'no RDMA devices on this node' "$TMP/out" || fail "text report does not say there is no RDMA"
grep -q 'no NVIDIA GPU on the PCI bus' "$TMP/out" || fail "text report does not say there is no GPU"
ok "text report on this machine"
