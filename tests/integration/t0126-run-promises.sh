#!/bin/sh
# docs/run.md's promises about signals and exit codes that no other test holds to: SIGQUIT is
# passed on like SIGTERM (exit 128+3), SIGUSR2 like SIGUSR1 (supervision goes on), a SIGKILLed
# flightdeck takes its direct child with it (PR_SET_PDEATHSIG), and "flightdeck itself failed"
# is exit 125 with the exit event still written.
. "$TESTS_DIR/integration/lib.sh"

# A background job of sh starts with SIGINT and SIGQUIT ignored, and flightdeck keeps a signal
# ignored at its start ignored (nohup): give it SIGQUIT's default back, as a shell's
# foreground job would have it.
env --default-signal=QUIT true 2>/dev/null || skip "env has no --default-signal (coreutils < 8.31)"

# bg_run SCRIPT: flightdeck run on `sh SCRIPT` in the background, waiting for its "ready"
bg_run() {
	rm -f "$TMP/ev" "$TMP/out" "$TMP/err"
	env --default-signal=QUIT "$FLIGHTDECK" run --preflight none --grace 2 --events "$TMP/ev" -- sh "$1" >"$TMP/out" 2>"$TMP/err" &
	fdpid=$!
	for _ in $(seq 100); do grep -q ready "$TMP/out" 2>/dev/null && return 0; sleep 0.1; done
	fail "the job did not start: $(cat "$TMP/err")"
}

cat >"$TMP/quit.sh" <<'S'
trap 'echo got-quit; exit 0' QUIT
echo ready
while :; do sleep 0.1; done
S
bg_run "$TMP/quit.sh"
kill -QUIT "$fdpid"
RC=0
wait "$fdpid" || RC=$?
expect_rc 131
grep -q got-quit "$TMP/out" || fail "SIGQUIT did not reach the job"
grep -q 'received SIGQUIT: passing it to process group' "$TMP/err" || fail "no forwarding line"
ok "SIGQUIT is passed to the job, flightdeck exits 128+3"

cat >"$TMP/usr2.sh" <<'S'
trap 'echo got-usr2; "$FLIGHTDECK" beat --step 2; exit 0' USR2
"$FLIGHTDECK" beat --step 1
echo ready
while :; do sleep 0.1; done
S
bg_run "$TMP/usr2.sh"
kill -USR2 "$fdpid"
RC=0
wait "$fdpid" || RC=$?
expect_rc 0
grep -q got-usr2 "$TMP/out" || fail "SIGUSR2 did not reach the job"
expect_event '.event=="signal" and .signal=="SIGUSR2"'
ok "SIGUSR2 is forwarded and the job goes on to its own exit 0"

# flightdeck SIGKILLed: the kernel kills its direct child (PR_SET_PDEATHSIG).
cat >"$TMP/orphan.sh" <<'S'
echo "child $$"
echo ready
exec sleep 600
S
bg_run "$TMP/orphan.sh"
child=$(sed -n 's/^child //p' "$TMP/out")
[ -n "$child" ] && kill -0 "$child" 2>/dev/null || fail "no child pid"
kill -KILL "$fdpid"
wait "$fdpid" 2>/dev/null || true
gone=
for _ in $(seq 50); do
	kill -0 "$child" 2>/dev/null || { gone=1; break; }
	sleep 0.1
done
[ -n "$gone" ] || { kill -KILL "$child" 2>/dev/null; fail "the child $child outlived a SIGKILLed flightdeck"; }
ok "a SIGKILLed flightdeck takes its direct child with it"

# Exit 125: flightdeck cannot set itself up (no descriptor left for its event loop); the events
# file, opened first, still gets its exit event.
rm -f "$TMP/ev"
RC=0
# The limit leaves exactly one descriptor free among those below it (ctest hands a few down,
# not always contiguous): the events file takes it, and the event loop's epoll finds none.
(
	open=" $(ls /proc/self/fd | tr '\n' ' ') " # inherited, and ls's own: the first free one
	limit=0
	while case "$open" in *" $limit "*) true ;; *) false ;; esac; do limit=$((limit + 1)); done
	ulimit -n "$limit" && exec "$FLIGHTDECK" run --preflight none --events "$TMP/ev" -- true
) >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 125
[ "$(wc -l <"$TMP/err")" -ge 1 ] || fail "no line saying what failed"
expect_event '.event=="exit" and .exit_code==125'
ok "flightdeck's own failure: exit 125, said, and the exit event written"
