#!/bin/sh
# run --prom-file: a node_exporter textfile rewritten atomically on every
# event and every few seconds otherwise: up, each rank's last step and last beat, launches,
# restarts and stalls, the newest checkpoint's age; up 0 and the exit code in the last write.
. "$TESTS_DIR/integration/lib.sh"

# wait_for FILE PATTERN [TENTHS]: up to TENTHS/10 s (default 10 s) for PATTERN in FILE
wait_for() {
	for _ in $(seq "${3:-100}"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	fail "'$2' did not appear in $1: $(cat "$1" 2>/dev/null)"
}

# val METRIC-WITH-LABELS: its value in the textfile ("" when absent)
val() {
	grep -F "$1 " "$p" | sed 's/.* //' | head -n 1
}

# well_formed: every sample has HELP and TYPE, the text format holds, no temporary file is left
well_formed() {
	bad=$(grep -v -E '^#|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+]?[0-9.eE+-]+|NaN|[-+]Inf)$' "$p" || true)
	[ -z "$bad" ] || fail "textfile lines not in the text format: $bad"
	for m in $(grep -v '^#' "$p" | sed 's/[{ ].*//' | sort -u); do
		grep -q "^# HELP $m " "$p" || fail "no HELP line for $m"
		grep -q "^# TYPE $m \(gauge\|counter\)$" "$p" || fail "no TYPE line for $m"
	done
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics <"$p" >"$TMP/promtool" 2>&1 || fail "promtool check metrics: $(cat "$TMP/promtool")"
	fi
	[ "$(ls -A "$TMP/prom")" = run.prom ] || fail "files beside the textfile: $(ls -A "$TMP/prom")"
	[ "$(stat -c %a "$p")" = 644 ] || fail "textfile mode is $(stat -c %a "$p"), not 0644"
}

# --- a directory that is not there: exit 2, one line, before anything runs -----------------
run run --preflight none --prom-file "$TMP/nonexistent/run.prom" -- touch "$TMP/ran"
expect_rc 2
expect_one_line_error "--prom-file $TMP/nonexistent/run.prom"
[ -e "$TMP/ran" ] && fail "the command ran although --prom-file cannot be written"
ok "--prom-file in a missing directory: exit 2, one line, nothing run"

# --- a live run: two ranks, a stall, a restart, the end --------------------------------------
mkdir "$TMP/prom" "$TMP/ckpt"
p="$TMP/prom/run.prom"
touch -d "@$(($(date +%s) - 100))" "$TMP/ckpt/step-000005.pt" # completed 100 s ago
cat >"$TMP/job.sh" <<'S'
# ranks 0 and 1 beat until $CTL/stall (first launch: then silent) or $CTL/finish (then done)
n=$FLIGHTDECK_RESTART_COUNT
i=1
while :; do
	if [ "$n" = 0 ] && [ -e "$CTL/stall" ]; then exec sleep 1000; fi
	if [ "$n" != 0 ] && [ -e "$CTL/finish" ]; then
		"$FLIGHTDECK" beat --rank 0 --done
		"$FLIGHTDECK" beat --rank 1 --done
		exit 0
	fi
	"$FLIGHTDECK" beat --rank 0 --step $((n * 1000 + i))
	"$FLIGHTDECK" beat --rank 1 --step $((n * 1000 + i))
	i=$((i + 1))
	sleep 0.1
done
S
rm -f "$TMP/ev"
export CTL="$TMP" FLIGHTDECK
SLURMD_NODENAME=n7 "$FLIGHTDECK" run --preflight none --grace 1 --backoff 0.2 --stall-timeout 1 \
	--ranks 2 --checkpoint-dir "$TMP/ckpt" --events "$TMP/ev" --prom-file "$p" -- \
	sh "$TMP/job.sh" >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
wait_for "$p" '^flightdeck_run_last_step{node="n7",rank="1"} [0-9]'
[ "$(val 'flightdeck_run_up{node="n7"}')" = 1 ] || fail "up is not 1 while supervising: $(cat "$p")"
[ "$(val 'flightdeck_run_launches_total{node="n7"}')" = 1 ] || fail "launches_total: $(cat "$p")"
[ "$(val 'flightdeck_run_restarts_total{node="n7"}')" = 0 ] || fail "restarts_total: $(cat "$p")"
[ "$(val 'flightdeck_run_stalls_total{node="n7"}')" = 0 ] || fail "stalls_total: $(cat "$p")"
grep -q '^flightdeck_run_exit_code' "$p" && fail "an exit code while the run goes on"
grep -q '^flightdeck_run_last_failure_info' "$p" && fail "a failure before any failed"
age=$(val 'flightdeck_run_checkpoint_age_seconds{node="n7"}')
[ -n "$age" ] && [ "${age%.*}" -ge 100 ] && [ "${age%.*}" -le 160 ] ||
	fail "checkpoint age '$age', the checkpoint completed 100 s ago"
well_formed
ok "while supervising: up 1, launches 1, restarts 0, stalls 0, per-rank series, the checkpoint's age"

# Beats are not events: the periodic rewrite (every few seconds) carries the steps on.
s1=$(val 'flightdeck_run_last_step{node="n7",rank="0"}')
b1=$(val 'flightdeck_run_last_beat_timestamp_seconds{node="n7",rank="0"}')
for _ in $(seq 80); do
	s2=$(val 'flightdeck_run_last_step{node="n7",rank="0"}')
	[ -n "$s2" ] && [ "$s2" -gt "$s1" ] && break
	sleep 0.1
done
[ "$s2" -gt "$s1" ] || fail "the step stayed at $s1 for 8 s: no periodic rewrite"
b2=$(val 'flightdeck_run_last_beat_timestamp_seconds{node="n7",rank="0"}')
now=$(date +%s)
[ "${b2%.*}" -gt "${b1%.*}" ] || [ "${b2#*.}" != "${b1#*.}" ] || fail "the last beat did not move ($b1, $b2)"
[ "${b2%.*}" -le "$now" ] && [ "${b2%.*}" -ge $((now - 8)) ] || fail "last beat $b2 is not a recent Unix time ($now)"
ok "the steps and beat times move on between events (periodic rewrite)"

# A newer checkpoint, then the stall: the restart's scan learns it; the stall and the restart
# are events, written at once.
touch "$TMP/ckpt/step-000010.pt"
touch "$TMP/stall"
wait_for "$p" '^flightdeck_run_launches_total{node="n7"} 2$' 100
[ "$(val 'flightdeck_run_stalls_total{node="n7"}')" = 1 ] || fail "stalls_total after a stall: $(cat "$p")"
[ "$(val 'flightdeck_run_restarts_total{node="n7"}')" = 1 ] || fail "restarts_total after a restart: $(cat "$p")"
[ "$(val 'flightdeck_run_up{node="n7"}')" = 1 ] || fail "up is not 1 after the restart"
[ "$(val 'flightdeck_run_last_failure_info{node="n7",failure="stall",codes="",subject=""}')" = 1 ] ||
	fail "the stall is not the latest failure after the restart: $(grep failure "$p")"
age=$(val 'flightdeck_run_checkpoint_age_seconds{node="n7"}')
[ -n "$age" ] && [ "${age%.*}" -le 30 ] || fail "checkpoint age '$age' after step-000010.pt was saved"
well_formed
ok "a stall and a restart: stalls 1, restarts 1, launches 2, the new checkpoint's age"

touch "$TMP/finish"
RC=0
wait "$fdpid" || RC=$?
expect_rc 0
[ "$(val 'flightdeck_run_up{node="n7"}')" = 0 ] || fail "up is not 0 in the last write: $(cat "$p")"
[ "$(val 'flightdeck_run_exit_code{node="n7"}')" = 0 ] || fail "no exit code 0 in the last write: $(cat "$p")"
[ "$(val 'flightdeck_run_launches_total{node="n7"}')" = 2 ] || fail "launches_total in the last write"
well_formed
ok "the last write: up 0, exit code 0, the counters kept"

# --- an unfit preflight: its codes and subject as labels, beside exit code 69 ------------------
rm -f "$p"
FLIGHTDECK_SYSFS_ROOT="$FIXTURES/port-down/sys" FLIGHTDECK_PROC_ROOT="$FIXTURES/port-down/proc" \
	FLIGHTDECK_KMSG="$FIXTURES/empty.log" SLURMD_NODENAME=n7 run run --preflight quick --prom-file "$p" -- true
expect_rc 69
[ "$(val 'flightdeck_run_exit_code{node="n7"}')" = 69 ] || fail "exit code 69 not written: $(cat "$p")"
grep -q '^flightdeck_run_last_failure_info{node="n7",failure="preflight",codes="IB_[A-Z_,]*",subject="mlx5_3/1"} 1$' "$p" ||
	fail "the preflight's codes are not labels: $(grep failure "$p")"
well_formed
ok "an unfit preflight: flightdeck_run_last_failure_info carries its reason codes and subject"

# --- stopped by SIGTERM: the last write holds 143 ------------------------------------------
rm -f "$p"
"$FLIGHTDECK" run --preflight none --grace 1 --prom-file "$p" -- sleep 100 >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
wait_for "$p" '^flightdeck_run_launches_total{.*} 1$'
kill -TERM "$fdpid"
RC=0
wait "$fdpid" || RC=$?
expect_rc 143
[ "$(grep '^flightdeck_run_exit_code{' "$p" | sed 's/.* //')" = 143 ] || fail "exit code 143 not written: $(cat "$p")"
grep -q '^flightdeck_run_up{.*} 0$' "$p" || fail "up 0 not written"
grep -q '^flightdeck_run_last_step' "$p" && fail "rank series for a command that never beat"
well_formed
ok "stopped by SIGTERM: up 0, exit code 143"

# --- --checkpoint-max-age's sliced scan keeps the age fresh while the job runs ------------------
rm -f "$p" "$TMP/ckpt"/*
touch -d "@$(($(date +%s) - 500))" "$TMP/ckpt/step-000001.pt"
"$FLIGHTDECK" run --preflight none --grace 1 --checkpoint-dir "$TMP/ckpt" --checkpoint-max-age 2s \
	--prom-file "$p" -- sleep 100 >"$TMP/out" 2>"$TMP/err" &
fdpid=$!
wait_for "$p" '^flightdeck_run_checkpoint_age_seconds{.*} [45][0-9][0-9]'
touch "$TMP/ckpt/step-000002.pt"
wait_for "$p" '^flightdeck_run_checkpoint_age_seconds{.*} [0-9]\(\.[0-9]*\)\{0,1\}$' 100
kill -TERM "$fdpid"
wait "$fdpid" || true
ok "with --checkpoint-max-age, a checkpoint saved mid-run resets the age within seconds"
