#!/usr/bin/env bash
# soak.sh [RESTARTS] - 1000 restarts (by default) of a crashing job under `flightdeck run`:
# the supervisor's open fds, RSS and zombie children at the start and at the end
# (tests/bench/soak.py). Flat numbers mean nothing leaks per restart.
# QUICK=1 (ctest's bench-quick-soak): 50 restarts. $FLIGHTDECK names the binary (nothing is
# built then), else build/flightdeck, built when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
exec python3 tests/bench/soak.py "$FD" "$@"
