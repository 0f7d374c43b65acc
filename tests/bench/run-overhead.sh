#!/usr/bin/env bash
# run-overhead.sh [SECONDS] [RATE] [LATENCY_RUNS] - flightdeck run's CPU and memory beside
# torchrun's agent for the same child, and the stall-detection latency (tests/bench/run-overhead.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
exec python3 tests/bench/run-overhead.py "$PWD/build/flightdeck" "$@"
