#!/usr/bin/env bash
# soak.sh [RESTARTS] - 1000 restarts (by default) of a crashing job under `flightdeck run`:
# the supervisor's open fds, RSS and zombie children at the start and at the end
# (tests/bench/soak.py). Flat numbers mean nothing leaks per restart.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
exec python3 tests/bench/soak.py "$PWD/build/flightdeck" "$@"
