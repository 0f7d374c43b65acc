#!/bin/sh
# A real mpirun (Open MPI) under `flightdeck run`: mpirun sets OMPI_COMM_WORLD_RANK and
# PMIX_RANK, not torchrun's RANK, and the heartbeat clients read it, so four ranks beat as
# ranks 0..3 and the one that hangs is named. Skipped when Open MPI is absent or
# cannot start here (scripts/install-deps.sh installs openmpi-bin).
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

MPIRUN=$(command -v mpirun || true)
[ -n "$MPIRUN" ] || skip "mpirun is not installed (Debian: openmpi-bin)"
# --allow-run-as-root: CI runs as root; --oversubscribe: 4 ranks on fewer cores
MPI="$MPIRUN --allow-run-as-root --oversubscribe -np 4"
# shellcheck disable=SC2086 # $MPI is the launcher and its options
out=$(timeout 60 $MPI sh -c 'echo "${OMPI_COMM_WORLD_RANK:-none}"' 2>&1) ||
	skip "mpirun cannot start 4 ranks here: $(echo "$out" | head -n 3 | tr '\n' ' ')"
[ "$(echo "$out" | sort | tr '\n' ' ')" = "0 1 2 3 " ] ||
	skip "mpirun's ranks do not say OMPI_COMM_WORLD_RANK: $(echo "$out" | head -n 3 | tr '\n' ' ')"
unset RANK LOCAL_RANK PMI_RANK PMIX_RANK SLURM_PROCID OMPI_COMM_WORLD_RANK

# shellcheck disable=SC2086
frun --ranks 4 --startup-timeout 30 --stall-timeout 3 --max-restarts 0 -- $MPI "$MISBEHAVE" rank-hang 5 50 2
expect_rc 86
expect_event '.event=="stall" and .rank==2'
[ "$(ev '.event=="stall" and .rank!=2')" -eq 0 ] || fail "a rank other than 2 was called stalled: $(cat "$TMP/ev")"
grep -q 'rank 2 silent for 3[.0-9]* s after step [0-9]*' "$TMP/err" || fail "the stall line does not name rank 2"
grep -q 'culprit (likely): rank 2 (pid [0-9]*); ranks .* kept making progress' "$TMP/err" ||
	fail "the culprit is not rank 2, the one the others did not wait for"
no_leftovers "$MISBEHAVE rank-hang"
ok "mpirun -np 4, rank 2 hangs: the stall names rank 2 (exit 86), nothing left behind"
