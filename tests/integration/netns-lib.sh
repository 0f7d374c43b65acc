# netns-lib.sh - three nodes' network namespaces on a bridge in a fourth (the switch), for the
# node group's partition tests (sourced after lib.sh and group-lib.sh): node N is $NET.(N+1)/24
# in namespace $NS-N, its switch port pN in $SW. Skips where namespaces cannot be made.

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
