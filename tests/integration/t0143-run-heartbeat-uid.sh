#!/bin/sh
# flightdeck run and a job that drops privileges: under a root flightdeck,
# `setpriv --reuid=nobody` cannot reach the 0700 heartbeat directory. Without
# --heartbeat-uid the failure says why and names the flag; with it the job beats. A socket the
# job deletes is recreated at the next launch, so later launches are supervised.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

# --heartbeat-uid: a user that does not exist, a bad number
run run --heartbeat-uid no-such-user-flightdeck -- true
expect_rc 2
expect_one_line_error "heartbeat-uid: .* is neither a user of this machine nor a uid"
run run --heartbeat-uid -5 -- true
expect_rc 2
expect_one_line_error "heartbeat-uid: .* is neither a user of this machine nor a uid"
ok "--heartbeat-uid: an unknown user or a bad number is exit 2, one line"

# the deleted socket: the first launch removes it and crashes; the second must be supervised
cat >"$TMP/rm.sh" <<'S'
if [ "$FLIGHTDECK_RESTART_COUNT" = 0 ]; then
	rm -f "$FLIGHTDECK_HEARTBEAT"
	exec "$1" crash 2
fi
exec "$1" ok 10
S
frun --ranks 1 --startup-timeout 3 --stall-timeout 2 --max-restarts 1 -- sh "$TMP/rm.sh" "$MISBEHAVE"
expect_rc 0
expect_event '.event=="start"' 2
b=$(jq -s '.[-1].beats' "$TMP/ev")
[ "$b" -ge 10 ] || fail "the second launch's beats were lost ($b beats): the deleted socket was not recreated"
grep -q 'heartbeat socket .* was removed' "$TMP/err" || fail "the loss of the socket is not named"
ok "a heartbeat socket deleted by the job is recreated for the next launch ($b beats)"

command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) is not installed"
[ "$(id -u)" -eq 0 ] || skip "not root: cannot run a job as another user"
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
grp=$(id -gn nobody)
setpriv --reuid=nobody --regid="$grp" --clear-groups "$MISBEHAVE" beat 1 >/dev/null 2>&1 ||
	skip "nobody cannot run $MISBEHAVE here (a directory on its path is closed to it)"

# without --heartbeat-uid: no beat arrives; the failure says why
frun --ranks 1 --startup-timeout 2 --max-restarts 0 -- \
	setpriv --reuid=nobody --regid="$grp" --clear-groups "$MISBEHAVE" ok 30 100
[ "$RC" -ne 0 ] || fail "a job whose beats cannot arrive passed"
grep -q 'no heartbeat datagram arrived' "$TMP/err" || fail "the failure does not say that no datagram arrived"
grep -q -- '--heartbeat-uid' "$TMP/err" || fail "the failure does not name --heartbeat-uid"
ok "setpriv --reuid=nobody without --heartbeat-uid: the failure names the cause and the flag"

# with it: the job beats, no stall, exit 0
for who in nobody "$(id -u nobody)"; do
	frun --heartbeat-uid "$who" --ranks 1 --startup-timeout 5 --stall-timeout 3 --max-restarts 0 -- \
		setpriv --reuid=nobody --regid="$grp" --clear-groups "$MISBEHAVE" ok 30 50
	expect_rc 0
	[ "$(ev '.event=="stall"')" -eq 0 ] || fail "stalled with --heartbeat-uid $who"
	b=$(jq -s '.[-1].beats' "$TMP/ev")
	[ "$b" -ge 30 ] || fail "only $b beats arrived with --heartbeat-uid $who"
	f=$(jq -s '.[-1].foreign' "$TMP/ev")
	[ "$f" -eq 0 ] || fail "$f beats from nobody counted as foreign"
	ok "setpriv --reuid=nobody with --heartbeat-uid $who: $b beats, exit 0"
done

# not root: the socket cannot be given away; that is the operator's to fix (exit 2, one line)
RC=0
setpriv --reuid=nobody --regid="$grp" --clear-groups "$FLIGHTDECK" run --preflight none \
	--heartbeat-uid 1 -- true >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 2
expect_one_line_error "--heartbeat-uid 1: cannot give the heartbeat socket"
ok "--heartbeat-uid for another user without root: exit 2, one line"
