#!/bin/sh
# Three agents on loopback, one job: node 2's rank stalls; node 2 stops its tree and the
# coordinator stops nodes 0 and 1 at once; every node restarts from the newest checkpoint
# complete on every node (each node has its own directory; node 2 never got past step 10,
# so the others' step 15, 20... are skipped), within one restart budget, and all finish.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

cat >"$TMP/job.sh" <<'JOB'
#!/bin/sh
# job.sh NODE CKDIR [RESUME]: 40 steps of 0.1 s; a checkpoint every 5; node 2 hangs at step 12
# on the first launch
node=$1 ck=$2 step=0
[ -n "${3:-}" ] && step=$(basename "$3" .pt | sed 's/^step-//')
echo "node $node: launch ${FLIGHTDECK_RESTART_COUNT}, from step $step"
while [ "$step" -lt 40 ]; do
	step=$((step + 1))
	"$FLIGHTDECK" beat --step "$step"
	[ $((step % 5)) -eq 0 ] && : >"$ck/step-$step.pt"
	[ "$node" = 2 ] && [ "$FLIGHTDECK_RESTART_COUNT" = 0 ] && [ "$step" -eq 12 ] && sleep 1000
	sleep 0.1
done
echo "node $node: done at step $step"
JOB
chmod +x "$TMP/job.sh"
export FLIGHTDECK

for n in 0 1 2; do
	mkdir -p "$TMP/ck$n"
	agent $n 3 --stall-timeout 1.5s --checkpoint-dir "$TMP/ck$n" -- "$TMP/job.sh" $n "$TMP/ck$n" {resume}
done
wait_agents 60 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 0
	expect_node_event $n ".event==\"restart\" and .checkpoint==\"$TMP/ck$n/step-10.pt\""
	grep -q "node $n: launch 1, from step 10" "$TMP/n$n.out" || { dump_agents $n; fail "node $n did not resume from step 10"; }
	grep -q "node $n: done at step 40" "$TMP/n$n.out" || fail "node $n did not finish"
	[ "$(node_event $n '.event=="restart"')" -eq 1 ] || fail "node $n restarted $(node_event $n '.event=="restart"') times"
done
ok "a stall on node 2 restarted all three nodes once, each from its own step-10.pt, the newest all hold"

expect_node_event 2 '.event=="stall"'
[ "$(node_event 0 '.event=="stall"')" -eq 0 ] || fail "node 0 saw a stall of its own"
grep -q "node 2 (.*): rank 0 .*silent" "$TMP/n0.err" || { dump_agents 0; fail "node 0 does not name node 2 and its rank"; }
grep -q "stopping process group .* too" "$TMP/n1.err" || { dump_agents 1; fail "node 1 did not say it stops for a peer"; }
expect_node_event 0 '.event=="group" and .group=="joined" and .node==2'
expect_node_event 0 '.event=="group" and .group=="stop" and .node==2'
ok "the stall is named on every node (node 2, rank 0); joins and the stop are events"
no_leftovers "$TMP/job.sh"
