#!/bin/sh
# Configuration errors are not node losses: nodes that disagree on --nnodes, two agents with
# one --node-rank (srun --ntasks-per-node=8 starts eight, all with one SLURM_NODEID), a token
# that differs. Before, the coordinator refused quietly, the member retried until
# --join-timeout ("the coordinator never answered") and every node exited 75, which
# RequeueExit=75 requeues into the same failure. Now the coordinator answers with a REFUSE
# frame, the member says its reason, and both exit 2 well before --join-timeout.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

# --nnodes differs: both ends exit 2 at once, the member naming both counts
t0=$(date +%s.%N)
agent 0 2 -- sleep 30
agent 1 3 -- sleep 30
wait_agents 20 0 1
took=$(elapsed_since "$t0")
expect_agent_rc 0 2
expect_agent_rc 1 2
grep -q 'refused node 1: node 1 says --nnodes 3, node 0 has --nnodes 2' "$TMP/n1.err" ||
	{ dump_agents 0 1; fail "node 1 does not say why it was refused"; }
grep -q 'do not make one job' "$TMP/n0.err" || { dump_agents 0; fail "node 0 does not say why it stopped"; }
awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "--nnodes mismatch took ${took}s (join timeout 30 s)"
expect_node_event 1 '.event == "group" and .group == "config"'
ok "--nnodes 2 against 3: both exit 2 in ${took}s, the member says the coordinator's count"

# two agents with --node-rank 1: the second is refused, the job ends with 2 everywhere
PORT=$(free_port)
t0=$(date +%s.%N)
agent 0 3 -- sleep 30
agent 1 3 -- sleep 30
wait_for 10 grep -q 'joined: 2 of 3' "$TMP/n0.err" || { dump_agents 0 1; fail "node 1 never joined"; }
agent 2 3 --node-rank 1 -- sleep 30 # a second agent for node 1 (its files are n2.*)
wait_agents 20 0 1 2
took=$(elapsed_since "$t0")
for n in 0 1 2; do expect_agent_rc $n 2; done
grep -q 'node 1 has joined already.*two agents have --node-rank 1' "$TMP/n2.err" ||
	{ dump_agents 2; fail "the second agent does not say it is a duplicate"; }
awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "a duplicate --node-rank took ${took}s"
ok "two agents with --node-rank 1: every node exits 2 in ${took}s, named as a duplicate"

# two agents with --node-rank 0: the second cannot listen; it exits 2 naming the cause
PORT=$(free_port)
agent 0 2 -- sleep 30
wait_for 10 sh -c "ss -ltn | grep -q ':$PORT '" || fail "node 0 never listened"
agent 9 2 --node-rank 0 -- sleep 30
wait_agents 10 9
expect_agent_rc 9 2
grep -q 'another node 0 of this job listens there' "$TMP/n9.err" || { dump_agents 9; fail "no cause named"; }
kill_agents
ok "a second --node-rank 0 exits 2: the port is taken, two agents with --node-rank 0 named"

# another token: the member exits 2 at once; node 0 cannot tell it from a stranger's and
# waits, but at --join-timeout it exits 2, not 75: a requeue would meet the same refusal
PORT=$(free_port)
t0=$(date +%s.%N)
agent 0 2 --join-timeout 4s -- sleep 30
FLIGHTDECK_TOKEN=another-token agent 1 2 --join-timeout 30s -- sleep 30
wait_agents 10 1
took=$(elapsed_since "$t0")
expect_agent_rc 1 2
grep -q "token differs from node 0's" "$TMP/n1.err" || { dump_agents 1; fail "node 1 does not name the token"; }
awk -v t="$took" 'BEGIN { exit !(t < 3) }' || fail "the member took ${took}s to see the token refused"
wait_agents 20 0
expect_agent_rc 0 2
grep -q 'signed with another token' "$TMP/n0.err" || { dump_agents 0; fail "node 0 does not name the token"; }
ok "another token: the member exits 2 in ${took}s, node 0 exits 2 (not 75) at --join-timeout"

# a stranger's connection that is not a frame ends nothing: the real member still joins
PORT=$(free_port)
agent 0 2 -- true
wait_for 10 sh -c "ss -ltn | grep -q ':$PORT '" || fail "node 0 never listened"
python3 -c "
import socket; s = socket.create_connection(('127.0.0.1', $PORT)); s.sendall(b'GET / HTTP/1.0\r\n\r\n'); s.close()"
agent 1 2 -- true
wait_agents 20 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
ok "an HTTP probe is dropped without ending the job"

# under Slurm, more tasks than nodes in the step is warned of
PORT=$(free_port)
SLURM_STEP_ID=0 SLURM_NTASKS=16 SLURM_NNODES=2 SLURM_NODEID=1 \
	"$FLIGHTDECK" run --coordinator "127.0.0.1:$PORT" --join-timeout 1s --preflight none -- true \
	>"$TMP/out" 2>"$TMP/err" || true
grep -q 'warning: SLURM_NTASKS=16 exceeds SLURM_NNODES=2' "$TMP/err" || { cat "$TMP/err"; fail "no warning"; }
ok "SLURM_NTASKS above SLURM_NNODES is warned of"
