#!/bin/sh
# The node group's coordinator at scale. It kept a whole node state for every node (16
# checkpoint names of up to 255 bytes, the findings, the culprit lines: about 6 KB), 33 MB at
# 4,096 nodes and about 100 MB at 16,384; it now keeps each state's facts and its texts in a
# block of their size. group-sim (tests/bench/group_sim.c) plays nodes 1..N-1 with this build's
# codec against a real `flightdeck run --node-rank 0`: at 4,096 nodes its peak RSS stays under
# 16 MB, every round's DECISION reaches every member, and a member gone silent is named lost
# (exit 75). The same with the coordinator's decisions handed out on 4 threads (--send-threads:
# its fan-out, launcher/group/fanout.c), and the lost member's DECISION on 3. The latencies
# are group-scale.sh's to print, not this test's to judge.
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

# kept: the coordinator's stderr says its threads; group-sim says where it kept it
threaded() { # out: the coordinator's stderr of the group-sim run whose stderr is $1
	d=$(sed -n 's/^group-sim: kept //p' "$1")
	[ -d "$d" ] || fail "group-sim did not say where it kept the coordinator's files: $(cat "$1")"
	cat "$d"/coord*.err
	cat "$d"/coord*.ev >"$TMP/last.ev" 2>/dev/null
	rm -rf "$d"
}
GROUP_SIM_THREADS=4 GROUP_SIM_KEEP=1 "$SIM" "$FLIGHTDECK" rounds $NN 2 10 >"$TMP/rounds4" \
	2>"$TMP/rounds4.err" || { cat "$TMP/rounds4.err"; fail "group-sim rounds $NN, 4 threads failed"; }
read -r n rounds _ <"$TMP/rounds4"
[ "$n" = $NN ] && [ "$rounds" = 6 ] || fail "rounds on 4 threads: $(cat "$TMP/rounds4")"
threaded "$TMP/rounds4.err" >"$TMP/coord4.err"
grep -q "hands each decision to the $((NN - 1)) others on 4 threads" "$TMP/coord4.err" ||
	fail "the coordinator did not say its 4 threads: $(head -c 2000 "$TMP/coord4.err")"
ok "$NN nodes, decisions on 4 threads: every DECISION on every member"

GROUP_SIM_THREADS=3 GROUP_SIM_KEEP=1 "$SIM" "$FLIGHTDECK" silent 1024 >"$TMP/silent3" \
	2>"$TMP/silent3.err" || { cat "$TMP/silent3.err"; fail "group-sim silent 1024, 3 threads failed"; }
threaded "$TMP/silent3.err" >"$TMP/coord3.err"
grep -q "on 3 threads" "$TMP/coord3.err" || fail "the coordinator did not say its 3 threads"
ok "1024 nodes, a member silent, 3 threads: the peer-lost DECISION on every other member"

# 1,023 joins: on stderr the first 16 (node 0 counted), one at each tenth and the last; in the
# events log every one (it printed all 1,023 lines)
said=$(grep -c ') joined: ' "$TMP/coord3.err")
logged=$(grep -c '"joined"' "$TMP/last.ev")
[ "$said" -ge 20 ] && [ "$said" -le 30 ] ||
	fail "node 0 said $said joins on stderr (expected 15 + one a tenth + the last)"
[ "$logged" = 1023 ] || fail "the events log has $logged joins, not 1023"
grep -q 'joined: 1024 of 1024' "$TMP/coord3.err" || fail "the last join was not said"
grep -q 'every join is in the events log' "$TMP/coord3.err" || fail "node 0 did not say where the rest went"
ok "1024 nodes joining: $said lines on node 0's stderr, all 1023 joins in its events log"
