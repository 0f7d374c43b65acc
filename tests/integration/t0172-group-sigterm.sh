#!/bin/sh
# The scheduler's SIGTERM to a node group of three, whose job saves on SIGTERM (0.5 s) and
# exits 0. Slurm signals every node's task within a few ms: every job gets its grace (its
# marker is written) and every agent exits 143 (128+15), not the job's 0 nor the peer-lost
# 75. A SIGTERM to one agent only (a member, then the coordinator) is the job's decision
# too: every node stops the same way and every agent exits 143.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

cat >"$TMP/job.sh" <<'JOB'
#!/bin/sh
# job.sh DIR TAG: beats until SIGTERM; then saves for 0.5 s, writes DIR/saved-TAG, exits 0
dir=$1 tag=$2
trap 'sleep 0.5; : >"$dir/saved-$tag"; exit 0' TERM
: >"$dir/ready-$tag"
i=0
while :; do
	i=$((i + 1))
	"$FLIGHTDECK" beat --step "$i"
	sleep 0.1 &
	wait $! # interrupted by the signal: the trap runs now, not after a foreground child
done
JOB
chmod +x "$TMP/job.sh"
export FLIGHTDECK

# start3 CASE: three agents (a 5 s grace, far more than the job needs), returns once every
# job has installed its trap
start3() {
	for n in 0 1 2; do
		agent $n 3 --stall-timeout 30s --grace 5s -- "$TMP/job.sh" "$TMP" "$1-$n"
	done
	i=0
	for n in 0 1 2; do
		while [ ! -e "$TMP/ready-$1-$n" ]; do
			i=$((i + 1))
			[ "$i" -lt 300 ] || { dump_agents 0 1 2; fail "$1: node $n's job never started"; }
			sleep 0.1
		done
	done
	sleep 0.5 # the peers beat each other a few times
}

# expect_saved CASE SECONDS: every node's job saved, every agent exited 143 well within the
# 5 s grace (nobody waited for a SIGKILL), no job left
expect_saved() {
	for n in 0 1 2; do
		[ -e "$TMP/saved-$1-$n" ] || { dump_agents $n; fail "$1: node $n's job did not get its grace (no marker)"; }
		expect_agent_rc $n 143
		expect_node_event $n '.event=="exit" and .exit_code==143'
	done
	awk -v t="$2" 'BEGIN { exit !(t < 4) }' || fail "$1: the agents took $2 s, past the job's 0.5 s save"
	no_leftovers "$TMP/job.sh $TMP $1-"
}

# all_at CASE KILL...: SIGTERM to all three agents, by KILL (a command line, run with the
# three pids as $p0 $p1 $p2)
all_at() {
	case=$1
	shift
	start3 "$case"
	p0=$(agent_pid 0) p1=$(agent_pid 1) p2=$(agent_pid 2)
	[ -n "$p0" ] && [ -n "$p1" ] && [ -n "$p2" ] || fail "$case: an agent has no pid"
	t0=$(date +%s.%N)
	eval "$*"
	wait_agents 15 0 1 2
	took=$(elapsed_since "$t0")
	expect_saved "$case" "$took"
	for n in 0 1 2; do
		expect_node_event $n '.event=="signal" and .signal=="SIGTERM"'
	done
}

# --- SIGTERM to every agent at once, as Slurm does -----------------------------------------
all_at all 'kill -TERM "$p0" "$p1" "$p2"'
ok "SIGTERM to all three agents at once: every job saved, every agent exited 143 within $took s"

# A few ms apart, the members first: the coordinator hears a member's stop before its own
# signal, and node 1 may hear the coordinator's STOP before its own.
all_at staggered 'kill -TERM "$p2"; sleep 0.003; kill -TERM "$p0"; sleep 0.003; kill -TERM "$p1"'
ok "SIGTERM to nodes 2, 0, 1, a few ms apart: every job saved, every agent exited 143 within $took s"

# --- SIGTERM to one member only ---------------------------------------------------------------
start3 member
t0=$(date +%s.%N)
kill -TERM "$(agent_pid 1)"
wait_agents 15 0 1 2
took=$(elapsed_since "$t0")
expect_saved member "$took"
expect_node_event 0 '.event=="group" and .group=="stop" and .node==1'
for n in 0 2; do
	[ "$(node_event $n '.event=="signal"')" -eq 0 ] || fail "member: node $n got a signal of its own"
	grep -q "node 1 (.*): told to stop: stopping process group .* too" "$TMP/n$n.err" ||
		{ dump_agents $n; fail "member: node $n does not say node 1 was told to stop"; }
done
ok "SIGTERM to node 1 only: every node stopped, every job saved, every agent exited 143 within $took s"

# --- SIGTERM to the coordinator only -------------------------------------------------------
start3 coord
t0=$(date +%s.%N)
kill -TERM "$(agent_pid 0)"
wait_agents 15 0 1 2
took=$(elapsed_since "$t0")
expect_saved coord "$took"
for n in 1 2; do
	[ "$(node_event $n '.event=="signal"')" -eq 0 ] || fail "coord: node $n got a signal of its own"
	grep -q "node 0 (.*): told to stop: stopping process group .* too" "$TMP/n$n.err" ||
		{ dump_agents $n; fail "coord: node $n does not say node 0 was told to stop"; }
done
ok "SIGTERM to the coordinator only: every node stopped, every job saved, every agent exited 143 within $took s"
