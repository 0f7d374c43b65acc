#!/usr/bin/env bash
# run-on-device.sh - every GPU test and benchmark in one call, for the device machine: build,
# then write under $OUT (default ./out) nvidia-smi's view, the gpubench document,
# flightdeck check --only gpu,bw, the node group at 16,384 simulated nodes on this machine's
# many cores (group-scale.txt: the fan-out on the threads auto chooses, then on one; a 2-core
# machine cannot show it) and, last, the whole test suite's result.
#   run: bash tests/gpu/run-on-device.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT"
{
	cmake -S . -B build-gpu -DFLIGHTDECK_WERROR=ON && cmake --build build-gpu -j "$(nproc)"
} >"$OUT/build.log" 2>&1 || { echo "build failed: see $OUT/build.log"; exit 1; }
nvidia-smi -q >"$OUT/nvidia-smi-q.txt" 2>&1
nvidia-smi topo -m >"$OUT/nvidia-smi-topo.txt" 2>&1
./build-gpu/flightdeck version >"$OUT/version.txt"
for level in quick full; do
	/usr/bin/time -v ./build-gpu/flightdeck-gpubench --json --$level --timeout-ms 300000 \
		>"$OUT/gpubench-$level.json" 2>"$OUT/gpubench-$level.err"
	echo "gpubench --$level: exit $?"
done
# --mpi: one rank per GPU of this node under mpirun (needs two GPUs: ranks cannot share one)
ngpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
if command -v mpirun >/dev/null && [ "$ngpus" -ge 2 ] &&
	./build-gpu/flightdeck-gpubench --help | grep -q '^This build: MPI yes'; then
	timeout 600 mpirun --allow-run-as-root --oversubscribe -np "$ngpus" \
		./build-gpu/flightdeck-gpubench --mpi --timeout-ms 300000 \
		>"$OUT/gpubench-mpi.json" 2>"$OUT/gpubench-mpi.err"
	echo "gpubench --mpi, $ngpus ranks: exit $?"
else
	echo "gpubench --mpi: not run ($ngpus GPUs, mpirun or MPI in gpubench missing)"
fi
start=$(date +%s.%N)
./build-gpu/flightdeck check --level standard --json >"$OUT/check-standard.json" 2>"$OUT/check-standard.err"
echo "check --level standard: exit $?, $(echo "$(date +%s.%N) - $start" | bc) s"
./build-gpu/flightdeck check --only gpu,bw >"$OUT/check-gpu-bw.txt" 2>&1
echo "check --only gpu,bw: exit $?"
./build-gpu/flightdeck bench --full >"$OUT/bench-full.txt" 2>&1
echo "bench --full: exit $?"
./build-gpu/flightdeck memfit --model llama-3-8b --seq 8192 --flash-attn --zero 3 --gpus 8 \
	>"$OUT/memfit.txt" 2>&1
echo "memfit (free memory from the real NVML): exit $?"
# CPU only: the barrier round and a lost node at 16,384 nodes (item 8's 100 ms targets)
(
	ulimit -n 16640 2>/dev/null
	export FLIGHTDECK=$PWD/build-gpu/flightdeck GROUP_SIM=$PWD/build-gpu/tests/group-sim
	echo "cpus: $(nproc)"
	timeout 200 bash tests/bench/group-scale.sh --c-sizes 1024,4096,16384 --c-restarts 10 \
		--attribution-nodes 64
	echo "16384 nodes on one sending thread (nodes rounds formed p50 p99 max first cpu wall hwm):"
	GROUP_SIM_THREADS=1 timeout 100 "$GROUP_SIM" "$FLIGHTDECK" rounds 16384 10 10
) >"$OUT/group-scale.txt" 2>&1
echo "group-scale: exit $? (group-scale.txt)"
ctest --test-dir build-gpu --output-on-failure >"$OUT/ctest.log" 2>&1
echo "ctest: exit $? ($(grep 'tests passed' "$OUT/ctest.log"))"
