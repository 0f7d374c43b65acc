#!/bin/sh
# flightdeck-gpubench --mpi under a real mpirun (Open MPI), as operators run nccl-tests. On a
# node without a GPU every rank names itself and its host on stderr ("rank 1 on HOST: no CUDA
# device") and the whole job exits 3, promptly: no rank is left waiting in MPI for the others,
# and no document is printed. With one rank, --mpi is the single-process run. On a node with
# two GPUs or more, the two ranks measure NCCL's allreduce across the job and rank 0 alone
# prints a document whose nccl section is marked "scope": "world". Skipped when gpubench was
# not built (no CUDA toolkit), was built without MPI, or mpirun is absent or cannot start.
. "$TESTS_DIR/integration/lib.sh"
: "${BUILD_DIR:?BUILD_DIR must point at the build directory}"

GB="$BUILD_DIR/flightdeck-gpubench"
[ -x "$GB" ] || skip "flightdeck-gpubench was not built (no CUDA toolkit)"
"$GB" --help | grep -q '^This build: MPI yes' ||
	skip "flightdeck-gpubench was built without MPI (no MPI headers when it was built)"
MPIRUN=$(command -v mpirun || true)
[ -n "$MPIRUN" ] || skip "mpirun is not installed (Debian: openmpi-bin)"
# --allow-run-as-root: CI runs as root; --oversubscribe: more ranks than cores
MPI="$MPIRUN --allow-run-as-root --oversubscribe"
# shellcheck disable=SC2086 # $MPI is the launcher and its options
out=$(timeout 60 $MPI -np 2 true 2>&1) ||
	skip "mpirun cannot start 2 ranks here: $(echo "$out" | head -n 3 | tr '\n' ' ')"

# mpirun_gb NP ARGS...: gpubench under mpirun, bounded; stdout, stderr and status as run() keeps them
mpirun_gb() {
	np=$1
	shift
	RC=0
	# shellcheck disable=SC2086
	timeout 90 $MPI -np "$np" "$GB" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	[ "$RC" -ne 124 ] || fail "mpirun -np $np flightdeck-gpubench $* still ran after 90 s"
}

gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
	gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
fi

if [ "$gpus" -eq 0 ]; then
	start=$(date +%s)
	mpirun_gb 2 --mpi --timeout-ms 10000
	took=$(($(date +%s) - start))
	expect_rc 3
	for r in 0 1; do
		grep -q "^flightdeck-gpubench: rank $r on [^:]*: no CUDA device" "$TMP/err" ||
			fail "no line says that rank $r has no CUDA device"
	done
	grep -q '^flightdeck-gpubench: 2 of 2 ranks have no CUDA device' "$TMP/err" ||
		fail "rank 0 does not say how many ranks have no CUDA device"
	[ ! -s "$TMP/out" ] || fail "a document was printed for a job that measured nothing"
	[ "$took" -lt 60 ] || fail "the job took $took s to give up"
	no_leftovers "$GB --mpi"
	ok "mpirun -np 2 --mpi, no GPU: each rank names itself and its host, exit 3 in $took s"

	mpirun_gb 1 --mpi --timeout-ms 10000
	expect_rc 3
	grep -q '^flightdeck-gpubench: no CUDA device: ' "$TMP/err" ||
		fail "one rank with --mpi is not the single-process run"
	! grep -q 'rank 0 on' "$TMP/err" || fail "one rank with --mpi speaks as a rank of a job"
	ok "mpirun -np 1 --mpi, no GPU: the single-process run (exit 3, no rank named)"
	exit 0
fi

[ "$gpus" -ge 2 ] || skip "one GPU: two ranks would share it"
mpirun_gb 2 --mpi --timeout-ms 60000
expect_rc 0
jq -e '.version == 1 and .gpus == [] and .p2p.ran == false and .nccl.ran == true and
	.nccl.scope == "world" and .nccl.nranks == 2 and .nccl.ngpus == 2 and .nccl.nodes == 1 and
	(.nccl.results | length) >= 1 and all(.nccl.results[]; .ok and .busbw > 0)' "$TMP/out" \
	>/dev/null || fail "rank 0's document is not a verified world sweep over 2 ranks on 1 node"
[ "$(grep -c '^{' "$TMP/out")" -eq 1 ] || fail "more than one rank printed a document"
ok "mpirun -np 2 --mpi on $gpus GPUs: one world document, 2 ranks, every sum verified"
