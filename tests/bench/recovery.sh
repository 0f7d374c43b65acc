#!/usr/bin/env bash
# recovery.sh [RUNS] [STEADY_SECONDS] - native ranks (`run --nproc-per-node 2`) against
# flightdeck over torchrun, on the same trainer (scripts/demo/train.py, 2 gloo ranks), with
# `--preflight none --backoff 0`, RUNS (5) times each (tests/bench/recovery.py):
#  * recovery: rank 1 exits 1 at step 5; from its death (its beat of step 5) to the relaunched
#    job's first new step, split by the events log (crash, restart, start) and the trainer's
#    own timing marks on stderr (FLIGHTDECK_DEMO_TIMING=1: first line, import torch done,
#    process group initialised); the GPU-wait helper and a quick preflight timed alone;
#  * detection: rank 1 stops itself (SIGSTOP) at step 5, --stall-timeout 2s; last beat to the
#    stall event, and on to the first new step (--stack-wait 1s: the stopped rank never
#    answers for its stack, and the wait is waited out);
#  * steady state, about 100 beats/s per rank for STEADY_SECONDS (15): CPU s and peak RSS of
#    flightdeck (its exit event) and of torchrun's agent (/proc/PID/stat, VmHWM, while it runs).
# Each run must exit 0 after one restart with the uninterrupted run's final parameters, else
# exit 1; timings are printed, never judged. About 3.5 minutes on 2 cores. Needs the Python
# environment of scripts/venv.sh (torch 2.x, its torchrun: scripts/install-deps.sh).
# QUICK=1 (ctest's bench-quick-recovery): 1 run, 1 s of steady state, native ranks only, about
# 20 s; without torch it exits 77 ("skipped: ..."). $FLIGHTDECK names the binary (nothing is
# built then), else build/flightdeck, built when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
. scripts/venv.sh
export FD_VENV
exec python3 tests/bench/recovery.py "$FD" "$@"
