#!/bin/sh
# The job-wide preflight: node 1 is unfit (its fixture has an InfiniBand port down). No node
# launches; every agent exits 69; the coordinator prints one table (node, check, code,
# subject) and writes --exclude-file in Slurm hostlist form, for sbatch --exclude.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

seam() { # seam FIXTURE NODE ARGS...: an agent whose preflight sees that fixture
	fx=$1
	shift
	FLIGHTDECK_SYSFS_ROOT="$FIXTURES/$fx/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/$fx/proc" \
		FLIGHTDECK_KMSG="$FIXTURES/empty.log" agent "$@"
}

seam healthy-ndr8 0 3 --preflight quick --exclude-file "$TMP/exclude" -- touch "$TMP/launched-0"
seam port-down 1 3 --preflight quick -- touch "$TMP/launched-1"
seam healthy-ndr8 2 3 --preflight quick -- touch "$TMP/launched-2"
wait_agents 60 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 69
	[ ! -e "$TMP/launched-$n" ] || fail "node $n launched its command"
done
ok "node 1 unfit: no node launched, every agent exited 69"

grep -q "group: node 1 (.*): ib.port IB_PORT_DOWN mlx5_3/1" "$TMP/n0.err" || { dump_agents 0; fail "the coordinator's table does not name node 1, its check, code and port"; }
grep -q "group: node [02] (.*): " "$TMP/n0.err" && fail "the table names a fit node"
expect_node_event 0 '.event=="group" and .group=="unfit" and .node==1'
expect_node_event 2 '.event=="exit" and .exit_code==69 and .stop=="failure" and .node==1'
[ "$(cat "$TMP/exclude")" = "$(hostname)" ] || fail "the exclude file holds '$(cat "$TMP/exclude")', not this host"
ok "the table names node 1: ib.port IB_PORT_DOWN mlx5_3/1; --exclude-file holds $(cat "$TMP/exclude")"
