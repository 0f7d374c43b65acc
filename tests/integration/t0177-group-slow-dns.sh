#!/bin/sh
# A coordinator name whose DNS lookup hangs (a Kubernetes pod started before cluster DNS
# answers, a resolver that drops packets): the member resolves it without stopping its own
# loop, so the scheduler's SIGTERM while it waits is answered at once (exit 143), not after
# the resolver's timeouts (2 x 2 s here, 2 x 5 s by default, again on every retry). In a
# network namespace whose resolv.conf (ip netns exec mounts /etc/netns/NS/resolv.conf) names a
# nameserver on 127.0.0.1 that reads every query and answers none. And a name that resolves
# (localhost, from /etc/hosts, through the same child) is joined as an address is; a name
# whose first address the coordinator does not listen on is joined through its next one.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

agent 0 2 -- true
COORDINATOR=localhost:$PORT agent 1 2 -- true
wait_agents 20 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
ok "a coordinator named by a name (localhost:PORT) is looked up and joined"

[ "$(id -u)" -eq 0 ] || skip "not root: network namespaces need CAP_SYS_ADMIN"
command -v ip >/dev/null 2>&1 || skip "no ip(8) (iproute2)"

NS="fddns$$"
netns_cleanup() {
	if ip netns list 2>/dev/null | grep -q "^$NS\b"; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$NS" 2>/dev/null
	fi
	rm -rf "/etc/netns/$NS"
	return 0
}
trap 'kill_agents; netns_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$NS" 2>"$TMP/err" || skip "ip netns add failed (an unprivileged container?): $(cat "$TMP/err")"
ip -n "$NS" link set lo up || skip "cannot bring lo up in a network namespace"
mkdir -p "/etc/netns/$NS"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"/etc/netns/$NS/resolv.conf"
# a name with both addresses, ::1 first (as a dual-stack cluster's DNS gives them)
printf '::1 coord.test\n127.0.0.1 coord.test\n' >"/etc/netns/$NS/hosts"

# the coordinator listens on IPv4 only (--bind): the member must go on to the name's next
# address, not retry ::1 until --join-timeout
AGENT_NETNS=$NS COORDINATOR=coord.test:$PORT agent 0 2 --bind 127.0.0.1 -- true
AGENT_NETNS=$NS COORDINATOR=coord.test:$PORT agent 1 2 -- true
wait_agents 20 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
ok "a coordinator name giving ::1 first, node 0 on 127.0.0.1 only: the member tries the next address and joins"
# the silent nameserver: without it the query meets a closed port and fails at once
ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
sys.stdout.write("ready\n"); sys.stdout.flush()
while True:
    s.recvfrom(4096)
' >"$TMP/dns.out" 2>&1 &
i=0
until grep -q ready "$TMP/dns.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 50 ] || skip "the silent nameserver did not start: $(cat "$TMP/dns.out")"
	sleep 0.1
done
# how long one lookup takes there, measured beside the agent (a resolver that gives up at
# once makes the test meaningless: skipped below)
(
	t=$(date +%s.%N)
	ip netns exec "$NS" getent hosts node0.flightdeck.test >/dev/null 2>&1 || true
	elapsed_since "$t" >"$TMP/lookup"
) &
probe=$!

AGENT_NETNS=$NS COORDINATOR=node0.flightdeck.test:$PORT agent 1 2 -- true
sleep 1.5
p=$(agent_pid 1)
[ -n "$p" ] || { dump_agents 1; fail "node 1 is gone before the SIGTERM"; }
t0=$(date +%s.%N)
kill -TERM "$p"
wait_agents 10 1
took=$(elapsed_since "$t0")
wait "$probe"
slow=$(cat "$TMP/lookup")
awk -v s="$slow" 'BEGIN { exit !(s >= 2.5) }' ||
	skip "this machine's resolver does not wait on a silent nameserver (a lookup took $slow s)"
expect_agent_rc 1 143
awk -v s="$took" 'BEGIN { exit !(s < 1.5) }' ||
	{ dump_agents 1; fail "node 1 took $took s to answer SIGTERM while its lookup hung (a lookup takes $slow s)"; }
ok "a member whose coordinator's lookup hangs answers SIGTERM in $took s (a lookup takes $slow s)"
