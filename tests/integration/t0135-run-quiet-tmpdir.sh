#!/bin/sh
# flightdeck run: `run -q` silences a fit preflight's table; a missing or
# too long TMPDIR falls back to /tmp; whatever the failure, --events gets its exit event.
. "$TESTS_DIR/integration/lib.sh"

export FLIGHTDECK_SYSFS_ROOT="$FIXTURES/healthy-ndr8/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/healthy-ndr8/proc" \
	FLIGHTDECK_KMSG="$FIXTURES/empty.log"
run run -q --preflight quick -- true
expect_rc 0
[ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ] || fail "run -q printed something for a fit node"
ok "run -q: a fit preflight prints nothing"
export FLIGHTDECK_SYSFS_ROOT="$FIXTURES/port-down/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/port-down/proc"
run run -q --preflight quick -- true
expect_rc 69
grep -q 'FAIL' "$TMP/out" "$TMP/err" || fail "run -q: an unfit preflight's table is not shown"
ok "run -q: an unfit preflight still shows its table"
unset FLIGHTDECK_SYSFS_ROOT FLIGHTDECK_PROC_ROOT FLIGHTDECK_KMSG

long=$(printf '/tmp/%0200d/%0200d' 0 0)
for t in /nonexistent/tmp "$long"; do
	TMPDIR=$t frun -- sh -c 'test -S "$FLIGHTDECK_HEARTBEAT" && echo socket-ok'
	expect_rc 0
	grep -q socket-ok "$TMP/out" || fail "TMPDIR=$t: no heartbeat socket for the job"
	expect_event '.event=="exit" and .exit_code==0'
done
ok "a missing or too long TMPDIR falls back to /tmp"

echo x >"$TMP/afile"
frun --checkpoint-dir "$TMP/afile" -- true
expect_rc 2
expect_event '.event=="exit" and .exit_code==2'
ok "a failed set-up still writes the exit event"
