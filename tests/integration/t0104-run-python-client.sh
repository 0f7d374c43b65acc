#!/bin/sh
# The Python client (scripts/flightdeck_heartbeat.py): beats, the checkpoint phase, and the
# stacks of a stuck rank in the events log.
. "$TESTS_DIR/integration/lib.sh"

PY=$(command -v python3 || true)
[ -n "$PY" ] || skip "python3 is not installed"
export PYTHONPATH="$SRC_DIR/scripts"

cat >"$TMP/job.py" <<'P'
import os, sys, threading, time
import flightdeck_heartbeat as hb

def stuck_in_the_data_loader():
    time.sleep(3600)

if not hb.enabled():
    sys.exit("FLIGHTDECK_HEARTBEAT not set")
# a background thread that keeps beating the same step: liveness without progress
for step in range(1, 6):
    hb.beat(step)
    time.sleep(0.02)
with hb.checkpointing(5):
    time.sleep(1.5)          # longer than --stall-timeout, shorter than --checkpoint-timeout
hb.beat(6)
threading.Thread(target=lambda: [hb.beat(6) or time.sleep(0.05) for _ in iter(int, 1)], daemon=True).start()
stuck_in_the_data_loader()
P
frun --stall-timeout 1 --checkpoint-timeout 10 --max-restarts 0 -- "$PY" "$TMP/job.py"
expect_rc 86
[ "$(ev '.event=="stall" and .step==5')" -eq 0 ] || fail "the checkpoint phase was called a stall"
expect_event '.event=="stall" and .rank==0 and .step==6'
grep -q 'rank 0 still beats but made no progress' "$TMP/err" || fail "progress vs liveness"
expect_event '.event=="stacks" and .rank==0 and (.stacks | contains("stuck_in_the_data_loader"))'
grep -q 'rank 0 is at job.py:[0-9]* in stuck_in_the_data_loader' "$TMP/err" || fail "the stuck line is not named"
no_leftovers "$TMP/job.py"
ok "python client: beats, checkpoint phase, stacks of the stuck rank in the events log"

unset FLIGHTDECK_HEARTBEAT
"$PY" -c 'import flightdeck_heartbeat as hb; hb.beat(1); hb.checkpoint_begin(); hb.checkpoint_end(); assert not hb.enabled()' ||
	fail "the client is not a no-op outside flightdeck"
ok "python client: a no-op without FLIGHTDECK_HEARTBEAT"
