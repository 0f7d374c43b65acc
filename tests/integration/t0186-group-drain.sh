#!/bin/sh
# The node to drain (a stall's culprit that is the machine's fault), on loopback with real
# agents running native ranks (--nproc-per-node 2) of a Python trainer: global rank 3, on node
# 1, stops itself. With an Xid in node 1's kernel log since the job started (the kernel-log
# seam: --check-config's kmsg and proc-root), node 1 says it is the node to drain and every
# node's restart names it; without one only the culprit is named (a stopped process is no
# proof against the machine); with a spare, the spare takes node 1's place at the restart, node
# 1 is written to --exclude-file and the job finishes.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

cat >"$TMP/train.py" <<'EOF'
import os, signal, sys, time
import flightdeck_heartbeat as hb

tmp, steps = sys.argv[1], int(sys.argv[2])
resume = sys.argv[3] if len(sys.argv) > 3 else ""
rank = int(os.environ["RANK"])
i = int(resume.rsplit("step-", 1)[1].split(".")[0]) if "step-" in resume else 0
with open(tmp + "/ranks", "a") as f:
    f.write("rank %d on node %s from %s\n" % (rank, os.environ["FD_NODE"], resume or "start"))
while i < steps:
    i += 1
    hb.beat(i)
    if rank == 0 and i % 10 == 0:
        open("%s/ck/step-%06d.pt" % (tmp, i), "w").close()
    if rank == 3 and i == 15 and not os.path.exists(tmp + "/stopped"):
        open(tmp + "/stopped", "w").close()
        os.kill(os.getpid(), signal.SIGSTOP)
    time.sleep(0.05)
EOF
export PYTHONPATH="$SRC_DIR/scripts"

# node 1's kernel log: uptime 1000 s; an Xid 79 a second ago, an Xid 48 from long before the
# job (not its doing), an application's Xid 13 (the job's own fault)
mkdir -p "$TMP/proc1"
echo "1000.00 1900.00" >"$TMP/proc1/uptime"
printf '[check]\nkmsg = %s\nproc-root = %s\n' "$TMP/kmsg1.log" "$TMP/proc1" >"$TMP/node1.conf"
xid_log() {
	{
		echo "[   10.000000] NVRM: Xid (PCI:0000:3b:00): 48, pid=77, DBE"
		echo "[  999.500000] NVRM: Xid (PCI:0000:5e:00): 13, pid=88, Graphics Exception"
		[ "$1" = yes ] && echo "[  999.000000] NVRM: Xid (PCI:0000:3b:00): 79, pid=99, GPU has fallen off the bus."
	} >"$TMP/kmsg1.log"
}

# node NODE NNODES ARGS...: an agent with 2 native ranks of the trainer, 60 steps
node() {
	n=$1 nn=$2
	shift 2
	c=
	[ "$n" = 1 ] && c="--check-config $TMP/node1.conf"
	# shellcheck disable=SC2086
	FD_NODE=$n agent "$n" "$nn" --nproc-per-node 2 --stall-timeout 2s $c "$@" \
		--checkpoint-dir "$TMP/ck" -- python3 "$TMP/train.py" "$TMP" 60 {resume}
}

fresh() {
	kill_agents
	rm -rf "$TMP/ck" "$TMP/ranks" "$TMP/stopped" "$TMP"/n*.rc "$TMP"/n*.err "$TMP"/n*.ev \
		"$TMP/exclude" "$TMP/termlog"
	mkdir -p "$TMP/ck"
	PORT=$(free_port)
}

# --- An Xid on node 1 since the job started: node 1 is the node to drain ---------------------
fresh
xid_log yes
node 0 2
node 1 2 --termination-log "$TMP/termlog"
wait_agents 60 0 1
for k in 0 1; do
	expect_agent_rc $k 0
	grep -q "drain node 1 (.*): Xid 79 (GPU has fallen off the bus) on 0000:3b:00, 1.0 s ago (since the job started), and rank 3 here is the culprit; the culprit: rank 3 (pid [0-9]*) stopped (state T)" "$TMP/n$k.err" ||
		{ dump_agents 0 1; fail "node $k's restart does not name node 1 as the node to drain"; }
done
grep -q "the node to drain: this node (.*): Xid 79" "$TMP/n1.err" || { dump_agents 1; fail "node 1 does not say it is the node to drain"; }
expect_node_event 1 '.event=="culprit" and .culprit==[3] and (.drain | test("^Xid 79 "))'
expect_node_event 0 '.event=="group" and .group=="drain" and .node==1'
expect_node_event 1 '.event=="exit" and (.drain | test("^Xid 79 "))'
grep -q "^drain: .*: Xid 79 (GPU has fallen off the bus) on 0000:3b:00" "$TMP/termlog" ||
	fail "node 1's termination message does not say drain: $(cat "$TMP/termlog")"
ok "an Xid 79 on node 1 since the job started and rank 3 stopped there: every node names node 1 as the node to drain; the job restarts and finishes"

# --- No Xid of the job's time: the culprit only, no node to drain ----------------------------
fresh
xid_log no
node 0 2
node 1 2
wait_agents 60 0 1
for k in 0 1; do
	expect_agent_rc $k 0
	grep -q "the culprit: node 1 (.*): rank 3 (pid [0-9]*) stopped (state T)" "$TMP/n$k.err" ||
		{ dump_agents 0 1; fail "node $k does not name node 1's rank 3 as the culprit"; }
	grep -q "drain" "$TMP/n$k.err" && { dump_agents $k; fail "node $k names a node to drain with no evidence against the machine"; }
done
ok "only an old Xid 48 and an application's Xid 13: the culprit is named, no node to drain"

# --- With a spare: it takes the drained node's place ------------------------------------------
fresh
xid_log yes
node 0 2 --spares 1 --exclude-file "$TMP/exclude"
node 1 2 --spares 1
node 2 2 --spares 1
wait_agents 60 0 1 2
for k in 0 1 2; do expect_agent_rc $k 0; done
grep -q "group: to drain: node 1 (.*): spare node 2 (.*) takes its place as training node 1 (0 spare(s) left)" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not say the spare replaces the node to drain"; }
grep -q "promoted: this spare trains as node 1 of 2" "$TMP/n2.err" || { dump_agents 2; fail "node 2 was not promoted"; }
grep -q "rank 3 on node 2 from $TMP/ck/step-0000[1-5]0.pt" "$TMP/ranks" ||
	{ dump_agents 0 2; cat "$TMP/ranks"; fail "rank 3 did not run on node 2 from a checkpoint"; }
expect_node_event 0 '.event=="group" and .group=="replaced" and .node==1'
[ "$(cat "$TMP/exclude")" = "$(hostname)" ] || fail "--exclude-file holds '$(cat "$TMP/exclude" 2>/dev/null)', not node 1's host"
grep -q "out of the job: a spare trains in this node's place" "$TMP/n1.err" || { dump_agents 1; fail "node 1 does not say it is out of the job"; }
launches=$(grep -c "launch [0-9]*:" "$TMP/n1.err")
[ "$launches" -eq 1 ] || { dump_agents 1; fail "node 1 launched $launches times; it is out after the first"; }
no_leftovers "$TMP/train.py"
ok "2+1: the node to drain is replaced by the spare at the restart, written to --exclude-file; the job finishes"
