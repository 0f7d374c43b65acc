#!/bin/sh
# `flightdeck check` stopped by a signal while gpubench runs: Slurm kills a HealthCheckProgram
# with SIGTERM after 60 s, an operator presses ^C. gpubench runs in check's own process group
# (t0033), so a signal to check alone could leave gpubench's children behind. check must kill
# them, print one line and exit 128+N.
. "$TESTS_DIR/integration/lib.sh"

SI="$TESTS_DIR/helpers/gpubench-standin.sh"

# stopped SIG [ENV-PREFIX...]: starts check on the hanging stand-in, sends SIG after a second;
# RC and the timing in $took (tenths of a second from the signal to the exit)
stopped() {
	sig=$1
	shift
	STANDIN_MODE=hang "$@" "$FLIGHTDECK" check --json --counter-window 0 $(fx no-rdma) \
		--only bw --gpubench "$SI" --gpubench-timeout 60s >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	i=0
	while ! pgrep -f "sleep $STANDIN_SLEEP" >/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	pgrep -f "sleep $STANDIN_SLEEP" >/dev/null || fail "the hanging stand-in did not start"
	sleep 1
	kill -s "$sig" "$pid"
	took=0
	while kill -0 "$pid" 2>/dev/null && [ $took -lt 100 ]; do
		sleep 0.1
		took=$((took + 1))
	done
	RC=0
	wait "$pid" || RC=$?
	sleep 0.2
}

# leftovers: fails (after killing them, so no test leaves a sleeper) when the stand-in's
# grandchild survived
leftovers() {
	left=$(pgrep -f "sleep $STANDIN_SLEEP" || true)
	if [ -n "$left" ]; then
		kill $left 2>/dev/null || true
		fail "after $1 the stand-in's grandchild is still alive (pid $left)"
	fi
}

export STANDIN_SLEEP="3605.$$"
stopped TERM
leftovers SIGTERM
expect_rc 143
[ $took -le 20 ] || fail "check took $took tenths of a second to exit after SIGTERM"
expect_one_line_error "SIGTERM"
ok "SIGTERM while gpubench runs: gpubench and its children killed, one line, exit 143"

# A shell starts background jobs with SIGINT ignored; env restores the default first.
if env --default-signal=INT true 2>/dev/null; then
	export STANDIN_SLEEP="3606.$$"
	stopped INT env --default-signal=INT
	leftovers SIGINT
	expect_rc 130
	expect_one_line_error "SIGINT"
	ok "SIGINT likewise: exit 130"
fi
