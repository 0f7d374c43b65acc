#!/bin/sh
# flightdeck run: a step counter that goes back (per epoch, a second phase) is progress, and
# the decrease is said once per rank per attempt.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

# steps 1..40 then 1..40 again, 50 ms apart: the second round stays under 40 for 2 s
frun --stall-timeout 1 --max-restarts 0 -- "$MISBEHAVE" step-reset 40 50
expect_rc 0
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "a step counter that went back was called a stall"
n=$(grep -c 'rank 0 went back from step 40 to step 1' "$TMP/err" || true)
[ "$n" -eq 1 ] || fail "expected the decrease said once, got $n lines"
expect_event '.event=="step_back" and .rank==0 and .step==1'
ok "steps 1..40 then 1..40: no stall, the decrease said once, exit 0"

frun --stall-timeout auto --stall-floor 1 --max-restarts 0 -- "$MISBEHAVE" step-reset 40 50
expect_rc 0
ok "the same under --stall-timeout auto"
