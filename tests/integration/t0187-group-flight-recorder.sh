#!/bin/sh
# The flight recorder across nodes. Two agents, each a node wrapping torchrun with one rank
# (2x1, gloo, CPU): global rank 1, on node 1, spins in a Python loop before the all_reduce rank
# 0 waits in. Neither node can tell alone (one rank each: nothing to compare it with); each
# sends its rank's newest collective with its state, and node 0, comparing them, names node 1
# and rank 1, which never entered the collective node 0's rank waits in, on every node (no
# restart: --max-restarts 0, every node gives up with 86 after the decision).
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

need_torch

export FLIGHTDECK
mkdir -p "$TMP/ck"
job_port=$(free_port)
for k in 0 1; do
	# shellcheck disable=SC2046
	agent $k 2 --stall-timeout 3s --grace 2s --max-restarts 0 --checkpoint-dir "$TMP/ck" -- \
		"$TORCHRUN" $(torchrun_args $k "$job_port" 1) "$TRAIN" --ckpt-dir "$TMP/ck" \
		--steps 10 --stall-at 5 --stall-rank 1 --stall-how loop --resume {resume}
done
wait_agents 90 0 1
for k in 0 1; do
	expect_agent_rc $k 86
	grep -q "the culprit: node 1 (.*): rank 1 never entered collective [0-9]* of process group 0 (gloo:all_reduce; its newest: [0-9]*); node 0's ranks wait in it" "$TMP/n$k.err" ||
		{ dump_agents 0 1; fail "node $k does not name node 1's rank 1 from the flight recorders"; }
done
ok "rank 1 in a Python loop on node 1, one rank a node: node 0 compares the flight recorders and names node 1 and rank 1 on every node"
no_leftovers "$TRAIN"
