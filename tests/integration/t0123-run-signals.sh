#!/bin/sh
# flightdeck run and the signals it is sent: a repeat within a second is
# the same request (Slurm and timeout(1) send two within milliseconds), a signal its parent
# ignored (nohup) stays ignored, and SIGUSR1 between launches is queued for the next one.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

# wait_for FILE PATTERN: up to 10 s for PATTERN to appear in FILE
wait_for() {
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	fail "'$2' did not appear in $1"
}

# Two SIGTERMs 10 ms apart: one request; the trainer saves in 1.5 s inside a 6 s grace.
rm -f "$TMP/ev"
RC=0
"$FLIGHTDECK" run --preflight none --grace 6 --events "$TMP/ev" -- "$MISBEHAVE" save-term 5 20 1500 \
	>"$TMP/out" 2>"$TMP/err" &
fdpid=$!
wait_for "$TMP/out" 'saving on SIGTERM'
kill -TERM "$fdpid"
sleep 0.01
kill -TERM "$fdpid"
wait "$fdpid" || RC=$?
expect_rc 143
grep -q 'sigterms=1 saved' "$TMP/out" || fail "the save did not complete after two quick SIGTERMs"
grep -q 'killing everything now' "$TMP/err" && fail "a repeat within the window escalated"
grep -q 'second SIGTERM within' "$TMP/err" || fail "the repeat was not said"
ok "two SIGTERMs 10 ms apart are one request: the save completes, exit 143"

# nohup: SIGHUP ignored when flightdeck starts stays ignored.
rm -f "$TMP/ev"
RC=0
sh -c 'trap "" HUP; exec "$@"' sh "$FLIGHTDECK" run --preflight none --grace 1 --events "$TMP/ev" -- \
	"$MISBEHAVE" ok 40 50 >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
wait_for "$TMP/out" 'step 2$'
kill -HUP "$fdpid"
wait "$fdpid" || RC=$?
expect_rc 0
grep -q '^done$' "$TMP/out" || fail "the job did not finish"
[ "$(ev '.event=="signal"')" -eq 0 ] || fail "an ignored SIGHUP was acted on"
ok "SIGHUP ignored by the parent (nohup) is ignored: the job goes on, exit 0"

# SIGUSR1 during the backoff: queued, delivered to the next launch once it beats.
cat >"$TMP/usr1.sh" <<'S'
if [ "$FLIGHTDECK_RESTART_COUNT" = 0 ]; then
	"$FLIGHTDECK" beat --step 1
	echo crashing
	exit 3
fi
trap 'echo got-usr1; exit 0' USR1
"$FLIGHTDECK" beat --step 2
echo ready2
while :; do sleep 0.1; done
S
rm -f "$TMP/ev"
RC=0
"$FLIGHTDECK" run --preflight none --grace 1 --backoff 3 --max-restarts 1 --events "$TMP/ev" -- \
	sh "$TMP/usr1.sh" >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
wait_for "$TMP/err" 'restart 1 of 1'
kill -USR1 "$fdpid"
wait_for "$TMP/err" 'SIGUSR1 .*queued'
wait "$fdpid" || RC=$?
expect_rc 0
grep -q got-usr1 "$TMP/out" || fail "the queued SIGUSR1 did not reach the next launch"
expect_event '.event=="signal" and .signal=="SIGUSR1" and .queued==true'
expect_event '.event=="signal" and .signal=="SIGUSR1" and .delivered==true'
ok "SIGUSR1 during the backoff is queued and delivered to the relaunch"
