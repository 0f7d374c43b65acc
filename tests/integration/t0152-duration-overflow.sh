#!/bin/sh
# The largest durations the options take (2562047 h: int64 nanoseconds) added to the clock
#: each saturates to "never" instead of wrapping negative and firing at
# once (a --timeout after 50 ms, an immediate stall, no grace).
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"
MAX=2562047h

frun --timeout $MAX -- "$MISBEHAVE" ok 10 20
expect_rc 0
expect_event '.event=="exit" and .exit_code==0'
ok "--timeout $MAX: the job runs to its end"

frun --stall-timeout $MAX --startup-timeout $MAX -- "$MISBEHAVE" ok 10 20
expect_rc 0
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "a stall at --stall-timeout $MAX: $(cat "$TMP/ev")"
ok "--stall-timeout and --startup-timeout $MAX: no stall"

# a stalled job that saves for 1 s on SIGTERM: the grace must let it finish
frun --max-restarts 0 --stall-timeout 1 --grace $MAX --progress-regex '^step' -- \
	sh -c "trap 'sleep 1; touch $TMP/saved; exit 0' TERM; echo step; while :; do sleep 0.1; done"
[ -f "$TMP/saved" ] || fail "no grace: the save on SIGTERM did not complete (exit $RC)"
ok "--grace $MAX: the job gets its grace"

run run --preflight none --backoff $MAX --backoff-max $MAX --max-restarts 1 --timeout 2 -- sh -c 'exit 3'
[ "$RC" -ne 0 ] || fail "expected a failure"
[ "$(wc -l <"$TMP/err")" -lt 20 ] || fail "a restart storm: $(wc -l <"$TMP/err") lines"
ok "--backoff $MAX: no restart storm, --timeout still ends it"
