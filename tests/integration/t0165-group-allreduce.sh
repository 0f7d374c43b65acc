#!/bin/sh
# `flightdeck check --job` with area bw: the NCCL allreduce across the nodes, its id relayed by
# node 0 (a stand-in gpubench whose ranks meet in a directory named by the relayed id: a wrong
# relay leaves them waiting), the slowest node named by re-testing halves. Each node is a
# check --job on loopback; its speed comes from its own environment.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"

SI="$TESTS_DIR/helpers/gpubench-standin.sh"
export STANDIN_SLEEP="3605.$$" # the hanging stand-in's sleep: found by this value
mkdir -p "$TMP/w"

# wnode NODE NNODES [VAR=VALUE...] [-- ARGS...]: one node's check --job --only bw in the
# background, the stand-in as its gpubench, VAR=VALUE in its environment alone
wnode() {
	node=$1 nn=$2
	shift 2
	envs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		envs="$envs $1"
		shift
	done
	[ $# -gt 0 ] && shift
	rm -f "$TMP/n$node.rc"
	(
		rc=0
		env $envs STANDIN_WORLD_DIR="$TMP/w" "$FLIGHTDECK" check --job --json --only bw \
			$(fx no-rdma) --gpubench "$SI" --gpubench-timeout 3s --expect-world-busbw 100 \
			--node-rank "$node" --nnodes "$nn" --coordinator "127.0.0.1:$PORT" \
			--peer-interval 0.2s --peer-timeout 5s --join-timeout 20s "$@" \
			>"$TMP/n$node.out" 2>"$TMP/n$node.err" || rc=$?
		echo "$rc" >"$TMP/n$node.rc"
	) &
	echo $! >"$TMP/n$node.sub"
}

# world NODE JQ-FILTER: node's bw.world finding matches
world() {
	jq -e ".findings[] | select(.check == \"bw.world\") | select($2)" "$TMP/n$1.out" >/dev/null ||
		{ dump_agents "$1"; cat "$TMP/n$1.out"; fail "node $1: no bw.world finding matching '$2'"; }
}

sanitizer_clean() {
	for n in "$@"; do
		! grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$TMP/n$n.err" ||
			{ cat "$TMP/n$n.err"; fail "node $n: sanitizer report"; }
	done
}

run explain BW_WORLD_LOW
expect_rc 0
grep -q -- '--exclude-file' "$TMP/out" || fail "explain BW_WORLD_LOW gives no remedy"
run explain bw_world_failed
expect_rc 0
run check --list
grep -q '^bw.world  *bw  *standard ' "$TMP/out" || fail "check --list lacks bw.world"
ok "bw.world is a row of the check table; its codes explain themselves"

# ---- four fast nodes: one world of all four, a pass with its busbw -----------------------
for n in 0 1 2 3; do wnode $n 4; done
wait_agents 40 0 1 2 3
for n in 0 1 2 3; do
	expect_agent_rc $n 0
	world $n '.status == "pass" and .value == "200.0 GB/s" and .expected == ">= 100 GB/s" and (.message | test("across 4 nodes \\(32 ranks\\)"))'
done
[ "$(ls "$TMP/w" | wc -l)" -eq 1 ] && [ "$(ls "$TMP"/w/world-* | wc -l)" -eq 4 ] ||
	{ ls -R "$TMP/w"; fail "the four ranks did not meet under the one relayed id"; }
sanitizer_clean 0 1 2 3
ok "four fast nodes: the id relayed, one world of four, bw.world passes at 200 GB/s on every node"
rm -rf "$TMP/w" && mkdir "$TMP/w"

# ---- node 2 slow: halves, then each of the pair against a good node ------------------------
PORT=$(free_port)
wnode 0 4 -- --exclude-file "$TMP/exclude"
wnode 1 4
wnode 2 4 STANDIN_SPEED=10
wnode 3 4
wait_agents 40 0 1 2 3
for n in 0 1 2 3; do
	expect_agent_rc $n 69
	world $n '.status == "fail" and .code == "BW_WORLD_LOW" and (.subject | test("^node 2 ")) and .value == "10.0 GB/s"'
done
grep -q "group: node 2 (.*): bw.world BW_WORLD_LOW node 2" "$TMP/n0.err" || { dump_agents 0; fail "node 0's table does not name node 2"; }
grep -q "re-testing nodes 0,1" "$TMP/n0.err" && grep -q "re-testing nodes 2,0" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 did not re-test the halves, then node 2 against a good node"; }
[ "$(grep -c 're-testing' "$TMP/n0.err")" -le 4 ] || fail "more sets than two rounds of two"
[ "$(ls "$TMP/w" | wc -l)" -eq 5 ] || { ls -R "$TMP/w"; fail "not five worlds (the job, two halves, two pairs)"; }
[ "$(cat "$TMP/exclude")" = "$(hostname)" ] || fail "the exclude file holds '$(cat "$TMP/exclude")'"
sanitizer_clean 0 1 2 3
ok "node 2 slow: named by bisection (3 rounds), its host in the table and the exclude file, every node exits 69"

# ---- rank 0's gpubench never prints the id: bounded, named, nothing left --------------------
PORT=$(free_port)
t0=$(date +%s.%N)
wnode 0 3 STANDIN_WORLD=hang
wnode 1 3
wnode 2 3
wait_agents 40 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 69
	world $n '.status == "fail" and .code == "BW_WORLD_FAILED" and (.subject | test("^node 0 ")) and (.message | test("no NCCL id within 3000 ms"))'
done
el=$(elapsed_since "$t0")
awk -v e="$el" 'BEGIN { exit !(e < 20) }' || fail "the hung id took ${el} s (the deadline is 3 s)"
sleep 0.3
no_leftovers "sleep $STANDIN_SLEEP"
sanitizer_clean 0 1 2
ok "rank 0 never prints the id: killed at the deadline, node 0 named (${el} s), no process left"

# ---- a node's gpubench hangs after the id went out: the others give up, it is named ---------
PORT=$(free_port)
wnode 0 3
wnode 1 3 STANDIN_WORLD=hang
wnode 2 3
wait_agents 40 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 69
	world $n '.code == "BW_WORLD_FAILED" and (.subject | test("^node 1 ")) and (.message | test("did not finish within 3000 ms"))'
done
sleep 0.3
no_leftovers "sleep $STANDIN_SLEEP"
sanitizer_clean 0 1 2
ok "node 1's gpubench hangs in the world: killed at the deadline and named; its peers gave up; no process left"

# ---- a node lost while the world runs: the others exit 75 and take their gpubench down -----
PORT=$(free_port)
export STANDIN_SLEEP="3606.$$"
wnode 0 3 -- --gpubench-timeout 30s
wnode 1 3 STANDIN_WORLD=hang -- --gpubench-timeout 30s
wnode 2 3 -- --gpubench-timeout 30s
i=0
while ! pgrep -f "sleep $STANDIN_SLEEP" >/dev/null && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
pgrep -f "timeout-ms 27000 --quick --world 2/3" >/dev/null || { dump_agents 0 2; fail "node 2's gpubench is not running"; }
t0=$(date +%s.%N)
kill -9 "$(agent_pid 1)"
wait_agents 20 0 2
el=$(elapsed_since "$t0")
expect_agent_rc 0 75
expect_agent_rc 2 75
grep -q "node 1 (.*) lost" "$TMP/n0.err" || { dump_agents 0; fail "node 0 does not name node 1"; }
sleep 0.3
no_leftovers "timeout-ms 27000 --quick --world"
# node 1's stand-in died with its check (PR_SET_PDEATHSIG); its own sleep did not: ours to end
for p in $(pgrep -f "sleep $STANDIN_SLEEP"); do kill "$p"; done
sanitizer_clean 0 2
ok "node 1 lost while the world runs: nodes 0 and 2 exit 75 in ${el} s naming it, their gpubench killed"
export STANDIN_SLEEP="3605.$$"

# ---- a node without a GPU: the allreduce cannot run, a skip (never a pass) -----------------
PORT=$(free_port)
wnode 0 3
wnode 1 3 STANDIN_WORLD=no-gpu
wnode 2 3
wait_agents 40 0 1 2
for n in 0 1 2; do
	expect_agent_rc $n 0
	world $n '.status == "skip" and (.message | test("node 1 .*no GPU"))'
done
sanitizer_clean 0 1 2
ok "a node without a GPU: bw.world skipped on every node with the reason, exit 0"

# ---- the real flightdeck-gpubench, built here without a GPU: skip "no GPU", never a pass ---
GB="${BUILD_DIR:-}/flightdeck-gpubench"
if [ -x "$GB" ]; then
	run_gb() { RC=0; "$GB" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?; }
	run_gb --world 0/3 --timeout-ms 5000
	expect_rc 3
	grep -q '^no-gpu ' "$TMP/out" || fail "world rank 0 without a GPU does not print 'no-gpu'"
	grep -q 'no GPU' "$TMP/err" || fail "world rank 0 without a GPU does not say 'no GPU'"
	grep -q 'nccl-id' "$TMP/out" && fail "an id was printed without a GPU to use it"
	for bad in "--world 1/3" "--world 3/3" "--world 0/0" "--world x" "--nccl-id ab" "--mpi --world 0/2"; do
		run_gb $bad
		expect_rc 2
	done
	ok "the real gpubench's world mode: 'no-gpu' and exit 3 here; a rank > 0 without --nccl-id, a bad R/N: exit 2"
	PORT=$(free_port)
	for n in 0 1 2; do
		rm -f "$TMP/n$n.rc"
		(
			rc=0
			"$FLIGHTDECK" check --job --json --only bw $(fx roce) --gpubench "$GB" \
				--gpubench-timeout 20s --node-rank "$n" --nnodes 3 \
				--coordinator "127.0.0.1:$PORT" --peer-interval 0.2s --peer-timeout 5s \
				>"$TMP/n$n.out" 2>"$TMP/n$n.err" || rc=$?
			echo "$rc" >"$TMP/n$n.rc"
		) &
		echo $! >"$TMP/n$n.sub"
	done
	wait_agents 50 0 1 2
	for n in 0 1 2; do
		expect_agent_rc $n 0
		world $n '.status == "skip" and (.message | test("no GPU"))'
		jq -e '[.findings[] | select(.check == "bw.world" and .status == "pass")] | length == 0' "$TMP/n$n.out" >/dev/null ||
			fail "node $n: bw.world passed without a GPU"
	done
	ok "the real gpubench in world mode, no GPU here: every node reports bw.world skip 'no GPU', never a pass"
else
	echo "# the real flightdeck-gpubench is not built here (no CUDA toolkit): its part not run"
fi
