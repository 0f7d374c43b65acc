#!/bin/sh
# flightdeck_callbacks.TransformersCallback in a real Hugging Face Trainer (a 1-layer GPT-2 from
# a config, CPU, offline) under flightdeck run: it beats each step with total=max_steps, marks
# each save, and sends the done beat when train() ends, not at exit. A callback hangs the first
# launch at step 25: flightdeck calls it a stall, and the job resumes from the Trainer's own
# checkpoint-20 through {resume} and ends at step 40 with exit 0.
. "$TESTS_DIR/integration/lib.sh"

need_venv torch transformers accelerate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH="$SRC_DIR/scripts"
JOB=$SRC_DIR/tests/helpers/train-transformers.py

# a save left unmarked would put the hang under --checkpoint-timeout: a stall of reason
# checkpoint, not stall
frun --stall-timeout 5 --checkpoint-timeout 20 --checkpoint-dir "$TMP/ck" -- \
	"$FD_VENV_PY" "$JOB" --out "$TMP/ck" --log "$TMP/beats" --resume {resume}
expect_rc 0
expect_event '.event=="stall" and .restart==0 and .reason=="stall" and .step==25'
expect_event ".event==\"restart\" and .checkpoint==\"$TMP/ck/checkpoint-20\""
[ "$(ev '.event=="restart"')" -eq 1 ] || fail "restarted $(ev '.event=="restart"') times, expected once"
ok "hung at step 25: a stall, restarted once from the Trainer's checkpoint-20, exit 0"

# the second launch resumed: its first step beat is 21, its last 40, of 40
first=$(awk '$1 == 1 && $2 ~ /^step=/ { print $2, $3; exit }' "$TMP/beats")
[ "$first" = "step=21 total=40" ] || fail "the resumed launch first beat '$first', not step=21 total=40"
grep -q '^1 step=40 total=40$' "$TMP/beats" || fail "the resumed launch never beat step 40"
n=$(jq .global_step "$TMP/ck/checkpoint-40/trainer_state.json")
[ "$n" = 40 ] || fail "checkpoint-40 is at global step $n"
ok "the resumed launch beat steps 21 to 40 with total=40; checkpoint-40 is at global step 40"

# every save bracketed by phase=checkpoint and phase=train at its step
for s in 0:10 0:20 1:30 1:40; do
	l=${s%%:*} step=${s#*:}
	grep -A1 "^$l step=$step phase=checkpoint\$" "$TMP/beats" | grep -q "^$l step=$step phase=train\$" ||
		fail "launch $l: the save at step $step is not marked: $(grep phase "$TMP/beats" | tr '\n' ' ')"
done
[ "$(grep -c 'phase=checkpoint$' "$TMP/beats")" -eq 4 ] || fail "not 4 saves marked: $(grep -c 'phase=checkpoint$' "$TMP/beats")"
ok "each of the 4 saves marked phase=checkpoint then phase=train"

# the done beat: once, from the launch that finished, before train() returned
[ "$(grep -c 'done=1' "$TMP/beats")" -eq 1 ] || fail "$(grep -c 'done=1' "$TMP/beats") done beats, expected 1"
tail -n 2 "$TMP/beats" | tr '\n' ' ' | grep -q '^1 done=1 1 train returned $' ||
	fail "the done beat did not come right before train() returned: $(tail -n 3 "$TMP/beats" | tr '\n' ' ')"
no_leftovers "$JOB"
ok "the done beat sent at on_train_end, before train() returned; nothing left"
