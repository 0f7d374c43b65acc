#!/bin/sh
# An output-only job under a real mpirun (Open MPI): four ranks print progress lines and never
# call a heartbeat client; --progress-regex's rank group tells whose line each is, so the rank
# that hangs is named, as with the clients (t0106). Twice: ranks that print their own number,
# and ranks that print only the step, under mpirun --tag-output ("[1,2]<stdout>:step 7").
# Skipped when Open MPI is absent or cannot start here (scripts/install-deps.sh installs it).
. "$TESTS_DIR/integration/lib.sh"

MPIRUN=$(command -v mpirun || true)
[ -n "$MPIRUN" ] || skip "mpirun is not installed (Debian: openmpi-bin)"
MPI="$MPIRUN --allow-run-as-root --oversubscribe -np 4"
# shellcheck disable=SC2086 # $MPI is the launcher and its options
out=$(timeout 60 $MPI sh -c 'echo "${OMPI_COMM_WORLD_RANK:-none}"' 2>&1) ||
	skip "mpirun cannot start 4 ranks here: $(echo "$out" | head -n 3 | tr '\n' ' ')"
unset RANK LOCAL_RANK PMI_RANK PMIX_RANK SLURM_PROCID OMPI_COMM_WORLD_RANK

HANG=3607$$ # the hung rank's sleep, found by this value
# a rank: its progress every 0.1 s for 60 steps, in the format $1 (rank, step); rank 2 stops
# printing after step 5 and sleeps, alive: a hang, not a crash
cat >"$TMP/rank.sh" <<EOF
r=\$OMPI_COMM_WORLD_RANK s=0
while [ \$s -lt 60 ]; do
	s=\$((s + 1))
	[ "\$r" = 2 ] && [ \$s -gt 5 ] && exec sleep $HANG
	printf "\$1\\n" "\$r" "\$s"
	sleep 0.1
done
EOF

# shellcheck disable=SC2086
frun --ranks 4 --startup-timeout 30 --stall-timeout 3 --max-restarts 0 \
	--progress-regex 'rank (?<rank>\d+) step (?<step>\d+)' -- $MPI sh "$TMP/rank.sh" 'rank %s step %s'
expect_rc 86
expect_event '.event=="stall" and .rank==2'
[ "$(ev '.event=="stall" and .rank!=2')" -eq 0 ] || fail "a rank other than 2 was called stalled: $(cat "$TMP/ev")"
grep -q 'rank 2 silent for 3 s after step 5' "$TMP/err" ||
	fail "the stall line does not name rank 2 at step 5: $(grep flightdeck "$TMP/err")"
no_leftovers "sleep $HANG"
ok "mpirun -np 4, output only, rank 2 hangs: --progress-regex's rank group names it (exit 86)"

# shellcheck disable=SC2086
frun --ranks 4 --startup-timeout 30 --stall-timeout 3 --max-restarts 0 \
	--progress-regex '^\[1,(?<rank>\d+)\]<stdout>:step (\d+)' -- $MPI --tag-output sh "$TMP/rank.sh" 'step %.0s%s'
expect_rc 86
expect_event '.event=="stall" and .rank==2'
[ "$(ev '.event=="stall" and .rank!=2')" -eq 0 ] || fail "--tag-output: a rank other than 2 was called stalled"
grep -q 'rank 2 silent for 3 s after step 5' "$TMP/err" ||
	fail "--tag-output: the stall line does not name rank 2: $(grep flightdeck "$TMP/err")"
no_leftovers "sleep $HANG"
ok "mpirun --tag-output: the rank from mpirun's own prefix, rank 2 named"

# a line whose rank group holds no number is no one's beat, and said once at the end
frun --ranks 1 --startup-timeout 2 --max-restarts 0 --progress-regex 'rank (?<rank>\w+) step (\d+)' \
	-- sh -c 'echo "rank x step 1"; echo "rank 0 step 2"'
expect_rc 0
grep -q 'ignored 1 output line(s) matching --progress-regex with no rank' "$TMP/err" ||
	fail "the rankless line is not counted: $(grep flightdeck "$TMP/err")"
ok "a matching line with no rank number: counted and ignored"

frun --progress-regex '(?<node>\d+)' -- true
expect_rc 2
expect_one_line_error "progress-regex"
grep -q "unknown group name 'node'" "$TMP/err" || fail "the error does not name the group: $(cat "$TMP/err")"
ok "an unknown group name: one line naming --progress-regex, exit 2"
