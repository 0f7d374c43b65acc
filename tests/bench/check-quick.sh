#!/usr/bin/env bash
# check-quick.sh [RUNS] - wall time of `flightdeck check --level quick` on the healthy
# 8-HCA NDR fixture, the IB counter window excluded (--counter-window 0: the window is a
# deliberate sleep, 1 s by default). Target: under 50 ms. Beside it, the same checks as a
# shell script (tests/bench/shell-equivalent.sh), for scale. Prints min / median / p95 / mean.
# QUICK=1 (ctest's bench-quick-check-quick): 5 runs by default. $FLIGHTDECK names the binary
# (nothing is built then), else build/flightdeck, built when missing; $FIXTURES a directory of
# fixture trees (tests/fixtures/make-fixtures.sh) to use instead of making them.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${QUICK:-0}" = 1 ]; then RUNS=${1:-5}; else RUNS=${1:-200}; fi
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
FX=$(mktemp -d)
trap 'rm -rf "$FX"' EXIT
if [ -n "${FIXTURES:-}" ] && [ -d "$FIXTURES/healthy-ndr8" ]; then
	F=$FIXTURES/healthy-ndr8 # the build's trees (ctest): making them takes seconds
else
	sh tests/fixtures/make-fixtures.sh "$FX"
	F=$FX/healthy-ndr8
fi
: >"$FX/kmsg.log"
cp tests/fixtures/kmsg/xid-app.kmsg "$FX/kmsg.log"

# time_runs LABEL CMD...: runs CMD RUNS times, prints the statistics in milliseconds
time_runs() {
	local label=$1
	shift
	local f
	f=$(mktemp)
	for _ in $(seq "$RUNS"); do
		local t0 t1
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$f"
	done
	sort -n "$f" | awk -v label="$label" '{ v[NR] = $1; s += $1 } END {
		printf "%-44s %8.2f %8.2f %8.2f %8.2f\n", label, v[1] / 1000, v[int((NR + 1) / 2)] / 1000,
			v[int(NR * 0.95)] / 1000, s / NR / 1000 }'
	rm -f "$f"
}

echo "flightdeck check --level quick, healthy 8-HCA NDR fixture + 8 GPUs, $RUNS runs (ms)"
printf '%-44s %8s %8s %8s %8s\n' "" min median p95 mean
time_runs "flightdeck check --level quick" "$FD" check --level quick --counter-window 0 \
	--sysfs-root "$F/sys" --proc-root "$F/proc" --kmsg "$FX/kmsg.log" --json
time_runs "flightdeck check --level quick (text)" "$FD" check --level quick --counter-window 0 \
	--sysfs-root "$F/sys" --proc-root "$F/proc" --kmsg "$FX/kmsg.log"
time_runs "/bin/true (process start on this machine)" /bin/true
time_runs "shell script doing the same reads" sh tests/bench/shell-equivalent.sh "$F/sys" "$F/proc" "$FX/kmsg.log"
echo "target: flightdeck median under 50 ms"
