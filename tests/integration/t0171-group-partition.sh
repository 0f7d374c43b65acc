#!/bin/sh
# A network partition, in network namespaces: the coordinator and two members, each in its
# own namespace, wired by veth pairs to a bridge in a fourth (the switch) on a private
# subnet. Once the three have formed and run a beating job, node 2's switch port goes down:
# no close, no reset, packets simply vanish. Both sides notice within --peer-timeout (3 s) +
# 1 s: the coordinator and node 1 exit 75 naming node 2, and node 2, cut off, exits 75
# naming the coordinator (silent, or its connection timed out by TCP_USER_TIMEOUT).
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

[ "$(id -u)" -eq 0 ] || skip "not root: network namespaces need CAP_SYS_ADMIN"
command -v ip >/dev/null 2>&1 || skip "no ip(8) (iproute2)"

NS="fdpart$$"  # fdpart<pid>-{sw,0,1,2}: the switch and nodes 0-2
NET=10.213.47 # node N is $NET.(N+1)/24
SW="$NS-sw"

netns_cleanup() {
	for ns in "$SW" "$NS-0" "$NS-1" "$NS-2"; do
		ip netns list 2>/dev/null | grep -q "^$ns\b" || continue
		# what the agents left there (their jobs, after a SIGKILL): ours, by pid
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
trap 'kill_agents; netns_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$SW" 2>"$TMP/err" || skip "ip netns add failed (an unprivileged container?): $(cat "$TMP/err")"
ip -n "$SW" link add br0 type bridge && ip -n "$SW" link set br0 up ||
	skip "cannot create a bridge in a network namespace"
for n in 0 1 2; do
	ip netns add "$NS-$n" &&
		ip -n "$SW" link add "p$n" type veth peer name eth0 netns "$NS-$n" &&
		ip -n "$SW" link set "p$n" master br0 up &&
		ip -n "$NS-$n" link set lo up &&
		ip -n "$NS-$n" addr add "$NET.$((n + 1))/24" dev eth0 &&
		ip -n "$NS-$n" link set eth0 up ||
		fail "cannot wire node $n's namespace to the switch"
done
ok "three nodes' namespaces on a bridge, $NET.1-3"

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
for n in 0 1 2; do
	AGENT_NETNS="$NS-$n"
	agent $n 3 --stall-timeout 30s -- "$TMP/job.sh" "part-$n"
done
AGENT_NETNS=
i=0
for n in 0 1 2; do
	while [ "$(node_event $n '.event=="start"')" -lt 1 ]; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || { dump_agents 0 1 2; fail "node $n never launched"; }
		sleep 0.1
	done
done
expect_node_event 0 '.event=="group" and .group=="formed"'
sleep 1 # a few peer beats both ways over the bridge
for n in 0 1 2; do
	[ ! -s "$TMP/n$n.rc" ] || { dump_agents $n; fail "node $n ended before the cut"; }
done
ok "formed across namespaces: node 0 at $COORDINATOR, every node running its job"

cut=$(date +%s.%N)
ip -n "$SW" link set p2 down || fail "cannot take node 2's switch port down"
wait_agents 10 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 75
done
grep -q "node 2 (.*) lost: \(silent [3-4]\.[0-9] s\|connection timed out\)" "$TMP/n0.err" ||
	{ dump_agents 0; fail "the coordinator does not name node 2 as lost"; }
grep -q "node 2 (.*) lost: .*stopping this node (exit 75)" "$TMP/n1.err" ||
	{ dump_agents 1; fail "node 1 does not name node 2 as lost"; }
grep -q "the coordinator, node 0 (.*), lost: \(silent [3-4]\.[0-9] s\|connection timed out\)" "$TMP/n2.err" ||
	{ dump_agents 2; fail "node 2 does not name the coordinator as lost"; }
expect_node_event 0 '.event=="group" and .group=="lost" and .node==2'
expect_node_event 2 '.event=="group" and .group=="lost" and .node==0'
ok "every node exited 75: nodes 0 and 1 name node 2, node 2 names the coordinator"

# latency NODE EVENT-FILTER: seconds from the cut to that node's first such event
latency() {
	jq -s -r --argjson cut "$cut" "[.[] | select($2)][0].time - \$cut" "$TMP/n$1.ev" |
		awk '{ printf "%.2f", $1 }'

}
l0=$(latency 0 '.event=="group" and .group=="lost"')
l2=$(latency 2 '.event=="group" and .group=="lost"')
e1=$(latency 1 '.event=="exit"')
for l in "0 $l0" "2 $l2"; do
	set -- $l
	awk -v t="$2" 'BEGIN { exit !(t >= 2.5 && t <= 3 + 1) }' ||
		fail "node $1 noticed the partition $2 s after the cut (--peer-timeout 3 s + 1 s)"
done
# node 1 hears it from the coordinator, and its job's grace is --grace 1 s
awk -v t="$e1" -v l="$l0" 'BEGIN { exit !(t >= l && t <= l + 1 + 0.5) }' ||
	fail "node 1 exited $e1 s after the cut, the coordinator noticed at $l0 s"
how0=$(grep -o "node 2 (.*) lost: [a-z]*" "$TMP/n0.err" | head -1 | sed 's/.*lost: //')
how2=$(grep -o "node 0 (.*), lost: [a-z]*" "$TMP/n2.err" | head -1 | sed 's/.*lost: //')
ok "noticed $l0 s (coordinator: $how0) and $l2 s (node 2: $how2) after the cut; node 1 out at $e1 s"

no_leftovers "$TMP/job.sh part-"
ok "no job left on any node"
