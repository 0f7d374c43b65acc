#!/bin/sh
# Descriptors at node 0. A coordinator whose open-file limit was too small (ulimit -n 16 for 20
# nodes; the common soft limit of 1024 against a 1,100-node job) spun a full core on EMFILE,
# named nodes that had connected "never joined (?)" and ended the job with 75 everywhere, which
# RequeueExit=75 requeues into the same failure. Now node 0 raises its soft limit to what the
# group needs (the job still gets the operator's limit), and exits 2 at once, naming ulimit -n,
# when the hard limit is too small. And a flood of idle connections (anyone who reaches the
# port can open them) delayed a real node's join from ~0.1 s to 10.7 s: connections without a
# HELLO are now capped, the oldest dropped and counted.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 512 ] || skip "the hard open-file limit here is $hard"

# 20 nodes under a soft limit of 24: node 0 raises its own; the job sees 24
NN=20
(
	ulimit -Sn 24
	agent 0 $NN -- sh -c 'echo "limit $(ulimit -n)"'
	wait
) &
# (wait_agents keeps its count in i)
k=1
while [ $k -lt $NN ]; do
	agent $k $NN -- true
	k=$((k + 1))
done
wait_agents 60 0
k=0
while [ $k -lt $NN ]; do
	wait_agents 30 $k
	expect_agent_rc $k 0
	k=$((k + 1))
done
grep -q "limit 24" "$TMP/n0.out" || { cat "$TMP/n0.out"; fail "the job did not get the operator's limit"; }
ok "ulimit -Sn 24, 20 nodes: node 0 raised its own limit, every node exits 0, the job sees 24"

# a hard limit too small for the group: exit 2 at once, naming ulimit -n
PORT=$(free_port)
t0=$(date +%s.%N)
(
	ulimit -n 40
	agent 0 200 -- true
	wait
)
took=$(elapsed_since "$t0")
expect_agent_rc 0 2
grep -q "ulimit -n: .* open files are needed, the hard limit is 40" "$TMP/n0.err" ||
	{ cat "$TMP/n0.err"; fail "no line naming ulimit -n"; }
awk -v t="$took" 'BEGIN { exit !(t < 5) }' || fail "exit 2 took ${took}s"
ok "ulimit -n 40 for 200 nodes: node 0 exits 2 in ${took}s, naming ulimit -n and the hard limit"

# 3000 idle connections, then a real node: it joins at once, and the drops are counted
PORT=$(free_port)
agent 0 2 -- true
wait_for 10 sh -c "ss -ltn | grep -q ':$PORT '" || fail "node 0 never listened"
cat >"$TMP/flood.py" <<'PY'
import resource, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
socks = []
for _ in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        pass  # the backlog full for a moment: the rest go on
print(len(socks), flush=True)
time.sleep(30)
PY
python3 "$TMP/flood.py" "$PORT" 3000 >"$TMP/flood.out" &
flood=$!
wait_for 30 test -s "$TMP/flood.out" || fail "the flood never opened its connections"
t0=$(date +%s.%N)
agent 1 2 -- true
wait_for 10 grep -q 'joined: 2 of 2' "$TMP/n0.err" || { kill $flood; dump_agents 0 1; fail "node 1 did not join within 10 s"; }
took=$(elapsed_since "$t0")
wait_agents 20 0 1
kill $flood 2>/dev/null
expect_agent_rc 0 0
expect_agent_rc 1 0
awk -v t="$took" 'BEGIN { exit !(t < 3) }' || fail "node 1 took ${took}s to join through the flood"
grep -q "connections without a HELLO: dropped the oldest" "$TMP/n0.err" || { dump_agents 0; fail "the drops are not said"; }
expect_node_event 0 '.event=="group" and .group=="dropped"'
ok "$(cat "$TMP/flood.out") idle connections: node 1 joins in ${took}s, node 0 drops the oldest and says so"
