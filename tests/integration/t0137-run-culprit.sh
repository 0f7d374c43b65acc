#!/bin/sh
# The culprit of a hang. In a synchronous job every rank goes quiet at once when one hangs, and
# the stall line names whichever deadline expired first: usually a rank that waits in
# all_reduce for the culprit (the README's demo named rank 0 while rank 1 was the stopped one).
# After the stacks, flightdeck says which rank the others wait on, in a line, a `culprit` event, the
# exit event and the termination message. A real torchrun job on CPU (gloo), the hung rank each in
# turn: spinning in a Python loop and asleep in its data loader (torch's flight recorder tells:
# the others wait in a collective it never entered, certain), stopped by SIGSTOP (it cannot dump:
# its state tells, likely). t0138: a desync, and torch 1.13.
. "$TESTS_DIR/integration/lib.sh"
need_torch

. "$TESTS_DIR/integration/culprit-lib.sh"

never="never entered collective [0-9]* of process group 0 (gloo:all_reduce; its newest: [0-9]*); rank"
try loop 1 certain flight-recorder "rank 1 (pid [0-9]*) at train.py:[0-9]* in main $never 0 waits in it"
ok "rank 1 in a Python loop: certain from the flight recorder (it never entered the all_reduce rank 0 waits in)"
try sleep 0 certain flight-recorder "rank 0 (pid [0-9]*) at train.py:[0-9]* in batch .*$never 1 waits in it"
ok "rank 0 asleep in its data loader: certain from the flight recorder, at its line"
try stop 0 likely state "rank 0 (pid [0-9]*) stopped (state T); rank 1 waits for it at .*all_reduce"
grep -q "^flightdeck: rank 0 silent for [0-9.]* s after step 4" "$TMP/err" ||
	{ grep '^flightdeck:' "$TMP/err"; fail "stop rank 0: the stall line does not name the stopped rank"; }
ok "rank 0 stopped by SIGSTOP (no dump from it): the stall line names it, the verdict from its state, rank 1 waits for it in all_reduce"
no_leftovers "$TRAIN"

