#!/usr/bin/env bash
# culprit.sh [RUNS] - what naming a stall's culprit adds to the stop, and to a STATE frame
# (tests/bench/culprit.py): one node, R native ranks of a Python trainer, the last spinning in
# a Python loop; the STACKS phase, the verdict and the first SIGTERM, from the events log; the
# STATE payload with and without a verdict. RUNS (3). QUICK=1 (ctest's bench-quick-culprit):
# 1 run, 2 and 4 ranks. No torch needed. About 40 s on 2 cores.
# $FLIGHTDECK names the binary (nothing is built then), else build/flightdeck, built when
# missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
exec python3 tests/bench/culprit.py "$FD" "$@"
