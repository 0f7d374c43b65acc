#!/usr/bin/env bash
# nvrx.sh [RUNS] [STEADY_SECONDS] - flightdeck side by side with NVIDIA's resiliency extension
# (ft_launcher), on the same trainer (scripts/demo/train.py, 2 gloo ranks, torch from
# scripts/venv.sh), RUNS (3) times each (tests/bench/nvrx.py says what is measured): a rank's
# crash and a rank's hang to the first new step, the final parameters, the supervising stack's
# CPU and peak RSS at about 100 beats/s per rank, a job that tears down slowly after its last
# step, and a daemon that escapes the job. About 5 minutes on 2 cores. Needs
# scripts/install-deps.sh (torch, nvidia-resiliency-ext). QUICK=1: 1 run, the crash only,
# flightdeck native and ft_launcher, about 40 s; without them it exits 77 ("skipped: ...").
# $FLIGHTDECK names the binary (nothing is built then), else build/flightdeck, built when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
. scripts/venv.sh
export FD_VENV
exec "$FD_VENV_PY" tests/bench/nvrx.py "$FD" "$@"
