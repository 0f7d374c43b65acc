#!/bin/sh
# The culprit of a hang. In a synchronous job every rank goes quiet at once when one hangs, and
# the stall line names whichever deadline expired first: usually a rank that waits in
# all_reduce for the culprit (the README's demo named rank 0 while rank 1 was the stopped one).
# After the stacks, flightdeck says which rank the others wait on, from the ranks' process
# states and their stacks, in a line, a `culprit` event, the exit event and the termination
# message. A real torchrun job on CPU (gloo), the hung rank each in turn: stopped by SIGSTOP
# (the state tells), spinning in a Python loop and sleeping in its data loader (the stacks tell).
. "$TESTS_DIR/integration/lib.sh"
need_torch

# a port of its own for the rendezvous: --standalone's 29400 is shared with any other job here
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

try() { # try HOW RANK: the demo job with rank RANK hung at step 5 by HOW
	rm -rf "$TMP/ck" "$TMP/ev" "$TMP/term"
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
	[ "$c" = "[[$2],[$other],\"likely\",\"$3\"]" ] ||
		{ grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: culprit event $c"; }
	grep -q "^flightdeck: culprit (likely): rank $2 (pid [0-9]*)$4.*; rank $other waits for it at .*all_reduce" "$TMP/err" ||
		{ grep '^flightdeck:' "$TMP/err"; fail "$1 rank $2: no culprit line"; }
	jq -e "select(.event==\"exit\") | .culprit | startswith(\"rank $2 \")" "$TMP/ev" >/dev/null ||
		fail "$1 rank $2: the exit event does not carry the culprit"
	grep -q "^culprit: rank $2 " "$TMP/term" || { cat "$TMP/term"; fail "$1 rank $2: not in the termination message"; }
	grep -q "^flightdeck_run_culprit_info{node=\"[^\"]*\",rank=\"$2\"} 1$" "$TMP/run.prom" ||
		{ cat "$TMP/run.prom"; fail "$1 rank $2: no culprit sample in --prom-file"; }
}

try stop 0 state " stopped (state T)"
ok "rank 0 stopped by SIGSTOP: named from its state, rank 1 waits for it in all_reduce"
try loop 1 stacks " at train.py:[0-9]* in main"
ok "rank 1 in a Python loop: named from the stacks (it is not in a collective; rank 0 is)"
try sleep 0 stacks " at train.py:[0-9]* in batch"
ok "rank 0 asleep in its data loader: named from the stacks, at its line"
no_leftovers "$TRAIN"
