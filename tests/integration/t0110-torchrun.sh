#!/bin/sh
# End to end with a real torchrun (torch 2.x from the Python environment, 1 node x 2 workers,
# gloo, CPU): a deterministic job that checkpoints every 10 steps; rank 1 stops itself at step
# 25; flightdeck detects the stall within --stall-timeout + 1 s, kills every process, resumes
# from step 20, and the job finishes with parameters bit-identical to an uninterrupted run.
# With FD_TORCH=debian (t0111) the same on Debian's python3-torch 1.13.
. "$TESTS_DIR/integration/lib.sh"

STALL=3
if [ "${FD_TORCH:-}" = debian ]; then
	need_torch_debian
	# torch 1.13's --standalone listens on the fixed port 29400, which a torchrun test beside
	# this one may hold: a static rendezvous on a free port instead; and its torchrun on
	# Python 3.11 needs -r/-t given (a flag-parsing bug with the defaults)
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	RDZV="--node_rank=0 --master_addr=127.0.0.1 --master_port=$port -r 1 -t 1"
else
	need_torch
	RDZV=--standalone # torch 2.x: on a free port of its own
fi

# each run logs apart, which also names its torchrun for no_leftovers
torchrun_args() {
	echo "--nnodes=1 --nproc_per_node=2 $RDZV --log_dir $TMP/logs-$1"
}

mkdir -p "$TMP/ref" "$TMP/ck"
# shellcheck disable=SC2046
"$TORCHRUN" $(torchrun_args ref) "$TRAIN" --ckpt-dir "$TMP/ref" --steps 40 --out "$TMP/ref.sha" \
	>"$TMP/ref.log" 2>&1 || { cat "$TMP/ref.log"; fail "the uninterrupted run failed"; }
[ -s "$TMP/ref.sha" ] || fail "the uninterrupted run wrote no digest"
ok "uninterrupted torchrun run: $(cut -c1-16 "$TMP/ref.sha")..."

# shellcheck disable=SC2046
frun --stall-timeout $STALL --checkpoint-dir "$TMP/ck" -- "$TORCHRUN" $(torchrun_args sup) "$TRAIN" \
	--ckpt-dir "$TMP/ck" --steps 40 --out "$TMP/sup.sha" --stall-at 25 --stall-rank 1 \
	--beat-log "$TMP/beats" --resume {resume}
expect_rc 0
expect_event '.event=="stall" and .restart==0'
expect_event ".event==\"restart\" and .checkpoint==\"$TMP/ck/step-000020.pt\""
grep -q "resumed from $TMP/ck/step-000020.pt at step 20" "$TMP/out" || fail "the job did not resume from step 20"
cmp -s "$TMP/ref.sha" "$TMP/sup.sha" ||
	fail "final parameters differ: $(cat "$TMP/ref.sha") vs $(cat "$TMP/sup.sha" 2>/dev/null)"
ok "stalled at step 25, resumed from step-000020.pt, final parameters bit-identical"

stall=$(jq -s '[.[] | select(.event=="stall")][0].time' "$TMP/ev")
last=$(awk -v t="$stall" '$3 < t && $3 > m { m = $3 } END { printf "%.6f", m }' "$TMP/beats")
lat=$(awk -v a="$stall" -v b="$last" 'BEGIN { printf "%.3f", a - b }')
awk -v l="$lat" -v s=$STALL 'BEGIN { exit !(l <= s + 1) }' ||
	fail "stall detected $lat s after the last beat (limit $STALL + 1 s)"
ok "stall detected $lat s after the last beat (--stall-timeout $STALL)"

expect_event '.event=="stacks" and (.stacks | contains("all_reduce"))'
grep -q 'rank 1 (pid [0-9]*) is stopped' "$TMP/err" || fail "the stopped rank is not named"
ok "post-mortem: the waiting rank's stack (all_reduce) in the events log, the stopped rank named"

for f in step-000010.pt step-000020.pt step-000030.pt step-000040.pt; do
	[ -f "$TMP/ck/$f" ] || fail "checkpoint $f missing"
done
no_leftovers "$TRAIN"
no_leftovers "log_dir $TMP/logs-sup"
ok "every checkpoint kept; no process of the job left"
