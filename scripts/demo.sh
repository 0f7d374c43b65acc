#!/usr/bin/env bash
# demo.sh - the demo command: install what is needed, build, and run flightdeck's preflight
# on this machine; show what an unfit node looks like, on the fixture of a node whose
# InfiniBand port went down (the incident that hung a 4-node job for hours); then run a small
# real torchrun training job (torch 2.x, CPU) under `flightdeck run`, with a stall injected,
# detected, killed and resumed from its checkpoint to completion.
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

work=$(mktemp -d "${TMPDIR:-/tmp}/flightdeck-demo.XXXXXX")
mkdir -p "$work/ckpt" "$work/ref" "$work/ckpt-native"
TRAIN=scripts/demo/train.py
# torch 2.x from the Python environment install-deps.sh made: its torchrun starts the workers
# with its own python3, and so does flightdeck's --nproc-per-node below
. scripts/venv.sh
TR=("$FD_VENV/bin/torchrun" --nnodes=1 --nproc_per_node=2 --standalone)

echo "== a reference run of the demo job, uninterrupted (torchrun, 2 workers, gloo, CPU)"
"${TR[@]}" --log_dir "$work/logs-ref" "$TRAIN" --ckpt-dir "$work/ref" --steps 60 \
	--out "$work/ref.sha" 2>&1 | grep -E 'final parameters' || true
echo

echo "== flightdeck run: the same job; rank 1 stops itself (SIGSTOP) at step 25"
echo "   flightdeck run --stall-timeout 5s --grace 5s --checkpoint-dir $work/ckpt -- torchrun ... --resume {resume}"
# Only flightdeck's lines and the job's progress are shown; torchrun's own noise is not.
{
	rc=0
	"$FD" run --preflight quick --check-config scripts/demo/check.conf --stall-timeout 5s \
		--grace 5s --backoff 2s --checkpoint-dir "$work/ckpt" --events "$work/events.jsonl" -- \
		"${TR[@]}" --log_dir "$work/logs" "$TRAIN" --ckpt-dir "$work/ckpt" --steps 60 \
		--out "$work/run.sha" --stall-at 25 --resume {resume} || rc=$?
	echo "$rc" >"$work/rc"
} 2>&1 | grep --line-buffered -E '^flightdeck:|resumed from|final parameters|stopping itself|step [0-9]+ loss' || true
rc=$(cat "$work/rc")
echo "(exit status $rc)"
echo
echo "== the events log ($work/events.jsonl)"
jq -r '[.event, "restart=\(.restart)", (if .rank != null then "rank=\(.rank)" else empty end),
	(if .step != null then "step=\(.step)" else empty end),
	(if .checkpoint != null then "checkpoint=\(.checkpoint)" else empty end),
	(if .exit_code != null then "exit_code=\(.exit_code)" else empty end)] | join(" ")' \
	"$work/events.jsonl"
echo
echo "== checkpoints (never deleted): $(ls "$work/ckpt" | tr '\n' ' ')"
if cmp -s "$work/ref.sha" "$work/run.sha"; then
	echo "== final parameters are bit-identical to the uninterrupted run: $(cat "$work/run.sha")"
else
	echo "== final parameters DIFFER from the uninterrupted run" >&2
	exit 1
fi
echo
echo "== the same job with flightdeck starting the 2 ranks itself (--nproc-per-node 2, no torchrun)"
echo "   flightdeck run --nproc-per-node 2 --prefix-output --stall-timeout 5s ... -- python3 train.py ..."
{
	rc=0
	"$FD" run --preflight none --nproc-per-node 2 --prefix-output --stall-timeout 5s \
		--grace 5s --backoff 2s --checkpoint-dir "$work/ckpt-native" -- \
		"$FD_VENV_PY" "$TRAIN" --ckpt-dir "$work/ckpt-native" --steps 60 \
		--out "$work/native.sha" --stall-at 25 --resume {resume} || rc=$?
	echo "$rc" >"$work/rc-native"
} 2>&1 | grep --line-buffered -E '^flightdeck:|resumed from|final parameters|stopping itself|step [0-9]+ loss' || true
echo "(exit status $(cat "$work/rc-native"))"
if cmp -s "$work/ref.sha" "$work/native.sha"; then
	echo "== native ranks: final parameters bit-identical to the uninterrupted torchrun run"
else
	echo "== native ranks: final parameters DIFFER from the uninterrupted run" >&2
	exit 1
fi
echo "(everything is under $work)"
