#!/bin/sh
# One heartbeat client in C: `flightdeck beat` sends through scripts/flightdeck_heartbeat.h,
# so for the same environment it sends the same datagram as training code using the header
# (misbehave's beat and checkpoint modes): the rank (the first whole number of $RANK,
# $OMPI_COMM_WORLD_RANK, $PMI_RANK, $PMIX_RANK, $SLURM_PROCID, $LOCAL_RANK, else 0), the
# fields, and the 20 ms send timeout that drops a beat instead of blocking on a full queue.
# The Python client (scripts/flightdeck_heartbeat.py) reads the rank in the same order.
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

unset RANK LOCAL_RANK OMPI_COMM_WORLD_RANK PMI_RANK PMIX_RANK SLURM_PROCID
same "rank=0 step=7" --step 7 -- beat 7
same "rank=0" -- beat -1
ok "no rank in the environment: rank 0 from both"

LOCAL_RANK=3 same "rank=3 step=7" --step 7 -- beat 7
RANK=5 same "rank=5 step=7" --step 7 -- beat 7
RANK=5 LOCAL_RANK=3 same "rank=5 step=7" --step 7 -- beat 7
RANK=worker LOCAL_RANK=2 same "rank=2 step=1" --step 1 -- beat 1
ok "LOCAL_RANK only, RANK only, both, a RANK that is no number: the same rank from both"

# What launchers other than torchrun set: mpirun (Open MPI), MPICH/Intel MPI, PMIx, srun.
OMPI_COMM_WORLD_RANK=2 same "rank=2 step=4" --step 4 -- beat 4
PMI_RANK=6 same "rank=6 step=4" --step 4 -- beat 4
PMIX_RANK=3 same "rank=3 step=4" --step 4 -- beat 4
SLURM_PROCID=7 same "rank=7 step=4" --step 4 -- beat 4
RANK=1 OMPI_COMM_WORLD_RANK=2 same "rank=1 step=4" --step 4 -- beat 4
OMPI_COMM_WORLD_RANK=2 LOCAL_RANK=0 same "rank=2 step=4" --step 4 -- beat 4
OMPI_COMM_WORLD_RANK=x PMIX_RANK=5 SLURM_PROCID=9 same "rank=5 step=4" --step 4 -- beat 4
ok "OMPI_COMM_WORLD_RANK, PMI_RANK, PMIX_RANK, SLURM_PROCID; RANK first; a rank that is no number falls through"

# pysame WANT: the Python client, imported as training code does, sends WANT for one beat
pysame() {
	recv 1
	PYTHONPATH="$SRC_DIR/scripts" "$PY" -c 'import flightdeck_heartbeat as hb; hb.beat(4)' ||
		fail "the python client failed"
	wait "$RECV" || fail "the receiver got no datagram from the python client"
	got=$(cat "$TMP/got")
	[ "$got" = "$1" ] || fail "expected '$1' from the python client, got '$got'"
}
unset FLIGHTDECK_STACK_DIR FLIGHTDECK_STACK_SIGNAL
pysame "rank=0 step=4"
OMPI_COMM_WORLD_RANK=2 pysame "rank=2 step=4"
PMI_RANK=6 pysame "rank=6 step=4"
PMIX_RANK=3 pysame "rank=3 step=4"
SLURM_PROCID=7 pysame "rank=7 step=4"
LOCAL_RANK=3 pysame "rank=3 step=4"
RANK=1 OMPI_COMM_WORLD_RANK=2 pysame "rank=1 step=4"
OMPI_COMM_WORLD_RANK=x PMIX_RANK=5 SLURM_PROCID=9 pysame "rank=5 step=4"
ok "the python client: the same rank order"

RANK=1 same "rank=1 step=59 total=60" --step 59 --total 60 -- beat-total 59 60
RANK=1 same "rank=1 total=60" --total 60 -- beat-total -1 60
RANK=1 same "rank=1 step=5" --step 5 -- beat-total 5 0
ok "a total: the same datagram from both (flightdeck_beat_total)"

recv 1
PYTHONPATH="$SRC_DIR/scripts" RANK=1 "$PY" -c 'import flightdeck_heartbeat as hb; hb.beat(59, total=60)' ||
	fail "the python client failed"
wait "$RECV" || fail "the receiver got no datagram from the python client"
[ "$(cat "$TMP/got")" = "rank=1 step=59 total=60" ] || fail "python's beat with a total sent '$(cat "$TMP/got")'"
PYTHONPATH="$SRC_DIR/scripts" "$PY" -c 'import flightdeck_heartbeat as hb; hb.beat(1, total=0)' 2>"$TMP/err" &&
	fail "the python client took total=0"
grep -q 'ValueError: flightdeck_heartbeat: total must be a whole number from 1' "$TMP/err" ||
	fail "total=0 is not refused by name: $(cat "$TMP/err")"
run beat --step 1 --total 0
expect_rc 2
expect_one_line_error 'total'
ok "the python client's total; total 0 is refused by both"

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
