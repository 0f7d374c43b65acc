#!/usr/bin/env bash
# demo.sh - the demo command: install what is needed, build, and run flightdeck's preflight
# on this machine; then show what an unfit node looks like, on the fixture of a node whose
# InfiniBand port went down (the incident that hung a 4-node job for hours).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
FD=./build/flightdeck

echo "== flightdeck check on this machine"
rc=0
"$FD" check --level standard || rc=$?
echo "(exit status $rc: 0 fit, 1 unfit, 2 usage error, 3 could not run)"
echo

F=build/fixtures/port-down
echo "== the same check on a fixture node with one InfiniBand port down ($F)"
rc=0
# The fixture node's GPUs answer through the fake NVML built with the tests (healthy H100s).
FLIGHTDECK_NVML_LIB=build/tests/libfakenvml.so FAKE_NVML_FIXTURE=tests/fixtures/nvml/healthy-h100x8.conf \
"$FD" check --sysfs-root "$F/sys" --proc-root "$F/proc" \
	--kmsg tests/fixtures/kmsg/xid-fatal.kmsg --counter-window 0 --only host,ib,gpu --quiet || rc=$?
echo "(exit status $rc)"
echo
echo "== flightdeck explain IB_PORT_DOWN"
"$FD" explain IB_PORT_DOWN
echo
echo "The supervised torchrun demo (flightdeck run) is not built yet; see README.md."
