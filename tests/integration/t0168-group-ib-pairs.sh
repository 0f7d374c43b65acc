#!/bin/sh
# ib.pairs: `flightdeck check --job` runs perftest's ib_write_bw between node pairs, the
# server's TCP ports and address relayed through node 0, and names a node slow with every peer
# (or the link, when no third node can tell). No RDMA device exists here: each node is a
# check --job on loopback over a real kernel-format sysfs tree with 8 NDR ports, and the
# stand-in (tests/helpers/fake-ib-write-bw.py) does perftest's real TCP exchange and prints its
# real format, a pair running at the slower end's rate (FAKE_IBBW_GBPS in each node's
# environment).
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (the stand-in is Python)"
SI="$TESTS_DIR/helpers/fake-ib-write-bw.py"
export NCCL_IB_HCA="=mlx5_0:1,mlx5_1:1" # two rails per node: each pair runs two tests

# pnode NODE NNODES [VAR=VALUE...] [-- ARGS...]: one node's check --job --only ib in the
# background; its ib_write_bw calls logged to $TMP/log.NODE
pnode() {
	node=$1 nn=$2
	shift 2
	envs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		envs="$envs $1"
		shift
	done
	[ $# -gt 0 ] && shift
	rm -f "$TMP/n$node.rc" "$TMP/log.$node"
	(
		rc=0
		env FAKE_IBBW_LOG="$TMP/log.$node" $envs "$FLIGHTDECK" check --job --json --only ib \
			--counter-window 0 $(fx healthy-ndr8) --ib-write-bw "$SI" --ib-bw-duration 1s \
			--node-rank "$node" --nnodes "$nn" --coordinator "${COORDINATOR:-127.0.0.1:$PORT}" \
			--peer-interval 0.2s --peer-timeout 5s --join-timeout 20s "$@" \
			>"$TMP/n$node.out" 2>"$TMP/n$node.err" || rc=$?
		echo "$rc" >"$TMP/n$node.rc"
	) &
	echo $! >"$TMP/n$node.sub"
}

# pairs NODE JQ-FILTER: node's ib.pairs finding matches
pairs() {
	jq -e ".findings[] | select(.check == \"ib.pairs\") | select($2)" "$TMP/n$1.out" >/dev/null ||
		{ dump_agents "$1"; cat "$TMP/n$1.out"; fail "node $1: no ib.pairs finding matching '$2'"; }
}

sanitizer_clean() {
	for n in "$@"; do
		! grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$TMP/n$n.err" ||
			{ cat "$TMP/n$n.err"; fail "node $n: sanitizer report"; }
	done
}

# clients NODE: the "DEV PORT HOST" of each test node ran as a client (a host argument), once
# however often it retried while its server was not listening yet
clients() {
	awk '$NF ~ /^[0-9.]+$/ && NF == 13 { print $2, $6, $NF }' "$TMP/log.$1" | sort -u
}

run explain IB_PAIR_LOW
expect_rc 0
grep -q 'ibtracert' "$TMP/out" || fail "explain IB_PAIR_LOW gives no remedy"
run check --list
grep -q '^ib.pairs  *ib  *standard ' "$TMP/out" || fail "check --list lacks ib.pairs"
ok "ib.pairs is a row of the check table; its codes explain themselves"

# ---- four healthy nodes: one round of two pairs, the ports relayed ---------------------------
for n in 0 1 2 3; do pnode $n 4; done
wait_agents 60 0 1 2 3
for n in 0 1 2 3; do
	expect_agent_rc $n 0
	pairs $n '.status == "pass" and .value == "392.7 Gb/s" and (.message | test("between 2 pair\\(s\\) of nodes"))'
done
# node 1 is pair (0,1)'s client: it connected to node 0's servers, on their ports, over the
# address node 0 reaches it by
for dev in mlx5_0 mlx5_1; do
	found=0
	for cport in $(clients 1 | awk -v d=$dev '$1 == d && $3 == "127.0.0.1" { print $2 }'); do
		grep -q -- "-d $dev -i 1 -p $cport -D 1 -s 1048576 --report_gbits -F\$" "$TMP/log.0" &&
			found=1
	done
	[ $found = 1 ] || { cat "$TMP/log.0" "$TMP/log.1"; fail "node 1 ran no client on $dev against a server of node 0"; }
done
[ "$(clients 3 | grep -c .)" -eq 4 ] || { cat "$TMP/log.3"; fail "node 3: not 2 loopback and 2 pair clients"; }
sanitizer_clean 0 1 2 3
ok "four healthy nodes: pairs (0,1) and (2,3), each on two rails, the server's ports relayed to its client; every node passes"

# ---- node 3 slow across the fabric: named alone, every node exits 69 --------------------------
# Its own loopback test passes (--ib-bw-min 20: a loopback that never leaves its HCA), the pairs
# are judged by node 0's 90 %.
PORT=$(free_port)
pnode 0 4 -- --exclude-file "$TMP/exclude"
pnode 1 4
pnode 2 4
pnode 3 4 FAKE_IBBW_GBPS="*:120" -- --ib-bw-min 20
wait_agents 60 0 1 2 3
for n in 0 1 2 3; do
	expect_agent_rc $n 69
	pairs $n '.status == "fail" and .code == "IB_PAIR_LOW" and (.subject | test("^node 3 \\(")) and .value == "120.0 Gb/s" and .expected == ">= 360.0 Gb/s" and (.message | test("slow with every peer it met"))'
done
grep -q "group: node 3 (.*): ib.pairs IB_PAIR_LOW node 3 (" "$TMP/n0.err" || { dump_agents 0; fail "node 0's table does not name node 3"; }
grep -q "group: ib.pairs: round 2: testing 0-2 1-3 against nodes proven good" "$TMP/n0.err" || { dump_agents 0; fail "node 0 does not say its second round"; }
[ "$(cat "$TMP/exclude")" = "$(hostname)" ] || fail "the exclude file holds '$(cat "$TMP/exclude")'"
# round 1: node 2 and node 3 each against a node proven good (0 and 1 serve)
[ "$(clients 2 | grep -c .)" -eq 4 ] && [ "$(clients 3 | grep -c .)" -eq 6 ] ||
	{ cat "$TMP/log.2" "$TMP/log.3"; fail "nodes 2 and 3 were not each tested once more"; }
sanitizer_clean 0 1 2 3
ok "node 3 slow with every peer (120 of 400 Gb/s): named alone in two rounds, in the table and the exclude file; every node exits 69"

# ---- two nodes, one slow: no third node can tell which end, the link is named -----------------
PORT=$(free_port)
pnode 0 2
pnode 1 2 FAKE_IBBW_GBPS="*:120" -- --ib-bw-min 20
wait_agents 60 0 1
for n in 0 1; do
	expect_agent_rc $n 69
	pairs $n '.code == "IB_PAIR_LOW" and (.subject | test("^node 0 \\(.*\\), node 1 \\(")) and (.message | test("link between them"))'
done
ok "two nodes, a slow pair: both ends named as the link (no third node to tell them apart)"

# ---- a node without perftest: its pair skipped, its peer tested against another node ----------
PORT=$(free_port)
pnode 0 4
pnode 1 4 -- --ib-write-bw /nonexistent/ib_write_bw
pnode 2 4
pnode 3 4
wait_agents 60 0 1 2 3
for n in 0 1 2 3; do
	expect_agent_rc $n 0
	pairs $n '.status == "pass" and (.message | test("between 2 pair\\(s\\).*not tested: node 0 .* - node 1 .*: node 1 cannot test: /nonexistent/ib_write_bw"))'
done
[ "$(clients 0 | grep -c .)" -eq 4 ] || { cat "$TMP/log.0"; fail "node 0 was not tested against another node"; }
ok "node 1 has no perftest: its pair is not tested (said), node 0 is tested against node 2 instead"

# ---- a client that hangs: killed at the deadline, the node named, nothing left ----------------
PORT=$(free_port)
t0=$(date +%s.%N)
pnode 0 4 -- --ib-bw-timeout 1s
pnode 1 4
pnode 2 4
mkdir -p "$TMP/state3"
# its one loopback client runs; the ones after it, with other nodes, hang
pnode 3 4 FAKE_IBBW_HANG_AFTER=1 FAKE_IBBW_STATE="$TMP/state3" NCCL_IB_HCA="=mlx5_0:1"
wait_agents 60 0 1 2 3
el=$(elapsed_since "$t0")
for n in 0 1 2 3; do
	expect_agent_rc $n 69
	pairs $n '.code == "IB_PAIR_FAILED" and (.subject | test("^node 3 \\(")) and (.message | test("did not finish by the deadline: killed"))'
done
sleep 0.3
no_leftovers "$SI"
sanitizer_clean 0 1 2 3
ok "node 3's ib_write_bw hangs: killed at the 6 s deadline twice, node 3 named (${el} s); no process left"

# ---- a node lost while the pairs run: every other node exits 75, no ib_write_bw left ----------
PORT=$(free_port)
rm -rf "$TMP/state3" && mkdir -p "$TMP/state3"
pnode 0 4 -- --ib-bw-timeout 60s
pnode 1 4
pnode 2 4
pnode 3 4 FAKE_IBBW_HANG_AFTER=1 FAKE_IBBW_STATE="$TMP/state3" NCCL_IB_HCA="=mlx5_0:1"
pair_hangs() { [ -n "$(ls "$TMP/state3" | sed -n 2p)" ]; } # a second client connected: a pair's
wait_for 30 pair_hangs || { dump_agents 0 3; fail "node 3 never ran a pair test"; }
t0=$(date +%s.%N)
kill -9 "$(agent_pid 3)"
wait_agents 20 0 1 2
el=$(elapsed_since "$t0")
for n in 0 1 2; do
	expect_agent_rc $n 75
done
sleep 0.5
no_leftovers "$SI"
ok "node 3 SIGKILLed while its pair test hangs: the others exit 75 in ${el} s; its worker and ib_write_bw died with it"

# ---- an IPv6 group: perftest's exchange cannot follow; said, never a pass ---------------------
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	PORT=$(free_port)
	for n in 0 1; do COORDINATOR="[::1]:$PORT" pnode $n 2; done
	wait_agents 60 0 1
	for n in 0 1; do
		expect_agent_rc $n 0
		pairs $n '.status == "skip" and (.message | test("reached over IPv6 \\(::1\\), and perftest.s exchange is IPv4 only"))'
	done
	ok "a group over IPv6 (::1): ib.pairs skips, saying perftest's exchange is IPv4 only"
else
	echo "skipped: no IPv6 loopback (::1): the IPv6 case of ib.pairs"
fi
