#!/bin/sh
# flightdeck run: exit statuses, output pass-through, bad input, flightdeck beat.
. "$TESTS_DIR/integration/lib.sh"
: "${MISBEHAVE:?}"

frun -- "$MISBEHAVE" ok 5 5
expect_rc 0
[ "$(grep -c '^step' "$TMP/out")" -eq 5 ] || fail "the command's output did not pass through"
[ "$(tr '\n' ' ' <"$TMP/out")" = "step 1 step 2 step 3 step 4 step 5 done " ] || fail "output reordered"
expect_event '.event=="start" and .restart==0'
expect_event '.event=="exit" and .exit_code==0 and .step==5'
ok "a command that succeeds: exit 0, output unchanged, start and exit events"

frun --max-restarts 0 -- sh -c 'exit 3'
expect_rc 3
expect_event '.event=="crash" and .exit_code==3'
ok "a crash with no restarts left: the command's own status"

frun --max-restarts 0 -- "$MISBEHAVE" crash 5 10
expect_rc 3
expect_event '.event=="crash" and .exit_code==3 and .step==5'
grep -q 'the command exited with status 3' "$TMP/err" || fail "the crash is not said"
ok "a rank that crashes at step 5: crash event with the step reached"

frun --max-restarts 0 -- sh -c 'kill -9 $$'
expect_rc 137
ok "a command killed by SIGKILL: 128+9"

frun --max-restarts 2 --no-progress-limit 0 -- sh -c 'echo "try $FLIGHTDECK_RESTART_COUNT"; exit 4'
expect_rc 4
[ "$(grep -c '^try' "$TMP/out")" -eq 3 ] || fail "expected 3 launches"
grep -q '^try 2$' "$TMP/out" || fail "FLIGHTDECK_RESTART_COUNT not passed"
expect_event '.event=="restart"' 2
ok "crashes restart up to --max-restarts, FLIGHTDECK_RESTART_COUNT counts them"

frun --max-restarts 5 -- sh -c 'exit 4'
expect_rc 4
[ "$(ev '.event=="start"')" -eq 3 ] || fail "no-progress should stop after 3 launches"
grep -q 'restarts in a row resumed from the start' "$TMP/err" || fail "no reason given"
ok "restarts that resume from the same place without progress give up early"

frun -- sh -c 'echo "args: $*"' sh --resume {resume} --x=1
grep -q '^args: --x=1$' "$TMP/out" || fail "{resume} with no checkpoint should drop the flag: $(cat "$TMP/out")"
mkdir -p "$TMP/ck/step-7" && : >"$TMP/ck/step-7/.metadata"
frun --checkpoint-dir "$TMP/ck" -- sh -c 'echo "args: $* env: $FLIGHTDECK_RESUME_FROM"' sh --resume {resume} --path={resume}/x
grep -q "^args: --resume $TMP/ck/step-7 --path=$TMP/ck/step-7/x env: $TMP/ck/step-7$" "$TMP/out" ||
	fail "{resume} not substituted: $(cat "$TMP/out")"
ok "{resume} and FLIGHTDECK_RESUME_FROM"

frun -- sh -c 'stat -c %a "$(dirname "$FLIGHTDECK_HEARTBEAT")"; test -S "$FLIGHTDECK_HEARTBEAT" && echo socket'
[ "$(tr '\n' ' ' <"$TMP/out")" = "700 socket " ] || fail "heartbeat socket not in a 0700 directory: $(cat "$TMP/out")"
ok "the heartbeat socket lives in a 0700 directory"

# Bad input: one line naming the input, the documented status.
run run
expect_rc 2
grep -q 'no command given' "$TMP/err" || fail "missing command not named"
run run --preflight none -- /nonexistent/trainer
expect_rc 127
grep -q "cannot execute '/nonexistent/trainer': No such file or directory" "$TMP/err" || fail "no reason for 127"
printf 'not a program\n' >"$TMP/notexec"
chmod 644 "$TMP/notexec"
run run --preflight none -- "$TMP/notexec"
expect_rc 126
grep -q 'Permission denied' "$TMP/err" || fail "no reason for 126"
for bad in "--stall-timeout 10x" "--grace -1" "--timeout 5q" "--startup-timeout 0" "--max-restarts many" \
	"--preflight thorough" "--stall-factor 0.1" "--checkpoint-marker a/b" "--bogus"; do
	# shellcheck disable=SC2086
	run run $bad -- true
	expect_rc 2
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$bad: expected one line, got: $(cat "$TMP/err")"
	grep -q -- "${bad%% *}" "$TMP/err" || fail "$bad: the error does not name the flag"
done
: >"$TMP/afile"
run run --preflight none --checkpoint-dir "$TMP/afile" -- true
expect_rc 2
grep -q "checkpoint-dir $TMP/afile: Not a directory" "$TMP/err" || fail "bad checkpoint dir not named"
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$TMP/locked" && chmod 000 "$TMP/locked"
	run run --preflight none --checkpoint-dir "$TMP/locked" -- true
	expect_rc 2
fi
run run --preflight none --events /nonexistent/dir/ev -- true
expect_rc 2
run run --preflight none --progress-regex 'step (' -- true
expect_rc 2
grep -q 'progress-regex' "$TMP/err" || fail "bad regex not named"
ok "bad input: usage errors exit 2 with one line naming the input; 126/127 with the reason"

unset FLIGHTDECK_HEARTBEAT
run beat --step 5
expect_rc 0
run beat --step five
expect_rc 2
run beat --phase lunch
expect_rc 2
ok "flightdeck beat: a no-op outside flightdeck, bad input exit 2"
