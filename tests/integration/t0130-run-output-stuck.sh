#!/bin/sh
# flightdeck run: a reader that stops reading flightdeck's output never blocks the supervisor
#: output is buffered with a bound and drained non-blocking; past
# the bound the excess is dropped and the count said once; while the bound holds nothing is
# lost, even when the stdout we were given is non-blocking.
. "$TESTS_DIR/integration/lib.sh"

# A reader that holds the pipe open and never reads it (`| sleep 30`).
mkfifo "$TMP/fifo"
sleep 60 <"$TMP/fifo" &
reader=$!
job='head -c 8000000 /dev/zero | tr "\0" x; echo; echo "step 1"; exec sleep 1000'
RC=0
timeout 40 "$FLIGHTDECK" run --preflight none --grace 1 --kill-wait 3 --max-restarts 0 \
	--stall-timeout 2 --progress-regex 'step ([0-9]+)' --events "$TMP/ev" -- sh -c "$job" \
	>"$TMP/fifo" 2>"$TMP/err" || RC=$?
[ "$RC" -ne 124 ] || fail "flightdeck hung writing to a reader that does not read"
expect_rc 86
grep -q 'dropped [0-9]* bytes of the command.s stdout' "$TMP/err" || fail "the dropped output is not said"
expect_event '.event=="output_dropped" and .stream=="stdout" and .bytes > 0'
ok "a stuck stdout reader: the stall is still killed, the dropped bytes are said"

# SIGTERM is honoured while the reader is stuck.
rm -f "$TMP/ev"
"$FLIGHTDECK" run --preflight none --grace 1 --kill-wait 3 --progress-regex 'step ([0-9]+)' \
	-- sh -c 'while :; do echo "step 1 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; done' \
	>"$TMP/fifo" 2>"$TMP/err" &
fdpid=$!
sleep 2
kill -TERM "$fdpid"
RC=0
for _ in $(seq 100); do kill -0 "$fdpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$fdpid" 2>/dev/null; then
	kill -KILL "$fdpid"
	fail "SIGTERM ignored while the stdout reader is stuck"
fi
wait "$fdpid" || RC=$?
expect_rc 143
ok "a stuck stdout reader: SIGTERM is honoured"
kill "$reader" 2>/dev/null || true

# A non-blocking stdout and a slow reader: every line arrives (lossless within the bound).
cat >"$TMP/nb.py" <<'P'
import os, sys
os.set_blocking(1, False)
os.execvp(sys.argv[1], sys.argv[1:])
P
mkfifo "$TMP/fifo2"
(sleep 2; cat) <"$TMP/fifo2" >"$TMP/slow" &
catpid=$!
RC=0
python3 "$TMP/nb.py" "$FLIGHTDECK" run --preflight none --progress-regex 'line ([0-9]+)' \
	-- sh -c 'seq 1 200000 | sed "s/^/line /"' >"$TMP/fifo2" 2>"$TMP/err" || RC=$?
wait "$catpid"
expect_rc 0
n=$(wc -l <"$TMP/slow")
[ "$n" -eq 200000 ] || fail "a non-blocking stdout lost lines: $n of 200000 arrived"
ok "a non-blocking stdout with a slow reader loses nothing"

# A producer faster than its reader: the child is slowed, nothing is dropped.
n=$("$FLIGHTDECK" run -q --preflight none --progress-regex 'step ([0-9]+)' -- head -c 30000000 /dev/zero |
	(sleep 1; wc -c))
[ "$n" -eq 30000000 ] || fail "a reader slower than the command lost bytes: $n of 30000000"
ok "a slow reader slows the command and loses nothing"
