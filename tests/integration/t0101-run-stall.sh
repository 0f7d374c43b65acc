#!/bin/sh
# flightdeck run: stall, startup and timeout detection over each heartbeat source.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"
# a sleep no other test (or run) has: "sleep 30.<pid>" is found and only ours
LONG="30.$$"

# seconds between two events (first match of each)
gap() {
	jq -s "([.[] | select($2)][0].time) - ([.[] | select($1)][0].time)" "$TMP/ev"
}
# assert A <= B (floating point)
le() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' || fail "$3: $1 > $2"
}

frun --ranks 1 --startup-timeout 1 --max-restarts 0 -- "$MISBEHAVE" never
expect_rc 86
expect_event '.event=="stall" and .reason=="startup"'
grep -q '0 of 1 ranks beat within --startup-timeout 1 s' "$TMP/err" || fail "startup message"
le "$(gap '.event=="start"' '.event=="stall"')" 2.0 "startup detection latency"
ok "a rank that never beats: startup timeout, exit 86"

frun --startup-timeout 1 --timeout 2 --max-restarts 0 -- sleep "$LONG"
expect_rc 124
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "a command that never heard of flightdeck was stopped for silence"
expect_event '.event=="timeout"'
le "$(gap '.event=="start"' '.event=="timeout"')" 2.5 "timeout latency"
no_leftovers "sleep $LONG"
ok "no heartbeat source: only --timeout stops it (exit 124), nothing left behind"

frun --stall-timeout 1 --max-restarts 0 -- "$MISBEHAVE" hang 5 20
expect_rc 86
expect_event '.event=="stall" and .rank==0 and .step==5'
grep -q 'rank 0 silent for 1 s after step 5: stopping process group [0-9]* (SIGTERM, 1 s grace)' "$TMP/err" ||
	fail "the stall line"
# the child beat for ~0.1 s; the stall must come within stall-timeout + 1 s of the last beat
le "$(gap '.event=="start"' '.event=="stall"')" 2.2 "stall detection latency"
ok "a rank that beats then hangs: stalled within stall-timeout + 1 s"

frun --stall-timeout 1 --max-restarts 0 -- "$MISBEHAVE" spin 5 20
expect_rc 86
grep -q 'rank 0 still beats but made no progress for 1 s after step 5' "$TMP/err" || fail "progress vs liveness"
[ "$(jq -s '.[-1].beats' "$TMP/ev")" -gt 20 ] || fail "the spinning rank did keep beating"
ok "a rank that keeps beating the same step is stalled: progress, not liveness"

frun --stall-timeout 1 --max-restarts 0 --progress-regex 'iter (\d+)/' -- \
	sh -c 'for i in 1 2 3; do echo "iter $i/100"; sleep 0.1; done; echo noise; sleep "$0"' "$LONG"
expect_rc 86
expect_event '.event=="stall" and .rank=="output" and .step==3'
grep -q '^iter 3/100$' "$TMP/out" || fail "output not passed through with a regex"
grep -q '^noise$' "$TMP/out" || fail "unmatched output not passed through"
no_leftovers "sleep $LONG"
ok "--progress-regex: steps from the output, stall when they stop"

hbf="$TMP/hb"
frun --stall-timeout 1 --max-restarts 0 --heartbeat-file "$hbf" -- \
	sh -c 'for i in 1 2 3 4 5 6; do touch "$1"; sleep 0.3; done; sleep "$2"' sh "$hbf" "$LONG"
expect_rc 86
expect_event '.event=="stall" and .rank=="file"'
le "$(gap '.event=="start"' '.event=="stall"')" 3.5 "heartbeat file stall latency"
ok "--heartbeat-file: its mtime is the beat"

frun --stall-timeout 1 --checkpoint-timeout 5 --max-restarts 0 -- sh -c \
	'"$0" beat --step 1; "$0" beat --step 1 --phase checkpoint; sleep 2.5; "$0" beat --step 1 --phase train; sleep 0.5; "$0" beat --step 2' "$FLIGHTDECK"
expect_rc 0
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "a checkpoint longer than --stall-timeout was called a stall"
ok "phase=checkpoint extends the deadline to --checkpoint-timeout"

frun --stall-timeout 1 --checkpoint-timeout 2 --max-restarts 0 -- sh -c \
	'"$0" beat --step 1 --phase checkpoint; sleep "$1"' "$FLIGHTDECK" "$LONG"
expect_rc 86
expect_event '.event=="stall" and .reason=="checkpoint"'
grep -q '(in a checkpoint)' "$TMP/err" || fail "a stuck checkpoint is not named"
ok "a checkpoint that never ends is a stall after --checkpoint-timeout"

frun --stall-timeout auto --stall-floor 1 --max-restarts 0 -- "$MISBEHAVE" hang 12 30
expect_rc 86
le "$(gap '.event=="start"' '.event=="stall"')" 2.6 "auto: 5 x 30 ms is under the floor, so 1 s"
ok "--stall-timeout auto: derived from the step intervals, with a floor"

frun --stall-timeout auto --stall-floor 0.2 --stall-factor 5 --max-restarts 0 -- "$MISBEHAVE" hang 8 200
expect_rc 86
t=$(gap '.event=="start"' '.event=="stall"')
le 2.4 "$t" "auto: 5 x 200 ms (1 s) after 1.6 s of steps"
le "$t" 3.6 "auto: 5 x 200 ms (1 s) after 1.6 s of steps"
ok "--stall-timeout auto: the factor scales the longest interval"
