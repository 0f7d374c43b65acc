#!/bin/sh
# flightdeck run under a heartbeat flood: 64 local processes flooding the
# socket with garbage must not starve a healthy rank's beats. The healthy rank beats every
# 200 ms for 25 steps (5 s) under --stall-timeout 3: no stall, exit 0, and the flood is counted.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

NFLOOD=${NFLOOD:-64}
cat >"$TMP/flood.sh" <<'S'
# $1 misbehave, $2 flooders, $3 flags for flood-forever (1: non-blocking)
i=0 pids=
while [ "$i" -lt "$2" ]; do
	"$1" flood-forever "$3" &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 0.5 # the flood is on before the healthy rank's first beat
# (a sanitizer's leak scan at exit, starved by the flood, is not what is tested here)
RANK=0 ASAN_OPTIONS=detect_leaks=0 "$1" ok 25 200
rc=$?
kill $pids
exit $rc
S

for mode in 0 1; do
	frun --stall-timeout 3 --startup-timeout 10 --max-restarts 0 -- sh "$TMP/flood.sh" "$MISBEHAVE" "$NFLOOD" "$mode"
	expect_rc 0
	[ "$(ev '.event=="stall"')" -eq 0 ] || fail "a stall was declared under the flood ($mode)"
	grep -q '^done$' "$TMP/out" || fail "the healthy rank did not finish ($mode)"
	m=$(jq -s '.[-1].malformed + (.[-1].dropped // 0)' "$TMP/ev")
	[ "$m" -ge 1000 ] || fail "the flood was not counted ($mode): $m"
	d=$(jq -s '.[-1].dropped' "$TMP/ev")
	[ "$d" != null ] || fail "the exit event has no 'dropped' count"
	grep -q "dropped" "$TMP/err" || fail "the summary does not count dropped datagrams"
	no_leftovers "$MISBEHAVE flood-forever"
	ok "$NFLOOD flooding processes (non-blocking: $mode): the healthy rank is not stalled; $m flood datagrams ignored, $d rate-limited"
done
