#!/bin/sh
# The culprit of a hang. In a synchronous job every rank goes quiet at once when one hangs, and
# the stall line names whichever deadline expired first: usually a rank that waits in
# all_reduce for the culprit (the README's demo named rank 0 while rank 1 was the stopped one).
# After the stacks, flightdeck says which rank the others wait on, in a line, a `culprit` event, the
# exit event and the termination message. A real torchrun job on CPU (gloo), the hung rank each in
# turn: spinning in a Python loop and asleep in its data loader (torch's flight recorder tells:
# the others wait in a collective it never entered, certain), in a broadcast where the other
# all_reduces (a desync, from the recorder), stopped by SIGSTOP (it cannot dump: its state tells,
# likely); and with Debian's torch 1.13, which has no flight recorder, from the stacks (likely).
. "$TESTS_DIR/integration/lib.sh"
need_torch

# a port of its own for the rendezvous: --standalone's 29400 is shared with any other job here
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

try() { # try HOW RANK CONFIDENCE EVIDENCE LINE: the demo job with rank RANK hung at step 5 by HOW
	rm -rf "$TMP/ck" "$TMP/ev" "$TMP/term" "$TMP/logs"
	mkdir -p "$TMP/ck"
	rc=0
	timeout 120 "$FLIGHTDECK" run --preflight none --stall-timeout 3s --grace 2s --backoff 0.2 \
		--stack-wait 5s --checkpoint-dir "$TMP/ck" --events "$TMP/ev" --termination-log "$TMP/term" \
		--prom-file "$TMP/run.prom" -- \
		"$TORCHRUN" --nnodes=1 --nproc_per_node=2 --rdzv_backend=c10d \
		--rdzv_endpoint="127.0.0.1:$(free_port)" --rdzv_id=t0137 -r 1 -t 1 --log_dir "$TMP/logs" \
		"$TRAIN" --ckpt-dir "$TMP/ck" --steps 10 --stall-at 5 --stall-rank "$2" --stall-how "$1" \
		--resume {resume} >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 0 ] || { grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: exit $rc"; }
	other=$((1 - $2))
	c=$(jq -c 'select(.event=="culprit") | [.culprit, .victims, .confidence, .evidence]' "$TMP/ev")
	[ "$c" = "[[$2],[$other],\"$3\",\"$4\"]" ] ||
		{ grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: culprit event $c"; }
	grep -q "^flightdeck: culprit ($3): $5" "$TMP/err" ||
		{ grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: no culprit line like '$5'"; }
	jq -e "select(.event==\"exit\") | .culprit | startswith(\"$(echo "$5" | cut -c1-7)\")" "$TMP/ev" >/dev/null ||
		fail "$1 rank $2: the exit event does not carry the culprit"
	grep -q "^culprit: $(echo "$5" | cut -c1-7)" "$TMP/term" || { cat "$TMP/term"; fail "$1 rank $2: not in the termination message"; }
	grep -q "^flightdeck_run_culprit_info{node=\"[^\"]*\",rank=\"$2\"} 1$" "$TMP/run.prom" ||
		{ cat "$TMP/run.prom"; fail "$1 rank $2: no culprit sample in --prom-file"; }
	grep -q "flight-recorder dump ignored" "$TMP/err" && { grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: a dump was ignored"; }
	:
}

never="never entered collective [0-9]* of process group 0 (gloo:all_reduce; its newest: [0-9]*); rank"
try loop 1 certain flight-recorder "rank 1 (pid [0-9]*) at train.py:[0-9]* in main $never 0 waits in it"
ok "rank 1 in a Python loop: certain from the flight recorder (it never entered the all_reduce rank 0 waits in)"
try sleep 0 certain flight-recorder "rank 0 (pid [0-9]*) at train.py:[0-9]* in batch .*$never 1 waits in it"
ok "rank 0 asleep in its data loader: certain from the flight recorder, at its line"
try desync 1 certain flight-recorder "desync in process group 0 at collective [0-9]*: rank 1 in gloo:broadcast, rank 0 in gloo:all_reduce"
jq -s -e 'map(select(.event=="culprit" and .desync == true)) | length == 1' "$TMP/ev" >/dev/null || fail "desync: the culprit event lacks desync"
ok "rank 1 in a broadcast where rank 0 all_reduces: a desync, from the flight recorder"
try stop 0 likely state "rank 0 (pid [0-9]*) stopped (state T); rank 1 waits for it at .*all_reduce"
ok "rank 0 stopped by SIGSTOP (no dump from it): named from its state, rank 1 waits for it in all_reduce"
no_leftovers "$TRAIN"

if [ -x /usr/bin/torchrun ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	need_torch_debian
	try loop 1 likely stacks "rank 1 (pid [0-9]*) at train.py:[0-9]* in main; rank 0 waits for it at .*all_reduce"
	ok "Debian's torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), no flight recorder: rank 1 named from the stacks"
	no_leftovers "$TRAIN"
else
	echo "skipped: Debian's python3-torch is not installed: the case without a flight recorder"
fi
