#!/usr/bin/env bash
# group-scale.sh [--c-sizes 64,256,1024,4096,16384] [--c-restarts 20] [--c-loss-nodes 16384]
#                [--hold-ms 10] [group_sim.py's flags...]
# - the node group at up to 16,384 agents on loopback. The barrier rounds and a lost node are
# played by group-sim (tests/bench/group_sim.c: nodes 1..N-1 in one epoll loop, this build's
# codec, against a real coordinator, `flightdeck run --node-rank 0`); it prints each round's
# latency (p50/p99/max, last STATE sent -> the DECISION read on every connection) with the
# coordinator's CPU seconds and peak RSS at each N, and the time from a member's close (or its
# last frame, with --peer-timeout 3s) to the peer-lost DECISION on every other connection.
# Then group_sim.py (one Python process, its own codec) plays the stall's attribution at 1024
# nodes (--attribution-nodes; the DECISION must name the node whose verdict names the culprit)
# and, with three real agents, the time from a stall on one node to every node's relaunch and
# first new step; its own rounds and loss (--sizes, --loss-nodes) run with group_sim.py
# directly. Exit 1 when the protocol fails (a refused frame, a connection closed early, a
# round without its decision); timings are not judged.
# QUICK=1 (ctest's bench-quick-group-scale): 8 nodes, 1 restart (4 rounds), the loss and the
# attribution at 8 nodes, about 15 s; flags given still apply after those. $FLIGHTDECK names
# the binary (nothing is built then), else build/flightdeck, built when missing; $GROUP_SIM
# names group-sim, else build/tests/group-sim beside it.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
SIM=${GROUP_SIM:-$(dirname "$FD")/tests/group-sim}
[ -x "$SIM" ] || cmake --build build -j --target group-sim >/dev/null
[ "${QUICK:-0}" = 1 ] && set -- --c-sizes 8 --c-restarts 1 --c-loss-nodes 8 --attribution-nodes 8 \
	--attribution-restarts 1 "$@"

csizes=64,256,1024,4096,16384 crestarts=20 closs=16384 hold=10 py=()
while [ $# -gt 0 ]; do
	case $1 in
	--c-sizes) csizes=$2; shift 2 ;;
	--c-restarts) crestarts=$2; shift 2 ;;
	--c-loss-nodes) closs=$2; shift 2 ;;
	--hold-ms) hold=$2; py+=("$1" "$2"); shift 2 ;;
	*) py+=("$1"); shift ;;
	esac
done

# 16,384 nodes: 16,383 sockets in the simulator, as many in the coordinator (which raises its
# own soft limit to what the group needs)
want=16640
cur=$(ulimit -n)
if [ "$cur" != unlimited ] && [ "$cur" -lt "$want" ]; then
	if ! ulimit -n "$want" 2>/dev/null; then
		echo "group-scale.sh: cannot raise the open-file limit from $cur to $want" \
			"(hard limit $(ulimit -Hn)); sizes that do not fit are skipped" >&2
	fi
fi

# Each simulator stops what it started (the coordinators, the agents and their jobs) on every
# exit, SIGTERM included; timeout(1) bounds each run and passes our own SIGTERM on.
sim=
trap '[ -z "$sim" ] || { kill -TERM "$sim" 2>/dev/null; wait "$sim"; } || :; exit 143' INT TERM
# One group-sim run; out: its line, or "skipped" when the open-file limit is too low (77).
csim() {
	local rc=0
	timeout -k 10 300 "$SIM" "$FD" "$@" >"$tmp/line" &
	sim=$!
	wait "$sim" || rc=$?
	sim=
	[ "$rc" = 0 ] || [ "$rc" = 77 ] || exit 1
	out=skipped
	[ "$rc" != 0 ] || out=$(cat "$tmp/line")
}
tmp=$(mktemp -d /tmp/flightdeck-scale.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "node group on loopback, group-sim: one process plays nodes 1..N-1 over N-1 TCP" \
	"connections to a real coordinator (open-file limit $(ulimit -n))"
echo "barrier rounds: node 0 runs sh -c 'exit 1' with --max-restarts $crestarts --backoff 0" \
	"--gpu-release-timeout 0 --no-progress-limit 0, --peer-interval 1s --peer-timeout 10s;" \
	"the last STATE $hold ms after the others"
printf '  %6s %7s %10s %8s %8s %8s %10s %11s %8s %9s\n' nodes rounds "formed ms" "p50 ms" \
	"p99 ms" "max ms" "first p50" "coord CPU s" "wall s" "VmHWM MB"
for n in ${csizes//,/ }; do
	csim rounds "$n" "$crestarts" "$hold"
	if [ "$out" = skipped ]; then
		printf '  %6d skipped: the open-file limit %s is too low\n' "$n" "$(ulimit -n)"
		continue
	fi
	# shellcheck disable=SC2086 # the line's ten numbers
	printf '  %6d %7d %10.1f %8.2f %8.2f %8.2f %10.2f %11.2f %8.1f %9.1f\n' $out
done
echo "  (a round: the last member's STATE sent -> the DECISION read on all N-1 connections," \
	"'first p50' on the first; coordinator CPU (utime+stime) and VmHWM over the whole run," \
	"joins included; targets at 16,384 nodes: p99 < 100 ms, VmHWM < 64 MB)"
echo "lost node, $closs nodes, node 0 running sleep 1000, --peer-interval 1s --peer-timeout 3s:"
for how in close silent; do
	csim "$how" "$closs"
	if [ "$out" = skipped ]; then
		echo "  $how: skipped: the open-file limit $(ulimit -n) is too low"
		continue
	fi
	read -r _ all first ex hwm <<<"$out"
	if [ "$how" = close ]; then
		say="a member closes its connection" since="the close"
	else
		say="a member stops beating, socket left open" since="its last frame"
	fi
	echo "  $say: the peer-lost DECISION read on all $((closs - 2)) others $all ms after" \
		"$since (first $first ms); node 0 exited 75 after $ex ms; VmHWM $hwm MB"
done

timeout -k 10 240 python3 tests/bench/group_sim.py "$FD" --skip-rounds --skip-loss "${py[@]}" &
sim=$!
wait "$sim"
