#!/bin/sh
# The culprit across nodes. Two agents, each a node wrapping torchrun (2x2, gloo, CPU), with the
# same --stall-timeout: global rank 3, on node 1, stops itself, and every rank of the job waits
# in all_reduce for it. Whichever node's deadline expires first, the group's decision used to
# name the first node with a stall, usually node 0 and its waiting rank. Each node now judges its
# own ranks (states and stacks; a node stopped for a peer's stall gathers them too) and sends its
# verdict with its state; node 0 names the node whose rank the others wait on, on every node
# (no restart: --max-restarts 0, every node gives up with 86 after the decision).
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

need_torch

export FLIGHTDECK
mkdir -p "$TMP/ck"
job_port=$(free_port)
for k in 0 1; do
	# shellcheck disable=SC2046
	agent $k 2 --stall-timeout 3s --grace 2s --max-restarts 0 --checkpoint-dir "$TMP/ck" -- \
		"$TORCHRUN" $(torchrun_args $k "$job_port" 2) "$TRAIN" --ckpt-dir "$TMP/ck" \
		--steps 12 --stall-at 6 --stall-rank 3 --resume {resume}
done
wait_agents 90 0 1
for k in 0 1; do
	expect_agent_rc $k 86
	grep -q "the culprit: node 1 (.*): rank 3 (pid [0-9]*) stopped (state T)" "$TMP/n$k.err" ||
		{ dump_agents 0 1; fail "node $k does not name node 1's rank 3 as the culprit"; }
done
expect_node_event 1 '.event=="culprit" and .culprit==[3] and .evidence=="state"'
ok "rank 3 stopped on node 1: every node names node 1 and rank 3, whichever deadline expired first"
no_leftovers "$TRAIN"
