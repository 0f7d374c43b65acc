#!/bin/sh
# GPU presence from PCI sysfs and the driver, without NVML: the kernel-update incident.
. "$TESTS_DIR/integration/lib.sh"

check $(fx no-rdma) --only gpu
expect_rc 0
expect_finding '.check == "gpu.pci" and .status == "pass" and .value == "550.54.15"' 1
expect_finding '.check == "gpu.count" and .status == "pass" and .value == "8"' 1
ok "8 H100 with the driver loaded; the NVSwitch is not counted as a GPU"

check $(fx gpu-nodriver) --only gpu
expect_rc 1
expect_finding '.code == "GPU_DRIVER_NOT_LOADED" and .status == "fail" and (.value | test("6.8.0-49-generic"))' 1
jq -e '[.findings[] | select(.code == "GPU_DRIVER_NOT_LOADED")][0].remedy | test("dkms") and test("pin")' \
	"$TMP/out" >/dev/null || fail "remedy must cover DKMS and kernel pinning"
ok "GPUs present, module absent: GPU_DRIVER_NOT_LOADED naming the running kernel"

check $(fx gpu-nouveau) --only gpu
expect_rc 1
expect_finding '.code == "GPU_DRIVER_NOT_LOADED" and .subject == "0000:9a:00.0" and .value == "nouveau"' 1
ok "one GPU bound to nouveau"

check $(fx no-rdma) --only gpu --expect-gpus 7
expect_rc 1
expect_finding '.code == "GPU_COUNT" and .value == "8" and .expected == "7"' 1
ok "--expect-gpus 7 with 8 present: GPU_COUNT"

FLIGHTDECK_NVML_LIB=/nonexistent/libnvidia-ml.so.1 check $(fx roce) --only gpu
expect_rc 0
expect_finding '.check == "gpu.pci" and .status == "skip" and (.message | test("no NVIDIA GPU"))' 1
ok "no NVIDIA device: skip, not fail"

FLIGHTDECK_NVML_LIB=/nonexistent/libnvidia-ml.so.1 check $(fx roce) --only gpu --expect-gpus 8
expect_rc 1
expect_finding '.code == "GPU_COUNT" and .value == "0"' 1
ok "no NVIDIA device but 8 expected: GPU_COUNT"
