#!/bin/sh
# The node group end to end with a real torchrun (torch 2.x, gloo, CPU): two
# agents on loopback, each a node wrapping torchrun --nnodes=2 --nproc_per_node=2 (static
# rendezvous at node 0's --master_addr/--master_port), both watching one --checkpoint-dir (a
# shared filesystem: rank 0 saves). Global rank 3, on node 1, stops itself at step 25: node 1
# notices, node 0 is stopped for it, both nodes restart from step-000020.pt, and the job ends
# with parameters bit-identical to an uninterrupted 2x2 run.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

need_torch

# torchrun_args NODE MASTER_PORT TAG: one node of a 2x2 job; each node logs apart.
torchrun_args() {
	echo "--nnodes=2 --node_rank=$1 --nproc_per_node=2 --master_addr=127.0.0.1" \
		"--master_port=$2 --log_dir $TMP/logs-$3-$1"
}

mkdir -p "$TMP/ref" "$TMP/ck"
ref_port=$(free_port)
for k in 0 1; do
	# shellcheck disable=SC2046
	"$TORCHRUN" $(torchrun_args $k "$ref_port" ref) "$TRAIN" --ckpt-dir "$TMP/ref" --steps 40 \
		--out "$TMP/ref.sha" >"$TMP/ref$k.log" 2>&1 &
	echo $! >"$TMP/ref$k.pid"
done
for k in 0 1; do
	wait "$(cat "$TMP/ref$k.pid")" || { cat "$TMP/ref$k.log"; fail "the uninterrupted run failed on node $k"; }
done
[ -s "$TMP/ref.sha" ] || fail "the uninterrupted run wrote no digest"
ok "uninterrupted 2x2 torchrun run: $(cut -c1-16 "$TMP/ref.sha")..."
# the group's port picked now: one picked before the reference run may be one of the
# ephemeral ports its ranks took since (seen once in CI: "Address already in use")
PORT=$(free_port)

# Rank 3 stopped, every rank of the job waits in all_reduce: each node would call its own
# ranks stalled after --stall-timeout. Node 0 is given longer, so that node 1, where the
# stopped rank is, is the one that notices and node 0 is the one stopped for a peer.
export FLIGHTDECK
job_port=$(free_port)
for k in 0 1; do
	stall=3s
	[ $k -eq 0 ] && stall=20s
	# shellcheck disable=SC2046
	agent $k 2 --stall-timeout $stall --checkpoint-dir "$TMP/ck" -- \
		"$TORCHRUN" $(torchrun_args $k "$job_port" sup) "$TRAIN" --ckpt-dir "$TMP/ck" \
		--steps 40 --out "$TMP/sup.sha" --stall-at 25 --stall-rank 3 --resume {resume}
done
wait_agents 90 0 1
for k in 0 1; do
	expect_agent_rc $k 0
	expect_node_event $k ".event==\"restart\" and .checkpoint==\"$TMP/ck/step-000020.pt\""
	[ "$(node_event $k '.event=="restart"')" -eq 1 ] || fail "node $k restarted $(node_event $k '.event=="restart"') times"
done
grep -q "resumed from $TMP/ck/step-000020.pt at step 20" "$TMP/n0.out" ||
	{ dump_agents 0 1; fail "rank 0 did not resume from step 20"; }
cmp -s "$TMP/ref.sha" "$TMP/sup.sha" ||
	fail "final parameters differ: $(cat "$TMP/ref.sha") vs $(cat "$TMP/sup.sha" 2>/dev/null)"
ok "rank 3 stalled at step 25: both nodes restarted once from step-000020.pt; parameters bit-identical"

# Ranks 2 and 3 both last beat at step 24, microseconds apart: the stall names whichever
# was silent longest (with "2 of 2 heartbeat sources stalled" when both were already past
# their deadline); the post-mortem names rank 3, the stopped one.
expect_node_event 1 '.event=="stall" and (.rank==2 or .rank==3) and .step==24'
grep -q "rank 3 (pid [0-9]*) is stopped" "$TMP/n1.err" || { dump_agents 1; fail "node 1 does not name the stopped rank 3"; }
[ "$(node_event 0 '.event=="stall"')" -eq 0 ] || fail "node 0 saw a stall of its own"
grep -q "node 1 (.*): rank [23] silent for .* after step 24" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not name node 1 and its silent ranks"; }
grep -q "stopping process group .* too" "$TMP/n0.err" || { dump_agents 0; fail "node 0 did not say it stops for a peer"; }
expect_node_event 0 '.event=="group" and .group=="stop" and .node==1'
ok "node 1 noticed the stall and named rank 3 stopped; node 0 names node 1 and stopped its ranks for it"

for f in step-000010.pt step-000020.pt step-000030.pt step-000040.pt; do
	[ -f "$TMP/ck/$f" ] || fail "checkpoint $f missing"
done
no_leftovers "ckpt-dir $TMP/ck"
no_leftovers "log_dir $TMP/logs-sup"
ok "every checkpoint kept; no process of the job left on either node"
