#!/bin/sh
# Native ranks across nodes: two agents on loopback, each a node starting 2 ranks of the demo
# trainer itself (--nproc-per-node 2, no torchrun): WORLD_SIZE 4, RANK node*2+local,
# MASTER_ADDR the coordinator, MASTER_PORT node 0's pick carried in its decision, fresh each
# generation. Global rank 3 (node 1) stops itself at step 25; both nodes restart from
# step-000020.pt, and the parameters end bit-identical to an uninterrupted 2x2 torchrun run.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

need_torch

mkdir -p "$TMP/ref" "$TMP/ck"
ref_port=$(free_port)
for k in 0 1; do
	"$TORCHRUN" --nnodes=2 --node_rank=$k --nproc_per_node=2 --master_addr=127.0.0.1 \
		--master_port="$ref_port" --log_dir "$TMP/logs-ref-$k" "$TRAIN" \
		--ckpt-dir "$TMP/ref" --steps 40 --out "$TMP/ref.sha" >"$TMP/ref$k.log" 2>&1 &
	echo $! >"$TMP/ref$k.pid"
done
for k in 0 1; do
	wait "$(cat "$TMP/ref$k.pid")" || { cat "$TMP/ref$k.log"; fail "the uninterrupted run failed on node $k"; }
done
ok "uninterrupted 2x2 torchrun run: $(cut -c1-16 "$TMP/ref.sha")..."
# the group's port picked now: one picked before the reference run may be one of the
# ephemeral ports its ranks took since (seen once in CI: "Address already in use")
PORT=$(free_port)

# node 0 waits longer, so that node 1, where the stopped rank is, notices (see t0170)
for k in 0 1; do
	stall=3s
	[ $k -eq 0 ] && stall=20s
	agent $k 2 --nproc-per-node 2 --stall-timeout $stall --checkpoint-dir "$TMP/ck" -- \
		"$TORCH_PY" "$TRAIN" --ckpt-dir "$TMP/ck" --steps 40 --out "$TMP/nat.sha" \
		--stall-at 25 --stall-rank 3 --resume {resume}
done
wait_agents 90 0 1
for k in 0 1; do
	expect_agent_rc $k 0
	expect_node_event $k ".event==\"restart\" and .checkpoint==\"$TMP/ck/step-000020.pt\""
done
grep -q "launch 1: 2 ranks (2-3 of 4) in process group [0-9]*, MASTER_PORT [0-9]*" "$TMP/n1.err" ||
	{ dump_agents 1; fail "node 1 did not start global ranks 2-3 of 4"; }
p0=$(sed -n 's/.*launch 1: .*MASTER_PORT \([0-9]*\).*/\1/p' "$TMP/n0.err")
p1=$(sed -n 's/.*launch 1: .*MASTER_PORT \([0-9]*\).*/\1/p' "$TMP/n1.err")
q1=$(sed -n 's/.*launch 2: .*MASTER_PORT \([0-9]*\).*/\1/p' "$TMP/n1.err")
[ -n "$p0" ] && [ "$p0" = "$p1" ] || fail "the nodes used different MASTER_PORTs: $p0, $p1"
[ -n "$q1" ] && [ "$q1" != "$p1" ] || fail "the relaunch reused MASTER_PORT $p1"
cmp -s "$TMP/ref.sha" "$TMP/nat.sha" ||
	fail "final parameters differ: $(cat "$TMP/ref.sha") vs $(cat "$TMP/nat.sha" 2>/dev/null)"
no_leftovers "ckpt-dir $TMP/ck"
ok "2 nodes x 2 native ranks: rank 3 stalled, both restarted from step-000020.pt; MASTER_PORT $p0 then $q1 from node 0; digest equal to torchrun's"
