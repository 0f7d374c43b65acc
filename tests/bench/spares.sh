#!/usr/bin/env bash
# spares.sh [RUNS] [STEADY_SECONDS] - what a hot spare buys when a node is lost, and what it
# costs while idle (tests/bench/spares.py): on loopback, node 1 of a 2+1 group SIGKILLed, from
# the kill to every training slot's first new step, against the same loss without a spare
# (exit 75, a requeue to follow); the idle spare's CPU and memory beside a training node's.
# RUNS (5), STEADY_SECONDS (10). QUICK=1 (ctest's bench-quick-spares): 1 run, 2 s. No torch
# needed: a shell trainer beats through `flightdeck beat`. About 1.5 minutes on 2 cores.
# $FLIGHTDECK names the binary (nothing is built then), else build/flightdeck, built when
# missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
exec python3 tests/bench/spares.py "$FD" "$@"
