#!/bin/sh
# An IPv6 coordinator: --coordinator "[::1]:PORT" (the documented form; IPv6-only Kubernetes
# clusters; names with AAAA records only). Node 0 listens on every family when no --bind is
# given: glibc's passive lookup lists 0.0.0.0 before ::, and a listener on 0.0.0.0 alone left
# every member retrying ::1 until --join-timeout (exit 75 on every node). An IPv4 member still
# joins the same coordinator (:: with IPV6_V6ONLY off takes IPv4 too).
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null ||
	skip "no IPv6 loopback (::1) on this machine"

COORDINATOR="[::1]:$PORT" agent 0 2 --join-timeout 10s -- true
COORDINATOR="[::1]:$PORT" agent 1 2 --join-timeout 10s -- true
wait_agents 20 0 1
expect_agent_rc 0 0
expect_agent_rc 1 0
ok "--coordinator [::1]:PORT: node 1 joins over IPv6, both exit 0"

PORT=$(free_port)
COORDINATOR="[::1]:$PORT" agent 0 3 --join-timeout 10s -- true
COORDINATOR="[::1]:$PORT" agent 1 3 --join-timeout 10s -- true
COORDINATOR="127.0.0.1:$PORT" agent 2 3 --join-timeout 10s -- true
wait_agents 20 0 1 2
for n in 0 1 2; do expect_agent_rc $n 0; done
ok "one coordinator takes an IPv6 and an IPv4 member alike"

PORT=$(free_port)
COORDINATOR="[::1]:$PORT" agent 0 2 --bind 127.0.0.1 --join-timeout 3s -- true
COORDINATOR="[::1]:$PORT" agent 1 2 --join-timeout 3s -- true
wait_agents 20 0 1
expect_agent_rc 1 75
ok "--bind 127.0.0.1 still listens there alone: an IPv6 member cannot join (75)"
