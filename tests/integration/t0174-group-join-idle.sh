#!/bin/sh
# Waiting to form costs no CPU: a member whose coordinator is not up yet retries its connect
# every 250 ms, and a coordinator waits for a member that never comes, each until
# --join-timeout (2 s here; 5 min by default, a Kubernetes pod may wait that long for
# node 0's). Each exits 75 naming the missing, and its exit event's cpu_s (its own
# getrusage) stays far below the wait: an agent that spins burns a core the job needs.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

# idle NODE CASE: that agent exited 75 after its 2 s wait, using under 0.3 s of CPU
idle() {
	expect_agent_rc $1 75
	cpu=$(jq -r 'select(.event=="exit") | .cpu_s' "$TMP/n$1.ev")
	[ -n "$cpu" ] || fail "$2: node $1 has no exit event with cpu_s"
	awk -v c="$cpu" 'BEGIN { exit !(c < 0.3) }' ||
		fail "$2: node $1 used $cpu s of CPU waiting 2 s to form"
}

agent 1 2 --join-timeout 2s -- true
wait_agents 10 1
idle 1 member
grep -q "the coordinator, node 0 (.*), never answered within --join-timeout" "$TMP/n1.err" ||
	{ dump_agents 1; fail "member: node 1 does not say its coordinator never answered"; }
ok "a member waiting 2 s for a coordinator that never came: exit 75, $cpu s of CPU"

agent 0 2 --join-timeout 2s -- true
wait_agents 10 0
idle 0 coordinator
grep -q "never joined within --join-timeout" "$TMP/n0.err" ||
	{ dump_agents 0; fail "coordinator: node 0 does not name the missing node"; }
ok "a coordinator waiting 2 s for a member that never came: exit 75, $cpu s of CPU"
