#!/bin/sh
# flightdeck run -- torchrun: one SIGTERM per worker per stop. torchrun passes a SIGTERM on to
# its workers itself, so a SIGTERM to the whole process group (torchrun and its workers) gave
# each worker two in the same millisecond, and a save handler entered twice. flightdeck signals
# a launcher that forwards signals (torchrun, mpirun, srun, deepspeed, accelerate) alone, and
# counts its workers as told; the kill after the grace still reaches everyone. Tested with the
# real torchrun, for a stop flightdeck starts (--timeout) and a SIGTERM flightdeck is sent; and a
# stall whose stopped worker must be continued outside the process group.
. "$TESTS_DIR/integration/lib.sh"

need_torch
T=$SRC_DIR/tests/helpers/save-on-term.py
export SAVE_S=2

# torchrun_job TAG: 2 workers that save for SAVE_S on SIGTERM
torchrun_job() {
	echo "$TORCHRUN --nnodes=1 --nproc_per_node=2 --standalone --log_dir $TMP/logs-$1 $T $TMP/$1"
}

# check_workers TAG: each worker had one SIGTERM and saved whole
check_workers() {
	for r in 0 1; do
		[ -f "$TMP/$1.rank$r.terms" ] || fail "$1: worker $r never had a SIGTERM"
		n=$(wc -l <"$TMP/$1.rank$r.terms")
		[ "$n" -eq 1 ] || fail "$1: worker $r had $n SIGTERMs, expected 1 ($(tr '\n' ' ' <"$TMP/$1.rank$r.terms"))"
		[ -f "$TMP/$1.rank$r.saved" ] || fail "$1: worker $r's save did not complete"
	done
}

# wait_started TAG: both workers run their handler
wait_started() {
	for _ in $(seq 300); do
		[ -f "$TMP/$1.rank0.started" ] && [ -f "$TMP/$1.rank1.started" ] && return 0
		sleep 0.1
	done
	fail "$1: the workers never started: $(cat "$TMP/err")"
}

# a stop flightdeck starts: --timeout
# shellcheck disable=SC2046
frun --grace 10 --timeout 6 -- $(torchrun_job timeout)
expect_rc 124
check_workers timeout
grep -q 'torchrun' "$TMP/err" && grep -q 'passes it on to its workers' "$TMP/err" ||
	fail "flightdeck did not say it signalled the launcher alone: $(cat "$TMP/err")"
[ "$(ev '.event=="kill" and .signal=="SIGKILL"')" -eq 0 ] || fail "SIGKILL although every save ended inside the grace"
no_leftovers "$T $TMP/timeout"
ok "--timeout over torchrun: each worker one SIGTERM, both saves whole, no SIGKILL"

# a SIGTERM to flightdeck (Kubernetes' stop, a scheduler's)
rm -f "$TMP/ev"
# shellcheck disable=SC2046
"$FLIGHTDECK" run --preflight none --grace 10 --kill-wait 3 --events "$TMP/ev" -- $(torchrun_job term) \
	>"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_started term
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ "$rc" -eq 143 ] || fail "SIGTERM: exit $rc, expected 143: $(cat "$TMP/err")"
check_workers term
no_leftovers "$T $TMP/term"
ok "SIGTERM to flightdeck over torchrun: each worker one SIGTERM, both saves whole, exit 143"


# a stall whose culprit stopped itself (SIGSTOP): torch 2.x's torchrun starts each worker in a
# session of its own, out of the process group's SIGCONT; the stopped worker, never continued,
# held torchrun's shutdown (its SIGTERM pending) until flightdeck's grace ran out and SIGKILL
rm -f "$TMP/ev"
mkdir -p "$TMP/ck"
start=$(date +%s)
frun --grace 30 --stall-timeout 2s --stack-wait 1s --max-restarts 0 --checkpoint-dir "$TMP/ck" -- \
	"$TORCHRUN" --nnodes=1 --nproc_per_node=2 --standalone -r 1 -t 1 --log_dir "$TMP/logs-stop" \
	"$TRAIN" --ckpt-dir "$TMP/ck" --steps 10 --stall-at 3 --stall-rank 1 --resume {resume}
expect_rc 86
took=$(($(date +%s) - start))
[ "$(ev '.event=="kill" and .signal=="SIGKILL"')" -eq 0 ] ||
	fail "a stopped worker held the stop until SIGKILL ($took s, --grace 30): $(grep '^flightdeck:' "$TMP/err")"
[ "$took" -lt 25 ] || fail "the stop took $took s (--grace 30)"
no_leftovers "$TRAIN"
ok "a stall over torchrun with a stopped worker: continued in its own session, the stop done in $took s, no SIGKILL"
