#!/usr/bin/env bash
# group-scale.sh [--sizes 64,256,1024] [--restarts 100] [--hold-ms 10] [--loss-nodes 1024]
# - the node group at 1024 agents on loopback (tests/bench/group_sim.py): one Python process plays
# nodes 1..N-1 over N-1 real TCP connections, speaking the real frames to a real coordinator
# (`flightdeck run --node-rank 0`). Prints the barrier round's latency (p50/p99/max) and the
# coordinator's CPU seconds and peak RSS at each N, the time to notice a lost node (closed, or
# silent past --peer-timeout), and, with three real agents, the time from a stall on one node
# to every node's relaunch and first new step, and what a stall's verdicts in every member's
# STATE add to the stall rounds at 1024 nodes (--attribution-nodes; the DECISION must name the
# node whose verdict names the culprit). Exit 1 when the protocol fails (a refused
# frame, a connection closed early, a round without its decision); timings are not judged.
# QUICK=1 (ctest's bench-quick-group-scale): 8 nodes, 1 restart (4 rounds), the loss and the
# attribution at 8 nodes,
# about 10 s; flags given still apply after those. $FLIGHTDECK names the binary (nothing is
# built then), else build/flightdeck, built when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FD=${FLIGHTDECK:-$PWD/build/flightdeck}
[ -n "${FLIGHTDECK:-}" ] || [ -x build/flightdeck ] || { cmake -S . -B build >/dev/null && cmake --build build -j >/dev/null; }
[ "${QUICK:-0}" = 1 ] && set -- --sizes 8 --restarts 1 --loss-nodes 8 --attribution-nodes 8 \
	--attribution-restarts 1 "$@"

# 1024 nodes: 1023 sockets in the simulator, as many in the coordinator
want=4096
cur=$(ulimit -n)
if [ "$cur" != unlimited ] && [ "$cur" -lt "$want" ]; then
	if ! ulimit -n "$want" 2>/dev/null; then
		echo "group-scale.sh: cannot raise the open-file limit from $cur to $want" \
			"(hard limit $(ulimit -Hn)); sizes that do not fit are skipped" >&2
	fi
fi

# group_sim.py stops what it started (the coordinators, the agents and their jobs) on every
# exit, SIGTERM included; timeout(1) bounds the whole run and passes our own SIGTERM on.
sim=
trap '[ -z "$sim" ] || { kill -TERM "$sim" 2>/dev/null; wait "$sim"; } || :; exit 143' INT TERM
timeout -k 10 240 python3 tests/bench/group_sim.py "$FD" "$@" &
sim=$!
wait "$sim"
