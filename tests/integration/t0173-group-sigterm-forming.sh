#!/bin/sh
# The scheduler's SIGTERM while the group is still forming (a node has not joined, so no job
# has launched): a job cancelled then is as cancelled as one that runs. The signalled agent
# stops now, not at --join-timeout (30 s here; 5 min by default, past Slurm's KillWait), and
# the signal is the job's decision: every agent present exits 143, none launches.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

# joined_two CASE: nodes 0 and 1 of 3 started and joined; node 2 never comes
joined_two() {
	for n in 0 1; do
		agent $n 3 --stall-timeout 30s -- touch "$TMP/launched-$1-$n"
	done
	i=0
	while [ "$(node_event 0 '.event=="group" and .group=="joined" and .node==1')" -lt 1 ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { dump_agents 0 1; fail "$1: node 1 never joined"; }
		sleep 0.1
	done
	sleep 0.5 # both wait in the gate for node 2
}

# stopped CASE SIGNALLED SECONDS NODE...: the signalled node, then the others, exited 143
# within a few seconds, nothing launched
stopped() {
	c=$1 sig=$2 t0=$3
	shift 3
	wait_agents 5 "$sig" "$@"
	took=$(elapsed_since "$t0")
	for n in "$sig" "$@"; do
		expect_agent_rc $n 143
		[ ! -e "$TMP/launched-$c-$n" ] || fail "$c: node $n launched its job"
	done
}

# --- SIGTERM to a member waiting for the group to form --------------------------------------
joined_two member
t0=$(date +%s.%N)
kill -TERM "$(agent_pid 1)"
stopped member 1 "$t0" 0
ok "SIGTERM to node 1 while node 2 had not joined: nodes 0 and 1 exited 143 in $took s"

# --- SIGTERM to the coordinator waiting for the group to form -------------------------------
joined_two coord
t0=$(date +%s.%N)
kill -TERM "$(agent_pid 0)"
stopped coord 0 "$t0" 1
ok "SIGTERM to node 0 while node 2 had not joined: nodes 0 and 1 exited 143 in $took s"

# --- SIGTERM to a member whose coordinator is not up yet ------------------------------------
agent 1 3 --stall-timeout 30s -- touch "$TMP/launched-alone-1"
sleep 1 # retrying the connection
t0=$(date +%s.%N)
kill -TERM "$(agent_pid 1)"
stopped alone 1 "$t0"
ok "SIGTERM to node 1 while its coordinator was not up: it exited 143 in $took s"
