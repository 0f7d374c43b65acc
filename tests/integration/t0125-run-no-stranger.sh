#!/bin/sh
# flightdeck run never signals a process that is not ours: once the
# command (the process-group leader) is reaped, its group id may be reused by a stranger;
# the grace that follows signals only the descendants found in /proc, never the old group.
# The pid reuse is made to happen on purpose: in a fresh pid namespace (root), writing
# ns_last_pid hands the leader's old pid to a stranger that leads its own group.
. "$TESTS_DIR/integration/lib.sh"

command -v unshare >/dev/null 2>&1 || skip "unshare is not installed"
command -v setsid >/dev/null 2>&1 || skip "setsid is not installed"
unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid --mount-proc is not permitted here"

cat >"$TMP/inner.sh" <<'S'
# Runs as pid 1 of the namespace. The command writes its pid, leaves a straggler in a
# session of its own that ignores SIGTERM (from its fork on, so no SIGTERM can come before
# it ignores it), and exits 0: flightdeck's grace begins.
"$FLIGHTDECK" run --preflight none --grace 3 --kill-wait 2 -- sh -c \
	"echo \$\$ >$TMP/leader; trap '' TERM; setsid sleep 97 & exit 0" \
	>"$TMP/out" 2>"$TMP/err" &
fd=$!
for _ in $(seq 100); do grep -q 'exited with status 0' "$TMP/err" 2>/dev/null && break; sleep 0.05; done
read -r leader <"$TMP/leader"
echo $((leader - 1)) >/proc/sys/kernel/ns_last_pid
setsid sleep 30 &
stranger=$!
echo "leader $leader stranger $stranger" >"$TMP/pids"
rc=0
wait "$fd" || rc=$?
if kill -0 "$stranger" 2>/dev/null; then alive=1; else alive=0; fi
echo "rc $rc alive $alive" >>"$TMP/pids"
kill "$stranger" 2>/dev/null
S
RC=0
TMP="$TMP" timeout 60 unshare --pid --fork --mount-proc sh "$TMP/inner.sh" || RC=$?
[ -s "$TMP/pids" ] || fail "the namespace run did not report"
read -r _ leader _ stranger <"$TMP/pids"
[ "$leader" = "$stranger" ] || skip "the leader's pid $leader was not reused (got $stranger)"
grep -q 'rc 0 ' "$TMP/pids" || fail "flightdeck's exit was not 0: $(cat "$TMP/pids")"
grep -q 'grace period over' "$TMP/err" || fail "the straggler did not make flightdeck wait its grace"
grep -q 'alive 1' "$TMP/pids" || fail "the stranger that took the old group id $leader was killed"
ok "a stranger leading a group with the reaped leader's id is not signalled"
