#!/bin/sh
# One heartbeat client in C: `flightdeck beat` sends through scripts/flightdeck_heartbeat.h,
# so for the same environment it sends the same datagram as training code using the header
# (misbehave's beat and checkpoint modes): the rank ($RANK, else $LOCAL_RANK, else 0), the
# fields, and the 20 ms send timeout that drops a beat instead of blocking on a full queue.
. "$TESTS_DIR/integration/lib.sh"

PY=$(command -v python3 || true)
[ -n "$PY" ] || skip "python3 is not installed"
: "${MISBEHAVE:?MISBEHAVE must point at the misbehave helper}"

SOCK="$TMP/hb.sock"
export FLIGHTDECK_HEARTBEAT="$SOCK"

# recv N: binds $SOCK, prints the first N datagrams one a line into $TMP/got, then exits
cat >"$TMP/recv.py" <<'P'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
with open(sys.argv[2], "w") as out:
    for _ in range(int(sys.argv[3])):
        out.write(s.recv(4096).decode("ascii", "replace") + "\n")
P
recv() {
	rm -f "$SOCK"
	"$PY" "$TMP/recv.py" "$SOCK" "$TMP/got" "$1" &
	RECV=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$SOCK" ] || fail "the receiver did not bind $SOCK"
}

# same WANT CLI-ARGS -- HEADER-ARGS: both clients, under the current environment, send WANT
same() {
	want=$1
	shift
	cli=
	while [ "$1" != -- ]; do
		cli="$cli $1"
		shift
	done
	shift
	recv 2
	# shellcheck disable=SC2086 # word splitting of the beat arguments is meant
	"$FLIGHTDECK" beat $cli || fail "flightdeck beat$cli failed"
	"$MISBEHAVE" "$@" || fail "misbehave $* failed"
	wait "$RECV" || fail "the receiver got no datagrams"
	printf '%s\n%s\n' "$want" "$want" | cmp -s - "$TMP/got" ||
		fail "expected '$want' from both clients (beat$cli, misbehave $*), got: $(tr '\n' '|' <"$TMP/got")"
}

unset RANK LOCAL_RANK
same "rank=0 step=7" --step 7 -- beat 7
same "rank=0" -- beat -1
ok "no rank in the environment: rank 0 from both"

LOCAL_RANK=3 same "rank=3 step=7" --step 7 -- beat 7
RANK=5 same "rank=5 step=7" --step 7 -- beat 7
RANK=5 LOCAL_RANK=3 same "rank=5 step=7" --step 7 -- beat 7
RANK=worker LOCAL_RANK=2 same "rank=2 step=1" --step 1 -- beat 1
ok "LOCAL_RANK only, RANK only, both, a RANK that is no number: the same rank from both"

RANK=1 same "rank=1 phase=checkpoint" --phase checkpoint -- checkpoint 1
RANK=1 same "rank=1 phase=train" --phase train -- checkpoint 0
ok "the checkpoint phase: the same datagram from both"

# A supervisor that does not read: its queue fills, and each beat waits 20 ms at most.
rm -f "$SOCK"
"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
time.sleep(30)' "$SOCK" &
DEAF=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
start=$(date +%s)
i=0
RC=0
while [ $i -lt 400 ] && [ "$RC" -eq 0 ]; do
	run beat --step $i
	i=$((i + 1))
done
end=$(date +%s)
kill "$DEAF" 2>/dev/null
expect_rc 3
grep -q 'beat: cannot send to .*: Resource temporarily unavailable' "$TMP/err" ||
	fail "a full queue is not reported as such"
[ $((end - start)) -lt 30 ] || fail "beats into a full queue took $((end - start)) s"
ok "a full supervisor queue: flightdeck beat gives up after the send timeout (exit 3), never blocks"
