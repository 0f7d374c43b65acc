#!/bin/sh
# A hot spare with real torch: three training nodes and one spare on loopback, each agent
# starting its rank of the demo trainer itself (--nproc-per-node 1, gloo on CPU). Node 2's
# agent and trainer are SIGKILLed mid-training: the spare (node 3) trains as node 2 (RANK 2,
# NODE_RANK 2) from the newest checkpoint, and the final parameters are bit-identical to an
# uninterrupted 3-node torchrun run's. Says how long from the loss to every rank's first new
# step.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

need_torch

STEPS=60
mkdir -p "$TMP/ref" "$TMP/ck"
ref_port=$(free_port)
for k in 0 1 2; do
	"$TORCHRUN" --nnodes=3 --node_rank=$k --nproc_per_node=1 --master_addr=127.0.0.1 \
		--master_port="$ref_port" --log_dir "$TMP/logs-ref-$k" "$TRAIN" \
		--ckpt-dir "$TMP/ref" --steps $STEPS --out "$TMP/ref.sha" >"$TMP/ref$k.log" 2>&1 &
	echo $! >"$TMP/ref$k.pid"
done
for k in 0 1 2; do
	wait "$(cat "$TMP/ref$k.pid")" || { cat "$TMP/ref$k.log"; fail "the uninterrupted run failed on node $k"; }
done
ok "uninterrupted 3-node torchrun run: $(cut -c1-16 "$TMP/ref.sha")..."
# the group's port picked now: one picked before the reference run may be one of the
# ephemeral ports its ranks took since (seen once in CI: "Address already in use")
PORT=$(free_port)

for k in 0 1 2 3; do
	agent $k 3:4 --nproc-per-node 1 --checkpoint-dir "$TMP/ck" --exclude-file "$TMP/exclude" -- \
		"$TORCH_PY" "$TRAIN" --ckpt-dir "$TMP/ck" --steps $STEPS --step-time 0.1 \
		--out "$TMP/spare.sha" --beat-log "$TMP/beats" --resume {resume}
done
wait_for 120 test -e "$TMP/ck/step-000020.pt" || { dump_agents 0 1 2 3; fail "no step-000020.pt"; }
grep -q "a spare: holding this node's place" "$TMP/n3.err" || { dump_agents 3; fail "node 3 is not a spare"; }
p=$(agent_pid 2)
kids=$(pgrep -P "$p" || true)
t0=$(date +%s.%N)
kill -9 "$p"
[ -z "$kids" ] || kill -9 $kids
wait_agents 120 0 1 3
for k in 0 1 3; do
	expect_agent_rc $k 0
	expect_node_event $k ".event==\"restart\" and .reason==\"lost node\""
done
grep -q "group: node 2 (.*) lost: connection \(closed\|reset\): spare node 3 (.*) takes its place as training node 2" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not say the replacement"; }
grep -q "launch 1: 1 ranks (2-2 of 3) in process group [0-9]*, MASTER_PORT [0-9]*, resuming from $TMP/ck/step-0000[2-5]0.pt" "$TMP/n3.err" ||
	{ dump_agents 3; fail "node 3 did not start rank 2 of 3 from a checkpoint"; }
from=$(sed -n "s|.*launch 1: .*resuming from $TMP/ck/||p" "$TMP/n3.err")
cmp -s "$TMP/ref.sha" "$TMP/spare.sha" ||
	fail "final parameters differ: $(cat "$TMP/ref.sha") vs $(cat "$TMP/spare.sha" 2>/dev/null)"
# from the loss to the last rank's first step after it (the beat log's "rank step time")
back=$(awk -v t0="$t0" '$3 > t0 { if (!($1 in first)) first[$1] = $3 }
	END { m = 0; for (r in first) if (first[r] > m) m = first[r]; n = 0; for (r in first) n++;
	      if (n == 3) printf "%.1f", m - t0; else print "none" }' "$TMP/beats")
[ "$back" != none ] || { cat "$TMP/beats" | tail; fail "not every rank stepped after the loss"; }
no_leftovers "ckpt-dir $TMP/ck"
ok "3+1 native ranks: node 2 SIGKILLed, spare node 3 trained as node 2 from $from, every rank stepping again $back s after the loss; digest equal to torchrun's"

# The same through torchrun's static rendezvous: {node_rank}, {nnodes}, {master_addr} and
# {master_port} follow the training set, so the promoted spare's torchrun joins as node 1.
ref_port=$(free_port)
mkdir -p "$TMP/ref2"
for k in 0 1; do
	"$TORCHRUN" --nnodes=2 --node_rank=$k --nproc_per_node=1 --master_addr=127.0.0.1 \
		--master_port="$ref_port" --log_dir "$TMP/logs-ref2-$k" "$TRAIN" \
		--ckpt-dir "$TMP/ref2" --steps $STEPS --out "$TMP/ref2.sha" >"$TMP/ref2-$k.log" 2>&1 &
	echo $! >"$TMP/ref$k.pid"
done
for k in 0 1; do
	wait "$(cat "$TMP/ref$k.pid")" || { cat "$TMP/ref2-$k.log"; fail "the uninterrupted 2-node run failed on node $k"; }
done
rm -rf "$TMP/ck" "$TMP/exclude" && mkdir -p "$TMP/ck"
PORT=$(free_port)
for k in 0 1 2; do
	agent $k 2:3 --checkpoint-dir "$TMP/ck" -- \
		"$TORCHRUN" --nnodes {nnodes} --node-rank {node_rank} --nproc-per-node 1 \
		--master-addr {master_addr} --master-port {master_port} --log-dir "$TMP/logs-tr-$k" \
		"$TRAIN" --ckpt-dir "$TMP/ck" --steps $STEPS --step-time 0.1 --out "$TMP/tr.sha" \
		--resume {resume}
done
wait_for 120 test -e "$TMP/ck/step-000020.pt" || { dump_agents 0 1 2; fail "no step-000020.pt under torchrun"; }
p=$(agent_pid 1)
kids=$(pgrep -P "$p" || true)
kill -9 "$p"
for k in $kids; do pkill -9 -P "$k" 2>/dev/null || true; done # torchrun's worker
[ -z "$kids" ] || kill -9 $kids 2>/dev/null || true
wait_agents 120 0 2
expect_agent_rc 0 0
expect_agent_rc 2 0
grep -q "promoted: this spare trains as node 1 of 2" "$TMP/n2.err" || { dump_agents 2; fail "node 2 was not promoted under torchrun"; }
cmp -s "$TMP/ref2.sha" "$TMP/tr.sha" ||
	fail "final parameters differ under torchrun: $(cat "$TMP/ref2.sha") vs $(cat "$TMP/tr.sha" 2>/dev/null)"
no_leftovers "ckpt-dir $TMP/ck"
ok "2+1 through torchrun --node-rank {node_rank} --nnodes {nnodes} --master-addr {master_addr} --master-port {master_port}: the spare joins as node 1; digest equal"
