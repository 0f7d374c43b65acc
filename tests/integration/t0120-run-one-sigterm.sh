#!/bin/sh
# flightdeck run, stopping a tree whose direct child dies first: every process gets ONE
# SIGTERM per stop, so a trainer that saves on SIGTERM finishes its save.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"
command -v bash >/dev/null 2>&1 || skip "bash is not installed"

# The bash wrapper dies on the first SIGTERM; the trainer under it traps SIGTERM and saves
# for 2 s, inside a 6 s grace. Before the fix the tree walk re-sent SIGTERM every poll.
frun --stall-timeout 1 --grace 6 --max-restarts 0 -- bash -c "\"$MISBEHAVE\" save-term 5 20 2000; true"
expect_rc 86
grep -q 'sigterms=[0-9]* saved' "$TMP/out" || fail "the trainer's save did not complete"
n=$(sed -n 's/.*sigterms=\([0-9]*\) saved.*/\1/p' "$TMP/out")
[ "$n" -eq 1 ] || fail "the trainer got $n SIGTERMs, expected exactly 1"
[ "$(ev '.event=="kill" and .signal=="SIGKILL"')" -eq 0 ] || fail "SIGKILL although the save ended inside the grace"
no_leftovers "$MISBEHAVE save-term"
ok "wrapper dies first: the trainer gets exactly one SIGTERM and its save completes"
