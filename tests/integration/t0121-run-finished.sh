#!/bin/sh
# flightdeck run: a job that finished is not restarted, and its own status wins: a rank whose process has exited is gone, not stalled; a rank that sent its done
# beat is never stalled; a command that exits 0 while its stacks are collected exits 0.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

# (a) The beating process exits after its last step; its parent lingers (torchrun polling
# its workers every 5 s) longer than --stall-timeout, then exits 0.
frun --stall-timeout 1 --max-restarts 0 -- sh -c "\"$MISBEHAVE\" ok 10; sleep 3"
expect_rc 0
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "a rank whose process exited was called stalled"
ok "a rank whose process has exited is gone, not stalled: exit 0"

# ... and a crash after it is still judged by the exit status.
frun --stall-timeout 1 --max-restarts 0 -- sh -c "\"$MISBEHAVE\" ok 10; sleep 2; exit 7"
expect_rc 7
expect_event '.event=="crash" and .exit_code==7'
ok "a gone rank's command that then fails is a crash with its status"

# (b) The done beat: the rank's own process lingers 3 s after its last step.
frun --stall-timeout 1 --max-restarts 0 -- "$MISBEHAVE" done-linger 10 20 3000
expect_rc 0
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "a rank that said done was called stalled"
grep -q '^done$' "$TMP/out" || fail "the job did not finish"
ok "after the done beat (C header) a lingering rank is not stalled: exit 0"

# (c) A command that exits 0 on its own while its stacks are being collected.
frun --stall-timeout 1 --stack-wait 10 --max-restarts 0 -- "$MISBEHAVE" stack-exit0 5
expect_rc 0
grep -q 'asked for stacks: exiting 0' "$TMP/out" || fail "the job was not asked for its stacks"
ok "a command that exits 0 while stacks are collected exits 0, not 86"

# `flightdeck beat --done` from a shell job, then a slow teardown.
frun --stall-timeout 1 --max-restarts 0 -- sh -c "\"$FLIGHTDECK\" beat --step 1 && \"$FLIGHTDECK\" beat --step 2 && \"$FLIGHTDECK\" beat --done && sleep 2.5"
expect_rc 0
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "flightdeck beat --done did not end stall detection"
ok "flightdeck beat --done"

# The Python client sends the done beat at exit (atexit), before the teardown that the
# job registered earlier runs (atexit runs last-registered first).
PY=$(command -v python3 || true)
[ -n "$PY" ] || skip "python3 is not installed"
export PYTHONPATH="$SRC_DIR/scripts"
cat >"$TMP/job.py" <<'P'
import atexit, time
atexit.register(time.sleep, 3)   # a slow teardown (NCCL, gloo, a final save) at exit
import flightdeck_heartbeat as hb
for step in range(1, 11):
    hb.beat(step)
    time.sleep(0.02)
print("last step", flush=True)
P
frun --stall-timeout 1 --max-restarts 0 -- "$PY" "$TMP/job.py"
expect_rc 0
[ "$(ev '.event=="stall"')" -eq 0 ] || fail "the Python client did not send its done beat at exit"
ok "python client: the done beat at exit"
