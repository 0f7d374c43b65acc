#!/bin/sh
# flightdeck run: restarts resume from the newest complete checkpoint; nothing is deleted.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

ck="$TMP/ck"
export MISBEHAVE_CKPT="$ck"
frun --stall-timeout 2 --checkpoint-dir "$ck" -- "$MISBEHAVE" ckpt-die 15 10
expect_rc 0
grep -q "^resumed from $ck/step-10$" "$TMP/out" || fail "did not resume from step-10: $(head -3 "$TMP/out")"
grep -q "skipping $ck/step-15: not complete" "$TMP/err" || fail "the half-written checkpoint was not named"
expect_event '.event=="crash" and .exit_code==9'
expect_event ".event==\"restart\" and .checkpoint==\"$ck/step-10\""
expect_event ".event==\"start\" and .restart==1 and .checkpoint==\"$ck/step-10\""
grep -q '^step 25$' "$TMP/out" || fail "the resumed run did not finish"
[ -f "$ck/step-15/weights.bin" ] && [ -f "$ck/step-5/.metadata" ] || fail "a checkpoint was deleted"
ok "dies mid-checkpoint: resumes from the newest complete one, the partial one kept"
unset MISBEHAVE_CKPT

rm -rf "$ck" && mkdir -p "$ck/a" "$ck/b" "$ck/c"
: >"$ck/a/DONE"
sleep 0.05
: >"$ck/b/DONE"
: >"$ck/c/.metadata" # a framework marker, ignored when --checkpoint-marker is given
frun --checkpoint-dir "$ck" --checkpoint-marker DONE -- sh -c 'echo "from $FLIGHTDECK_RESUME_FROM"'
grep -q "^from $ck/b$" "$TMP/out" || fail "--checkpoint-marker: $(cat "$TMP/out")"
ok "--checkpoint-marker NAME decides what is complete"

rm -rf "$ck" && mkdir -p "$ck"
frun --stall-timeout 1 --checkpoint-dir "$ck" -- "$MISBEHAVE" stop-once 3 20
expect_rc 0
expect_event '.event=="stall" and .step==3'
expect_event '.event=="restart" and .reason=="stall"'
grep -q '^done$' "$TMP/out" || fail "the restarted job did not finish"
no_leftovers "$MISBEHAVE stop-once"
ok "a rank that SIGSTOPs itself: stalled, killed, restarted, finishes"

frun --stall-timeout 1 --max-restarts 1 -- "$MISBEHAVE" hang 3 20
expect_rc 86
[ "$(ev '.event=="start"')" -eq 2 ] || fail "expected 2 launches"
grep -q 'giving up: --max-restarts 1 spent' "$TMP/err" || fail "no reason for giving up"
expect_event '.event=="exit" and .exit_code==86'
ok "stalls past --max-restarts: exit 86"

frun --stall-timeout 1 -- "$MISBEHAVE" flood 20 10
expect_rc 0
grep -q '^done$' "$TMP/out" || fail "flooded job did not finish"
m=$(jq -s '.[-1].malformed' "$TMP/ev")
[ "$m" -ge 100 ] || fail "expected the garbage to be counted, got $m"
grep -q "ignored $m malformed" "$TMP/err" || fail "the summary does not say so"
ok "garbage datagrams are counted and ignored, never fatal"

# The preflight gates every launch: an unfit node never starts the job.
export FLIGHTDECK_SYSFS_ROOT="$FIXTURES/port-down/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/port-down/proc" \
	FLIGHTDECK_KMSG="$FIXTURES/empty.log"
rm -f "$TMP/ev"
run run --preflight quick --events "$TMP/ev" -- sh -c 'touch "$1"' sh "$TMP/ran"
expect_rc 69
[ ! -e "$TMP/ran" ] || fail "the job ran on an unfit node"
grep -q 'IB_PORT_DOWN' "$TMP/err" || fail "the preflight's finding is not shown"
expect_event '.event=="preflight" and .verdict=="unfit"'
ok "preflight fails (port down): exit 69, the job never starts"

export FLIGHTDECK_SYSFS_ROOT="$FIXTURES/healthy-ndr8/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/healthy-ndr8/proc"
rm -f "$TMP/ev"
run run --preflight quick --events "$TMP/ev" -- sh -c 'touch "$1"' sh "$TMP/ran"
expect_rc 0
[ -e "$TMP/ran" ] || fail "the job did not run on a fit node"
expect_event '.event=="preflight" and .verdict=="fit"'
ok "preflight passes (healthy fixture node): the job runs"

# Before a relaunch, the GPUs must hold none of the old job's processes (NVML; here the fake
# one, whose GPU 2 keeps 3 compute processes): bounded by --gpu-release-timeout, then named.
unset FLIGHTDECK_SYSFS_ROOT FLIGHTDECK_PROC_ROOT FLIGHTDECK_KMSG
{ cat "$FAKE_NVML_FIXTURE"; echo "gpu.2.procs = 3"; } >"$TMP/busy.conf"
FAKE_NVML_FIXTURE="$TMP/busy.conf" frun --max-restarts 1 --no-progress-limit 0 --gpu-release-timeout 1 \
	-- sh -c 'exit 5'
expect_rc 5
grep -q 'GPUs still hold compute processes after --gpu-release-timeout' "$TMP/err" ||
	fail "the busy GPUs were not named"
w=$(jq -s '([.[] | select(.event=="start")][1].time) - ([.[] | select(.event=="restart")][0].time)' "$TMP/ev")
awk -v w="$w" 'BEGIN { exit !(w >= 1.0 && w < 8) }' || fail "waited $w s for the GPUs, expected 1 s + backoff"
frun --max-restarts 1 --no-progress-limit 0 --gpu-release-timeout 1 -- sh -c 'exit 5'
grep -q 'GPUs still hold' "$TMP/err" && fail "idle GPUs were reported busy"
ok "relaunch waits (bounded) for the GPUs to release their processes"

# --checkpoint-max-age: the 68-hours-without-a-checkpoint incident, said while the job runs.
rm -rf "$ck" && mkdir -p "$ck/step-1" && : >"$ck/step-1/.metadata"
touch -d '-2 hours' "$ck/step-1/.metadata"
frun --checkpoint-dir "$ck" --checkpoint-max-age 1h -- sleep 0.5
expect_rc 0
expect_event ".event==\"checkpoint_overdue\" and .checkpoint==\"$ck/step-1\" and .age_s > 7000"
grep -q "the newest complete checkpoint, $ck/step-1, is 2.0 h old (--checkpoint-max-age " "$TMP/err" ||
	fail "the overdue checkpoint is not named: $(cat "$TMP/err")"
rm -rf "$ck" && mkdir -p "$ck"
frun --checkpoint-dir "$ck" --checkpoint-max-age 1 -- sleep 2
expect_event '.event=="checkpoint_overdue" and .checkpoint==null' 1
[ "$(ev '.event=="checkpoint_overdue"')" -eq 1 ] || fail "said more than once"
frun --checkpoint-dir "$ck" --checkpoint-max-age 1 -- sh -c \
	'for i in 1 2 3 4 5 6 7 8; do mkdir -p "$0/s$i" && : >"$0/s$i/.metadata"; sleep 0.3; done' "$ck"
[ "$(ev '.event=="checkpoint_overdue"')" -eq 0 ] || fail "fresh checkpoints were called overdue"
run run --checkpoint-max-age 1h -- true
expect_rc 2
ok "--checkpoint-max-age: an old or missing checkpoint is said once, fresh ones are not"
