#!/bin/sh
# The node group's coordinator at scale. It kept a whole node state for every node (16
# checkpoint names of up to 255 bytes, the findings, the culprit lines: about 6 KB), 33 MB at
# 4,096 nodes and about 100 MB at 16,384; it now keeps each state's facts and its texts in a
# block of their size. group-sim (tests/bench/group_sim.c) plays nodes 1..N-1 with this build's
# codec against a real `flightdeck run --node-rank 0`: at 4,096 nodes its peak RSS stays under
# 16 MB, every round's DECISION reaches every member, and a member gone silent is named lost
# (exit 75). The latencies are group-scale.sh's to print, not this test's to judge.
. "$TESTS_DIR/integration/lib.sh"

SIM=$BUILD_DIR/tests/group-sim
[ -x "$SIM" ] || skip "group-sim is not built ($SIM)"
NN=4096
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((NN + 128)) ]; then
	ulimit -Sn $((NN + 128)) 2>/dev/null || skip "the open-file limit here is $(ulimit -Hn)"
fi

"$SIM" "$FLIGHTDECK" rounds $NN 2 10 >"$TMP/rounds" 2>"$TMP/rounds.err" ||
	{ cat "$TMP/rounds.err"; fail "group-sim rounds $NN failed"; }
# nodes rounds formed_ms p50 p99 max first_p50 cpu_s wall_s hwm_mb
read -r n rounds _ _ _ _ _ _ _ hwm <"$TMP/rounds"
[ "$n" = $NN ] && [ "$rounds" = 6 ] || fail "rounds: $(cat "$TMP/rounds") (expected $NN nodes, 6 rounds)"
awk -v h="$hwm" 'BEGIN { exit !(h > 0 && h < 16) }' ||
	fail "the coordinator's peak RSS at $NN nodes is $hwm MB (at most 16 MB)"
ok "$NN nodes, 6 rounds: every DECISION on every member; the coordinator's peak RSS $hwm MB"

"$SIM" "$FLIGHTDECK" silent 1024 >"$TMP/silent" 2>"$TMP/silent.err" ||
	{ cat "$TMP/silent.err"; fail "group-sim silent 1024 failed"; }
ok "1024 nodes, a member silent: named lost on every other member, node 0 exits 75"
