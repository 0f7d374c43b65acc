#!/usr/bin/env bash
# run-overhead.sh [SECONDS] [RATE] [LATENCY_RUNS] - flightdeck run's CPU and memory beside
# torchrun's agent for the same child, and the stall-detection latency (tests/bench/run-overhead.py).
# QUICK=1 (ctest's bench-quick-run-overhead): 2 s and 2 latency runs. $FLIGHTDECK names the
# binary (nothing is built then), else build/flightdeck, built when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
exec python3 tests/bench/run-overhead.py "$FD" "$@"
