#!/bin/sh
# `flightdeck check --job`: a prolog-less cluster gates a job with one check per node (as
# srun --ntasks-per-node=1 would start them). All fit: every node exits 0. One unfit: every
# node exits 69, node 0 prints the table and writes --exclude-file. A node that never comes:
# every node that came exits 75 after --join-timeout, naming it.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

# job_check NODE NNODES FIXTURE ARGS...: one node's check --job in the background
job_check() {
	node=$1 nn=$2 fx=$3
	shift 3
	rm -f "$TMP/n$node.rc"
	(
		rc=0
		FLIGHTDECK_SYSFS_ROOT="$FIXTURES/$fx/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/$fx/proc" \
			FLIGHTDECK_KMSG="$FIXTURES/empty.log" \
			"$FLIGHTDECK" check --job --level quick -q --node-rank "$node" --nnodes "$nn" \
			--coordinator "127.0.0.1:$PORT" --peer-interval 0.2s --peer-timeout 3s "$@" \
			>"$TMP/n$node.out" 2>"$TMP/n$node.err" || rc=$?
		echo "$rc" >"$TMP/n$node.rc"
	) &
	echo $! >"$TMP/n$node.sub"
}

for n in 0 1 2; do
	job_check $n 3 healthy-ndr8
done
wait_agents 30 0 1 2
for n in 0 1 2; do expect_agent_rc $n 0; done
ok "three fit nodes: every check --job exited 0"

PORT=$(free_port)
job_check 0 3 healthy-ndr8 --exclude-file "$TMP/exclude"
job_check 1 3 healthy-ndr8
job_check 2 3 port-down
wait_agents 30 0 1 2
for n in 0 1 2; do expect_agent_rc $n 69; done
grep -q "group: node 2 (.*): ib.port IB_PORT_DOWN mlx5_3/1" "$TMP/n0.err" || { dump_agents 0; fail "node 0's table does not name node 2"; }
grep -q "FAIL ib.port" "$TMP/n2.out" || fail "node 2 did not print its own table"
[ "$(cat "$TMP/exclude")" = "$(hostname)" ] || fail "the exclude file holds '$(cat "$TMP/exclude")'"
ok "node 2 unfit: every node exited 69; node 0's table names node 2; the exclude file holds its host"

PORT=$(free_port)
job_check 0 3 healthy-ndr8 --join-timeout 2s
job_check 1 3 healthy-ndr8 --join-timeout 2s
wait_agents 30 0 1
expect_agent_rc 0 75
expect_agent_rc 1 75
grep -q "never joined: 2 (" "$TMP/n0.err" || { dump_agents 0; fail "node 0 does not name the missing node 2"; }
ok "node 2 never came: nodes 0 and 1 exited 75 after --join-timeout, node 0 naming node 2"

# a group of one: the node's own verdict, in the job's codes
FLIGHTDECK_SYSFS_ROOT="$FIXTURES/port-down/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/port-down/proc" \
	FLIGHTDECK_KMSG="$FIXTURES/empty.log" run check --job --level quick -q
expect_rc 69
ok "a group of one: check --job exits 69 for an unfit node"
