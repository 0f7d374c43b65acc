#!/bin/sh
# GPU health through NVML, answered by the fake NVML library from fixture files: a healthy
# 8x H100 node, then one fixture per failure (the healthy file plus overriding lines).
. "$TESTS_DIR/integration/lib.sh"

: "${FAKE_NVML_LIB:?FAKE_NVML_LIB must name the fake NVML library}"
HEALTHY="$TESTS_DIR/fixtures/nvml/healthy-h100x8.conf"
export FLIGHTDECK_NVML_LIB="$FAKE_NVML_LIB"

# nvml LINES...: a fixture of the healthy node plus LINES, then check --only gpu on it
nvml() {
	{ cat "$HEALTHY"; for l in "$@"; do echo "$l"; done; } >"$TMP/nvml.conf"
	FAKE_NVML_FIXTURE="$TMP/nvml.conf" check $(fx no-rdma) --only gpu
}

nvml
expect_rc 0
expect_finding '.check == "gpu.nvml" and .status == "pass" and .value == "8" and (.message | test("driver 580.65.06, CUDA 13.0"))' 1
for c in gpu.ecc gpu.remap gpu.thermal gpu.clocks gpu.pcie gpu.nvlink gpu.busy; do
	expect_finding ".check == \"$c\" and .status == \"pass\"" 8
done
expect_no_finding '.status == "fail" or .status == "warn"'
ok "healthy 8x H100: every NVML check passes on every GPU"

nvml "gpu.3.ecc_unc = 2"
expect_rc 1
expect_finding '.code == "GPU_ECC_UNCORRECTABLE" and .subject == "0000:5d:00.0" and .value == "2 uncorrectable"' 1
ok "volatile uncorrectable ECC on one GPU"

nvml "gpu.1.remap_pending = 1" "gpu.2.remap_failure = 1"
expect_rc 1
expect_finding '.code == "GPU_ROW_REMAP_PENDING" and .subject == "0000:2a:00.0"' 1
expect_finding '.code == "GPU_ROW_REMAP_FAILED" and .subject == "0000:3a:00.0"' 1
ok "row remap pending and failed"

nvml "gpu.*.remap_pending = unsupported" "gpu.0.retired_pending = 1"
expect_finding '.code == "GPU_ROW_REMAP_PENDING" and .value == "pages pending"' 1
ok "pre-Ampere GPUs: retired pages pending"

nvml "gpu.5.temp = 88"
expect_rc 1
expect_finding '.code == "GPU_THERMAL" and .value == "88 C" and .expected == "< 87 C (slowdown)"' 1
ok "temperature at the GPU's own slowdown threshold"

nvml "gpu.6.reasons = 0x48" "gpu.7.reasons = 0x5"
expect_rc 1
expect_finding '.code == "GPU_CLOCKS_THROTTLED" and .subject == "0000:ba:00.0" and .value == "hardware slowdown, hardware thermal"' 1
expect_finding '.code == "GPU_CLOCKS_THROTTLED"' 1
ok "hardware slowdown and thermal fail; idle and power cap (0x5) do not"

nvml "gpu.4.pcie_width = 8"
expect_rc 1
expect_finding '.code == "GPU_PCIE_DEGRADED" and .value == "x8" and .expected == "x16"' 1
ok "PCIe link at x8 of x16"

nvml "gpu.0.nvlinks_active = 16"
expect_rc 1
expect_finding '.code == "GPU_NVLINK_DOWN" and .value == "16/18 active"' 1
nvml "gpu.*.nvlinks = 0"
expect_rc 0
expect_no_finding '.check == "gpu.nvlink"'
ok "two NVLinks down fail; a GPU without NVLink is not judged"

nvml "gpu.2.procs = 3"
expect_rc 1
expect_finding '.code == "GPU_BUSY" and .value == "3 processes"' 1
ok "leftover compute processes: GPU_BUSY"

nvml "gpu.*.mig = 1"
expect_rc 0
FAKE_NVML_FIXTURE="$TMP/nvml.conf" check $(fx no-rdma) --only gpu --expect-mig off
expect_rc 1
expect_finding '.code == "GPU_MIG_MODE"' 8
ok "MIG mode judged only against --expect-mig"

nvml "gpu.*.ecc = 0" "gpu.*.persistence = 0"
expect_rc 0
expect_finding '.code == "GPU_ECC_DISABLED" and .status == "warn"' 8
expect_finding '.code == "GPU_PERSISTENCE_OFF" and .status == "warn"' 8
ok "ECC off and persistence off warn"

nvml "count = 7"
expect_rc 1
expect_finding '.code == "GPU_COUNT" and .value == "7" and .expected == "8"' 1
ok "NVML sees 7 of the 8 GPUs on the PCI bus (one fell off)"

nvml "init = 18"
expect_rc 1
expect_finding '.code == "GPU_DRIVER_NOT_LOADED" and (.value | test("version mismatch"))' 1
ok "driver/library version mismatch: NVML unusable while the module is loaded"

nvml "gpu.*.temp = unsupported" "gpu.*.reasons = unsupported"
expect_rc 0
expect_no_finding '.check == "gpu.thermal" or .check == "gpu.clocks"'
ok "queries a GPU does not support are not judged"

FLIGHTDECK_NVML_LIB=/nonexistent/libnvidia-ml.so.1 check $(fx no-rdma) --only gpu
expect_rc 1
expect_finding '.code == "GPU_DRIVER_NOT_LOADED" and .check == "gpu.nvml" and (.value | test("cannot load"))' 1
FLIGHTDECK_NVML_LIB=/nonexistent/libnvidia-ml.so.1 check $(fx roce) --only gpu
expect_rc 0
expect_finding '.check == "gpu.nvml" and .status == "skip"' 1
ok "no NVML library: fail where GPUs are on the bus, skip where there are none"

# The driver's CUDA against the CUDA the kernels were built with (only in builds with CUDA).
built=$("$FLIGHTDECK" version | sed -n 's/.*CUDA toolkit: yes (\([0-9]*\)\..*/\1/p')
if [ -n "$built" ]; then
	old=$((built - 1))
	nvml "cuda = ${old}040"
	expect_rc 0
	expect_finding ".check == \"gpu.cuda\" and .status == \"warn\" and .code == \"GPU_CUDA_DRIVER_OLD\" and .value == \"CUDA $old.4\"" 1
	nvml "cuda = ${built}020"
	expect_finding ".check == \"gpu.cuda\" and .status == \"pass\" and .value == \"CUDA $built.2\"" 1
	ok "a driver for an older CUDA than the kernels were built with: GPU_CUDA_DRIVER_OLD"
else
	echo "skipped: gpu.cuda needs a build with the CUDA toolkit (this one has none)"
fi
