#!/bin/sh
# Stop signals as schedulers send them: Slurm's time limit sends SIGTERM
# twice 37-67 ms apart, `timeout -s INT` and scancel may repeat within a second or two. A
# repeat within --signal-dedupe (2 s) of the first is the same request and the grace is kept;
# a repeat after it kills at once; --signal-dedupe 0 makes every repeat kill at once.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

# wait_for FILE PATTERN: up to 10 s for PATTERN to appear in FILE
wait_for() {
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	fail "'$2' did not appear in $1"
}

# start SAVE_MS FLAGS...: flightdeck run over a trainer that saves for SAVE_MS on SIGTERM;
# returns once it is saving-ready, its pid in $fdpid
start() {
	save=$1
	shift
	rm -f "$TMP/ev"
	"$FLIGHTDECK" run --preflight none --events "$TMP/ev" "$@" -- \
		"$MISBEHAVE" save-term 5 20 "$save" >"$TMP/out" 2>"$TMP/err" &
	fdpid=$!
	wait_for "$TMP/out" 'saving on SIGTERM'
}

finish() {
	RC=0
	wait "$fdpid" || RC=$?
}

# Repeats 0.5 s and 1.5 s after the first: one request under the default window; the trainer
# gets one SIGTERM and its 2.5 s save completes inside the grace.
start 2500 --grace 8
kill -TERM "$fdpid"
sleep 0.5
kill -TERM "$fdpid"
sleep 1
kill -TERM "$fdpid"
finish
expect_rc 143
grep -q 'sigterms=1 saved' "$TMP/out" || fail "the save did not complete, or the trainer got the repeats: $(cat "$TMP/out")"
grep -q 'killing everything now' "$TMP/err" && fail "a repeat within the 2 s window escalated"
[ "$(grep -c 'second SIGTERM within 2 s of the first: the same request' "$TMP/err")" -eq 2 ] ||
	fail "the two repeats were not said as the same request"
[ "$(ev '.event=="signal"')" -eq 1 ] || fail "the repeats were logged as new signals: $(cat "$TMP/ev")"
ok "SIGTERM repeated 0.5 s and 1.5 s after the first: one request, the save completes, exit 143"

# A repeat 3 s after the first, past the window: kill at once, the 10 s save is cut short.
start 10000 --grace 30
t0=$(date +%s)
kill -TERM "$fdpid"
sleep 3
kill -TERM "$fdpid"
finish
took=$(($(date +%s) - t0))
expect_rc 143
grep -q 'second SIGTERM: killing everything now' "$TMP/err" || fail "a repeat after the window did not escalate"
grep -q 'saved' "$TMP/out" && fail "the save completed: the repeat did not kill"
[ "$took" -le 7 ] || fail "flightdeck took $took s: the repeat did not kill at once"
[ "$(ev '.event=="signal"')" -eq 2 ] || fail "expected two signal events: $(cat "$TMP/ev")"
ok "a repeat 3 s after the first (past --signal-dedupe 2s) kills at once"

# --signal-dedupe 0: every repeat escalates, even 50 ms later.
start 10000 --grace 30 --signal-dedupe 0
kill -TERM "$fdpid"
sleep 0.05
kill -TERM "$fdpid"
finish
expect_rc 143
grep -q 'second SIGTERM: killing everything now' "$TMP/err" || fail "--signal-dedupe 0: a repeat 50 ms later did not escalate"
grep -q 'saved' "$TMP/out" && fail "--signal-dedupe 0: the save completed"
grep -q 'the same request' "$TMP/err" && fail "--signal-dedupe 0: a repeat was taken as the same request"
ok "--signal-dedupe 0: a repeat 50 ms after the first kills at once"

no_leftovers "$MISBEHAVE save-term"
