#!/bin/sh
# A hot spare after a network partition, in network namespaces (netns-lib.sh): nodes 0 and 1
# train, node 2 is the spare. Node 1's switch port goes down for good: no close, no reset.
# Node 0 notices at --peer-timeout (3 s), gives node 1's place to the spare, and the job
# restarts from its checkpoint and finishes on nodes 0 and 2 (exit 0); node 1, cut off, names
# the coordinator and exits 75.
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/group-lib.sh"
. "$TESTS_DIR/integration/netns-lib.sh"

cat >"$TMP/train.sh" <<'TRAIN'
fd=$1 slot=$2 resume=${3:-}
echo "slot $slot from ${resume:-start}" >>"$FD_TEST_TMP/slots.$slot"
i=0
if [ -n "$resume" ]; then
	r=${resume##*step-}
	i=$(expr "${r%.pt}" + 0)
fi
while [ "$i" -lt 80 ]; do
	i=$((i + 1))
	"$fd" beat --step "$i"
	[ "$slot" = 0 ] && [ $((i % 10)) -eq 0 ] && : >"$FD_TEST_TMP/ck/step-$(printf %06d $i).pt"
	sleep 0.1
done
echo "slot $slot finished"
TRAIN
mkdir -p "$TMP/ck"
export FD_TEST_TMP="$TMP"
COORDINATOR="$NET.1:$PORT"
for n in 0 1 2; do
	AGENT_NETNS="$NS-$n"
	agent $n 2:3 --checkpoint-dir "$TMP/ck" -- sh "$TMP/train.sh" "$FLIGHTDECK" {node_rank} {resume}
done
AGENT_NETNS=
wait_for 60 test -e "$TMP/ck/step-000020.pt" || { dump_agents 0 1 2; fail "no step-000020.pt"; }
cut=$(date +%s.%N)
ip -n "$SW" link set p1 down || fail "cannot take node 1's switch port down"
wait_agents 60 0 1 2
expect_agent_rc 0 0
expect_agent_rc 2 0
expect_agent_rc 1 75
grep -q "group: node 1 (.*) lost: \(silent [3-4]\.[0-9] s\|connection timed out\): spare node 2 (.*) takes its place as training node 1" "$TMP/n0.err" ||
	{ dump_agents 0; fail "node 0 does not replace node 1 after the partition"; }
grep -q "the coordinator, node 0 (.*), lost: " "$TMP/n1.err" || { dump_agents 1; fail "node 1 does not name the coordinator"; }
grep -q "^slot 1 finished" "$TMP/n2.out" || { dump_agents 2; fail "slot 1 did not finish on the spare"; }
grep -q "from $TMP/ck/step-0000[2-9]0.pt" "$TMP/slots.1" || { cat "$TMP/slots.1"; fail "the spare did not resume from a checkpoint"; }
back=$(jq -s -r --argjson cut "$cut" '[.[] | select(.event=="start")][0].time - $cut' "$TMP/n2.ev" | awk '{ printf "%.1f", $1 }')
ok "node 1 partitioned: replaced by the spare at --peer-timeout, relaunched on it $back s after the cut, finished (0); node 1 exits 75"
