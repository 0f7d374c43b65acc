#!/bin/sh
# flightdeck run as PID 1 of a new pid namespace whose /proc is still the outer one
#: every outer process would look like a descendant. flightdeck says
# so once and signals only its own command's process group.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

command -v unshare >/dev/null 2>&1 || skip "unshare is not installed"
unshare --pid --fork true 2>/dev/null || skip "unshare --pid is not permitted here (needs root or user namespaces)"

rm -f "$TMP/ev"
RC=0
timeout 60 unshare --pid --fork "$FLIGHTDECK" run --preflight none --grace 1 --kill-wait 2 \
	--events "$TMP/ev" -- "$MISBEHAVE" ok 5 >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 0
grep -q 'survives SIGKILL' "$TMP/err" && fail "outer processes were taken for descendants"
grep -q '/proc belongs to another pid namespace' "$TMP/err" || fail "the foreign /proc was not said"
ok "pid 1 with the outer /proc: only our own processes, exit 0"

# A stall in there: the command's group is stopped and killed, nothing else.
RC=0
timeout 60 unshare --pid --fork "$FLIGHTDECK" run --preflight none --grace 1 --kill-wait 2 \
	--stall-timeout 1 --max-restarts 0 --events "$TMP/ev" -- "$MISBEHAVE" ignore-term 3 \
	>"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 86
grep -q 'survives SIGKILL' "$TMP/err" && fail "outer processes were taken for descendants"
no_leftovers "$MISBEHAVE ignore-term 3"
ok "pid 1 with the outer /proc: a stalled group is killed, exit 86"
