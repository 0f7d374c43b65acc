#!/bin/sh
# The last step is known: a beat's total=N (the Python client's beat(step, total=N) and
# steps(), the C header's flightdeck_beat_total) or --progress-regex's (?<total>...). Past the
# last step a rank gets --teardown-timeout instead of --stall-timeout, so a slow teardown with
# no done beat is no stall; a teardown that hangs is still caught, later, and said to be past
# the last step.
. "$TESTS_DIR/integration/lib.sh"

PY=$(command -v python3 || true)
[ -n "$PY" ] || skip "python3 is not installed"
: "${MISBEHAVE:?MISBEHAVE must point at the misbehave helper}"
export PYTHONPATH="$SRC_DIR/scripts"

# no_stall: the run exited 0 on its first launch: no stall, no restart
no_stall() {
	expect_rc 0
	[ "$(ev '.event=="stall"')" -eq 0 ] || fail "$1: a stall: $(cat "$TMP/ev")"
	[ "$(ev '.event=="restart"')" -eq 0 ] || fail "$1: a restart"
	[ "$(ev '.event=="start"')" -eq 1 ] || fail "$1: launched $(ev '.event=="start"') times"
}

# teardown_caught STEP TOTAL RANK: a stall past the last step, no sooner than --teardown-timeout
# 2 s after the last beat (--stall-timeout is 1 s)
teardown_caught() {
	expect_rc 86
	expect_event ".event==\"stall\" and .reason==\"teardown\" and .step==$1 and .total==$2 and .rank==$3"
	grep -q "after step $1 of $2, past its last step (--teardown-timeout 2 s)" "$TMP/err" ||
		fail "the stall line does not say the rank was past its last step"
	late=$(jq -s '([.[] | select(.event=="stall")][0].time) - ([.[] | select(.event=="start")][0].time)' "$TMP/ev")
	[ "$(jq -n "$late >= 2")" = true ] ||
		fail "the teardown was called a stall after $late s, before --teardown-timeout"
}

cat >"$TMP/job.py" <<'P'
import sys, time
import flightdeck_heartbeat as hb

if not hb.enabled():
    sys.exit("FLIGHTDECK_HEARTBEAT not set")
total = 10
for step in range(total):
    time.sleep(0.02)
    hb.beat(step, total=None if sys.argv[1] == "no-total" else total)
time.sleep(float(sys.argv[2]))  # process-group teardown, workers, the final save: no beats
print("torn down")
P
# With a total, a 2.5 s teardown after the last step is not a stall under --stall-timeout 1.
frun --stall-timeout 1 --teardown-timeout 10 --max-restarts 0 -- "$PY" "$TMP/job.py" total 2.5
no_stall "python beat(step, total=N)"
grep -q 'torn down' "$TMP/out" || fail "the job did not finish its teardown"
ok "python beat(step, total=N): a teardown longer than --stall-timeout is no stall, exit 0"

# The same job without the total is a stall: the total is what tells teardown from a stall.
frun --stall-timeout 1 --teardown-timeout 10 --max-restarts 0 -- "$PY" "$TMP/job.py" no-total 2.5
expect_rc 86
expect_event '.event=="stall" and .reason=="stall" and .step==9 and .total==null'
ok "without the total, the same teardown is a stall (exit 86)"

# A teardown that hangs is caught after --teardown-timeout.
frun --stall-timeout 1 --teardown-timeout 2 --max-restarts 0 -- "$PY" "$TMP/job.py" total 60
teardown_caught 9 10 0
no_leftovers "$TMP/job.py"
ok "python: a teardown hanging past --teardown-timeout is caught, said to be past the last step"

# The C header: flightdeck_beat_total, the same two cases.
frun --stall-timeout 1 --teardown-timeout 10 --max-restarts 0 -- "$MISBEHAVE" total-linger 10 20 2500
no_stall "flightdeck_beat_total"
frun --stall-timeout 1 --teardown-timeout 2 --max-restarts 0 -- "$MISBEHAVE" total-linger 10 20 60000
teardown_caught 9 10 0
ok "C header: flightdeck_beat_total, a slow teardown passes, a hung one is caught"

# --progress-regex with (?<total>...): "step 60/60", counted from 1.
cat >"$TMP/job.sh" <<'S'
i=1
while [ $i -le 60 ]; do
	echo "step $i/60 loss 0.1"
	i=$((i + 1))
done
sleep "$1"
echo "torn down"
S
frun --stall-timeout 1 --teardown-timeout 10 --max-restarts 0 \
	--progress-regex 'step (\d+)/(?<total>\d+)' -- sh "$TMP/job.sh" 2.5
no_stall "--progress-regex (?<total>...)"
frun --stall-timeout 1 --teardown-timeout 2 --max-restarts 0 \
	--progress-regex 'step (\d+)/(?<total>\d+)' -- sh "$TMP/job.sh" 60
teardown_caught 60 60 '"output"'
ok "--progress-regex 'step (\\d+)/(?<total>\\d+)' on step 60/60: a slow teardown passes, a hung one is caught"

# tqdm redraws with '\r': "60/60 [00:01<00:00, ...]"
cat >"$TMP/tqdm.sh" <<'S'
i=0
while [ $i -le 60 ]; do
	printf '\rtrain: %3d%%|#####| %d/60 [00:01<00:00, 50.0it/s]' $((i * 100 / 60)) $i
	i=$((i + 1))
done
printf '\n'
sleep 2.5
S
frun --stall-timeout 1 --teardown-timeout 10 --max-restarts 0 \
	--progress-regex '(?<step>\d+)/(?<total>\d+) \[' -- sh "$TMP/tqdm.sh"
no_stall "tqdm's 60/60"
ok "tqdm's '\\r 60/60 [' with (?<step>...)/(?<total>...): a slow teardown passes"

# steps(): beats each step with the total and sends done when the loop ends, so even a
# teardown longer than --teardown-timeout is no stall; a loop left early sends no done.
cat >"$TMP/steps.py" <<'P'
import sys, time
import flightdeck_heartbeat as hb

for step in hb.steps(range(2, 12)):
    time.sleep(0.02)
    if sys.argv[1] == "break" and step == 5:
        break
time.sleep(3)  # longer than --stall-timeout and --teardown-timeout
print("torn down")
P
frun --stall-timeout 1 --teardown-timeout 1 --max-restarts 0 -- "$PY" "$TMP/steps.py" run
no_stall "steps()"
ok "steps(range(2, 12)): done at the loop's end, a teardown longer than both timeouts passes"
frun --stall-timeout 1 --teardown-timeout 1 --max-restarts 0 -- "$PY" "$TMP/steps.py" break
expect_rc 86
expect_event '.event=="stall" and .reason=="stall" and .step==4 and .total==12'
ok "steps() left with break: no done, and the rank, before its last step, stalls"

frun --teardown-timeout 0 -- true
expect_rc 2
expect_one_line_error 'teardown-timeout'
frun --teardown-timeout soon -- true
expect_rc 2
expect_one_line_error 'teardown-timeout'
ok "--teardown-timeout 0 and a word are refused (exit 2, one line)"
