#!/bin/sh
# Nodes started with different flags. A node without --checkpoint-dir (trainers often save from
# rank 0 only, so an operator leaves the flag off elsewhere) had a say in the common checkpoint:
# its empty list vetoed every one, and after a stall every node restarted "from the start (no
# complete checkpoint)", with no warning, overwriting the job's own checkpoints. Now it has no
# say, and the gate warns. A member's own --max-restarts was in its messages ("restart 1 of 5",
# "giving up: --max-restarts 5 spent" after one restart) while node 0's budget applied: now
# every node says the group's, and the gate warns of each flag the decision depends on that
# differs, with both values.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

cat >"$TMP/job.sh" <<'JOB'
#!/bin/sh
# job.sh NODE CKDIR|- [RESUME]: 20 steps of 0.1 s, a checkpoint every 5 where CKDIR is given;
# node 1 hangs at step 12 on the first launch
node=$1 ck=$2 step=0
[ -n "${3:-}" ] && step=$(basename "$3" .pt | sed 's/^step-//')
echo "node $node: launch ${FLIGHTDECK_RESTART_COUNT}, from step $step"
while [ "$step" -lt 20 ]; do
	step=$((step + 1))
	"$FLIGHTDECK" beat --step "$step"
	[ "$ck" != - ] && [ $((step % 5)) -eq 0 ] && : >"$ck/step-$step.pt"
	[ "$node" = 1 ] && [ "$FLIGHTDECK_RESTART_COUNT" = 0 ] && [ "$step" -eq 12 ] && sleep 1000
	sleep 0.1
done
echo "node $node: done at step $step"
JOB
chmod +x "$TMP/job.sh"
export FLIGHTDECK

mkdir -p "$TMP/ck0"
agent 0 2 --stall-timeout 1.5s --max-restarts 3 --checkpoint-dir "$TMP/ck0" -- "$TMP/job.sh" 0 "$TMP/ck0" {resume}
agent 1 2 --stall-timeout 1.5s --max-restarts 5 -- "$TMP/job.sh" 1 - {resume}
wait_agents 60 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
# node 0 got further than step 12 before the stop; whatever its newest is, it resumes there
grep -q "node 0: launch 1, from step [1-9]" "$TMP/n0.out" ||
	{ dump_agents 0 1; fail "node 0 restarted from the start, over its own checkpoints"; }
ck=$(jq -r 'select(.event=="restart") | .checkpoint' "$TMP/n0.ev" | xargs basename)
grep -q "the group resumes from $ck, which this node cannot pass on" "$TMP/n1.err" ||
	{ dump_agents 1; fail "node 1 does not say where the group resumes ($ck)"; }
grep -q "1 of 2 nodes have no --checkpoint-dir (node 1" "$TMP/n0.err" ||
	{ dump_agents 0; fail "the gate does not warn of node 1's missing --checkpoint-dir"; }
ok "node 1 without --checkpoint-dir: the group resumes from node 0's $ck, the gate warns"

grep -q "node 1 (.*) has --max-restarts 5, node 0 has --max-restarts 3" "$TMP/n0.err" ||
	{ dump_agents 0; fail "no warning of the differing --max-restarts"; }
grep -q "restart 1 of 3 after a stall" "$TMP/n1.err" || { dump_agents 1; fail "node 1 does not say node 0's budget"; }
ok "--max-restarts 3 against 5: the gate warns with both values; node 1 says 'restart 1 of 3'"

# the budget spent: the member says node 0's, not its own
PORT=$(free_port)
cat >"$TMP/crash.sh" <<'JOB'
#!/bin/sh
"$FLIGHTDECK" beat --step 1
[ "$1" = 1 ] && exit 3
sleep 30
JOB
chmod +x "$TMP/crash.sh"
agent 0 2 --max-restarts 1 --stall-timeout 7s -- "$TMP/crash.sh" 0
agent 1 2 --max-restarts 5 --stall-timeout 9s -- "$TMP/crash.sh" 1
wait_agents 60 0 1
expect_agent_rc 1 3
grep -q "giving up: --max-restarts 1 spent (node 0's" "$TMP/n1.err" || { dump_agents 1; fail "node 1 names its own budget"; }
grep -q "has --stall-timeout 9 s, node 0 has --stall-timeout 7 s: each node judges" "$TMP/n0.err" ||
	{ dump_agents 0; fail "no warning of the differing --stall-timeout"; }
ok "the budget spent: node 1 says node 0's --max-restarts 1; --stall-timeout 7s against 9s warned of"
no_leftovers "$TMP/job.sh"
