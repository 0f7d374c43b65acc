#!/bin/sh
# A network partition, in network namespaces: the coordinator and two members, each in its
# own namespace, wired by veth pairs to a bridge in a fourth (the switch) on a private
# subnet. Once the three have formed and run a beating job, node 2's switch port goes down:
# no close, no reset, packets simply vanish. Both sides notice within --peer-timeout (3 s) +
# 1 s: the coordinator and node 1 exit 75 naming node 2, and node 2, cut off, exits 75
# naming the coordinator (silent, or its connection timed out by TCP_USER_TIMEOUT). Before
# that, the same port down for 1 s only (TCP retransmits once it is back) loses nobody;
# after it, the coordinator's own port cut: every node exits 75, the members naming it.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

. "$TESTS_DIR/integration/netns-lib.sh"

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

COORDINATOR="$NET.1:$PORT"

# start3 TAG: the three agents, each in its namespace; returns once all have formed and
# beaten each other a while
start3() {
	for n in 0 1 2; do
		AGENT_NETNS="$NS-$n"
		agent $n 3 --stall-timeout 30s -- "$TMP/job.sh" "$1-$n"
	done
	AGENT_NETNS=
	i=0
	for n in 0 1 2; do
		while [ "$(node_event $n '.event=="start"')" -lt 1 ]; do
			i=$((i + 1))
			[ "$i" -lt 300 ] || { dump_agents 0 1 2; fail "$1: node $n never launched"; }
			sleep 0.1
		done
	done
	expect_node_event 0 '.event=="group" and .group=="formed"'
	sleep 1 # a few peer beats both ways over the bridge
	alive "$1" 0 1 2
}

# alive CASE NODE...: those agents still run, and none has lost a peer
alive() {
	c=$1
	shift
	for n in "$@"; do
		[ ! -s "$TMP/n$n.rc" ] || { dump_agents $n; fail "$c: node $n has ended"; }
		[ "$(node_event $n '.event=="group" and .group=="lost"')" -eq 0 ] ||
			{ dump_agents $n; fail "$c: node $n lost a peer"; }
	done
}

# latency NODE EVENT-FILTER: seconds from the cut to that node's first such event
latency() {
	jq -s -r --argjson cut "$cut" "[.[] | select($2)][0].time - \$cut" "$TMP/n$1.ev" |
		awk '{ printf "%.2f", $1 }'
}

# within_peer_timeout CASE NODE SECONDS: noticed after the cut, no later than 3 s + 1 s
within_peer_timeout() {
	awk -v t="$3" 'BEGIN { exit !(t >= 2.5 && t <= 3 + 1) }' ||
		fail "$1: node $2 noticed $3 s after the cut (--peer-timeout 3 s + 1 s)"
}

# how NODE WHO: the words after "WHO ... lost: " on that node's stderr
how() {
	grep -o "$2 ([^)]*),\? lost: [a-z]*" "$TMP/n$1.err" | head -1 | sed 's/.*lost: //'
}

SILENT='\(silent [3-4]\.[0-9] s\|connection timed out\)'

# --- node 2's port down for 1 s: TCP retransmits once it is back, nobody is lost -------------
start3 flap
ip -n "$SW" link set p2 down || fail "cannot take node 2's switch port down"
sleep 1
ip -n "$SW" link set p2 up || fail "cannot bring node 2's switch port up"
sleep 4 # past --peer-timeout since the cut
alive flap 0 1 2
ok "formed across namespaces (node 0 at $COORDINATOR); node 2's port down for 1 s: nobody lost"

# --- the same port down for good ---------------------------------------------------------------
cut=$(date +%s.%N)
ip -n "$SW" link set p2 down || fail "cannot take node 2's switch port down"
wait_agents 10 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 75
done
grep -q "node 2 (.*) lost: $SILENT" "$TMP/n0.err" ||
	{ dump_agents 0; fail "the coordinator does not name node 2 as lost"; }
grep -q "node 2 (.*) lost: .*stopping this node (exit 75)" "$TMP/n1.err" ||
	{ dump_agents 1; fail "node 1 does not name node 2 as lost"; }
grep -q "the coordinator, node 0 (.*), lost: $SILENT" "$TMP/n2.err" ||
	{ dump_agents 2; fail "node 2 does not name the coordinator as lost"; }
expect_node_event 0 '.event=="group" and .group=="lost" and .node==2'
expect_node_event 2 '.event=="group" and .group=="lost" and .node==0'
ok "node 2 cut off: every node exited 75; nodes 0 and 1 name node 2, node 2 names the coordinator"

l0=$(latency 0 '.event=="group" and .group=="lost"')
l2=$(latency 2 '.event=="group" and .group=="lost"')
e1=$(latency 1 '.event=="exit"')
within_peer_timeout member 0 "$l0"
within_peer_timeout member 2 "$l2"
# node 1 hears it from the coordinator, and its job's grace is --grace 1 s
awk -v t="$e1" -v l="$l0" 'BEGIN { exit !(t >= l && t <= l + 1 + 0.5) }' ||
	fail "node 1 exited $e1 s after the cut, the coordinator noticed at $l0 s"
ok "noticed $l0 s (coordinator: $(how 0 "node 2")) and $l2 s (node 2: $(how 2 "node 0")) after the cut; node 1 out at $e1 s"
no_leftovers "$TMP/job.sh flap-"
for n in 0 1 2; do cp "$TMP/n$n.err" "$TMP/member-n$n.err"; done

# --- the coordinator's port down -----------------------------------------------------------------
ip -n "$SW" link set p2 up || fail "cannot bring node 2's switch port up"
start3 coord
cut=$(date +%s.%N)
ip -n "$SW" link set p0 down || fail "cannot take node 0's switch port down"
wait_agents 10 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 75
done
grep -q "node [12] (.*) lost: $SILENT" "$TMP/n0.err" ||
	{ dump_agents 0; fail "the coordinator does not name a member as lost"; }
for n in 1 2; do
	grep -q "the coordinator, node 0 (.*), lost: $SILENT" "$TMP/n$n.err" ||
		{ dump_agents $n; fail "node $n does not name the coordinator as lost"; }
	expect_node_event $n '.event=="group" and .group=="lost" and .node==0'
done
l0=$(latency 0 '.event=="group" and .group=="lost"')
l1=$(latency 1 '.event=="group" and .group=="lost"')
l2=$(latency 2 '.event=="group" and .group=="lost"')
for n in 0 1 2; do
	eval "within_peer_timeout coord $n \"\$l$n\""
done
no_leftovers "$TMP/job.sh coord-"
ok "the coordinator cut off: every node exited 75, noticed after $l0 s (node 0), $l1 s, $l2 s (members)"

# The lost node is named by its host too, as it said in its HELLO (every namespace here has
# this machine's name), not "?".
host=$(hostname)
for n in 0 1; do
	grep -q "node 2 ($host) lost" "$TMP/member-n$n.err" ||
		fail "node $n names the lost node 2 without its host: $(grep -o 'node 2 ([^)]*) lost' "$TMP/member-n$n.err" | head -1)"
done
ok "the lost node 2 is named with its host, $host, on nodes 0 and 1"
