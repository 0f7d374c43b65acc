# group-lib.sh - helpers for the node group's tests (sourced after lib.sh): agents on
# loopback, each a node by flags, all in one job by a shared token.

export FLIGHTDECK_TOKEN="test-token-$$"

# free_port: a TCP port nobody listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PORT=$(free_port)

# elapsed_since T0: seconds since T0 (date +%s.%N), one decimal
elapsed_since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# wait_for SECONDS COMMAND...: COMMAND succeeds within SECONDS (tried every 0.1 s)
wait_for() {
	tries=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# agent NODE NNODES ARGS... -- COMMAND: one node's flightdeck run in the background; its
# stdout, stderr, events and exit status in $TMP/n$NODE.{out,err,ev,rc}; the subshell that waits
# for it in $TMP/n$NODE.sub.
# The coordinator is $COORDINATOR (127.0.0.1:$PORT when unset); with $AGENT_NETNS set the
# agent runs in that network namespace (ip netns exec, which execs: the agent is still the
# subshell's child).
agent() {
	node=$1 nn=$2
	shift 2
	rm -f "$TMP/n$node.rc" "$TMP/n$node.ev"
	set -- "$FLIGHTDECK" run --node-rank "$node" --nnodes "$nn" \
		--coordinator "${COORDINATOR:-127.0.0.1:$PORT}" \
		--peer-interval 0.2s --peer-timeout 3s --join-timeout 30s \
		--preflight none --grace 1 --backoff 0.2 --kill-wait 3 \
		--events "$TMP/n$node.ev" "$@"
	[ -n "${AGENT_NETNS:-}" ] && set -- ip netns exec "$AGENT_NETNS" "$@"
	(
		rc=0
		"$@" >"$TMP/n$node.out" 2>"$TMP/n$node.err" || rc=$?
		echo "$rc" >"$TMP/n$node.rc"
	) &
	echo $! >"$TMP/n$node.sub"
}

# agent_pid NODE: the flightdeck process of that node (the subshell's child)
agent_pid() {
	pgrep -P "$(cat "$TMP/n$1.sub")" -x flightdeck | head -1
}

# wait_agents SECONDS NODE...: every listed node has exited within SECONDS
wait_agents() {
	limit=$1
	shift
	i=0
	for n in "$@"; do
		while [ ! -s "$TMP/n$n.rc" ]; do
			i=$((i + 1))
			[ "$i" -le $((limit * 10)) ] || {
				late=$n # dump_agents loops over n too
				dump_agents "$@"
				fail "node $late still running after ${limit}s"
			}
			sleep 0.1
		done
	done
}

# dump_agents NODE...: each node's own lines, then its command's last few: a torchrun's
# tracebacks would otherwise push flightdeck's lines out of view
dump_agents() {
	for n in "$@"; do
		echo "--- node $n (rc $(cat "$TMP/n$n.rc" 2>/dev/null))"
		grep '^flightdeck: ' "$TMP/n$n.err" 2>/dev/null | tail -n 40
		echo "--- node $n: the command's last lines on stderr"
		grep -v '^flightdeck: ' "$TMP/n$n.err" 2>/dev/null | tail -n 8
	done
}

# expect_agent_rc NODE CODE
expect_agent_rc() {
	rc=$(cat "$TMP/n$1.rc")
	[ "$rc" -eq "$2" ] || { dump_agents "$1"; fail "node $1 exited $rc, expected $2"; }
}

# node_event NODE JQ-FILTER: how many events of that node match
node_event() {
	[ -f "$TMP/n$1.ev" ] || { echo 0; return; }
	jq -c "select($2)" "$TMP/n$1.ev" | wc -l
}

expect_node_event() {
	n=$(node_event "$1" "$2")
	[ "$n" -ge 1 ] || { dump_agents "$1"; fail "node $1: no event matching '$2'"; }
}

# torchrun's flags for node NODE of two on loopback, NPROC ranks a node, its store on
# MASTER_PORT; its logs under $TMP/logs-NODE.
torchrun_args() { # NODE MASTER_PORT NPROC
	echo "--nnodes=2 --node_rank=$1 --nproc_per_node=$3 --master_addr=127.0.0.1" \
		"--master_port=$2 -r 1 -t 1 --log_dir $TMP/logs-$1"
}

kill_agents() {
	for f in "$TMP"/n*.sub; do
		[ -f "$f" ] || continue
		p=$(pgrep -P "$(cat "$f")" -x flightdeck | head -1)
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	return 0
}
trap 'kill_agents; rm -rf "$TMP"' EXIT
