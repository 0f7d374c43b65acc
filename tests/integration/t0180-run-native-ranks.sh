#!/bin/sh
# flightdeck run --nproc-per-node N: flightdeck starts the ranks itself, with torchrun's
# environment, and no torchrun. The demo trainer (env:// rendezvous, gloo) stalled at step 25
# on rank 1 resumes from step 20 with parameters bit-identical to an uninterrupted torchrun
# run; a rank that exits non-zero stops the others and is named; --prefix-output; the
# progress regex is matched rank by rank; each launch gets a fresh MASTER_PORT.
. "$TESTS_DIR/integration/lib.sh"

need_torch

mkdir -p "$TMP/ref" "$TMP/ck"
# a static rendezvous on a free port: --standalone's fixed 29400 collides with another
# torchrun test running beside this one
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$TORCHRUN" --nnodes=1 --node_rank=0 --nproc_per_node=2 --master_addr=127.0.0.1 \
	--master_port="$port" --log_dir "$TMP/logs" "$TRAIN" \
	--ckpt-dir "$TMP/ref" --steps 40 --out "$TMP/ref.sha" >"$TMP/ref.log" 2>&1 ||
	{ cat "$TMP/ref.log"; fail "the uninterrupted torchrun run failed"; }
ok "uninterrupted torchrun run: $(cut -c1-16 "$TMP/ref.sha")..."

# --- the trainer, native, stalled and resumed -----------------------------------------------
frun --nproc-per-node 2 --prefix-output --stall-timeout 3 --checkpoint-dir "$TMP/ck" -- \
	"$TORCH_PY" "$TRAIN" --ckpt-dir "$TMP/ck" --steps 40 --out "$TMP/nat.sha" \
	--stall-at 25 --stall-rank 1 --resume {resume}
expect_rc 0
# both ranks last beat at step 24 (rank 0 then waits in all_reduce): either may be named
# stalled; the post-mortem names rank 1, the stopped one
expect_event '.event=="stall" and (.rank==0 or .rank==1) and .step==24'
grep -q "rank 1 (pid [0-9]*) is stopped" "$TMP/err" || fail "the stopped rank 1 is not named"
# a stopped rank cannot dump its stack: the stop does not wait out --stack-wait (5 s) for it
wait_s=$(jq -s '([.[] | select(.event=="kill")][0].time) - ([.[] | select(.event=="stall")][0].time)' "$TMP/ev")
awk -v w="$wait_s" 'BEGIN { exit !(w < 2) }' || fail "the stop waited $wait_s s for a stopped rank's stack"
expect_event ".event==\"restart\" and .checkpoint==\"$TMP/ck/step-000020.pt\""
grep -q "^\[rank0\]: resumed from $TMP/ck/step-000020.pt at step 20" "$TMP/out" ||
	fail "rank 0's output is not prefixed, or it did not resume from step 20"
cmp -s "$TMP/ref.sha" "$TMP/nat.sha" ||
	fail "final parameters differ from torchrun's: $(cat "$TMP/ref.sha") vs $(cat "$TMP/nat.sha" 2>/dev/null)"
grep -q "launch 1: 2 ranks (0-1 of 2) in process group" "$TMP/err" || fail "the launch line does not name the ranks"
grep -q "OMP_NUM_THREADS=1 for each of the 2 ranks" "$TMP/err" || fail "no OMP_NUM_THREADS notice"
no_leftovers "$TRAIN --ckpt-dir $TMP/ck"
ok "native 2 ranks: rank 1 stalled, restarted from step-000020.pt, digest equal to torchrun's; output prefixed"

# --- the environment, and a fresh MASTER_PORT per launch ------------------------------------
cat >"$TMP/env.sh" <<'JOB'
#!/bin/sh
echo "env $RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $GROUP_RANK $ROLE_RANK $ROLE_WORLD_SIZE $MASTER_ADDR $MASTER_PORT $TORCHELASTIC_RESTART_COUNT $TORCHELASTIC_MAX_RESTARTS $OMP_NUM_THREADS"
touch "$UP_DIR/up.$TORCHELASTIC_RESTART_COUNT.$RANK"
# rank 2 fails once the others have said theirs (on a loaded machine it could exit, and the
# others be stopped, before they ran their first line)
if [ "$TORCHELASTIC_RESTART_COUNT" = 0 ] && [ "$RANK" = 2 ]; then
	i=0
	until [ -e "$UP_DIR/up.0.0" ] && [ -e "$UP_DIR/up.0.1" ] || [ $i -ge 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	exit 5
fi
exit 0
JOB
chmod +x "$TMP/env.sh"
export UP_DIR="$TMP"
frun --nproc-per-node 3 --max-restarts 1 -- "$TMP/env.sh"
expect_rc 0
for r in 0 1 2; do
	grep -q "^env $r $r 3 3 0 $r 3 127.0.0.1 [0-9]* 0 1 1\$" "$TMP/out" || { cat "$TMP/out"; fail "rank $r's first environment"; }
	grep -q "^env $r $r 3 3 0 $r 3 127.0.0.1 [0-9]* 1 1 1\$" "$TMP/out" || fail "rank $r's environment after the restart"
done
p1=$(awk '$11 == 0 { print $10; exit }' "$TMP/out")
p2=$(awk '$11 == 1 { print $10; exit }' "$TMP/out")
[ -n "$p1" ] && [ "$p1" != "$p2" ] || fail "MASTER_PORT was not fresh: $p1 then $p2"
grep -q "rank 2 exited with status 5" "$TMP/err" || fail "the failing rank is not named"
expect_event '.event=="crash" and .rank==2 and .exit_code==5'
ok "every rank's torchrun environment; rank 2 exiting 5 named and restarted; MASTER_PORT $p1 then $p2"

# --- a rank that fails stops the others ------------------------------------------------------
cat >"$TMP/fail.sh" <<'JOB'
#!/bin/sh
[ "$LOCAL_RANK" = 1 ] && { sleep 0.5; exit 3; }
exec sleep 1000
JOB
chmod +x "$TMP/fail.sh"
frun --nproc-per-node 3 --max-restarts 0 -- "$TMP/fail.sh"
expect_rc 3
grep -q "rank 1 exited with status 3: stopping process group" "$TMP/err" || fail "rank 1's exit did not stop the others"
no_leftovers "sleep 1000"
ok "rank 1 exiting 3 stopped ranks 0 and 2; the job exits 3 (--max-restarts 0)"

# --- the progress regex, rank by rank ---------------------------------------------------------
cat >"$TMP/steps.sh" <<'JOB'
#!/bin/sh
i=0
while :; do
	i=$((i + 1))
	echo "step $i"
	[ "$LOCAL_RANK" = 1 ] && [ "$i" -ge 5 ] && [ "$TORCHELASTIC_RESTART_COUNT" = 0 ] && exec sleep 1000
	[ "$i" -ge 40 ] && exit 0
	sleep 0.05
done
JOB
chmod +x "$TMP/steps.sh"
frun --nproc-per-node 2 --progress-regex 'step (\d+)' --stall-timeout 1 -- "$TMP/steps.sh"
expect_rc 0
expect_event '.event=="stall" and .rank==1 and .step==5'
ok "--progress-regex per rank: rank 1's output stopped at step 5 and rank 1 was the one stalled"

run run --nproc-per-node 2 --pty -- true
expect_rc 2
expect_one_line_error "not with --nproc-per-node 2"
run run --prefix-output -- true
expect_rc 2
expect_one_line_error "needs --nproc-per-node"
ok "--pty and --prefix-output without ranks are refused with one line"
