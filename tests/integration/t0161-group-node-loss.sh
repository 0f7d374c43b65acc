#!/bin/sh
# Node loss: an agent killed with SIGKILL, the coordinator killed, an agent stopped with
# SIGSTOP (silent, its socket open). Every survivor kills its tree and exits 75 (the one
# peer-lost code, since Slurm reports the highest of all tasks), naming the lost node, within
# --peer-timeout (3 s here) + 1 s of noticing.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

cat >"$TMP/job.sh" <<'JOB'
#!/bin/sh
# job.sh TAG: beats forever
i=0
while :; do
	i=$((i + 1))
	"$FLIGHTDECK" beat --step "$i"
	sleep 0.1
done
JOB
chmod +x "$TMP/job.sh"
export FLIGHTDECK

# start3 TAG: three agents, returns once every node has launched its job
start3() {
	for n in 0 1 2; do
		rm -f "$TMP/n$n.rc"
		agent $n 3 --stall-timeout 30s -- "$TMP/job.sh" "$1-$n"
	done
	i=0
	for n in 0 1 2; do
		while [ "$(node_event $n '.event=="start"')" -lt 1 ]; do
			i=$((i + 1))
			[ "$i" -lt 300 ] || { dump_agents 0 1 2; fail "$1: node $n never launched"; }
			sleep 0.1
		done
	done
}

# A SIGKILLed agent's kernel closes its sockets with a FIN, or with a RST when a beat it had
# not read yet was waiting: the survivors say "connection closed" or "connection reset", both
# meaning the process is gone (a CI run under ASan saw the reset).
# --- a member killed with SIGKILL ----------------------------------------------------------
start3 kill
t0=$(date +%s.%N)
kill -9 "$(agent_pid 2)"
wait_agents 10 0 1
took=$(elapsed_since "$t0")
for n in 0 1; do
	expect_agent_rc $n 75
	grep -Eq "node 2 \(.*\) lost: connection (closed|reset)" "$TMP/n$n.err" || { dump_agents $n; fail "node $n does not name node 2"; }
done
awk -v t="$took" 'BEGIN { exit !(t <= 3 + 1 + 2) }' || fail "survivors took $took s to exit"
pkill -f "$TMP/job.sh kill-2" || true # its agent died with SIGKILL: nobody was left to stop it
sleep 0.2
no_leftovers "$TMP/job.sh kill-"
expect_node_event 0 '.event=="group" and .group=="lost" and .node==2'
expect_node_event 1 '.event=="exit" and .exit_code==75 and .stop=="peer_lost" and .node==2'
ok "node 2's agent SIGKILLed: nodes 0 and 1 exited 75 in $took s, naming node 2; their jobs are gone"

# --- the coordinator killed ------------------------------------------------------------------
start3 coord
t0=$(date +%s.%N)
kill -9 "$(agent_pid 0)"
wait_agents 10 1 2
took=$(elapsed_since "$t0")
for n in 1 2; do
	expect_agent_rc $n 75
	grep -Eq "the coordinator, node 0 .* lost: connection (closed|reset)" "$TMP/n$n.err" || { dump_agents $n; fail "node $n does not name the coordinator"; }
done
pkill -f "$TMP/job.sh coord-0" || true
sleep 0.2
no_leftovers "$TMP/job.sh coord-"
ok "the coordinator SIGKILLed: nodes 1 and 2 exited 75 in $took s, naming node 0"

# --- a member stopped: silent, its connection open ------------------------------------------
start3 stop
p1=$(agent_pid 1)
t0=$(date +%s.%N)
kill -STOP "$p1"
wait_agents 10 0 2
took=$(elapsed_since "$t0")
for n in 0 2; do
	expect_agent_rc $n 75
done
grep -q "node 1 (.*) lost: silent [3-4]\.[0-9] s" "$TMP/n0.err" || { dump_agents 0; fail "the coordinator does not say node 1 went silent"; }
grep -q "node 1 (.*) lost: silent" "$TMP/n2.err" || { dump_agents 2; fail "node 2 was not told which node was lost"; }
# silence counts from node 1's last beat, up to --peer-interval (0.2 s) before the SIGSTOP
awk -v t="$took" 'BEGIN { exit !(t >= 3 - 0.2 - 0.1 && t <= 3 + 1 + 2) }' || fail "survivors took $took s to exit"
kill -CONT "$p1"
wait_agents 10 1
expect_agent_rc 1 75 # woken, it finds its coordinator gone: the same code as everyone
sleep 0.2
no_leftovers "$TMP/job.sh stop-"
ok "node 1 SIGSTOPped: nodes 0 and 2 exited 75 after $took s (silent past 3 s); node 1, woken, exited 75 too"
